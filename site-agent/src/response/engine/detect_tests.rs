//! Detection mode at the site: a library hunt's hits raise local alerts through intake,
//! once per matched group (a resent directive or a second match raises nothing more), and
//! never on the hunt's own alerts; hostile parameters are refused.

use super::ResponseEngine;
use crate::response::{KIND_SWEEP, ResponseConfig, State};
use crate::service::ManualClock;
use crate::service::intake::tests::{manager, open, service};
use crate::soc::alert::Format;
use crate::store::GroupFilter;
use socfed_proto::pb;
use std::sync::Arc;
use ulid::Ulid;

const NOW: i64 = 1_700_000_000_000;

fn line(id: u32, indicator: &str) -> (u64, String) {
    (
        u64::from(id),
        format!(
            r#"{{"id":"e-{id}","observed_at":{NOW},"rule_id":"R-{id}","severity":"low","hosts":["ws-{id}"],"indicators":["{indicator}"]}}"#
        ),
    )
}

fn sweep(library: Ulid, run: Ulid, extra: &[(&str, &str)]) -> pb::Directive {
    let mut params: std::collections::HashMap<String, String> = [
        ("indicators", "domain:evil.example".to_string()),
        ("duration_ms", "600000".to_string()),
        ("lookback_ms", "86400000".to_string()),
        ("time", "received".to_string()),
        ("mode", "detect".to_string()),
        ("hunt_id", run.to_string()),
        ("rule_id", format!("hunt:{library}")),
        ("title", "Emotet C2".to_string()),
        ("severity", "high".to_string()),
        ("techniques", "T1071,T1105".to_string()),
        ("tlp", "amber".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        params.insert((*k).to_string(), (*v).to_string());
    }
    pb::Directive {
        directive_id: Ulid::new().to_string(),
        incident_id: String::new(),
        kind: KIND_SWEEP.into(),
        params,
        issued_at_ms: NOW,
        expires_at_ms: 0,
        issued_by: "hunt library".into(),
    }
}

#[test]
fn a_detection_hit_raises_one_local_alert_per_matched_group_and_never_on_its_own()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(NOW));
    let (engine, _updates) = ResponseEngine::new(
        store.clone(),
        ResponseConfig::default(),
        socfed_proto::vocab::SiteId::parse("site-a")?,
        clock.clone(),
    );
    let mut soc = service(store.clone(), clock)?;
    soc.group_tap = Some(engine.new_groups());
    let soc = Arc::new(soc);
    engine.set_intake(soc.clone());
    soc.submit(
        &manager(),
        Format::Native,
        &[
            line(1, "domain:evil.example"),
            line(2, "domain:fine.example"),
        ],
    )?;
    let hunt_groups = || -> anyhow::Result<Vec<crate::soc::group::AlertGroup>> {
        Ok(store
            .list_groups(&GroupFilter {
                limit: 100,
                ..GroupFilter::default()
            })?
            .into_iter()
            .filter(|g| g.rule_id.starts_with("hunt:"))
            .collect())
    };
    let (library, run) = (Ulid::new(), Ulid::new());
    let directive = sweep(library, run, &[]);
    engine.receive(directive.clone());
    let raised = hunt_groups()?;
    assert_eq!(
        raised.len(),
        1,
        "the stored alert that matches raised one alert"
    );
    let alert = &raised[0];
    assert_eq!(alert.rule_id, format!("hunt:{library}"));
    assert_eq!(alert.title, "Emotet C2");
    assert_eq!(alert.severity, socfed_proto::vocab::Severity::High);
    assert_eq!(alert.techniques.len(), 2);
    assert_eq!(
        alert.entities.hosts,
        vec!["ws-1".to_string()],
        "the matched group's host"
    );
    assert_eq!(
        alert.indicators.len(),
        1,
        "the matched indicator as evidence"
    );
    // Resent, the directive is answered from its record; and the hunt's own alert group
    // (which carries the indicator) is no hit: matching again raises nothing.
    engine.receive(directive);
    engine.on_rescan()?;
    let again = hunt_groups()?;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].count, 1, "raised once");
    // A new alert matching during the watch raises a second one.
    soc.submit(
        &manager(),
        Format::Native,
        &[line(3, "domain:evil.example")],
    )?;
    engine.on_rescan()?;
    let watched: u64 = hunt_groups()?.iter().map(|g| g.count).sum();
    assert_eq!(watched, 2, "the new group raised its alert");
    Ok(())
}

#[test]
fn hostile_detection_parameters_are_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(NOW));
    let (engine, _updates) = ResponseEngine::new(
        store.clone(),
        ResponseConfig::default(),
        socfed_proto::vocab::SiteId::parse("site-a")?,
        clock,
    );
    let long = "x".repeat(500);
    let cases: [(&str, &str); 7] = [
        ("mode", "exfiltrate"),
        // A detection run that is also a search would raise alerts "matching" words.
        ("search_hosts", "ws-1"),
        ("rule_id", "R-1"),
        ("title", "a\u{1b}[2Jb"),
        ("title", long.as_str()),
        ("severity", "apocalyptic"),
        ("techniques", "T1071,<script>"),
    ];
    for (key, value) in cases {
        let directive = sweep(Ulid::new(), Ulid::new(), &[(key, value)]);
        let id = Ulid::from_string(&directive.directive_id)?;
        engine.receive(directive);
        let record = store
            .directive(id)?
            .ok_or_else(|| anyhow::anyhow!("recorded"))?;
        assert_eq!(
            record.state,
            State::Refused,
            "{key}={value:?}: {}",
            record.detail
        );
    }
    Ok(())
}
