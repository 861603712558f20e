//! The authorization matrix: every endpoint × every kind of caller × every
//! package state, each answer checked against one rule,
//! [`World::decide`] (that is, `wharf_auth::authorize` over a model of
//! what the test set up, never over what the server stored).
//!
//! For each package state one registry is started and seeded with the
//! cast of `common::cast` (an organization owner with a token of every
//! scope set, members with and without roles, a team, an outside
//! collaborator, collaborators of a linked repository, workflows) and
//! three packages: `acme/vault`, the subject, in the state under test;
//! `alice/public-thing`, public; `bob/private-thing`, private. Then every
//! caller calls every endpoint twice, once with Basic credentials and once
//! with a bearer token (from `/token` for the registry API and the pages;
//! the token itself as `Bearer` for the REST API), and each answer must
//! be the one the model decides (status, OCI error code, and the listed
//! names for listings), the same both ways, show nothing of a package the
//! caller may not pull (its digests, its description, its name in a
//! listing), and, when the caller may not see the subject, be exactly the
//! answer for a package that does not exist.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::cast::{self, Caller};
use common::ghcr::*;
use common::images::{self, leaked, Image};
use common::model::{repo_name, source, Answer, World};
use common::*;
use reqwest::Method;
use serde_json::json;
use wharf_auth::{Decision, DenyKind, Identity, PackageAction, Principal, Visibility};
use wharf_packages::PackageChanges;

/// The package under test.
const VAULT: &str = "acme/vault";
/// A package nobody created, in the same namespace.
const MISSING: &str = "acme/nothing";
/// The repository `acme/vault` is linked to in the linked states.
const VAULT_SRC: &str = "acme/vault-src";
const PUBLIC_THING: &str = "alice/public-thing";
const PRIVATE_THING: &str = "bob/private-thing";
/// A digest nothing has.
const UNKNOWN: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// The states `acme/vault` is tested in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Private,
    Internal,
    Public,
    /// Private, linked to acme/vault-src, inheriting its access.
    LinkedInheriting,
    /// Private, linked to acme/vault-src, not inheriting.
    LinkedNotInheriting,
    /// Was public, then deleted by alice: restorable.
    Deleted,
    /// Deleted by alice, then published again by carol.
    Recreated,
}

/// A registry in one state, the model of it, and the cast.
struct Fixture {
    state: State,
    ghcr: Ghcr,
    world: World,
    callers: Vec<Caller>,
    /// The image of the live `acme/vault`, if there is one.
    live: Option<Image>,
    /// The image of the deleted `acme/vault`, if there is one.
    old: Option<Image>,
    /// Every image, with the package it is in.
    images: Vec<Image>,
}

async fn fixture(state: State) -> Fixture {
    let ghcr = Ghcr::start().await;
    let mut world = World::default();
    let callers = cast::seed(&ghcr, &mut world).await;
    let alice = ghcr.basic("alice");
    let alice_id = Identity::User("alice".parse().expect("login"));

    let public_thing = images::push(&ghcr, &alice, PUBLIC_THING, "1.0", "public-thing").await;
    world.publish(PUBLIC_THING, &alice_id);
    ghcr.make_public("alice", "/user", "public-thing").await;
    world.set_visibility(PUBLIC_THING, Visibility::Public);
    let private_thing = images::push(
        &ghcr,
        &ghcr.basic("bob"),
        PRIVATE_THING,
        "1.0",
        "private-thing",
    )
    .await;
    world.publish(
        PRIVATE_THING,
        &Identity::User("bob".parse().expect("login")),
    );

    let first = images::push(&ghcr, &alice, VAULT, "v1", "vault-first").await;
    world.publish(VAULT, &alice_id);
    cast::grant_roles(&ghcr, &mut world, VAULT).await;
    let store = ghcr.store.clone();
    let now = ghcr.now();
    let change = |changes: PackageChanges| {
        let store = store.clone();
        async move {
            store
                .update_package(&repo_name(VAULT), &changes, now)
                .await
                .expect("update");
        }
    };
    let mut live = Some(first);
    let mut old = None;
    match state {
        State::Private => {}
        State::Internal => {
            change(PackageChanges::new().visibility(Visibility::Internal)).await;
            world.set_visibility(VAULT, Visibility::Internal);
        }
        State::Public => {
            change(PackageChanges::new().visibility(Visibility::Public)).await;
            world.set_visibility(VAULT, Visibility::Public);
        }
        State::LinkedInheriting | State::LinkedNotInheriting => {
            let inherit = state == State::LinkedInheriting;
            change(
                PackageChanges::new()
                    .link(source(VAULT_SRC))
                    .inherit_access(inherit),
            )
            .await;
            world.link(VAULT, VAULT_SRC, inherit);
        }
        State::Deleted | State::Recreated => {
            if state == State::Deleted {
                change(PackageChanges::new().visibility(Visibility::Public)).await;
                world.set_visibility(VAULT, Visibility::Public);
            }
            let reply = ghcr
                .delete_as("alice", "/orgs/acme/packages/container/vault")
                .await;
            assert_eq!(reply.status, 204, "delete: {reply:?}");
            world.delete(VAULT);
            old = live.take();
            if state == State::Recreated {
                let carol = ghcr.basic("carol");
                live = Some(images::push(&ghcr, &carol, VAULT, "v1", "vault-second").await);
                world.publish(VAULT, &Identity::User("carol".parse().expect("login")));
            }
        }
    }
    let mut all = vec![public_thing, private_thing];
    all.extend(live.clone());
    all.extend(old.clone());
    Fixture {
        state,
        ghcr,
        world,
        callers,
        live,
        old,
        images: all,
    }
}

/// How a caller authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Basic,
    Bearer,
}

/// Where a request goes, which decides its credentials and its answer's
/// shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    /// `/v2/`: OCI error codes.
    Registry,
    /// The package REST API: `{"message"}` bodies.
    Rest,
    /// HTML pages.
    Page,
}

/// What to do after a request that changed the registry, so that the next
/// caller meets the same state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undo {
    Nothing,
    /// Cancel the upload session the answer's `Location` names.
    CancelUpload,
    /// Restore the package (alice).
    Restore,
    /// Delete the package again (alice).
    Delete,
}

/// One request and the answer it must get.
struct Probe {
    what: String,
    surface: Surface,
    method: Method,
    path: String,
    body: Option<(&'static str, Vec<u8>)>,
    expected: Answer,
    /// Names the listing must show, in order, when it answers 200.
    listed: Option<Vec<String>>,
    /// When the subject is not visible to the caller: the request must be
    /// answered as for [`MISSING`].
    compare_with_missing: bool,
    /// Whether an answer of `expected` changed the registry.
    undo: Undo,
}

impl Probe {
    fn new(
        what: impl Into<String>,
        surface: Surface,
        method: Method,
        path: impl Into<String>,
        expected: Answer,
    ) -> Probe {
        Probe {
            what: what.into(),
            surface,
            method,
            path: path.into(),
            body: None,
            expected,
            listed: None,
            compare_with_missing: false,
            undo: Undo::Nothing,
        }
    }

    fn body(mut self, content_type: &'static str, body: Vec<u8>) -> Probe {
        self.body = Some((content_type, body));
        self
    }

    fn listing(mut self, names: Vec<String>) -> Probe {
        self.listed = Some(names);
        self
    }

    /// Compared with the same request for [`MISSING`] when the denial
    /// does not depend on the package existing: no credentials, too few
    /// scopes, or not visible. (Only [`DenyKind::Forbidden`], for those
    /// who may see the package, tells it exists.)
    fn hidden_like_missing(self, kind: Option<DenyKind>) -> Probe {
        let hidden = matches!(
            kind,
            Some(
                DenyKind::NotVisible | DenyKind::NeedsAuthentication | DenyKind::InsufficientScope
            )
        );
        self.compared_with_missing(hidden)
    }

    /// Compared with the same request for [`MISSING`] when `compare`.
    fn compared_with_missing(mut self, compare: bool) -> Probe {
        self.compare_with_missing = compare;
        self
    }

    fn undo(mut self, undo: Undo) -> Probe {
        self.undo = undo;
        self
    }
}

/// Everything that went wrong in one state, reported at the end.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.0.push(message());
        }
    }
}

impl Fixture {
    /// The strings `principal` must never be shown: the secrets of every
    /// image in a package it may not pull (a deleted package's images for
    /// everyone), and the names of the packages it may not see (as a
    /// repository name and as a page path).
    fn forbidden(&self, principal: &Principal) -> Vec<String> {
        let mut forbidden = Vec::new();
        for image in &self.images {
            let live = self
                .live
                .as_ref()
                .is_some_and(|l| l.manifest == image.manifest)
                || image.repository != VAULT;
            if !live
                || !self
                    .world
                    .allows(principal, PackageAction::Pull, &image.repository)
            {
                forbidden.extend(image.secrets());
            }
        }
        for name in [VAULT, PUBLIC_THING, PRIVATE_THING] {
            if !self.world.allows(principal, PackageAction::Pull, name) {
                let (owner, package) = name.split_once('/').expect("owner/package");
                forbidden.push(name.to_owned());
                forbidden.push(format!("{owner}/packages/container/{package}"));
            }
        }
        forbidden
    }

    /// The subject's image to read blobs and manifests of: the live one,
    /// else the deleted one.
    fn subject_image(&self) -> &Image {
        self.live
            .as_ref()
            .or(self.old.as_ref())
            .expect("an image of acme/vault")
    }

    /// The registry API requests about `acme/vault`, with their answers.
    fn registry_probes(&self, caller: &Caller) -> Vec<Probe> {
        let who = &caller.principal;
        let pull = self.world.decide(who, PackageAction::Pull, VAULT);
        let push = self.world.decide(who, PackageAction::Push, VAULT);
        let delete = self.world.decide(who, PackageAction::Delete, VAULT);
        let image = self.subject_image();
        let on_pull = |what: &str, method: Method, path: String, success: Answer| {
            Probe::new(
                what,
                Surface::Registry,
                method,
                path,
                Answer::registry(&pull, success),
            )
            .hidden_like_missing(pull.deny_kind())
        };
        let v2 = |rest: &str| format!("/v2/{VAULT}/{rest}");
        let mut probes = vec![
            on_pull(
                "GET manifest by tag",
                Method::GET,
                v2(&format!("manifests/{}", image.tag)),
                Answer::ok(200),
            ),
            on_pull(
                "HEAD manifest by tag",
                Method::HEAD,
                v2(&format!("manifests/{}", image.tag)),
                Answer::ok(200),
            ),
            on_pull("GET tags", Method::GET, v2("tags/list"), Answer::ok(200)),
        ];
        // Every image the name ever had, by digest: the live one is served,
        // a deleted package's is not (not even through a new package).
        for image in self.live.iter().chain(self.old.iter()) {
            let is_live = self
                .live
                .as_ref()
                .is_some_and(|l| l.manifest == image.manifest);
            let which = if is_live { "live" } else { "deleted" };
            let (manifest, blob) = if is_live {
                (Answer::ok(200), Answer::ok(200))
            } else {
                (
                    Answer::error(404, "MANIFEST_UNKNOWN"),
                    Answer::error(404, "BLOB_UNKNOWN"),
                )
            };
            let by_digest = || format!("manifests/{}", image.manifest);
            for (method, what, path, answer) in [
                (
                    Method::GET,
                    "manifest by digest",
                    by_digest(),
                    manifest.clone(),
                ),
                (Method::HEAD, "manifest by digest", by_digest(), manifest),
                (
                    Method::GET,
                    "layer",
                    format!("blobs/{}", image.layer),
                    blob.clone(),
                ),
                (
                    Method::HEAD,
                    "config",
                    format!("blobs/{}", image.config),
                    blob,
                ),
                (
                    Method::GET,
                    "referrers",
                    format!("referrers/{}", image.manifest),
                    Answer::ok(200),
                ),
            ] {
                let name = format!("{method} {which} {what}");
                probes.push(on_pull(&name, method, v2(&path), answer));
            }
        }
        probes.push(
            Probe::new(
                "POST upload",
                Surface::Registry,
                Method::POST,
                v2("blobs/uploads/"),
                Answer::registry(&push, Answer::ok(202)),
            )
            .hidden_like_missing(push.deny_kind())
            .undo(Undo::CancelUpload),
        );
        probes.push(
            Probe::new(
                "PUT manifest (invalid)",
                Surface::Registry,
                Method::PUT,
                v2("manifests/v9"),
                Answer::registry(&push, Answer::error(400, "MANIFEST_INVALID")),
            )
            .body(OCI_MANIFEST, b"{}".to_vec())
            .hidden_like_missing(push.deny_kind()),
        );
        probes.push(
            Probe::new(
                "DELETE unknown manifest",
                Surface::Registry,
                Method::DELETE,
                v2(&format!("manifests/{UNKNOWN}")),
                Answer::registry(&delete, Answer::error(404, "MANIFEST_UNKNOWN")),
            )
            .hidden_like_missing(delete.deny_kind()),
        );
        // The other packages (a public one, and a private one in a user's
        // namespace), by digest.
        for image in self.images.iter().filter(|i| i.repository != VAULT) {
            let decision = self
                .world
                .decide(who, PackageAction::Pull, &image.repository);
            let name = &image.repository;
            for (what, path) in [
                (
                    "manifest",
                    format!("/v2/{name}/manifests/{}", image.manifest),
                ),
                ("layer", format!("/v2/{name}/blobs/{}", image.layer)),
            ] {
                probes.push(Probe::new(
                    format!("GET {name} {what}"),
                    Surface::Registry,
                    Method::GET,
                    path,
                    Answer::registry(&decision, Answer::ok(200)),
                ));
            }
        }
        // Mounting the subject's blobs into the caller's own repository:
        // mounted only when the caller may pull them from acme/vault.
        let target = caller.own_repository();
        let push_target = self.world.decide(who, PackageAction::Push, &target);
        for image in self.live.iter().chain(self.old.iter()) {
            let mountable = self
                .live
                .as_ref()
                .is_some_and(|l| l.manifest == image.manifest)
                && pull.is_allowed();
            let success = Answer::ok(if mountable { 201 } else { 202 });
            let expected = Answer::registry(&push_target, success);
            let undo = if expected.status == 202 {
                Undo::CancelUpload
            } else {
                Undo::Nothing
            };
            let which = if mountable {
                "mountable"
            } else {
                "unmountable"
            };
            probes.push(
                Probe::new(
                    format!("POST mount of a {which} layer into {target}"),
                    Surface::Registry,
                    Method::POST,
                    format!(
                        "/v2/{target}/blobs/uploads/?mount={}&from={VAULT}",
                        image.layer
                    ),
                    expected,
                )
                .undo(undo),
            );
        }
        probes
    }

    /// The catalog, whole and a name at a time, lists what the caller
    /// may pull.
    fn catalog_probes(&self, caller: &Caller) -> Vec<Probe> {
        let visible = self.world.visible(&caller.principal);
        vec![Probe::new(
            "GET catalog",
            Surface::Registry,
            Method::GET,
            "/v2/_catalog",
            Answer::ok(200),
        )
        .listing(visible)]
    }

    /// The package REST API.
    fn rest_probes(&self, caller: &Caller) -> Vec<Probe> {
        let who = &caller.principal;
        let pull = self.world.decide(who, PackageAction::Pull, VAULT);
        let settings = self.world.decide(who, PackageAction::ChangeSettings, VAULT);
        let delete = self.world.decide(who, PackageAction::Delete, VAULT);
        let restore = self.world.decide(who, PackageAction::Restore, VAULT);
        let package = "/orgs/acme/packages/container/vault";
        let visibility = self
            .world
            .live
            .get(VAULT)
            .map_or(Visibility::Private, |p| p.visibility);
        let restored = if self.world.live.contains_key(VAULT) {
            409
        } else {
            204
        };
        let restore_undo = if Answer::rest(who, &restore, restored).status == 204 {
            Undo::Delete
        } else {
            Undo::Nothing
        };
        // `method path` on the package, answered as `decision` says (with
        // `success` when it allows), and like a missing package when it hides.
        let probe = |what: &str, method: Method, path: String, decision: &Decision, success| {
            Probe::new(
                what,
                Surface::Rest,
                method,
                path,
                Answer::rest(who, decision, success),
            )
            .hidden_like_missing(decision.deny_kind())
        };
        let unchanged = json!({ "visibility": visibility.as_str() });
        let mut probes = vec![
            probe("GET package", Method::GET, package.into(), &pull, 200),
            probe(
                "GET versions",
                Method::GET,
                format!("{package}/versions"),
                &pull,
                200,
            ),
            probe(
                "PATCH visibility (unchanged)",
                Method::PATCH,
                package.into(),
                &settings,
                200,
            )
            .body(
                "application/json",
                serde_json::to_vec(&unchanged).expect("json"),
            ),
            probe(
                "DELETE package",
                Method::DELETE,
                package.into(),
                &delete,
                204,
            )
            .undo(Undo::Restore),
            probe(
                "POST restore",
                Method::POST,
                format!("{package}/restore"),
                &restore,
                restored,
            )
            .undo(restore_undo),
        ];
        for (path, owner) in [
            ("/orgs/acme/packages", "acme"),
            ("/users/bob/packages", "bob"),
        ] {
            let status = match who {
                Principal::Anonymous => 401,
                Principal::User { scopes, .. } if !scopes.can_read_packages() => 403,
                _ => 200,
            };
            let names: Vec<String> = self
                .world
                .visible(who)
                .iter()
                .filter_map(|name| name.strip_prefix(&format!("{owner}/")).map(str::to_owned))
                .collect();
            probes.push(
                Probe::new(
                    format!("GET {path}"),
                    Surface::Rest,
                    Method::GET,
                    format!("{path}?package_type=container"),
                    Answer::ok(status),
                )
                .listing(names),
            );
        }
        probes
    }

    /// The package page and the owners' pages.
    fn page_probes(&self, caller: &Caller) -> Vec<Probe> {
        let pull = self
            .world
            .decide(&caller.principal, PackageAction::Pull, VAULT);
        vec![
            Probe::new(
                "package page",
                Surface::Page,
                Method::GET,
                "/acme/packages/container/vault",
                Answer::page(&pull),
            )
            .compared_with_missing(!pull.is_allowed()),
            Probe::new(
                "acme's packages page",
                Surface::Page,
                Method::GET,
                "/acme/packages",
                Answer::ok(200),
            ),
            Probe::new(
                "bob's packages page",
                Surface::Page,
                Method::GET,
                "/bob/packages",
                Answer::ok(200),
            ),
        ]
    }
}

/// The names a listing answered: the catalog's repositories, the REST
/// API's package names.
fn listed_names(surface: Surface, reply: &Reply) -> Vec<String> {
    let value = reply.json();
    let list = match surface {
        Surface::Registry => value["repositories"].clone(),
        _ => value,
    };
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| match item {
                    serde_json::Value::String(s) => s.clone(),
                    other => other["name"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One caller's credentials for one mode.
struct Credentials {
    /// For `/v2/` and pages.
    registry: Option<String>,
    /// For the REST API.
    rest: Option<String>,
}

/// The scopes a caller's bearer token is asked for.
fn bearer_scopes(target: &str) -> Vec<String> {
    let mut scopes: Vec<String> = [VAULT, MISSING, PUBLIC_THING, PRIVATE_THING]
        .iter()
        .map(|name| format!("repository:{name}:pull,push,delete"))
        .collect();
    scopes.push(format!("repository:{target}:pull,push"));
    scopes.push("registry:catalog:*".to_owned());
    scopes
}

/// Runs every probe for every caller, both ways, and reports all that
/// disagree with the model.
async fn run(state: State) {
    let fx = fixture(state).await;
    let mut failures = Failures::default();
    for caller in &fx.callers {
        let credentials = [
            (
                Mode::Basic,
                Credentials {
                    registry: caller.basic.clone(),
                    rest: caller.basic.clone(),
                },
            ),
            (
                Mode::Bearer,
                Credentials {
                    registry: Some(token_endpoint(&fx, caller, &mut failures).await),
                    rest: caller.secret.as_ref().map(|s| format!("Bearer {s}")),
                },
            ),
        ];
        let mut probes = fx.registry_probes(caller);
        probes.extend(fx.catalog_probes(caller));
        probes.extend(fx.rest_probes(caller));
        probes.extend(fx.page_probes(caller));
        let forbidden = fx.forbidden(&caller.principal);
        let mut basic_answers: BTreeMap<String, (Answer, Vec<String>)> = BTreeMap::new();
        for (mode, credentials) in &credentials {
            for probe in &probes {
                let authorization = match probe.surface {
                    Surface::Registry | Surface::Page => credentials.registry.as_deref(),
                    Surface::Rest => credentials.rest.as_deref(),
                };
                let context = format!(
                    "[{:?}] {} {:?}: {} ({} {})",
                    fx.state, caller.label, mode, probe.what, probe.method, probe.path
                );
                let reply = send(&fx.ghcr, probe, &probe.path, authorization).await;
                let answer = answer_of(probe.surface, &probe.method, &reply);
                let expected = expected_of(probe);
                failures.check(answer == expected, || {
                    format!(
                        "{context}: expected {expected:?}, got {answer:?} {}",
                        excerpt(&reply)
                    )
                });
                let listed = match &probe.listed {
                    Some(expected) if reply.status == 200 => {
                        let names = listed_names(probe.surface, &reply);
                        failures.check(&names == expected, || {
                            format!("{context}: expected the listing {expected:?}, got {names:?}")
                        });
                        names
                    }
                    _ => Vec::new(),
                };
                let leaks = leaked(&reply, &named_by(&probe.path), &forbidden);
                failures.check(leaks.is_empty(), || {
                    format!(
                        "{context}: the answer shows what the caller may not see: {leaks:?} {}",
                        excerpt(&reply)
                    )
                });
                if probe.compare_with_missing && reply.status == probe.expected.status {
                    compare_with_missing(
                        &fx.ghcr,
                        probe,
                        authorization,
                        &reply,
                        &context,
                        &mut failures,
                    )
                    .await;
                }
                match mode {
                    Mode::Basic => {
                        basic_answers.insert(probe.what.clone(), (answer.clone(), listed.clone()));
                    }
                    Mode::Bearer => {
                        if let Some(basic) = basic_answers.get(&probe.what) {
                            failures.check(basic == &(answer.clone(), listed.clone()), || {
                                format!(
                                    "{context}: Basic answered {basic:?}, bearer {:?}",
                                    (answer, listed)
                                )
                            });
                        }
                    }
                }
                undo(&fx.ghcr, probe, authorization, &reply).await;
            }
            catalog_pages(
                &fx,
                caller,
                credentials.registry.as_deref(),
                &forbidden,
                *mode,
                &mut failures,
            )
            .await;
        }
    }
    if !failures.0.is_empty() {
        let shown: Vec<&String> = failures.0.iter().take(80).collect();
        panic!(
            "{} answers in state {:?} disagree with the model:\n{}",
            failures.0.len(),
            state,
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Asks `/token` for the caller's bearer token and checks it grants, per
/// repository, exactly the actions the model permits. Returns it as an
/// `Authorization` value.
async fn token_endpoint(fx: &Fixture, caller: &Caller, failures: &mut Failures) -> String {
    let target = caller.own_repository();
    let scopes = bearer_scopes(&target);
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let reply = fx.ghcr.token_reply(caller.basic.as_deref(), &scopes).await;
    assert_eq!(
        reply.status, 200,
        "[{:?}] {}: /token: {reply:?}",
        fx.state, caller.label
    );
    let bearer = format!("Bearer {}", reply.json()["token"].as_str().expect("token"));
    let mut expected = BTreeSet::new();
    for (name, asked) in [
        (
            VAULT,
            &[
                PackageAction::Pull,
                PackageAction::Push,
                PackageAction::Delete,
            ][..],
        ),
        (
            MISSING,
            &[
                PackageAction::Pull,
                PackageAction::Push,
                PackageAction::Delete,
            ][..],
        ),
        (
            PUBLIC_THING,
            &[
                PackageAction::Pull,
                PackageAction::Push,
                PackageAction::Delete,
            ][..],
        ),
        (
            PRIVATE_THING,
            &[
                PackageAction::Pull,
                PackageAction::Push,
                PackageAction::Delete,
            ][..],
        ),
        (
            target.as_str(),
            &[PackageAction::Pull, PackageAction::Push][..],
        ),
    ] {
        for action in fx.world.permitted(&caller.principal, name, asked) {
            expected.insert(format!("{name}:{action}"));
        }
    }
    let granted: BTreeSet<String> = granted(&bearer)
        .iter()
        .filter_map(|entry| entry.strip_prefix("repository:"))
        .flat_map(|entry| {
            let (name, actions) = entry.rsplit_once(':').expect("name:actions");
            actions
                .split(',')
                .map(|action| format!("{name}:{action}"))
                .collect::<Vec<_>>()
        })
        .collect();
    failures.check(granted == expected, || {
        format!(
            "[{:?}] {}: /token granted {granted:?}, the model permits {expected:?}",
            fx.state, caller.label
        )
    });
    bearer
}

async fn send(ghcr: &Ghcr, probe: &Probe, path: &str, authorization: Option<&str>) -> Reply {
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(authorization) = authorization {
        headers.push(("authorization", authorization));
    }
    let body = match &probe.body {
        Some((content_type, body)) => {
            headers.push(("content-type", content_type));
            body.clone()
        }
        None => Vec::new(),
    };
    ghcr.server
        .send(probe.method.clone(), path, &headers, body)
        .await
}

/// The status, and the OCI error code of a registry API error (a `HEAD`
/// answer has no body to carry one).
fn answer_of(surface: Surface, method: &Method, reply: &Reply) -> Answer {
    let code = match surface {
        Surface::Registry if *method != Method::HEAD && !reply.status.is_success() => {
            reply.error_code()
        }
        _ => None,
    };
    Answer {
        status: reply.status.as_u16(),
        code,
    }
}

/// The expected answer as far as the reply can carry it (a `HEAD`
/// answer has no body, so no error code).
fn expected_of(probe: &Probe) -> Answer {
    let mut expected = probe.expected.clone();
    if probe.method == Method::HEAD {
        expected.code = None;
    }
    expected
}

/// What a request path names: itself, and the repository a REST API or
/// page path names by its parts (`/orgs/acme/packages/container/vault`
/// names `acme/vault`), which an answer may repeat.
fn named_by(path: &str) -> String {
    let mut named = path.to_owned();
    if path.contains("packages/container/vault") {
        named.push(' ');
        named.push_str(VAULT);
    }
    named
}

fn excerpt(reply: &Reply) -> String {
    let body = String::from_utf8_lossy(&reply.body);
    let body: String = body
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{} {body}", reply.status)
}

/// The same request for a package that does not exist must get the same
/// answer, word for word once the names are swapped.
async fn compare_with_missing(
    ghcr: &Ghcr,
    probe: &Probe,
    authorization: Option<&str>,
    reply: &Reply,
    context: &str,
    failures: &mut Failures,
) {
    let swap = |s: &str| {
        s.replace(VAULT, MISSING)
            .replace("container/vault", "container/nothing")
    };
    let path = swap(&probe.path);
    let missing = send(ghcr, probe, &path, authorization).await;
    let normalized = swap(&String::from_utf8_lossy(&reply.body));
    let missing_body = String::from_utf8_lossy(&missing.body).into_owned();
    let challenge = |r: &Reply| r.header("www-authenticate").map(&swap);
    failures.check(
        reply.status == missing.status && normalized == missing_body && challenge(reply) == challenge(&missing),
        || {
            format!(
                "{context}: answered unlike a missing package: {} {normalized:?} {:?} against {} {missing_body:?} {:?}",
                reply.status,
                challenge(reply),
                missing.status,
                challenge(&missing)
            )
        },
    );
}

/// Puts the registry back as it was after a request that changed it.
async fn undo(ghcr: &Ghcr, probe: &Probe, authorization: Option<&str>, reply: &Reply) {
    let package = "/orgs/acme/packages/container/vault";
    match probe.undo {
        Undo::CancelUpload if reply.status == 202 => {
            let location = reply.header("location").expect("location").to_owned();
            let cancel = ghcr
                .send(Method::DELETE, &location, authorization, Vec::new())
                .await;
            assert_eq!(cancel.status, 204, "cancel {location}: {cancel:?}");
        }
        Undo::Restore if reply.status == 204 => {
            let restore = ghcr.post_as("alice", &format!("{package}/restore")).await;
            assert_eq!(restore.status, 204, "undo a delete: {restore:?}");
        }
        Undo::Delete if reply.status == 204 => {
            let delete = ghcr.delete_as("alice", package).await;
            assert_eq!(delete.status, 204, "undo a restore: {delete:?}");
        }
        _ => {}
    }
}

/// Walks the catalog a name at a time: the pages together list what the
/// caller may pull, and no page or `Link` names anything else.
async fn catalog_pages(
    fx: &Fixture,
    caller: &Caller,
    authorization: Option<&str>,
    forbidden: &[String],
    mode: Mode,
    failures: &mut Failures,
) {
    let context = format!(
        "[{:?}] {} {:?}: catalog a name at a time",
        fx.state, caller.label, mode
    );
    let mut names = Vec::new();
    let mut path = "/v2/_catalog?n=1".to_owned();
    for _ in 0..64 {
        let reply = fx.ghcr.get(&path, authorization).await;
        if reply.status != 200 {
            failures
                .0
                .push(format!("{context}: {path}: {}", excerpt(&reply)));
            return;
        }
        names.extend(listed_names(Surface::Registry, &reply));
        let leaks = leaked(&reply, "", forbidden);
        failures.check(leaks.is_empty(), || {
            format!(
                "{context}: {path} shows {leaks:?}: {:?}",
                reply.header("link")
            )
        });
        match reply.header("link") {
            Some(link) => {
                path = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .expect("link target")
                    .to_owned();
            }
            None => break,
        }
    }
    let expected = fx.world.visible(&caller.principal);
    failures.check(names == expected, || {
        format!("{context}: listed {names:?}, expected {expected:?}")
    });
}

/// One test per package state, named for the rule it checks.
macro_rules! state_tests {
    ($($name:ident => $state:expr,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                run($state).await;
            }
        )*
    };
}

state_tests! {
    a_private_package_answers_only_those_with_a_role => State::Private,
    an_internal_package_is_read_by_every_user_and_changed_by_roles => State::Internal,
    a_public_package_is_read_by_anyone_and_changed_by_roles => State::Public,
    a_linked_package_inheriting_access_answers_the_repositorys_collaborators => State::LinkedInheriting,
    a_linked_package_not_inheriting_access_ignores_the_repositorys_collaborators => State::LinkedNotInheriting,
    a_deleted_package_is_read_by_nobody_and_restored_by_its_admins => State::Deleted,
    a_package_recreated_under_a_deleted_name_shows_nothing_of_the_old_one => State::Recreated,
}
