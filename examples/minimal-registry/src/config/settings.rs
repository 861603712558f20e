//! Every setting, declared once: its field (the TOML key, in the table of
//! its struct), its flag (the field name in kebab case, unless `long`
//! says otherwise), its default (`default_value`, which `--help` shows)
//! and its help text (the doc comment). Checks that span several values
//! are in `validate.rs`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Command, FromArgMatches};
use serde::Deserialize;

use super::values::{
    self, parse_duration, parse_interval, parse_size, parse_upload_rate, UploadRate,
};

/// The settings in force: the defaults, then the TOML file, then the
/// flags.
#[derive(Debug, Clone, PartialEq, Eq, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5000")]
    pub listen: SocketAddr,

    /// A PEM file with the certificate chain to serve HTTPS with (the
    /// server's certificate first, then intermediates); needs --tls-key.
    /// HTTP/2 and HTTP/1.1 are offered through ALPN. Both files are read
    /// again when they change (looked at every 2 seconds, and on SIGHUP):
    /// new connections get the new pair, open ones keep theirs, and a bad
    /// pair is logged and ignored [default: none, plain HTTP].
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM file with the private key of --tls-cert (PKCS#8, PKCS#1
    /// RSA or SEC1 EC); may be the same file [default: none].
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Directory holding blobs, manifests, tags and upload sessions.
    #[arg(long, value_name = "DIR", default_value = "registry-data")]
    pub data_dir: PathBuf,

    /// Log filter: a level (error, warn, info, debug, trace) or a tracing
    /// directive such as `info,wharf_server::access=off`. Overrides
    /// RUST_LOG [default: RUST_LOG, else info].
    #[arg(
        long,
        value_name = "FILTER",
        default_value = "info",
        hide_default_value = true
    )]
    pub log_level: String,

    /// Log format: `text` or `json` (one JSON object per line).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// The `[limits]` table.
    #[command(flatten)]
    pub limits: LimitSettings,

    /// How long in-flight requests may run after SIGINT/SIGTERM before the
    /// process exits anyway.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    #[serde(deserialize_with = "values::duration")]
    pub shutdown_grace: Duration,

    /// Serve Prometheus metrics at /metrics: `true` or `false`. With
    /// authentication on they are served only on --metrics-listen; with
    /// --no-auth, on the main address unless --metrics-listen is given.
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, default_value = "true")]
    pub metrics: bool,

    /// A separate address for /metrics (for example one only the
    /// monitoring network reaches) [default: none].
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// How often garbage collection runs in the background (on one
    /// replica at a time), removing the blobs no manifest references and
    /// that are older than --gc-grace; `0` or `off` turns it off (run
    /// `minimal-registry gc` instead). The first run is one interval after
    /// the start.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval, default_value = "24h")]
    #[serde(deserialize_with = "values::interval")]
    pub gc_interval: Duration,

    /// How long an unreferenced blob (an upload whose manifest has not
    /// come yet) is kept before garbage collection may remove it: longer
    /// than any push takes from its first layer to its manifest.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1h")]
    #[serde(deserialize_with = "values::duration")]
    pub gc_grace: Duration,

    /// The `[auth]` table.
    #[command(flatten)]
    pub auth: AuthSettings,

    /// The `[storage]` table.
    #[command(flatten)]
    pub storage: StorageSettings,
}

/// `[storage]`: where blobs and metadata live when not all in the data
/// directory (several replicas share an object store and a database).
#[derive(Debug, Clone, PartialEq, Eq, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Where blobs and upload sessions live: `s3://BUCKET[/PREFIX]`,
    /// `gs://BUCKET[/PREFIX]`, `az://CONTAINER[/PREFIX]` or `file:///PATH`;
    /// credentials, region and endpoint from the standard environment
    /// variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ENDPOINT, AWS_ALLOW_HTTP, ...). Needs --database postgres://...
    /// [default: the data directory].
    #[arg(long, value_name = "URL")]
    pub blob_store: Option<String>,

    /// Where repository metadata (links, manifests, tags, referrers) and
    /// the package store (accounts, tokens, packages) live:
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, or the path of a SQLite
    /// file for the package store [default: the data directory, with
    /// packages.sqlite in it].
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,

    /// Answer blob downloads with a redirect (307) to a presigned URL of
    /// the object store, valid for DURATION, so that large pulls do not
    /// pass through the registry: only for callers authorized for the
    /// repository, and only with an s3://, gs:// or az:// --blob-store
    /// [default: off].
    #[arg(long = "blob-redirects", value_name = "DURATION", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "values::optional_duration")]
    pub blob_redirects: Option<Duration>,
}

/// `[limits]`: resource and time limits.
#[derive(Debug, Clone, PartialEq, Eq, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Largest manifest accepted; larger ones get 413.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "4MiB")]
    #[serde(deserialize_with = "values::size")]
    pub max_manifest_size: u64,

    /// How long an upload session may sit untouched before it is purged.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
    #[serde(deserialize_with = "values::duration")]
    pub upload_expiry: Duration,

    /// How often expired upload sessions are purged.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10m")]
    #[serde(deserialize_with = "values::duration")]
    pub purge_interval: Duration,

    /// Time limit for requests that do not stream an upload, up to the
    /// response head.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    #[serde(deserialize_with = "values::duration")]
    pub request_timeout: Duration,

    /// How long a request body may send nothing before the request is
    /// aborted; an interrupted upload keeps its bytes.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    #[serde(deserialize_with = "values::duration")]
    pub body_idle_timeout: Duration,

    /// How long a client may take to send a request head, and how long an
    /// idle keep-alive connection stays open.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    #[serde(deserialize_with = "values::duration")]
    pub header_read_timeout: Duration,

    /// How long a response may wait for the client to read before the
    /// connection is closed (a download the client abandoned without
    /// closing).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    #[serde(deserialize_with = "values::duration")]
    pub write_stall_timeout: Duration,

    /// How long a connection may stay open with no request in flight,
    /// counted from accept (a client that connects and never speaks).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    #[serde(deserialize_with = "values::duration")]
    pub idle_timeout: Duration,

    /// The most connections open at once; at the cap the longest-idle one
    /// is closed for a new client [default: half the file-descriptor limit
    /// less 64].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Uploads streaming at once; beyond, clients get 429.
    #[arg(long, value_name = "N", default_value = "256")]
    pub max_concurrent_uploads: usize,

    /// The share of --max-concurrent-uploads one client (a user or token,
    /// or an IP address when anonymous or with --no-auth) may hold, in
    /// percent; beyond, that client gets 429.
    #[arg(long, value_name = "PERCENT", default_value = "50")]
    pub upload_share_percent: u8,

    /// The slowest a request body may arrive, measured over each window:
    /// `1KiB/s over 30s`, `1KiB/s` (over 30s) or `off`; a slower body is
    /// cut with 408, keeping the bytes received.
    #[arg(long, value_name = "RATE", value_parser = parse_upload_rate, default_value = "1KiB/s over 30s")]
    #[serde(deserialize_with = "values::upload_rate")]
    pub min_upload_rate: UploadRate,

    /// How long one request body may take in all, however fast it
    /// arrives.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "4h")]
    #[serde(deserialize_with = "values::duration")]
    pub body_deadline: Duration,

    /// Upload sessions open at once in all, counted across restarts;
    /// beyond, starting one gets 429.
    #[arg(long, value_name = "N", default_value = "10000")]
    pub max_upload_sessions: usize,

    /// Upload sessions one client may have open at once.
    #[arg(long, value_name = "N", default_value = "200")]
    pub max_upload_sessions_per_client: usize,
}

/// `[auth]`: authentication and the package model (GitHub's Container
/// registry), on by default.
// The field docs are clap's `--help` text, where `<URL>` is a placeholder,
// not an HTML tag.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, Clone, PartialEq, Eq, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Turn authentication off: anyone may pull, push and delete anything.
    /// Only for local experiments. Without it the registry works like
    /// GitHub's Container registry: users, organizations, personal access
    /// tokens (`docker login -u USER` with a token as password), private
    /// first publishes, public packages pulled anonymously. On the first
    /// start with an empty package store it creates the user `admin` and
    /// prints a token with read:packages, write:packages and
    /// delete:packages to standard error, once; manage users and tokens
    /// with the commands below.
    // `enabled = false` in the file; the flag only turns it off.
    #[arg(long = "no-auth", action = ArgAction::SetFalse)]
    pub enabled: bool,

    /// The URL clients reach the registry at, used in the token endpoint's
    /// address (`<URL>/token`) and package URLs; behind a reverse proxy,
    /// the proxy's URL [default: http://<listen address>, https:// with
    /// --tls-cert, with localhost for an unspecified or loopback address].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// The service name tokens are issued for [default: the public URL's
    /// host:port].
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// A code host (`HOST`, `HOST:PORT` or `http(s)://HOST[:PORT]`) whose
    /// repositories an `org.opencontainers.image.source` label links
    /// packages to; repeat for several [default: the public URL's origin].
    #[arg(long = "code-host", value_name = "HOST")]
    pub code_hosts: Vec<String>,

    /// The file holding the key registry tokens are signed with (at least
    /// 32 bytes, used as is); created with 32 random bytes, mode 0600, if
    /// absent [default: <data-dir>/signing-key].
    #[arg(long, value_name = "FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// How long a registry token from /token is valid.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5m")]
    #[serde(deserialize_with = "values::duration")]
    pub token_ttl: Duration,

    /// Refuse pushes whose annotations or labels break a rule (a
    /// description over 512 characters, licenses over 256, a malformed
    /// source URL) instead of leaving the value out: `true` or `false`.
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, default_value = "false")]
    pub strict_annotations: bool,

    // Deleted packages and retention policies.
    /// How long deleted packages and versions can be restored; after it
    /// they are purged for good (GitHub's is 30 days). Every replica
    /// sharing a database should use the same.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
    #[serde(deserialize_with = "values::duration")]
    pub restore_window: Duration,

    /// How often the packages' retention policies are applied (on one
    /// replica at a time); `0` or `off` never applies them (previews and
    /// settings still work).
    #[arg(long, value_name = "DURATION", value_parser = parse_interval, default_value = "1h")]
    #[serde(deserialize_with = "values::interval")]
    pub retention_interval: Duration,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The values of `T`'s flags on an empty command line: the declared
/// defaults.
fn declared_defaults<T: Args + FromArgMatches>() -> T {
    let matches = T::augment_args(Command::new("defaults").no_binary_name(true))
        .try_get_matches_from(std::iter::empty::<String>())
        .and_then(|matches| T::from_arg_matches(&matches));
    // A default that does not parse is a bug, caught by the tests.
    matches.unwrap_or_else(|err| panic!("the declared defaults do not parse: {err}"))
}

impl Default for Settings {
    fn default() -> Self {
        declared_defaults()
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        declared_defaults()
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        declared_defaults()
    }
}

impl StorageSettings {
    /// Whether `database` is a PostgreSQL URL.
    pub fn uses_postgres(&self) -> bool {
        self.database
            .as_deref()
            .is_some_and(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    }
}

impl Settings {
    /// Whether the main address serves `/metrics`: only without
    /// authentication and without a metrics address of its own, so that a
    /// registry with private packages does not show its traffic to anyone
    /// who can reach it.
    pub fn metrics_on_main_address(&self) -> bool {
        self.metrics && self.metrics_listen.is_none() && !self.auth.enabled
    }

    /// Whether the registry serves HTTPS (`check` ensured that a
    /// certificate comes with its key).
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some()
    }

    /// `https` with TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls() {
            "https"
        } else {
            "http"
        }
    }

    /// The URL clients reach the registry at: the configured one, else
    /// `<scheme>://<listen address>` (`localhost` for an unspecified or
    /// loopback address).
    pub fn public_url(&self) -> String {
        if let Some(url) = &self.auth.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let (scheme, port) = (self.scheme(), self.listen.port());
        match self.listen.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => format!("{scheme}://localhost:{port}"),
            std::net::IpAddr::V6(ip) => format!("{scheme}://[{ip}]:{port}"),
            std::net::IpAddr::V4(ip) => format!("{scheme}://{ip}:{port}"),
        }
    }

    /// The signing key file: the configured one, else
    /// `<data_dir>/signing-key`.
    pub fn signing_key_file(&self) -> PathBuf {
        self.auth
            .signing_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("signing-key"))
    }
}
