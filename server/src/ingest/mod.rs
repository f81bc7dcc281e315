//! Hosts' secure logs: splitting syslog streams into messages ([`framing`]) and reading what
//! sshd says in them ([`sshd`]).

pub mod framing;
pub mod sshd;
