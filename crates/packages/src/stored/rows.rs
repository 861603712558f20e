//! The rows both SQL backends read, and what they become: each backend
//! reads a row's columns as the tuple [`FromColumns::Columns`] (SQLite
//! with `sqlite::statement::read`, PostgreSQL with
//! `postgres::statement::read`), and the conversions here do the rest, so
//! that a value the store could not have written is refused alike by both.
//! And the rows both write alike, [`NewAccount`] and [`NewToken`].

use wharf_annotations::PackageMetadata;
use wharf_auth::{
    CodeRepository, Grant, Login, OrganizationPolicy, OwnerKind, Package, RepositoryAccess,
    RepositoryRole, StoredToken, Timestamp, TokenHash, TokenScopes,
};

use crate::account::Account;
use crate::error::Error;
use crate::id::{AccountId, PackageId, TokenId, VersionId};
use crate::package::PackageRecord;
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::store::{PurgedVersion, LAST_USED_GRANULARITY};
use crate::stored::{
    from_json, opt_time_from_sql, opt_time_to_sql, parse, time_from_sql, time_to_sql, to_json,
    u64_from_sql,
};
use crate::token::{Credential, TokenRecord, WorkflowToken};

/// A struct a query's row reads into, from the row's columns in order.
pub(crate) trait FromColumns {
    /// The types of the columns, in order.
    type Columns;

    /// The struct of these columns.
    fn from_columns(columns: Self::Columns) -> Self;
}

/// Declares the struct a query's row reads into, its fields the selected
/// columns in order, and its [`FromColumns`].
macro_rules! row_struct {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident { $($(#[$field_attr:meta])* $field:ident: $ty:ty,)* }
    ) => {
        $(#[$attr])*
        $vis struct $name {
            $($(#[$field_attr])* $vis $field: $ty,)*
        }

        impl $crate::stored::FromColumns for $name {
            type Columns = ($($ty,)*);

            fn from_columns(($($field,)*): Self::Columns) -> Self {
                $name { $($field,)* }
            }
        }
    };
}
#[cfg(feature = "sqlite")]
pub(crate) use row_struct;

row_struct! {
    /// An account, as [`AccountRow::SELECT`] reads it.
    pub(crate) struct AccountRow {
        id: i64,
        login: String,
        kind: String,
        members_can_create_packages: bool,
        created_at: i64,
    }
}

impl AccountRow {
    /// The query of every account, to be followed by a condition.
    pub(crate) const SELECT: &'static str =
        "SELECT id, login, kind, members_can_create_packages, created_at FROM accounts";

    /// The account.
    pub(crate) fn into_account(self) -> Result<Account, Error> {
        let kind = match self.kind.as_str() {
            "user" => OwnerKind::User,
            "organization" => OwnerKind::Organization(OrganizationPolicy {
                members_can_create_packages: self.members_can_create_packages,
            }),
            other => return Err(Error::corrupt("account kind", other)),
        };
        Ok(Account {
            id: AccountId::new(self.id),
            login: parse("login", &self.login)?,
            kind,
            created_at: time_from_sql(self.created_at)?,
        })
    }
}

/// An account to store, as the values of [`NewAccount::INSERT`]'s
/// parameters in order (what [`AccountRow::into_account`] reads back).
pub(crate) struct NewAccount<'a> {
    pub(crate) login: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) members_can_create_packages: bool,
    pub(crate) created_at: i64,
}

impl<'a> NewAccount<'a> {
    /// The statement that stores an account, its parameters written with
    /// `$` (PostgreSQL's form, which SQLite reads too) and the new id
    /// returned.
    pub(crate) const INSERT: &'static str =
        "INSERT INTO accounts (login, kind, members_can_create_packages, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id";

    /// The account `login` of `kind`, created at `now`.
    pub(crate) fn new(login: &'a Login, kind: OwnerKind, now: Timestamp) -> Result<Self, Error> {
        let (kind, members_can_create_packages) = match kind {
            OwnerKind::User => ("user", true),
            OwnerKind::Organization(policy) => ("organization", policy.members_can_create_packages),
        };
        Ok(NewAccount {
            login: login.as_str(),
            kind,
            members_can_create_packages,
            created_at: time_to_sql(now)?,
        })
    }
}

row_struct! {
    /// A token with its owner's login (personal access tokens), as
    /// [`TokenRow::SELECT`] reads it.
    pub(crate) struct TokenRow {
        id: i64,
        kind: String,
        hash: Vec<u8>,
        owner: Option<String>,
        scopes: String,
        repository: Option<String>,
        workflow_permission: Option<String>,
        note: String,
        created_at: i64,
        expires_at: Option<i64>,
        revoked_at: Option<i64>,
        last_used_at: Option<i64>,
    }
}

impl TokenRow {
    /// The query of every token, with its owner's login, to be followed by
    /// a condition on `tokens t`.
    pub(crate) const SELECT: &'static str =
        "SELECT t.id, t.kind, t.hash, a.login, t.scopes, t.repository,
        t.workflow_permission, t.note, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
    FROM tokens t LEFT JOIN accounts a ON a.id = t.owner_id";

    /// The token.
    pub(crate) fn into_record(self) -> Result<TokenRecord, Error> {
        let hash = <[u8; 32]>::try_from(self.hash.as_slice())
            .map(TokenHash::from_bytes)
            .map_err(|_| {
                Error::corrupt(
                    "token hash",
                    format!("{} bytes instead of 32", self.hash.len()),
                )
            })?;
        let expires_at = opt_time_from_sql(self.expires_at)?;
        let revoked_at = opt_time_from_sql(self.revoked_at)?;
        let credential = match self.kind.as_str() {
            "personal" => {
                let owner = self.owner.ok_or_else(|| {
                    Error::corrupt("token", "a personal access token without an owner")
                })?;
                let mut token = StoredToken::from_hash(
                    hash,
                    parse("login", &owner)?,
                    parse::<TokenScopes>("token scopes", &self.scopes)?,
                    expires_at,
                );
                token.revoked = revoked_at.is_some();
                token.note = self.note;
                Credential::Personal(token)
            }
            "workflow" => {
                let repository = self.repository.ok_or_else(|| {
                    Error::corrupt("token", "a workflow token without a repository")
                })?;
                let permission = self.workflow_permission.ok_or_else(|| {
                    Error::corrupt("token", "a workflow token without a permission")
                })?;
                Credential::Workflow(WorkflowToken {
                    hash,
                    repository: parse("source repository", &repository)?,
                    packages: parse("workflow permission", &permission)?,
                    expires_at,
                    revoked: revoked_at.is_some(),
                })
            }
            other => return Err(Error::corrupt("token kind", other)),
        };
        Ok(TokenRecord {
            id: TokenId::new(self.id),
            credential,
            created_at: time_from_sql(self.created_at)?,
            last_used_at: opt_time_from_sql(self.last_used_at)?,
            revoked_at,
        })
    }
}

/// A token to store, as the values of [`NewToken::INSERT`]'s parameters
/// in order.
pub(crate) struct NewToken<'a> {
    pub(crate) hash: &'a [u8],
    pub(crate) kind: &'static str,
    pub(crate) owner_id: Option<i64>,
    pub(crate) scopes: String,
    pub(crate) note: &'a str,
    pub(crate) repository: Option<&'a str>,
    pub(crate) workflow_permission: Option<&'a str>,
    pub(crate) created_at: i64,
    pub(crate) expires_at: Option<i64>,
    /// A token stored revoked is revoked when stored.
    pub(crate) revoked_at: Option<i64>,
    /// What storing it is called, should it fail.
    pub(crate) operation: &'static str,
}

impl<'a> NewToken<'a> {
    /// The statement that stores a token, its parameters written with `$`
    /// (PostgreSQL's form, which SQLite reads too) and the new id
    /// returned.
    pub(crate) const INSERT: &'static str =
        "INSERT INTO tokens (hash, kind, owner_id, scopes, note,
             repository, workflow_permission, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";

    /// The personal access `token` of the user `owner_id`, stored at `now`.
    pub(crate) fn personal(
        token: &'a StoredToken,
        owner_id: AccountId,
        now: Timestamp,
    ) -> Result<NewToken<'a>, Error> {
        Ok(NewToken {
            owner_id: Some(owner_id.get()),
            scopes: token.scopes.to_string(),
            note: &token.note,
            operation: "storing a personal access token",
            ..NewToken::of_kind(
                "personal",
                &token.hash,
                token.expires_at,
                token.revoked,
                now,
            )?
        })
    }

    /// The workflow `token`, stored at `now`.
    pub(crate) fn workflow(
        token: &'a WorkflowToken,
        now: Timestamp,
    ) -> Result<NewToken<'a>, Error> {
        Ok(NewToken {
            repository: Some(token.repository.as_str()),
            workflow_permission: Some(token.packages.as_str()),
            operation: "storing a workflow token",
            ..NewToken::of_kind(
                "workflow",
                &token.hash,
                token.expires_at,
                token.revoked,
                now,
            )?
        })
    }

    /// What every token is stored with, the columns of the other kind
    /// left empty.
    fn of_kind(
        kind: &'static str,
        hash: &'a TokenHash,
        expires_at: Option<Timestamp>,
        revoked: bool,
        now: Timestamp,
    ) -> Result<NewToken<'a>, Error> {
        let created_at = time_to_sql(now)?;
        Ok(NewToken {
            hash: hash.as_bytes().as_slice(),
            kind,
            owner_id: None,
            scopes: String::new(),
            note: "",
            repository: None,
            workflow_permission: None,
            created_at,
            expires_at: opt_time_to_sql(expires_at)?,
            revoked_at: revoked.then_some(created_at),
            operation: "storing a token",
        })
    }
}

/// A use of a token to record, as stored times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenUse {
    /// When it was used.
    pub(crate) at: i64,
    /// A use recorded after this makes recording this one needless
    /// ([`LAST_USED_GRANULARITY`]).
    pub(crate) recorded_after: i64,
}

impl TokenUse {
    /// A use at `now`.
    pub(crate) fn at(now: Timestamp) -> Result<TokenUse, Error> {
        let at = time_to_sql(now)?;
        let granularity = i64::try_from(LAST_USED_GRANULARITY.as_secs()).unwrap_or(i64::MAX);
        Ok(TokenUse {
            at,
            recorded_after: at.saturating_sub(granularity),
        })
    }

    /// Whether a use at `now` need not be written, as this process wrote
    /// one at `recorded` less than [`LAST_USED_GRANULARITY`] before.
    fn recorded_recently(recorded: Option<Timestamp>, now: Timestamp) -> bool {
        recorded.is_some_and(|recorded| {
            recorded <= now && now < recorded.saturating_add(LAST_USED_GRANULARITY)
        })
    }
}

/// The uses of tokens a store wrote recently, each remembered for
/// [`LAST_USED_GRANULARITY`], so that most uses are not written again (an
/// optimisation only: a forgotten one costs a write that changes nothing).
/// Clones share what they remember.
#[derive(Clone)]
pub(crate) struct RecentTokenUses {
    recorded: moka::sync::Cache<TokenId, Timestamp>,
}

impl RecentTokenUses {
    /// The most tokens whose last use is remembered.
    const CAPACITY: u64 = 100_000;

    /// None remembered yet.
    pub(crate) fn new() -> RecentTokenUses {
        RecentTokenUses {
            recorded: moka::sync::Cache::builder()
                .max_capacity(Self::CAPACITY)
                .time_to_live(LAST_USED_GRANULARITY)
                .build(),
        }
    }

    /// Records the use of token `id` at `now` with `write`, unless a use
    /// written recently makes it needless; a written use is remembered.
    pub(crate) async fn record<F>(
        &self,
        id: TokenId,
        now: Timestamp,
        write: impl FnOnce(TokenUse) -> F,
    ) -> Result<(), Error>
    where
        F: std::future::Future<Output = Result<(), Error>>,
    {
        if TokenUse::recorded_recently(self.recorded.get(&id), now) {
            return Ok(());
        }
        write(TokenUse::at(now)?).await?;
        self.recorded.insert(id, now);
        Ok(())
    }
}

/// The error for a token hash that is stored already. The hash is not
/// secret, but there is no use in echoing it.
pub(crate) fn token_hash_taken() -> Error {
    Error::already_exists("token", "with this hash")
}

row_struct! {
    /// A package with its owner's login, as `SELECT p.id, p.name,
    /// p.visibility, p.linked_repository, p.inherit_access, p.metadata,
    /// p.version_count, p.created_at, p.updated_at, p.deleted_at, a.login,
    /// p.unlinked_at` reads it (its grants are read apart).
    pub(crate) struct PackageRow {
        id: i64,
        name: String,
        visibility: String,
        linked_repository: Option<String>,
        inherit_access: bool,
        metadata: String,
        version_count: i64,
        created_at: i64,
        updated_at: i64,
        deleted_at: Option<i64>,
        owner: String,
        unlinked_at: Option<i64>,
    }
}

impl PackageRow {
    /// The package, with its `grants`.
    pub(crate) fn into_record(self, grants: Vec<Grant>) -> Result<PackageRecord, Error> {
        Ok(PackageRecord {
            id: PackageId::new(self.id),
            package: Package {
                name: parse("package name", &self.name)?,
                visibility: parse("visibility", &self.visibility)?,
                linked_repository: self
                    .linked_repository
                    .as_deref()
                    .map(|repo| parse("linked repository", repo))
                    .transpose()?,
                inherit_access: self.inherit_access,
                grants,
            },
            owner: parse("login", &self.owner)?,
            metadata: from_json::<PackageMetadata>("package metadata", &self.metadata)?,
            version_count: u64_from_sql("version count", self.version_count)?,
            created_at: time_from_sql(self.created_at)?,
            updated_at: time_from_sql(self.updated_at)?,
            deleted_at: opt_time_from_sql(self.deleted_at)?,
            unlinked_at: opt_time_from_sql(self.unlinked_at)?,
        })
    }
}

/// The collaborators of `repository`, from rows of `SELECT kind, name,
/// role FROM repository_collaborators`.
pub(crate) fn repository_access(
    repository: &CodeRepository,
    rows: impl IntoIterator<Item = (String, String, String)>,
) -> Result<RepositoryAccess, Error> {
    let mut access = RepositoryAccess::new(repository.clone());
    for (kind, name, role) in rows {
        let role: RepositoryRole = parse("repository role", &role)?;
        match kind.as_str() {
            "user" => {
                access.users.insert(parse("login", &name)?, role);
            }
            "team" => {
                access.teams.insert(parse("team slug", &name)?, role);
            }
            other => return Err(Error::corrupt("collaborator kind", other)),
        }
    }
    Ok(access)
}

row_struct! {
    /// A version whose restore window has passed (or whose package's has),
    /// as the purge finds it.
    pub(crate) struct ExpiredVersionRow {
        id: i64,
        package_id: i64,
        name: String,
        digest: String,
        /// Not deleted itself (its package is).
        live: bool,
        /// Its package's restore window has passed.
        package_expired: bool,
    }
}

impl ExpiredVersionRow {
    /// The version as the purge reports it.
    pub(crate) fn purged(&self) -> Result<PurgedVersion, Error> {
        let version = PurgedVersion::new(
            PackageId::new(self.package_id),
            parse("package name", &self.name)?,
            VersionId::new(self.id),
            parse("digest", &self.digest)?,
        );
        Ok(if self.package_expired {
            version.of_expired_package()
        } else {
            version
        })
    }
}

row_struct! {
    /// A live package with a retention policy in force, as
    /// `SELECT p.id, p.name, p.retention, a.retention FROM packages p JOIN
    /// accounts a ON a.id = p.owner_id` reads it (the package's own policy
    /// and its owner's default, as stored JSON).
    pub(crate) struct RetainedPackageRow {
        id: i64,
        name: String,
        own: Option<String>,
        default: Option<String>,
    }
}

impl RetainedPackageRow {
    /// The package with the policy in force: its own, else its owner's
    /// default; `None` with neither.
    pub(crate) fn into_retained(self) -> Result<Option<RetainedPackage>, Error> {
        let (stored, inherited) = match (self.own, self.default) {
            (Some(own), _) => (own, false),
            (None, Some(default)) => (default, true),
            (None, None) => return Ok(None),
        };
        Ok(Some(RetainedPackage::new(
            PackageId::new(self.id),
            parse("package name", &self.name)?,
            retention_from_sql(&stored)?,
            inherited,
        )))
    }
}

/// A stored retention policy.
pub(crate) fn retention_from_sql(stored: &str) -> Result<RetentionPolicy, Error> {
    from_json("retention policy", stored)
}

/// A retention policy as stored (JSON), or NULL for none.
pub(crate) fn retention_to_sql(policy: Option<&RetentionPolicy>) -> Result<Option<String>, Error> {
    policy
        .map(|policy| to_json("retention policy", policy))
        .transpose()
}
