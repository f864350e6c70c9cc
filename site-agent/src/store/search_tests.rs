//! The alert search index in the store: exact results per filter and combined, pages without
//! duplicates or gaps, postings kept in step when a group changes, and a schema 9 store's
//! groups indexed by the upgrade.

use super::schema::{self, TreeId};
use super::upgrade::tests::{raw_db, reopen};
use crate::soc::alert::{Format, ParseLimits};
use crate::soc::group::{AlertGroup, Comment};
use crate::soc::parse::{Parsed, parse_line};
use crate::soc::sla::SlaPolicy;
use socfed_proto::search::{Query, RawQuery};
use socfed_runtime::store_kit::TreeSet;
use ulid::Ulid;

fn group(n: u64, line: &str) -> anyhow::Result<AlertGroup> {
    let Parsed::Alert(alert) = parse_line(Format::Native, line, 0, &ParseLimits::default())? else {
        anyhow::bail!("expected an alert");
    };
    let fingerprint = crate::soc::aggregate::fingerprint(&alert);
    Ok(AlertGroup::open(
        Ulid::from_parts(1_700_000_000_000 + n, u128::from(n)),
        fingerprint,
        *alert,
        5,
    ))
}

/// Six groups: hosts web-1/db-1, users alice/bob, techniques T1059/T1003, one indicator.
fn fixture() -> anyhow::Result<Vec<AlertGroup>> {
    let rows = [
        (r#""Encoded PowerShell""#, "web-1", "alice", "T1059", ""),
        (r#""Mimikatz credential dump""#, "web-1", "bob", "T1003", ""),
        (
            r#""Encoded PowerShell""#,
            "db-1",
            "alice",
            "T1059",
            r#""domain:c2.bad.example""#,
        ),
        (
            r#""LSASS access""#,
            "db-1",
            "bob",
            "T1003",
            r#""domain:c2.bad.example""#,
        ),
        (
            r#""PowerShell download cradle""#,
            "web-1",
            "alice",
            "T1059",
            r#""domain:c2.bad.example""#,
        ),
        (r#""Port scan""#, "fw-1", "svc", "T1046", ""),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (title, host, user, technique, indicator))| {
            group(
                i as u64,
                &format!(
                    r#"{{"observed_at":1700000000000,"rule_id":"R-{i}","rule_name":{title},"severity":"high","hosts":["{host}"],"users":["{user}"],"techniques":["{technique}"],"indicators":[{indicator}]}}"#
                ),
            )
        })
        .collect()
}

fn query(edit: impl FnOnce(&mut RawQuery)) -> anyhow::Result<Query> {
    let mut raw = RawQuery::default();
    edit(&mut raw);
    Ok(Query::parse(&raw)?)
}

/// The fixture's indexes (0-based) a search finds, newest first, over every page of `limit`.
fn found(store: &super::AgentStore, q: &Query, limit: usize) -> anyhow::Result<Vec<usize>> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let (groups, next) = store.search_groups(q, before, limit)?;
        assert!(groups.len() <= limit);
        out.extend(groups.iter().map(|g| g.id.random() as usize));
        match next {
            Some(id) => before = Some(id),
            None => return Ok(out),
        }
    }
}

#[test]
fn each_filter_and_their_combinations_find_exactly_their_groups() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = reopen(dir.path())?;
    let groups = fixture()?;
    let policy = SlaPolicy::default();
    store.unit(|u| {
        let pairs: Vec<_> = groups.iter().map(|g| (None, g)).collect();
        u.put_groups(&pairs, &policy)
    })?;
    let host = |h: &str| {
        let h = h.to_string();
        query(move |q| q.hosts = vec![h])
    };
    assert_eq!(found(&store, &host("WEB-1")?, 50)?, [4, 1, 0]);
    assert_eq!(
        found(&store, &query(|q| q.users = vec!["bob".into()])?, 50)?,
        [3, 1]
    );
    assert_eq!(
        found(&store, &query(|q| q.techniques = vec!["t1059".into()])?, 50)?,
        [4, 2, 0]
    );
    assert_eq!(
        found(
            &store,
            &query(|q| q.indicators = vec!["domain:C2.bad.example".into()])?,
            50
        )?,
        [4, 3, 2]
    );
    assert_eq!(
        found(&store, &query(|q| q.text = Some("powershell".into()))?, 50)?,
        [4, 2, 0]
    );
    let combined = query(|q| {
        q.hosts = vec!["web-1".into()];
        q.techniques = vec!["T1059".into()];
        q.indicators = vec!["domain:c2.bad.example".into()];
        q.text = Some("PowerShell cradle".into());
    })?;
    assert_eq!(found(&store, &combined, 50)?, [4]);
    let two = query(|q| {
        q.users = vec!["alice".into()];
        q.text = Some("encoded".into());
    })?;
    assert_eq!(found(&store, &two, 50)?, [2, 0]);
    assert!(found(&store, &query(|q| q.hosts = vec!["nowhere".into()])?, 50)?.is_empty());
    // Every page size walks the same results without duplicates or gaps.
    for limit in 1..=4 {
        assert_eq!(
            found(&store, &host("web-1")?, limit)?,
            [4, 1, 0],
            "limit {limit}"
        );
    }
    Ok(())
}

#[test]
fn a_group_change_moves_its_postings() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = reopen(dir.path())?;
    let groups = fixture()?;
    let policy = SlaPolicy::default();
    let old = groups[5].clone();
    store.unit(|u| u.put_group(None, &old, &policy))?;
    let beacon = query(|q| q.text = Some("beacon".into()))?;
    assert!(found(&store, &beacon, 10)?.is_empty());
    let mut commented = old.clone();
    commented.add_comment(Comment {
        at_ms: 6,
        author: "ann".into(),
        text: "Looks like a BEACON".into(),
    });
    store.unit(|u| u.put_group(Some(&old), &commented, &policy))?;
    assert_eq!(found(&store, &beacon, 10)?, [5]);
    // A comment pushed out by the cap takes its words with it.
    let mut pushed = commented.clone();
    pushed.comments.clear();
    store.unit(|u| u.put_group(Some(&commented), &pushed, &policy))?;
    assert!(found(&store, &beacon, 10)?.is_empty());
    assert_eq!(
        found(&store, &query(|q| q.text = Some("scan".into()))?, 10)?,
        [5]
    );
    Ok(())
}

/// A schema 9 store's groups (no `idx_search`) are searchable once it opens as 10, and a
/// posting the upgrade writes equals one intake would write.
#[test]
fn a_schema_9_stores_groups_become_searchable() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    drop(reopen(dir.path())?);
    let groups = fixture()?;
    {
        let db = raw_db(dir.path())?;
        let tree = |t: TreeId| db.open_tree(t.name());
        tree(TreeId::Meta)?.insert(schema::SCHEMA_VERSION_KEY, &9u32.to_be_bytes())?;
        for g in &groups {
            tree(TreeId::Groups)?.insert(g.id.to_bytes(), schema::encode(TreeId::Groups, g)?)?;
        }
        db.drop_tree(TreeId::IdxSearch.name())?;
        db.flush()?;
    }
    let store = reopen(dir.path())?;
    assert_eq!(
        found(
            &store,
            &query(|q| q.indicators = vec!["domain:c2.bad.example".into()])?,
            2
        )?,
        [4, 3, 2]
    );
    assert_eq!(
        found(&store, &query(|q| q.text = Some("lsass".into()))?, 2)?,
        [3]
    );
    let meta = store
        .raw_tree(TreeId::Meta.name())
        .ok_or_else(|| anyhow::anyhow!("no meta"))?;
    assert_eq!(
        meta.get(schema::SCHEMA_VERSION_KEY)?.map(|v| v.to_vec()),
        Some(schema::SCHEMA_VERSION.to_be_bytes().to_vec())
    );
    Ok(())
}
