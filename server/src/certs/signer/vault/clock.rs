//! Vault's clock as this portal sees it: the offset between the `Date` header of Vault's
//! answers and the local clock.
//!
//! The JWT the portal mints is checked by Vault's clock: one that starts (`nbf`) more than
//! Vault's leeway (60 s by default) in Vault's future is refused. Minting in Vault's time keeps sign-in
//! working when this host's clock has drifted, and the drift is logged so that someone fixes
//! NTP. The `Date` header has whole seconds and is written a little before the answer
//! arrives, so the estimate jitters by a second; it only moves when it changes by more.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::DateTime;
use tracing::warn;

/// Changes of the estimate smaller than this are jitter, not drift.
const JITTER_SECS: i64 = 2;
/// An offset this large is worth a warning.
const WARN_AT_SECS: i64 = 10;

/// The last known offset of Vault's clock from the local one.
#[derive(Debug, Default)]
pub struct VaultClock {
    offset_secs: AtomicI64,
    known: AtomicBool,
}

impl VaultClock {
    /// Notes the `Date` header of an answer that arrived at `local_now` (Unix seconds).
    pub fn observe(&self, date: &str, local_now: i64) {
        let Ok(vault_now) = DateTime::parse_from_rfc2822(date) else {
            return;
        };
        let offset = vault_now.timestamp() - local_now;
        let known = self.known.swap(true, Ordering::Relaxed);
        let previous = self.offset_secs.load(Ordering::Relaxed);
        if known && (offset - previous).abs() < JITTER_SECS {
            return;
        }
        self.offset_secs.store(offset, Ordering::Relaxed);
        if offset.abs() >= WARN_AT_SECS {
            warn!(
                vault_ahead_secs = offset,
                "Vault's clock differs from this host's; check NTP on both"
            );
        }
    }

    /// How far Vault's clock is ahead of the local one, in seconds (0 until an answer came).
    pub fn offset_secs(&self) -> i64 {
        self.offset_secs.load(Ordering::Relaxed)
    }

    /// Now by Vault's clock, as Unix seconds.
    pub fn now_secs(&self) -> u64 {
        local_now_secs()
            .saturating_add(self.offset_secs())
            .try_into()
            .unwrap_or_default()
    }
}

/// Now by the local clock, as Unix seconds.
pub fn local_now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRI_10_00_00: i64 = 1_796_378_400; // Fri, 04 Dec 2026 10:00:00 GMT

    #[test]
    fn the_offset_follows_the_date_header_and_ignores_jitter() {
        let clock = VaultClock::default();
        assert_eq!(clock.offset_secs(), 0);

        clock.observe("Fri, 04 Dec 2026 10:00:00 GMT", FRI_10_00_00 + 90);
        assert_eq!(clock.offset_secs(), -90);
        clock.observe("Fri, 04 Dec 2026 10:00:01 GMT", FRI_10_00_00 + 90);
        assert_eq!(clock.offset_secs(), -90, "a second is jitter");
        clock.observe("Fri, 04 Dec 2026 10:00:00 GMT", FRI_10_00_00);
        assert_eq!(clock.offset_secs(), 0, "the drift was corrected");
    }

    #[test]
    fn a_date_that_does_not_parse_changes_nothing() {
        let clock = VaultClock::default();
        clock.observe("Fri, 04 Dec 2026 10:00:30 GMT", FRI_10_00_00);
        clock.observe("yesterday", FRI_10_00_00);
        assert_eq!(clock.offset_secs(), 30);
    }
}
