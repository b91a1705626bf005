//! Syslog over UDP (RFC 5426): one record per datagram.

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use super::{InputCounters, RecordSender, record};
use crate::config::SyslogInput;

/// Kernel receive buffer asked for: bursts from many devices wait here while the log
/// writer syncs. The kernel caps it at `net.core.rmem_max`.
const RECV_BUFFER_BYTES: usize = 8 << 20;
/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// Binds the socket (so a busy port fails at start-up, not later).
pub fn bind(input: &SyslogInput) -> std::io::Result<UdpSocket> {
    let domain = socket2::Domain::for_address(input.listen);
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(RECV_BUFFER_BYTES) {
        tracing::warn!(input = %input.name, error = %e, "could not enlarge the UDP receive buffer");
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&input.listen.into())?;
    UdpSocket::from_std(socket.into())
}

/// Receives datagrams until `shutdown`.
pub async fn serve(
    socket: UdpSocket,
    input: Arc<SyslogInput>,
    tx: RecordSender,
    counters: InputCounters,
    shutdown: CancellationToken,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors and the like end this datagram, never the listener.
                    counters.read_errors.inc();
                    tracing::debug!(input = %input.name, error = %e, "udp receive error");
                    continue;
                }
            },
        };
        let mut data = &buf[..len];
        while let [rest @ .., b'\n' | b'\r' | b'\0'] = data {
            data = rest;
        }
        if data.is_empty() {
            continue;
        }
        let truncated = data.len() > input.max_message_bytes;
        if truncated {
            counters.truncated.inc();
            data = &data[..input.max_message_bytes];
        }
        counters.received.inc();
        let rec = record(&input.name, peer.ip(), data.to_vec(), truncated);
        if tx.send(super::ToWal::Record(rec)).await.is_err() {
            return; // The log writer is gone: the server is stopping.
        }
    }
}
