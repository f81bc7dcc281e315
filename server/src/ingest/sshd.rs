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
    let message = message.trim_end_matches(['\r', '\n']);
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
mod tests {
    use super::*;

    const FP: &str = "SHA256:weX/t6gkFy4dJw1CBlC9dRbqg+6pZAkh5r0H4ObSYnc";
    const CA: &str = "SHA256:48Bt+lK0NkJrLQnzV4W3u0a8fqvG1xOYp9k2d7wSSCg";

    fn peer(addr: &str, port: u16) -> Peer {
        Peer {
            addr: addr.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn an_accepted_certificate_login_names_the_key_id_serial_and_ca() {
        let line = format!(
            "Accepted publickey for root from 127.0.0.1 port 35000 ssh2: ED25519-CERT {FP} ID \
             vault-jwt-alice-c1e577 (serial 7997654859106019330) CA ED25519 {CA}"
        );
        let SshdEvent::Accepted(login) = parse(&line) else {
            panic!("{line}")
        };
        assert_eq!(login.user, "root");
        assert_eq!(login.method, "publickey");
        assert_eq!(login.peer, peer("127.0.0.1", 35000));
        let key = login.key.unwrap();
        assert_eq!(key.key_type, "ED25519-CERT");
        assert_eq!(key.fingerprint.as_deref(), Some(FP));
        assert_eq!(
            key.certificate,
            Some(Certificate {
                key_id: "vault-jwt-alice-c1e577".into(),
                serial: 7997654859106019330,
                ca_type: "ED25519".into(),
                ca_fingerprint: CA.into(),
            })
        );
    }

    #[test]
    fn the_older_form_without_the_key_fingerprint_and_ipv6() {
        let line = "Accepted publickey for root from ::1 port 47374 ssh2: RSA-CERT ID \
                    vault-ldap-alice-ddce23 (serial 2420534201198412456) CA RSA SHA256:4LJnvc";
        let SshdEvent::Accepted(login) = parse(line) else {
            panic!()
        };
        assert_eq!(login.peer, peer("::1", 47374));
        let key = login.key.unwrap();
        assert_eq!(key.fingerprint, None);
        assert_eq!(key.certificate.unwrap().serial, 2420534201198412456);
    }

    #[test]
    fn other_accepted_and_failed_forms() {
        let cert = format!(
            "Accepted certificate ID \"portal-alice-abc\" (serial 42) signed by ED25519 CA {CA} via /etc/ssh/ca.pub"
        );
        let SshdEvent::CertificateAccepted { certificate, via } = parse(&cert) else {
            panic!()
        };
        assert_eq!(
            (
                certificate.key_id.as_str(),
                certificate.serial,
                via.as_str()
            ),
            ("portal-alice-abc", 42, "/etc/ssh/ca.pub")
        );

        let plain =
            format!("Accepted publickey for root from 10.1.2.3 port 5000 ssh2: ED25519 {FP}");
        let SshdEvent::Accepted(login) = parse(&plain) else {
            panic!()
        };
        assert_eq!(
            login.key.unwrap().certificate,
            None,
            "a plain key, no certificate"
        );

        let password = "Accepted password for root from 10.1.2.3 port 5001 ssh2";
        let SshdEvent::Accepted(login) = parse(password) else {
            panic!()
        };
        assert_eq!((login.method.as_str(), login.key), ("password", None));

        let failed = format!(
            "Failed publickey for root from 127.0.0.1 port 34996 ssh2: ED25519-CERT {FP} ID x (serial 7) CA ED25519 {CA}"
        );
        let SshdEvent::Failed(login) = parse(&failed) else {
            panic!()
        };
        assert_eq!(login.key.unwrap().certificate.unwrap().key_id, "x");

        assert_eq!(
            parse("Certificate does not contain an authorized principal"),
            SshdEvent::NoAuthorizedPrincipal
        );
        assert_eq!(
            parse("Certificate invalid: expired"),
            SshdEvent::CertificateInvalid {
                reason: "expired".into()
            }
        );
        assert_eq!(
            parse(&format!(
                "Authentication key ED25519-CERT {FP} revoked by file /etc/ssh/revoked.krl"
            )),
            SshdEvent::KeyRevoked {
                key_type: "ED25519-CERT".into(),
                fingerprint: FP.into(),
                file: "/etc/ssh/revoked.krl".into()
            }
        );
    }

    #[test]
    fn connections_closing_and_sessions() {
        assert_eq!(
            parse("Connection closed by authenticating user root 127.0.0.1 port 34996 [preauth]"),
            SshdEvent::ConnectionClosed {
                user: Some("root".into()),
                invalid_user: false,
                peer: peer("127.0.0.1", 34996),
                preauth: true
            }
        );
        assert_eq!(
            parse("Connection closed by 10.0.0.9 port 22 [preauth]"),
            SshdEvent::ConnectionClosed {
                user: None,
                invalid_user: false,
                peer: peer("10.0.0.9", 22),
                preauth: true
            }
        );
        assert_eq!(
            parse("Received disconnect from 127.0.0.1 port 35000:11: disconnected by user"),
            SshdEvent::ReceivedDisconnect {
                peer: peer("127.0.0.1", 35000),
                code: 11,
                reason: "disconnected by user".into(),
                preauth: false
            }
        );
        assert_eq!(
            parse("Disconnected from user root 127.0.0.1 port 35000"),
            SshdEvent::Disconnected {
                user: Some("root".into()),
                invalid_user: false,
                peer: peer("127.0.0.1", 35000),
                preauth: false
            }
        );
        assert_eq!(
            parse("pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)"),
            SshdEvent::SessionOpened {
                user: "root".into()
            }
        );
        assert_eq!(
            parse("pam_unix(sshd:session): session closed for user root"),
            SshdEvent::SessionClosed {
                user: "root".into()
            }
        );
        assert_eq!(
            parse("Server listening on 0.0.0.0 port 22."),
            SshdEvent::Other
        );
    }

    #[test]
    fn text_in_a_user_name_never_makes_a_login_or_moves_the_address() {
        let name = "x from 10.9.9.9 port 22 ssh2: Accepted publickey for root";
        let invalid = format!("Invalid user {name} from 127.0.0.1 port 5555");
        assert_eq!(
            parse(&invalid),
            SshdEvent::InvalidUser {
                user: name.into(),
                peer: peer("127.0.0.1", 5555)
            }
        );

        let failed =
            format!("Failed password for invalid user {name} from 127.0.0.1 port 5555 ssh2");
        let SshdEvent::Failed(login) = parse(&failed) else {
            panic!("{failed}")
        };
        assert_eq!(
            (login.user.as_str(), login.invalid_user, login.peer),
            (name, true, peer("127.0.0.1", 5555))
        );

        let other = "Invalid user Invalid user root from 123.123.123.123 from 127.0.0.1 port 6000";
        let SshdEvent::InvalidUser { peer: p, .. } = parse(other) else {
            panic!()
        };
        assert_eq!(p, peer("127.0.0.1", 6000));

        let closed =
            format!("Connection closed by invalid user {name} 127.0.0.1 port 5555 [preauth]");
        let SshdEvent::ConnectionClosed {
            user,
            invalid_user,
            peer: p,
            ..
        } = parse(&closed)
        else {
            panic!()
        };
        assert_eq!(
            (user.as_deref(), invalid_user, p),
            (Some(name), true, peer("127.0.0.1", 5555))
        );

        // A refused certificate's Key ID is the client's text too.
        let key_id = format!("evil ssh2: ED25519 {FP}");
        let refused = format!(
            "Failed publickey for root from 127.0.0.1 port 7000 ssh2: ED25519-CERT {FP} ID {key_id} (serial 9) CA ED25519 {CA}"
        );
        let SshdEvent::Failed(login) = parse(&refused) else {
            panic!()
        };
        assert_eq!(login.peer, peer("127.0.0.1", 7000));
        assert_eq!(login.key.unwrap().certificate.unwrap().key_id, key_id);
    }

    #[test]
    fn any_user_name_keeps_the_address_sshd_wrote() {
        let pieces = [
            "root",
            " from ",
            "10.9.9.9",
            " port ",
            "22",
            " ssh2",
            ": ",
            "Accepted publickey for ",
            "invalid user ",
            " [preauth]",
            "::1",
            "ED25519 ",
            FP,
            " ",
            "\\033",
            "%s",
            "\"",
        ];
        // A fixed linear congruential sequence, so that any failure can be replayed.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5000 {
            let mut name = String::new();
            for _ in 0..1 + state % 7 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                name.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            let real = peer("127.0.0.1", 5555);
            let invalid = format!("Invalid user {name} from 127.0.0.1 port 5555");
            assert_eq!(
                parse(&invalid),
                SshdEvent::InvalidUser {
                    user: name.clone(),
                    peer: real
                },
                "{invalid:?}"
            );
            let failed =
                format!("Failed password for invalid user {name} from 127.0.0.1 port 5555 ssh2");
            match parse(&failed) {
                SshdEvent::Failed(login) => assert_eq!(login.peer, real, "{failed:?}"),
                other => panic!("{failed:?} gave {other:?}"),
            }
            assert!(!matches!(parse(&invalid), SshdEvent::Accepted(_)));
        }
    }

    #[test]
    fn malformed_lines_are_other_and_never_panic() {
        for line in [
            "Accepted",
            "Accepted publickey for",
            "Accepted publickey for root from nowhere port x ssh2",
            "Accepted publickey for root from 1.2.3.4 port 99999 ssh2",
            "Accepted publickey for root from 1.2.3.4 port 22 ssh2: NOT A KEY",
            "Accepted certificate ID \"x\" (serial -1) signed by ED25519 CA SHA256:a via f",
            "Received disconnect from 1.2.3.4 port 5",
            "Connection closed by somebody port 5",
            "Authentication key revoked by file",
            "",
            "\u{0}\u{ffff}",
        ] {
            assert_eq!(parse(line), SshdEvent::Other, "{line:?}");
        }
    }
}
