//! Agent configuration: a TOML file, unknown keys rejected, validation errors naming the key.
//! The binary exits with 78 (EX_CONFIG) on any of them.

use crate::store::cap::OnFull;
use serde::{Deserialize, Serialize};
use socfed_proto::identity::TrustDomain;
use socfed_proto::vocab::SiteId;
use socfed_runtime::config::{AdminConfig, Durability};
use socfed_runtime::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// This site's id; must match the site named in the certificate.
    pub site_id: SiteId,
    pub data_dir: PathBuf,
    pub trust_domain: TrustDomain,
    pub tls: TlsFiles,
    /// How often the certificate, key, CA and CRL files are checked for changes; a change
    /// applies to new connections (local API and the next hub session).
    #[serde(default = "default_tls_reload", with = "humantime_serde")]
    pub tls_reload_interval: Duration,
    pub hub: HubLink,
    pub local_api: LocalApi,
    /// Caps and timers of the local API and admin listeners.
    #[serde(default)]
    pub connections: socfed_runtime::listen::ListenLimits,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub durability: DurabilityConfig,
    /// Optional admin listener for Prometheus metrics.
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    /// The local SOC: triage, SLA clocks, escalation policy.
    #[serde(default)]
    pub soc: SocConfig,
    /// Directives from the hub: playbooks mapping each directive kind to an action.
    #[serde(default)]
    pub response: crate::response::ResponseConfig,
    /// Outbound event webhooks (`webhooks.rs`): notifications sent to receivers by kind.
    #[serde(default)]
    pub webhooks: Vec<socfed_runtime::webhook::WebhookConfig>,
    /// The SOC console (HTTPS, same TLS material as the local API). Omit to disable.
    #[serde(default)]
    pub web: Option<crate::web::WebConfig>,
}

fn default_tls_reload() -> Duration {
    Duration::from_secs(10)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SocConfig {
    /// Operators who are SOC managers even when absent from the roster: the bootstrap for
    /// `site-agent roster add`.
    pub managers: Vec<String>,
    /// Repeats of the same rule on the same hosts/users/IPs within this window fold into one
    /// alert group.
    #[serde(with = "humantime_serde")]
    pub aggregation_window: Duration,
    /// A source event (same EVE flow, transaction, rule and time; same Wazuh alert id; same
    /// OCSF event or finding state; same native `id`) taken in again within this time of its
    /// first arrival is a duplicate: counted as such and changing nothing.
    #[serde(with = "humantime_serde")]
    pub duplicate_window: Duration,
    /// How often the SLA clock looks for breached deadlines.
    #[serde(with = "humantime_serde")]
    pub sla_check_interval: Duration,
    /// Raw evidence kept per alert, in bytes.
    pub max_raw_bytes: usize,
    /// Longest accepted alert line, in bytes.
    pub max_line_bytes: usize,
    pub sla: crate::soc::sla::SlaPolicy,
    pub escalation: crate::soc::incident::EscalationPolicy,
    /// Job rotation between Tier 1 monitoring and SIRT duty (`site-agent shifts now` shows
    /// who is on which duty now and next).
    pub rotation: Option<crate::soc::roster::Rotation>,
}

impl Default for SocConfig {
    fn default() -> Self {
        Self {
            managers: Vec::new(),
            aggregation_window: Duration::from_secs(600),
            duplicate_window: Duration::from_secs(7 * 24 * 3600),
            sla_check_interval: Duration::from_secs(15),
            max_raw_bytes: 16 * 1024,
            max_line_bytes: 1024 * 1024,
            sla: crate::soc::sla::SlaPolicy::default(),
            escalation: crate::soc::incident::EscalationPolicy::default(),
            rotation: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubLink {
    /// host:port of the hub. Exactly one of `address` and `addresses` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// host:port of each hub replica, tried in turn (`uplink/failover.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Name the hub certificate must carry at every address; defaults to each address's host.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Escalations sent and not yet acknowledged, at most.
    #[serde(default = "defaults::window")]
    pub window: usize,
    #[serde(default = "defaults::max_message_bytes")]
    pub max_message_bytes: usize,
    #[serde(default = "defaults::backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    #[serde(default = "defaults::backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    #[serde(default = "defaults::status_interval", with = "humantime_serde")]
    pub status_interval: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalApi {
    /// Listener for the local API (operators and sensors at the site; mutual TLS).
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Escalations kept while the hub is unreachable.
    pub max_entries: u64,
    /// What happens at the cap: "refuse-new" or "drop-oldest".
    pub on_full: OnFull,
    /// sled page cache, in bytes.
    pub cache_bytes: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_entries: 1_000_000,
            on_full: OnFull::RefuseNew,
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DurabilityConfig {
    pub mode: Durability,
}

impl Default for DurabilityConfig {
    fn default() -> Self {
        Self {
            mode: Durability::Fsync,
        }
    }
}

mod defaults {
    use std::time::Duration;
    pub fn window() -> usize {
        1024
    }
    pub fn max_message_bytes() -> usize {
        1024 * 1024
    }
    pub fn backoff_initial() -> Duration {
        Duration::from_millis(200)
    }
    pub fn backoff_max() -> Duration {
        Duration::from_secs(30)
    }
    pub fn status_interval() -> Duration {
        Duration::from_secs(5)
    }
}

pub use socfed_runtime::config::ConfigError;
use socfed_runtime::config::{Invalid, Validate, in_range};

impl Validate for AgentConfig {
    fn validate(&self) -> Result<(), Invalid> {
        if let Some(admin) = &self.admin {
            admin.check()?;
        }
        if let Some(web) = &self.web {
            web.check("web.public_url")?;
        }
        self.hub.validate_addresses()?;
        in_range("hub.window", self.hub.window, 1..=65_536)?;
        self.connections.validate()?;
        in_range(
            "hub.max_message_bytes",
            self.hub.max_message_bytes,
            1024..=64 * 1024 * 1024,
        )?;
        if self.hub.backoff_initial.is_zero() || self.hub.backoff_max < self.hub.backoff_initial {
            return Err((
                "hub.backoff_max",
                "backoff_initial must be > 0 and backoff_max >= backoff_initial".into(),
            ));
        }
        if self.hub.status_interval < Duration::from_millis(100) {
            return Err(("hub.status_interval", "must be at least 100ms".into()));
        }
        in_range("outbox.max_entries", self.outbox.max_entries, 1..=u64::MAX)?;
        self.response
            .validate()
            .map_err(|e| ("response.playbooks", e))?;
        for name in &self.soc.managers {
            socfed_proto::identity::parse_operator_name(name)
                .map_err(|e| ("soc.managers", e.to_string()))?;
        }
        if self.soc.aggregation_window.is_zero() {
            return Err((
                "soc.aggregation_window",
                "must be longer than zero, e.g. \"10m\"".into(),
            ));
        }
        if self.soc.duplicate_window < Duration::from_secs(60) {
            return Err((
                "soc.duplicate_window",
                "must be at least 1m (it should cover how far back a sensor or forwarder may \
                 resend), e.g. \"7d\""
                    .into(),
            ));
        }
        if self.soc.sla_check_interval < Duration::from_millis(100) {
            return Err(("soc.sla_check_interval", "must be at least 100ms".into()));
        }
        in_range(
            "soc.max_raw_bytes",
            self.soc.max_raw_bytes,
            256..=1024 * 1024,
        )?;
        in_range(
            "soc.max_line_bytes",
            self.soc.max_line_bytes,
            1024..=16 * 1024 * 1024,
        )?;
        self.soc.sla.validate().map_err(|e| ("soc.sla", e))?;
        if let Some(rotation) = &self.soc.rotation {
            rotation
                .validate()
                .map_err(|e| ("soc.rotation", e.to_string()))?;
        }
        if let Some(tier) = self.soc.escalation.decision_tier {
            in_range("soc.escalation.decision_tier", tier, 1..=4)?;
        }
        socfed_runtime::webhook::config::validate(&self.webhooks, crate::webhooks::KINDS)?;
        Ok(())
    }
}

impl AgentConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        socfed_runtime::config::load(path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        socfed_runtime::config::parse(text, path)
    }

    /// Every hub address with the name its certificate must carry there, in the order tried.
    pub fn hub_targets(&self) -> Vec<socfed_runtime::tls::Target> {
        self.hub
            .address_list()
            .iter()
            .map(|address| socfed_runtime::tls::Target {
                address: address.clone(),
                server_name: self
                    .hub
                    .server_name
                    .clone()
                    .unwrap_or_else(|| socfed_runtime::cli::host_of(address).to_string()),
            })
            .collect()
    }
}

/// Most hub addresses in `hub.addresses`.
const MAX_HUB_ADDRESSES: usize = 16;

impl HubLink {
    /// `address` as a one-element list, or `addresses`.
    pub fn address_list(&self) -> Vec<String> {
        match &self.address {
            Some(one) => vec![one.clone()],
            None => self.addresses.clone(),
        }
    }

    /// Exactly one of `address` and `addresses`, each entry `host:port`.
    fn validate_addresses(&self) -> Result<(), Invalid> {
        let (key, list) = match (&self.address, self.addresses.is_empty()) {
            (Some(_), false) => {
                return Err((
                    "hub.addresses",
                    "set either hub.address (one hub) or hub.addresses (hub replicas), not both"
                        .into(),
                ));
            }
            (None, true) => {
                return Err((
                    "hub.address",
                    "missing: set hub.address = \"host:port\" or hub.addresses = [\"host:port\", ...]"
                        .into(),
                ));
            }
            (Some(one), true) => ("hub.address", std::slice::from_ref(one)),
            (None, false) => ("hub.addresses", self.addresses.as_slice()),
        };
        if list.len() > MAX_HUB_ADDRESSES {
            return Err((key, format!("at most {MAX_HUB_ADDRESSES} addresses")));
        }
        for address in list {
            let port_ok = address
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                return Err((key, format!("{address:?} must be host:port")));
            }
        }
        Ok(())
    }
}

/// A commented example, printed by `site-agent config example`; a test keeps it parseable.
pub const EXAMPLE: &str = r#"# site-agent configuration. Unknown keys are rejected.

# This site's id. It must equal the site in the certificate (spiffe://DOMAIN/site/SITE_ID).
site_id = "paris"

# Directory of the agent's sled store (outbox, sequence numbers, store epoch).
data_dir = "/var/lib/socfed-agent"

# SPIFFE trust domain of the organisation PKI.
trust_domain = "corp.example"

# How often the TLS files below are checked for changes; a rotated certificate or a new CRL
# applies to new connections (the local API, the next hub session) without a restart.
tls_reload_interval = "10s"

[tls]
# Organisation CA, and this site's certificate and key (`sirt-hub pki issue --site paris`).
ca = "/etc/socfed/pki/ca.crt"
cert = "/etc/socfed/pki/site.crt"
key = "/etc/socfed/pki/site.key"
# The CA's revocation list: operator certificates it lists are refused by the local API.
crl = "/etc/socfed/pki/crl.pem"

[hub]
# Where the SIRT hub listens.
address = "hub.corp.example:7443"
# Or, for hub replicas, every address instead of `address` (not both): tried in turn, moving
# to the next on a failed connect or a broken stream; unacknowledged escalations are resent.
# addresses = ["hub-a.corp.example:7443", "hub-b.corp.example:7443"]
# Name the hub certificate must carry (at every address); defaults to each address's host.
# server_name = "hub.corp.example"
# Escalations sent and not yet acknowledged, at most (pipelining window). They go in batches
# when the hub's welcome advertises them (its [limits] max_batch_escalations), singly otherwise.
window = 1024
# Largest message sent or received; reports larger than this are refused at intake.
max_message_bytes = 1048576
# Reconnect backoff: exponential from backoff_initial to backoff_max, with jitter.
backoff_initial = "200ms"
backoff_max = "30s"
# How often the agent reports its backlog to the hub.
status_interval = "5s"

[local_api]
# Local API for site operators and sensors (mutual TLS, operator certificates).
listen = "127.0.0.1:7601"

# Caps and timers of the local API and admin listeners (each applies them on its own). All
# connections together stay within the open-file limit (raised to its hard limit at start)
# minus a reserve for the store; refusals are counted in socfed_listener_refused_total.
[connections]
# Established connections per listener, and per peer IP address.
max_connections = 4096
max_connections_per_ip = 256
# Connections in the TLS handshake or without a client certificate: a separate, small budget.
max_unauthenticated = 256
max_unauthenticated_per_ip = 32
# Time to finish the TLS handshake; life of a connection without a client certificate.
handshake_timeout = "5s"
unauthenticated_lifetime = "5s"
# A connection on which the peer sends nothing (not even a keepalive answer) is closed.
idle_timeout = "5min"
keepalive_interval = "30s"
keepalive_timeout = "20s"
max_streams_per_connection = 128
header_read_timeout = "10s"

[outbox]
# Escalations kept while the hub is unreachable.
max_entries = 1000000
# At the cap: "refuse-new" (callers get RESOURCE_EXHAUSTED, nothing queued is lost) or
# "drop-oldest" (the oldest unsent escalation is dropped; counted, logged and reported).
on_full = "refuse-new"
# sled page cache in bytes.
cache_bytes = 67108864

[durability]
# "fsync": flush + fdatasync before an escalation is accepted (survives power loss);
# "flush": sled flush only (survives a process crash).
mode = "fsync"

# Optional admin listener: Prometheus metrics at http://LISTEN/metrics (outbox depth and age,
# refused and dropped escalations, hub connects). Omit the table to disable it.
[admin]
listen = "127.0.0.1:9601"

# The SOC console: HTTPS with this site's certificate (browsers need the organisation CA).
# People sign in with a link from `site-agent login`, made with their operator certificate;
# `session` is how long it lasts. Omit the table to keep the console off (the default).
[web]
listen = "127.0.0.1:7602"
session = "8h"
public_url = "https://soc.paris.corp.example:7602"

[soc]
# Operators who are SOC managers even when not in the roster (bootstrap: they add everyone
# else with `site-agent roster add NAME --role tier1 --shift "mon-fri 08:00-16:00 Europe/Paris"`).
managers = ["soc-manager"]
# Repeats of the same rule on the same hosts, users and IPs within this window fold into one
# alert group (counted, first/last seen kept).
aggregation_window = "10m"
# A source event taken in again within this time of its first arrival (a file ingested twice,
# a forwarder that resends) is counted as a duplicate and changes nothing.
duplicate_window = "7d"
# How often the SLA clock looks for breached deadlines.
sla_check_interval = "15s"
# Raw evidence kept per alert and the longest accepted alert line, in bytes.
max_raw_bytes = 16384
max_line_bytes = 1048576

# SLA per severity: acknowledge within / resolve within. A breach escalates the alert group to
# the next tier (Tier 1 -> 2 -> 3 -> 4 -> SIRT hub) and notifies the SOC manager.
[soc.sla.critical]
ack_within = "15m"
resolve_within = "4h"
[soc.sla.high]
ack_within = "1h"
resolve_within = "24h"
[soc.sla.medium]
ack_within = "4h"
resolve_within = "3days"
[soc.sla.low]
ack_within = "24h"
resolve_within = "7days"
[soc.sla.informational]
ack_within = "72h"
resolve_within = "30days"

# When a local incident goes to the SIRT hub without anyone asking. Remove a key to disable
# that rule; `site-agent incidents escalate ID` always works by hand.
[soc.escalation]
min_severity = "critical"
min_hosts = 5
decision_tier = 3

# Job rotation between Tier 1 monitoring and SIRT duty: periods of `period_days` from local
# midnight of `starts_on` in `tz`; each period the next `sirt_seats` members take SIRT duty.
[soc.rotation]
members = ["ann", "bob", "chen", "dana"]
period_days = 7
starts_on = "2026-01-05"
tz = "Europe/Paris"
sirt_seats = 1

# Directives from the SIRT hub. Each kind the site will run maps to exactly one allow-listed
# action; any other kind is refused and reported to the hub. Templates: {name} is a directive
# parameter, or one of {directive_id}, {incident_id}, {kind}, {site}, {issued_by}; {{ and }}
# are literal braces. Commands run without a shell, with an empty environment (PATH only), in
# their own process group, which is ended (with everything the command started) at `timeout`,
# when the command exits, and at the agent's next start if the agent was killed; the program
# must be an absolute path. Webhooks follow no redirect (a 3xx answer is a failure).
#
# Every value a template uses is checked before anything runs. `params` declares what each
# parameter must look like: { type = "ip" }, "host", "hash", "indicator" (ip, host or hash),
# { type = "path", root = "/var/log" } (under root, no . or ..), { type = "word", one_of =
# ["quick", "full"] }; an undeclared parameter is "text": no shell metacharacters, no "..",
# no leading "-". A command that runs an interpreter (sh, bash, python, perl, busybox...,
# also behind env, sudo, timeout...) takes no value from the hub unless the playbook sets
# allow_shell_templates = true, and then only as positional arguments after its fixed script:
# command = ["/bin/sh", "-c", 'tar czf /tmp/logs.tgz "$1"', "sh", "{path}"].
[response]
# Record what each directive would run and run nothing.
dry_run = false
# Output kept and reported to the hub per action (the tail), in bytes.
max_output_bytes = 8192

[[response.playbooks]]
kind = "block_indicator"
command = ["/usr/local/sbin/socfed-block", "--indicator", "{indicator}", "--ticket", "{directive_id}"]
timeout = "30s"
params = { indicator = { type = "indicator" } }

# Destructive actions wait for `site-agent directives approve ID` (tier 3+ or the SOC manager).
# `dry_run = true` on one playbook records what it would run and runs nothing, as
# [response] dry_run does for all of them.
[[response.playbooks]]
kind = "isolate_host"
webhook = "https://edr.paris.corp.example/api/isolate"
body = { host = "{host}", reason = "SIRT incident {incident_id}" }
timeout = "20s"
destructive = true
params = { host = { type = "host" } }

# Outbound event webhooks (none by default). Each delivery is a JSON POST {"id", "kind",
# "at_ms", "data"} signed with HMAC-SHA256 (header Socfed-Signature: t=<unix>,v1=<hex> over
# "<t>.<body>"; docs/SECURITY.md says how a receiver verifies it) with its event id in
# Socfed-Event-Id: delivery is at least once, so a receiver drops an id it already took.
# Events go in order; a failed attempt is retried with backoff until the event is max_age old,
# then given up (logged, counted, audited). Secrets are read from files, never written here.
# Kinds: sla-breach, unassigned-critical (an unassigned group of critical severity),
# unassigned (the others), escalated-to-sirt, from-hub.
# [[webhooks]]
# name = "siem"
# url = "https://siem.corp.example/hooks/socfed"
# events = ["sla-breach", "unassigned-critical"]
# secret_file = "/etc/socfed/secrets/siem-hmac"
# ca_file = "/etc/socfed/pki/corporate-ca.pem"
# headers = { Authorization = "/etc/socfed/secrets/siem-auth" }
# timeout = "10s"
# max_age = "24h"
# backoff_initial = "1s"
# backoff_max = "5m"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses() {
        let config = AgentConfig::parse(EXAMPLE, Path::new("example.toml")).expect("valid");
        assert_eq!(config.site_id.as_str(), "paris");
        let targets = config.hub_targets();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].address, "hub.corp.example:7443");
        assert_eq!(targets[0].server_name, "hub.corp.example");
        assert_eq!(config.outbox.on_full, OnFull::RefuseNew);
    }

    #[test]
    fn an_admin_listener_off_loopback_needs_an_explicit_setting() {
        let open = EXAMPLE.replace("listen = \"127.0.0.1:9601\"", "listen = \"[::]:9601\"");
        let err = AgentConfig::parse(&open, Path::new("x.toml")).expect_err("non-loopback admin");
        assert!(
            err.to_string().contains("admin.allow_non_loopback"),
            "{err}"
        );
        let deliberate = open.replace(
            "listen = \"[::]:9601\"",
            "listen = \"[::]:9601\"\nallow_non_loopback = true",
        );
        assert!(AgentConfig::parse(&deliberate, Path::new("x.toml")).is_ok());
    }

    #[test]
    fn errors_name_the_key() {
        let unknown = EXAMPLE.replace("window = 1024", "window = 1024\nspeed = 3");
        assert!(
            AgentConfig::parse(&unknown, Path::new("x"))
                .expect_err("unknown")
                .to_string()
                .contains("speed")
        );
        let bad = EXAMPLE.replace("max_entries = 1000000", "max_entries = 0");
        assert!(
            AgentConfig::parse(&bad, Path::new("x"))
                .expect_err("bad")
                .to_string()
                .contains("outbox.max_entries")
        );
        let policy = EXAMPLE.replace("on_full = \"refuse-new\"", "on_full = \"yolo\"");
        assert!(AgentConfig::parse(&policy, Path::new("x")).is_err());
    }

    #[test]
    fn hub_addresses_list_replicas_each_named_by_its_host() {
        let text = EXAMPLE.replace(
            "address = \"hub.corp.example:7443\"",
            "addresses = [\"hub-a.corp.example:7443\", \"[::1]:7443\"]",
        );
        let config = AgentConfig::parse(&text, Path::new("x")).expect("valid");
        let targets = config.hub_targets();
        let named: Vec<_> = targets
            .iter()
            .map(|t| (t.address.as_str(), t.server_name.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("hub-a.corp.example:7443", "hub-a.corp.example"),
                ("[::1]:7443", "::1")
            ]
        );
        let one_name = text.replace(
            "# server_name = \"hub.corp.example\"",
            "server_name = \"hub.corp.example\"",
        );
        let config = AgentConfig::parse(&one_name, Path::new("x")).expect("valid");
        assert!(
            config
                .hub_targets()
                .iter()
                .all(|t| t.server_name == "hub.corp.example")
        );
    }

    #[test]
    fn hub_address_and_addresses_exclude_each_other() {
        let both = EXAMPLE.replace(
            "address = \"hub.corp.example:7443\"",
            "address = \"hub.corp.example:7443\"\naddresses = [\"hub-b:7443\"]",
        );
        let e = AgentConfig::parse(&both, Path::new("x")).expect_err("both");
        assert!(e.to_string().contains("hub.addresses"), "{e}");
        assert!(e.to_string().contains("not both"), "{e}");
        let neither = EXAMPLE.replace("address = \"hub.corp.example:7443\"", "");
        let e = AgentConfig::parse(&neither, Path::new("x")).expect_err("neither");
        assert!(e.to_string().contains("hub.address"), "{e}");
        let empty = EXAMPLE.replace("address = \"hub.corp.example:7443\"", "addresses = []");
        assert!(AgentConfig::parse(&empty, Path::new("x")).is_err());
        let no_port = EXAMPLE.replace(
            "address = \"hub.corp.example:7443\"",
            "addresses = [\"hub-a:7443\", \"hub-b\"]",
        );
        let e = AgentConfig::parse(&no_port, Path::new("x")).expect_err("no port");
        assert!(e.to_string().contains("hub.addresses"), "{e}");
        assert!(e.to_string().contains("\"hub-b\""), "{e}");
    }

    #[test]
    fn the_commented_webhook_example_is_valid_once_uncommented() {
        let text =
            socfed_runtime::webhook::config::uncomment_example(EXAMPLE).expect("a webhook example");
        let config = AgentConfig::parse(&text, Path::new("example.toml")).expect("valid");
        assert_eq!(config.webhooks.len(), 1);
        assert_eq!(
            config.webhooks[0].events,
            ["sla-breach", "unassigned-critical"]
        );
        let unknown = text.replace("\"unassigned-critical\"]", "\"everything\"]");
        let e = AgentConfig::parse(&unknown, Path::new("example.toml")).expect_err("unknown kind");
        assert!(e.to_string().contains("unknown event kind"), "{e}");
    }
}
