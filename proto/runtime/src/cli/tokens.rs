//! How both CLIs show API tokens (`sirt-hub tokens`, `site-agent tokens`): one JSON shape, one
//! table, one way of showing a fresh token's secret once.

use super::{OutputFormat, format_millis, print_json};
use crate::terminal::{Table, clean};
use socfed_proto::pb;

/// A token as `-o json` shows it (never a secret: the wire record holds none).
pub fn token_json(t: &pb::ApiToken) -> serde_json::Value {
    serde_json::json!({
        "id": t.id,
        "name": t.name,
        "scopes": t.scopes,
        "created_by": t.created_by,
        "created_at": format_millis(t.created_at_ms),
        "expires_at": format_millis(t.expires_at_ms),
        "revoked_at": (t.revoked_at_ms > 0).then(|| format_millis(t.revoked_at_ms)),
        "revoked_by": (!t.revoked_by.is_empty()).then(|| t.revoked_by.clone()),
    })
}

/// `tokens list` and `tokens revoke`: the records, as a table or JSON.
pub fn print_tokens(tokens: &[pb::ApiToken], output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => print_json(&tokens.iter().map(token_json).collect::<Vec<_>>()),
        OutputFormat::Table => {
            let mut table =
                Table::new(["ID", "NAME", "SCOPES", "CREATED BY", "EXPIRES", "REVOKED"]);
            for token in tokens {
                table.add_row(vec![
                    token.id.clone(),
                    token.name.clone(),
                    token.scopes.join(","),
                    token.created_by.clone(),
                    format_millis(token.expires_at_ms),
                    if token.revoked_at_ms > 0 {
                        format!(
                            "{} by {}",
                            format_millis(token.revoked_at_ms),
                            token.revoked_by
                        )
                    } else {
                        "-".into()
                    },
                ]);
            }
            crate::outln!("{table}");
            Ok(())
        }
    }
}

/// `tokens create`: the secret, shown this once, with its record.
pub fn print_created(
    reply: pb::CreateApiTokenResponse,
    output: OutputFormat,
) -> anyhow::Result<()> {
    let record = reply.record.unwrap_or_default();
    match output {
        OutputFormat::Json => {
            let mut value = token_json(&record);
            value["token"] = reply.token.into();
            print_json(&value)
        }
        OutputFormat::Table => {
            crate::outln!(
                "API token {} ({}), scopes {}, expires {}. It is shown only now; store it as a secret:\n{}",
                record.id,
                clean(&record.name),
                record.scopes.join(","),
                format_millis(record.expires_at_ms),
                reply.token
            );
            Ok(())
        }
    }
}
