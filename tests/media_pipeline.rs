//! The media pipeline: probes of checked-in fixtures, rejection of what cannot play,
//! renditions that decode, HLS played over HTTP by a real client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use ffmpeg_next as ffmpeg;
use std::path::{Path, PathBuf};
use support::{header, TestApp};
use yuanjiao::config::Settings;
use yuanjiao::domain::digest::Sha256;
use yuanjiao::domain::media::{Probe, StreamKind, Unplayable};
use yuanjiao::media::isolation::ProbeError;
use yuanjiao::media::jobs;
use yuanjiao::repo::JobStatus;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Default settings, adjusted, with this package's binary as the media worker.
fn settings(adjust: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings::default();
    s.media.worker_command = support::WORKER.into();
    adjust(&mut s);
    s
}

/// Probes `path` in a media worker under the default limits.
fn admit(path: &Path) -> Result<Probe, ProbeError> {
    jobs::admit(&settings(|_| {}), path)
}

#[test]
fn probes_of_the_fixtures_match_their_known_values() {
    let av = admit(&fixture("av.mp4")).unwrap();
    assert!(av.container.contains("mp4"));
    assert!(
        (1990..=2100).contains(&av.duration_ms),
        "{}",
        av.duration_ms
    );
    let video = av.video().unwrap();
    assert_eq!(
        (video.codec.as_str(), video.width, video.height),
        ("h264", Some(320), Some(240))
    );
    assert_eq!(video.frame_rate, Some(25.0));
    let audio: Vec<_> = av.audio().collect();
    assert_eq!(audio.len(), 1);
    assert_eq!(
        (
            audio[0].codec.as_str(),
            audio[0].channels,
            audio[0].sample_rate
        ),
        ("aac", Some(2), Some(44100))
    );
    assert_eq!(audio[0].language.as_deref(), Some("zho"));
    assert!(audio[0].bit_rate.is_some());

    let sound = admit(&fixture("audio.m4a")).unwrap();
    assert!(sound.video().is_none());
    assert!(
        (2990..=3100).contains(&sound.duration_ms),
        "{}",
        sound.duration_ms
    );
    let track: Vec<_> = sound.audio().collect();
    assert_eq!(
        (track[0].channels, track[0].sample_rate),
        (Some(1), Some(48000))
    );
    assert_eq!(track[0].language.as_deref(), Some("bod"));

    let two = admit(&fixture("two-languages.mp4")).unwrap();
    let langs: Vec<_> = two
        .audio()
        .map(|a| a.language.clone().unwrap_or_default())
        .collect();
    assert_eq!(langs, ["zho", "uig"]);
    assert_eq!(
        two.streams
            .iter()
            .filter(|s| s.kind == StreamKind::Video)
            .count(),
        1
    );
}

/// Bad inputs, each in a file named like a lesson video.
fn bad_inputs(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let good = std::fs::read(fixture("av.mp4")).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    vec![
        (write("empty.mp4", b""), "empty"),
        (write("truncated.mp4", &good[..good.len() / 2]), "truncated"),
        (
            write("random.mp4", &support::bytes(50_000, 9)),
            "not a media file",
        ),
        (
            write(
                "subtitles.mp4",
                b"WEBVTT\n\n00:00.000 --> 00:02.000\nhello\n",
            ),
            "webvtt is not a format this server accepts",
        ),
    ]
}

#[test]
fn every_bad_input_is_rejected_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (path, reason) in bad_inputs(dir.path()) {
        let err = admit(&path).expect_err(reason);
        assert!(
            err.to_string().contains(reason),
            "{}: {err}",
            path.display()
        );
    }
    let small = settings(|s| {
        s.media.max_width = 100;
        s.media.max_height = 100;
    });
    assert!(matches!(
        jobs::admit(&small, &fixture("av.mp4")),
        Err(ProbeError::Unplayable(Unplayable::TooLarge { .. }))
    ));
    let short = settings(|s| s.media.max_duration_secs = 1);
    assert!(matches!(
        jobs::admit(&short, &fixture("av.mp4")),
        Err(ProbeError::Unplayable(Unplayable::TooLong { .. }))
    ));
}

#[tokio::test]
async fn a_course_with_a_bad_video_stores_nothing() {
    let app = TestApp::spawn().await;
    let course = app.dir.path().join("bad-course");
    std::fs::create_dir_all(&course).unwrap();
    let bad = bad_inputs(&course);
    std::fs::copy(fixture("av.mp4"), course.join("good.mp4")).unwrap();
    for (path, reason) in bad {
        let name = path.file_name().unwrap().to_str().unwrap();
        std::fs::write(
            course.join("course.toml"),
            format!(
                "slug = \"bad-course\"\nthemes = [\"practical-skills\"]\naudiences = [\"rural\"]\n\
                 [title]\n\"zh-Hans\" = \"课\"\n[description]\n\"zh-Hans\" = \"课\"\n\
                 [[lessons]]\nid = \"a\"\nkind = \"video\"\nduration_ms = 2000\n[lessons.title]\n\"zh-Hans\" = \"一\"\n\
                 [lessons.variants]\n\"zh-Hans\" = \"good.mp4\"\n\
                 [[lessons]]\nid = \"b\"\nkind = \"video\"\nduration_ms = 2000\n[lessons.title]\n\"zh-Hans\" = \"二\"\n\
                 [lessons.variants]\n\"zh-Hans\" = \"{name}\"\n"
            ),
        )
        .unwrap();
        let err =
            yuanjiao::ingest::ingest_course(&app.services, &course, &mut yuanjiao::ingest::Quiet)
                .unwrap_err();
        assert!(err.to_string().contains(reason), "{name}: {err}");
        assert_eq!(
            app.services.store.blob_count().unwrap(),
            0,
            "{name}: nothing stored"
        );
        assert!(app
            .services
            .store
            .course_entry("bad-course")
            .unwrap()
            .is_none());
        assert_eq!(app.services.store.queued_jobs().unwrap(), 0);
    }
}

/// Stores a fixture, queues its job and runs it to the end in this process.
fn process(app: &TestApp, name: &str) -> Sha256 {
    let path = fixture(name);
    let probe = admit(&path).unwrap();
    let (stored, _) = app
        .services
        .add_blob(std::fs::File::open(&path).unwrap(), name)
        .unwrap();
    assert!(jobs::register(&app.services, &stored.sha256, &probe).unwrap());
    let (sha, job) = jobs::run_next(&app.services, &mut |_, _| {})
        .unwrap()
        .unwrap();
    assert_eq!(sha, stored.sha256);
    assert_eq!(job.status, JobStatus::Ready, "{:?}", job.error);
    sha
}

/// Decodes every frame of every stream: (video size, video end ms, audio end ms, audio languages).
fn decode_all(path: &Path) -> (Option<(u32, u32)>, u64, u64, Vec<String>) {
    ffmpeg::init().unwrap();
    let mut input = ffmpeg::format::input(path).unwrap();
    let mut decoders = Vec::new();
    let mut languages = Vec::new();
    let mut size = None;
    for stream in input.streams() {
        let ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters()).unwrap();
        let decoder = ctx.decoder();
        match stream.parameters().medium() {
            ffmpeg::media::Type::Video => {
                let v = decoder.video().unwrap();
                size = Some((v.width(), v.height()));
                decoders.push((stream.index(), stream.time_base(), true, v.0));
            }
            ffmpeg::media::Type::Audio => {
                languages.push(stream.metadata().get("language").unwrap_or("").to_string());
                decoders.push((
                    stream.index(),
                    stream.time_base(),
                    false,
                    decoder.audio().unwrap().0,
                ));
            }
            _ => {}
        }
    }
    let (mut video_end, mut audio_end) = (0u64, 0u64);
    let mut video_frame = ffmpeg::frame::Video::empty();
    let mut audio_frame = ffmpeg::frame::Audio::empty();
    let mut drain = |d: &mut ffmpeg::decoder::Opened, tb: ffmpeg::Rational, is_video: bool| loop {
        let frame: &mut ffmpeg::Frame = if is_video {
            &mut video_frame
        } else {
            &mut audio_frame
        };
        if d.receive_frame(frame).is_err() {
            break;
        }
        {
            let pts = frame.timestamp().unwrap_or(0);
            let dur = if is_video { 40 } else { 21 };
            let ms =
                (pts * 1000 * i64::from(tb.numerator()) / i64::from(tb.denominator())) as u64 + dur;
            if is_video {
                video_end = video_end.max(ms)
            } else {
                audio_end = audio_end.max(ms)
            }
        }
    };
    let packets: Vec<_> = input.packets().map(|(s, p)| (s.index(), p)).collect();
    for (index, packet) in packets {
        if let Some((_, tb, is_video, d)) = decoders.iter_mut().find(|d| d.0 == index) {
            d.send_packet(&packet).unwrap();
            drain(d, *tb, *is_video);
        }
    }
    for (_, tb, is_video, d) in decoders.iter_mut() {
        d.send_eof().unwrap();
        drain(d, *tb, *is_video);
    }
    (size, video_end, audio_end, languages)
}

#[tokio::test]
async fn renditions_decode_to_the_source_duration_at_their_resolution() {
    let app = TestApp::spawn().await;
    let sha = process(&app, "lesson-720p.mp4");
    let files: std::collections::BTreeMap<String, String> = app
        .services
        .store
        .derived_files(&sha)
        .unwrap()
        .into_iter()
        .collect();
    let blob = |name: &str| {
        app.services
            .blobs
            .path(&Sha256::parse_hex(&files[name]).unwrap())
    };
    for (name, want) in [
        ("240p.mp4", Some((426, 240))),
        ("360p.mp4", Some((640, 360))),
        ("audio.m4a", None),
    ] {
        let (size, video_end, audio_end, languages) = decode_all(&blob(name));
        assert_eq!(size, want, "{name}");
        if want.is_some() {
            assert!(
                video_end.abs_diff(6000) <= 100,
                "{name}: video ends at {video_end} ms"
            );
        }
        assert!(
            audio_end.abs_diff(6000) <= 100,
            "{name}: audio ends at {audio_end} ms"
        );
        assert_eq!(languages, ["bod"], "{name}: the language tag is kept");
    }
    let thumb = decode_all(&blob("thumbnail.jpg"));
    assert_eq!(thumb.0, Some((320, 180)));
}

#[tokio::test]
async fn two_audio_languages_are_kept_and_nothing_is_upscaled() {
    let app = TestApp::spawn().await;
    let sha = process(&app, "two-languages.mp4");
    let files: Vec<String> = app
        .services
        .store
        .derived_files(&sha)
        .unwrap()
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(
        !files
            .iter()
            .any(|f| f.contains("240p") || f.contains("360p")),
        "a 180p source gets no taller rendition: {files:?}"
    );
    let audio = app
        .services
        .store
        .derived(&sha, "audio.m4a")
        .unwrap()
        .unwrap();
    let (_, _, _, languages) = decode_all(&app.services.blobs.path(&audio));
    assert_eq!(languages, ["zho", "uig"]);
}

#[tokio::test]
async fn derived_files_are_served_at_stable_paths_with_their_types() {
    let app = TestApp::spawn().await;
    let sha = process(&app, "lesson-720p.mp4").to_hex();
    let cases = [
        ("thumbnail.jpg", "image/jpeg"),
        ("240p.mp4", "video/mp4"),
        ("360p.mp4", "video/mp4"),
        ("audio.m4a", "audio/mp4"),
        ("hls/master.m3u8", "application/vnd.apple.mpegurl"),
        ("hls/240p/index.m3u8", "application/vnd.apple.mpegurl"),
        ("hls/240p/init.mp4", "video/mp4"),
        ("hls/240p/seg-00000.m4s", "video/iso.segment"),
    ];
    for (path, mime) in cases {
        let resp = app
            .get(&format!("/media/{sha}/{path}"), &[("range", "bytes=0-")])
            .await;
        assert_eq!(resp.status(), 206, "{path}");
        assert_eq!(header(&resp, "content-type"), mime, "{path}");
        assert_eq!(header(&resp, "cache-control"), "public, max-age=86400");
    }
    let master = app
        .get(&format!("/media/{sha}/hls/master.m3u8"), &[])
        .await
        .text()
        .await
        .unwrap();
    for needle in [
        "RESOLUTION=640x360",
        "RESOLUTION=426x240",
        "CODECS=\"mp4a.40.2\"\naudio/index.m3u8",
        "BANDWIDTH=",
    ] {
        assert!(master.contains(needle), "{needle} in\n{master}");
    }
    assert_eq!(
        app.get(&format!("/media/{sha}/720p.mp4"), &[])
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/media/{sha}/../../etc/passwd"), &[])
            .await
            .status(),
        404
    );
    let asset: serde_json::Value = app
        .get(&format!("/api/v1/assets/{sha}"), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asset["processing"]["status"], "ready");
    assert_eq!(asset["probe"]["streams"][0]["width"], 1280);
    assert_eq!(
        asset["files"]["hls/master.m3u8"],
        format!("/media/{sha}/hls/master.m3u8")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hls_plays_over_http_in_a_real_client_without_errors() {
    let app = TestApp::spawn().await;
    let sha = process(&app, "lesson-720p.mp4").to_hex();
    let url = app.url(&format!("/media/{sha}/hls/master.m3u8"));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ffmpeg")
            .args([
                "-nostdin", "-v", "error", "-i", &url, "-map", "0", "-f", "null", "-",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && errors.trim().is_empty(),
        "ffmpeg: {errors}"
    );
}

#[tokio::test]
async fn a_stored_file_found_unplayable_while_processing_is_422_with_its_reason() {
    let app = TestApp::spawn().await;
    let good = std::fs::read(fixture("av.mp4")).unwrap();
    let (stored, _) = app
        .services
        .add_blob(&good[..good.len() / 2], "cut.mp4")
        .unwrap();
    app.services
        .store
        .put_job(&stored.sha256, &yuanjiao::repo::Job::queued())
        .unwrap();
    let (_, job) = jobs::run_next(&app.services, &mut |_, _| {})
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.status, job.attempts, job.unplayable),
        (JobStatus::Failed, 1, true),
        "no retries for a file that cannot play"
    );
    let resp = app
        .get(&format!("/api/v1/assets/{}", stored.sha256), &[])
        .await;
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "unplayable");
    assert!(
        body["message"].as_str().unwrap().contains("truncated"),
        "{body}"
    );
    assert!(app
        .services
        .store
        .derived_files(&stored.sha256)
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_retried_up_to_the_limit_then_failed_with_its_reason() {
    let app = TestApp::spawn_with(|s| s.media.max_attempts = 3).await;
    let path = fixture("av.mp4");
    let probe = admit(&path).unwrap();
    let (stored, _) = app
        .services
        .add_blob(std::fs::File::open(&path).unwrap(), "av.mp4")
        .unwrap();
    jobs::register(&app.services, &stored.sha256, &probe).unwrap();
    // The source vanishes from the disk: a fault of the machine, not of the file.
    std::fs::remove_file(app.services.blobs.path(&stored.sha256)).unwrap();
    let mut statuses = Vec::new();
    while let Some((_, job)) = jobs::run_next(&app.services, &mut |_, _| {}).unwrap() {
        statuses.push((job.status, job.attempts));
        assert!(job.error.is_some() && !job.unplayable);
    }
    assert_eq!(
        statuses,
        [
            (JobStatus::Queued, 1),
            (JobStatus::Queued, 2),
            (JobStatus::Failed, 3)
        ]
    );
    let asset: serde_json::Value = app
        .get(&format!("/api/v1/assets/{}", stored.sha256), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asset["processing"]["status"], "failed");
    assert!(
        asset["processing"]["error"]
            .as_str()
            .unwrap()
            .contains("FFmpeg"),
        "{asset}"
    );
}

/// Regression: resampling 44.1 kHz to 48 kHz into frames sized like the input lost 9% of the
/// audio (1.6 s of every 20).
#[tokio::test]
async fn audio_resampled_from_44_1_khz_keeps_its_full_length() {
    let app = TestApp::spawn().await;
    let sha = process(&app, "av.mp4");
    for name in ["240p.mp4", "audio.m4a"] {
        let blob = app.services.store.derived(&sha, name).unwrap().unwrap();
        let (_, _, audio_end, _) = decode_all(&app.services.blobs.path(&blob));
        assert!(
            audio_end.abs_diff(2000) <= 100,
            "{name}: audio ends at {audio_end} ms of 2000"
        );
    }
}

/// The largest amount by which a packet after a keyframe (in decode order) is shown before it,
/// in the stream's time base: 0 for closed GOPs.
fn frames_shown_before_their_keyframe(path: &Path) -> i64 {
    ffmpeg::init().unwrap();
    let mut input = ffmpeg::format::input(path).unwrap();
    let video = input
        .streams()
        .best(ffmpeg::media::Type::Video)
        .unwrap()
        .index();
    let mut keyframe_pts = None;
    let mut worst = 0;
    for (stream, packet) in input.packets() {
        if stream.index() != video {
            continue;
        }
        let pts = packet.pts().unwrap();
        if packet.is_key() {
            keyframe_pts = Some(pts);
        } else if let Some(key) = keyframe_pts {
            worst = worst.max(key - pts);
        }
    }
    worst
}

#[tokio::test]
async fn renditions_can_be_entered_at_any_keyframe() {
    // A browser seeking to a keyframe decodes from it; a frame after it that refers back into
    // the previous group (an open GOP) breaks the decode in Chromium.
    let app = TestApp::spawn().await;
    let sha = process(&app, "lesson-720p.mp4");
    for (name, file) in app.services.store.derived_files(&sha).unwrap() {
        if name.ends_with("p.mp4") {
            let path = app.services.blobs.path(&Sha256::parse_hex(&file).unwrap());
            assert_eq!(frames_shown_before_their_keyframe(&path), 0, "{name}");
        }
    }
}
