//! The coordinated-response commands as operators type them: `sirt-hub incidents
//! directive|task|directives|comms`, `sirt-hub hunt`, `sirt-hub report`, and `site-agent
//! directives|tasks`, run as real binaries against an in-process hub and agent over mTLS.

use socfed_tests::{eventually, fixture::Org, procs::binary};
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

struct Cli {
    files: socfed_runtime::tls::TlsFiles,
}

impl Cli {
    fn run(&self, binary_name: &str, args: &[&str], target: &[&str]) -> anyhow::Result<Output> {
        Ok(Command::new(binary(binary_name)?)
            .args(args)
            .args(target)
            .env("SOCFED_CA", &self.files.ca)
            .env("SOCFED_CERT", &self.files.cert)
            .env("SOCFED_KEY", &self.files.key)
            .output()?)
    }

    fn json(
        &self,
        binary_name: &str,
        args: &[&str],
        target: &[&str],
    ) -> anyhow::Result<serde_json::Value> {
        let out = self.run(binary_name, args, target)?;
        anyhow::ensure!(
            out.status.success(),
            "{binary_name} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(serde_json::from_slice(&out.stdout)?)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_drive_the_response_from_the_command_line() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "lateral movement")
        .await?;
    let hub_addr = hub.addr.to_string();
    let at_hub = [
        "--hub",
        hub_addr.as_str(),
        "--server-name",
        "127.0.0.1",
        "-o",
        "json",
    ];
    let agent_addr: String = SocketAddr::to_string(&paris.local_addr);
    let at_agent = [
        "--agent",
        agent_addr.as_str(),
        "--server-name",
        "127.0.0.1",
        "-o",
        "json",
    ];
    let ines = Cli {
        files: org.pki.operator("ines")?,
    };
    let tester = Cli {
        files: org.pki.operator("tester")?,
    };

    let issued = ines.json(
        "sirt-hub",
        &[
            "incidents",
            "directive",
            &incident,
            "--sites",
            "paris",
            "--kind",
            "block_indicator",
            "--param",
            "indicator=203.0.113.9",
            "--expires",
            "2h",
        ],
        &at_hub,
    )?;
    assert_eq!(issued[0]["site"], "paris");
    assert_eq!(issued[0]["params"]["indicator"], "203.0.113.9");
    let task = ines.json(
        "sirt-hub",
        &[
            "incidents",
            "task",
            &incident,
            "--sites",
            "paris",
            "--title",
            "image ws-3",
            "--due",
            "8h",
        ],
        &at_hub,
    )?;
    let task_id = task[0]["directive_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The site has no playbook for the kind: refused, and the hub hears it.
    let refused = eventually(
        "the directive refused at the hub",
        Duration::from_secs(20),
        || {
            let ines = &ines;
            let at_hub = &at_hub;
            let incident = incident.clone();
            async move {
                let list = ines
                    .json("sirt-hub", &["incidents", "directives", &incident], at_hub)
                    .ok()?;
                // One page: `{directives, total, next_page_token}`.
                (list["total"] == 2 && list["next_page_token"] == "").then_some(())?;
                list["directives"]
                    .as_array()?
                    .iter()
                    .find(|d| d["state"] == "refused")
                    .cloned()
            }
        },
    )
    .await?;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no playbook")
    );

    // The site works its task from its own command line.
    eventually("the task at the site", Duration::from_secs(20), || {
        let tester = &tester;
        let at_agent = &at_agent;
        async move {
            let list = tester
                .json("site-agent", &["tasks", "list"], at_agent)
                .ok()?;
            (list.as_array()?.len() == 1).then_some(())
        }
    })
    .await?;
    let done = tester.json(
        "site-agent",
        &["tasks", "done", &task_id, "--note", "image taken"],
        &at_agent,
    )?;
    assert_eq!(done["state"], "succeeded");
    let listed = tester.json("site-agent", &["directives", "list"], &at_agent)?;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "tasks are listed apart: {listed}"
    );

    // A hunt from the command line.
    let hunt = ines.json(
        "sirt-hub",
        &["hunt", "start", "--ioc", "ip:203.0.113.9"],
        &at_hub,
    )?;
    let hunt_id = hunt["hunt_id"].as_str().unwrap_or_default().to_string();
    eventually("the hunt to finish", Duration::from_secs(20), || {
        let ines = &ines;
        let at_hub = &at_hub;
        let hunt_id = hunt_id.clone();
        async move {
            let status = ines
                .json("sirt-hub", &["hunt", "status", &hunt_id], at_hub)
                .ok()?;
            (status["sites"][0]["progress"] == "done").then_some(())
        }
    })
    .await?;

    // A communication, then the report carries it all.
    let draft = ines.json(
        "sirt-hub",
        &[
            "incidents",
            "comms",
            "draft",
            &incident,
            "--audience",
            "board",
        ],
        &at_hub,
    )?;
    assert_eq!(draft["state"], "draft");
    let report = ines.run(
        "sirt-hub",
        &["report", &incident, "--format", "markdown"],
        &at_hub[..4],
    )?;
    let text = String::from_utf8_lossy(&report.stdout);
    for section in [
        "## Tasks",
        "image ws-3",
        "## Directives",
        "block\\_indicator",
        "## Communications",
    ] {
        assert!(text.contains(section), "{section:?} missing: {text}");
    }
    // A bad parameter is refused with a message that says what to do.
    let bad = ines.run(
        "sirt-hub",
        &[
            "incidents",
            "directive",
            &incident,
            "--sites",
            "paris",
            "--kind",
            "block_indicator",
            "--param",
            "noequals",
        ],
        &at_hub,
    )?;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("NAME=VALUE"));
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
