//! Rewriting history through a backup (docs/SECURITY.md, "Audit chain and backups"): an
//! attacker who holds a hub dump edits an audit entry's actor, removes the last 50 entries,
//! recomputes every hash, the head and the dump checksum the way the code does, and imports
//! it with the real `sirt-hub db import`. The chain is keyed with a key the dump does not
//! hold, so `sirt-hub audit verify` reports it broken with its own exit status. A dump with a
//! record the hub cannot read is refused by `db import`.

use sirt_hub::store::schema;
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::audit::{AuditDraft, AuditEntry, GENESIS};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::procs::{binary, write_hub_config};
use socfed_tests::{clients, fixture::Org};

const CISO: &str = "[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n";

fn hub_cmd(args: &[&str]) -> anyhow::Result<std::process::Output> {
    Ok(std::process::Command::new(binary("sirt-hub")?)
        .args(args)
        .output()?)
}

/// The unkeyed entry hash, as anyone reading the source can recompute it.
fn plain_hash(seq: u64, draft: &AuditDraft, prev: &[u8; 32]) -> anyhow::Result<[u8; 32]> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"socfed.audit.v1\0");
    hasher.update(&seq.to_be_bytes());
    hasher.update(prev);
    // The body is the entry's postcard encoding, which the store codec writes after its
    // version byte.
    let body = schema::encode(schema::TreeId::Audit, draft)?;
    let body = &body[1..];
    hasher.update(&(body.len() as u64).to_be_bytes());
    hasher.update(body);
    Ok(*hasher.finalize().as_bytes())
}

/// One record line of a dump: tree index, key and value in hex.
struct Line {
    t: usize,
    k: String,
    v: String,
}

impl Line {
    fn parse(text: &str) -> Option<Line> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        Some(Line {
            t: usize::try_from(v.get("t")?.as_u64()?).ok()?,
            k: v.get("k")?.as_str()?.to_owned(),
            v: v.get("v")?.as_str()?.to_owned(),
        })
    }

    fn text(&self) -> String {
        serde_json::json!({"t": self.t, "k": self.k, "v": self.v}).to_string()
    }
}

/// The attacker's edit of a dump's text: actor of entry 3 → mallory, last 50 entries gone,
/// hashes, head and checksum recomputed.
fn rewrite(dump: &str) -> anyhow::Result<String> {
    let mut lines: Vec<String> = dump.lines().map(str::to_owned).collect();
    let trailer = lines.pop().ok_or_else(|| anyhow::anyhow!("empty dump"))?;
    let header: serde_json::Value = serde_json::from_str(&lines[0])?;
    let trees: Vec<String> = header["trees"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no trees"))?
        .iter()
        .map(|t| {
            let hex = t.as_str().unwrap_or_default();
            String::from_utf8_lossy(&socfed_proto::hex::decode(hex).unwrap_or_default())
                .into_owned()
        })
        .collect();
    let audit = trees.iter().position(|t| t == "audit");
    let meta = trees.iter().position(|t| t == "meta");
    let (Some(audit), Some(meta)) = (audit, meta) else {
        anyhow::bail!("no audit or meta tree in {trees:?}");
    };
    let unhex = |s: &str| socfed_proto::hex::decode(s).ok_or_else(|| anyhow::anyhow!("hex"));
    let mut entries = Vec::new();
    for line in &lines[1..] {
        let Some(l) = Line::parse(line) else { continue };
        if l.t == audit {
            entries.push(schema::decode::<AuditEntry>(
                schema::TreeId::Audit,
                &unhex(&l.v)?,
            )?);
        }
    }
    let keep = entries.len() - 50;
    let mut prev = GENESIS;
    let mut forged = Vec::new();
    for mut entry in entries.into_iter().take(keep) {
        if entry.seq == 3 {
            entry.draft.actor = "mallory".into();
        }
        entry.prev_hash = prev;
        entry.hash = plain_hash(entry.seq, &entry.draft, &prev)?;
        prev = entry.hash;
        forged.push(entry);
    }
    let last = forged.last().map(|e| e.seq).unwrap_or_default();
    let head = schema::encode(
        schema::TreeId::Meta,
        &schema::AuditHead {
            seq: last,
            hash: prev,
        },
    )?;
    let mut out_lines = vec![lines[0].clone()];
    for line in &lines[1..] {
        let Some(mut l) = Line::parse(line) else {
            anyhow::bail!("not a record line: {line}");
        };
        if l.t == audit {
            let seq = u64::from_be_bytes(unhex(&l.k)?.as_slice().try_into()?);
            match forged.iter().find(|e| e.seq == seq) {
                Some(e) => {
                    l.v = socfed_proto::hex::encode(&schema::encode(schema::TreeId::Audit, e)?)
                }
                None => continue,
            }
        } else if l.t == meta && unhex(&l.k)? == b"audit_head" {
            l.v = socfed_proto::hex::encode(&head);
        }
        out_lines.push(l.text());
    }
    let mut hash = blake3::Hasher::new();
    let mut text = String::new();
    for line in &out_lines {
        hash.update(line.as_bytes());
        hash.update(b"\n");
        text.push_str(line);
        text.push('\n');
    }
    let mut trailer: serde_json::Value = serde_json::from_str(&trailer)?;
    trailer["entries"] = (out_lines.len() as u64 - 1).into();
    trailer["blake3"] = hash.finalize().to_hex().to_string().into();
    text.push_str(&serde_json::to_string(&trailer)?);
    text.push('\n');
    Ok(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_rewritten_in_a_dump_is_reported_broken_and_a_corrupt_record_refused()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], CISO).await?;
    let mut roster = OperatorRosterClient::new(clients::channel(
        hub.addr,
        &org.pki.operator("carl")?,
        &org.pki.domain,
        ExpectedServer::Hub,
    )?);
    for i in 0..60 {
        roster
            .set_operator(pb::SetOperatorRequest {
                legacy_role: String::new(),
                name: format!("analyst{i}"),
                role: pb::HubRole::Tier1.into(),
            })
            .await?;
    }
    hub.stop().await?;
    let config = org.dir().join("hub.toml").display().to_string();
    let dump = org.dir().join("hub.dump");
    let out = hub_cmd(&[
        "db",
        "export",
        "--config",
        &config,
        "--out",
        &dump.display().to_string(),
    ])?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let forged = org.dir().join("forged.dump");
    std::fs::write(&forged, rewrite(&std::fs::read_to_string(&dump)?)?)?;
    let restored = org.dir().join("restored");
    std::fs::create_dir_all(&restored)?;
    let restored_config = write_hub_config(
        &restored,
        &org.pki,
        "127.0.0.1:0".parse()?,
        &["paris"],
        CISO,
    )?
    .display()
    .to_string();
    let out = hub_cmd(&[
        "db",
        "import",
        "--config",
        &restored_config,
        "--from",
        &forged.display().to_string(),
    ])?;
    assert!(
        out.status.success(),
        "the forged dump is well-formed and its checksum matches: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let hub = sirt_hub::app::start(sirt_hub::config::HubConfig::load(std::path::Path::new(
        &restored_config,
    ))?)
    .await?;
    let carl = org.pki.operator("carl")?;
    let out = std::process::Command::new(binary("sirt-hub")?)
        .args([
            "audit",
            "verify",
            "--hub",
            &hub.addr.to_string(),
            "--server-name",
            "127.0.0.1",
        ])
        .env("SOCFED_CA", &carl.ca)
        .env("SOCFED_CERT", &carl.cert)
        .env("SOCFED_KEY", &carl.key)
        .output()?;
    hub.stop().await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("AUDIT LOG TAMPERED"), "{stdout}");
    assert_eq!(
        out.status.code(),
        Some(i32::from(socfed_runtime::cli::EX_DATAERR)),
        "broken, not 'could not reach the hub': {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A record that does not decode, with the checksum recomputed: refused at import.
    let text = std::fs::read_to_string(&dump)?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let trailer = lines.pop().unwrap_or_default();
    let header: serde_json::Value = serde_json::from_str(&lines[0])?;
    let operators = header["trees"]
        .as_array()
        .and_then(|t| {
            t.iter()
                .position(|n| n.as_str() == Some(&socfed_proto::hex::encode(b"operators")))
        })
        .ok_or_else(|| anyhow::anyhow!("no operators tree"))?;
    let at = lines
        .iter()
        .position(|l| Line::parse(l).is_some_and(|l| l.t == operators))
        .ok_or_else(|| anyhow::anyhow!("no operator record"))?;
    let mut l = Line::parse(&lines[at]).ok_or_else(|| anyhow::anyhow!("record line"))?;
    l.v = "01ffffff".into();
    lines[at] = l.text();
    let mut hash = blake3::Hasher::new();
    let mut corrupt = String::new();
    for line in &lines {
        hash.update(line.as_bytes());
        hash.update(b"\n");
        corrupt.push_str(line);
        corrupt.push('\n');
    }
    let mut trailer: serde_json::Value = serde_json::from_str(&trailer)?;
    trailer["blake3"] = hash.finalize().to_hex().to_string().into();
    corrupt.push_str(&serde_json::to_string(&trailer)?);
    corrupt.push('\n');
    let corrupt_path = org.dir().join("corrupt.dump");
    std::fs::write(&corrupt_path, corrupt)?;
    let again = org.dir().join("again");
    std::fs::create_dir_all(&again)?;
    let again_config = write_hub_config(&again, &org.pki, "127.0.0.1:0".parse()?, &["paris"], "")?
        .display()
        .to_string();
    let out = hub_cmd(&[
        "db",
        "import",
        "--config",
        &again_config,
        "--from",
        &corrupt_path.display().to_string(),
    ])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a record the hub cannot read is refused"
    );
    assert!(stderr.contains("tree operators"), "{stderr}");
    assert!(
        !again.join("hub-data").join("db").exists(),
        "nothing half imported"
    );
    Ok(())
}
