//! OCSF Detection Finding records (class_uid 2004), one JSON object per line; use
//! [`super::split_json_array`] first for exports written as one array.
//!
//! Mapping:
//! - other classes are rejected, naming `class_uid` and the class (an Incident Finding,
//!   2005, is a whole incident: raise it with `site-agent escalate`, not as an alert);
//! - a finding that is over is skipped, not taken as a new alert, with the reason: activity
//!   Close (`activity_id` 3), a status of Suppressed, Resolved, Archived or Deleted
//!   (`status_id` 3-6), and a compliance check that passed (`status_code` `PASS`, as
//!   Prowler writes). Closing the matching group is left to an analyst: a source does not
//!   close the site's triage;
//! - time: `time`, else `finding_info.created_time`. OCSF says milliseconds, but some
//!   producers (Prowler among them) write seconds, so a value below 10^11 (which as
//!   milliseconds would be before 1973-03-04) is read as seconds;
//! - severity from `severity_id`: 1 informational, 2 low, 3 medium, 4 high, 5 critical,
//!   6 (Fatal) critical; 99 (Other) uses the `severity` caption when it is one of those five
//!   names; 0 (Unknown), other numbers and an absent id reject the line;
//! - rule id: `finding_info.analytic.uid`, else `metadata.event_code`, else
//!   `finding_info.uid` (last because it names one finding, not the detection);
//!   rule name: `finding_info.analytic.name`, else `finding_info.title`; a missing half
//!   is copied from the other;
//! - product: `metadata.product.name`, else `metadata.product.vendor_name`, else `unknown`;
//! - techniques: `technique.uid` and `sub_technique.uid` of `finding_info.attacks[]` (and of
//!   the OCSF 1.0 top-level `attacks[]`); invalid ids are ignored;
//! - entities and indicators from the device, the affected resources, the actor, the
//!   evidences and the observables: see [`evidence`];
//! - identity (for de-duplication): `metadata.uid` (the event's own id); else
//!   `finding_info.uid` with the rule, `time`, `activity_id` and `status_id` (one finding is
//!   reported again as it changes, and some producers reuse one uid for every check); else
//!   the whole record.

mod evidence;

use super::LineError;
use super::fields::{self, Draft, Identity, Object, Step, fail};
use socfed_proto::vocab::{Severity, Tlp};

const DETECTION_FINDING: i64 = 2004;
/// Below this, an OCSF time is taken to be in seconds.
const SECONDS_BELOW: i64 = 100_000_000_000;

/// The classes of the Findings category (2), named in the rejection of anything but 2004.
fn class_name(class: i64) -> Option<&'static str> {
    Some(match class {
        2001 => "Security Finding",
        2002 => "Vulnerability Finding",
        2003 => "Compliance Finding",
        2004 => "Detection Finding",
        2005 => "Incident Finding",
        2006 => "Data Security Finding",
        2007 => "Application Security Posture Finding",
        _ => return None,
    })
}

pub(super) fn parse(obj: &Object) -> Result<Step, LineError> {
    match fields::int(obj, "class_uid")? {
        Some(DETECTION_FINDING) => {}
        Some(2005) => {
            return Err(fail(
                "class_uid",
                format!(
                    "2005 (Incident Finding) is a whole incident, not an alert; only Detection \
                     Finding ({DETECTION_FINDING}) is accepted: raise incidents with `site-agent escalate`"
                ),
            ));
        }
        Some(other) => {
            let named = class_name(other).map_or_else(String::new, |n| format!(" ({n})"));
            return Err(fail(
                "class_uid",
                format!("{other}{named} is not a Detection Finding ({DETECTION_FINDING})"),
            ));
        }
        None => {
            return Err(fail(
                "class_uid",
                format!("missing (only Detection Finding, {DETECTION_FINDING}, is accepted)"),
            ));
        }
    }
    if let Some(why) = finished(obj)? {
        return Ok(Step::Skip(why));
    }
    let observed_at_ms = observed_at(obj)?;
    let severity = severity(obj)?;
    let (rule_id, rule_name) = fields::rule(
        fields::text_or_int(obj, "finding_info.analytic.uid")
            .or_else(|| fields::text_or_int(obj, "metadata.event_code"))
            .or_else(|| fields::text_or_int(obj, "finding_info.uid")),
        fields::text(obj, "finding_info.analytic.name")
            .or_else(|| fields::text(obj, "finding_info.title"))
            .map(str::to_string),
        "finding_info.uid: missing (no finding_info.analytic.uid, metadata.event_code, \
         finding_info.uid or finding_info.title names the rule)",
    )?;
    let product = fields::text(obj, "metadata.product.name")
        .or_else(|| fields::text(obj, "metadata.product.vendor_name"))
        .unwrap_or("unknown")
        .to_string();

    let mut technique_ids = Vec::new();
    for attack in
        fields::objects(obj, "finding_info.attacks").chain(fields::objects(obj, "attacks"))
    {
        technique_ids.extend(fields::text(attack, "technique.uid"));
        technique_ids.extend(fields::text(attack, "sub_technique.uid"));
    }
    let (entities, indicators) = evidence::collect(obj);
    let identity = identity(obj, &rule_id);

    Ok(Step::Alert(Box::new(Draft {
        observed_at_ms,
        product,
        rule_id,
        rule_name,
        severity,
        techniques: fields::lenient_techniques(technique_ids),
        entities,
        indicators,
        tlp: Tlp::Amber,
        identity,
    })))
}

/// Why a finding that is over is skipped, or `None` for a live one.
fn finished(obj: &Object) -> Result<Option<String>, LineError> {
    if fields::int(obj, "activity_id")? == Some(3) {
        return Ok(Some(
            "activity_id 3 (Close): a closed finding is not a new alert".into(),
        ));
    }
    let status = match fields::int(obj, "status_id")? {
        Some(3) => Some("Suppressed"),
        Some(4) => Some("Resolved"),
        Some(5) => Some("Archived"),
        Some(6) => Some("Deleted"),
        _ => None,
    };
    if let (Some(name), Some(id)) = (status, fields::int(obj, "status_id")?) {
        return Ok(Some(format!(
            "status_id {id} ({name}): a finding that is over is not a new alert"
        )));
    }
    if fields::text(obj, "status_code").is_some_and(|c| c.eq_ignore_ascii_case("pass")) {
        return Ok(Some("status_code PASS: the check passed".into()));
    }
    Ok(None)
}

fn identity(obj: &Object, rule_id: &str) -> Identity {
    if let Some(uid) = fields::text_or_int(obj, "metadata.uid") {
        return Identity::Fields(vec!["event".into(), uid]);
    }
    match fields::text_or_int(obj, "finding_info.uid") {
        Some(uid) => Identity::Fields(vec![
            "finding".into(),
            uid,
            rule_id.to_string(),
            fields::text_or_int(obj, "time")
                .or_else(|| fields::text_or_int(obj, "finding_info.created_time"))
                .unwrap_or_default(),
            fields::text_or_int(obj, "activity_id").unwrap_or_default(),
            fields::text_or_int(obj, "status_id").unwrap_or_default(),
        ]),
        None => Identity::WholeRecord,
    }
}

fn observed_at(obj: &Object) -> Result<i64, LineError> {
    let (field, value) = match fields::int(obj, "time")? {
        Some(t) => ("time", t),
        None => match fields::int(obj, "finding_info.created_time")? {
            Some(t) => ("finding_info.created_time", t),
            None => return Err(fail("time", "missing (and no finding_info.created_time)")),
        },
    };
    let ms = if (0..SECONDS_BELOW).contains(&value) {
        value.saturating_mul(1000)
    } else {
        value
    };
    fields::millis(ms, field)
}

fn severity(obj: &Object) -> Result<Severity, LineError> {
    match fields::int(obj, "severity_id")? {
        None => Err(fail("severity_id", "missing")),
        Some(id @ 1..=5) => usize::try_from(id - 1)
            .ok()
            .and_then(|i| Severity::ALL.get(i).copied())
            .ok_or_else(|| fail("severity_id", "out of range")),
        Some(6) => Ok(Severity::Critical),
        Some(0) => Err(fail("severity_id", "0 (Unknown) gives no severity")),
        Some(99) => fields::text(obj, "severity")
            .and_then(|s| s.parse::<Severity>().ok())
            .ok_or_else(|| {
                fail(
                    "severity_id",
                    "99 (Other) needs a severity caption of informational, low, medium, high or critical",
                )
            }),
        Some(other) => Err(fail(
            "severity_id",
            format!("{other} is not an OCSF severity (expected 1-6 or 99)"),
        )),
    }
}

#[cfg(test)]
mod tests;
