//! Syslog over TCP and TLS: one task per connection, framing per RFC 6587.
//!
//! A connection is accepted only from a sender the registry knows (by source address, or by
//! client certificate over TLS), and every line on it belongs to that host whatever its
//! HOSTNAME says. Lines are handed to the queue after each read; while the queue is full the
//! task waits, reads nothing, and the kernel's window pushes back on the sender.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use opsportal_logparse::framing::{Framer, FramingError};
use opsportal_logparse::syslog;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use super::Ingest;
use super::event::{EventRow, Origin, Transport};
use super::hosts::HostRef;

const READ_BUFFER: usize = 64 * 1024;
/// Longest a TLS sender may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves syslog over plain TCP; with `tls`, over TLS.
pub async fn serve(ingest: Ingest, listener: TcpListener, tls: Option<TlsAcceptor>) {
    let slots = Arc::new(Semaphore::new(ingest.config.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "syslog accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            ingest.metrics.rejected("too_many_connections", 1);
            tracing::warn!(%peer, "syslog connection refused: too many connections");
            continue;
        };
        let ingest = ingest.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => plain(ingest, stream, peer).await,
                Some(tls) => secured(ingest, stream, peer, tls).await,
            }
            drop(slot);
        });
    }
}

async fn plain(ingest: Ingest, stream: TcpStream, peer: SocketAddr) {
    if let Some(host) = host_by_address(&ingest, peer).await {
        connection(ingest, stream, peer, host, Transport::Tcp).await;
    }
}

async fn secured(ingest: Ingest, stream: TcpStream, peer: SocketAddr, tls: TlsAcceptor) {
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            ingest.metrics.rejected("tls_handshake", 1);
            tracing::warn!(%peer, %error, "syslog TLS handshake failed");
            return;
        }
        Err(_) => {
            ingest.metrics.rejected("tls_handshake", 1);
            tracing::warn!(%peer, "syslog TLS handshake timed out");
            return;
        }
    };
    let host = if ingest.config.tls_client_ca_file.is_some() {
        host_by_certificate(&ingest, &stream, peer).await
    } else {
        host_by_address(&ingest, peer).await
    };
    if let Some(host) = host {
        connection(ingest, stream, peer, host, Transport::Tls).await;
    }
}

async fn host_by_address(ingest: &Ingest, peer: SocketAddr) -> Option<HostRef> {
    match ingest.hosts.by_address(peer.ip()).await {
        Ok(Some(host)) => Some(host),
        Ok(None) => {
            ingest.metrics.rejected("unknown_source", 1);
            tracing::warn!(%peer, "syslog connection from an address no host lists");
            None
        }
        Err(error) => {
            tracing::warn!(%peer, %error, "cannot look up the sending host; closing");
            None
        }
    }
}

async fn host_by_certificate(
    ingest: &Ingest,
    stream: &tokio_rustls::server::TlsStream<TcpStream>,
    peer: SocketAddr,
) -> Option<HostRef> {
    let certificate = stream.get_ref().1.peer_certificates()?.first()?.clone();
    let hosts = match ingest.hosts.all().await {
        Ok(hosts) => hosts,
        Err(error) => {
            tracing::warn!(%peer, %error, "cannot look up the sending host; closing");
            return None;
        }
    };
    let host = super::tls::host_of_certificate(&certificate, &hosts);
    if host.is_none() {
        ingest.metrics.rejected("unknown_certificate", 1);
        tracing::warn!(%peer, "syslog client certificate names no registered host");
    }
    host
}

async fn connection<S: AsyncRead + Unpin>(
    ingest: Ingest,
    mut stream: S,
    peer: SocketAddr,
    host: HostRef,
    transport: Transport,
) {
    tracing::debug!(%peer, host = %host.name, transport = transport.as_str(), "syslog connection");
    let mut framer = Framer::new(ingest.config.max_line_bytes);
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        let read = tokio::select! {
            read = stream.read(&mut buffer) => read,
            () = ingest.stopping() => break,
        };
        let read = match read {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) => {
                tracing::debug!(%peer, %error, "syslog connection ended");
                break;
            }
        };
        framer.push(&buffer[..read]);
        let (rows, broken) = frames(&ingest, &host, transport, &mut framer);
        if !rows.is_empty() {
            ingest.queue.push(rows).await;
        }
        if let Some(error) = broken {
            ingest.metrics.rejected(
                match error {
                    FramingError::TooLong { .. } => "framing_too_long",
                    FramingError::BadCount => "framing_bad_count",
                },
                1,
            );
            tracing::warn!(%peer, ?error, "syslog stream cannot be framed; closing");
            return;
        }
    }
    let short = framer.finish();
    if short > 0 {
        ingest.metrics.short_frames.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%peer, bytes = short, "syslog connection closed inside a message");
    }
}

/// The complete messages in the framer, and the framing error that ends the stream, if any.
fn frames(
    ingest: &Ingest,
    host: &HostRef,
    transport: Transport,
    framer: &mut Framer,
) -> (Vec<EventRow>, Option<FramingError>) {
    let mut rows = Vec::new();
    let zone = ingest.rfc3164_zone();
    while let Some(frame) = framer.next_frame() {
        match frame {
            Ok(frame) => {
                let received_at = Utc::now();
                let origin = Origin {
                    host,
                    transport,
                    received_at,
                    truncated: frame.truncated,
                    skew_limit_secs: ingest.config.clock_skew_secs,
                };
                let parsed = syslog::parse(&frame.bytes, received_at, zone);
                let raw = String::from_utf8_lossy(&frame.bytes)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
                rows.push(EventRow::from_syslog(&origin, parsed, raw));
            }
            Err(error) => return (rows, Some(error)),
        }
    }
    (rows, None)
}
