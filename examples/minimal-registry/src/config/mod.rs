//! Settings: embedded defaults, then an optional TOML file, then flags (and
//! `RUST_LOG` for the log filter, between the file and the flags). Every
//! setting is declared once, in `settings.rs`: its flag, its key in the
//! file (the same name in snake case, under `[limits]` or `[auth]` for
//! those tables), its default and its help text.

pub(crate) mod file;
mod flags;
mod settings;
mod validate;
pub(crate) mod values;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use clap::FromArgMatches;

pub use flags::Cli;
pub use settings::{LogFormat, Settings};

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown keys.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// The flags could not be applied (a bug: clap checked them).
    #[error("invalid flags: {0}")]
    Flags(String),
    /// A value is out of range or malformed.
    #[error("invalid value for {key} (--{flag}): {reason}")]
    Value {
        /// The setting's key in the file (`limits.upload_expiry`).
        key: String,
        /// Its flag, without the dashes (`upload-expiry`).
        flag: String,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigError {
    /// A bad value of the setting at `key` (`limits.upload_expiry`), whose
    /// flag is its last part in kebab case.
    fn value(key: &str, reason: impl Into<String>) -> ConfigError {
        let name = key.rsplit('.').next().unwrap_or(key);
        ConfigError::Value {
            key: key.to_owned(),
            flag: name.replace('_', "-"),
            reason: reason.into(),
        }
    }
}

impl Settings {
    /// Defaults, overridden by the file named in `cli.config`, overridden by
    /// the flags. `rust_log` is the `RUST_LOG` environment variable, which
    /// the `--log-level` flag overrides and which overrides the file.
    pub fn load(cli: &Cli, rust_log: Option<String>) -> Result<Settings, ConfigError> {
        let file = match &cli.config {
            Some(path) => file::read(path)?,
            None => Settings::default(),
        };
        Settings::merge(file, cli, rust_log)
    }

    /// `file` (the defaults and the file's settings), then `rust_log`, then
    /// the flags; checked.
    fn merge(
        mut s: Settings,
        cli: &Cli,
        rust_log: Option<String>,
    ) -> Result<Settings, ConfigError> {
        if let Some(v) = rust_log.filter(|v| !v.trim().is_empty()) {
            s.log_level = v;
        }
        // `cli.flags` holds only the flags given (see `flags.rs`).
        s.update_from_arg_matches(&cli.flags)
            .map_err(|err| ConfigError::Flags(err.to_string()))?;
        s.check()?;
        Ok(s)
    }
}
