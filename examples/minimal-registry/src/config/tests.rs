use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::values::{parse_duration, parse_size, parse_upload_rate, UploadRate};
use super::*;

/// The settings of a file with `text`.
fn parse_file(text: &str) -> Result<Settings, ConfigError> {
    file::parse(Path::new("registry.toml"), text)
}

/// A `registry.toml` holding `text`, in a directory that lives as long
/// as the returned guard.
fn config_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("registry.toml");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

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
    let (_dir, path) = config_file(
        "[limits]\nupload_share_percent = 25\nmin_upload_rate = \"2KiB/s over 10s\"\n\
         body_deadline = \"1h\"\nmax_upload_sessions = 50\nmax_upload_sessions_per_client = 5\n",
    );
    let cli = Cli::parse_from([
        "minimal-registry",
        "--config",
        path.to_str().expect("utf-8"),
        "--max-upload-sessions-per-client",
        "7",
    ]);
    let s = Settings::load(&cli, None).expect("valid");
    assert_eq!(s.limits.upload_share_percent, 25);
    assert_eq!(
        s.limits.min_upload_rate,
        UploadRate {
            bytes_per_second: 2048,
            window: Duration::from_secs(10)
        }
    );
    assert_eq!(s.limits.body_deadline, Duration::from_secs(3600));
    assert_eq!(s.limits.max_upload_sessions, 50);
    assert_eq!(s.limits.max_upload_sessions_per_client, 7);
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

/// Garbage collection's schedule: a duration, `0` or `off` (never), in
/// the file or as a flag; its grace period a duration.
#[test]
fn the_garbage_collection_settings_read_off_and_durations() {
    for (text, interval) in [
        ("gc_interval = \"12h\"", 12 * 3600),
        ("gc_interval = \"off\"", 0),
        ("gc_interval = 0", 0),
        ("gc_interval = 90", 90),
    ] {
        let s = parse_file(text).expect(text);
        assert_eq!(s.gc_interval, Duration::from_secs(interval), "{text}");
    }
    let s = parse_file("gc_grace = \"30m\"").expect("grace");
    assert_eq!(s.gc_grace, Duration::from_secs(1800));
    for (flag, interval) in [("off", 0), ("0", 0), ("2d", 2 * 86_400)] {
        let cli = Cli::parse_from([
            "minimal-registry",
            "--gc-interval",
            flag,
            "--gc-grace",
            "90s",
        ]);
        let s = Settings::merge(Settings::default(), &cli, None).expect("settings");
        assert_eq!(s.gc_interval, Duration::from_secs(interval), "{flag}");
        assert_eq!(s.gc_grace, Duration::from_secs(90));
    }
    assert!(parse_file("gc_interval = \"sometimes\"").is_err());
}

#[test]
fn flags_override_the_environment_which_overrides_the_file() {
    let file = parse_file(
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
    assert_eq!(
        s.limits.body_idle_timeout,
        Duration::from_secs(3),
        "flag wins"
    );
    assert_eq!(s.log_level, "warn", "RUST_LOG wins over the file");
    assert_eq!(s.data_dir, PathBuf::from("/srv/registry"));
    assert_eq!(s.log_format, LogFormat::Json);
    assert!(!s.metrics);
    assert_eq!(s.shutdown_grace, Duration::from_secs(5));
    assert_eq!(s.limits.max_manifest_size, 1 << 20);
    assert_eq!(s.limits.upload_expiry, Duration::from_secs(7200));
    assert_eq!(s.limits.purge_interval, Duration::from_secs(60));
    assert_eq!(s.limits.request_timeout, Duration::from_secs(90));
    assert_eq!(s.limits.max_concurrent_uploads, 8);
    assert_eq!(s.limits.header_read_timeout, Duration::from_secs(7));

    let cli = Cli::parse_from(["minimal-registry", "--log-level", "trace"]);
    let s = Settings::merge(Settings::default(), &cli, Some("warn".into())).expect("s");
    assert_eq!(s.log_level, "trace", "--log-level wins over RUST_LOG");
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

    let file = parse_file(
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
    let s = Settings::merge(Settings::default(), &cli, None).expect("settings");
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

#[cfg(not(feature = "tls"))]
#[test]
fn without_the_tls_feature_tls_settings_are_refused() {
    let cli = Cli::parse_from([
        "minimal-registry",
        "--tls-cert",
        "a.pem",
        "--tls-key",
        "a.key",
    ]);
    let err = Settings::load(&cli, None).expect_err("no TLS").to_string();
    assert!(err.contains("without its `tls` feature"), "{err}");
}

#[cfg(feature = "tls")]
#[test]
fn tls_settings_come_in_pairs_and_make_the_default_public_url_https() {
    let file = parse_file("tls_cert = \"/etc/registry/tls.pem\"\n").expect("toml");
    let cli = Cli::parse_from(["minimal-registry", "--tls-key", "/etc/registry/tls.key"]);
    let s = Settings::merge(file, &cli, None).expect("the file's certificate, the flag's key");
    assert!(s.tls());
    assert_eq!(s.tls_cert, Some(PathBuf::from("/etc/registry/tls.pem")));
    assert_eq!(s.tls_key, Some(PathBuf::from("/etc/registry/tls.key")));
    assert_eq!(s.public_url(), "https://localhost:5000");
    let cli = Cli::parse_from([
        "minimal-registry",
        "--tls-cert",
        "tls.pem",
        "--tls-key",
        "tls.key",
        "--public-url",
        "http://proxy.example:8080/",
    ]);
    let s = Settings::load(&cli, None).expect("settings");
    assert_eq!(s.public_url(), "http://proxy.example:8080", "given: kept");
    assert_eq!(Settings::default().public_url(), "http://localhost:5000");

    // (flags, the setting the error names)
    let table: [(&[&str], &str); 2] = [
        (&["--tls-cert", "tls.pem"], "tls_key (--tls-key): missing"),
        (&["--tls-key", "tls.key"], "tls_cert (--tls-cert): missing"),
    ];
    for (flags, expected) in table {
        let cli = Cli::parse_from(std::iter::once("minimal-registry").chain(flags.iter().copied()));
        let err = Settings::load(&cli, None)
            .expect_err("half a pair")
            .to_string();
        assert!(err.contains(expected), "{flags:?}: {err}");
    }
}

#[cfg(feature = "tls")]
#[test]
fn tls_files_must_be_readable_and_hold_a_certificate_and_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let pair = || rcgen::generate_simple_self_signed(["localhost".to_owned()]).expect("pair");
    let (leaf, other) = (pair(), pair());
    let cert = file("tls.pem", &leaf.cert.pem());
    let key = file("tls.key", &leaf.signing_key.serialize_pem());
    let other_key = file("other.key", &other.signing_key.serialize_pem());
    let garbage = file("garbage", "not PEM");
    let missing = dir.path().join("missing");
    let with = |cert: &Path, key: &Path| Settings {
        tls_cert: Some(cert.to_owned()),
        tls_key: Some(key.to_owned()),
        ..Settings::default()
    };
    assert!(matches!(with(&cert, &key).tls_certificate(), Ok(Some(_))));
    assert!(matches!(Settings::default().tls_certificate(), Ok(None)));
    // (certificate, key, what the error says)
    let table = [
        (&missing, &key, "tls_cert (--tls-cert): cannot read"),
        (&cert, &missing, "tls_key (--tls-key): cannot read"),
        (&garbage, &key, "tls_cert (--tls-cert):"),
        (&cert, &garbage, "tls_key (--tls-key):"),
        (&cert, &other_key, "tls_key (--tls-key): the private key in"),
    ];
    for (cert, key, expected) in table {
        let err = match with(cert, key).tls_certificate() {
            Ok(_) => panic!("{cert:?} {key:?}: accepted"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains(expected), "{cert:?} {key:?}: {err}");
    }
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

/// The defaults, as they were when each was written out by hand: declaring
/// them on the flags changed none.
#[test]
fn the_declared_defaults_are_the_documented_ones() {
    let s = Settings::default();
    assert_eq!(s.listen, SocketAddr::from(([127, 0, 0, 1], 5000)));
    assert_eq!(s.data_dir, PathBuf::from("registry-data"));
    assert_eq!(s.log_level, "info");
    assert_eq!(s.log_format, LogFormat::Text);
    assert!(s.metrics);
    assert_eq!(s.metrics_listen, None);
    assert_eq!(s.shutdown_grace, Duration::from_secs(30));
    assert_eq!(s.gc_interval, Duration::from_secs(24 * 60 * 60));
    assert_eq!(s.gc_grace, Duration::from_secs(60 * 60));
    assert_eq!((s.tls_cert.as_ref(), s.tls_key.as_ref()), (None, None));
    let l = &s.limits;
    assert_eq!(l.max_manifest_size, 4 * 1024 * 1024);
    assert_eq!(l.upload_expiry, Duration::from_secs(24 * 60 * 60));
    assert_eq!(l.purge_interval, Duration::from_secs(10 * 60));
    assert_eq!(l.request_timeout, Duration::from_secs(60));
    assert_eq!(l.body_idle_timeout, Duration::from_secs(30));
    assert_eq!(l.header_read_timeout, Duration::from_secs(30));
    assert_eq!(l.write_stall_timeout, Duration::from_secs(60));
    assert_eq!(l.idle_timeout, Duration::from_secs(30));
    assert_eq!(l.max_connections, None);
    assert_eq!(l.max_concurrent_uploads, 256);
    assert_eq!(l.upload_share_percent, 50);
    assert_eq!(
        l.min_upload_rate,
        UploadRate {
            bytes_per_second: 1024,
            window: Duration::from_secs(30)
        }
    );
    assert_eq!(l.body_deadline, Duration::from_secs(4 * 60 * 60));
    assert_eq!(l.max_upload_sessions, 10_000);
    assert_eq!(l.max_upload_sessions_per_client, 200);
    let a = &s.auth;
    assert!(a.enabled);
    assert_eq!(a.public_url, None);
    assert_eq!(a.service, None);
    assert!(a.code_hosts.is_empty());
    assert_eq!(a.signing_key_file, None);
    assert_eq!(a.token_ttl, Duration::from_secs(300));
    assert!(!a.strict_annotations);
    // An empty file, an empty table and no file at all are the same.
    assert_eq!(parse_file("").expect("empty"), s);
    assert_eq!(parse_file("[limits]\n[auth]\n").expect("tables"), s);
}

#[test]
fn a_flag_overrides_the_file_and_an_absent_flag_leaves_it() {
    let (_dir, path) = config_file(
        "listen = \"0.0.0.0:6000\"\nmetrics = false\n\
         [limits]\nupload_expiry = \"2h\"\nmax_connections = 100\n\
         [auth]\nenabled = false\ncode_hosts = [\"file.example\"]\nstrict_annotations = true\n",
    );
    let config = path.to_str().expect("utf-8");

    // No flags: every value is the file's.
    let cli = Cli::parse_from(["minimal-registry", "--config", config]);
    let s = Settings::load(&cli, None).expect("settings");
    assert_eq!(s.listen.to_string(), "0.0.0.0:6000");
    assert!(!s.metrics);
    assert_eq!(s.limits.upload_expiry, Duration::from_secs(7200));
    assert_eq!(s.limits.max_connections, Some(100));
    assert!(!s.auth.enabled, "an absent --no-auth keeps enabled = false");
    assert_eq!(s.auth.code_hosts, ["file.example"]);
    assert!(s.auth.strict_annotations);

    // Flags win, also when they give the default value.
    let cli = Cli::parse_from([
        "minimal-registry",
        "--config",
        config,
        "--listen",
        "127.0.0.1:5000",
        "--metrics",
        "true",
        "--upload-expiry",
        "1h",
        "--code-host",
        "flag.example",
        "--strict-annotations",
        "false",
    ]);
    let s = Settings::load(&cli, None).expect("settings");
    assert_eq!(s.listen.to_string(), "127.0.0.1:5000");
    assert!(s.metrics);
    assert_eq!(s.limits.upload_expiry, Duration::from_secs(3600));
    assert_eq!(s.limits.max_connections, Some(100), "not given: the file's");
    assert_eq!(s.auth.code_hosts, ["flag.example"]);
    assert!(!s.auth.strict_annotations);

    // --no-auth turns off what the file turns on.
    std::fs::write(&path, "[auth]\nenabled = true\n").expect("write");
    let cli = Cli::parse_from(["minimal-registry", "--config", config, "--no-auth"]);
    assert!(!Settings::load(&cli, None).expect("settings").auth.enabled);
}

#[test]
fn an_unknown_key_is_refused_with_its_name() {
    for (text, name) in [
        ("listen_address = \"0.0.0.0:5000\"", "listen_address"),
        ("[limits]\nmax_upload_size = \"1GiB\"", "max_upload_size"),
        ("[auth]\ntoken_lifetime = \"5m\"", "token_lifetime"),
        ("[storage]\npath = \"/srv\"", "path"),
        ("[backend]\ndatabase = \"x\"", "backend"),
        // The flag's name is not a key.
        ("[auth]\nno_auth = true", "no_auth"),
    ] {
        let err = parse_file(text).expect_err(text);
        assert!(matches!(err, ConfigError::Parse { .. }), "{text}: {err:?}");
        let message = err.to_string();
        assert!(message.contains("unknown field"), "{text}: {message}");
        assert!(message.contains(&format!("`{name}`")), "{text}: {message}");
        assert!(message.contains("line "), "{text}: {message}");
    }
}

#[test]
fn a_bad_duration_is_refused_with_its_key_and_flag() {
    for (text, key, flag) in [
        (
            "[auth]\ntoken_ttl = \"5 minutes\"",
            "auth.token_ttl",
            "--token-ttl",
        ),
        (
            "shutdown_grace = \"1w\"",
            "shutdown_grace",
            "--shutdown-grace",
        ),
        (
            "[limits]\nidle_timeout = \"soon\"",
            "limits.idle_timeout",
            "--idle-timeout",
        ),
    ] {
        let err = parse_file(text).expect_err(text);
        let ConfigError::Value {
            key: got, reason, ..
        } = &err
        else {
            panic!("{text}: {err:?}");
        };
        assert_eq!(got, key);
        assert!(
            reason.contains("duration") || reason.contains("unit"),
            "{reason}"
        );
        let message = err.to_string();
        assert!(message.contains(key) && message.contains(flag), "{message}");
    }
    // A duration of the wrong type is a malformed file, with its line.
    let err = parse_file("[limits]\nidle_timeout = 1.5").expect_err("float");
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("line 2"), "{err}");
}

/// The example file in the README, verbatim.
#[test]
fn the_readme_example_config_parses() {
    let readme = include_str!("../../README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("its end");
    let s = parse_file(&readme[start..end]).expect("the README's example");
    let cli = Cli::default();
    let s = Settings::merge(s, &cli, None).expect("valid");
    assert_eq!(
        s.metrics_listen,
        Some(SocketAddr::from(([127, 0, 0, 1], 9090)))
    );
    assert_eq!(s.public_url(), "https://registry.example");
    assert_eq!(s.auth.code_hosts, ["git.example"]);
    assert_eq!(
        s.signing_key_file(),
        PathBuf::from("/etc/registry/signing-key")
    );
    // Every other value it shows is the default.
    let defaults = Settings::default();
    assert_eq!(s.limits, defaults.limits);
    assert_eq!(s.data_dir, PathBuf::from("./registry-data"));
    assert_eq!(s.auth.token_ttl, defaults.auth.token_ttl);
}

#[test]
fn help_shows_each_declared_default() {
    use clap::CommandFactory;
    let help = Cli::command().render_long_help().to_string();
    for shown in [
        "[default: 127.0.0.1:5000]",
        "[default: registry-data]",
        "[default: 4MiB]",
        "[default: 24h]",
        "[default: 1KiB/s over 30s]",
        "[default: RUST_LOG, else info]",
        "[default: 5m]",
    ] {
        assert!(help.contains(shown), "no {shown} in:\n{help}");
    }
    assert!(!help.contains("[default: info]"), "{help}");
    assert!(!help.contains("--no-auth <"), "{help}");
}

/// Applying the flags relies on their matches holding only what was
/// given: a default (including the implicit one of an on/off flag) would
/// override the file.
#[test]
fn the_flags_are_parsed_without_defaults() {
    use clap::CommandFactory;
    let mut command = Cli::command();
    command.build();
    for arg in command.get_arguments() {
        assert!(
            arg.get_default_values().is_empty(),
            "--{} has a default in the parser",
            arg.get_id()
        );
    }
    let matches = Cli::command().get_matches_from(["minimal-registry"]);
    assert_eq!(matches.ids().count(), 0, "{matches:?}");
}

#[test]
fn storage_urls_are_checked() {
    let ok = parse_file(
        "[storage]\nblob_store = \"s3://bucket/prefix\"\ndatabase = \"postgres://u@db/wharf\"\n",
    )
    .expect("settings");
    ok.check().expect("valid");
    assert!(ok.storage.uses_postgres());
    assert_eq!(ok.storage.blob_store.as_deref(), Some("s3://bucket/prefix"));
    for (text, needle) in [
        (
            "[storage]\nblob_store = \"http://bucket\"",
            "must be an s3://",
        ),
        (
            "[storage]\nblob_store = \"s3://bucket\"",
            "needs a shared database",
        ),
        (
            "[storage]\nblob_store = \"s3://b\"\ndatabase = \"/var/lib/p.sqlite\"",
            "needs a shared database",
        ),
        ("[storage]\ndatabase = \"\"", "must not be empty"),
        (
            "[storage]\nblob_redirects = \"5m\"\nblob_store = \"file:///srv\"\ndatabase = \"postgres://db/x\"",
            "can presign",
        ),
        (
            "[storage]\nblob_redirects = \"0s\"\nblob_store = \"s3://b\"\ndatabase = \"postgres://db/x\"",
            "longer than zero",
        ),
    ] {
        let err = parse_file(text)
            .and_then(|s| s.check().map(|()| s))
            .expect_err(text);
        assert!(err.to_string().contains(needle), "{text}: {err}");
    }
}

// Deleted packages and retention policies.

#[test]
fn restore_window_and_retention_interval_come_from_file_and_flags() {
    let defaults = Settings::default();
    assert_eq!(
        defaults.auth.restore_window,
        Duration::from_secs(30 * 86_400)
    );
    assert_eq!(defaults.auth.retention_interval, Duration::from_secs(3600));

    let file = parse_file("[auth]\nrestore_window = \"2d\"\nretention_interval = \"off\"\n")
        .expect("toml");
    let s = Settings::merge(file, &Cli::default(), None).expect("settings");
    assert_eq!(s.auth.restore_window, Duration::from_secs(2 * 86_400));
    assert!(
        s.auth.retention_interval.is_zero(),
        "off never applies them"
    );

    let cli = Cli::parse_from([
        "minimal-registry",
        "--restore-window",
        "90s",
        "--retention-interval",
        "0",
    ]);
    let s = Settings::merge(Settings::default(), &cli, None).expect("settings");
    assert_eq!(s.auth.restore_window, Duration::from_secs(90));
    assert!(s.auth.retention_interval.is_zero());

    let cli = Cli::parse_from(["minimal-registry", "--retention-interval", "15m"]);
    let s = Settings::merge(Settings::default(), &cli, None).expect("settings");
    assert_eq!(s.auth.retention_interval, Duration::from_secs(900));

    for (toml, key) in [
        ("[auth]\nrestore_window = 0", "auth.restore_window"),
        ("[auth]\nrestore_window = \"off\"", "auth.restore_window"),
        (
            "[auth]\nretention_interval = \"sometimes\"",
            "auth.retention_interval",
        ),
    ] {
        let err = parse_file(toml)
            .and_then(|file| Settings::merge(file, &Cli::default(), None))
            .expect_err(toml)
            .to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
}
