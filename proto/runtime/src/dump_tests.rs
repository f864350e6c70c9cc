//! A dump round-trips; damage, truncation and the wrong tool are refused.

use super::*;

fn store(dir: &Path) -> sled::Db {
    let db = crate::store_files::sled_config(dir)
        .expect("conf")
        .open()
        .expect("store");
    db.open_tree("incidents")
        .and_then(|t| t.insert(b"k1", b"v1".to_vec()))
        .expect("insert");
    db.insert(b"meta", b"\x00\xff".to_vec()).expect("insert");
    db.flush().expect("flush");
    db
}

#[test]
fn a_dump_round_trips_and_damage_or_the_wrong_tool_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    drop(store(&src));
    let mut dump = Vec::new();
    let out = export(&src, "sirt-hub", &mut dump, &|_| {}).expect("export");
    assert_eq!(out.entries, 2);
    let back = import(&dst, "sirt-hub", dump.as_slice(), &accept, &|_| {}).expect("import");
    assert_eq!(back, out);
    let db = crate::store_files::sled_config(&dst)
        .expect("conf")
        .open()
        .expect("open");
    assert_eq!(
        db.open_tree("incidents")
            .and_then(|t| t.get(b"k1"))
            .expect("get")
            .as_deref(),
        Some(&b"v1"[..])
    );
    drop(db);

    assert!(matches!(
        import(&dst, "sirt-hub", dump.as_slice(), &accept, &|_| {}),
        Err(DumpError::NotEmpty(_))
    ));
    let fresh = tmp.path().join("fresh");
    assert!(matches!(
        import(&fresh, "site-agent", dump.as_slice(), &accept, &|_| {}),
        Err(DumpError::WrongTool { .. })
    ));
    let mut edited = String::from_utf8(dump.clone()).expect("utf8");
    edited = edited.replacen("\"v\":\"7631\"", "\"v\":\"7632\"", 1);
    assert!(matches!(
        import(&fresh, "sirt-hub", edited.as_bytes(), &accept, &|_| {}),
        Err(DumpError::Format(_))
    ));
    assert!(!fresh.exists(), "a refused import leaves nothing behind");
    let truncated = &dump[..dump.len() - 20];
    assert!(import(&fresh, "sirt-hub", truncated, &accept, &|_| {}).is_err());
}

fn accept(_: &str, _: &[u8], _: &[u8]) -> Result<(), String> {
    Ok(())
}

#[test]
fn a_record_the_tool_cannot_read_is_refused_with_its_tree() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    drop(store(&src));
    let mut dump = Vec::new();
    export(&src, "sirt-hub", &mut dump, &|_| {}).expect("export");
    let picky = |tree: &str, _: &[u8], value: &[u8]| {
        if tree == "incidents" && value != b"v1" {
            Err(format!("tree {tree}: corrupt record"))
        } else {
            Ok(())
        }
    };
    import(&dst, "sirt-hub", dump.as_slice(), &picky, &|_| {}).expect("intact");
    let fresh = tmp.path().join("fresh");
    // The attacker's edit, with the checksum recomputed over the edited lines.
    let text = String::from_utf8(dump).expect("utf8");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let trailer = lines.pop().expect("trailer");
    for line in &mut lines {
        *line = line.replacen("\"v\":\"7631\"", "\"v\":\"ffff\"", 1);
    }
    let mut hash = blake3::Hasher::new();
    let mut edited = String::new();
    for line in &lines {
        hash.update(line.as_bytes());
        hash.update(b"\n");
        edited.push_str(line);
        edited.push('\n');
    }
    let mut trailer: Trailer = serde_json::from_str(&trailer).expect("trailer");
    trailer.blake3 = hash.finalize().to_hex().to_string();
    edited.push_str(&serde_json::to_string(&trailer).expect("json"));
    edited.push('\n');
    let err =
        import(&fresh, "sirt-hub", edited.as_bytes(), &picky, &|_| {}).expect_err("corrupt record");
    assert!(err.to_string().contains("tree incidents"), "{err}");
    assert!(!fresh.exists(), "a refused import leaves nothing behind");
}

#[test]
fn a_store_held_by_a_running_service_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let _held = store(tmp.path());
    let err = export(tmp.path(), "sirt-hub", Vec::new(), &|_| {}).expect_err("locked");
    assert!(matches!(err, DumpError::InUse(_)), "{err}");
}
