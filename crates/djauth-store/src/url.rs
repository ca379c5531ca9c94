//! Database locations, in the URL forms Django users write with dj-database-url.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::StoreError;

/// Which kind of database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
    /// MySQL or MariaDB server.
    MySql,
}

/// A parsed database URL. Its `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite:///abs/path/db.sqlite3` or `sqlite://relative/path/db.sqlite3`
    /// (relative to the working directory).
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// `postgres://` or `postgresql://` (sqlx/libpq URL syntax: `?sslmode=`,
    /// `?host=/socket/dir`, a percent-encoded socket directory as host).
    Postgres {
        /// The URL as written.
        url: String,
    },
    /// `mysql://` (also `mariadb://`); `?socket=/path` for a Unix socket, `?ssl-mode=`.
    MySql {
        /// The URL as written.
        url: String,
    },
}

impl DatabaseUrl {
    /// Parses a database URL.
    pub fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            StoreError::InvalidUrl(format!(
                "{url:?} is not a database URL; expected e.g. sqlite:///srv/mysite/db.sqlite3 \
                 (three slashes for an absolute path) or postgres://user@host/db"
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
            "postgres" | "postgresql" | "pgsql" => {
                let normalised = format!("postgres://{rest}");
                PgConnectOptions::from_str(&normalised)
                    .map_err(|e| StoreError::InvalidUrl(format!("PostgreSQL URL: {e}")))?;
                Ok(DatabaseUrl::Postgres { url: normalised })
            }
            "mysql" | "mysql2" | "mariadb" => {
                let normalised = format!("mysql://{rest}");
                MySqlConnectOptions::from_str(&normalised)
                    .map_err(|e| StoreError::InvalidUrl(format!("MySQL URL: {e}")))?;
                Ok(DatabaseUrl::MySql { url: normalised })
            }
            other => Err(StoreError::InvalidUrl(format!(
                "unsupported database scheme {other:?}; supported: sqlite, postgres, postgresql, mysql"
            ))),
        }
    }

    /// The kind of database.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
            DatabaseUrl::MySql { .. } => Backend::MySql,
        }
    }
}

/// Removes the password from `scheme://user:password@host/...`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } | DatabaseUrl::MySql { url } => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
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
    fn server_urls_in_dj_database_url_forms() {
        for url in [
            "postgres://u:p@db.example:5432/site",
            "postgresql://u@127.0.0.1/site?sslmode=require",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/site",
            "postgres:///site?host=/var/run/postgresql",
        ] {
            let parsed = DatabaseUrl::parse(url).unwrap();
            assert_eq!(parsed.backend(), Backend::Postgres, "{url}");
        }
        for url in [
            "mysql://u:p@127.0.0.1:3306/site",
            "mariadb://u@localhost/site?socket=/run/mysqld/mysqld.sock",
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().backend(), Backend::MySql);
        }
    }

    #[test]
    fn display_never_shows_the_password() {
        let url =
            DatabaseUrl::parse("postgres://django:s3cret@db:5432/site?sslmode=require").unwrap();
        let shown = url.to_string();
        assert_eq!(shown, "postgres://django:***@db:5432/site?sslmode=require");
        assert!(!format!("{url:?}").contains("s3cret"));
        let url = DatabaseUrl::parse("mysql://ro:p%40ss@db/site").unwrap();
        assert!(!url.to_string().contains("p%40ss"), "{url}");
        assert_eq!(
            DatabaseUrl::parse("mysql://ro@db/site")
                .unwrap()
                .to_string(),
            "mysql://ro@db/site"
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
            "postgres://u@host:notaport/db",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?}");
        }
    }
}
