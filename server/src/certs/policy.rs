//! Which principals and lifetime a certificate gets: what the person asked for, checked
//! against what their groups grant and the lifetime limits.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::CertificatesConfig;

/// The principals and lifetime decided for one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub principals: Vec<String>,
    pub ttl: Duration,
}

/// Why the request asks for more than the person may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyProblem {
    NoPrincipals,
    PrincipalNotAllowed(String),
    DuplicatePrincipal(String),
    ZeroTtl,
    TtlTooLong { max_secs: u64 },
}

/// The longest lifetime a certificate holding `principal` may have.
pub fn max_ttl_for(
    config: &CertificatesConfig,
    limits: &BTreeMap<String, u64>,
    principal: &str,
) -> u64 {
    limits
        .get(principal)
        .copied()
        .map_or(config.max_ttl_secs, |limit| limit.min(config.max_ttl_secs))
}

/// Decides a certificate for someone allowed `allowed` principals (with per-principal lifetime
/// `limits`) who asked for `requested` principals (all when `None`) and `ttl_secs`.
pub fn decide(
    config: &CertificatesConfig,
    allowed: &[String],
    limits: &BTreeMap<String, u64>,
    requested: Option<&[String]>,
    ttl_secs: Option<u64>,
) -> Result<Decision, PolicyProblem> {
    let principals: Vec<String> = match requested {
        None => allowed.to_vec(),
        Some(requested) => {
            let mut chosen: Vec<String> = Vec::with_capacity(requested.len());
            for principal in requested {
                if !allowed.contains(principal) {
                    return Err(PolicyProblem::PrincipalNotAllowed(principal.clone()));
                }
                if chosen.contains(principal) {
                    return Err(PolicyProblem::DuplicatePrincipal(principal.clone()));
                }
                chosen.push(principal.clone());
            }
            chosen
        }
    };
    if principals.is_empty() {
        return Err(PolicyProblem::NoPrincipals);
    }

    let max_secs = principals
        .iter()
        .map(|p| max_ttl_for(config, limits, p))
        .min()
        .unwrap_or(config.max_ttl_secs);
    let ttl_secs = ttl_secs.unwrap_or(config.default_ttl_secs.min(max_secs));
    if ttl_secs == 0 {
        return Err(PolicyProblem::ZeroTtl);
    }
    if ttl_secs > max_secs {
        return Err(PolicyProblem::TtlTooLong { max_secs });
    }
    Ok(Decision {
        principals,
        ttl: Duration::from_secs(ttl_secs),
    })
}

/// `3600` → `1 h`, `5400` → `90 min`, `45` → `45 s`.
pub fn human_duration(secs: u64) -> String {
    if secs >= 3600 && secs.is_multiple_of(3600) {
        format!("{} h", secs / 3600)
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SignerKind;

    fn config() -> CertificatesConfig {
        CertificatesConfig {
            signer: SignerKind::Embedded,
            default_ttl_secs: 3600,
            max_ttl_secs: 3600,
            min_rsa_bits: 3072,
            extensions: vec!["permit-pty".into()],
            backdate_secs: 30,
            max_per_minute: 20,
            embedded: None,
        }
    }

    fn allowed() -> Vec<String> {
        vec!["root".into(), "zone-databases".into()]
    }

    #[test]
    fn by_default_every_allowed_principal_for_the_default_lifetime() {
        let decision = decide(&config(), &allowed(), &BTreeMap::new(), None, None).unwrap();
        assert_eq!(decision.principals, allowed());
        assert_eq!(decision.ttl, Duration::from_secs(3600));
    }

    #[test]
    fn the_strictest_principal_sets_the_lifetime() {
        let limits = BTreeMap::from([("zone-databases".to_owned(), 900)]);
        let decision = decide(&config(), &allowed(), &limits, None, None).unwrap();
        assert_eq!(
            decision.ttl,
            Duration::from_secs(900),
            "the default is capped too"
        );
        let err = decide(&config(), &allowed(), &limits, None, Some(1000)).unwrap_err();
        assert_eq!(err, PolicyProblem::TtlTooLong { max_secs: 900 });
        let root_only = ["root".to_owned()];
        let decision =
            decide(&config(), &allowed(), &limits, Some(&root_only), Some(3600)).unwrap();
        assert_eq!(decision.ttl, Duration::from_secs(3600));
    }

    #[test]
    fn asking_for_more_is_refused() {
        let limits = BTreeMap::new();
        let cases: [(&[&str], Option<u64>, PolicyProblem); 5] = [
            (
                &["root", "admin"],
                None,
                PolicyProblem::PrincipalNotAllowed("admin".into()),
            ),
            (
                &["root", "root"],
                None,
                PolicyProblem::DuplicatePrincipal("root".into()),
            ),
            (&[], None, PolicyProblem::NoPrincipals),
            (&["root"], Some(0), PolicyProblem::ZeroTtl),
            (
                &["root"],
                Some(3601),
                PolicyProblem::TtlTooLong { max_secs: 3600 },
            ),
        ];
        for (requested, ttl, problem) in cases {
            let requested: Vec<String> = requested.iter().map(|p| (*p).to_owned()).collect();
            let got = decide(&config(), &allowed(), &limits, Some(&requested), ttl);
            assert_eq!(got.unwrap_err(), problem, "{requested:?} {ttl:?}");
        }
        assert_eq!(
            decide(&config(), &[], &limits, None, None).unwrap_err(),
            PolicyProblem::NoPrincipals
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(3600), "1 h");
        assert_eq!(human_duration(5400), "90 min");
        assert_eq!(human_duration(45), "45 s");
    }
}
