//! The sshd parser against the lines sshd really writes, and against the text an attacker
//! puts in a user name.

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

    let plain = format!("Accepted publickey for root from 10.1.2.3 port 5000 ssh2: ED25519 {FP}");
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

    let failed = format!("Failed password for invalid user {name} from 127.0.0.1 port 5555 ssh2");
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

    let closed = format!("Connection closed by invalid user {name} 127.0.0.1 port 5555 [preauth]");
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
fn a_key_id_mimicking_a_login_never_moves_the_address_of_an_existing_user() {
    let key_id = format!("x from 10.9.9.9 port 22 ssh2: ED25519-CERT {FP} ID y");
    let line = format!(
        "Failed publickey for root from 127.0.0.1 port 7000 ssh2: ED25519-CERT {FP} ID {key_id} (serial 9) CA ED25519 {CA}"
    );
    let SshdEvent::Failed(login) = parse(&line) else {
        panic!("{line}")
    };
    assert_eq!(
        (login.user.as_str(), login.invalid_user, login.peer),
        ("root", false, peer("127.0.0.1", 7000))
    );
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

#[test]
fn syslog_forms_with_a_level_prefix_and_leading_space_are_read() {
    assert_eq!(
        parse(" error: Certificate does not contain an authorized principal"),
        SshdEvent::NoAuthorizedPrincipal
    );
    assert_eq!(
        parse("error: Certificate invalid: expired"),
        SshdEvent::CertificateInvalid {
            reason: "expired".into()
        }
    );
}
