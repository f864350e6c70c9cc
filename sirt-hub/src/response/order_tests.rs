//! The hub's policy for what operators order: sites, expiry, lookback, duration.

use super::ResponseError;
use super::hunt::TimeBasis;
use super::order::*;
use socfed_proto::vocab::{Indicator, SiteId};
use ulid::Ulid;

const NOW: i64 = 1_700_000_000_000;

fn enrolled() -> Vec<SiteId> {
    ["paris", "lyon"]
        .into_iter()
        .map(|s| SiteId::parse(s).expect("valid"))
        .collect()
}

fn names(raw: &[&str]) -> Vec<String> {
    raw.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sites_are_all_when_asked_each_named_once_and_only_enrolled_ones() {
    let all = enrolled();
    assert_eq!(choose_sites(&names(&["all"]), &all, false), Ok(all.clone()));
    assert_eq!(choose_sites(&[], &all, true), Ok(all.clone()));
    assert!(matches!(
        choose_sites(&[], &all, false),
        Err(ResponseError::Invalid(_))
    ));
    assert_eq!(
        choose_sites(&names(&["lyon", "lyon"]), &all, false),
        Ok(vec![all[1].clone()])
    );
    assert_eq!(
        choose_sites(&names(&["oslo"]), &all, false),
        Err(ResponseError::UnknownSite("oslo".into()))
    );
    assert!(matches!(
        choose_sites(&names(&["Not A Site"]), &all, false),
        Err(ResponseError::Invalid(_))
    ));
}

#[test]
fn directives_expire_after_a_day_by_default_and_at_most_after_thirty() {
    let mut order = DirectiveOrder {
        incident: Ulid::from_parts(1, 1),
        sites: names(&["all"]),
        kind: "block_indicator".into(),
        params: [("indicator".into(), "203.0.113.7".into())].into(),
        expires_in_s: 0,
    };
    let planned = order.plan(&enrolled(), "ir-lead", NOW).expect("valid");
    assert_eq!(planned.directives.len(), 2);
    assert_eq!(
        planned.text,
        "directive block_indicator issued to paris, lyon"
    );
    for d in &planned.directives {
        assert_eq!(d.expires_at_ms, NOW + 86_400_000);
        assert_eq!(
            (d.incident, d.issued_by.as_str()),
            (Some(order.incident), "ir-lead")
        );
    }
    order.expires_in_s = MAX_EXPIRY_S + 1;
    assert!(order.plan(&enrolled(), "ir-lead", NOW).is_err());
    order.expires_in_s = 60;
    order.kind = "ioc_sweep".into();
    assert!(matches!(
        order.plan(&enrolled(), "ir-lead", NOW),
        Err(ResponseError::ReservedKind(_))
    ));
}

#[test]
fn tasks_never_expire_and_fall_due_at_most_a_year_ahead() {
    let order = TaskOrder {
        incident: Ulid::from_parts(1, 1),
        sites: names(&["paris"]),
        title: "  collect logs ".into(),
        details: String::new(),
        due_in_s: u64::MAX / 2000,
    };
    let planned = order.plan(&enrolled(), "ir-lead", NOW).expect("valid");
    let task = planned.directives[0].task.clone().expect("a task");
    assert_eq!(task.title, "collect logs");
    assert_eq!(task.due_ms, NOW + (MAX_TASK_DUE_S * 1000) as i64);
    assert_eq!(planned.directives[0].expires_at_ms, 0);
    let untitled = TaskOrder {
        title: " ".into(),
        ..order
    };
    assert!(untitled.plan(&enrolled(), "ir-lead", NOW).is_err());
}

#[test]
fn a_hunt_sweeps_every_site_for_its_indicators_once() {
    let ioc = Indicator::parse_typed("ip:203.0.113.7").expect("valid");
    let order = HuntOrder {
        incident: None,
        indicators: vec![ioc.clone(), ioc.clone()],
        sites: Vec::new(),
        lookback_s: 0,
        duration_s: 3600,
        basis: TimeBasis::Received,
        search: None,
    };
    let planned = order
        .clone()
        .plan(&enrolled(), "hunter", NOW)
        .expect("valid");
    assert_eq!(planned.hunt.indicators, vec![ioc]);
    assert_eq!(planned.hunt.lookback_ms, (DEFAULT_LOOKBACK_S * 1000) as i64);
    assert_eq!(planned.sweeps.len(), 2);
    assert_eq!(
        planned.hunt.directives,
        planned.sweeps.iter().map(|d| d.id).collect::<Vec<_>>()
    );
    for sweep in &planned.sweeps {
        assert_eq!(sweep.hunt, Some(planned.hunt.id));
        assert_eq!(sweep.expires_at_ms, NOW + ((86_400 + 3600) * 1000) as i64);
        assert_eq!(TimeBasis::of_params(&sweep.params), TimeBasis::Received);
    }
    for bad in [
        HuntOrder {
            indicators: Vec::new(),
            ..order.clone()
        },
        HuntOrder {
            lookback_s: MAX_LOOKBACK_S + 1,
            ..order.clone()
        },
        HuntOrder {
            duration_s: MAX_HUNT_DURATION_S + 1,
            ..order.clone()
        },
    ] {
        assert!(bad.plan(&enrolled(), "hunter", NOW).is_err());
    }
}

/// A search hunt sends each site the search (and no `indicators`, so an older site fails
/// the sweep instead of sweeping for something else); it refuses a bad filter and other
/// indicators beside its own.
#[test]
fn a_search_hunt_sends_its_filters_and_refuses_bad_ones() {
    let search = socfed_proto::search::RawQuery {
        indicators: vec!["domain:c2.bad.example".into()],
        hosts: vec!["web-1".into()],
        text: Some("powershell".into()),
        ..Default::default()
    };
    let order = HuntOrder {
        incident: None,
        indicators: Vec::new(),
        sites: Vec::new(),
        lookback_s: 0,
        duration_s: 0,
        basis: TimeBasis::Observed,
        search: Some(search.clone()),
    };
    let planned = order
        .clone()
        .plan(&enrolled(), "hunter", NOW)
        .expect("valid");
    assert_eq!(
        planned.hunt.indicators,
        vec![Indicator::parse_typed("domain:c2.bad.example").expect("valid")]
    );
    for sweep in &planned.sweeps {
        assert!(!sweep.params.contains_key("indicators"));
        assert_eq!(
            socfed_proto::search::params::from_params(&sweep.params),
            Ok(Some(search.clone()))
        );
    }
    let ioc = Indicator::parse_typed("ip:203.0.113.7").expect("valid");
    for bad in [
        HuntOrder {
            indicators: vec![ioc],
            ..order.clone()
        },
        HuntOrder {
            search: Some(socfed_proto::search::RawQuery {
                techniques: vec!["T1' OR 1=1".into()],
                ..Default::default()
            }),
            ..order.clone()
        },
        HuntOrder {
            search: Some(socfed_proto::search::RawQuery::default()),
            ..order.clone()
        },
    ] {
        assert!(bad.plan(&enrolled(), "hunter", NOW).is_err());
    }
}
