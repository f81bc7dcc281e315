//! Syslog over TCP: one task per connection, framing per RFC 6587.
//!
//! A connection is accepted only from an address a host lists, and every line on it belongs
//! to that host whatever its HOSTNAME says. Lines are handed to the queue after each read;
//! while the queue is full the task waits, reads nothing, and the kernel's window pushes back
//! on the sender.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::Utc;
use opsportal_logparse::framing::{Framer, FramingError};
use opsportal_logparse::syslog;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::Ingest;
use super::event::{EventRow, Origin, Transport};
use super::hosts::HostRef;

const READ_BUFFER: usize = 64 * 1024;

pub async fn serve(ingest: Ingest, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(ingest.config.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "syslog accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            ingest.metrics.rejected("too_many_connections", 1);
            tracing::warn!(%peer, "syslog connection refused: too many connections");
            continue;
        };
        let ingest = ingest.clone();
        tokio::spawn(async move {
            connection(ingest, stream, peer).await;
            drop(slot);
        });
    }
}

async fn connection(ingest: Ingest, mut stream: TcpStream, peer: SocketAddr) {
    let host = match ingest.hosts.by_address(peer.ip()).await {
        Ok(Some(host)) => host,
        Ok(None) => {
            ingest.metrics.rejected("unknown_source", 1);
            tracing::warn!(%peer, "syslog connection from an address no host lists");
            return;
        }
        Err(error) => {
            tracing::warn!(%peer, %error, "cannot look up the sending host; closing");
            return;
        }
    };
    tracing::debug!(%peer, host = %host.name, "syslog connection");
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
        let (rows, broken) = frames(&ingest, &host, &mut framer);
        if !rows.is_empty() {
            ingest
                .metrics
                .queued
                .fetch_add(rows.len() as i64, Ordering::Relaxed);
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
                    transport: Transport::Tcp,
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
