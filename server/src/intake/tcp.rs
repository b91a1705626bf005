//! Syslog over TCP: newline or octet-counted frames (RFC 6587), a connection limit, and
//! errors that end only their own connection.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::framing::SyslogFraming;
use super::{InputCounters, RecordSender, record};
use crate::config::SyslogInput;

/// Binds the listener (so a busy port fails at start-up, not later).
pub async fn bind(input: &SyslogInput) -> std::io::Result<TcpListener> {
    TcpListener::bind(input.listen).await
}

/// Accepts connections until `shutdown`; each is served on its own task.
pub async fn serve(
    listener: TcpListener,
    input: Arc<SyslogInput>,
    tx: RecordSender,
    counters: InputCounters,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(input.max_connections));
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(r) => r,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep listening.
                    counters.read_errors.inc();
                    tracing::warn!(input = %input.name, error = %e, "tcp accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            counters.connections_refused.inc();
            tracing::warn!(input = %input.name, %peer, limit = input.max_connections,
                "connection refused: too many open");
            drop(stream);
            continue;
        };
        counters.connections.inc();
        let (input, tx, counters, shutdown) = (
            input.clone(),
            tx.clone(),
            counters.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            connection(stream, peer.ip(), &input, &tx, &counters, &shutdown).await;
            drop(permit);
        });
    }
}

async fn connection(
    stream: TcpStream,
    peer: std::net::IpAddr,
    input: &SyslogInput,
    tx: &RecordSender,
    counters: &InputCounters,
    shutdown: &CancellationToken,
) {
    let mut frames = FramedRead::new(stream, SyslogFraming::new(input.max_message_bytes));
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = frames.next() => next,
        };
        match next {
            None => return,
            Some(Ok(frame)) => {
                if frame.truncated {
                    counters.truncated.inc();
                }
                counters.received.inc();
                let rec = record(&input.name, peer, frame.data, frame.truncated);
                if tx.send(super::ToWal::Record(rec)).await.is_err() {
                    return;
                }
            }
            Some(Err(e)) => {
                match e {
                    super::framing::FramingError::Io(_) => counters.read_errors.inc(),
                    super::framing::FramingError::CountTooLarge(_) => counters.framing_errors.inc(),
                }
                tracing::warn!(input = %input.name, %peer, error = %e, "closing syslog connection");
                return;
            }
        }
    }
}
