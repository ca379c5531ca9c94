//! Counters of the daemon's decisions, and the Prometheus text exposition
//! of everything djauth measures (names listed in docs/configuration.md).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, PoisonError};

use djauth_policy::Site;
use djauth_policy::stats::{KDF_BUCKETS, Snapshot};

/// Decisions by site, then by (front door, result).
type DecisionCounts = BTreeMap<String, BTreeMap<(&'static str, &'static str), u64>>;

/// What the front doors have counted.
#[derive(Default)]
struct Counters {
    decisions: DecisionCounts,
    database_errors: BTreeMap<String, u64>,
}

static COUNTERS: Mutex<Option<Counters>> = Mutex::new(None);

fn update(change: impl FnOnce(&mut Counters)) {
    let mut counters = COUNTERS.lock().unwrap_or_else(PoisonError::into_inner);
    change(counters.get_or_insert_with(Counters::default));
}

/// Applies `change` to the entry for `key`, allocating the key only the first time.
fn with_entry<V: Default>(map: &mut BTreeMap<String, V>, key: &str, change: impl FnOnce(&mut V)) {
    match map.get_mut(key) {
        Some(value) => change(value),
        None => change(map.entry(key.to_owned()).or_default()),
    }
}

/// Counts one decision of `door` for `site` (`result`: `granted`, a denial
/// reason, or `error`).
pub fn count_decision(door: &'static str, site: &str, result: &'static str) {
    update(|c| {
        with_entry(&mut c.decisions, site, |counts| {
            *counts.entry((door, result)).or_default() += 1;
        });
    });
}

/// Counts one failed read of `site`'s database.
pub fn count_database_error(site: &str) {
    update(|c| with_entry(&mut c.database_errors, site, |count| *count += 1));
}

/// The whole exposition, in Prometheus text format 0.0.4.
pub fn render(sites: &[Site]) -> String {
    let mut out = String::new();
    {
        let counters = COUNTERS.lock().unwrap_or_else(PoisonError::into_inner);
        let empty = Counters::default();
        let counters = counters.as_ref().unwrap_or(&empty);
        decisions(&mut out, &counters.decisions);
        header(
            &mut out,
            "djauth_database_errors_total",
            "counter",
            "Failed database reads (decisions answered with an error, failed readiness probes).",
        );
        for site in sites {
            let errors = counters.database_errors.get(site.name()).copied();
            sample(
                &mut out,
                "djauth_database_errors_total",
                &[("site", site.name())],
                errors.unwrap_or(0),
            );
        }
    }
    pools(&mut out, sites);
    policy(&mut out, sites, &djauth_policy::stats::snapshot());
    out
}

fn decisions(out: &mut String, decisions: &DecisionCounts) {
    header(
        out,
        "djauth_decisions_total",
        "counter",
        "Answers given, by front door, site and result (granted, a denial reason, or error).",
    );
    for (site, counts) in decisions {
        for ((door, result), count) in counts {
            let labels = [
                ("door", *door),
                ("site", site.as_str()),
                ("result", *result),
            ];
            sample(out, "djauth_decisions_total", &labels, *count);
        }
    }
}

fn pools(out: &mut String, sites: &[Site]) {
    header(
        out,
        "djauth_db_pool_connections",
        "gauge",
        "Database connections open, by site and state (busy running a query, or idle).",
    );
    let uses: Vec<_> = sites
        .iter()
        .map(|s| (s.name(), s.store().pool_use()))
        .collect();
    for (site, pool) in &uses {
        let idle = pool.open - pool.busy;
        for (state, value) in [("busy", pool.busy), ("idle", idle)] {
            let labels = [("site", *site), ("state", state)];
            sample(out, "djauth_db_pool_connections", &labels, value);
        }
    }
    header(
        out,
        "djauth_db_pool_max_connections",
        "gauge",
        "The most connections each site's pool may open (pool_max_connections).",
    );
    for (site, pool) in &uses {
        sample(
            out,
            "djauth_db_pool_max_connections",
            &[("site", *site)],
            pool.max,
        );
    }
}

fn policy(out: &mut String, sites: &[Site], stats: &Snapshot) {
    for (name, help, hits) in [
        (
            "djauth_credential_cache_hits_total",
            "Password checks answered from a remembered verification, by site.",
            true,
        ),
        (
            "djauth_credential_cache_misses_total",
            "Password checks that had to compute the password hash, by site.",
            false,
        ),
    ] {
        header(out, name, "counter", help);
        for site in sites {
            let counts = stats.cache.get(site.name()).copied().unwrap_or_default();
            let value = if hits { counts.hits } else { counts.misses };
            sample(out, name, &[("site", site.name())], value);
        }
    }
    let name = "djauth_kdf_seconds";
    header(
        out,
        name,
        "histogram",
        "Time to compute one password hash, by algorithm (dummy: the equal-cost hash for unknown and inactive users).",
    );
    for (algorithm, times) in &stats.kdf {
        let mut cumulative = 0;
        for (bound, count) in KDF_BUCKETS.iter().zip(times.buckets) {
            cumulative += count;
            let le = bound.to_string();
            let labels = [("algorithm", *algorithm), ("le", le.as_str())];
            sample(out, &format!("{name}_bucket"), &labels, cumulative);
        }
        let labels = [("algorithm", *algorithm), ("le", "+Inf")];
        sample(out, &format!("{name}_bucket"), &labels, times.count());
        let labels = [("algorithm", *algorithm)];
        sample(out, &format!("{name}_sum"), &labels, times.sum);
        sample(out, &format!("{name}_count"), &labels, times.count());
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, label)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{key}=\"{}\"", escape_label(label));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value as the text format wants it: `\`, `"` and newlines escaped.
fn escape_label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_cannot_break_the_format() {
        let mut out = String::new();
        sample(&mut out, "m", &[("site", "a\"b\\c\nd")], 3);
        assert_eq!(out, "m{site=\"a\\\"b\\\\c\\nd\"} 3\n");
    }

    #[test]
    fn decisions_are_counted_by_door_site_and_result() {
        count_decision("http", "metrics-test", "granted");
        count_decision("http", "metrics-test", "granted");
        count_decision("fastcgi", "metrics-test", "wrong-password");
        let text = render(&[]);
        assert!(text.contains(
            "djauth_decisions_total{door=\"http\",site=\"metrics-test\",result=\"granted\"} 2\n"
        ));
        assert!(text.contains(
            "djauth_decisions_total{door=\"fastcgi\",site=\"metrics-test\",result=\"wrong-password\"} 1\n"
        ));
        assert!(text.contains("# TYPE djauth_kdf_seconds histogram\n"));
    }
}
