//! Directives survive agent crashes without running twice: the real binaries, the agent
//! SIGKILLed twice while batches of directives are in flight. Every directive ends in a final
//! state at the hub, each one ran at most once, and every one reported as succeeded ran
//! exactly once.

use socfed_proto::pb;
use socfed_tests::procs::{Proc, binary, write_agent_config, write_hub_config};
use socfed_tests::{eventually, fixture::Org, free_port};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";
const BATCH: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directives_in_flight_when_the_agent_is_killed_run_at_most_once_and_all_report()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let hub_config = write_hub_config(org.dir(), &org.pki, hub_addr, &["paris"], OPERATORS)?;
    let _hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", &hub_config.display().to_string()],
        org.dir().join("hub.log"),
        "hub",
    )?;
    let log = org.dir().join("actions.log");
    // Each run takes a moment, so a kill lands while actions are running.
    let playbook = format!(
        "[response]\n[[response.playbooks]]\nkind = \"collect_evidence\"\ncommand = [\"/bin/sh\", \"-c\", 'sleep 0.05; echo \"$1\" >> \"$0\"', \"{}\", \"{{directive_id}}\"]\n",
        log.display()
    );
    let agent_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent_config = write_agent_config(
        org.dir(),
        &org.pki,
        "paris",
        hub_addr,
        agent_addr,
        &playbook,
    )?;
    let mut agent = Proc::spawn(
        &binary("site-agent")?,
        &["serve", "--config", &agent_config.display().to_string()],
        org.dir().join("paris.log"),
        "paris",
    )?;
    let incident = eventually(
        "the agent and hub to come up",
        Duration::from_secs(30),
        || {
            let org = &org;
            async move {
                org.raise_at_site(agent_addr, hub_addr, "evidence needed")
                    .await
                    .ok()
            }
        },
    )
    .await?;

    let ines = org.response(hub_addr, "ines")?;
    let mut issued = Vec::new();
    for round in 0..3 {
        for n in 0..BATCH {
            let reply = ines
                .clone()
                .issue_directive(pb::IssueDirectiveRequest {
                    incident_id: incident.clone(),
                    sites: vec!["paris".into()],
                    kind: "collect_evidence".into(),
                    params: [("item".to_string(), format!("r{round}-{n}"))].into(),
                    expires_in_s: 0,
                })
                .await?
                .into_inner();
            issued.extend(
                reply
                    .directives
                    .into_iter()
                    .filter_map(|d| d.directive.map(|w| w.directive_id)),
            );
        }
        if round < 2 {
            // Some of this batch is received, some running, some not yet sent.
            tokio::time::sleep(Duration::from_millis(40 * (round + 1))).await;
            agent.kill9()?;
            agent.restart()?;
        }
    }
    assert_eq!(issued.len(), 3 * BATCH);

    let finals: HashMap<String, pb::DirectiveStatus> = eventually(
        "every directive to reach a final state at the hub",
        Duration::from_secs(60),
        || {
            let mut ines = ines.clone();
            let incident = incident.clone();
            async move {
                let list = ines
                    // All 75 on one page (50 by default).
                    .list_directives(pb::ListDirectivesRequest {
                        incident_id: incident,
                        limit: 200,
                        ..Default::default()
                    })
                    .await
                    .ok()?
                    .into_inner()
                    .directives;
                let all_final = list.len() == 3 * BATCH
                    && list.iter().all(|d| {
                        socfed_proto::vocab::DirectiveState::from_wire(d.state)
                            .is_some_and(|s| s.is_final())
                    });
                all_final.then(|| {
                    list.into_iter()
                        .map(|d| (d.directive.clone().unwrap_or_default().directive_id, d))
                        .collect()
                })
            }
        },
    )
    .await?;

    let mut runs: HashMap<String, usize> = HashMap::new();
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        *runs.entry(line.to_string()).or_default() += 1;
    }
    let mut succeeded = 0;
    for id in &issued {
        let status = &finals[id];
        let count = runs.get(id).copied().unwrap_or(0);
        assert!(count <= 1, "directive {id} ran {count} times");
        match socfed_proto::vocab::DirectiveState::from_wire(status.state) {
            Some(socfed_proto::vocab::DirectiveState::Succeeded) => {
                succeeded += 1;
                assert_eq!(count, 1, "directive {id} reported success but did not run");
            }
            Some(socfed_proto::vocab::DirectiveState::Interrupted) => {}
            other => panic!("directive {id} ended {other:?}: {}", status.detail),
        }
    }
    assert!(
        runs.keys().all(|id| finals.contains_key(id)),
        "only issued directives ran"
    );
    // The last batch was issued after the last kill: all of it ran, once.
    for id in &issued[2 * BATCH..] {
        assert_eq!(runs.get(id), Some(&1), "directive {id} of the last batch");
    }
    assert!(succeeded >= BATCH);
    Ok(())
}
