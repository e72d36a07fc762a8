-- The outbox: every outbound message waits here, beside its `pending` messages row, until a
-- worker has Meta's answer for it.

-- queued: waiting (from `next_attempt_at`); claimed: a worker holds it until `claim_expires_at`
-- and has not sent it yet (a crashed worker's claim expires and the message is queued again);
-- sending: the request is leaving or has left (a crash now leaves it ambiguous, never resent);
-- ambiguous: it may have reached Meta; its status webhook (which echoes the message id as
-- `biz_opaque_callback_data`) settles it, and nothing resends it on its own.
CREATE TYPE outbox_state AS ENUM ('queued', 'claimed', 'sending', 'ambiguous');

CREATE TABLE outbox (
    message_id        uuid PRIMARY KEY,
    workspace_id      uuid NOT NULL,
    phone_number_id   uuid NOT NULL,
    state             outbox_state NOT NULL DEFAULT 'queued',
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    claimed_by        text,
    claim_expires_at  timestamptz,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbox_message_fkey FOREIGN KEY (workspace_id, message_id)
        REFERENCES messages (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT outbox_phone_number_fkey FOREIGN KEY (workspace_id, phone_number_id)
        REFERENCES phone_numbers (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT outbox_attempts_nonnegative CHECK (attempts >= 0),
    CONSTRAINT outbox_claim_has_owner CHECK (state NOT IN ('claimed', 'sending') OR claimed_by IS NOT NULL)
);
-- Workers claim due messages oldest first.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE state = 'queued';
-- The sweeper finds expired claims.
CREATE INDEX outbox_claims_idx ON outbox (claim_expires_at) WHERE state IN ('claimed', 'sending');


-- The text a customer sees of an outbound template (its variables filled in), for the thread and
-- the inbox preview; `content` keeps the exact body sent to Meta.
ALTER TABLE messages ADD COLUMN rendered_text text;
