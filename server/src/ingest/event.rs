//! One received line as it is stored: where it came from, what it says, and who it is about.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use opsportal_logparse::sshd::{self, Login, SshdEvent};
use opsportal_logparse::syslog::Syslog;

use super::hosts::HostRef;

/// How a line reached the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Tls,
    Udp,
    Http,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Tls => "tls",
            Self::Udp => "udp",
            Self::Http => "http",
        }
    }
}

/// A row of `log_event`, before it is written.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub received_at: DateTime<Utc>,
    pub event_at: DateTime<Utc>,
    pub host_id: i64,
    pub transport: Transport,
    pub claimed_hostname: Option<String>,
    pub program: Option<String>,
    pub pid: Option<i32>,
    pub kind: &'static str,
    pub username: Option<String>,
    pub src_ip: Option<IpAddr>,
    pub src_port: Option<i32>,
    pub method: Option<String>,
    pub key_type: Option<String>,
    pub key_fingerprint: Option<String>,
    pub key_id: Option<String>,
    pub serial: Option<u64>,
    pub ca_fingerprint: Option<String>,
    pub certificate_id: Option<i64>,
    pub person: Option<String>,
    pub attribution: Option<&'static str>,
    pub reason: Option<String>,
    pub skew_secs: Option<i32>,
    pub flags: Vec<String>,
    pub raw: String,
    /// The sender's stream and sequence number, when it numbers its lines.
    pub seq: Option<(String, u64)>,
    /// For a login: the attempts its connection failed before it, as the correlator counted
    /// them. Kept in the login's session, not in `log_event`.
    pub failures_before: Option<i64>,
}

/// Where a line came from, and what happened to it on the way.
pub struct Origin<'a> {
    pub host: &'a HostRef,
    pub transport: Transport,
    pub received_at: DateTime<Utc>,
    pub truncated: bool,
    pub skew_limit_secs: u64,
}

/// Programs whose lines are read as sshd's; newer OpenSSH logs from `sshd-session`.
fn is_sshd(program: Option<&str>) -> bool {
    matches!(program, Some("sshd" | "sshd-session" | "sshd-auth"))
}

impl EventRow {
    /// Builds the row for one syslog message. Attribution is added later, for a whole batch.
    pub fn from_syslog(origin: &Origin<'_>, syslog: Syslog, raw: String) -> Self {
        let mut flags = Vec::new();
        if origin.truncated {
            flags.push("truncated".to_owned());
        }
        if syslog.invalid_utf8 {
            flags.push("invalid_utf8".to_owned());
        }
        if let Some(error) = syslog.parse_error {
            flags.push(format!("parse_error:{}", error.as_str()));
        }
        let claimed_hostname = syslog.hostname.clone();
        if claimed_hostname
            .as_deref()
            .is_some_and(|claimed| !claimed.eq_ignore_ascii_case(&origin.host.name))
        {
            flags.push("hostname_mismatch".to_owned());
        }
        let event_at = syslog.timestamp.unwrap_or(origin.received_at);
        let skew = (event_at - origin.received_at).num_seconds();
        let skew_secs = (skew.unsigned_abs() > origin.skew_limit_secs).then(|| {
            flags.push("clock_skew".to_owned());
            skew.clamp(i32::MIN as i64, i32::MAX as i64) as i32
        });
        let pid = syslog.pid().and_then(|p| i32::try_from(p).ok());
        let mut row = Self {
            received_at: origin.received_at,
            event_at,
            host_id: origin.host.id,
            transport: origin.transport,
            claimed_hostname,
            program: syslog.app_name.clone(),
            pid,
            kind: "other",
            username: None,
            src_ip: None,
            src_port: None,
            method: None,
            key_type: None,
            key_fingerprint: None,
            key_id: None,
            serial: None,
            ca_fingerprint: None,
            certificate_id: None,
            person: None,
            attribution: None,
            reason: None,
            skew_secs,
            flags,
            raw,
            seq: None,
            failures_before: None,
        };
        if is_sshd(syslog.app_name.as_deref()) {
            row.read_sshd(sshd::parse(&syslog.message));
        }
        row
    }

    fn read_sshd(&mut self, event: SshdEvent) {
        self.kind = kind_of(&event);
        match event {
            SshdEvent::Accepted(login) | SshdEvent::Failed(login) => self.read_login(login),
            SshdEvent::CertificateAccepted { certificate, .. } => {
                self.key_id = Some(certificate.key_id);
                self.serial = Some(certificate.serial);
                self.ca_fingerprint = Some(certificate.ca_fingerprint);
            }
            SshdEvent::CertificateInvalid { reason } => self.reason = Some(reason),
            SshdEvent::NoAuthorizedPrincipal => {
                self.reason = Some("no authorized principal".to_owned());
            }
            SshdEvent::KeyRevoked {
                key_type,
                fingerprint,
                ..
            } => {
                self.key_type = Some(key_type);
                self.key_fingerprint = Some(fingerprint);
                self.reason = Some("revoked".to_owned());
            }
            SshdEvent::InvalidUser { user, peer } => {
                self.username = Some(user);
                self.set_peer(peer);
            }
            SshdEvent::ConnectionClosed { user, peer, .. }
            | SshdEvent::Disconnected { user, peer, .. } => {
                self.username = user;
                self.set_peer(peer);
            }
            SshdEvent::ReceivedDisconnect { peer, reason, .. } => {
                self.set_peer(peer);
                self.reason = Some(reason);
            }
            SshdEvent::SessionOpened { user } | SshdEvent::SessionClosed { user } => {
                self.username = Some(user);
            }
            SshdEvent::Other => {}
        }
    }

    fn read_login(&mut self, login: Login) {
        self.username = Some(login.user);
        self.method = Some(login.method);
        self.set_peer(login.peer);
        if login.invalid_user {
            self.flags.push("invalid_user".to_owned());
        }
        if let Some(key) = login.key {
            self.key_type = Some(key.key_type);
            self.key_fingerprint = key.fingerprint;
            if let Some(certificate) = key.certificate {
                self.key_id = Some(certificate.key_id);
                self.serial = Some(certificate.serial);
                self.ca_fingerprint = Some(certificate.ca_fingerprint);
            }
        }
    }

    fn set_peer(&mut self, peer: sshd::Peer) {
        self.src_ip = Some(peer.addr);
        self.src_port = Some(i32::from(peer.port));
    }

    /// Whether this is an authentication attempt (`accepted` or `failed`).
    pub fn is_login(&self) -> bool {
        matches!(self.kind, "accepted" | "failed")
    }
}

fn kind_of(event: &SshdEvent) -> &'static str {
    match event {
        SshdEvent::Accepted(_) => "accepted",
        SshdEvent::Failed(_) => "failed",
        SshdEvent::CertificateAccepted { .. } => "certificate_accepted",
        SshdEvent::NoAuthorizedPrincipal => "no_authorized_principal",
        SshdEvent::CertificateInvalid { .. } => "certificate_invalid",
        SshdEvent::KeyRevoked { .. } => "key_revoked",
        SshdEvent::InvalidUser { .. } => "invalid_user",
        SshdEvent::ConnectionClosed { .. } => "connection_closed",
        SshdEvent::ReceivedDisconnect { .. } => "received_disconnect",
        SshdEvent::Disconnected { .. } => "disconnected",
        SshdEvent::SessionOpened { .. } => "session_opened",
        SshdEvent::SessionClosed { .. } => "session_closed",
        SshdEvent::Other => "sshd_other",
    }
}
