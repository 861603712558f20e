//! The persistent records of a container registry that behaves like
//! GitHub's Container registry: accounts, tokens, packages and versions.
//!
//! - **Accounts**: users and organizations share one namespace of logins
//!   ([`Account`], whose kind is a [`wharf_auth::OwnerKind`]);
//!   organizations have members with an [`OrgRole`](wharf_auth::OrgRole)
//!   and teams.
//! - **Tokens**: personal access tokens ([`wharf_auth::StoredToken`]) and
//!   workflow tokens bound to a source repository ([`WorkflowToken`]), both
//!   stored only as a [`TokenHash`](wharf_auth::TokenHash) and found by it;
//!   revocable, expiring, with a last-used time.
//! - **Packages**: created private on first publish, with visibility,
//!   grants, a linked source repository and the metadata that
//!   `wharf-annotations` extracts ([`PackageRecord`]); deleted packages are
//!   restorable for the store's restore window ([`RESTORE_WINDOW`], 30
//!   days, by default), then purged.
//! - **Versions**: one per manifest digest, with its tags (a tag moves
//!   from version to version), media type, size and platforms
//!   ([`VersionRecord`]); deleted and restored like packages.
//! - **Retention policies**: per package, and as an organization's
//!   default: keep the N most recent versions, delete untagged versions
//!   older than D days, never delete versions whose tag matches a pattern
//!   ([`RetentionPolicy`], whose docs say how the rules combine;
//!   [`RetentionPolicy::select`] picks what to delete now).
//! - **Source repositories**: their collaborators and roles, for packages
//!   that inherit access from a linked repository.
//! - **Authorization input**: [`PackageRecords::access_context`] reads, in
//!   one snapshot, everything [`wharf_auth::authorize`] needs.
//!
//! [`PackageStore`] is the trait (async, object safe: share it as
//! `Arc<dyn PackageStore>`), made of three implemented separately:
//! [`AccountStore`] (accounts, members, teams), [`TokenStore`] (tokens)
//! and [`PackageRecords`] (packages, versions, collaborators, purging,
//! authorization input); every type implementing the three is a
//! `PackageStore`, and [`prelude`] brings them all into scope for method
//! calls. [`SqlitePackageStore`] is the embedded
//! default, one SQLite file; [`PgPackageStore`] keeps them in PostgreSQL
//! for several registry processes; [`CachedStore`] puts a read-through cache in
//! front of any store for the per-request lookups. The store reads no
//! clock: every change takes `now`.
//!
//! ```
//! use wharf_auth::{
//!     authorize, PackageAction, Identity, Package, PersonalAccessToken, StoredToken, Timestamp,
//! };
//! use wharf_packages::prelude::*;
//! use wharf_packages::{NewVersion, PackageLookup, SqlitePackageStore};
//! use wharf_reference::Digest;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let store = SqlitePackageStore::in_memory()?;
//! let now = Timestamp::from_unix_seconds(1_700_000_000);
//!
//! // The admin CLI creates a user and a token; only the hash is stored.
//! let alice = "alice".parse()?;
//! store.create_user(&alice, now).await?;
//! let secret = PersonalAccessToken::generate()?;
//! store
//!     .insert_personal_token(&StoredToken::new(&secret, alice.clone(), "write:packages".parse()?, None), now)
//!     .await?;
//!
//! // A request authenticates with Basic auth: look the token up by its hash.
//! let record = store.find_token(&secret.hash()).await?.expect("stored");
//! let principal = record.authenticate(secret.expose_secret(), now)?;
//! store.record_token_use(record.id, now).await?;
//!
//! // `docker push registry.example/alice/app:1.0`: may alice push here?
//! let name = "alice/app".parse()?;
//! let context = store.access_context(&name, principal.login(), PackageLookup::Active).await?;
//! let state = context.state().expect("the namespace exists");
//! assert!(authorize(&principal, PackageAction::Push, &state).is_allowed());
//!
//! // First publish: the package is created private; then the version is recorded.
//! store.create_package(&Package::first_publish(name.clone(), &Identity::User(alice)), now).await?;
//! let manifest = br#"{"schemaVersion":2}"#;
//! let version = NewVersion::new(
//!     Digest::sha256(manifest),
//!     wharf_reference::MediaType::OCI_IMAGE_MANIFEST,
//!     manifest.len() as u64,
//! )
//! .with_tag("1.0".parse()?);
//! store.record_version(&name, &version, now).await?;
//!
//! let package = store.package(&name).await?.expect("created");
//! assert_eq!(package.version_count, 1);
//! assert_eq!(package.visibility(), wharf_auth::Visibility::Private);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Storage
//!
//! [`SqlitePackageStore::open`] opens or creates a database file (WAL
//! mode, `synchronous=FULL`, foreign keys on) and migrates its schema
//! (tracked by the `user_version` pragma). Every change is one
//! transaction. Lookups by token hash and package name use unique
//! indexes and cached prepared statements.
//!
//! [`PgPackageStore`] (feature `postgres`) keeps the same records in a
//! PostgreSQL database that several registry processes share, each seeing
//! the others' changes at once: a pool of connections (deadpool-postgres
//! over tokio-postgres), versioned migrations applied at start under an
//! advisory lock, every change one `SERIALIZABLE` transaction (retried on
//! serialization failures), [`Error::Unavailable`] when the database is
//! out of reach, and a `NOTIFY` for each change a cache on another
//! replica must hear about (its documentation has an example).
//!
//! # Testkit
//!
//! With the `testkit` feature, [`testkit`] holds the conformance suite
//! every [`PackageStore`] must pass, one module of cases per trait:
//! implement [`testkit::Fixture`] and generate one test per case with
//! [`package_store_tests!`] (`package_store_tests!(my_store, MyFixture::new)`
//! makes tests named `my_store::token::…`, naming the backend and the case).
//!
//! # Features
//!
//! - `sqlite` (default): [`SqlitePackageStore`], with rusqlite and a
//!   bundled SQLite.
//! - `postgres`: [`PgPackageStore`], with tokio-postgres and
//!   deadpool-postgres.
//! - `testkit`: the conformance suite (with `sqlite` or `postgres`, their
//!   fixtures).
//!
#![cfg_attr(
    feature = "testkit",
    doc = "[`testkit`]: mod@testkit\n[`testkit::Fixture`]: testkit::Fixture\n[`package_store_tests!`]: package_store_tests"
)]
// Without the feature these links point at the section above instead.
#![cfg_attr(
    not(feature = "testkit"),
    doc = "[`testkit`]: crate#testkit\n[`testkit::Fixture`]: crate#testkit\n[`package_store_tests!`]: crate#testkit"
)]
#![cfg_attr(
    feature = "sqlite",
    doc = "[`SqlitePackageStore`]: SqlitePackageStore\n[`SqlitePackageStore::open`]: SqlitePackageStore::open"
)]
// Without the feature these links point at the Storage section instead.
#![cfg_attr(
    not(feature = "sqlite"),
    doc = "[`SqlitePackageStore`]: crate#storage\n[`SqlitePackageStore::open`]: crate#storage"
)]
#![cfg_attr(feature = "postgres", doc = "[`PgPackageStore`]: PgPackageStore")]
// Without the feature the link points at the Storage section instead.
#![cfg_attr(not(feature = "postgres"), doc = "[`PgPackageStore`]: crate#storage")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod account;
mod cache;
mod error;
mod id;
mod package;
mod page;
#[cfg(feature = "postgres")]
mod postgres;
mod retention;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod stored;
mod token;
mod version;

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

pub use access::{AccessContext, Collaborator, CollaboratorParseError};
pub use account::{Account, Member, OrganizationMembership};
pub use cache::{CacheOptions, CachedStore};
pub use error::{BoxError, Error};
pub use id::{AccountId, PackageId, TokenId, VersionId};
pub use package::{
    ensure_restorable, ensure_restorable_within, is_restorable, is_restorable_within,
    PackageChanges, PackageLookup, PackageQuery, PackageRecord, RecordState, RESTORE_WINDOW,
};
pub use page::{Cursor, Page, PageRequest};
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PgPackageStore, MIGRATION_LOCK, NOTIFY_CHANNEL};
pub use retention::{
    RetainedPackage, RetentionError, RetentionPolicy, TagPattern, MAX_DAYS, MAX_PATTERNS,
    MAX_PATTERN_LENGTH,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqlitePackageStore};
pub use store::{
    AccountStore, PackageRecords, PackageStore, PurgeReport, PurgedPackage, PurgedVersion,
    Revision, TokenStore, LAST_USED_GRANULARITY,
};

/// The store traits, for calling their methods on a store (a concrete
/// backend or an `Arc<dyn PackageStore>`): `use wharf_packages::prelude::*;`.
pub mod prelude {
    pub use crate::{AccountStore, PackageRecords, PackageStore, TokenStore};
}
pub use token::{Credential, TokenRecord, WorkflowToken};
pub use version::{NewVersion, VersionQuery, VersionRecord};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
