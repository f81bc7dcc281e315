//! One module per route.

pub mod admin_certificates;
pub mod certificates;
pub mod home;
pub mod me;
pub mod not_found;
pub mod sign_in;
