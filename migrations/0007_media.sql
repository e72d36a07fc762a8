-- Media moving between Meta and the media store.
--
-- An inbound image, audio, video, document or sticker gets a media_files row at ingest, with
-- Meta's media id and no storage_url. The media fetcher claims such rows (FOR UPDATE SKIP
-- LOCKED), downloads the bytes and records where it stored them. A download can fail (Meta
-- unavailable, an expired token, a media id Meta no longer knows), so each row counts its
-- attempts and waits until next_attempt_at before the next one; after the last attempt it is
-- given up (given_up_at, with the reason in last_error) instead of being tried forever.
-- Claiming a row moves next_attempt_at past the claim's lease: a fetcher that dies holding it
-- leaves it to come due again, with the attempt counted.
--
-- An outbound file is stored first (storage_url) and uploaded to Meta by the outbox worker just
-- before its message is sent (wa_media_id); `attempts` and `last_error` then count and explain
-- the uploads that failed.
ALTER TABLE media_files
    ADD COLUMN attempts         integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error       text,
    ADD COLUMN given_up_at      timestamptz,
    ADD CONSTRAINT media_files_attempts_nonnegative CHECK (attempts >= 0);

-- The fetcher finds due downloads without reading the rows of files already stored.
CREATE INDEX media_files_fetch_due_idx ON media_files (next_attempt_at)
    WHERE storage_url IS NULL AND wa_media_id IS NOT NULL AND given_up_at IS NULL;

-- A message's files are looked up by (workspace, message).
CREATE INDEX media_files_workspace_message_idx ON media_files (workspace_id, message_id);
