//! The syslog relay: UDP and TCP listeners so a small site's firewalls and switches can
//! send to the local agent, which spools and forwards what they say. Each sender gets a
//! source of its own, `NAME/IP`, so the server still knows who spoke.
//!
//! UDP cannot be paused: datagrams that arrive while the spool is full are dropped,
//! counted, and reported as a loss event (one per sender per second at most); so are
//! datagrams the kernel dropped because the socket buffer overflowed (`NAME/unknown`). TCP is
//! paused instead: the agent stops reading the connection and the sender waits.
//! Framing (bytes to records) is [`Framer`]; nothing here looks inside a record.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gac_event::wire::loss;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, UdpSocket};

use super::{Seqs, Sink};
use crate::config::RelayConfig;
use crate::metrics::Counter;
use crate::spool::{LineBuf, Resume, SpoolError};

/// Datagrams taken in one go before they are spooled.
const UDP_BURST: usize = 1024;

/// What one relay input's senders share: numbering and the sender table.
#[derive(Debug)]
struct RelayState {
    name: String,
    max_senders: usize,
    senders: HashMap<IpAddr, String>,
    seqs: Seqs,
    /// Dropped records per source not yet reported.
    dropped: HashMap<String, u64>,
    last_loss: Option<Instant>,
}

impl RelayState {
    fn source(&mut self, ip: IpAddr) -> String {
        if let Some(s) = self.senders.get(&ip) {
            return s.clone();
        }
        if self.senders.len() >= self.max_senders {
            return format!("{}/other", self.name);
        }
        let s = format!("{}/{}", self.name, ip);
        self.senders.insert(ip, s.clone());
        s
    }

    /// Spools `lines` of `source`; on a full spool counts them dropped (UDP) and
    /// returns them (TCP waits and retries).
    fn spool(&mut self, sink: &Sink, source: &str, lines: LineBuf) -> Result<(), LineBuf> {
        match sink.append_lines(&mut self.seqs, source, lines, Resume::None) {
            Ok(()) => Ok(()),
            Err((e, lines)) => {
                if !matches!(e, SpoolError::Full) {
                    tracing::error!(error = %e, "spool append failed");
                }
                Err(lines)
            }
        }
    }

    fn report_drops(&mut self, sink: &Sink, now: Instant) {
        if self.dropped.is_empty()
            || self
                .last_loss
                .is_some_and(|t| now - t < Duration::from_secs(1))
        {
            return;
        }
        self.last_loss = Some(now);
        for (source, n) in std::mem::take(&mut self.dropped) {
            sink.metrics.inc(Counter::RelayLoss);
            sink.append_loss(
                &mut self.seqs,
                &source,
                loss::RELAY_OVERFLOW,
                format!("{n} records dropped: the agent's spool was full"),
            );
        }
    }
}

/// A relay input, ready to run.
#[derive(Debug, Clone)]
pub struct Relay {
    cfg: RelayConfig,
    state: Arc<Mutex<RelayState>>,
    sink: Sink,
}

impl Relay {
    /// A relay numbering after the `last` sequence numbers of its sources.
    pub fn new(
        cfg: &RelayConfig,
        last: std::collections::BTreeMap<String, u64>,
        sink: Sink,
    ) -> Self {
        let prefix = format!("{}/", cfg.name);
        let last = last
            .into_iter()
            .filter(|(s, _)| s.starts_with(&prefix))
            .collect();
        Self {
            state: Arc::new(Mutex::new(RelayState {
                name: cfg.name.clone(),
                max_senders: cfg.max_senders,
                senders: HashMap::new(),
                seqs: Seqs::new(last),
                dropped: HashMap::new(),
                last_loss: None,
            })),
            cfg: cfg.clone(),
            sink,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RelayState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves UDP until shutdown.
    pub async fn run_udp(self, socket: UdpSocket, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut buf = vec![0u8; 65_536];
        let mut kernel = KernelDrops::new(&socket);
        let max = self.cfg.max_frame_bytes;
        let mut pending: HashMap<String, LineBuf> = HashMap::new();
        loop {
            let first = tokio::select! {
                _ = stop.changed() => break,
                r = socket.recv_from(&mut buf) => r,
                // Wake now and then so drops are reported even when senders go quiet.
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    self.kernel_drops(&mut kernel);
                    self.state().report_drops(&self.sink, Instant::now());
                    continue;
                }
            };
            let mut next = Some(first);
            let mut taken = 0;
            while let Some(r) = next.take() {
                match r {
                    Ok((n, peer)) => {
                        let source = self.state().source(peer.ip());
                        let rec = trim_record(&buf[..n]);
                        if rec.len() > max {
                            self.sink.metrics.inc(Counter::RelayFramesCut);
                        }
                        pending
                            .entry(source)
                            .or_default()
                            .push(&rec[..rec.len().min(max)]);
                        self.sink.metrics.inc(Counter::RelayReceived);
                        taken += 1;
                    }
                    Err(e) => tracing::warn!(error = %e, "udp receive failed"),
                }
                if taken < UDP_BURST {
                    match socket.try_recv_from(&mut buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        r => next = Some(r),
                    }
                }
            }
            let mut st = self.state();
            for (source, lines) in pending.drain() {
                if let Err(lines) = st.spool(&self.sink, &source, lines) {
                    self.sink
                        .metrics
                        .add(Counter::RelayDroppedSpoolFull, lines.len() as u64);
                    *st.dropped.entry(source).or_default() += lines.len() as u64;
                }
            }
            drop(st);
            self.kernel_drops(&mut kernel);
            self.state().report_drops(&self.sink, Instant::now());
        }
    }

    /// Datagrams the kernel dropped (socket buffer full) since the last look become
    /// pending losses of `NAME/unknown`: the kernel does not say who sent them.
    fn kernel_drops(&self, kernel: &mut Option<KernelDrops>) {
        let Some(k) = kernel.as_mut() else { return };
        let n = k.new_drops();
        if n > 0 {
            self.sink.metrics.add(Counter::RelayKernelDrops, n);
            let source = format!("{}/unknown", self.cfg.name);
            *self.state().dropped.entry(source).or_default() += n;
        }
    }

    /// Serves TCP until shutdown.
    pub async fn run_tcp(self, listener: TcpListener, stop: tokio::sync::watch::Receiver<bool>) {
        let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut stop_accept = stop.clone();
        loop {
            let (stream, peer) = tokio::select! {
                _ = stop_accept.changed() => break,
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            use std::sync::atomic::Ordering;
            if open.load(Ordering::Relaxed) >= self.cfg.max_connections {
                self.sink.metrics.inc(Counter::RelayConnectionsRefused);
                continue;
            }
            open.fetch_add(1, Ordering::Relaxed);
            let (relay, open, stop) = (self.clone(), open.clone(), stop.clone());
            tokio::spawn(async move {
                relay.serve_conn(stream, peer.ip(), stop).await;
                open.fetch_sub(1, Ordering::Relaxed);
            });
        }
    }

    async fn serve_conn(
        &self,
        mut stream: tokio::net::TcpStream,
        ip: IpAddr,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let source = self.state().source(ip);
        let mut framer = Framer::new(self.cfg.max_frame_bytes);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tokio::select! {
                _ = stop.changed() => break,
                r = stream.read(&mut buf) => match r {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                },
            };
            let eof = n == 0;
            framer.push(&buf[..n]);
            let mut lines = LineBuf::default();
            loop {
                match framer.next_frame(eof) {
                    Ok(Some(f)) => {
                        self.sink.metrics.inc(Counter::RelayReceived);
                        lines.push(&f);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.sink.metrics.inc(Counter::RelayFramingErrors);
                        tracing::warn!(%ip, error = %e, "relay framing error; closing the connection");
                        self.spool_waiting(&source, lines).await;
                        return;
                    }
                }
            }
            self.sink
                .metrics
                .add(Counter::RelayFramesCut, framer.take_cuts());
            self.spool_waiting(&source, lines).await;
            if eof {
                break;
            }
        }
    }

    /// Spools, waiting while the spool is full (the sender is not read meanwhile).
    async fn spool_waiting(&self, source: &str, mut lines: LineBuf) {
        let mut counted = false;
        while !lines.is_empty() {
            let r = self.state().spool(&self.sink, source, lines);
            match r {
                Ok(()) => return,
                Err(back) => {
                    if self.sink.stopping() {
                        self.sink
                            .metrics
                            .add(Counter::RelayDroppedSpoolFull, back.len() as u64);
                        return;
                    }
                    if !counted {
                        self.sink.metrics.inc(Counter::SpoolFullPauses);
                        counted = true;
                    }
                    lines = back;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// The kernel's drop counter of one UDP socket, from `/proc/net/udp{,6}` (the socket is
/// found by its inode through `/proc/self/fd`).
#[derive(Debug)]
struct KernelDrops {
    inode: String,
    seen: u64,
}

impl KernelDrops {
    fn new(socket: &UdpSocket) -> Option<Self> {
        use std::os::fd::AsRawFd;
        let link = std::fs::read_link(format!("/proc/self/fd/{}", socket.as_raw_fd())).ok()?;
        let link = link.to_string_lossy();
        let inode = link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned();
        let mut k = Self { inode, seen: 0 };
        k.seen = k.read()?;
        Some(k)
    }

    fn read(&self) -> Option<u64> {
        for table in ["/proc/net/udp", "/proc/net/udp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let cols: Vec<&str> = line.split_whitespace().collect();
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
                if cols.get(9) == Some(&self.inode.as_str()) {
                    return cols.get(12).and_then(|d| d.parse().ok());
                }
            }
        }
        None
    }

    fn new_drops(&mut self) -> u64 {
        match self.read() {
            Some(now) if now > self.seen => {
                let n = now - self.seen;
                self.seen = now;
                n
            }
            _ => 0,
        }
    }
}

/// A record without its trailing newline(s) and NULs (some senders add them).
fn trim_record(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r' | 0) {
        end -= 1;
    }
    &b[..end]
}

/// Why a TCP stream could not be framed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FramingError {
    #[error("octet count {0} is above the limit of 64 MiB")]
    CountTooLarge(u64),
}

/// RFC 6587 framing, decided per frame: digits then a space is an octet count; anything
/// else ends at a newline. Records longer than the limit are cut, the rest skipped.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max: usize,
    /// Bytes still to skip from a cut record (octet-counted), or skipping to a newline.
    skip: Skip,
    cuts: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Skip {
    None,
    Bytes(u64),
    ToNewline,
}

impl Framer {
    /// A framer cutting records at `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max,
            skip: Skip::None,
            cuts: 0,
        }
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Records cut since the last call.
    pub fn take_cuts(&mut self) -> u64 {
        std::mem::take(&mut self.cuts)
    }

    /// The next complete record, if any; at `eof`, a trailing unterminated record too.
    pub fn next_frame(&mut self, eof: bool) -> Result<Option<Vec<u8>>, FramingError> {
        match self.skip {
            Skip::Bytes(n) => {
                let k = (n as usize).min(self.buf.len());
                self.buf.drain(..k);
                if (k as u64) < n {
                    self.skip = Skip::Bytes(n - k as u64);
                    return Ok(None);
                }
                self.skip = Skip::None;
            }
            Skip::ToNewline => match memchr::memchr(b'\n', &self.buf) {
                Some(i) => {
                    self.buf.drain(..=i);
                    self.skip = Skip::None;
                }
                None => {
                    self.buf.clear();
                    return Ok(None);
                }
            },
            Skip::None => {}
        }
        // Blank lines between frames carry nothing.
        let lead = self
            .buf
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r'))
            .count();
        self.buf.drain(..lead);
        if self.buf.is_empty() {
            return Ok(None);
        }
        let digits = self.buf.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && digits <= 10 && self.buf.get(digits) == Some(&b' ') {
            let count: u64 = std::str::from_utf8(&self.buf[..digits])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if count > 64 * 1024 * 1024 {
                return Err(FramingError::CountTooLarge(count));
            }
            let start = digits + 1;
            let keep = (count as usize).min(self.max);
            if self.buf.len() < start + keep {
                return Ok(None);
            }
            let frame = trim_record(&self.buf[start..start + keep]).to_vec();
            self.buf.drain(..start + keep);
            if count as usize > keep {
                self.cuts += 1;
                self.skip = Skip::Bytes(count - keep as u64);
            }
            return Ok(Some(frame));
        }
        match memchr::memchr(b'\n', &self.buf) {
            Some(i) if i <= self.max => {
                let frame = trim_record(&self.buf[..i]).to_vec();
                self.buf.drain(..=i);
                Ok(Some(frame))
            }
            _ if self.buf.len() > self.max => {
                let frame = self.buf[..self.max].to_vec();
                self.buf.drain(..self.max);
                self.cuts += 1;
                self.skip = Skip::ToNewline;
                Ok(Some(frame))
            }
            _ if eof => {
                let frame = trim_record(&self.buf).to_vec();
                self.buf.clear();
                Ok((!frame.is_empty()).then_some(frame))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RelayProtocol, SpoolConfig};
    use crate::metrics::Metrics;
    use crate::spool::{Spool, SpoolPos};
    use std::collections::BTreeMap;
    use std::sync::atomic::AtomicBool;

    fn frames(f: &mut Framer, eof: bool) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(x) = f.next_frame(eof).unwrap() {
            out.push(String::from_utf8(x).unwrap());
        }
        out
    }

    #[test]
    fn newline_and_octet_counted_frames_mix() {
        let mut f = Framer::new(100);
        f.push(b"<13>one\n11 <13>two\nxx\n<13>thr");
        assert_eq!(frames(&mut f, false), vec!["<13>one", "<13>two\nxx"]);
        f.push(b"ee\n\n5 ab");
        assert_eq!(frames(&mut f, false), vec!["<13>three"]);
        f.push(b"cde");
        assert_eq!(frames(&mut f, false), vec!["abcde"]);
        f.push(b"tail");
        assert_eq!(frames(&mut f, true), vec!["tail"]);
    }

    #[test]
    fn long_frames_are_cut_and_the_rest_skipped() {
        let mut f = Framer::new(4);
        f.push(b"abcdefgh\nok\n10 0123456789next\n");
        assert_eq!(frames(&mut f, false), vec!["abcd", "ok", "0123", "next"]);
        assert_eq!(f.take_cuts(), 2);
        let mut f = Framer::new(4);
        f.push(b"999999999 x");
        assert_eq!(
            f.next_frame(false),
            Err(FramingError::CountTooLarge(999_999_999))
        );
    }

    fn sink(dir: &std::path::Path, max: u64) -> (Sink, Arc<Mutex<Spool>>) {
        let metrics = Arc::new(Metrics::default());
        let cfg = SpoolConfig {
            max_bytes: max,
            segment_bytes: 4096,
            fsync_interval_ms: 1000,
        };
        let (spool, _) = Spool::open(
            dir,
            &cfg,
            SpoolPos::default(),
            &BTreeMap::new(),
            metrics.clone(),
        )
        .unwrap();
        let spool = Arc::new(Mutex::new(spool));
        (
            Sink::new(spool.clone(), metrics, Arc::new(AtomicBool::new(false))),
            spool,
        )
    }

    fn drain(spool: &Arc<Mutex<Spool>>) -> Vec<(String, u64, String)> {
        crate::spool::drain_for_tests(spool)
    }

    fn relay_cfg(protocol: RelayProtocol) -> RelayConfig {
        RelayConfig {
            name: "fw".into(),
            protocol,
            listen: "127.0.0.1:0".parse().unwrap(),
            max_frame_bytes: 1000,
            max_connections: 4,
            max_senders: 10,
        }
    }

    #[tokio::test]
    async fn udp_and_tcp_records_are_spooled_per_sender() {
        let dir = tempfile::tempdir().unwrap();
        let (sink, spool) = sink(dir.path(), 1 << 20);
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let udp_addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp_addr = tcp.local_addr().unwrap();
        let u = tokio::spawn(
            Relay::new(
                &relay_cfg(RelayProtocol::Udp),
                BTreeMap::new(),
                sink.clone(),
            )
            .run_udp(udp, stop.clone()),
        );
        let t = tokio::spawn(
            Relay::new(
                &relay_cfg(RelayProtocol::Tcp),
                BTreeMap::new(),
                sink.clone(),
            )
            .run_tcp(tcp, stop),
        );
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"<13>udp one\n", udp_addr).await.unwrap();
        client.send_to(b"<13>udp two", udp_addr).await.unwrap();
        let mut c = tokio::net::TcpStream::connect(tcp_addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut c, b"<13>tcp one\n8 <13>tcp2")
            .await
            .unwrap();
        drop(c);
        let mut got = Vec::new();
        for _ in 0..100 {
            got.extend(drain(&spool));
            if got.len() >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop_tx.send(true).unwrap();
        u.await.unwrap();
        t.await.unwrap();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("fw/127.0.0.1".into(), 1, "<13>tcp one".into()),
                ("fw/127.0.0.1".into(), 1, "<13>udp one".into()),
                ("fw/127.0.0.1".into(), 2, "<13>tcp2".into()),
                ("fw/127.0.0.1".into(), 2, "<13>udp two".into()),
            ]
        );
    }

    #[tokio::test]
    async fn kernel_drops_are_seen() {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut k = KernelDrops::new(&s).expect("the socket is in /proc/net/udp");
        assert_eq!(k.new_drops(), 0);
        // Far more than the socket buffer holds, never read.
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let payload = [b'x'; 1000];
        for _ in 0..5000 {
            let _ = client.send_to(&payload, s.local_addr().unwrap());
        }
        assert!(k.new_drops() > 0);
        assert_eq!(k.new_drops(), 0, "counted once");
    }

    #[tokio::test]
    async fn udp_drops_on_a_full_spool_become_a_loss_event() {
        let dir = tempfile::tempdir().unwrap();
        let (sink, spool) = sink(dir.path(), 8192);
        let relay = Relay::new(
            &relay_cfg(RelayProtocol::Udp),
            BTreeMap::new(),
            sink.clone(),
        );
        {
            let mut st = relay.state();
            let big = vec![b'x'; 1000];
            let mut n = 0;
            loop {
                let mut l = LineBuf::default();
                l.push(&big);
                if st.spool(&sink, "fw/10.0.0.1", l).is_err() {
                    break;
                }
                n += 1;
            }
            assert!(n > 3);
            st.dropped.insert("fw/10.0.0.1".into(), 7);
            st.report_drops(&sink, Instant::now());
        }
        let got = drain(&spool);
        let last = got.last().unwrap();
        assert_eq!(last.2, format!("LOSS:{}", loss::RELAY_OVERFLOW));
        assert_eq!(last.1, got.len() as u64, "the loss takes the next number");
    }
}
