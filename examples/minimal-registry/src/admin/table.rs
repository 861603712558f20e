//! The output of the listing commands: aligned tables and dates.

use std::fmt::Write as _;

use wharf_auth::Timestamp;

use super::AdminError;

/// Writes rows under a header, columns padded to their widest cell. Cells
/// are made single-line so that a note cannot break the table.
pub(super) fn write_table(
    out: &mut dyn std::io::Write,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<(), AdminError> {
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| cell.replace(['\n', '\r', '\t'], " "))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// `2024-03-01T12:00:00Z`.
pub(super) fn rfc3339(at: Timestamp) -> String {
    at.to_rfc3339()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_utc() {
        for (seconds, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
        ] {
            assert_eq!(rfc3339(Timestamp::from_unix_seconds(seconds)), expected);
        }
    }

    #[test]
    fn tables_pad_columns_and_keep_cells_on_one_line() {
        let mut out = Vec::new();
        write_table(
            &mut out,
            &["ID", "NOTE"],
            vec![
                vec!["1".into(), "laptop".into()],
                vec!["12".into(), "two\nlines".into()],
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID  NOTE\n1   laptop\n12  two lines\n"
        );
    }
}
