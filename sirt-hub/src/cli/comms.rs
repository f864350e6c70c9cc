//! `sirt-hub incidents comms`: communications about an incident to its audiences.

use super::HubTarget;
use super::render::{print_json, table};
use crate::view::words;
use clap::Subcommand;
use serde_json::{Value, json};
use socfed_proto::pb::{self, communications_client::CommunicationsClient};
use socfed_runtime::cli::{OutputFormat, explain, format_millis};

#[derive(Debug, Subcommand)]
pub enum CommsCommand {
    /// Draft an update for one audience from its template (redacted by TLP for it).
    Draft {
        id: String,
        /// executives, board, legal, clients or regulators.
        #[arg(long)]
        audience: String,
        /// Added verbatim under "Note from the SIRT" (not redacted: write for the audience).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Approve a draft: it is delivered through the audience's webhook (IR lead or CISO).
    Approve { id: String, communication: String },
    /// Reject a draft, saying why (IR lead or CISO).
    Reject {
        id: String,
        communication: String,
        #[arg(long)]
        reason: String,
    },
    /// Record that an approved communication was delivered by hand (e.g. a letter).
    Delivered {
        id: String,
        communication: String,
        #[arg(long)]
        channel: String,
    },
    /// The incident's communications and their state.
    List { id: String },
    /// One communication with its full text and history.
    Show { id: String, communication: String },
}

pub async fn run(command: CommsCommand, target: &HubTarget) -> anyhow::Result<()> {
    let hub = target.name();
    let channel = target.channel()?;
    let mut client = CommunicationsClient::new(channel);
    let one = match command {
        CommsCommand::Draft { id, audience, note } => {
            client
                .draft(pb::DraftCommunicationRequest {
                    incident_id: id,
                    audience,
                    note,
                })
                .await
        }
        CommsCommand::Approve { id, communication } => {
            client
                .decide(pb::DecideCommunicationRequest {
                    incident_id: id,
                    communication_id: communication,
                    approve: true,
                    reason: String::new(),
                })
                .await
        }
        CommsCommand::Reject {
            id,
            communication,
            reason,
        } => {
            client
                .decide(pb::DecideCommunicationRequest {
                    incident_id: id,
                    communication_id: communication,
                    approve: false,
                    reason,
                })
                .await
        }
        CommsCommand::Delivered {
            id,
            communication,
            channel,
        } => {
            client
                .record_delivery(pb::RecordDeliveryRequest {
                    incident_id: id,
                    communication_id: communication,
                    channel,
                })
                .await
        }
        CommsCommand::List { id } => {
            let list = client
                .list(pb::ListCommunicationsRequest { incident_id: id })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner()
                .communications;
            return print_list(&list, target.format());
        }
        CommsCommand::Show { id, communication } => {
            let list = client
                .list(pb::ListCommunicationsRequest { incident_id: id })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner()
                .communications;
            let found = list
                .into_iter()
                .find(|c| c.communication_id == communication)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no communication {communication} on this incident; `comms list` shows them"
                    )
                })?;
            return show(&found, target.format());
        }
    };
    show(
        &one.map_err(|s| explain(&s, &hub))?.into_inner(),
        target.format(),
    )
}

pub fn comm_json(c: &pb::Communication) -> Value {
    json!({
        "communication_id": c.communication_id, "incident_id": c.incident_id,
        "audience": c.audience, "subject": c.subject, "body": c.body, "tlp": words::marking(c.tlp),
        "redactions": c.redactions, "drafted_by": c.drafted_by,
        "drafted_at": format_millis(c.drafted_at_ms), "state": words::comm_state(c.state),
        "counts_as_sent": c.counts_as_sent,
        "history": c.history.iter().map(|e| json!({
            "at": format_millis(e.at_ms), "actor": e.actor, "text": e.text,
        })).collect::<Vec<_>>(),
    })
}

fn print_list(list: &[pb::Communication], output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => print_json(&list.iter().map(comm_json).collect::<Vec<_>>()),
        OutputFormat::Table => {
            let mut t = table(&[
                "COMMUNICATION",
                "AUDIENCE",
                "TLP",
                "STATE",
                "SENT",
                "SUBJECT",
            ]);
            for c in list {
                t.add_row(vec![
                    c.communication_id.clone(),
                    c.audience.clone(),
                    words::marking(c.tlp),
                    words::comm_state(c.state),
                    if c.counts_as_sent { "yes" } else { "no" }.to_string(),
                    c.subject.clone(),
                ]);
            }
            socfed_runtime::outln!("{t}");
            Ok(())
        }
    }
}

fn show(c: &pb::Communication, output: OutputFormat) -> anyhow::Result<()> {
    if output == OutputFormat::Json {
        return print_json(&comm_json(c));
    }
    socfed_runtime::outln!(
        "communication {} to {} ({}), {}{}",
        c.communication_id,
        c.audience,
        c.tlp,
        c.state,
        if c.counts_as_sent {
            ", sent"
        } else {
            ", not sent"
        }
    );
    for r in &c.redactions {
        socfed_runtime::outln!("  withheld: {r}");
    }
    socfed_runtime::outln!("\nSubject: {}\n\n{}\n", c.subject, c.body);
    for e in &c.history {
        socfed_runtime::outln!("  {}  {}  {}", format_millis(e.at_ms), e.actor, e.text);
    }
    Ok(())
}
