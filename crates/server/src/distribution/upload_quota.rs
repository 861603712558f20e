//! Per-client shares of the upload capacity: the slots that stream upload
//! data at once ([`UploadSlots`]) and the open upload sessions
//! ([`UploadSessions`]), so that one client cannot take them all.
//!
//! A client is the principal the authorizer names (a user or a workflow
//! under accounts), else the client's IP address (see [`client_key`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ConnectInfo;
use http::header::{HeaderValue, RETRY_AFTER};
use http::request::Parts;
use tokio::sync::OnceCell;
use wharf_reference::RepositoryName;
use wharf_storage::{PageRequest, Storage, UploadId};

use crate::distribution::auth::Authorizer;
use crate::distribution::error::{ApiError, ErrorCode};

/// The key requests of one client share: `principal:<subject>` when the
/// authorizer names one, else `ip:<address>` (`ip:unknown` when the server
/// did not record the peer address).
pub(crate) async fn client_key(authorizer: &dyn Authorizer, parts: &Parts) -> String {
    if let Some(principal) = authorizer.principal(parts).await {
        return format!("principal:{principal}");
    }
    match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(peer)) => format!("ip:{}", peer.ip()),
        None => "ip:unknown".to_owned(),
    }
}

/// 429 `TOOMANYREQUESTS` with `Retry-After`.
fn too_many(message: String, retry_after: &'static str) -> ApiError {
    ApiError::new(ErrorCode::TooManyRequests, message)
        .with_header(RETRY_AFTER, HeaderValue::from_static(retry_after))
}

/// Counts per client and in all, under caps.
#[derive(Debug, Default)]
struct Tally {
    per_client: HashMap<String, usize>,
    total: usize,
}

impl Tally {
    fn add(&mut self, key: &str) {
        *self.per_client.entry(key.to_owned()).or_default() += 1;
        self.total += 1;
    }

    fn remove(&mut self, key: &str) {
        if let Some(count) = self.per_client.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                self.per_client.remove(key);
            }
            self.total -= 1;
        }
    }

    fn of(&self, key: &str) -> usize {
        self.per_client.get(key).copied().unwrap_or(0)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The slots for streaming upload data: at most `max` in all, and at most
/// `per_client` for one client.
#[derive(Debug)]
pub(crate) struct UploadSlots {
    max: usize,
    per_client: usize,
    tally: Arc<Mutex<Tally>>,
}

/// A held upload slot, given back when dropped.
#[derive(Debug)]
pub(crate) struct SlotPermit {
    tally: Arc<Mutex<Tally>>,
    key: String,
}

impl Drop for SlotPermit {
    fn drop(&mut self) {
        lock(&self.tally).remove(&self.key);
    }
}

impl UploadSlots {
    /// `max` slots (at least one), of which one client may hold
    /// `share_percent` percent (at least one).
    pub(crate) fn new(max: usize, share_percent: u8) -> Self {
        let max = max.max(1);
        let per_client = (max * usize::from(share_percent.min(100)) / 100).max(1);
        Self {
            max,
            per_client,
            tally: Arc::default(),
        }
    }

    /// A slot for `key`, or 429 when every slot is taken or the client
    /// holds its share.
    pub(crate) fn acquire(&self, key: &str) -> Result<SlotPermit, ApiError> {
        let mut tally = lock(&self.tally);
        if tally.of(key) >= self.per_client {
            return Err(too_many(
                format!(
                    "you already have {} uploads streaming, your share of this registry's {}; retry when one ends",
                    self.per_client, self.max
                ),
                "1",
            ));
        }
        if tally.total >= self.max {
            return Err(too_many(
                "too many uploads in progress; retry shortly".to_owned(),
                "1",
            ));
        }
        tally.add(key);
        Ok(SlotPermit {
            tally: Arc::clone(&self.tally),
            key: key.to_owned(),
        })
    }
}

/// What the session count knows of one open session.
#[derive(Debug)]
struct Owned {
    repository: RepositoryName,
    owner: String,
}

#[derive(Debug, Default)]
struct Sessions {
    tally: Tally,
    owners: HashMap<UploadId, Owned>,
}

/// The open upload sessions, per client and in all, under caps. Loaded
/// from storage on first use, so that sessions opened before a restart
/// still count.
#[derive(Debug)]
pub(crate) struct UploadSessions {
    max: usize,
    per_client: usize,
    loaded: OnceCell<()>,
    state: Arc<Mutex<Sessions>>,
}

/// The owner key of sessions stored without one (by an earlier version):
/// they count in the total only.
const UNKNOWN_OWNER: &str = "unknown";

/// A place for a new session, held while storage starts it; given back
/// when dropped unless [`committed`](SessionReservation::commit).
#[derive(Debug)]
pub(crate) struct SessionReservation {
    state: Arc<Mutex<Sessions>>,
    key: Option<String>,
}

impl SessionReservation {
    /// Records the started session `id` under the reservation's client.
    pub(crate) fn commit(mut self, id: UploadId, repository: RepositoryName) {
        if let Some(owner) = self.key.take() {
            lock(&self.state)
                .owners
                .insert(id, Owned { repository, owner });
        }
    }
}

impl Drop for SessionReservation {
    fn drop(&mut self) {
        if let Some(key) = &self.key {
            lock(&self.state).tally.remove(key);
        }
    }
}

impl UploadSessions {
    /// At most `max` open sessions in all and `per_client` for one client.
    pub(crate) fn new(max: usize, per_client: usize) -> Self {
        Self {
            max: max.max(1),
            per_client: per_client.max(1),
            loaded: OnceCell::new(),
            state: Arc::default(),
        }
    }

    /// Counts the sessions storage holds, once.
    async fn load(&self, storage: &dyn Storage) -> Result<(), ApiError> {
        self.loaded
            .get_or_try_init(|| async {
                let mut next = Some(PageRequest::first(1000));
                while let Some(request) = next {
                    let page = storage.upload_sessions(&request).await?;
                    next = page.next_request(&request, |session| session.id.as_str());
                    let mut state = lock(&self.state);
                    for session in page.items {
                        let owner = session.owner.unwrap_or_else(|| UNKNOWN_OWNER.to_owned());
                        if state.owners.contains_key(&session.id) {
                            continue;
                        }
                        state.tally.add(&owner);
                        let repository = session.repository;
                        state.owners.insert(session.id, Owned { repository, owner });
                    }
                }
                Ok::<_, ApiError>(())
            })
            .await
            .copied()
    }

    /// A place for a new session of `key`, or 429 when the client has its
    /// cap of open sessions or the registry has its total.
    pub(crate) async fn reserve(
        &self,
        storage: &dyn Storage,
        key: &str,
    ) -> Result<SessionReservation, ApiError> {
        self.load(storage).await?;
        let mut state = lock(&self.state);
        if state.tally.of(key) >= self.per_client {
            return Err(too_many(
                format!(
                    "you have {} open upload sessions, this registry's limit per client; finish or cancel one (DELETE its Location) first",
                    self.per_client
                ),
                "60",
            ));
        }
        if state.tally.total >= self.max {
            return Err(too_many(
                format!(
                    "this registry has {} open upload sessions, its limit; retry later",
                    self.max
                ),
                "60",
            ));
        }
        state.tally.add(key);
        Ok(SessionReservation {
            state: Arc::clone(&self.state),
            key: Some(key.to_owned()),
        })
    }

    /// Forgets the session `id` of `repository` that ended (finished,
    /// cancelled, failed its digest, or found gone). A session is only
    /// found through its own repository, so a request naming another
    /// repository frees nothing.
    pub(crate) fn release(&self, repository: &RepositoryName, id: &UploadId) {
        let mut state = lock(&self.state);
        if state
            .owners
            .get(id)
            .is_some_and(|owned| owned.repository == *repository)
        {
            if let Some(owned) = state.owners.remove(id) {
                state.tally.remove(&owned.owner);
            }
        }
    }

    /// Forgets the counted sessions storage no longer has (purged as
    /// expired, or removed with their package), returning how many.
    pub(crate) async fn reconcile(&self, storage: &dyn Storage) -> Result<usize, ApiError> {
        let counted: Vec<(UploadId, RepositoryName)> = lock(&self.state)
            .owners
            .iter()
            .map(|(id, owned)| (*id, owned.repository.clone()))
            .collect();
        let mut gone = 0;
        for (id, repository) in counted {
            match storage.upload_status(&repository, &id).await {
                Err(wharf_storage::Error::UploadNotFound { .. }) => {
                    self.release(&repository, &id);
                    gone += 1;
                }
                Err(err) => return Err(err.into()),
                Ok(_) => {}
            }
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_holds_at_most_its_share_of_the_slots() {
        let slots = UploadSlots::new(4, 50);
        let a1 = slots.acquire("a").expect("first");
        let _a2 = slots.acquire("a").expect("second");
        assert!(slots.acquire("a").is_err(), "beyond the share");
        let _b1 = slots.acquire("b").expect("another client");
        let _b2 = slots.acquire("b").expect("another client");
        assert!(slots.acquire("c").is_err(), "every slot taken");
        drop(a1);
        let _c = slots.acquire("c").expect("a slot freed");
    }

    #[test]
    fn a_share_never_rounds_down_to_nothing() {
        let slots = UploadSlots::new(1, 10);
        let permit = slots.acquire("a").expect("one slot");
        assert!(slots.acquire("b").is_err());
        drop(permit);
        slots.acquire("b").expect("freed");
    }
}
