//! Archives in PostgreSQL: a repository's row renamed from its name to an
//! archive key and back, so that archiving and restoring are one
//! transaction each, whatever the content's size.

use deadpool_postgres::GenericClient;
use wharf_reference::RepositoryName;

use crate::archive::{Archive, ArchiveKey};
use crate::error::{Error, Result};
use crate::page::{Page, PageRequest};

use super::failure::{violates, Failure, ARCHIVE_KEY};
use super::records::{column, parsed};
use super::{execute, query_opt, PostgresMetadata};

const TABLE: &str = "storage_repositories";

/// Whether repository row `id` holds a blob link, a manifest or a tag.
async fn holds_content(tx: &impl GenericClient, id: i64) -> Result<bool, Failure> {
    let row = query_opt(
        tx,
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM storage_links WHERE repository_id = $1) \
         OR EXISTS (SELECT 1 FROM storage_manifests WHERE repository_id = $1) \
         OR EXISTS (SELECT 1 FROM storage_tags WHERE repository_id = $1)",
        &[&id],
    )
    .await?;
    Ok(row.is_some())
}

/// The id of the live repository `name`, if there is one, locked `FOR
/// UPDATE` until `tx` ends.
async fn lock_live(tx: &impl GenericClient, name: &RepositoryName) -> Result<Option<i64>, Failure> {
    let row = query_opt(
        tx,
        "SELECT id FROM storage_repositories WHERE name = $1 FOR UPDATE",
        &[&name.as_str()],
    )
    .await?;
    Ok(row.map(|row| column(&row, TABLE, "id")).transpose()?)
}

impl PostgresMetadata {
    /// Renames the live repository's row to the archive key, after
    /// waiting for the writers that hold it; an unknown repository makes
    /// an empty archive row. A taken key is refused by its unique
    /// constraint, and the transaction then changes nothing.
    pub(super) async fn archive(
        &self,
        repository: &RepositoryName,
        key: &ArchiveKey,
    ) -> Result<()> {
        self.run("archive a repository", |mut client| {
            Box::pin(async move {
                let tx = client.transaction().await?;
                let moved = match lock_live(&tx, repository).await? {
                    Some(id) => {
                        execute(
                            &tx,
                            "UPDATE storage_repositories \
                             SET name = NULL, archive_key = $2, archived_from = $3 WHERE id = $1",
                            &[&id, &key.as_str(), &repository.as_str()],
                        )
                        .await
                    }
                    None => {
                        execute(
                            &tx,
                            "INSERT INTO storage_repositories (archive_key, archived_from) \
                             VALUES ($1, $2)",
                            &[&key.as_str(), &repository.as_str()],
                        )
                        .await
                    }
                };
                match moved {
                    Err(e) if violates(&e, ARCHIVE_KEY) => {
                        Err(Error::ArchiveExists(key.clone()).into())
                    }
                    Err(e) => Err(e.into()),
                    Ok(_) => Ok(tx.commit().await?),
                }
            })
        })
        .await
    }

    /// Renames the archive's row to the repository's name, in one
    /// transaction that first locks both rows: a live repository holding
    /// content refuses it, an empty one gives way. An archive without
    /// content is dropped and leaves the name as it was.
    pub(super) async fn restore(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        self.run("restore an archive", |mut client| {
            Box::pin(async move {
                let tx = client.transaction().await?;
                let archived = query_opt(
                    &tx,
                    "SELECT id FROM storage_repositories WHERE archive_key = $1 FOR UPDATE",
                    &[&key.as_str()],
                )
                .await?
                .ok_or_else(|| Error::ArchiveNotFound(key.clone()))?;
                let archived: i64 = column(&archived, TABLE, "id")?;
                let live = lock_live(&tx, repository).await?;
                if let Some(live) = live {
                    if holds_content(&tx, live).await? {
                        return Err(Error::RepositoryNotEmpty(repository.clone()).into());
                    }
                }
                if holds_content(&tx, archived).await? {
                    if let Some(live) = live {
                        execute(
                            &tx,
                            "DELETE FROM storage_repositories WHERE id = $1",
                            &[&live],
                        )
                        .await?;
                    }
                    // A name created since the lookup above violates its
                    // unique constraint: the work runs again and sees it.
                    execute(
                        &tx,
                        "UPDATE storage_repositories \
                         SET name = $2, archive_key = NULL, archived_from = NULL WHERE id = $1",
                        &[&archived, &repository.as_str()],
                    )
                    .await?;
                } else {
                    execute(
                        &tx,
                        "DELETE FROM storage_repositories WHERE id = $1",
                        &[&archived],
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    /// Deletes the archive's row; its content goes with it (`ON DELETE
    /// CASCADE`), in the same statement.
    pub(super) async fn discard(&self, key: &ArchiveKey) -> Result<()> {
        let deleted = self
            .changed(
                "delete an archive",
                "DELETE FROM storage_repositories WHERE archive_key = $1",
                &[&key.as_str()],
            )
            .await?;
        if deleted == 0 {
            return Err(Error::ArchiveNotFound(key.clone()));
        }
        Ok(())
    }

    pub(super) async fn archives(&self, page: &PageRequest) -> Result<Page<Archive>> {
        self.page(
            "list archives",
            "SELECT archive_key, archived_from FROM storage_repositories \
             WHERE archive_key > $1 ORDER BY archive_key LIMIT $2",
            &[],
            |row| {
                Ok(Archive::new(
                    parsed(row, TABLE, "archive_key")?,
                    parsed(row, TABLE, "archived_from")?,
                ))
            },
            page,
            |a| a.key.as_str(),
        )
        .await
    }
}
