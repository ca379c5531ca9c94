//! Counters the daemon exports as metrics: password-hash time by algorithm,
//! and the credential cache's hits and misses by site.
//!
//! They are process-wide (like the log) so that the code that decides never
//! has to carry a metrics handle; [`snapshot`] reads them all at once.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use djauth_hashers::Outcome;

/// Upper bounds, in seconds, of the KDF time histogram's buckets.
pub const KDF_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Times of the password hashes computed with one algorithm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KdfTimes {
    /// How many took at most each bound of [`KDF_BUCKETS`] (not cumulative).
    pub buckets: [u64; KDF_BUCKETS.len()],
    /// How many took longer than the last bound.
    pub over: u64,
    /// Total time, in seconds.
    pub sum: f64,
}

impl KdfTimes {
    /// How many hashes were timed.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum::<u64>() + self.over
    }

    fn add(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        match KDF_BUCKETS.iter().position(|bound| seconds <= *bound) {
            Some(i) => self.buckets[i] += 1,
            None => self.over += 1,
        }
        self.sum += seconds;
    }
}

/// A site's credential-cache lookups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// A remembered verification answered: no hash computed.
    pub hits: u64,
    /// Nothing usable was remembered: the password had to be hashed.
    pub misses: u64,
}

/// Everything counted so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Hash times by algorithm name (`dummy` for the equal-cost hash of
    /// unknown and inactive users, `none` when no algorithm was identified).
    pub kdf: BTreeMap<&'static str, KdfTimes>,
    /// Credential-cache lookups by site name.
    pub cache: BTreeMap<String, CacheCounts>,
}

static COUNTERS: Mutex<Option<Snapshot>> = Mutex::new(None);

fn update(change: impl FnOnce(&mut Snapshot)) {
    let mut counters = COUNTERS.lock().unwrap_or_else(PoisonError::into_inner);
    change(counters.get_or_insert_with(Snapshot::default));
}

/// A copy of every counter.
pub fn snapshot() -> Snapshot {
    COUNTERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .unwrap_or_default()
}

/// Counts one credential-cache lookup of `site`.
pub fn count_credential_lookup(site: &str, hit: bool) {
    let bump = |counts: &mut CacheCounts| {
        if hit {
            counts.hits += 1;
        } else {
            counts.misses += 1;
        }
    };
    update(|s| match s.cache.get_mut(site) {
        Some(counts) => bump(counts),
        None => bump(s.cache.entry(site.to_owned()).or_default()),
    });
}

/// Records how long one computation of the KDF pool took. What it returned
/// names the algorithm: a password check returns its [`Outcome`], the dummy
/// hash returns `()`; anything else is counted as `other`.
pub(crate) fn record_kdf(result: &dyn Any, took: Duration) {
    let algorithm = if let Some(outcome) = result.downcast_ref::<Outcome>() {
        outcome.algorithm().map_or("none", |a| a.name())
    } else if result.is::<()>() {
        "dummy"
    } else {
        "other"
    };
    update(|s| s.kdf.entry(algorithm).or_default().add(took));
}

#[cfg(test)]
mod tests {
    use super::*;
    use djauth_hashers::Algorithm;

    #[test]
    fn hash_times_land_in_their_bucket_by_algorithm() {
        let before = snapshot();
        record_kdf(
            &Outcome::Mismatch(Algorithm::Bcrypt),
            Duration::from_millis(3),
        );
        record_kdf(&Outcome::Match(Algorithm::Bcrypt), Duration::from_secs(9));
        record_kdf(&(), Duration::from_micros(100));
        let after = snapshot();
        let bcrypt = &after.kdf["bcrypt"];
        let old = before.kdf.get("bcrypt").cloned().unwrap_or_default();
        assert_eq!(bcrypt.count() - old.count(), 2);
        assert_eq!(
            bcrypt.buckets[2] - old.buckets[2],
            1,
            "3 ms is in the 5 ms bucket"
        );
        assert_eq!(bcrypt.over - old.over, 1, "9 s is over the last bound");
        assert!(after.kdf["dummy"].count() >= 1);
    }

    #[test]
    fn cache_lookups_are_counted_per_site() {
        count_credential_lookup("stats-test-site", true);
        count_credential_lookup("stats-test-site", false);
        count_credential_lookup("stats-test-site", false);
        assert_eq!(
            snapshot().cache["stats-test-site"],
            CacheCounts { hits: 1, misses: 2 }
        );
    }
}
