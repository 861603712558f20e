//! The token endpoint of the Docker token protocol: `GET /token` and the
//! OAuth2 form `POST /token` (password grant).
//!
//! A client told `WWW-Authenticate: Bearer realm="<url>/token",
//! service="<service>",scope="repository:acme/app:pull"` asks
//! `GET /token?service=<service>&scope=repository:acme/app:pull,push`,
//! with Basic credentials (a username and a personal access token, or a
//! workflow token as the password) or none (anonymous). The answer grants,
//! per requested resource, the actions asked for that the caller may take
//! ([`wharf_auth::permitted_actions`]): possibly none, which is not an
//! error (the registry then answers the request itself with 401, 403 or
//! 404).
//!
//! ```text
//! {"token": "<JWT>", "access_token": "<JWT>", "expires_in": 300, "issued_at": "2024-03-01T12:00:00Z"}
//! ```
//!
//! Errors use the registry's JSON error envelope: 400 for a wrong
//! `service`, a malformed scope or too many of them, an unsupported grant;
//! 401 with `WWW-Authenticate: Basic` for bad credentials.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode};
use serde::Serialize;
use wharf_auth::{
    permitted_actions, BasicChallenge, Credentials, Identity, Resource, Scope, ScopeActions,
    ScopeSet,
};
use wharf_packages::PackageLookup;

use crate::distribution::auth::challenge_header;
use crate::distribution::error::{ApiError, ErrorCode};
use crate::ghcr::accounts::{AuthnError, Caller};
use crate::ghcr::clock::rfc3339;
use crate::http::body::read_limited;
use crate::Registry;

/// The most resources one token request may ask about.
const MAX_SCOPES: usize = 64;
/// The largest `POST /token` form accepted.
const MAX_FORM: usize = 64 * 1024;

#[derive(Serialize)]
struct TokenResponse<'a> {
    token: &'a str,
    access_token: &'a str,
    expires_in: u64,
    issued_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// What a token request asks for, from the query or the form.
#[derive(Debug, Default)]
pub struct TokenRequest {
    /// `service`.
    pub service: Option<String>,
    /// Every `scope`, in order.
    pub scopes: Vec<String>,
    /// `grant_type` (the form).
    pub grant_type: Option<String>,
    /// `username` (the form).
    pub username: Option<String>,
    /// `password` (the form).
    pub password: Option<String>,
}

impl TokenRequest {
    pub(crate) fn parse(input: &[u8]) -> TokenRequest {
        let mut request = TokenRequest::default();
        for (key, value) in url::form_urlencoded::parse(input) {
            match &*key {
                "service" => request.service = Some(value.into_owned()),
                "scope" => request.scopes.push(value.into_owned()),
                "grant_type" => request.grant_type = Some(value.into_owned()),
                "username" => request.username = Some(value.into_owned()),
                "password" => request.password = Some(value.into_owned()),
                _ => {}
            }
        }
        request
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Unsupported, message.into()).with_status(StatusCode::BAD_REQUEST)
}

/// `GET /token` and `POST /token`.
pub(crate) async fn endpoint(State(registry): State<Registry>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let outcome = match parts.method {
        Method::GET => {
            let query = parts.uri.query().unwrap_or_default().as_bytes();
            issue(&registry, &parts, TokenRequest::parse(query), false).await
        }
        Method::POST => match read_form(&registry, &parts, body).await {
            Ok(form) => issue(&registry, &parts, form, true).await,
            Err(err) => Err(err),
        },
        _ => Err(ApiError::new(
            ErrorCode::Unsupported,
            "the token endpoint answers GET and POST",
        )
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
        .with_header(http::header::ALLOW, HeaderValue::from_static("GET, POST"))),
    };
    let mut response = outcome.unwrap_or_else(IntoResponse::into_response);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn read_form(
    registry: &Registry,
    parts: &Parts,
    body: Body,
) -> Result<TokenRequest, ApiError> {
    let form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !form {
        return Err(bad_request(
            "POST /token takes an application/x-www-form-urlencoded form",
        ));
    }
    let bytes = read_limited(
        body,
        MAX_FORM,
        crate::http::body::BodyPace::of(registry.limits()),
        None,
    )
    .await?;
    Ok(TokenRequest::parse(&bytes))
}

async fn issue(
    registry: &Registry,
    parts: &Parts,
    request: TokenRequest,
    oauth: bool,
) -> Result<Response, ApiError> {
    let Some(accounts) = registry.accounts() else {
        return Err(
            ApiError::new(ErrorCode::Unsupported, "this registry issues no tokens")
                .with_status(StatusCode::NOT_FOUND),
        );
    };
    if let Some(service) = &request.service {
        if service != accounts.service() {
            return Err(bad_request(format!(
                "unknown service `{}`: this token endpoint issues tokens for `{}`",
                service.chars().take(100).collect::<String>(),
                accounts.service()
            )));
        }
    }
    let caller = if oauth {
        match request.grant_type.as_deref() {
            Some("password") => {}
            Some("refresh_token") => {
                return Err(bad_request(
                    "unsupported grant_type refresh_token: this registry issues no refresh tokens; use grant_type=password",
                ))
            }
            _ => return Err(bad_request("grant_type must be password")),
        }
        match &request.password {
            Some(password) => accounts.stored_token(password, false).await,
            None => return Err(bad_request("the password grant needs a password")),
        }
    } else {
        match parts
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().map(Credentials::parse_authorization))
        {
            None => Ok(Caller::Anonymous),
            Some(Ok(Ok(Credentials::Basic { password, .. }))) => {
                accounts.stored_token(password.expose_secret(), false).await
            }
            Some(Ok(Ok(Credentials::Bearer { .. }))) => {
                return Err(unauthorized(
                    registry,
                    "the token endpoint takes Basic credentials: your username and a personal access token",
                ))
            }
            Some(Ok(Err(err))) => return Err(unauthorized(registry, err.to_string())),
            Some(Err(_)) => return Err(unauthorized(registry, "the Authorization header is not ASCII")),
        }
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(AuthnError::Bad(bad)) => return Err(unauthorized(registry, bad.reason)),
        Err(AuthnError::Internal(err)) => return Err(err),
    };

    let asked = ScopeSet::from_request(request.scopes.iter().map(String::as_str))
        .map_err(|err| bad_request(format!("invalid scope: {err}")))?;
    if asked.len() > MAX_SCOPES {
        return Err(bad_request(format!(
            "too many scopes: at most {MAX_SCOPES} resources per token"
        )));
    }
    let principal = caller.principal().clone();
    let mut granted = ScopeSet::new();
    for scope in &asked {
        let allowed = match scope.resource() {
            // The catalog is filtered per caller; anyone may ask for it.
            Resource::Catalog => ScopeActions::ALL,
            Resource::Repository { name, .. } => {
                let context = accounts
                    .context(&principal, name, PackageLookup::Active)
                    .await?;
                match context.state() {
                    Some(state) => permitted_actions(&principal, &state),
                    None => ScopeActions::NONE,
                }
            }
        };
        if let Some(scope) = scope.intersect(&Scope::new(scope.resource().clone(), allowed)) {
            if !scope.actions().is_empty() {
                granted.insert(scope);
            }
        }
    }
    // A token for someone names the stored token it was minted from, which
    // the registry re-reads on every request made with it.
    let signer = accounts.signer();
    let issued = match &caller {
        Caller::Stored { token, .. } => signer.issue_derived(
            &caller.identity(),
            &token.to_string(),
            &granted,
            accounts.now(),
        ),
        Caller::Anonymous | Caller::Bearer { .. } => {
            signer.issue(&Identity::Anonymous, &granted, accounts.now())
        }
    }
    .map_err(|err| ApiError::internal(&err))?;
    tracing::debug!(
        subject = %caller.identity(),
        asked = %asked,
        granted = %granted,
        "issued a registry token"
    );
    let body = TokenResponse {
        token: &issued.token,
        access_token: &issued.token,
        expires_in: issued.expires_in,
        issued_at: rfc3339(issued.issued_at),
        scope: oauth.then(|| granted.to_string()),
    };
    let bytes = serde_json::to_vec(&body).map_err(|err| ApiError::internal(&err))?;
    Ok(([(CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// 401 with a Basic challenge: the token endpoint wants a username and a
/// token.
fn unauthorized(registry: &Registry, message: impl Into<String>) -> ApiError {
    let realm = registry.accounts().map_or("registry", |a| a.service());
    ApiError::new(ErrorCode::Unauthorized, message.into())
        .with_header(WWW_AUTHENTICATE, basic_challenge(realm))
}

/// A `WWW-Authenticate` Basic challenge for `realm`, whatever text it
/// holds (see [`challenge_header`]).
pub(crate) fn basic_challenge(realm: &str) -> HeaderValue {
    challenge_header(&BasicChallenge::new(realm).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_challenge_survives_any_realm() {
        let table = [
            (
                "registry.example",
                r#"Basic realm="registry.example",charset="UTF-8""#,
            ),
            (
                "régistry.example",
                r#"Basic realm="régistry.example",charset="UTF-8""#,
            ),
            ("a\r\nb\"c", r#"Basic realm="ab\"c",charset="UTF-8""#),
        ];
        for (realm, challenge) in table {
            assert_eq!(
                basic_challenge(realm).as_bytes(),
                challenge.as_bytes(),
                "{realm:?}"
            );
        }
    }
}
