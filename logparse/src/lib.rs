//! Reading hosts' secure logs: splitting syslog streams into messages ([`framing`]) and
//! reading what sshd says in them ([`sshd`]).
//!
//! Everything here is a pure function of its input, with no I/O and no allocation that the
//! input does not bound, so that it can be fuzzed on its own and shared by the portal and
//! the host agent.

pub mod framing;
pub mod sshd;
pub mod syslog;
