-- Media files and message templates.

-- A media file of a message: received (Meta's media id, fetched into the media store) or sent
-- (uploaded to Meta). `storage_url` is where treeex keeps the bytes (an object-store URL); it is
-- NULL until they are fetched. Deleting the message keeps the file row for the media store's
-- clean-up, which is why the reference is SET NULL.
CREATE TABLE media_files (
    id            uuid PRIMARY KEY,
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id    uuid,
    wa_media_id   text,
    storage_url   text,
    mime_type     text NOT NULL,
    sha256        text,
    size_bytes    bigint,
    filename      text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT media_files_workspace_id_wa_media_id_key UNIQUE (workspace_id, wa_media_id),
    CONSTRAINT media_files_message_fkey FOREIGN KEY (workspace_id, message_id)
        REFERENCES messages (workspace_id, id) ON DELETE SET NULL (message_id),
    CONSTRAINT media_files_size_nonnegative CHECK (size_bytes IS NULL OR size_bytes >= 0)
);
CREATE INDEX media_files_message_idx ON media_files (message_id);

CREATE TYPE template_category AS ENUM ('MARKETING', 'UTILITY', 'AUTHENTICATION');

-- The seed system knew APPROVED, REJECTED and PENDING; Meta also sends these, and treeex keeps
-- whatever Meta says so the template picker can tell an agent why a template is unusable.
-- UNKNOWN stands for a status Meta adds later.
CREATE TYPE template_status AS ENUM (
    'APPROVED', 'REJECTED', 'PENDING', 'PAUSED', 'DISABLED', 'IN_APPEAL', 'PENDING_DELETION',
    'DELETED', 'FLAGGED', 'REINSTATED', 'LIMIT_EXCEEDED', 'ARCHIVED', 'UNARCHIVED', 'LOCKED',
    'UNKNOWN');

-- A message template of a WhatsApp Business Account, as synced from the Graph API. Meta names a
-- template by (name, language) within a WABA; `components` is Meta's definition, from which the
-- variables are counted and the message is rendered.
CREATE TABLE templates (
    id               uuid PRIMARY KEY,
    workspace_id     uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    waba_id          text NOT NULL,
    wa_template_id   text,
    name             text NOT NULL,
    language         text NOT NULL,
    category         template_category NOT NULL,
    status           template_status NOT NULL,
    components       jsonb NOT NULL DEFAULT '[]'::jsonb,
    rejected_reason  text,
    synced_at        timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT templates_workspace_id_waba_id_name_language_key UNIQUE (workspace_id, waba_id, name, language),
    CONSTRAINT templates_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT templates_name_format CHECK (name ~ '^[a-z0-9_]+$' AND char_length(name) <= 512),
    CONSTRAINT templates_components_array CHECK (jsonb_typeof(components) = 'array')
);
