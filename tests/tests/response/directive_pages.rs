//! `ListDirectives` a page at a time, as `ListConflicts` and `ListHunts`: a limit (50 by
//! default, at most 200), a token for the next page, and the number of matching directives.

use socfed_proto::pb;
use socfed_tests::fixture::Org;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directives_are_listed_a_page_at_a_time_with_their_total() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "worm")
        .await?;
    let mut ines = org.response(hub.addr, "ines")?;
    let mut issued = Vec::new();
    for n in 0..7 {
        let done = ines
            .assign_task(pb::AssignTaskRequest {
                incident_id: incident.clone(),
                sites: vec!["paris".into()],
                title: format!("check host {n}"),
                ..Default::default()
            })
            .await?
            .into_inner()
            .directives;
        issued.extend(
            done.into_iter()
                .filter_map(|d| d.directive.map(|w| w.directive_id)),
        );
    }
    issued.sort();

    for filter in [
        pb::ListDirectivesRequest {
            incident_id: incident.clone(),
            ..Default::default()
        },
        pb::ListDirectivesRequest {
            site_id: "paris".into(),
            ..Default::default()
        },
        pb::ListDirectivesRequest::default(),
    ] {
        let mut seen = Vec::new();
        let mut page_token = String::new();
        let mut pages = 0;
        loop {
            let page = ines
                .list_directives(pb::ListDirectivesRequest {
                    limit: 3,
                    page_token,
                    ..filter.clone()
                })
                .await?
                .into_inner();
            assert_eq!(page.total, 7, "{filter:?}");
            assert!(page.directives.len() <= 3);
            pages += 1;
            seen.extend(
                page.directives
                    .into_iter()
                    .filter_map(|d| d.directive.map(|w| w.directive_id)),
            );
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        assert_eq!(pages, 3, "{filter:?}");
        assert_eq!(
            seen, issued,
            "every directive once, in issue order: {filter:?}"
        );
    }

    // Without a limit: 50 a page, so all seven and no token.
    let all = ines
        .list_directives(pb::ListDirectivesRequest {
            incident_id: incident.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(
        (all.directives.len(), all.next_page_token.as_str()),
        (7, "")
    );

    let too_many = ines
        .list_directives(pb::ListDirectivesRequest {
            incident_id: incident.clone(),
            limit: 201,
            ..Default::default()
        })
        .await
        .expect_err("over the maximum");
    assert_eq!(too_many.code(), tonic::Code::InvalidArgument);
    assert!(too_many.message().contains("200"), "{}", too_many.message());
    let forged = ines
        .list_directives(pb::ListDirectivesRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .expect_err("a token the hub never gave");
    assert_eq!(forged.code(), tonic::Code::InvalidArgument);

    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
