//! Reads and writes under a connection's guard ([`ConnGuard`]): once a timer or the shutdown
//! has closed the connection every read and write fails with its reason, and a read that
//! brought bytes restarts the idle timer. One implementation for every stream a listener
//! serves, plain TCP (`http::GuardedTcp`) and TLS (`tls::PeerStream`).

use super::ConnGuard;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub fn poll_read<S: AsyncRead + Unpin>(
    guard: &mut ConnGuard,
    io: &mut S,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    if let Some(closed) = guard.poll_expired(cx) {
        return Poll::Ready(Err(closed));
    }
    let before = buf.filled().len();
    let polled = Pin::new(io).poll_read(cx, buf);
    if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
        guard.note_read();
    }
    polled
}

pub fn poll_write<S: AsyncWrite + Unpin>(
    guard: &mut ConnGuard,
    io: &mut S,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    if let Some(closed) = guard.poll_expired(cx) {
        return Poll::Ready(Err(closed));
    }
    Pin::new(io).poll_write(cx, buf)
}

pub fn poll_write_vectored<S: AsyncWrite + Unpin>(
    guard: &mut ConnGuard,
    io: &mut S,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    if let Some(closed) = guard.poll_expired(cx) {
        return Poll::Ready(Err(closed));
    }
    Pin::new(io).poll_write_vectored(cx, bufs)
}
