//! `site-agent incidents notes|note|remove` and `site-agent kpis` over `SiteCasework`:
//! an incident's work log, taking a group out of an incident, the site's triage KPIs.
//! Everything from the agent is cleaned for the terminal (`render::clean`, tables clean
//! their cells).

use super::render;
use super::{Conn, Soc};
use clap::Args;
use serde_json::{Value, json};
use socfed_proto::pb::{self, site_casework_client::SiteCaseworkClient};
use socfed_proto::vocab::Tlp;
use socfed_runtime::cli::{OutputFormat, format_millis};

async fn client(
    conn: &Conn,
) -> anyhow::Result<(SiteCaseworkClient<tonic::transport::Channel>, Soc)> {
    // `Soc` explains a failed call (`soc.explain`); the casework client shares its channel.
    let soc = Soc::connect(conn)?;
    Ok((SiteCaseworkClient::new(conn.channel()?), soc))
}

pub use socfed_runtime::cli::notes::parse_tlp;
use socfed_runtime::cli::notes::{added_line, note_json, notes_json, notes_table};

/// `incidents notes ID`.
pub async fn notes(id: String, conn: Conn) -> anyhow::Result<()> {
    let (mut client, soc) = client(&conn).await?;
    let notes = client
        .list_incident_notes(pb::ListIncidentNotesRequest { incident_id: id })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner()
        .notes;
    match conn.format() {
        OutputFormat::Json => render::print_json(&notes_json(&notes))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", notes_table(&notes)),
    }
    Ok(())
}

/// `incidents note ID --text T [--tlp red]`.
pub async fn note(id: String, text: String, tlp: Option<Tlp>, conn: Conn) -> anyhow::Result<()> {
    let (mut client, soc) = client(&conn).await?;
    let added = client
        .add_incident_note(pb::AddIncidentNoteRequest {
            incident_id: id.clone(),
            text,
            tlp: Tlp::optional_to_wire(tlp),
        })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match conn.format() {
        OutputFormat::Json => render::print_json(&note_json(&added))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", added_line(&added, &id)),
    }
    Ok(())
}

/// `incidents remove ID GROUP`.
pub async fn remove(id: String, group_id: String, conn: Conn) -> anyhow::Result<()> {
    let (mut client, soc) = client(&conn).await?;
    let incident = client
        .remove_from_local_incident(pb::RemoveFromLocalIncidentRequest {
            incident_id: id,
            alert_group_id: group_id,
        })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match conn.format() {
        OutputFormat::Json => render::print_json(&render::incident_json(&incident))?,
        OutputFormat::Table => {
            socfed_runtime::outln!("removed from: {}", render::incident_brief(&incident))
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct KpisArgs {
    /// How many weeks back (1 to 52).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=52))]
    pub weeks: u32,
    #[command(flatten)]
    pub conn: Conn,
}

fn ms(v: Option<i64>) -> String {
    v.map_or_else(
        || "-".into(),
        |ms| render::short_duration(ms.unsigned_abs()),
    )
}

fn durations_json(d: Option<&pb::KpiDurations>) -> Value {
    let d = d.cloned().unwrap_or_default();
    json!({ "count": d.count, "median_ms": d.median_ms, "p90_ms": d.p90_ms })
}

/// A row with its timings beside its own fields (`row` is a JSON object), the shape of
/// `GET /api/v1/kpis`.
fn with_timings(mut row: Value, t: Option<&pb::KpiTimings>) -> Value {
    let t = t.cloned().unwrap_or_default();
    row["acknowledge"] = durations_json(t.acknowledge.as_ref());
    row["escalate"] = durations_json(t.escalate.as_ref());
    row["close"] = durations_json(t.close.as_ref());
    row
}

fn kpis_json(k: &pb::SiteKpis) -> Value {
    json!({
        "weeks": k.weeks,
        "from_ms": k.from_ms,
        "to_ms": k.to_ms,
        "scanned": k.scanned,
        "truncated": k.truncated,
        "tiers": k.tiers.iter().map(|t| with_timings(json!({"tier": t.tier}), t.timings.as_ref())).collect::<Vec<_>>(),
        "analysts": k.analysts.iter().map(|a| with_timings(json!({"analyst": a.analyst, "groups_handled": a.groups_handled}), a.timings.as_ref())).collect::<Vec<_>>(),
        "rules": k.rules.iter().map(|r| json!({
            "rule_id": r.rule_id, "closed": r.closed, "false_positive": r.false_positive,
            "false_positive_rate": if r.closed == 0 { 0.0 } else { r.false_positive as f64 / r.closed as f64 },
        })).collect::<Vec<_>>(),
        "shifts": k.shifts.iter().map(|s| json!({"shift": s.shift, "groups_handled": s.groups_handled})).collect::<Vec<_>>(),
        "trend": k.trend.iter().map(|w| json!({
            "week": w.week, "acknowledged": w.acknowledged, "escalated": w.escalated,
            "closed": w.closed, "false_positive": w.false_positive,
            "median_acknowledge_ms": w.median_acknowledge_ms,
        })).collect::<Vec<_>>(),
    })
}

/// One row's timing cells: count, median and p90 of each measure.
fn timing_cells(t: Option<&pb::KpiTimings>) -> Vec<String> {
    let t = t.cloned().unwrap_or_default();
    [t.acknowledge, t.escalate, t.close]
        .into_iter()
        .flat_map(|d| {
            let d = d.unwrap_or_default();
            [d.count.to_string(), ms(d.median_ms), ms(d.p90_ms)]
        })
        .collect()
}

const TIMING_HEADERS: [&str; 9] = [
    "ack n",
    "ack p50",
    "ack p90",
    "esc n",
    "esc p50",
    "esc p90",
    "close n",
    "close p50",
    "close p90",
];

fn kpis_text(k: &pb::SiteKpis) -> String {
    let mut out = format!(
        "KPIs of the last {} week(s): {} to {} ({} audit entries read{})\n\nPer tier\n",
        k.weeks,
        format_millis(k.from_ms),
        format_millis(k.to_ms),
        k.scanned,
        if k.truncated {
            "; older history not read"
        } else {
            ""
        }
    );
    let mut tiers = render::table(&[&["tier"][..], &TIMING_HEADERS].concat());
    for t in &k.tiers {
        tiers.add_row([vec![t.tier.to_string()], timing_cells(t.timings.as_ref())].concat());
    }
    out.push_str(&format!("{tiers}\n\nPer analyst\n"));
    let mut people = render::table(&[&["analyst", "groups"][..], &TIMING_HEADERS].concat());
    for a in &k.analysts {
        people.add_row(
            [
                vec![a.analyst.clone(), a.groups_handled.to_string()],
                timing_cells(a.timings.as_ref()),
            ]
            .concat(),
        );
    }
    out.push_str(&format!("{people}\n\nFalse positives per rule\n"));
    let mut rules = render::table(&["rule", "closed", "false positive", "rate"]);
    for r in &k.rules {
        let rate = if r.closed == 0 {
            0.0
        } else {
            r.false_positive as f64 * 100.0 / r.closed as f64
        };
        rules.add_row([
            r.rule_id.clone(),
            r.closed.to_string(),
            r.false_positive.to_string(),
            format!("{rate:.0}%"),
        ]);
    }
    out.push_str(&format!("{rules}\n\nWorkload per shift\n"));
    let mut shifts = render::table(&["shift", "groups"]);
    for s in &k.shifts {
        shifts.add_row([s.shift.clone(), s.groups_handled.to_string()]);
    }
    out.push_str(&format!("{shifts}\n\nPer ISO week\n"));
    let mut weeks = render::table(&[
        "week",
        "acknowledged",
        "ack p50",
        "escalated",
        "closed",
        "false positive",
    ]);
    for w in &k.trend {
        weeks.add_row([
            w.week.clone(),
            w.acknowledged.to_string(),
            ms(w.median_acknowledge_ms),
            w.escalated.to_string(),
            w.closed.to_string(),
            w.false_positive.to_string(),
        ]);
    }
    out.push_str(&weeks.to_string());
    out
}

/// `site-agent kpis`.
pub async fn kpis(args: KpisArgs) -> anyhow::Result<()> {
    let (mut client, soc) = client(&args.conn).await?;
    let kpis = client
        .get_site_kpis(pb::GetSiteKpisRequest { weeks: args.weeks })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match args.conn.format() {
        OutputFormat::Json => render::print_json(&kpis_json(&kpis))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", kpis_text(&kpis)),
    }
    Ok(())
}
