//! Reading rows back as this crate's types: a value this crate could not
//! have written is an [`Error::CorruptRecord`].

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use tokio_postgres::types::FromSql;
use tokio_postgres::Row;
use wharf_reference::MediaType;

use crate::error::Error;
use crate::manifest::Referrer;

/// Column `column` of `row`, from table `table`.
pub(super) fn column<'r, T: FromSql<'r>>(
    row: &'r Row,
    table: &str,
    column: &str,
) -> Result<T, Error> {
    row.try_get(column).map_err(|e| corrupt(table, column, e))
}

/// Column `column` of `row` (text) parsed as a `T`.
pub(super) fn parsed<T>(row: &Row, table: &str, name: &str) -> Result<T, Error>
where
    T: FromStr,
    T::Err: Display,
{
    let text: &str = column(row, table, name)?;
    text.parse().map_err(|e| corrupt(table, name, e))
}

/// Column `name` of `row` as a media type.
pub(super) fn media_type(row: &Row, table: &str, name: &str) -> Result<MediaType, Error> {
    let text: &str = column(row, table, name)?;
    MediaType::parse(text).map_err(|e| corrupt(table, name, e))
}

/// A non-negative size.
pub(super) fn size(row: &Row, table: &str, name: &str) -> Result<u64, Error> {
    let size: i64 = column(row, table, name)?;
    u64::try_from(size).map_err(|e| corrupt(table, name, e))
}

/// A referrers entry from a manifest row's `digest`, `media_type`, `size`,
/// `artifact_type` and `annotations` (as text).
pub(super) fn referrer(row: &Row) -> Result<Referrer, Error> {
    const TABLE: &str = "storage_manifests";
    let artifact_type = match column::<Option<&str>>(row, TABLE, "artifact_type")? {
        Some(text) => Some(MediaType::parse(text).map_err(|e| corrupt(TABLE, "artifact_type", e))?),
        None => None,
    };
    let annotations: BTreeMap<String, String> =
        match column::<Option<&str>>(row, TABLE, "annotations")? {
            Some(json) => {
                serde_json::from_str(json).map_err(|e| corrupt(TABLE, "annotations", e))?
            }
            None => BTreeMap::new(),
        };
    Ok(Referrer::new(
        parsed(row, TABLE, "digest")?,
        media_type(row, TABLE, "media_type")?,
        size(row, TABLE, "size")?,
    )
    .with_artifact_type(artifact_type)
    .with_annotations(annotations))
}

fn corrupt(table: &str, column: &str, detail: impl Display) -> Error {
    Error::CorruptRecord {
        record: format!("{table}.{column}"),
        detail: detail.to_string(),
    }
}
