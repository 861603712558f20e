//! Settings: embedded defaults, then an optional TOML file, then flags (and
//! `RUST_LOG` for the log filter). Every setting has a flag; the file uses
//! the same names in snake case.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

/// A container registry serving the OCI Distribution API from a local
/// directory. With no arguments it listens on 127.0.0.1:5000 and keeps its
/// data in ./registry-data.
///
/// Settings come from the embedded defaults, then the TOML file given with
/// --config, then these flags (a flag wins over the file). Durations are
/// written like 500ms, 30s, 10m, 24h or a plain number of seconds; sizes as
/// bytes or with a KiB/MiB/GiB suffix.
// The field docs are clap's `--help` text, where `<data-dir>` is a
// placeholder, not an HTML tag.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, Parser, Default)]
#[command(name = "minimal-registry", version, about, long_about)]
pub struct Cli {
    /// A TOML file with any of the settings below (e.g. `listen =
    /// "0.0.0.0:5000"`, `data_dir = "/var/lib/registry"`, `[limits]
    /// body_idle_timeout = "30s"`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on [default: 127.0.0.1:5000].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Directory holding blobs, manifests, tags and upload sessions
    /// [default: ./registry-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Log filter: a level (error, warn, info, debug, trace) or a tracing
    /// directive such as `info,wharf_server::access=off`. Overrides
    /// RUST_LOG [default: RUST_LOG, else info].
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Log format: `text` or `json` (one JSON object per line)
    /// [default: text].
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Largest manifest accepted; larger ones get 413 [default: 4MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_manifest_size: Option<u64>,

    /// How long an upload session may sit untouched before it is purged
    /// [default: 24h].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub upload_expiry: Option<Duration>,

    /// How often expired upload sessions are purged [default: 10m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub purge_interval: Option<Duration>,

    /// Time limit for requests that do not stream an upload, up to the
    /// response head [default: 60s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub request_timeout: Option<Duration>,

    /// How long a request body may send nothing before the request is
    /// aborted; an interrupted upload keeps its bytes [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub body_idle_timeout: Option<Duration>,

    /// How long a client may take to send a request head, and how long an
    /// idle keep-alive connection stays open [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub header_read_timeout: Option<Duration>,

    /// How long a response may wait for the client to read before the
    /// connection is closed (a download the client abandoned without
    /// closing) [default: 60s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub write_stall_timeout: Option<Duration>,

    /// How long a connection may stay open with no request in flight,
    /// counted from accept (a client that connects and never speaks)
    /// [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,

    /// The most connections open at once; at the cap the longest-idle one
    /// is closed for a new client [default: half the file-descriptor limit
    /// less 64].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Uploads streaming at once; beyond, clients get 429 [default: 256].
    #[arg(long, value_name = "N")]
    pub max_concurrent_uploads: Option<usize>,

    /// The share of --max-concurrent-uploads one client (a user or token,
    /// or an IP address when anonymous or with --no-auth) may hold, in
    /// percent; beyond, that client gets 429 [default: 50].
    #[arg(long, value_name = "PERCENT")]
    pub upload_share_percent: Option<u8>,

    /// The slowest a request body may arrive, measured over each window:
    /// `1KiB/s over 30s`, `1KiB/s` (over 30s) or `off`; a slower body is
    /// cut with 408, keeping the bytes received [default: 1KiB/s over 30s].
    #[arg(long, value_name = "RATE", value_parser = parse_upload_rate)]
    pub min_upload_rate: Option<UploadRate>,

    /// How long one request body may take in all, however fast it
    /// arrives [default: 4h].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub body_deadline: Option<Duration>,

    /// Upload sessions open at once in all, counted across restarts;
    /// beyond, starting one gets 429 [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_upload_sessions: Option<usize>,

    /// Upload sessions one client may have open at once [default: 200].
    #[arg(long, value_name = "N")]
    pub max_upload_sessions_per_client: Option<usize>,

    /// How long in-flight requests may run after SIGINT/SIGTERM before the
    /// process exits anyway [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub shutdown_grace: Option<Duration>,

    /// Serve Prometheus metrics at /metrics: `true` or `false`
    /// [default: true]. With authentication on they are served only on
    /// --metrics-listen; with --no-auth, on the main address unless
    /// --metrics-listen is given.
    #[arg(long, value_name = "BOOL")]
    pub metrics: Option<bool>,

    /// A separate address for /metrics (for example one only the
    /// monitoring network reaches) [default: none].
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Turn authentication off: anyone may pull, push and delete anything.
    /// Only for local experiments. Without it the registry works like
    /// GitHub's Container registry: users, organizations, personal access
    /// tokens (`docker login -u USER` with a token as password), private
    /// first publishes, public packages pulled anonymously. On the first
    /// start with an empty package store it creates the user `admin` and
    /// prints a token with read:packages, write:packages and
    /// delete:packages to standard error, once; manage users and tokens
    /// with the commands below.
    #[arg(long)]
    pub no_auth: bool,

    /// The URL clients reach the registry at, used in the token endpoint's
    /// address (`<URL>/token`) and package URLs [default:
    /// http://<listen address>, with localhost for an unspecified address].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// The service name tokens are issued for [default: the public URL's
    /// host:port].
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// A code host (`HOST`, `HOST:PORT` or `http(s)://HOST[:PORT]`) whose
    /// repositories an `org.opencontainers.image.source` label links
    /// packages to; repeat for several [default: the public URL's origin].
    #[arg(long, value_name = "HOST")]
    pub code_host: Vec<String>,

    /// The file holding the key registry tokens are signed with (at least
    /// 32 bytes, used as is); created with 32 random bytes, mode 0600, if
    /// absent [default: <data-dir>/signing-key].
    #[arg(long, value_name = "FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// How long a registry token from /token is valid [default: 5m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub token_ttl: Option<Duration>,

    /// Refuse pushes whose annotations or labels break a rule (a
    /// description over 512 characters, licenses over 256, a malformed
    /// source URL) instead of leaving the value out: `true` or `false`
    /// [default: false].
    #[arg(long, value_name = "BOOL")]
    pub strict_annotations: Option<bool>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The TOML file: every field optional, durations and sizes as strings or
/// numbers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    log_level: Option<String>,
    log_format: Option<LogFormat>,
    metrics: Option<bool>,
    metrics_listen: Option<SocketAddr>,
    shutdown_grace: Option<DurationValue>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    auth: FileAuth,
}

/// `[auth]`: `enabled`, `public_url`, `service`, `code_hosts`,
/// `signing_key_file`, `token_ttl`, `strict_annotations`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuth {
    enabled: Option<bool>,
    public_url: Option<String>,
    service: Option<String>,
    code_hosts: Option<Vec<String>>,
    signing_key_file: Option<PathBuf>,
    token_ttl: Option<DurationValue>,
    strict_annotations: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_manifest_size: Option<SizeValue>,
    upload_expiry: Option<DurationValue>,
    purge_interval: Option<DurationValue>,
    request_timeout: Option<DurationValue>,
    body_idle_timeout: Option<DurationValue>,
    header_read_timeout: Option<DurationValue>,
    write_stall_timeout: Option<DurationValue>,
    idle_timeout: Option<DurationValue>,
    max_connections: Option<usize>,
    max_concurrent_uploads: Option<usize>,
    upload_share_percent: Option<u8>,
    min_upload_rate: Option<String>,
    body_deadline: Option<DurationValue>,
    max_upload_sessions: Option<usize>,
    max_upload_sessions_per_client: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Seconds(u64),
    Text(String),
}

impl DurationValue {
    fn resolve(self, key: &str) -> Result<Duration, ConfigError> {
        match self {
            DurationValue::Seconds(s) => Ok(Duration::from_secs(s)),
            DurationValue::Text(t) => parse_duration(&t).map_err(|reason| ConfigError::Value {
                key: key.to_owned(),
                reason,
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The storage directory.
    pub data_dir: PathBuf,
    /// The log filter.
    pub log_filter: String,
    /// The log format.
    pub log_format: LogFormat,
    /// Whether `/metrics` is served.
    pub metrics: bool,
    /// Where `/metrics` is served, when not on the main address.
    pub metrics_listen: Option<SocketAddr>,
    /// The largest manifest accepted, in bytes.
    pub max_manifest_size: u64,
    /// Upload session expiry.
    pub upload_expiry: Duration,
    /// How often expired sessions are purged.
    pub purge_interval: Duration,
    /// Request time limit (non-upload requests).
    pub request_timeout: Duration,
    /// Idle request body limit.
    pub body_idle_timeout: Duration,
    /// Request head (and idle keep-alive) limit.
    pub header_read_timeout: Duration,
    /// Response write stall limit.
    pub write_stall_timeout: Duration,
    /// Connection idle limit (no request in flight), from accept.
    pub idle_timeout: Duration,
    /// Connection cap; `None` derives it from the file-descriptor limit.
    pub max_connections: Option<usize>,
    /// Concurrent upload limit.
    pub max_concurrent_uploads: usize,
    /// One client's share of the concurrent uploads, in percent.
    pub upload_share_percent: u8,
    /// The slowest a request body may arrive.
    pub min_upload_rate: UploadRate,
    /// The time limit for one request body.
    pub body_deadline: Duration,
    /// Open upload sessions limit, in all.
    pub max_upload_sessions: usize,
    /// Open upload sessions limit, per client.
    pub max_upload_sessions_per_client: usize,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_grace: Duration,
    /// Authentication and the package model.
    pub auth: AuthSettings,
}

/// Authentication settings: the GitHub Container registry model, on by
/// default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// Whether accounts, tokens and permissions are enforced.
    pub enabled: bool,
    /// The URL clients use (default: derived from the listen address).
    pub public_url: Option<String>,
    /// The token service name (default: from the public URL).
    pub service: Option<String>,
    /// Code hosts for source links (default: the public URL's origin).
    pub code_hosts: Vec<String>,
    /// The signing key file (default: `<data_dir>/signing-key`).
    pub signing_key_file: Option<PathBuf>,
    /// Registry token lifetime.
    pub token_ttl: Duration,
    /// Whether invalid annotations refuse a push.
    pub strict_annotations: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            enabled: true,
            public_url: None,
            service: None,
            code_hosts: Vec::new(),
            signing_key_file: None,
            token_ttl: Duration::from_secs(300),
            strict_annotations: false,
        }
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

    /// The URL clients reach the registry at: the configured one, else
    /// `http://<listen address>` (`localhost` for an unspecified address).
    pub fn public_url(&self) -> String {
        if let Some(url) = &self.auth.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let port = self.listen.port();
        match self.listen.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => format!("http://localhost:{port}"),
            std::net::IpAddr::V6(ip) => format!("http://[{ip}]:{port}"),
            std::net::IpAddr::V4(ip) => format!("http://{ip}:{port}"),
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

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 5000)),
            data_dir: PathBuf::from("registry-data"),
            log_filter: "info".to_owned(),
            log_format: LogFormat::Text,
            metrics: true,
            metrics_listen: None,
            max_manifest_size: 4 * 1024 * 1024,
            upload_expiry: Duration::from_secs(24 * 60 * 60),
            purge_interval: Duration::from_secs(10 * 60),
            request_timeout: Duration::from_secs(60),
            body_idle_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            write_stall_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30),
            max_connections: None,
            max_concurrent_uploads: 256,
            upload_share_percent: 50,
            min_upload_rate: UploadRate {
                bytes_per_second: 1024,
                window: Duration::from_secs(30),
            },
            body_deadline: Duration::from_secs(4 * 60 * 60),
            max_upload_sessions: 10_000,
            max_upload_sessions_per_client: 200,
            shutdown_grace: Duration::from_secs(30),
            auth: AuthSettings::default(),
        }
    }
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown keys.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("invalid value for {key}: {reason}")]
    Value {
        /// The setting.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

impl Settings {
    /// Defaults, overridden by the file named in `cli.config`, overridden by
    /// the flags. `rust_log` is the `RUST_LOG` environment variable, which
    /// the `--log-level` flag overrides and which overrides the file.
    pub fn load(cli: &Cli, rust_log: Option<String>) -> Result<Settings, ConfigError> {
        match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Settings::from_toml(&text, path, cli, rust_log)
            }
            None => Settings::merge(FileConfig::default(), cli, rust_log),
        }
    }

    /// [`Settings::load`] once the file is read: `text` is the TOML of the
    /// file at `path` (named in errors). The config fuzz target's entry
    /// point.
    #[doc(hidden)]
    pub fn from_toml(
        text: &str,
        path: &Path,
        cli: &Cli,
        rust_log: Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string(),
        })?;
        Settings::merge(file, cli, rust_log)
    }

    fn merge(
        file: FileConfig,
        cli: &Cli,
        rust_log: Option<String>,
    ) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        // The file.
        if let Some(v) = file.listen {
            s.listen = v;
        }
        if let Some(v) = file.data_dir {
            s.data_dir = v;
        }
        if let Some(v) = file.log_level {
            s.log_filter = v;
        }
        if let Some(v) = file.log_format {
            s.log_format = v;
        }
        if let Some(v) = file.metrics {
            s.metrics = v;
        }
        if let Some(v) = file.metrics_listen {
            s.metrics_listen = Some(v);
        }
        if let Some(v) = file.shutdown_grace {
            s.shutdown_grace = v.resolve("shutdown_grace")?;
        }
        let l = file.limits;
        if let Some(v) = l.max_manifest_size {
            s.max_manifest_size = match v {
                SizeValue::Bytes(b) => b,
                SizeValue::Text(t) => parse_size(&t).map_err(|reason| ConfigError::Value {
                    key: "limits.max_manifest_size".into(),
                    reason,
                })?,
            };
        }
        if let Some(v) = l.upload_expiry {
            s.upload_expiry = v.resolve("limits.upload_expiry")?;
        }
        if let Some(v) = l.purge_interval {
            s.purge_interval = v.resolve("limits.purge_interval")?;
        }
        if let Some(v) = l.request_timeout {
            s.request_timeout = v.resolve("limits.request_timeout")?;
        }
        if let Some(v) = l.body_idle_timeout {
            s.body_idle_timeout = v.resolve("limits.body_idle_timeout")?;
        }
        if let Some(v) = l.header_read_timeout {
            s.header_read_timeout = v.resolve("limits.header_read_timeout")?;
        }
        if let Some(v) = l.write_stall_timeout {
            s.write_stall_timeout = v.resolve("limits.write_stall_timeout")?;
        }
        if let Some(v) = l.idle_timeout {
            s.idle_timeout = v.resolve("limits.idle_timeout")?;
        }
        if let Some(v) = l.max_connections {
            s.max_connections = Some(v);
        }
        if let Some(v) = l.max_concurrent_uploads {
            s.max_concurrent_uploads = v;
        }
        if let Some(v) = l.upload_share_percent {
            s.upload_share_percent = v;
        }
        if let Some(v) = l.min_upload_rate {
            s.min_upload_rate = parse_upload_rate(&v).map_err(|reason| ConfigError::Value {
                key: "limits.min_upload_rate".into(),
                reason,
            })?;
        }
        if let Some(v) = l.body_deadline {
            s.body_deadline = v.resolve("limits.body_deadline")?;
        }
        if let Some(v) = l.max_upload_sessions {
            s.max_upload_sessions = v;
        }
        if let Some(v) = l.max_upload_sessions_per_client {
            s.max_upload_sessions_per_client = v;
        }
        let a = file.auth;
        if let Some(v) = a.enabled {
            s.auth.enabled = v;
        }
        if let Some(v) = a.public_url {
            s.auth.public_url = Some(v);
        }
        if let Some(v) = a.service {
            s.auth.service = Some(v);
        }
        if let Some(v) = a.code_hosts {
            s.auth.code_hosts = v;
        }
        if let Some(v) = a.signing_key_file {
            s.auth.signing_key_file = Some(v);
        }
        if let Some(v) = a.token_ttl {
            s.auth.token_ttl = v.resolve("auth.token_ttl")?;
        }
        if let Some(v) = a.strict_annotations {
            s.auth.strict_annotations = v;
        }
        // The environment.
        if let Some(v) = rust_log.filter(|v| !v.trim().is_empty()) {
            s.log_filter = v;
        }
        // The flags.
        if let Some(v) = cli.listen {
            s.listen = v;
        }
        if let Some(v) = &cli.data_dir {
            s.data_dir = v.clone();
        }
        if let Some(v) = &cli.log_level {
            s.log_filter = v.clone();
        }
        if let Some(v) = cli.log_format {
            s.log_format = v;
        }
        if let Some(v) = cli.metrics {
            s.metrics = v;
        }
        if let Some(v) = cli.metrics_listen {
            s.metrics_listen = Some(v);
        }
        if let Some(v) = cli.max_manifest_size {
            s.max_manifest_size = v;
        }
        if let Some(v) = cli.upload_expiry {
            s.upload_expiry = v;
        }
        if let Some(v) = cli.purge_interval {
            s.purge_interval = v;
        }
        if let Some(v) = cli.request_timeout {
            s.request_timeout = v;
        }
        if let Some(v) = cli.body_idle_timeout {
            s.body_idle_timeout = v;
        }
        if let Some(v) = cli.header_read_timeout {
            s.header_read_timeout = v;
        }
        if let Some(v) = cli.write_stall_timeout {
            s.write_stall_timeout = v;
        }
        if let Some(v) = cli.idle_timeout {
            s.idle_timeout = v;
        }
        if let Some(v) = cli.max_connections {
            s.max_connections = Some(v);
        }
        if let Some(v) = cli.max_concurrent_uploads {
            s.max_concurrent_uploads = v;
        }
        if let Some(v) = cli.upload_share_percent {
            s.upload_share_percent = v;
        }
        if let Some(v) = cli.min_upload_rate {
            s.min_upload_rate = v;
        }
        if let Some(v) = cli.body_deadline {
            s.body_deadline = v;
        }
        if let Some(v) = cli.max_upload_sessions {
            s.max_upload_sessions = v;
        }
        if let Some(v) = cli.max_upload_sessions_per_client {
            s.max_upload_sessions_per_client = v;
        }
        if let Some(v) = cli.shutdown_grace {
            s.shutdown_grace = v;
        }
        if cli.no_auth {
            s.auth.enabled = false;
        }
        if let Some(v) = &cli.public_url {
            s.auth.public_url = Some(v.clone());
        }
        if let Some(v) = &cli.service {
            s.auth.service = Some(v.clone());
        }
        if !cli.code_host.is_empty() {
            s.auth.code_hosts = cli.code_host.clone();
        }
        if let Some(v) = &cli.signing_key_file {
            s.auth.signing_key_file = Some(v.clone());
        }
        if let Some(v) = cli.token_ttl {
            s.auth.token_ttl = v;
        }
        if let Some(v) = cli.strict_annotations {
            s.auth.strict_annotations = v;
        }
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let positive = [
            ("upload_expiry", self.upload_expiry),
            ("purge_interval", self.purge_interval),
            ("request_timeout", self.request_timeout),
            ("body_idle_timeout", self.body_idle_timeout),
            ("header_read_timeout", self.header_read_timeout),
            ("write_stall_timeout", self.write_stall_timeout),
            ("idle_timeout", self.idle_timeout),
            ("body_deadline", self.body_deadline),
            ("auth.token_ttl", self.auth.token_ttl),
        ];
        for (key, value) in positive {
            if value.is_zero() {
                return Err(ConfigError::Value {
                    key: key.into(),
                    reason: "must be longer than zero".into(),
                });
            }
        }
        if self.max_concurrent_uploads == 0 {
            return Err(ConfigError::Value {
                key: "max_concurrent_uploads".into(),
                reason: "must be at least 1".into(),
            });
        }
        let at_least_one = [
            ("max_upload_sessions", self.max_upload_sessions),
            (
                "max_upload_sessions_per_client",
                self.max_upload_sessions_per_client,
            ),
        ];
        for (key, value) in at_least_one {
            if value == 0 {
                return Err(ConfigError::Value {
                    key: key.into(),
                    reason: "must be at least 1".into(),
                });
            }
        }
        if !(1..=100).contains(&self.upload_share_percent) {
            return Err(ConfigError::Value {
                key: "upload_share_percent".into(),
                reason: "must be a percentage from 1 to 100".into(),
            });
        }
        if self.max_connections == Some(0) {
            return Err(ConfigError::Value {
                key: "max_connections".into(),
                reason: "must be at least 1".into(),
            });
        }
        if self.max_manifest_size == 0 || usize::try_from(self.max_manifest_size).is_err() {
            return Err(ConfigError::Value {
                key: "max_manifest_size".into(),
                reason: "must be at least one byte and fit in memory".into(),
            });
        }
        Ok(())
    }
}

/// `500ms`, `30s`, `10m`, `24h`, `2d` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 10m or 24h"))?;
    let seconds = |factor: u64| {
        number
            .checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{text:?} is too long"))
    };
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        other => Err(format!(
            "unknown unit {other:?} in {text:?}; use ms, s, m, h or d"
        )),
    }
}

/// A minimum transfer rate: so many bytes per second, averaged over each
/// window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRate {
    /// Bytes per second; 0 is no minimum.
    pub bytes_per_second: u64,
    /// The window the rate is measured over.
    pub window: Duration,
}

/// `<size>/s over <duration>` (`1KiB/s over 30s`), `<size>/s` (over 30 s),
/// or `off`.
pub fn parse_upload_rate(text: &str) -> Result<UploadRate, String> {
    let text = text.trim();
    if text == "off" {
        return Ok(UploadRate {
            bytes_per_second: 0,
            window: Duration::from_secs(30),
        });
    }
    let (rate, window) = match text.split_once(" over ") {
        Some((rate, window)) => (rate, parse_duration(window)?),
        None => (text, Duration::from_secs(30)),
    };
    let size = rate
        .trim()
        .strip_suffix("/s")
        .ok_or_else(|| format!("{text:?} is not a rate like 1KiB/s over 30s, or off"))?;
    if window.is_zero() {
        return Err(format!("the window of {text:?} must be longer than zero"));
    }
    Ok(UploadRate {
        bytes_per_second: parse_size(size)?,
        window,
    })
}

/// Bytes, or a number with a `KiB`, `MiB` or `GiB` suffix.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 4194304 or 4MiB"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}; use KiB, MiB or GiB"
            ))
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_rates_parse_with_or_without_a_window_and_off() {
        let rate = |bytes_per_second, secs| UploadRate {
            bytes_per_second,
            window: Duration::from_secs(secs),
        };
        assert_eq!(parse_upload_rate("1KiB/s over 30s"), Ok(rate(1024, 30)));
        assert_eq!(parse_upload_rate("500/s over 1m"), Ok(rate(500, 60)));
        assert_eq!(parse_upload_rate("2KiB/s"), Ok(rate(2048, 30)));
        assert_eq!(parse_upload_rate("off"), Ok(rate(0, 30)));
        for bad in ["1KiB", "fast", "1KiB/s over", "1KiB/s over 0s", "1KB/s"] {
            assert!(parse_upload_rate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn upload_fairness_settings_come_from_the_file_and_flags_and_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("registry.toml");
        std::fs::write(
            &path,
            "[limits]\nupload_share_percent = 25\nmin_upload_rate = \"2KiB/s over 10s\"\n\
             body_deadline = \"1h\"\nmax_upload_sessions = 50\nmax_upload_sessions_per_client = 5\n",
        )
        .expect("write");
        let cli = Cli::parse_from([
            "minimal-registry",
            "--config",
            path.to_str().expect("utf-8"),
            "--max-upload-sessions-per-client",
            "7",
        ]);
        let s = Settings::load(&cli, None).expect("valid");
        assert_eq!(s.upload_share_percent, 25);
        assert_eq!(
            s.min_upload_rate,
            UploadRate {
                bytes_per_second: 2048,
                window: Duration::from_secs(10)
            }
        );
        assert_eq!(s.body_deadline, Duration::from_secs(3600));
        assert_eq!(s.max_upload_sessions, 50);
        assert_eq!(s.max_upload_sessions_per_client, 7);
        for flags in [
            ["--upload-share-percent", "0"],
            ["--upload-share-percent", "101"],
            ["--max-upload-sessions", "0"],
            ["--max-upload-sessions-per-client", "0"],
            ["--body-deadline", "0s"],
        ] {
            let cli = Cli::parse_from(["minimal-registry", flags[0], flags[1]]);
            assert!(Settings::load(&cli, None).is_err(), "{flags:?}");
        }
    }

    #[test]
    fn with_nothing_given_the_embedded_defaults_apply() {
        let s = Settings::load(&Cli::default(), None).expect("settings");
        assert_eq!(s, Settings::default());
        assert_eq!(s.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(s.data_dir, PathBuf::from("registry-data"));
    }

    #[test]
    fn flags_override_the_environment_which_overrides_the_file() {
        let file: FileConfig = toml::from_str(
            r#"
            listen = "0.0.0.0:6000"
            data_dir = "/srv/registry"
            log_level = "debug"
            log_format = "json"
            metrics = false
            shutdown_grace = 5
            [limits]
            max_manifest_size = "1MiB"
            upload_expiry = "2h"
            purge_interval = 60
            request_timeout = "90s"
            body_idle_timeout = "500ms"
            header_read_timeout = "7s"
            max_concurrent_uploads = 8
            "#,
        )
        .expect("toml");
        let cli = Cli::parse_from([
            "minimal-registry",
            "--listen",
            "127.0.0.1:7000",
            "--body-idle-timeout",
            "3s",
        ]);
        let s = Settings::merge(file, &cli, Some("warn".into())).expect("settings");
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000", "flag wins");
        assert_eq!(s.body_idle_timeout, Duration::from_secs(3), "flag wins");
        assert_eq!(s.log_filter, "warn", "RUST_LOG wins over the file");
        assert_eq!(s.data_dir, PathBuf::from("/srv/registry"));
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(!s.metrics);
        assert_eq!(s.shutdown_grace, Duration::from_secs(5));
        assert_eq!(s.max_manifest_size, 1 << 20);
        assert_eq!(s.upload_expiry, Duration::from_secs(7200));
        assert_eq!(s.purge_interval, Duration::from_secs(60));
        assert_eq!(s.request_timeout, Duration::from_secs(90));
        assert_eq!(s.max_concurrent_uploads, 8);
        assert_eq!(s.header_read_timeout, Duration::from_secs(7));

        let cli = Cli::parse_from(["minimal-registry", "--log-level", "trace"]);
        let s = Settings::merge(FileConfig::default(), &cli, Some("warn".into())).expect("s");
        assert_eq!(s.log_filter, "trace", "--log-level wins over RUST_LOG");
    }

    #[test]
    fn authentication_is_on_unless_turned_off() {
        let s = Settings::load(&Cli::default(), None).expect("settings");
        assert!(s.auth.enabled);
        assert_eq!(s.public_url(), "http://localhost:5000");
        assert_eq!(
            s.signing_key_file(),
            PathBuf::from("registry-data/signing-key")
        );

        let file: FileConfig = toml::from_str(
            r#"
            listen = "0.0.0.0:6000"
            [auth]
            public_url = "https://registry.example/"
            service = "registry.example"
            code_hosts = ["git.example"]
            signing_key_file = "/etc/registry/key"
            token_ttl = "10m"
            strict_annotations = true
            "#,
        )
        .expect("toml");
        let s = Settings::merge(file, &Cli::default(), None).expect("settings");
        assert!(s.auth.enabled);
        assert_eq!(s.public_url(), "https://registry.example");
        assert_eq!(s.auth.service.as_deref(), Some("registry.example"));
        assert_eq!(s.auth.code_hosts, ["git.example"]);
        assert_eq!(s.signing_key_file(), PathBuf::from("/etc/registry/key"));
        assert_eq!(s.auth.token_ttl, Duration::from_secs(600));
        assert!(s.auth.strict_annotations);

        let cli = Cli::parse_from([
            "minimal-registry",
            "--no-auth",
            "--listen",
            "10.0.0.1:5000",
            "--code-host",
            "a.example",
            "--code-host",
            "b.example",
        ]);
        let s = Settings::merge(FileConfig::default(), &cli, None).expect("settings");
        assert!(!s.auth.enabled);
        assert_eq!(s.public_url(), "http://10.0.0.1:5000");
        assert_eq!(s.auth.code_hosts, ["a.example", "b.example"]);
    }

    #[test]
    fn bad_files_and_values_are_reported_with_their_key() {
        let table = [
            ("listen = 5", "invalid config file"),
            ("unknown_key = 1", "unknown field"),
            ("[limits]\nupload_expiry = \"soon\"", "limits.upload_expiry"),
            (
                "[limits]\nmax_manifest_size = \"4 parsecs\"",
                "limits.max_manifest_size",
            ),
            ("[limits]\nbody_idle_timeout = 0", "body_idle_timeout"),
            ("[auth]\ntoken_ttl = 0", "auth.token_ttl"),
            ("[auth]\nunknown = 1", "unknown field"),
            (
                "[limits]\nmax_concurrent_uploads = 0",
                "max_concurrent_uploads",
            ),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        for (text, expected) in table {
            let path = dir.path().join("config.toml");
            std::fs::write(&path, text).expect("write");
            let cli = Cli {
                config: Some(path),
                ..Cli::default()
            };
            let err = Settings::load(&cli, None).expect_err(text).to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let cli = Cli {
            config: Some(dir.path().join("missing.toml")),
            ..Cli::default()
        };
        assert!(matches!(
            Settings::load(&cli, None),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn durations_and_sizes_parse_with_their_units() {
        let durations = [
            ("500ms", Some(Duration::from_millis(500))),
            ("30", Some(Duration::from_secs(30))),
            ("30s", Some(Duration::from_secs(30))),
            ("10m", Some(Duration::from_secs(600))),
            ("24h", Some(Duration::from_secs(86_400))),
            ("2d", Some(Duration::from_secs(172_800))),
            ("1w", None),
            ("s", None),
            ("-1s", None),
        ];
        for (text, expected) in durations {
            assert_eq!(parse_duration(text).ok(), expected, "{text}");
        }
        let sizes = [
            ("4194304", Some(4_194_304)),
            ("4MiB", Some(4 << 20)),
            ("512KiB", Some(512 << 10)),
            ("1GiB", Some(1 << 30)),
            ("4MB", None),
            ("many", None),
        ];
        for (text, expected) in sizes {
            assert_eq!(parse_size(text).ok(), expected, "{text}");
        }
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
