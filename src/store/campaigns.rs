//! Campaigns: the recipient rows and the funnel counters, kept exact by moving them in the same
//! transaction as the message statuses they count.

use sqlx::PgConnection;
use uuid::Uuid;

use super::StoreError;
use super::messages::Transition;
use crate::domain::MessageStatus;

/// Carries message status changes to their campaign recipients and the campaign counters: a
/// counter counts the recipients whose message is at that stage or beyond (sent ⊇ delivered ⊇
/// read), or failed; a transition adds to the counters it enters and takes from those it leaves.
pub async fn apply_transitions(
    conn: &mut PgConnection,
    transitions: &[Transition],
) -> Result<(), StoreError> {
    if transitions.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = transitions.iter().map(|t| t.message_id).collect();
    let from: Vec<MessageStatus> = transitions.iter().map(|t| t.from).collect();
    let to: Vec<MessageStatus> = transitions.iter().map(|t| t.to).collect();
    sqlx::query(
        "WITH t AS ( \
             SELECT * FROM UNNEST($1::uuid[], $2::message_status[], $3::message_status[]) \
                 AS t (message_id, old, new)), \
         recipients AS ( \
             UPDATE campaign_messages cm SET \
                 status = (CASE WHEN t.new = 'played' THEN 'read' ELSE t.new::text END)::campaign_message_status, \
                 error_code = CASE WHEN t.new = 'failed' THEN m.error_code END, \
                 error_details = CASE WHEN t.new = 'failed' THEN m.error_details END, \
                 updated_at = now() \
             FROM t JOIN messages m ON m.id = t.message_id \
             WHERE cm.message_id = t.message_id \
             RETURNING cm.campaign_id, t.old, t.new), \
         deltas AS ( \
             SELECT campaign_id, \
                    sum((new IN ('sent', 'delivered', 'read', 'played'))::int \
                        - (old IN ('sent', 'delivered', 'read', 'played'))::int) AS sent, \
                    sum((new IN ('delivered', 'read', 'played'))::int \
                        - (old IN ('delivered', 'read', 'played'))::int) AS delivered, \
                    sum((new IN ('read', 'played'))::int - (old IN ('read', 'played'))::int) AS read, \
                    sum((new = 'failed')::int - (old = 'failed')::int) AS failed \
             FROM recipients GROUP BY campaign_id) \
         UPDATE campaigns c SET \
             sent_count = c.sent_count + d.sent, \
             delivered_count = c.delivered_count + d.delivered, \
             read_count = c.read_count + d.read, \
             failed_count = c.failed_count + d.failed, \
             updated_at = now() \
         FROM deltas d WHERE c.id = d.campaign_id",
    )
    .bind(&ids)
    .bind(&from)
    .bind(&to)
    .execute(conn)
    .await?;
    Ok(())
}
