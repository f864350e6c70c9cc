use super::*;

fn ind(raw: &str) -> Indicator {
    Indicator::parse_typed(raw).expect("indicator")
}

fn site(name: &str) -> SiteId {
    SiteId::parse(name).expect("site")
}

#[test]
fn each_sites_reports_are_counted_with_first_and_last_seen() {
    let i = ind("domain:evil.example");
    let once = sight(None, &site("paris"), &i, 10);
    let twice = sight(Some(once), &site("paris"), &i, 30);
    let lyon = sight(Some(twice), &site("lyon"), &i, 20);
    assert_eq!(lyon.added_by, Origin::Site(site("paris")));
    assert!(lyon.sighted && !lyon.ioc);
    let paris = &lyon.sites[0];
    assert_eq!(
        (paris.first_seen_ms, paris.last_seen_ms, paris.count),
        (10, 30, 2)
    );
    let l = &lyon.sites[1];
    assert_eq!((l.site.as_str(), l.first_seen_ms, l.count), ("lyon", 20, 1));
    assert_eq!(lyon.total_count(), 3);
}

#[test]
fn analysts_add_flag_unflag_and_remove() {
    let i = ind("ip:203.0.113.7");
    let flags = vec![Flag::Ioc, Flag::Tag("c2".into()), Flag::Tlp(Tlp::Red)];
    let added = apply(None, &i, &Edit::Add { flags }, "ines", (0, 5))
        .expect("added")
        .expect("kept");
    assert_eq!(added.added_by, Origin::Analyst("ines".into()));
    assert!(added.ioc && !added.sighted);
    assert_eq!(added.tags, vec!["c2".to_string()]);
    assert_eq!(added.effective_tlp(Tlp::Amber), Tlp::Red);
    let unflagged = apply(
        Some(added),
        &i,
        &Edit::Unflag(vec![Flag::Ioc, Flag::Tag("c2".into()), Flag::Tlp(Tlp::Red)]),
        "ines",
        (1, 6),
    )
    .expect("unflagged")
    .expect("kept");
    assert!(!unflagged.ioc && unflagged.tags.is_empty() && unflagged.tlp.is_none());
    assert_eq!(unflagged.effective_tlp(Tlp::Amber), Tlp::Amber);
    assert_eq!(
        apply(Some(unflagged), &i, &Edit::Remove, "ines", (1, 7)),
        Ok(None)
    );
    assert_eq!(
        apply(None, &i, &Edit::Flag(vec![Flag::Ioc]), "ines", (0, 8)),
        Err(EditError::Missing("ipv4:203.0.113.7".into()))
    );
    assert_eq!(
        apply(
            None,
            &i,
            &Edit::Add { flags: vec![] },
            "ines",
            (MAX_PER_INCIDENT, 8)
        ),
        Err(EditError::Full)
    );
    assert_eq!(
        apply(None, &i, &Edit::Flag(vec![]), "ines", (0, 8)),
        Err(EditError::Nothing)
    );
}

#[test]
fn tags_are_bounded_and_safe() {
    assert_eq!(tag(" APT-29 "), Ok("apt-29".into()));
    for bad in [
        "",
        "<b>",
        "a b",
        "x\u{1b}[31m",
        &"t".repeat(MAX_TAG_BYTES + 1),
    ] {
        assert!(tag(bad).is_err(), "{bad:?}");
    }
    let i = ind("md5:d41d8cd98f00b204e9800998ecf8427e");
    let mut record = ObservableRecord::new(i.clone(), Origin::Analyst("ines".into()), 1);
    for n in 0..MAX_TAGS + 4 {
        record = apply(
            Some(record),
            &i,
            &Edit::Flag(vec![Flag::Tag(format!("t{n:02}"))]),
            "ines",
            (1, 2),
        )
        .expect("flag")
        .expect("kept");
    }
    assert_eq!(record.tags.len(), MAX_TAGS);
}

#[test]
fn a_merge_joins_flags_and_adds_up_reports() {
    let i = ind("domain:evil.example");
    let mut a = sight(None, &site("paris"), &i, 100);
    a.tags = vec!["b".into()];
    a.tlp = Some(Tlp::Green);
    let mut b = sight(None, &site("paris"), &i, 50);
    b = sight(Some(b), &site("lyon"), &i, 60);
    b.ioc = true;
    b.tags = vec!["a".into(), "b".into()];
    b.tlp = Some(Tlp::AmberStrict);
    let merged = absorb(Some(a), b);
    assert!(merged.ioc);
    assert_eq!(merged.tags, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(merged.tlp, Some(Tlp::AmberStrict));
    assert_eq!(merged.added_at_ms, 50);
    let paris = &merged.sites[0];
    assert_eq!(
        (paris.first_seen_ms, paris.last_seen_ms, paris.count),
        (50, 100, 2)
    );
    assert_eq!(merged.sites[1].site.as_str(), "lyon");
}

#[test]
fn a_split_moves_the_sites_share() {
    let i = ind("domain:evil.example");
    let shared = sight(
        Some(sight(None, &site("paris"), &i, 1)),
        &site("lyon"),
        &i,
        2,
    );
    let (stays, moved) = split_off(shared, &site("lyon"));
    let stays = stays.expect("paris keeps it");
    assert_eq!(stays.sites.len(), 1);
    let moved = moved.expect("lyon takes its share");
    assert_eq!(moved.sites[0].site.as_str(), "lyon");
    // Only the split site reported it: it leaves the original.
    let lone = sight(None, &site("lyon"), &i, 1);
    assert!(matches!(split_off(lone, &site("lyon")), (None, Some(_))));
    // An analyst's observable stays; one the site never reported does not move.
    let mut mine = ObservableRecord::new(i.clone(), Origin::Analyst("ines".into()), 1);
    mine = sight(Some(mine), &site("lyon"), &i, 2);
    assert!(matches!(split_off(mine, &site("lyon")), (Some(_), Some(_))));
    let other = sight(None, &site("paris"), &i, 1);
    assert!(matches!(split_off(other, &site("lyon")), (Some(_), None)));
}
