//! The schema, as versioned migrations recorded in the
//! `wharf_schema_migrations` table under the component `packages`.
//!
//! The table is shared with Wharf's other PostgreSQL components (the
//! storage crate's metadata store keeps its own migrations in the same
//! database, under its own component name):
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS wharf_schema_migrations (
//!     component  text        NOT NULL,
//!     version    bigint      NOT NULL,
//!     applied_at timestamptz NOT NULL DEFAULT now(),
//!     PRIMARY KEY (component, version)
//! );
//! ```
//!
//! A component migrates in one transaction holding the transaction-level
//! advisory lock [`MIGRATION_LOCK`] (the same key for every component, so
//! that two of them creating the shared table at once do not race either):
//! replicas starting together apply each migration once, the others wait
//! and then find nothing to do. Never edit a released migration: append a
//! new one.
//!
//! The translation from the SQLite schema keeps every constraint, unique
//! key and cascade; it uses `bigint` identity keys, `bytea` for token
//! hashes, `boolean`, `jsonb` for metadata and `text[]` for platforms.
//! Timestamps stay integer Unix seconds (`bigint`), as the model has them:
//! `timestamptz` would round-trip them only within its range and adds time
//! zones the model does not have. Names, logins, slugs, tags and grantees
//! compare bytewise (`COLLATE "C"`), as in SQLite, so listings sort and
//! page the same whatever the database's locale.

use deadpool_postgres::Object;

use crate::error::Error;
use crate::postgres::convert::{is_retryable, sql_state, Context};

/// The component name of this crate's migrations.
pub(crate) const COMPONENT: &str = "packages";

/// The transaction-level advisory lock key (`pg_advisory_xact_lock`) every
/// Wharf component holds while it migrates: the bytes of `wharfmig`.
///
/// The components of Wharf that keep data in one PostgreSQL database (this
/// crate's [`PgPackageStore`](crate::PgPackageStore) under the component
/// name `packages`, the storage crate's metadata store under its own)
/// record their migrations in one shared table:
///
/// ```sql
/// CREATE TABLE IF NOT EXISTS wharf_schema_migrations (
///     component  text        NOT NULL,
///     version    bigint      NOT NULL,
///     applied_at timestamptz NOT NULL DEFAULT now(),
///     PRIMARY KEY (component, version)
/// );
/// ```
///
/// Each migrates in one transaction that first takes this lock, then
/// creates the table if needed, reads its component's highest version and
/// applies what follows, one row per version. Replicas (and components)
/// starting together thus take turns; the later ones find nothing to do.
pub const MIGRATION_LOCK: i64 = 0x7768_6172_666d_6967;

/// The shared table of applied migrations.
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS wharf_schema_migrations (
    component  text        NOT NULL,
    version    bigint      NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)";

/// The migrations, oldest first; migration `n` (1-based) is version `n`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: accounts, memberships, teams, tokens, packages, grants, versions,
    // tags, repository collaborators (SQLite's migrations 1 and 2).
    r#"
    CREATE TABLE accounts (
        id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        login       text    COLLATE "C" NOT NULL UNIQUE,
        kind        text    NOT NULL CHECK (kind IN ('user', 'organization')),
        members_can_create_packages boolean NOT NULL DEFAULT true,
        created_at  bigint  NOT NULL
    );

    CREATE TABLE memberships (
        organization_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        user_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        role            text   NOT NULL CHECK (role IN ('member', 'admin')),
        created_at      bigint NOT NULL,
        PRIMARY KEY (organization_id, user_id)
    );
    CREATE INDEX memberships_by_user ON memberships (user_id);

    CREATE TABLE teams (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        organization_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        slug            text   COLLATE "C" NOT NULL,
        created_at      bigint NOT NULL,
        UNIQUE (organization_id, slug)
    );

    -- A team member must be a member of the team's organization: removing
    -- the membership removes them from its teams.
    CREATE TABLE team_members (
        team_id         bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        organization_id bigint NOT NULL,
        user_id         bigint NOT NULL,
        PRIMARY KEY (team_id, user_id),
        FOREIGN KEY (organization_id, user_id)
            REFERENCES memberships (organization_id, user_id) ON DELETE CASCADE
    );
    CREATE INDEX team_members_by_member ON team_members (organization_id, user_id);

    CREATE TABLE tokens (
        id                  bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        hash                bytea   NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
        kind                text    NOT NULL CHECK (kind IN ('personal', 'workflow')),
        owner_id            bigint  REFERENCES accounts (id) ON DELETE CASCADE,
        scopes              text    NOT NULL DEFAULT '',
        repository          text    COLLATE "C",
        workflow_permission text,
        note                text    NOT NULL DEFAULT '',
        created_at          bigint  NOT NULL,
        expires_at          bigint,
        revoked_at          bigint,
        last_used_at        bigint,
        CHECK ((kind = 'personal' AND owner_id IS NOT NULL)
            OR (kind = 'workflow' AND repository IS NOT NULL AND workflow_permission IS NOT NULL))
    );
    CREATE INDEX tokens_by_owner ON tokens (owner_id) WHERE owner_id IS NOT NULL;
    CREATE INDEX tokens_by_repository ON tokens (repository) WHERE repository IS NOT NULL;

    CREATE TABLE packages (
        id                bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name              text    COLLATE "C" NOT NULL,
        owner_id          bigint  NOT NULL REFERENCES accounts (id),
        visibility        text    NOT NULL CHECK (visibility IN ('private', 'internal', 'public')),
        linked_repository text    COLLATE "C",
        inherit_access    boolean NOT NULL DEFAULT false,
        metadata          jsonb   NOT NULL DEFAULT '{}',
        version_count     bigint  NOT NULL DEFAULT 0 CHECK (version_count >= 0),
        created_at        bigint  NOT NULL,
        updated_at        bigint  NOT NULL,
        deleted_at        bigint,
        unlinked_at       bigint
    );
    -- One live package per name; deleted ones keep their name until purged.
    CREATE UNIQUE INDEX packages_live_name ON packages (name) WHERE deleted_at IS NULL;
    CREATE INDEX packages_by_name ON packages (name, deleted_at);
    CREATE INDEX packages_by_owner ON packages (owner_id, name, id);
    CREATE INDEX packages_deleted ON packages (deleted_at) WHERE deleted_at IS NOT NULL;

    CREATE TABLE package_grants (
        package_id bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        grantee    text   COLLATE "C" NOT NULL,
        role       text   NOT NULL CHECK (role IN ('read', 'write', 'admin')),
        PRIMARY KEY (package_id, grantee)
    );

    CREATE TABLE versions (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        package_id  bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        digest      text   COLLATE "C" NOT NULL,
        media_type  text   NOT NULL,
        size        bigint NOT NULL CHECK (size >= 0),
        platforms   text[] NOT NULL DEFAULT '{}',
        created_at  bigint NOT NULL,
        updated_at  bigint NOT NULL,
        deleted_at  bigint,
        UNIQUE (package_id, digest)
    );
    CREATE INDEX versions_by_package ON versions (package_id, id);
    CREATE INDEX versions_deleted ON versions (deleted_at) WHERE deleted_at IS NOT NULL;

    -- A tag points at one version of its package: moving it is an update.
    CREATE TABLE version_tags (
        package_id bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        tag        text   COLLATE "C" NOT NULL,
        version_id bigint NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
        PRIMARY KEY (package_id, tag)
    );
    CREATE INDEX version_tags_by_version ON version_tags (version_id, tag);

    CREATE TABLE repository_collaborators (
        repository text COLLATE "C" NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('user', 'team')),
        name       text COLLATE "C" NOT NULL,
        role       text NOT NULL CHECK (role IN ('read', 'triage', 'write', 'maintain', 'admin')),
        PRIMARY KEY (repository, kind, name)
    );
    "#,
    // 2: retention policies (JSON text, as `wharf_packages::RetentionPolicy`
    // serializes), a package's own and an organization's default for its
    // packages.
    r#"
    ALTER TABLE packages ADD COLUMN retention text;
    ALTER TABLE accounts ADD COLUMN retention text;
    "#,
];

/// The schema version this build writes.
pub(crate) fn current_version() -> i64 {
    // The list is a constant of a few entries.
    MIGRATIONS.len() as i64
}

/// How many times a migration that lost a race is tried again: another
/// component without the shared lock creating the shared table at the same
/// moment, or a serialization failure.
const MIGRATION_ATTEMPTS: u32 = 3;

/// Brings the database up to [`current_version`] in one transaction under
/// [`MIGRATION_LOCK`].
pub(crate) async fn migrate(client: &mut Object) -> Result<(), Error> {
    let mut attempt = 1;
    loop {
        match migrate_once(client).await {
            Err(e) if attempt < MIGRATION_ATTEMPTS && lost_a_race(&e) => attempt += 1,
            other => return other,
        }
    }
}

fn lost_a_race(e: &Error) -> bool {
    use tokio_postgres::error::SqlState;
    is_retryable(e)
        || sql_state(e).is_some_and(|state| {
            *state == SqlState::UNIQUE_VIOLATION || *state == SqlState::DUPLICATE_TABLE
        })
}

async fn migrate_once(client: &mut Object) -> Result<(), Error> {
    let tx = client.transaction().await.during("starting a migration")?;
    // The pool's statement timeout is for requests, not for migrations.
    tx.batch_execute("SET LOCAL statement_timeout = 0")
        .await
        .during("lifting the statement timeout for a migration")?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .during("taking the migration lock")?;
    tx.batch_execute(MIGRATIONS_TABLE)
        .await
        .during("creating the migrations table")?;
    let row = tx
        .query_one(
            "SELECT COALESCE(max(version), 0) FROM wharf_schema_migrations WHERE component = $1",
            &[&COMPONENT],
        )
        .await
        .during("reading the schema version")?;
    let version: i64 = row.try_get(0).during("reading the schema version")?;
    if version < 0 {
        return Err(Error::corrupt(
            "schema version",
            format!("negative version {version}"),
        ));
    }
    if version > current_version() {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: current_version(),
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(migration)
            .await
            .during("applying a migration")?;
        let applied = index as i64 + 1;
        tx.execute(
            "INSERT INTO wharf_schema_migrations (component, version) VALUES ($1, $2)",
            &[&COMPONENT, &applied],
        )
        .await
        .during("recording the schema version")?;
    }
    tx.commit().await.during("committing a migration")
}
