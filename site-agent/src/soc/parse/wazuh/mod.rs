//! Wazuh manager alerts (`alerts.json` lines), bare or inside a Logstash/OpenSearch
//! envelope `{"_source": {…}}`, which is unwrapped first.
//!
//! Mapping:
//! - time from `timestamp` (`2024-02-08T13:35:27.535+0000`), else `@timestamp`; template
//!   placeholders such as the events generator's literal `{timestamp}` reject the line;
//! - rule id `rule.id` (string or integer), rule name `rule.description`; either alone
//!   suffices;
//! - severity from `rule.level` (an integer 0-16, Wazuh's range; anything else rejects):
//!   0-3 informational, 4-6 low, 7-10 medium, 11-13 high, 14-16 critical;
//! - techniques from `rule.mitre.id[]`, invalid ids ignored;
//! - entities: host `agent.name`; users `data.srcuser`, `data.dstuser`, and from Windows
//!   event data (`data.win.eventdata`: Sysmon, Security log) `targetUserName`,
//!   `subjectUserName` and `user` (a trailing `(uid=…)` as written by PAM is cut, `-` is
//!   ignored), and the AWS user of a GuardDuty finding
//!   (`data.aws.resource.accessKeyDetails.userName`); IPs `agent.ip` plus every address
//!   below;
//! - indicators, each address also an entity (not `agent.ip`, which is our own host;
//!   addresses that cannot name a remote party are left out):
//!   - `data.srcip`, `data.dstip`;
//!   - Windows event data `ipAddress` (Security log logons), `sourceIp`, `destinationIp`
//!     (Sysmon); `queryName` and
//!     `destinationHostname` as domains; `hashes` and `hash`
//!     (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`: the import hash is not a file hash and is left
//!     out);
//!   - cloud modules, the attacker's side: GuardDuty's `remoteIpDetails.ipAddressV4` of a
//!     network connection, API call or port probe (`data.aws.service.action.…`, one object
//!     or a list), CloudTrail's `data.aws.sourceIPAddress`, Office 365's
//!     `data.office365.ClientIP`, Google Cloud's
//!     `data.gcp.protoPayload.requestMetadata.callerIp`;
//!   - file integrity monitoring: `syscheck.md5_after`, `sha1_after`, `sha256_after`
//!     (the file's new content);
//!   - `data.vulnerability.cve`;
//! - product `Wazuh`, TLP amber;
//! - identity (for de-duplication): `manager.name`, the alert `id` (unique per manager)
//!   and `rule.id`; without `id`, the whole record.
//!
//! Not mapped: Sysmon's `image` (a program path, which no indicator kind holds).

use super::LineError;
use super::fields::{self, Draft, Identity, Object, Step, fail};
use crate::soc::alert::Entities;
use serde_json::Value;
use socfed_proto::vocab::{Indicator, IndicatorKind, Severity, Tlp};

pub(super) fn parse(outer: &Object) -> Result<Step, LineError> {
    let obj = match outer.get("_source") {
        Some(Value::Object(inner)) => inner,
        Some(other) => {
            return Err(fail(
                "_source",
                format!("expected an object, found {}", fields::kind_name(other)),
            ));
        }
        None => outer,
    };
    let observed_at_ms = observed_at(obj)?;
    let (rule_id, rule_name) = fields::rule(
        fields::text_or_int(obj, "rule.id"),
        fields::text(obj, "rule.description").map(str::to_string),
        "rule.id: missing (and no rule.description)",
    )?;
    let severity = match fields::lookup(obj, "rule.level").and_then(Value::as_i64) {
        Some(0..=3) => Severity::Informational,
        Some(4..=6) => Severity::Low,
        Some(7..=10) => Severity::Medium,
        Some(11..=13) => Severity::High,
        Some(14..=16) => Severity::Critical,
        _ => return Err(fail("rule.level", "expected an integer 0-16")),
    };
    let identity = match fields::text_or_int(obj, "id") {
        Some(id) => Identity::Fields(vec![
            fields::text(obj, "manager.name")
                .unwrap_or_default()
                .to_string(),
            id,
            rule_id.clone(),
        ]),
        None => Identity::WholeRecord,
    };

    let mut entities = Entities::default();
    let mut indicators = Vec::new();
    entities
        .hosts
        .extend(fields::text(obj, "agent.name").map(str::to_string));
    for key in USER_FIELDS {
        entities
            .users
            .extend(fields::text(obj, key).and_then(user_name));
    }
    entities
        .ips
        .extend(fields::text(obj, "agent.ip").and_then(fields::ip));
    for key in REMOTE_IP_FIELDS {
        for ip in fields::all_texts(obj, key)
            .iter()
            .filter_map(|s| fields::ip(s))
        {
            entities.ips.push(ip);
            indicators.extend(fields::ip_indicator(ip));
        }
    }
    for key in DOMAIN_FIELDS {
        indicators.extend(fields::text(obj, key).and_then(fields::domain_indicator));
    }
    for key in HASH_FIELDS {
        indicators.extend(fields::text(obj, key).and_then(fields::hash_indicator));
    }
    for key in ["data.win.eventdata.hashes", "data.win.eventdata.hash"] {
        indicators.extend(
            fields::text(obj, key)
                .map(sysmon_hashes)
                .unwrap_or_default(),
        );
    }
    if let Some(cve) = fields::text(obj, "data.vulnerability.cve") {
        indicators.extend(Indicator::new(IndicatorKind::Cve, cve).ok());
    }

    Ok(Step::Alert(Box::new(Draft {
        observed_at_ms,
        product: "Wazuh".to_string(),
        rule_id,
        rule_name,
        severity,
        techniques: fields::lenient_techniques(fields::strings(obj, "rule.mitre.id")),
        entities,
        indicators,
        tlp: Tlp::Amber,
        identity,
    })))
}

const USER_FIELDS: [&str; 6] = [
    "data.srcuser",
    "data.dstuser",
    "data.win.eventdata.targetUserName",
    "data.win.eventdata.subjectUserName",
    "data.win.eventdata.user",
    "data.aws.resource.accessKeyDetails.userName",
];

/// Addresses of the other party: indicators and entities.
const REMOTE_IP_FIELDS: [&str; 11] = [
    "data.srcip",
    "data.dstip",
    "data.win.eventdata.ipAddress",
    "data.win.eventdata.sourceIp",
    "data.win.eventdata.destinationIp",
    "data.aws.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
    "data.aws.service.action.awsApiCallAction.remoteIpDetails.ipAddressV4",
    "data.aws.service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4",
    "data.aws.sourceIPAddress",
    "data.office365.ClientIP",
    "data.gcp.protoPayload.requestMetadata.callerIp",
];

const DOMAIN_FIELDS: [&str; 2] = [
    "data.win.eventdata.queryName",
    "data.win.eventdata.destinationHostname",
];

const HASH_FIELDS: [&str; 3] = [
    "syscheck.md5_after",
    "syscheck.sha1_after",
    "syscheck.sha256_after",
];

/// Sysmon's `SHA1=…,MD5=…,SHA256=…,IMPHASH=…`: the file hashes, not the import hash (an MD5
/// of the import table that names no file). A bare hash is taken as it is.
fn sysmon_hashes(raw: &str) -> Vec<Indicator> {
    if !raw.contains('=') {
        return fields::hash_indicator(raw).into_iter().collect();
    }
    raw.split(',')
        .filter_map(|part| part.split_once('='))
        .filter(|(algo, _)| {
            matches!(
                algo.trim().to_ascii_uppercase().as_str(),
                "MD5" | "SHA1" | "SHA256"
            )
        })
        .filter_map(|(_, value)| fields::hash_indicator(value))
        .collect()
}

fn observed_at(obj: &Object) -> Result<i64, LineError> {
    for field in ["timestamp", "@timestamp"] {
        match obj.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return fields::time_text(s, field),
            Some(other) => {
                return Err(fail(
                    field,
                    format!("expected a string, found {}", fields::kind_name(other)),
                ));
            }
        }
    }
    Err(fail("timestamp", "missing (and no @timestamp)"))
}

/// `root(uid=0)` → `root`; `-` (Windows' "none") → nothing.
fn user_name(raw: &str) -> Option<String> {
    let name = match raw.split_once("(uid=") {
        Some((name, _)) => name,
        None => raw,
    };
    let name = name.trim();
    (!name.is_empty() && name != "-").then(|| name.to_string())
}

#[cfg(test)]
mod tests;
