//! [`Problem`]: how the package REST API answers a failure, in GitHub's
//! shape (`{"message": "..."}`), built from the registry's one error value
//! ([`ApiError`]) or from the package store's errors.

use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, HeaderValue, ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Method, StatusCode};
use serde::Serialize;

use crate::distribution::error::ApiError;
use crate::ghcr::deleted_packages::PackageContentError;
use crate::ghcr::rest::json::json_response;
use crate::ghcr::token::basic_challenge;

/// A failed request: a status, GitHub's `{"message"}` body and the headers
/// a client needs (`WWW-Authenticate`, `Allow`).
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Message<'a> {
    message: &'a str,
}

impl Problem {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Problem {
        Problem {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, message)
    }

    fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Problem {
        self.headers.push((name, value));
        self
    }

    /// A failure of the registry itself, logged; the client learns nothing
    /// more.
    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "package API: internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal registry error; the cause is in the registry's log",
        )
    }

    /// 503 with `Retry-After`: the package store's database (or the
    /// storage's object store or database) is out of reach, logged; the
    /// client may retry.
    pub(crate) fn unavailable(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "package API: the package store is unavailable");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "a service the registry depends on (its database or object store) is unavailable; retry later",
        )
        .with_header(RETRY_AFTER, HeaderValue::from_static("1"))
    }

    /// 401 with a Basic challenge for `service`.
    pub(crate) fn unauthorized(service: &str, message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, message)
            .with_header(WWW_AUTHENTICATE, basic_challenge(service))
    }

    /// 405 for `method` on a path that answers only `allowed`.
    pub(crate) fn method_not_allowed(method: &Method, allowed: &'static str) -> Problem {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed here; use {allowed}"),
        )
        .with_header(ALLOW, HeaderValue::from_static(allowed))
    }
}

impl From<ApiError> for Problem {
    fn from(err: ApiError) -> Problem {
        // The message only: the registry API's challenges are for `/v2/`.
        Problem::new(err.status(), err.message().to_owned())
    }
}

impl From<wharf_packages::Error> for Problem {
    fn from(err: wharf_packages::Error) -> Problem {
        use wharf_packages::Error as E;
        match &err {
            E::NotFound { .. } | E::RestoreWindowPassed { .. } => {
                Problem::not_found(err.to_string())
            }
            E::AlreadyExists { .. } | E::Conflict { .. } => {
                Problem::new(StatusCode::CONFLICT, err.to_string())
            }
            E::InvalidCursor { .. } | E::OutOfRange { .. } => Problem::bad_request(err.to_string()),
            E::Unavailable { .. } => Problem::unavailable(&err),
            _ => Problem::internal(&err),
        }
    }
}

impl From<PackageContentError> for Problem {
    fn from(err: PackageContentError) -> Problem {
        match err {
            PackageContentError::Records(err) => err.into(),
            PackageContentError::Storage(down @ wharf_storage::Error::Unavailable { .. }) => {
                Problem::unavailable(&down)
            }
            storage => Problem::internal(&storage),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = json_response(
            self.status,
            &Message {
                message: &self.message,
            },
        );
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_package_database_answers_503_with_retry_after() {
        let down = wharf_packages::Error::unavailable(
            "looking up a package",
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        );
        let response = Problem::from(down).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(RETRY_AFTER),
            Some(&HeaderValue::from_static("1"))
        );
        let failed = wharf_packages::Error::database("looking up a package", "syntax error");
        assert_eq!(
            Problem::from(failed).into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn unauthorized_challenges_even_a_non_ascii_service() {
        let response = Problem::unauthorized("régistry.example", "sign in").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(WWW_AUTHENTICATE),
            Some(&basic_challenge("régistry.example"))
        );
    }
}
