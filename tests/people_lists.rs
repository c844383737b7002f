//! The lists of organisations, members and stations come a page at a time (`offset`, `limit`,
//! the whole count in `X-Total-Count`), and the permission check's cached organisation tree
//! follows every change at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::TestApp;
use yuanjiao::domain::lang::Lang;
use yuanjiao::domain::org::{Field, Member, OrgKind, Post, Principal};
use yuanjiao::people;
use yuanjiao::repo::{MemberRecord, Terminal};

/// county → township → branch-a; county → branch-b; 150 members in branch-a, 100 in
/// branch-b, a station in each branch.
fn seed(app: &TestApp) {
    let s = &app.services;
    support::create_orgs(
        s,
        &[
            ("county", "县委", OrgKind::Committee, None),
            ("township", "镇党委", OrgKind::Committee, Some("county")),
            ("branch-a", "甲村党支部", OrgKind::Branch, Some("township")),
            ("branch-b", "乙村党支部", OrgKind::Branch, Some("county")),
        ],
    );
    for n in 0..250 {
        let org = if n < 150 { "branch-a" } else { "branch-b" };
        let member = Member {
            id: format!("M{n:03}"),
            name: format!("党员{n}"),
            org: org.into(),
            home_org: None,
            posts: vec![Post::Member],
            field: Field::Rural,
            joined: "2019-07-01".into(),
            languages: vec![Lang::chinese()],
        };
        let record = MemberRecord {
            member,
            pin_hash: String::new(),
            failed_sign_ins: 0,
            locked_until_ms: 0,
            disabled: false,
        };
        s.store.put_member(&record).unwrap();
    }
    for org in ["branch-a", "branch-b"] {
        let terminal = Terminal {
            id: format!("st-{org}"),
            name: "村站".into(),
            org: org.into(),
            languages: vec![Lang::chinese()],
            audiences: vec![],
            disabled: false,
        };
        people::create_terminal(s, &terminal, "test").unwrap();
    }
}

fn token(app: &TestApp, principal: Principal) -> String {
    people::issue_token(&app.services, principal, None, "test").unwrap()
}

/// `(status, X-Total-Count, ids)` of a list page.
async fn page(app: &TestApp, token: &str, path: &str) -> (u16, Option<usize>, Vec<String>) {
    let resp = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let total = resp
        .headers()
        .get("x-total-count")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let body: Value = resp.json().await.unwrap();
    let ids = match body.as_array() {
        Some(items) => items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect(),
        None => vec![],
    };
    (status, total, ids)
}

#[tokio::test]
async fn lists_come_a_page_at_a_time_with_the_whole_count_in_a_header() {
    let app = TestApp::spawn().await;
    seed(&app);
    let admin = token(&app, Principal::Admin);
    let (status, total, first) = page(&app, &admin, "/api/v1/members").await;
    assert_eq!(
        (status, total, first.len()),
        (200, Some(250), 100),
        "a default page"
    );
    let mut seen: BTreeSet<String> = first.into_iter().collect();
    for offset in [100, 200] {
        let (_, total, ids) = page(&app, &admin, &format!("/api/v1/members?offset={offset}")).await;
        assert_eq!(total, Some(250));
        seen.extend(ids);
    }
    assert_eq!(seen.len(), 250, "the pages cover the list once");
    let (_, _, all) = page(&app, &admin, "/api/v1/members?limit=100000").await;
    assert_eq!(all.len(), 250, "up to the largest page");
    let (_, _, few) = page(&app, &admin, "/api/v1/members?offset=248&limit=5").await;
    assert_eq!(few, ["M248", "M249"]);
    let (_, total, none) = page(&app, &admin, "/api/v1/members?offset=900").await;
    assert_eq!((total, none.len()), (Some(250), 0));
    let (status, _, _) = page(&app, &admin, "/api/v1/members?limit=many").await;
    assert_eq!(status, 400);

    // A manager's count is of what they may see.
    let manager = token(
        &app,
        Principal::Manager {
            org: "township".into(),
        },
    );
    let (_, total, ids) = page(&app, &manager, "/api/v1/members?limit=1000").await;
    assert_eq!((total, ids.len()), (Some(150), 150));
    let (_, total, orgs) = page(&app, &manager, "/api/v1/orgs").await;
    assert_eq!(
        (total, orgs),
        (
            Some(2),
            vec!["branch-a".to_string(), "township".to_string()]
        )
    );
    let (_, total, stations) = page(&app, &manager, "/api/v1/terminals?limit=1").await;
    assert_eq!(
        (total, stations),
        (Some(1), vec!["st-branch-a".to_string()])
    );
    let (_, total, orgs) = page(&app, &admin, "/api/v1/orgs?offset=1&limit=2").await;
    assert_eq!((total, orgs.len()), (Some(4), 2));
    let (_, total, stations) = page(&app, &admin, "/api/v1/terminals").await;
    assert_eq!((total, stations.len()), (Some(2), 2));
}

#[tokio::test]
async fn the_permission_check_sees_an_organisation_created_or_moved_at_once() {
    let app = TestApp::spawn().await;
    seed(&app);
    let admin = token(&app, Principal::Admin);
    let manager = token(
        &app,
        Principal::Manager {
            org: "township".into(),
        },
    );
    let status = |token: String, method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    use reqwest::Method;
    // Read once, so the tree is cached before the changes.
    assert_eq!(
        status(manager.clone(), Method::GET, "/api/v1/orgs/branch-a", None).await,
        200
    );
    let new = json!({"id": "branch-c", "name": "丙村党支部", "kind": "branch", "parent": "county"});
    assert_eq!(
        status(admin.clone(), Method::POST, "/api/v1/orgs", Some(new)).await,
        201
    );
    assert_eq!(
        status(manager.clone(), Method::GET, "/api/v1/orgs/branch-c", None).await,
        403
    );
    let moved = json!({"parent": "township"});
    assert_eq!(
        status(
            admin.clone(),
            Method::PATCH,
            "/api/v1/orgs/branch-c",
            Some(moved)
        )
        .await,
        200
    );
    assert_eq!(
        status(manager.clone(), Method::GET, "/api/v1/orgs/branch-c", None).await,
        200
    );
    let (_, total, _) = page(&app, &manager, "/api/v1/orgs").await;
    assert_eq!(total, Some(3));
    // Moved away again, it is out of reach at once.
    let back = json!({"parent": "county"});
    assert_eq!(
        status(admin, Method::PATCH, "/api/v1/orgs/branch-c", Some(back)).await,
        200
    );
    assert_eq!(
        status(manager, Method::GET, "/api/v1/orgs/branch-c", None).await,
        403
    );
}
