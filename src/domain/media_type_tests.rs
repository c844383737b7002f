use super::*;
use crate::domain::media::{StreamInfo, StreamKind};
use proptest::prelude::*;

fn essence(given: &str) -> String {
    parse(given).unwrap().essence
}

#[test]
fn types_parse_by_the_rfc_9110_grammar() {
    assert_eq!(essence("text/plain"), "text/plain");
    assert_eq!(essence("  Text/Markdown  "), "text/markdown");
    let t = parse("text/plain;charset=UTF-8 ; format=\"flowed\\\"x\";").unwrap();
    assert_eq!(t.essence, "text/plain");
    assert_eq!(t.param("charset"), Some("UTF-8"));
    assert_eq!(t.param("format"), Some("flowed\"x"));
    assert_eq!(t.top(), "text");
    assert_eq!(
        parse("video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"")
            .unwrap()
            .param("codecs"),
        Some("avc1.42E01E, mp4a.40.2")
    );
}

#[test]
fn what_is_not_one_media_type_is_malformed() {
    for given in [
        "",
        "text",
        "text/",
        "/plain",
        "text /plain",
        "text/ plain",
        "text/plain,text/html",
        "text/plain text/html",
        "text/plain; charset",
        "text/plain; charset=",
        "text/plain; charset=\"utf-8",
        "text/plain; a=1; a=2",
        "text/plain\r\nX-Injected: 1",
        "text/plain; x=\"\u{e9}\"",
        "täxt/plain",
        "text/html\u{0}",
    ] {
        assert!(parse(given).is_err(), "{given:?}");
    }
    assert!(parse(&format!("text/{}", "x".repeat(300))).is_err());
}

#[test]
fn only_listed_types_are_served_and_text_is_always_utf_8() {
    let cases = [
        ("video/mp4", "video/mp4", Presentation::Media),
        ("VIDEO/MP4; codecs=avc1", "video/mp4", Presentation::Media),
        ("audio/mpeg", "audio/mpeg", Presentation::Media),
        (
            "application/vnd.apple.mpegurl",
            "application/vnd.apple.mpegurl",
            Presentation::Media,
        ),
        ("image/jpeg", "image/jpeg", Presentation::Media),
        ("text/plain", TEXT_PLAIN, Presentation::Text),
        ("text/plain; charset=gbk", TEXT_PLAIN, Presentation::Text),
        (
            "text/markdown; charset=utf-8",
            TEXT_MARKDOWN,
            Presentation::Text,
        ),
        ("text/vtt", "text/vtt; charset=utf-8", Presentation::Text),
        ("application/pdf", PDF, Presentation::Download),
        // What old records may hold: a client's string, or a type the list does not know.
        ("text/plain,text/html", OCTET_STREAM, Presentation::Download),
        (
            "text/html; charset=utf-8",
            OCTET_STREAM,
            Presentation::Download,
        ),
        ("image/svg+xml", OCTET_STREAM, Presentation::Download),
        (
            "application/xhtml+xml",
            OCTET_STREAM,
            Presentation::Download,
        ),
        ("video/x-anything", OCTET_STREAM, Presentation::Download),
        ("", OCTET_STREAM, Presentation::Download),
    ];
    for (stored, content_type, presentation) in cases {
        assert_eq!(
            served(stored),
            Served {
                content_type,
                presentation
            },
            "{stored:?}"
        );
    }
}

#[test]
fn every_type_the_file_name_table_gives_a_lesson_file_is_served_as_itself() {
    use crate::domain::representation::content_type_for;
    for name in [
        "a.mp4", "a.m4a", "a.mov", "a.webm", "a.mkv", "a.ts", "a.m4s", "a.mp3", "a.aac", "a.wav",
        "a.ogg", "a.flac", "a.m3u8", "a.jpg", "a.txt", "a.md", "a.vtt", "a.pdf",
    ] {
        let recorded = content_type_for(name);
        let essence = parse(&recorded).unwrap().essence;
        let served = served(&recorded);
        assert_ne!(served.content_type, OCTET_STREAM, "{name}: {recorded}");
        assert!(
            served.content_type.starts_with(&essence),
            "{name}: {recorded} served as {}",
            served.content_type
        );
    }
}

fn stream(kind: StreamKind, codec: &str) -> StreamInfo {
    StreamInfo {
        index: 0,
        kind,
        codec: codec.into(),
        width: None,
        height: None,
        frame_rate: None,
        channels: None,
        sample_rate: None,
        bit_rate: None,
        language: None,
        decodable: true,
    }
}

fn probe(container: &str, streams: Vec<StreamInfo>) -> Probe {
    Probe {
        container: container.into(),
        duration_ms: 1000,
        bit_rate: None,
        streams,
        readable_ms: 1000,
    }
}

#[test]
fn the_probe_names_the_type_by_demuxer_and_picture() {
    use StreamKind::{Audio, Video};
    let mp4 = "mov,mp4,m4a,3gp,3g2,mj2";
    let cases = [
        (
            probe(mp4, vec![stream(Video, "h264"), stream(Audio, "aac")]),
            "video/mp4",
        ),
        (probe(mp4, vec![stream(Audio, "aac")]), "audio/mp4"),
        (
            probe(
                "matroska,webm",
                vec![stream(Video, "vp9"), stream(Audio, "opus")],
            ),
            "video/webm",
        ),
        (
            probe(
                "matroska,webm",
                vec![stream(Video, "h264"), stream(Audio, "aac")],
            ),
            "video/x-matroska",
        ),
        (
            probe("matroska,webm", vec![stream(Audio, "opus")]),
            "audio/webm",
        ),
        (probe("ogg", vec![stream(Audio, "vorbis")]), "audio/ogg"),
        (probe("mpegts", vec![stream(Video, "h264")]), "video/mp2t"),
        (probe("mp3", vec![stream(Audio, "mp3")]), "audio/mpeg"),
        (probe("wav", vec![stream(Audio, "pcm_s16le")]), "audio/wav"),
        (probe("flac", vec![stream(Audio, "flac")]), "audio/flac"),
        (probe("hls", vec![stream(Video, "h264")]), OCTET_STREAM),
    ];
    for (probe, want) in cases {
        assert_eq!(of_probe(&probe), want, "{}", probe.container);
        if want != OCTET_STREAM {
            assert_eq!(served(want).presentation, Presentation::Media, "{want}");
        }
    }
}

proptest! {
    /// Whatever a client writes, what is served is one of the listed strings.
    #[test]
    fn any_stored_string_is_served_as_a_listed_type(stored in "\\PC{0,40}") {
        let out = served(&stored);
        prop_assert!(SERVED.iter().any(|(_, s)| s.content_type == out.content_type));
    }

    #[test]
    fn parsing_never_panics_and_keeps_essences_to_tokens(given in "[ -~\t]{0,60}") {
        if let Ok(t) = parse(&given) {
            prop_assert!(t.essence.bytes().all(|b| is_tchar(b) || b == b'/'));
            prop_assert_eq!(t.essence.matches('/').count(), 1);
        }
    }
}
