//! `sirt-hub db migrate --to postgres://…` with the real binary: a stopped hub's sled store
//! (escalations, incidents, a directive, audit entries) copied into a PostgreSQL schema and
//! verified; a hub started on `[store] kind = "postgres"` over that schema serves the same
//! incidents with an intact audit chain, knows a site's resend of an escalation it stored
//! before the migration as a duplicate and stores the next one; a second migrate into the same
//! schema is refused. A database that cannot be reached, or refuses the password, is an error
//! that says so, exit status 69, the password never shown.

use socfed_proto::pb;
use socfed_tests::clients::{self, RawStream, hello, report};
use socfed_tests::fixture::Org;
use socfed_tests::postgres::{TestDatabase, test_database};
use socfed_tests::procs::binary;
use ulid::Ulid;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

/// `sirt-hub db migrate` of the store of `config` into `db`'s schema, with `url` and `env`.
fn migrate(
    config: &str,
    db: &TestDatabase,
    url: &str,
    env: &[(&str, &str)],
    json: bool,
) -> anyhow::Result<std::process::Output> {
    let mut command = std::process::Command::new(binary("sirt-hub")?);
    command.args(["db", "migrate", "--config", config, "--to", url]);
    command.args(["--schema", db.schema()]);
    if let Some(ca) = db.ca_file() {
        command.arg("--ca").arg(ca);
    }
    if json {
        command.args(["--output", "json"]);
    }
    command.env_remove("PGPASSWORD").envs(env.iter().copied());
    Ok(command.output()?)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `url` without its password, and the password.
fn split_password(url: &str) -> anyhow::Result<(String, String)> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("a URL"))?;
    let (userinfo, host) = rest
        .split_once('@')
        .ok_or_else(|| anyhow::anyhow!("the test URL names a user"))?;
    let (user, password) = userinfo
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("the test URL carries the password"))?;
    Ok((format!("{scheme}://{user}@{host}"), password.to_string()))
}

fn paris(stored: &[pb::SiteSummary]) -> anyhow::Result<(u64, u64)> {
    let paris = stored
        .iter()
        .find(|s| s.site_id == "paris")
        .ok_or_else(|| anyhow::anyhow!("paris listed"))?;
    Ok((paris.escalations_stored, paris.duplicates))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_store_migrates_to_postgres_and_a_hub_there_serves_it_exactly_once()
-> anyhow::Result<()> {
    let Some(db) = test_database() else {
        return Ok(());
    };
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let epoch = Ulid::new();
    let (mut stream, _) = RawStream::open_welcomed(
        org.site_channel(hub.addr, "paris")?,
        hello("paris", epoch, 1),
    )
    .await?;
    for seq in 1..=3 {
        stream
            .send(seq, report(&format!("p-{seq}"), &format!("migrated {seq}")))
            .await?;
    }
    stream.ack_through(3).await?;
    drop(stream);
    let mut op = org.operator(hub.addr, "ines")?;
    let before = clients::all_incidents(&mut op).await?;
    assert_eq!(before.len(), 3);
    org.response(hub.addr, "ines")?
        .issue_directive(pb::IssueDirectiveRequest {
            incident_id: before[0].id.clone(),
            sites: vec!["paris".into()],
            kind: "collect_evidence".into(),
            ..Default::default()
        })
        .await?;
    hub.stop().await?;

    // The password from PGPASSWORD, the URL without it.
    let config = org.dir().join("hub.toml");
    let (bare_url, password) = split_password(db.url())?;
    let out = migrate(
        &config.display().to_string(),
        &db,
        &bare_url,
        &[("PGPASSWORD", &password)],
        true,
    )?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(&password), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(summary["audit_intact"], true, "{summary}");
    let counts = summary["counts"].as_array().cloned().unwrap_or_default();
    assert!(counts.len() > 30, "every tree counted: {summary}");
    for row in &counts {
        assert_eq!(row["sled"], row["postgres"], "{row}");
    }
    let count = |part: &str| {
        counts
            .iter()
            .find(|r| r["part"] == part)
            .map(|r| r["postgres"].clone())
    };
    assert_eq!(count("escalation keys"), Some(3.into()), "{summary}");
    assert_eq!(count("escalation journal"), Some(3.into()), "{summary}");
    assert_eq!(count("tree directives"), Some(1.into()), "{summary}");

    // A hub on the copy.
    let url_file = org.dir().join("db.url");
    std::fs::write(&url_file, db.url())?;
    let mut store = format!(
        "\n[store]\nkind = \"postgres\"\nurl_file = {:?}\nschema = \"{}\"\n",
        url_file,
        db.schema()
    );
    if let Some(ca) = db.ca_file() {
        store.push_str(&format!("ca_file = {ca:?}\n"));
    }
    let pg_config = org.dir().join("hub-pg.toml");
    std::fs::write(&pg_config, std::fs::read_to_string(&config)? + &store)?;
    let hub = sirt_hub::app::start(sirt_hub::config::HubConfig::load(&pg_config)?).await?;
    let mut op = org.operator(hub.addr, "ines")?;
    let after = clients::all_incidents(&mut op).await?;
    let listed = |list: &[pb::HubIncident]| {
        let mut l: Vec<(String, String)> = list
            .iter()
            .map(|i| (i.id.clone(), i.title.clone()))
            .collect();
        l.sort();
        l
    };
    assert_eq!(listed(&after), listed(&before));
    let audit = op
        .verify_audit(pb::VerifyHubAuditRequest {})
        .await?
        .into_inner();
    assert!(audit.intact, "{audit:?}");

    // The site resends an escalation stored before the migration, then sends a new one.
    let (mut stream, welcome) = RawStream::open_welcomed(
        org.site_channel(hub.addr, "paris")?,
        hello("paris", epoch, 4),
    )
    .await?;
    assert_eq!(
        welcome.acked_through, 3,
        "the copy knows what the site sent"
    );
    stream.send(2, report("p-2", "migrated 2")).await?;
    assert!(stream.ack_through(2).await?.is_empty());
    stream.send(4, report("p-4", "after the migration")).await?;
    stream.ack_through(4).await?;
    assert_eq!(paris(&clients::sites(&mut op).await?)?, (4, 1));
    assert_eq!(clients::all_incidents(&mut op).await?.len(), 4);
    hub.stop().await?;

    let again = migrate(&config.display().to_string(), &db, db.url(), &[], false)?;
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("already holds"), "{}", text(&again));
    assert!(text(&again).contains("--schema"), "{}", text(&again));

    // A copy that stopped before its end (the schema version is written last) is no store to
    // start on.
    let pg = socfed_runtime::store_kit::pg::PgStore::connect(
        &db.config(),
        sirt_hub::store::postgres::MIGRATIONS,
    )?;
    pg.execute(
        "DELETE FROM kv WHERE tree = 'meta' AND key = $1",
        &[&b"schema_version".as_slice()],
    )?;
    let partial = sirt_hub::app::start(sirt_hub::config::HubConfig::load(&pg_config)?).await;
    let refused = partial.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("incomplete copy"), "{refused}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_or_a_wrong_password_is_exit_69_saying_so() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    hub.stop().await?;
    let config = org.dir().join("hub.toml").display().to_string();
    let port = socfed_tests::free_port()?;
    let run = |url: String| -> anyhow::Result<std::process::Output> {
        Ok(std::process::Command::new(binary("sirt-hub")?)
            .args(["db", "migrate", "--config", &config, "--to", &url])
            .env_remove("PGPASSWORD")
            .output()?)
    };
    let down = run(format!(
        "postgres://hub:n0t-shown@127.0.0.1:{port}/socfed?sslmode=disable"
    ))?;
    assert_eq!(down.status.code(), Some(69), "{}", text(&down));
    assert!(text(&down).contains("cannot use the database at postgres://hub:***@127.0.0.1"));
    assert!(!text(&down).contains("n0t-shown"), "{}", text(&down));

    let Some(db) = test_database() else {
        return Ok(());
    };
    let (bare, _) = split_password(db.url())?;
    let wrong = bare.replacen('@', ":wr0ng-secret@", 1);
    let refused = migrate(&config, &db, &wrong, &[], false)?;
    assert_eq!(refused.status.code(), Some(69), "{}", text(&refused));
    assert!(text(&refused).contains("password"), "{}", text(&refused));
    assert!(
        !text(&refused).contains("wr0ng-secret"),
        "{}",
        text(&refused)
    );
    Ok(())
}
