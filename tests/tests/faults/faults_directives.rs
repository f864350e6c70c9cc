//! Fault injection on the directive channel: directives to three sites while the hub, then the
//! hub and the agents, are SIGKILLed in a loop (real processes). The side effect counted is a
//! playbook command that appends `SITE DIRECTIVE_ID` to a file.
//!
//! - Hub kills only: every directive runs exactly once at every site and is reported
//!   succeeded (a directive the hub resends after a restart is answered from the agent's record).
//! - Agent kills too: never more than once; an action the agent was running when it died is
//!   reported `interrupted` and not re-run; every one reported succeeded ran exactly once.
//!
//! Short variant in the default suite; `SOCFED_LONG_FAULTS=1` runs more rounds and larger
//! batches. `SOCFED_FAULT_SEED=N` replays the kill moments.

use socfed_proto::pb;
use socfed_proto::vocab::DirectiveState;
use socfed_tests::federation::{Federation, Spec};
use socfed_tests::seed::{self, Rng};
use socfed_tests::{clients, eventually};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

type Key = (String, String); // (site, directive id)

struct Run {
    fed: Arc<Federation>,
    incident: String,
    ines: pb::response_client::ResponseClient<tonic::transport::Channel>,
    /// Which phase issued each directive: 0 = hub kills, 1 = hub and agent kills, 2 = none.
    issued: BTreeMap<Key, u8>,
}

impl Run {
    /// Issues `n` directives to every site (the hub is up: each call succeeds once).
    async fn issue(&mut self, n: usize, phase: u8, round: usize) -> anyhow::Result<()> {
        for i in 0..n {
            let reply = self
                .ines
                .issue_directive(pb::IssueDirectiveRequest {
                    incident_id: self.incident.clone(),
                    sites: SITES.iter().map(|s| s.to_string()).collect(),
                    kind: "collect_evidence".into(),
                    params: [("item".to_string(), format!("p{phase}-r{round}-{i}"))].into(),
                    expires_in_s: 0,
                })
                .await?
                .into_inner();
            for status in reply.directives {
                let id = status.directive.unwrap_or_default().directive_id;
                self.issued.insert((status.site_id, id), phase);
            }
        }
        Ok(())
    }

    /// SIGKILLs the hub, leaves it down for `down` ms, restarts it and waits until it answers.
    async fn kill_hub(&self, down: u64) -> anyhow::Result<()> {
        let mut hub = self.fed.hub.lock().await;
        hub.kill9()?;
        tokio::time::sleep(Duration::from_millis(down)).await;
        hub.restart()?;
        drop(hub);
        eventually("the hub to answer", Duration::from_secs(60), || async {
            self.fed.stored().await
        })
        .await?;
        Ok(())
    }

    /// Waits until every directive issued so far is final at its site and returns them all.
    async fn wait_final(&self) -> anyhow::Result<Vec<pb::DirectiveStatus>> {
        let expected = self.issued.len();
        eventually(
            "every directive to reach a final state at every site",
            Duration::from_secs(180),
            || async {
                let list = self.statuses().await?;
                let all_final = list.len() == expected
                    && list
                        .iter()
                        .all(|d| DirectiveState::from_wire(d.state).is_some_and(|s| s.is_final()));
                all_final.then_some(list)
            },
        )
        .await
    }

    /// Every directive of the incident, all pages.
    async fn statuses(&self) -> Option<Vec<pb::DirectiveStatus>> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let request = pb::ListDirectivesRequest {
                incident_id: self.incident.clone(),
                limit: 200,
                page_token,
                ..Default::default()
            };
            let page = self
                .ines
                .clone()
                .list_directives(request)
                .await
                .ok()?
                .into_inner();
            all.extend(page.directives);
            if page.next_page_token.is_empty() {
                return Some(all);
            }
            page_token = page.next_page_token;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn directives_under_hub_and_agent_crash_loops_run_at_most_once_and_exactly_once_when_reported()
-> anyhow::Result<()> {
    let mut rng = Rng::new(seed::seed_for("faults_directives"));
    let rounds = seed::scale(3, 10);
    let batch = seed::scale(8, 25);
    let tmp_log = tempfile::NamedTempFile::new()?;
    let log = tmp_log.path().to_path_buf();
    // Each run takes a moment, so kills land while actions are running.
    let playbook = format!(
        "[response]\n[[response.playbooks]]\nkind = \"collect_evidence\"\ncommand = [\"/bin/sh\", \"-c\", 'sleep 0.05; echo \"$1 $2\" >> \"$0\"', \"{}\", \"{{site}}\", \"{{directive_id}}\"]\n",
        log.display()
    );
    let fed = Federation::start(Spec {
        hub_extra: OPERATORS.into(),
        agent_extra: playbook,
        ..Spec::sites(&SITES)
    })
    .await?;
    let incident = clients::raise_at_site(
        fed.agents[0].addr,
        fed.hub_addr,
        &fed.pki,
        "evidence needed",
    )
    .await?;
    let ines = clients::response(fed.hub_addr, &fed.pki.operator("ines")?, &fed.pki.domain)?;
    let mut run = Run {
        fed: fed.clone(),
        incident,
        ines,
        issued: BTreeMap::new(),
    };

    let mut agent_kills: HashMap<String, usize> = HashMap::new();
    for phase in [0u8, 1] {
        for round in 0..rounds {
            run.issue(batch, phase, round).await?;
            // Some of the batch is delivered, some running, some not yet sent.
            tokio::time::sleep(Duration::from_millis(rng.range(0, 200))).await;
            if phase == 1 {
                for agent in &fed.agents {
                    if rng.chance(67) {
                        agent.proc.lock().await.restart()?;
                        *agent_kills.entry(agent.site.clone()).or_default() += 1;
                    }
                }
            }
            let down = rng.range(0, 300);
            run.kill_hub(down).await?;
        }
        if phase == 0 {
            // Settled before agents die, so that the hub kills alone are judged alone.
            run.wait_final().await?;
        }
    }
    // A last batch after the last kill.
    run.issue(batch, 2, 0).await?;
    let expected = run.issued.len();
    assert_eq!(expected, SITES.len() * batch * (2 * rounds + 1));

    let finals = run.wait_final().await?;

    let mut runs: HashMap<Key, usize> = HashMap::new();
    for line in std::fs::read_to_string(&log)?.lines() {
        let (site, id) = line
            .split_once(' ')
            .ok_or_else(|| anyhow::anyhow!("odd line {line:?}"))?;
        *runs.entry((site.into(), id.into())).or_default() += 1;
    }
    assert!(
        runs.keys().all(|key| run.issued.contains_key(key)),
        "only issued directives ran, and only at the sites they were sent to"
    );
    let mut tally: BTreeMap<(u8, &str), usize> = BTreeMap::new();
    for status in &finals {
        let key = (
            status.site_id.clone(),
            status.directive.clone().unwrap_or_default().directive_id,
        );
        let phase = run.issued[&key];
        let count = runs.get(&key).copied().unwrap_or(0);
        let state = DirectiveState::from_wire(status.state);
        assert!(count <= 1, "{key:?} ran {count} times");
        match state {
            Some(DirectiveState::Succeeded) => {
                assert_eq!(count, 1, "{key:?} reported succeeded but ran {count} times");
                *tally.entry((phase, "succeeded")).or_default() += 1;
            }
            Some(DirectiveState::Interrupted) if phase == 1 => {
                // The action may or may not have taken effect before the agent died.
                let label = if count == 1 {
                    "interrupted, had run"
                } else {
                    "interrupted, had not run"
                };
                *tally.entry((phase, label)).or_default() += 1;
            }
            other => panic!(
                "{key:?} (phase {phase}) ended {other:?}: {} (hub kills alone must not interrupt)",
                status.detail
            ),
        }
    }
    // Hub kills alone and the batch after the last kill: exactly once at every site.
    for (key, phase) in &run.issued {
        if *phase != 1 {
            assert_eq!(runs.get(key), Some(&1), "{key:?} (phase {phase})");
        }
    }
    fed.stop().await?;
    eprintln!(
        "faults_directives: {expected} (directive, site) pairs over {rounds} hub-kill rounds, {rounds} hub+agent-kill rounds and a last batch; agent kills {agent_kills:?}; outcomes by (phase, state) {tally:?}; none ran twice"
    );
    Ok(())
}
