//! opsportal-agent: a small Linux host agent that reports to the portal what limits a host's
//! services are running into (listen queues, descriptor limits, IPVS tables) and how its sshd
//! decides who may log in.
//!
//! - [`collect`] reads the kernel's and sshd's state into a [`collect::Snapshot`].

pub mod collect;
