//! `sirt-hub report` and `sirt-hub kpis`: one incident as a document, and response KPIs.

use super::HubTarget;
use super::query::{client, list_incidents};
use super::render;
use clap::Args;
use socfed_proto::pb;
use socfed_runtime::cli::{OutputFormat, explain};

/// `--output json` prints the report as one JSON document instead of `--format`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    pub id: String,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Who the report is for (executives, board, legal, clients, regulators): notes marked
    /// above what they are cleared for are withheld.
    #[arg(long)]
    pub audience: Option<crate::comms::Audience>,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
}

pub async fn report(args: ReportArgs) -> anyhow::Result<()> {
    let mut client = client(&args.target)?;
    let incident = client
        .get_incident(pb::GetIncidentRequest { id: args.id })
        .await
        .map_err(|s| explain(&s, &args.target.name()))?
        .into_inner();
    let (directives, communications) =
        super::response::incident_extras(&incident.id, &args.target).await?;
    let notes = pb::hub_casework_client::HubCaseworkClient::new(args.target.channel()?)
        .list_hub_incident_notes(pb::ListIncidentNotesRequest {
            incident_id: incident.id.clone(),
        })
        .await
        .map_err(|s| explain(&s, &args.target.name()))?
        .into_inner()
        .notes;
    let report = crate::report::Report {
        incident,
        directives,
        communications,
        notes,
        audience: args.audience,
    };
    // `--output json` is the report as one JSON document (the sections of the other formats).
    if matches!(args.target.format(), OutputFormat::Json) {
        return render::print_json(&crate::report::json(&report));
    }
    let text = match args.format {
        ReportFormat::Markdown => crate::report::markdown(&report),
        ReportFormat::Html => crate::report::html(&report),
    };
    socfed_runtime::outln!("{}", text.trim_end());
    Ok(())
}

#[derive(Debug, Args)]
pub struct KpisArgs {
    /// Most incidents to include (newest first).
    #[arg(long, default_value_t = 100_000)]
    pub limit: usize,
    #[command(flatten)]
    pub target: HubTarget,
}

pub async fn kpis(args: KpisArgs) -> anyhow::Result<()> {
    let mut client = client(&args.target)?;
    let incidents = list_incidents(&mut client, pb::ListIncidentsRequest::default(), args.limit)
        .await
        .map_err(|s| explain(&s, &args.target.name()))?;
    let (overall, per_site) = crate::report::kpis(&incidents);
    match args.target.format() {
        OutputFormat::Json => {
            render::print_json(&serde_json::json!({"overall": overall, "sites": per_site}))?
        }
        OutputFormat::Table => {
            let age = |ms: Option<i64>| {
                ms.map_or("-".to_string(), |m| {
                    socfed_runtime::cli::format_age(m.max(0) as u64)
                })
            };
            let mut t = render::table(&[
                "scope",
                "incidents",
                "to triage (median)",
                "to contain",
                "to resolve",
            ]);
            t.add_row(vec![
                "all sites".to_string(),
                overall.incidents.to_string(),
                age(overall.to_triage_ms),
                age(overall.to_contain_ms),
                age(overall.to_resolve_ms),
            ]);
            for (site, k) in &per_site {
                t.add_row(vec![
                    site.clone(),
                    k.incidents.to_string(),
                    age(k.to_triage_ms),
                    age(k.to_contain_ms),
                    age(k.to_resolve_ms),
                ]);
            }
            socfed_runtime::outln!("{t}");
        }
    }
    Ok(())
}
