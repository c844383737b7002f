//! How a stored file presents itself over HTTP: its media type and `Content-Disposition`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The media type of a file, by its name. HLS, segment and subtitle types are fixed here
/// because the general tables get them wrong or miss them; text is always sent as UTF-8.
pub fn content_type_for(filename: &str) -> String {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let fixed = match ext.as_str() {
        "m3u8" => Some("application/vnd.apple.mpegurl"),
        "m4s" => Some("video/iso.segment"),
        "ts" => Some("video/mp2t"),
        "vtt" => Some("text/vtt; charset=utf-8"),
        "md" | "markdown" => Some("text/markdown; charset=utf-8"),
        "mp4" | "m4v" => Some("video/mp4"),
        "m4a" => Some("audio/mp4"),
        _ => None,
    };
    if let Some(t) = fixed {
        return t.to_string();
    }
    let guessed = mime_guess::from_ext(&ext).first_or_octet_stream();
    if guessed.type_() == mime_guess::mime::TEXT && guessed.get_param("charset").is_none() {
        format!("{guessed}; charset=utf-8")
    } else {
        guessed.to_string()
    }
}

/// Everything but unreserved characters is escaped in an RFC 8187 `ext-value`.
const ATTR_CHAR_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `inline; filename="<ascii fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266, 8187).
pub fn inline_disposition(filename: &str) -> String {
    disposition("inline", filename)
}

/// The same as `inline_disposition`, for a file the browser must save rather than open.
pub fn attachment_disposition(filename: &str) -> String {
    disposition("attachment", filename)
}

fn disposition(kind: &str, filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let fallback: String = base
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    if base.is_empty() {
        return kind.to_string();
    }
    if fallback == base {
        return format!("{kind}; filename=\"{base}\"");
    }
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(base, ATTR_CHAR_ESCAPES)
    )
}

/// Whether an `If-None-Match` value names `etag`, by the weak comparison RFC 9110 §13.1.2
/// asks for (a `W/` prefix on either side is ignored).
pub fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let etag = opaque(etag);
    if_none_match
        .split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly() {
        let tag = "W/\"abc\"";
        assert!(none_match_hits("W/\"abc\"", tag));
        assert!(none_match_hits("\"abc\"", tag));
        assert!(none_match_hits("\"x\", W/\"abc\"", tag));
        assert!(none_match_hits("*", tag));
        assert!(!none_match_hits("\"abcd\"", tag));
        assert!(!none_match_hits("", tag));
    }

    #[test]
    fn media_types_cover_streaming_and_text_files() {
        let cases = [
            ("a.mp4", "video/mp4"),
            ("hls/master.m3u8", "application/vnd.apple.mpegurl"),
            ("seg-001.M4S", "video/iso.segment"),
            ("seg.ts", "video/mp2t"),
            ("sub.vtt", "text/vtt; charset=utf-8"),
            ("lesson.zh-Hans.md", "text/markdown; charset=utf-8"),
            ("thumb.jpg", "image/jpeg"),
            ("notes.txt", "text/plain; charset=utf-8"),
            ("book.pdf", "application/pdf"),
            ("noextension", "application/octet-stream"),
        ];
        for (name, want) in cases {
            assert_eq!(content_type_for(name), want, "{name}");
        }
    }

    #[test]
    fn disposition_keeps_unicode_names_and_stays_ascii_on_the_wire() {
        assert_eq!(
            inline_disposition("lesson.mp4"),
            "inline; filename=\"lesson.mp4\""
        );
        let d = inline_disposition("党章 第一课.mp4");
        assert!(d.is_ascii());
        assert_eq!(
            d,
            "inline; filename=\"__ ___.mp4\"; filename*=UTF-8''%E5%85%9A%E7%AB%A0%20%E7%AC%AC%E4%B8%80%E8%AF%BE.mp4"
        );
        assert_eq!(
            inline_disposition("a\"b.txt"),
            "inline; filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt"
        );
        assert_eq!(inline_disposition("../x/y.md"), "inline; filename=\"y.md\"");
        assert_eq!(
            attachment_disposition("课.pdf"),
            "attachment; filename=\"_.pdf\"; filename*=UTF-8''%E8%AF%BE.pdf"
        );
        assert_eq!(attachment_disposition(""), "attachment");
    }
}
