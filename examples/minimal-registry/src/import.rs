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

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use futures::TryStreamExt;
use wharf_auth::{CodeRepository, Login, OwnerKind};
use wharf_manifest::{Manifest, ParseOptions};
use wharf_packages::prelude::*;
use wharf_packages::{
    Collaborator, Credential, NewVersion, PackageChanges, PackageQuery, SqlitePackageStore,
    VersionQuery,
};
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::prelude::*;
use wharf_storage::{FsStorage, ManifestPut, PageRequest};

use crate::admin::database_path;

mod deleted_packages;
use crate::config::Settings;

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

async fn copy_blobs(
    source: &dyn Storage,
    target: &dyn Storage,
    summary: &mut Summary,
) -> Result<(), String> {
    let mut request = PageRequest::first(PAGE);
    loop {
        let page = source
            .list_blobs(&request)
            .await
            .map_err(|err| format!("cannot list blobs: {err}"))?;
        for digest in &page.items {
            copy_blob(source, target, digest, summary).await?;
        }
        match (&page.next_last, page.items.last()) {
            (Some(_), Some(last)) => request.last = Some(last.to_string()),
            _ => return Ok(()),
        }
    }
}

async fn copy_blob(
    source: &dyn Storage,
    target: &dyn Storage,
    digest: &Digest,
    summary: &mut Summary,
) -> Result<(), String> {
    if let Ok(size) = target.blob_size(digest).await {
        summary.blobs_skipped += 1;
        summary.bytes_skipped += size;
        return Ok(());
    }
    let content = source
        .read_blob(digest, None)
        .await
        .map_err(|err| format!("cannot read blob {digest}: {err}"))?;
    let body = content.stream.map_err(std::io::Error::other);
    let size = target
        .put_blob(digest, Box::pin(body))
        .await
        .map_err(|err| format!("cannot store blob {digest}: {err}"))?;
    summary.blobs_copied += 1;
    summary.bytes_copied += size;
    Ok(())
}

async fn copy_repositories(
    source: &dyn Storage,
    target: &dyn Storage,
    summary: &mut Summary,
) -> Result<(), String> {
    let repositories = all_pages(|page| async move { source.list_repositories(&page).await })
        .await
        .map_err(|err| format!("cannot list repositories: {err}"))?;
    for repository in &repositories {
        copy_repository(source, target, repository, summary)
            .await
            .map_err(|err| format!("repository {repository}: {err}"))?;
        summary.repositories += 1;
    }
    let archives = archive_keys(source)
        .await
        .map_err(|err| format!("cannot list archived repositories: {err}"))?;
    // Those of no deleted package: stray content being dropped, or the
    // archive of a package purged since.
    summary.archives_skipped =
        (archives.len() as u64).saturating_sub(summary.archives_copied + summary.archives_present);
    Ok(())
}

/// The key of every archive of `storage`.
async fn archive_keys(storage: &dyn Storage) -> Result<Vec<wharf_storage::ArchiveKey>, String> {
    all_pages(|page| async move {
        let page = storage.list_archives(&page).await?;
        Ok(wharf_storage::Page {
            items: page.items.into_iter().map(|a| a.key).collect(),
            next_last: page.next_last.map(|a| a.key),
        })
    })
    .await
}

async fn copy_repository(
    source: &dyn Storage,
    target: &dyn Storage,
    repository: &RepositoryName,
    summary: &mut Summary,
) -> Result<(), String> {
    let links =
        all_pages(|page| async move { source.linked_blobs(repository, &page).await }).await?;
    for digest in &links {
        target
            .link_blob(repository, digest)
            .await
            .map_err(|err| format!("cannot link blob {digest}: {err}"))?;
        summary.blob_links += 1;
    }
    let digests =
        all_pages(|page| async move { source.list_manifests(repository, &page).await }).await?;
    let mut manifests = Vec::with_capacity(digests.len());
    for digest in &digests {
        let stored = source
            .get_manifest(repository, digest)
            .await
            .map_err(|err| format!("cannot read manifest {digest}: {err}"))?;
        manifests.push(stored);
    }
    let (stored, referrers) = put_manifests(target, repository, &manifests).await?;
    summary.manifests += stored;
    summary.referrers += referrers;
    let tags = all_pages(|page| async move { source.list_tags(repository, &page).await }).await?;
    for tag in &tags {
        let digest = source
            .resolve_tag(repository, tag)
            .await
            .map_err(|err| format!("cannot resolve tag {tag}: {err}"))?;
        target
            .set_tag(repository, tag, &digest)
            .await
            .map_err(|err| format!("cannot set tag {tag}: {err}"))?;
        summary.tags += 1;
    }
    Ok(())
}

/// Stores `manifests` in `repository` of `target`; how many, and how many
/// of them are referrers.
async fn put_manifests(
    target: &dyn Storage,
    repository: &RepositoryName,
    manifests: &[wharf_storage::StoredManifest],
) -> Result<(u64, u64), String> {
    // Children before the indexes and referrers that name them: a store
    // may check that what a manifest references is there.
    let mut pending: BTreeMap<Digest, ManifestPut> = BTreeMap::new();
    for stored in manifests {
        pending.insert(stored.digest.clone(), manifest_put(stored)?);
    }
    let (mut stored, mut referrers) = (0, 0);
    while !pending.is_empty() {
        let mut stored_any = false;
        let mut last_error = String::new();
        for digest in pending.keys().cloned().collect::<Vec<_>>() {
            let Some(put) = pending.get(&digest).cloned() else {
                continue;
            };
            let referrer = put.subject.is_some();
            match target.put_manifest(repository, put).await {
                Ok(()) => {
                    pending.remove(&digest);
                    stored_any = true;
                    stored += 1;
                    referrers += u64::from(referrer);
                }
                Err(err) => last_error = format!("cannot store manifest {digest}: {err}"),
            }
        }
        if !stored_any {
            return Err(last_error);
        }
    }
    Ok((stored, referrers))
}

/// The manifest as the server stores it on a push: with its subject,
/// artifact type and annotations, so that referrers keep working.
fn manifest_put(stored: &wharf_storage::StoredManifest) -> Result<ManifestPut, String> {
    let mut options = ParseOptions::default();
    options.max_size = usize::MAX;
    let manifest = Manifest::parse_with(
        stored.bytes.clone(),
        Some(stored.media_type.as_str()),
        &options,
    )
    .map_err(|err| format!("cannot parse manifest {}: {err}", stored.digest))?;
    let mut put = ManifestPut::new(
        stored.digest.clone(),
        stored.media_type.clone(),
        stored.bytes.clone(),
    );
    if let Some(subject) = manifest.subject() {
        put = put.with_subject(
            subject.digest.clone(),
            manifest.artifact_type().cloned(),
            manifest.annotations().clone(),
        );
    }
    Ok(put)
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

/// Every account in login order.
async fn accounts(store: &dyn PackageStore) -> Result<Vec<wharf_packages::Account>, String> {
    all_records(|request| async move { store.list_accounts(&request).await })
        .await
        .map_err(|err| format!("cannot list accounts: {err}"))
}

async fn copy_accounts(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    summary: &mut Summary,
) -> Result<(), String> {
    let accounts = accounts(source).await?;
    for account in &accounts {
        let login = &account.login;
        match target.account(login).await.map_err(|err| err.to_string())? {
            Some(present) if present.kind == account.kind => summary.accounts_present += 1,
            Some(present) => match (&present.kind, &account.kind) {
                (OwnerKind::Organization(_), OwnerKind::Organization(policy)) => {
                    target
                        .set_organization_policy(login, *policy)
                        .await
                        .map_err(|err| format!("account {login}: {err}"))?;
                    summary.accounts_present += 1;
                }
                _ => {
                    return Err(format!(
                        "account {login} is a user in one store and an organization in the other"
                    ))
                }
            },
            None => {
                match account.kind {
                    OwnerKind::User => target.create_user(login, account.created_at).await,
                    OwnerKind::Organization(policy) => {
                        target
                            .create_organization(login, policy, account.created_at)
                            .await
                    }
                }
                .map_err(|err| format!("cannot create account {login}: {err}"))?;
                summary.accounts_created += 1;
            }
        }
    }
    for account in &accounts {
        let login = &account.login;
        match account.kind {
            OwnerKind::Organization(_) => {
                // Its packages' default retention policy, if it has one.
                let default = source
                    .organization_retention_policy(login)
                    .await
                    .map_err(|err| format!("cannot read the retention policy of {login}: {err}"))?;
                if let Some(default) = default {
                    target
                        .set_organization_retention_policy(login, Some(&default))
                        .await
                        .map_err(|err| {
                            format!("cannot copy the retention policy of {login}: {err}")
                        })?;
                }
                let members = source
                    .members(login)
                    .await
                    .map_err(|err| format!("cannot list the members of {login}: {err}"))?;
                let present = target
                    .teams(login)
                    .await
                    .map_err(|err| format!("cannot list the teams of {login}: {err}"))?;
                let teams = source
                    .teams(login)
                    .await
                    .map_err(|err| format!("cannot list the teams of {login}: {err}"))?;
                for team in teams.iter().filter(|team| !present.contains(team)) {
                    target
                        .create_team(login, team, account.created_at)
                        .await
                        .map_err(|err| format!("cannot create team {login}/{team}: {err}"))?;
                }
                summary.teams += teams.len() as u64;
                for member in &members {
                    target
                        .add_member(login, &member.login, member.role, member.joined_at)
                        .await
                        .map_err(|err| format!("cannot add {} to {login}: {err}", member.login))?;
                    summary.members += 1;
                }
                // Team memberships the destination lacks.
                let joined: BTreeMap<Login, wharf_packages::Member> = target
                    .members(login)
                    .await
                    .map_err(|err| format!("cannot list the members of {login}: {err}"))?
                    .into_iter()
                    .map(|member| (member.login.clone(), member))
                    .collect();
                for member in &members {
                    let has = joined.get(&member.login).map(|m| &m.teams);
                    for team in &member.teams {
                        if has.is_some_and(|teams| teams.contains(team)) {
                            continue;
                        }
                        target
                            .add_team_member(login, team, &member.login)
                            .await
                            .map_err(|err| {
                                format!("cannot add {} to team {login}/{team}: {err}", member.login)
                            })?;
                    }
                }
            }
            OwnerKind::User => {
                let tokens = source
                    .personal_tokens(login)
                    .await
                    .map_err(|err| format!("cannot list the tokens of {login}: {err}"))?;
                copy_tokens(target, &tokens, summary).await?;
            }
        }
    }
    Ok(())
}

/// Copies each of `tokens` with [`copy_token`].
async fn copy_tokens(
    target: &dyn PackageStore,
    tokens: &[wharf_packages::TokenRecord],
    summary: &mut Summary,
) -> Result<(), String> {
    for record in tokens {
        copy_token(target, record, summary).await?;
    }
    Ok(())
}

/// Copies a token by its hash, so that its secret keeps working, with
/// when it was revoked and last used.
async fn copy_token(
    target: &dyn PackageStore,
    record: &wharf_packages::TokenRecord,
    summary: &mut Summary,
) -> Result<(), String> {
    let hash = record.credential.hash();
    let present = target
        .find_token(&hash)
        .await
        .map_err(|err| err.to_string())?;
    let copied = match present {
        Some(present) => {
            summary.tokens_present += 1;
            present
        }
        None => {
            // Stored live and revoked below: a token stored revoked would
            // be dated revoked when it was created.
            let copied = match &record.credential {
                Credential::Personal(token) => {
                    let mut token = token.clone();
                    token.revoked = false;
                    target
                        .insert_personal_token(&token, record.created_at)
                        .await
                }
                Credential::Workflow(token) => {
                    let mut token = token.clone();
                    token.revoked = false;
                    target
                        .insert_workflow_token(&token, record.created_at)
                        .await
                }
            }
            .map_err(|err| format!("cannot copy token {}: {err}", record.id))?;
            summary.tokens_copied += 1;
            copied
        }
    };
    // Also for a token found present: a run interrupted between storing
    // and revoking it left it live.
    if let Some(revoked_at) = record.revoked_at.filter(|_| copied.revoked_at.is_none()) {
        target
            .revoke_token(copied.id, revoked_at)
            .await
            .map_err(|err| format!("cannot revoke the copy of token {}: {err}", record.id))?;
    }
    if let Some(used_at) = record
        .last_used_at
        .filter(|&at| copied.last_used_at.is_none_or(|copied| copied < at))
    {
        target
            .record_token_use(copied.id, used_at)
            .await
            .map_err(|err| format!("cannot copy when token {} was used: {err}", record.id))?;
    }
    Ok(())
}

async fn copy_packages(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    summary: &mut Summary,
) -> Result<(), String> {
    let owners: Vec<Login> = accounts(source)
        .await?
        .into_iter()
        .map(|a| a.login)
        .collect();
    for owner in &owners {
        let packages = all_records(|request| async move {
            source
                .list_packages(owner, PackageQuery::active(), &request)
                .await
        })
        .await
        .map_err(|err| format!("cannot list the packages of {owner}: {err}"))?;
        for record in &packages {
            copy_package(source, target, record, summary)
                .await
                .map_err(|err| format!("package {}: {err}", record.package.name))?;
        }
    }
    Ok(())
}

/// Copies the workflow tokens and collaborators of `repositories`.
async fn copy_code_repositories(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    repositories: &[CodeRepository],
    summary: &mut Summary,
) -> Result<(), String> {
    for repository in repositories {
        summary.code_repositories += 1;
        let tokens = source
            .workflow_tokens(repository)
            .await
            .map_err(|err| format!("cannot list the workflow tokens of {repository}: {err}"))?;
        copy_tokens(target, &tokens, summary).await?;
        let access = source
            .repository_access(repository)
            .await
            .map_err(|err| format!("cannot read the collaborators of {repository}: {err}"))?;
        let users = access
            .users
            .into_iter()
            .map(|(user, role)| (Collaborator::User(user), role));
        let teams = access
            .teams
            .into_iter()
            .map(|(team, role)| (Collaborator::Team(team), role));
        for (collaborator, role) in users.chain(teams) {
            target
                .set_collaborator(repository, &collaborator, role)
                .await
                .map_err(|err| format!("cannot copy a collaborator of {repository}: {err}"))?;
            summary.collaborators += 1;
        }
    }
    Ok(())
}

async fn copy_package(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    record: &wharf_packages::PackageRecord,
    summary: &mut Summary,
) -> Result<(), String> {
    let name = &record.package.name;
    if set_up_package(target, record).await? {
        summary.packages_created += 1;
    } else {
        summary.packages_present += 1;
    }
    // Its retention policy, if it has one of its own.
    if let Some(policy) = source
        .retention_policy(name)
        .await
        .map_err(|err| format!("cannot read its retention policy: {err}"))?
    {
        target
            .set_retention_policy(name, Some(&policy))
            .await
            .map_err(|err| format!("cannot copy its retention policy: {err}"))?;
    }
    // Live and deleted (restorable) versions. A tag is on one version at
    // most, so the order does not change where the tags end.
    let mut versions = Vec::new();
    for query in [VersionQuery::active(), VersionQuery::deleted()] {
        let listed =
            all_records(|request| async move { source.list_versions(name, query, &request).await })
                .await
                .map_err(|err| format!("cannot list its versions: {err}"))?;
        versions.extend(listed);
    }
    for version in &versions {
        copy_version(target, name, version, summary)
            .await
            .map_err(|err| format!("version {}: {err}", version.digest))?;
    }
    Ok(())
}

/// Creates the package of `record` in `target` unless it is there (live),
/// with its settings and grants; whether it created it.
async fn set_up_package(
    target: &dyn PackageStore,
    record: &wharf_packages::PackageRecord,
) -> Result<bool, String> {
    let name = &record.package.name;
    let now = record.updated_at;
    let present = target
        .package(name)
        .await
        .map_err(|err| err.to_string())?
        .is_some();
    if !present {
        target
            .create_package(&record.package, record.created_at)
            .await
            .map_err(|err| format!("cannot create it: {err}"))?;
    }
    // An unlink is remembered (a push never links the package again), and
    // only an unlink records it: first at its time, then the link an
    // admin may have made since.
    if let Some(unlinked_at) = record.unlinked_at {
        target
            .update_package(name, &PackageChanges::new().unlink(), unlinked_at)
            .await
            .map_err(|err| format!("cannot copy when it was unlinked: {err}"))?;
    }
    let mut changes = PackageChanges::new()
        .visibility(record.package.visibility)
        .inherit_access(record.package.inherit_access)
        .metadata(record.metadata.clone());
    if let Some(repository) = &record.package.linked_repository {
        changes.linked_repository = Some(Some(repository.clone()));
    }
    target
        .update_package(name, &changes, now)
        .await
        .map_err(|err| format!("cannot copy its settings: {err}"))?;
    for grant in &record.package.grants {
        target
            .set_grant(name, &grant.grantee, grant.role, now)
            .await
            .map_err(|err| format!("cannot copy a grant: {err}"))?;
    }
    Ok(!present)
}

/// Records `version` in the package `name` of `target`; a deleted version
/// is then deleted there at the time it was deleted, so that it stays
/// restorable as long as it was.
async fn copy_version(
    target: &dyn PackageStore,
    name: &RepositoryName,
    version: &wharf_packages::VersionRecord,
    summary: &mut Summary,
) -> Result<(), String> {
    if version.is_deleted() {
        let present = target
            .version_by_digest(name, &version.digest)
            .await
            .map_err(|err| err.to_string())?;
        // Recording it again would make it live.
        if present.is_some_and(|present| present.is_deleted()) {
            summary.deleted_versions_present += 1;
            return Ok(());
        }
    }
    let mut new = NewVersion::new(
        version.digest.clone(),
        version.media_type.clone(),
        version.size,
    );
    new.tags = version.tags.clone();
    new.platforms = version.platforms.clone();
    let copied = target
        .record_version(name, &new, version.created_at)
        .await
        .map_err(|err| format!("cannot copy it: {err}"))?;
    match version.deleted_at {
        None => summary.versions += 1,
        Some(deleted_at) => {
            target
                .delete_version(name, copied.id, deleted_at)
                .await
                .map_err(|err| format!("cannot delete its copy: {err}"))?;
            summary.deleted_versions_copied += 1;
        }
    }
    Ok(())
}
