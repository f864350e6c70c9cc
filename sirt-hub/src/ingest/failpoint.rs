//! A test hook, and nothing else: `SOCFED_HUB_FAILPOINT=after-journal` makes the hub exit
//! abruptly right after a batch's escalations are in the journal and before the unit that
//! indexes them is applied (`after-journal:N`: at the first batch of at least N escalations,
//! so the crash takes a batch of several). The crash test
//! (`tests/tests/faults/journal_crash.rs`) uses it to hit exactly the window the journal's
//! replay covers. Unset (always, outside tests) it does nothing; an unknown value is ignored
//! with a warning.

/// Environment variable naming the failpoint.
pub const ENV: &str = "SOCFED_HUB_FAILPOINT";

/// Exit code of a hub stopped by the failpoint.
pub const EXIT_CODE: i32 = 86;

#[derive(Debug, Default)]
pub struct Failpoint {
    /// The fewest escalations of a journaled batch that makes the hub exit.
    after_journal: Option<usize>,
}

impl Failpoint {
    pub fn from_env() -> Self {
        let Ok(value) = std::env::var(ENV) else {
            return Self::default();
        };
        let after_journal = match value.split_once(':') {
            None if value == "after-journal" => Some(1),
            Some(("after-journal", n)) => n.parse::<usize>().ok().filter(|n| *n > 0),
            _ => None,
        };
        match after_journal {
            Some(n) => tracing::warn!(
                escalations = n,
                "test failpoint set: the hub exits after journaling a batch, before indexing it"
            ),
            None => tracing::warn!(%value, "unknown {ENV} value ignored"),
        }
        Self { after_journal }
    }

    /// Called after each batch's `escalations` are journaled (and synced).
    pub fn after_journal(&self, escalations: usize) {
        if self.after_journal.is_some_and(|least| escalations >= least) {
            eprintln!("{ENV}: exiting after the journal write, before the index commit");
            // No destructor runs: sled is not flushed, as in a crash.
            std::process::exit(EXIT_CODE);
        }
    }
}
