//! Request bodies: streamed to storage with an idle timeout, or read whole
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

use crate::error::{ApiError, ErrorCode};

/// A stream that fails with `io::ErrorKind::TimedOut` when its inner stream
/// yields nothing for `idle`: a stalled client cannot hold an upload (and the
/// session's lock) forever. Storage keeps the bytes received before it.
pub(crate) struct IdleTimeout<S> {
    inner: S,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    done: bool,
}

impl<S> IdleTimeout<S> {
    pub(crate) fn new(inner: S, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            done: false,
        }
    }
}

impl<S> Stream for IdleTimeout<S>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(item) => {
                if item.is_none() {
                    self.done = true;
                } else {
                    let next = Instant::now() + self.idle;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(item)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the client sent no data for {} s", self.idle.as_secs_f64()),
                    ))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// The request body as a stream of chunks for storage, failing when idle.
pub(crate) fn chunk_stream(body: Body, idle: Duration) -> ChunkStream {
    let data = body.into_data_stream().map(|r| r.map_err(io::Error::other));
    IdleTimeout::new(data, idle).boxed()
}

/// Reads a small body (a manifest) whole, refusing more than `limit` bytes
/// with 413 `SIZE_INVALID` and a body that stalls for `idle`.
pub(crate) async fn read_limited(
    body: Body,
    limit: usize,
    idle: Duration,
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
    let mut stream = chunk_stream(body, idle);
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

    #[tokio::test(start_paused = true)]
    async fn a_stalled_stream_times_out_after_yielding_what_it_had() {
        let chunks = stream::iter([Ok(Bytes::from_static(b"abc"))]).chain(stream::pending());
        let mut stream = IdleTimeout::new(Box::pin(chunks), Duration::from_secs(5));
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
        let stream = IdleTimeout::new(chunks, Duration::from_millis(1));
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 2);
    }

    #[tokio::test]
    async fn limited_reads_accept_up_to_the_limit_and_refuse_beyond_with_413() {
        let idle = Duration::from_secs(5);
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
            let got = read_limited(body, 10, idle, hint).await;
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
