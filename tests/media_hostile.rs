//! Files made to hurt the server are refused with their reason: a header that lies about the
//! duration, forty audio streams, playlists that name other files and URLs. Each is crafted
//! with the ffmpeg CLI here (tests/support/hostile.rs says how).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{hostile, TestApp};
use yuanjiao::config::Settings;
use yuanjiao::domain::media::Unplayable;
use yuanjiao::domain::org::Principal;
use yuanjiao::media::isolation::ProbeError;
use yuanjiao::media::jobs;
use yuanjiao::repo::JobStatus;

fn settings(adjust: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings::default();
    s.media.worker_command = support::WORKER.into();
    adjust(&mut s);
    s
}

fn refusal(settings: &Settings, path: &Path) -> Unplayable {
    match jobs::admit(settings, path) {
        Err(ProbeError::Unplayable(reason)) => reason,
        other => panic!(
            "{} was not refused as unplayable: {other:?}",
            path.display()
        ),
    }
}

#[tokio::test]
async fn a_container_that_claims_one_second_but_holds_two_minutes_is_limited_by_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let lying = hostile::lying_mkv(dir.path(), 120, 1000.0);
    let generous = settings(|s| s.media.max_duration_secs = 3600);
    let probe = jobs::admit(&generous, &lying).unwrap();
    assert_eq!(probe.duration_ms, 1000, "the header says one second");
    assert!(probe.readable_ms >= 119_000, "{}", probe.readable_ms);

    let strict = settings(|s| s.media.max_duration_secs = 60);
    match refusal(&strict, &lying) {
        Unplayable::TooLong {
            duration_ms,
            max_ms,
        } => {
            assert_eq!(max_ms, 60_000);
            assert!(
                (60_000..=62_500).contains(&duration_ms),
                "reading stops just past the limit, not at the end: {duration_ms} ms"
            );
        }
        other => panic!("refused for another reason: {other}"),
    }

    // A probe recorded under a larger limit does not let the job read past today's.
    let app = TestApp::spawn_with(|s| {
        s.media.max_duration_secs = 60;
        s.media.max_attempts = 1;
    })
    .await;
    let (stored, _) = app
        .services
        .add_blob(std::fs::File::open(&lying).unwrap(), "lying.mkv")
        .unwrap();
    jobs::register(&app.services, &stored.sha256, &probe).unwrap();
    let (_, job) = jobs::run_next(&app.services, &mut |_, _| {})
        .unwrap()
        .unwrap();
    assert_eq!((job.status, job.unplayable), (JobStatus::Failed, true));
    assert!(
        job.error
            .as_deref()
            .unwrap()
            .contains("longer than the 60000 ms"),
        "{job:?}"
    );
    assert!(app
        .services
        .store
        .derived_files(&stored.sha256)
        .unwrap()
        .is_empty());
}

#[test]
fn a_file_of_forty_audio_streams_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let many = hostile::many_audio_streams(dir.path(), 40);
    assert_eq!(
        refusal(&settings(|_| {}), &many),
        Unplayable::TooManyStreams {
            streams: 41,
            max: 16
        }
    );
    let fewer = hostile::many_audio_streams(dir.path(), 3);
    assert!(jobs::admit(&settings(|_| {}), &fewer).is_ok());
}

/// Counts the connections made to a listener on 127.0.0.1:0 (each is closed at once).
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://{addr}/segment-00001.ts"), count)
}

fn course_with_one_video(dir: &Path, file: &str) {
    std::fs::write(
        dir.join("course.toml"),
        format!(
            "slug = \"{slug}\"\nthemes = [\"practical-skills\"]\naudiences = [\"rural\"]\n\
             [title]\n\"zh-Hans\" = \"课\"\n[description]\n\"zh-Hans\" = \"课\"\n\
             [[lessons]]\nid = \"a\"\nkind = \"video\"\nduration_ms = 2000\n\
             [lessons.title]\n\"zh-Hans\" = \"一\"\n[lessons.variants]\n\"zh-Hans\" = \"{file}\"\n",
            slug = dir.file_name().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_playlist_naming_a_url_is_refused_and_nothing_is_fetched() {
    let app = TestApp::spawn().await;
    let (url, connections) = counting_listener();
    // A segment elsewhere on the server's disk, which an accepted playlist would pull into
    // the lesson's renditions.
    let elsewhere = app.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let secret = elsewhere.join("secret.ts");
    hostile::ts_segment(&secret);
    let playlist = hostile::hls_playlist(&secret, &url);
    let concat = hostile::concat_list("secret.ts");

    let token =
        yuanjiao::people::issue_token(&app.services, Principal::Editor, None, "test").unwrap();
    let base = format!("http://{}", app.addr);
    let id = support::upload::send(
        &app.client,
        &base,
        &token,
        "lesson.mp4",
        "video/mp4",
        &playlist,
    )
    .await;
    let body =
        support::upload::settled(&app.client, &base, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(body["upload"]["state"]["state"], "rejected", "{body}");
    let reason = body["upload"]["state"]["reason"].as_str().unwrap();
    assert!(reason.contains("hls is not a format"), "{reason}");

    let course = app.dir.path().join("playlist-course");
    std::fs::create_dir_all(&course).unwrap();
    std::fs::write(course.join("lesson.mp4"), &playlist).unwrap();
    course_with_one_video(&course, "lesson.mp4");
    let services = Arc::clone(&app.services);
    let ingested = tokio::task::spawn_blocking(move || {
        yuanjiao::ingest::ingest_course(&services, &course, &mut yuanjiao::ingest::Quiet)
    })
    .await
    .unwrap();
    let err = ingested.expect_err("the course is not ingested");
    assert!(err.to_string().contains("hls is not a format"), "{err}");

    // A concat list beside the file it names, as an upload's folder might hold one.
    let list = elsewhere.join("list.mp4");
    std::fs::write(&list, &concat).unwrap();
    let settings = app.services.settings.clone();
    let refused = tokio::task::spawn_blocking(move || refusal(&settings, &list))
        .await
        .unwrap();
    assert_eq!(
        refused,
        Unplayable::FormatNotAccepted {
            format: "concat".into()
        }
    );

    assert_eq!(
        app.services.store.blob_count().unwrap(),
        0,
        "nothing stored"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "no connection to the URL in the playlist"
    );
}
