//! Command-line plumbing shared by `sirt-hub` and `site-agent`, one skeleton for both:
//!
//! - [`exit`]: the entry point ([`main`] over a binary's [`Binary`] impl) and the one table of
//!   exit statuses;
//! - [`client`]: the connection flags of every client command ([`ClientArgs`], generic over
//!   the binary's [`Endpoint`] flag), the operator certificate, the connect timeout;
//! - [`output`]: `--output table|json` and the terminal-safe writers ([`outln!`](crate::outln));
//! - [`explain`](mod@explain): a failed call as a message with a next step, read from the
//!   stable code services put in the `socfed-error` metadata;
//! - [`db`]: `db export|import`; here: `config`, `completions`, log format, SIGTERM, times.

pub mod client;
pub mod db;
pub mod exit;
pub mod explain;
pub mod notes;
pub mod output;
pub mod runbooks;
pub mod search;
pub mod tokens;

pub use client::{ClientArgs, ClientError, ClientTlsArgs, Endpoint, host_of, url_host};
pub use db::{DbCommand, run_db};
pub use exit::{
    AuditBroken, Binary, EX_CONFIG, EX_DATAERR, EX_FAILURE, EX_UNAVAILABLE, EX_USAGE,
    VerificationFailed, error_text, main, run_main,
};
pub use explain::explain;
pub use output::{OutputArgs, OutputFormat, emit, print_json};

use std::time::Duration;

/// `config example` / `config check FILE`, the same for every binary.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print a commented example configuration.
    Example,
    /// Validate a configuration file: `config check FILE`, or `--config FILE` as `serve`
    /// takes it.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["file", "config"])))]
    Check {
        file: Option<std::path::PathBuf>,
        #[arg(long, short, value_name = "FILE")]
        config: Option<std::path::PathBuf>,
    },
}

impl ConfigCommand {
    /// The file `config check` names, however it was given.
    pub fn checked_file(
        file: Option<std::path::PathBuf>,
        config: Option<std::path::PathBuf>,
    ) -> std::path::PathBuf {
        // clap's group makes exactly one of them present.
        file.or(config).unwrap_or_default()
    }
}

/// Prints the completion script of `C` for `shell` (`sirt-hub completions bash > ...`).
pub fn print_completions<C: clap::CommandFactory>(
    shell: clap_complete::Shell,
    name: &str,
) -> anyhow::Result<()> {
    // Into a buffer first: writing straight to stdout panics when the pipe closes early.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut C::command(), name, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == clap_complete::Shell::Bash {
        script = mend_bash_names(&script, name);
    }
    crate::outln!("{}", script.trim_end());
    Ok(())
}

/// clap_complete's bash script names a hyphenated binary's states two ways: the word loop
/// sets `sirt__hub__subcmd__pki` while the `case` arms test `sirt__subcmd__hub__subcmd__pki`,
/// so nothing past the first subcommand ever completes. One spelling throughout fixes it
/// (`tests/tests/operations/packaging.rs` completes a nested subcommand in a real bash).
fn mend_bash_names(script: &str, name: &str) -> String {
    if !name.contains('-') {
        return script.to_string();
    }
    script.replace(&name.replace('-', "__subcmd__"), &name.replace('-', "__"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs go to stderr so stdout stays clean for `--output json`. `RUST_LOG` filters.
pub fn init_logging(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The flags every command of both binaries takes, before or after its subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Log format on stderr (filter with RUST_LOG).
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
}

/// Resolves on SIGTERM or SIGINT.
pub async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// RFC 3339 UTC, seconds precision; empty for 0. A time RFC 3339 cannot write (after
/// 9999-12-31; the hub refuses such times from sites, but a record may predate that check)
/// is shown as its raw number instead of panicking the command.
pub fn format_millis(ms: i64) -> String {
    if ms <= 0 {
        return String::new();
    }
    if ms > socfed_proto::vocab::bounds::MAX_TIME_MS {
        return format!("(out of range: {ms} ms)");
    }
    let t = std::time::UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs());
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A short human duration, e.g. `3m 12s`.
pub fn format_age(ms: u64) -> String {
    humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_past_year_9999_render_without_panicking() {
        assert_eq!(format_millis(253_402_300_799_000), "9999-12-31T23:59:59Z");
        assert!(format_millis(i64::MAX).contains("out of range"));
    }
}
