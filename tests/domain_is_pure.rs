//! `src/domain/` holds pure rules: it must not name actix, sled, ffmpeg or tokio, so every rule
//! can be tested without a runtime, a database or a media toolchain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Crates the domain must not depend on. An identifier is forbidden when it is one of these or
/// starts with one followed by `_` (`actix_web`, `ffmpeg_next`, `tokio_util`, ...).
const FORBIDDEN: [&str; 4] = ["actix", "sled", "ffmpeg", "tokio"];

fn domain_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("domain")
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifiers of Rust source outside comments and string/char literals, with their
/// 1-based line numbers. Handles `//` and nested `/* */` comments, escapes, raw strings
/// (`r#"..."#`, `br"..."`), char literals and lifetimes.
fn code_identifiers(src: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = src.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    while i < chars.len() {
        let c = chars[i];
        match (c, at(i + 1)) {
            ('\n', _) => {
                line += 1;
                i += 1;
            }
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                let mut depth = 1;
                i += 2;
                while i < chars.len() && depth > 0 {
                    match (chars[i], at(i + 1)) {
                        ('/', Some('*')) => {
                            depth += 1;
                            i += 2;
                        }
                        ('*', Some('/')) => {
                            depth -= 1;
                            i += 2;
                        }
                        ('\n', _) => {
                            line += 1;
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
            }
            ('"', _) => {
                i += 1;
                while i < chars.len() {
                    match chars[i] {
                        '\\' => {
                            if at(i + 1) == Some('\n') {
                                line += 1;
                            }
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\n' => {
                            line += 1;
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
            }
            ('\'', next) => {
                if next == Some('\\') {
                    // An escaped char literal: '\n', '\'', '\u{1F600}'.
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' && chars[i] != '\n' {
                        i += 1;
                    }
                    i += 1;
                } else if next.is_some() && at(i + 2) == Some('\'') {
                    i += 3; // 'x'
                } else {
                    i += 1; // a lifetime or label: its name is read as an identifier next
                }
            }
            _ if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let ident: String = chars[start..i].iter().collect();
                // A raw string: r"...", r#"..."#, br##"..."##.
                if ident == "r" || ident == "br" || ident == "cr" {
                    let mut hashes = 0;
                    while at(i + hashes) == Some('#') {
                        hashes += 1;
                    }
                    if at(i + hashes) == Some('"') {
                        i += hashes + 1;
                        loop {
                            match at(i) {
                                None => break,
                                Some('"') if (1..=hashes).all(|k| at(i + k) == Some('#')) => {
                                    i += hashes + 1;
                                    break;
                                }
                                Some('\n') => line += 1,
                                Some(_) => {}
                            }
                            i += 1;
                        }
                        continue;
                    }
                }
                out.push((line, ident));
            }
            _ => i += 1,
        }
    }
    out
}

fn is_forbidden(ident: &str) -> bool {
    FORBIDDEN.iter().any(|word| {
        ident == *word
            || ident
                .strip_prefix(word)
                .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// `file:line: identifier` for every forbidden identifier in `src`.
fn violations(file: &str, src: &str) -> Vec<String> {
    code_identifiers(src)
        .into_iter()
        .filter(|(_, ident)| is_forbidden(ident))
        .map(|(line, ident)| format!("{file}:{line}: names `{ident}`"))
        .collect()
}

#[test]
fn the_domain_folder_has_rust_files_to_check() {
    let files = rust_files(&domain_dir());
    assert!(
        !files.is_empty(),
        "{} holds no .rs files: the purity check would pass vacuously",
        domain_dir().display()
    );
    assert!(
        files.iter().any(|f| f.ends_with("mod.rs")),
        "src/domain/mod.rs is missing"
    );
}

#[test]
fn no_domain_file_names_actix_sled_ffmpeg_or_tokio() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = rust_files(&domain_dir());
    assert!(!files.is_empty(), "src/domain/ holds no .rs files");
    let mut found = Vec::new();
    for path in &files {
        let src = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let shown = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        found.extend(violations(&shown, &src));
    }
    assert!(
        found.is_empty(),
        "src/domain/ must stay free of actix, sled, ffmpeg and tokio:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_uses_paths_and_attributes_of_the_forbidden_crates() {
    let src = "\
use std::fmt;
use actix_web::HttpResponse;
fn f() -> sled::Result<()> { Ok(()) }
#[tokio::test]
async fn g() {}
extern crate ffmpeg_next as ffmpeg;
";
    let found = violations("x.rs", src);
    assert_eq!(
        found,
        [
            "x.rs:2: names `actix_web`",
            "x.rs:3: names `sled`",
            "x.rs:4: names `tokio`",
            "x.rs:6: names `ffmpeg_next`",
            "x.rs:6: names `ffmpeg`",
        ]
    );
}

#[test]
fn the_check_ignores_comments_strings_and_lookalike_names() {
    let src = r####"
//! Pure rules: no actix, sled, ffmpeg or tokio here.
// use tokio::sync;
/* sled::open() /* nested actix */ still a comment: tokio */
let url = "http://x/"; let a = 1; // tokio after a string holding //
let s = "use actix_web::App; \" sled";
let r = r#"tokio "quoted" ffmpeg"#;
let c = '"'; let lifetime: &'static str = "";
let sledge = 1; let tokiox = 2; let my_tokio = 3;
"####;
    assert_eq!(violations("y.rs", src), Vec::<String>::new());
    let after = format!("{src}let t = tokio::spawn;\n");
    assert_eq!(violations("y.rs", &after), ["y.rs:10: names `tokio`"]);
}
