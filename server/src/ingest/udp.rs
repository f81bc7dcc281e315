//! Syslog over UDP, for senders that can do nothing else. Off unless configured.
//!
//! A datagram is one message. It is kept only when its source address is one a host lists,
//! and dropped (and counted) when the queue is full: UDP has no way to slow a sender down.

use chrono::Utc;
use opsportal_logparse::syslog;
use tokio::net::UdpSocket;

use super::Ingest;
use super::event::{EventRow, Origin, Transport};

pub async fn serve(ingest: Ingest, socket: UdpSocket) {
    let mut buffer = vec![0u8; 65_536];
    loop {
        let (len, peer) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(error) => {
                tracing::warn!(%error, "syslog UDP receive failed");
                continue;
            }
        };
        let host = match ingest.hosts.by_address(peer.ip()).await {
            Ok(Some(host)) => host,
            Ok(None) => {
                ingest.metrics.rejected("udp_source_not_allowed", 1);
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot look up the sending host");
                ingest.metrics.rejected("udp_host_lookup_failed", 1);
                continue;
            }
        };
        let max = ingest.config.max_line_bytes;
        let bytes = &buffer[..len];
        let (bytes, truncated) = if bytes.len() > max {
            (&bytes[..max], true)
        } else {
            (bytes, false)
        };
        let received_at = Utc::now();
        let origin = Origin {
            host: &host,
            transport: Transport::Udp,
            received_at,
            truncated,
            skew_limit_secs: ingest.config.clock_skew_secs,
        };
        let parsed = syslog::parse(bytes, received_at, ingest.rfc3164_zone());
        let raw = String::from_utf8_lossy(bytes)
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        let row = EventRow::from_syslog(&origin, parsed, raw);
        if ingest.queue.try_push(vec![row]).is_err() {
            ingest.metrics.rejected("udp_queue_full", 1);
        }
    }
}
