-- Recipient rows change status three or four times each (sent, delivered, read) while a campaign
-- runs. With room left on their page and no index that mentions `status`, each change is a HOT
-- update: no index entry written, no index to clean up later.
ALTER TABLE campaign_messages SET (fillfactor = 70);

-- The failure reasons of a campaign, found without naming `status` in the index: every failed
-- recipient carries its details (skipped ones carry their reason too; the query tells them apart).
UPDATE campaign_messages cm
SET error_details = COALESCE(m.error_title, 'the message failed')
FROM messages m
WHERE m.id = cm.message_id AND cm.status = 'failed' AND cm.error_details IS NULL;

DROP INDEX campaign_messages_failed_idx;
CREATE INDEX campaign_messages_failed_idx ON campaign_messages (campaign_id, error_code)
    WHERE error_details IS NOT NULL;
