//! Integration tests of opsportal against the real services of `cargo xtask stack`: Samba AD,
//! PostgreSQL, OpenBao, sshd, rsyslog and Chromium. One test binary; one module per area.

mod support;

mod browser;
mod browser_fleet;
mod browser_history;
mod certificate_records;
mod certificates;
mod clock_skew;
mod db_lanes;
mod host_health;
mod http_surface;
mod ingest_faults;
mod log_ingest;
mod log_stored;
mod log_tail;
mod revocation;
mod sessions;
mod sign_in;
mod signing_faults;
mod syslog_ingest;
mod vault_ldap;
mod vault_role;
