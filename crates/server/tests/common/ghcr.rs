//! A registry with accounts on (the GitHub Container registry model) over
//! an in-memory SQLite package store, seeded with users, an organization
//! and tokens, and helpers to get bearer tokens and push images as someone.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use wharf_auth::{
    OrgRole, OrganizationPolicy, PersonalAccessToken, SigningKey, StoredToken, Timestamp,
    WorkflowPermission,
};
use wharf_packages::{
    CacheOptions, CachedStore, PackageStore, SqlitePackageStore, TokenId, WorkflowToken,
};
use wharf_reference::Digest;
use wharf_server::{AccountsConfig, AnnotationPolicy, Clock};

use super::*;

/// The registry's public URL in challenges and package URLs.
pub const PUBLIC_URL: &str = "http://registry.test";
/// Its service name.
pub const SERVICE: &str = "registry.test";
/// The challenge every 401 of `/v2/` starts with.
pub const CHALLENGE: &str = "Bearer realm=\"http://registry.test/token\",service=\"registry.test\"";
/// The clock's start.
pub const START: u64 = 1_700_000_000;

pub struct Ghcr {
    pub server: TestServer,
    pub store: Arc<dyn PackageStore>,
    now: Arc<AtomicU64>,
    /// Token name → (login given as username, secret).
    tokens: BTreeMap<&'static str, (String, String)>,
}

/// The people and tokens every test starts with:
///
/// | token | who | scopes |
/// |---|---|---|
/// | `alice` | user alice, admin of org acme | read, write, delete |
/// | `alice-read` | alice | read:packages |
/// | `alice-write` | alice | write:packages (no delete) |
/// | `bob` | user bob, in no organization | read, write, delete |
/// | `carol` | user carol, member of acme | read, write |
/// | `site-ci` | workflow of alice/site | packages: write |
/// | `site-ci-read` | workflow of alice/site | packages: read |
const PERSONAL: [(&str, &str, &str); 5] = [
    (
        "alice",
        "alice",
        "read:packages write:packages delete:packages",
    ),
    ("alice-read", "alice", "read:packages"),
    ("alice-write", "alice", "write:packages"),
    ("bob", "bob", "read:packages write:packages delete:packages"),
    ("carol", "carol", "read:packages write:packages"),
];

impl Ghcr {
    pub async fn start() -> Ghcr {
        Ghcr::start_with(AnnotationPolicy::default()).await
    }

    pub async fn start_with(policy: AnnotationPolicy) -> Ghcr {
        Ghcr::start_full(policy, false, Backend::Memory).await
    }

    /// Over the given storage backend.
    pub async fn start_on_storage(backend: Backend) -> Ghcr {
        Ghcr::start_full(AnnotationPolicy::default(), false, backend).await
    }

    /// With the server's real address as its public URL and service, so
    /// that real clients can follow the challenge to `/token`.
    pub async fn start_reachable() -> Ghcr {
        Ghcr::start_full(AnnotationPolicy::default(), true, Backend::Memory).await
    }

    /// Over `sqlite` (a database file that another store value can change
    /// behind the registry's cache, as the admin CLI does), seeded as
    /// [`Ghcr::start`] seeds.
    pub async fn start_on_store(sqlite: SqlitePackageStore) -> Ghcr {
        Ghcr::start_full_on(sqlite, AnnotationPolicy::default(), false, Backend::Memory).await
    }

    /// Over a database file in a temporary directory, with a second store
    /// value on the same file: another process (the admin CLI, a second
    /// replica) whose changes reach the registry only behind its cache.
    /// The directory lives as long as the returned guard.
    pub async fn start_beside_another_store() -> (Ghcr, SqlitePackageStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("packages.db");
        let ghcr = Ghcr::start_on_store(SqlitePackageStore::open(&path).expect("open")).await;
        let other = SqlitePackageStore::open(&path).expect("open again");
        (ghcr, other, dir)
    }

    async fn start_full(policy: AnnotationPolicy, reachable: bool, backend: Backend) -> Ghcr {
        let sqlite = SqlitePackageStore::in_memory().expect("sqlite");
        Ghcr::start_full_on(sqlite, policy, reachable, backend).await
    }

    async fn start_full_on(
        sqlite: SqlitePackageStore,
        policy: AnnotationPolicy,
        reachable: bool,
        backend: Backend,
    ) -> Ghcr {
        let store: Arc<dyn PackageStore> =
            Arc::new(CachedStore::new(sqlite, CacheOptions::default()));
        let now = Arc::new(AtomicU64::new(START));
        let t = Timestamp::from_unix_seconds(START);
        for user in ["alice", "bob", "carol"] {
            store
                .create_user(&user.parse().expect("login"), t)
                .await
                .expect("user");
        }
        let acme = "acme".parse().expect("login");
        store
            .create_organization(&acme, OrganizationPolicy::default(), t)
            .await
            .expect("org");
        store
            .add_member(&acme, &"alice".parse().expect("login"), OrgRole::Admin, t)
            .await
            .expect("member");
        store
            .add_member(&acme, &"carol".parse().expect("login"), OrgRole::Member, t)
            .await
            .expect("member");
        let mut tokens = BTreeMap::new();
        for (name, login, scopes) in PERSONAL {
            let (_, secret) = store_personal_token(&*store, login, scopes, None, t).await;
            tokens.insert(name, (login.to_owned(), secret));
        }
        for (name, permission) in [
            ("site-ci", WorkflowPermission::Write),
            ("site-ci-read", WorkflowPermission::Read),
        ] {
            let (_, secret) = store_workflow_token(&*store, "alice/site", permission, t).await;
            tokens.insert(name, ("github-actions".to_owned(), secret));
        }

        let clock_now = now.clone();
        let config_store = store.clone();
        let server = start_bound(backend, move |b, addr| {
            let public_url = if reachable {
                format!("http://{addr}")
            } else {
                PUBLIC_URL.to_owned()
            };
            let mut config = AccountsConfig::new(
                config_store,
                SigningKey::generate().expect("key"),
                &public_url,
            )
            .expect("config");
            config.annotations = policy;
            config.clock = Clock::from_fn(move || {
                Timestamp::from_unix_seconds(clock_now.load(Ordering::SeqCst))
            });
            b.accounts(config)
        })
        .await;
        Ghcr {
            server,
            store,
            now,
            tokens,
        }
    }

    /// Moves the registry's clock forward.
    pub fn advance(&self, seconds: u64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Lets the 30-day restore window pass, then purges what it left
    /// behind: the batches' reports together, checked against the totals.
    pub async fn purge_after_restore_window(&self) -> wharf_packages::PurgeReport {
        self.advance(30 * 24 * 3600 + 1);
        let mut report = wharf_packages::PurgeReport::default();
        let totals = self
            .server
            .registry
            .purge_expired_packages_with(|batch| report.merge(batch.clone()))
            .await
            .expect("purge");
        assert_eq!(
            (totals.packages, totals.versions, totals.manifests),
            (
                report.packages.len(),
                report.versions.len(),
                report.unreferenced.len()
            )
        );
        report
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.now.load(Ordering::SeqCst))
    }

    /// The secret of a seeded token.
    pub fn secret(&self, token: &str) -> &str {
        &self.tokens[token].1
    }

    /// `Basic base64(login:secret)` for a seeded token.
    pub fn basic(&self, token: &str) -> String {
        let (login, secret) = &self.tokens[token];
        basic(login, secret)
    }

    /// A bearer token from `/token` for these scopes, as `Bearer <jwt>`;
    /// anonymous when `token` is `None`.
    pub async fn bearer(&self, token: Option<&str>, scopes: &[&str]) -> String {
        let reply = self
            .token_reply(token.map(|t| self.basic(t)).as_deref(), scopes)
            .await;
        assert_eq!(reply.status, 200, "token: {reply:?}");
        format!("Bearer {}", reply.json()["token"].as_str().expect("token"))
    }

    /// `GET /token?service=registry.test&scope=...` with `authorization`.
    pub async fn token_reply(&self, authorization: Option<&str>, scopes: &[&str]) -> Reply {
        let mut query = format!("/token?service={SERVICE}");
        for scope in scopes {
            query.push_str("&scope=");
            query.push_str(&url_encode(scope));
        }
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        self.server
            .send(Method::GET, &query, &headers, Vec::new())
            .await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        self.server.send(method, path, &headers, body).await
    }

    /// `GET path` as `authorization`.
    pub async fn get(&self, path: &str, authorization: Option<&str>) -> Reply {
        self.send(Method::GET, path, authorization, Vec::new())
            .await
    }

    /// Stores a new workflow token of the source repository `repository`
    /// with `permission` (see [`store_workflow_token`]); its id and secret.
    pub async fn workflow_token(
        &self,
        repository: &str,
        permission: WorkflowPermission,
    ) -> (TokenId, String) {
        store_workflow_token(&*self.store, repository, permission, self.now()).await
    }

    /// `GET path` as the token `who` (see [`basic`](Self::basic)).
    pub async fn get_as(&self, who: &str, path: &str) -> Reply {
        self.get(path, Some(&self.basic(who))).await
    }

    /// `GET path` as the token `who`, asserting the answer's status.
    pub async fn assert_get(&self, who: &str, path: &str, status: u16) -> Reply {
        let reply = self.get_as(who, path).await;
        assert_eq!(reply.status, status, "GET {path} as {who}: {reply:?}");
        reply
    }

    /// `DELETE path` as the token `who`.
    pub async fn delete_as(&self, who: &str, path: &str) -> Reply {
        self.delete(path, Some(&self.basic(who))).await
    }

    /// `POST path` with an empty body as the token `who`.
    pub async fn post_as(&self, who: &str, path: &str) -> Reply {
        self.post(path, Some(&self.basic(who))).await
    }

    /// `DELETE path` as `authorization`.
    pub async fn delete(&self, path: &str, authorization: Option<&str>) -> Reply {
        self.send(Method::DELETE, path, authorization, Vec::new())
            .await
    }

    /// `POST path` with an empty body as `authorization`.
    pub async fn post(&self, path: &str, authorization: Option<&str>) -> Reply {
        self.send(Method::POST, path, authorization, Vec::new())
            .await
    }

    /// Sends JSON.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        authorization: &str,
        body: &Value,
    ) -> Reply {
        self.server
            .send(
                method,
                path,
                &[
                    ("authorization", authorization),
                    ("content-type", "application/json"),
                ],
                serde_json::to_vec(body).expect("json"),
            )
            .await
    }

    /// Sends JSON, asserting the answer's status.
    pub async fn assert_send_json(
        &self,
        method: Method,
        path: &str,
        authorization: &str,
        body: &Value,
        status: u16,
    ) -> Reply {
        let reply = self
            .send_json(method.clone(), path, authorization, body)
            .await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        reply
    }

    /// Pushes a blob as `authorization`; the reply of the monolithic POST.
    pub async fn push_blob_as(&self, authorization: &str, repo: &str, content: &[u8]) -> Reply {
        let digest = Digest::sha256(content);
        self.send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            Some(authorization),
            content.to_vec(),
        )
        .await
    }

    /// Pushes an image whose config carries `labels` and whose manifest
    /// carries `annotations`, tagged `reference` (a tag, or the digest for
    /// an untagged push when `reference` is `"@"`). Returns the manifest
    /// PUT reply and the manifest digest.
    pub async fn push_image_as(
        &self,
        authorization: &str,
        repo: &str,
        reference: &str,
        labels: Value,
        annotations: Value,
    ) -> (Reply, Digest, usize) {
        let config = image_config(&labels);
        let layer = format!("layer of {repo} labelled {labels}").into_bytes();
        for blob in [&config, &layer] {
            let reply = self.push_blob_as(authorization, repo, blob).await;
            if reply.status != 201 {
                return (reply, Digest::sha256(b""), 0);
            }
        }
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, &Digest::sha256(&config), config.len()),
            "layers": [descriptor(OCI_LAYER, &Digest::sha256(&layer), layer.len())],
        });
        if annotations.as_object().is_some_and(|a| !a.is_empty()) {
            manifest["annotations"] = annotations;
        }
        self.put_manifest_as(authorization, repo, reference, &manifest)
            .await
    }

    /// PUTs the OCI manifest `manifest` to `repo`, tagged `reference` (a
    /// tag, or by digest when `reference` is `"@"`). Returns the reply,
    /// the manifest digest and its size.
    pub async fn put_manifest_as(
        &self,
        authorization: &str,
        repo: &str,
        reference: &str,
        manifest: &Value,
    ) -> (Reply, Digest, usize) {
        let bytes = serde_json::to_vec(manifest).expect("json");
        let digest = Digest::sha256(&bytes);
        let reference = if reference == "@" {
            digest.to_string()
        } else {
            reference.to_owned()
        };
        let reply = self
            .server
            .send(
                Method::PUT,
                &format!("/v2/{repo}/manifests/{reference}"),
                &[
                    ("authorization", authorization),
                    ("content-type", OCI_MANIFEST),
                ],
                bytes.clone(),
            )
            .await;
        (reply, digest, bytes.len())
    }

    /// Pushes an image whose config carries `labels`, with no manifest
    /// annotations (see [`push_image_as`](Self::push_image_as)).
    pub async fn push_labelled(
        &self,
        authorization: &str,
        repo: &str,
        reference: &str,
        labels: Value,
    ) -> (Reply, Digest, usize) {
        self.push_image_as(authorization, repo, reference, labels, json!({}))
            .await
    }

    /// Pushes a plain image as the token `who` and asserts it was created.
    pub async fn publish(&self, who: &str, repo: &str, tag: &str) -> Digest {
        let (reply, digest, _) = self
            .push_labelled(&self.basic(who), repo, tag, json!({}))
            .await;
        assert_eq!(
            reply.status, 201,
            "publish {repo}:{tag} as {who}: {reply:?}"
        );
        digest
    }

    /// Publishes a plain image as `who` (see [`publish`](Self::publish))
    /// and makes its package public, through `/user` when `who` owns it,
    /// else through the organization that does.
    pub async fn publish_public(&self, who: &str, repo: &str, tag: &str) -> Digest {
        let digest = self.publish(who, repo, tag).await;
        let (owner, package) = repo.split_once('/').expect("OWNER/PACKAGE");
        let owner_path = if owner == who {
            "/user".to_owned()
        } else {
            format!("/orgs/{owner}")
        };
        self.make_public(who, &owner_path, package).await;
        digest
    }

    /// Makes a package public through the REST API, as `who`.
    pub async fn make_public(&self, who: &str, owner_path: &str, package: &str) {
        let reply = self
            .send_json(
                Method::PATCH,
                &format!(
                    "{owner_path}/packages/container/{}",
                    package.replace('/', "%2F")
                ),
                &self.basic(who),
                &json!({ "visibility": "public" }),
            )
            .await;
        assert_eq!(reply.status, 200, "make public: {reply:?}");
    }
}

/// Stores a new personal access token of `login` with `scopes`, expiring
/// at `expires_at`; its id and secret.
pub async fn store_personal_token(
    store: &dyn PackageStore,
    login: &str,
    scopes: &str,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> (TokenId, String) {
    let secret = PersonalAccessToken::generate().expect("token");
    let login = login.parse().expect("login");
    let stored = StoredToken::new(&secret, login, scopes.parse().expect("scopes"), expires_at);
    let record = store
        .insert_personal_token(&stored, now)
        .await
        .expect("insert token");
    (record.id, secret.expose_secret().to_owned())
}

/// Stores a new workflow token of the source repository `repository`
/// (`OWNER/REPO`) with `permission`, never expiring; its id and secret.
pub async fn store_workflow_token(
    store: &dyn PackageStore,
    repository: &str,
    permission: WorkflowPermission,
    now: Timestamp,
) -> (TokenId, String) {
    let secret = PersonalAccessToken::generate().expect("token");
    let repository = repository.parse().expect("repository");
    let token = WorkflowToken::new(secret.hash(), repository, permission, None);
    let record = store
        .insert_workflow_token(&token, now)
        .await
        .expect("insert token");
    (record.id, secret.expose_secret().to_owned())
}

pub fn basic(user: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `access` claim of a JWT, as `["repository:NAME:ACTIONS", ...]`.
pub fn granted(bearer: &str) -> Vec<String> {
    let jwt = bearer.trim_start_matches("Bearer ");
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&bytes).expect("claims");
    claims["access"]
        .as_array()
        .expect("access")
        .iter()
        .map(|entry| {
            let actions: Vec<&str> = entry["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|a| a.as_str().expect("action"))
                .collect();
            format!(
                "{}:{}:{}",
                entry["type"].as_str().expect("type"),
                entry["name"].as_str().expect("name"),
                actions.join(",")
            )
        })
        .collect()
}

/// An amd64/linux image config with `labels` and no layers.
pub fn image_config(labels: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Labels": labels },
        "rootfs": { "type": "layers", "diff_ids": [] },
    }))
    .expect("json")
}
