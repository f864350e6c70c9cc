//! `db export` / `db import` / `db check`, the same for both binaries: backups of a stopped
//! service's store (see [`crate::dump`]) and a check of every record
//! ([`crate::store_check`]).

use crate::store_check::StoreCheck;

/// `db export` / `db import` / `db check`: backups of a stopped service's store (see [`crate::dump`]).
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Write the store named by the config's `data_dir` to a dump file (the service must be
    /// stopped: the store is locked while it runs).
    Export {
        #[arg(long, short)]
        config: std::path::PathBuf,
        /// Dump file to write; refuses to overwrite one.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Create the store at the config's `data_dir` (absent or empty) from a dump, verifying its
    /// checksum first.
    Import {
        #[arg(long, short)]
        config: std::path::PathBuf,
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Read every record of the store named by the config's `data_dir` and check it as
    /// `import` checks a dump, then what lives beside sled (the service must be stopped).
    /// Exits 65 when anything does not check.
    Check {
        #[arg(long, short)]
        config: std::path::PathBuf,
        #[command(flatten)]
        output: crate::cli::OutputArgs,
    },
}

/// A tool's check of what it keeps beside sled in a store directory (its journals), given the
/// store opened by the record pass; each problem goes into the [`StoreCheck`].
pub type BesideCheck<'a> =
    &'a dyn Fn(&std::path::Path, &sled::Db, &mut StoreCheck) -> anyhow::Result<()>;

/// Runs a `db` command against `data_dir` for `tool`, with a progress counter on a terminal.
/// `check` is the tool's record check ([`crate::dump::Check`]), `beside` its check of what
/// it keeps beside sled (`db check`).
pub fn run_db(
    command: &DbCommand,
    data_dir: &std::path::Path,
    tool: &str,
    check: crate::dump::Check<'_>,
    beside: BesideCheck<'_>,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_message("entries");
    let progress = |n: u64| bar.set_position(n);
    match command {
        DbCommand::Export { out, .. } => {
            // A dump holds every TLP:RED incident: 0600 whatever the umask.
            let file = crate::store_files::create_private(out).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create {}: {e} (choose a new file name)",
                    out.display()
                )
            })?;
            let exported =
                crate::dump::export(data_dir, tool, std::io::BufWriter::new(file), &progress);
            // A failed export leaves no half-written dump to be mistaken for a backup.
            let summary = exported.inspect_err(|_| {
                let _ = std::fs::remove_file(out);
            })?;
            crate::outln!(
                "exported {} entries in {} trees from {} to {}",
                summary.entries,
                summary.trees,
                data_dir.display(),
                out.display()
            );
        }
        DbCommand::Import { from, .. } => {
            let file = std::fs::File::open(from)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", from.display()))?;
            let summary = crate::dump::import(
                data_dir,
                tool,
                std::io::BufReader::new(file),
                check,
                &progress,
            )?;
            crate::outln!(
                "imported {} entries in {} trees into {}; start the service to use it",
                summary.entries,
                summary.trees,
                data_dir.display()
            );
        }
        DbCommand::Check { output, .. } => {
            let db = crate::store_check::open(data_dir)?;
            let mut found = crate::store_check::check_records(&db, check, &progress)?;
            bar.finish_and_clear();
            beside(data_dir, &db, &mut found)?;
            drop(db);
            report_check(data_dir, &found, output.format)?;
            if found.problems_total > 0 {
                return Err(anyhow::Error::new(crate::cli::VerificationFailed { what: "store" })
                    .context(format!(
                        "{} problems in the store at {}: restore the last good backup with `{tool} db import`, or export what still reads with `{tool} db export` and keep the store for analysis",
                        found.problems_total,
                        data_dir.display()
                    )));
            }
        }
    }
    bar.finish_and_clear();
    Ok(())
}

fn report_check(
    data_dir: &std::path::Path,
    found: &StoreCheck,
    format: crate::cli::OutputFormat,
) -> anyhow::Result<()> {
    if format == crate::cli::OutputFormat::Json {
        return crate::cli::print_json(found);
    }
    crate::outln!(
        "checked {} entries in {} trees at {}: {} problems",
        found.entries,
        found.trees.len(),
        data_dir.display(),
        found.problems_total
    );
    for problem in &found.problems {
        crate::outln!("  {problem}");
    }
    if found.problems_total > found.problems.len() as u64 {
        crate::outln!(
            "  … and {} more",
            found.problems_total - found.problems.len() as u64
        );
    }
    Ok(())
}

impl DbCommand {
    pub fn config(&self) -> &std::path::Path {
        match self {
            DbCommand::Export { config, .. }
            | DbCommand::Import { config, .. }
            | DbCommand::Check { config, .. } => config,
        }
    }
}
