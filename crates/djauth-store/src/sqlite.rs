//! The SQLite backend.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Row};

use crate::{StoreError, UserRow, UserSchema};

/// How long a query waits for Django's writers to release a lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A read-only pool on one SQLite file.
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    user_query: String,
    groups_query: String,
}

impl SqliteStore {
    /// Opens `path` read-only and checks Django's tables.
    pub(crate) async fn open(path: &Path, schema: UserSchema) -> Result<SqliteStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Open {
                path: path.to_owned(),
                source: sqlx::Error::Configuration("no such file".into()),
            });
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        let store = SqliteStore {
            pool,
            user_query: schema.user_query(),
            groups_query: schema.groups_query(),
        };
        store.check_schema(path, &schema).await?;
        Ok(store)
    }

    /// Start-up check: the tables exist and the queries prepare.
    async fn check_schema(&self, path: &Path, schema: &UserSchema) -> Result<(), StoreError> {
        let not_django = |problem: String| StoreError::NotDjango {
            database: display(path),
            problem,
        };
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| not_django(format!("cannot read the schema ({e})")))?;
        for table in schema.required_tables() {
            if !tables.iter().any(|t| t == table) {
                return Err(not_django(format!(
                    "table {table} is missing (has `manage.py migrate` run for django.contrib.auth?)"
                )));
            }
        }
        for query in [&self.user_query, &self.groups_query] {
            let probe = format!("SELECT * FROM ({query}) LIMIT 0");
            sqlx::query(AssertSqlSafe(probe))
                .bind("")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| not_django(format!("query {query:?} fails: {e}")))?;
        }
        Ok(())
    }

    /// Rows whose username column equals `username` under the column's collation.
    pub(crate) async fn users_named(&self, username: &str) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(self.user_query.as_str()))
            .bind(username)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(UserRow {
                    id: row.try_get(0)?,
                    username: row.try_get(1)?,
                    password: row.try_get(2)?,
                    is_active: row.try_get::<Option<bool>, _>(3)?.unwrap_or(false),
                    is_staff: row.try_get::<Option<bool>, _>(4)?.unwrap_or(false),
                    is_superuser: row.try_get::<Option<bool>, _>(5)?.unwrap_or(false),
                })
            })
            .collect()
    }

    /// Group names of the user with primary key `user_id`.
    pub(crate) async fn group_names(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar(AssertSqlSafe(self.groups_query.as_str()))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

fn display(path: &Path) -> String {
    PathBuf::from(path).display().to_string()
}
