-- What Meta's webhooks bring that has no home in the tables before: the raw bodies, the parts
-- treeex could not apply, statuses that arrive before their message, reactions, consent changes
-- and errors Meta reports against a number.

-- applied: every part of the body was applied; partial: some parts were kept as failures;
-- unapplied: no part could be applied (all kept as failures); invalid: signed, but not a JSON
-- webhook envelope.
CREATE TYPE webhook_outcome AS ENUM ('applied', 'partial', 'unapplied', 'invalid');

-- Every webhook body that passed the signature check, byte for byte as Meta sent it (the
-- signature covers those bytes), with when it came and what came of it: for audit and replay.
-- Not workspace-scoped: one body may carry several workspaces' numbers, or none treeex knows.
-- Kept for `[webhook] archive_days`.
CREATE TABLE webhook_archive (
    id           uuid PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    body         bytea NOT NULL,
    outcome      webhook_outcome NOT NULL,
    events       integer NOT NULL DEFAULT 0,
    failures     integer NOT NULL DEFAULT 0
);
CREATE INDEX webhook_archive_received_idx ON webhook_archive (received_at);

-- A part of a signed body that treeex could not apply (a number no workspace has, a field or
-- shape it does not know, a value the database refuses), kept verbatim so it is never silently
-- lost and can be replayed once treeex knows better. `payload` is that part as a notification of
-- its own (`field` names its kind), so a replay applies exactly that part. It is `json`, not
-- `jsonb`: jsonb refuses some valid JSON (a `\u0000` escape), and a refused part must still be
-- kept. `workspace_id` is known when the part names a number; it outlives the archive.
CREATE TABLE webhook_failures (
    id               uuid PRIMARY KEY,
    archive_id       uuid REFERENCES webhook_archive (id) ON DELETE SET NULL,
    workspace_id     uuid REFERENCES workspaces (id) ON DELETE CASCADE,
    phone_number_id  text,
    field            text NOT NULL,
    reason           text NOT NULL,
    payload          json NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    replayed_at      timestamptz,
    resolved_at      timestamptz
);
CREATE INDEX webhook_failures_open_idx ON webhook_failures (workspace_id, received_at DESC)
    WHERE resolved_at IS NULL;

-- A status for a wamid treeex has not recorded yet (it can beat the send's own response). It is
-- applied when a message with that wamid appears, then deleted.
CREATE TABLE parked_statuses (
    id               uuid PRIMARY KEY,
    workspace_id     uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    phone_number_id  uuid NOT NULL,
    wa_message_id    text NOT NULL,
    status           message_status NOT NULL,
    status_at        timestamptz NOT NULL,
    error_code       integer,
    error_title      text,
    error_details    text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT parked_statuses_phone_number_fkey FOREIGN KEY (workspace_id, phone_number_id)
        REFERENCES phone_numbers (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX parked_statuses_wamid_idx ON parked_statuses (phone_number_id, wa_message_id);

-- Reactions, attached to their target by wamid rather than by row, so a reaction that arrives
-- before its target is kept and shows up once the target does. One reaction per reactor and
-- target; an un-react leaves `emoji` NULL (so a late-arriving older reaction cannot revive it).
CREATE TABLE message_reactions (
    workspace_id          uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    phone_number_id       uuid NOT NULL,
    target_wa_message_id  text NOT NULL,
    -- The customer's wa_id, or 'business' for the business's own reaction.
    reactor               text NOT NULL,
    emoji                 text,
    reacted_at            timestamptz NOT NULL,
    wa_message_id         text,
    PRIMARY KEY (phone_number_id, target_wa_message_id, reactor),
    CONSTRAINT message_reactions_phone_number_fkey FOREIGN KEY (workspace_id, phone_number_id)
        REFERENCES phone_numbers (workspace_id, id) ON DELETE CASCADE
);

-- Every change of a contact's marketing consent and what caused it (a stop or start keyword, an
-- opt-out button, an import, an agent): the record regulators and supervisors ask for.
CREATE TABLE consent_events (
    id             uuid PRIMARY KEY,
    workspace_id   uuid NOT NULL,
    contact_id     uuid NOT NULL,
    opted_in       boolean NOT NULL,
    source         text NOT NULL,
    wa_message_id  text,
    occurred_at    timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consent_events_contact_fkey FOREIGN KEY (workspace_id, contact_id)
        REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX consent_events_contact_idx ON consent_events (contact_id, occurred_at DESC);
-- A redelivered webhook records its consent change once.
CREATE UNIQUE INDEX consent_events_message_key ON consent_events (contact_id, wa_message_id);

-- Errors Meta reports against a number that are not tied to one message (`value.errors`).
CREATE TABLE phone_number_errors (
    id               uuid PRIMARY KEY,
    workspace_id     uuid NOT NULL,
    phone_number_id  uuid NOT NULL,
    code             integer NOT NULL,
    title            text,
    message          text,
    details          text,
    occurred_at      timestamptz NOT NULL,
    archive_id       uuid REFERENCES webhook_archive (id) ON DELETE SET NULL,
    CONSTRAINT phone_number_errors_phone_number_fkey FOREIGN KEY (workspace_id, phone_number_id)
        REFERENCES phone_numbers (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX phone_number_errors_recent_idx ON phone_number_errors (phone_number_id, occurred_at DESC);

-- Template status webhooks find a template by Meta's id.
CREATE INDEX templates_wa_template_id_idx ON templates (wa_template_id);

-- The place of a status in the lattice pending < sent < failed < delivered < read < played (see
-- `domain::MessageStatus`): a status only ever moves to a higher rank. NULL for `received`.
CREATE FUNCTION message_status_rank(status message_status) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status
        WHEN 'pending' THEN 0 WHEN 'sent' THEN 1 WHEN 'failed' THEN 2
        WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'played' THEN 5 END;
