//! `sirt-hub incidents export ID --format stix|ocsf|misp [--tlp-max T] [--out FILE]`: the
//! incident as the read path answers it (the TLP:RED rule applied by the hub), exported by
//! `intel::export` on this side. The document goes to stdout (terminal-safe JSON) or to
//! `--out`; what redaction withheld is said on stderr.

use crate::intel::export::{self, ExportInput, Format, Producer};
use clap::Args;
use socfed_proto::pb;
use socfed_proto::pb::hub_casework_client::HubCaseworkClient;
use socfed_proto::pb::observables_client::ObservablesClient;
use socfed_proto::pb::operator_client::OperatorClient;
use socfed_proto::vocab::Tlp;
use socfed_runtime::cli::explain;
use std::path::PathBuf;
use tonic::transport::Channel;

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub id: String,
    /// stix (a STIX 2.1 bundle), ocsf (an OCSF 1.3.0 Incident Finding) or misp (a MISP event).
    #[arg(long, value_parser = parse_format)]
    pub format: Format,
    /// The most sensitive marking the export may carry (clear, green, amber, amber+strict,
    /// red); facts marked above it are withheld. Default: the incident's own marking.
    #[arg(long)]
    pub tlp_max: Option<Tlp>,
    /// Write the document to FILE instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_format(raw: &str) -> Result<Format, String> {
    raw.parse()
}

pub async fn run(
    client: &mut OperatorClient<Channel>,
    args: ExportArgs,
    hub: &super::HubTarget,
    target: &str,
) -> anyhow::Result<()> {
    let incident = client
        .get_incident(pb::GetIncidentRequest {
            id: args.id.clone(),
        })
        .await
        .map_err(|s| explain(&s, target))?
        .into_inner();
    // Its case work as this operator may read it: observables, and the work log's notes.
    let observables = ObservablesClient::new(hub.channel()?)
        .list(pb::ListObservablesRequest {
            incident_id: args.id.clone(),
        })
        .await
        .map_err(|s| explain(&s, target))?
        .into_inner()
        .observables;
    let notes = HubCaseworkClient::new(hub.channel()?)
        .list_hub_incident_notes(pb::ListIncidentNotesRequest {
            incident_id: args.id.clone(),
        })
        .await
        .map_err(|s| explain(&s, target))?
        .into_inner()
        .notes;
    let input = ExportInput::from_incident(&incident)
        .with_observables(&observables)
        .with_notes(&notes);
    let tlp_max = args.tlp_max.unwrap_or(input.tlp);
    let out = export::incident(&input, args.format, tlp_max, &Producer::default());
    for line in &out.withheld {
        eprintln!("withheld: {line}");
    }
    match args.out {
        Some(path) => std::fs::write(&path, out.to_json() + "\n")
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        None => socfed_runtime::cli::print_json(&out.document)?,
    }
    Ok(())
}
