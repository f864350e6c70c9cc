//! Hub configuration: a TOML file, unknown keys rejected, validated into typed errors that
//! name the key. The binary exits with 78 (EX_CONFIG) on any of them.

use serde::{Deserialize, Serialize};
use socfed_proto::identity::TrustDomain;
use socfed_proto::vocab::SiteId;
use socfed_runtime::config::{AdminConfig, Durability};
use socfed_runtime::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod response;
mod store;
pub use response::ResponseConfig;
pub use store::{StoreConfig, StoreKind, UrlFileError};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// Address of the gRPC listener (federation streams and operator API).
    pub listen: SocketAddr,
    /// Directory of the hub's sled store.
    pub data_dir: PathBuf,
    /// SPIFFE trust domain of the organisation PKI.
    pub trust_domain: TrustDomain,
    pub tls: TlsFiles,
    /// How often the certificate, key, CA and CRL files are checked for changes; a change
    /// applies to new connections and ends site streams so they reconnect under it.
    #[serde(default = "default_tls_reload", with = "humantime_serde")]
    pub tls_reload_interval: Duration,
    /// Sites allowed to open an escalation stream.
    #[serde(default)]
    pub sites: Vec<EnrolledSite>,
    #[serde(default)]
    pub limits: Limits,
    /// Caps and timers of every listener (gRPC, dashboard, admin).
    #[serde(default)]
    pub connections: socfed_runtime::listen::ListenLimits,
    #[serde(default)]
    pub ingest: IngestConfig,
    /// Which store holds the hub's state: sled in `data_dir` (default) or PostgreSQL.
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub correlation: CorrelationConfig,
    /// How long the coordinated response's records are kept.
    #[serde(default)]
    pub response: ResponseConfig,
    /// Optional admin listener for Prometheus metrics.
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    /// Operators and their role at the hub (lifecycle commands need one; queries need only an
    /// operator certificate).
    #[serde(default)]
    pub operators: Vec<HubOperator>,
    /// Where approved communications are delivered.
    #[serde(default)]
    pub comms: CommsConfig,
    /// The web dashboard (HTTPS, same TLS material as the gRPC listener). Omit to disable.
    #[serde(default)]
    pub dashboard: Option<DashboardConfig>,
    /// Outbound event webhooks (`webhooks.rs`): hub events sent to receivers by kind.
    #[serde(default)]
    pub webhooks: Vec<socfed_runtime::webhook::WebhookConfig>,
}

/// `[dashboard]`: where it listens, how long a session lasts after `sirt-hub login`, the
/// address people open (the table of every web surface).
pub use socfed_runtime::web::WebConfig as DashboardConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommsConfig {
    /// How often approved communications that are not delivered yet are retried.
    #[serde(with = "humantime_serde")]
    pub retry_interval: Duration,
    /// Incoming webhooks (JSON with a `text` field, as chat tools accept), per audience.
    pub webhooks: Vec<CommsWebhook>,
    /// Whoever drafted a communication may also approve it. Off: a second IR lead or the CISO
    /// must approve (four eyes). Turn on only for a team with a single IR lead.
    pub allow_self_approval: bool,
}

impl Default for CommsConfig {
    fn default() -> Self {
        Self {
            retry_interval: Duration::from_secs(30),
            webhooks: Vec::new(),
            allow_self_approval: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommsWebhook {
    /// executives, board, legal, clients, regulators, or "all".
    pub audience: String,
    /// The webhook URL. It often carries a secret token: it is never logged or stored in a
    /// record, only its host.
    pub url: String,
    #[serde(default = "default_webhook_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn default_tls_reload() -> Duration {
    Duration::from_secs(10)
}

fn default_webhook_timeout() -> Duration {
    Duration::from_secs(10)
}

impl CommsConfig {
    /// The webhook for `audience`: one naming it, else one for "all".
    pub fn webhook_for(&self, audience: crate::comms::Audience) -> Option<&CommsWebhook> {
        self.webhooks
            .iter()
            .find(|w| w.audience == audience.as_str())
            .or_else(|| self.webhooks.iter().find(|w| w.audience == "all"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubOperator {
    /// The operator name in the certificate (`spiffe://DOMAIN/operator/NAME`).
    pub name: String,
    /// tier1..tier4, engineer, soc-manager, ir-lead, ciso or admin.
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolledSite {
    pub id: SiteId,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest gRPC message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Escalations one stream may have in flight before the hub stops reading it.
    pub max_in_flight_per_stream: usize,
    /// Escalations one `escalation_batch` may carry (advertised in the welcome); 0: sites send
    /// single escalations only. At most `max_in_flight_per_stream`.
    pub max_batch_escalations: usize,
    /// Watch streams (`WatchIncidents`, `WatchEvents`, `/api/v1/events`) one certificate or
    /// API token may hold open at once.
    pub max_watches_per_operator: usize,
}

/// The largest gRPC message the hub accepts (and the default). An escalation is stored whole
/// (as a review record when it is refused), so this bounds what a site can make the hub store
/// well below the size at which sled writes a value to an unsynced blob file
/// (docs/RELIABILITY.md, "Large values"); reports themselves are at most
/// `socfed_proto::vocab::MAX_REPORT_BYTES`.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Escalations per batch by default: about 500 bytes each, a full batch is near the default
/// message size limit (64 KiB), and the site fills batches up to that limit first.
pub const DEFAULT_MAX_BATCH_ESCALATIONS: usize = 256;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_in_flight_per_stream: 4096,
            max_batch_escalations: DEFAULT_MAX_BATCH_ESCALATIONS,
            max_watches_per_operator: 16,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Most escalations committed by one flush.
    pub max_batch: usize,
    /// `fsync`: flush and fdatasync before every ack (power-safe); `flush`: sled flush only.
    pub durability: Durability,
    /// sled page cache, in bytes.
    pub cache_bytes: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_batch: 2048,
            durability: Durability::Fsync,
            cache_bytes: crate::store::DEFAULT_CACHE_BYTES,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorrelationConfig {
    /// Reports sharing a fingerprint within this window join one incident.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

pub use socfed_runtime::config::ConfigError;
use socfed_runtime::config::{Invalid, Validate, in_range};

impl HubConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        socfed_runtime::config::load(path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        socfed_runtime::config::parse(text, path)
    }
}

impl Validate for HubConfig {
    fn validate(&self) -> Result<(), Invalid> {
        for hook in &self.comms.webhooks {
            if hook.audience != "all" {
                hook.audience
                    .parse::<crate::comms::Audience>()
                    .map_err(|e| ("comms.webhooks.audience", e.to_string()))?;
            }
            if !(hook.url.starts_with("https://") || hook.url.starts_with("http://")) {
                return Err(("comms.webhooks.url", "must be an http(s) URL".into()));
            }
        }
        if let Some(admin) = &self.admin {
            admin.check()?;
        }
        if let Some(dashboard) = &self.dashboard {
            dashboard.check("dashboard.public_url")?;
        }
        if self.comms.retry_interval < Duration::from_millis(100) {
            return Err(("comms.retry_interval", "must be at least 100ms".into()));
        }
        in_range(
            "limits.max_message_bytes",
            self.limits.max_message_bytes,
            1024..=MAX_MESSAGE_BYTES,
        )?;
        in_range(
            "limits.max_in_flight_per_stream",
            self.limits.max_in_flight_per_stream,
            1..=65_536,
        )?;
        in_range(
            "limits.max_batch_escalations",
            self.limits.max_batch_escalations,
            0..=self.limits.max_in_flight_per_stream.min(u32::MAX as usize),
        )?;
        in_range(
            "limits.max_watches_per_operator",
            self.limits.max_watches_per_operator,
            1..=4096,
        )?;
        self.connections.validate()?;
        in_range("ingest.max_batch", self.ingest.max_batch, 1..=65_536)?;
        in_range(
            "ingest.cache_bytes",
            self.ingest.cache_bytes,
            (16 << 20)..=(1 << 40),
        )?;
        self.response.check()?;
        self.store.check()?;
        if self.correlation.window.is_zero() {
            return Err((
                "correlation.window",
                "must be longer than zero, e.g. \"24h\"".into(),
            ));
        }
        for operator in &self.operators {
            socfed_proto::identity::parse_operator_name(&operator.name)
                .map_err(|e| ("operators.name", e.to_string()))?;
            operator
                .role
                .parse::<crate::lifecycle::HubRole>()
                .map_err(|e| ("operators.role", e.to_string()))?;
        }
        let mut seen = std::collections::HashSet::new();
        for site in &self.sites {
            if !seen.insert(&site.id) {
                return Err((
                    "sites",
                    format!("site {:?} is listed twice", site.id.as_str()),
                ));
            }
        }
        socfed_runtime::webhook::config::validate(&self.webhooks, crate::webhooks::KINDS)?;
        Ok(())
    }
}

/// A commented example, printed by `sirt-hub config example`; a test keeps it parseable.
pub const EXAMPLE: &str = r#"# sirt-hub configuration. Unknown keys are rejected.

# gRPC listener for site escalation streams and the operator API (mutual TLS only).
listen = "0.0.0.0:7443"

# Directory of the hub's sled store. Back it up with the hub stopped.
data_dir = "/var/lib/socfed-hub"

# SPIFFE trust domain of the organisation PKI (`sirt-hub pki init --trust-domain`).
trust_domain = "corp.example"

# How often the TLS files below are checked for changes. A changed certificate, key, CA or CRL
# applies to new connections without a restart, and site streams are ended so every site
# re-authenticates under it (a site revoked since it connected is cut off).
tls_reload_interval = "10s"

[tls]
# Organisation CA, and the hub certificate and key from `sirt-hub pki issue --hub`.
ca = "/etc/socfed/pki/ca.crt"
cert = "/etc/socfed/pki/hub.crt"
key = "/etc/socfed/pki/hub.key"
# The CA's revocation list (`sirt-hub pki revoke`, re-signed by `sirt-hub pki crl`). Client
# certificates it lists are refused at the handshake. Omit to check no CRL.
crl = "/etc/socfed/pki/crl.pem"

# Sites allowed to open an escalation stream: these only SEED the enrolled sites, which live
# in the hub store. At start a site listed here that the store never held is enrolled; a site
# removed from this list stays enrolled (`sirt-hub sites remove ID` removes it), and one
# removed with `sites remove` stays removed. At run time, without a restart:
# `sirt-hub sites enrol ID --name NAME` (admin or CISO), `sirt-hub sites list`. A valid site
# certificate for a site that is not enrolled is refused with PERMISSION_DENIED.
[[sites]]
id = "paris"
name = "Paris data centre"

[[sites]]
id = "lyon"
name = "Lyon office"

[limits]
# Largest gRPC message accepted, in bytes (at most 65536: the hub stores an escalation whole,
# and no stored value may near sled's unsynced-blob size); larger ones end that stream with
# RESOURCE_EXHAUSTED.
max_message_bytes = 65536
# Escalations one stream may have in flight before the hub stops reading it (backpressure).
max_in_flight_per_stream = 4096
# Escalations a site may send in one batch message (told to the site in the welcome); 0: single
# escalations only. At most max_in_flight_per_stream.
max_batch_escalations = 256
# `WatchIncidents` streams (`incidents watch`) one operator certificate may hold open at once;
# more are refused with RESOURCE_EXHAUSTED.
max_watches_per_operator = 16

# Caps and timers of every listener (gRPC, dashboard, admin), each applying them on its own.
# All connections together stay within the open-file limit (raised to its hard limit at start)
# minus a reserve for the store; refusals are counted in socfed_listener_refused_total.
[connections]
# Established connections per listener, and per peer IP address.
max_connections = 4096
max_connections_per_ip = 256
# Connections in the TLS handshake or without a client certificate: a separate, small budget
# (at most a quarter of the descriptor budget), so strangers never take a site's place.
max_unauthenticated = 256
max_unauthenticated_per_ip = 32
# Time to finish the TLS handshake; life of a gRPC connection without a client certificate
# (it is only ever told UNAUTHENTICATED).
handshake_timeout = "5s"
unauthenticated_lifetime = "5s"
# A connection on which the peer sends nothing (not even a keepalive answer) is closed.
idle_timeout = "5min"
# HTTP/2 keepalive pings, and how long an answer may take before the connection is closed.
keepalive_interval = "30s"
keepalive_timeout = "20s"
# Calls open at once on one HTTP/2 connection.
max_streams_per_connection = 128
# Time to send a request's headers (HTTP/1.1: dashboard and admin listener).
header_read_timeout = "10s"

[ingest]
# Most escalations made durable by one commit (group commit).
max_batch = 2048
# "fsync": sled flush + fdatasync before acknowledging (survives power loss).
# "flush": sled flush only (survives a process crash; faster).
durability = "fsync"
# sled page cache in bytes. A store much larger than its cache costs more per escalation
# (random index keys miss it): at 1 M incidents, 2 GiB instead of 256 MiB cut the CPU per
# escalation by about a quarter (docs/PERFORMANCE.md).
cache_bytes = 268435456

# Operators and their role at the hub: tier1..tier4, engineer, soc-manager, ir-lead, ciso,
# admin. Lifecycle commands (`sirt-hub incidents transition`) need a role; queries need only an
# operator certificate of the organisation. This list seeds the roster at the first start only;
# afterwards `sirt-hub operators add|set-role|remove` manages it.
[[operators]]
name = "ines"
role = "ir-lead"

[[operators]]
name = "carl"
role = "ciso"

[correlation]
# Reports sharing a rule or ATT&CK technique and an indicator within this window join one
# hub incident, one sighting per site.
window = "7days"

[response]
# How long a directive (or task) is kept after its site reported a final state (succeeded,
# failed, refused, expired...); then it is pruned, hourly, with its index entries. The
# incident's timeline and the audit chain keep what they recorded; a hunt's sweeps stay while
# the hunt does. At least 1 day.
directive_retention = "90days"
# The hub event log (`/api/v1/events`, `sirt-hub incidents watch --since`): events older than
# `event_retention`, and all but the newest `max_events`, are pruned hourly, oldest first. A
# client that resumes from a pruned sequence gets what is left. At least 1 day and 1 event.
event_retention = "30days"
max_events = 1000000

# Optional admin listener: Prometheus metrics at http://LISTEN/metrics (plain HTTP: keep it on
# loopback or a management network). Omit the table to disable it.
[admin]
listen = "127.0.0.1:9600"

# The web dashboard: HTTPS with the hub's certificate (browsers need the organisation CA, or
# your usual trust store if the hub certificate is also issued there). People sign in with a
# link from `sirt-hub login`, made with their operator certificate; `session` is how long it
# lasts. Omit the table to disable the dashboard.
[dashboard]
listen = "0.0.0.0:7444"
session = "8h"
public_url = "https://sirt.corp.example:7444"

# Communications (`sirt-hub incidents comms`): approved updates are POSTed as JSON with a
# `text` field (what Slack, Mattermost and Rocket.Chat incoming webhooks accept) to the webhook
# of their audience (executives, board, legal, clients, regulators), or to one for "all".
# Audiences without a webhook are delivered by hand and recorded with `comms delivered`.
# URLs often embed a secret token: only their host is ever logged or recorded.
[comms]
retry_interval = "30s"
# Four eyes: whoever drafted a communication cannot approve it (a second IR lead or the CISO
# must). Set to true only for a team with a single IR lead.
allow_self_approval = false

[[comms.webhooks]]
audience = "executives"
url = "https://chat.corp.example/hooks/REPLACE-WITH-TOKEN"
timeout = "10s"

# Where the hub keeps its state. sled (the default) is embedded in data_dir: one hub process.
# PostgreSQL lets several hub replicas share one database, all active (docs/OPERATIONS.md,
# "Hub replicas"): the URL is read from a file because it carries the password, TLS 1.3 to
# the database is verified against ca_file (sslmode=verify-full in the URL).
# [store]
# kind = "postgres"
# url_file = "/etc/socfed/secrets/hub-database-url"
# ca_file = "/etc/socfed/pki/database-ca.pem"
# schema = "socfed"
# pool_size = 8
# connect_timeout = "5s"
# statement_timeout = "30s"

# Outbound event webhooks (none by default), as at the sites: each delivery is a JSON POST
# {"id", "kind", "at_ms", "data"} signed with HMAC-SHA256 (header Socfed-Signature:
# t=<unix>,v1=<hex> over "<t>.<body>"; docs/SECURITY.md says how a receiver verifies it) with
# its event id in Socfed-Event-Id, retried with backoff until max_age, then given up (logged,
# counted, audited). Secrets are read from files, never written here. Kinds: incident-created,
# incident-changed, directive-failed, hunt-hit, note-added (a note's author and marking,
# never its text; a TLP:RED note withheld), from the hub event log ("data" is the event as
# /api/v1/events streams it, the id its sequence). Events of TLP:RED incidents are never sent.
# [[webhooks]]
# name = "soar"
# url = "https://soar.corp.example/hooks/socfed"
# events = ["incident-created", "incident-changed", "directive-failed"]
# secret_file = "/etc/socfed/secrets/soar-hmac"
# ca_file = "/etc/socfed/pki/corporate-ca.pem"
# headers = { Authorization = "/etc/socfed/secrets/soar-auth" }
# timeout = "10s"
# max_age = "24h"

"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses() {
        let config =
            HubConfig::parse(EXAMPLE, Path::new("example.toml")).expect("example is valid");
        assert_eq!(config.sites.len(), 2);
        assert_eq!(config.ingest.durability, Durability::Fsync);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let unknown = EXAMPLE.replace("max_batch = 2048", "max_batch = 2048\nturbo = true");
        let err = HubConfig::parse(&unknown, Path::new("x.toml")).expect_err("unknown key");
        assert!(err.to_string().contains("turbo"), "{err}");
        let bad = EXAMPLE.replace("max_batch = 2048", "max_batch = 0");
        let err = HubConfig::parse(&bad, Path::new("x.toml")).expect_err("bad value");
        assert!(err.to_string().contains("ingest.max_batch"), "{err}");
        let bad_site = EXAMPLE.replace("id = \"lyon\"", "id = \"Lyon!\"");
        assert!(HubConfig::parse(&bad_site, Path::new("x.toml")).is_err());
    }

    #[test]
    fn directive_retention_defaults_to_90_days_and_is_at_least_a_day() {
        let config = HubConfig::parse(EXAMPLE, Path::new("x.toml")).expect("valid");
        assert_eq!(
            config.response.directive_retention,
            Duration::from_secs(90 * 24 * 3600)
        );
        let without = EXAMPLE.replace("directive_retention = \"90days\"", "");
        let config = HubConfig::parse(&without, Path::new("x.toml")).expect("valid");
        assert_eq!(
            config.response.directive_retention,
            Duration::from_secs(90 * 24 * 3600)
        );
        let short = EXAMPLE.replace(
            "directive_retention = \"90days\"",
            "directive_retention = \"23h\"",
        );
        let err = HubConfig::parse(&short, Path::new("x.toml")).expect_err("too short");
        assert!(
            err.to_string().contains("response.directive_retention"),
            "{err}"
        );
        assert!(err.to_string().contains("1 day"), "{err}");
        let day = EXAMPLE.replace(
            "directive_retention = \"90days\"",
            "directive_retention = \"1day\"",
        );
        assert!(HubConfig::parse(&day, Path::new("x.toml")).is_ok());
    }

    #[test]
    fn the_event_log_keeps_at_least_a_day_and_one_event_and_defaults_to_a_month() {
        let config = HubConfig::parse(EXAMPLE, Path::new("x.toml")).expect("example");
        assert_eq!(
            config.response.event_retention,
            Duration::from_secs(30 * 86_400)
        );
        let without = EXAMPLE
            .replace("event_retention = \"30days\"\n", "")
            .replace("max_events = 1000000\n", "");
        let defaults = HubConfig::parse(&without, Path::new("x.toml")).expect("defaults");
        assert_eq!(defaults.response.max_events, 1_000_000);
        for (from, to, key) in [
            (
                "event_retention = \"30days\"",
                "event_retention = \"2h\"",
                "response.event_retention",
            ),
            (
                "max_events = 1000000",
                "max_events = 0",
                "response.max_events",
            ),
        ] {
            let bad = EXAMPLE.replace(from, to);
            let err = HubConfig::parse(&bad, Path::new("x.toml")).expect_err(key);
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn an_admin_listener_off_loopback_needs_an_explicit_setting() {
        let open = EXAMPLE.replace("listen = \"127.0.0.1:9600\"", "listen = \"0.0.0.0:9600\"");
        let err = HubConfig::parse(&open, Path::new("x.toml")).expect_err("non-loopback admin");
        assert!(
            err.to_string().contains("admin.allow_non_loopback"),
            "{err}"
        );
        let deliberate = open.replace(
            "listen = \"0.0.0.0:9600\"",
            "listen = \"0.0.0.0:9600\"\nallow_non_loopback = true",
        );
        assert!(HubConfig::parse(&deliberate, Path::new("x.toml")).is_ok());
    }

    #[test]
    fn the_dashboard_public_url_must_be_https() {
        let plain = EXAMPLE.replace(
            "public_url = \"https://sirt.corp.example:7444\"",
            "public_url = \"http://sirt.corp.example:7444\"",
        );
        let err = HubConfig::parse(&plain, Path::new("x.toml")).expect_err("http public_url");
        assert!(err.to_string().contains("dashboard.public_url"), "{err}");
    }

    #[test]
    fn the_commented_webhook_example_is_valid_once_uncommented() {
        let text =
            socfed_runtime::webhook::config::uncomment_example(EXAMPLE).expect("a webhook example");
        let config = HubConfig::parse(&text, Path::new("example.toml")).expect("valid");
        assert_eq!(config.webhooks.len(), 1);
        let agent_kind = text.replace("\"directive-failed\"]", "\"sla-breach\"]");
        let e = HubConfig::parse(&agent_kind, Path::new("x.toml")).expect_err("an agent kind");
        assert!(e.to_string().contains("unknown event kind"), "{e}");
    }
}
