//! The verified-credential cache (case C17) on a copy of the demo database
//! that real Django made: one hash per new credential, none for repeats,
//! and every change in Django honoured within the freshness window.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use djauth_hashers::{Algorithm, HasherConfig, Hashers};
use djauth_policy::{CacheConfig, Decision, Denial, KdfPool, RequirementSet, Site};
use djauth_store::{DatabaseUrl, Store, StoreOptions};
use sqlx::ConnectOptions;

struct Copy(PathBuf);
impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap_or(&self.0));
    }
}

async fn site(test: &str, cache: CacheConfig) -> (Site, Copy) {
    site_with(test, cache, HasherConfig::default()).await
}

async fn site_with(test: &str, cache: CacheConfig, hashers: HasherConfig) -> (Site, Copy) {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/db.sqlite3");
    let dir = std::env::temp_dir().join(format!("djauth-cache-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("db.sqlite3");
    std::fs::copy(demo, &db).unwrap();
    let url = DatabaseUrl::Sqlite { path: db.clone() };
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    let hashers = Arc::new(Hashers::new(hashers).unwrap());
    let site = Site::new("demo", store, hashers, KdfPool::new(2)).with_cache(cache);
    (site, Copy(db))
}

async fn execute(db: &Path, sql: &str) {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
}

fn valid_user() -> RequirementSet {
    RequirementSet::valid_user()
}

fn granted(decision: &Decision) -> bool {
    matches!(decision, Decision::Granted(_))
}

/// Asks `count` times in a row, asserting every answer is a grant.
async fn grant_times(site: &Site, username: &[u8], password: &[u8], count: usize) {
    for _ in 0..count {
        let decision = site.authenticate(username, password, &valid_user()).await;
        assert!(granted(&decision.unwrap()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_identical_credentials_run_one_hash() {
    let (site, _db) = site("single-flight", CacheConfig::default()).await;
    let site = Arc::new(site);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let site = site.clone();
        tasks.push(tokio::spawn(async move {
            site.authenticate(b"alice", b"alice-pw", &valid_user())
                .await
        }));
    }
    for task in tasks {
        assert!(granted(&task.await.unwrap().unwrap()));
    }
    assert_eq!(site.kdf().runs(), 1);
    // 200 more requests with the same credentials: still one hash in all.
    grant_times(&site, b"alice", b"alice-pw", 200).await;
    assert_eq!(site.kdf().runs(), 1);
}

/// Concurrent identical attempts share one hash whoever the user is: a real
/// user's wrong password, an unknown user and an inactive one alike, so
/// sending the same attempt many times at once tells them apart no better
/// than sending it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_refusals_share_one_hash_for_every_kind_of_user() {
    let (site, _db) = site("refusals-shared", CacheConfig::default()).await;
    let site = Arc::new(site);
    let attempts: [(&[u8], &[u8], Decision); 3] = [
        (
            b"alice",
            b"not-alice-pw",
            Decision::Denied(Denial::WrongPassword),
        ),
        (b"ghost", b"ghost-pw", Decision::NotFound),
        (b"carol", b"carol-pw", Decision::Denied(Denial::Inactive)),
    ];
    for (n, (user, password, expected)) in attempts.into_iter().enumerate() {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let site = site.clone();
            tasks.push(tokio::spawn(async move {
                site.authenticate(user, password, &valid_user()).await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), expected);
        }
        assert_eq!(site.kdf().runs(), n as u64 + 1, "{expected:?}");
    }
}

/// A lookup is kept for the freshness window only for names of a real
/// length: a 2,000-byte name is read again every time, so a flood of huge
/// names cannot grow the cache (a short name's "not found" is kept).
#[tokio::test]
async fn long_usernames_are_read_every_time() {
    let (site, db) = site("long-names", CacheConfig::default()).await;
    let long = "l".repeat(2000);
    for (name, password) in [(long.as_str(), "bob-pw"), ("newname", "erin-pw")] {
        let decision = site
            .authenticate(name.as_bytes(), password.as_bytes(), &valid_user())
            .await;
        assert_eq!(decision.unwrap(), Decision::NotFound, "{name:.20}");
    }
    execute(
        &db.0,
        &format!("UPDATE auth_user SET username = '{long}' WHERE username = 'bob'"),
    )
    .await;
    execute(
        &db.0,
        "UPDATE auth_user SET username = 'newname' WHERE username = 'erin'",
    )
    .await;
    let decision = site
        .authenticate(long.as_bytes(), b"bob-pw", &valid_user())
        .await;
    assert!(granted(&decision.unwrap()));
    let decision = site
        .authenticate(b"newname", b"erin-pw", &valid_user())
        .await;
    assert_eq!(decision.unwrap(), Decision::NotFound);
}

/// A stored username with control characters (no front door can carry it)
/// is refused before its password is checked: the right password costs the
/// dummy hash every time, as a wrong one does, and is never remembered.
#[tokio::test]
async fn a_username_with_control_characters_is_refused_at_equal_cost() {
    let (site, db) = site("control-name", CacheConfig::default()).await;
    execute(
        &db.0,
        "UPDATE auth_user SET username = 'er' || char(9) || 'in' WHERE username = 'erin'",
    )
    .await;
    for (n, password) in [&b"erin-pw"[..], b"erin-pw", b"wrong-pw"]
        .into_iter()
        .enumerate()
    {
        let decision = site.authenticate(b"er\tin", password, &valid_user()).await;
        assert_eq!(decision.unwrap(), Decision::Denied(Denial::BadUserRow));
        assert_eq!(site.kdf().runs(), n as u64 + 1);
    }
    let decision = site.authorize(Some(b"er\tin"), &valid_user()).await;
    assert_eq!(decision.unwrap(), Decision::Denied(Denial::BadUserRow));
}

#[tokio::test]
async fn wrong_passwords_are_never_cached_and_always_pay() {
    let (site, _db) = site("wrong", CacheConfig::default()).await;
    assert!(granted(
        &site
            .authenticate(b"alice", b"alice-pw", &valid_user())
            .await
            .unwrap()
    ));
    for n in 1..=3 {
        let decision = site
            .authenticate(b"alice", b"alice-pw!", &valid_user())
            .await
            .unwrap();
        assert_eq!(decision, Decision::Denied(Denial::WrongPassword));
        assert_eq!(site.kdf().runs(), 1 + n);
    }
    // The right password is still known.
    assert!(granted(
        &site
            .authenticate(b"alice", b"alice-pw", &valid_user())
            .await
            .unwrap()
    ));
    assert_eq!(site.kdf().runs(), 4);
}

/// Case C17's trigger as written, with every change read at once
/// (`cache_freshness = 0`): 200 requests with the right password run one
/// hash; a password change and then a deactivation are refused at the next
/// request; 200 wrong passwords run 200 hashes. alice's stored hash is a
/// cheap MD5 one (an enabled, not preferred, hasher: no harden_runtime), so
/// the counts are about the cache, not the cost.
#[tokio::test]
async fn c17_trigger_one_hash_for_200_right_passwords_and_one_for_every_wrong_one() {
    // Django's MD5PasswordHasher for "alice-pw" and for "new-pw", salt "c17salt".
    const ALICE_PW: &str = "md5$c17salt$dc3514b957a8969d81c2e0387307e45d";
    const NEW_PW: &str = "md5$c17salt$84da39a81b129c71acbbb2fce5540a3f";
    let set_password =
        |hash: &str| format!("UPDATE auth_user SET password = '{hash}' WHERE username = 'alice'");
    let mut hashers = HasherConfig::default();
    hashers.enabled.push(Algorithm::Md5);
    let immediate = CacheConfig {
        freshness: Duration::ZERO,
        ..CacheConfig::default()
    };
    let (site, db) = site_with("c17", immediate, hashers).await;
    execute(&db.0, &set_password(ALICE_PW)).await;

    grant_times(&site, b"alice", b"alice-pw", 200).await;
    assert_eq!(site.kdf().runs(), 1);

    execute(&db.0, &set_password(NEW_PW)).await;
    let decision = site
        .authenticate(b"alice", b"alice-pw", &valid_user())
        .await;
    assert_eq!(decision.unwrap(), Decision::Denied(Denial::WrongPassword));
    let decision = site.authenticate(b"alice", b"new-pw", &valid_user()).await;
    assert!(granted(&decision.unwrap()));

    execute(
        &db.0,
        "UPDATE auth_user SET is_active = 0 WHERE username = 'alice'",
    )
    .await;
    let decision = site.authenticate(b"alice", b"new-pw", &valid_user()).await;
    assert_eq!(decision.unwrap(), Decision::Denied(Denial::Inactive));
    execute(
        &db.0,
        "UPDATE auth_user SET is_active = 1 WHERE username = 'alice'",
    )
    .await;

    let before = site.kdf().runs();
    for n in 1..=200 {
        let decision = site
            .authenticate(b"alice", b"wrong-pw", &valid_user())
            .await;
        assert_eq!(decision.unwrap(), Decision::Denied(Denial::WrongPassword));
        assert_eq!(site.kdf().runs(), before + n);
    }
}

#[tokio::test]
async fn with_no_freshness_window_changes_apply_to_the_next_request() {
    let immediate = CacheConfig {
        freshness: Duration::ZERO,
        ..CacheConfig::default()
    };
    let (site, db) = site("immediate", immediate).await;
    let agents: RequirementSet = "group:secret-agents".parse().unwrap();
    assert!(granted(
        &site
            .authenticate(b"alice", b"alice-pw", &agents)
            .await
            .unwrap()
    ));
    // Group removal.
    execute(&db.0, "DELETE FROM auth_user_groups WHERE user_id = 1").await;
    assert_eq!(
        site.authenticate(b"alice", b"alice-pw", &agents)
            .await
            .unwrap(),
        Decision::Denied(Denial::RequirementNotMet)
    );
    // Password change: alice now has erin's hash.
    execute(
        &db.0,
        "UPDATE auth_user SET password = (SELECT password FROM auth_user WHERE username = 'erin') WHERE username = 'alice'",
    )
    .await;
    let before = site.kdf().runs();
    assert_eq!(
        site.authenticate(b"alice", b"alice-pw", &valid_user())
            .await
            .unwrap(),
        Decision::Denied(Denial::WrongPassword)
    );
    assert_eq!(
        site.kdf().runs(),
        before + 1,
        "the old verification was not reused"
    );
    assert!(granted(
        &site
            .authenticate(b"alice", b"erin-pw", &valid_user())
            .await
            .unwrap()
    ));
    // Deactivation.
    execute(
        &db.0,
        "UPDATE auth_user SET is_active = 0 WHERE username = 'alice'",
    )
    .await;
    assert_eq!(
        site.authenticate(b"alice", b"erin-pw", &valid_user())
            .await
            .unwrap(),
        Decision::Denied(Denial::Inactive)
    );
}

#[tokio::test]
async fn within_a_freshness_window_changes_apply_once_it_has_passed() {
    let window = Duration::from_millis(300);
    let config = CacheConfig {
        freshness: window,
        ..CacheConfig::default()
    };
    let (site, db) = site("window", config).await;
    let agents: RequirementSet = "group:secret-agents".parse().unwrap();
    // Every credential is verified and cached first.
    let grants = [
        (&b"alice"[..], &b"alice-pw"[..], &agents),
        (b"bob", b"bob-pw", &valid_user()),
        (b"erin", b"erin-pw", &valid_user()),
    ];
    for (user, password, requirement) in grants {
        let decision = site
            .authenticate(user, password, requirement)
            .await
            .unwrap();
        assert!(granted(&decision), "{decision:?}");
    }
    let runs = site.kdf().runs();
    // What Django's admin would do: a group removed, an account
    // deactivated, a password changed (erin now has frank's hash).
    execute(&db.0, "DELETE FROM auth_user_groups WHERE user_id = 1").await;
    execute(
        &db.0,
        "UPDATE auth_user SET is_active = 0 WHERE username = 'bob'",
    )
    .await;
    execute(
        &db.0,
        "UPDATE auth_user SET password = (SELECT password FROM auth_user WHERE username = 'frank') \
         WHERE username = 'erin'",
    )
    .await;
    tokio::time::sleep(window + Duration::from_millis(200)).await;
    assert_eq!(
        site.authenticate(b"alice", b"alice-pw", &agents)
            .await
            .unwrap(),
        Decision::Denied(Denial::RequirementNotMet)
    );
    assert_eq!(
        site.authenticate(b"bob", b"bob-pw", &valid_user())
            .await
            .unwrap(),
        Decision::Denied(Denial::Inactive)
    );
    assert_eq!(
        site.authenticate(b"erin", b"erin-pw", &valid_user())
            .await
            .unwrap(),
        Decision::Denied(Denial::WrongPassword)
    );
    assert!(granted(
        &site
            .authenticate(b"erin", b"frank-pw", &valid_user())
            .await
            .unwrap()
    ));
    // alice's remembered verification still matched her unchanged hash;
    // bob's refusal cost the equal-cost dummy hash; erin's old password and
    // then her new one needed one hash each.
    assert_eq!(site.kdf().runs(), runs + 3);
}

fn fresh_for(decision: &Decision) -> Duration {
    match decision {
        Decision::Granted(identity) => identity.fresh_for,
        other => panic!("expected a grant, got {other:?}"),
    }
}

#[tokio::test]
async fn a_grant_may_be_reused_only_until_its_oldest_data_leaves_the_window() {
    // Long enough for the first request's password hash in a debug build.
    let window = Duration::from_secs(30);
    let config = CacheConfig {
        freshness: window,
        ..CacheConfig::default()
    };
    let (windowed, _db) = site("fresh-for", config).await;
    let first = windowed
        .authenticate(b"alice", b"alice-pw", &valid_user())
        .await
        .unwrap();
    let first = fresh_for(&first);
    assert!(first < window && first > window / 2, "{first:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The row and groups read for the first request are reused: less is left.
    let later = windowed
        .authenticate(b"alice", b"alice-pw", &valid_user())
        .await
        .unwrap();
    let later = fresh_for(&later);
    assert!(
        later <= first - Duration::from_millis(200),
        "{first:?} then {later:?}"
    );

    let (always, _db2) = site(
        "fresh-for-zero",
        CacheConfig {
            freshness: Duration::ZERO,
            ..CacheConfig::default()
        },
    )
    .await;
    let decision = always
        .authenticate(b"alice", b"alice-pw", &valid_user())
        .await
        .unwrap();
    assert_eq!(fresh_for(&decision), Duration::ZERO);
}
