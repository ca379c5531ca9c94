//! The bounded pool that runs password-hash computations.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

use crate::PolicyError;

/// Runs CPU-heavy password hashing off the async workers, at most `size` at a time.
///
/// Bounding concurrency also bounds memory: an argon2 check at Django's
/// defaults holds 100 MiB while it runs.
#[derive(Debug, Clone)]
pub struct KdfPool {
    permits: Arc<Semaphore>,
    size: usize,
    runs: Arc<AtomicU64>,
}

impl KdfPool {
    /// A pool running at most `size` computations at once (at least one).
    pub fn new(size: usize) -> KdfPool {
        let size = size.max(1);
        KdfPool {
            permits: Arc::new(Semaphore::new(size)),
            size,
            runs: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A pool sized to the machine's cores.
    pub fn per_core() -> KdfPool {
        KdfPool::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// How many computations may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many computations have started since the pool was made.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Runs `work` on a blocking thread once a slot is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, PolicyError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PolicyError::Kdf(e.to_string()))?;
        let runs = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        // One line per hash computed (DJAUTH_LOG=djauth_policy::kdf=debug),
        // so the cache's effect can be counted from outside the daemon.
        tracing::debug!(runs, "password hash computed");
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let result = work();
            crate::stats::record_kdf(&result, started.elapsed());
            drop(permit);
            result
        })
        .await
        .map_err(|e| PolicyError::Kdf(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_runs_more_than_size_at_once() {
        let pool = KdfPool::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (pool, running, peak) = (pool.clone(), running.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
