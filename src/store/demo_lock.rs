//! The mark of a running `treeex demo` on the managed cluster: held shared by every demo while
//! it runs, and exclusively while one sets the demo database up or starts it over, so that one
//! demo never drops or rewrites the database under another. A session advisory lock on a
//! connection of its own to the cluster's `postgres` database (never the demo database, which a
//! fresh start drops); a demo that dies lets go with its connection.

use sqlx::{Connection, PgConnection};

use super::StoreError;
use super::cluster::ManagedCluster;

/// The advisory lock's key ("treeex" and 1).
const KEY: i64 = 0x7472_6565_6578_0001;

pub struct DemoLock {
    conn: PgConnection,
    exclusive: bool,
}

impl DemoLock {
    /// Takes the mark: exclusively when no other demo runs (the caller may then set the
    /// database up), else shared, waiting while another demo sets it up. `exclusive()` says
    /// which.
    pub async fn take(cluster: &ManagedCluster) -> Result<DemoLock, StoreError> {
        let mut conn = PgConnection::connect_with(&cluster.connect_options("postgres")).await?;
        let exclusive: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(KEY)
            .fetch_one(&mut conn)
            .await?;
        if !exclusive {
            sqlx::query("SELECT pg_advisory_lock_shared($1)")
                .bind(KEY)
                .execute(&mut conn)
                .await?;
        }
        Ok(DemoLock { conn, exclusive })
    }

    /// True when no other demo runs on the cluster (until [`DemoLock::share`]).
    pub fn exclusive(&self) -> bool {
        self.exclusive
    }

    /// Lets other demos start beside this one, which goes on holding the mark shared.
    pub async fn share(&mut self) -> Result<(), StoreError> {
        if self.exclusive {
            // Shared first, so that no other demo can take it exclusively in between.
            for sql in [
                "SELECT pg_advisory_lock_shared($1)",
                "SELECT pg_advisory_unlock($1)",
            ] {
                sqlx::query(sql).bind(KEY).execute(&mut self.conn).await?;
            }
            self.exclusive = false;
        }
        Ok(())
    }
}
