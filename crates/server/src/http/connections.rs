//! The open connections of [`serve`](crate::http::serve): which are idle, since
//! when, and how to close one. It bounds how long a connection may stay
//! open without a request in flight (from accept on, so a client that
//! never speaks, or an HTTP/2 client that sends only a preface or a header
//! block it never finishes, is closed too) and how many may be open at
//! once: at the cap, the connection idle the longest is closed to make room
//! for a new client, and a new client is turned away only when every open
//! connection is busy.
//!
//! Activity is counted in requests, not bytes: a connection is busy from the
//! moment a request reaches the router until its response body is finished
//! or dropped. Slow transfers inside a request are bounded elsewhere (the
//! body idle timeout, the write stall guard, the request timeout).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::http::tap::Tap;

/// One connection's state, shared by its task, its requests and the table.
#[derive(Debug)]
pub(crate) struct Connection {
    in_flight: AtomicUsize,
    /// Milliseconds since the table's epoch of the last request start or
    /// end (or the accept).
    last_active_ms: AtomicU64,
    close: Notify,
    epoch: Instant,
}

impl Connection {
    fn new(epoch: Instant) -> Self {
        let connection = Connection {
            in_flight: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(0),
            close: Notify::new(),
            epoch,
        };
        connection.touch();
        connection
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last_active_ms.store(self.now_ms(), Ordering::Release);
    }

    /// How long the connection has had no request in flight; `None` while
    /// one is.
    pub(crate) fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = self.last_active_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(self.now_ms().saturating_sub(last)))
    }

    /// Marks a request in flight until the returned guard is dropped.
    pub(crate) fn begin_request(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.touch();
        RequestGuard(self.clone())
    }

    /// Resolves when the table asks this connection to close.
    pub(crate) async fn closed(&self) {
        self.close.notified().await;
    }

    /// Completes when the connection has been idle for `timeout`: checked
    /// again whenever the last activity moves.
    pub(crate) async fn idle_timeout(&self, timeout: Duration) {
        loop {
            match self.idle_for() {
                Some(idle) if idle >= timeout => return,
                Some(idle) => tokio::time::sleep(timeout - idle).await,
                None => tokio::time::sleep(timeout).await,
            }
        }
    }
}

/// Keeps a request counted as in flight; dropped with its response body.
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<Connection>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body holds its request's guard until it is dropped.
impl Tap for RequestGuard {}

/// What to do with a newly accepted connection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Serve it.
    Admitted,
    /// Serve it; the longest-idle connection was asked to close for it.
    AdmittedClosingIdle,
    /// Every open connection is busy and the cap is reached: close it.
    Refused,
}

/// The open connections.
#[derive(Debug)]
pub(crate) struct Connections {
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    max: usize,
}

impl Connections {
    pub(crate) fn new(max: usize) -> Self {
        Connections {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    /// Decides about a new connection, registering it when admitted. Its
    /// entry leaves the table when the returned [`Registration`] drops.
    pub(crate) fn admit(self: &Arc<Self>) -> (Admission, Option<Registration>) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let mut admission = Admission::Admitted;
        if open.len() >= self.max {
            if !evict_idlest(&mut open) {
                return (Admission::Refused, None);
            }
            admission = Admission::AdmittedClosingIdle;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection::new(self.epoch));
        open.insert(id, connection.clone());
        let registration = Registration {
            table: self.clone(),
            id,
            connection,
        };
        (admission, Some(registration))
    }

    /// Asks the longest-idle connection to close; whether there was one.
    pub(crate) fn close_idlest(&self) -> bool {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        evict_idlest(&mut open)
    }

    /// How many connections are open.
    pub(crate) fn len(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Removes the connection idle the longest from `open` and asks it to
/// close; whether there was an idle one.
fn evict_idlest(open: &mut HashMap<u64, Arc<Connection>>) -> bool {
    let idlest = open
        .iter()
        .filter_map(|(id, c)| c.idle_for().map(|idle| (idle, std::cmp::Reverse(*id))))
        .max();
    // Equally idle: the older connection goes.
    match idlest.and_then(|(_, std::cmp::Reverse(id))| open.remove(&id)) {
        Some(victim) => {
            victim.close.notify_one();
            true
        }
        None => false,
    }
}

/// A connection's place in the table, freed when dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    table: Arc<Connections>,
    id: u64,
    connection: Arc<Connection>,
}

impl Registration {
    pub(crate) fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.table
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// The default connection cap: half the file descriptors the process may
/// open (a connection may hold a socket, an open blob and an upload file),
/// less a reserve for the database, logs and listeners; at least 64.
pub(crate) fn default_max_connections() -> usize {
    const RESERVE: u64 = 64;
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(1 << 20);
    let max = limit.saturating_sub(RESERVE) / 2;
    usize::try_from(max).unwrap_or(usize::MAX).max(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let table = Arc::new(Connections::new(2));
        let (a, first) = table.admit();
        assert_eq!(a, Admission::Admitted);
        std::thread::sleep(Duration::from_millis(5));
        let (_, second) = table.admit();
        let busy = second
            .as_ref()
            .expect("second")
            .connection()
            .begin_request();
        let (c, third) = table.admit();
        assert_eq!(c, Admission::AdmittedClosingIdle, "the first was idle");
        assert_eq!(table.len(), 2);
        drop(first);
        assert_eq!(table.len(), 2, "the closed one already left the table");
        let guard = third.as_ref().expect("third").connection().begin_request();
        let (d, none) = table.admit();
        assert_eq!(d, Admission::Refused, "every connection is busy");
        assert!(none.is_none());
        drop(busy);
        drop(guard);
        let (e, _fourth) = table.admit();
        assert_eq!(e, Admission::AdmittedClosingIdle);
    }

    #[test]
    fn a_connection_is_idle_only_without_a_request_in_flight() {
        let table = Arc::new(Connections::new(8));
        let (_, registration) = table.admit();
        let connection = registration.expect("admitted").connection().clone();
        assert!(connection.idle_for().is_some());
        let guard = connection.begin_request();
        let nested = connection.begin_request();
        assert_eq!(connection.idle_for(), None);
        drop(guard);
        assert_eq!(connection.idle_for(), None);
        drop(nested);
        assert!(connection
            .idle_for()
            .is_some_and(|d| d < Duration::from_secs(1)));
    }

    #[test]
    fn the_default_cap_follows_the_descriptor_limit() {
        assert!(default_max_connections() >= 64);
    }
}
