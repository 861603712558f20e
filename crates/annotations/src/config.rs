//! Labels from an image config blob (`config.Labels`).

use std::collections::BTreeMap;

use serde::de::{Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::error::Error;

/// The part of an OCI / Docker image config that holds labels. Every other
/// field (history, rootfs, `container_config`...) is skipped unread.
struct ImageConfig {
    config: Option<RunConfig>,
}

/// The image config's `config`: the defaults for running a container.
struct RunConfig {
    labels: Option<BTreeMap<String, String>>,
}

// Written by hand rather than derived: a derived struct also accepts a JSON
// array (`[]` would be a config without labels), and a config must be an
// object.
impl<'de> Deserialize<'de> for ImageConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(OneField::<Option<RunConfig>>::new(
                "config",
                "an image config object",
            ))
            .map(|config| ImageConfig { config })
    }
}

impl<'de> Deserialize<'de> for RunConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(OneField::<Option<BTreeMap<String, String>>>::new(
                "Labels",
                "the image config's config object",
            ))
            .map(|labels| RunConfig { labels })
    }
}

/// Visits a JSON object for one field, skipping the others; the field
/// missing is `T::default()`, the field twice is an error.
struct OneField<T> {
    field: &'static str,
    expecting: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<T> OneField<T> {
    fn new(field: &'static str, expecting: &'static str) -> Self {
        OneField {
            field,
            expecting,
            marker: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for OneField<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.field {
                if value.is_some() {
                    return Err(A::Error::custom(format_args!(
                        "duplicate field `{}`",
                        self.field
                    )));
                }
                value = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(value.unwrap_or_default())
    }
}

/// The labels of an image config: `config.Labels`, where `docker build
/// --label`, the Dockerfile `LABEL` instruction and buildah put them.
///
/// A config without `config`, without `Labels`, or with either `null` has
/// no labels. A blob that is not a JSON object, or whose `Labels` is not an
/// object of strings, is an [`Error::MalformedConfig`] naming the JSON path.
/// The labels of the legacy `container_config` (the build container's) are
/// not read: `docker inspect` and GitHub show those of `config`.
pub(crate) fn labels(config: &[u8]) -> Result<BTreeMap<String, String>, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(config);
    let parsed: ImageConfig = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        // A document that ends early has no meaningful path: it is the
        // whole document that is cut short.
        let path = if e.inner().is_eof() {
            ".".to_owned()
        } else {
            e.path().to_string()
        };
        Error::MalformedConfig {
            path,
            reason: e.inner().to_string(),
        }
    })?;
    deserializer.end().map_err(|e| Error::MalformedConfig {
        path: ".".to_owned(),
        reason: e.to_string(),
    })?;
    Ok(parsed.config.and_then(|c| c.labels).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_without_labels_have_none() {
        for config in [
            r#"{}"#,
            r#"{"config": null}"#,
            r#"{"config": {}}"#,
            r#"{"config": {"Labels": null}}"#,
            r#"{"config": {"Labels": {}}}"#,
            r#"{"architecture": "amd64", "container_config": {"Labels": {"a": "b"}}}"#,
        ] {
            assert_eq!(labels(config.as_bytes()), Ok(BTreeMap::new()), "{config}");
        }
    }

    #[test]
    fn malformed_configs_name_the_json_path() {
        let cases = [
            ("", "."),
            ("[]", "."),
            ("{} {}", "."),
            (r#"{"config": []}"#, "config"),
            (r#"{"config": {"Labels": []}}"#, "config.Labels"),
            (r#"{"config": {"Labels": {"a": 1}}}"#, "config.Labels.a"),
            (r#"{"config": {"Labels": {"a": null}}}"#, "config.Labels.a"),
            (r#"{"config": {"Labels": {}, "Labels": {}}}"#, "config"),
            (r#"{"config": {"Labels": {"a": "b"}}"#, "."),
            ("\u{feff}{}", "."),
        ];
        for (config, path) in cases {
            match labels(config.as_bytes()) {
                Err(Error::MalformedConfig { path: got, .. }) => assert_eq!(got, path, "{config}"),
                other => panic!("{config}: {other:?}"),
            }
        }
    }
}
