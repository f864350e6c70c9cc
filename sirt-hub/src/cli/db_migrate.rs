//! `sirt-hub db …`: the `db` commands both binaries share (`socfed_runtime::cli::DbCommand`)
//! plus the hub's own `db migrate`, which copies a stopped hub's sled store into a PostgreSQL
//! schema (`store::migrate`), then verifies the copy: the counts of every tree, of the
//! journal and of the stored escalations on both sides, and the copy opened as a hub opens it
//! with its audit chain verified under the hub's audit key. Prints the counts as a table or
//! JSON; a count that differs exits 65 naming the tree.

use crate::config::HubConfig;
use crate::store::HubStore;
use crate::store::migrate::{self, Counts};
use anyhow::Context;
use socfed_runtime::cli::{ClientError, OutputArgs, OutputFormat, VerificationFailed};
use socfed_runtime::store_kit::pg::{PgConfig, PgError, PgStore};
use std::path::PathBuf;

/// `sirt-hub db`: the shared commands and `migrate`.
#[derive(Debug, clap::Subcommand)]
pub enum HubDbCommand {
    #[command(flatten)]
    Shared(socfed_runtime::cli::DbCommand),
    /// Copy the store named by the config's `data_dir` (the hub must be stopped) into a
    /// PostgreSQL schema, then verify the copy. The password comes from the URL or from
    /// PGPASSWORD; it is never printed. Refuses a schema that already holds a store.
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[arg(long, short)]
    pub config: PathBuf,
    /// The database: postgres://USER[:PASSWORD]@HOST:PORT/DB?sslmode=verify-full (without a
    /// password in the URL, PGPASSWORD is used).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// PEM roots the database's certificate must chain to (needed by sslmode=verify-full).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The schema to create the store in (the hub's `[store] schema`).
    #[arg(long, default_value = "socfed", value_name = "NAME")]
    pub schema: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs a `db` command of the hub.
pub fn run(command: HubDbCommand) -> anyhow::Result<()> {
    match command {
        HubDbCommand::Shared(command) => {
            let config = HubConfig::load(command.config())?;
            socfed_runtime::cli::run_db(
                &command,
                &config.data_dir,
                "sirt-hub",
                &crate::store::check::record,
                &crate::store::check::check_beside,
            )
        }
        HubDbCommand::Migrate(args) => migrate(&args),
    }
}

/// One row of the report: what each side holds.
#[derive(Debug, serde::Serialize)]
struct Compared {
    part: String,
    sled: u64,
    postgres: u64,
}

#[derive(Debug, serde::Serialize)]
struct Report {
    source: String,
    database: String,
    schema: String,
    rows_written: u64,
    counts: Vec<Compared>,
    audit_entries: u64,
    audit_intact: bool,
}

fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    let config = HubConfig::load(&args.config)?;
    let dir = &config.data_dir;
    // Opening an absent store would create an empty one and copy nothing.
    let holds_store = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    anyhow::ensure!(
        holds_store,
        "no hub store at {} (the config's data_dir): nothing to migrate",
        dir.display()
    );
    let (audit_key, _) = socfed_runtime::audit_key::load_or_create(
        &socfed_runtime::audit_key::path_for(&config.tls.key),
    )?;
    let store = HubStore::open_with_cache(
        dir,
        config.ingest.durability,
        config.ingest.cache_bytes,
        audit_key.clone(),
    )
    .with_context(|| {
        format!(
            "cannot open the hub store at {} (stop the hub first: the store is in use while it runs)",
            dir.display()
        )
    })?;
    // What a start would do first: escalations journaled but not indexed are applied.
    let window = i64::try_from(config.correlation.window.as_millis()).unwrap_or(i64::MAX);
    crate::ingest::replay(&store, window)?;

    let target = target_config(args)?;
    let database = target.redacted_url();
    let pg = PgStore::connect(&target, crate::store::postgres::MIGRATIONS)
        .map_err(|e| unreachable(&database, e))?;
    let held = migrate::rows_in(&pg)?;
    anyhow::ensure!(
        held == 0,
        "schema {} of {database} already holds {held} rows of a hub store: choose another with --schema, or, if it is what a failed migrate left, drop it (DROP SCHEMA {} CASCADE) and run again",
        target.schema,
        target.schema
    );

    let bar = progress_bar();
    let written = store.copy_to_postgres(&pg, &|n| bar.set_position(n))?;
    bar.finish_and_clear();

    let sled = store.counts()?;
    let copied = migrate::counts_in(&pg)?;
    drop(store);
    let opened = HubStore::open_postgres(
        &target,
        format!("migrate-{}", ulid::Ulid::new()),
        config.ingest.durability,
        audit_key,
    )
    .context("the copy does not open as a hub store")?;
    let (audit_entries, audit_problem) = opened.verify_audit()?;
    let report = Report {
        source: dir.display().to_string(),
        database,
        schema: target.schema.clone(),
        rows_written: written,
        counts: compare(&sled, &copied),
        audit_entries,
        audit_intact: audit_problem.is_none(),
    };
    print(&report, args.output.format)?;
    let differ: Vec<&str> = report
        .counts
        .iter()
        .filter(|c| c.sled != c.postgres)
        .map(|c| c.part.as_str())
        .collect();
    if !differ.is_empty() {
        return Err(anyhow::Error::new(VerificationFailed { what: "copy" }).context(format!(
            "the copy in schema {} differs from the sled store in: {}; drop the schema and run again",
            report.schema,
            differ.join(", ")
        )));
    }
    if let Some(problem) = audit_problem {
        return Err(anyhow::Error::new(VerificationFailed {
            what: "audit chain",
        })
        .context(format!("the copied audit chain does not verify: {problem}")));
    }
    Ok(())
}

/// The target's connection settings, with PGPASSWORD when the URL carries no password.
fn target_config(args: &MigrateArgs) -> anyhow::Result<PgConfig> {
    anyhow::ensure!(
        args.to.starts_with("postgres://") || args.to.starts_with("postgresql://"),
        "--to must be a postgres:// URL"
    );
    let password = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty());
    let mut config = PgConfig::new(with_password(&args.to, password.as_deref()));
    config.ca_file = args.ca.clone();
    config.schema = args.schema.clone();
    Ok(config)
}

/// `url` with `password` in its user part, when it names a user and no password.
fn with_password(url: &str, password: Option<&str>) -> String {
    let (Some(password), Some((scheme, rest))) = (password, url.split_once("://")) else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) if !user.contains(':') => {
            let encoded: String = password
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{scheme}://{user}:{encoded}@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

/// A failure to reach the database: exit status 69 for an unreachable one or a refused login.
fn unreachable(database: &str, e: PgError) -> anyhow::Error {
    match e {
        PgError::Unavailable(reason) => anyhow::Error::new(ClientError::Unreachable(format!(
            "cannot use the database at {database}: {reason} (check the address, the password (URL or PGPASSWORD), --ca and that PostgreSQL is up)"
        ))),
        other => anyhow::anyhow!("the database at {database}: {other}"),
    }
}

fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let style = indicatif::ProgressStyle::with_template("{spinner} copying: {pos} rows, {per_sec}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    bar.set_style(style);
    bar
}

fn compare(sled: &Counts, copied: &Counts) -> Vec<Compared> {
    let mut rows: Vec<Compared> = sled
        .trees
        .iter()
        .zip(&copied.trees)
        .map(|((name, s), (_, p))| Compared {
            part: format!("tree {name}"),
            sled: *s,
            postgres: *p,
        })
        .collect();
    rows.push(Compared {
        part: "escalation journal".into(),
        sled: sled.journal,
        postgres: copied.journal,
    });
    rows.push(Compared {
        part: "escalation keys".into(),
        sled: sled.escalations,
        postgres: copied.escalations,
    });
    rows
}

fn print(report: &Report, format: OutputFormat) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        return socfed_runtime::cli::print_json(report);
    }
    let mut table = socfed_runtime::terminal::Table::new(["part", "sled", "postgres", ""]);
    for row in &report.counts {
        let mark = if row.sled == row.postgres {
            "ok"
        } else {
            "DIFFERS"
        };
        table.add_row([
            row.part.clone(),
            row.sled.to_string(),
            row.postgres.to_string(),
            mark.to_string(),
        ]);
    }
    socfed_runtime::outln!("{table}");
    socfed_runtime::outln!(
        "copied {} rows from {} into schema {} of {}; audit chain of {} entries {}",
        report.rows_written,
        report.source,
        report.schema,
        report.database,
        report.audit_entries,
        if report.audit_intact {
            "intact"
        } else {
            "NOT intact"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::with_password;

    #[test]
    fn pgpassword_goes_into_a_url_without_one_and_never_over_one() {
        assert_eq!(
            with_password(
                "postgres://hub@db:5432/socfed?sslmode=verify-full",
                Some("p@ss/w")
            ),
            "postgres://hub:p%40ss%2Fw@db:5432/socfed?sslmode=verify-full"
        );
        assert_eq!(
            with_password("postgres://hub:url@db/socfed", Some("env")),
            "postgres://hub:url@db/socfed"
        );
        assert_eq!(
            with_password("postgres://hub@db/x", None),
            "postgres://hub@db/x"
        );
    }
}
