//! The PostgreSQL database of the tests that need one: [`test_database`] reads the cluster
//! `.ci/postgres start DIR` set up (`SOCFED_TEST_PG_URL`, `SOCFED_TEST_PG_CA`) and gives each
//! test a fresh schema of its own, dropped when the [`TestDatabase`] is. Without the variables
//! the test skips (saying so on stderr), unless `SOCFED_REQUIRE_PG=1` (CI, where `.ci/run`
//! started the cluster): then a missing or unreachable database fails the test.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use socfed_runtime::store_kit::pg::{PgConfig, PgStore};

/// Set to `1` where the PostgreSQL tests must run.
pub const REQUIRE_VAR: &str = "SOCFED_REQUIRE_PG";

/// One test's schema in the test database.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    ca_file: Option<PathBuf>,
    schema: String,
}

/// The test database, or `None` (skip) where none is set up and none is required.
pub fn test_database() -> Option<TestDatabase> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
    let Ok(url) = std::env::var("SOCFED_TEST_PG_URL") else {
        assert!(
            !required,
            "{REQUIRE_VAR}=1 but SOCFED_TEST_PG_URL is not set (start a cluster: .ci/postgres start DIR)"
        );
        eprintln!("skipped: no PostgreSQL (SOCFED_TEST_PG_URL unset; see .ci/postgres)");
        return None;
    };
    let db = TestDatabase {
        url,
        ca_file: std::env::var_os("SOCFED_TEST_PG_CA").map(PathBuf::from),
        schema: format!(
            "t_{}_{}_{:08x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand_u32()
        ),
    };
    // Reachable now, or a failure that says so (not a confusing one deep inside the test).
    if let Err(e) = PgStore::connect(&db.config(), &[]) {
        panic!(
            "the test PostgreSQL ({}) is unreachable: {e}",
            db.config().redacted_url()
        );
    }
    Some(db)
}

/// A per-test random part, so schemas of test processes run one after another never meet.
fn rand_u32() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}

impl TestDatabase {
    /// `postgres://…` with the password and `sslmode`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA file that verifies the server (for `sslmode=verify-full`).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// This test's schema (unique per test).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A store configuration on this test's schema.
    pub fn config(&self) -> PgConfig {
        let mut c = PgConfig::new(self.url.clone());
        c.ca_file = self.ca_file.clone();
        c.schema = self.schema.clone();
        c.connect_timeout = Duration::from_secs(3);
        c
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: a schema left behind only takes space in a throwaway cluster.
        if let Ok(store) = PgStore::connect(&self.config(), &[]) {
            let _ = store.execute(
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
                &[],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_test_gets_its_own_schema_dropped_at_the_end() {
        let (Some(a), Some(b)) = (test_database(), test_database()) else {
            return;
        };
        assert_ne!(a.schema(), b.schema());
        let store = PgStore::connect(&a.config(), &[]).expect("connect");
        store.tree("t").insert(b"k", b"v").expect("insert");
        let schema = a.schema().to_owned();
        drop(a);
        let rows = store
            .query(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .expect("query");
        assert_eq!(rows[0].get::<_, i64>(0), 0, "the schema was dropped");
    }
}
