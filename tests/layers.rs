//! The house's layers, kept: request handlers ask use cases and never read the repositories
//! themselves; the media pipeline and the use cases stand on the infrastructure and never
//! reach up into the application (`services`) or, for media, into a use case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn files_under(relative: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if root.is_file() {
        return vec![root];
    }
    let mut files = Vec::new();
    let mut pending = vec![root];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
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

/// Every `file:line: text` under `relative` where `bad` says a line breaks the rule.
fn offences(relative: &str, bad: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for file in files_under(relative) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines().enumerate().peekable();
        while let Some((n, line)) = lines.next() {
            // A field access split over two lines (`services\n    .store`) counts as well.
            let next = lines.peek().map_or("", |(_, l)| l.trim_start());
            let joined = format!("{}{}", line.trim_end(), next);
            if bad(line)
                || (line
                    .trim_end()
                    .ends_with(|c: char| c.is_alphanumeric() || c == ')')
                    && bad(&joined))
            {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

fn reads_repositories(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices(".store").any(|(at, _)| {
        let after = code[at + 6..].chars().next();
        !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn request_handlers_never_read_the_repositories_themselves() {
    let found = offences("src/http", reads_repositories);
    assert!(
        found.is_empty(),
        "handlers reading storage:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_media_pipeline_imports_no_use_case_and_not_the_application() {
    let uses = [
        "crate::catalog",
        "crate::uploads",
        "crate::ledger",
        "crate::people",
        "crate::services",
        "crate::sign_in",
    ];
    let found = offences("src/media", |l| uses.iter().any(|u| l.contains(u)));
    assert!(found.is_empty(), "media reaching up:\n{}", found.join("\n"));
}

#[test]
fn use_cases_do_not_reach_the_application_they_run_in() {
    let mut found = Vec::new();
    for place in [
        "src/catalog",
        "src/people",
        "src/uploads",
        "src/ledger",
        "src/sign_in.rs",
        "src/tokens.rs",
        "src/access.rs",
        "src/infra.rs",
        "src/repo",
        "src/store",
    ] {
        found.extend(offences(place, |l| l.contains("crate::services")));
    }
    assert!(
        found.is_empty(),
        "use cases naming services:\n{}",
        found.join("\n")
    );
}
