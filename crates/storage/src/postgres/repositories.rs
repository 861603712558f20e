//! [`RepositoryStore`] for [`PostgresMetadata`]: links, manifests, tags,
//! referrers and the catalog (archives are in `archive.rs`).

use std::collections::HashMap;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;
use wharf_reference::{Digest, MediaType, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::error::{Error, Result};
use crate::manifest::{ManifestInfo, ManifestPut, Referrer, StoredManifest};
use crate::page::{Page, PageRequest};
use crate::RepositoryStore;

use super::failure::Failure;
use super::records::{column, media_type, parsed, referrer, size};
use super::{after, execute, limit, query, query_opt, PostgresMetadata};

/// The id of the live repository `name`, created if need be, locked
/// `FOR KEY SHARE` until `tx` ends: an archive or restore of the name
/// (which renames the row) waits for `tx`, and `tx` waits for one under
/// way, so what `tx` stores is never stored under a row that has just
/// stopped being `name`.
pub(super) async fn live_repository(
    tx: &impl GenericClient,
    name: &RepositoryName,
) -> Result<i64, Failure> {
    loop {
        let locked = query_opt(
            tx,
            "SELECT id FROM storage_repositories WHERE name = $1 FOR KEY SHARE",
            &[&name.as_str()],
        )
        .await?;
        if let Some(row) = locked {
            return Ok(column(&row, "storage_repositories", "id")?);
        }
        // Absent, or archived between the two statements: (re)create it.
        // A concurrent creation wins quietly, and the next lookup finds it.
        execute(
            tx,
            "INSERT INTO storage_repositories (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
            &[&name.as_str()],
        )
        .await?;
    }
}

/// Reads a text column (`digest`, `tag`, `name`) as a `T`.
fn parsed_column<T>(
    table: &'static str,
    name: &'static str,
) -> impl Fn(&Row) -> Result<T, Error> + Sync
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    move |row| parsed(row, table, name)
}

impl PostgresMetadata {
    /// The media type of manifest `digest` in `repository` and its column
    /// `name` (`bytes`, `size`) as `read` reads it;
    /// [`Error::ManifestNotFound`] if there is no such manifest.
    async fn find_manifest<T: Send>(
        &self,
        context: &'static str,
        name: &'static str,
        read: impl Fn(&Row, &str, &str) -> Result<T, Error> + Sync,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<(MediaType, T)> {
        const TABLE: &str = "storage_manifests";
        // `name` is one of this file's constants, never input.
        let sql = format!(
            "SELECT m.media_type, m.{name} FROM storage_manifests m \
             JOIN storage_repositories r ON r.id = m.repository_id \
             WHERE r.name = $1 AND m.digest = $2"
        );
        self.find(
            context,
            &sql,
            &[&repository.as_str(), &digest.as_str()],
            |row| {
                Ok((
                    media_type(row, TABLE, "media_type")?,
                    read(row, TABLE, name)?,
                ))
            },
        )
        .await?
        .ok_or_else(|| Error::manifest_not_found(repository, digest))
    }
}

#[async_trait]
impl RepositoryStore for PostgresMetadata {
    /// Records the link without checking that the blob is stored: the
    /// blobs live in another store, and the [`Composite`](crate::Composite)
    /// this metadata serves looks at them after it links (see [the
    /// garbage-collection protocol](crate::collect)). A link made again
    /// gets a new `linked_at` (the database's `now()`).
    async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        self.run("link a blob", |mut client| {
            Box::pin(async move {
                let tx = client.transaction().await?;
                let id = live_repository(&tx, repository).await?;
                execute(
                    &tx,
                    "INSERT INTO storage_links (repository_id, digest) VALUES ($1, $2) \
                     ON CONFLICT (repository_id, digest) DO UPDATE SET linked_at = now()",
                    &[&id, &digest.as_str()],
                )
                .await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    async fn is_blob_linked(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        let found = self
            .find(
                "look up a blob link",
                "SELECT 1 FROM storage_links l JOIN storage_repositories r \
                 ON r.id = l.repository_id WHERE r.name = $1 AND l.digest = $2",
                &[&repository.as_str(), &digest.as_str()],
                |_| Ok(()),
            )
            .await?;
        Ok(found.is_some())
    }

    async fn unlink_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        let removed = self
            .changed(
                "unlink a blob",
                "DELETE FROM storage_links l USING storage_repositories r \
                 WHERE r.id = l.repository_id AND r.name = $1 AND l.digest = $2",
                &[&repository.as_str(), &digest.as_str()],
            )
            .await?;
        if removed == 0 {
            return Err(Error::blob_not_linked(repository, digest));
        }
        Ok(())
    }

    async fn linked_blobs(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        self.page(
            "list linked blobs",
            "SELECT l.digest FROM storage_links l JOIN storage_repositories r \
             ON r.id = l.repository_id WHERE r.name = $1 AND l.digest > $2 \
             ORDER BY l.digest LIMIT $3",
            &[&repository.as_str()],
            parsed_column("storage_links", "digest"),
            page,
            Digest::as_str,
        )
        .await
    }

    /// Stores the manifest, its bytes included, and its referrers entry
    /// (a column of the same row) in one transaction.
    async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
        manifest.validate()?;
        let manifest = &manifest;
        let subject = manifest.subject.as_ref();
        let subject_digest = subject.map(|s| s.digest.as_str());
        let artifact_type = subject.and_then(|s| s.artifact_type.as_ref().map(|t| t.as_str()));
        let annotations = subject
            .map(|s| serde_json::to_string(&s.annotations))
            .transpose()
            .map_err(|e| Error::CorruptRecord {
                record: "storage_manifests.annotations".to_owned(),
                detail: e.to_string(),
            })?;
        let annotations = annotations.as_deref();
        self.run("store a manifest", |mut client| {
            Box::pin(async move {
                let tx = client.transaction().await?;
                let id = live_repository(&tx, repository).await?;
                execute(
                    &tx,
                    "INSERT INTO storage_manifests \
                     (repository_id, digest, media_type, bytes, subject, artifact_type, annotations) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb) \
                     ON CONFLICT (repository_id, digest) DO UPDATE SET \
                     media_type = EXCLUDED.media_type, subject = EXCLUDED.subject, \
                     artifact_type = EXCLUDED.artifact_type, annotations = EXCLUDED.annotations",
                    &[
                        &id,
                        &manifest.digest.as_str(),
                        &manifest.media_type.as_str(),
                        &&manifest.bytes[..],
                        &subject_digest,
                        &artifact_type,
                        &annotations,
                    ],
                )
                .await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    async fn get_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<StoredManifest> {
        let (media_type, bytes) = self
            .find_manifest(
                "read a manifest",
                "bytes",
                |row, table, name| column::<Vec<u8>>(row, table, name),
                repository,
                digest,
            )
            .await?;
        Ok(StoredManifest::new(
            digest.clone(),
            media_type,
            Bytes::from(bytes),
        ))
    }

    async fn stat_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<ManifestInfo> {
        let (media_type, size) = self
            .find_manifest("look up a manifest", "size", size, repository, digest)
            .await?;
        Ok(ManifestInfo::new(digest.clone(), media_type, size))
    }

    /// Locks the manifest row first (`FOR UPDATE`, which waits for every
    /// `set_tag` that is pointing a tag at it and holds off new ones), then
    /// deletes its tags and it in the same transaction: the tags returned
    /// are exactly those deleted, and none is left behind.
    async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>> {
        let mut tags = self
            .run("delete a manifest", |mut client| {
                Box::pin(async move {
                    let tx = client.transaction().await?;
                    let locked = query_opt(
                        &tx,
                        "SELECT m.repository_id FROM storage_manifests m \
                         JOIN storage_repositories r ON r.id = m.repository_id \
                         WHERE r.name = $1 AND m.digest = $2 FOR UPDATE OF m",
                        &[&repository.as_str(), &digest.as_str()],
                    )
                    .await?;
                    let Some(locked) = locked else {
                        return Err(Error::manifest_not_found(repository, digest).into());
                    };
                    let id: i64 = column(&locked, "storage_manifests", "repository_id")?;
                    let rows = query(
                        &tx,
                        "DELETE FROM storage_tags WHERE repository_id = $1 AND digest = $2 \
                         RETURNING tag",
                        &[&id, &digest.as_str()],
                    )
                    .await?;
                    let tags: Result<Vec<Tag>, Error> = rows
                        .iter()
                        .map(parsed_column("storage_tags", "tag"))
                        .collect();
                    execute(
                        &tx,
                        "DELETE FROM storage_manifests WHERE repository_id = $1 AND digest = $2",
                        &[&id, &digest.as_str()],
                    )
                    .await?;
                    tx.commit().await?;
                    Ok(tags?)
                })
            })
            .await?;
        tags.sort();
        Ok(tags)
    }

    async fn list_manifests(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        self.page(
            "list manifests",
            "SELECT m.digest FROM storage_manifests m JOIN storage_repositories r \
             ON r.id = m.repository_id WHERE r.name = $1 AND m.digest > $2 \
             ORDER BY m.digest LIMIT $3",
            &[&repository.as_str()],
            parsed_column("storage_manifests", "digest"),
            page,
            Digest::as_str,
        )
        .await
    }

    /// One statement: the tag's foreign key (`storage_tags_manifest`)
    /// locks the manifest row
    /// (`FOR KEY SHARE`) while the tag is written, so a concurrent
    /// `delete_manifest` either waits and deletes the tag with the
    /// manifest, or went first and the tag is refused with
    /// `ManifestNotFound`.
    async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()> {
        let written = self
            .run("set a tag", |client| {
                Box::pin(async move {
                    let written = execute(
                        &client,
                        "INSERT INTO storage_tags (repository_id, tag, digest) \
                         SELECT id, $2, $3 FROM storage_repositories WHERE name = $1 \
                         ON CONFLICT (repository_id, tag) DO UPDATE SET digest = EXCLUDED.digest",
                        &[&repository.as_str(), &tag.as_str(), &digest.as_str()],
                    )
                    .await;
                    match written {
                        Ok(n) => Ok(n > 0),
                        // No such manifest (TAG_MANIFEST), or the repository
                        // row went (an empty repository given way to a
                        // restored archive) since the statement read it.
                        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Ok(false),
                        Err(e) => Err(e.into()),
                    }
                })
            })
            .await?;
        if !written {
            return Err(Error::manifest_not_found(repository, digest));
        }
        Ok(())
    }

    async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.find(
            "resolve a tag",
            "SELECT t.digest FROM storage_tags t JOIN storage_repositories r \
             ON r.id = t.repository_id WHERE r.name = $1 AND t.tag = $2",
            &[&repository.as_str(), &tag.as_str()],
            parsed_column("storage_tags", "digest"),
        )
        .await?
        .ok_or_else(|| Error::tag_not_found(repository, tag))
    }

    async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.find(
            "delete a tag",
            "DELETE FROM storage_tags t USING storage_repositories r \
             WHERE r.id = t.repository_id AND r.name = $1 AND t.tag = $2 \
             RETURNING t.digest",
            &[&repository.as_str(), &tag.as_str()],
            parsed_column("storage_tags", "digest"),
        )
        .await?
        .ok_or_else(|| Error::tag_not_found(repository, tag))
    }

    /// One query, so that "no such repository" and the page agree.
    async fn list_tags(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        let (last, n) = (after(page), limit(page.n));
        let tags = self
            .run("list tags", |client| {
                Box::pin(async move {
                    // One row with a NULL tag for a repository without tags;
                    // none for an unknown repository.
                    let rows = query(
                        &client,
                        "SELECT t.tag FROM storage_repositories r LEFT JOIN LATERAL \
                         (SELECT tag FROM storage_tags WHERE repository_id = r.id AND tag > $2 \
                          ORDER BY tag LIMIT $3) t ON true \
                         WHERE r.name = $1 ORDER BY t.tag",
                        &[&repository.as_str(), &last, &n],
                    )
                    .await?;
                    if rows.is_empty() {
                        return Ok(None);
                    }
                    let mut tags = Vec::with_capacity(rows.len());
                    for row in &rows {
                        if let Some(text) = column::<Option<&str>>(row, "storage_tags", "tag")? {
                            tags.push(text.parse::<Tag>().map_err(|e| Error::CorruptRecord {
                                record: "storage_tags.tag".to_owned(),
                                detail: e.to_string(),
                            })?);
                        }
                    }
                    Ok(Some(tags))
                })
            })
            .await?;
        let tags = tags.ok_or_else(|| Error::RepositoryNotFound(repository.clone()))?;
        Ok(Page::from_sorted_by(tags, page, Tag::as_str))
    }

    async fn tags_of(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        self.page(
            "list the tags of a manifest",
            "SELECT t.tag FROM storage_tags t JOIN storage_repositories r \
             ON r.id = t.repository_id WHERE r.name = $1 AND t.digest = $2 \
             AND t.tag > $3 ORDER BY t.tag LIMIT $4",
            &[&repository.as_str(), &digest.as_str()],
            parsed_column("storage_tags", "tag"),
            page,
            Tag::as_str,
        )
        .await
    }

    async fn list_referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Referrer>> {
        self.page(
            "list referrers",
            "SELECT m.digest, m.media_type, m.size, m.artifact_type, \
             m.annotations::text AS annotations \
             FROM storage_manifests m JOIN storage_repositories r \
             ON r.id = m.repository_id \
             WHERE r.name = $1 AND m.subject = $2 \
             AND ($3::text IS NULL OR m.artifact_type = $3) \
             AND m.digest > $4 ORDER BY m.digest LIMIT $5",
            &[&repository.as_str(), &subject.as_str(), &artifact_type],
            referrer,
            page,
            |r| r.digest.as_str(),
        )
        .await
    }

    async fn list_repositories(&self, page: &PageRequest) -> Result<Page<RepositoryName>> {
        self.page(
            "list repositories",
            "SELECT name FROM storage_repositories WHERE name > $1 \
             ORDER BY name LIMIT $2",
            &[],
            parsed_column("storage_repositories", "name"),
            page,
            RepositoryName::as_str,
        )
        .await
    }

    async fn archive_repository(
        &self,
        repository: &RepositoryName,
        key: &ArchiveKey,
    ) -> Result<()> {
        self.archive(repository, key).await
    }

    async fn restore_repository(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        self.restore(key, repository).await
    }

    async fn delete_archive(&self, key: &ArchiveKey) -> Result<()> {
        self.discard(key).await
    }

    async fn list_archives(&self, page: &PageRequest) -> Result<Page<Archive>> {
        self.archives(page).await
    }

    /// One `UPDATE` of the link's `linked_at` to the database's `now()`,
    /// which takes the row's lock: a concurrent
    /// [`unlink_blob_unused_since`](RepositoryStore::unlink_blob_unused_since)
    /// either deleted the row first (false here) or sees the new time.
    async fn confirm_link(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        let confirmed = self
            .changed(
                "confirm a blob link",
                "UPDATE storage_links l SET linked_at = now() FROM storage_repositories r \
                 WHERE r.id = l.repository_id AND r.name = $1 AND l.digest = $2",
                &[&repository.as_str(), &digest.as_str()],
            )
            .await?;
        Ok(confirmed > 0)
    }

    /// One conditional `DELETE` (`linked_at < cutoff`), atomic per row
    /// against [`confirm_link`](RepositoryStore::confirm_link) and
    /// [`link_blob`](RepositoryStore::link_blob): one that committed first
    /// makes the row too recent to go (PostgreSQL re-checks the condition
    /// on the row it waited for).
    ///
    /// Link times are the database's clock (`now()` when the link was
    /// made or confirmed) and `cutoff` is the caller's: a collector whose
    /// clock runs ahead of the database's removes links that are younger
    /// than it meant by that much, so keep the grace period well above the
    /// clocks' skew.
    ///
    /// Like [`unlink_blob`](RepositoryStore::unlink_blob), this announces
    /// nothing on [`NOTIFY_CHANNEL`](super::NOTIFY_CHANNEL): no cache keeps
    /// links ([`CachedStorage`](crate::CachedStorage) answers
    /// [`is_blob_linked`](RepositoryStore::is_blob_linked) from the
    /// database every time), so every replica sees the link gone at once.
    async fn unlink_blob_unused_since(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        cutoff: SystemTime,
    ) -> Result<bool> {
        let removed = self
            .changed(
                "remove an unused blob link",
                "DELETE FROM storage_links l USING storage_repositories r \
                 WHERE r.id = l.repository_id AND r.name = $1 AND l.digest = $2 \
                 AND l.linked_at < $3",
                &[&repository.as_str(), &digest.as_str(), &cutoff],
            )
            .await?;
        Ok(removed > 0)
    }

    /// One query over the links of every repository row, live and
    /// archived alike (`digest = ANY($1)`, grouped by digest, through the
    /// digest index). It sees every link committed before it started.
    async fn link_counts(&self, digests: &[Digest]) -> Result<HashMap<Digest, u64>> {
        if digests.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted: Vec<&str> = digests.iter().map(Digest::as_str).collect();
        let wanted = &wanted;
        let rows = self
            .run("count blob links", |client| {
                Box::pin(async move {
                    Ok(query(
                        &client,
                        "SELECT digest, count(*) AS links FROM storage_links \
                         WHERE digest = ANY($1) GROUP BY digest",
                        &[wanted],
                    )
                    .await?)
                })
            })
            .await?;
        let mut counts = HashMap::with_capacity(rows.len());
        for row in &rows {
            let digest: Digest = parsed(row, "storage_links", "digest")?;
            let links: i64 = column(row, "storage_links", "links")?;
            counts.insert(digest, u64::try_from(links).unwrap_or(0));
        }
        Ok(counts)
    }
}
