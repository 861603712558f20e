//! The OCI Distribution API (placeholder while the crate is written).
