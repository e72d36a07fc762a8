-- What the campaign runner and the supervisor's dashboard need.

-- The rest of the funnel, kept in the same transactions as the recipient rows: `replied_count`
-- counts recipients who wrote back after their campaign message, `skipped_count` those a rule
-- refused when their turn came (opted out since the audience was taken, a parameter missing).
ALTER TABLE campaigns
    ADD COLUMN replied_count integer NOT NULL DEFAULT 0,
    ADD COLUMN skipped_count integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT campaigns_funnel_nonnegative CHECK (replied_count >= 0 AND skipped_count >= 0);

-- When the recipient wrote back (once; the first reply counts).
ALTER TABLE campaign_messages ADD COLUMN replied_at timestamptz;

-- The failure reasons of a campaign, grouped by code, without reading its other recipients.
CREATE INDEX campaign_messages_failed_idx ON campaign_messages (campaign_id, error_code)
    WHERE status = 'failed';

-- Messages sent per second per campaign, for the dashboard's rate sparkline: one small row per
-- second of sending, written with the counters.
CREATE TABLE campaign_send_seconds (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    campaign_id  uuid NOT NULL,
    second       timestamptz NOT NULL,
    sent         integer NOT NULL,
    PRIMARY KEY (campaign_id, second),
    CONSTRAINT campaign_send_seconds_campaign_fkey FOREIGN KEY (workspace_id, campaign_id)
        REFERENCES campaigns (workspace_id, id) ON DELETE CASCADE
);

-- The campaign an outbox row was enqueued for: how far ahead of the sends the runner is, and
-- what pausing or cancelling takes back before it leaves.
ALTER TABLE outbox ADD COLUMN campaign_id uuid REFERENCES campaigns (id) ON DELETE CASCADE;
CREATE INDEX outbox_campaign_idx ON outbox (campaign_id) WHERE campaign_id IS NOT NULL;

-- The send rate cap across processes: the time of the next free send slot of the number. A
-- worker reserves slots for a batch by moving it forward by batch / mps seconds, so all workers
-- of all processes together stay under `mps`.
ALTER TABLE phone_numbers ADD COLUMN send_slot_at timestamptz;
