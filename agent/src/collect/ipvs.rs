//! IPVS (LVS) state from `/proc/net/ip_vs` and `/proc/net/ip_vs_conn`.
//!
//! The formats are the kernel's `ip_vs_info_seq_show` and `ip_vs_conn_seq_show`
//! (net/netfilter/ipvs/ip_vs_ctl.c and ip_vs_conn.c): addresses and ports in hex, IPv4 as one
//! 8-digit word in host order after `ntohl`, IPv6 in brackets as eight 4-digit groups.
//! Without the `ip_vs` module neither file exists, which is reported as not loaded.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use opsportal_shared::health::{IpvsReport, IpvsState, RealServer, VirtualService};

use super::{CollectError, error::read_text};

/// Reads IPVS state from a proc directory (normally `/proc/net`).
pub fn collect(proc_net: &Path) -> Result<IpvsReport, CollectError> {
    let path = proc_net.join("ip_vs");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(IpvsReport::NotLoaded),
        Err(e) => return Err(CollectError::io(path, e)),
    };
    let mut state = parse_services(&text).map_err(|reason| CollectError::format(&path, reason))?;
    // The connection table can be unreadable on its own (it is root-only on some kernels);
    // the services are still worth sending.
    state.connections = read_text(&proc_net.join("ip_vs_conn"))
        .ok()
        .map(|t| count_connections(&t));
    Ok(IpvsReport::Loaded(state))
}

/// Parses `/proc/net/ip_vs`; `connections` is left `None`.
pub fn parse_services(text: &str) -> Result<IpvsState, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty file")?;
    let (version, table_size) = parse_header(header)?;
    let mut services: Vec<VirtualService> = Vec::new();
    // The two column-title lines follow the version line.
    for line in lines.skip(2) {
        if let Some(server) = line.trim_start().strip_prefix("->") {
            let service = services
                .last_mut()
                .ok_or("real server before any service")?;
            service.real_servers.push(parse_real_server(server)?);
        } else if !line.trim().is_empty() {
            services.push(parse_service(line)?);
        }
    }
    Ok(IpvsState {
        version,
        table_size,
        connections: None,
        services,
    })
}

/// Counts entries in `/proc/net/ip_vs_conn`: every line but the column titles.
pub fn count_connections(text: &str) -> u64 {
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .count() as u64
}

/// `IP Virtual Server version 1.2.1 (size=4096)`
fn parse_header(line: &str) -> Result<(String, u64), String> {
    let bad = || format!("unexpected header {line:?}");
    let rest = line
        .strip_prefix("IP Virtual Server version ")
        .ok_or_else(bad)?;
    let (version, size) = rest.split_once(" (size=").ok_or_else(bad)?;
    let size = size
        .strip_suffix(')')
        .ok_or_else(bad)?
        .parse()
        .map_err(|_| bad())?;
    Ok((version.to_string(), size))
}

/// `TCP  0A000064:0050 rr ops persistent 300 FFFFFFFF` or `FWM  00000007 rr `
fn parse_service(line: &str) -> Result<VirtualService, String> {
    let bad = || format!("unexpected service line {line:?}");
    let mut fields = line.split_whitespace();
    let protocol = fields.next().ok_or_else(bad)?.to_string();
    let address = fields.next().ok_or_else(bad)?;
    let address = if protocol == "FWM" {
        u32::from_str_radix(address, 16)
            .map_err(|_| bad())?
            .to_string()
    } else {
        parse_address(address).ok_or_else(bad)?.to_string()
    };
    let scheduler = fields.next().ok_or_else(bad)?.to_string();
    let mut persistent_secs = None;
    while let Some(flag) = fields.next() {
        if flag == "persistent" {
            persistent_secs = Some(fields.next().and_then(|t| t.parse().ok()).ok_or_else(bad)?);
        }
    }
    Ok(VirtualService {
        protocol,
        address,
        scheduler,
        persistent_secs,
        real_servers: Vec::new(),
    })
}

/// `0A000B02:1F90      Masq    1      3          12`
fn parse_real_server(rest: &str) -> Result<RealServer, String> {
    let bad = || format!("unexpected real server line {rest:?}");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let [address, forward, weight, active, inactive] = fields.as_slice() else {
        return Err(bad());
    };
    Ok(RealServer {
        address: parse_address(address).ok_or_else(bad)?.to_string(),
        forward: (*forward).to_string(),
        weight: weight.parse().map_err(|_| bad())?,
        active_conn: active.parse().map_err(|_| bad())?,
        inactive_conn: inactive.parse().map_err(|_| bad())?,
    })
}

/// `0A000064:0050` or `[2001:0db8:...:0001]:01BB`
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.rsplit_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match ip.strip_prefix('[').and_then(|ip| ip.strip_suffix(']')) {
        Some(v6) => IpAddr::V6(v6.parse::<Ipv6Addr>().ok()?),
        None => IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(ip, 16).ok()?)),
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_module_is_not_loaded() {
        let empty = std::env::temp_dir().join("opsportal-agent-no-ipvs");
        std::fs::create_dir_all(&empty).unwrap();
        assert_eq!(collect(&empty).unwrap(), IpvsReport::NotLoaded);
    }

    #[test]
    fn header_gives_version_and_table_size() {
        let state = parse_services(
            "IP Virtual Server version 1.2.1 (size=1048576)\n\
             Prot LocalAddress:Port Scheduler Flags\n\
             \x20 -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n",
        )
        .unwrap();
        assert_eq!(
            (state.version.as_str(), state.table_size),
            ("1.2.1", 1_048_576)
        );
        assert!(state.services.is_empty());
    }

    #[test]
    fn garbage_header_is_an_error() {
        assert!(
            parse_services("hello\n")
                .unwrap_err()
                .contains("unexpected header")
        );
    }
}
