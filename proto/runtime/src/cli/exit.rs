//! The one entry point of both binaries ([`main`]) and the one table of exit statuses.
//!
//! | status | constant | meaning |
//! |---|---|---|
//! | 0 | | success (also: stdout closed early, `… \| head`) |
//! | 1 | [`EX_FAILURE`] | any other failure: a refused call, a failed ingest line, a storage failure |
//! | 2 | [`EX_USAGE`] | a usage error (clap: unknown subcommand or flag, bad value) |
//! | 65 | [`EX_DATAERR`] | something verified is not intact ([`AuditBroken`], [`VerificationFailed`]) |
//! | 69 | [`EX_UNAVAILABLE`] | the service did not answer ([`ClientError::Unreachable`]) |
//! | 78 | [`EX_CONFIG`] | a configuration error (the binary's [`Binary::is_config_error`]) |
//!
//! sysexits.h where one fits. A refusal the service answered is 1 whatever its kind: the
//! message (see [`super::explain`]) says which. docs/OPERATIONS.md lists the same table;
//! `tests/tests/operations/packaging.rs` checks it against the real binaries.

use super::client::ClientError;
use super::{GlobalArgs, init_logging};
use std::process::ExitCode;

/// Any failure not listed below.
pub const EX_FAILURE: u8 = 1;
/// A usage error: what clap exits with.
pub const EX_USAGE: u8 = 2;
/// Something verified was not intact (`audit verify`, a corrupt dump).
pub const EX_DATAERR: u8 = 65;
/// The service did not answer (down, wrong address, nothing listening).
pub const EX_UNAVAILABLE: u8 = 69;
/// A configuration error (sysexits EX_CONFIG); systemd units use it in
/// `RestartPreventExitStatus` so a bad config does not restart-loop.
pub const EX_CONFIG: u8 = 78;

/// Returned by `audit verify` after the verdict is printed when the chain is not intact;
/// exits with [`EX_DATAERR`].
#[derive(Debug, thiserror::Error)]
#[error("the audit log failed verification")]
pub struct AuditBroken;

/// A check the command ran found something not intact (the audit chain, a dump): exit status
/// [`EX_DATAERR`], distinct from "could not reach the service" and from a refused call.
#[derive(Debug, thiserror::Error)]
#[error("{what} failed verification")]
pub struct VerificationFailed {
    pub what: &'static str,
}

/// What a binary gives the shared entry point: its command tree (clap), its global flags, how
/// it runs a command, and which of its errors are configuration errors.
pub trait Binary: clap::Parser {
    /// `--log-format` and the other flags every command takes.
    fn globals(&self) -> &GlobalArgs;
    /// Runs the parsed command.
    fn run(self) -> impl std::future::Future<Output = anyhow::Result<()>>;
    /// Whether `error` is a configuration error ([`EX_CONFIG`]).
    fn is_config_error(error: &anyhow::Error) -> bool;
}

/// `main` of both binaries: parse the command line (a usage error exits [`EX_USAGE`]), start
/// logging on stderr, run the command, and exit with the status of the table above.
pub fn main<B: Binary>() -> ExitCode {
    let cli = match B::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` are "errors" that print to stdout and succeed.
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EX_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging(cli.globals().log_format, "info");
    run_main(cli.run(), B::is_config_error)
}

/// Runs a binary's async main on a multi-threaded runtime and maps the outcome to an exit
/// status (see the table above). Errors go to stderr.
pub fn run_main(
    future: impl std::future::Future<Output = anyhow::Result<()>>,
    is_config_error: impl Fn(&anyhow::Error) -> bool,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EX_FAILURE);
        }
    };
    match runtime.block_on(future) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(e.as_ref()));
            ExitCode::from(exit_status(&e, is_config_error))
        }
    }
}

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
    EX_FAILURE
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

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn each_kind_of_failure_has_its_row_of_the_table() {
        let never = |_: &anyhow::Error| false;
        let status = |e: anyhow::Error| exit_status(&e, never);
        assert_eq!(status(anyhow::anyhow!("refused")), EX_FAILURE);
        assert_eq!(
            status(ClientError::Call("the hub refused: no".into()).into()),
            EX_FAILURE
        );
        assert_eq!(
            status(anyhow::Error::from(ClientError::Unreachable("down".into())).context("listing")),
            EX_UNAVAILABLE
        );
        assert_eq!(status(AuditBroken.into()), EX_DATAERR);
        assert_eq!(
            status(VerificationFailed { what: "the dump" }.into()),
            EX_DATAERR
        );
        assert_eq!(
            exit_status(&anyhow::anyhow!("bad key"), |_| true),
            EX_CONFIG
        );
    }
}
