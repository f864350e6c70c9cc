//! Playbooks cannot be turned against their site: real directives from an in-process hub over
//! mutual TLS to a real agent (in-process, or the real binary where the agent is killed).
//!
//! - an action's whole process tree ends at its timeout, and after an agent SIGKILL the next
//!   start ends what was left running before it reports `interrupted`;
//! - a shell with a templated argument fails `config check`; a parameter carrying a shell
//!   metacharacter or `..` refuses the directive and nothing runs;
//! - a webhook answering a redirect is not followed (the body goes nowhere else).

use socfed_proto::pb::{self, response_client::ResponseClient};
use socfed_tests::procs::{Proc, binary, write_agent_config, write_hub_config};
use socfed_tests::{eventually, fixture::Org, free_port};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tonic::transport::Channel;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

/// Issues one directive of `kind` to `site` and returns its id.
async fn issue(
    ines: &ResponseClient<Channel>,
    incident: &str,
    site: &str,
    kind: &str,
    params: &[(&str, &str)],
) -> anyhow::Result<String> {
    let reply = ines
        .clone()
        .issue_directive(pb::IssueDirectiveRequest {
            incident_id: incident.into(),
            sites: vec![site.into()],
            kind: kind.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            expires_in_s: 0,
        })
        .await?
        .into_inner();
    let first = reply
        .directives
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no directive issued"))?;
    Ok(first.directive.unwrap_or_default().directive_id)
}

/// Waits until the hub shows directive `id` in state `wanted`.
async fn final_state(
    ines: &ResponseClient<Channel>,
    incident: &str,
    id: &str,
    wanted: pb::DirectiveState,
    within: Duration,
) -> anyhow::Result<pb::DirectiveStatus> {
    eventually(
        &format!("directive {id} to be {wanted:?} at the hub"),
        within,
        || {
            let mut ines = ines.clone();
            let request = pb::ListDirectivesRequest {
                incident_id: incident.into(),
                ..Default::default()
            };
            async move {
                let list = ines.list_directives(request).await.ok()?.into_inner();
                list.directives
                    .into_iter()
                    .find(|d| d.directive.as_ref().is_some_and(|w| w.directive_id == id))
                    .filter(|d| d.state == wanted as i32)
            }
        },
    )
    .await
}

/// Whether process `pid` is still running (a zombie waiting for its parent is not).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The pid a playbook wrote to `file`, once it has.
async fn pid_in(file: &Path) -> anyhow::Result<u32> {
    eventually(
        "the action to record its child's pid",
        Duration::from_secs(20),
        || async { std::fs::read_to_string(file).ok()?.trim().parse().ok() },
    )
    .await
}

/// A playbook whose command leaves a grandchild `sleep` in the background, writes its pid to
/// `pid_file` and waits for it.
fn lingering(kind: &str, pid_file: &Path, timeout: &str) -> String {
    format!(
        "[[response.playbooks]]\nkind = \"{kind}\"\ncommand = [\"/bin/sh\", \"-c\", 'sleep 300 & echo $! > \"$0\"; wait', \"{}\"]\ntimeout = \"{timeout}\"\n",
        pid_file.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_action_is_ended_with_every_process_it_started() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let pid_file = org.dir().join("sleep.pid");
    let config = format!(
        "[response]\n{}",
        lingering("collect_evidence", &pid_file, "1s")
    );
    let agent = org.agent("paris", hub.addr, &config).await?;
    let incident = org
        .raise_at_site(agent.local_addr, hub.addr, "evidence")
        .await?;
    let ines = org.response(hub.addr, "ines")?;

    let id = issue(&ines, &incident, "paris", "collect_evidence", &[]).await?;
    let sleep = pid_in(&pid_file).await?;
    let failed = final_state(
        &ines,
        &incident,
        &id,
        pb::DirectiveState::Failed,
        Duration::from_secs(30),
    )
    .await?;
    assert!(
        failed.detail.contains("did not finish within 1s"),
        "{}",
        failed.detail
    );
    eventually(
        "the grandchild sleep to be gone",
        Duration::from_secs(10),
        || async { (!running(sleep)).then_some(()) },
    )
    .await?;
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_agent_sigkill_the_next_start_ends_the_actions_processes_before_reporting()
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
    let pid_file = org.dir().join("sleep.pid");
    let config = format!(
        "[response]\n{}",
        lingering("collect_evidence", &pid_file, "10m")
    );
    let agent_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent_config =
        write_agent_config(org.dir(), &org.pki, "paris", hub_addr, agent_addr, &config)?;
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
                org.raise_at_site(agent_addr, hub_addr, "evidence")
                    .await
                    .ok()
            }
        },
    )
    .await?;
    let ines = org.response(hub_addr, "ines")?;
    let id = issue(&ines, &incident, "paris", "collect_evidence", &[]).await?;
    let sleep = pid_in(&pid_file).await?;
    // The agent has recorded the action's process group (the record names it).
    let site = org.site_response(agent_addr, "tester")?;
    eventually(
        "the agent to record the process group",
        Duration::from_secs(20),
        || {
            let mut site = site.clone();
            let id = id.clone();
            async move {
                let record = site
                    .get_directive(pb::GetSiteDirectiveRequest { directive_id: id })
                    .await
                    .ok()?
                    .into_inner();
                record
                    .status
                    .filter(|s| s.detail.contains("process group"))
                    .map(|_| ())
            }
        },
    )
    .await?;

    agent.kill9()?;
    // Nothing of the agent is left to end the action: it outlives it until the next start.
    assert!(
        running(sleep),
        "the action is still running after the agent died"
    );
    agent.restart()?;
    let interrupted = final_state(
        &ines,
        &incident,
        &id,
        pb::DirectiveState::Interrupted,
        Duration::from_secs(30),
    )
    .await?;
    assert!(
        interrupted.detail.contains("were ended at this start"),
        "{}",
        interrupted.detail
    );
    assert!(
        !running(sleep),
        "the leftover sleep was ended before the report"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_refuses_a_shell_playbook_with_a_templated_argument() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub: SocketAddr = "127.0.0.1:9".parse()?;
    let check = |playbook: &str| -> anyhow::Result<std::process::Output> {
        let path = write_agent_config(
            org.dir(),
            &org.pki,
            "paris",
            hub,
            "127.0.0.1:0".parse()?,
            &format!("[response]\n[[response.playbooks]]\n{playbook}"),
        )?;
        Ok(std::process::Command::new(binary("site-agent")?)
            .args(["config", "check", &path.display().to_string()])
            .output()?)
    };
    // The review's case: the hub's value lands inside the script.
    let inside = check(
        "kind = \"collect_logs\"\ncommand = [\"/bin/sh\", \"-c\", \"tar czf /tmp/logs.tgz {path}\"]\n",
    )?;
    let stderr = String::from_utf8_lossy(&inside.stderr);
    assert_eq!(inside.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("allow_shell_templates"), "{stderr}");
    // Behind env, with python -c: the same.
    let wrapped = check(
        "kind = \"collect_logs\"\ncommand = [\"/usr/bin/env\", \"python3\", \"-c\", \"import sys\", \"{path}\"]\n",
    )?;
    assert_eq!(wrapped.status.code(), Some(78));
    // Opted in, the value must still be a positional argument after the script.
    let opted_in_inside = check(
        "kind = \"collect_logs\"\ncommand = [\"/bin/sh\", \"-c\", \"tar czf /tmp/logs.tgz {path}\"]\nallow_shell_templates = true\n",
    )?;
    assert_eq!(opted_in_inside.status.code(), Some(78));
    let opted_in = check(
        "kind = \"collect_logs\"\ncommand = [\"/bin/sh\", \"-c\", 'tar czf /tmp/logs.tgz \"$1\"', \"sh\", \"{path}\"]\nallow_shell_templates = true\nparams = { path = { type = \"path\", root = \"/var/log\" } }\n",
    )?;
    assert!(
        opted_in.status.success(),
        "{}",
        String::from_utf8_lossy(&opted_in.stderr)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_with_a_shell_metacharacter_or_dot_dot_refuses_the_directive()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let log = org.dir().join("runs.log");
    // No shell: touch creates a file named after the value.
    let config = format!(
        "[response]\n[[response.playbooks]]\nkind = \"block_indicator\"\ncommand = [\"/usr/bin/touch\", \"{log}.{{indicator}}\"]\n[[response.playbooks]]\nkind = \"collect_logs\"\ncommand = [\"/usr/bin/touch\", \"{log}.path\", \"{{path}}\"]\nparams = {{ path = {{ type = \"path\", root = \"{root}\" }} }}\n",
        log = log.display(),
        root = org.dir().display()
    );
    let agent = org.agent("paris", hub.addr, &config).await?;
    let incident = org
        .raise_at_site(agent.local_addr, hub.addr, "traversal")
        .await?;
    let ines = org.response(hub.addr, "ines")?;

    let refused = [
        (
            "block_indicator",
            "indicator",
            "203.0.113.7; id".to_string(),
        ),
        (
            "block_indicator",
            "indicator",
            "../../etc/cron.d/x".to_string(),
        ),
        (
            "collect_logs",
            "path",
            format!("{}/../../etc/shadow", org.dir().display()),
        ),
        ("collect_logs", "path", "/etc/shadow".to_string()),
    ];
    for (kind, name, value) in &refused {
        let id = issue(&ines, &incident, "paris", kind, &[(name, value)]).await?;
        let status = final_state(
            &ines,
            &incident,
            &id,
            pb::DirectiveState::Refused,
            Duration::from_secs(20),
        )
        .await?;
        assert!(
            status
                .detail
                .contains(&format!("parameter \"{name}\" refused")),
            "{value:?}: {}",
            status.detail
        );
    }
    // A clean value runs: the refusals above were the rules, not a broken playbook.
    let ok = issue(
        &ines,
        &incident,
        "paris",
        "block_indicator",
        &[("indicator", "203.0.113.7")],
    )
    .await?;
    final_state(
        &ines,
        &incident,
        &ok,
        pb::DirectiveState::Succeeded,
        Duration::from_secs(20),
    )
    .await?;
    let created: Vec<String> = std::fs::read_dir(org.dir())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("runs.log"))
        .collect();
    assert_eq!(
        created,
        ["runs.log.203.0.113.7"],
        "only the clean value ran"
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_answering_a_redirect_is_not_followed() -> anyhow::Result<()> {
    let org = Org::new()?;
    // The configured hook answers 307 (which keeps method and body) to a place that records
    // whatever reaches it.
    let trap = socfed_tests::sink::RedirectTrap::start("/hook").await?;
    let hook = trap.addr;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let config = format!(
        "[response]\n[[response.playbooks]]\nkind = \"disable_account\"\nwebhook = \"http://{hook}/hook\"\nbody = {{ account = \"{{account}}\" }}\n"
    );
    let agent = org.agent("paris", hub.addr, &config).await?;
    let incident = org
        .raise_at_site(agent.local_addr, hub.addr, "phish")
        .await?;
    let ines = org.response(hub.addr, "ines")?;
    let id = issue(
        &ines,
        &incident,
        "paris",
        "disable_account",
        &[("account", "jdoe")],
    )
    .await?;
    let failed = final_state(
        &ines,
        &incident,
        &id,
        pb::DirectiveState::Failed,
        Duration::from_secs(20),
    )
    .await?;
    assert!(
        failed.detail.contains("HTTP 307") && failed.detail.contains("not followed"),
        "{}",
        failed.detail
    );
    assert!(
        trap.followed().is_empty(),
        "the body was re-sent to the redirect target"
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
