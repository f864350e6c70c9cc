//! A TCP fault proxy on 127.0.0.1 for the fault-injection tests: put it between an agent and
//! the hub (the agent's `hub.address` names the proxy) and it forwards bytes both ways, adding
//! latency, slicing writes into small pieces and cutting connections after a random number of
//! bytes. TLS passes through unchanged: it is a byte pipe, it never parses what it carries.
//!
//! Every choice comes from the seed given at start (see [`crate::seed`]); each connection and
//! each direction draws from its own generator forked from it, so a replay with the same seed
//! draws the same cut points, piece sizes and delays.

use crate::seed::Rng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// The faults applied to every new connection.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Delay before each chunk read from one side is forwarded, uniform in `lo..=hi` ms.
    pub latency_ms: Option<(u64, u64)>,
    /// Cut the connection (both directions) once it has carried a number of bytes drawn
    /// uniformly from `lo..=hi`, counted over both directions together.
    pub cut_after_bytes: Option<(u64, u64)>,
    /// Forward each chunk as pieces of 1 to this many bytes, each its own write.
    pub slice_max: Option<usize>,
}

impl Faults {
    pub fn none() -> Self {
        Self::default()
    }
}

/// What the proxy did, for assertions and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    pub connections: u64,
    /// Connections the proxy cut (not those either side closed).
    pub cuts: u64,
    /// Bytes forwarded towards the upstream (agent → hub) and back.
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Writes made (more than chunks read when slicing).
    pub writes: u64,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    cuts: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    writes: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
    counters: Counters,
}

/// A running proxy; dropping it closes the listener and every connection.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl FaultProxy {
    /// Listens on a fresh loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr, faults: Faults, seed: u64) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(faults),
            rng: Mutex::new(Rng::new(seed)),
            counters: Counters::default(),
        });
        let stop = CancellationToken::new();
        tokio::spawn(accept_loop(listener, shared.clone(), stop.clone()));
        Ok(Self { addr, shared, stop })
    }

    /// The address to give the agent as its hub.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Faults for connections accepted from now on (open ones keep theirs).
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut current) = self.shared.faults.lock() {
            *current = faults;
        }
    }

    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.counters;
        ProxyStats {
            connections: c.connections.load(Ordering::Relaxed),
            cuts: c.cuts.load(Ordering::Relaxed),
            bytes_up: c.bytes_up.load(Ordering::Relaxed),
            bytes_down: c.bytes_down.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((client, _)) = accepted else {
            continue;
        };
        let index = shared.counters.connections.fetch_add(1, Ordering::Relaxed);
        let (faults, rng) = {
            let faults = shared.faults.lock().map(|f| f.clone()).unwrap_or_default();
            let rng = shared.rng.lock().map(|mut r| r.fork(index));
            (faults, rng.unwrap_or_else(|_| Rng::new(index)))
        };
        tokio::spawn(connection(
            client,
            shared.clone(),
            faults,
            rng,
            stop.child_token(),
        ));
    }
}

/// The bytes a connection may still carry before it is cut (`u64::MAX`: never cut), and
/// whether it was cut (both directions can run out at once; the cut counts once).
struct Budget(AtomicU64, std::sync::atomic::AtomicBool);

impl Budget {
    /// True for the first caller only.
    fn first_to_cut(&self) -> bool {
        !self.1.swap(true, Ordering::Relaxed)
    }

    /// Takes up to `n` bytes of the budget; returns how many may be forwarded.
    fn take(&self, n: u64) -> u64 {
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let granted = current.min(n);
            match self.0.compare_exchange(
                current,
                current - granted,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return granted,
                Err(actual) => current = actual,
            }
        }
    }
}

async fn connection(
    client: TcpStream,
    shared: Arc<Shared>,
    faults: Faults,
    mut rng: Rng,
    cut: CancellationToken,
) {
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        // Upstream down: the client sees its connection closed, as with a dead hub behind a
        // load balancer.
        return;
    };
    let budget = Arc::new(Budget(
        AtomicU64::new(
            faults
                .cut_after_bytes
                .map_or(u64::MAX, |(lo, hi)| rng.range(lo, hi)),
        ),
        Default::default(),
    ));
    // Half the cuts reset the connection (RST), the others close it (FIN): peers see both.
    if faults.cut_after_bytes.is_some() && rng.chance(50) {
        let _ = client.set_zero_linger();
        let _ = server.set_zero_linger();
    }
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pump(
        client_read,
        server_write,
        Direction::Up,
        &shared,
        &faults,
        rng.fork(1),
        &budget,
        &cut,
    );
    let down = pump(
        server_read,
        client_write,
        Direction::Down,
        &shared,
        &faults,
        rng.fork(2),
        &budget,
        &cut,
    );
    tokio::join!(up, down);
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

/// Forwards one direction until EOF, an error, or the cut. On the cut both directions stop and
/// both sockets close.
#[allow(clippy::too_many_arguments)]
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    direction: Direction,
    shared: &Shared,
    faults: &Faults,
    mut rng: Rng,
    budget: &Budget,
    cut: &CancellationToken,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            () = cut.cancelled() => return,
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    // Half-close: pass the EOF on and let the other direction finish.
                    let _ = to.shutdown().await;
                    return;
                }
                Ok(n) => n,
            },
        };
        if let Some((lo, hi)) = faults.latency_ms {
            let delay = Duration::from_millis(rng.range(lo, hi));
            tokio::select! {
                () = cut.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
        let allowed = budget.take(n as u64) as usize;
        let mut sent = 0;
        while sent < allowed {
            let piece = faults
                .slice_max
                .map_or(allowed - sent, |max| {
                    rng.range(1, max.max(1) as u64) as usize
                })
                .min(allowed - sent);
            let written = tokio::select! {
                () = cut.cancelled() => return,
                written = to.write_all(&buf[sent..sent + piece]) => written,
            };
            if written.is_err() {
                cut.cancel();
                return;
            }
            shared.counters.writes.fetch_add(1, Ordering::Relaxed);
            sent += piece;
        }
        let counter = match direction {
            Direction::Up => &shared.counters.bytes_up,
            Direction::Down => &shared.counters.bytes_down,
        };
        counter.fetch_add(allowed as u64, Ordering::Relaxed);
        if allowed < n {
            if budget.first_to_cut() {
                shared.counters.cuts.fetch_add(1, Ordering::Relaxed);
            }
            cut.cancel();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = socket.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        Ok(addr)
    }

    #[tokio::test]
    async fn sliced_and_delayed_bytes_arrive_intact_and_in_order() -> anyhow::Result<()> {
        let upstream = echo_server().await?;
        let faults = Faults {
            latency_ms: Some((0, 2)),
            cut_after_bytes: None,
            slice_max: Some(7),
        };
        let proxy = FaultProxy::start(upstream, faults, 42).await?;
        let mut socket = TcpStream::connect(proxy.addr()).await?;
        let sent: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let (mut r, mut w) = socket.split();
        let mut got = vec![0u8; sent.len()];
        let (wrote, read) = tokio::join!(w.write_all(&sent), r.read_exact(&mut got));
        wrote?;
        read?;
        assert_eq!(got, sent);
        let stats = proxy.stats();
        assert_eq!((stats.bytes_up, stats.bytes_down), (20_000, 20_000));
        assert!(stats.writes > 2 * 20_000 / 7, "{stats:?}");
        assert_eq!(stats.cuts, 0);
        Ok(())
    }

    #[tokio::test]
    async fn a_connection_is_cut_after_its_byte_budget_in_both_directions() -> anyhow::Result<()> {
        let upstream = echo_server().await?;
        let faults = Faults {
            cut_after_bytes: Some((1000, 1000)),
            ..Faults::none()
        };
        let proxy = FaultProxy::start(upstream, faults, 1).await?;
        let mut socket = TcpStream::connect(proxy.addr()).await?;
        // 600 bytes up and their 600-byte echo exceed the 1,000-byte budget.
        socket.write_all(&[7u8; 600]).await?;
        let mut got = Vec::new();
        let _ = socket.read_to_end(&mut got).await;
        // A reset may discard some of them in the kernel; never more than the budget arrives.
        assert!(got.len() <= 400, "{} bytes came back", got.len());
        let stats = proxy.stats();
        assert_eq!((stats.cuts, stats.bytes_up + stats.bytes_down), (1, 1000));
        Ok(())
    }
}
