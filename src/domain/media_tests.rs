use super::*;

fn stream(kind: StreamKind, w: u32, h: u32) -> StreamInfo {
    StreamInfo {
        index: 0,
        kind,
        codec: "h264".into(),
        width: Some(w),
        height: Some(h),
        frame_rate: Some(25.0),
        channels: None,
        sample_rate: None,
        bit_rate: None,
        language: None,
        decodable: true,
    }
}

fn probe(streams: Vec<StreamInfo>, duration_ms: u64, readable_ms: u64) -> Probe {
    Probe {
        container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
        duration_ms,
        bit_rate: None,
        streams,
        readable_ms,
    }
}

const LIMITS: Limits = Limits {
    max_width: 3840,
    max_height: 2160,
    max_duration_ms: 6 * 3600 * 1000,
    max_streams: 16,
    max_frame_rate: 120,
};

#[test]
fn each_kind_of_unplayable_file_has_its_reason() {
    let ok = probe(vec![stream(StreamKind::Video, 1280, 720)], 10_000, 10_000);
    assert_eq!(check_playable(&ok, &LIMITS), Ok(()));
    let last_frame_short = probe(vec![stream(StreamKind::Video, 640, 360)], 10_000, 9_850);
    assert_eq!(check_playable(&last_frame_short, &LIMITS), Ok(()));
    let mut undecodable = stream(StreamKind::Video, 1280, 720);
    undecodable.decodable = false;
    let cases = [
        (probe(vec![], 10_000, 10_000), Unplayable::NoDecodableStream),
        (
            probe(vec![undecodable], 10_000, 10_000),
            Unplayable::NoDecodableStream,
        ),
        (
            probe(vec![stream(StreamKind::Video, 640, 360)], 0, 0),
            Unplayable::NoDuration,
        ),
        (
            probe(vec![stream(StreamKind::Video, 100_000, 720)], 1_000, 1_000),
            Unplayable::TooLarge {
                width: 100_000,
                height: 720,
                max_width: 3840,
                max_height: 2160,
            },
        ),
        (
            probe(vec![stream(StreamKind::Video, 0, 0)], 1_000, 1_000),
            Unplayable::TooLarge {
                width: 0,
                height: 0,
                max_width: 3840,
                max_height: 2160,
            },
        ),
        (
            probe(
                vec![stream(StreamKind::Video, 640, 360)],
                30 * 3600 * 1000,
                30 * 3600 * 1000,
            ),
            Unplayable::TooLong {
                duration_ms: 30 * 3600 * 1000,
                max_ms: 6 * 3600 * 1000,
            },
        ),
        (
            probe(vec![stream(StreamKind::Video, 640, 360)], 15_000, 7_000),
            Unplayable::Truncated {
                readable_ms: 7_000,
                duration_ms: 15_000,
            },
        ),
    ];
    for (p, want) in cases {
        assert_eq!(check_playable(&p, &LIMITS), Err(want));
    }
}

#[test]
fn a_container_that_claims_less_than_it_holds_is_limited_by_what_it_holds() {
    let lying = probe(
        vec![stream(StreamKind::Video, 640, 360)],
        1_000,
        7 * 3600 * 1000,
    );
    assert_eq!(
        check_playable(&lying, &LIMITS),
        Err(Unplayable::TooLong {
            duration_ms: 7 * 3600 * 1000,
            max_ms: 6 * 3600 * 1000
        })
    );
    assert_eq!(check_read_so_far(6 * 3600 * 1000, &LIMITS), Ok(()));
    assert!(matches!(
        check_read_so_far(6 * 3600 * 1000 + DURATION_SLACK_MS + 1, &LIMITS),
        Err(Unplayable::TooLong { .. })
    ));
}

#[test]
fn streams_frame_rate_and_format_are_limited() {
    let audio = StreamInfo {
        kind: StreamKind::Audio,
        width: None,
        height: None,
        frame_rate: None,
        ..stream(StreamKind::Audio, 0, 0)
    };
    let many = probe(vec![audio; 40], 10_000, 10_000);
    assert_eq!(
        check_playable(&many, &LIMITS),
        Err(Unplayable::TooManyStreams {
            streams: 40,
            max: 16
        })
    );
    let mut fast = stream(StreamKind::Video, 640, 360);
    fast.frame_rate = Some(1000.0);
    let err = check_playable(&probe(vec![fast], 10_000, 10_000), &LIMITS).unwrap_err();
    assert_eq!(
        err,
        Unplayable::FrameRateTooHigh {
            millifps: 1_000_000,
            max: 120
        }
    );
    assert_eq!(
        err.to_string(),
        "1000 fps is faster than the 120 fps this server accepts"
    );
    let mut playlist = probe(vec![stream(StreamKind::Video, 640, 360)], 10_000, 10_000);
    playlist.container = "hls".into();
    assert_eq!(
        check_playable(&playlist, &LIMITS),
        Err(Unplayable::FormatNotAccepted {
            format: "hls".into()
        })
    );
}

#[test]
fn only_the_demuxers_of_lesson_files_are_accepted() {
    for name in [
        "mov,mp4,m4a,3gp,3g2,mj2",
        "matroska,webm",
        "mpegts",
        "avi",
        "flv",
        "mp3",
        "aac",
        "wav",
        "ogg",
        "flac",
    ] {
        assert!(format_accepted(name), "{name}");
    }
    for name in [
        "hls", "dash", "concat", "image2", "lavfi", "tty", "rtsp", "sdp", "",
    ] {
        assert!(!format_accepted(name), "{name}");
    }
}

#[test]
fn interrupted_work_is_retried_only_while_attempts_are_left() {
    assert!(retry_after_interruption(1, 3));
    assert!(retry_after_interruption(2, 3));
    assert!(!retry_after_interruption(3, 3));
    assert!(!retry_after_interruption(4, 3));
    assert!(interrupted_reason(3).contains("3 tries"));
}

#[test]
fn audio_only_files_are_playable() {
    let audio = StreamInfo {
        kind: StreamKind::Audio,
        width: None,
        height: None,
        ..stream(StreamKind::Audio, 0, 0)
    };
    assert_eq!(
        check_playable(&probe(vec![audio], 5_000, 5_000), &LIMITS),
        Ok(())
    );
}

fn rungs() -> Vec<Rung> {
    vec![
        Rung {
            name: "240p".into(),
            height: 240,
            video_kbps: 300,
        },
        Rung {
            name: "360p".into(),
            height: 360,
            video_kbps: 600,
        },
    ]
}

#[test]
fn the_ladder_never_upscales_and_keeps_the_shape() {
    let from_720p = plan_ladder(1280, 720, &rungs());
    assert_eq!(
        from_720p
            .iter()
            .map(|r| (r.name.as_str(), r.width, r.height))
            .collect::<Vec<_>>(),
        vec![("240p", 426, 240), ("360p", 640, 360)]
    );
    let from_288p = plan_ladder(512, 288, &rungs());
    assert_eq!(from_288p.len(), 1, "360p would upscale");
    assert_eq!((from_288p[0].width, from_288p[0].height), (426, 240));
    let tiny = plan_ladder(320, 180, &rungs());
    assert_eq!(
        tiny.iter()
            .map(|r| (r.name.as_str(), r.width, r.height, r.video_kbps))
            .collect::<Vec<_>>(),
        vec![("180p", 320, 180, 300)],
        "a source below every rung keeps its own size"
    );
    let portrait = plan_ladder(720, 1280, &rungs());
    assert_eq!((portrait[0].width, portrait[0].height), (136, 240));
    for r in plan_ladder(1279, 719, &rungs()) {
        assert!(r.width % 2 == 0 && r.height % 2 == 0 && r.width <= 1279);
    }
}

#[test]
fn master_playlist_lists_every_variant_with_its_attributes() {
    let variants = vec![
        Variant {
            uri: "audio/index.m3u8".into(),
            peak_bps: 52_000,
            average_bps: 50_000,
            resolution: None,
            codecs: "mp4a.40.2".into(),
        },
        Variant {
            uri: "240p/index.m3u8".into(),
            peak_bps: 360_000,
            average_bps: 330_000,
            resolution: Some((426, 240)),
            codecs: "avc1.4D401E,mp4a.40.2".into(),
        },
    ];
    let text = master_playlist(&variants);
    assert_eq!(
        text,
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-STREAM-INF:BANDWIDTH=360000,AVERAGE-BANDWIDTH=330000,RESOLUTION=426x240,CODECS=\"avc1.4D401E,mp4a.40.2\"\n240p/index.m3u8\n\
         #EXT-X-STREAM-INF:BANDWIDTH=52000,AVERAGE-BANDWIDTH=50000,CODECS=\"mp4a.40.2\"\naudio/index.m3u8\n"
    );
}

#[test]
fn segments_and_bandwidth_come_from_the_media_playlist() {
    let playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.000000,\nseg-00000.m4s\n#EXTINF:2.500,\nseg-00001.m4s\n#EXT-X-ENDLIST\n";
    assert_eq!(
        playlist_segments(playlist),
        vec![
            (4000, "seg-00000.m4s".to_string()),
            (2500, "seg-00001.m4s".to_string())
        ]
    );
    assert_eq!(
        bandwidth(&[(4000, 200_000), (2000, 50_000)]),
        (400_000, 333_333)
    );
    assert_eq!(bandwidth(&[]), (0, 0));
}

#[test]
fn the_summary_names_every_stream() {
    let mut audio = stream(StreamKind::Audio, 0, 0);
    audio.codec = "aac".into();
    (audio.width, audio.height, audio.frame_rate) = (None, None, None);
    (audio.channels, audio.sample_rate, audio.language) =
        (Some(1), Some(48000), Some("zho".into()));
    let p = probe(
        vec![stream(StreamKind::Video, 640, 360), audio],
        15_000,
        15_000,
    );
    assert_eq!(
        p.summary(),
        "15.0 s · h264 640x360 25 fps · aac 1 ch 48000 Hz [zho]"
    );
}
