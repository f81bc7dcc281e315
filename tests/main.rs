//! Integration tests of opsportal against the real services of `cargo xtask stack`: Samba AD,
//! PostgreSQL, OpenBao, sshd and Chromium. One test binary; one module per area.

mod support;

mod browser;
mod certificates;
mod http_surface;
mod revocation;
mod sessions;
mod sign_in;
mod signing_faults;
mod vault_ldap;
mod vault_role;
