-- Tenancy: who uses treeex and which WhatsApp business numbers each workspace owns.
--
-- Every workspace-scoped table in treeex carries `workspace_id`, and rows that point at each other
-- across tables do so through composite (workspace_id, id) keys, so the database itself refuses a
-- row that would join one workspace's data to another's.

-- People at the keyboard. `[user] email` in the configuration is matched to `email`, which treeex
-- stores lower-cased so that `Ana@Example.com` and `ana@example.com` are one user.
CREATE TABLE users (
    id          uuid PRIMARY KEY,
    email       text NOT NULL,
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lowercase CHECK (email = lower(email) AND email LIKE '%_@_%')
);

-- A tenant. `slug` is how people and scripts name it; `api_key` authenticates integrations;
-- `webhook_secret` signs what treeex forwards to a workspace's own systems.
CREATE TABLE workspaces (
    id              uuid PRIMARY KEY,
    slug            text NOT NULL,
    name            text NOT NULL,
    api_key         text NOT NULL,
    webhook_secret  text NOT NULL,
    settings        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workspaces_slug_key UNIQUE (slug),
    CONSTRAINT workspaces_api_key_key UNIQUE (api_key),
    CONSTRAINT workspaces_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    CONSTRAINT workspaces_settings_object CHECK (jsonb_typeof(settings) = 'object')
);

CREATE TYPE member_role AS ENUM ('OWNER', 'ADMIN', 'MEMBER');

-- Who may work in which workspace, and with what rights. Deleting a workspace or a user removes
-- the membership; nothing else depends on it.
CREATE TABLE workspace_members (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          member_role NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
-- "Which workspaces is this user in?" (the TUI's workspace picker).
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id);

-- A connected WhatsApp business number. `phone_number_id` is Meta's id for it and is what every
-- webhook names, so it is unique across all workspaces: a webhook routes to exactly one
-- workspace. `mps` caps the send rate (messages per second) of this number.
CREATE TABLE phone_numbers (
    id                    uuid PRIMARY KEY,
    workspace_id          uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    phone_number_id       text NOT NULL,
    display_phone_number  text NOT NULL,
    waba_id               text NOT NULL,
    access_token          text NOT NULL,
    mps                   integer NOT NULL DEFAULT 80,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT phone_numbers_phone_number_id_key UNIQUE (phone_number_id),
    CONSTRAINT phone_numbers_workspace_id_id_key UNIQUE (workspace_id, id),
    CONSTRAINT phone_numbers_phone_number_id_digits CHECK (phone_number_id ~ '^[0-9]+$'),
    CONSTRAINT phone_numbers_waba_id_digits CHECK (waba_id ~ '^[0-9]+$'),
    CONSTRAINT phone_numbers_access_token_present CHECK (access_token <> ''),
    CONSTRAINT phone_numbers_mps_range CHECK (mps BETWEEN 1 AND 1000)
);
