//! The purge of packages and versions whose restore window has passed,
//! a bounded batch at a time.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use wharf_reference::{Digest, RepositoryName};

use crate::error::Error;
use crate::id::PackageId;
use crate::postgres::convert::parse;
use crate::postgres::notify::{notify, Change};
use crate::postgres::statement::{execute, exists, query_all, query_columns, read};
use crate::store::{PurgeReport, PurgedPackage, PurgedVersion};
use crate::stored::{purged_manifests, sql_limit, ExpiredVersionRow, PurgeBounds};

/// Removes at most `bounds.limit` of the packages and versions whose
/// restore window has passed: expired versions first (deleted ones, and
/// every version of an expired package), then expired packages left
/// without versions.
pub(crate) async fn purge_expired(
    c: &impl GenericClient,
    bounds: PurgeBounds,
) -> Result<PurgeReport, Error> {
    let purge = Purge {
        c,
        cutoff: bounds.cutoff,
    };
    let versions = purge.versions(bounds.limit).await?;
    let packages = match bounds.limit - versions.len() {
        0 => Vec::new(),
        room => purge.packages(room).await?,
    };
    let touched: BTreeSet<&RepositoryName> = versions
        .iter()
        .map(|version| &version.name)
        .chain(packages.iter().map(|package| &package.name))
        .collect();
    for name in touched {
        notify(c, Change::Package(name.as_str())).await?;
    }
    Ok(PurgeReport {
        unreferenced: purge.unreferenced(&versions).await?,
        more: purge.more().await?,
        packages,
        versions,
    })
}

/// One purge: a client in its write transaction, and the time at or
/// before which a record's deletion has expired.
struct Purge<'c, C> {
    c: &'c C,
    cutoff: i64,
}

impl<C: GenericClient> Purge<'_, C> {
    /// Removes at most `limit` expired versions, oldest first.
    async fn versions(&self, limit: usize) -> Result<Vec<PurgedVersion>, Error> {
        let operation = "finding expired versions";
        let rows = query_all(
            self.c,
            "SELECT v.id, v.package_id, p.name, v.digest, v.deleted_at IS NULL,
                 p.deleted_at IS NOT NULL AND p.deleted_at <= $1
             FROM versions v JOIN packages p ON p.id = v.package_id
             WHERE (v.deleted_at IS NOT NULL AND v.deleted_at <= $1)
                OR (p.deleted_at IS NOT NULL AND p.deleted_at <= $1)
             ORDER BY v.id LIMIT $2",
            &[&self.cutoff, &sql_limit(limit)],
            |row| read::<ExpiredVersionRow>(row, operation),
            operation,
        )
        .await?;
        let mut purged = Vec::with_capacity(rows.len());
        for row in rows {
            execute(
                self.c,
                "DELETE FROM versions WHERE id = $1",
                &[&row.id],
                "purging an expired version",
            )
            .await?;
            if row.live {
                // A live version of an expired package: keep its package's
                // count right until the package goes too.
                execute(
                    self.c,
                    "UPDATE packages SET version_count = version_count - 1 WHERE id = $1",
                    &[&row.package_id],
                    "counting purged versions",
                )
                .await?;
            }
            purged.push(row.purged()?);
        }
        Ok(purged)
    }

    /// Removes at most `limit` expired packages that have no versions left,
    /// oldest first (with, by cascade, their grants).
    async fn packages(&self, limit: usize) -> Result<Vec<PurgedPackage>, Error> {
        let operation = "finding expired packages";
        let rows: Vec<(i64, String)> = query_columns(
            self.c,
            "SELECT id, name FROM packages p
             WHERE deleted_at IS NOT NULL AND deleted_at <= $1
               AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.package_id = p.id)
             ORDER BY id LIMIT $2",
            &[&self.cutoff, &sql_limit(limit)],
            operation,
        )
        .await?;
        let mut purged = Vec::with_capacity(rows.len());
        for (id, name) in rows {
            execute(
                self.c,
                "DELETE FROM packages WHERE id = $1",
                &[&id],
                "purging an expired package",
            )
            .await?;
            purged.push(PurgedPackage::new(
                PackageId::new(id),
                parse("package name", &name)?,
            ));
        }
        Ok(purged)
    }

    /// The manifests of the purged `versions` that no remaining version of a
    /// package of the same name references.
    async fn unreferenced(
        &self,
        versions: &[PurgedVersion],
    ) -> Result<Vec<(RepositoryName, Digest)>, Error> {
        let mut unreferenced = Vec::new();
        for (name, digest) in purged_manifests(versions) {
            let still_referenced = exists(
                self.c,
                "SELECT 1 FROM versions v JOIN packages p ON p.id = v.package_id
                 WHERE p.name = $1 AND v.digest = $2",
                &[&name.as_str(), &digest.as_str()],
                "checking purged manifests",
            )
            .await?;
            if !still_referenced {
                unreferenced.push((name.clone(), digest.clone()));
            }
        }
        Ok(unreferenced)
    }

    /// Whether expired records remain.
    async fn more(&self) -> Result<bool, Error> {
        exists(
            self.c,
            "SELECT 1 WHERE EXISTS (
                 SELECT 1 FROM packages WHERE deleted_at IS NOT NULL AND deleted_at <= $1)
             OR EXISTS (
                 SELECT 1 FROM versions WHERE deleted_at IS NOT NULL AND deleted_at <= $1)",
            &[&self.cutoff],
            "checking for more expired records",
        )
        .await
    }
}
