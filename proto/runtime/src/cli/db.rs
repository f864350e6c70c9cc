//! `db export` / `db import`, the same for both binaries: backups of a stopped service's
//! store (see [`crate::dump`]).

/// `db export` / `db import`: backups of a stopped service's store (see [`crate::dump`]).
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
}

/// Runs a `db` command against `data_dir` for `tool`, with a progress counter on a terminal.
/// `check` is the tool's record check ([`crate::dump::Check`]).
pub fn run_db(
    command: &DbCommand,
    data_dir: &std::path::Path,
    tool: &str,
    check: crate::dump::Check<'_>,
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
    }
    bar.finish_and_clear();
    Ok(())
}

impl DbCommand {
    pub fn config(&self) -> &std::path::Path {
        match self {
            DbCommand::Export { config, .. } | DbCommand::Import { config, .. } => config,
        }
    }
}
