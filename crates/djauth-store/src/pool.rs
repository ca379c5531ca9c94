//! Connection pools for the three backends, and the few row shapes djauth reads.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::{AssertSqlSafe, Executor, Row};

use crate::{DatabaseUrl, StoreError, UserRow};

/// How long a SQLite query waits for Django's writers to release a lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Pool sizing and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections open at once (per djauth process).
    pub max_connections: u32,
    /// How long a query waits for a free connection before failing (500).
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long.
    pub idle_timeout: Duration,
    /// Longest a single read may take (e.g. stuck behind a migration's table
    /// lock) before it fails, and the check with it (500).
    pub query_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(300),
            query_timeout: Duration::from_secs(10),
        }
    }
}

/// A pool on one of the three backends.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// Runs the same code on whichever pool this is; each arm is typed for its backend.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
            Pool::MySql($p) => $body,
        }
    };
}

/// Reads a text column; MySQL binary collations deliver bytes instead of
/// text. Bytes that are not UTF-8 are a decoding error (a bad row), never
/// patched up: a lossy copy of a stored hash could match a password.
macro_rules! text {
    ($row:expr, $index:expr) => {
        match $row.try_get::<Option<String>, _>($index) {
            Ok(text) => Ok(text),
            Err(_) => $row
                .try_get::<Option<Vec<u8>>, _>($index)
                .and_then(|bytes| {
                    bytes
                        .map(String::from_utf8)
                        .transpose()
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
                }),
        }
    };
}

impl Pool {
    /// Opens a read-only pool. Nothing is connected yet for servers; the
    /// caller's first query connects.
    pub(crate) fn open(
        url: &DatabaseUrl,
        password: Option<&str>,
        config: &PoolConfig,
    ) -> Result<Pool, StoreError> {
        let invalid = |e: sqlx::Error| StoreError::InvalidUrl(e.to_string());
        Ok(match url {
            DatabaseUrl::Sqlite { path } => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                Pool::Sqlite(pool_options(config).connect_lazy_with(options))
            }
            DatabaseUrl::Postgres { url } => {
                let mut options = PgConnectOptions::from_str(url)
                    .map_err(invalid)?
                    .application_name("djauth")
                    .options([("default_transaction_read_only", "on")]);
                if let Some(password) = password {
                    options = options.password(password);
                }
                let pool: PgPoolOptions = pool_options(config);
                Pool::Postgres(pool.connect_lazy_with(options))
            }
            DatabaseUrl::MySql { url } => {
                let mut options = MySqlConnectOptions::from_str(url).map_err(invalid)?;
                if let Some(password) = password {
                    options = options.password(password);
                }
                let pool: MySqlPoolOptions = pool_options(config);
                let pool = pool.after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
                        Ok(())
                    })
                });
                Pool::MySql(pool.connect_lazy_with(options))
            }
        })
    }

    /// Connections open now, and how many of them are idle.
    pub(crate) fn usage(&self) -> (u32, usize) {
        on_pool!(self, p => (p.size(), p.num_idle()))
    }

    /// Runs `sql` (without parameters) only to see whether it works here.
    pub(crate) async fn probe(self, sql: &str) -> Result<(), sqlx::Error> {
        on_pool!(&self, p => sqlx::query(AssertSqlSafe(sql)).fetch_optional(p).await.map(drop))
    }

    /// Rows of the user query: id, username, password, then `flags` booleans.
    pub(crate) async fn users(
        self,
        sql: &str,
        username: &str,
        flags: [bool; 3],
    ) -> Result<Vec<UserRow>, sqlx::Error> {
        on_pool!(&self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(username).fetch_all(p).await?;
            rows.iter()
                .map(|row| {
                    let mut column = 3;
                    let mut flag = |present: bool, absent_value: bool| -> Result<bool, sqlx::Error> {
                        if !present {
                            return Ok(absent_value);
                        }
                        column += 1;
                        // A NULL flag is falsy, as in Python.
                        Ok(row.try_get::<Option<bool>, _>(column - 1)?.unwrap_or(false))
                    };
                    let [active, staff, superuser] = flags;
                    Ok(UserRow {
                        id: row.try_get(0)?,
                        username: text!(row, 1)?.unwrap_or_default(),
                        password: text!(row, 2)?,
                        is_active: flag(active, true)?,
                        is_staff: flag(staff, false)?,
                        is_superuser: flag(superuser, false)?,
                    })
                })
                .collect()
        })
    }

    /// The first column of every row, as text, binding `id` once.
    pub(crate) async fn texts(self, sql: &str, id: i64) -> Result<Vec<String>, sqlx::Error> {
        on_pool!(&self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_all(p).await?;
            rows.iter()
                .map(|row| Ok(text!(row, 0)?.unwrap_or_default()))
                .collect()
        })
    }

    /// Two text columns per row, binding `id` `binds` times.
    pub(crate) async fn pairs(
        self,
        sql: &str,
        id: i64,
        binds: usize,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        on_pool!(&self, p => {
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for _ in 0..binds {
                query = query.bind(id);
            }
            let rows = query.fetch_all(p).await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        text!(row, 0)?.unwrap_or_default(),
                        text!(row, 1)?.unwrap_or_default(),
                    ))
                })
                .collect()
        })
    }
}

/// The same sizing for every backend.
fn pool_options<DB: sqlx::Database>(config: &PoolConfig) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(config.max_connections)
        .min_connections(0)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(config.idle_timeout)
        .max_lifetime(Duration::from_secs(1800))
        .test_before_acquire(true)
}

/// Whether an error means the connection broke (worth one retry on a fresh one),
/// rather than a bad query or an unreachable server.
pub(crate) fn is_broken_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            // PostgreSQL: admin shutdown, crash shutdown, cannot connect now,
            // connection exceptions. MySQL/MariaDB: server gone away, lost
            // connection, connection killed.
            Some(
                "57P01"
                    | "57P02"
                    | "57P03"
                    | "08000"
                    | "08003"
                    | "08006"
                    | "2006"
                    | "2013"
                    | "1927"
                    | "70100"
            )
        ),
        _ => false,
    }
}
