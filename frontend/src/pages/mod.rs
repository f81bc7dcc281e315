//! One module per route.

pub mod admin_certificates;
pub mod admin_hosts;
pub mod audit;
pub mod certificates;
pub mod fleet;
pub mod history;
pub mod home;
pub mod host_health;
pub mod me;
pub mod not_found;
pub mod sign_in;
