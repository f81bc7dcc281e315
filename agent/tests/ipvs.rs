//! The IPVS parser against files in the kernel's own format (`ip_vs_info_seq_show`,
//! `ip_vs_conn_seq_show`). This kernel has no ip_vs module, so the live files cannot be read
//! here; on a host with the module loaded the same code reads /proc/net.

use std::path::Path;

use opsportal_agent::collect::ipvs;
use opsportal_shared::health::{IpvsReport, RealServer};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn server(address: &str, forward: &str, weight: i64, active: u64, inactive: u64) -> RealServer {
    RealServer {
        address: address.into(),
        forward: forward.into(),
        weight,
        active_conn: active,
        inactive_conn: inactive,
    }
}

#[test]
fn fixture_services_real_servers_and_connections() {
    let IpvsReport::Loaded(state) = ipvs::collect(Path::new(FIXTURES)).unwrap() else {
        panic!("fixture directory holds ip_vs");
    };
    assert_eq!(state.version, "1.2.1");
    assert_eq!(state.table_size, 4096);
    assert_eq!(state.connections, Some(3));

    let services: Vec<(&str, &str, &str, Option<u64>, usize)> = state
        .services
        .iter()
        .map(|s| {
            (
                s.protocol.as_str(),
                s.address.as_str(),
                s.scheduler.as_str(),
                s.persistent_secs,
                s.real_servers.len(),
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            ("TCP", "10.0.0.100:80", "rr", None, 2),
            ("TCP", "192.168.0.1:443", "wlc", Some(300), 1),
            ("UDP", "10.0.0.100:53", "sh", None, 0),
            ("TCP", "[2001:db8::1]:443", "wrr", None, 1),
            ("FWM", "7", "rr", None, 1),
        ]
    );
    assert_eq!(
        state.services[0].real_servers,
        [
            server("10.0.11.2:8080", "Masq", 1, 3, 12),
            server("10.0.11.3:8080", "Route", 2, 0, 1)
        ]
    );
    assert_eq!(
        state.services[1].real_servers,
        [server("192.168.0.2:443", "Tunnel", 1, 7, 0)]
    );
    assert_eq!(
        state.services[3].real_servers,
        [server("[2001:db8::2]:8080", "Masq", 5, 2, 4)]
    );
    assert_eq!(
        state.services[4].real_servers,
        [server("10.0.11.4:0", "Local", 0, 0, 0)]
    );
}

#[test]
fn this_kernel_reports_what_it_has() {
    let report = ipvs::collect(Path::new("/proc/net")).unwrap();
    let loaded = Path::new("/proc/net/ip_vs").exists();
    assert_eq!(matches!(report, IpvsReport::Loaded(_)), loaded);
}
