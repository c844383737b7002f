//! What every section of the configuration shares: the error that names a bad key, and
//! durations written as "90d" or "5m".

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration key {key}: {reason}")]
    Invalid { key: String, reason: String },
}

/// A bad value, named by its key.
pub(crate) fn invalid(key: &str, reason: String) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        key: key.into(),
        reason,
    })
}

/// Durations written as "90d" or "5m".
pub(crate) mod humantime_serde_duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}
