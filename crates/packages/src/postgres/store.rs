//! The store traits for [`PgPackageStore`]: each method runs one function
//! of the table modules as a single statement (`read`, `lookup`), in a
//! read-only snapshot (`snapshot`) or in a serializable transaction
//! (`write`). Which function, and how, is the SQL backends' one table
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
use crate::postgres::connections::in_transaction;
use crate::postgres::convert::Context;
use crate::postgres::{
    accounts, packages, purge, repositories, retention, tokens, versions, PgPackageStore,
};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::store::{AccountStore, PackageRecords, PurgeReport, TokenStore};
use crate::stored::{borrowed, sql_store_traits, PolicyHolder, PurgeBounds};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// Runs `$body` with `$c` a client for `$run`: `read` (a pooled connection,
/// one statement), `snapshot` or `write` (a transaction).
macro_rules! run {
    ($store:expr, read, $operation:expr, |$c:ident| $body:expr) => {{
        let store = $store;
        store
            .bounded($operation, async {
                let client = store.client().await?;
                let $c = &client;
                $body.await
            })
            .await
    }};
    ($store:expr, $run:ident, $operation:expr, |$c:ident| $body:expr) => {
        in_transaction!($store, $run, $operation, |tx| {
            let $c = &tx;
            $body
        })
    };
}

/// Runs one method of a [`store_methods!`](crate::stored::store_methods)
/// table for [`PgPackageStore`], as [`run!`] says; a `lookup` is a `read`.
macro_rules! pg_call {
    ($store:expr, lookup, $name:ident($($arg:ident),* $(,)?), |$c:ident| $body:expr) => {
        pg_call!($store, read, $name($($arg),*), |$c| $body)
    };
    ($store:expr, $run:ident, $name:ident($($arg:ident),* $(,)?), |$c:ident| $body:expr) => {
        run!($store, $run, concat!("running ", stringify!($name)), |$c| {
            $body
        })
    };
}

sql_store_traits! {
    pg_call for PgPackageStore;
    tokens {
        async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error> {
            // One conditional UPDATE, outside an explicit transaction: a
            // concurrent revocation waits for its row lock or it for the
            // revocation's, and neither loses the other's column.
            self.token_uses
                .record(id, now, |used| async move {
                    run!(self, read, "running record_token_use", |c| {
                        tokens::record_use(c, id, used)
                    })
                })
                .await
        }
    }
    packages {
        fn restore_window(&self) -> Duration {
            self.options.restore_window
        }
    }
}
