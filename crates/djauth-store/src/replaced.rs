//! Noticing that a SQLite file was replaced (`mv new.sqlite3 db.sqlite3`, a
//! restored backup): open connections would keep reading the old, deleted
//! file, so the pool is rebuilt on the new one.

use std::sync::{Arc, Mutex, PoisonError};

use crate::DatabaseUrl;
use crate::pool::{Pool, PoolConfig};

/// Device and inode: which file a path names.
type FileId = (u64, u64);

/// Which file a path names right now.
fn file_id(path: &std::path::Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The current pool, and for SQLite the file it was opened on.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    state: Arc<Mutex<(Pool, Option<FileId>)>>,
    url: DatabaseUrl,
    config: PoolConfig,
}

impl Current {
    /// Wraps the pool opened on `url` with `config`.
    pub(crate) fn new(pool: Pool, url: DatabaseUrl, config: PoolConfig) -> Current {
        let id = sqlite_path(&url).and_then(file_id);
        Current {
            state: Arc::new(Mutex::new((pool, id))),
            url,
            config,
        }
    }

    /// The pool to use now (one `stat` per call for SQLite).
    pub(crate) fn pool(&self) -> Pool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(path) = sqlite_path(&self.url) {
            let now = file_id(path);
            if now.is_some()
                && now != state.1
                && let Ok(fresh) = Pool::open(&self.url, None, &self.config)
            {
                tracing::info!(file = %path.display(), "the SQLite file was replaced; reading the new one");
                *state = (fresh, now);
            }
        }
        state.0.clone()
    }
}

fn sqlite_path(url: &DatabaseUrl) -> Option<&std::path::Path> {
    match url {
        DatabaseUrl::Sqlite { path } => Some(path),
        _ => None,
    }
}
