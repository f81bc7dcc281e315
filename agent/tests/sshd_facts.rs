//! sshd access facts read from a real configuration tree: an `Include`d drop-in, a CA file
//! made by ssh-keygen, per-account principals files and a revocation list.

use std::fs;
use std::path::{Path, PathBuf};

use opsportal_agent::collect::sshd_facts::{self, SshdSources};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Fingerprints printed by `ssh-keygen -lf` for the fixture's two CA keys.
const ED25519_CA: &str = "SHA256:lu0qBiszrxMEeOtx0FA3PJCHeGF/xU03Uzu3Fy4eti4";
const RSA_CA: &str = "SHA256:lNCyXus57omlltD07FS4s1/JOjbtGktVZ8ZXrhB2/OU";

struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    /// Lays out /etc/ssh, /etc/passwd and two home directories under a temporary root.
    fn new(main_config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let host = Self { dir };
        let root = host.root().display().to_string();
        let ssh = host.root().join("etc/ssh");
        fs::create_dir_all(ssh.join("sshd_config.d")).unwrap();
        fs::create_dir_all(ssh.join("principals")).unwrap();
        fs::write(
            ssh.join("sshd_config"),
            main_config.replace("@ROOT@", &root),
        )
        .unwrap();
        fs::write(
            ssh.join("sshd_config.d/50-portal.conf"),
            format!(
                "TrustedUserCAKeys {root}/etc/ssh/user_ca.pub\n\
                 AuthorizedPrincipalsFile {root}/etc/ssh/principals/%u\n\
                 RevokedKeys {root}/etc/ssh/revoked.krl\n\
                 LogLevel DEBUG3\n"
            ),
        )
        .unwrap();
        fs::copy(
            Path::new(FIXTURES).join("sshd/user_ca.pub"),
            ssh.join("user_ca.pub"),
        )
        .unwrap();
        fs::write(
            ssh.join("revoked.krl"),
            b"not really a KRL, but hashed all the same",
        )
        .unwrap();
        fs::write(
            ssh.join("principals/root"),
            "root-everywhere\n# comment\nroot\n",
        )
        .unwrap();
        fs::write(ssh.join("principals/zone-webservers"), "zone-webservers\n").unwrap();
        fs::write(
            host.root().join("etc/passwd"),
            format!(
                "root:x:0:0:root:{root}/root:/bin/bash\n\
                 daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
                 zone-webservers:x:1001:1001:Web zone:{root}/home/zone-webservers:/bin/bash\n\
                 zone-databases:x:1002:1002:DB zone:{root}/home/zone-databases:/bin/bash\n"
            ),
        )
        .unwrap();
        host
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn sources(&self) -> SshdSources {
        SshdSources {
            sshd_config: self.root().join("etc/ssh/sshd_config"),
            passwd: self.root().join("etc/passwd"),
            principals: [
                "root",
                "zone-webservers",
                "zone-databases",
                "root-everywhere",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn path(&self, relative: &str) -> String {
        self.root().join(relative).display().to_string()
    }
}

#[test]
fn facts_follow_include_and_first_value_wins() {
    let host = Host::new(
        "# main file\nLogLevel INFO\nInclude sshd_config.d/*.conf\nPasswordAuthentication no\n\
         Match User backup\n    TrustedUserCAKeys /elsewhere/ca.pub\n",
    );
    let (facts, error) = sshd_facts::collect(&host.sources());
    assert!(error.is_none(), "{error:?}");
    assert!(facts.config_readable);
    assert_eq!(
        facts.log_level.as_deref(),
        Some("INFO"),
        "the main file's value came first"
    );

    let ca = facts
        .trusted_user_ca_keys
        .expect("CA file from the drop-in, not the Match block");
    assert_eq!(ca.path, host.path("etc/ssh/user_ca.pub"));
    assert_eq!(ca.error, None);
    let fingerprints: Vec<(&str, &str, &str)> = ca
        .keys
        .iter()
        .map(|k| {
            (
                k.algorithm.as_str(),
                k.fingerprint.as_str(),
                k.comment.as_str(),
            )
        })
        .collect();
    assert_eq!(
        fingerprints,
        [
            ("ssh-ed25519", ED25519_CA, "portal-user-ca"),
            ("ssh-rsa", RSA_CA, "old-rsa-ca")
        ]
    );

    let krl = facts.revoked_keys.expect("RevokedKeys set");
    assert_eq!(krl.path, host.path("etc/ssh/revoked.krl"));
    // `sha256sum` of the file's content.
    assert_eq!(
        krl.sha256.as_deref(),
        Some("a63b2309a24d3a5b01f035448fcd90e0700800f813f024642faa2b57bae48c84")
    );
    assert!(krl.age_secs.is_some_and(|age| age < 60));

    let accounts: Vec<(&str, Option<Vec<String>>)> = facts
        .accounts
        .iter()
        .map(|a| (a.name.as_str(), a.principals.clone()))
        .collect();
    assert_eq!(
        accounts,
        [
            (
                "root",
                Some(vec!["root-everywhere".to_string(), "root".to_string()])
            ),
            ("zone-webservers", Some(vec!["zone-webservers".to_string()])),
            ("zone-databases", None),
        ],
        "daemon is not a portal principal; zone-databases has no principals file"
    );
    let web = &facts.accounts[1];
    assert_eq!(web.uid, 1001);
    assert_eq!(
        web.principals_file.as_deref(),
        Some(host.path("etc/ssh/principals/zone-webservers").as_str())
    );
}

#[test]
fn unset_log_level_defaults_to_info_and_none_disables_settings() {
    let host = Host::new("TrustedUserCAKeys none\nAuthorizedPrincipalsFile none\n");
    fs::remove_file(host.root().join("etc/ssh/sshd_config.d/50-portal.conf")).unwrap();
    let (facts, error) = sshd_facts::collect(&host.sources());
    assert!(error.is_none());
    assert_eq!(facts.log_level.as_deref(), Some("INFO"));
    assert_eq!(facts.trusted_user_ca_keys, None);
    assert_eq!(facts.authorized_principals_file, None);
    assert_eq!(facts.revoked_keys, None);
    assert!(
        facts
            .accounts
            .iter()
            .all(|a| a.principals_file.is_none() && a.principals.is_none())
    );
    assert_eq!(facts.accounts.len(), 3);
}

#[test]
fn missing_config_is_unknown_not_fatal() {
    let sources = SshdSources {
        sshd_config: PathBuf::from("/nonexistent/sshd_config"),
        passwd: PathBuf::from("/nonexistent/passwd"),
        principals: vec!["root".into()],
    };
    let (facts, error) = sshd_facts::collect(&sources);
    assert!(!facts.config_readable);
    assert_eq!(facts.log_level, None);
    assert!(facts.accounts.is_empty());
    assert!(
        error
            .unwrap()
            .to_string()
            .contains("/nonexistent/sshd_config")
    );
}
