//! [`listen`]: PostgreSQL notifications as a stream, for keeping the
//! caches of several replicas coherent.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::{Stream, StreamExt};
use tokio_postgres::{AsyncMessage, NoTls};

use super::failure;
use crate::error::{Error, Result};

/// One notification: the channel it came on and its payload (for
/// [`NOTIFY_CHANNEL`](super::NOTIFY_CHANNEL), a repository name).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// The channel.
    pub channel: String,
    /// The payload.
    pub payload: String,
}

/// The notifications sent on `channels` of the database at `url`, from
/// the moment this returns, on a connection of their own.
///
/// The stream ends with an error when that connection fails: notifications
/// sent meanwhile are lost, so a listener must then treat everything it
/// cached as stale, and listen again. Dropping the stream closes the
/// connection.
///
/// ```no_run
/// use futures::StreamExt;
/// use wharf_storage::postgres::{listen, NOTIFY_CHANNEL};
///
/// # async fn run() -> wharf_storage::Result<()> {
/// let mut changes = listen("postgres://wharf@db.internal/registry", &[NOTIFY_CHANNEL]).await?;
/// while let Some(change) = changes.next().await {
///     let change = change?;
///     println!("repository {} changed", change.payload);
/// }
/// # Ok(()) }
/// ```
pub async fn listen(url: &str, channels: &[&str]) -> Result<Notifications> {
    let context = "listen for changes";
    let (client, mut connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| failure::database_error(context, e))?;
    let (sender, receiver) = mpsc::unbounded();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            let item = match message {
                Ok(AsyncMessage::Notification(n)) => Ok(Notification {
                    channel: n.channel().to_owned(),
                    payload: n.payload().to_owned(),
                }),
                Ok(_) => continue,
                Err(e) => Err(failure::database_error(context, e)),
            };
            let failed = item.is_err();
            if sender.unbounded_send(item).is_err() || failed {
                return;
            }
        }
        let _ = sender.unbounded_send(Err(Error::Unavailable {
            service: "database",
            context: context.to_owned(),
            source: "the notification connection closed".into(),
        }));
    });
    let listens: String = channels
        .iter()
        .map(|c| format!("LISTEN \"{}\";", c.replace('"', "\"\"")))
        .collect();
    client
        .batch_execute(&listens)
        .await
        .map_err(|e| failure::database_error(context, e))?;
    Ok(Notifications {
        _client: client,
        receiver,
    })
}

/// The stream [`listen`] returns.
pub struct Notifications {
    _client: tokio_postgres::Client,
    receiver: mpsc::UnboundedReceiver<Result<Notification>>,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

impl Stream for Notifications {
    type Item = Result<Notification>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_next_unpin(cx)
    }
}
