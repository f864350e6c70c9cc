//! `sirt-hub incidents observables ID`, `sirt-hub incidents observable ID add|flag|unflag|remove
//! TYPE:VALUE` and `sirt-hub observables lookup TYPE:VALUE`: an incident's observables with
//! the other incidents holding each, an analyst's change to one, and the incidents holding an
//! indicator, over the `Observables` service.

use super::HubTarget;
use super::render::{print_json, table};
use crate::view::observables::flags;
use crate::view::words;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use socfed_proto::pb::{self, observables_client::ObservablesClient};
use socfed_runtime::cli::{OutputFormat, explain, format_millis};

/// `sirt-hub incidents observable ID ACTION TYPE:VALUE`.
#[derive(Debug, Args)]
pub struct ObservableArgs {
    /// The incident.
    pub id: String,
    #[command(subcommand)]
    pub action: ObservableAction,
}

#[derive(Debug, Subcommand)]
pub enum ObservableAction {
    /// Add TYPE:VALUE (ip, domain, url, sha256, sha1, md5, email, cve) with these flags.
    Add {
        indicator: String,
        #[command(flatten)]
        flags: Flags,
    },
    /// Set flags on an observable.
    Flag {
        indicator: String,
        #[command(flatten)]
        flags: Flags,
    },
    /// Clear flags (`--tlp` with any value clears its own marking).
    Unflag {
        indicator: String,
        #[command(flatten)]
        flags: Flags,
    },
    /// Remove the observable from the incident.
    Remove { indicator: String },
}

#[derive(Debug, Args, Default)]
pub struct Flags {
    /// An indicator of compromise.
    #[arg(long)]
    pub ioc: bool,
    /// Seen in the organisation.
    #[arg(long)]
    pub sighted: bool,
    /// A tag (repeatable): letters, digits and - _ . : = / +, up to 64 bytes.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// The observable's own TLP: clear, green, amber, amber+strict, red.
    #[arg(long)]
    pub tlp: Option<socfed_proto::vocab::Tlp>,
}

#[derive(Debug, Args)]
pub struct ObservablesArgs {
    #[command(subcommand)]
    pub command: ObservablesCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum ObservablesCommand {
    /// The incidents you may read that hold TYPE:VALUE, newest first, with each one's
    /// flags and per-site reports of it.
    Lookup {
        indicator: String,
        /// At most this many incidents (at most 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

async fn client(
    target: &HubTarget,
) -> anyhow::Result<ObservablesClient<tonic::transport::Channel>> {
    Ok(ObservablesClient::new(target.channel()?))
}

/// `incidents observables ID`.
pub async fn list(id: String, target: &HubTarget) -> anyhow::Result<()> {
    let list = client(target)
        .await?
        .list(pb::ListObservablesRequest { incident_id: id })
        .await
        .map_err(|s| explain(&s, &target.name()))?
        .into_inner();
    match target.format() {
        OutputFormat::Json => print_json(&json!({
            "incident_id": list.incident_id,
            "observables": list.observables.iter().map(observable_json).collect::<Vec<_>>(),
        })),
        OutputFormat::Table => {
            let mut t = table(&[
                "OBSERVABLE",
                "FLAGS",
                "TLP",
                "SITES (count, last seen)",
                "ALSO IN",
            ]);
            for o in &list.observables {
                t.add_row(vec![
                    indicator_of(o),
                    flags(o),
                    own_tlp(o),
                    o.sites
                        .iter()
                        .map(|s| {
                            format!(
                                "{} ({}, {})",
                                s.site,
                                s.count,
                                format_millis(s.last_seen_ms)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    o.also_in
                        .iter()
                        .map(|e| format!("{} ({})", e.incident_id, e.sites.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; "),
                ]);
            }
            socfed_runtime::outln!("{t}");
            Ok(())
        }
    }
}

/// `incidents observable ID ACTION TYPE:VALUE`.
pub async fn change(args: ObservableArgs, target: &HubTarget) -> anyhow::Result<()> {
    let (action, indicator, asked) = match args.action {
        ObservableAction::Add { indicator, flags } => (pb::ObservableAction::Add, indicator, flags),
        ObservableAction::Flag { indicator, flags } => {
            (pb::ObservableAction::Flag, indicator, flags)
        }
        ObservableAction::Unflag { indicator, flags } => {
            (pb::ObservableAction::Unflag, indicator, flags)
        }
        ObservableAction::Remove { indicator } => {
            (pb::ObservableAction::Remove, indicator, Flags::default())
        }
    };
    let answer = client(target)
        .await?
        .change(pb::ChangeObservableRequest {
            incident_id: args.id.clone(),
            indicator: indicator.clone(),
            action: action as i32,
            ioc: asked.ioc,
            sighted: asked.sighted,
            tags: asked.tags,
            tlp: asked.tlp.map_or(pb::Tlp::Unspecified, |t| t.to_wire()) as i32,
        })
        .await
        .map_err(|s| explain(&s, &target.name()))?
        .into_inner();
    match (target.format(), answer.observable) {
        (OutputFormat::Json, Some(o)) => print_json(&observable_json(&o)),
        (OutputFormat::Json, None) => print_json(&json!({ "removed": indicator })),
        (OutputFormat::Table, Some(o)) => {
            socfed_runtime::outln!(
                "{} on incident {}: {}",
                indicator_of(&o),
                args.id,
                flags(&o)
            );
            Ok(())
        }
        (OutputFormat::Table, None) => {
            socfed_runtime::outln!("{indicator} removed from incident {}", args.id);
            Ok(())
        }
    }
}

/// `observables lookup TYPE:VALUE`.
pub async fn run(args: ObservablesArgs) -> anyhow::Result<()> {
    let target = &args.target;
    match args.command {
        ObservablesCommand::Lookup { indicator, limit } => {
            let found = client(target)
                .await?
                .lookup(pb::LookupObservableRequest { indicator, limit })
                .await
                .map_err(|s| explain(&s, &target.name()))?
                .into_inner();
            let text = found
                .indicator
                .as_ref()
                .map(words::indicator)
                .unwrap_or_default();
            match target.format() {
                OutputFormat::Json => print_json(&lookup_json(&found)),
                OutputFormat::Table => {
                    if found.incidents.is_empty() {
                        socfed_runtime::outln!("no incident you may read holds {text}");
                        return Ok(());
                    }
                    let mut t = table(&["INCIDENT", "STATUS", "TITLE", "FLAGS", "SITES"]);
                    for h in &found.incidents {
                        let o = h.observable.clone().unwrap_or_default();
                        t.add_row(vec![
                            h.incident_id.clone(),
                            h.status.clone(),
                            h.title.clone(),
                            flags(&o),
                            o.sites
                                .iter()
                                .map(|s| format!("{} ({})", s.site, s.count))
                                .collect::<Vec<_>>()
                                .join(", "),
                        ]);
                    }
                    socfed_runtime::outln!("{text}\n{t}");
                    Ok(())
                }
            }
        }
    }
}

fn indicator_of(o: &pb::Observable) -> String {
    o.indicator
        .as_ref()
        .map(words::indicator)
        .unwrap_or_default()
}

/// A lookup as `--output json` prints it (and `/api/v1/observables/{indicator}` answers it).
pub fn lookup_json(found: &pb::ObservableLookup) -> Value {
    json!({
        "indicator": found.indicator.as_ref().map(words::indicator).unwrap_or_default(),
        "incidents": found.incidents.iter().map(|h| json!({
            "incident_id": h.incident_id, "title": h.title, "status": h.status,
            "observable": h.observable.as_ref().map(observable_json),
        })).collect::<Vec<_>>(),
    })
}

/// The observable's own marking, or that it follows the incident's.
fn own_tlp(o: &pb::Observable) -> String {
    if o.tlp == 0 {
        "(incident's)".into()
    } else {
        words::tlp(o.tlp).into()
    }
}

/// One observable as `--output json` prints it (and `/api/v1` answers it).
pub fn observable_json(o: &pb::Observable) -> Value {
    json!({
        "indicator": indicator_of(o),
        "ioc": o.ioc,
        "sighted": o.sighted,
        "tags": o.tags,
        "tlp": (o.tlp != 0).then(|| words::tlp(o.tlp)),
        "sites": o.sites.iter().map(|s| json!({
            "site": s.site, "first_seen": format_millis(s.first_seen_ms),
            "last_seen": format_millis(s.last_seen_ms), "count": s.count,
        })).collect::<Vec<_>>(),
        "added_by": if o.added_by_site.is_empty() {
            json!({ "analyst": o.added_by_analyst })
        } else {
            json!({ "site": o.added_by_site })
        },
        "added_at": format_millis(o.added_at_ms),
        "updated_at": format_millis(o.updated_at_ms),
        "also_in": o.also_in.iter().map(|e| json!({
            "incident_id": e.incident_id, "title": e.title, "status": e.status, "sites": e.sites,
        })).collect::<Vec<_>>(),
    })
}
