//! Reads Django's users, groups and permissions from the project's database.
//!
//! This is the only djauth crate that speaks SQL. It opens SQLite,
//! PostgreSQL or MySQL/MariaDB read-only, maps the project's user model to
//! tables and columns (checking them at start-up), and answers four
//! questions: which row has this username, which groups and which
//! permissions does a user have, and is the database reachable.

mod error;
mod pool;
mod replaced;
mod resolve;
mod schema;
mod url;

use std::future::Future;
use std::path::Path;

pub use error::StoreError;
pub use pool::PoolConfig;
pub use schema::{Choice, M2m, M2mConfig, Schema, SchemaConfig, UsernameMatch};
pub use url::{Backend, DatabaseUrl};

use pool::{Pool, is_broken_connection};
use replaced::Current;
use schema::{Dialect, Queries};

/// One row of the user table, as djauth needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// The stored username, exactly as in the database.
    pub username: String,
    /// The stored password hash; `None` for a NULL column.
    pub password: Option<String>,
    /// `is_active`; NULL counts as inactive (Python truthiness); no column means active.
    pub is_active: bool,
    /// `is_staff` (false without the column).
    pub is_staff: bool,
    /// `is_superuser` (false without the column).
    pub is_superuser: bool,
}

/// How to open a site's database.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// The user model mapping.
    pub schema: SchemaConfig,
    /// Pool sizing.
    pub pool: PoolConfig,
    /// A file whose first line is the database password (kept out of the URL
    /// and of process listings).
    pub password_file: Option<std::path::PathBuf>,
}

/// A snapshot of a store's connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open.
    pub open: u32,
    /// Open connections running a query.
    pub busy: u32,
    /// The most the pool may open (`pool_max_connections`).
    pub max: u32,
}

/// A read-only connection pool to one Django database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Current,
    max_connections: u32,
    query_timeout: std::time::Duration,
    url: DatabaseUrl,
    schema: Schema,
    queries: Queries,
}

impl Store {
    /// Opens the database read-only, resolves the user model's tables and
    /// columns, and checks that every query djauth will send is valid.
    pub async fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Store, StoreError> {
        if let DatabaseUrl::Sqlite { path } = url
            && !path.is_file()
        {
            let reason = if path.exists() {
                format!("{} is not a regular file", path.display())
            } else {
                format!("no such file: {}", path.display())
            };
            return Err(StoreError::Open {
                database: url.to_string(),
                reason,
            });
        }
        let password = options
            .password_file
            .as_deref()
            .map(read_password_file)
            .transpose()?;
        let pool = Pool::open(url, password.as_deref().map(|p| p.as_str()), &options.pool)?;
        let dialect = Dialect(url.backend());
        let schema = resolve::resolve(&pool, dialect, &options.schema, url).await?;
        let queries = Queries::new(&schema, dialect);
        let pool = Current::new(pool, url.clone(), options.pool.clone());
        let store = Store {
            pool,
            max_connections: options.pool.max_connections,
            query_timeout: options.pool.query_timeout,
            url: url.clone(),
            schema,
            queries,
        };
        store.check_queries().await?;
        Ok(store)
    }

    /// The database this store reads, for log lines (never shows a password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The user model mapping in use.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Finds the user whose username matches `username`.
    ///
    /// The SQL uses `=` (or `LOWER(..) = LOWER(..)` in iexact mode) like
    /// Django, and every candidate is compared again in Rust, so a case- or
    /// accent-insensitive collation cannot widen the match. Two matching rows
    /// are [`StoreError::DuplicateUser`].
    pub async fn find_user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let flags = [
            self.schema.is_active.is_some(),
            self.schema.is_staff.is_some(),
            self.schema.is_superuser.is_some(),
        ];
        let rows = self
            .retrying(|pool| pool.users(&self.queries.user, username, flags))
            .await
            .map_err(|e| match e {
                StoreError::Query(
                    e @ (sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)),
                ) => StoreError::BadRow {
                    username: username.to_owned(),
                    reason: e.to_string(),
                },
                other => other,
            })?;
        let wanted = match self.schema.username_match {
            UsernameMatch::Exact => username.to_owned(),
            UsernameMatch::Iexact => username.to_lowercase(),
        };
        let mut matching = rows
            .into_iter()
            .filter(|row| match self.schema.username_match {
                UsernameMatch::Exact => row.username == wanted,
                UsernameMatch::Iexact => row.username.to_lowercase() == wanted,
            });
        let first = matching.next();
        if matching.next().is_some() {
            return Err(StoreError::DuplicateUser(username.to_owned()));
        }
        Ok(first)
    }

    /// The names of the user's groups, sorted (empty when the model has no groups).
    pub async fn group_names(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let Some(sql) = &self.queries.groups else {
            return Ok(Vec::new());
        };
        let mut names = self.retrying(|pool| pool.texts(sql, user_id)).await?;
        names.sort();
        Ok(names)
    }

    /// The user's permissions as `app_label.codename`, direct and through
    /// groups, sorted and without duplicates. Says nothing about superusers.
    pub async fn permissions(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let Some(sql) = &self.queries.permissions else {
            return Ok(Vec::new());
        };
        let binds = Queries::permission_binds(&self.schema);
        let pairs = self
            .retrying(|pool| pool.pairs(sql, user_id, binds))
            .await?;
        let mut names: Vec<String> = pairs
            .into_iter()
            .map(|(app, codename)| format!("{app}.{codename}"))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// How many connections the pool holds now, and how many of them are in use.
    pub fn pool_use(&self) -> PoolUse {
        let (open, idle) = self.pool.pool().usage();
        PoolUse {
            open,
            busy: open.saturating_sub(u32::try_from(idle).unwrap_or(u32::MAX)),
            max: self.max_connections,
        }
    }

    /// Is the database reachable, readable, and still Django's? Runs the
    /// real user query for a username no user can have (the empty one), so
    /// a missing or locked user table is a failure too, not only a dead
    /// server.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.find_user("").await.map(drop)
    }

    /// Runs a read; if the connection broke under it, once more on a fresh one.
    async fn retrying<T, F, Fut>(&self, read: F) -> Result<T, StoreError>
    where
        F: Fn(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let bounded = |pool: Pool| async {
            tokio::time::timeout(self.query_timeout, read(pool))
                .await
                .map_err(|_| StoreError::Timeout(self.query_timeout))
        };
        match bounded(self.pool.pool()).await? {
            Err(e) if is_broken_connection(&e) => {
                tracing::warn!(database = %self.url, "database connection broke ({e}); retrying once");
                Ok(bounded(self.pool.pool()).await??)
            }
            other => Ok(other?),
        }
    }

    /// Start-up check: every query prepares and runs on this database.
    async fn check_queries(&self) -> Result<(), StoreError> {
        let not_django = |what: &str, e: sqlx::Error| StoreError::NotDjango {
            database: self.url.to_string(),
            problem: format!("the {what} query fails: {e}"),
        };
        self.find_user("").await.map_err(|e| match e {
            StoreError::Query(e) => not_django("user", e),
            other => other,
        })?;
        self.group_names(0).await.map_err(|e| match e {
            StoreError::Query(e) => not_django("groups", e),
            other => other,
        })?;
        self.permissions(0).await.map_err(|e| match e {
            StoreError::Query(e) => not_django("permissions", e),
            other => other,
        })?;
        Ok(())
    }
}

/// The first line of the password file.
fn read_password_file(path: &Path) -> Result<zeroize::Zeroizing<String>, StoreError> {
    let text =
        zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| StoreError::Open {
            database: path.display().to_string(),
            reason: format!("cannot read database_password_file: {e}"),
        })?);
    Ok(zeroize::Zeroizing::new(
        text.lines().next().unwrap_or_default().to_owned(),
    ))
}
