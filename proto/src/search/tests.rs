//! The query checks, the tokeniser's bounds and the join against a brute-force answer.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn raw(text: &str) -> RawQuery {
    RawQuery {
        text: Some(text.into()),
        ..Default::default()
    }
}

#[test]
fn tokens_are_lower_cased_bounded_and_free_of_controls() {
    assert_eq!(normalise("  WEB-01\u{1b}[31m "), Some("web-01[31m".into()));
    assert_eq!(normalise("\u{0}\u{7}"), None);
    let long = "é".repeat(100);
    let token = normalise(&long).unwrap_or_default();
    assert!(token.len() <= MAX_TOKEN_BYTES && token.chars().all(|c| c == 'é'));
    let words: Vec<String> = words("Mimikatz on DC-01: a x LSASS_dump").collect();
    assert_eq!(words, ["mimikatz", "on", "dc", "01", "lsass", "dump"]);
    let mut tokens = Tokens::default();
    for i in 0..(MAX_TOKENS + 50) {
        tokens.add(Field::Host, &format!("host{i}"));
    }
    tokens.add_text("never reached");
    assert_eq!(tokens.into_terms().len(), MAX_TOKENS);
}

#[test]
fn queries_are_checked_and_bounded() {
    assert_eq!(Query::parse(&RawQuery::default()), Err(QueryError::Empty));
    assert_eq!(Query::parse(&raw(" - ; ")), Err(QueryError::NoWords));
    assert_eq!(
        Query::parse(&raw("a1 b2 c3 d4 e5 f6 g7 h8 i9")),
        Err(QueryError::TooManyWords)
    );
    assert_eq!(
        Query::parse(&raw(&"x".repeat(MAX_QUERY_VALUE_BYTES + 1))),
        Err(QueryError::TooLong("text"))
    );
    let bad_technique = RawQuery {
        techniques: vec!["T10".into()],
        ..Default::default()
    };
    assert!(matches!(
        Query::parse(&bad_technique),
        Err(QueryError::Invalid {
            field: "technique",
            ..
        })
    ));
    let bad_indicator = RawQuery {
        indicators: vec!["domain:not a domain".into()],
        ..Default::default()
    };
    assert!(matches!(
        Query::parse(&bad_indicator),
        Err(QueryError::Invalid {
            field: "indicator",
            ..
        })
    ));
    let many = RawQuery {
        hosts: vec!["a".into(); MAX_QUERY_VALUES + 1],
        ..Default::default()
    };
    assert_eq!(Query::parse(&many), Err(QueryError::TooManyValues("host")));
    let good = RawQuery {
        indicators: vec!["domain:EVIL.example.".into()],
        hosts: vec!["WEB-01".into()],
        techniques: vec!["t1059.001".into()],
        text: Some("Mimikatz!".into()),
        ..Default::default()
    };
    let terms: Vec<(Field, String)> = Query::parse(&good)
        .map(|q| {
            q.terms()
                .iter()
                .map(|t| (t.field, t.token.clone()))
                .collect()
        })
        .unwrap_or_default();
    let terms: Vec<(Field, &str)> = terms.iter().map(|(f, t)| (*f, t.as_str())).collect();
    assert_eq!(
        terms,
        [
            (Field::Indicator, "domain:evil.example"),
            (Field::Host, "web-01"),
            (Field::Technique, "t1059.001"),
            (Field::Word, "mimikatz"),
        ]
    );
    assert_eq!(page_limit(None), Ok(DEFAULT_LIMIT));
    assert_eq!(page_limit(Some(0)), Err(QueryError::Limit));
    assert_eq!(
        page_limit(Some(MAX_LIMIT as u64 + 1)),
        Err(QueryError::Limit)
    );
    let id = [7u8; 16];
    assert_eq!(parse_cursor(&cursor_text(id)), Ok(id));
    for bad in [
        "",
        "c",
        "c00",
        "x0707",
        "c07070707070707070707070707070707ff",
    ] {
        assert_eq!(parse_cursor(bad), Err(QueryError::Cursor), "{bad}");
    }
}

fn id(n: u8) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[15] = n;
    id
}

/// Postings as a store would keep them: term → sorted ids.
fn seek_in(
    postings: &BTreeMap<Term, BTreeSet<[u8; 16]>>,
) -> impl FnMut(&Term, Option<[u8; 16]>) -> Result<Option<[u8; 16]>, ()> + '_ {
    move |term, below| {
        Ok(postings.get(term).and_then(|ids| match below {
            Some(b) => ids.range(..b).next_back().copied(),
            None => ids.last().copied(),
        }))
    }
}

proptest! {
    /// Every page of the join, followed by its cursor, gives exactly the records holding
    /// every term, newest first, without duplicates or gaps, hidden ones left out.
    #[test]
    fn paging_the_join_matches_brute_force(
        records in proptest::collection::vec(proptest::collection::btree_set(0u8..4, 0..4), 0..40),
        wanted in proptest::collection::btree_set(0u8..4, 1..3),
        hidden in proptest::collection::btree_set(0u8..40, 0..5),
        limit in 1usize..6,
    ) {
        let term = |n: u8| Term { field: Field::Word, token: format!("w{n}") };
        let mut postings: BTreeMap<Term, BTreeSet<[u8; 16]>> = BTreeMap::new();
        for (i, words) in records.iter().enumerate() {
            for w in words {
                postings.entry(term(*w)).or_default().insert(id(i as u8));
            }
        }
        let query = Query { terms: wanted.iter().map(|w| term(*w)).collect() };
        let expected: Vec<[u8; 16]> = records
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, words)| wanted.is_subset(words) && !hidden.contains(&(*i as u8)))
            .map(|(i, _)| id(i as u8))
            .collect();
        let mut got = Vec::new();
        let mut before = None;
        loop {
            let page = intersect(&query, before, limit, seek_in(&postings), |id| {
                Ok::<_, ()>(!hidden.contains(&id[15]))
            }).map_err(|_| TestCaseError::fail("seek failed"))?;
            prop_assert!(page.ids.len() <= limit);
            got.extend(page.ids);
            match page.next {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn a_search_survives_the_sweep_parameters_and_hostile_ones_are_bounded() {
    let raw = RawQuery {
        indicators: vec!["domain:c2.bad.example".into()],
        hosts: vec!["web-1".into(), "db-1".into()],
        users: vec![],
        techniques: vec!["T1059".into()],
        text: Some("encoded powershell".into()),
    };
    let params: std::collections::BTreeMap<String, String> =
        params::to_params(&raw).into_iter().collect();
    assert!(!params.contains_key("indicators"), "old sites must fail it");
    assert_eq!(params::from_params(&params), Ok(Some(raw.clone())));
    let query = Query::parse(&raw).unwrap_or_else(|_| Query { terms: Vec::new() });
    assert_eq!(
        params::describe(&query, 50),
        "search indicator=domain:c2.bad.example host=db-1"
    );
    assert_eq!(params::from_params(&Default::default()), Ok(None));
    let huge: std::collections::BTreeMap<String, String> =
        [("search_hosts".to_string(), "h\n".repeat(10_000))].into();
    assert_eq!(
        params::from_params(&huge),
        Err(QueryError::TooLong("search_hosts"))
    );
    let many: std::collections::BTreeMap<String, String> =
        [("search_hosts".to_string(), "a\nb\nc\nd\ne".to_string())].into();
    let parsed = params::from_params(&many)
        .ok()
        .flatten()
        .unwrap_or_default();
    assert_eq!(
        Query::parse(&parsed),
        Err(QueryError::TooManyValues("host"))
    );
}
