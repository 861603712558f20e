//! The parsers of client input on the request path, for the fuzz targets
//! in `fuzz/` (feature `fuzzing`). Not a public API: each function is a
//! thin call into the code the handlers run, so that the parsers can stay
//! private to the crate.

use std::collections::BTreeMap;

use http::StatusCode;
use wharf_storage::ByteRange;

pub use crate::distribution::route::parsed::{ManifestSegment, Route};
pub use crate::ghcr::rest::request::{GrantBody, PackagePatch};
pub use crate::ghcr::token::TokenRequest;
use crate::{ApiError, ManifestRef};

/// A `/v2/...` path as the registry routes it (`Route::parse`).
pub fn route(path: &str) -> Result<Option<Route>, ApiError> {
    Route::parse(path)
}

/// The methods a route answers (the `Allow` header of a 405).
pub fn allowed_methods(route: &Route) -> &'static str {
    route.allowed_methods()
}

/// A manifest path's reference, or the error a write to it gets.
pub fn manifest_reference(segment: ManifestSegment) -> Result<ManifestRef, ApiError> {
    segment.reference()
}

/// The percent-decoding of path segments (names, digests, REST API
/// segments).
pub fn decode_segment(segment: &str) -> String {
    crate::distribution::route::decode(segment).into_owned()
}

/// A blob GET's `Range` header; `None` serves the whole blob.
pub fn range(header: &[u8]) -> Option<ByteRange> {
    crate::http::range::parse_range(header)
}

/// An upload chunk's `Content-Range` header, as `(start, end, len)`.
pub fn content_range(header: &[u8]) -> Option<(u64, u64, u64)> {
    crate::http::range::ChunkRange::parse(header).map(|r| (r.start, r.end, r.len()))
}

/// The `Range` header of an upload response after `offset` bytes.
pub fn upload_range(offset: u64) -> String {
    crate::http::range::upload_range(offset)
}

/// A REST API failure: status and `{"message"}`.
pub type Problem = (StatusCode, String);

fn problem(p: crate::ghcr::rest::problem::Problem) -> Problem {
    (p.status, p.message)
}

/// A `PATCH .../packages/container/{name}` body.
pub fn package_patch(body: &[u8]) -> Result<PackagePatch, Problem> {
    crate::ghcr::rest::request::parse_json(body).map_err(problem)
}

/// A `PUT .../grants/{grantee}` body.
pub fn grant_body(body: &[u8]) -> Result<GrantBody, Problem> {
    crate::ghcr::rest::request::parse_json(body).map_err(problem)
}

/// A REST listing's `page` and `per_page` from the query's first value per
/// key, as `(page, per_page, records skipped, records gathered)`.
pub fn api_paging(
    query: &BTreeMap<String, String>,
) -> Result<(usize, usize, usize, usize), Problem> {
    crate::ghcr::rest::request::Paging::of(query)
        .map(|p| (p.page, p.per_page, p.skip(), p.wanted()))
        .map_err(problem)
}

/// The query of `GET /token` or the form of `POST /token`.
pub fn token_request(input: &[u8]) -> TokenRequest {
    TokenRequest::parse(input)
}

/// The JWT of a `Bearer <JWT>` header, when the registry takes its fast
/// path (a bearer token verified without the general parser).
pub fn bearer_jwt(header: &str) -> Option<&str> {
    crate::ghcr::accounts::authn::bearer_jwt(header)
}
