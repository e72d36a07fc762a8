-- Each member's own figures in the team view: who gave an episode its first response and who
-- resolved it, and how many replies each member wrote each UTC day (counted as they are written,
-- so the view never counts messages).
ALTER TABLE conversation_episodes
    ADD COLUMN responded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN closed_by uuid REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE agent_reply_days (
    workspace_id uuid        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The UTC midnight that begins the day.
    day          timestamptz NOT NULL,
    replies      integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, user_id, day)
);
