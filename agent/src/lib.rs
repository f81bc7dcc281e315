//! opsportal-agent: a small Linux host agent that reports to the portal what limits a host's
//! services are running into (listen queues, descriptor limits, IPVS tables) and how its sshd
//! decides who may log in.
//!
//! - [`collect`] reads the kernel's and sshd's state into a [`collect::Snapshot`].
//! - [`report`] stamps a snapshot with the agent's identity and sequence number ([`state`]).
//! - [`push`] sends reports to the portal and spools them on disk while it cannot.
//! - [`textfile`] writes the same numbers for node_exporter's textfile collector.
//! - [`tail`] follows secure-log files and ships their lines, when asked to.
//! - [`config`] is the command line, and [`run`] the loop that ties them together.

pub mod collect;
pub mod config;
pub mod push;
pub mod report;
pub mod run;
pub mod state;
pub mod tail;
pub mod textfile;
