//! The sshd line parser against arbitrary lines and against lines sshd writes around text
//! that the connecting client chose.
//!
//! The input, read as UTF-8 with replacements, is first a whole line. Checked:
//! - parsing is deterministic, and a trailing CR or LF changes nothing;
//! - an event with a peer is the line exactly as sshd lays it out, with the address and port
//!   where sshd writes them: `<fixed start><user part> from <addr> port <n>`, followed only by
//!   ` ssh2[: <key>]` for logins (for closed connections `<user part> <addr> port <n>`,
//!   without `from`); the address and port texts read as the event's peer, and `[preauth]`
//!   is reported exactly when the line ends with it. `Received disconnect` is read from the
//!   left, `from <addr> port <n>:<code>[: <reason>]`, since there the client's text is last.
//!
//! Then the input's printable ASCII (what survives sshd's escaping of control characters)
//! is used as a client's user name and as the Key ID of a refused certificate, inside the
//! lines sshd writes for a fixed peer. Checked: the event names that peer, that user name
//! and that Key ID, whatever the text holds.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use opsportal_logparse::sshd::{self, Key, Login, Peer, SshdEvent};

const FP: &str = "SHA256:weX/t6gkFy4dJw1CBlC9dRbqg+6pZAkh5r0H4ObSYnc";
const CA: &str = "SHA256:48Bt+lK0NkJrLQnzV4W3u0a8fqvG1xOYp9k2d7wSSCg";

/// Whether `text` is `<addr> port <n>` naming `peer`.
fn names_peer(text: &str, peer: Peer) -> bool {
    text.split_once(" port ").is_some_and(|(addr, port)| {
        addr.parse::<IpAddr>() == Ok(peer.addr) && port.parse::<u16>() == Ok(peer.port)
    })
}

/// Whether `text` is the key part of a login line that gives `key`.
fn is_key_text(text: &str, key: &Key) -> bool {
    let Some(rest) = text
        .strip_prefix(key.key_type.as_str())
        .and_then(|rest| rest.strip_prefix(' '))
    else {
        return false;
    };
    let Some(certificate) = &key.certificate else {
        return key.fingerprint.as_deref() == Some(rest);
    };
    let rest = match &key.fingerprint {
        Some(fp) => rest
            .strip_prefix(fp.as_str())
            .and_then(|r| r.strip_prefix(' ')),
        None => Some(rest),
    };
    let tail = format!(
        ") CA {} {}",
        certificate.ca_type, certificate.ca_fingerprint
    );
    rest.and_then(|r| r.strip_prefix("ID "))
        .and_then(|r| r.strip_prefix(certificate.key_id.as_str()))
        .and_then(|r| r.strip_prefix(" (serial "))
        .and_then(|r| r.strip_suffix(tail.as_str()))
        .is_some_and(|serial| serial.parse::<u64>() == Ok(certificate.serial))
}

/// Whether `rest`, after `Accepted ` or `Failed `, is the login line that gives `login`.
fn is_login_text(rest: &str, login: &Login) -> bool {
    let Some(mut rest) = rest
        .strip_prefix(login.method.as_str())
        .and_then(|r| r.strip_prefix(" for "))
    else {
        return false;
    };
    if login.invalid_user {
        let Some(after) = rest.strip_prefix("invalid user ") else {
            return false;
        };
        rest = after;
    }
    let Some((peer, key)) = rest
        .strip_prefix(login.user.as_str())
        .and_then(|r| r.strip_prefix(" from "))
        .and_then(|r| r.split_once(" ssh2"))
    else {
        return false;
    };
    names_peer(peer, login.peer)
        && match &login.key {
            None => key.is_empty(),
            Some(parsed) => key
                .strip_prefix(": ")
                .is_some_and(|text| is_key_text(text, parsed)),
        }
}

/// Whether `rest` is `[<who> <user> ]<addr> port <n>` for a closed connection.
fn is_closing_text(rest: &str, user: &Option<String>, invalid_user: bool, peer: Peer) -> bool {
    let Some(user) = user else {
        return !invalid_user && names_peer(rest, peer);
    };
    let prefixes: &[&str] = if invalid_user {
        &["invalid user "]
    } else {
        &["authenticating user ", "user "]
    };
    prefixes.iter().any(|prefix| {
        rest.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix(user.as_str()))
            .and_then(|r| r.strip_prefix(' '))
            .is_some_and(|r| names_peer(r, peer))
    })
}

/// Checks that an event with a peer is laid out in `line` as sshd writes it.
fn check_layout(line: &str, event: &SshdEvent) {
    let line = line.trim_end_matches(['\r', '\n']);
    let (message, ends_preauth) = match line.strip_suffix(" [preauth]") {
        Some(rest) => (rest, true),
        None => (line, false),
    };
    let laid_out = match event {
        SshdEvent::Accepted(login) => message
            .strip_prefix("Accepted ")
            .is_some_and(|rest| is_login_text(rest, login)),
        SshdEvent::Failed(login) => message
            .strip_prefix("Failed ")
            .is_some_and(|rest| is_login_text(rest, login)),
        SshdEvent::InvalidUser { user, peer } => message
            .strip_prefix("Invalid user ")
            .and_then(|r| r.strip_prefix(user.as_str()))
            .and_then(|r| r.strip_prefix(" from "))
            .is_some_and(|r| names_peer(r, *peer)),
        SshdEvent::ConnectionClosed {
            user,
            invalid_user,
            peer,
            preauth,
        } => {
            *preauth == ends_preauth
                && message
                    .strip_prefix("Connection closed by ")
                    .is_some_and(|r| is_closing_text(r, user, *invalid_user, *peer))
        }
        SshdEvent::Disconnected {
            user,
            invalid_user,
            peer,
            preauth,
        } => {
            *preauth == ends_preauth
                && message
                    .strip_prefix("Disconnected from ")
                    .is_some_and(|r| is_closing_text(r, user, *invalid_user, *peer))
        }
        SshdEvent::ReceivedDisconnect {
            peer,
            code,
            reason,
            preauth,
        } => {
            *preauth == ends_preauth
                && message
                    .strip_prefix("Received disconnect from ")
                    .and_then(|r| r.split_once(" port "))
                    .and_then(|(addr, r)| Some((addr, r.split_once(':')?)))
                    .is_some_and(|(addr, (port, r))| {
                        let code_and_reason = r
                            .strip_suffix(reason.as_str())
                            .and_then(|head| head.strip_suffix(": "))
                            .is_some_and(|c| c.parse::<u32>() == Ok(*code));
                        let code_alone = reason.is_empty() && r.parse::<u32>() == Ok(*code);
                        names_peer(&format!("{addr} port {port}"), *peer)
                            && (code_and_reason || code_alone)
                    })
        }
        _ => true,
    };
    assert!(laid_out, "{line:?} gave {event:?}");
}

/// Lines sshd writes with `text` where the client chooses it, for each of two peers.
fn check_client_text(text: &str) {
    for (addr, port) in [("192.0.2.7", 40022), ("2001:db8::7", 22)] {
        let peer = Peer {
            addr: addr.parse().expect("a literal address"),
            port,
        };
        let line = format!("Invalid user {text} from {addr} port {port}");
        assert_eq!(
            sshd::parse(&line),
            SshdEvent::InvalidUser {
                user: text.to_owned(),
                peer
            },
            "{line:?}"
        );

        for (who, invalid_user) in [("invalid user ", true), ("authenticating user ", false)] {
            let line = format!("Connection closed by {who}{text} {addr} port {port} [preauth]");
            assert_eq!(
                sshd::parse(&line),
                SshdEvent::ConnectionClosed {
                    user: Some(text.to_owned()),
                    invalid_user,
                    peer,
                    preauth: true
                },
                "{line:?}"
            );
        }

        let line = format!("Failed password for invalid user {text} from {addr} port {port} ssh2");
        let expected = Login {
            method: "password".into(),
            user: text.to_owned(),
            invalid_user: true,
            peer,
            key: None,
        };
        assert_eq!(sshd::parse(&line), SshdEvent::Failed(expected), "{line:?}");

        let line = format!(
            "Failed publickey for invalid user {text} from {addr} port {port} ssh2: ED25519 {FP}"
        );
        match sshd::parse(&line) {
            SshdEvent::Failed(login) => {
                assert_eq!((login.user.as_str(), login.peer), (text, peer), "{line:?}")
            }
            other => panic!("{line:?} gave {other:?}"),
        }

        let line = format!(
            "Failed publickey for root from {addr} port {port} ssh2: ED25519-CERT {FP} ID {text} \
             (serial 9) CA ED25519 {CA}"
        );
        match sshd::parse(&line) {
            SshdEvent::Failed(login) => {
                let key_id = login.key.and_then(|k| k.certificate).map(|c| c.key_id);
                assert_eq!(
                    (login.user.as_str(), login.peer, key_id.as_deref()),
                    ("root", peer, Some(text)),
                    "{line:?}"
                );
            }
            other => panic!("{line:?} gave {other:?}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let event = sshd::parse(&line);
    assert_eq!(event, sshd::parse(&line), "{line:?} parsed twice");
    assert_eq!(
        event,
        sshd::parse(&format!("{line}\n")),
        "{line:?} with an LF"
    );
    check_layout(&line, &event);

    let text: String = data
        .iter()
        .filter(|b| (b' '..=b'~').contains(*b))
        .map(|b| char::from(*b))
        .collect();
    check_client_text(&text);
});
