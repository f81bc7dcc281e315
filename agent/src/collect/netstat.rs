//! `TcpExt` listen counters from `/proc/net/netstat`.
//!
//! The file holds pairs of lines per group: `TcpExt: Name1 Name2 ...` then
//! `TcpExt: 1 2 ...`, read here by a small parser of its own.

use std::path::Path;

use opsportal_shared::health::TcpListenCounters;

use super::{CollectError, error::read_text};

/// Reads the listen counters from a netstat file (normally `/proc/net/netstat`).
pub fn collect(path: &Path) -> Result<TcpListenCounters, CollectError> {
    parse(&read_text(path)?).ok_or_else(|| {
        CollectError::format(path, "no TcpExt ListenOverflows and ListenDrops counters")
    })
}

/// Finds `ListenOverflows` and `ListenDrops` in the `TcpExt` group.
pub fn parse(text: &str) -> Option<TcpListenCounters> {
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        let values = lines.next()?;
        let Some(names) = names.strip_prefix("TcpExt:") else {
            continue;
        };
        let values = values.strip_prefix("TcpExt:")?;
        let value = |wanted: &str| {
            names
                .split_whitespace()
                .zip(values.split_whitespace())
                .find(|(name, _)| *name == wanted)
                .and_then(|(_, value)| value.parse().ok())
        };
        return Some(TcpListenCounters {
            listen_overflows: value("ListenOverflows")?,
            listen_drops: value("ListenDrops")?,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_counters_among_others() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\n\
                    TcpExt: 0 30 31 7\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        let counters = parse(text).unwrap();
        assert_eq!(
            counters,
            TcpListenCounters {
                listen_overflows: 30,
                listen_drops: 31
            }
        );
    }

    #[test]
    fn missing_group_is_none() {
        assert_eq!(parse("IpExt: InNoRoutes\nIpExt: 0\n"), None);
    }
}
