//! Taking tokens back: the permission matrix of the token endpoints, listings that never show
//! a secret, revocation by id, disabled stations and members, rotation, member token expiry,
//! and audit entries that name the token their actor used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use support::people::seed;
use support::TestApp;
use yuanjiao::domain::org::{Field, Member, Post, Principal};
use yuanjiao::people;
use yuanjiao::repo::Terminal;

fn station(id: &str, org: &str) -> Terminal {
    Terminal {
        id: id.into(),
        name: format!("{id} 村站"),
        org: org.into(),
        languages: vec![],
        audiences: vec![],
        disabled: false,
    }
}

fn member(id: &str, org: &str) -> Member {
    Member {
        id: id.into(),
        name: "才让".into(),
        org: org.into(),
        home_org: None,
        posts: vec![Post::Member],
        field: Field::Rural,
        joined: "2020-07-01".into(),
        languages: vec![],
    }
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The listing's entry of a token, found by its label.
async fn listed(app: &TestApp, token: &str, label: &str) -> Option<Value> {
    let (status, list) = send(app, "GET", "/api/v1/tokens?limit=1000", Some(token), None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == label)
        .cloned()
}

type Path = Box<dyn Fn(&TestApp, usize) -> String>;

#[tokio::test]
async fn the_token_endpoints_answer_each_caller_exactly() {
    let app = TestApp::spawn().await;
    let callers = seed(&app);
    let s = &app.services;
    // Each caller acts on targets of its own, so one's revocation does not change another's.
    for i in 0..callers.len() {
        people::create_terminal(s, &station(&format!("t{i}"), "branch"), "test").unwrap();
        people::create_member(s, &member(&format!("N{i}"), "branch"), "1234", "test").unwrap();
    }
    let station_token_id = |app: &TestApp, i: usize| -> String {
        let principal = Principal::Terminal {
            station: format!("t{i}"),
            org: "branch".into(),
        };
        let hashes = app.services.store.tokens_of(&principal).unwrap();
        yuanjiao::tokens::token_id(&hashes[0])
    };
    // In the order of `seed`: admin, editor, manager, other-manager, terminal, member,
    // revoked, expired, none.
    let table: Vec<(&str, Path, Option<Value>, [u16; 9])> = vec![
        (
            "GET",
            Box::new(|_, _| "/api/v1/tokens".into()),
            None,
            [200, 200, 200, 200, 200, 200, 401, 401, 401],
        ),
        (
            "DELETE",
            Box::new(move |app, i| format!("/api/v1/tokens/{}", station_token_id(app, i))),
            None,
            [204, 403, 204, 403, 403, 403, 401, 401, 401],
        ),
        (
            "POST",
            Box::new(|_, i| format!("/api/v1/terminals/t{i}/token")),
            None,
            [201, 403, 201, 403, 403, 403, 401, 401, 401],
        ),
        (
            "PATCH",
            Box::new(|_, i| format!("/api/v1/terminals/t{i}")),
            Some(json!({"disabled": true})),
            [200, 403, 200, 403, 403, 403, 401, 401, 401],
        ),
        (
            "PATCH",
            Box::new(|_, i| format!("/api/v1/members/N{i}")),
            Some(json!({"disabled": true})),
            [200, 403, 200, 403, 403, 403, 401, 401, 401],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &table {
        for (i, ((name, token), want)) in callers.iter().zip(expected).enumerate() {
            let path = path(&app, i);
            let (status, answer) = send(&app, method, &path, token.as_deref(), body.clone()).await;
            if status != *want {
                failures.push(format!(
                    "{method} {path} as {name}: {status}, want {want} ({answer})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn managers_list_the_live_tokens_of_their_subtree_and_never_a_secret() {
    let app = TestApp::spawn().await;
    let callers = seed(&app);
    let (admin, manager) = (callers[0].1.clone().unwrap(), callers[2].1.clone().unwrap());
    let (_, created) = send(
        &app,
        "POST",
        "/api/v1/terminals",
        Some(&admin),
        Some(json!({"id": "st-9", "name": "村站", "org": "branch", "languages": []})),
    )
    .await;
    let secret = created["token"].as_str().unwrap().to_string();
    let (status, body) = send(&app, "GET", "/api/v1/tokens", Some(&manager), None).await;
    assert_eq!(status, 200);
    assert!(!body.to_string().contains(&secret), "no secret listed");
    let labels: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["role"].as_str().unwrap())
        .collect();
    // The township's manager sees the branch's station (st-0, st-9) and member (M1), not
    // admins, editors, their own level or other counties; revoked and expired are gone.
    let mut roles = labels.clone();
    roles.sort_unstable();
    assert_eq!(roles, ["member", "terminal", "terminal"]);
    let entry = listed(&app, &manager, "station st-9").await.unwrap();
    assert_eq!(entry["id"].as_str().unwrap().len(), 16);
    assert_eq!(entry["org"], "branch");
    assert_eq!(entry["principal"]["station"], "st-9");
    assert!(entry["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(entry["expires"], Value::Null);
    assert_eq!(entry["last_used"], Value::Null, "not used yet");
    // Used once: the day of use is listed.
    send(&app, "GET", "/api/v1/me", Some(&secret), None).await;
    let entry = listed(&app, &manager, "station st-9").await.unwrap();
    let today = jiff::Timestamp::now().to_string()[..10].to_string();
    assert_eq!(entry["last_used"], today.as_str());
    let (status, all) = send(&app, "GET", "/api/v1/tokens", Some(&admin), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        all.as_array().unwrap().len(),
        7,
        "admins see every live token: {all}"
    );
}

#[tokio::test]
async fn a_stolen_stations_token_is_revoked_by_its_id_and_its_station_gets_a_new_one() {
    let app = TestApp::spawn().await;
    let callers = seed(&app);
    let manager = callers[2].1.clone().unwrap();
    let old = people::create_terminal(&app.services, &station("st-5", "branch"), "test").unwrap();
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&old), None).await.0,
        200
    );
    let id = listed(&app, &manager, "station st-5").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/tokens/{id}");
    assert_eq!(
        send(&app, "DELETE", &path, Some(&manager), None).await.0,
        204
    );
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&old), None).await.0,
        401
    );
    assert_eq!(
        send(&app, "DELETE", &path, Some(&manager), None).await.0,
        204,
        "revoking twice changes nothing"
    );
    let (status, rotated) = send(
        &app,
        "POST",
        "/api/v1/terminals/st-5/token",
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let new = rotated["token"].as_str().unwrap().to_string();
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&new), None).await.0,
        200
    );
    // Rotating again takes the new one back too.
    let (_, again) = send(
        &app,
        "POST",
        "/api/v1/terminals/st-5/token",
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&new), None).await.0,
        401
    );
    let newest = again["token"].as_str().unwrap();
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(newest), None).await.0,
        200
    );
    let unknown = send(
        &app,
        "DELETE",
        "/api/v1/tokens/00000000000000aa",
        Some(&manager),
        None,
    );
    assert_eq!(
        unknown.await.0,
        403,
        "managers do not learn which ids exist"
    );
    let admin = callers[0].1.clone().unwrap();
    let unknown = send(
        &app,
        "DELETE",
        "/api/v1/tokens/00000000000000aa",
        Some(&admin),
        None,
    );
    assert_eq!(unknown.await.0, 404);
    let short = send(&app, "DELETE", "/api/v1/tokens/00", Some(&admin), None);
    assert_eq!(short.await.0, 404, "an id is 16 hex digits");
}

#[tokio::test]
async fn a_disabled_station_has_no_live_token_and_gets_none_until_enabled() {
    let app = TestApp::spawn().await;
    let admin = seed(&app)[0].1.clone().unwrap();
    let token = people::create_terminal(&app.services, &station("st-6", "branch"), "test").unwrap();
    let (status, changed) = send(
        &app,
        "PATCH",
        "/api/v1/terminals/st-6",
        Some(&admin),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!((status, &changed["disabled"]), (200, &json!(true)));
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&token), None).await.0,
        401
    );
    let (status, refused) = send(
        &app,
        "POST",
        "/api/v1/terminals/st-6/token",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("disabled")));
    let enable = Some(json!({"disabled": false, "name": "新名字"}));
    let (status, changed) = send(
        &app,
        "PATCH",
        "/api/v1/terminals/st-6",
        Some(&admin),
        enable,
    )
    .await;
    assert_eq!((status, changed["name"].as_str()), (200, Some("新名字")));
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&token), None).await.0,
        401,
        "still revoked"
    );
    let (status, _) = send(
        &app,
        "POST",
        "/api/v1/terminals/st-6/token",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 201);
    for (body, want) in [
        (json!({"org": "other-branch"}), 400),
        (json!({"name": " "}), 400),
        (json!({"disabled": "yes"}), 400),
    ] {
        let (status, error) = send(
            &app,
            "PATCH",
            "/api/v1/terminals/st-6",
            Some(&admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, want, "{body}: {error}");
        assert!(error["message"].is_string(), "{error}");
    }
    let missing = send(
        &app,
        "PATCH",
        "/api/v1/terminals/nowhere",
        Some(&admin),
        Some(json!({})),
    );
    assert_eq!(missing.await.0, 404);
}

async fn sign_in(app: &TestApp, member: &str, pin: &str) -> (u16, Value) {
    let body = Some(json!({"member": member, "pin": pin}));
    send(app, "POST", "/api/v1/session", None, body).await
}

#[tokio::test]
async fn a_disabled_member_cannot_sign_in_and_their_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let admin = seed(&app)[0].1.clone().unwrap();
    let (status, signed) = sign_in(&app, "M1", "4821").await;
    assert_eq!(status, 201);
    let token = signed["token"].as_str().unwrap().to_string();
    let off = Some(json!({"disabled": true}));
    let (status, changed) = send(&app, "PATCH", "/api/v1/members/M1", Some(&admin), off).await;
    assert_eq!(
        (status, &changed["disabled"]),
        (200, &json!(true)),
        "{changed}"
    );
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&token), None).await.0,
        401
    );
    let (status, refused) = sign_in(&app, "M1", "4821").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("member-disabled"))
    );
    assert_eq!(
        sign_in(&app, "M1", "0000").await.0,
        401,
        "a wrong PIN says no more"
    );
    let on = Some(json!({"disabled": false}));
    assert_eq!(
        send(&app, "PATCH", "/api/v1/members/M1", Some(&admin), on)
            .await
            .0,
        200
    );
    assert_eq!(sign_in(&app, "M1", "4821").await.0, 201);
    let (_, shown) = send(&app, "GET", "/api/v1/members/M1", Some(&admin), None).await;
    assert_eq!(shown["disabled"], false);
    assert!(shown.get("pin_hash").is_none());
}

#[tokio::test]
async fn member_tokens_expire_after_the_configured_time() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
    let clock = Arc::new(yuanjiao::clock::FixedClock::new(start));
    let app = TestApp::spawn_with_clock(clock.clone(), |s| {
        s.auth.member_token_ttl = Duration::from_secs(7 * 86_400);
    })
    .await;
    let admin = seed(&app)[0].1.clone().unwrap();
    let (_, signed) = sign_in(&app, "M1", "4821").await;
    let token = signed["token"].as_str().unwrap().to_string();
    let entry = listed(&app, &admin, "sign-in").await.unwrap();
    let expires: jiff::Timestamp = entry["expires"].as_str().unwrap().parse().unwrap();
    let start_ts = jiff::Timestamp::from_second(1_796_000_000).unwrap();
    assert_eq!(expires.as_second() - start_ts.as_second(), 7 * 86_400);
    clock.set(start + Duration::from_secs(7 * 86_400 - 1));
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&token), None).await.0,
        200
    );
    clock.set(start + Duration::from_secs(7 * 86_400));
    assert_eq!(
        send(&app, "GET", "/api/v1/me", Some(&token), None).await.0,
        401
    );
}

#[tokio::test]
async fn the_audit_log_names_each_actor_by_the_token_they_used() {
    let app = TestApp::spawn().await;
    let callers = seed(&app);
    let (admin, manager) = (callers[0].1.clone().unwrap(), callers[2].1.clone().unwrap());
    let rename = Some(json!({"name": "扎西"}));
    assert_eq!(
        send(&app, "PATCH", "/api/v1/members/M1", Some(&manager), rename)
            .await
            .0,
        200
    );
    let manager_id = yuanjiao::tokens::token_id(&people::token_hash(&manager));
    let (_, log) = send(&app, "GET", "/api/v1/audit", Some(&admin), None).await;
    let last = &log.as_array().unwrap().last().unwrap()["entry"];
    assert_eq!(last["action"], "member.update");
    assert_eq!(last["actor"], "manager:township");
    assert_eq!(last["token"], manager_id.as_str());
}
