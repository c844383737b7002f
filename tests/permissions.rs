//! Every protected endpoint × every kind of caller → the exact status, and PIN sign-in that
//! slows down guessing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::people::seed;
use support::TestApp;

/// A request body for the caller at this index (ids differ so creations do not collide).
type Body = Box<dyn Fn(usize) -> Option<serde_json::Value>>;

#[tokio::test]
async fn every_protected_endpoint_answers_each_caller_exactly() {
    let app = TestApp::spawn().await;
    let callers = seed(&app);
    // Expected status per caller, in the order of `seed`.
    let table: Vec<(&str, &str, Body, [u16; 9])> = vec![
        (
            "GET",
            "/api/v1/orgs",
            Box::new(|_| None),
            [200, 200, 200, 200, 200, 200, 401, 401, 401],
        ),
        (
            "GET",
            "/api/v1/orgs/township",
            Box::new(|_| None),
            [200, 403, 200, 403, 403, 403, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/orgs",
            Box::new(|i| {
                Some(
                    json!({"id": format!("new-{i}"), "name": "新支部", "kind": "branch", "parent": "township"}),
                )
            }),
            [201, 403, 201, 403, 403, 403, 401, 401, 401],
        ),
        (
            "GET",
            "/api/v1/members/M1",
            Box::new(|_| None),
            [200, 403, 200, 403, 200, 200, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/members",
            Box::new(|i| {
                Some(
                    json!({"id": format!("N{i}"), "name": "新党员", "org": "branch", "posts": ["member"],
                            "field": "rural", "joined": "2026-07-01", "languages": ["zh-Hans"], "pin": "1234"}),
                )
            }),
            [201, 403, 201, 403, 403, 403, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/terminals",
            Box::new(|i| {
                Some(
                    json!({"id": format!("st-{i}"), "name": "村站", "org": "branch", "languages": ["bo-Tibt"]}),
                )
            }),
            [201, 403, 201, 403, 403, 403, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/tokens",
            Box::new(|_| Some(json!({"role": "manager", "org": "branch"}))),
            [201, 403, 201, 403, 403, 403, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/tokens",
            Box::new(|_| Some(json!({"role": "editor"}))),
            [201, 403, 403, 403, 403, 403, 401, 401, 401],
        ),
        (
            "GET",
            "/api/v1/audit",
            Box::new(|_| None),
            [200, 403, 403, 403, 403, 403, 401, 401, 401],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &table {
        for (i, ((name, token), want)) in callers.iter().zip(expected).enumerate() {
            let mut req = match *method {
                "GET" => app.client.get(app.url(path)),
                "PATCH" => app.client.patch(app.url(path)),
                _ => app.client.post(app.url(path)),
            };
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            if let Some(json) = body(i) {
                req = req.json(&json);
            }
            let status = req.send().await.unwrap().status().as_u16();
            if status != *want {
                failures.push(format!("{method} {path} as {name}: {status}, want {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn wrong_pins_lock_sign_in_and_the_right_one_waits_too() {
    let app = TestApp::spawn().await;
    seed(&app);
    let sign_in = |pin: &'static str| {
        let req = app
            .client
            .post(app.url("/api/v1/session"))
            .json(&json!({"member": "M1", "pin": pin}));
        async move { req.send().await.unwrap() }
    };
    let ok = sign_in("4821").await;
    assert_eq!(ok.status(), 201);
    let token: serde_json::Value = ok.json().await.unwrap();
    let me = app
        .client
        .get(app.url("/api/v1/members/M1"))
        .bearer_auth(token["token"].as_str().unwrap());
    assert_eq!(me.send().await.unwrap().status(), 200);
    for _ in 0..5 {
        assert_eq!(sign_in("0000").await.status(), 401);
    }
    let locked = sign_in("4821").await;
    assert_eq!(
        locked.status(),
        429,
        "locked after five wrong PINs, even for the right one"
    );
    let wait: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let unknown = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"member": "nobody", "pin": "1234"}));
    assert_eq!(
        unknown.send().await.unwrap().status(),
        401,
        "unknown members look like wrong PINs"
    );
}

#[tokio::test]
async fn every_change_to_people_is_in_the_audit_log_with_its_actor() {
    let app = TestApp::spawn().await;
    let callers = seed(&app);
    let admin = callers[0].1.clone().unwrap();
    let manager = callers[2].1.clone().unwrap();
    let created = app
        .client
        .post(app.url("/api/v1/orgs"))
        .bearer_auth(&manager)
        .json(
            &json!({"id": "new-branch", "name": "新支部", "kind": "branch", "parent": "township"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let log: Vec<serde_json::Value> = app
        .client
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = &log.last().unwrap()["entry"];
    assert_eq!(
        (
            last["actor"].as_str(),
            last["action"].as_str(),
            last["subject"].as_str()
        ),
        (
            Some("manager:township"),
            Some("org.create"),
            Some("new-branch")
        )
    );
    for action in ["org.create", "member.create", "token.issue", "token.revoke"] {
        assert!(
            log.iter().any(|e| e["entry"]["action"] == action),
            "{action} is audited"
        );
    }
}

#[tokio::test]
async fn bad_people_input_gets_a_4xx_with_a_reason() {
    let app = TestApp::spawn().await;
    let admin = seed(&app)[0].1.clone().unwrap();
    let post = |path: &'static str, body: serde_json::Value| {
        let req = app
            .client
            .post(app.url(path))
            .bearer_auth(&admin)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let cases = [
        (
            "/api/v1/orgs",
            json!({"id": "b", "name": "x", "kind": "branch", "parent": "nowhere"}),
            422,
        ),
        (
            "/api/v1/orgs",
            json!({"id": "county", "name": "x", "kind": "committee", "parent": null}),
            409,
        ),
        (
            "/api/v1/orgs",
            json!({"id": "c2", "name": "x", "kind": "committee", "parent": "branch"}),
            400,
        ),
        (
            "/api/v1/orgs",
            json!({"id": "bad id", "name": "x", "kind": "committee", "parent": null}),
            400,
        ),
        (
            "/api/v1/orgs",
            json!({"id": "x", "name": "x", "kind": "club", "parent": null}),
            400,
        ),
        (
            "/api/v1/members",
            json!({"id": "N", "name": "n", "org": "branch", "posts": ["member"], "field": "rural", "joined": "2019-02-30", "pin": "1234"}),
            400,
        ),
        (
            "/api/v1/members",
            json!({"id": "N", "name": "n", "org": "branch", "posts": ["member"], "field": "rural", "joined": "2019-02-01", "pin": "12"}),
            400,
        ),
        (
            "/api/v1/members",
            json!({"id": "N", "name": "n", "org": "ghost", "posts": ["member"], "field": "rural", "joined": "2019-02-01", "pin": "1234"}),
            422,
        ),
        (
            "/api/v1/members",
            json!({"id": "M1", "name": "n", "org": "branch", "posts": ["member"], "field": "rural", "joined": "2019-02-01", "pin": "1234"}),
            409,
        ),
        ("/api/v1/tokens", json!({"role": "admin"}), 400),
        (
            "/api/v1/tokens",
            json!({"role": "manager", "org": "ghost"}),
            422,
        ),
        (
            "/api/v1/tokens",
            json!({"role": "editor", "expires": "next tuesday"}),
            400,
        ),
    ];
    for (path, body, want) in cases {
        let resp = post(path, body.clone()).await;
        assert_eq!(resp.status().as_u16(), want, "{path} {body}");
        let error: serde_json::Value = resp.json().await.unwrap();
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{error}"
        );
    }
}

#[tokio::test]
async fn moves_keep_their_history_and_cannot_make_a_cycle() {
    let app = TestApp::spawn().await;
    let callers = seed(&app);
    let admin = callers[0].1.clone().unwrap();
    let member = callers[5].1.clone().unwrap();
    let patch = |path: &str, body: serde_json::Value, token: &str| {
        let req = app
            .client
            .patch(app.url(path))
            .bearer_auth(token)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let moved = patch(
        "/api/v1/members/M1",
        json!({"org": "other-branch", "home_org": "branch"}),
        &admin,
    )
    .await;
    assert_eq!(moved.status(), 200);
    let log: Vec<serde_json::Value> = app
        .client
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &log.last().unwrap()["entry"];
    assert_eq!(entry["action"], "member.update");
    assert_eq!(entry["detail"]["before"]["org"], "branch");
    assert_eq!(entry["detail"]["after"]["org"], "other-branch");
    assert_eq!(
        patch("/api/v1/orgs/county", json!({"parent": "branch"}), &admin)
            .await
            .status(),
        400,
        "no cycles"
    );
    assert_eq!(
        patch("/api/v1/orgs/branch", json!({"parent": "ghost"}), &admin)
            .await
            .status(),
        422
    );
    assert_eq!(
        patch("/api/v1/members/M1", json!({"org": "ghost"}), &admin)
            .await
            .status(),
        422
    );
    assert_eq!(
        patch("/api/v1/members/M1", json!({"shoe_size": 42}), &admin)
            .await
            .status(),
        400
    );
    // Signing out revokes the caller's own token, and only that.
    let status =
        |req: reqwest::RequestBuilder| async move { req.send().await.unwrap().status().as_u16() };
    let m1 = app.url("/api/v1/members/M1");
    assert_eq!(
        status(
            app.client
                .delete(app.url("/api/v1/session"))
                .bearer_auth(&member)
        )
        .await,
        204
    );
    assert_eq!(status(app.client.get(&m1).bearer_auth(&member)).await, 401);
    assert_eq!(status(app.client.get(&m1).bearer_auth(&admin)).await, 200);
}
