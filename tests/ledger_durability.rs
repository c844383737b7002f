//! Kill -9 during a stream of watch reports, restart, compare with what was acknowledged.
//!
//! The real `yuanjiao serve` runs on a temp data dir while several clients send watch reports
//! (single ones and batches). It is killed with SIGKILL mid-stream, then restarted on the same
//! data dir, several times, and a last time right after the stream's last answer. After each
//! kill the totals kept must equal those recomputed from the entries (`yuanjiao ledger verify`),
//! every report answered `credited` must still be there (sent again, it is a `duplicate`), the
//! reports the kill cut off are each credited or a duplicate when sent again (never a conflict),
//! and each member's hours hold at least what was acknowledged — exactly what is on disk.
//!
//! A kill -9 keeps what sled already handed to the OS; it cannot stand in for a power cut, so a
//! missing fsync would go unseen here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::{Rng as _, SeedableRng as _};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use support::process::{describe, Sandbox, Server};
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

const ORG: &str = "dur-branch";
const MEMBERS: u64 = 20;
/// Concurrent clients sending reports.
const CLIENTS: usize = 6;
/// Kill/restart cycles that must have had requests in flight at the kill.
const CYCLES: usize = 3;
/// At most this many cycles are tried to get `CYCLES` with requests in flight.
const MAX_CYCLES: usize = 5;
/// Media and wall length of each report: short, so that a member has many slots that each earn.
const SLOT_MS: u64 = 100;
/// Reports per request when sending acknowledged ones again.
const RESEND_BATCH: usize = 250;

// ---------------------------------------------------------------- set-up

/// Fetches the lesson's media as the station's page does, with its delivery tag, so the
/// server has delivered what the station's reports rest on; then waits out sled's own flush
/// (every 500 ms), since no report has flushed it yet.
async fn download_as_station(client: &reqwest::Client, server: &Server, token: &str, lesson: &str) {
    let get = |path: String| client.get(server.url(&path)).bearer_auth(token);
    let me: Value = get("/api/v1/me".into())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tag = me["delivery_tag"].as_str().unwrap().to_string();
    let play: Value = get(format!("/api/v1/lessons/{lesson}/play"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!("{}?st={tag}", play["url"].as_str().unwrap());
    let media = client.get(server.url(&url)).send().await.unwrap();
    assert_eq!(media.status(), 200, "{url}");
    media.bytes().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
}

/// A copy of `media/village-station` with its text lessons only (no video to process);
/// returns the copy's folder and the first text lesson's id and duration.
fn text_only_course(sb: &Sandbox) -> (PathBuf, String, u64) {
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
    assert!(!lessons.is_empty(), "village-station has no text lesson");
    for lesson in &lessons {
        for file in lesson["variants"].as_table().unwrap().values() {
            let file = file.as_str().unwrap();
            std::fs::copy(from.join(file), to.join(file)).unwrap();
        }
    }
    let id = lessons[0]["id"].as_str().unwrap().to_string();
    let duration = u64::try_from(lessons[0]["duration_ms"].as_integer().unwrap()).unwrap();
    manifest.insert("lessons".into(), toml::Value::Array(lessons));
    std::fs::write(to.join("course.toml"), toml::to_string(&manifest).unwrap()).unwrap();
    (to, id, duration)
}

fn member_id(n: u64) -> String {
    format!("D{n:04}")
}

/// The last non-empty stdout line: the token the command printed.
fn token(stdout: &str) -> String {
    stdout
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap()
        .trim()
        .to_string()
}

// ---------------------------------------------------------------- reports

/// Which report slot `k` is: member `k % MEMBERS`, and that member's `k / MEMBERS`-th stretch
/// of the lesson, played in its own stretch of wall time, so that every report earns
/// `SLOT_MS` and the members' timelines never overlap.
struct Plan {
    lesson: String,
    slots_per_member: u64,
    /// Epoch ms where each member's wall timeline starts (within the last hour).
    wall_base_ms: i64,
}

#[derive(Clone, Debug)]
struct Sent {
    id: String,
    member: String,
    body: Value,
}

impl Plan {
    fn capacity(&self) -> u64 {
        self.slots_per_member * MEMBERS
    }

    fn report(&self, k: u64) -> Sent {
        let member = member_id(k % MEMBERS);
        let slot = k / MEMBERS;
        let media = slot * SLOT_MS;
        let wall = self.wall_base_ms + i64::try_from(media).unwrap();
        let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
        let id = format!("dur-{k:06}");
        Sent {
            id: id.clone(),
            member: member.clone(),
            body: json!({
                "id": id,
                "member": member,
                "lesson": self.lesson,
                "lang": "zh-Hans",
                "played": [[media, media + SLOT_MS]],
                "wall": [at(wall), at(wall + SLOT_MS as i64)],
                "position_ms": media + SLOT_MS,
            }),
        }
    }

    /// The calendar years (in the ledger's default zone) the wall timeline touches.
    fn years(&self) -> BTreeSet<i16> {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let end = self.wall_base_ms + i64::try_from(self.slots_per_member * SLOT_MS).unwrap();
        [self.wall_base_ms, end]
            .into_iter()
            .map(|ms| {
                jiff::Timestamp::from_millisecond(ms)
                    .unwrap()
                    .to_zoned(tz.clone())
                    .year()
            })
            .collect()
    }
}

/// What the clients saw during one stretch of the stream.
#[derive(Default)]
struct Seen {
    /// Answered `credited`, with the credited ms.
    acked: Vec<(Sent, i64)>,
    /// In a request that got no answer (cut by the kill).
    lost: Vec<Sent>,
    /// Anything that should not happen: an error before the kill, a non-200, a report not
    /// credited on first sending, a credit of 0.
    unexpected: Vec<String>,
    requests: u64,
    failed_requests: u64,
}

/// The state the clients share.
struct Stream {
    plan: Plan,
    url: String,
    token: String,
    next: AtomicU64,
    killing: AtomicBool,
    stop: AtomicBool,
    in_flight: AtomicU64,
    in_flight_reports: AtomicU64,
    /// When a client last had an answer.
    last_answer: Mutex<Instant>,
    seen: Mutex<Seen>,
}

fn batch_body(reports: &[Sent], single: bool) -> Value {
    if single {
        reports[0].body.clone()
    } else {
        json!({ "reports": reports.iter().map(|r| r.body.clone()).collect::<Vec<_>>() })
    }
}

/// Sends `body` and returns the `results` array of a 200, or why not.
async fn post_watch(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<Vec<Value>, String> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("body: {e}"))?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("status {status}: {text}"));
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    value["results"]
        .as_array()
        .cloned()
        .ok_or_else(|| format!("no results: {text}"))
}

/// One client: single reports and batches of 10-50 until told to stop or the server dies.
async fn client_loop(stream: Arc<Stream>, client: reqwest::Client, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    while !stream.stop.load(Ordering::SeqCst) {
        let single = rng.random_bool(0.3);
        let n = if single { 1 } else { rng.random_range(10..=50) };
        let first = stream.next.fetch_add(n, Ordering::SeqCst);
        if first + n > stream.plan.capacity() {
            stream.seen.lock().unwrap().unexpected.push(format!(
                "ran out of report slots ({}); use a shorter SLOT_MS or more MEMBERS",
                stream.plan.capacity()
            ));
            return;
        }
        let reports: Vec<Sent> = (first..first + n).map(|k| stream.plan.report(k)).collect();
        let body = batch_body(&reports, single);
        stream.in_flight.fetch_add(1, Ordering::SeqCst);
        stream.in_flight_reports.fetch_add(n, Ordering::SeqCst);
        let answer = post_watch(&client, &stream.url, &stream.token, &body).await;
        stream.in_flight.fetch_sub(1, Ordering::SeqCst);
        stream.in_flight_reports.fetch_sub(n, Ordering::SeqCst);
        if answer.is_ok() {
            *stream.last_answer.lock().unwrap() = Instant::now();
        }
        let mut seen = stream.seen.lock().unwrap();
        seen.requests += 1;
        match answer {
            Ok(results) => {
                if results.len() != reports.len() {
                    seen.unexpected.push(format!(
                        "{} results for {} reports",
                        results.len(),
                        reports.len()
                    ));
                }
                for (sent, result) in reports.into_iter().zip(results) {
                    let credited = result["credited_ms"].as_i64().unwrap_or(-1);
                    if result["status"] == "credited" && result["id"] == sent.id.as_str() {
                        if credited <= 0 {
                            seen.unexpected
                                .push(format!("{} credited {credited} ms", sent.id));
                        }
                        seen.acked.push((sent, credited));
                    } else {
                        seen.unexpected
                            .push(format!("{} on first sending: {result}", sent.id));
                        // Not acknowledged, but it may well be on disk: settle it after restart.
                        seen.lost.push(sent);
                    }
                }
            }
            Err(why) => {
                seen.failed_requests += 1;
                if !stream.killing.load(Ordering::SeqCst) {
                    seen.unexpected
                        .push(format!("request failed before the kill: {why}"));
                }
                seen.lost.extend(reports);
                return;
            }
        }
    }
}

/// Sends `reports` again in batches; returns each report's result.
async fn resend(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    reports: &[Sent],
) -> Vec<(Sent, Value)> {
    let url = server.url("/api/v1/watch");
    let mut out = Vec::with_capacity(reports.len());
    for chunk in reports.chunks(RESEND_BATCH) {
        let results = post_watch(client, &url, token, &batch_body(chunk, false))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "re-sending after restart failed: {e}\n{}",
                    server.log_text()
                )
            });
        assert_eq!(results.len(), chunk.len());
        out.extend(chunk.iter().cloned().zip(results));
    }
    out
}

/// Each member's credited_ms over the years the plan touches, from /hours.
async fn member_hours(
    client: &reqwest::Client,
    server: &Server,
    admin: &str,
    plan: &Plan,
) -> BTreeMap<String, i64> {
    let mut hours = BTreeMap::new();
    for n in 0..MEMBERS {
        let member = member_id(n);
        let mut total = 0;
        for year in plan.years() {
            let url = server.url(&format!("/api/v1/members/{member}/hours?year={year}"));
            let response = client.get(&url).bearer_auth(admin).send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, reqwest::StatusCode::OK, "{url}: {body}");
            total += body["credited_ms"].as_i64().unwrap();
        }
        hours.insert(member, total);
    }
    hours
}

#[track_caller]
fn verify_ledger(sb: &Sandbox, when: &str) {
    let out = sb
        .yj(&["ledger", "verify"])
        .output()
        .expect("cannot run the yuanjiao binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("0 differences"),
        "ledger verify {when}\n{}",
        describe(&out)
    );
}

// ---------------------------------------------------------------- the test

#[test]
fn every_acknowledged_report_survives_kill_9_and_the_totals_match_the_entries() {
    let started = Instant::now();
    let sb = Sandbox::new();
    let (course, lesson, duration_ms) = text_only_course(&sb);
    sb.ok(&["ingest", course.to_str().unwrap()]);
    sb.ok(&[
        "org",
        "add",
        "--id",
        ORG,
        "--name",
        "耐久支部",
        "--kind",
        "committee",
    ]);
    let mut csv = String::from("id,name,org,posts,field,joined,languages,pin,home_org\n");
    for n in 0..MEMBERS {
        csv.push_str(&format!(
            "{},党员{n},{ORG},member,rural,2019-07-01,zh-Hans,,\n",
            member_id(n)
        ));
    }
    let csv_path = sb.path().join("members.csv");
    std::fs::write(&csv_path, csv).unwrap();
    sb.ok(&["member", "import", csv_path.to_str().unwrap()]);
    let station = token(&sb.ok(&[
        "terminal",
        "add",
        "--id",
        "dur-st",
        "--name",
        "站点",
        "--org",
        ORG,
        "--languages",
        "zh-Hans",
    ]));
    let admin = token(&sb.ok(&["admin", "token", "--role", "admin"]));

    let now_ms = jiff::Timestamp::now().as_millisecond();
    let plan = Plan {
        lesson,
        slots_per_member: duration_ms / SLOT_MS,
        wall_base_ms: now_ms - 55 * 60 * 1000,
    };
    let seed: u64 = rand::random();
    eprintln!(
        "seed {seed}; lesson {} with {} report slots",
        plan.lesson,
        plan.capacity()
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CLIENTS)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut server = Server::start(&sb, &client, &rt, 0);
    rt.block_on(download_as_station(
        &client,
        &server,
        &station,
        &plan.lesson,
    ));
    let mut stream = Arc::new(Stream {
        plan,
        url: server.url("/api/v1/watch"),
        token: station.clone(),
        next: AtomicU64::new(0),
        killing: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        in_flight: AtomicU64::new(0),
        in_flight_reports: AtomicU64::new(0),
        last_answer: Mutex::new(Instant::now()),
        seen: Mutex::default(),
    });
    // Every report known to be on disk (acknowledged, or settled after a restart), by member.
    let mut on_disk: BTreeMap<String, Vec<Sent>> = BTreeMap::new();
    let mut acked_ms: BTreeMap<String, i64> = BTreeMap::new();
    let mut all_acked: Vec<Sent> = Vec::new();
    let mut meaningful = 0;
    let mut cycle = 0;
    let mut done = false;
    while !done {
        cycle += 1;
        // The last kill comes right after the last answer, with nothing in flight: a report
        // acknowledged before its flush would most likely still be in sled's buffer then. (In
        // a steady stream, each batch sled writes pushes the previous one to the OS, where a
        // kill -9 cannot touch it.)
        let quiet = meaningful >= CYCLES || cycle > MAX_CYCLES;
        done = quiet;
        let cycle_started = Instant::now();
        // ---- the stream, and the kill in the middle of it (or right after it)
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let s = Arc::clone(&stream);
                let seed = rng.random::<u64>() ^ c as u64;
                rt.spawn(client_loop(s, client.clone(), seed))
            })
            .collect();
        let run_for = if quiet {
            Duration::from_millis(rng.random_range(500..=800))
        } else {
            Duration::from_millis(rng.random_range(1500..=2200))
        };
        std::thread::sleep(run_for);
        let mut clients = clients;
        let mut join_clients = || {
            rt.block_on(async {
                for c in clients.drain(..) {
                    tokio::time::timeout(Duration::from_secs(30), c)
                        .await
                        .expect("a client did not stop")
                        .unwrap();
                }
            })
        };
        if quiet {
            stream.stop.store(true, Ordering::SeqCst);
            join_clients();
        }
        stream.killing.store(true, Ordering::SeqCst);
        let in_flight = stream.in_flight.load(Ordering::SeqCst);
        let in_flight_reports = stream.in_flight_reports.load(Ordering::SeqCst);
        let since_last_answer = stream.last_answer.lock().unwrap().elapsed();
        server.kill();
        if !quiet {
            stream.stop.store(true, Ordering::SeqCst);
            join_clients();
        }
        let seen = std::mem::take(&mut *stream.seen.lock().unwrap());
        assert!(
            seen.unexpected.is_empty(),
            "cycle {cycle}: {} unexpected answers, first ones:\n{}\n{}",
            seen.unexpected.len(),
            seen.unexpected
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
            server.log_text()
        );
        if in_flight > 0 && !quiet {
            meaningful += 1;
        }
        for (sent, ms) in &seen.acked {
            *acked_ms.entry(sent.member.clone()).or_default() += ms;
            on_disk
                .entry(sent.member.clone())
                .or_default()
                .push(sent.clone());
            all_acked.push(sent.clone());
        }

        // ---- the totals kept equal the entries, straight after the crash (after the quiet
        // kill, the final verify does it: re-sending only duplicates writes nothing)
        let verifying = Instant::now();
        if !quiet {
            verify_ledger(&sb, &format!("after kill {cycle}"));
        }
        let verify_took = verifying.elapsed();

        // ---- restart: every acknowledged report is there
        server = Server::start(&sb, &client, &rt, cycle);
        let again = rt.block_on(resend(&client, &server, &station, &all_acked));
        let missing: Vec<String> = again
            .iter()
            .filter(|(_, r)| r["status"] != "duplicate" || r["credited_ms"] != 0)
            .map(|(sent, r)| format!("{} ({}): {r}", sent.id, sent.member))
            .collect();
        assert!(
            missing.is_empty(),
            "cycle {cycle}: {} of {} acknowledged reports were not on disk after kill -9, e.g.\n{}",
            missing.len(),
            all_acked.len(),
            missing
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        // The reports the kill cut off may or may not have landed; a station sends them again
        // and each is credited now or was already: never rejected.
        let settled = rt.block_on(resend(&client, &server, &station, &seen.lost));
        let mut landed = 0;
        for (sent, result) in settled {
            match result["status"].as_str() {
                Some("duplicate") => landed += 1,
                Some("credited") => {
                    assert!(result["credited_ms"].as_i64() > Some(0), "{result}");
                    all_acked.push(sent.clone());
                }
                _ => panic!(
                    "cycle {cycle}: {} cut off by the kill, then {result}",
                    sent.id
                ),
            }
            on_disk.entry(sent.member.clone()).or_default().push(sent);
        }

        // ---- hours hold at least what was acknowledged, and exactly what is on disk
        let hours = rt.block_on(member_hours(&client, &server, &admin, &stream.plan));
        for n in 0..MEMBERS {
            let member = member_id(n);
            let have = hours[&member];
            let acked = acked_ms.get(&member).copied().unwrap_or_default();
            assert!(
                have >= acked,
                "cycle {cycle}: {member} has {have} ms, {acked} ms were acknowledged"
            );
            let reports = on_disk.get(&member).map_or(0, Vec::len) as i64;
            assert_eq!(
                have,
                reports * SLOT_MS as i64,
                "cycle {cycle}: {member} has {reports} reports of {SLOT_MS} ms each on disk"
            );
        }
        eprintln!(
            "cycle {cycle}: ran {:.1} s, {} requests; {} reports acknowledged; killed {} ms after \
             the last answer with {} requests ({} reports) in flight; {} requests cut off ({} \
             reports, {} of them had landed); ledger verify took {:.1} s, the cycle {:.1} s",
            run_for.as_secs_f64(),
            seen.requests,
            seen.acked.len(),
            since_last_answer.as_millis(),
            in_flight,
            in_flight_reports,
            seen.failed_requests,
            seen.lost.len(),
            landed,
            verify_took.as_secs_f64(),
            cycle_started.elapsed().as_secs_f64()
        );

        let next = stream.next.load(Ordering::SeqCst);
        stream = Arc::new(Stream {
            plan: Plan {
                lesson: stream.plan.lesson.clone(),
                ..stream.plan
            },
            url: server.url("/api/v1/watch"),
            token: station.clone(),
            next: AtomicU64::new(next),
            killing: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            in_flight: AtomicU64::new(0),
            in_flight_reports: AtomicU64::new(0),
            last_answer: Mutex::new(Instant::now()),
            seen: Mutex::default(),
        });
    }
    server.kill();
    verify_ledger(&sb, "at the end");
    assert_eq!(
        meaningful,
        CYCLES,
        "only {meaningful} of {} kills in a stream caught requests in flight",
        cycle - 1
    );
    eprintln!(
        "{} reports acknowledged over {cycle} kills, in {:.1} s",
        all_acked.len(),
        started.elapsed().as_secs_f64()
    );
}
