//! The minimal registry's TOML configuration file, through the example's
//! own `config` module (compiled in as is). Loading never panics and is a
//! function of the text; the duration, size and rate syntaxes round-trip.
#![no_main]

use std::path::Path;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../examples/minimal-registry/src/config/mod.rs"]
mod config;

use config::file::parse;
use config::values::{parse_duration, parse_size, parse_upload_rate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("registry.toml");
    if let Ok(settings) = parse(path, text) {
        // Loading is a function of the text, and what loads is usable.
        let again = parse(path, text).unwrap_or_else(|e| panic!("second load: {e}"));
        assert_eq!(again, settings);
        let _ = (settings.public_url(), settings.signing_key_file());
        // The checks after the merge with flags accept or refuse it, never panic.
        let _ = settings.check();
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
