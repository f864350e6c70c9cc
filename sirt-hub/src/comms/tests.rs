#![allow(
    clippy::unwrap_used,
    reason = "a test that unwraps fails loudly, which is the point"
)]

use super::template::{render, templates, utc_minutes};
use super::*;
use crate::lifecycle::{HubRole, Tier};
use proptest::prelude::*;
use socfed_proto::vocab::{Severity, Tlp};

const T0: i64 = 1_700_000_000_000;
const IR_LEAD_ROLE: Option<HubRole> = Some(HubRole::IrLead);
const CISO: Option<HubRole> = Some(HubRole::Ciso);
const TLPS: [Tlp; 5] = Tlp::ALL;
const INDICATORS: [&str; 3] = [
    "ip:203.0.113.77",
    "domain:evil-c2.example",
    "sha256:deadbeef42",
];
const TECHNIQUES: [&str; 2] = ["T1566 Phishing", "T1486 Data Encrypted for Impact"];
const SITES: [&str; 2] = ["site-paris-dc2", "site-lyon-branch"];
const IR_LEAD: &str = "Ines Lead-Responder";

/// Everything redaction withholds from the `facts` below.
fn secrets() -> impl Iterator<Item = &'static str> {
    let names = TECHNIQUES.into_iter().chain(SITES).chain([IR_LEAD]);
    INDICATORS.into_iter().chain(names)
}

fn facts(tlp: Tlp) -> IncidentFacts {
    IncidentFacts {
        id: Ulid::from_parts(T0 as u64, 7),
        title: "Ransomware on file servers".to_owned(),
        phase: "containment".to_owned(),
        severity: Severity::Critical,
        priority: "P1".to_owned(),
        tlp,
        ir_lead: Some(IR_LEAD.to_owned()),
        sites: SITES.map(str::to_owned).to_vec(),
        site_count: SITES.len(),
        indicators: INDICATORS.map(str::to_owned).to_vec(),
        techniques: TECHNIQUES.map(str::to_owned).to_vec(),
        opened_at_ms: T0,
        deadlines: vec!["GDPR notification due 2023-11-17 22:13 UTC".to_owned()],
    }
}

fn record(audience: Audience, tlp: Tlp) -> CommRecord {
    let text = draft(audience, &facts(tlp), None);
    CommRecord::new(
        Ulid::from_parts(T0 as u64, 99),
        facts(tlp).id,
        audience,
        text,
        "ana",
        T0,
    )
}

fn refusal(result: Result<(), CommsError>) -> String {
    result.unwrap_err().to_string()
}

fn approved(audience: Audience) -> CommRecord {
    let mut rec = record(audience, Tlp::Amber);
    rec.approve("irene", IR_LEAD_ROLE, T0 + 1).unwrap();
    rec
}

#[test]
fn audience_words_round_trip_and_unknown_words_list_the_valid_ones() {
    for audience in Audience::ALL {
        assert_eq!(audience.to_string().parse::<Audience>(), Ok(audience));
        assert_eq!(
            audience.as_str().to_uppercase().parse::<Audience>(),
            Ok(audience)
        );
        assert!(audience.clearance() < Tlp::Red, "nobody is cleared for RED");
    }
    let err = "press".parse::<Audience>().unwrap_err().to_string();
    assert!(
        err.contains("executives, board, legal, clients, regulators"),
        "{err}"
    );
}

#[test]
fn redaction_table_over_every_tlp_and_audience() {
    let all_withheld = [
        ("indicators", 3),
        ("techniques", 2),
        ("sites", 2),
        ("ir_lead", 1),
        ("title", 1),
    ];
    for tlp in TLPS {
        for audience in Audience::ALL {
            let (out, redactions) = redact(&facts(tlp), audience);
            let cleared = tlp <= audience.clearance();
            let mut expected = IncidentFacts {
                tlp: tlp.min(audience.clearance()),
                ..facts(tlp)
            };
            if !cleared {
                // Phase, severity, priority, site count and deadlines stay.
                (expected.indicators, expected.techniques) = (vec![], vec![]);
                (expected.sites, expected.ir_lead) = (vec![], None);
                expected.title = "Security incident (critical severity)".into();
            }
            assert_eq!(out, expected, "{tlp} for {audience}");
            assert_eq!(out.tlp, message_tlp(tlp, audience));
            let fields: Vec<_> = redactions
                .iter()
                .map(|r| (r.field.as_str(), r.count))
                .collect();
            let want: &[_] = if cleared { &[] } else { &all_withheld };
            assert_eq!(fields, want, "{tlp} for {audience}");
        }
    }
}

#[test]
fn nothing_is_withheld_at_clear_and_everything_sensitive_at_red() {
    for audience in Audience::ALL {
        assert!(redact(&facts(Tlp::Clear), audience).1.is_empty());
        let (out, redactions) = redact(&facts(Tlp::Red), audience);
        assert_eq!(redactions.len(), 5, "{audience}");
        assert!(out.indicators.is_empty() && out.techniques.is_empty() && out.sites.is_empty());
        assert_eq!(out.ir_lead, None);
    }
}

#[test]
fn redaction_reasons_name_both_labels_and_skip_empty_fields() {
    let mut input = facts(Tlp::AmberStrict);
    input.techniques.clear();
    input.ir_lead = None;
    input.site_count = 0; // stale count from the caller: the names win
    let (out, redactions) = redact(&input, Audience::Clients);
    assert_eq!(out.site_count, 2);
    let reasons: Vec<_> = redactions.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "3 indicators withheld: incident is TLP:AMBER+STRICT, clients are cleared for TLP:GREEN",
            "2 site names withheld: incident is TLP:AMBER+STRICT, clients are cleared for TLP:GREEN",
            "the incident's title withheld: incident is TLP:AMBER+STRICT, clients are cleared for TLP:GREEN",
        ]
    );
}

#[test]
fn every_template_renders_fully_and_starts_with_its_tlp_label() {
    for tlp in TLPS {
        for audience in Audience::ALL {
            let text = draft(audience, &facts(tlp), None);
            let label = tlp_label(message_tlp(tlp, audience));
            assert_eq!(text.tlp, message_tlp(tlp, audience));
            assert_eq!(text.body.lines().next(), Some(label.as_str()), "{audience}");
            assert!(text.subject.contains(&label), "{}", text.subject);
            for part in [&text.subject, &text.body] {
                assert!(!part.contains(['{', '}']), "{audience}: {part}");
            }
            // The title is text of the incident's marking: only where the audience is cleared.
            let title = "Ransomware on file servers";
            let cleared = tlp <= audience.clearance();
            for part in [&text.subject, &text.body] {
                assert_eq!(
                    part.contains(title),
                    cleared,
                    "{tlp} for {audience}: {part}"
                );
            }
        }
    }
}

#[test]
fn labels_use_the_first_tlp_2_spelling() {
    let labels = TLPS.map(tlp_label).join(" ");
    assert_eq!(
        labels,
        "TLP:CLEAR TLP:GREEN TLP:AMBER TLP:AMBER+STRICT TLP:RED"
    );
}

#[test]
fn legal_reads_the_deadlines_first_and_clients_never_read_internals() {
    let legal = draft(Audience::Legal, &facts(Tlp::Amber), None).body;
    assert_eq!(legal.lines().nth(1), Some("Regulatory deadlines:"));
    assert!(legal.contains("- GDPR notification due 2023-11-17 22:13 UTC"));
    let clients = draft(Audience::Clients, &facts(Tlp::Clear), None).body;
    for secret in secrets() {
        assert!(!clients.contains(secret), "{secret}");
    }
}

#[test]
fn withheld_lists_say_so_instead_of_none() {
    let cleared = draft(Audience::Regulators, &facts(Tlp::Amber), None).body;
    assert!(cleared.contains("Indicators of compromise: ip:203.0.113.77, domain:evil-c2.example"));
    let withheld = draft(Audience::Regulators, &facts(Tlp::AmberStrict), None).body;
    assert!(withheld.contains("Indicators of compromise: withheld at this TLP"));
    let mut empty = facts(Tlp::Amber);
    empty.indicators.clear();
    let none = draft(Audience::Regulators, &empty, None).body;
    assert!(none.contains("Indicators of compromise: none recorded"));
}

#[test]
fn the_note_is_appended_verbatim_and_blank_notes_are_dropped() {
    let note = "Call {me} on the bridge; do not forward.";
    let body = draft(Audience::Board, &facts(Tlp::Green), Some(note)).body;
    assert!(body.ends_with("\nNote from the SIRT:\nCall {me} on the bridge; do not forward.\n"));
    let blank = draft(Audience::Board, &facts(Tlp::Green), Some("  ")).body;
    assert_eq!(blank, draft(Audience::Board, &facts(Tlp::Green), None).body);
}

#[test]
fn the_renderer_keeps_unknown_names_and_does_not_expand_values() {
    let value = |name: &str| (name == "a").then(|| "{b}".to_owned());
    assert_eq!(render("x {a} {b} {c", value), "x {b} {b} {c");
    for audience in Audience::ALL {
        let (subject, body) = templates(audience);
        let none = |_: &str| None;
        assert!(render(body, none).contains("{tlp_label}"));
        assert_eq!(render(subject, none), subject);
    }
}

#[test]
fn times_are_utc_to_the_minute() {
    assert_eq!(utc_minutes(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc_minutes(T0), "2023-11-14 22:13 UTC");
    assert!(utc_minutes(i64::MAX).contains("ms after 1970"));
}

#[test]
fn a_red_incident_leaks_nothing_sensitive_to_any_audience() {
    for audience in Audience::ALL {
        let rec = record(audience, Tlp::Red);
        let json = webhook::payload(&rec, "Ransomware on file servers").to_string();
        for secret in secrets() {
            assert!(!rec.body.contains(secret), "{audience} body: {secret}");
            assert!(!rec.subject.contains(secret), "{audience}: {secret}");
            assert!(!json.contains(secret), "{audience} webhook: {secret}");
        }
    }
}

#[test]
fn the_webhook_payload_has_text_and_socfed_fields() {
    let rec = approved(Audience::Executives);
    let value = webhook::payload(&rec, "Ransomware on file servers");
    let text = value["text"].as_str().unwrap();
    assert!(text.starts_with(&rec.subject) && text.ends_with(&rec.body));
    let socfed = &value["socfed"];
    assert_eq!(socfed["communication_id"], rec.id.to_string());
    assert_eq!(socfed["incident_id"], rec.incident.to_string());
    assert_eq!(socfed["incident_title"], "Ransomware on file servers");
    assert_eq!(socfed["audience"], "executives");
    assert_eq!(socfed["tlp"], "TLP:AMBER");
}

#[test]
fn only_the_ir_lead_or_the_ciso_may_approve_or_reject() {
    let board = || record(Audience::Board, Tlp::Amber);
    for role in HubRole::ALL.into_iter().map(Some).chain([None]) {
        let may = matches!(role, Some(HubRole::IrLead | HubRole::Ciso));
        let (mut approving, mut rejecting) = (board(), board());
        assert_eq!(approving.approve("op", role, T0).is_ok(), may, "{role:?}");
        assert_eq!(rejecting.reject("op", role, "tone", T0).is_ok(), may);
        assert!(!approving.counts_as_sent());
    }
    let mut rec = board();
    assert_eq!(
        refusal(rec.approve("sam", Some(HubRole::SocManager), T0)),
        "approving communications needs the IR lead or the CISO; sam is a SOC manager"
    );
    let t4 = Some(HubRole::Analyst(Tier::T4));
    assert!(refusal(rec.approve("tim", t4, T0)).ends_with("tim is a tier 4 analyst"));
    let unknown = refusal(rec.reject("who", None, "no", T0));
    assert!(
        unknown.ends_with("who is not on the hub's roster"),
        "{unknown}"
    );
    assert_eq!(rec, board(), "refusals change nothing");
}

#[test]
fn approval_then_delivery_is_the_only_way_to_count_as_sent() {
    let mut rec = record(Audience::Legal, Tlp::Amber);
    assert!(!rec.counts_as_sent() && !rec.needs_delivery());
    rec.approve("cleo", CISO, T0 + 1).unwrap();
    assert!(!rec.counts_as_sent() && rec.needs_delivery());
    rec.record_delivery("mattermost #legal", T0 + 2).unwrap();
    assert!(rec.counts_as_sent() && !rec.needs_delivery());
    let texts: Vec<_> = rec
        .history
        .iter()
        .map(|e| (e.actor.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            ("ana", "drafted for legal at TLP:AMBER, 0 item(s) withheld"),
            ("cleo", "approved"),
            (DELIVERY_ACTOR, "delivered via mattermost #legal"),
        ]
    );
}

#[test]
fn failures_count_attempts_until_the_limit_and_a_late_success_is_still_recorded() {
    let mut rec = approved(Audience::Clients);
    for attempt in 1..=MAX_ATTEMPTS {
        assert!(rec.needs_delivery());
        rec.record_failure("HTTP 503", T0).unwrap();
        let CommState::DeliveryFailed { attempts, .. } = rec.state else {
            panic!("{:?}", rec.state)
        };
        assert!(attempts == attempt && !rec.counts_as_sent());
    }
    assert!(!rec.needs_delivery(), "gives up after {MAX_ATTEMPTS}");
    rec.record_delivery("slack", T0 + 100).unwrap();
    assert!(rec.counts_as_sent());
}

#[test]
fn state_machine_refuses_the_wrong_edges_and_leaves_the_record_unchanged() {
    let mut rec = approved(Audience::Executives);
    let before = rec.clone();
    let id = rec.id;
    let again = refusal(rec.approve("cleo", CISO, T0 + 5));
    assert_eq!(
        again,
        format!("communication {id} is already approved; draft a new one to change it")
    );
    assert!(rec.reject("cleo", CISO, "late", T0 + 5).is_err());
    assert_eq!(rec, before);

    let mut draft = record(Audience::Executives, Tlp::Amber);
    let early = refusal(draft.record_delivery("slack", T0));
    assert!(early.contains("is not approved"), "{early}");
    assert!(draft.record_failure("boom", T0).is_err());
    assert!(matches!(draft.state, CommState::Draft));

    let mut rejected = record(Audience::Executives, Tlp::Amber);
    assert_eq!(
        rejected.reject("irene", IR_LEAD_ROLE, " ", T0),
        Err(CommsError::EmptyReason { id: rejected.id })
    );
    let reason = "too alarming";
    rejected.reject("irene", IR_LEAD_ROLE, reason, T0).unwrap();
    assert!(rejected.approve("irene", IR_LEAD_ROLE, T0).is_err());
    let refused = refusal(rejected.record_delivery("slack", T0));
    assert!(refused.contains("must not be delivered"), "{refused}");

    let mut delivered = approved(Audience::Executives);
    delivered.record_delivery("slack", T0 + 2).unwrap();
    assert!(delivered.record_delivery("slack", T0 + 3).is_err());
    assert!(delivered.record_failure("late", T0 + 3).is_err());
    assert!(delivered.approve("cleo", CISO, T0 + 3).is_err());
}

#[test]
fn records_survive_postcard_and_json() {
    let mut rec = record(Audience::Regulators, Tlp::Red);
    rec.approve("cleo", CISO, T0 + 1).unwrap();
    rec.record_failure("timeout", T0 + 2).unwrap();
    let bytes = postcard::to_allocvec(&rec).unwrap();
    assert_eq!(postcard::from_bytes::<CommRecord>(&bytes).unwrap(), rec);
    let json = serde_json::to_string(&rec).unwrap();
    assert_eq!(serde_json::from_str::<CommRecord>(&json).unwrap(), rec);
}

fn above_clearance() -> impl Strategy<Value = (Audience, Tlp)> {
    (0..Audience::ALL.len(), 0..TLPS.len())
        .prop_map(|(a, t)| (Audience::ALL[a], TLPS[t]))
        .prop_filter("TLP above clearance", |(a, t)| *t > a.clearance())
}

proptest! {
    /// The "zq" prefix keeps a generated indicator from being a substring of template text.
    #[test]
    fn withheld_indicators_never_reach_the_body_or_the_webhook(
        (audience, tlp) in above_clearance(),
        indicators in prop::collection::vec("zq[a-z0-9:./-]{6,24}", 1..6),
        note in prop::option::of("[ -~]{0,40}"),
    ) {
        let mut input = facts(tlp);
        input.indicators = indicators.clone();
        let text = draft(audience, &input, note.as_deref().filter(|n| !n.contains("zq")));
        let rec = CommRecord::new(Ulid::nil(), input.id, audience, text, "ana", T0);
        let json = webhook::payload(&rec, &input.title).to_string();
        for indicator in &indicators {
            prop_assert!(!rec.body.contains(indicator.as_str()));
            prop_assert!(!rec.subject.contains(indicator.as_str()));
            prop_assert!(!json.contains(indicator.as_str()));
        }
    }
}

#[test]
fn the_drafter_never_approves_her_own_draft_unless_the_hub_allows_it() {
    let mut rec = record(Audience::Clients, Tlp::Amber);
    let own = refusal(rec.approve("ana", IR_LEAD_ROLE, T0 + 1));
    assert!(
        own.contains("drafted by ana") && own.contains("second person"),
        "{own}"
    );
    assert_eq!(rec.state, CommState::Draft);
    rec.approve_with("ana", IR_LEAD_ROLE, T0 + 1, true).unwrap();
    assert!(matches!(rec.state, CommState::Approved { ref by, .. } if by == "ana"));
    // The opt-out does not widen who may approve.
    let mut other = record(Audience::Clients, Tlp::Amber);
    assert!(
        other
            .approve_with("ana", Some(HubRole::SocManager), T0, true)
            .is_err()
    );
}
