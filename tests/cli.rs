//! The real `yuanjiao` binary, run as a process with a temp data dir and a clean environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sha2::Digest as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use yuanjiao::config::Settings;

const BIN: &str = env!("CARGO_BIN_EXE_yuanjiao");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A temp folder holding the data dir (`<tmp>/data`) and anything a test writes.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    /// `yuanjiao ARGS` with no inherited `YJ__`/`RUST_LOG` variables, only PATH, the data dir
    /// and no free-space floor; run from the sandbox.
    fn yj(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("YJ__STORAGE__DATA_DIR", self.data())
            .env("YJ__STORAGE__MIN_FREE_BYTES", "0")
            .current_dir(self.path())
            .stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A copy of `media/<course>` at `<tmp>/<parent>/<course>`; returns the copy's folder.
    fn copy_course(&self, parent: &str, course: &str) -> PathBuf {
        let from = Path::new(MANIFEST_DIR).join("media").join(course);
        let to = self.path().join(parent).join(course);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
        to
    }

    /// Every file under `<data>/blobs`, relative and sorted.
    fn blob_files(&self) -> Vec<String> {
        let root = self.data().join("blobs");
        let mut files = Vec::new();
        let mut pending = vec![root.clone()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    files.push(path.strip_prefix(&root).unwrap().display().to_string());
                }
            }
        }
        files.sort();
        files
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cannot run the yuanjiao binary")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}

#[track_caller]
fn assert_success(out: &Output) {
    assert!(out.status.success(), "expected success\n{}", describe(out));
}

#[track_caller]
fn assert_failure_mentioning(out: &Output, needle: &str) {
    assert!(!out.status.success(), "expected failure\n{}", describe(out));
    assert!(
        stderr(out).contains(needle),
        "stderr should mention {needle:?}\n{}",
        describe(out)
    );
}

/// Parses `yuanjiao config` output as the settings it claims to be.
fn printed_settings(out: &Output) -> Settings {
    assert_success(out);
    toml::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("config output is not Settings TOML: {e}\n{}", describe(out)))
}

// ---------------------------------------------------------------- config

#[test]
fn config_prints_the_effective_settings_as_toml() {
    let sb = Sandbox::new();
    let settings = printed_settings(&run(&mut sb.yj(&["config"])));
    let mut expected = Settings::default();
    expected.storage.data_dir = sb.data();
    expected.storage.min_free_bytes = 0;
    assert_eq!(settings, expected);
}

#[test]
fn an_environment_variable_overrides_a_setting_in_the_printed_config() {
    let sb = Sandbox::new();
    let out = run(sb.yj(&["config"]).env("YJ__SERVER__BIND", "127.0.0.1:9999"));
    assert_eq!(printed_settings(&out).server.bind, "127.0.0.1:9999");
    assert!(stdout(&out).contains("127.0.0.1:9999"));
}

#[test]
fn a_config_file_is_layered_over_the_defaults_and_the_environment_wins_over_it() {
    let sb = Sandbox::new();
    let file = sb.write(
        "settings.toml",
        "[server]\nbind = \"127.0.0.1:7777\"\nworkers = 3\n\n[log]\nfilter = \"debug\"\n",
    );
    let file = file.to_str().unwrap();

    let from_file = printed_settings(&run(&mut sb.yj(&["config", "--config", file])));
    assert_eq!(from_file.server.bind, "127.0.0.1:7777");
    assert_eq!(from_file.server.workers, 3);
    assert_eq!(from_file.log.filter, "debug");
    // Keys the file does not set keep their defaults.
    assert_eq!(
        from_file.server.keep_alive_secs,
        Settings::default().server.keep_alive_secs
    );

    let out = run(sb
        .yj(&["--config", file, "config"])
        .env("YJ__SERVER__BIND", "127.0.0.1:9999"));
    let with_env = printed_settings(&out);
    assert_eq!(
        with_env.server.bind, "127.0.0.1:9999",
        "env must win over the file"
    );
    assert_eq!(with_env.server.workers, 3, "the file still applies");
}

#[test]
fn a_bind_address_that_is_not_host_port_stops_start_up_naming_server_bind() {
    let sb = Sandbox::new();
    for args in [&["config"][..], &["serve"][..]] {
        let out = run(sb.yj(args).env("YJ__SERVER__BIND", "nonsense"));
        assert_failure_mentioning(&out, "server.bind");
    }
}

#[test]
fn a_non_numeric_min_free_bytes_stops_start_up_naming_the_key() {
    let sb = Sandbox::new();
    let out = run(sb
        .yj(&["config"])
        .env("YJ__STORAGE__MIN_FREE_BYTES", "lots"));
    assert_failure_mentioning(&out, "min_free_bytes");
}

#[test]
fn an_unknown_key_in_a_config_file_stops_start_up_naming_it() {
    let sb = Sandbox::new();
    let file = sb.write("settings.toml", "[server]\nbindd = \"x\"\n");
    let out = run(&mut sb.yj(&["config", "--config", file.to_str().unwrap()]));
    assert_failure_mentioning(&out, "bindd");
}

#[test]
fn a_missing_config_file_stops_start_up_with_a_clear_message() {
    let sb = Sandbox::new();
    let missing = sb.path().join("no-such-settings.toml");
    let out = run(&mut sb.yj(&["config", "--config", missing.to_str().unwrap()]));
    assert_failure_mentioning(&out, "no-such-settings.toml");
    assert!(stderr(&out).contains("--config"), "{}", describe(&out));
    assert!(stdout(&out).is_empty(), "{}", describe(&out));
}

// ---------------------------------------------------------------- ingest

fn course_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("course ")).collect()
}

#[test]
fn ingesting_the_sample_media_creates_each_course_and_repeating_it_changes_nothing() {
    let sb = Sandbox::new();
    let ingest = || run(sb.yj(&["ingest", "media"]).current_dir(MANIFEST_DIR));

    let first = ingest();
    assert_success(&first);
    let text = stdout(&first);
    for slug in ["party-basics", "village-station"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("course {slug} published as version 1: "))),
            "{slug} should be created\n{}",
            describe(&first)
        );
    }
    assert_eq!(course_lines(&text).len(), 2, "{}", describe(&first));
    let stored = text.lines().filter(|l| l.starts_with("  stored ")).count();
    assert!(stored > 0, "{}", describe(&first));
    let blobs = sb.blob_files();
    let videos = text
        .lines()
        .filter(|l| l.starts_with("  stored ") && l.contains(".mp4"))
        .count();
    let ready = text.lines().filter(|l| l.starts_with("  ready ")).count();
    assert_eq!(
        ready,
        videos,
        "every video gets its renditions\n{}",
        describe(&first)
    );
    assert!(
        blobs.len() > stored,
        "renditions, thumbnails and HLS files are blobs too"
    );

    let second = ingest();
    assert_success(&second);
    let text = stdout(&second);
    assert!(
        !text.lines().any(|l| l.starts_with("  stored")),
        "nothing should be stored again\n{}",
        describe(&second)
    );
    let courses = course_lines(&text);
    assert_eq!(courses.len(), 2, "{}", describe(&second));
    for line in courses {
        assert!(
            line.contains(" unchanged at version 1: "),
            "{line:?} should be unchanged\n{}",
            describe(&second)
        );
    }
    // File lines are indented two spaces; the probe summary under a media file, further.
    let files = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .collect::<Vec<_>>();
    assert!(!files.is_empty());
    for line in files {
        assert!(line.starts_with("  unchanged "), "{line:?}");
    }
    assert_eq!(sb.blob_files(), blobs, "the blob files are the same");
}

#[test]
fn ingesting_a_folder_without_any_course_toml_fails_with_a_message() {
    let sb = Sandbox::new();
    let empty = sb.path().join("nothing-here");
    std::fs::create_dir_all(empty.join("not-a-course")).unwrap();
    std::fs::write(empty.join("readme.md"), "no courses\n").unwrap();
    let out = run(&mut sb.yj(&["ingest", empty.to_str().unwrap()]));
    assert_failure_mentioning(&out, "course.toml");
    assert!(sb.blob_files().is_empty());
}

/// Breaks a copy of party-basics with `breakage`, checks the course is refused and nothing of it
/// is recorded, then repairs it with `repair` and checks the course is then created.
fn refused_then_created_once_fixed(
    breakage: impl FnOnce(&Path),
    repair: impl FnOnce(&Path),
    stderr_needle: &str,
) {
    let sb = Sandbox::new();
    let course = sb.copy_course("curriculum", "party-basics");
    let parent = sb.path().join("curriculum");
    let parent = parent.to_str().unwrap();

    breakage(&course);
    let out = run(&mut sb.yj(&["ingest", parent]));
    assert_failure_mentioning(&out, "not ingested");
    assert!(
        stderr(&out).contains(stderr_needle),
        "stderr should mention {stderr_needle:?}\n{}",
        describe(&out)
    );
    assert!(
        course_lines(&stdout(&out)).is_empty(),
        "no course may be reported as ingested\n{}",
        describe(&out)
    );
    assert_eq!(
        sb.blob_files(),
        Vec::<String>::new(),
        "no file of a refused course may be stored"
    );

    repair(&course);
    let out = run(&mut sb.yj(&["ingest", parent]));
    assert_success(&out);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("course party-basics published as version 1: ")),
        "the fixed course must be new to the store\n{}",
        describe(&out)
    );
}

fn edit_manifest(course: &Path, from: &str, to: &str) {
    let path = course.join("course.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "course.toml has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_course_whose_manifest_names_a_missing_file_is_not_ingested() {
    let file = "03-study-hours.ug-Arab.md";
    let saved = std::fs::read(
        Path::new(MANIFEST_DIR)
            .join("media/party-basics")
            .join(file),
    )
    .unwrap();
    refused_then_created_once_fixed(
        |course| std::fs::remove_file(course.join(file)).unwrap(),
        |course| std::fs::write(course.join(file), &saved).unwrap(),
        file,
    );
}

#[test]
fn a_course_whose_slug_differs_from_its_folder_name_is_not_ingested() {
    refused_then_created_once_fixed(
        |course| edit_manifest(course, "slug = \"party-basics\"", "slug = \"party-basix\""),
        |course| edit_manifest(course, "slug = \"party-basix\"", "slug = \"party-basics\""),
        "party-basix",
    );
}

#[test]
fn a_course_with_an_unknown_theme_is_not_ingested() {
    refused_then_created_once_fixed(
        |course| {
            edit_manifest(
                course,
                "themes = [\"constitution-discipline\"]",
                "themes = [\"astrology\"]",
            )
        },
        |course| {
            edit_manifest(
                course,
                "themes = [\"astrology\"]",
                "themes = [\"constitution-discipline\"]",
            )
        },
        "astrology",
    );
}

// ---------------------------------------------------------------- blob add

#[test]
fn blob_add_prints_the_sha256_stores_the_bytes_once_and_says_so_the_second_time() {
    let sb = Sandbox::new();
    let bytes: Vec<u8> = (0..100_000u32).flat_map(|n| n.to_le_bytes()).collect();
    let file = sb.path().join("lesson.bin");
    std::fs::write(&file, &bytes).unwrap();
    let expected = hex::encode(sha2::Sha256::digest(&bytes));

    let last_line = |out: &Output| stdout(out).lines().last().unwrap_or_default().to_string();

    let first = run(&mut sb.yj(&["blob", "add", file.to_str().unwrap()]));
    assert_success(&first);
    let printed = last_line(&first);
    assert_eq!(printed.len(), 64, "{}", describe(&first));
    assert!(printed.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(printed, expected);
    assert!(
        !stderr(&first).contains("already stored"),
        "{}",
        describe(&first)
    );

    let second = run(&mut sb.yj(&["blob", "add", file.to_str().unwrap()]));
    assert_success(&second);
    assert_eq!(last_line(&second), expected);
    assert!(
        stderr(&second).contains("already stored"),
        "{}",
        describe(&second)
    );

    let blob = sb
        .data()
        .join("blobs")
        .join(&expected[0..2])
        .join(&expected[2..4])
        .join(&expected);
    assert_eq!(std::fs::read(&blob).unwrap(), bytes, "{}", blob.display());
    assert_eq!(sb.blob_files().len(), 1);
}

#[test]
fn blob_add_of_a_missing_file_fails_naming_it() {
    let sb = Sandbox::new();
    let out = run(&mut sb.yj(&["blob", "add", "no-such-file.mp4"]));
    assert_failure_mentioning(&out, "no-such-file.mp4");
}

// ---------------------------------------------------------------- serve

/// Kills and reaps the child however the test ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends every stdout line of `child` to the returned channel, from a thread.
fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (at most `limit`) for a stdout line containing `needle`.
fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(e) => panic!(
                "no stdout line containing {needle:?} ({e}); lines seen:\n{}",
                seen.join("\n")
            ),
        }
    }
}

#[test]
fn serve_prints_its_address_and_answers_healthz() {
    let sb = Sandbox::new();
    let child = sb
        .yj(&["serve"])
        .env("YJ__SERVER__BIND", "127.0.0.1:0")
        .env("YJ__SERVER__WORKERS", "1")
        .env("YJ__LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let lines = stdout_lines(&mut child.0);

    let line = wait_for_line(&lines, "http://127.0.0.1:", Duration::from_secs(30));
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();

    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    let status = response.split_whitespace().nth(1);
    assert_eq!(status, Some("200"), "{response}");
}

#[test]
fn on_a_terminal_media_add_draws_a_progress_bar_and_elsewhere_prints_plain_lines() {
    let sb = Sandbox::new();
    let fixture = Path::new(MANIFEST_DIR).join("tests/fixtures/lesson-720p.mp4");
    let plain = run(&mut sb.yj(&["media", "add", fixture.to_str().unwrap()]));
    assert_success(&plain);
    let text = stdout(&plain);
    assert!(
        text.contains("  processing lesson-720p.mp4"),
        "{}",
        describe(&plain)
    );
    assert!(
        !text.contains('\u{1b}'),
        "no terminal codes when not on a terminal"
    );

    // `script` runs the command on a pseudo-terminal, as a person at a console would.
    let fresh = Sandbox::new();
    let command = format!("{BIN} media add {}", fixture.display());
    let template = fresh.yj(&[]);
    let env: Vec<_> = template
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let on_tty = run(Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .envs(env)
        .env("TERM", "xterm")
        .current_dir(fresh.path())
        .stdin(Stdio::null()));
    assert_success(&on_tty);
    let drawn = stdout(&on_tty);
    assert!(
        drawn.contains('\u{1b}') && drawn.contains("processing lesson-720p.mp4"),
        "{drawn:?}"
    );
    assert!(drawn.contains("%"), "the bar shows a percentage: {drawn:?}");
}
