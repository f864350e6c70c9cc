//! `socfed-load --store postgres`: the hub under load keeps its store in PostgreSQL, in a fresh
//! schema made for the run and dropped at its end, and the run measures the database's own
//! ceiling in the same run ([`ceiling`]): raw batched inserts of the rows the hub writes per
//! escalation (its kv rows, one `escalation_journal` row and one `escalation_keys` row), in
//! transactions of the hub's unit size, each one statement that commits (the WAL flushed as the
//! hub's unit COMMIT flushes it), over one connection with the same TLS and the kit's statement
//! path (`PgStore::execute`), into a second fresh schema with the hub's tables.

use socfed_runtime::store_kit::pg::{PgConfig, PgStore};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Escalations per unit of the hub's ingest writer (`ITEMS_PER_TRANSACTION` in
/// `sirt-hub/src/ingest/mod.rs`): one PostgreSQL transaction each.
pub const HUB_UNIT: usize = 64;

/// Bytes of a kv row after an escalation's first (its record): an index entry.
const INDEX_BYTES: usize = 40;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// The hub's embedded sled store (the default).
    #[default]
    Sled,
    /// PostgreSQL: a fresh schema per run, dropped at its end.
    Postgres,
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreArgs {
    /// Where the hub keeps its store.
    #[arg(long, value_enum, default_value_t = StoreKind::Sled)]
    pub store: StoreKind,
    /// With `--store postgres`: a file holding the database URL
    /// (default: the URL in `SOCFED_TEST_PG_URL`, as `.ci/postgres start` prints it).
    #[arg(long)]
    pub database_url_file: Option<PathBuf>,
    /// With `--store postgres`: the CA the database's certificate chains to
    /// (default: `SOCFED_TEST_PG_CA`).
    #[arg(long)]
    pub database_ca: Option<PathBuf>,
    /// With `--store postgres`: the schema prefix; the run uses `PREFIX_<pid>_<time>` and
    /// `..._ceiling`, both dropped at the end.
    #[arg(long, default_value = "load")]
    pub schema: String,
}

/// The run's database: where the hub's schema and the ceiling's live.
#[derive(Debug)]
pub struct PgTarget {
    url_file: PathBuf,
    config: PgConfig,
}

impl StoreArgs {
    /// The run's database with `--store postgres`, `None` with sled.
    pub fn postgres(&self, dir: &Path) -> anyhow::Result<Option<PgTarget>> {
        if self.store != StoreKind::Postgres {
            return Ok(None);
        }
        let url = match &self.database_url_file {
            Some(file) => std::fs::read_to_string(file)?.trim().to_string(),
            None => std::env::var("SOCFED_TEST_PG_URL").map_err(|_| {
                anyhow::anyhow!(
                    "--store postgres needs --database-url-file or SOCFED_TEST_PG_URL (.ci/postgres start DIR)"
                )
            })?,
        };
        let ca = self
            .database_ca
            .clone()
            .or_else(|| std::env::var_os("SOCFED_TEST_PG_CA").map(PathBuf::from));
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let mut config = PgConfig::new(url.clone());
        config.ca_file = ca;
        config.schema = format!("{}_{}_{stamp}", self.schema, std::process::id());
        config.connect_timeout = Duration::from_secs(5);
        // The hub reads the URL from a file (it holds the password): one only its owner reads.
        let url_file = dir.join("database-url");
        socfed_runtime::store_files::private_dir(dir)?;
        std::fs::write(&url_file, &url)?;
        set_owner_only(&url_file)?;
        Ok(Some(PgTarget { url_file, config }))
    }
}

#[cfg(unix)]
fn set_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_: &Path) -> std::io::Result<()> {
    Ok(())
}

impl PgTarget {
    /// The hub config's `[store]` section for this run's schema.
    pub fn hub_section(&self) -> String {
        let mut section = format!(
            "[store]\nkind = \"postgres\"\nurl_file = {:?}\nschema = \"{}\"\n",
            self.url_file, self.config.schema
        );
        if let Some(ca) = &self.config.ca_file {
            section.push_str(&format!("ca_file = {ca:?}\n"));
        }
        section
    }

    /// The connection settings of the run's second schema (the ceiling's).
    fn ceiling_config(&self) -> PgConfig {
        let mut config = self.config.clone();
        config.schema = format!("{}_ceiling", self.config.schema);
        config
    }

    /// The ceiling's schema, with the hub's tables (the kit's `kv` and the hub's migrations).
    fn connect(&self) -> anyhow::Result<PgStore> {
        Ok(PgStore::connect(
            &self.ceiling_config(),
            sirt_hub::store::postgres::MIGRATIONS,
        )?)
    }

    /// The server settings that decide what a COMMIT costs, as the run's summary states them.
    pub fn server_settings(&self) -> anyhow::Result<serde_json::Value> {
        let store = self.connect()?;
        let mut out = serde_json::Map::new();
        for name in [
            "server_version",
            "fsync",
            "synchronous_commit",
            "wal_sync_method",
            "shared_buffers",
        ] {
            let rows = store.query(&format!("SHOW {name}"), &[])?;
            let value: String = rows.first().map(|r| r.get(0)).unwrap_or_default();
            out.insert(name.into(), value.into());
        }
        Ok(out.into())
    }

    /// Drops both schemas of the run (best effort: a schema left behind only takes space).
    pub fn drop_schemas(&self) {
        if let Ok(store) = self.connect() {
            for schema in [&self.config.schema, &self.ceiling_config().schema] {
                let _ = store.execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"), &[]);
            }
        }
    }

    /// The raw ceiling (module doc): `escalations` escalations' rows, `kv_rows` kv rows each,
    /// the first of `bytes` and the rest index-sized, in transactions of [`HUB_UNIT`].
    pub fn ceiling(
        &self,
        escalations: u64,
        kv_rows: usize,
        bytes: usize,
    ) -> anyhow::Result<Ceiling> {
        let store = self.connect()?;
        let backend = |store: &PgStore| -> anyhow::Result<i32> {
            Ok(store.query("SELECT pg_backend_pid()", &[])?[0].get(0))
        };
        // Sequential calls reuse the pool's one idle connection: one session throughout
        // (checked after the run).
        let first = backend(&store)?;
        let record = vec![7u8; bytes];
        let entry = vec![9u8; INDEX_BYTES];
        let epoch = vec![1u8; 16];
        let started = Instant::now();
        let mut next = 0u64;
        let mut transactions = 0u64;
        while next < escalations {
            let unit = (escalations - next).min(HUB_UNIT as u64);
            let (mut trees, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
            let (mut ids, mut entries) = (Vec::new(), Vec::new());
            let (mut sites, mut epochs) = (Vec::new(), Vec::new());
            for i in next..next + unit {
                for k in 0..kv_rows.max(1) {
                    trees.push(format!("t{k}"));
                    keys.push([i.to_be_bytes(), (k as u64).to_be_bytes()].concat());
                    values.push(if k == 0 {
                        record.clone()
                    } else {
                        entry.clone()
                    });
                }
                let id = i64::try_from(i)?;
                ids.push(id);
                entries.push(record.clone());
                sites.push(format!("site-{:03}", i % 8));
                epochs.push(epoch.clone());
            }
            // One statement per transaction (autocommit: it commits, and with
            // synchronous_commit on waits for the WAL flush, as the hub's unit COMMIT does),
            // the fewest round trips a unit's rows can take.
            store.execute(
                "WITH k AS (INSERT INTO kv (tree, key, value) \
                   SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])), \
                 j AS (INSERT INTO escalation_journal (id, entry) \
                   SELECT * FROM unnest($4::bigint[], $5::bytea[])) \
                 INSERT INTO escalation_keys (site, epoch, seq, journal) \
                 SELECT * FROM unnest($6::text[], $7::bytea[], $4::bigint[], $4::bigint[])",
                &[&trees, &keys, &values, &ids, &entries, &sites, &epochs],
            )?;
            next += unit;
            transactions += 1;
        }
        let seconds = started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
        anyhow::ensure!(
            backend(&store)? == first,
            "the ceiling's statements did not all run on one connection"
        );
        let stored: i64 = store.query("SELECT count(*) FROM escalation_keys", &[])?[0].get(0);
        anyhow::ensure!(
            u64::try_from(stored)? == escalations,
            "the ceiling stored {stored} of {escalations} escalations"
        );
        let rows_per_escalation = (kv_rows.max(1) + 2) as f64;
        Ok(Ceiling {
            escalations_per_second: escalations as f64 / seconds,
            rows_per_second: escalations as f64 * rows_per_escalation / seconds,
            kv_rows_per_escalation: kv_rows.max(1),
            transactions,
        })
    }
}

/// The run's schemas go with it, on every path out of the run (the hub process, started after
/// the target, has stopped by then).
impl Drop for PgTarget {
    fn drop(&mut self) {
        self.drop_schemas();
    }
}

/// The raw PostgreSQL ceiling of one run.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    pub escalations_per_second: f64,
    pub rows_per_second: f64,
    pub kv_rows_per_escalation: usize,
    pub transactions: u64,
}

impl Ceiling {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "escalations_per_second": self.escalations_per_second,
            "rows_per_second": self.rows_per_second,
            "kv_rows_per_escalation": self.kv_rows_per_escalation,
            "rows_per_escalation": self.kv_rows_per_escalation + 2,
            "escalations_per_transaction": HUB_UNIT,
            "transactions": self.transactions,
        })
    }
}
