//! Media types the server states for its files. A declared type is parsed by RFC 9110's
//! grammar (§8.3.1), never passed on as written; what `/media` sends comes from a fixed list
//! of types the server knows how to present safely, or from the probe of an audio or video
//! file, so no stored string, old or new, ever reaches a browser as a type.

use super::media::Probe;

/// A parsed `type/subtype; name=value…`: names lower-case, values unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// `type/subtype`, lower-case.
    pub essence: String,
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a media type: {reason}")]
pub struct MalformedType {
    pub given: String,
    pub reason: &'static str,
}

/// Longer than any real type with its parameters (RFC 6838 caps each name at 127 characters).
const MAX_LEN: usize = 255;

impl MediaType {
    /// The part before the slash: `video`, `text`, …
    pub fn top(&self) -> &str {
        self.essence.split('/').next().unwrap_or_default()
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `media-type = type "/" subtype parameters`, with `parameters = *( OWS ";" OWS [ parameter ] )`.
pub fn parse(given: &str) -> Result<MediaType, MalformedType> {
    let bad = |reason| MalformedType {
        given: given.to_string(),
        reason,
    };
    if given.len() > MAX_LEN {
        return Err(bad("longer than 255 characters"));
    }
    let bytes = given.as_bytes();
    let mut at = 0;
    let skip_ows = |at: &mut usize| {
        while *at < bytes.len() && is_ows(bytes[*at]) {
            *at += 1;
        }
    };
    let token = |at: &mut usize| {
        let start = *at;
        while *at < bytes.len() && is_tchar(bytes[*at]) {
            *at += 1;
        }
        given[start..*at].to_ascii_lowercase()
    };
    skip_ows(&mut at);
    let top = token(&mut at);
    if top.is_empty() || bytes.get(at) != Some(&b'/') {
        return Err(bad("expected type/subtype"));
    }
    at += 1;
    let sub = token(&mut at);
    if sub.is_empty() {
        return Err(bad("expected type/subtype"));
    }
    let mut params: Vec<(String, String)> = Vec::new();
    loop {
        skip_ows(&mut at);
        match bytes.get(at) {
            None => break,
            Some(b';') => at += 1,
            Some(_) => return Err(bad("only ';' and parameters may follow the subtype")),
        }
        skip_ows(&mut at);
        if at == bytes.len() || bytes[at] == b';' {
            continue; // an empty parameter is allowed
        }
        let name = token(&mut at);
        if name.is_empty() || bytes.get(at) != Some(&b'=') {
            return Err(bad("a parameter is name=value"));
        }
        at += 1;
        let value = if bytes.get(at) == Some(&b'"') {
            quoted(bytes, &mut at).ok_or_else(|| bad("an unterminated or invalid quoted value"))?
        } else {
            let value = &given[at..];
            let len = value.bytes().take_while(|b| is_tchar(*b)).count();
            at += len;
            value[..len].to_string()
        };
        if value.is_empty() {
            return Err(bad("a parameter is name=value"));
        }
        if params.iter().any(|(n, _)| *n == name) {
            return Err(bad("a parameter appears twice"));
        }
        params.push((name, value));
    }
    Ok(MediaType {
        essence: format!("{top}/{sub}"),
        params,
    })
}

/// A quoted-string starting at `bytes[*at] == '"'`, unescaped; ASCII only (no obs-text).
fn quoted(bytes: &[u8], at: &mut usize) -> Option<String> {
    let mut out = String::new();
    *at += 1;
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        match b {
            b'"' => return Some(out),
            b'\\' => {
                let escaped = *bytes.get(*at)?;
                if !(escaped == b'\t' || (b' '..=b'~').contains(&escaped)) {
                    return None;
                }
                out.push(char::from(escaped));
                *at += 1;
            }
            b'\t' | b' '..=b'~' => out.push(char::from(b)),
            _ => return None,
        }
    }
}

/// How a browser may present a file from `/media`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presentation {
    /// Played or shown by the browser's own decoders (audio, video, HLS, JPEG): no script runs.
    Media,
    /// Read as text, inline (plain text, markdown, subtitles).
    Text,
    /// Anything else: a download, sandboxed should a browser open it anyway.
    Download,
}

/// The `Content-Type` a blob is served with and how it may be presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    pub content_type: &'static str,
    pub presentation: Presentation,
}

pub const OCTET_STREAM: &str = "application/octet-stream";
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
pub const TEXT_MARKDOWN: &str = "text/markdown; charset=utf-8";
pub const PDF: &str = "application/pdf";

const DOWNLOAD: Served = Served {
    content_type: OCTET_STREAM,
    presentation: Presentation::Download,
};

/// Every type `/media` states, by essence. Audio and video are what the probe names for the
/// demuxers lessons come in (see `of_probe`), plus `video/quicktime` and `audio/x-wav`, which
/// older blobs were recorded with (by file name, or as a browser declared them). HLS playlists and fMP4/TS segments are the packaging the
/// server makes; JPEG is its thumbnails; WebVTT is for subtitle tracks. Text is always UTF-8.
const SERVED: [(&str, Served); 25] = {
    use Presentation::{Download, Media, Text};
    const fn s(content_type: &'static str, presentation: Presentation) -> Served {
        Served {
            content_type,
            presentation,
        }
    }
    [
        ("video/mp4", s("video/mp4", Media)),
        ("audio/mp4", s("audio/mp4", Media)),
        ("video/quicktime", s("video/quicktime", Media)),
        ("video/webm", s("video/webm", Media)),
        ("audio/webm", s("audio/webm", Media)),
        ("video/x-matroska", s("video/x-matroska", Media)),
        ("audio/x-matroska", s("audio/x-matroska", Media)),
        ("video/mp2t", s("video/mp2t", Media)),
        ("video/iso.segment", s("video/iso.segment", Media)),
        ("video/x-msvideo", s("video/x-msvideo", Media)),
        ("video/x-flv", s("video/x-flv", Media)),
        ("video/ogg", s("video/ogg", Media)),
        ("audio/ogg", s("audio/ogg", Media)),
        ("audio/mpeg", s("audio/mpeg", Media)),
        ("audio/aac", s("audio/aac", Media)),
        ("audio/wav", s("audio/wav", Media)),
        ("audio/x-wav", s("audio/wav", Media)),
        ("audio/flac", s("audio/flac", Media)),
        (
            "application/vnd.apple.mpegurl",
            s("application/vnd.apple.mpegurl", Media),
        ),
        ("image/jpeg", s("image/jpeg", Media)),
        ("text/plain", s(TEXT_PLAIN, Text)),
        ("text/markdown", s(TEXT_MARKDOWN, Text)),
        ("text/vtt", s("text/vtt; charset=utf-8", Text)),
        ("application/pdf", s(PDF, Download)),
        ("application/octet-stream", DOWNLOAD),
    ]
};

/// What a blob recorded as `stored` is served as: its essence looked up in the list above;
/// anything malformed or unlisted is an octet-stream download.
pub fn served(stored: &str) -> Served {
    parse(stored)
        .ok()
        .and_then(|t| {
            SERVED
                .iter()
                .find(|(essence, _)| *essence == t.essence)
                .map(|(_, served)| *served)
        })
        .unwrap_or(DOWNLOAD)
}

/// The type of an admitted audio or video file, by the demuxer that read it and whether a
/// picture decoded; an unknown demuxer is an octet-stream.
pub fn of_probe(probe: &Probe) -> &'static str {
    let picture = probe.video().is_some();
    let by_picture = |video, audio| if picture { video } else { audio };
    let demuxers: Vec<&str> = probe.container.split(',').collect();
    let is = |name| demuxers.contains(&name);
    if is("mp4") || is("mov") {
        by_picture("video/mp4", "audio/mp4")
    } else if is("matroska") || is("webm") {
        const WEBM_CODECS: [&str; 5] = ["vp8", "vp9", "av1", "opus", "vorbis"];
        let webm = probe
            .streams
            .iter()
            .filter(|s| s.decodable)
            .all(|s| WEBM_CODECS.contains(&s.codec.as_str()));
        match webm {
            true => by_picture("video/webm", "audio/webm"),
            false => by_picture("video/x-matroska", "audio/x-matroska"),
        }
    } else if is("ogg") {
        by_picture("video/ogg", "audio/ogg")
    } else if is("mpegts") {
        "video/mp2t"
    } else if is("avi") {
        "video/x-msvideo"
    } else if is("flv") {
        "video/x-flv"
    } else if is("mp3") {
        "audio/mpeg"
    } else if is("aac") {
        "audio/aac"
    } else if is("wav") {
        "audio/wav"
    } else if is("flac") {
        "audio/flac"
    } else {
        OCTET_STREAM
    }
}

#[cfg(test)]
#[path = "media_type_tests.rs"]
mod tests;
