use nmpu_config::ConfigError;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ModelError {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error("{0}")]
    Shape(String),

    /// A file that cannot be read or holds bad data; `message` names the file.
    #[error("{message}")]
    File { path: String, message: String },

    #[error("ADC code {value} at {at} is outside the in_bits range {min} ..= {max}")]
    InputRange {
        at: String,
        value: i64,
        min: i64,
        max: i64,
    },

    #[error("coefficient {name}[{column}] = {value}: {message}")]
    Coefficient {
        name: &'static str,
        column: usize,
        value: f64,
        message: String,
    },
}
