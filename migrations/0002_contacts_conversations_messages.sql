-- The customers, their conversations with a business number, and every message of them.

-- A customer of a workspace. `wa_id` is the customer's WhatsApp id (the E.164 number without
-- `+`). Meta's username users (2025+) may come with an empty `wa_id` and only a business-scoped
-- `user_id` ("BSUID"), so either may identify a contact, and each is unique per workspace.
-- `name` is what the business calls the customer (an agent, an import); `profile_name` is the
-- WhatsApp display name the customer set, refreshed by every webhook; a name shown is `name`,
-- else `profile_name`. `opted_in` is marketing consent; the two timestamps record when it last
-- changed. `custom_fields` holds the extra columns of a contact import, for campaign parameters.
CREATE TABLE contacts (
    id             uuid PRIMARY KEY,
    workspace_id   uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    wa_id          text,
    user_id        text,
    name           text,
    profile_name   text,
    opted_in       boolean NOT NULL DEFAULT false,
    opted_in_at    timestamptz,
    opted_out_at   timestamptz,
    tags           text[] NOT NULL DEFAULT '{}',
    custom_fields  jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_workspace_id_wa_id_key UNIQUE (workspace_id, wa_id),
    CONSTRAINT contacts_workspace_id_user_id_key UNIQUE (workspace_id, user_id),
    CONSTRAINT contacts_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT contacts_identified CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL),
    CONSTRAINT contacts_wa_id_digits CHECK (wa_id ~ '^[0-9]{5,20}$'),
    CONSTRAINT contacts_custom_fields_object CHECK (jsonb_typeof(custom_fields) = 'object')
);
-- Audiences by tag (`contact list --tag`, campaigns): `tags @> ARRAY[...]`.
CREATE INDEX contacts_tags_idx ON contacts USING gin (tags);

-- OPEN: the agents are on it; CLOSED: resolved by an agent; EXPIRED: the 24-hour customer window
-- ran out with nobody closing it.
CREATE TYPE conversation_status AS ENUM ('OPEN', 'CLOSED', 'EXPIRED');

-- The conversation between one contact and one business number. `window_expires_at` is the end of
-- Meta's 24-hour customer service window (last inbound message + 24 h); free-form messages are
-- only allowed before it. The inbox list reads `last_message_at`, `last_message_preview`,
-- `unread_count` and `assignee_id` from here, so it never touches `messages` to draw a row.
CREATE TABLE conversations (
    id                    uuid PRIMARY KEY,
    workspace_id          uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    phone_number_id       uuid NOT NULL,
    contact_id            uuid NOT NULL,
    status                conversation_status NOT NULL DEFAULT 'OPEN',
    window_expires_at     timestamptz,
    last_message_at       timestamptz,
    last_inbound_at       timestamptz,
    last_message_preview  text,
    unread_count          integer NOT NULL DEFAULT 0,
    -- Assignment: who answers it. Removing the user leaves the conversation unassigned.
    assignee_id           uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    closed_at             timestamptz,
    CONSTRAINT conversations_workspace_id_id_key UNIQUE (workspace_id, id),
    -- Same-workspace references: a conversation never joins another workspace's number or contact.
    CONSTRAINT conversations_phone_number_fkey FOREIGN KEY (workspace_id, phone_number_id)
        REFERENCES phone_numbers (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT conversations_contact_fkey FOREIGN KEY (workspace_id, contact_id)
        REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT conversations_unread_count_nonnegative CHECK (unread_count >= 0)
)
-- Every message rewrites its conversation: room for in-place updates.
WITH (fillfactor = 85);
-- One conversation per contact and business number: a new inbound message joins it (reopening
-- it when it was CLOSED or EXPIRED), so two webhooks racing for one contact can never open two.
CREATE UNIQUE INDEX conversations_phone_number_contact_key
    ON conversations (phone_number_id, contact_id);
-- The inbox list: a workspace's conversations, most recent first, a page at a time.
CREATE INDEX conversations_inbox_idx
    ON conversations (workspace_id, last_message_at DESC NULLS LAST, id DESC);
-- "Unread first" and "mine" filters.
CREATE INDEX conversations_unread_idx
    ON conversations (workspace_id, last_message_at DESC) WHERE unread_count > 0;
CREATE INDEX conversations_assignee_idx
    ON conversations (workspace_id, assignee_id, last_message_at DESC);
CREATE INDEX conversations_contact_idx ON conversations (workspace_id, contact_id);

CREATE TYPE message_direction AS ENUM ('INBOUND', 'OUTBOUND');

-- The lifecycle of a message. Meta's outbound states are sent, delivered, read and played (a
-- voice message's first playback), and failed. treeex adds:
--   pending   an outbound message committed to the outbox and not yet accepted by Meta;
--   received  an inbound message (the customer sent it; there is nothing further to track).
-- Statuses only move forward, in the order pending < sent < failed < delivered < read < played:
-- failed ends a message that was not yet delivered, and a late failure of a delivered message
-- changes nothing (see `app::ingest`).
CREATE TYPE message_status AS ENUM ('pending', 'sent', 'delivered', 'read', 'played', 'failed', 'received');

-- Every message of every kind, in both directions. `type` is Meta's message type as text (text,
-- image, reaction, interactive, unsupported, ...), not an enum, because Meta adds types and an
-- unknown one must still be kept. `content` holds the type's object as Meta sent it (inbound) or
-- as treeex will send it (outbound).
CREATE TABLE messages (
    id                     uuid PRIMARY KEY,
    workspace_id           uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id        uuid NOT NULL,
    phone_number_id        uuid NOT NULL,
    -- Meta's id (`wamid.…`); NULL while an outbound message is pending.
    wa_message_id          text,
    direction              message_direction NOT NULL,
    type                   text NOT NULL,
    content                jsonb NOT NULL DEFAULT '{}'::jsonb,
    status                 message_status NOT NULL,
    -- The quoted message of a reply (`context.id`).
    context_wa_message_id  text,
    -- The agent who wrote an outbound message; NULL for inbound, campaigns and the API.
    sent_by                uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Why a message failed, as Meta said it (code, title, details), for the agent to read.
    error_code             integer,
    error_title            text,
    error_details          text,
    -- When Meta says it happened (`timestamp`). `created_at` orders the thread: Meta's time for an
    -- inbound message (webhooks arrive out of order), the time it was written for an outbound one.
    wa_timestamp           timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    sent_at                timestamptz,
    delivered_at           timestamptz,
    read_at                timestamptz,
    played_at              timestamptz,
    failed_at              timestamptz,
    -- The customer edited or deleted (revoked) this message.
    edited_at              timestamptz,
    revoked_at             timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_workspace_id_id_key UNIQUE (workspace_id, id),
    -- Meta delivers webhooks at least once: the same message arriving twice is the same row.
    CONSTRAINT messages_phone_number_id_wa_message_id_key UNIQUE (phone_number_id, wa_message_id),
    CONSTRAINT messages_conversation_fkey FOREIGN KEY (workspace_id, conversation_id)
        REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT messages_phone_number_fkey FOREIGN KEY (workspace_id, phone_number_id)
        REFERENCES phone_numbers (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT messages_type_present CHECK (type <> ''),
    CONSTRAINT messages_direction_status CHECK (
        (direction = 'INBOUND' AND status = 'received')
        OR (direction = 'OUTBOUND' AND status <> 'received')),
    CONSTRAINT messages_sent_has_wamid CHECK (status IN ('pending', 'failed') OR wa_message_id IS NOT NULL)
)
-- Statuses rewrite a message up to four times; room on its page lets PostgreSQL do that in place
-- (a HOT update, no index writes), which is also why no index mentions `status`.
WITH (fillfactor = 85);
-- A thread: one conversation's messages, newest first, loaded backwards as the agent scrolls.
CREATE INDEX messages_thread_idx ON messages (conversation_id, created_at DESC, id DESC);
