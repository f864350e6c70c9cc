//! `site-agent audit verify`: checks the hash chain of the site's audit log.

use super::{Conn, Soc};
use clap::Subcommand;
use serde_json::json;
use socfed_proto::pb;
use socfed_runtime::cli::OutputFormat;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits 65 when it was tampered with (1: could not check).
    Verify {
        #[command(flatten)]
        conn: Conn,
    },
}

/// The line printed for a verification result.
fn verdict(v: &pb::VerifyAuditResponse) -> String {
    if v.intact {
        format!("audit log intact: {} entries", v.entries)
    } else {
        format!(
            "AUDIT LOG TAMPERED: {}",
            super::render::clean(if v.problem.is_empty() {
                "no detail given"
            } else {
                &v.problem
            })
        )
    }
}

pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { conn } = command;
    let mut soc = Soc::connect(&conn)?;
    let result = soc
        .client
        .verify_audit(pb::VerifyAuditRequest {})
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match conn.format() {
        OutputFormat::Json => super::render::print_json(&json!({
            "intact": result.intact,
            "entries": result.entries,
            "problem": result.problem,
        }))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", verdict(&result)),
    }
    if result.intact {
        Ok(())
    } else {
        // Raised after the verdict is printed: exit status 65 (EX_DATAERR).
        Err(socfed_runtime::cli::AuditBroken.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines() {
        let ok = pb::VerifyAuditResponse {
            intact: true,
            entries: 42,
            problem: String::new(),
        };
        assert_eq!(verdict(&ok), "audit log intact: 42 entries");
        let bad = pb::VerifyAuditResponse {
            intact: false,
            entries: 42,
            problem: "entry 17: hash does not chain".into(),
        };
        assert_eq!(
            verdict(&bad),
            "AUDIT LOG TAMPERED: entry 17: hash does not chain"
        );
    }
}
