//! `GET /api/v1/editor/courses` against the real server: an editor sees drafts nobody has
//! published, published courses with and without unpublished changes, and retired ones; other
//! roles are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::TestApp;
use yuanjiao::domain::org::Principal;
use yuanjiao::people;

async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn course(id: &str) -> Value {
    json!({"id": id, "title": {"zh-Hans": format!("{id} 课程"), "ug-Arab": "دەرس"},
           "themes": ["ideals-theory"], "audiences": ["rural"]})
}

#[tokio::test]
async fn an_editor_lists_drafts_published_changed_and_retired_courses() {
    let app = TestApp::spawn().await;
    let editor = people::issue_token(&app.services, Principal::Editor, None, "test").unwrap();
    let ed = Some(editor.as_str());
    let text = app.add_blob("# 第一课\n".as_bytes(), "one.md");
    for id in ["changed", "draft-only", "published", "retired"] {
        assert_eq!(
            call(&app, ed, Method::POST, "/api/v1/courses", Some(course(id)))
                .await
                .0,
            201
        );
        if id == "draft-only" {
            continue;
        }
        let lesson = json!({"id": format!("{id}-1"), "kind": "text", "duration_ms": 60000,
                            "title": {"zh-Hans": "第一课"}});
        let path = format!("/api/v1/courses/{id}/lessons");
        assert_eq!(
            call(&app, ed, Method::POST, &path, Some(lesson)).await.0,
            201
        );
        let path = format!("/api/v1/lessons/{id}-1/variants/zh-Hans");
        let (status, body) =
            call(&app, ed, Method::PUT, &path, Some(json!({"sha256": text}))).await;
        assert_eq!(status, 200, "{body}");
        let path = format!("/api/v1/courses/{id}/publish");
        assert_eq!(call(&app, ed, Method::POST, &path, None).await.0, 200);
    }
    let patch = json!({"title": {"bo-Tibt": "སློབ་ཚན།"}});
    let (status, _) = call(
        &app,
        ed,
        Method::PATCH,
        "/api/v1/courses/changed",
        Some(patch),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        ed,
        Method::POST,
        "/api/v1/courses/retired/retire",
        None,
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = call(&app, ed, Method::GET, "/api/v1/editor/courses", None).await;
    assert_eq!(status, 200, "{body}");
    let listed = body["courses"].as_array().unwrap();
    let ids: Vec<&str> = listed.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["changed", "draft-only", "published", "retired"]);
    let by_id = |id: &str| listed.iter().find(|c| c["id"] == id).unwrap().clone();
    let changed = by_id("changed");
    assert_eq!(changed["draft_version"], 2, "{changed}");
    assert_eq!(changed["published_version"], 1);
    assert_eq!(changed["published_state"], "published");
    assert_eq!(changed["title"]["bo-Tibt"], "སློབ་ཚན།", "the draft's titles");
    assert_eq!(changed["lessons"], 1);
    let draft = by_id("draft-only");
    assert_eq!(draft["draft_version"], 1, "{draft}");
    assert_eq!(draft["published_version"], Value::Null);
    assert_eq!(draft["published_state"], Value::Null);
    assert_eq!(draft["title"]["zh-Hans"], "draft-only 课程");
    assert_eq!(draft["lessons"], 0);
    let published = by_id("published");
    assert_eq!(published["draft_version"], Value::Null, "{published}");
    assert_eq!(published["published_state"], "published");
    assert_eq!(by_id("retired")["published_state"], "retired");

    // The public list knows only the two that stations hold.
    let (_, public) = call(&app, None, Method::GET, "/api/v1/courses", None).await;
    assert_eq!(public["courses"].as_array().unwrap().len(), 2, "{public}");
}

#[tokio::test]
async fn only_editors_and_admins_may_list_the_courses_being_edited() {
    let app = TestApp::spawn().await;
    let token = |p| people::issue_token(&app.services, p, None, "test").unwrap();
    let admin = token(Principal::Admin);
    let manager = token(Principal::Manager {
        org: "county".into(),
    });
    let path = "/api/v1/editor/courses";
    assert_eq!(call(&app, None, Method::GET, path, None).await.0, 401);
    let (status, body) = call(&app, Some(&manager), Method::GET, path, None).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = call(&app, Some(&admin), Method::GET, path, None).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"courses": []}));
}
