//! HTTP plumbing shared by every endpoint: serving connections with their
//! limits ([`serve`](serve::serve)), request bodies and their pace,
//! `Range` and `Content-Range`, common headers, the access log and the
//! [`Metrics`](metrics::Metrics); with the cargo feature `tls`, serving
//! over TLS with a certificate reloaded from its files (`tls`).

pub(crate) mod body;
pub(crate) mod connections;
pub(crate) mod headers;
pub mod metrics;
pub(crate) mod observe;
pub(crate) mod range;
pub mod serve;
pub(crate) mod stall;
pub(crate) mod tap;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
