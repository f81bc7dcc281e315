//! Syslog over TLS: the listener's certificate, and hosts known by their client certificate.
//!
//! With a client CA configured, a sender must present a certificate that CA signed, and it is
//! the registered host whose name the certificate is valid for (checked as a TLS client checks
//! a server's name, against subjectAltName). Without one, TLS only protects the lines on the
//! way and senders are known by their source address, as over plain TCP.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::TlsAcceptor;

use super::hosts::HostRef;
use crate::config::IngestConfig;

/// Builds the acceptor for `ingest.syslog_tls_listen`.
pub fn acceptor(config: &IngestConfig) -> Result<TlsAcceptor, String> {
    let (Some(cert_file), Some(key_file)) = (&config.tls_cert_file, &config.tls_key_file) else {
        return Err("ingest.syslog_tls_listen needs tls_cert_file and tls_key_file".into());
    };
    let chain = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("ingest.tls_cert_file {}: {e}", cert_file.display()))?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("ingest.tls_key_file {}: {e}", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let builder = match &config.tls_client_ca_file {
        Some(ca_file) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca_file)?, provider)
                .build()
                .map_err(|e| format!("ingest.tls_client_ca_file: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let server = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("ingest.tls_cert_file and tls_key_file: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn roots(ca_file: &Path) -> Result<Arc<RootCertStore>, String> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| format!("ingest.tls_client_ca_file {}: {e}", ca_file.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("ingest.tls_client_ca_file: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("ingest.tls_client_ca_file: {e}"))?;
    }
    Ok(Arc::new(roots))
}

/// The registered host `certificate` is valid for, if exactly one is.
pub fn host_of_certificate(certificate: &CertificateDer<'_>, hosts: &[HostRef]) -> Option<HostRef> {
    let end_entity = webpki::EndEntityCert::try_from(certificate).ok()?;
    let mut matching = hosts.iter().filter(|host| {
        ServerName::try_from(host.name.as_str())
            .is_ok_and(|name| end_entity.verify_is_valid_for_subject_name(&name).is_ok())
    });
    let found = matching.next()?;
    // A certificate valid for several hosts (a wildcard) names none of them.
    matching.next().is_none().then(|| found.clone())
}
