//! `sirt-hub hunt library ...`: the hub's hunt library (IOC sets run on a schedule as
//! detection at every site) over the `HuntLibrary` gRPC service.

use super::HubTarget;
use super::render::{print_json, table};
use clap::Subcommand;
use serde_json::{Value, json};
use socfed_proto::pb::{self, hunt_library_client::HuntLibraryClient};
use socfed_runtime::cli::{OutputFormat, explain, format_millis};
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Add an IOC set; enabled, it runs at once and then every --every.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// TYPE:VALUE (ip, domain, url, sha256, sha1, md5, email, cve); repeat for more.
        #[arg(long = "ioc", required = true)]
        iocs: Vec<String>,
        /// ATT&CK technique (T1071, T1059.001); repeat for more.
        #[arg(long = "technique")]
        techniques: Vec<String>,
        #[arg(long, default_value = "medium")]
        severity: String,
        #[arg(long, default_value = "amber")]
        tlp: String,
        /// How often it runs (5m to 30d); each run watches new alerts until the next.
        #[arg(long, default_value = "1h")]
        every: humantime::Duration,
        /// How far its first run searches stored alerts (later runs: one interval).
        #[arg(long, default_value = "30d")]
        lookback: humantime::Duration,
        /// Store it without running it until `enable`.
        #[arg(long)]
        disabled: bool,
    },
    /// Every library hunt, with its schedule and run count.
    List,
    /// One library hunt and the versions edits replaced.
    Show { id: String },
    /// A new version: what is given replaces what it had (--ioc replaces every indicator).
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long = "ioc")]
        iocs: Vec<String>,
        #[arg(long = "technique")]
        techniques: Vec<String>,
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        tlp: Option<String>,
        #[arg(long)]
        every: Option<humantime::Duration>,
        #[arg(long)]
        lookback: Option<humantime::Duration>,
    },
    /// Run it on its schedule again (due at once).
    Enable { id: String },
    /// Stop running it.
    Disable { id: String },
    /// Run it now, outside the schedule.
    Run { id: String },
    /// Runs, hits per site, last run and last hit.
    Stats { id: String },
    /// Add a library hunt from a STIX 2.1 bundle's indicators or a MISP event's attributes.
    Import {
        file: std::path::PathBuf,
        #[arg(long, value_parser = ["stix", "misp"])]
        format: String,
        /// Default: the source's own name.
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "medium")]
        severity: String,
        #[arg(long, default_value = "1h")]
        every: humantime::Duration,
        #[arg(long, default_value = "30d")]
        lookback: humantime::Duration,
        #[arg(long)]
        disabled: bool,
    },
}

/// The largest file `import` sends (the parsers' own bound).
const MAX_IMPORT_BYTES: u64 = 8 * 1024 * 1024;

fn secs(d: humantime::Duration) -> u64 {
    Duration::from(d).as_secs()
}

pub(crate) fn hunt_json(h: &pb::LibraryHunt) -> Value {
    json!({
        "id": h.id, "version": h.version, "name": h.name, "description": h.description,
        "indicators": h.indicators, "techniques": h.techniques, "severity": h.severity,
        "tlp": h.tlp, "interval_s": h.interval_s, "lookback_s": h.lookback_s,
        "enabled": h.enabled, "next_due_ms": h.next_due_ms, "runs": h.runs,
        "last_run_ms": h.last_run_ms, "rule_id": h.rule_id,
        "created_at_ms": h.created_at_ms, "created_by": h.created_by,
        "updated_at_ms": h.updated_at_ms, "updated_by": h.updated_by,
    })
}

pub(crate) fn stats_json(s: &pb::LibraryHuntStats) -> Value {
    json!({
        "id": s.id, "runs": s.runs, "last_run_ms": s.last_run_ms, "last_hit_ms": s.last_hit_ms,
        "hits": s.hits, "runs_read": s.runs_read,
        "sites": s.sites.iter().map(|site| json!({
            "site": site.site, "runs": site.runs, "runs_confirmed": site.runs_confirmed,
            "runs_with_hits": site.runs_with_hits, "hits": site.hits,
            "last_hit_ms": site.last_hit_ms,
        })).collect::<Vec<_>>(),
    })
}

fn when(ms: i64) -> String {
    if ms == 0 {
        "never".into()
    } else {
        format_millis(ms)
    }
}

fn print_hunt(h: &pb::LibraryHunt) -> std::io::Result<()> {
    socfed_runtime::outln!(
        "library hunt {} v{} {:?} ({}, TLP:{}): rule {}",
        h.id,
        h.version,
        h.name,
        h.severity,
        h.tlp.to_uppercase(),
        h.rule_id
    );
    socfed_runtime::outln!(
        "every {}s, lookback {}s, {}; next due {}; {} runs, last {}",
        h.interval_s,
        h.lookback_s,
        if h.enabled { "enabled" } else { "disabled" },
        if h.enabled {
            when(h.next_due_ms)
        } else {
            "-".into()
        },
        h.runs,
        when(h.last_run_ms)
    );
    socfed_runtime::outln!("indicators: {}", h.indicators.join(", "));
    if !h.techniques.is_empty() {
        socfed_runtime::outln!("techniques: {}", h.techniques.join(", "));
    }
    if !h.description.is_empty() {
        socfed_runtime::outln!("{}", h.description);
    }
    Ok(())
}

pub async fn run(command: LibraryCommand, target: &HubTarget) -> anyhow::Result<()> {
    let hub = target.name();
    let mut client = HuntLibraryClient::new(target.channel()?);
    let json = target.format() == OutputFormat::Json;
    let changed = match command {
        LibraryCommand::Add {
            name,
            description,
            iocs,
            techniques,
            severity,
            tlp,
            every,
            lookback,
            disabled,
        } => client
            .add(pb::LibraryHuntSpec {
                name,
                description,
                indicators: iocs,
                techniques,
                severity,
                tlp,
                interval_s: secs(every),
                lookback_s: secs(lookback),
                disabled,
            })
            .await
            .map_err(|s| explain(&s, &hub))?
            .into_inner(),
        LibraryCommand::Update {
            id,
            name,
            description,
            iocs,
            techniques,
            severity,
            tlp,
            every,
            lookback,
        } => {
            let current = client
                .get(pb::LibraryHuntId { id: id.clone() })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner()
                .hunt
                .unwrap_or_default();
            let or_list = |given: Vec<String>, had: Vec<String>| {
                if given.is_empty() { had } else { given }
            };
            let spec = pb::LibraryHuntSpec {
                name: name.unwrap_or(current.name),
                description: description.unwrap_or(current.description),
                indicators: or_list(iocs, current.indicators),
                techniques: or_list(techniques, current.techniques),
                severity: severity.unwrap_or(current.severity),
                tlp: tlp.unwrap_or(current.tlp),
                interval_s: every.map_or(current.interval_s, secs),
                lookback_s: lookback.map_or(current.lookback_s, secs),
                disabled: false,
            };
            client
                .update(pb::UpdateLibraryHuntRequest {
                    id,
                    spec: Some(spec),
                })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner()
        }
        LibraryCommand::Enable { id } => client
            .set_enabled(pb::SetLibraryHuntEnabledRequest { id, enabled: true })
            .await
            .map_err(|s| explain(&s, &hub))?
            .into_inner(),
        LibraryCommand::Disable { id } => client
            .set_enabled(pb::SetLibraryHuntEnabledRequest { id, enabled: false })
            .await
            .map_err(|s| explain(&s, &hub))?
            .into_inner(),
        LibraryCommand::Import {
            file,
            format,
            name,
            severity,
            every,
            lookback,
            disabled,
        } => {
            let size = std::fs::metadata(&file)?.len();
            anyhow::ensure!(
                size <= MAX_IMPORT_BYTES,
                "{} is {size} bytes; an import takes at most {MAX_IMPORT_BYTES}",
                file.display()
            );
            let data = std::fs::read(&file)?;
            let imported = client
                .import(pb::ImportLibraryHuntRequest {
                    data,
                    format,
                    name,
                    severity,
                    interval_s: secs(every),
                    lookback_s: secs(lookback),
                    disabled,
                })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner();
            let hunt = imported.hunt.unwrap_or_default();
            if json {
                print_json(&json!({
                    "hunt": hunt_json(&hunt), "taken": imported.taken,
                    "not_taken": imported.not_taken,
                }))?;
            } else {
                print_hunt(&hunt)?;
                socfed_runtime::outln!(
                    "{} indicators taken; {} not taken",
                    imported.taken,
                    imported.not_taken.len()
                );
                for line in &imported.not_taken {
                    socfed_runtime::outln!("  {line}");
                }
            }
            return Ok(());
        }
        LibraryCommand::Run { id } => {
            let run = client
                .run(pb::LibraryHuntId { id })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner();
            let library = run.library.unwrap_or_default();
            if json {
                print_json(&json!({"library": hunt_json(&library), "hunt_id": run.hunt_id}))?;
            } else {
                socfed_runtime::outln!(
                    "library hunt {} run {} started: hunt {} (`sirt-hub hunt status {}`)",
                    library.id,
                    library.runs,
                    run.hunt_id,
                    run.hunt_id
                );
            }
            return Ok(());
        }
        LibraryCommand::List => {
            let list = client
                .list(pb::ListLibraryHuntsRequest {})
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner();
            if json {
                print_json(&json!({
                    "hunts": list.hunts.iter().map(hunt_json).collect::<Vec<_>>()
                }))?;
                return Ok(());
            }
            let mut t = table(&[
                "ID", "VERSION", "NAME", "SEVERITY", "EVERY", "STATE", "NEXT DUE", "RUNS",
            ]);
            for h in &list.hunts {
                t.add_row(vec![
                    h.id.clone(),
                    h.version.to_string(),
                    h.name.clone(),
                    h.severity.clone(),
                    format!("{}s", h.interval_s),
                    if h.enabled { "enabled" } else { "disabled" }.to_string(),
                    if h.enabled {
                        when(h.next_due_ms)
                    } else {
                        "-".into()
                    },
                    h.runs.to_string(),
                ]);
            }
            socfed_runtime::outln!("{t}");
            return Ok(());
        }
        LibraryCommand::Show { id } => {
            let detail = client
                .get(pb::LibraryHuntId { id })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner();
            let hunt = detail.hunt.unwrap_or_default();
            if json {
                print_json(&json!({
                    "hunt": hunt_json(&hunt),
                    "versions": detail.versions.iter().map(hunt_json).collect::<Vec<_>>(),
                }))?;
                return Ok(());
            }
            print_hunt(&hunt)?;
            for v in &detail.versions {
                socfed_runtime::outln!(
                    "version {} by {} at {}: {:?}, {} indicators",
                    v.version,
                    v.updated_by,
                    format_millis(v.updated_at_ms),
                    v.name,
                    v.indicators.len()
                );
            }
            return Ok(());
        }
        LibraryCommand::Stats { id } => {
            let stats = client
                .stats(pb::LibraryHuntId { id })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner();
            if json {
                print_json(&stats_json(&stats))?;
                return Ok(());
            }
            socfed_runtime::outln!(
                "library hunt {}: {} runs, last {}; {} hits, last {}",
                stats.id,
                stats.runs,
                when(stats.last_run_ms),
                stats.hits,
                when(stats.last_hit_ms)
            );
            let mut t = table(&["SITE", "RUNS", "CONFIRMED", "WITH HITS", "HITS", "LAST HIT"]);
            for s in &stats.sites {
                t.add_row(vec![
                    s.site.clone(),
                    s.runs.to_string(),
                    s.runs_confirmed.to_string(),
                    s.runs_with_hits.to_string(),
                    s.hits.to_string(),
                    when(s.last_hit_ms),
                ]);
            }
            socfed_runtime::outln!("{t}");
            return Ok(());
        }
    };
    if json {
        print_json(&hunt_json(&changed))?;
    } else {
        print_hunt(&changed)?;
    }
    Ok(())
}
