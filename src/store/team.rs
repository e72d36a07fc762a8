//! The supervisor's team view: the open work of a workspace and of each member, and how fast the
//! team responds and resolves, today against yesterday and this week against the last.
//!
//! Drawing it never reads `messages`: the writes keep what it needs, in the transaction of the
//! write (`migrations/0010_team.sql`).
//!
//! - On each conversation, `awaiting_reply_since` (the customer's oldest message no agent reply
//!   has followed yet) and `last_reply_at`, kept by `conversations::record_inbound` and
//!   `conversations::record_outbound` and cleared by `agent::close`. The counters read only the
//!   open conversations, through their partial index.
//! - One `conversation_episodes` row per episode of a conversation, kept by the functions below:
//!   [`record_customer_message`] (ingest), [`record_agent_reply`] (the outbox's enqueue),
//!   [`record_close`] and [`record_reopen`] (`agent::close`, `agent::reopen`). A period reads
//!   the rows whose time falls in it, by index.
//!
//! Definitions:
//!
//! - *Open*: a conversation with status OPEN (as the inbox counts it). *Unassigned*: open, with
//!   no assignee. *Unattended*: open, and the customer wrote after the last agent reply (or no
//!   agent replied at all). Reactions, edits, revokes and WhatsApp's system notices are not
//!   messages that wait for a reply.
//! - An *agent reply* is an outbound message written by a member (`sent_by` set: the inbox's
//!   composer). Campaign messages and messages sent from the command line or the API are not
//!   replies: they neither answer a waiting customer nor count as a response.
//! - An *episode* begins with a customer message when the conversation has no unresolved episode
//!   (a new conversation, or one an agent resolved), or with an agent's reopen of a conversation
//!   that was not open. It ends when an agent closes the conversation.
//! - *First response time*: from the customer's first message of the episode to the first agent
//!   reply after it, counted in the period of the reply. An episode an agent reopened starts its
//!   clock at the customer's first message after the reopen.
//! - *Resolution time*: from the beginning of the episode to its close, counted in the period of
//!   the close.
//! - Both are medians (`percentile_cont(0.5)`, so the mean of the middle two of an even count) of
//!   the episodes of the period, in seconds; None when the period has none.
//! - Each member's day (UTC): the replies they wrote (`agent_reply_days`, counted as written),
//!   the median of the first responses they gave, and the episodes they resolved
//!   (`responded_by`, `closed_by` on the episode).
//! - Periods, in UTC: *today* from midnight to `now`; *yesterday* the whole previous day; *last 7
//!   days* the 7 × 24 hours before `now`; *previous 7 days* the 7 × 24 hours before those. A
//!   period includes its start and excludes its end.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Db, StoreError};
use crate::domain::{Role, WorkspaceId};

/// One agent's share of the open conversations.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLoad {
    pub user_id: Uuid,
    /// The member's name, or their email when they have none.
    pub name: String,
    pub role: Role,
    /// Open conversations assigned to them.
    pub open: i64,
    /// Of those, the ones whose customer waits for a reply.
    pub unattended: i64,
    /// Replies they wrote today (UTC).
    pub replied_today: i64,
    /// Median seconds to their first responses today; None when they gave none.
    pub first_response_today_secs: Option<f64>,
    /// Episodes they resolved today.
    pub resolved_today: i64,
}

/// Response times over one period; None when nothing in the period to measure.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PeriodTimes {
    /// Median seconds from a customer's first message of an episode to the first agent reply,
    /// over the replies of the period.
    pub first_response_secs: Option<f64>,
    /// Median seconds from the beginning of an episode to its close, over the closes of the
    /// period.
    pub resolution_secs: Option<f64>,
    /// Episodes that began in the period: conversations the customer opened or reopened, and
    /// conversations an agent reopened.
    pub conversations: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamSnapshot {
    pub open: i64,
    pub unassigned: i64,
    /// Open conversations whose customer's last message has had no reply.
    pub unattended: i64,
    /// Every member of the workspace, most loaded first (then by name).
    pub agents: Vec<AgentLoad>,
    /// Since UTC midnight.
    pub today: PeriodTimes,
    /// The whole previous UTC day.
    pub yesterday: PeriodTimes,
    pub last_7_days: PeriodTimes,
    pub previous_7_days: PeriodTimes,
}

/// The team view of a workspace as of `now`: two queries on the open conversations and the
/// members, one on the episodes of the last 14 days.
pub async fn snapshot(
    db: &Db,
    workspace: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<TeamSnapshot, StoreError> {
    // The open conversations by assignee (`conversations_team_idx`); NULL is nobody.
    let loads: Vec<(Option<Uuid>, i64, i64)> = sqlx::query_as(
        "SELECT assignee_id, count(*), count(awaiting_reply_since) FROM conversations \
         WHERE workspace_id = $1 AND status = 'OPEN' GROUP BY assignee_id",
    )
    .bind(workspace.0)
    .fetch_all(db.pool())
    .await?;
    let members: Vec<(Uuid, Option<String>, String, Role)> = sqlx::query_as(
        "SELECT m.user_id, u.name, u.email, m.role FROM workspace_members m \
         JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1",
    )
    .bind(workspace.0)
    .fetch_all(db.pool())
    .await?;

    let periods = Periods::at(now);
    let days = agent_days(db, workspace, &periods).await?;

    let (mut open, mut unassigned, mut unattended) = (0, 0, 0);
    let mut by_assignee: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for (assignee, count, waiting) in loads {
        open += count;
        unattended += waiting;
        match assignee {
            Some(user) => {
                by_assignee.insert(user, (count, waiting));
            }
            None => unassigned += count,
        }
    }
    let mut agents: Vec<AgentLoad> = members
        .into_iter()
        .map(|(user_id, name, email, role)| {
            let (open, unattended) = by_assignee.get(&user_id).copied().unwrap_or_default();
            let today = days.get(&user_id).copied().unwrap_or_default();
            AgentLoad {
                user_id,
                name: name.filter(|n| !n.trim().is_empty()).unwrap_or(email),
                role,
                open,
                unattended,
                replied_today: today.0,
                first_response_today_secs: today.1,
                resolved_today: today.2,
            }
        })
        .collect();
    agents.sort_by(|a, b| {
        (b.open, b.unattended)
            .cmp(&(a.open, a.unattended))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.user_id.cmp(&b.user_id))
    });

    let [today, yesterday, last_7_days, previous_7_days] =
        period_times(db, workspace, &periods).await?;
    Ok(TeamSnapshot {
        open,
        unassigned,
        unattended,
        agents,
        today,
        yesterday,
        last_7_days,
        previous_7_days,
    })
}

/// The four periods of the snapshot, each `[start, end)`: today, yesterday, the last 7 days,
/// the 7 days before.
struct Periods([(DateTime<Utc>, DateTime<Utc>); 4]);

impl Periods {
    fn at(now: DateTime<Utc>) -> Self {
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |m| m.and_utc());
        let week = Duration::days(7);
        Periods([
            (midnight, now),
            (midnight - Duration::days(1), midnight),
            (now - week, now),
            (now - week - week, now - week),
        ])
    }
}

/// Each member's day so far: replies written, the median of their first responses, and the
/// episodes they resolved. One row per member from `agent_reply_days`, and today's episodes by
/// index.
async fn agent_days(
    db: &Db,
    workspace: WorkspaceId,
    periods: &Periods,
) -> Result<HashMap<Uuid, (i64, Option<f64>, i64)>, StoreError> {
    let (start, stop) = periods.0[0];
    let rows: Vec<(Uuid, i64, Option<f64>, i64)> = sqlx::query_as(
        "WITH replies AS ( \
             SELECT user_id, replies::bigint AS n FROM agent_reply_days \
             WHERE workspace_id = $1 AND day = $2), \
         responses AS ( \
             SELECT responded_by AS user_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY \
                    GREATEST(extract(epoch FROM first_response_at - first_inbound_at), 0)::float8) \
                    AS median \
             FROM conversation_episodes \
             WHERE workspace_id = $1 AND first_response_at >= $2 AND first_response_at < $3 \
               AND responded_by IS NOT NULL \
             GROUP BY responded_by), \
         resolved AS ( \
             SELECT closed_by AS user_id, count(*) AS n FROM conversation_episodes \
             WHERE workspace_id = $1 AND closed_at >= $2 AND closed_at < $3 \
               AND closed_by IS NOT NULL \
             GROUP BY closed_by) \
         SELECT u.user_id, COALESCE(r.n, 0), p.median, COALESCE(c.n, 0) \
         FROM (SELECT user_id FROM replies UNION SELECT user_id FROM responses \
               UNION SELECT user_id FROM resolved) u \
         LEFT JOIN replies r ON r.user_id = u.user_id \
         LEFT JOIN responses p ON p.user_id = u.user_id \
         LEFT JOIN resolved c ON c.user_id = u.user_id",
    )
    .bind(workspace.0)
    .bind(start)
    .bind(stop)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user, replies, median, resolved)| (user, (replies, median, resolved)))
        .collect())
}

/// Each period's medians and count: three range scans of an episode index per period.
async fn period_times(
    db: &Db,
    workspace: WorkspaceId,
    periods: &Periods,
) -> Result<[PeriodTimes; 4], StoreError> {
    let starts: Vec<DateTime<Utc>> = periods.0.iter().map(|p| p.0).collect();
    let ends: Vec<DateTime<Utc>> = periods.0.iter().map(|p| p.1).collect();
    let rows: Vec<(i64, Option<f64>, Option<f64>, i64)> = sqlx::query_as(
        "SELECT p.n, \
             (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY \
                      GREATEST(extract(epoch FROM e.first_response_at - e.first_inbound_at), 0)::float8) \
              FROM conversation_episodes e \
              WHERE e.workspace_id = $1 AND e.first_response_at >= p.start \
                AND e.first_response_at < p.stop), \
             (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY \
                      GREATEST(extract(epoch FROM e.closed_at - e.opened_at), 0)::float8) \
              FROM conversation_episodes e \
              WHERE e.workspace_id = $1 AND e.closed_at >= p.start AND e.closed_at < p.stop), \
             (SELECT count(*) FROM conversation_episodes e \
              WHERE e.workspace_id = $1 AND e.opened_at >= p.start AND e.opened_at < p.stop) \
         FROM UNNEST($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS p (start, stop, n)",
    )
    .bind(workspace.0)
    .bind(&starts)
    .bind(&ends)
    .fetch_all(db.pool())
    .await?;
    let mut times = [PeriodTimes::default(); 4];
    for (n, first_response_secs, resolution_secs, conversations) in rows {
        if let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| times.get_mut(i)) {
            *slot = PeriodTimes {
                first_response_secs,
                resolution_secs,
                conversations,
            };
        }
    }
    Ok(times)
}

/// The customer wrote a message that waits for a reply, at `at` (Meta's time): it belongs to the
/// conversation's unresolved episode, or begins one. Call it in the transaction that records
/// the message, with the conversation locked (`conversations::open_for_contact`).
pub async fn record_customer_message(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Webhooks arrive out of order: the episode's first message is the earliest one, and an
    // episode the customer began began with it.
    sqlx::query(
        "WITH current AS ( \
             UPDATE conversation_episodes \
             SET first_inbound_at = LEAST(first_inbound_at, $3), \
                 opened_at = LEAST(opened_at, $3) \
             WHERE workspace_id = $1 AND conversation_id = $2 AND closed_at IS NULL \
             RETURNING id) \
         INSERT INTO conversation_episodes \
             (id, workspace_id, conversation_id, opened_at, first_inbound_at) \
         SELECT $4, $1, $2, $3, $3 WHERE NOT EXISTS (SELECT 1 FROM current)",
    )
    .bind(workspace.0)
    .bind(conversation)
    .bind(at)
    .bind(Uuid::now_v7())
    .execute(conn)
    .await?;
    Ok(())
}

/// An agent replied in the conversation, now: the first response of its episode, unless the
/// episode had one already or its customer has not written yet. Call it in the transaction that
/// writes the reply.
pub async fn record_agent_reply(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: Uuid,
    agent: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversation_episodes SET first_response_at = now(), responded_by = $3 \
         WHERE workspace_id = $1 AND conversation_id = $2 AND closed_at IS NULL \
           AND first_inbound_at IS NOT NULL AND first_response_at IS NULL",
    )
    .bind(workspace.0)
    .bind(conversation)
    .bind(agent)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO agent_reply_days (workspace_id, user_id, day, replies) \
         VALUES ($1, $2, date_trunc('day', now(), 'UTC'), 1) \
         ON CONFLICT (workspace_id, user_id, day) \
             DO UPDATE SET replies = agent_reply_days.replies + 1",
    )
    .bind(workspace.0)
    .bind(agent)
    .execute(conn)
    .await?;
    Ok(())
}

/// An agent (`closed_by`, None: someone outside the inbox) closed the conversation, now: its
/// episode is resolved.
pub async fn record_close(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: Uuid,
    closed_by: Option<Uuid>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversation_episodes SET closed_at = now(), closed_by = $3 \
         WHERE workspace_id = $1 AND conversation_id = $2 AND closed_at IS NULL",
    )
    .bind(workspace.0)
    .bind(conversation)
    .bind(closed_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// An agent reopened a conversation that was not open, now: a new episode begins, waiting for
/// the customer's first message (unless one is unresolved already).
pub async fn record_reopen(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO conversation_episodes (id, workspace_id, conversation_id, opened_at) \
         SELECT $3, $1, $2, now() WHERE NOT EXISTS ( \
             SELECT 1 FROM conversation_episodes \
             WHERE workspace_id = $1 AND conversation_id = $2 AND closed_at IS NULL)",
    )
    .bind(workspace.0)
    .bind(conversation)
    .bind(Uuid::now_v7())
    .execute(conn)
    .await?;
    Ok(())
}
