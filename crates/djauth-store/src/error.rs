use std::path::PathBuf;

/// Everything that can go wrong while reading a Django database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL could not be understood.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The SQLite file does not exist or cannot be opened.
    #[error("cannot open SQLite database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: sqlx::Error,
    },
    /// The database opened, but it is not a Django database djauth can use.
    #[error("{database} is not a usable Django database: {problem}")]
    NotDjango {
        /// The database (file or URL without password).
        database: String,
        /// What is missing, naming the table or column.
        problem: String,
    },
    /// A query failed (database down, locked, connection lost ...).
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// More than one row has exactly this username.
    #[error("more than one user row has the exact username {0:?}")]
    DuplicateUser(String),
}
