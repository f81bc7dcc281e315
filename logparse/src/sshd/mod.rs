//! The lines sshd writes about logins, turned into events.
//!
//! User names, the reason of a client's disconnect, and the Key ID of a certificate that was
//! refused are chosen by whoever connects, and sshd escapes only control characters in them.
//! A name such as `x from 10.9.9.9 port 22 ssh2: Accepted publickey for root` must never
//! create a login or change an address, so every line is recognised by its fixed start and
//! read from its end, where sshd itself writes the address and port: the last
//! ` from <address> port <n>` (or `<address> port <n>`) is the real one.

use std::net::IpAddr;

/// What one sshd line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshdEvent {
    /// `Accepted <method> for <user> from <addr> port <n> ssh2[: <key>]`.
    Accepted(Login),
    /// `Failed <method> for [invalid user ]<user> from <addr> port <n> ssh2[: <key>]`.
    Failed(Login),
    /// `Accepted certificate ID "<id>" (serial <n>) signed by <type> CA <fp> via <file>`.
    CertificateAccepted {
        certificate: Certificate,
        via: String,
    },
    /// `Certificate does not contain an authorized principal`.
    NoAuthorizedPrincipal,
    /// `Certificate invalid: <reason>`, e.g. `expired` or `name is not a listed principal`.
    CertificateInvalid { reason: String },
    /// `Authentication key <type> <fp> revoked by file <file>`.
    KeyRevoked {
        key_type: String,
        fingerprint: String,
        file: String,
    },
    /// `Invalid user <user> from <addr> port <n>`.
    InvalidUser { user: String, peer: Peer },
    /// `Connection closed by [authenticating user <user> |invalid user <user> ]<addr> port <n>`.
    ConnectionClosed {
        user: Option<String>,
        invalid_user: bool,
        peer: Peer,
        preauth: bool,
    },
    /// `Received disconnect from <addr> port <n>:<code>: <reason>`.
    ReceivedDisconnect {
        peer: Peer,
        code: u32,
        reason: String,
        preauth: bool,
    },
    /// `Disconnected from [user <u> |invalid user <u> |authenticating user <u> ]<addr> port <n>`.
    Disconnected {
        user: Option<String>,
        invalid_user: bool,
        peer: Peer,
        preauth: bool,
    },
    /// `pam_unix(sshd:session): session opened for user <user>(uid=<n>) ...`.
    SessionOpened { user: String },
    /// `pam_unix(sshd:session): session closed for user <user>`.
    SessionClosed { user: String },
    /// Anything else; kept as raw text by the caller.
    Other,
}

/// The far end of a connection, as sshd saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub addr: IpAddr,
    pub port: u16,
}

/// An authentication attempt that succeeded or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// `publickey`, `password`, `keyboard-interactive/pam`, ...
    pub method: String,
    pub user: String,
    /// Whether sshd said the account does not exist (`invalid user`).
    pub invalid_user: bool,
    pub peer: Peer,
    pub key: Option<Key>,
}

/// The key of a public-key attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// `ED25519`, `RSA`, `ED25519-CERT`, ...
    pub key_type: String,
    /// `SHA256:...`; OpenSSH before 8 omitted it for certificates.
    pub fingerprint: Option<String>,
    pub certificate: Option<Certificate>,
}

/// What sshd tells of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub key_id: String,
    pub serial: u64,
    pub ca_type: String,
    pub ca_fingerprint: String,
}

/// Parses the message part of one sshd log line (after `sshd[pid]: `).
pub fn parse(message: &str) -> SshdEvent {
    let message = message
        .trim_end_matches(['\r', '\n'])
        .trim_start_matches(' ');
    // Through syslog, sshd puts its log level before errors (`error: Certificate ...`); a file
    // written with `-E` has no such prefix.
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let (message, preauth) = match message.strip_suffix(" [preauth]") {
        Some(rest) => (rest, true),
        None => (message, false),
    };
    if let Some(rest) = message.strip_prefix("Accepted certificate ID \"") {
        return certificate_accepted(rest).unwrap_or(SshdEvent::Other);
    }
    if let Some(rest) = message.strip_prefix("Accepted ") {
        return login(rest).map_or(SshdEvent::Other, SshdEvent::Accepted);
    }
    if let Some(rest) = message.strip_prefix("Failed ") {
        return login(rest).map_or(SshdEvent::Other, SshdEvent::Failed);
    }
    if message == "Certificate does not contain an authorized principal" {
        return SshdEvent::NoAuthorizedPrincipal;
    }
    if let Some(reason) = message.strip_prefix("Certificate invalid: ") {
        return SshdEvent::CertificateInvalid {
            reason: reason.to_owned(),
        };
    }
    if let Some(rest) = message.strip_prefix("Authentication key ") {
        return key_revoked(rest).unwrap_or(SshdEvent::Other);
    }
    if let Some(rest) = message.strip_prefix("Invalid user ") {
        return match from_peer(rest) {
            Some((user, peer)) => SshdEvent::InvalidUser {
                user: user.to_owned(),
                peer,
            },
            None => SshdEvent::Other,
        };
    }
    if let Some(rest) = message.strip_prefix("Connection closed by ") {
        return match closing(rest) {
            Some((user, invalid_user, peer)) => SshdEvent::ConnectionClosed {
                user,
                invalid_user,
                peer,
                preauth,
            },
            None => SshdEvent::Other,
        };
    }
    if let Some(rest) = message.strip_prefix("Disconnected from ") {
        return match closing(rest) {
            Some((user, invalid_user, peer)) => SshdEvent::Disconnected {
                user,
                invalid_user,
                peer,
                preauth,
            },
            None => SshdEvent::Other,
        };
    }
    if let Some(rest) = message.strip_prefix("Received disconnect from ") {
        return received_disconnect(rest, preauth).unwrap_or(SshdEvent::Other);
    }
    if let Some(rest) = message.strip_prefix("pam_unix(sshd:session): session opened for user ") {
        let user = rest.split_once("(uid=").map_or(rest, |(user, _)| user);
        return SshdEvent::SessionOpened {
            user: user.to_owned(),
        };
    }
    if let Some(user) = message.strip_prefix("pam_unix(sshd:session): session closed for user ") {
        return SshdEvent::SessionClosed {
            user: user.to_owned(),
        };
    }
    SshdEvent::Other
}

/// `<method> for [invalid user ]<user> from <addr> port <n> ssh2[: <key>]`. The user and a
/// refused certificate's Key ID may hold any text, so every ` ssh2` from the right is tried
/// until what follows is a well-formed key and what precedes ends in a real address.
///
/// Without `invalid user` the name is an existing account's, which has no space: a split that
/// would give it one has taken a Key ID's text for sshd's, so the next ` ssh2` is tried. An
/// invalid user's name and a Key ID can together mimic any address; nothing in the line
/// tells that case apart.
fn login(rest: &str) -> Option<Login> {
    let (method, rest) = rest.split_once(" for ")?;
    if method.is_empty() || method.contains(' ') {
        return None;
    }
    let mut end = rest.len();
    while let Some(at) = rest[..end].rfind(" ssh2") {
        end = at;
        let (head, tail) = (&rest[..at], &rest[at + " ssh2".len()..]);
        let key = match tail.strip_prefix(": ") {
            Some(text) => match parse_key(text) {
                Some(key) => Some(key),
                None => continue,
            },
            None if tail.is_empty() => None,
            None => continue,
        };
        let Some((user, peer)) = from_peer(head) else {
            continue;
        };
        let (user, invalid_user) = match user.strip_prefix("invalid user ") {
            Some(user) => (user, true),
            None => (user, false),
        };
        if !invalid_user && user.contains(' ') {
            continue;
        }
        return Some(Login {
            method: method.to_owned(),
            user: user.to_owned(),
            invalid_user,
            peer,
            key,
        });
    }
    None
}

/// `<type> <fp>`, `<type>-CERT <fp> ID <id> (serial <n>) CA <type> <fp>`, or the older
/// `<type>-CERT ID <id> (serial <n>) CA <type> <fp>`.
fn parse_key(text: &str) -> Option<Key> {
    let (key_type, rest) = text.split_once(' ')?;
    if !is_key_type(key_type) {
        return None;
    }
    if !key_type.ends_with("-CERT") {
        return is_fingerprint(rest).then(|| Key {
            key_type: key_type.to_owned(),
            fingerprint: Some(rest.to_owned()),
            certificate: None,
        });
    }
    let (fingerprint, rest) = match rest.split_once(' ') {
        Some((fp, rest)) if is_fingerprint(fp) => (Some(fp.to_owned()), rest),
        _ => (None, rest),
    };
    let rest = rest.strip_prefix("ID ")?;
    // From the right: ` CA <type> <fp>` and ` (serial <n>)` are sshd's; the Key ID is the rest.
    let (rest, ca_fingerprint) = rest.rsplit_once(' ')?;
    let (rest, ca_type) = rest.rsplit_once(' ')?;
    let rest = rest.strip_suffix(" CA")?;
    let (key_id, serial) = rest.rsplit_once(" (serial ")?;
    let serial = serial.strip_suffix(')')?.parse().ok()?;
    if !is_fingerprint(ca_fingerprint) || !is_key_type(ca_type) {
        return None;
    }
    Some(Key {
        key_type: key_type.to_owned(),
        fingerprint,
        certificate: Some(Certificate {
            key_id: key_id.to_owned(),
            serial,
            ca_type: ca_type.to_owned(),
            ca_fingerprint: ca_fingerprint.to_owned(),
        }),
    })
}

/// `<id>" (serial <n>) signed by <type> CA <fp> via <file>`, after the opening quote.
fn certificate_accepted(rest: &str) -> Option<SshdEvent> {
    let (key_id, rest) = rest.rsplit_once("\" (serial ")?;
    let (serial, rest) = rest.split_once(") signed by ")?;
    let (ca_type, rest) = rest.split_once(" CA ")?;
    let (ca_fingerprint, via) = rest.split_once(" via ")?;
    if !is_key_type(ca_type) || !is_fingerprint(ca_fingerprint) {
        return None;
    }
    Some(SshdEvent::CertificateAccepted {
        certificate: Certificate {
            key_id: key_id.to_owned(),
            serial: serial.parse().ok()?,
            ca_type: ca_type.to_owned(),
            ca_fingerprint: ca_fingerprint.to_owned(),
        },
        via: via.to_owned(),
    })
}

/// `<type> <fp> revoked by file <file>`.
fn key_revoked(rest: &str) -> Option<SshdEvent> {
    let (key, file) = rest.split_once(" revoked by file ")?;
    let (key_type, fingerprint) = key.split_once(' ')?;
    (is_key_type(key_type) && is_fingerprint(fingerprint)).then(|| SshdEvent::KeyRevoked {
        key_type: key_type.to_owned(),
        fingerprint: fingerprint.to_owned(),
        file: file.to_owned(),
    })
}

/// `<head> from <addr> port <n>`, read from the right; returns the head and the peer.
fn from_peer(text: &str) -> Option<(&str, Peer)> {
    let (rest, port) = text.rsplit_once(" port ")?;
    let (head, addr) = rest.rsplit_once(" from ")?;
    Some((head, peer(addr, port)?))
}

/// `[user <u> |invalid user <u> |authenticating user <u> ]<addr> port <n>`, from the right.
fn closing(text: &str) -> Option<(Option<String>, bool, Peer)> {
    let (rest, port) = text.rsplit_once(" port ")?;
    let (head, addr) = match rest.rsplit_once(' ') {
        Some((head, addr)) => (Some(head), addr),
        None => (None, rest),
    };
    let peer = peer(addr, port)?;
    let Some(head) = head else {
        return Some((None, false, peer));
    };
    for (prefix, invalid) in [
        ("invalid user ", true),
        ("authenticating user ", false),
        ("user ", false),
    ] {
        if let Some(user) = head.strip_prefix(prefix) {
            return Some((Some(user.to_owned()), invalid, peer));
        }
    }
    None
}

/// `<addr> port <n>:<code>: <reason>`, read from the left: sshd writes the address and port
/// first, and the reason, which the client chose, last.
fn received_disconnect(text: &str, preauth: bool) -> Option<SshdEvent> {
    let (addr, rest) = text.split_once(" port ")?;
    let (port, rest) = rest.split_once(':')?;
    let (code, reason) = rest.split_once(": ").unwrap_or((rest, ""));
    Some(SshdEvent::ReceivedDisconnect {
        peer: peer(addr, port)?,
        code: code.parse().ok()?,
        reason: reason.to_owned(),
        preauth,
    })
}

fn peer(addr: &str, port: &str) -> Option<Peer> {
    Some(Peer {
        addr: addr.parse().ok()?,
        port: port.parse().ok()?,
    })
}

fn is_key_type(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix("SHA256:").is_some_and(|b64| {
        !b64.is_empty()
            && b64
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    })
}

#[cfg(test)]
mod tests;
