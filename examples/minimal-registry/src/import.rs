//! `minimal-registry import --from DIR`: copies a registry that ran on the
//! embedded default (the data directory DIR) into the stores the current
//! settings name, typically PostgreSQL and an object store.
//!
//! Deleted packages and versions awaiting purge arrive deleted, at their
//! original time and restorable ([`deleted_packages`]); tokens keep when
//! they were used and revoked.
//!
//! Everything it writes is idempotent or skipped when already present, so
//! running it again after an interruption continues where it stopped and
//! ends with the same result. Blobs are streamed, never held whole, and
//! verified against their digest as they are written.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wharf_packages::SqlitePackageStore;
use wharf_storage::{FsStorage, PageRequest};

use crate::admin::database_path;
use crate::config::Settings;

mod accounts;
mod content;
mod deleted_packages;
mod packages;

use accounts::{copy_accounts, copy_code_repositories};
use content::{copy_blobs, copy_repositories};
use packages::copy_packages;

/// How many names one listing call asks for.
const PAGE: usize = 500;

/// What an import moved, and what it found already there.
#[derive(Debug, Default)]
pub struct Summary {
    blobs_copied: u64,
    bytes_copied: u64,
    blobs_skipped: u64,
    bytes_skipped: u64,
    repositories: u64,
    blob_links: u64,
    manifests: u64,
    referrers: u64,
    tags: u64,
    archives_copied: u64,
    archives_present: u64,
    archives_skipped: u64,
    accounts_created: u64,
    accounts_present: u64,
    members: u64,
    teams: u64,
    tokens_copied: u64,
    tokens_present: u64,
    code_repositories: u64,
    collaborators: u64,
    packages_created: u64,
    packages_present: u64,
    versions: u64,
    deleted_versions_copied: u64,
    deleted_versions_present: u64,
    deleted_packages_copied: u64,
    deleted_package_versions: u64,
    deleted_packages_present: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "blobs: {} copied ({} bytes, every digest verified), {} already present ({} bytes)",
            self.blobs_copied, self.bytes_copied, self.blobs_skipped, self.bytes_skipped
        )?;
        writeln!(
            f,
            "repositories: {} ({} blob links, {} manifests of which {} referrers, {} tags); archives of deleted packages: {} copied, {} already present, {} others not imported",
            self.repositories,
            self.blob_links,
            self.manifests,
            self.referrers,
            self.tags,
            self.archives_copied,
            self.archives_present,
            self.archives_skipped
        )?;
        writeln!(
            f,
            "accounts: {} created, {} already present; {} organization memberships, {} teams",
            self.accounts_created, self.accounts_present, self.members, self.teams
        )?;
        writeln!(
            f,
            "tokens: {} copied, {} already present",
            self.tokens_copied, self.tokens_present
        )?;
        writeln!(
            f,
            "source repositories: {} ({} collaborators)",
            self.code_repositories, self.collaborators
        )?;
        write!(
            f,
            "packages: {} created, {} already present; {} versions; {} deleted versions copied, {} already present; deleted packages: {} copied ({} versions), {} already present",
            self.packages_created,
            self.packages_present,
            self.versions,
            self.deleted_versions_copied,
            self.deleted_versions_present,
            self.deleted_packages_copied,
            self.deleted_package_versions,
            self.deleted_packages_present
        )
    }
}

/// `minimal-registry import --from DIR`, reporting to standard output.
pub fn run(from: &Path, settings: &Settings) -> ExitCode {
    let Some(runtime) = crate::runtime(tokio::runtime::Builder::new_current_thread()) else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(import(from, settings)) {
        Ok(summary) => {
            println!("imported {}:\n{summary}", from.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("minimal-registry: import from {}: {err}", from.display());
            ExitCode::FAILURE
        }
    }
}

/// Checks that `from` is a registry data directory other than the one the
/// settings write to.
fn check_source(from: &Path, settings: &Settings) -> Result<PathBuf, String> {
    let source = from
        .canonicalize()
        .map_err(|err| format!("cannot open the directory: {err}"))?;
    if !database_path(&source).is_file() {
        return Err(format!(
            "not a registry data directory: it has no {} (give the --data-dir of the registry to import)",
            crate::admin::DATABASE_FILE
        ));
    }
    // The data directory is in use unless both blobs and metadata are
    // elsewhere.
    let uses_data_dir = !settings.storage.uses_postgres() || settings.storage.blob_store.is_none();
    let same = settings
        .data_dir
        .canonicalize()
        .is_ok_and(|target| target == source);
    if uses_data_dir && same {
        return Err(
            "it is the data directory these settings store into: name the destination with --database and --blob-store, or another --data-dir"
                .to_owned(),
        );
    }
    Ok(source)
}

async fn import(from: &Path, settings: &Settings) -> Result<Summary, String> {
    let source = check_source(from, settings)?;
    let source_storage =
        FsStorage::open(&source).map_err(|err| format!("cannot open its storage: {err}"))?;
    let source_packages = SqlitePackageStore::open(database_path(&source))
        .map_err(|err| format!("cannot open its package store: {err}"))?;
    let target_storage = crate::stores::open_storage(settings).await?.storage;
    let target_packages = crate::stores::open_package_store(settings)
        .await
        .map_err(|err| err.to_string())?;
    let mut summary = Summary::default();
    copy_blobs(&source_storage, target_storage.as_ref(), &mut summary).await?;
    copy_accounts(&source_packages, target_packages.as_ref(), &mut summary).await?;
    // Before the live content and packages: a deleted package's content
    // goes under its name on the destination before it is archived there,
    // and a live package may have taken the name since.
    let deleted = deleted_packages::Stores {
        source_storage: &source_storage,
        source_packages: &source_packages,
        target_storage: target_storage.as_ref(),
        target_packages: target_packages.as_ref(),
    };
    deleted.copy_all(&mut summary).await?;
    copy_repositories(&source_storage, target_storage.as_ref(), &mut summary).await?;
    copy_packages(&source_packages, target_packages.as_ref(), &mut summary).await?;
    // Workflow tokens and collaborators belong to source repositories,
    // which the store traits find only by name.
    let repositories = source_packages
        .code_repositories()
        .await
        .map_err(|err| format!("cannot list the source repositories: {err}"))?;
    copy_code_repositories(
        &source_packages,
        target_packages.as_ref(),
        &repositories,
        &mut summary,
    )
    .await?;
    Ok(summary)
}

/// Every page of a storage listing.
async fn all_pages<T, F, Fut>(mut list: F) -> Result<Vec<T>, String>
where
    T: ToString,
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = wharf_storage::Result<wharf_storage::Page<T>>>,
{
    let mut items = Vec::new();
    let mut request = PageRequest::first(PAGE);
    loop {
        let page = list(request.clone()).await.map_err(|err| err.to_string())?;
        let done = page.next_last.is_none() || page.items.is_empty();
        request.last = page.items.last().map(ToString::to_string);
        items.extend(page.items);
        if done {
            return Ok(items);
        }
    }
}

/// Every page of a package store listing.
async fn all_records<T, F, Fut>(mut list: F) -> Result<Vec<T>, wharf_packages::Error>
where
    F: FnMut(wharf_packages::PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<wharf_packages::Page<T>, wharf_packages::Error>>,
{
    let mut records = Vec::new();
    let mut request = wharf_packages::PageRequest::first(PAGE);
    loop {
        let page = list(request).await?;
        records.extend(page.items);
        match page.next {
            Some(cursor) => request = wharf_packages::PageRequest::after(cursor, PAGE),
            None => return Ok(records),
        }
    }
}
