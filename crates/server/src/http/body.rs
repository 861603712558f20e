//! Request bodies: streamed to storage at a minimum pace, or read whole
//! up to a limit (manifests only).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use std::future::Future;

use futures::{Stream, StreamExt};
use http::StatusCode;
use tokio::time::{Instant, Sleep};
use wharf_storage::ChunkStream;

use crate::distribution::error::{ApiError, ErrorCode};
use crate::Limits;

/// How a request body must arrive: no pause longer than `idle`, at least
/// `min_rate` bytes per second over each `window` (0: no minimum), and
/// whole within `deadline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyPace {
    pub(crate) idle: Duration,
    pub(crate) min_rate: u64,
    pub(crate) window: Duration,
    pub(crate) deadline: Duration,
}

impl BodyPace {
    /// The pace the registry's limits ask for.
    pub(crate) fn of(limits: &Limits) -> Self {
        Self {
            idle: limits.body_idle_timeout,
            min_rate: limits.min_body_rate,
            window: limits.min_body_rate_window,
            deadline: limits.body_deadline,
        }
    }

    /// The fewest bytes a window must bring.
    fn window_minimum(&self) -> u64 {
        let bytes = u128::from(self.min_rate) * self.window.as_millis() / 1000;
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }
}

/// A stream that fails with `io::ErrorKind::TimedOut` when its inner stream
/// breaks its [`BodyPace`]: a stalled or trickling client cannot hold an
/// upload slot (and the session's lock) forever. Storage keeps the bytes
/// received before it.
pub(crate) struct Paced<S> {
    inner: S,
    pace: BodyPace,
    idle: Pin<Box<Sleep>>,
    /// The end of the current rate window (none without a minimum rate).
    window: Option<Pin<Box<Sleep>>>,
    window_bytes: u64,
    deadline: Pin<Box<Sleep>>,
    done: bool,
}

impl<S> Paced<S> {
    pub(crate) fn new(inner: S, pace: BodyPace) -> Self {
        let now = Instant::now();
        let window = (pace.min_rate > 0 && !pace.window.is_zero())
            .then(|| Box::pin(tokio::time::sleep_until(now + pace.window)));
        Self {
            inner,
            pace,
            idle: Box::pin(tokio::time::sleep_until(now + pace.idle)),
            window,
            window_bytes: 0,
            deadline: Box::pin(tokio::time::sleep_until(now + pace.deadline)),
            done: false,
        }
    }

    fn fail(&mut self, reason: String) -> Poll<Option<io::Result<Bytes>>> {
        self.done = true;
        Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::TimedOut, reason))))
    }

    /// Whether the window that just ended brought too little (then the
    /// reason); starts the next window otherwise.
    fn window_ended_short(&mut self, cx: &mut Context<'_>) -> Option<String> {
        let window = self.window.as_mut()?;
        if window.as_mut().poll(cx).is_pending() {
            return None;
        }
        let minimum = self.pace.window_minimum();
        if self.window_bytes < minimum {
            return Some(format!(
                "the client sent {} bytes in {} s, less than this registry's minimum of {} bytes/s",
                self.window_bytes,
                self.pace.window.as_secs_f64(),
                self.pace.min_rate
            ));
        }
        self.window_bytes = 0;
        window.as_mut().reset(Instant::now() + self.pace.window);
        // Registers the new deadline's wake-up.
        let _ = window.as_mut().poll(cx);
        None
    }
}

impl<S> Stream for Paced<S>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let reason = format!(
                "the request body took longer than this registry's limit of {} s",
                self.pace.deadline.as_secs_f64()
            );
            return self.fail(reason);
        }
        if let Some(reason) = self.window_ended_short(cx) {
            return self.fail(reason);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(item) => {
                match &item {
                    None => self.done = true,
                    Some(Ok(chunk)) => {
                        self.window_bytes = self.window_bytes.saturating_add(chunk.len() as u64);
                        let next = Instant::now() + self.pace.idle;
                        self.idle.as_mut().reset(next);
                    }
                    Some(Err(_)) => {}
                }
                Poll::Ready(item)
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let reason = format!(
                        "the client sent no data for {} s",
                        self.pace.idle.as_secs_f64()
                    );
                    self.fail(reason)
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// The request body as a stream of chunks for storage, failing when it
/// breaks `pace`.
pub(crate) fn chunk_stream(body: Body, pace: BodyPace) -> ChunkStream {
    let data = body.into_data_stream().map(|r| r.map_err(io::Error::other));
    Paced::new(data, pace).boxed()
}

/// Reads a small body (a manifest) whole, refusing more than `limit` bytes
/// with 413 `SIZE_INVALID` and a body that breaks `pace` with 408.
pub(crate) async fn read_limited(
    body: Body,
    limit: usize,
    pace: BodyPace,
    size_hint: Option<u64>,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorCode::SizeInvalid,
            format!("the manifest is larger than this registry's limit of {limit} bytes"),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        .with_detail(serde_json::json!({ "limit": limit }))
    };
    if size_hint.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let capacity = size_hint.map_or(8 * 1024, |len| len as usize);
    let mut buffer = BytesMut::with_capacity(capacity);
    let mut stream = chunk_stream(body, pace);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| body_failed(&err))?;
        if buffer.len() + chunk.len() > limit {
            return Err(too_large());
        }
        if buffer.is_empty() && chunk.len() == capacity {
            // The common case of one frame: no copy.
            return finish_single(chunk, stream, limit, too_large).await;
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

async fn finish_single(
    first: Bytes,
    mut rest: ChunkStream,
    limit: usize,
    too_large: impl Fn() -> ApiError,
) -> Result<Bytes, ApiError> {
    let Some(next) = rest.next().await else {
        return Ok(first);
    };
    let mut buffer = BytesMut::from(&first[..]);
    let mut next = Some(next);
    while let Some(chunk) = next {
        let chunk = chunk.map_err(|err| body_failed(&err))?;
        if buffer.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buffer.extend_from_slice(&chunk);
        next = rest.next().await;
    }
    Ok(buffer.freeze())
}

/// The error for a request body that failed or stalled before it was
/// complete.
pub(crate) fn body_failed(err: &io::Error) -> ApiError {
    if err.kind() == io::ErrorKind::TimedOut {
        ApiError::new(
            ErrorCode::BlobUploadInvalid,
            format!("request body timed out: {err}"),
        )
        .with_status(StatusCode::REQUEST_TIMEOUT)
    } else {
        ApiError::new(
            ErrorCode::BlobUploadInvalid,
            format!("request body failed: {err}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn pace(idle: Duration) -> BodyPace {
        BodyPace {
            idle,
            min_rate: 0,
            window: Duration::from_secs(30),
            deadline: Duration::from_secs(3600),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_stream_times_out_after_yielding_what_it_had() {
        let chunks = stream::iter([Ok(Bytes::from_static(b"abc"))]).chain(stream::pending());
        let mut stream = Paced::new(Box::pin(chunks), pace(Duration::from_secs(5)));
        assert_eq!(
            stream.next().await.expect("item").expect("ok"),
            Bytes::from_static(b"abc")
        );
        let err = stream.next().await.expect("item").expect_err("timeout");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_finished_stream_ends_without_timing_out() {
        let chunks = stream::iter([Ok(Bytes::from_static(b"a")), Ok(Bytes::from_static(b"b"))]);
        let stream = Paced::new(chunks, pace(Duration::from_millis(1)));
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 2);
    }

    /// One byte every `every`, forever.
    fn trickle(every: Duration) -> impl Stream<Item = io::Result<Bytes>> + Unpin {
        Box::pin(stream::unfold((), move |()| async move {
            tokio::time::sleep(every).await;
            Some((Ok(Bytes::from_static(b"x")), ()))
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_below_the_minimum_rate_is_cut_after_the_window() {
        let pace = BodyPace {
            min_rate: 10,
            ..pace(Duration::from_secs(5))
        };
        let started = Instant::now();
        let mut stream = Paced::new(trickle(Duration::from_secs(1)), pace);
        let mut received = 0;
        let err = loop {
            match stream.next().await.expect("an item") {
                Ok(chunk) => received += chunk.len(),
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("minimum of 10 bytes/s"), "{err}");
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        assert!((28..30).contains(&received), "{received}");
        assert!(stream.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_fast_enough_is_cut_only_at_the_deadline() {
        let pace = BodyPace {
            min_rate: 1,
            deadline: Duration::from_secs(95),
            ..pace(Duration::from_secs(5))
        };
        let started = Instant::now();
        let mut stream = Paced::new(trickle(Duration::from_millis(500)), pace);
        let err = loop {
            if let Err(err) = stream.next().await.expect("an item") {
                break err;
            }
        };
        assert!(err.to_string().contains("longer than"), "{err}");
        assert_eq!(started.elapsed(), Duration::from_secs(95));
    }

    #[tokio::test]
    async fn limited_reads_accept_up_to_the_limit_and_refuse_beyond_with_413() {
        let pace = pace(Duration::from_secs(5));
        // (body chunks, Content-Length, the bytes read or the status refusing them)
        type Row = (Vec<&'static [u8]>, Option<u64>, Result<&'static [u8], u16>);
        let table: [Row; 5] = [
            (vec![b"0123456789"], Some(10), Ok(b"0123456789")),
            (vec![b"01234", b"56789"], None, Ok(b"0123456789")),
            (vec![b"0123456789", b"x"], Some(10), Err(413)),
            (vec![b"0123456789x"], None, Err(413)),
            (vec![b"0"], Some(11), Err(413)),
        ];
        for (chunks, hint, expected) in table {
            let body = Body::from_stream(stream::iter(
                chunks
                    .into_iter()
                    .map(|c| Ok::<_, io::Error>(Bytes::from_static(c))),
            ));
            let got = read_limited(body, 10, pace, hint).await;
            match (got, expected) {
                (Ok(bytes), Ok(want)) => assert_eq!(&bytes[..], want),
                (Err(err), Err(status)) => {
                    assert_eq!(err.status().as_u16(), status);
                    assert_eq!(err.code(), ErrorCode::SizeInvalid);
                }
                (got, want) => panic!("got {got:?}, want {want:?}"),
            }
        }
    }
}
