//! The TOML file given with `--config`: the settings it names, over the
//! defaults.

use std::path::Path;

use super::settings::Settings;
use super::values::VALUE_ERROR;
use super::ConfigError;

/// Reads `path`: every key optional, unknown keys refused.
pub(super) fn read(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

/// Parses the text of the file `path`. A malformed value (`"soon"` for a
/// duration) is reported with its key; anything else (bad TOML, a wrong
/// type, an unknown key) with the TOML parser's line and column.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Settings, ConfigError> {
    let malformed = |err: toml::de::Error| ConfigError::Parse {
        path: path.to_owned(),
        message: err.to_string(),
    };
    let document = toml::Deserializer::parse(text).map_err(malformed)?;
    serde_path_to_error::deserialize(document).map_err(|err| {
        let key = err.path().to_string();
        let err = err.into_inner();
        match err.message().strip_prefix(VALUE_ERROR) {
            Some(reason) => ConfigError::value(&key, reason),
            None => malformed(err),
        }
    })
}
