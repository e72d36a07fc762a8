-- Campaigns: one template sent to an audience of contacts, paced through the outbox.

-- The seed system knew DRAFT, SCHEDULED, RUNNING and COMPLETED. A supervisor must also be able to
-- stop a campaign for a while (PAUSED) or for good (CANCELLED).
CREATE TYPE campaign_status AS ENUM ('DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED');

-- `parameters` is the list of template parameters, each a literal or a `{field}` taken from each
-- contact; `audience` the filter (tags) that chose the contacts. The counters are kept in the same
-- transaction as the recipient rows they count, so the funnel is exact while the campaign runs.
-- A runner holds the lease (`lease_owner` until `lease_expires_at`): one runner per campaign
-- across all processes.
CREATE TABLE campaigns (
    id                uuid PRIMARY KEY,
    workspace_id      uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    phone_number_id   uuid NOT NULL,
    template_id       uuid NOT NULL,
    name              text NOT NULL,
    status            campaign_status NOT NULL DEFAULT 'DRAFT',
    parameters        jsonb NOT NULL DEFAULT '[]'::jsonb,
    audience          jsonb NOT NULL DEFAULT '{}'::jsonb,
    scheduled_at      timestamptz,
    started_at        timestamptz,
    completed_at      timestamptz,
    total_contacts    integer NOT NULL DEFAULT 0,
    sent_count        integer NOT NULL DEFAULT 0,
    delivered_count   integer NOT NULL DEFAULT 0,
    read_count        integer NOT NULL DEFAULT 0,
    failed_count      integer NOT NULL DEFAULT 0,
    lease_owner       text,
    lease_expires_at  timestamptz,
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_workspace_id_id_key UNIQUE (workspace_id, id),
    -- A number or template in use by a campaign cannot be deleted out from under it.
    CONSTRAINT campaigns_phone_number_fkey FOREIGN KEY (workspace_id, phone_number_id)
        REFERENCES phone_numbers (workspace_id, id) ON DELETE RESTRICT,
    CONSTRAINT campaigns_template_fkey FOREIGN KEY (workspace_id, template_id)
        REFERENCES templates (workspace_id, id) ON DELETE RESTRICT,
    CONSTRAINT campaigns_counters_nonnegative CHECK (
        total_contacts >= 0 AND sent_count >= 0 AND delivered_count >= 0
        AND read_count >= 0 AND failed_count >= 0),
    CONSTRAINT campaigns_scheduled_has_time CHECK (status <> 'SCHEDULED' OR scheduled_at IS NOT NULL),
    CONSTRAINT campaigns_parameters_array CHECK (jsonb_typeof(parameters) = 'array')
);
CREATE INDEX campaigns_workspace_idx ON campaigns (workspace_id, created_at DESC);
-- The runner looks for due and running campaigns.
CREATE INDEX campaigns_active_idx ON campaigns (status, scheduled_at)
    WHERE status IN ('SCHEDULED', 'RUNNING');

-- A recipient's progress through a campaign: queued until the runner enqueues its message, then
-- it follows that message's status; skipped when a rule refused it (opted out, bad parameters).
CREATE TYPE campaign_message_status AS ENUM ('queued', 'pending', 'sent', 'delivered', 'read', 'failed', 'skipped');

-- One row per (campaign, contact): the audience snapshotted when the campaign starts. The unique
-- key is what makes a second start or a crashed runner unable to message anyone twice.
CREATE TABLE campaign_messages (
    id             uuid PRIMARY KEY,
    workspace_id   uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    campaign_id    uuid NOT NULL,
    contact_id     uuid NOT NULL,
    message_id     uuid,
    status         campaign_message_status NOT NULL DEFAULT 'queued',
    error_code     integer,
    error_details  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaign_messages_campaign_id_contact_id_key UNIQUE (campaign_id, contact_id),
    CONSTRAINT campaign_messages_message_id_key UNIQUE (message_id),
    CONSTRAINT campaign_messages_campaign_fkey FOREIGN KEY (workspace_id, campaign_id)
        REFERENCES campaigns (workspace_id, id) ON DELETE CASCADE,
    -- Erasing a contact erases its recipient rows; the campaign's counters keep the history.
    CONSTRAINT campaign_messages_contact_fkey FOREIGN KEY (workspace_id, contact_id)
        REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT campaign_messages_message_fkey FOREIGN KEY (workspace_id, message_id)
        REFERENCES messages (workspace_id, id) ON DELETE SET NULL (message_id)
);
-- The runner claims the recipients whose message is not written yet, in batches. (Not keyed on
-- `status`, so the status changes that follow can be made in place.)
CREATE INDEX campaign_messages_queued_idx ON campaign_messages (campaign_id, id) WHERE message_id IS NULL;
