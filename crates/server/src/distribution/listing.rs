//! Lists: tags of a repository, the catalog of repositories, and the
//! referrers of a manifest.

use std::borrow::Cow;

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, LINK};
use http::request::Parts;
use serde::Serialize;
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::{Page, PageRequest, Referrer};

use crate::distribution::auth::{Access, Repo};
use crate::distribution::error::{ApiError, ErrorCode};
use crate::http::headers::{self, OCI_FILTERS_APPLIED};
use crate::Registry;

/// The media type of the referrers response.
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The value of the first `key` parameter in the request's query string.
pub(crate) fn query_param<'a>(parts: &'a Parts, key: &str) -> Option<Cow<'a, str>> {
    let query = parts.uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// `n` and `last` from the query, with `n` capped at the registry's limit.
fn page_request(registry: &Registry, parts: &Parts) -> Result<PageRequest, ApiError> {
    let n = match query_param(parts, "n") {
        None => None,
        Some(n) if n.is_empty() => None,
        Some(n) => Some(n.parse::<usize>().map_err(|_| {
            ApiError::new(
                ErrorCode::Unsupported,
                "the n query parameter must be a non-negative integer",
            )
            .with_status(http::StatusCode::BAD_REQUEST)
            .with_detail(serde_json::json!({ "n": n }))
        })?),
    };
    let n = n.map(|n| n.min(registry.limits().max_page_size));
    let last = query_param(parts, "last")
        .filter(|l| !l.is_empty())
        .map(Cow::into_owned);
    Ok(PageRequest { n, last })
}

/// `Link: </v2/...?n=N&last=X>; rel="next"` for the page after `last`.
fn next_link(base: &str, request: &PageRequest, last: &str) -> Result<http::HeaderValue, ApiError> {
    let last: String = url::form_urlencoded::byte_serialize(last.as_bytes()).collect();
    match request.n {
        Some(n) => headers::value(format!("<{base}?n={n}&last={last}>; rel=\"next\"")),
        None => headers::value(format!("<{base}?last={last}>; rel=\"next\"")),
    }
}

#[derive(Serialize)]
struct TagList<'a> {
    name: &'a str,
    tags: Vec<&'a str>,
}

/// `GET /v2/<name>/tags/list?n=&last=`
pub(crate) async fn tags(repo: Repo<'_>) -> Result<Response, ApiError> {
    let request = page_request(repo.registry, repo.parts)?;
    let page = repo
        .registry
        .storage()
        .list_tags(&repo.name, &request)
        .await?;
    let body = serde_json::to_vec(&TagList {
        name: repo.name.as_str(),
        tags: page.items.iter().map(|t| t.as_str()).collect(),
    })
    .map_err(|err| ApiError::internal(&err))?;
    let mut response = ([(CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(last) = &page.next_last {
        let base = format!("/v2/{}/tags/list", repo.name);
        response
            .headers_mut()
            .insert(LINK, next_link(&base, &request, last.as_str())?);
    }
    Ok(response)
}

#[derive(Serialize)]
struct Catalog<'a> {
    repositories: Vec<&'a str>,
}

/// `GET /v2/_catalog?n=&last=`: the repositories the caller may see, paged
/// over those alone (see [`visible_page`]).
pub(crate) async fn catalog(registry: &Registry, parts: &Parts) -> Result<Response, ApiError> {
    registry.authorize(parts, Access::Catalog).await?;
    let request = page_request(registry, parts)?;
    let page = visible_page(registry, parts, &request).await?;
    let body = serde_json::to_vec(&Catalog {
        repositories: page.items.iter().map(|r| r.as_str()).collect(),
    })
    .map_err(|err| ApiError::internal(&err))?;
    let mut response = ([(CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(last) = &page.next_last {
        response
            .headers_mut()
            .insert(LINK, next_link("/v2/_catalog", &request, last.as_str())?);
    }
    Ok(response)
}

/// How many names the catalog reads from storage at a time, at least:
/// enough that a caller who sees few of many repositories does not cost a
/// storage listing per name.
const CATALOG_BATCH: usize = 100;

/// The page `request` asks for of the repositories the caller may see.
///
/// Visibility is applied inside the paging, never after it: storage is
/// read in batches after `last`, each batch filtered by the authorizer,
/// until `n` visible names and one more are found or the listing ends. So
/// a page holds up to `n` names the caller may see, a `Link` is sent only
/// when another such name follows, and its `last` is the last name of the
/// page: neither a page nor its `Link` ever names a hidden repository,
/// whatever `last` the caller sends.
async fn visible_page(
    registry: &Registry,
    parts: &Parts,
    request: &PageRequest,
) -> Result<Page<RepositoryName>, ApiError> {
    let authorizer = &registry.inner().authorizer;
    let Some(n) = request.n else {
        let all = registry.storage().list_repositories(request).await?;
        let items = authorizer.visible_repositories(parts, all.items).await?;
        return Ok(Page {
            items,
            next_last: None,
        });
    };
    if n == 0 {
        return Ok(Page::empty());
    }
    let mut batch = PageRequest {
        n: Some(n.saturating_add(1).max(CATALOG_BATCH)),
        last: request.last.clone(),
    };
    let mut visible = Vec::new();
    loop {
        let page = registry.storage().list_repositories(&batch).await?;
        visible.extend(authorizer.visible_repositories(parts, page.items).await?);
        match page.next_last {
            Some(last) if visible.len() <= n => batch.last = Some(last.as_str().to_owned()),
            _ => break,
        }
    }
    let next_last = if visible.len() > n {
        visible.truncate(n);
        visible.last().cloned()
    } else {
        None
    };
    Ok(Page {
        items: visible,
        next_last,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReferrersIndex<'a> {
    schema_version: u32,
    media_type: &'static str,
    manifests: &'a [Referrer],
}

/// `GET /v2/<name>/referrers/<digest>?artifactType=&n=&last=`: an image
/// index of the manifests whose subject is `digest`; empty, never 404, when
/// there are none.
///
/// The index is paged as the distribution spec allows: at most `n` (by
/// default, and at most, the registry's page size) referrers in digest
/// order after `last`, with a `Link: <...>; rel="next"` header when more
/// follow. A client that does not follow links sees the first page, so a
/// response stays bounded however many referrers a subject has.
pub(crate) async fn referrers(repo: Repo<'_>, subject: Digest) -> Result<Response, ApiError> {
    let filter = query_param(repo.parts, "artifactType").filter(|t| !t.is_empty());
    let mut request = page_request(repo.registry, repo.parts)?;
    request.n = Some(request.n.unwrap_or(repo.registry.limits().max_page_size));
    let page = match repo
        .registry
        .storage()
        .list_referrers(&repo.name, &subject, filter.as_deref(), &request)
        .await
    {
        Ok(page) => page,
        // An unknown repository has no referrers; the API never 404s here.
        Err(wharf_storage::Error::RepositoryNotFound(_)) => Page::empty(),
        Err(err) => return Err(err.into()),
    };
    let body = serde_json::to_vec(&ReferrersIndex {
        schema_version: 2,
        media_type: OCI_INDEX,
        manifests: &page.items,
    })
    .map_err(|err| ApiError::internal(&err))?;
    let mut response = ([(CONTENT_TYPE, OCI_INDEX)], body).into_response();
    if let Some(last) = &page.next_last {
        let base = format!("/v2/{}/referrers/{subject}", repo.name);
        let last: String =
            url::form_urlencoded::byte_serialize(last.digest.as_str().as_bytes()).collect();
        let n = request.n.unwrap_or(repo.registry.limits().max_page_size);
        let mut link = format!("<{base}?n={n}&last={last}");
        if let Some(filter) = &filter {
            // The next page keeps the filter.
            let filter: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
            link.push_str(&format!("&artifactType={filter}"));
        }
        link.push_str(">; rel=\"next\"");
        response.headers_mut().insert(LINK, headers::value(link)?);
    }
    if filter.is_some() {
        response.headers_mut().insert(
            OCI_FILTERS_APPLIED,
            http::HeaderValue::from_static("artifactType"),
        );
    }
    Ok(response)
}
