-- The agent's inbox: the list in the order agents work it, private notes on a conversation, and
-- the canned replies agents paste into the composer.

-- The inbox list: unread conversations first, then the most recent, a page at a time. The keyset
-- query orders by these expressions (all DESC) and compares the row of them with the cursor's,
-- so a page is one backward range scan of this index, never a sort of the workspace's
-- conversations. `-infinity` puts conversations without messages last and keeps the key total
-- (a NULL would make the row comparison unknown).
CREATE INDEX conversations_inbox_order_idx ON conversations (
    workspace_id,
    (unread_count > 0),
    COALESCE(last_message_at, '-infinity'::timestamptz),
    id);

-- Notes agents leave on a conversation for each other: never sent to the customer. They are shown
-- in the thread between the messages, by time. Deleting the conversation deletes its notes;
-- removing the author keeps the note without a name.
CREATE TABLE conversation_notes (
    id               uuid PRIMARY KEY,
    workspace_id     uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id  uuid NOT NULL,
    author_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversation_notes_conversation_fkey FOREIGN KEY (workspace_id, conversation_id)
        REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    -- A note says something: not empty, not only blanks.
    CONSTRAINT conversation_notes_body_present CHECK (body ~ '\S')
);
-- The thread loads a conversation's notes newest first beside its messages (`messages_thread_idx`),
-- a page at a time.
CREATE INDEX conversation_notes_thread_idx
    ON conversation_notes (conversation_id, created_at DESC, id DESC);

-- Replies agents use again and again, pasted into the composer by a short code (`/hours`). The
-- code is how they are typed, so it is short, lower-case and unique in a workspace.
CREATE TABLE canned_replies (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    code          text NOT NULL,
    body          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, code),
    CONSTRAINT canned_replies_code_format CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
    CONSTRAINT canned_replies_body_present CHECK (body ~ '\S')
);

-- The contact card in a thread's header lists the last campaigns that reached the contact; without
-- this, each header would read every recipient row of every campaign. (Not keyed on `status`, so
-- the recipients' status changes stay in-place updates.)
CREATE INDEX campaign_messages_contact_idx ON campaign_messages (contact_id, created_at DESC, id DESC);
