//! The `yuanjiao` command line.

mod console;
mod setup;

use setup::{AdminCommand, MemberCommand, OrgCommand, TerminalCommand, TlsCommand};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use yuanjiao::catalog::Applied;
use yuanjiao::clock::SystemClock;
use yuanjiao::config::{LogFormat, Settings};
use yuanjiao::services::Services;

// The ledger and sled allocate many small, short-lived buffers per request; glibc's allocator
// spent a quarter of the server's CPU on them under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "远教 yuanjiao: remote-education curriculum delivery and study-hour ledger"
)]
struct Cli {
    /// A TOML settings file layered over the built-in defaults (see config/default.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the media files.
    Serve,
    /// Load course folders (each with a course.toml) into the store; safe to repeat.
    Ingest {
        /// A course folder, or a folder of course folders.
        dir: PathBuf,
    },
    /// Work with single blobs.
    Blob {
        #[command(subcommand)]
        command: BlobCommand,
    },
    /// Work with lesson media.
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Members.
    Member {
        #[command(subcommand)]
        command: MemberCommand,
    },
    /// Stations (terminals).
    Terminal {
        #[command(subcommand)]
        command: TerminalCommand,
    },
    /// Certificates for HTTPS.
    Tls {
        #[command(subcommand)]
        command: TlsCommand,
    },
    /// First set-up and administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write an organisation's study-hour report for a year as CSV (UTF-8 with BOM).
    Report {
        #[arg(long)]
        org: String,
        /// The calendar year (default: this year in ledger.timezone).
        #[arg(long)]
        year: Option<i32>,
        /// One row per organisation, or per member.
        #[arg(long, value_enum, default_value = "org")]
        by: ReportBy,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The study-hour ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Print the effective settings after every layer is applied.
    Config,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportBy {
    Org,
    Member,
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Recompute every member's totals from the ledger's entries and compare with those kept.
    Verify,
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Probe a video or audio file, store it, and make its renditions, thumbnail and HLS now.
    Add { file: PathBuf },
    /// Run every queued media job, then stop.
    Process,
    /// Serve one probe or job request from `serve` on stdin (started by the server itself).
    #[command(hide = true)]
    Worker {
        #[arg(long, default_value = "info")]
        log_filter: String,
        #[arg(long, value_enum, default_value = "json")]
        log_format: WorkerLog,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum WorkerLog {
    Json,
    Pretty,
}

#[derive(Subcommand)]
enum BlobCommand {
    /// Store one file as a blob and print its sha256.
    Add { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The worker reads no settings: its server sends what it needs with the request.
    if let Command::Media {
        command: MediaCommand::Worker {
            log_filter,
            log_format,
        },
    } = &cli.command
    {
        init_tracing_with(log_filter, matches!(log_format, WorkerLog::Json));
        return yuanjiao::media::worker::run();
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("yuanjiao: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&settings);
    match run(cli.command, settings) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("yuanjiao: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Config => {
            print!("{}", toml::to_string_pretty(&settings)?);
            return Ok(ExitCode::SUCCESS);
        }
        Command::Tls { command } => return setup::tls(command),
        Command::Serve => return serve(settings),
        _ => {}
    }
    let services = Services::open(settings, Arc::new(SystemClock))?;
    match command {
        Command::Ingest { dir } => ingest(&services, &dir),
        Command::Blob {
            command: BlobCommand::Add { file },
        } => {
            let reader = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (stored, meta) = services.add_blob(reader, &name)?;
            services.store.flush()?;
            eprintln!(
                "{} bytes, {}, {}",
                meta.size,
                meta.mime,
                if stored.new {
                    "stored"
                } else {
                    "already stored"
                }
            );
            println!("{}", stored.sha256);
            Ok(ExitCode::SUCCESS)
        }
        Command::Media { command } => media(&services, command),
        Command::Org { command } => setup::org(&services, command),
        Command::Member { command } => setup::member(&services, command),
        Command::Terminal { command } => setup::terminal(&services, command),
        Command::Admin { command } => setup::admin(&services, command),
        Command::Report { org, year, by, out } => report(&services, &org, year, by, out),
        Command::Ledger {
            command: LedgerCommand::Verify,
        } => {
            let problems = yuanjiao::ledger::report::verify(&services)?;
            for problem in &problems {
                println!("{problem}");
            }
            println!("{} differences", problems.len());
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Config | Command::Tls { .. } | Command::Serve => Ok(ExitCode::SUCCESS),
    }
}

fn report(
    services: &Services,
    org: &str,
    year: Option<i32>,
    by: ReportBy,
    out: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use yuanjiao::ledger::report as r;
    let year = year.unwrap_or_else(|| r::this_year(services));
    let Some(found) = r::org_report(services, org, year)? else {
        anyhow::bail!("no organisation {org:?}");
    };
    let csv = match by {
        ReportBy::Org => r::orgs_csv(&found, year)?,
        ReportBy::Member => r::members_csv(&r::member_rows(services, &found))?,
    };
    match out {
        Some(path) => std::fs::write(&path, csv)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::Write::write_all(&mut std::io::stdout(), &csv)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks certificates and binds the listeners before opening the store, so a bad setting
/// stops start-up with its own message.
fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    // Every slow client holds a socket and an open blob: use all the descriptors allowed.
    if let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::debug!(limit, "open file limit");
    }
    let listen = |addr: &str| -> anyhow::Result<std::net::TcpListener> {
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))
    };
    let plain = match settings.server.bind.as_str() {
        "" => None,
        addr => Some(listen(addr)?),
    };
    let tls = match settings.tls.bind.as_str() {
        "" => None,
        addr => {
            let config = yuanjiao::tls::server_config(&settings.tls.cert, &settings.tls.key)?;
            Some((listen(addr)?, config))
        }
    };
    let mut urls = Vec::new();
    if let Some(l) = &plain {
        urls.push(format!("http://{}/", l.local_addr()?));
    }
    if let Some((l, _)) = &tls {
        urls.push(format!("https://{}/", l.local_addr()?));
    }
    let services = Services::open(settings, Arc::new(SystemClock))?;
    let metrics = yuanjiao::http::Metrics::new()?;
    let courses = services.catalog.view(&services)?.published();
    let blobs = services.store.blob_count()?;
    let services = Arc::new(services);
    yuanjiao::media::jobs::spawn_workers(Arc::clone(&services))?;
    yuanjiao::uploads::spawn_housekeeping(Arc::clone(&services))?;
    actix_web::rt::System::new().block_on(async move {
        let server = yuanjiao::http::start_with_tls(services, metrics, plain, tls)?;
        tracing::info!(urls = urls.join(" "), courses, blobs, "serving");
        println!(
            "yuanjiao is serving {courses} courses ({blobs} files) at {}",
            urls.join(" and ")
        );
        server.await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn ingest(services: &Services, dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut console = console::Console::new();
    let mut failed = 0;
    for course_dir in yuanjiao::ingest::course_dirs(dir)? {
        match yuanjiao::ingest::ingest_course(services, &course_dir, &mut console) {
            Ok(outcome) => {
                let state = match outcome.record {
                    Applied::Published(version) => format!("published as version {version}"),
                    Applied::Unchanged(version) => format!("unchanged at version {version}"),
                };
                println!(
                    "course {} {state}: {} files",
                    outcome.slug,
                    outcome.files.len()
                );
            }
            Err(e) => {
                failed += 1;
                eprintln!("course in {} not ingested: {e}", course_dir.display());
            }
        }
    }
    let (_, failed_jobs) = console.process_queue(services)?;
    Ok(if failed + failed_jobs == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn media(services: &Services, command: MediaCommand) -> anyhow::Result<ExitCode> {
    if let MediaCommand::Worker { .. } = command {
        // Dispatched in `main` before any settings are read.
        return Ok(yuanjiao::media::worker::run());
    }
    let mut console = console::Console::new();
    if let MediaCommand::Add { file } = command {
        let probe = match yuanjiao::media::jobs::admit(&services.settings, &file) {
            Ok(probe) => probe,
            Err(reason) => {
                eprintln!("{}: cannot play: {reason}", file.display());
                return Ok(ExitCode::FAILURE);
            }
        };
        println!("{}: {}", file.display(), probe.summary());
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reader = std::fs::File::open(&file)
            .with_context(|| format!("cannot open {}", file.display()))?;
        let (stored, _) = services.add_blob(reader, &name)?;
        yuanjiao::media::jobs::register(services, &stored.sha256, &probe)?;
        services.store.flush()?;
        println!("{}", stored.sha256);
    }
    let (_, failed) = console.process_queue(services)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn init_tracing(settings: &Settings) {
    let json = match settings.log.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    init_tracing_with(&settings.log.filter, json);
}

fn init_tracing_with(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
