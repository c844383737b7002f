//! Members on weak links (issue: playback that adapts by itself, lessons downloaded for offline
//! study): the scenarios in tests/browser/member-adapt.mjs and member-keep.mjs.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_64_kbit_link_the_lesson_starts_as_sound_and_switches_up_when_the_link_recovers() {
    let _one = SERIAL.lock().await;
    let (app, token) = county().await;
    let r = browser::run("member-adapt", &app.url(""), &fixture()).await;
    eprintln!("{r}");
    assert_eq!(r["started"], "audio", "{r}");
    // Every rendition's size is said before anything plays, sound only first.
    let sizes = r["sizes"].as_str().unwrap();
    assert!(
        sizes.contains("只听声音") && sizes.contains("240p") && sizes.contains("MB"),
        "{r}"
    );
    assert!(r["why"].as_str().unwrap().contains("kbit/s"), "{r}");
    assert_eq!(r["switched"], "240p", "{r}");
    // The switch kept the position: the new file went on from where the sound was, not from 0.
    assert!(ms(&r, "after_ms") >= ms(&r, "before_ms"), "{r}");
    assert!(r["note"].as_str().unwrap().contains("240p"), "{r}");
    // Stepped down before the picture's first frame: it still opened where the member stopped.
    let down = &r["down"];
    assert!(ms(down, "after_ms") >= ms(&r, "after_ms") - 1_000, "{r}");
    assert_eq!(r["forced"], "audio", "{r}");
    let saver = &r["saver"];
    assert_eq!(saver["rendition"], "audio", "{r}");
    assert_eq!(saver["fetched_before_play"], 0, "{r}");
    assert_eq!(saver["preload"], "none", "{r}");
    assert!(saver["why"].as_str().unwrap().contains("省流量"), "{r}");
    assert!(ms(saver, "fetched_after_play") > 0, "{r}");
    // Reports went on in media time across the switch: what was played is credited.
    let (credited, _) = ledger(&app, &token).await;
    assert!(
        credited >= ms(&r, "after_ms") - 5_000,
        "credited {credited}: {r}"
    );
    let entries = app.services.store.member_entries(MEMBER).unwrap();
    let mut played: Vec<(u64, u64)> = entries
        .iter()
        .filter_map(|e| match &e.kind {
            yuanjiao::repo::EntryKind::Watch { report, .. } => Some(report.played.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    played.sort();
    let first_sitting_end =
        played.iter().fold(
            0u64,
            |end, &(a, b)| if a <= end + 1_000 { end.max(b) } else { end },
        );
    assert!(
        first_sitting_end as i64 >= ms(&r, "after_ms") - 2_000,
        "media time has a gap across the switch: {played:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_kept_on_a_phone_resumes_its_cut_download_and_earns_offline_under_its_grant() {
    let _one = SERIAL.lock().await;
    let (app, _token) = county().await;
    let r = browser::run("member-keep", &app.url(""), &fixture()).await;
    eprintln!("{r}");
    assert!(
        r["quota_note"].as_str().unwrap().contains("存储空间不够"),
        "{r}"
    );
    assert!(r["button"].as_str().unwrap().contains("MB"), "{r}");
    assert_eq!(r["cut"], 1, "{r}");
    assert!(!r["cut_note"].as_str().unwrap().is_empty(), "{r}");
    assert_eq!(r["partial"]["done"], false, "{r}");
    assert_eq!(r["partial"]["parts"], 1, "{r}");
    assert_eq!(r["whole"]["done"], true, "{r}");
    // The stored bytes are the rendition's, as the server has it.
    let file = &r["whole"]["file"];
    assert_eq!(r["sha256"], file["sha256"], "{r}");
    let url = file["url"].as_str().unwrap();
    let body = app.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(
        support::sha256_hex(&body.bytes().await.unwrap()),
        r["sha256"].as_str().unwrap()
    );
    // Offline: the page opened from its worker, played from storage, and queued its reports
    // under the grant; online again they were credited.
    assert!(!r["offline_note"].as_str().unwrap().is_empty(), "{r}");
    let waiting = r["waiting"].as_array().unwrap();
    assert!(!waiting.is_empty(), "{r}");
    let grant = r["whole"]["grant"].as_str().unwrap();
    assert!(waiting.iter().all(|w| w["grant"] == grant), "{r}");
    // Credited when the page came online, before the layouts below played it again.
    let credited = ms(&r["server"], "credited_ms");
    let offline = ms(&r, "played_offline_ms");
    assert!(
        (offline - 3_000..=offline + TOLERANCE_MS).contains(&credited),
        "credited {credited}, played offline {offline}: {r}"
    );
    // The reports queued offline are credited on the grant (the layouts below may play
    // online meanwhile, under play sessions of their own).
    let entries = app.services.store.member_entries(MEMBER).unwrap();
    for queued in waiting {
        let on_grant = entries.iter().any(|e| match &e.kind {
            yuanjiao::repo::EntryKind::Watch { report, .. } => {
                report.id == queued["id"] && report.grant.as_deref() == Some(grant)
            }
            _ => false,
        });
        assert!(
            on_grant,
            "report {} credited on the grant: {r}",
            queued["id"]
        );
    }
    for (lang, view) in r["layouts"].as_object().unwrap() {
        assert!(
            ms(view, "overflow") <= 0,
            "{lang} overflows the phone: {view}"
        );
        assert!(
            !view["kept_title"].as_str().unwrap().is_empty(),
            "{lang}: {view}"
        );
    }
    assert_eq!(r["layouts"]["ug-Arab"]["dir"], "rtl", "{r}");

    // Another member who got hold of the grant earns nothing with it.
    let services = app.services.clone();
    let other = tokio::task::spawn_blocking(move || {
        let who = Principal::Member {
            member: GUESSED.into(),
        };
        people::issue_token(&services, who, None, "test").unwrap()
    })
    .await
    .unwrap();
    let now = jiff::Timestamp::now();
    let stolen = json!({"reports": [{
        "id": "stolen-1", "member": GUESSED, "lesson": "ms-video", "lang": "zh-Hans",
        "played": [[0, 20_000]],
        "wall": [(now - jiff::SignedDuration::from_secs(30)).to_string(), (now - jiff::SignedDuration::from_secs(10)).to_string()],
        "position_ms": 20_000, "grant": grant,
    }]});
    let answer: Value = app
        .client
        .post(app.url("/api/v1/watch"))
        .bearer_auth(&other)
        .json(&stolen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let result = &answer["results"][0];
    assert_eq!(result["status"], "rejected", "{answer}");
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("another member"),
        "{answer}"
    );
    let hours = get_json(&app, &other, &format!("/api/v1/members/{GUESSED}/hours")).await;
    assert_eq!(hours["credited_ms"], 0, "{hours}");
}

#[tokio::test]
async fn the_page_draws_a_grants_checks_and_hashes_as_the_server_does() {
    let seed = [9u8; 32];
    let (min_ms, max_ms) = (480_000, 900_000);
    let issued_ms = 1_780_000_000_000i64;
    let now_after_ms = 3 * 3_600_000 + 17_000;
    let grant = json!({
        "grace_ms": 60_000, "min_ms": min_ms, "max_ms": max_ms, "issued_ms": issued_ms,
        "seed": hex::encode(seed),
    });
    let fixture = json!({ "grant": grant, "now_after_ms": now_after_ms });
    let r = browser::run("member-offline-units", "", &fixture).await;
    assert_eq!(r["hashes"], 9, "{r}");
    let server = yuanjiao::domain::evidence::seeded_checks(
        &seed,
        (min_ms, max_ms),
        now_after_ms + 6 * 3_600_000,
    );
    // Asked first: the last check already due; then every one of the next six hours.
    let last_due = server
        .iter()
        .rposition(|c| c.after_ms <= now_after_ms)
        .unwrap();
    let want: Vec<Value> = server[last_due..]
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let at = if i == 0 {
                issued_ms + now_after_ms
            } else {
                issued_ms + c.after_ms
            };
            json!([c.n, c.code, at])
        })
        .collect();
    assert_eq!(r["plan"], json!(want));
    let text = r["text"].as_array().unwrap();
    assert_eq!(text[0]["tag"], "h3");
    assert_eq!(text[2]["img"]["loading"], "lazy", "{r}");
    assert_eq!(text[2]["img"]["alt"], "图一 会场", "{r}");
    // A picture from elsewhere stays text: the page asks no other host.
    assert_eq!(text[3]["tag"], "p", "{r}");
    assert_eq!(text[3]["img"], Value::Null, "{r}");
}
