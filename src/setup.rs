//! The set-up commands of a fresh install: the first tokens, organisations, members from CSV,
//! stations, and certificates for HTTPS.

use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use yuanjiao::domain::org::{Org, Principal};
use yuanjiao::repo::Terminal;
use yuanjiao::services::Services;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// committee, general-branch or branch.
        #[arg(long)]
        kind: String,
        /// The parent organisation; none for a top committee.
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        region: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Import members from a CSV file (id,name,org,posts,field,joined,languages,pin,home_org).
    Import { file: PathBuf },
}

#[derive(Subcommand)]
pub enum TerminalCommand {
    /// Register a station and print its token (shown only this once).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        org: String,
        /// Languages, comma-separated, e.g. bo-Tibt,zh-Hans.
        #[arg(long, value_delimiter = ',')]
        languages: Vec<String>,
        /// Who its catalogue is for, comma-separated (e.g. rural,community); none for everyone.
        #[arg(long, value_delimiter = ',')]
        audiences: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum TlsCommand {
    /// Make a CA for a station network and a server certificate signed by it: writes ca.pem
    /// (install on stations), cert.pem and key.pem (set as tls.cert and tls.key).
    StationCert {
        #[arg(long)]
        out: PathBuf,
        /// Host names or IP addresses the server answers to.
        #[arg(long = "name", required = true)]
        names: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Issue a token and print it (it is shown only this once).
    Token {
        /// admin, editor, or manager (with --org).
        #[arg(long)]
        role: String,
        /// The organisation a manager token manages.
        #[arg(long)]
        org: Option<String>,
    },
}

pub fn org(services: &Services, command: OrgCommand) -> anyhow::Result<ExitCode> {
    let OrgCommand::Add {
        id,
        name,
        kind,
        parent,
        region,
    } = command;
    let kind = serde_json::from_value(serde_json::Value::String(kind.clone()))
        .map_err(|_| anyhow::anyhow!("--kind {kind:?} is committee, general-branch or branch"))?;
    let org = Org {
        id,
        name,
        kind,
        region,
        parent,
    };
    yuanjiao::people::create_org(services, &org, "cli")?;
    println!("organisation {} created", org.id);
    Ok(ExitCode::SUCCESS)
}

pub fn member(services: &Services, command: MemberCommand) -> anyhow::Result<ExitCode> {
    let MemberCommand::Import { file } = command;
    let reader =
        std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
    let started = std::time::Instant::now();
    let report = yuanjiao::people_import::import_members(services, reader, "cli")?;
    for (line, reason) in &report.errors {
        eprintln!("{}:{line}: {reason}", file.display());
    }
    println!(
        "{} members created, {} unchanged, {} rows refused, in {:.1} s",
        report.created,
        report.unchanged,
        report.errors.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn terminal(services: &Services, command: TerminalCommand) -> anyhow::Result<ExitCode> {
    let TerminalCommand::Add {
        id,
        name,
        org,
        languages,
        audiences,
    } = command;
    let languages = languages
        .iter()
        .map(|l| l.parse())
        .collect::<Result<Vec<_>, _>>()?;
    let audiences = audiences
        .iter()
        .map(|a| serde_json::from_value(serde_json::Value::String(a.clone())))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("--audiences: {e}"))?;
    let terminal = Terminal {
        id,
        name,
        org,
        languages,
        audiences,
        disabled: false,
    };
    println!(
        "{}",
        yuanjiao::people::create_terminal(services, &terminal, "cli")?
    );
    Ok(ExitCode::SUCCESS)
}

pub fn admin(services: &Services, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let AdminCommand::Token { role, org } = command;
    let principal = Principal::named(&role, org)?;
    if let Principal::Manager { org } = &principal {
        anyhow::ensure!(
            services.store.org(org)?.is_some(),
            "no organisation {org:?}"
        );
    }
    println!(
        "{}",
        yuanjiao::people::issue_token(services, principal, None, "cli")?
    );
    Ok(ExitCode::SUCCESS)
}

pub fn tls(command: TlsCommand) -> anyhow::Result<ExitCode> {
    let TlsCommand::StationCert { out, names } = command;
    yuanjiao::tls::write_station_certificates(&out, &names)?;
    println!(
        "wrote {0}/ca.pem, {0}/cert.pem and {0}/key.pem",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
