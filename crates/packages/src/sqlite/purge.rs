//! The purge of packages and versions whose restore window has passed,
//! a bounded batch at a time.

use rusqlite::{params, Connection};
use wharf_reference::{Digest, RepositoryName};

use crate::error::Error;
use crate::id::PackageId;
use crate::sqlite::convert::parse;
use crate::sqlite::statement::{columns, execute, exists, query_all, read};
use crate::store::{PurgeReport, PurgedPackage, PurgedVersion};
use crate::stored::{purged_manifests, sql_limit, ExpiredVersionRow, PurgeBounds};

/// Removes at most `bounds.limit` of the packages and versions whose
/// restore window has passed: expired versions first (deleted ones, and
/// every version of an expired package), then expired packages left
/// without versions.
pub(crate) fn purge_expired(conn: &Connection, bounds: PurgeBounds) -> Result<PurgeReport, Error> {
    let purge = Purge {
        conn,
        cutoff: bounds.cutoff,
    };
    let versions = purge.versions(bounds.limit)?;
    let packages = match bounds.limit - versions.len() {
        0 => Vec::new(),
        room => purge.packages(room)?,
    };
    Ok(PurgeReport {
        unreferenced: purge.unreferenced(&versions)?,
        more: purge.more()?,
        packages,
        versions,
    })
}

/// One purge: a connection in its write transaction, and the time at or
/// before which a record's deletion has expired.
struct Purge<'c> {
    conn: &'c Connection,
    cutoff: i64,
}

impl Purge<'_> {
    /// Removes at most `limit` expired versions, oldest first.
    fn versions(&self, limit: usize) -> Result<Vec<PurgedVersion>, Error> {
        let Purge { conn, cutoff } = *self;
        let rows = query_all(
            conn,
            "SELECT v.id, v.package_id, p.name, v.digest, v.deleted_at IS NULL,
                 p.deleted_at IS NOT NULL AND p.deleted_at <= ?1
             FROM versions v JOIN packages p ON p.id = v.package_id
             WHERE (v.deleted_at IS NOT NULL AND v.deleted_at <= ?1)
                OR (p.deleted_at IS NOT NULL AND p.deleted_at <= ?1)
             ORDER BY v.id LIMIT ?2",
            params![cutoff, sql_limit(limit)],
            read::<ExpiredVersionRow>,
            "finding expired versions",
        )?;
        let mut purged = Vec::with_capacity(rows.len());
        for row in rows {
            execute(
                conn,
                "DELETE FROM versions WHERE id = ?1",
                [row.id],
                "purging an expired version",
            )?;
            if row.live {
                // A live version of an expired package: keep its package's
                // count right until the package goes too.
                execute(
                    conn,
                    "UPDATE packages SET version_count = version_count - 1 WHERE id = ?1",
                    [row.package_id],
                    "counting purged versions",
                )?;
            }
            purged.push(row.purged()?);
        }
        Ok(purged)
    }

    /// Removes at most `limit` expired packages that have no versions left,
    /// oldest first (with, by cascade, their grants).
    fn packages(&self, limit: usize) -> Result<Vec<PurgedPackage>, Error> {
        let Purge { conn, cutoff } = *self;
        let rows = query_all(
            conn,
            "SELECT id, name FROM packages p
             WHERE deleted_at IS NOT NULL AND deleted_at <= ?1
               AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.package_id = p.id)
             ORDER BY id LIMIT ?2",
            params![cutoff, sql_limit(limit)],
            columns::<(i64, String)>,
            "finding expired packages",
        )?;
        let mut purged = Vec::with_capacity(rows.len());
        for (id, name) in rows {
            execute(
                conn,
                "DELETE FROM packages WHERE id = ?1",
                [id],
                "purging an expired package",
            )?;
            purged.push(PurgedPackage::new(
                PackageId::new(id),
                parse("package name", &name)?,
            ));
        }
        Ok(purged)
    }

    /// The manifests of the purged `versions` that no remaining version of a
    /// package of the same name references.
    fn unreferenced(
        &self,
        versions: &[PurgedVersion],
    ) -> Result<Vec<(RepositoryName, Digest)>, Error> {
        let conn = self.conn;
        let mut unreferenced = Vec::new();
        for (name, digest) in purged_manifests(versions) {
            let still_referenced = exists(
                conn,
                "SELECT 1 FROM versions v JOIN packages p ON p.id = v.package_id
                 WHERE p.name = ?1 AND v.digest = ?2",
                params![name.as_str(), digest.as_str()],
                "checking purged manifests",
            )?;
            if !still_referenced {
                unreferenced.push((name.clone(), digest.clone()));
            }
        }
        Ok(unreferenced)
    }

    /// Whether expired records remain.
    fn more(&self) -> Result<bool, Error> {
        exists(
            self.conn,
            "SELECT 1 FROM packages WHERE deleted_at IS NOT NULL AND deleted_at <= ?1
             UNION ALL
             SELECT 1 FROM versions WHERE deleted_at IS NOT NULL AND deleted_at <= ?1",
            [self.cutoff],
            "checking for more expired records",
        )
    }
}
