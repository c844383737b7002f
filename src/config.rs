//! Typed, validated settings: built-in defaults, then `config/default.toml` (embedded), then an
//! optional file, then `YJ__SECTION__KEY` environment variables.

use crate::domain::lang::{Fallbacks, Lang};
use crate::domain::media::{Limits, Rung};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub tls: TlsSettings,
    pub storage: StorageSettings,
    pub media: MediaSettings,
    pub catalog: CatalogSettings,
    pub ledger: LedgerSettings,
    pub uploads: UploadSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
}

/// Tokens and member sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    #[serde(with = "humantime_serde_duration")]
    pub member_token_ttl: std::time::Duration,
    pub sign_in_per_address_burst: u32,
    pub sign_in_per_address_per_minute: u32,
    pub sign_in_global_burst: u32,
    pub sign_in_global_per_minute: u32,
    pub max_concurrent_pin_checks: usize,
    pub tracked_sign_in_ids: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSettings {
    pub max_size: u64,
    /// Kinds of file an upload may be (from its filetype or file name), each one of
    /// `domain::upload::UPLOAD_KINDS`.
    pub allowed_types: Vec<String>,
    pub max_in_flight_per_editor: usize,
    #[serde(with = "humantime_serde_duration")]
    pub expire_after: std::time::Duration,
    #[serde(with = "humantime_serde_duration")]
    pub sweep_every: std::time::Duration,
}

pub use crate::config_ledger::LedgerSettings;
pub use crate::config_values::ConfigError;
use crate::config_values::{humantime_serde_duration, invalid};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSettings {
    /// Language → the languages to try, in order, when a lesson lacks it (zh-Hans comes last).
    pub fallback: BTreeMap<Lang, Vec<Lang>>,
    pub page_size: usize,
    pub max_page_size: usize,
    pub sync_page_size: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSettings {
    pub workers: usize,
    pub threads: usize,
    pub x264_preset: String,
    pub audio_kbps: u32,
    pub keyframe_secs: u32,
    pub segment_secs: u32,
    pub thumbnail_width: u32,
    pub max_attempts: u32,
    pub max_width: u32,
    pub max_height: u32,
    pub max_duration_secs: u64,
    pub max_streams: usize,
    pub max_frame_rate: u32,
    /// The program run as `PROGRAM media worker`; empty for this very binary.
    pub worker_command: PathBuf,
    /// Address space (RLIMIT_AS) of each media worker process.
    pub worker_memory_bytes: u64,
    /// CPU time (RLIMIT_CPU) of each media worker process.
    #[serde(with = "humantime_serde_duration")]
    pub worker_cpu_time: std::time::Duration,
    /// Wall-clock time a job's worker may take before it is killed.
    #[serde(with = "humantime_serde_duration")]
    pub worker_wall_time: std::time::Duration,
    /// Wall-clock time a probe's worker may take before it is killed.
    #[serde(with = "humantime_serde_duration")]
    pub probe_wall_time: std::time::Duration,
    pub ladder: Vec<Rung>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub max_connections_per_worker: usize,
    pub header_timeout_ms: u64,
    pub keep_alive_secs: u64,
    pub send_timeout_secs: u64,
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    pub bind: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// `Strict-Transport-Security: max-age` on HTTPS answers, in seconds; 0 sends none.
    pub hsts_max_age: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    pub min_free_bytes: u64,
    /// Where the repositories live: sled in `data_dir` (the default), or PostgreSQL.
    pub backend: StorageBackend,
    /// For `backend = "postgres"`: e.g. `postgres://yuanjiao@10.0.0.5/yuanjiao`.
    pub database_url: String,
    /// Connections each process keeps to PostgreSQL.
    pub pool_size: usize,
    /// PostgreSQL cancels a statement that runs longer.
    #[serde(with = "humantime_serde_duration")]
    pub statement_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Sled,
    Postgres,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                bind: "127.0.0.1:8080".into(),
                workers: 0,
                max_connections_per_worker: 10_000,
                header_timeout_ms: 5_000,
                keep_alive_secs: 30,
                send_timeout_secs: 60,
                max_body_bytes: 1 << 20,
            },
            tls: TlsSettings {
                bind: String::new(),
                cert: PathBuf::new(),
                key: PathBuf::new(),
                hsts_max_age: 31_536_000,
            },
            storage: StorageSettings {
                data_dir: "data".into(),
                min_free_bytes: 256 << 20,
                backend: StorageBackend::Sled,
                database_url: String::new(),
                pool_size: 16,
                statement_timeout: std::time::Duration::from_secs(30),
            },
            media: MediaSettings {
                workers: 1,
                threads: 2,
                x264_preset: "veryfast".into(),
                audio_kbps: 48,
                keyframe_secs: 2,
                segment_secs: 4,
                thumbnail_width: 320,
                max_attempts: 3,
                max_width: 3840,
                max_height: 2160,
                max_duration_secs: 6 * 3600,
                max_streams: 16,
                max_frame_rate: 120,
                worker_command: PathBuf::new(),
                worker_memory_bytes: 2 << 30,
                worker_cpu_time: std::time::Duration::from_secs(16 * 3600),
                worker_wall_time: std::time::Duration::from_secs(8 * 3600),
                probe_wall_time: std::time::Duration::from_secs(600),
                ladder: vec![
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
                ],
            },
            catalog: CatalogSettings {
                fallback: BTreeMap::new(),
                page_size: 20,
                max_page_size: 100,
                sync_page_size: 50,
            },
            ledger: LedgerSettings {
                minutes_per_hour: 45,
                member_hours: 32,
                leader_hours: 56,
                timezone: "Asia/Shanghai".into(),
                max_rate: 1.0,
                offline_max_age: std::time::Duration::from_secs(90 * 86_400),
                tolerance_ms: 2000,
                max_clock_skew: std::time::Duration::from_secs(300),
                max_member_body: 256 << 10,
                max_station_body: 16 << 20,
                max_reports_per_member_day: 17_280,
                attention_checks: true,
                attention_check_min: std::time::Duration::from_secs(8 * 60),
                attention_check_max: std::time::Duration::from_secs(15 * 60),
                attention_grace: std::time::Duration::from_secs(60),
                anomaly_hours_per_day: 8,
                anomaly_rejections: 3,
                anomaly_missed_checks: 3,
                offline_grant_days: 14,
            },
            uploads: UploadSettings {
                max_size: 8 << 30,
                allowed_types: vec![
                    "video/".into(),
                    "audio/".into(),
                    "text/markdown".into(),
                    "text/plain".into(),
                    "application/pdf".into(),
                ],
                max_in_flight_per_editor: 4,
                expire_after: std::time::Duration::from_secs(24 * 3600),
                sweep_every: std::time::Duration::from_secs(600),
            },
            auth: AuthSettings {
                member_token_ttl: std::time::Duration::from_secs(30 * 86_400),
                sign_in_per_address_burst: 20,
                sign_in_per_address_per_minute: 10,
                sign_in_global_burst: 200,
                sign_in_global_per_minute: 1200,
                max_concurrent_pin_checks: 4,
                tracked_sign_in_ids: 100_000,
            },
            log: LogSettings {
                filter: "info".into(),
                format: LogFormat::Auto,
            },
        }
    }
}

impl Settings {
    /// Loads every layer; `file` must exist when given.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Invalid {
                    key: "--config".into(),
                    reason: format!("{} is not a readable file", path.display()),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        let settings: Settings = figment
            .merge(Env::prefixed("YJ__").split("__"))
            .extract()
            .map_err(key_error)?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.server.bind.is_empty() && self.server.bind.parse::<SocketAddr>().is_err() {
            return invalid(
                "server.bind",
                format!(
                    "{:?} is not host:port (e.g. 127.0.0.1:8080)",
                    self.server.bind
                ),
            );
        }
        if !self.tls.bind.is_empty() {
            if self.tls.bind.parse::<SocketAddr>().is_err() {
                return invalid(
                    "tls.bind",
                    format!("{:?} is not host:port (e.g. 0.0.0.0:8443)", self.tls.bind),
                );
            }
            if self.tls.cert.as_os_str().is_empty() || self.tls.key.as_os_str().is_empty() {
                return invalid(
                    "tls.cert",
                    "an HTTPS listener needs tls.cert and tls.key".into(),
                );
            }
        }
        if self.server.bind.is_empty() && self.tls.bind.is_empty() {
            return invalid(
                "server.bind",
                "with tls.bind also empty there is nothing to listen on".into(),
            );
        }
        if self.server.max_connections_per_worker == 0 {
            return invalid(
                "server.max_connections_per_worker",
                "must be at least 1".into(),
            );
        }
        if self.server.header_timeout_ms == 0 {
            return invalid("server.header_timeout_ms", "must be at least 1".into());
        }
        if self.server.send_timeout_secs == 0 {
            return invalid("server.send_timeout_secs", "must be at least 1".into());
        }
        let st = &self.storage;
        if st.data_dir.as_os_str().is_empty() {
            return invalid("storage.data_dir", "must not be empty".into());
        }
        if st.backend == StorageBackend::Postgres && st.database_url.is_empty() {
            return invalid(
                "storage.database_url",
                "backend \"postgres\" needs one".into(),
            );
        }
        if !(1..=1000).contains(&st.pool_size) {
            return invalid("storage.pool_size", "must be between 1 and 1000".into());
        }
        if st.statement_timeout < std::time::Duration::from_secs(1) {
            return invalid("storage.statement_timeout", "must be at least 1s".into());
        }
        let m = &self.media;
        if m.workers == 0 || m.threads == 0 {
            return invalid(
                "media.workers",
                "workers and threads must be at least 1".into(),
            );
        }
        if m.max_attempts == 0 {
            return invalid("media.max_attempts", "must be at least 1".into());
        }
        if m.max_streams == 0 || m.max_frame_rate == 0 {
            return invalid(
                "media.max_streams",
                "max_streams and max_frame_rate must be at least 1".into(),
            );
        }
        // A worker maps ~295 MB before it opens anything (its libraries and first arenas).
        if m.worker_memory_bytes < 384 << 20 {
            return invalid(
                "media.worker_memory_bytes",
                "must be at least 402653184 (384 MiB)".into(),
            );
        }
        for (key, d) in [
            ("media.worker_cpu_time", m.worker_cpu_time),
            ("media.worker_wall_time", m.worker_wall_time),
            ("media.probe_wall_time", m.probe_wall_time),
        ] {
            if d.is_zero() {
                return invalid(key, "must be positive".into());
            }
        }
        if m.keyframe_secs == 0
            || m.segment_secs < m.keyframe_secs
            || m.segment_secs % m.keyframe_secs != 0
        {
            return invalid(
                "media.segment_secs",
                "must be a positive multiple of media.keyframe_secs, so segments cut on keyframes"
                    .into(),
            );
        }
        if !(8..=512).contains(&m.audio_kbps) {
            return invalid("media.audio_kbps", "must be between 8 and 512".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for rung in &m.ladder {
            let name_ok = !rung.name.is_empty()
                && rung
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && rung.name != "audio";
            if !name_ok || !names.insert(rung.name.as_str()) {
                return invalid(
                    "media.ladder",
                    format!(
                        "rung name {:?} must be unique, a-z0-9-, and not \"audio\"",
                        rung.name
                    ),
                );
            }
            if rung.height < 64 || rung.height % 2 != 0 || rung.video_kbps < 32 {
                return invalid(
                    "media.ladder",
                    format!(
                        "rung {:?}: height must be even and at least 64, video_kbps at least 32",
                        rung.name
                    ),
                );
            }
        }
        if let Err(reason) = Fallbacks::new(self.catalog.fallback.clone()) {
            return invalid("catalog.fallback", reason);
        }
        let c = &self.catalog;
        if c.page_size == 0 || c.page_size > c.max_page_size || c.sync_page_size == 0 {
            return invalid(
                "catalog.page_size",
                "page_size and sync_page_size must be at least 1, page_size at most max_page_size"
                    .into(),
            );
        }
        self.ledger.validate()?;
        let u = &self.uploads;
        if u.max_size == 0 || u.max_in_flight_per_editor == 0 || u.allowed_types.is_empty() {
            return invalid(
                "uploads.max_size",
                "max_size, max_in_flight_per_editor and allowed_types must not be zero or empty"
                    .into(),
            );
        }
        if let Some(unknown) = u
            .allowed_types
            .iter()
            .find(|t| !crate::domain::upload::UPLOAD_KINDS.contains(&t.as_str()))
        {
            return invalid(
                "uploads.allowed_types",
                format!(
                    "{unknown:?} is not one of {:?}",
                    crate::domain::upload::UPLOAD_KINDS
                ),
            );
        }
        if u.expire_after.is_zero() || u.sweep_every.is_zero() {
            return invalid("uploads.expire_after", "durations must be positive".into());
        }
        let a = &self.auth;
        if a.member_token_ttl.as_secs() < 60 {
            return invalid("auth.member_token_ttl", "must be at least a minute".into());
        }
        if a.max_concurrent_pin_checks == 0 || a.tracked_sign_in_ids < 100 {
            return invalid(
                "auth.max_concurrent_pin_checks",
                "must be at least 1, and auth.tracked_sign_in_ids at least 100".into(),
            );
        }
        if a.sign_in_per_address_burst == 0 || a.sign_in_global_burst == 0 {
            return invalid(
                "auth.sign_in_per_address_burst",
                "sign_in_per_address_burst and sign_in_global_burst must be at least 1".into(),
            );
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            return invalid("log.filter", e.to_string());
        }
        Ok(())
    }

    pub fn media_limits(&self) -> Limits {
        Limits {
            max_width: self.media.max_width,
            max_height: self.media.max_height,
            max_duration_ms: self.media.max_duration_secs.saturating_mul(1000),
            max_streams: self.media.max_streams,
            max_frame_rate: self.media.max_frame_rate,
        }
    }

    /// The crediting rules (checked by `validate`).
    pub fn ledger_rules(&self) -> crate::domain::ledger::Rules {
        let l = &self.ledger;
        crate::domain::ledger::Rules {
            rate_milli: (l.max_rate * 1000.0).round() as i64,
            tolerance_ms: l.tolerance_ms as i64,
            calendar: crate::domain::ledger::Calendar::new(&l.timezone)
                .unwrap_or_else(|_| crate::domain::ledger::Calendar::utc()),
        }
    }

    /// The configured fallback chains (checked by `validate`).
    pub fn fallbacks(&self) -> Fallbacks {
        Fallbacks::new(self.catalog.fallback.clone()).unwrap_or_default()
    }

    pub fn bind_addr(&self) -> Option<SocketAddr> {
        self.server.bind.parse().ok()
    }
}

/// Names the bad key as it is written in the files (`storage.min_free_bytes`), and where the
/// value came from, whichever layer it was in.
fn key_error(e: figment::Error) -> ConfigError {
    let key = e.path.join(".").to_lowercase();
    let from = e
        .metadata
        .as_ref()
        .map(|m| match &m.source {
            Some(source) => format!(" (from {source})"),
            None => format!(" (from {})", m.name),
        })
        .unwrap_or_default();
    let key = if key.is_empty() {
        "(top level)".to_string()
    } else {
        key
    };
    ConfigError::Invalid {
        key,
        reason: format!("{}{from}", e.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_defaults_are_the_built_in_ones() {
        let from_file: Settings = toml::from_str(DEFAULT_TOML).unwrap();
        assert_eq!(from_file, Settings::default());
        assert!(Settings::default().validate().is_ok());
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let mut s = Settings::default();
        s.server.bind = "nowhere".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("server.bind"));
        let mut s = Settings::default();
        s.log.filter = "[[[".into();
        assert!(s.validate().unwrap_err().to_string().contains("log.filter"));
        let mut s = Settings::default();
        s.uploads.allowed_types.push("text/".into());
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("uploads.allowed_types"));
    }
}
