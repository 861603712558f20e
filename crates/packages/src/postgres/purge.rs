//! The purge of packages and versions whose restore window has passed,
//! a bounded batch at a time.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use wharf_auth::Timestamp;
use wharf_reference::{Digest, RepositoryName};

use crate::error::Error;
use crate::id::{PackageId, VersionId};
use crate::package::RESTORE_WINDOW;
use crate::postgres::convert::{parse, time_to_sql};
use crate::postgres::notify::{notify, Change};
use crate::postgres::statement::{column, execute, exists, query};
use crate::store::{PurgeReport, PurgedPackage, PurgedVersion};

/// Removes at most `limit` (at least one) of the packages and versions
/// whose restore window has passed: expired versions first (deleted ones,
/// and every version of an expired package), then expired packages left
/// without versions.
pub(crate) async fn purge_expired(
    c: &impl GenericClient,
    now: Timestamp,
    limit: usize,
) -> Result<PurgeReport, Error> {
    // Records deleted at or before the cutoff are past their window
    // (exactly the complement of `is_restorable`).
    let Some(cutoff) = now.unix_seconds().checked_sub(RESTORE_WINDOW.as_secs()) else {
        return Ok(PurgeReport::default());
    };
    let cutoff = time_to_sql(Timestamp::from_unix_seconds(cutoff))?;
    let purge = Purge { c, cutoff };
    let limit = limit.max(1);
    let versions = purge.versions(limit).await?;
    let packages = match limit - versions.len() {
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

/// `limit` as an SQL `LIMIT`.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl<C: GenericClient> Purge<'_, C> {
    /// Removes at most `limit` expired versions, oldest first.
    async fn versions(&self, limit: usize) -> Result<Vec<PurgedVersion>, Error> {
        let operation = "finding expired versions";
        let rows = query(
            self.c,
            "SELECT v.id, v.package_id, p.name, v.digest, v.deleted_at IS NULL,
                 p.deleted_at IS NOT NULL AND p.deleted_at <= $1
             FROM versions v JOIN packages p ON p.id = v.package_id
             WHERE (v.deleted_at IS NOT NULL AND v.deleted_at <= $1)
                OR (p.deleted_at IS NOT NULL AND p.deleted_at <= $1)
             ORDER BY v.id LIMIT $2",
            &[&self.cutoff, &sql_limit(limit)],
            operation,
        )
        .await?;
        let mut purged = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = column(&row, 0, operation)?;
            let package_id: i64 = column(&row, 1, operation)?;
            let live: bool = column(&row, 4, operation)?;
            let package_expired: bool = column(&row, 5, operation)?;
            execute(
                self.c,
                "DELETE FROM versions WHERE id = $1",
                &[&id],
                "purging an expired version",
            )
            .await?;
            if live {
                // A live version of an expired package: keep its package's
                // count right until the package goes too.
                execute(
                    self.c,
                    "UPDATE packages SET version_count = version_count - 1 WHERE id = $1",
                    &[&package_id],
                    "counting purged versions",
                )
                .await?;
            }
            let version = PurgedVersion::new(
                PackageId::new(package_id),
                parse("package name", &column::<String>(&row, 2, operation)?)?,
                VersionId::new(id),
                parse("digest", &column::<String>(&row, 3, operation)?)?,
            );
            purged.push(if package_expired {
                version.of_expired_package()
            } else {
                version
            });
        }
        Ok(purged)
    }

    /// Removes at most `limit` expired packages that have no versions left,
    /// oldest first (with, by cascade, their grants).
    async fn packages(&self, limit: usize) -> Result<Vec<PurgedPackage>, Error> {
        let operation = "finding expired packages";
        let rows = query(
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
        for row in rows {
            let id: i64 = column(&row, 0, operation)?;
            execute(
                self.c,
                "DELETE FROM packages WHERE id = $1",
                &[&id],
                "purging an expired package",
            )
            .await?;
            purged.push(PurgedPackage::new(
                PackageId::new(id),
                parse("package name", &column::<String>(&row, 1, operation)?)?,
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
        let candidates: BTreeSet<(&RepositoryName, &Digest)> = versions
            .iter()
            .map(|version| (&version.name, &version.digest))
            .collect();
        let mut unreferenced = Vec::new();
        for (name, digest) in candidates {
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
