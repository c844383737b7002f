//! What the real server makes of its data dir after a stop: a member's daily cap of watch
//! reports is derived again from the stored entries, and an organisation record damaged while
//! it was stopped (garbage written into sled's `orgs` tree by this test) is logged once and
//! refuses only what depends on it, while every other permission check keeps working.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use support::process::{Sandbox, Server};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const HOUR: i64 = 3_600_000;

/// The last non-empty line a command printed: the token.
fn token(stdout: &str) -> String {
    stdout
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap()
        .trim()
        .to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `(status, body)` of a request with a token.
fn call(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    rt.block_on(async {
        let mut req = client.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    })
}

fn org_add(sb: &Sandbox, id: &str, kind: &str, parent: Option<&str>) {
    let mut args = vec!["org", "add", "--id", id, "--name", "党组织", "--kind", kind];
    if let Some(parent) = parent {
        args.extend(["--parent", parent]);
    }
    sb.ok(&args);
}

fn import_members(sb: &Sandbox, members: &[(&str, &str)]) {
    let mut csv = String::from("id,name,org,posts,field,joined,languages,pin,home_org\n");
    for (id, org) in members {
        csv.push_str(&format!(
            "{id},党员{id},{org},member,rural,2019-07-01,zh-Hans,,\n"
        ));
    }
    let path = sb.path().join("members.csv");
    std::fs::write(&path, csv).unwrap();
    sb.ok(&["member", "import", path.to_str().unwrap()]);
}

// ---------------------------------------------------------------- the daily cap

/// A copy of `media/village-station` with its text lessons only; returns the folder and the
/// first text lesson's id.
fn text_only_course(sb: &Sandbox) -> (PathBuf, String) {
    let from = Path::new(MANIFEST_DIR).join("media/village-station");
    let to = sb.path().join("courses/village-station");
    std::fs::create_dir_all(&to).unwrap();
    let mut manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(from.join("course.toml")).unwrap()).unwrap();
    let lessons: Vec<toml::Value> = manifest["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"].as_str() == Some("text"))
        .cloned()
        .collect();
    for lesson in &lessons {
        for file in lesson["variants"].as_table().unwrap().values() {
            let file = file.as_str().unwrap();
            std::fs::copy(from.join(file), to.join(file)).unwrap();
        }
    }
    let id = lessons[0]["id"].as_str().unwrap().to_string();
    manifest.insert("lessons".into(), toml::Value::Array(lessons));
    std::fs::write(to.join("course.toml"), toml::to_string(&manifest).unwrap()).unwrap();
    (to, id)
}

fn report(id: &str, lesson: &str, wall_from: i64) -> Value {
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
    json!({
        "id": id,
        "member": "C1",
        "lesson": lesson,
        "lang": "zh-Hans",
        "played": [[0, 1000]],
        "wall": [at(wall_from), at(wall_from + 1000)],
        "position_ms": 1000,
    })
}

#[test]
fn the_daily_cap_of_a_members_reports_holds_across_a_restart() {
    let sb = Sandbox::new().with_env("YJ__LEDGER__MAX_REPORTS_PER_MEMBER_DAY", "2");
    let (course, lesson) = text_only_course(&sb);
    sb.ok(&["ingest", course.to_str().unwrap()]);
    org_add(&sb, "cap-county", "committee", None);
    import_members(&sb, &[("C1", "cap-county")]);
    let admin = token(&sb.ok(&["admin", "token", "--role", "admin"]));
    let (rt, client) = (runtime(), client());
    let watch = |server: &Server, body: Value| {
        let (status, answer) = call(
            &rt,
            &client,
            reqwest::Method::POST,
            server.url("/api/v1/watch"),
            &admin,
            Some(body),
        );
        assert_eq!(status, 200, "{answer}");
        let result = &answer["results"][0];
        (
            result["status"].as_str().unwrap().to_string(),
            result["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    // Three reports played at noon yesterday in Shanghai: the third is one too many.
    let shanghai = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let yesterday = jiff::Timestamp::now()
        .to_zoned(shanghai.clone())
        .date()
        .yesterday()
        .unwrap();
    let t = yesterday
        .at(12, 0, 0, 0)
        .to_zoned(shanghai)
        .unwrap()
        .timestamp()
        .as_millisecond();
    let mut server = Server::start(&sb, &client, &rt, 1);
    assert_eq!(watch(&server, report("c-1", &lesson, t)).0, "credited");
    assert_eq!(
        watch(&server, report("c-2", &lesson, t + 60_000)).0,
        "credited"
    );
    let (status, reason) = watch(&server, report("c-3", &lesson, t + 120_000));
    assert_eq!(status, "rejected");
    assert!(reason.starts_with("rate"), "{reason}");
    server.kill();

    let server = Server::start(&sb, &client, &rt, 2);
    let (status, reason) = watch(&server, report("c-4", &lesson, t + 180_000));
    assert_eq!(
        status, "rejected",
        "the day is still full after the restart"
    );
    assert!(reason.starts_with("rate"), "{reason}");
    assert_eq!(watch(&server, report("c-1", &lesson, t)).0, "duplicate");
    // Two days earlier is another day.
    assert_eq!(
        watch(&server, report("c-5", &lesson, t - 48 * HOUR)).0,
        "credited"
    );
}

// ---------------------------------------------------------------- a damaged record

/// How many times the server logged the damaged record.
fn damage_logged(server: &Server) -> usize {
    server
        .log_text()
        .matches("an organisation record cannot be read")
        .count()
}

#[test]
fn one_damaged_organisation_record_is_logged_once_and_refuses_only_what_depends_on_it() {
    let sb = Sandbox::new();
    // county → town → v1, county → other → v3.
    org_add(&sb, "county", "committee", None);
    org_add(&sb, "town", "general-branch", Some("county"));
    org_add(&sb, "v1", "branch", Some("town"));
    org_add(&sb, "other", "general-branch", Some("county"));
    org_add(&sb, "v3", "branch", Some("other"));
    import_members(&sb, &[("M-v1", "v1"), ("M-v3", "v3")]);
    let admin = token(&sb.ok(&["admin", "token", "--role", "admin"]));
    let (rt, client) = (runtime(), client());
    use reqwest::Method;
    let mut server = Server::start(&sb, &client, &rt, 1);
    let manager_of = |server: &Server, org: &str| {
        let (status, body) = call(
            &rt,
            &client,
            Method::POST,
            server.url("/api/v1/tokens"),
            &admin,
            Some(json!({"role": "manager", "org": org})),
        );
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    };
    let county = manager_of(&server, "county");
    let below = manager_of(&server, "v1");
    server.kill();

    // The stopped server's record of "town" is overwritten with half a record.
    {
        let db = sled::open(sb.path().join("data/db")).unwrap();
        let orgs = db.open_tree("orgs").unwrap();
        assert!(orgs.get("town").unwrap().is_some());
        orgs.insert("town", &b"\x01{\"id\":\"town\",\"na"[..])
            .unwrap();
        db.flush().unwrap();
    }

    let server = Server::start(&sb, &client, &rt, 2);
    let get =
        |token: &str, path: &str| call(&rt, &client, Method::GET, server.url(path), token, None);
    let ids = |body: &Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Everything that does not pass through "town" works as before.
    assert_eq!(get(&county, "/api/v1/members/M-v3").0, 200);
    assert_eq!(get(&county, "/api/v1/orgs/v3").0, 200);
    assert_eq!(get(&admin, "/api/v1/members/M-v1").0, 200);
    assert_eq!(
        get(&below, "/api/v1/members/M-v1").0,
        200,
        "below the damage"
    );
    let (status, orgs) = get(&admin, "/api/v1/orgs");
    assert_eq!(status, 200, "{orgs}");
    assert_eq!(ids(&orgs), ["county", "other", "v1", "v3"]);
    let (status, orgs) = get(&county, "/api/v1/orgs");
    assert_eq!(status, 200, "{orgs}");
    assert_eq!(ids(&orgs), ["county", "other", "v3"]);
    let (status, members) = get(&county, "/api/v1/members");
    assert_eq!((status, ids(&members)), (200, vec!["M-v3".to_string()]));
    // What passes through it is refused, saying why.
    for path in [
        "/api/v1/members/M-v1",
        "/api/v1/orgs/v1",
        "/api/v1/orgs/town",
    ] {
        let (status, body) = get(&county, path);
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["code"], "damaged-organisation", "{path}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("\"town\""),
            "{body}"
        );
    }
    assert_eq!(damage_logged(&server), 1, "{}", server.log_text());

    // Writes elsewhere go on; each change reads the tree again, and logs the damage again once.
    let new = json!({"id": "v4", "name": "新支部", "kind": "branch", "parent": "other"});
    let (status, body) = call(
        &rt,
        &client,
        Method::POST,
        server.url("/api/v1/orgs"),
        &county,
        Some(new),
    );
    assert_eq!(status, 201, "{body}");
    let under_town = json!({"id": "v5", "name": "新支部", "kind": "branch", "parent": "town"});
    let (status, body) = call(
        &rt,
        &client,
        Method::POST,
        server.url("/api/v1/orgs"),
        &county,
        Some(under_town),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("damaged-organisation"))
    );
    for _ in 0..3 {
        assert_eq!(get(&county, "/api/v1/orgs/v4").0, 200);
        assert_eq!(get(&county, "/api/v1/orgs/v1").0, 403);
    }
    assert_eq!(damage_logged(&server), 2, "{}", server.log_text());
}
