use std::fmt;
use std::path::PathBuf;

use crate::StoreError;

/// A database location in the URL forms Django users write with dj-database-url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite:///abs/path/db.sqlite3` or `sqlite://relative/path/db.sqlite3`
    /// (relative to the working directory).
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
}

impl DatabaseUrl {
    /// Parses a database URL.
    pub fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            StoreError::InvalidUrl(format!(
                "{url:?} has no scheme; expected e.g. sqlite:///srv/mysite/db.sqlite3"
            ))
        })?;
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                if rest.is_empty() || rest.contains(['?', '#']) {
                    return Err(StoreError::InvalidUrl(format!(
                        "{url:?}: expected sqlite:///absolute/path or sqlite://relative/path, without query"
                    )));
                }
                Ok(DatabaseUrl::Sqlite {
                    path: PathBuf::from(rest),
                })
            }
            other => Err(StoreError::InvalidUrl(format!(
                "unsupported database scheme {other:?} in {url:?}; supported: sqlite"
            ))),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_relative_sqlite_paths() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///srv/db.sqlite3").unwrap(),
            DatabaseUrl::Sqlite {
                path: PathBuf::from("/srv/db.sqlite3")
            }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://examples/demo/db.sqlite3").unwrap(),
            DatabaseUrl::Sqlite {
                path: PathBuf::from("examples/demo/db.sqlite3")
            }
        );
        assert_eq!(
            DatabaseUrl::parse("SQLITE:///x").unwrap().to_string(),
            "sqlite:///x"
        );
    }

    #[test]
    fn bad_urls_are_errors() {
        for bad in [
            "",
            "db.sqlite3",
            "sqlite://",
            "ftp://x",
            "sqlite:///x?mode=rw",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?}");
        }
    }
}
