//! What the campaign dashboard reads: one campaign with its counters (kept exact by the writes),
//! who defined it, its sends per second over the last minutes, its failure reasons, and one page
//! of its recipients. Every read is bounded by an index on the campaign: none reads `messages`,
//! none reads the whole recipient table, and a filter the counters say matches no one is not
//! asked at all.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use super::campaigns::{self, Campaign, FailureReason};
use super::{Db, StoreError};
use crate::domain::WorkspaceId;

/// How far back the send rate goes.
pub const RATE_WINDOW_SECS: i64 = 600;
/// Failure reasons shown, the most frequent first.
pub const FAILURE_REASONS: i64 = 5;

/// Which recipients the table shows: by where each one is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RecipientFilter {
    #[default]
    All,
    Failed,
    Replied,
    Read,
    Delivered,
    Sent,
    /// Not sent yet: queued for the runner, or in the outbox.
    Waiting,
    Skipped,
}

impl RecipientFilter {
    /// In the order the filter key cycles through them.
    pub const ALL: [RecipientFilter; 8] = [
        RecipientFilter::All,
        RecipientFilter::Failed,
        RecipientFilter::Replied,
        RecipientFilter::Read,
        RecipientFilter::Delivered,
        RecipientFilter::Sent,
        RecipientFilter::Waiting,
        RecipientFilter::Skipped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RecipientFilter::All => "all",
            RecipientFilter::Failed => "failed",
            RecipientFilter::Replied => "replied",
            RecipientFilter::Read => "read",
            RecipientFilter::Delivered => "delivered",
            RecipientFilter::Sent => "sent",
            RecipientFilter::Waiting => "waiting",
            RecipientFilter::Skipped => "skipped",
        }
    }

    /// The filter by its name (as [`name`](Self::name) writes it).
    pub fn parse(name: &str) -> Option<RecipientFilter> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The next filter of the cycle.
    pub fn next(self) -> RecipientFilter {
        let index = Self::ALL.iter().position(|f| *f == self).unwrap_or(0);
        Self::ALL[(index + 1) % Self::ALL.len()]
    }

    /// How many recipients match, as the campaign's counters say (a counter counts the
    /// recipients at its stage or beyond: sent ⊇ delivered ⊇ read).
    pub fn count(self, campaign: &Campaign) -> i64 {
        let c = |n: i32| i64::from(n);
        let n = match self {
            RecipientFilter::All => c(campaign.total_contacts),
            RecipientFilter::Failed => c(campaign.failed_count),
            RecipientFilter::Replied => c(campaign.replied_count),
            RecipientFilter::Read => c(campaign.read_count),
            RecipientFilter::Delivered => c(campaign.delivered_count) - c(campaign.read_count),
            RecipientFilter::Sent => c(campaign.sent_count) - c(campaign.delivered_count),
            RecipientFilter::Waiting => {
                c(campaign.total_contacts)
                    - c(campaign.sent_count)
                    - c(campaign.failed_count)
                    - c(campaign.skipped_count)
            }
            RecipientFilter::Skipped => c(campaign.skipped_count),
        };
        n.max(0)
    }
}

/// Messages that left for Meta in one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct SendSecond {
    pub second: DateTime<Utc>,
    pub sent: i32,
}

/// One recipient as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RecipientRow {
    pub contact_id: Uuid,
    pub name: Option<String>,
    pub wa_id: Option<String>,
    /// `queued`, `pending`, `sent`, `delivered`, `read`, `failed` or `skipped`.
    pub status: String,
    pub error_code: Option<i32>,
    /// Meta's details of a failure, or why the recipient was skipped.
    pub error_details: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Everything the dashboard shows of one campaign, as of one moment of the database's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub campaign: Campaign,
    /// The name (or email) of who defined it.
    pub created_by: Option<String>,
    /// The database's time of the read: the send rate ends here.
    pub as_of: DateTime<Utc>,
    /// Sends per second over the [`RATE_WINDOW_SECS`] before `as_of`, oldest first; seconds
    /// without a send are left out.
    pub sends: Vec<SendSecond>,
    pub failures: Vec<FailureReason>,
    /// The recipients of `filter`, at most one page, in the order of their contacts.
    pub filter: RecipientFilter,
    pub recipients: Vec<RecipientRow>,
}

impl Dashboard {
    /// The same figures as `other`, whatever the time of either read.
    pub fn same_figures(&self, other: &Dashboard) -> bool {
        self.campaign == other.campaign
            && self.created_by == other.created_by
            && self.sends == other.sends
            && self.failures == other.failures
            && self.filter == other.filter
            && self.recipients == other.recipients
    }
}

/// The dashboard of one campaign of the workspace, with up to `limit` recipients of `filter`.
pub async fn dashboard(
    db: &Db,
    workspace: WorkspaceId,
    campaign: Uuid,
    filter: RecipientFilter,
    limit: i64,
) -> Result<Dashboard, StoreError> {
    let found = campaigns::get(db, workspace, campaign).await?;
    let wanted = filter.count(&found) > 0;
    let (header, sends, failures, recipients) = tokio::try_join!(
        header(db, workspace, campaign),
        sends(db, workspace, campaign),
        async {
            if found.failed_count > 0 {
                campaigns::failure_reasons(db, workspace, campaign, FAILURE_REASONS).await
            } else {
                Ok(Vec::new())
            }
        },
        async {
            if wanted {
                recipients(db, workspace, campaign, filter, limit).await
            } else {
                Ok(Vec::new())
            }
        },
    )?;
    let (as_of, created_by) = header;
    Ok(Dashboard {
        campaign: found,
        created_by,
        as_of,
        sends,
        failures,
        filter,
        recipients,
    })
}

/// The database's clock and who defined the campaign.
async fn header(
    db: &Db,
    workspace: WorkspaceId,
    campaign: Uuid,
) -> Result<(DateTime<Utc>, Option<String>), StoreError> {
    sqlx::query_as(
        "SELECT now(), (SELECT COALESCE(u.name, u.email) FROM users u WHERE u.id = c.created_by) \
         FROM campaigns c WHERE c.workspace_id = $1 AND c.id = $2",
    )
    .bind(workspace.0)
    .bind(campaign)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("there is no campaign {campaign}")))
}

/// The campaign's sends per second over the rate window (its primary key's range).
async fn sends(
    db: &Db,
    workspace: WorkspaceId,
    campaign: Uuid,
) -> Result<Vec<SendSecond>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT second, sent FROM campaign_send_seconds \
         WHERE workspace_id = $1 AND campaign_id = $2 \
           AND second > now() - make_interval(secs => $3) \
         ORDER BY second",
    )
    .bind(workspace.0)
    .bind(campaign)
    .bind(RATE_WINDOW_SECS as f64)
    .fetch_all(db.pool())
    .await?)
}

/// One page of the recipients of `filter`, in the order of the (campaign, contact) key; the
/// failed ones grouped by code (their own index holds them).
async fn recipients(
    db: &Db,
    workspace: WorkspaceId,
    campaign: Uuid,
    filter: RecipientFilter,
    limit: i64,
) -> Result<Vec<RecipientRow>, StoreError> {
    macro_rules! select_recipients {
        () => {
            "SELECT cm.contact_id, COALESCE(k.name, k.profile_name) AS name, k.wa_id, \
                    cm.status::text AS status, cm.error_code, cm.error_details, cm.replied_at, \
                    cm.updated_at \
             FROM campaign_messages cm \
             JOIN contacts k ON k.workspace_id = cm.workspace_id AND k.id = cm.contact_id \
             WHERE cm.workspace_id = $1 AND cm.campaign_id = $2 "
        };
    }
    let query = if filter == RecipientFilter::Failed {
        sqlx::query_as(concat!(
            select_recipients!(),
            "AND cm.status = 'failed' AND $3 = 'failed' \
             ORDER BY cm.error_code NULLS LAST, cm.contact_id LIMIT $4"
        ))
    } else {
        sqlx::query_as(concat!(
            select_recipients!(),
            "AND CASE $3 \
                 WHEN 'all' THEN true \
                 WHEN 'replied' THEN cm.replied_at IS NOT NULL \
                 WHEN 'waiting' THEN cm.status IN ('queued', 'pending') \
                 ELSE cm.status::text = $3 END \
             ORDER BY cm.contact_id LIMIT $4"
        ))
    };
    Ok(query
        .bind(workspace.0)
        .bind(campaign)
        .bind(filter.name())
        .bind(limit)
        .fetch_all(db.pool())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_cycles_through_every_stage_and_back() {
        let mut seen = vec![RecipientFilter::All];
        let mut filter = RecipientFilter::All.next();
        while filter != RecipientFilter::All {
            seen.push(filter);
            filter = filter.next();
        }
        assert_eq!(seen, RecipientFilter::ALL);
        for filter in RecipientFilter::ALL {
            assert_eq!(RecipientFilter::parse(filter.name()), Some(filter));
        }
        assert_eq!(RecipientFilter::parse("nobody"), None);
    }
}
