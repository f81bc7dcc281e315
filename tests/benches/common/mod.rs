//! What the benchmarks share: the portal as a process of its own, on a fresh database.

pub use crate::support::process::Portal;
