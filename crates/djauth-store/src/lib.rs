//! Reads Django's users and groups from the project's database.
//!
//! This is the only djauth crate that speaks SQL. It opens the database
//! read-only, checks at start-up that the Django tables are there, and answers
//! three questions: which row has this exact username, which groups does a
//! user belong to, and is the database reachable.

mod error;
mod schema;
mod sqlite;
mod url;

pub use error::StoreError;
pub use schema::UserSchema;
pub use url::DatabaseUrl;

/// One row of the user table, as djauth needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// The stored username, exactly as in the database.
    pub username: String,
    /// The stored password hash; `None` for a NULL column.
    pub password: Option<String>,
    /// `is_active`; a NULL column counts as inactive (Python truthiness).
    pub is_active: bool,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
}

/// A read-only connection pool to one Django database.
#[derive(Debug, Clone)]
pub struct Store {
    backend: sqlite::SqliteStore,
    url: DatabaseUrl,
}

impl Store {
    /// Opens the database read-only and checks that it holds Django's auth tables.
    pub async fn open(url: &DatabaseUrl, schema: UserSchema) -> Result<Store, StoreError> {
        let backend = match url {
            DatabaseUrl::Sqlite { path } => sqlite::SqliteStore::open(path, schema).await?,
        };
        Ok(Store {
            backend,
            url: url.clone(),
        })
    }

    /// The database this store reads, for log lines (never contains a password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Finds the user whose username is byte-for-byte `username`.
    ///
    /// The SQL uses `=` like Django, but the result is compared again in Rust so
    /// that a case- or accent-insensitive collation cannot widen the match.
    /// Two rows with the same exact username are a data error.
    pub async fn find_user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let rows = self.backend.users_named(username).await?;
        let mut exact = rows.into_iter().filter(|row| row.username == username);
        let first = exact.next();
        if exact.next().is_some() {
            return Err(StoreError::DuplicateUser(username.to_owned()));
        }
        Ok(first)
    }

    /// The names of the groups the user with this primary key belongs to, sorted.
    pub async fn group_names(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let mut names = self.backend.group_names(user_id).await?;
        names.sort();
        Ok(names)
    }
}
