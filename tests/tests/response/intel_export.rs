//! A two-site incident exported by the real `sirt-hub` binary (and the API) as a STIX 2.1
//! bundle, an OCSF Incident Finding and a MISP event, each checked by an independent
//! validator run as a process (`.ci/run` installs them into `target/validators` and sets
//! `SOCFED_REQUIRE_VALIDATORS=1`, where a missing one fails the test); redacted to a lower
//! TLP, nothing above it leaves; hostile text from a site stays escaped JSON; the incident's
//! IOC set exported as STIX imports back indicator for indicator.

use socfed_proto::pb;
use socfed_tests::{api, clients, eventually, fixture::Org};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const EXTRA: &str =
    "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";
const HOSTILE: &str = "Beacon \"C2\" <script>alert(1)</script> \\ 'x' & more";

/// The validators' virtual environment, or `None` (a failure under
/// `SOCFED_REQUIRE_VALIDATORS=1`).
fn validators() -> Option<PathBuf> {
    let dir = std::env::var_os("SOCFED_VALIDATORS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/validators"),
        PathBuf::from,
    );
    let found = dir.join("bin/stix2_validator").is_file() && dir.join("bin/python").exists();
    if !found {
        assert!(
            std::env::var("SOCFED_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
            "the export validators are required (SOCFED_REQUIRE_VALIDATORS=1) but {} has none: .ci/run installs them",
            dir.display()
        );
        eprintln!(
            "skipping the independent validators: none in {}",
            dir.display()
        );
        return None;
    }
    Some(dir)
}

/// Runs the independent validator of `format` on `file`; fails with its output.
fn validate(dir: &Path, format: &str, file: &Path) -> anyhow::Result<()> {
    let mut command = if format == "stix" {
        // 103: ids SHOULD be UUIDv4; ours are UUIDv5 on purpose, so re-exports are stable.
        // 303: an indicator SHOULD have a description; an IOC set's entries may have none.
        let mut c = Command::new(dir.join("bin/stix2_validator"));
        c.args(["--strict", "-d", "103,303", "-q"]);
        c
    } else {
        let mut c = Command::new(dir.join("bin/python"));
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("validators/check_export.py"))
            .arg(format);
        c
    };
    let out = command.arg(file).output()?;
    anyhow::ensure!(
        out.status.success(),
        "{format} validator refused {}: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn raise(title: &str, tlp: pb::Tlp) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        title: title.into(),
        severity: pb::Severity::High as i32,
        tlp: tlp as i32,
        rule_id: "C2-BEACON".into(),
        techniques: vec!["T1071".into()],
        indicators: vec![
            pb::Indicator {
                kind: pb::IndicatorKind::Ipv4 as i32,
                value: "198.51.100.7".into(),
            },
            pb::Indicator {
                kind: pb::IndicatorKind::Domain as i32,
                value: "c2.evil.example".into(),
            },
        ],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_site_incident_exports_valid_stix_ocsf_and_misp() -> anyhow::Result<()> {
    let validators = validators();
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    let id = clients::raise_and_find(
        paris.local_addr,
        hub.addr,
        &org.pki,
        raise(HOSTILE, pb::Tlp::Amber),
        "ines",
    )
    .await?;
    clients::raise_and_find(
        lyon.local_addr,
        hub.addr,
        &org.pki,
        raise("beacon at lyon", pb::Tlp::Amber),
        "ines",
    )
    .await?;
    let mut ines_grpc = org.operator(hub.addr, "ines")?;
    eventually(
        "both sites in one incident",
        Duration::from_secs(20),
        || {
            let mut c = ines_grpc.clone();
            let id = id.clone();
            async move {
                let i = c
                    .get_incident(pb::GetIncidentRequest { id })
                    .await
                    .ok()?
                    .into_inner();
                (i.sightings.len() == 2).then_some(())
            }
        },
    )
    .await?;
    let ines = org.hub_cli(hub.addr, "ines")?;

    for format in ["stix", "ocsf", "misp"] {
        // Full export to a file, and a TLP:GREEN one to stdout.
        let file = org.dir().join(format!("export.{format}.json"));
        ines.ok(&[
            "incidents",
            "export",
            &id,
            "--format",
            format,
            "--out",
            &file.to_string_lossy(),
        ])?;
        let text = std::fs::read_to_string(&file)?;
        let doc: serde_json::Value = serde_json::from_str(&text)?;
        for fact in ["198.51.100.7", "c2.evil.example", "paris", "lyon", "T1071"] {
            assert!(text.contains(fact), "{format} export lacks {fact}");
        }
        assert!(
            doc.to_string()
                .contains("Beacon \\\"C2\\\" <script>alert(1)</script> \\\\ 'x' & more"),
            "{format}: the site's title kept, escaped as JSON"
        );
        let out = ines.run(&[
            "incidents",
            "export",
            &id,
            "--format",
            format,
            "--tlp-max",
            "green",
        ])?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let green = String::from_utf8(out.stdout)?;
        serde_json::from_str::<serde_json::Value>(&green)?;
        for secret in [
            "198.51.100.7",
            "c2.evil.example",
            "paris",
            "lyon",
            "T1071",
            "Beacon",
            "ines",
        ] {
            assert!(
                !green.contains(secret),
                "{format} TLP:GREEN export carries {secret}"
            );
        }
        assert!(String::from_utf8_lossy(&out.stderr).contains("withheld"));
        let green_file = org.dir().join(format!("export.{format}.green.json"));
        std::fs::write(&green_file, &green)?;
        if let Some(dir) = &validators {
            validate(dir, format, &file)?;
            validate(dir, format, &green_file)?;
        }
    }

    // The STIX bundle: an identity per site and the SIRT, a sighting per site and indicator.
    let bundle: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        org.dir().join("export.stix.json"),
    )?)?;
    let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
    let of = |t: &str| {
        objects
            .iter()
            .filter(|o| o["type"] == t)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(of("identity").len(), 3);
    assert_eq!(of("sighting").len(), 4);
    assert_eq!(of("observed-data").len(), 2);
    for s in of("sighting") {
        assert_eq!(s["where_sighted_refs"].as_array().map(Vec::len), Some(1));
        assert!(s["count"].as_u64() >= Some(1));
    }
    // Re-exports are the same document.
    let again = ines.ok(&["incidents", "export", &id, "--format", "stix"])?;
    assert_eq!(serde_json::from_str::<serde_json::Value>(&again)?, bundle);

    // The incident's IOC set as STIX, imported back: every indicator.
    let set = sirt_hub::intel::import::stix_bundle(bundle.to_string().as_bytes())?;
    let incident = ines_grpc
        .get_incident(pb::GetIncidentRequest { id: id.clone() })
        .await?
        .into_inner();
    let mut want: Vec<String> = incident
        .indicators
        .iter()
        .map(socfed_proto::vocab::indicator_text)
        .collect();
    let mut got: Vec<String> = set
        .entries
        .iter()
        .map(|e| e.indicator.to_string())
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let ioc_bundle = sirt_hub::intel::export::ioc_set_bundle(
        &id,
        &set.entries,
        socfed_proto::vocab::Tlp::Amber,
        incident.created_at_ms,
        &Default::default(),
    );
    let ioc_file = org.dir().join("iocs.stix.json");
    std::fs::write(&ioc_file, serde_json::to_string_pretty(&ioc_bundle)?)?;
    if let Some(dir) = &validators {
        validate(dir, "stix", &ioc_file)?;
    }
    let back = sirt_hub::intel::import::stix_bundle(&std::fs::read(&ioc_file)?)?;
    assert_eq!(
        back.entries,
        set.entries
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.source_ref = back
                    .entries
                    .iter()
                    .find(|b| b.indicator == e.indicator)
                    .map(|b| b.source_ref.clone())
                    .unwrap_or_default();
                e
            })
            .collect::<Vec<_>>()
    );
    assert!(back.refused.is_empty());

    // The API: the STIX media type, read scope; a TLP:RED incident only for its readers.
    let base = api::base(&hub)?;
    let response = api::with_certificate(&org.pki, "zoe")?
        .get(format!(
            "{base}/incidents/{id}/export?format=stix&tlp_max=green"
        ))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/stix+json;version=2.1")
    );
    let body = response.text().await?;
    assert!(!body.contains("c2.evil.example"));
    clients::transition(&mut ines_grpc, &id, pb::LifecycleCommand::SetTlp, "red").await?;
    let refused = api::with_certificate(&org.pki, "zoe")?
        .get(format!("{base}/incidents/{id}/export?format=misp"))
        .send()
        .await?;
    assert_eq!(refused.status(), 403);
    let zoe = org.hub_cli(hub.addr, "zoe")?;
    let why = zoe.fails(&["incidents", "export", &id, "--format", "ocsf"])?;
    assert!(why.contains("TLP:RED"), "{why}");
    let red = ines.ok(&["incidents", "export", &id, "--format", "ocsf"])?;
    assert!(red.contains("TLP:RED") && red.contains("c2.evil.example"));
    let bad = api::with_certificate(&org.pki, "ines")?
        .get(format!("{base}/incidents/{id}/export?format=pdf"))
        .send()
        .await?;
    assert_eq!(bad.status(), 400);
    Ok(())
}
