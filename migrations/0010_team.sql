-- The supervisor's team view: open work per agent and response times per period, kept by the
-- writes so that drawing the view never reads `messages` (see `store::team`).

-- `last_reply_at`: the last time an agent replied (an outbound message an agent wrote; not a
-- campaign, not the command line or the API). `awaiting_reply_since`: the customer's oldest
-- message that no agent reply has followed yet; NULL when every customer message had its reply
-- or the conversation was resolved. An OPEN conversation with it set is "unattended".
ALTER TABLE conversations
    ADD COLUMN last_reply_at timestamptz,
    ADD COLUMN awaiting_reply_since timestamptz;

-- The team view's counters read only the open conversations of a workspace, grouped by assignee.
CREATE INDEX conversations_team_idx ON conversations (workspace_id, assignee_id)
    INCLUDE (awaiting_reply_since) WHERE status = 'OPEN';

-- One row per episode of a conversation: from the customer's message that (re)opened it, or an
-- agent's reopen, to the agent's close. `first_inbound_at` is the customer's first message of the
-- episode (NULL while an agent-reopened episode has none), `first_response_at` the first agent
-- reply after it, `closed_at` the close. Written once when the episode begins, and updated at
-- most twice (first response, close): a few rows per conversation, never one per message.
CREATE TABLE conversation_episodes (
    id                 uuid PRIMARY KEY,
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id    uuid NOT NULL,
    opened_at          timestamptz NOT NULL,
    first_inbound_at   timestamptz,
    first_response_at  timestamptz,
    closed_at          timestamptz,
    CONSTRAINT conversation_episodes_conversation_fkey FOREIGN KEY (workspace_id, conversation_id)
        REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT conversation_episodes_response_after_inbound
        CHECK (first_response_at IS NULL OR first_inbound_at IS NOT NULL)
);
-- At most one unresolved episode per conversation; also how the writes find it.
CREATE UNIQUE INDEX conversation_episodes_unresolved_key
    ON conversation_episodes (conversation_id) WHERE closed_at IS NULL;
-- The periods of the team view: first responses, closes and new episodes by time, a range scan
-- each.
CREATE INDEX conversation_episodes_response_idx
    ON conversation_episodes (workspace_id, first_response_at) INCLUDE (first_inbound_at)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX conversation_episodes_closed_idx
    ON conversation_episodes (workspace_id, closed_at) INCLUDE (opened_at)
    WHERE closed_at IS NOT NULL;
CREATE INDEX conversation_episodes_opened_idx
    ON conversation_episodes (workspace_id, opened_at);

-- What existing data says. The last agent reply of each conversation:
UPDATE conversations v SET last_reply_at = r.at
FROM (SELECT conversation_id, max(created_at) AS at FROM messages
      WHERE direction = 'OUTBOUND' AND sent_by IS NOT NULL GROUP BY conversation_id) r
WHERE v.id = r.conversation_id;

-- The open conversations whose customer wrote after it (or was never answered):
UPDATE conversations v SET awaiting_reply_since = w.since
FROM (SELECT m.conversation_id, min(m.created_at) AS since
      FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE m.direction = 'INBOUND' AND m.type <> 'system' AND c.status = 'OPEN'
        AND (c.last_reply_at IS NULL OR m.created_at > c.last_reply_at)
      GROUP BY m.conversation_id) w
WHERE v.id = w.conversation_id;

-- Their episodes, waiting for the first response since that message. (Times of episodes that
-- ended, or were answered, before this migration were never recorded: the team view measures
-- from here on.)
INSERT INTO conversation_episodes (id, workspace_id, conversation_id, opened_at, first_inbound_at)
SELECT gen_random_uuid(), workspace_id, id, awaiting_reply_since, awaiting_reply_since
FROM conversations WHERE awaiting_reply_since IS NOT NULL;
