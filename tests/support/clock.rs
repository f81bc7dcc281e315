//! Shifted clocks for a test's processes, with libfaketime (Debian package `faketime`): a
//! portal, sshd or rsyslogd started with a [`ClockShift`] believes it is that many seconds
//! later or earlier than it is, as on a machine whose NTP stopped working.
//!
//! Only the wall clock moves; monotonic clocks (timers, timeouts) stay true. Go programs
//! such as OpenBao read the clock without the C library and cannot be shifted this way, so
//! OpenBao's clock is the reference the others are shifted from.

use std::path::PathBuf;
use std::process::Command;

/// A wall clock this many seconds ahead of the real one (negative: behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockShift(pub i64);

impl ClockShift {
    /// Makes `command` run on the shifted clock.
    pub fn apply(&self, command: &mut Command) {
        command.envs(self.environment());
    }

    /// The environment that shifts a program's clock.
    pub fn environment(&self) -> [(&'static str, String); 3] {
        [
            ("LD_PRELOAD", library().display().to_string()),
            ("FAKETIME", format!("{:+}", self.0)),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_owned()),
        ]
    }
}

/// libfaketime's thread-safe build, wherever this machine's architecture keeps it.
fn library() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("faketime/libfaketimeMT.so.1"))
        .find(|path| path.exists());
    found.expect("libfaketime is installed (Debian package faketime; cargo xtask setup)")
}
