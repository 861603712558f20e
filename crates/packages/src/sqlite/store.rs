//! The store traits for [`SqlitePackageStore`]: each method runs one
//! function of the table modules on a connection of the pool. Which
//! function, and how, is the SQL backends' one table
//! ([`sql_store_traits!`]); the methods that differ are written here.

use std::time::Duration;

use wharf_auth::{
    CodeRepository, Grantee, Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, Package,
    RepositoryAccess, RepositoryRole, Role, StoredToken, TeamSlug, Timestamp, TokenHash,
};
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::access::{AccessContext, Collaborator};
use crate::account::{Account, Member, OrganizationMembership};
use crate::error::Error;
use crate::id::{PackageId, TokenId, VersionId};
use crate::package::{PackageChanges, PackageLookup, PackageQuery, PackageRecord};
use crate::page::{Page, PageRequest};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::sqlite::{
    accounts, packages, purge, repositories, retention, tokens, versions, SqlitePackageStore,
};
use crate::store::{AccountStore, PackageRecords, PurgeReport, TokenStore};
use crate::stored::{borrowed, sql_store_traits, PolicyHolder, PurgeBounds};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// An argument of a store method as a value the work on the blocking
/// pool can own: a reference's referent, an optional reference's value.
trait Detach {
    /// The owned value.
    type Owned: Send + 'static;

    /// Copies the value out.
    fn detach(self) -> Self::Owned;
}

impl<T: ToOwned + ?Sized> Detach for &T
where
    T::Owned: Send + 'static,
{
    type Owned = T::Owned;

    fn detach(self) -> T::Owned {
        self.to_owned()
    }
}

impl<T: Clone + Send + 'static> Detach for Option<&T> {
    type Owned = Option<T>;

    fn detach(self) -> Option<T> {
        self.cloned()
    }
}

/// Runs one method of a [`store_methods!`](crate::stored::store_methods)
/// table for [`SqlitePackageStore`]: `body` on the blocking pool, `read`
/// (on a reader connection), `snapshot` or `lookup` (in a read
/// transaction) or `write` (in a write transaction). Every argument is
/// copied to an owned value first ([`Detach`]), so that `body` can run on
/// another thread.
macro_rules! sqlite_call {
    ($store:expr, lookup, $name:ident($($arg:ident),* $(,)?), |$conn:ident| $body:expr) => {
        sqlite_call!($store, snapshot, $name($($arg),*), |$conn| $body)
    };
    ($store:expr, $run:ident, $name:ident($($arg:ident),* $(,)?), |$conn:ident| $body:expr) => {{
        $(let $arg = $arg.detach();)*
        $store.$run(move |$conn| $body).await
    }};
}

sql_store_traits! {
    sqlite_call for SqlitePackageStore;
    tokens {
        async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error> {
            self.inner
                .token_uses
                .record(id, now, |used| {
                    self.write(move |conn| tokens::record_use(conn, id, used))
                })
                .await
        }
    }
    packages {
        fn restore_window(&self) -> Duration {
            self.restore_window
        }
    }
}
