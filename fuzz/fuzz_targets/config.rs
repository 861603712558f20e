//! The minimal registry's TOML configuration file, through the example's
//! own `config` module (compiled in as is). Loading never panics; settings
//! that load are checked ones, and written back as a TOML file they load
//! to the same settings; the duration, size and rate syntaxes round-trip.
#![no_main]

use std::path::Path;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../examples/minimal-registry/src/config.rs"]
mod config;

use config::{parse_duration, parse_size, parse_upload_rate, Cli, LogFormat, Settings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("registry.toml");
    let cli = Cli::default();
    if let Ok(settings) = Settings::from_toml(text, path, &cli, None) {
        let written = write(&settings);
        let again = Settings::from_toml(&written, path, &cli, None)
            .unwrap_or_else(|e| panic!("written back:\n{written}\n{e}"));
        assert_eq!(again, settings, "written back:\n{written}");
        let _ = (settings.public_url(), settings.signing_key_file());
    }

    if let Ok(d) = parse_duration(text) {
        assert_eq!(parse_duration(&duration(d)), Ok(d));
    }
    if let Ok(size) = parse_size(text) {
        assert_eq!(parse_size(&size.to_string()), Ok(size));
    }
    if let Ok(rate) = parse_upload_rate(text) {
        assert!(!rate.window.is_zero());
        let written = format!("{}/s over {}", rate.bytes_per_second, duration(rate.window));
        assert_eq!(parse_upload_rate(&written), Ok(rate));
    }
});

/// A duration as the file writes one: whole seconds, or milliseconds.
fn duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Every setting, as a TOML file.
fn write(s: &Settings) -> String {
    let d = |d: Duration| string(&duration(d));
    let mut out = String::new();
    out += &format!("listen = {}\n", string(&s.listen.to_string()));
    out += &format!(
        "data_dir = {}\n",
        string(s.data_dir.to_str().expect("from TOML, so UTF-8"))
    );
    out += &format!("log_level = {}\n", string(&s.log_filter));
    let format = match s.log_format {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    };
    out += &format!("log_format = {}\n", string(format));
    out += &format!("metrics = {}\n", s.metrics);
    if let Some(addr) = s.metrics_listen {
        out += &format!("metrics_listen = {}\n", string(&addr.to_string()));
    }
    out += &format!("shutdown_grace = {}\n", d(s.shutdown_grace));
    out += "[limits]\n";
    out += &format!(
        "max_manifest_size = {}\n",
        string(&s.max_manifest_size.to_string())
    );
    out += &format!("upload_expiry = {}\n", d(s.upload_expiry));
    out += &format!("purge_interval = {}\n", d(s.purge_interval));
    out += &format!("request_timeout = {}\n", d(s.request_timeout));
    out += &format!("body_idle_timeout = {}\n", d(s.body_idle_timeout));
    out += &format!("header_read_timeout = {}\n", d(s.header_read_timeout));
    out += &format!("write_stall_timeout = {}\n", d(s.write_stall_timeout));
    out += &format!("idle_timeout = {}\n", d(s.idle_timeout));
    if let Some(n) = s.max_connections {
        out += &format!("max_connections = {n}\n");
    }
    out += &format!("max_concurrent_uploads = {}\n", s.max_concurrent_uploads);
    out += &format!("upload_share_percent = {}\n", s.upload_share_percent);
    out += &format!(
        "min_upload_rate = {}\n",
        string(&format!(
            "{}/s over {}",
            s.min_upload_rate.bytes_per_second,
            duration(s.min_upload_rate.window)
        ))
    );
    out += &format!("body_deadline = {}\n", d(s.body_deadline));
    out += &format!("max_upload_sessions = {}\n", s.max_upload_sessions);
    out += &format!(
        "max_upload_sessions_per_client = {}\n",
        s.max_upload_sessions_per_client
    );
    let a = &s.auth;
    out += "[auth]\n";
    out += &format!("enabled = {}\n", a.enabled);
    if let Some(url) = &a.public_url {
        out += &format!("public_url = {}\n", string(url));
    }
    if let Some(service) = &a.service {
        out += &format!("service = {}\n", string(service));
    }
    let hosts: Vec<String> = a.code_hosts.iter().map(|h| string(h)).collect();
    out += &format!("code_hosts = [{}]\n", hosts.join(", "));
    if let Some(file) = &a.signing_key_file {
        out += &format!(
            "signing_key_file = {}\n",
            string(file.to_str().expect("from TOML, so UTF-8"))
        );
    }
    out += &format!("token_ttl = {}\n", d(a.token_ttl));
    out += &format!("strict_annotations = {}\n", a.strict_annotations);
    out
}
