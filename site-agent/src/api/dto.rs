//! The API's JSON shapes, each described for the OpenAPI document (`utoipa::ToSchema`):
//! domain records → DTOs here, with the words the CLI uses for enums and Unix milliseconds
//! for times.

use crate::service::IntakeResult;
use crate::soc::group::AlertGroup;
use crate::soc::incident::LocalIncident;
use crate::soc::notify::Notification;
use crate::soc::sla;
use crate::soc::triage::Status;
use crate::store::schema::HubState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Rejections listed in one intake answer at most (the counts are always whole).
pub const MAX_REJECTIONS: usize = 1_000;

/// Every error: `{"error": {"code", "message"}}`; the code is also in `x-socfed-error`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable: `unauthenticated`, `permission_denied`, `invalid_argument`, `too_large`, …
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: String) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
            },
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntakeQuery {
    /// The records' format: `native`, `ocsf`, `suricata-eve` or `wazuh`.
    pub format: String,
}

/// One record refused, as `site-agent ingest` reports it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rejection {
    /// The line (JSON lines) or element (JSON array) number, from 1.
    pub line_no: u64,
    pub reason: String,
}

/// What an intake request did; answered once all of it is durable.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeReport {
    /// `lines` (JSON lines) or `records` (a JSON array's elements).
    pub unit: String,
    pub lines: u64,
    /// Alerts that opened a new alert group.
    pub accepted: u64,
    /// Alerts folded into an existing group.
    pub aggregated: u64,
    /// Source events taken in before (a retry): nothing stored twice.
    pub duplicates: u64,
    pub rejected: u64,
    /// Records that carry no alert (a Suricata flow, a closed OCSF finding, a blank line).
    pub skipped: u64,
    /// The first rejections, by number.
    pub rejections: Vec<Rejection>,
}

impl IntakeReport {
    pub fn new(result: IntakeResult, array: bool) -> Self {
        let mut rejections = result.rejections;
        rejections.sort_by_key(|(n, _)| *n);
        Self {
            unit: if array { "records" } else { "lines" }.to_owned(),
            lines: result.lines,
            accepted: result.accepted,
            aggregated: result.aggregated,
            duplicates: result.duplicates,
            rejected: result.rejected,
            skipped: result.skipped,
            rejections: rejections
                .into_iter()
                .take(MAX_REJECTIONS)
                .map(|(line_no, reason)| Rejection { line_no, reason })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// `new`, `acknowledged`, `closed`, `promoted`, or `all`; open ones (new and
    /// acknowledged) when absent.
    pub status: Option<String>,
    /// 1 to 4.
    pub tier: Option<u8>,
    pub assignee: Option<String>,
    /// At most 10,000; 100 when absent.
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// At most 10,000; 100 when absent.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Entities {
    pub hosts: Vec<String>,
    pub users: Vec<String>,
    pub ips: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentDto {
    pub at_ms: i64,
    pub author: String,
    pub text: String,
}

/// An alert group in triage.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertGroupDto {
    pub id: String,
    pub title: String,
    pub rule_id: String,
    pub product: String,
    pub format: String,
    pub severity: String,
    pub tlp: String,
    pub tier: u8,
    /// `new`, `acknowledged`, `closed` or `promoted`.
    pub status: String,
    pub verdict: Option<String>,
    pub incident_id: Option<String>,
    pub assignee: Option<String>,
    pub count: u64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub entities: Entities,
    pub indicators: Vec<String>,
    pub techniques: Vec<String>,
    pub comments: Vec<CommentDto>,
    /// `acknowledge` or `resolve`: the SLA clock running, if any.
    pub sla_clock: Option<String>,
    pub sla_due_ms: Option<i64>,
    /// The first alert's original record (one group's read only).
    pub sample: Option<String>,
}

impl AlertGroupDto {
    pub fn new(g: &AlertGroup, policy: &sla::SlaPolicy, sample: Option<String>) -> Self {
        let (verdict, incident_id) = match &g.state.status {
            Status::Closed { verdict } => (Some(verdict.as_str().to_owned()), None),
            Status::Promoted { incident } => (None, Some(incident.clone())),
            Status::New | Status::Acknowledged => (None, None),
        };
        let deadline = sla::deadline(policy, &g.state, g.severity);
        Self {
            id: g.id.to_string(),
            title: g.title.clone(),
            rule_id: g.rule_id.clone(),
            product: g.product.clone(),
            format: g.format.as_str().to_owned(),
            severity: g.severity.to_string(),
            tlp: g.tlp.to_string(),
            tier: g.state.tier.number(),
            status: g.state.status.kind().as_str().to_owned(),
            verdict,
            incident_id,
            assignee: g.state.assignee.clone(),
            count: g.count,
            first_seen_ms: g.first_seen_ms,
            last_seen_ms: g.last_seen_ms,
            entities: Entities {
                hosts: g.entities.hosts.clone(),
                users: g.entities.users.clone(),
                ips: g.entities.ips.iter().map(ToString::to_string).collect(),
            },
            indicators: g.indicators.iter().map(ToString::to_string).collect(),
            techniques: g.techniques.iter().map(ToString::to_string).collect(),
            comments: g
                .comments
                .iter()
                .map(|c| CommentDto {
                    at_ms: c.at_ms,
                    author: c.author.clone(),
                    text: c.text.clone(),
                })
                .collect(),
            sla_clock: deadline.map(|d| {
                match d.clock {
                    sla::Clock::Acknowledge => "acknowledge",
                    sla::Clock::Resolve => "resolve",
                }
                .to_owned()
            }),
            sla_due_ms: deadline.map(|d| d.due_ms),
            sample,
        }
    }
}

/// What the SIRT hub last said of an escalated local incident.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HubViewDto {
    pub incident_id: String,
    pub phase: String,
    pub ir_lead: Option<String>,
    pub updated_at_ms: i64,
}

/// A local incident.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentDto {
    pub id: String,
    pub title: String,
    pub status: String,
    pub owner: Option<String>,
    pub severity: String,
    pub tlp: String,
    pub alert_group_ids: Vec<String>,
    pub hosts: Vec<String>,
    pub indicators: Vec<String>,
    pub techniques: Vec<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub escalation_reason: Option<String>,
    pub revision: u32,
    pub hub: Option<HubViewDto>,
}

impl IncidentDto {
    pub fn new(i: &LocalIncident, hub: Option<&HubState>) -> Self {
        Self {
            id: i.id.clone(),
            title: i.title.clone(),
            status: i.status.to_string(),
            owner: i.owner.clone(),
            severity: i.severity.to_string(),
            tlp: i.tlp.to_string(),
            alert_group_ids: i.groups.iter().map(ToString::to_string).collect(),
            hosts: i.hosts.clone(),
            indicators: i.indicators.iter().map(ToString::to_string).collect(),
            techniques: i.techniques.iter().map(ToString::to_string).collect(),
            created_at_ms: i.created_at_ms,
            updated_at_ms: i.updated_at_ms,
            escalation_reason: i.escalation_reason.clone(),
            revision: i.revision,
            hub: hub.map(|h| HubViewDto {
                incident_id: h.state.hub_incident.to_string(),
                phase: h.state.phase.to_string(),
                ir_lead: h.state.ir_lead.clone(),
                updated_at_ms: h.state.updated_at_ms,
            }),
        }
    }
}

/// Something the agent raised for people.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationDto {
    pub id: String,
    pub at_ms: i64,
    /// `unassigned`, `sla-breach`, `escalated`, …
    pub kind: String,
    pub message: String,
    pub alert_group_id: Option<String>,
}

impl NotificationDto {
    pub fn new(n: &Notification) -> Self {
        Self {
            id: n.id.to_string(),
            at_ms: n.at_ms,
            kind: n.kind.as_str().to_owned(),
            message: n.message.clone(),
            alert_group_id: n.group.map(|g| g.to_string()),
        }
    }
}
