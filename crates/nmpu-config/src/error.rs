//! Configuration errors: each names the field and what would be accepted.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {message}")]
    Io { path: String, message: String },

    #[error("invalid config TOML: {0}")]
    Parse(String),

    #[error("config field `{field}` = {value} is out of range: {allowed}")]
    OutOfRange {
        field: String,
        value: String,
        allowed: String,
    },

    #[error("config field `{field}`: {message}")]
    Invalid { field: String, message: String },
}

impl ConfigError {
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::OutOfRange { field, .. } | ConfigError::Invalid { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
}
