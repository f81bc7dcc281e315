//! Who is calling: the client's address and user agent.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::error::ApiError;

/// The caller's address and user agent.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub addr: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let addr =
            peer.map(|peer| client_addr(peer, forwarded, &state.config.server.trusted_proxies));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self { addr, user_agent })
    }
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy. Entries left of that are client-written
/// and ignored.
fn client_addr(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(list) = forwarded_for else {
        return peer;
    };
    let mut addr = peer;
    for hop in list.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(hop) => {
                addr = hop;
                if !trusted.contains(&hop) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        let header = "203.0.113.66, 192.0.2.7";

        assert_eq!(client_addr(proxy, Some(header), &[proxy]), client);
        assert_eq!(client_addr(stranger, Some(header), &[proxy]), stranger);
        assert_eq!(client_addr(proxy, Some("garbage"), &[proxy]), proxy);
        assert_eq!(client_addr(proxy, None, &[proxy]), proxy);
    }
}
