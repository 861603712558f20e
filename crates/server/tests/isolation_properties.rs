//! Isolation as a property: whatever sequence of pushes, tags, deletions,
//! restores, grants, revocations, links, visibility changes and token
//! mints (and revocations) random callers try, after every step nobody
//! reads a manifest or a blob they could not read under the grants of
//! that moment.
//!
//! The grants are kept in a [`World`] beside the registry: each operation
//! is applied to it exactly when `wharf_auth::authorize` over the world
//! allows it, and the registry must answer the operation as the world
//! decides. After each step every caller reads every image ever pushed,
//! by digest (its manifest and its layer), with Basic credentials, which
//! must succeed exactly when the world lets it pull the image's package
//! and the image is a live version of the live package; and with the
//! bearer token it minted earlier, if any, which may never read more than
//! that (a bearer token's claims are an upper bound, re-checked against
//! the current state).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::cast::{self, Caller};
use common::ghcr::*;
use common::model::{repo_name, World};
use common::*;
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use wharf_auth::{Grantee, PackageAction, Principal, Role, TokenHash, Visibility};
use wharf_reference::Digest;

/// The package names the operations fight over.
const NAMES: [&str; 3] = ["acme/a", "acme/b", "bob/c"];
/// The callers that act (a subset of the cast, to keep each step short).
const ACTORS: [&str; 11] = [
    "anonymous",
    "alice[read:packages write:packages delete:packages]",
    "alice[read:packages]",
    "carol",
    "dave",
    "heidi",
    "grace",
    "ivan",
    "bob",
    "vault-ci",
    "site-ci-read",
];
/// Who operations grant roles to.
const GRANTEES: [&str; 6] = [
    "user:dave",
    "user:grace",
    "user:bob",
    "team:devs",
    "repository:acme/vault-src",
    "repository:alice/site",
];
const ROLES: [Role; 3] = [Role::Read, Role::Write, Role::Admin];
const VISIBILITIES: [Visibility; 3] = [
    Visibility::Private,
    Visibility::Internal,
    Visibility::Public,
];

/// One thing a caller tries.
#[derive(Debug, Clone)]
enum Op {
    /// Push a new image tagged `latest`.
    Push {
        name: usize,
    },
    /// Push a new image whose source label names a repository of the
    /// package's owner (the pusher administers nothing by it).
    PushLabelled {
        name: usize,
    },
    /// Tag the package's newest live image again, with a new tag.
    Tag {
        name: usize,
    },
    /// Delete the package's newest live image by digest.
    DeleteVersion {
        name: usize,
    },
    DeletePackage {
        name: usize,
    },
    Restore {
        name: usize,
    },
    Grant {
        name: usize,
        grantee: usize,
        role: usize,
    },
    Revoke {
        name: usize,
        grantee: usize,
    },
    Link {
        name: usize,
        inherit: bool,
    },
    Unlink {
        name: usize,
    },
    Visibility {
        name: usize,
        visibility: usize,
    },
    /// Get a bearer token for every package, kept for the reads.
    MintToken,
    /// Revoke the caller's own token.
    RevokeToken,
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    prop_oneof![
        4 => name.clone().prop_map(|name| Op::Push { name }),
        1 => name.clone().prop_map(|name| Op::PushLabelled { name }),
        1 => name.clone().prop_map(|name| Op::Tag { name }),
        1 => name.clone().prop_map(|name| Op::DeleteVersion { name }),
        3 => name.clone().prop_map(|name| Op::DeletePackage { name }),
        2 => name.clone().prop_map(|name| Op::Restore { name }),
        3 => (name.clone(), 0..GRANTEES.len(), 0..ROLES.len())
            .prop_map(|(name, grantee, role)| Op::Grant { name, grantee, role }),
        1 => (name.clone(), 0..GRANTEES.len()).prop_map(|(name, grantee)| Op::Revoke { name, grantee }),
        1 => (name.clone(), any::<bool>()).prop_map(|(name, inherit)| Op::Link { name, inherit }),
        1 => name.clone().prop_map(|name| Op::Unlink { name }),
        2 => (name, 0..VISIBILITIES.len()).prop_map(|(name, visibility)| Op::Visibility { name, visibility }),
        2 => Just(Op::MintToken),
        1 => Just(Op::RevokeToken),
    ]
}

/// An image pushed during a run.
#[derive(Debug, Clone)]
struct Pushed {
    manifest: Digest,
    layer: Digest,
    bytes: Vec<u8>,
}

/// The images of one package record: its live versions and its deleted
/// ones.
#[derive(Debug, Clone, Default)]
struct Versions {
    live: Vec<Pushed>,
    deleted: Vec<Pushed>,
}

/// The world, and what the test knows beyond grants.
struct Run {
    ghcr: Ghcr,
    world: World,
    callers: Vec<Caller>,
    /// The versions of each live package.
    live: BTreeMap<String, Versions>,
    /// The versions of each name's latest deleted package.
    deleted: BTreeMap<String, Versions>,
    /// Images of packages deleted for good (a deleted package replaced by
    /// a later deleted one of the same name), by name.
    gone: Vec<(String, Pushed)>,
    /// Callers whose token was revoked.
    revoked: BTreeSet<String>,
    /// Bearer tokens minted, by caller.
    bearers: BTreeMap<String, String>,
    seeds: u64,
}

impl Run {
    async fn start() -> Run {
        let ghcr = Ghcr::start().await;
        let mut world = World::default();
        let callers = cast::seed(&ghcr, &mut world)
            .await
            .into_iter()
            .filter(|c| ACTORS.contains(&c.label.as_str()))
            .collect();
        Run {
            ghcr,
            world,
            callers,
            live: BTreeMap::new(),
            deleted: BTreeMap::new(),
            gone: Vec::new(),
            revoked: BTreeSet::new(),
            bearers: BTreeMap::new(),
            seeds: 0,
        }
    }

    /// The actor `ACTORS[index]`.
    fn caller(&self, index: usize) -> Caller {
        self.callers
            .iter()
            .find(|c| c.label == ACTORS[index])
            .expect("an actor of the cast")
            .clone()
    }

    /// Whether the caller's requests are refused (revoked token).
    fn is_revoked(&self, caller: &Caller) -> bool {
        self.revoked.contains(&caller.label)
    }

    /// The answer `decision` must get for this caller from the REST API.
    fn rest_status(&self, caller: &Caller, action: PackageAction, name: &str, success: u16) -> u16 {
        if self.is_revoked(caller) {
            return 401;
        }
        let decision = self.world.decide(&caller.principal, action, name);
        model_answer_rest(&caller.principal, &decision, success)
    }

    /// Sends a settings change of package `name` (`method` on `path` with
    /// the JSON `body`) as `caller`, checking the status against the
    /// model's; whether the change was made (200).
    async fn change_settings(
        &self,
        context: &str,
        caller: &Caller,
        method: Method,
        path: &str,
        body: &Value,
        name: &str,
    ) -> Result<bool, String> {
        let expected = self.rest_status(caller, PackageAction::ChangeSettings, name, 200);
        let reply = self
            .send_json(method, path, caller.basic.as_deref(), body)
            .await;
        expect_status(context, &reply, expected)?;
        Ok(expected == 200)
    }

    /// `PATCH`es the settings of package `name` with `body`, as
    /// [`change_settings`](Self::change_settings) does.
    async fn patch_package(
        &self,
        context: &str,
        caller: &Caller,
        name: &str,
        body: &Value,
    ) -> Result<bool, String> {
        let path = package_path(name);
        self.change_settings(context, caller, Method::PATCH, &path, body, name)
            .await
    }

    /// Applies `op` by `caller` to the registry and the world; an error
    /// when the registry answered unlike the world.
    async fn step(&mut self, caller: &Caller, op: &Op) -> Result<(), String> {
        let who = &caller.principal;
        let basic = caller.basic.as_deref();
        let context = format!("{} {op:?}", caller.label);
        match *op {
            Op::Push { name } | Op::PushLabelled { name } => {
                let name = NAMES[name];
                let labelled = matches!(op, Op::PushLabelled { .. });
                // A label names a source repository; only a plain push is
                // tried by those who may administer the package, whose
                // links are theirs to make.
                let labelled = labelled
                    && self.world.live.contains_key(name)
                    && !self.world.allows(who, PackageAction::ChangeSettings, name);
                let allowed =
                    !self.is_revoked(caller) && self.world.allows(who, PackageAction::Push, name);
                self.seeds += 1;
                let (status, pushed) = self.push(basic, name, labelled).await;
                if allowed != (status == 201) {
                    return Err(format!(
                        "{context}: the push answered {status}; the model allows it: {allowed}"
                    ));
                }
                if allowed {
                    if !self.world.live.contains_key(name) {
                        self.world.publish(name, &who.identity());
                        self.live.insert(name.to_owned(), Versions::default());
                    }
                    self.live.get_mut(name).expect("versions").live.push(pushed);
                }
            }
            Op::Tag { name } => {
                let name = NAMES[name];
                let Some(image) = self.live.get(name).and_then(|v| v.live.last()).cloned() else {
                    return Ok(());
                };
                self.seeds += 1;
                let allowed =
                    !self.is_revoked(caller) && self.world.allows(who, PackageAction::Push, name);
                let reply = self
                    .put_manifest(basic, name, &format!("t{}", self.seeds), &image.bytes)
                    .await;
                if allowed != (reply.status == 201) {
                    return Err(format!(
                        "{context}: answered {}; the model allows it: {allowed}",
                        reply.status
                    ));
                }
            }
            Op::DeleteVersion { name } => {
                let name = NAMES[name];
                let Some(image) = self.live.get(name).and_then(|v| v.live.last()).cloned() else {
                    return Ok(());
                };
                let allowed =
                    !self.is_revoked(caller) && self.world.allows(who, PackageAction::Delete, name);
                let reply = self
                    .ghcr
                    .delete(&format!("/v2/{name}/manifests/{}", image.manifest), basic)
                    .await;
                if allowed != (reply.status == 202) {
                    return Err(format!(
                        "{context}: answered {reply:?}; the model allows it: {allowed}"
                    ));
                }
                if allowed {
                    let versions = self.live.get_mut(name).expect("versions");
                    versions.live.retain(|i| i.manifest != image.manifest);
                    versions.deleted.push(image);
                }
            }
            Op::DeletePackage { name } => {
                let name = NAMES[name];
                let expected = self.rest_status(caller, PackageAction::Delete, name, 204);
                let reply = self.ghcr.delete(&package_path(name), basic).await;
                expect_status(&context, &reply, expected)?;
                if expected == 204 {
                    self.world.delete(name);
                    let versions = self.live.remove(name).unwrap_or_default();
                    if let Some(older) = self.deleted.insert(name.to_owned(), versions) {
                        self.gone.extend(
                            older
                                .live
                                .into_iter()
                                .chain(older.deleted)
                                .map(|i| (name.to_owned(), i)),
                        );
                    }
                }
            }
            Op::Restore { name } => {
                let name = NAMES[name];
                let success = if self.world.live.contains_key(name) {
                    409
                } else {
                    204
                };
                let expected = self.rest_status(caller, PackageAction::Restore, name, success);
                let reply = self
                    .ghcr
                    .post(&format!("{}/restore", package_path(name)), basic)
                    .await;
                expect_status(&context, &reply, expected)?;
                if expected == 204 {
                    self.world.restore(name);
                    let versions = self.deleted.remove(name).unwrap_or_default();
                    self.live.insert(name.to_owned(), versions);
                }
            }
            Op::Grant {
                name,
                grantee,
                role,
            } => {
                let name = NAMES[name];
                let grantee = grantee_for(name, GRANTEES[grantee]);
                let role = ROLES[role];
                if self
                    .change_settings(
                        &context,
                        caller,
                        Method::PUT,
                        &format!("{}/grants/{}", package_path(name), url_encode(&grantee)),
                        &json!({ "role": role.as_str() }),
                        name,
                    )
                    .await?
                {
                    self.world.grant(name, &grantee, role);
                }
            }
            Op::Revoke { name, grantee } => {
                let name = NAMES[name];
                let grantee = grantee_for(name, GRANTEES[grantee]);
                let had = self.world.live.get(name).is_some_and(|p| {
                    p.role_of(&grantee.parse::<Grantee>().expect("grantee"))
                        .is_some()
                });
                let expected = self.rest_status(
                    caller,
                    PackageAction::ChangeSettings,
                    name,
                    if had { 204 } else { 404 },
                );
                let reply = self
                    .ghcr
                    .delete(
                        &format!("{}/grants/{}", package_path(name), url_encode(&grantee)),
                        basic,
                    )
                    .await;
                expect_status(&context, &reply, expected)?;
                if expected == 204 {
                    self.world.revoke(name, &grantee);
                }
            }
            Op::Link { name, inherit } => {
                let name = NAMES[name];
                let repository = format!("{}/vault-src", repo_name(name).namespace());
                if self
                    .patch_package(
                        &context,
                        caller,
                        name,
                        &json!({ "repository": repository, "inherit_access": inherit }),
                    )
                    .await?
                {
                    self.world.link(name, &repository, inherit);
                }
            }
            Op::Unlink { name } => {
                let name = NAMES[name];
                if self
                    .patch_package(&context, caller, name, &json!({ "repository": null }))
                    .await?
                {
                    let package = self.world.package_mut(name);
                    package.linked_repository = None;
                    package.inherit_access = false;
                }
            }
            Op::Visibility { name, visibility } => {
                let name = NAMES[name];
                let visibility = VISIBILITIES[visibility];
                if self
                    .patch_package(
                        &context,
                        caller,
                        name,
                        &json!({ "visibility": visibility.as_str() }),
                    )
                    .await?
                {
                    self.world.set_visibility(name, visibility);
                }
            }
            Op::MintToken => {
                let scopes: Vec<String> = NAMES
                    .iter()
                    .map(|name| format!("repository:{name}:pull,push,delete"))
                    .collect();
                let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                let reply = self.ghcr.token_reply(basic, &scopes).await;
                if self.is_revoked(caller) {
                    if reply.status != 401 {
                        return Err(format!("{context}: a revoked token got {reply:?}"));
                    }
                    return Ok(());
                }
                if reply.status != 200 {
                    return Err(format!("{context}: /token answered {reply:?}"));
                }
                let bearer = format!(
                    "Bearer {}",
                    reply.json()["token"].as_str().unwrap_or_default()
                );
                let granted: BTreeSet<String> = granted(&bearer).into_iter().collect();
                let expected: BTreeSet<String> = NAMES
                    .iter()
                    .filter_map(|name| {
                        let actions: Vec<&str> = self
                            .world
                            .permitted(
                                who,
                                name,
                                &[
                                    PackageAction::Pull,
                                    PackageAction::Push,
                                    PackageAction::Delete,
                                ],
                            )
                            .iter()
                            .map(|a| a.as_str())
                            .collect();
                        (!actions.is_empty())
                            .then(|| format!("repository:{name}:{}", actions.join(",")))
                    })
                    .collect();
                if granted != expected {
                    return Err(format!(
                        "{context}: /token granted {granted:?}, the model permits {expected:?}"
                    ));
                }
                self.bearers.insert(caller.label.clone(), bearer);
            }
            Op::RevokeToken => {
                let Some(secret) = &caller.secret else {
                    return Ok(());
                };
                let record = self
                    .ghcr
                    .store
                    .find_token(&TokenHash::of(secret))
                    .await
                    .expect("find token")
                    .expect("a stored token");
                self.ghcr
                    .store
                    .revoke_token(record.id, self.ghcr.now())
                    .await
                    .expect("revoke");
                self.revoked.insert(caller.label.clone());
                // Revocation takes effect within seconds: let ten pass
                // (the bearer tokens minted before stay unexpired).
                self.ghcr.advance(10);
            }
        }
        Ok(())
    }

    /// Pushes a new image (config, layer, manifest) to `name`; the status
    /// of the first refused request or of the manifest PUT.
    async fn push(&self, authorization: Option<&str>, name: &str, labelled: bool) -> (u16, Pushed) {
        let seed = self.seeds;
        let mut labels = json!({ "org.example.seed": seed.to_string() });
        if labelled {
            let owner = repo_name(name).namespace().to_owned();
            labels["org.opencontainers.image.source"] =
                Value::String(format!("{PUBLIC_URL}/{owner}/vault-src"));
        }
        let config = image_config(&labels);
        let layer = format!("layer {seed} of {name}").into_bytes();
        let config_digest = Digest::sha256(&config);
        let layer_digest = Digest::sha256(&layer);
        let bytes = image_manifest(
            (&config_digest, config.len()),
            &[(&layer_digest, layer.len())],
            None,
        );
        let pushed = Pushed {
            manifest: Digest::sha256(&bytes),
            layer: layer_digest.clone(),
            bytes: bytes.clone(),
        };
        for (blob, digest) in [(&config, &config_digest), (&layer, &layer_digest)] {
            let reply = self
                .ghcr
                .send(
                    Method::POST,
                    &format!("/v2/{name}/blobs/uploads/?digest={digest}"),
                    authorization,
                    blob.clone(),
                )
                .await;
            if reply.status != 201 {
                return (reply.status.as_u16(), pushed);
            }
        }
        let reply = self
            .put_manifest(authorization, name, "latest", &bytes)
            .await;
        (reply.status.as_u16(), pushed)
    }

    async fn put_manifest(
        &self,
        authorization: Option<&str>,
        name: &str,
        tag: &str,
        bytes: &[u8],
    ) -> Reply {
        let mut headers = vec![("content-type", OCI_MANIFEST)];
        if let Some(authorization) = authorization {
            headers.push(("authorization", authorization));
        }
        self.ghcr
            .server
            .send(
                Method::PUT,
                &format!("/v2/{name}/manifests/{tag}"),
                &headers,
                bytes.to_vec(),
            )
            .await
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(authorization) = authorization {
            headers.push(("authorization", authorization));
        }
        self.ghcr
            .server
            .send(
                method,
                path,
                &headers,
                serde_json::to_vec(body).expect("json"),
            )
            .await
    }

    /// Every image ever pushed, with the package name it was pushed to and
    /// where it stands.
    fn images(&self) -> Vec<(String, Pushed, Standing)> {
        let mut images = Vec::new();
        for (name, versions) in &self.live {
            images.extend(
                versions
                    .live
                    .iter()
                    .map(|i| (name.clone(), i.clone(), Standing::Live)),
            );
            images.extend(
                versions
                    .deleted
                    .iter()
                    .map(|i| (name.clone(), i.clone(), Standing::DeletedVersion)),
            );
        }
        for (name, versions) in &self.deleted {
            let all = versions.live.iter().chain(versions.deleted.iter());
            images.extend(all.map(|i| (name.clone(), i.clone(), Standing::Dead)));
        }
        images.extend(
            self.gone
                .iter()
                .map(|(name, i)| (name.clone(), i.clone(), Standing::Dead)),
        );
        images
    }

    /// After a step: each caller reads each image by digest.
    async fn check_reads(&self) -> Result<(), String> {
        for caller in &self.callers {
            let revoked = self.is_revoked(caller);
            for (name, image, standing) in self.images() {
                let pull = |who: &Principal| self.world.allows(who, PackageAction::Pull, &name);
                let caller_may = pull(&caller.principal);
                let anyone_may = pull(&Principal::Anonymous);
                for (path, blob) in [
                    (format!("/v2/{name}/manifests/{}", image.manifest), false),
                    (format!("/v2/{name}/blobs/{}", image.layer), true),
                ] {
                    // Must be read / may be read.
                    let readable = |may: bool| match standing {
                        Standing::Live => (may, may),
                        Standing::DeletedVersion => (false, may && blob),
                        Standing::Dead => (false, false),
                    };
                    let reply = self.ghcr.get(&path, caller.basic.as_deref()).await;
                    let read = reply.status == 200;
                    if revoked && caller.basic.is_some() {
                        if reply.status != 401 {
                            return Err(format!(
                                "{} (revoked) GET {path}: {reply:?}",
                                caller.label
                            ));
                        }
                    } else {
                        let (must, may) = readable(caller_may);
                        if (must && !read) || (read && !may) {
                            return Err(format!(
                                "{} GET {path} ({standing:?}): answered {}; the model says it must be read: {must}, may be read: {may}",
                                caller.label, reply.status
                            ));
                        }
                    }
                    if let Some(bearer) = self.bearers.get(&caller.label) {
                        let reply = self.ghcr.get(&path, Some(bearer)).await;
                        let (_, may) = readable(if revoked { anyone_may } else { caller_may });
                        if reply.status == 200 && !may {
                            return Err(format!(
                                "{} GET {path} ({standing:?}) with a bearer token minted earlier: read what the current grants forbid",
                                caller.label
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Where an image stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// A live version of a live package.
    Live,
    /// A deleted version of a live package: its manifest is not served;
    /// its blobs may still be, to those who may pull the package.
    DeletedVersion,
    /// A version of a deleted package: nothing of it is served.
    Dead,
}

/// The REST API's status for a decision (see `Answer::rest`).
fn model_answer_rest(principal: &Principal, decision: &wharf_auth::Decision, success: u16) -> u16 {
    common::model::Answer::rest(principal, decision, success).status
}

/// `/orgs/acme/packages/container/a` or `/users/bob/packages/container/c`.
fn package_path(name: &str) -> String {
    let repository = repo_name(name);
    let kind = if repository.namespace() == "acme" {
        "orgs"
    } else {
        "users"
    };
    format!(
        "/{kind}/{}/packages/container/{}",
        repository.namespace(),
        repository.package().unwrap_or_default().replace('/', "%2F")
    )
}

/// A grantee that can be given a role on `name`: teams belong to
/// organizations, so a user's package gets a user instead.
fn grantee_for(name: &str, grantee: &str) -> String {
    if grantee.starts_with("team:") && !name.starts_with("acme/") {
        "user:dave".to_owned()
    } else {
        grantee.to_owned()
    }
}

/// How many sequences to try: 48 (about a minute), or `ISOLATION_CASES` for a deeper
/// search.
fn cases() -> u32 {
    std::env::var("ISOLATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// Who acts: mostly those who can change something.
fn actor() -> impl Strategy<Value = usize> {
    let index = |label: &str| ACTORS.iter().position(|a| *a == label).expect("an actor");
    let weighted: Vec<(u32, usize)> = ACTORS
        .iter()
        .map(|label| {
            let weight = match *label {
                "alice[read:packages write:packages delete:packages]" => 4,
                "carol" | "bob" | "vault-ci" => 2,
                _ => 1,
            };
            (weight, index(label))
        })
        .collect();
    proptest::strategy::Union::new_weighted(
        weighted
            .into_iter()
            .map(|(weight, i)| (weight, Just(i)))
            .collect(),
    )
}

/// Every run starts from the same state: alice, carol and bob have
/// published acme/a, acme/b and bob/c, and every actor holds a bearer
/// token minted then (which must not outlive what the steps change).
const PRELUDE: [(&str, Op); 3] = [
    (
        "alice[read:packages write:packages delete:packages]",
        Op::Push { name: 0 },
    ),
    ("carol", Op::Push { name: 1 }),
    ("bob", Op::Push { name: 2 }),
];

async fn run(steps: Vec<(usize, Op)>) -> Result<(), String> {
    let mut run = Run::start().await;
    let prelude = PRELUDE
        .iter()
        .map(|(label, op)| {
            (
                ACTORS.iter().position(|a| a == label).expect("an actor"),
                op.clone(),
            )
        })
        .chain((0..ACTORS.len()).map(|actor| (actor, Op::MintToken)));
    for (caller, op) in prelude.collect::<Vec<_>>() {
        let caller = run.caller(caller);
        run.step(&caller, &op)
            .await
            .map_err(|err| format!("prelude: {err}"))?;
    }
    for (index, (caller, op)) in steps.iter().enumerate() {
        let caller = run.caller(*caller);
        run.step(&caller, op)
            .await
            .map_err(|err| format!("step {index}: {err}"))?;
        run.check_reads()
            .await
            .map_err(|err| format!("after step {index} ({} {op:?}): {err}", caller.label))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn nobody_reads_what_the_current_grants_do_not_let_them_read(
        steps in proptest::collection::vec((actor(), op()), 1..=12)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = runtime.block_on(run(steps));
        prop_assert!(outcome.is_ok(), "{}", outcome.err().unwrap_or_default());
    }
}

/// An error naming `context` when `reply` is not `expected`.
fn expect_status(context: &str, reply: &Reply, expected: u16) -> Result<(), String> {
    if reply.status != expected {
        return Err(format!(
            "{context}: answered {reply:?}, expected {expected}"
        ));
    }
    Ok(())
}
