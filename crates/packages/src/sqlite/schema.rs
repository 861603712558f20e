//! The schema, as an ordered list of migrations applied by the
//! `user_version` pragma.
//!
//! Each migration runs once, in its own transaction, and sets
//! `user_version` to its position (1-based). Never edit a released
//! migration: append a new one.
//!
//! The SQL keeps to what SQLite and PostgreSQL both accept (`RETURNING`,
//! `ON CONFLICT ... DO UPDATE`, partial indexes, composite foreign keys),
//! so a PostgreSQL backend can start from the same statements; the
//! differences are `INTEGER PRIMARY KEY` (an identity column there) and
//! `BLOB` (`BYTEA`).

use rusqlite::{Connection, TransactionBehavior};

use crate::error::Error;
use crate::sqlite::convert::Context;

/// The migrations, oldest first.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: accounts, memberships, teams, tokens, packages, versions, tags,
    // repository collaborators.
    r#"
    CREATE TABLE accounts (
        id          INTEGER PRIMARY KEY,
        login       TEXT    NOT NULL UNIQUE,
        kind        TEXT    NOT NULL CHECK (kind IN ('user', 'organization')),
        members_can_create_packages INTEGER NOT NULL DEFAULT 1,
        created_at  INTEGER NOT NULL
    );

    CREATE TABLE memberships (
        organization_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        user_id         INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        role            TEXT    NOT NULL CHECK (role IN ('member', 'admin')),
        created_at      INTEGER NOT NULL,
        PRIMARY KEY (organization_id, user_id)
    );
    CREATE INDEX memberships_by_user ON memberships (user_id);

    CREATE TABLE teams (
        id              INTEGER PRIMARY KEY,
        organization_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        slug            TEXT    NOT NULL,
        created_at      INTEGER NOT NULL,
        UNIQUE (organization_id, slug)
    );

    -- A team member must be a member of the team's organization: removing
    -- the membership removes them from its teams.
    CREATE TABLE team_members (
        team_id         INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        organization_id INTEGER NOT NULL,
        user_id         INTEGER NOT NULL,
        PRIMARY KEY (team_id, user_id),
        FOREIGN KEY (organization_id, user_id)
            REFERENCES memberships (organization_id, user_id) ON DELETE CASCADE
    );
    CREATE INDEX team_members_by_member ON team_members (organization_id, user_id);

    CREATE TABLE tokens (
        id                  INTEGER PRIMARY KEY,
        hash                BLOB    NOT NULL UNIQUE,
        kind                TEXT    NOT NULL CHECK (kind IN ('personal', 'workflow')),
        owner_id            INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
        scopes              TEXT    NOT NULL DEFAULT '',
        repository          TEXT,
        workflow_permission TEXT,
        note                TEXT    NOT NULL DEFAULT '',
        created_at          INTEGER NOT NULL,
        expires_at          INTEGER,
        revoked_at          INTEGER,
        last_used_at        INTEGER,
        CHECK ((kind = 'personal' AND owner_id IS NOT NULL)
            OR (kind = 'workflow' AND repository IS NOT NULL AND workflow_permission IS NOT NULL))
    );
    CREATE INDEX tokens_by_owner ON tokens (owner_id) WHERE owner_id IS NOT NULL;
    CREATE INDEX tokens_by_repository ON tokens (repository) WHERE repository IS NOT NULL;

    CREATE TABLE packages (
        id                INTEGER PRIMARY KEY,
        name              TEXT    NOT NULL,
        owner_id          INTEGER NOT NULL REFERENCES accounts (id),
        visibility        TEXT    NOT NULL CHECK (visibility IN ('private', 'internal', 'public')),
        linked_repository TEXT,
        inherit_access    INTEGER NOT NULL DEFAULT 0,
        metadata          TEXT    NOT NULL DEFAULT '{}',
        version_count     INTEGER NOT NULL DEFAULT 0,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL,
        deleted_at        INTEGER
    );
    -- One live package per name; deleted ones keep their name until purged.
    CREATE UNIQUE INDEX packages_live_name ON packages (name) WHERE deleted_at IS NULL;
    CREATE INDEX packages_by_name ON packages (name, deleted_at);
    CREATE INDEX packages_by_owner ON packages (owner_id, name, id);
    CREATE INDEX packages_deleted ON packages (deleted_at) WHERE deleted_at IS NOT NULL;

    CREATE TABLE package_grants (
        package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        grantee    TEXT    NOT NULL,
        role       TEXT    NOT NULL CHECK (role IN ('read', 'write', 'admin')),
        PRIMARY KEY (package_id, grantee)
    );

    CREATE TABLE versions (
        id          INTEGER PRIMARY KEY,
        package_id  INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        digest      TEXT    NOT NULL,
        media_type  TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        platforms   TEXT    NOT NULL DEFAULT '[]',
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        deleted_at  INTEGER,
        UNIQUE (package_id, digest)
    );
    CREATE INDEX versions_by_package ON versions (package_id, id);
    CREATE INDEX versions_deleted ON versions (deleted_at) WHERE deleted_at IS NOT NULL;

    -- A tag points at one version of its package: moving it is an update.
    CREATE TABLE version_tags (
        package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        tag        TEXT    NOT NULL,
        version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
        PRIMARY KEY (package_id, tag)
    );
    CREATE INDEX version_tags_by_version ON version_tags (version_id, tag);

    CREATE TABLE repository_collaborators (
        repository TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('user', 'team')),
        name       TEXT NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('read', 'triage', 'write', 'maintain', 'admin')),
        PRIMARY KEY (repository, kind, name)
    );
    "#,
    // 2: when an admin last unlinked a package, so that a push does not
    // link it again.
    r#"
    ALTER TABLE packages ADD COLUMN unlinked_at INTEGER;
    "#,
    // 3: retention policies (JSON), a package's own and an organization's
    // default for its packages.
    r#"
    ALTER TABLE packages ADD COLUMN retention TEXT;
    ALTER TABLE accounts ADD COLUMN retention TEXT;
    "#,
];

/// The schema version this build writes.
pub(crate) fn current_version() -> i64 {
    // The list is a constant of a few entries.
    MIGRATIONS.len() as i64
}

/// Brings the database up to [`current_version`], one transaction per
/// migration. Safe to run from several processes at once: the version is
/// re-read under the write lock.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), Error> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .during("starting a migration")?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .during("reading the schema version")?;
        if version < 0 {
            return Err(Error::corrupt(
                "schema version",
                format!("negative user_version {version}"),
            ));
        }
        if version > current_version() {
            return Err(Error::SchemaTooNew {
                found: version,
                supported: current_version(),
            });
        }
        let Some(migration) = usize::try_from(version)
            .ok()
            .and_then(|index| MIGRATIONS.get(index))
        else {
            return Ok(());
        };
        tx.execute_batch(migration).during("applying a migration")?;
        tx.pragma_update(None, "user_version", version + 1)
            .during("recording the schema version")?;
        tx.commit().during("committing a migration")?;
    }
}
