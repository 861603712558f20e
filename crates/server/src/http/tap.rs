//! Response and request bodies that pass their frames on unchanged while
//! something watches them go by: counts their bytes, records when they end,
//! or holds a guard until they are dropped.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// What one poll of a body gave.
pub(crate) type Polled = Poll<Option<Result<Frame<Bytes>, axum::Error>>>;

/// What watches a [`Tapped`] body: each poll's outcome, then the drop.
pub(crate) trait Tap: Send + Unpin + 'static {
    /// Sees what a poll of the body gave, before the caller does.
    fn polled(&mut self, _poll: &Polled) {}

    /// The body is dropped; `ended` is whether it was at its end (a body
    /// hyper knows is empty, as for `HEAD` or 204, is never polled).
    fn dropped(&mut self, _ended: bool) {}
}

/// `inner`, its frames shown to `tap` as they pass.
pub(crate) struct Tapped<T: Tap> {
    inner: Body,
    tap: T,
}

impl<T: Tap> Tapped<T> {
    /// `inner` watched by `tap`.
    pub(crate) fn wrap(inner: Body, tap: T) -> Body {
        Body::new(Tapped { inner, tap })
    }
}

impl<T: Tap> http_body::Body for Tapped<T> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Polled {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        self.tap.polled(&poll);
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<T: Tap> Drop for Tapped<T> {
    fn drop(&mut self) {
        let ended = http_body::Body::is_end_stream(&self.inner);
        self.tap.dropped(ended);
    }
}
