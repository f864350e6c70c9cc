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

/// A PostgreSQL cluster of one test's own (`.ci/postgres start` in a temp dir), for a test
/// that stops and restarts its database: the shared cluster of the other tests stays up.
/// Dropping it removes the cluster (`.ci/postgres remove`: stopped, files deleted), so a
/// failing test leaves no server running.
pub struct OwnCluster {
    dir: tempfile::TempDir,
    url: String,
    ca_file: Option<PathBuf>,
}

impl OwnCluster {
    /// Starts a fresh cluster (initialised by the script).
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("socfed-own-pg").tempdir()?;
        let mut this = Self {
            dir,
            url: String::new(),
            ca_file: None,
        };
        let exports = this.script("start")?;
        for line in exports.lines() {
            let Some((key, value)) = line
                .strip_prefix("export ")
                .and_then(|rest| rest.split_once('='))
            else {
                continue;
            };
            let value = value.trim_matches('\'').to_string();
            match key {
                "SOCFED_TEST_PG_URL" => this.url = value,
                "SOCFED_TEST_PG_CA" => this.ca_file = Some(PathBuf::from(value)),
                _ => {}
            }
        }
        anyhow::ensure!(!this.url.is_empty(), "no URL from .ci/postgres start");
        Ok(this)
    }

    /// A schema of its own in this cluster (dropped with it).
    pub fn database(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            ca_file: self.ca_file.clone(),
            schema: format!("own_{}_{:08x}", std::process::id(), rand_u32()),
        }
    }

    /// `.ci/postgres stop`: fast shutdown, returns once the server has gone.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.script("stop").map(drop)
    }

    /// `.ci/postgres start` again on the same files (same port, password and data).
    pub fn start_again(&self) -> anyhow::Result<()> {
        self.script("start").map(drop)
    }

    /// Runs `.ci/postgres CMD DIR` and returns its stdout.
    fn script(&self, cmd: &str) -> anyhow::Result<String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/postgres");
        let out = std::process::Command::new(script)
            .args([cmd, &self.dir.path().display().to_string()])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            ".ci/postgres {cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.script("remove");
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
