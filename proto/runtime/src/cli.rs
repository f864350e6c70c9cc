//! Command-line plumbing shared by `sirt-hub` and `site-agent`: output and log formats, the
//! client TLS flags, and turning gRPC failures into messages that say what to do next.

use crate::tls::{ExpectedServer, TlsFiles, TlsMaterial};
use std::path::PathBuf;
use std::time::Duration;
use tonic::{Code, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

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

/// Exit statuses, the same for both binaries (sysexits.h where one fits): 0 success, 1 any
/// other failure, 2 a usage error (clap), [`EX_DATAERR`] a verification found tampering or
/// corruption, [`EX_UNAVAILABLE`] the service could not be reached, [`EX_CONFIG`] a
/// configuration error. docs/OPERATIONS.md lists them; `tests/tests/operations/packaging.rs` checks them.
pub const EX_USAGE: u8 = 2;
/// Something verified was not intact (`audit verify`, a corrupt dump).
pub const EX_DATAERR: u8 = 65;
/// The service did not answer (down, wrong address, TLS handshake refused).
pub const EX_UNAVAILABLE: u8 = 69;
/// A configuration error (sysexits EX_CONFIG); systemd units use it in
/// `RestartPreventExitStatus` so a bad config does not restart-loop.
pub const EX_CONFIG: u8 = 78;

/// The exit status for an error that reached `main`.
fn exit_status(error: &anyhow::Error, is_config_error: impl Fn(&anyhow::Error) -> bool) -> u8 {
    if is_config_error(error) {
        return EX_CONFIG;
    }
    for cause in error.chain() {
        if cause.downcast_ref::<VerificationFailed>().is_some()
            || cause.downcast_ref::<AuditBroken>().is_some()
        {
            return EX_DATAERR;
        }
        if let Some(ClientError::Unreachable(_)) = cause.downcast_ref::<ClientError>() {
            return EX_UNAVAILABLE;
        }
    }
    1
}

/// Runs a binary's async main on a multi-threaded runtime and maps the outcome to an exit
/// status (see [`EX_CONFIG`] and its neighbours). Errors go to stderr.
/// Returned by `audit verify` after the verdict is printed when the chain is not intact;
/// exits with [`EX_DATAERR`].
#[derive(Debug, thiserror::Error)]
#[error("the audit log failed verification")]
pub struct AuditBroken;

pub fn run_main(
    future: impl std::future::Future<Output = anyhow::Result<()>>,
    is_config_error: impl Fn(&anyhow::Error) -> bool,
) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(e.as_ref()));
            std::process::ExitCode::from(exit_status(&e, is_config_error))
        }
    }
}

/// An error and its causes as one line for a person: each cause once. Error types often
/// both print their source (`cannot read X: {source}`) and expose it as `source()`, so
/// walking the chain naively repeats it (`cannot read X: No such file…: No such file…`); a
/// cause whose text is already shown is skipped. Control characters are escaped: errors can
/// quote what a server or a file said.
pub fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    crate::terminal::clean_multiline(&text).into_owned()
}

/// Writes one line to stdout. A closed pipe (`sirt-hub incidents list | head`) comes back
/// as `BrokenPipe`, which [`run_main`] turns into a quiet exit instead of a panic.
///
/// Every line goes through [`crate::terminal::clean_multiline`]: whatever a command
/// formats, no control character but newline and tab reaches the terminal.
pub fn emit(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let line = crate::terminal::clean_multiline(line);
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// `value` as pretty JSON on stdout: strings are escaped so that it is terminal-safe and
/// still valid JSON meaning the same (see [`crate::terminal::json_safe`]).
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    emit(&crate::terminal::json_safe(&text))?;
    Ok(())
}

/// `println!` for command output, through [`emit`]; use inside functions returning a Result.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::emit(&format!($($arg)*))?
    };
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
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

/// The operator certificate a CLI command presents.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientTlsArgs {
    /// Organisation CA certificate (PEM).
    #[arg(long, env = "SOCFED_CA", global = true)]
    pub ca: Option<PathBuf>,
    /// Your operator certificate (PEM), from `sirt-hub pki issue --operator NAME`.
    #[arg(long, env = "SOCFED_CERT", global = true)]
    pub cert: Option<PathBuf>,
    /// The private key of that certificate (PEM).
    #[arg(long, env = "SOCFED_KEY", global = true)]
    pub key: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is required for this command: pass --{0} or set SOCFED_{1}")]
    Missing(&'static str, &'static str),
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("{0}")]
    Call(String),
    /// The service did not answer at all (connection refused, TLS handshake never done): exit
    /// status [`EX_UNAVAILABLE`], so scripts can tell "down" from "answered no".
    #[error("{0}")]
    Unreachable(String),
}

/// A check the command ran found something not intact (the audit chain, a dump): exit status
/// [`EX_DATAERR`], distinct from "could not reach the service" and from a refused call.
#[derive(Debug, thiserror::Error)]
#[error("{what} failed verification")]
pub struct VerificationFailed {
    pub what: &'static str,
}

impl ClientTlsArgs {
    /// Connects to `address` over mutual TLS, requiring the server to be `expected`.
    pub fn channel(
        &self,
        address: &str,
        server_name: Option<&str>,
        expected: ExpectedServer,
    ) -> Result<tonic::transport::Channel, ClientError> {
        let files = TlsFiles {
            ca: self.ca.clone().ok_or(ClientError::Missing("ca", "CA"))?,
            cert: self
                .cert
                .clone()
                .ok_or(ClientError::Missing("cert", "CERT"))?,
            key: self.key.clone().ok_or(ClientError::Missing("key", "KEY"))?,
            crl: None,
        };
        let material = TlsMaterial::load_inferring_domain(&files)?;
        let host = server_name.unwrap_or_else(|| host_of(address));
        Ok(crate::tls::channel(
            address,
            host,
            material.client_config(expected)?,
            Duration::from_secs(5),
        )?)
    }
}

/// `host` of `host:port` or `[v6]:port`.
pub fn host_of(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    address.rsplit_once(':').map_or(address, |(host, _)| host)
}

/// The host of a URL: the only part of a webhook URL that is ever logged or recorded (the path
/// and userinfo often carry a token).
pub fn url_host(url: &str) -> String {
    url.parse::<tonic::codegen::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| "(unparsable URL)".into())
}

/// A failed call as a sentence with a next step.
pub fn explain(status: &Status, target: &str) -> ClientError {
    let detail = with_sources(status);
    let lower = detail.to_ascii_lowercase();
    let transport = matches!(status.code(), Code::Unavailable | Code::Unknown);
    let hint = match status.code() {
        _ if transport && (lower.contains("alert") || lower.contains("certificate")) => format!(
            "{target} refused the TLS handshake ({detail}); check that --cert/--key are an operator certificate from the organisation CA and that --ca is that CA"
        ),
        _ if transport && (lower.contains("transport") || lower.contains("connect")) => {
            return ClientError::Unreachable(format!(
                "cannot reach {target} ({detail}); check the address and that the service is running"
            ));
        }
        Code::Unauthenticated => format!(
            "{target} did not accept your certificate: {}",
            status.message()
        ),
        Code::PermissionDenied => format!("{target} refused: {}", status.message()),
        Code::NotFound
        | Code::InvalidArgument
        | Code::ResourceExhausted
        | Code::FailedPrecondition => status.message().to_string(),
        _ => format!("{target} answered {:?}: {detail}", status.code()),
    };
    ClientError::Call(hint)
}

/// The message of `status` followed by its source chain, each cause once.
fn with_sources(status: &Status) -> String {
    let mut text = crate::terminal::clean(status.message()).into_owned();
    if let Some(source) = std::error::Error::source(status) {
        let causes = error_text(source);
        if !text.contains(&causes) {
            text.push_str(": ");
            text.push_str(&causes);
        }
    }
    text
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

    #[test]
    fn each_cause_is_shown_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read x.toml: {source}")]
        struct Outer {
            #[source]
            source: std::io::Error,
        }
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::new(Outer { source: io })
            .context("tls: cannot read x.toml: No such file");
        assert_eq!(
            error_text(error.as_ref()),
            "tls: cannot read x.toml: No such file"
        );
    }

    #[test]
    fn url_host_shows_only_the_host() {
        assert_eq!(
            super::url_host("https://hooks.chat.example/services/T0/SECRET"),
            "hooks.chat.example"
        );
        assert_eq!(
            super::url_host("http://user:pw@10.0.0.5:8080/x"),
            "10.0.0.5"
        );
        assert_eq!(super::url_host("not a url"), "(unparsable URL)");
    }

    #[test]
    fn host_of_handles_v4_v6_and_names() {
        assert_eq!(host_of("127.0.0.1:7443"), "127.0.0.1");
        assert_eq!(host_of("[::1]:7443"), "::1");
        assert_eq!(host_of("hub.corp.example:7443"), "hub.corp.example");
    }
}
