//! Tests of the PostgreSQL backend's store: units, the lock, conflicts, notifications,
//! migrations, TLS, unreachable and restarted databases, calls from inside tokio runtimes.
//! They need a real PostgreSQL (`.ci/postgres start DIR` prints the environment): without
//! `SOCFED_TEST_PG_URL` they skip, unless `SOCFED_REQUIRE_PG=1`, where they fail.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::*;

/// The test database: a fresh schema per test, dropped at the end (best effort).
pub(super) struct TestDb {
    pub url: String,
    pub ca: Option<PathBuf>,
    pub schema: String,
    first: OnceLock<PgStore>,
}

/// The database from the environment, or `None` (skip) where it is not set up and not required.
pub(super) fn test_db() -> Option<TestDb> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let required = required();
    let Ok(url) = std::env::var("SOCFED_TEST_PG_URL") else {
        assert!(
            !required,
            "SOCFED_REQUIRE_PG=1 but SOCFED_TEST_PG_URL is not set (start one: .ci/postgres start DIR)"
        );
        eprintln!("skipped: no PostgreSQL (SOCFED_TEST_PG_URL unset; see .ci/postgres)");
        return None;
    };
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let db = TestDb {
        url,
        ca: std::env::var_os("SOCFED_TEST_PG_CA").map(PathBuf::from),
        schema: format!("t_{}_{n}_{:08x}", std::process::id(), rand::random::<u32>()),
        first: OnceLock::new(),
    };
    if let Err(e) = PgStore::connect(&db.config(), &[]) {
        panic!(
            "the test PostgreSQL is unreachable ({}): {e}",
            db.config().redacted_url()
        );
    }
    Some(db)
}

impl TestDb {
    pub fn config(&self) -> PgConfig {
        let mut c = PgConfig::new(self.url.clone());
        c.ca_file = self.ca.clone();
        c.schema = self.schema.clone();
        c.connect_timeout = Duration::from_secs(3);
        c
    }

    pub fn store(&self, migrations: &[Migration]) -> PgStore {
        let store = PgStore::connect(&self.config(), migrations).expect("connect");
        let _ = self.first.set(store.clone());
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(store) = self.first.get() {
            let _ = store.execute(
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
                &[],
            );
        }
    }
}

pub(super) fn wait_event(
    rx: &mut tokio::sync::broadcast::Receiver<PgEvent>,
    within: Duration,
) -> Option<PgEvent> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match rx.try_recv() {
            Ok(e) => return Some(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    None
}

#[test]
fn units_are_serialised_by_the_lock_and_read_their_own_writes() {
    let Some(db) = test_db() else { return };
    let store = db.store(&[]);
    let mut first = store.begin_unit().expect("begin");
    first
        .apply(&[("t".into(), b"k".to_vec(), Some(b"1".to_vec()))])
        .expect("apply");
    assert_eq!(
        first.get("t", b"k").expect("get").as_deref(),
        Some(&b"1"[..])
    );
    let other = store.clone();
    let second = std::thread::spawn(move || {
        let mut unit = other.begin_unit().expect("begin second");
        let seen = unit.get("t", b"k").expect("get");
        unit.apply(&[("t".into(), b"k".to_vec(), Some(b"2".to_vec()))])
            .expect("apply");
        unit.commit().expect("commit");
        seen
    });
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        !second.is_finished(),
        "the second unit ran while the first held the lock"
    );
    first.commit().expect("commit");
    let seen = second.join().expect("second unit");
    assert_eq!(
        seen.as_deref(),
        Some(&b"1"[..]),
        "the second unit saw the first's commit"
    );
    assert_eq!(
        store.tree("t").get(b"k").expect("get").as_deref(),
        Some(&b"2"[..])
    );
}

#[test]
fn a_dropped_unit_is_rolled_back_and_a_failed_statement_ends_it() {
    let Some(db) = test_db() else { return };
    let store = db.store(&[]);
    let mut unit = store.begin_unit().expect("begin");
    unit.apply(&[
        ("t".into(), b"a".to_vec(), Some(b"1".to_vec())),
        ("t".into(), b"b".to_vec(), Some(b"1".to_vec())),
        ("t".into(), b"b".to_vec(), None),
    ])
    .expect("apply");
    drop(unit);
    // The next unit gets the lock (the rollback released it) and sees nothing.
    let mut unit = store.begin_unit().expect("begin after drop");
    assert_eq!(unit.get("t", b"a").expect("get"), None);
    assert!(matches!(
        unit.execute("SELECT nonsense FROM nowhere", &[]),
        Err(PgError::Database(_))
    ));
    assert!(unit.commit().is_err(), "a failed unit cannot commit");
    assert!(store.tree("t").is_empty().expect("empty"));
}

const CALLER: &[Migration] = &[Migration {
    version: 100,
    name: "names",
    sql: "CREATE TABLE names (name text PRIMARY KEY, n int NOT NULL)",
}];

#[test]
fn a_unique_violation_is_a_conflict() {
    let Some(db) = test_db() else { return };
    let store = db.store(CALLER);
    store
        .execute("INSERT INTO names VALUES ($1, $2)", &[&"x", &1i32])
        .expect("insert");
    let again = store.execute("INSERT INTO names VALUES ($1, $2)", &[&"x", &2i32]);
    assert!(matches!(again, Err(PgError::Conflict(_))), "{again:?}");
    let mut unit = store.begin_unit().expect("begin");
    let dup = unit.execute("INSERT INTO names VALUES ($1, $2)", &[&"x", &3i32]);
    assert!(matches!(dup, Err(PgError::Conflict(_))), "{dup:?}");
    let rows = store
        .query("SELECT n FROM names WHERE name = $1", &[&"x"])
        .expect("query");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, i32>(0), 1);
}

#[test]
fn notifications_arrive_only_when_the_unit_commits() {
    let Some(db) = test_db() else { return };
    let store = db.store(&[]);
    let channel = format!("{}_events", db.schema);
    let mut rx = store.subscribe(&[&channel]);
    let mut unit = store.begin_unit().expect("begin");
    unit.notify(&channel, "rolled back").expect("notify");
    drop(unit);
    let mut unit = store.begin_unit().expect("begin");
    unit.notify(&channel, "42").expect("notify");
    assert_eq!(
        wait_event(&mut rx, Duration::from_millis(300)),
        None,
        "delivered before commit"
    );
    unit.commit().expect("commit");
    assert_eq!(
        wait_event(&mut rx, Duration::from_secs(5)),
        Some(PgEvent::Notification {
            channel: channel.clone(),
            payload: "42".into()
        })
    );
    assert_eq!(wait_event(&mut rx, Duration::from_millis(200)), None);
}

#[test]
fn migrations_run_once_when_replicas_start_together_and_a_newer_database_is_refused() {
    let Some(db) = test_db() else { return };
    let config = db.config();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let config = config.clone();
            std::thread::spawn(move || PgStore::connect(&config, CALLER).map(drop))
        })
        .collect();
    for s in starts {
        s.join().expect("thread").expect("connect");
    }
    let store = db.store(CALLER);
    let rows = store
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .expect("query");
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, vec![1, 100]);
    store
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES (101, 'future')",
            &[],
        )
        .expect("record");
    match PgStore::connect(&config, CALLER) {
        Err(PgError::Database(m)) => assert!(m.contains("newer than this build"), "{m}"),
        other => panic!("a newer database was accepted: {other:?}"),
    }
    let bad = [Migration {
        version: 7,
        name: "low",
        sql: "SELECT 1",
    }];
    assert!(
        PgStore::connect(&config, &bad).is_err(),
        "a caller version below 100"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    let Some(db) = test_db() else { return };
    inside_a_runtime(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    let Some(db) = test_db() else { return };
    inside_a_runtime(&db);
}

fn inside_a_runtime(db: &TestDb) {
    let store = PgStore::connect(&db.config(), &[]).expect("connect");
    let tree = store.tree("t");
    tree.insert(b"k", b"v").expect("insert");
    assert_eq!(tree.iter().count(), 1);
    let mut rx = store.subscribe(&["inside"]);
    let mut unit = store.begin_unit().expect("begin");
    unit.notify("inside", "x").expect("notify");
    unit.commit().expect("commit");
    assert!(wait_event(&mut rx, Duration::from_secs(5)).is_some());
    store
        .execute(&format!("DROP SCHEMA {} CASCADE", db.schema), &[])
        .expect("drop");
    // The last handle dropped inside the async context: no panic.
    drop((tree, rx, store));
}

pub(super) fn required() -> bool {
    std::env::var("SOCFED_REQUIRE_PG").is_ok_and(|v| v == "1")
}

#[test]
fn a_unit_waiting_past_the_statement_timeout_is_refused_as_unavailable() {
    let Some(db) = test_db() else { return };
    let mut config = db.config();
    config.statement_timeout = Duration::from_millis(300);
    let store = db.store(&[]);
    let impatient = PgStore::connect(&config, &[]).expect("connect");
    let holder = store.begin_unit().expect("begin");
    let started = Instant::now();
    let waited = impatient.begin_unit().map(drop);
    assert!(matches!(waited, Err(PgError::Unavailable(_))), "{waited:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    holder.commit().expect("commit");
    impatient
        .begin_unit()
        .expect("the lock is free again")
        .commit()
        .expect("commit");
}

#[test]
fn the_unit_holding_the_lock_reads_through_the_pool_while_others_wait() {
    let Some(db) = test_db() else { return };
    let mut config = db.config();
    config.pool_size = 2;
    db.store(&[]);
    let store = PgStore::connect(&config, &[]).expect("connect");
    store.tree("t").insert(b"k", b"v").expect("insert");
    let mut holder = store.begin_unit().expect("begin");
    let waiting: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || store.begin_unit().and_then(PgUnit::commit))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Every other connection may be taken by waiting units; this read still gets one.
    let reader = {
        let tree = store.tree("t");
        std::thread::spawn(move || tree.get(b"k"))
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        reader.is_finished(),
        "the lock holder's read waited for a connection"
    );
    assert_eq!(
        reader.join().expect("reader").expect("get").as_deref(),
        Some(&b"v"[..])
    );
    holder
        .apply(&[("t".into(), b"k".to_vec(), None)])
        .expect("apply");
    holder.commit().expect("commit");
    for w in waiting {
        w.join().expect("thread").expect("unit");
    }
}
