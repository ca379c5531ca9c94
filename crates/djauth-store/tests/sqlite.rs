//! The SQLite store against the demo database that real Django created.

use std::path::PathBuf;

use djauth_store::{DatabaseUrl, Store, StoreError, StoreOptions};

fn demo_db() -> DatabaseUrl {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/db.sqlite3");
    assert!(
        path.is_file(),
        "demo database missing at {}",
        path.display()
    );
    DatabaseUrl::Sqlite { path }
}

async fn open_demo() -> Store {
    Store::open(&demo_db(), &StoreOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn finds_users_exactly() {
    let store = open_demo().await;
    let alice = store.find_user("alice").await.unwrap().unwrap();
    assert_eq!(alice.username, "alice");
    assert!(alice.is_active);
    assert!(
        alice
            .password
            .unwrap()
            .starts_with("pbkdf2_sha256$1000000$")
    );
    assert_eq!(
        store.group_names(alice.id).await.unwrap(),
        ["secret-agents"]
    );

    let carol = store.find_user("carol").await.unwrap().unwrap();
    assert!(!carol.is_active);

    let frank = store.find_user("frank").await.unwrap().unwrap();
    assert!(frank.is_staff && frank.is_superuser);

    assert!(store.find_user("józef").await.unwrap().is_some());
    for miss in ["ALICE", "alice ", "ghost", ""] {
        assert_eq!(store.find_user(miss).await.unwrap(), None, "{miss:?}");
    }
}

#[tokio::test]
async fn missing_file_is_a_clear_error() {
    let url = DatabaseUrl::Sqlite {
        path: "/nonexistent/db.sqlite3".into(),
    };
    let err = Store::open(&url, &StoreOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/db.sqlite3"), "{err}");
}

#[tokio::test]
async fn a_database_without_django_tables_names_the_missing_table() {
    let dir = std::env::temp_dir().join(format!("djauth-store-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not-django.sqlite3");
    let _ = std::fs::remove_file(&path);
    {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE auth_user (id INTEGER PRIMARY KEY, username TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let url = DatabaseUrl::Sqlite { path: path.clone() };
    let err = Store::open(&url, &StoreOptions::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::NotDjango { .. }), "{text}");
    assert!(text.contains("no column password"), "{text}");
    assert!(text.contains("not-django.sqlite3"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn permissions_come_as_app_label_dot_codename() {
    let store = open_demo().await;
    let frank = store.find_user("frank").await.unwrap().unwrap();
    // frank's permission comes through the group staff-team.
    assert_eq!(
        store.permissions(frank.id).await.unwrap(),
        ["auth.view_user"]
    );
    let alice = store.find_user("alice").await.unwrap().unwrap();
    assert!(store.permissions(alice.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_default_mapping_is_django_auth_user() {
    let store = open_demo().await;
    assert_eq!(
        store.schema().describe(),
        "table auth_user (id id, username username, match exact), is_active is_active, \
         is_staff is_staff, is_superuser is_superuser, groups auth_user_groups(user_id, group_id), \
         user_permissions auth_user_user_permissions(user_id, permission_id)"
    );
}

/// Replacing the file (`mv new.sqlite3 db.sqlite3`, a restored backup) is
/// noticed at the next read, instead of the pool reading the deleted file.
#[tokio::test]
async fn a_replaced_file_is_read_afresh() {
    use sqlx::ConnectOptions;
    let dir = std::env::temp_dir().join(format!("djauth-store-replace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let live = dir.join("db.sqlite3");
    let staged = dir.join("db.new");
    std::fs::copy(demo_db_path(), &live).unwrap();
    let url = DatabaseUrl::Sqlite { path: live.clone() };
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    assert!(store.find_user("frank").await.unwrap().unwrap().is_active);

    std::fs::copy(&live, &staged).unwrap();
    {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&staged)
            .connect()
            .await
            .unwrap();
        sqlx::query("UPDATE auth_user SET is_active = 0 WHERE username = 'frank'")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    std::fs::rename(&staged, &live).unwrap();
    for _ in 0..3 {
        assert!(!store.find_user("frank").await.unwrap().unwrap().is_active);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stored value that is not UTF-8 (a BLOB, or TEXT holding other bytes)
/// is a bad row, never a lossy copy: "salt\xff" read as "salt\u{fffd}"
/// would let the password of a hash made with that salt in.
#[tokio::test]
async fn stored_values_that_are_not_utf8_are_bad_rows() {
    use sqlx::ConnectOptions;
    let dir = std::env::temp_dir().join(format!("djauth-store-bytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("db.sqlite3");
    std::fs::copy(demo_db_path(), &db).unwrap();
    let bad = b"pbkdf2_sha256$1000$salt\xff$x".to_vec();
    {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .connect()
            .await
            .unwrap();
        for sql in [
            "UPDATE auth_user SET password = ? WHERE username = 'alice'",
            "UPDATE auth_user SET password = CAST(? AS TEXT) WHERE username = 'bob'",
        ] {
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(bad.clone())
                .execute(&mut conn)
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1);
        }
    }
    let url = DatabaseUrl::Sqlite { path: db };
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    for user in ["alice", "bob"] {
        let found = store.find_user(user).await;
        assert!(
            matches!(found, Err(StoreError::BadRow { .. })),
            "{user}: {found:?}"
        );
    }
    assert!(store.find_user("frank").await.unwrap().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn demo_db_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/db.sqlite3")
}
