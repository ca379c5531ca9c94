/// Everything that can go wrong while reading a Django database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL could not be understood.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database cannot be opened or reached.
    #[error("cannot open {database}: {reason}")]
    Open {
        /// The database (never with its password).
        database: String,
        /// Why.
        reason: String,
    },
    /// The database opened, but it is not a Django database djauth can use
    /// with this configuration.
    #[error("{database} is not a usable Django database: {problem}")]
    NotDjango {
        /// The database (never with its password).
        database: String,
        /// What is missing, naming the table or column and the setting to change.
        problem: String,
    },
    /// A query failed (database down, locked, connection lost ...).
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A user row holds a value of the wrong type (e.g. a BLOB password or a
    /// text `is_active`): a data problem, answered as a refusal.
    #[error("a user row for {username:?} cannot be read: {reason}")]
    BadRow {
        /// The username looked up.
        username: String,
        /// The decoding error.
        reason: String,
    },
    /// A read took longer than the query timeout (a lock, an overloaded server).
    #[error("database read took longer than {0:?}")]
    Timeout(std::time::Duration),
    /// More than one row matches this username.
    #[error("more than one user row matches the username {0:?}")]
    DuplicateUser(String),
}
