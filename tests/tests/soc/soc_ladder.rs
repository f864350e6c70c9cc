//! Who hears about an alert nobody can take, and how fast it climbs: the real agent (in-process,
//! over mutual TLS) with a manual clock, so quiet periods and SLA windows pass without sleeping.
//!
//! - the "unassigned" notification: critical and high groups are never muted; lower ones are
//!   muted for five minutes and the notification that ends the mute carries the exact count;
//! - the SLA ladder skips tiers with nobody on shift (a critical alert with nobody present
//!   reaches the SIRT at its first breach, not after four windows);
//! - rotation members must be in the roster.

use site_agent::service::ManualClock;
use socfed_proto::pb::{self, site_soc_client::SiteSocClient};
use socfed_runtime::tls::{ExpectedServer, TlsFiles};
use socfed_tests::{clients, eventually, fixture::Org, pki::TestPki};
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;

/// Monday 2026-03-02 10:00 UTC.
const MONDAY_10_UTC: i64 = 1_772_445_600_000;
const MINUTE: Duration = Duration::from_secs(60);

struct Site {
    _tmp: tempfile::TempDir,
    pki: TestPki,
    hub: sirt_hub::app::RunningHub,
    agent: site_agent::app::RunningAgent,
    clock: Arc<ManualClock>,
}

impl Site {
    async fn start(soc: &str) -> anyhow::Result<Self> {
        let org = Org::new()?;
        let hub = org.hub(&["paris"], "").await?;
        let clock = Arc::new(ManualClock::new(MONDAY_10_UTC));
        let path = socfed_tests::procs::write_agent_config(
            org.dir(),
            &org.pki,
            "paris",
            hub.addr,
            "127.0.0.1:0".parse()?,
            soc,
        )?;
        let config = site_agent::config::AgentConfig::load(&path)?;
        let agent = site_agent::app::start_with_clock(config, clock.clone()).await?;
        Ok(Self {
            _tmp: org.tmp,
            pki: org.pki,
            hub,
            agent,
            clock,
        })
    }

    fn soc(&self) -> anyhow::Result<SiteSocClient<Channel>> {
        let files: TlsFiles = self.pki.operator("carol")?;
        Ok(SiteSocClient::new(clients::channel(
            self.agent.local_addr,
            &files,
            &self.pki.domain,
            ExpectedServer::AnySite,
        )?))
    }

    async fn add(&self, name: &str, role: &str) -> anyhow::Result<()> {
        self.soc()?
            .add_analyst(pb::AddAnalystRequest {
                analyst: Some(pb::Analyst {
                    legacy_role: String::new(),
                    name: name.into(),
                    display_name: String::new(),
                    role: site_agent::wire::ROLES
                        .to_wire(role.parse().map_err(anyhow::Error::msg)?)
                        .into(),
                    shifts: vec!["mon-fri 08:00-18:00 UTC".into()],
                }),
            })
            .await?;
        Ok(())
    }

    /// Opens one group per rule, each of `severity`.
    async fn alerts(&self, rules: &[&str], severity: &str) -> anyhow::Result<()> {
        let lines = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| pb::RawLine {
                line_no: i as u64 + 1,
                text: format!(
                    r#"{{"observed_at": "2026-03-02T09:58:00Z", "product": "EDR", "rule_id": "{rule}", "rule_name": "rule {rule}", "severity": "{severity}", "hosts": ["ws-1"]}}"#
                ),
            })
            .collect();
        let batch = pb::AlertBatch {
            format: pb::AlertFormat::Native as i32,
            lines,
        };
        let summary = self
            .soc()?
            .submit_alerts(tokio_stream::iter(vec![batch]))
            .await?
            .into_inner();
        anyhow::ensure!(summary.accepted == rules.len() as u64, "{summary:?}");
        Ok(())
    }

    /// Notifications of `kind`, oldest first.
    async fn notes(&self, kind: &str) -> anyhow::Result<Vec<String>> {
        let mut notes: Vec<pb::Notification> = self
            .soc()?
            .list_notifications(pb::ListNotificationsRequest { limit: 1000 })
            .await?
            .into_inner()
            .notifications
            .into_iter()
            .filter(|n| n.kind == kind)
            .collect();
        notes.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(notes.into_iter().map(|n| n.message).collect())
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.agent.stop().await?;
        self.hub.stop().await?;
        Ok(())
    }
}

const MANAGER_ONLY: &str = "[soc]\nmanagers = [\"carol\"]\nsla_check_interval = \"1h\"\n";

#[tokio::test]
async fn critical_and_high_unassigned_groups_are_never_muted_and_muted_counts_are_exact()
-> anyhow::Result<()> {
    // Nobody on shift at any tier.
    let site = Site::start(MANAGER_ONLY).await?;
    site.alerts(&["LOW-1"], "low").await?;
    assert_eq!(
        site.notes("unassigned").await?.len(),
        1,
        "the first one is sent"
    );

    // Inside the quiet period: a critical and a high group are each notified at once.
    site.clock.advance(MINUTE);
    site.alerts(&["CRIT-1"], "critical").await?;
    site.alerts(&["HIGH-1", "HIGH-2"], "high").await?;
    let notes = site.notes("unassigned").await?;
    assert_eq!(notes.len(), 4, "{notes:#?}");
    let starting = |prefix: &str| notes.iter().filter(|n| n.starts_with(prefix)).count();
    assert_eq!(starting("critical alert group"), 1, "{notes:#?}");
    assert_eq!(starting("high alert group"), 2, "{notes:#?}");

    // Lower groups in the quiet period are held, then sent with their exact number.
    site.alerts(&["LOW-2", "LOW-3"], "low").await?;
    site.clock.advance(MINUTE);
    site.alerts(&["MED-1"], "medium").await?;
    assert_eq!(site.notes("unassigned").await?.len(), 4, "muted");
    site.clock.advance(3 * MINUTE - Duration::from_millis(1));
    site.agent.soc.sla_tick()?;
    assert_eq!(site.notes("unassigned").await?.len(), 4, "still quiet");
    site.clock.advance(Duration::from_millis(1));
    site.agent.soc.sla_tick()?;
    let notes = site.notes("unassigned").await?;
    assert_eq!(notes.len(), 5, "{notes:#?}");
    assert!(
        notes[4].starts_with("3 new alert groups below high severity"),
        "{}",
        notes[4]
    );
    // Nothing is counted twice.
    site.clock.advance(10 * MINUTE);
    site.agent.soc.sla_tick()?;
    assert_eq!(site.notes("unassigned").await?.len(), 5);
    site.stop().await
}

#[tokio::test]
async fn the_sla_ladder_skips_tiers_with_nobody_on_shift() -> anyhow::Result<()> {
    // Tier 1 is staffed, tiers 2 and 3 are empty, tier 4 is staffed.
    let site = Site::start(MANAGER_ONLY).await?;
    site.add("ann", "tier1").await?;
    site.add("dora", "tier4").await?;
    site.alerts(&["RANSOM-1"], "critical").await?;
    let mut soc = site.soc()?;
    let group = soc
        .list_alerts(pb::ListAlertsRequest::default())
        .await?
        .into_inner()
        .groups
        .remove(0);
    assert_eq!((group.tier, group.assignee.as_str()), (1, "ann"));

    // One acknowledgement window at tier 1, then straight to tier 4: no wait at 2 and 3.
    site.clock.advance(15 * MINUTE);
    assert_eq!(site.agent.soc.sla_tick()?.len(), 1);
    let group = soc
        .get_alert(pb::GetAlertRequest {
            id: group.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!((group.tier, group.assignee.as_str()), (4, "dora"));
    let breaches = site.notes("sla-breach").await?;
    assert!(
        breaches
            .iter()
            .any(|n| n.contains("nobody of tier 2 is on shift"))
            && breaches
                .iter()
                .any(|n| n.contains("nobody of tier 3 is on shift")),
        "{breaches:#?}"
    );
    site.stop().await
}

#[tokio::test]
async fn with_nobody_on_shift_a_critical_alert_reaches_the_sirt_at_its_first_breach()
-> anyhow::Result<()> {
    let site = Site::start(MANAGER_ONLY).await?;
    site.alerts(&["RANSOM-2"], "critical").await?;
    site.clock.advance(15 * MINUTE);
    assert_eq!(site.agent.soc.sla_tick()?.len(), 1);
    let group = site
        .soc()?
        .list_alerts(pb::ListAlertsRequest {
            status: pb::AlertStatus::Promoted.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .groups;
    assert_eq!(group.len(), 1, "promoted after one window, not four");
    let mut op = clients::operator(
        site.hub.addr,
        &site.pki.operator("auditor")?,
        &site.pki.domain,
    )?;
    eventually("the incident at the hub", Duration::from_secs(20), || {
        let mut op = op.clone();
        async move {
            clients::all_incidents(&mut op)
                .await
                .ok()?
                .into_iter()
                .next()
        }
    })
    .await?;
    let _ = &mut op;
    site.stop().await
}

#[tokio::test]
async fn rotation_members_must_be_in_the_roster() -> anyhow::Result<()> {
    let site = Site::start(
        "[soc]\nmanagers = [\"carol\"]\nsla_check_interval = \"1h\"\n[soc.rotation]\nmembers = [\"ann\", \"ghost\"]\nperiod_days = 7\nstarts_on = \"2026-03-02\"\ntz = \"UTC\"\nsirt_seats = 1\n",
    )
    .await?;
    site.add("ann", "tier1").await?;
    let refused = site
        .soc()?
        .shifts_now(pb::ShiftsNowRequest { horizon_hours: 24 })
        .await
        .expect_err("ghost is not in the roster");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("ghost"), "{}", refused.message());
    site.add("ghost", "tier1").await?;
    site.soc()?
        .shifts_now(pb::ShiftsNowRequest { horizon_hours: 24 })
        .await?;
    site.stop().await
}
