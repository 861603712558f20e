//! The minimal registry binary (placeholder).
fn main() {}
