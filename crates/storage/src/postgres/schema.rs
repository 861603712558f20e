//! The schema, as numbered migrations recorded in `wharf_schema_migrations`.
//!
//! Every Wharf component that keeps tables in a database (this crate as
//! `storage`, the package store as its own component) records the
//! migrations it applied there as `(component, version)` rows, so that
//! several components share one database without sharing a version
//! number. Migrations run in one transaction under an advisory lock, so
//! replicas that start together apply each migration once, and a failure
//! leaves the previous schema whole. Never edit a released migration:
//! append a new one.

use super::failure::Failure;
use super::{execute, query_one};
use crate::error::Error;

/// This crate's name in `wharf_schema_migrations`.
pub(super) const COMPONENT: &str = "storage";

/// The transaction-level advisory lock every Wharf component (the package
/// store too) takes while it migrates, the bytes of `wharfmig`: the shared
/// `wharf_schema_migrations` table is created once, and components never
/// migrate at the same moment.
pub(super) const MIGRATION_LOCK: i64 = 0x7768_6172_666d_6967;

/// The table of applied migrations, shared by every component.
const MIGRATIONS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS wharf_schema_migrations (
    component text NOT NULL,
    version bigint NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)";

/// The migrations, oldest first; migration `i` is version `i + 1`.
///
/// Text columns that are listed in pages use the "C" collation, so that
/// indexes, `>` and `ORDER BY` all follow byte order, as the trait's pages
/// require whatever the database's locale.
pub(super) const MIGRATIONS: &[&str] = &[
    "
-- A repository's content hangs off one row: live under `name`, or
-- archived under `archive_key` (with the name it was taken from). Archiving
-- and restoring move that one row, never the content.
CREATE TABLE storage_repositories (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text COLLATE \"C\",
    archive_key text COLLATE \"C\",
    archived_from text,
    CONSTRAINT storage_repositories_name UNIQUE (name),
    CONSTRAINT storage_repositories_archive_key UNIQUE (archive_key),
    CONSTRAINT storage_repositories_live_or_archived
        CHECK ((name IS NULL) = (archive_key IS NOT NULL)
           AND (archive_key IS NULL) = (archived_from IS NULL))
);

CREATE TABLE storage_links (
    repository_id bigint NOT NULL REFERENCES storage_repositories (id) ON DELETE CASCADE,
    digest text COLLATE \"C\" NOT NULL,
    PRIMARY KEY (repository_id, digest)
);

-- A manifest with a subject is its subject's referrer: the referrers index
-- is this table's (repository_id, subject) index, so it can never disagree
-- with the manifests.
CREATE TABLE storage_manifests (
    repository_id bigint NOT NULL REFERENCES storage_repositories (id) ON DELETE CASCADE,
    digest text COLLATE \"C\" NOT NULL,
    media_type text NOT NULL,
    bytes bytea NOT NULL,
    size bigint GENERATED ALWAYS AS (octet_length(bytes)) STORED,
    subject text COLLATE \"C\",
    artifact_type text,
    annotations jsonb,
    PRIMARY KEY (repository_id, digest),
    CONSTRAINT storage_manifests_referrer_fields
        CHECK (subject IS NOT NULL OR (artifact_type IS NULL AND annotations IS NULL))
);
CREATE INDEX storage_manifests_referrers
    ON storage_manifests (repository_id, subject, digest) WHERE subject IS NOT NULL;

-- A tag can only point at a manifest of its repository (the foreign key
-- locks that manifest's row while the tag is written) and goes with it
-- (ON DELETE CASCADE): no tag ever points at a deleted manifest.
CREATE TABLE storage_tags (
    repository_id bigint NOT NULL REFERENCES storage_repositories (id) ON DELETE CASCADE,
    tag text COLLATE \"C\" NOT NULL,
    digest text COLLATE \"C\" NOT NULL,
    PRIMARY KEY (repository_id, tag),
    CONSTRAINT storage_tags_manifest FOREIGN KEY (repository_id, digest)
        REFERENCES storage_manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX storage_tags_by_manifest ON storage_tags (repository_id, digest, tag);
",
    "
-- Every change that a cache of manifests or tags must hear about (a tag
-- set, moved or deleted; a manifest deleted or stored again; a repository
-- archived, restored or dropped) tells the listeners of channel
-- `wharf_storage` the repository's name, when the transaction commits
-- (PostgreSQL sends one notification per distinct name and transaction).
-- Replicas then drop what they cached about it at once. New manifests are
-- not announced: a miss is never cached.
CREATE FUNCTION storage_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed text;
BEGIN
    IF TG_TABLE_NAME = 'storage_repositories' THEN
        IF OLD.name IS NOT NULL THEN
            PERFORM pg_notify('wharf_storage', OLD.name);
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.name IS NOT NULL THEN
            PERFORM pg_notify('wharf_storage', NEW.name);
        END IF;
        RETURN NULL;
    END IF;
    SELECT name INTO changed FROM storage_repositories
        WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.repository_id ELSE NEW.repository_id END);
    IF changed IS NOT NULL THEN
        PERFORM pg_notify('wharf_storage', changed);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER storage_tags_notify AFTER INSERT OR UPDATE OR DELETE ON storage_tags
    FOR EACH ROW EXECUTE FUNCTION storage_notify_change();
CREATE TRIGGER storage_manifests_notify AFTER UPDATE OR DELETE ON storage_manifests
    FOR EACH ROW EXECUTE FUNCTION storage_notify_change();
CREATE TRIGGER storage_repositories_notify AFTER UPDATE OR DELETE ON storage_repositories
    FOR EACH ROW EXECUTE FUNCTION storage_notify_change();
",
    "
-- Garbage collection: when each link was last made or confirmed (by a
-- manifest push), so that a collection removes only links unused since
-- its cutoff, in one conditional DELETE against the confirming UPDATE.
-- Existing links count as made now (the migration's time). The digest
-- index is for counting a blob's links across repositories.
ALTER TABLE storage_links ADD COLUMN linked_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX storage_links_by_digest ON storage_links (digest);
",
];

/// The channel on which the schema announces, by repository name, every
/// change a cache of manifests and tags must hear about (see
/// [`PostgresMetadata`](super::PostgresMetadata)).
pub const NOTIFY_CHANNEL: &str = "wharf_storage";

/// Brings the schema to the newest version this build knows, in one
/// transaction. [`Error::Database`] if the database records a newer
/// version of this component than this build knows (a newer program
/// migrated it: upgrade this one).
pub(super) async fn migrate(client: &mut deadpool_postgres::Object) -> Result<(), Failure> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(MIGRATIONS_TABLE).await?;
    let applied: i64 = query_one(
        &tx,
        "SELECT coalesce(max(version), 0)::bigint FROM wharf_schema_migrations \
         WHERE component = $1",
        &[&COMPONENT],
    )
    .await?
    .try_get(0)?;
    let known = MIGRATIONS.len() as i64;
    if applied > known {
        return Err(Error::Database {
            context: "migrate the storage schema".to_owned(),
            source: format!(
                "the database holds storage schema version {applied}, newer than this \
                 program's {known}: upgrade the program"
            )
            .into(),
        }
        .into());
    }
    for (version, migration) in (1i64..).zip(MIGRATIONS).skip(applied as usize) {
        tx.batch_execute(migration).await?;
        execute(
            &tx,
            "INSERT INTO wharf_schema_migrations (component, version) VALUES ($1, $2::bigint)",
            &[&COMPONENT, &version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The schema version this build migrates to.
pub(super) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}
