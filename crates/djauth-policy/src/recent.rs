//! Small, bounded in-memory maps for the caches: [`Recent`] keeps the most
//! recently used entries, [`Fresh`] also forgets entries older than a window,
//! and [`Flights`] lets concurrent callers with the same key share one result.
//!
//! They replace a general-purpose cache crate whose bookkeeping cost about
//! 600 bytes per entry: here an entry costs its key and value plus the
//! hash table's own slack.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// Locks a mutex, even one a panicking thread left poisoned: every map here
/// is valid after any partial update (a lost or doubled entry at worst).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Two generations of entries.
struct Generations<K, V> {
    young: HashMap<K, V>,
    old: HashMap<K, V>,
    /// When the young generation started.
    young_since: Instant,
}

/// A map of at most `capacity` entries that forgets the least recently used
/// ones first, approximately: new and used entries go to a young generation;
/// when it holds half the capacity (or, with a turnover time, when it is
/// that old), the old generation is dropped and the young one becomes old.
/// Every operation is O(1) but that turnover.
pub(crate) struct Recent<K, V> {
    half: usize,
    turnover: Option<Duration>,
    maps: Mutex<Generations<K, V>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Recent<K, V> {
    /// An empty map for at most `capacity` entries (none if zero).
    pub(crate) fn new(capacity: u64) -> Recent<K, V> {
        Recent {
            half: usize::try_from(capacity / 2).unwrap_or(usize::MAX),
            turnover: None,
            maps: Mutex::new(Generations {
                young: HashMap::new(),
                old: HashMap::new(),
                young_since: Instant::now(),
            }),
        }
    }

    /// The same map, whose generations also turn over once the young one is
    /// `turnover` old: an entry stays at most two turnovers unless used.
    pub(crate) fn with_turnover(self, turnover: Duration) -> Recent<K, V> {
        Recent {
            turnover: Some(turnover),
            ..self
        }
    }

    /// The value for `key`, marking it recently used.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let mut maps = lock(&self.maps);
        if let Some(value) = maps.young.get(key) {
            return Some(value.clone());
        }
        let value = maps.old.remove(key)?;
        self.put(&mut maps, key.clone(), value.clone());
        Some(value)
    }

    /// Keeps `value` for `key`, replacing any earlier one.
    pub(crate) fn insert(&self, key: K, value: V) {
        let mut maps = lock(&self.maps);
        maps.old.remove(&key);
        self.put(&mut maps, key, value);
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: &K) {
        let mut maps = lock(&self.maps);
        maps.young.remove(key);
        maps.old.remove(key);
    }

    /// How many entries are kept.
    pub(crate) fn len(&self) -> usize {
        let maps = lock(&self.maps);
        maps.young.len() + maps.old.len()
    }

    fn put(&self, maps: &mut Generations<K, V>, key: K, value: V) {
        if self.half == 0 {
            return;
        }
        let aged = self
            .turnover
            .is_some_and(|turnover| maps.young_since.elapsed() >= turnover);
        if aged {
            maps.old = std::mem::take(&mut maps.young);
            maps.young_since = Instant::now();
        }
        maps.young.insert(key, value);
        if maps.young.len() >= self.half {
            maps.old = std::mem::take(&mut maps.young);
            maps.young_since = Instant::now();
        }
    }
}

/// A [`Recent`] map whose entries also expire `window` after they were
/// stored; expired entries leave in bulk, at most two windows later.
pub(crate) struct Fresh<K, V> {
    window: Duration,
    entries: Recent<K, (Instant, V)>,
}

impl<K: Hash + Eq + Clone, V: Clone> Fresh<K, V> {
    /// An empty map for at most `capacity` entries younger than `window`.
    pub(crate) fn new(window: Duration, capacity: u64) -> Fresh<K, V> {
        Fresh {
            window,
            entries: Recent::new(capacity).with_turnover(window),
        }
    }

    /// The value for `key` and when it was stored, if it is younger than the window.
    pub(crate) fn get(&self, key: &K) -> Option<(V, Instant)> {
        let (stored, value) = self.entries.get(key)?;
        if stored.elapsed() < self.window {
            Some((value, stored))
        } else {
            self.entries.remove(key);
            None
        }
    }

    /// Keeps `value` for `key`, stored at `at` (when it was read).
    pub(crate) fn insert(&self, key: K, value: V, at: Instant) {
        self.entries.insert(key, (at, value));
    }
}

/// Work in progress by key: the first caller of [`Flights::share`] for a key
/// runs the work; callers that arrive while it runs wait for its result
/// instead of repeating it. If the first caller is cancelled, a waiting one
/// takes over the work.
pub(crate) struct Flights<K, T> {
    running: Mutex<HashMap<K, Flight<T>>>,
}

/// One key's work in progress and how many callers wait for it.
struct Flight<T> {
    cell: Arc<OnceCell<T>>,
    waiting: usize,
}

impl<K: Hash + Eq + Clone, T: Clone> Flights<K, T> {
    /// No work in progress.
    pub(crate) fn new() -> Flights<K, T> {
        Flights {
            running: Mutex::new(HashMap::new()),
        }
    }

    /// The result of `work` for `key`, run once for all concurrent callers.
    /// The key's entry goes when the work is done, or when the last caller
    /// waiting for it is cancelled (a client that hangs up, a deadline), so
    /// no entry outlives its callers.
    pub(crate) async fn share<F>(&self, key: K, work: F) -> T
    where
        F: Future<Output = T>,
    {
        let cell = {
            let mut running = lock(&self.running);
            let flight = running.entry(key.clone()).or_insert_with(|| Flight {
                cell: Arc::new(OnceCell::new()),
                waiting: 0,
            });
            flight.waiting += 1;
            flight.cell.clone()
        };
        let _waiting = Waiting {
            flights: self,
            key,
            cell: cell.clone(),
        };
        cell.get_or_init(|| work).await.clone()
    }

    /// Keys with work in progress.
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.running).len()
    }
}

/// One caller of [`Flights::share`]. Dropped on return or cancellation, it
/// removes the key's entry once the work is done or nobody waits any more.
struct Waiting<'a, K: Hash + Eq, T> {
    flights: &'a Flights<K, T>,
    key: K,
    cell: Arc<OnceCell<T>>,
}

impl<K: Hash + Eq, T> Drop for Waiting<'_, K, T> {
    fn drop(&mut self) {
        let mut running = lock(&self.flights.running);
        let Some(flight) = running.get_mut(&self.key) else {
            return;
        };
        // A later flight for the same key is not this caller's to count.
        if !Arc::ptr_eq(&flight.cell, &self.cell) {
            return;
        }
        flight.waiting = flight.waiting.saturating_sub(1);
        if flight.waiting == 0 || flight.cell.initialized() {
            running.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_at_most_its_capacity_and_the_entries_in_use() {
        let map = Recent::new(100);
        for i in 0..1000u32 {
            map.insert(i, i * 2);
            // Entry 0 is used all the time, so it survives every turnover.
            assert_eq!(map.get(&0), Some(0));
            assert!(map.len() <= 100, "{} entries after {i}", map.len());
        }
        assert_eq!(map.get(&999), Some(1998));
        assert_eq!(map.get(&1), None);
        map.remove(&0);
        assert_eq!(map.get(&0), None);
    }

    #[test]
    fn recent_of_capacity_zero_keeps_nothing() {
        let map = Recent::new(0);
        map.insert("a", 1);
        assert_eq!(map.get(&"a"), None);
        assert_eq!(map.len(), 0);
    }

    #[test]
    fn fresh_forgets_entries_older_than_the_window() {
        let map = Fresh::new(Duration::from_millis(50), 10);
        let at = Instant::now();
        map.insert(1, "one", at);
        assert_eq!(map.get(&1), Some(("one", at)));
        map.insert(2, "two", at - Duration::from_millis(60));
        assert_eq!(map.get(&2), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(map.get(&1), None);
    }

    #[test]
    fn fresh_drops_expired_entries_in_bulk() {
        let map = Fresh::new(Duration::from_millis(30), 1000);
        for i in 0..10 {
            map.insert(i, i, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(40));
        map.insert(100, 100, Instant::now());
        // The first ten are now the old generation; one more turnover drops them.
        assert_eq!(map.entries.len(), 11);
        std::thread::sleep(Duration::from_millis(40));
        map.insert(101, 101, Instant::now());
        assert_eq!(map.entries.len(), 2);
        assert!(map.get(&101).is_some());
        assert_eq!(map.get(&0), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flights_run_concurrent_work_once_and_later_work_again() {
        let flights = Arc::new(Flights::new());
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (flights, runs, gate) = (flights.clone(), runs.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                flights
                    .share("k", async {
                        runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        gate.notified().await;
                        7
                    })
                    .await
            }));
        }
        // Let every task join the flight before the work may finish.
        tokio::time::sleep(Duration::from_millis(100)).await;
        gate.notify_one();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 7);
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(flights.len(), 0);
        assert_eq!(flights.share("k", async { 8 }).await, 8);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_callers_leave_no_entry_behind() {
        let flights = Arc::new(Flights::<u32, u32>::new());
        // A caller alone, cancelled while its work runs (a client that hung up).
        let alone = tokio::time::timeout(
            Duration::from_millis(20),
            flights.share(1, std::future::pending()),
        )
        .await;
        assert!(alone.is_err());
        assert_eq!(flights.len(), 0);

        // Many callers of one key, all cancelled: the last one removes it.
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let flights = flights.clone();
            tasks.push(tokio::spawn(async move {
                flights.share(2, std::future::pending()).await
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(flights.len(), 1);
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            assert!(task.await.unwrap_err().is_cancelled());
        }
        assert_eq!(flights.len(), 0);

        // The first caller cancelled, a waiting one takes over and finishes.
        let first = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.share(3, std::future::pending()).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.share(3, async { 9 }).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        first.abort();
        assert_eq!(second.await.unwrap(), 9);
        assert_eq!(flights.len(), 0);
    }
}
