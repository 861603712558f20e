//! Property tests: random sequences of pushes, tag removals, deletions
//! and restores leave the store in the state a simple model predicts, and
//! paging through a listing sees every record once, in order.

use std::collections::BTreeMap;

use proptest::prelude::*;
use wharf_auth::{Identity, Package, Timestamp};
use wharf_packages::prelude::*;
use wharf_packages::{
    Error, NewVersion, PackageQuery, PageRequest, SqlitePackageStore, VersionQuery,
};
use wharf_reference::{Digest, RepositoryName, Tag};

mod common;

const NOW: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);
const TAGS: [&str; 3] = ["latest", "stable", "v1"];

#[derive(Debug, Clone)]
enum Op {
    Push { manifest: u8, tags: Vec<usize> },
    RemoveTag(usize),
    Delete(u8),
    Restore(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4u8, proptest::collection::vec(0..TAGS.len(), 0..3))
            .prop_map(|(manifest, tags)| Op::Push { manifest, tags }),
        1 => (0..TAGS.len()).prop_map(Op::RemoveTag),
        1 => (0..4u8).prop_map(Op::Delete),
        1 => (0..4u8).prop_map(Op::Restore),
    ]
}

fn digest(manifest: u8) -> Digest {
    Digest::sha256(&[manifest])
}

fn tag(index: usize) -> Tag {
    TAGS[index].parse().expect("valid tag")
}

/// What the store should hold: which manifests are versions (and whether
/// deleted), and which manifest each tag points at.
#[derive(Debug, Default)]
struct Model {
    deleted: BTreeMap<u8, bool>,
    tags: BTreeMap<usize, u8>,
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    NotFound,
    Conflict,
}

impl Model {
    fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Push { manifest, tags } => {
                self.deleted.insert(*manifest, false);
                for tag in tags {
                    self.tags.insert(*tag, *manifest);
                }
                Outcome::Ok
            }
            Op::RemoveTag(tag) => match self.tags.remove(tag) {
                Some(_) => Outcome::Ok,
                None => Outcome::NotFound,
            },
            Op::Delete(manifest) => match self.deleted.get_mut(manifest) {
                Some(deleted @ false) => {
                    *deleted = true;
                    Outcome::Ok
                }
                _ => Outcome::NotFound,
            },
            Op::Restore(manifest) => match self.deleted.get_mut(manifest) {
                None => Outcome::NotFound,
                Some(false) => Outcome::Conflict,
                Some(deleted) => {
                    *deleted = false;
                    Outcome::Ok
                }
            },
        }
    }
}

fn outcome<T>(result: Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(Error::NotFound { .. }) => Outcome::NotFound,
        Err(Error::Conflict { .. }) => Outcome::Conflict,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

async fn apply(store: &dyn PackageStore, name: &RepositoryName, op: &Op) -> Outcome {
    match op {
        Op::Push { manifest, tags } => {
            let mut version = NewVersion::new(
                digest(*manifest),
                wharf_reference::MediaType::OCI_IMAGE_MANIFEST,
                10,
            );
            version.tags = tags.iter().map(|t| tag(*t)).collect();
            outcome(store.record_version(name, &version, NOW).await)
        }
        Op::RemoveTag(t) => outcome(store.remove_tag(name, &tag(*t), NOW).await),
        Op::Delete(manifest) | Op::Restore(manifest) => {
            let Some(version) = store
                .version_by_digest(name, &digest(*manifest))
                .await
                .expect("lookup")
            else {
                return Outcome::NotFound;
            };
            if matches!(op, Op::Delete(_)) {
                outcome(store.delete_version(name, version.id, NOW).await)
            } else {
                outcome(store.restore_version(name, version.id, NOW).await)
            }
        }
    }
}

async fn check(store: &dyn PackageStore, name: &RepositoryName, model: &Model) {
    let package = store.package(name).await.expect("get").expect("exists");
    let live = model.deleted.values().filter(|deleted| !**deleted).count();
    assert_eq!(package.version_count, live as u64, "version count");
    for (manifest, deleted) in &model.deleted {
        let version = store
            .version_by_digest(name, &digest(*manifest))
            .await
            .expect("lookup")
            .expect("every pushed manifest is a version");
        assert_eq!(
            version.is_deleted(),
            *deleted,
            "manifest {manifest} deleted"
        );
        let mut expected: Vec<Tag> = model
            .tags
            .iter()
            .filter(|(_, m)| *m == manifest)
            .map(|(t, _)| tag(*t))
            .collect();
        expected.sort();
        assert_eq!(version.tags, expected, "tags of manifest {manifest}");
    }
    for (index, _) in TAGS.iter().enumerate() {
        let found = store
            .version_by_tag(name, &tag(index))
            .await
            .expect("by tag");
        let expected = model
            .tags
            .get(&index)
            .filter(|manifest| model.deleted.get(manifest) == Some(&false))
            .map(|manifest| digest(*manifest));
        assert_eq!(found.map(|v| v.digest), expected, "tag {}", TAGS[index]);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn store_with_package(name: &str) -> SqlitePackageStore {
    let store = SqlitePackageStore::in_memory().expect("store");
    common::user_with_package(&store, "alice", name).await;
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn version_operations_follow_the_model(ops in proptest::collection::vec(op(), 1..25)) {
        runtime().block_on(async {
            let store = store_with_package("alice/app").await;
            let name: RepositoryName = "alice/app".parse().expect("name");
            let mut model = Model::default();
            for op in &ops {
                let expected = model.apply(op);
                let actual = apply(&store, &name, op).await;
                assert_eq!(actual, expected, "outcome of {op:?}");
                check(&store, &name, &model).await;
            }
        });
    }

    #[test]
    fn paging_through_versions_sees_each_once_newest_first(count in 0..20u8, page_size in 1..7usize) {
        runtime().block_on(async {
            let store = store_with_package("alice/app").await;
            let name: RepositoryName = "alice/app".parse().expect("name");
            let mut ids = Vec::new();
            for manifest in 0..count {
                let version = NewVersion::new(digest(manifest), wharf_reference::MediaType::OCI_IMAGE_MANIFEST, 1);
                ids.push(store.record_version(&name, &version, NOW).await.expect("push").id);
            }
            ids.reverse();
            let mut seen = Vec::new();
            let mut page = PageRequest::first(page_size);
            loop {
                let result = store.list_versions(&name, VersionQuery::active(), &page).await.expect("list");
                assert!(result.items.len() <= page_size);
                seen.extend(result.items.iter().map(|v| v.id));
                match result.next {
                    Some(cursor) => page = PageRequest::after(cursor, page_size),
                    None => break,
                }
            }
            assert_eq!(seen, ids);
        });
    }

    #[test]
    fn paging_through_packages_sees_each_once_in_name_order(
        names in proptest::collection::btree_set("[a-z]{1,3}(/[a-z]{1,2})?", 0..15),
        page_size in 1..6usize,
    ) {
        runtime().block_on(async {
            let store = SqlitePackageStore::in_memory().expect("store");
            let alice = "alice".parse().expect("login");
            store.create_user(&alice, NOW).await.expect("user");
            for name in &names {
                let package = Package::first_publish(
                    format!("alice/{name}").parse().expect("name"),
                    &Identity::User(alice.clone()),
                );
                store.create_package(&package, NOW).await.expect("create");
            }
            let mut expected: Vec<String> = names.iter().map(|n| format!("alice/{n}")).collect();
            expected.sort();
            let mut seen = Vec::new();
            let mut page = PageRequest::first(page_size);
            loop {
                let result = store.list_packages(&alice, PackageQuery::active(), &page).await.expect("list");
                seen.extend(result.items.iter().map(|p| p.name().to_string()));
                match result.next {
                    Some(cursor) => page = PageRequest::after(cursor, page_size),
                    None => break,
                }
            }
            assert_eq!(seen, expected);
        });
    }
}
