//! What a command prints: `--output table|json`, the one flag every query takes, and the
//! writers that keep stdout terminal-safe and quiet on a closed pipe.

/// How a command prints its result: a table for people, JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// `--output table|json` (`-o`). Every command that talks to a service takes it through
/// [`crate::cli::ClientArgs`], so every query has a JSON form; global, so it may also follow a
/// nested subcommand (`sirt-hub incidents list -o json`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(
        id = "output",
        long = "output",
        short = 'o',
        value_name = "OUTPUT",
        value_enum,
        default_value = "table",
        global = true
    )]
    pub format: OutputFormat,
}

/// Writes one line to stdout. A closed pipe (`sirt-hub incidents list | head`) comes back
/// as `BrokenPipe`, which [`crate::cli::run_main`] turns into a quiet exit instead of a panic.
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
