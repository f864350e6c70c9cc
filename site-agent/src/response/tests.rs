#![allow(clippy::unwrap_used, reason = "a test that unwraps fails loudly")]

use super::playbook::{Action, ParamRule, Playbook, ResponseConfig, TemplateError, render};
use super::sweep::Sweep;
use std::collections::BTreeMap;
use std::time::Duration;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn command(kind: &str, argv: &[&str]) -> Playbook {
    Playbook {
        kind: kind.into(),
        command: argv.iter().map(ToString::to_string).collect(),
        webhook: None,
        body: None,
        timeout: Duration::from_secs(5),
        destructive: false,
        dry_run: false,
        params: BTreeMap::new(),
        allow_shell_templates: false,
    }
}

#[test]
fn templates_fill_parameters_and_keep_escaped_braces() {
    let v = vars(&[("ip", "203.0.113.7")]);
    assert_eq!(render("--ip={ip}", Some(&v)).unwrap(), "--ip=203.0.113.7");
    assert_eq!(render("{{ {ip} }}", Some(&v)).unwrap(), "{ 203.0.113.7 }");
    assert_eq!(
        render("{host}", Some(&v)),
        Err(TemplateError::Missing("host".into()))
    );
    assert!(matches!(
        render("{ip", None),
        Err(TemplateError::Unclosed(_))
    ));
    assert!(matches!(
        render("ip}", None),
        Err(TemplateError::StrayClose(_))
    ));
}

#[test]
fn a_command_plan_substitutes_each_argument_without_a_shell() {
    let playbook = command("block_indicator", &["/usr/sbin/fw", "block", "{indicator}"]);
    let planned = playbook
        .plan(&vars(&[("indicator", "evil.example")]))
        .unwrap();
    assert_eq!(
        planned,
        Action::Command {
            argv: vec!["/usr/sbin/fw".into(), "block".into(), "evil.example".into()],
            timeout: Duration::from_secs(5),
        }
    );
    // An undeclared parameter is plain text: a shell metacharacter or `..` refuses it.
    for bad in ["evil.example; rm -rf /", "../../etc/shadow", "-F"] {
        assert!(
            matches!(
                playbook.plan(&vars(&[("indicator", bad)])),
                Err(TemplateError::Refused { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn declared_parameters_are_checked_by_their_rule() {
    let mut playbook = command(
        "collect_logs",
        &["/usr/local/sbin/collect", "{path}", "{mode}"],
    );
    playbook.params = [
        (
            "path".to_string(),
            ParamRule::Path {
                root: "/var/log".into(),
            },
        ),
        (
            "mode".to_string(),
            ParamRule::Word {
                one_of: vec!["quick".into(), "full".into()],
            },
        ),
    ]
    .into();
    assert!(playbook.validate().is_ok());
    assert!(
        playbook
            .plan(&vars(&[("path", "/var/log/apache2"), ("mode", "full")]))
            .is_ok()
    );
    for (path, mode) in [
        ("/var/log/apache2; id", "full"),
        ("/var/log/../../etc", "full"),
        ("/etc/shadow", "full"),
        ("/var/log/apache2", "all"),
    ] {
        let error = playbook
            .plan(&vars(&[("path", path), ("mode", mode)]))
            .unwrap_err();
        assert!(matches!(error, TemplateError::Refused { .. }), "{error}");
    }
}

#[test]
fn webhook_bodies_template_string_values_only() {
    let playbook = Playbook {
        kind: "isolate_host".into(),
        command: Vec::new(),
        webhook: Some("https://edr.example/isolate".into()),
        body: Some(serde_json::json!({"host": "{host}", "quarantine": true, "tags": ["{kind}"]})),
        timeout: Duration::from_secs(5),
        destructive: true,
        dry_run: false,
        params: BTreeMap::new(),
        allow_shell_templates: false,
    };
    let planned = playbook
        .plan(&vars(&[("host", "ws-17"), ("kind", "isolate_host")]))
        .unwrap();
    let Action::Webhook { body, .. } = planned else {
        panic!("expected a webhook")
    };
    assert_eq!(
        body,
        serde_json::json!({"host": "ws-17", "quarantine": true, "tags": ["isolate_host"]})
    );
}

#[test]
fn playbook_validation_names_the_problem() {
    let cases = [
        (command("block", &["fw", "{ip}"]), "absolute path"),
        (command("block", &["/usr/bin/{tool}"]), "absolute path"),
        (command("task", &["/bin/true"]), "handled by the agent"),
        (command("Block", &["/bin/true"]), "a-z"),
        (command("block", &[]), "give a command"),
        (command("block", &["/bin/echo", "{ip"]), "unclosed"),
        (
            command("collect", &["/bin/sh", "-c", "tar czf /tmp/x {path}"]),
            "allow_shell_templates",
        ),
    ];
    for (playbook, expected) in cases {
        let error = playbook.validate().unwrap_err();
        assert!(
            error.contains(expected),
            "{error:?} should mention {expected:?}"
        );
    }
    let twice = ResponseConfig {
        playbooks: vec![
            command("block", &["/bin/true"]),
            command("block", &["/bin/false"]),
        ],
        ..ResponseConfig::default()
    };
    assert!(twice.validate().unwrap_err().contains("two playbooks"));
}

#[test]
fn sweeps_read_their_parameters_and_refuse_garbage() {
    let sweep = Sweep::from_params(&vars(&[
        ("indicators", "ip:203.0.113.7\ndomain:Evil.Example"),
        ("lookback_ms", "1000"),
        ("duration_ms", "0"),
    ]))
    .unwrap();
    assert_eq!(
        sweep.indicators,
        ["ipv4:203.0.113.7", "domain:evil.example"]
    );
    assert_eq!(sweep.lookback_ms, 1000);
    assert!(Sweep::from_params(&vars(&[("indicators", "nonsense")])).is_err());
    assert!(Sweep::from_params(&vars(&[])).is_err());
}
