//! The catalogue over HTTP against the real server: browsing in the negotiated language, filters,
//! search, pages, revalidation and compression, editing and publishing, permissions, play, and
//! station sync (including a station that was offline for a week).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use support::TestApp;
use yuanjiao::domain::catalog::Audience;
use yuanjiao::domain::org::{Field, Member, Post, Principal};
use yuanjiao::people;
use yuanjiao::repo::Terminal;

// ---------------------------------------------------------------------------------------------
// Callers and requests

/// One HTTP answer, read whole.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Every value of a header, joined as one list.
    fn header(&self, name: &str) -> String {
        let values: Vec<&str> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        values.join(", ")
    }

    /// The error body's code, after checking it is an error with a reason.
    fn error_code(&self) -> String {
        let body = self.json();
        let message = body["message"].as_str().unwrap_or_default();
        assert!(!message.trim().is_empty(), "an error says why: {body}");
        body["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Requests made as one caller (or anonymously).
struct As<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
}

impl<'a> As<'a> {
    fn anyone(app: &'a TestApp) -> Self {
        As { app, token: None }
    }

    fn with(app: &'a TestApp, token: &'a str) -> Self {
        As {
            app,
            token: Some(token),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(token) = self.token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        Reply {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, None, headers).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
}

/// Tokens for the people who run the catalogue; a county with one branch for stations.
struct Staff {
    admin: String,
    editor: String,
    manager: String,
}

fn staff(app: &TestApp) -> Staff {
    let s = &app.services;
    support::county_and_branch(&app.services);
    let token = |p: Principal| people::issue_token(s, p, None, "test").unwrap();
    Staff {
        admin: token(Principal::Admin),
        editor: token(Principal::Editor),
        manager: token(Principal::Manager {
            org: "county".into(),
        }),
    }
}

fn langs(tags: &[&str]) -> Vec<yuanjiao::domain::lang::Lang> {
    tags.iter().map(|t| t.parse().unwrap()).collect()
}

/// A station of the branch; returns its token.
fn station(app: &TestApp, id: &str, languages: &[&str], audiences: &[Audience]) -> String {
    let terminal = Terminal {
        id: id.into(),
        name: format!("{id} 村站"),
        org: "branch".into(),
        languages: langs(languages),
        audiences: audiences.to_vec(),
        disabled: false,
    };
    people::create_terminal(&app.services, &terminal, "test").unwrap()
}

/// A member of the branch with these profile languages; returns a token for them.
fn member(app: &TestApp, id: &str, languages: &[&str]) -> String {
    let m = Member {
        id: id.into(),
        name: "卓玛".into(),
        org: "branch".into(),
        home_org: None,
        posts: vec![Post::Member],
        field: Field::Rural,
        joined: "2019-07-01".into(),
        languages: langs(languages),
    };
    people::create_member(&app.services, &m, "4821", "test").unwrap();
    let principal = Principal::Member { member: id.into() };
    people::issue_token(&app.services, principal, None, "test").unwrap()
}

// ---------------------------------------------------------------------------------------------
// Catalogue content

/// Stores media/party-basics and media/village-station through the real ingest (read in place:
/// ingest only reads the folder). Media jobs are queued, but no worker runs here.
fn ingest_samples(app: &TestApp) {
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("media");
    for slug in ["party-basics", "village-station"] {
        yuanjiao::ingest::ingest_course(
            &app.services,
            &media.join(slug),
            &mut yuanjiao::ingest::Quiet,
        )
        .unwrap();
    }
}

/// A text blob for one language of a lesson; returns its sha256.
fn text_blob(app: &TestApp, lesson: &str, lang: &str) -> String {
    let text = format!("# {lesson} ({lang})\n\n学习笔记 {lesson} {lang}。\n");
    app.add_blob(text.as_bytes(), &format!("{lesson}.{lang}.md"))
}

fn new_course(id: &str, title: &str, theme: &str, audience: &str) -> Value {
    json!({
        "id": id,
        "title": {"zh-Hans": title},
        "description": {"zh-Hans": format!("{title}的说明")},
        "themes": [theme],
        "audiences": [audience],
        "programs": ["rural-remote-education"],
    })
}

fn new_lesson(id: &str, kind: &str) -> Value {
    json!({"id": id, "kind": kind, "duration_ms": 60000, "title": {"zh-Hans": format!("第{id}课")}})
}

/// Adds a text lesson with a variant in each of `languages`; returns the variants' shas.
async fn text_lesson(
    editor: &As<'_>,
    course: &str,
    lesson: &str,
    languages: &[&str],
) -> BTreeMap<String, String> {
    let added = editor
        .post(
            &format!("/api/v1/courses/{course}/lessons"),
            new_lesson(lesson, "text"),
        )
        .await;
    assert_eq!(
        added.status,
        201,
        "{}",
        String::from_utf8_lossy(&added.body)
    );
    let mut shas = BTreeMap::new();
    for lang in languages {
        let sha = text_blob(editor.app, lesson, lang);
        let put = editor
            .put(
                &format!("/api/v1/lessons/{lesson}/variants/{lang}"),
                json!({ "sha256": sha }),
            )
            .await;
        assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
        shas.insert(lang.to_string(), sha);
    }
    shas
}

/// Creates and publishes a course of one text lesson (`{id}-1`) in these languages.
async fn published_course(
    editor: &As<'_>,
    id: &str,
    theme: &str,
    audience: &str,
    languages: &[&str],
) {
    let created = editor
        .post(
            "/api/v1/courses",
            new_course(id, &format!("课程{id}"), theme, audience),
        )
        .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    text_lesson(editor, id, &format!("{id}-1"), languages).await;
    let published = editor
        .post(&format!("/api/v1/courses/{id}/publish"), json!({}))
        .await;
    assert_eq!(
        published.status,
        200,
        "{}",
        String::from_utf8_lossy(&published.body)
    );
}

fn ids(list: &Value) -> Vec<String> {
    list["courses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn list_ids(app: &TestApp, query: &str) -> Vec<String> {
    let reply = As::anyone(app)
        .get(&format!("/api/v1/courses{query}"))
        .await;
    assert_eq!(
        reply.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    ids(&reply.json())
}

// ---------------------------------------------------------------------------------------------
// Browsing

#[tokio::test]
async fn the_sample_curriculum_is_browsed_in_the_language_each_client_asks_for() {
    let app = TestApp::spawn().await;
    ingest_samples(&app);
    let anyone = As::anyone(&app);

    let plain = anyone.get("/api/v1/courses").await;
    assert_eq!(plain.status, 200);
    let list = plain.json();
    assert_eq!(
        ids(&list),
        ["party-basics", "village-station"],
        "in id order"
    );
    assert_eq!(list["courses"][0]["title"], "党的基本知识");
    assert_eq!(list["courses"][0]["lessons"], 3);
    assert_eq!(list["next"], Value::Null);

    let tibetan = anyone
        .get_with("/api/v1/courses", &[("accept-language", "bo")])
        .await;
    assert_eq!(tibetan.status, 200);
    let list = tibetan.json();
    assert_eq!(list["courses"][0]["title"], "ཏང་གི་གཞི་རྩའི་ཤེས་བྱ།");
    assert_eq!(
        list["courses"][1]["title"],
        "གྲོང་ཚོའི་ས་ཚིགས་སུ་སློབ་སྦྱོང་དང་ལག་ལེན་ལག་རྩལ།"
    );
    for course in list["courses"].as_array().unwrap() {
        assert_eq!(course["lang"]["served"], "bo-Tibt", "{course}");
        assert_eq!(course["lang"]["requested"], "bo-Tibt");
        assert_eq!(course["lang"]["fallback"], false);
        assert_eq!(course["lang"]["dir"], "ltr");
    }
    assert!(tibetan.header("content-language").contains("bo-Tibt"));
    assert!(
        tibetan
            .header("vary")
            .to_ascii_lowercase()
            .contains("accept-language"),
        "vary: {}",
        tibetan.header("vary")
    );

    let mongolian = anyone
        .get_with("/api/v1/courses/party-basics", &[("accept-language", "mn")])
        .await;
    assert_eq!(mongolian.status, 200);
    let detail = mongolian.json();
    assert_eq!(detail["lang"]["served"], "mn-Mong");
    // Traditional Mongolian joins suffixes with a narrow no-break space (U+202F).
    assert_eq!(detail["title"], "ᠨᠠᠮ\u{202f}ᠤᠨ ᠦᠨᠳᠦᠰᠦᠨ ᠮᠡᠳᠡᠯᠭᠡ");
    let lessons = detail["lessons"].as_array().unwrap();
    let lesson_ids: Vec<&str> = lessons.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(
        lesson_ids,
        ["party-basics-01", "party-basics-02", "party-basics-03"]
    );
    assert_eq!(lessons[0]["lang"]["served"], "mn-Mong");
    assert_eq!(lessons[0]["lang"]["writing_mode"], "vertical-lr");
    assert_eq!(lessons[0]["lang"]["fallback"], false);
    assert_eq!(
        lessons[0]["title"],
        "ᠨᠠᠮ\u{202f}ᠤᠨ ᠭᠡᠰᠢᠭᠦᠳ\u{202f}ᠦᠨ ᠰᠤᠷᠭᠠᠯᠲᠠ\u{202f}ᠶᠢᠨ ᠣᠷᠣᠰᠢᠯ"
    );
    for lesson in &lessons[1..] {
        assert_eq!(lesson["lang"]["served"], "zh-Hans", "{lesson}");
        assert_eq!(lesson["lang"]["requested"], "mn-Mong");
        assert_eq!(lesson["lang"]["fallback"], true);
        assert_eq!(lesson["lang"]["writing_mode"], "horizontal-tb");
    }
    assert_eq!(lessons[1]["title"], "党的组织体系");
    let content_language = mongolian.header("content-language");
    assert!(
        content_language.contains("mn-Mong") && content_language.contains("zh-Hans"),
        "{content_language}"
    );

    let explicit = anyone
        .get_with(
            "/api/v1/courses/party-basics?lang=zh-Hans",
            &[("accept-language", "bo")],
        )
        .await;
    assert_eq!(explicit.status, 200);
    let detail = explicit.json();
    assert_eq!(
        detail["title"], "党的基本知识",
        "lang= wins over the header"
    );
    assert_eq!(detail["lang"]["served"], "zh-Hans");
    assert_eq!(detail["lang"]["fallback"], false);
    assert_eq!(explicit.header("content-language"), "zh-Hans");

    for path in [
        "/api/v1/courses?lang=xx",
        "/api/v1/courses/party-basics?lang=xx",
    ] {
        let unknown = anyone.get(path).await;
        assert_eq!(unknown.status, 400, "{path}");
        assert_eq!(unknown.error_code(), "unknown-language", "{path}");
    }

    // Weights decide, whatever the order.
    let weighted = anyone
        .get_with(
            "/api/v1/courses",
            &[("accept-language", "bo;q=0.5, ug-Arab, zh;q=0.1")],
        )
        .await;
    let list = weighted.json();
    assert_eq!(list["courses"][0]["lang"]["served"], "ug-Arab");
    assert_eq!(
        list["courses"][0]["description"].as_str().unwrap(),
        "پارتىيىنىڭ ئاساسىي قاتلام تەشكىلىي سىستېمىسى، تەشكىلىي تۇرمۇش ۋە پارتىيە ئەزالىرىنىڭ ھەر يىللىق ئۆگىنىش سائىتى تەلىپى تونۇشتۇرۇلىدۇ. يېزا ۋە مەھەللە پارتىيە ئەزالىرى ھەمدە يېڭى پارتىيە ئەزالىرى ئۈچۈن ماس كېلىدۇ. بۇ سىستېما بىلەن بىللە بېرىلگەن ئۈلگە دەرس، سىنلاردىكى كۆرۈنۈشلەر ھاسىل قىلىنغان سىناق كۆرۈنۈشلىرى.",
        "the description in the title's language"
    );

    // A lesson on its own lists every variant with its URL.
    let lesson = anyone
        .get_with(
            "/api/v1/lessons/party-basics-02",
            &[("accept-language", "mn")],
        )
        .await;
    assert_eq!(lesson.status, 200);
    let body = lesson.json();
    assert_eq!(body["course"], "party-basics");
    assert_eq!(body["lang"]["served"], "zh-Hans");
    assert_eq!(body["lang"]["fallback"], true);
    let variants = body["variants"].as_object().unwrap();
    assert_eq!(
        variants.keys().collect::<Vec<_>>(),
        ["bo-Tibt", "ug-Arab", "zh-Hans"]
    );
    for variant in variants.values() {
        let sha = variant["sha256"].as_str().unwrap();
        assert_eq!(variant["url"], format!("/media/{sha}"));
        assert_eq!(variant["mime"], "text/markdown; charset=utf-8");
    }
    assert_eq!(lesson.header("content-language"), "zh-Hans");
    assert_eq!(anyone.get("/api/v1/lessons/nothing").await.status, 404);

    let uyghur = anyone.get("/api/v1/courses?lang=ug").await;
    assert_eq!(uyghur.status, 200);
    let list = uyghur.json();
    assert_eq!(ids(&list), ["party-basics", "village-station"]);
    for course in list["courses"].as_array().unwrap() {
        assert_eq!(course["lang"]["served"], "ug-Arab", "{course}");
        assert_eq!(course["lang"]["dir"], "rtl");
    }
    assert_eq!(list["courses"][0]["title"], "پارتىيىنىڭ ئاساسىي بىلىملىرى");
}

#[tokio::test]
async fn filters_narrow_the_list_and_bad_queries_are_refused() {
    let app = TestApp::spawn().await;
    ingest_samples(&app);
    let both = ["party-basics", "village-station"];
    let cases: &[(&str, &[&str])] = &[
        ("", &both),
        ("?theme=constitution-discipline", &["party-basics"]),
        ("?theme=practical-skills", &["village-station"]),
        ("?theme=policy-affairs", &[]),
        ("?audience=rural", &both),
        ("?audience=community", &["party-basics"]),
        ("?audience=student", &[]),
        ("?program=new-member", &["party-basics"]),
        ("?program=employment-skills", &["village-station"]),
        ("?program=border-bilingual", &both),
        ("?lang=mn-Mong", &["party-basics"]),
        ("?lang=mn", &["party-basics"]),
        ("?lang=bo-Tibt", &both),
        ("?lang=ko-Kore", &[]),
        (
            "?theme=practical-skills&audience=rural&lang=bo",
            &["village-station"],
        ),
        ("?theme=practical-skills&audience=community", &[]),
    ];
    for (query, want) in cases {
        assert_eq!(list_ids(&app, query).await, *want, "{query}");
    }
    let anyone = As::anyone(&app);
    for query in [
        "?theme=astronomy",
        "?audience=everyone",
        "?program=none",
        "?colour=red",
        "?limit=0",
        "?limit=1000",
        "?limit=many",
    ] {
        let refused = anyone.get(&format!("/api/v1/courses{query}")).await;
        assert_eq!(refused.status, 400, "{query}");
        assert_eq!(refused.error_code(), "bad-query", "{query}");
    }
}

/// `lang=` with no value is no choice on every catalogue endpoint, the list's language filter
/// included, so a form with an "any language" option can send it.
#[tokio::test]
async fn an_empty_lang_means_any_language_on_the_list_as_everywhere_else() {
    let app = TestApp::spawn().await;
    ingest_samples(&app);
    let anyone = As::anyone(&app);
    let detail = anyone.get("/api/v1/courses/party-basics?lang=").await;
    assert_eq!(detail.status, 200, "the detail ignores an empty lang=");
    let list = anyone
        .get("/api/v1/courses?lang=&theme=practical-skills")
        .await;
    assert_eq!(list.status, 200, "{}", String::from_utf8_lossy(&list.body));
    assert_eq!(ids(&list.json()), ["village-station"]);
}

#[tokio::test]
async fn search_finds_words_inside_titles_in_any_script() {
    let app = TestApp::spawn().await;
    ingest_samples(&app);
    let cases: &[(&str, &[&str])] = &[
        // 党的基本知识: a word from the middle of a Chinese title.
        ("基本", &["party-basics"]),
        // 在村级站点学习与实用技能
        ("站点", &["village-station"]),
        // ཏང་གི་གཞི་རྩའི་ཤེས་བྱ།: a syllable from the middle of a Tibetan title.
        ("ཤེས", &["party-basics"]),
        // གྲོང་ཚོའི་ས་ཚིགས་སུ་…
        ("ཚིགས", &["village-station"]),
        // A lesson title: 实用技术：大棚蔬菜种植入门
        ("大棚", &["village-station"]),
        // Uyghur, from the middle of پارتىيىنىڭ ئاساسىي بىلىملىرى
        ("ئاساسىي", &["party-basics"]),
        ("火星探测", &[]),
    ];
    for (q, want) in cases {
        let query = serde_urlencoded::to_string([("q", q)]).unwrap();
        assert_eq!(list_ids(&app, &format!("?{query}")).await, *want, "q={q}");
    }
    let too_long = "学".repeat(101);
    let refused = As::anyone(&app)
        .get(&format!("/api/v1/courses?q={too_long}"))
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error_code(), "bad-query");
}

#[tokio::test]
async fn pages_follow_next_through_every_course_once_in_id_order_keeping_the_filters() {
    let app = TestApp::spawn().await;
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    // Created out of order; c-02 and c-06 have another theme.
    for n in [5, 2, 9, 1, 7, 4, 6, 3, 8] {
        let theme = if n == 2 || n == 6 {
            "ideals-theory"
        } else {
            "policy-affairs"
        };
        published_course(&editor, &format!("c-0{n}"), theme, "rural", &["zh-Hans"]).await;
    }
    let walk = |first: String| {
        let app = &app;
        async move {
            let mut seen = Vec::new();
            let mut pages = Vec::new();
            let mut next = Some(first);
            while let Some(path) = next {
                let page = As::anyone(app).get(&path).await;
                assert_eq!(page.status, 200, "{path}");
                let body = page.json();
                let got = ids(&body);
                assert!(got.len() <= 3, "{path}: {got:?}");
                seen.extend(got);
                next = body["next"].as_str().map(str::to_string);
                pages.push(path);
                assert!(pages.len() <= 10, "next never ends: {pages:?}");
            }
            (seen, pages)
        }
    };

    let (seen, pages) = walk("/api/v1/courses?limit=3".into()).await;
    let all: Vec<String> = (1..=9).map(|n| format!("c-0{n}")).collect();
    assert_eq!(seen, all, "every course once, in id order");
    assert_eq!(pages.len(), 3, "nine courses in pages of three: {pages:?}");

    let (seen, pages) = walk("/api/v1/courses?theme=policy-affairs&limit=3".into()).await;
    assert_eq!(
        seen,
        ["c-01", "c-03", "c-04", "c-05", "c-07", "c-08", "c-09"]
    );
    assert_eq!(pages.len(), 3, "{pages:?}");
    for path in &pages[1..] {
        assert!(
            path.contains("theme=policy-affairs") && path.contains("limit=3"),
            "next keeps the filters: {path}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Revalidation and compression

#[tokio::test]
async fn lists_revalidate_with_etags_and_only_json_is_compressed() {
    let app = TestApp::spawn().await;
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    let anyone = As::anyone(&app);
    published_course(
        &editor,
        "etag-course",
        "policy-affairs",
        "rural",
        &["zh-Hans"],
    )
    .await;

    let first = anyone.get("/api/v1/courses").await;
    assert_eq!(first.status, 200);
    let etag = first.header("etag");
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(first.header("cache-control"), "public, no-cache");
    let again = anyone
        .get_with("/api/v1/courses", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty(), "a 304 has no body");
    assert_eq!(again.header("etag"), etag);
    // The same, asking for gzip: still no body and no encoding, and the connection stays usable.
    let again_gzip = anyone
        .get_with(
            "/api/v1/courses",
            &[("if-none-match", &etag), ("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(again_gzip.status, 304);
    assert!(again_gzip.body.is_empty());
    assert_eq!(anyone.get("/api/v1/courses").await.status, 200);

    let patched = editor
        .patch(
            "/api/v1/courses/etag-course",
            json!({"title": {"zh-Hans": "新的标题"}}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(
        anyone
            .get_with("/api/v1/courses", &[("if-none-match", &etag)])
            .await
            .status,
        304,
        "a draft changes nothing the public sees"
    );
    let published = editor
        .post("/api/v1/courses/etag-course/publish", json!({}))
        .await;
    assert_eq!(published.status, 200);
    let changed = anyone
        .get_with("/api/v1/courses", &[("if-none-match", &etag)])
        .await;
    assert_eq!(changed.status, 200, "the list changed");
    assert_ne!(changed.header("etag"), etag);
    assert_eq!(changed.json()["courses"][0]["title"], "新的标题");

    let plain = anyone.get("/api/v1/courses").await;
    let gzipped = anyone
        .get_with("/api/v1/courses", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(gzipped.status, 200);
    assert_eq!(gzipped.header("content-encoding"), "gzip");
    assert!(
        gzipped.body.starts_with(&[0x1f, 0x8b]),
        "the body is gzip, not JSON"
    );
    assert_ne!(gzipped.body, plain.body);
    assert!(gzipped
        .header("vary")
        .to_ascii_lowercase()
        .contains("accept-encoding"));

    let sha = text_blob(&app, "etag-course-1", "zh-Hans");
    let media = anyone
        .get_with(&format!("/media/{sha}"), &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(media.status, 200);
    assert_eq!(
        media.header("content-encoding"),
        "",
        "media is never compressed"
    );
    assert_eq!(support::sha256_hex(&media.body), sha);
}

// ---------------------------------------------------------------------------------------------
// Editing

#[tokio::test]
async fn an_editor_drafts_publishes_revises_reorders_and_retires_a_course() {
    let app = TestApp::spawn().await;
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    let anyone = As::anyone(&app);
    let player = station(&app, "st-1", &["zh-Hans"], &[]);
    let player = As::with(&app, &player);

    let created = editor
        .post(
            "/api/v1/courses",
            new_course("rules", "党章学习", "constitution-discipline", "rural"),
        )
        .await;
    assert_eq!(created.status, 201);
    let draft = created.json();
    assert_eq!(
        (draft["state"].as_str(), draft["version"].as_u64()),
        (Some("draft"), Some(1))
    );
    assert!(list_ids(&app, "").await.is_empty(), "a draft is not listed");
    assert_eq!(anyone.get("/api/v1/courses/rules").await.status, 404);

    let lesson = editor
        .post(
            "/api/v1/courses/rules/lessons",
            new_lesson("rules-a", "text"),
        )
        .await;
    assert_eq!(lesson.status, 201);
    assert_eq!(lesson.json()["lessons"][0]["id"], "rules-a");
    let sha = text_blob(&app, "rules-a", "zh-Hans");
    let variant = editor
        .put(
            "/api/v1/lessons/rules-a/variants/zh-Hans",
            json!({ "sha256": sha }),
        )
        .await;
    assert_eq!(variant.status, 200);
    let held = &variant.json()["lessons"][0]["variants"]["zh-Hans"];
    assert_eq!(held["sha256"], sha.as_str());
    assert_eq!(held["mime"], "text/markdown; charset=utf-8");

    let published = editor
        .post("/api/v1/courses/rules/publish", json!({}))
        .await;
    assert_eq!(published.status, 200);
    let v1 = published.json();
    assert_eq!(
        (v1["state"].as_str(), v1["version"].as_u64()),
        (Some("published"), Some(1))
    );
    assert_eq!(list_ids(&app, "").await, ["rules"]);

    // A new draft leaves the published version as it was.
    let patched = editor
        .patch(
            "/api/v1/courses/rules",
            json!({"title": {"zh-Hans": "党章党规学习"}}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.json()["version"], 2);
    let public = anyone.get("/api/v1/courses/rules").await.json();
    assert_eq!(
        (public["version"].as_u64(), public["title"].as_str()),
        (Some(1), Some("党章学习"))
    );
    let draft = editor.get("/api/v1/courses/rules/draft").await;
    assert_eq!(draft.status, 200);
    let draft = draft.json();
    assert_eq!(
        (draft["version"].as_u64(), draft["state"].as_str()),
        (Some(2), Some("draft"))
    );
    assert_eq!(draft["title"]["zh-Hans"], "党章党规学习");
    let v2 = editor
        .post("/api/v1/courses/rules/publish", json!({}))
        .await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.json()["version"], 2);
    let public = anyone.get("/api/v1/courses/rules").await.json();
    assert_eq!(
        (public["version"].as_u64(), public["title"].as_str()),
        (Some(2), Some("党章党规学习"))
    );

    // A second lesson, then the two swapped.
    text_lesson(&editor, "rules", "rules-b", &["zh-Hans"]).await;
    let reordered = editor
        .patch(
            "/api/v1/courses/rules",
            json!({"lessons": ["rules-b", "rules-a"]}),
        )
        .await;
    assert_eq!(reordered.status, 200);
    let order: Vec<Value> = reordered.json()["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].clone())
        .collect();
    assert_eq!(order, ["rules-b", "rules-a"]);
    let v3 = editor
        .post("/api/v1/courses/rules/publish", json!({}))
        .await;
    assert_eq!(v3.json()["version"], 3);
    let public = anyone.get("/api/v1/courses/rules").await.json();
    assert_eq!(public["lessons"][0]["id"], "rules-b");
    assert_eq!(public["lessons"][1]["id"], "rules-a");
    assert_eq!(player.get("/api/v1/lessons/rules-a/play").await.status, 200);

    let retired = editor.post("/api/v1/courses/rules/retire", json!({})).await;
    assert_eq!(retired.status, 200);
    assert_eq!(retired.json()["state"], "retired");
    assert!(
        list_ids(&app, "").await.is_empty(),
        "a retired course is not listed"
    );
    let detail = anyone.get("/api/v1/courses/rules").await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json()["state"], "retired");
    let play = player.get("/api/v1/lessons/rules-a/play").await;
    assert_eq!(play.status, 410);
    assert_eq!(play.error_code(), "retired");
    let again = editor.post("/api/v1/courses/rules/retire", json!({})).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error_code(), "not-published");

    // Publishing a retired course brings it back as a new version.
    let back = editor
        .post("/api/v1/courses/rules/publish", json!({}))
        .await;
    assert_eq!(back.status, 200);
    let back = back.json();
    assert_eq!(
        (back["state"].as_str(), back["version"].as_u64()),
        (Some("published"), Some(4))
    );
    assert_eq!(list_ids(&app, "").await, ["rules"]);
    assert_eq!(player.get("/api/v1/lessons/rules-a/play").await.status, 200);

    // An edit undone leaves nothing to publish.
    let changed = editor
        .patch(
            "/api/v1/courses/rules",
            json!({"title": {"zh-Hans": "暂时的标题"}}),
        )
        .await;
    assert_eq!(changed.json()["state"], "draft");
    let undone = editor
        .patch(
            "/api/v1/courses/rules",
            json!({"title": {"zh-Hans": "党章党规学习"}}),
        )
        .await;
    assert_eq!(undone.status, 200);
    let undone = undone.json();
    assert_eq!(
        (undone["state"].as_str(), undone["version"].as_u64()),
        (Some("published"), Some(4))
    );
    let nothing = editor
        .post("/api/v1/courses/rules/publish", json!({}))
        .await;
    assert_eq!(nothing.status, 409);
    assert_eq!(nothing.error_code(), "nothing-to-publish");
}

#[tokio::test]
async fn every_bad_edit_is_refused_with_its_reason_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    // "live": published, a video lesson (no variant yet) and a text lesson; nothing unpublished.
    published_course(&editor, "live", "policy-affairs", "rural", &["zh-Hans"]).await;
    let video = editor
        .post(
            "/api/v1/courses/live/lessons",
            new_lesson("live-video", "video"),
        )
        .await;
    assert_eq!(video.status, 201);
    // "other": a draft holding lesson other-1, which has only a Tibetan variant.
    let other = editor
        .post(
            "/api/v1/courses",
            new_course("other", "其他课程", "policy-affairs", "rural"),
        )
        .await;
    assert_eq!(other.status, 201);
    text_lesson(&editor, "other", "other-1", &["bo-Tibt"]).await;
    // "empty": a draft without lessons.
    let empty = editor
        .post(
            "/api/v1/courses",
            new_course("empty", "空课程", "policy-affairs", "rural"),
        )
        .await;
    assert_eq!(empty.status, 201);
    // "settled": published with no draft.
    published_course(&editor, "settled", "policy-affairs", "rural", &["zh-Hans"]).await;

    let text_sha = text_blob(&app, "stray", "zh-Hans");
    let missing_sha = "ab".repeat(32);
    // Stored, but never probed: not known to play.
    let unprobed_sha = app.add_blob(&support::bytes(4096, 7), "unprobed.mp4");
    let cases: Vec<(&str, Method, String, Value, u16, &str)> = vec![
        (
            "live",
            Method::PATCH,
            "/api/v1/courses/live".into(),
            json!({"title": {"xx-Zzzz": "标题"}}),
            400,
            "bad-json",
        ),
        (
            "live",
            Method::PUT,
            "/api/v1/lessons/live-video/variants/zh-Hans".into(),
            json!({ "sha256": text_sha }),
            422,
            "kind-mismatch",
        ),
        (
            "live",
            Method::PUT,
            "/api/v1/lessons/live-1/variants/bo-Tibt".into(),
            json!({ "sha256": missing_sha }),
            422,
            "unknown-blob",
        ),
        (
            "live",
            Method::PUT,
            "/api/v1/lessons/live-1/variants/bo-Tibt".into(),
            json!({ "sha256": "not-a-sha" }),
            422,
            "unknown-blob",
        ),
        (
            "live",
            Method::PUT,
            "/api/v1/lessons/live-video/variants/zh-Hans".into(),
            json!({ "sha256": unprobed_sha }),
            422,
            "unplayable",
        ),
        (
            "live",
            Method::PATCH,
            "/api/v1/lessons/live-1".into(),
            json!({"kind": "video"}),
            422,
            "kind-mismatch",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses/ghost/lessons".into(),
            new_lesson("ghost-1", "text"),
            404,
            "not-found",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses/ghost/publish".into(),
            json!({}),
            404,
            "not-found",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses".into(),
            new_course("Bad Id", "坏编号", "policy-affairs", "rural"),
            422,
            "bad-identifier",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses".into(),
            json!({"id": "untagged", "title": {"zh-Hans": "无标签"}, "themes": [], "audiences": ["rural"]}),
            422,
            "untagged",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses".into(),
            json!({"id": "no-chinese", "title": {"bo-Tibt": "བོད་ཡིག"}, "themes": ["policy-affairs"], "audiences": ["rural"]}),
            422,
            "missing-chinese-title",
        ),
        (
            "live",
            Method::DELETE,
            "/api/v1/lessons/live-1/variants/bo-Tibt".into(),
            Value::Null,
            422,
            "no-such-variant",
        ),
        (
            "live",
            Method::PATCH,
            "/api/v1/lessons/no-such-lesson".into(),
            json!({"duration_ms": 1000}),
            404,
            "not-found",
        ),
        (
            "live",
            Method::PUT,
            "/api/v1/lessons/no-such-lesson/variants/zh-Hans".into(),
            json!({ "sha256": text_sha }),
            404,
            "not-found",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses/live/lessons".into(),
            new_lesson("other-1", "text"),
            422,
            "lesson-taken",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses/live/lessons".into(),
            new_lesson("live-1", "text"),
            422,
            "lesson-taken",
        ),
        (
            "live",
            Method::PATCH,
            "/api/v1/courses/live".into(),
            json!({"lessons": ["live-1"]}),
            422,
            "bad-order",
        ),
        (
            "live",
            Method::PATCH,
            "/api/v1/courses/live".into(),
            json!({"lessons": ["live-1", "live-video", "other-1"]}),
            422,
            "bad-order",
        ),
        (
            "live",
            Method::PATCH,
            "/api/v1/lessons/live-1".into(),
            json!({"duration_ms": 0}),
            422,
            "bad-duration",
        ),
        (
            "live",
            Method::PATCH,
            "/api/v1/courses/live".into(),
            json!({"title": {"zh-Hans": null}}),
            422,
            "missing-chinese-title",
        ),
        (
            "live",
            Method::POST,
            "/api/v1/courses/live/publish".into(),
            json!({}),
            422,
            "no-chinese-variant",
        ),
        (
            "empty",
            Method::POST,
            "/api/v1/courses/empty/publish".into(),
            json!({}),
            422,
            "no-playable-lesson",
        ),
        (
            "other",
            Method::POST,
            "/api/v1/courses/other/publish".into(),
            json!({}),
            422,
            "no-chinese-variant",
        ),
        (
            "settled",
            Method::POST,
            "/api/v1/courses/settled/publish".into(),
            json!({}),
            409,
            "nothing-to-publish",
        ),
        (
            "settled",
            Method::POST,
            "/api/v1/courses".into(),
            new_course("settled", "重复", "policy-affairs", "rural"),
            409,
            "exists",
        ),
        (
            "settled",
            Method::PUT,
            "/api/v1/lessons/settled-1/variants/xx".into(),
            json!({ "sha256": text_sha }),
            400,
            "unknown-language",
        ),
        (
            "settled",
            Method::PATCH,
            "/api/v1/courses/settled".into(),
            json!({"themes": ["astronomy"]}),
            400,
            "bad-json",
        ),
    ];
    for (course, method, path, body, status, code) in cases {
        let draft = format!("/api/v1/courses/{course}/draft");
        let public = format!("/api/v1/courses/{course}");
        let before = editor.get(&draft).await;
        let public_before = editor.get(&public).await;
        assert_eq!(before.status, 200);
        let sent = (!body.is_null()).then(|| body.clone());
        let reply = editor.send(method.clone(), &path, sent, &[]).await;
        let what = format!("{method} {path} {body}");
        assert_eq!(
            reply.status,
            status,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.error_code(), code, "{what}");
        let after = editor.get(&draft).await;
        assert_eq!(
            String::from_utf8_lossy(&after.body),
            String::from_utf8_lossy(&before.body),
            "{what} changed the draft"
        );
        let public_after = editor.get(&public).await;
        assert_eq!(
            (public_after.status, public_after.body),
            (public_before.status, public_before.body),
            "{what} changed the published course"
        );
    }
    for refused in ["ghost", "untagged", "no-chinese"] {
        let draft = editor
            .get(&format!("/api/v1/courses/{refused}/draft"))
            .await;
        assert_eq!(draft.status, 404, "{refused} was not created");
    }
    let lessons: Vec<Value> = editor.get("/api/v1/courses/live/draft").await.json()["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].clone())
        .collect();
    assert_eq!(lessons, ["live-1", "live-video"]);
}

// ---------------------------------------------------------------------------------------------
// Permissions and play

#[tokio::test]
async fn only_editors_edit_and_only_members_and_stations_play_and_only_stations_sync() {
    let app = TestApp::spawn().await;
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    published_course(&editor, "open", "policy-affairs", "rural", &["zh-Hans"]).await;
    let terminal = station(&app, "st-1", &["bo-Tibt"], &[]);
    let member_token = member(&app, "M1", &["bo-Tibt"]);
    let (member, manager) = (
        As::with(&app, &member_token),
        As::with(&app, &staff.manager),
    );
    let (terminal, anyone) = (As::with(&app, &terminal), As::anyone(&app));
    let body = new_course("sneaky", "不该有的课", "policy-affairs", "rural");

    for (who, caller, want) in [
        ("anyone", &anyone, 401),
        ("member", &member, 403),
        ("manager", &manager, 403),
        ("terminal", &terminal, 403),
    ] {
        let created = caller.post("/api/v1/courses", body.clone()).await;
        assert_eq!(created.status, want, "{who} creating a course");
    }
    for (who, caller) in [("member", &member), ("manager", &manager)] {
        let publish = caller.post("/api/v1/courses/open/publish", json!({})).await;
        assert_eq!(publish.status, 403, "{who} publishing");
        let draft = caller.get("/api/v1/courses/open/draft").await;
        assert_eq!(draft.status, 403, "{who} reading a draft");
    }
    assert_eq!(
        anyone.get("/api/v1/courses/sneaky").await.status,
        404,
        "nothing was created"
    );

    let play = "/api/v1/lessons/open-1/play";
    let sync = "/api/v1/sync/changes?since=0";
    let table: [(&str, &As<'_>, u16, u16); 5] = [
        ("anyone", &anyone, 401, 401),
        ("editor", &editor, 403, 403),
        ("manager", &manager, 403, 403),
        ("member", &member, 200, 403),
        ("terminal", &terminal, 200, 200),
    ];
    for (who, caller, play_status, sync_status) in table {
        assert_eq!(caller.get(play).await.status, play_status, "{who} playing");
        assert_eq!(caller.get(sync).await.status, sync_status, "{who} syncing");
    }
    let admin = As::with(&app, &staff.admin);
    let as_station = admin.get("/api/v1/sync/changes?since=0&station=st-1").await;
    assert_eq!(as_station.status, 200, "an admin syncs as a named station");
    assert_eq!(as_station.json()["changes"][0]["action"], "put");
    let unnamed = admin.get("/api/v1/sync/changes?since=0").await;
    assert_eq!(unnamed.status, 400);
    assert_eq!(unnamed.error_code(), "bad-query");
    // A station is who its token says, whatever station it names.
    let school = station(&app, "st-school", &["zh-Hans"], &[Audience::Student]);
    let school = As::with(&app, &school);
    for path in [
        "/api/v1/sync/changes?since=0",
        "/api/v1/sync/changes?since=0&station=st-1",
    ] {
        let own = school.get(path).await;
        assert_eq!(own.status, 200, "{path}");
        let body = own.json();
        let changes = body["changes"].as_array().unwrap();
        assert!(
            changes.iter().all(|c| c["action"] != "put"),
            "{path}: the course is not for students: {body}"
        );
        assert_eq!(body["blobs"], json!([]), "{path}");
    }
}

#[tokio::test]
async fn play_serves_the_profile_language_or_the_asked_one_with_fallback_to_chinese() {
    let app = TestApp::spawn().await;
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    let created = editor
        .post(
            "/api/v1/courses",
            new_course("study", "学习课程", "policy-affairs", "rural"),
        )
        .await;
    assert_eq!(created.status, 201);
    let shas = text_lesson(&editor, "study", "study-1", &["zh-Hans", "bo-Tibt"]).await;
    let titled = editor
        .patch(
            "/api/v1/lessons/study-1",
            json!({"title": {"bo-Tibt": "སློབ་སྦྱོང་།"}, "duration_ms": 90000}),
        )
        .await;
    assert_eq!(titled.status, 200);
    assert_eq!(
        editor
            .post("/api/v1/courses/study/publish", json!({}))
            .await
            .status,
        200
    );
    let token = member(&app, "M1", &["bo-Tibt"]);
    let member = As::with(&app, &token);

    let tibetan = member.get("/api/v1/lessons/study-1/play").await;
    assert_eq!(tibetan.status, 200);
    let body = tibetan.json();
    assert_eq!(
        body["lang"]["served"], "bo-Tibt",
        "from the member's profile"
    );
    assert_eq!(body["lang"]["fallback"], false);
    assert_eq!(body["sha256"], shas["bo-Tibt"].as_str());
    // A member's URL carries the play's session, so that the fetch is the play's evidence.
    let session = body["play_session"].as_str().unwrap();
    assert_eq!(
        body["url"],
        format!("/media/{}?ps={session}", shas["bo-Tibt"])
    );
    assert_eq!(body["duration_ms"], 90000);
    assert_eq!(body["title"], "སློབ་སྦྱོང་།");
    assert_eq!(body["course"], "study");
    assert_eq!(tibetan.header("content-language"), "bo-Tibt");
    assert!(tibetan.header("cache-control").starts_with("private"));
    let media = As::anyone(&app).get(body["url"].as_str().unwrap()).await;
    assert_eq!(support::sha256_hex(&media.body), shas["bo-Tibt"]);

    let fallback = member
        .get("/api/v1/lessons/study-1/play?lang=mn-Mong")
        .await;
    assert_eq!(fallback.status, 200);
    let body = fallback.json();
    assert_eq!(body["lang"]["served"], "zh-Hans");
    assert_eq!(body["lang"]["requested"], "mn-Mong");
    assert_eq!(body["lang"]["fallback"], true);
    let url = body["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("/media/{}?ps=", shas["zh-Hans"])),
        "{url}"
    );
    assert_eq!(body["duration_ms"], 90000);
    assert_eq!(fallback.header("content-language"), "zh-Hans");

    let header = member
        .get_with(
            "/api/v1/lessons/study-1/play",
            &[("accept-language", "zh-CN")],
        )
        .await;
    assert_eq!(
        header.json()["lang"]["served"],
        "zh-Hans",
        "a header beats the profile"
    );

    let unknown = member.get("/api/v1/lessons/nothing/play").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_code(), "not-found");
    // A lesson only in a draft is not there to play.
    text_lesson(&editor, "study", "study-2", &["zh-Hans"]).await;
    let draft_only = member.get("/api/v1/lessons/study-2/play").await;
    assert_eq!(draft_only.status, 404);
}

// ---------------------------------------------------------------------------------------------
// Station sync

/// What a station holds: course id → course, as the sync `put` it.
type Holding = BTreeMap<String, Value>;

struct Synced {
    seq: u64,
    etag: String,
    changes: Vec<Value>,
    blobs: BTreeMap<String, Value>,
}

/// Syncs from `since`, following `next` through pages of `limit`.
async fn sync(station: &As<'_>, since: u64, limit: usize) -> Synced {
    let mut path = Some(format!("/api/v1/sync/changes?since={since}&limit={limit}"));
    let mut out = Synced {
        seq: since,
        etag: String::new(),
        changes: Vec::new(),
        blobs: BTreeMap::new(),
    };
    let mut pages = 0;
    while let Some(p) = path {
        let page = station.get(&p).await;
        assert_eq!(
            page.status,
            200,
            "{p}: {}",
            String::from_utf8_lossy(&page.body)
        );
        assert_eq!(page.header("cache-control"), "private, no-cache");
        let body = page.json();
        let changes = body["changes"].as_array().unwrap();
        assert!(changes.len() <= limit, "{p}");
        let seq = body["seq"].as_u64().unwrap();
        assert!(
            seq >= out.seq,
            "{p}: seq went back from {} to {seq}",
            out.seq
        );
        for change in changes {
            assert!(change["seq"].as_u64().unwrap() <= seq, "{change}");
        }
        out.seq = seq;
        out.etag = page.header("etag");
        out.changes.extend(changes.iter().cloned());
        for blob in body["blobs"].as_array().unwrap() {
            out.blobs
                .insert(blob["sha256"].as_str().unwrap().to_string(), blob.clone());
        }
        path = body["next"].as_str().map(str::to_string);
        pages += 1;
        assert!(pages <= 50, "next never ends");
    }
    out
}

fn apply(holding: &mut Holding, changes: &[Value]) {
    for change in changes {
        match change["action"].as_str() {
            Some("put") => {
                let course = change["course"].clone();
                holding.insert(course["id"].as_str().unwrap().to_string(), course);
            }
            Some("delete") => {
                holding.remove(change["id"].as_str().unwrap());
            }
            other => panic!("unknown action {other:?} in {change}"),
        }
    }
}

fn variants(course: &Value) -> Vec<(String, Value)> {
    course["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["variants"].as_object().unwrap().clone())
        .collect()
}

/// Every variant of every held course is in `blobs`, described as the course describes it.
fn assert_blobs_cover(holding: &Holding, blobs: &BTreeMap<String, Value>) {
    for (id, course) in holding {
        for (lang, variant) in variants(course) {
            let sha = variant["sha256"].as_str().unwrap();
            let blob = blobs
                .get(sha)
                .unwrap_or_else(|| panic!("{id} {lang}: blob {sha} is not listed"));
            assert_eq!(blob["size"], variant["size"], "{id} {lang}");
            assert_eq!(blob["mime"], variant["mime"], "{id} {lang}");
            assert_eq!(blob["url"], format!("/media/{sha}"), "{id} {lang}");
        }
    }
}

#[tokio::test]
async fn a_station_syncs_its_languages_and_catches_up_after_a_week_offline() {
    let app = TestApp::spawn().await;
    ingest_samples(&app);
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    let tibetan_token = station(&app, "st-bo", &["bo-Tibt"], &[]);
    let tibetan = As::with(&app, &tibetan_token);

    // A full sync, a page of one change at a time.
    let full = sync(&tibetan, 0, 1).await;
    let puts: Vec<&str> = full
        .changes
        .iter()
        .map(|c| {
            assert_eq!(c["action"], "put", "{c}");
            c["course"]["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        puts.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from(["party-basics", "village-station"])
    );
    assert_eq!(puts.len(), 2, "each course once");
    let mut holding = Holding::new();
    apply(&mut holding, &full.changes);
    for course in holding.values() {
        assert_eq!(course["state"], "published");
        assert_eq!(
            course["lessons"].as_array().unwrap().len(),
            3,
            "{}",
            course["id"]
        );
        for lesson in course["lessons"].as_array().unwrap() {
            let held: Vec<&String> = lesson["variants"].as_object().unwrap().keys().collect();
            assert_eq!(held, ["bo-Tibt", "zh-Hans"], "{}", lesson["id"]);
        }
    }
    assert_blobs_cover(&holding, &full.blobs);
    assert_eq!(full.blobs.len(), 12, "two languages of six lessons");
    let party = &holding["party-basics"];
    assert_eq!(party["title"]["bo-Tibt"], "ཏང་གི་གཞི་རྩའི་ཤེས་བྱ།");

    // Nothing new: no changes, and 304 for the same answer.
    let quiet = tibetan
        .get(&format!("/api/v1/sync/changes?since={}", full.seq))
        .await;
    assert_eq!(quiet.status, 200);
    let body = quiet.json();
    assert_eq!(body["changes"], json!([]));
    assert_eq!(body["blobs"], json!([]));
    assert_eq!(body["seq"], full.seq);
    assert_eq!(body["next"], Value::Null);
    let etag = quiet.header("etag");
    let unchanged = tibetan
        .get_with(
            &format!("/api/v1/sync/changes?since={}", full.seq),
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(unchanged.status, 304);
    assert!(unchanged.body.is_empty());

    // The station goes offline at S; meanwhile a course is revised, one retired, one added.
    let offline_at = full.seq;
    let revised = editor
        .patch(
            "/api/v1/courses/party-basics",
            json!({"title": {"bo-Tibt": "ཏང་གི་གཞི་རྩའི་ཤེས་བྱ། (པར་གཞི་གཉིས་པ།)"}}),
        )
        .await;
    assert_eq!(revised.status, 200);
    let republished = editor
        .post("/api/v1/courses/party-basics/publish", json!({}))
        .await;
    assert_eq!(republished.status, 200);
    assert_eq!(republished.json()["version"], 2);
    assert_eq!(
        editor
            .post("/api/v1/courses/village-station/retire", json!({}))
            .await
            .status,
        200
    );
    let created = editor
        .post(
            "/api/v1/courses",
            new_course("new-course", "新课程", "policy-affairs", "rural"),
        )
        .await;
    assert_eq!(created.status, 201);
    text_lesson(
        &editor,
        "new-course",
        "new-course-1",
        &["zh-Hans", "bo-Tibt", "ug-Arab"],
    )
    .await;
    text_lesson(&editor, "new-course", "new-course-2", &["zh-Hans"]).await;
    assert_eq!(
        editor
            .post("/api/v1/courses/new-course/publish", json!({}))
            .await
            .status,
        200
    );

    let caught_up = sync(&tibetan, offline_at, 2).await;
    assert!(caught_up.seq > offline_at);
    apply(&mut holding, &caught_up.changes);
    let fresh = sync(&tibetan, 0, 1).await;
    let mut fresh_holding = Holding::new();
    apply(&mut fresh_holding, &fresh.changes);
    assert_eq!(caught_up.seq, fresh.seq);
    assert_eq!(
        holding, fresh_holding,
        "one sync from S gives what a fresh sync gives"
    );
    assert_eq!(
        holding.keys().collect::<Vec<_>>(),
        ["new-course", "party-basics"]
    );
    assert_eq!(holding["party-basics"]["version"], 2);
    assert_eq!(
        holding["party-basics"]["title"]["bo-Tibt"],
        "ཏང་གི་གཞི་རྩའི་ཤེས་བྱ། (པར་གཞི་གཉིས་པ།)"
    );
    let new_course = &holding["new-course"];
    let first: Vec<&String> = new_course["lessons"][0]["variants"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        first,
        ["bo-Tibt", "zh-Hans"],
        "no Uyghur at a Tibetan station"
    );
    assert!(caught_up
        .changes
        .iter()
        .any(|c| c["action"] == "delete" && c["id"] == "village-station"));
    let mut all_blobs = full.blobs.clone();
    all_blobs.extend(caught_up.blobs.clone());
    assert_blobs_cover(&holding, &all_blobs);
    assert_blobs_cover(&fresh_holding, &fresh.blobs);

    // A station cannot be ahead of the server.
    let ahead = tibetan
        .get(&format!("/api/v1/sync/changes?since={}", fresh.seq + 1))
        .await;
    assert_eq!(ahead.status, 409);
    assert_eq!(ahead.error_code(), "resync");
}

#[tokio::test]
async fn a_station_holds_only_courses_for_its_audiences() {
    let app = TestApp::spawn().await;
    ingest_samples(&app);
    let staff = staff(&app);
    let editor = As::with(&app, &staff.editor);
    let school_token = station(&app, "st-school", &["ug-Arab"], &[Audience::Student]);
    let school = As::with(&app, &school_token);

    let first = sync(&school, 0, 10).await;
    let mut holding = Holding::new();
    apply(&mut holding, &first.changes);
    assert!(holding.is_empty(), "no sample course is for students");
    assert!(
        first.changes.iter().all(|c| c["action"] != "put"),
        "a delete, or nothing, for courses not for students"
    );
    assert!(first.blobs.is_empty());

    published_course(
        &editor,
        "campus",
        "ideals-theory",
        "student",
        &["zh-Hans", "ug-Arab", "bo-Tibt"],
    )
    .await;
    let added = sync(&school, first.seq, 10).await;
    apply(&mut holding, &added.changes);
    assert_eq!(holding.keys().collect::<Vec<_>>(), ["campus"]);
    let held: Vec<&String> = holding["campus"]["lessons"][0]["variants"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(held, ["ug-Arab", "zh-Hans"]);
    assert_blobs_cover(&holding, &added.blobs);
    assert_eq!(added.blobs.len(), 2);

    // The course is now for rural members only: the school station drops it.
    let moved = editor
        .patch("/api/v1/courses/campus", json!({"audiences": ["rural"]}))
        .await;
    assert_eq!(moved.status, 200);
    assert_eq!(
        editor
            .post("/api/v1/courses/campus/publish", json!({}))
            .await
            .status,
        200
    );
    let dropped = sync(&school, added.seq, 10).await;
    assert_eq!(dropped.changes.len(), 1);
    assert_eq!(dropped.changes[0]["action"], "delete");
    assert_eq!(dropped.changes[0]["id"], "campus");
    apply(&mut holding, &dropped.changes);
    assert!(holding.is_empty());
}
