//! Parts shared by several pages, and small widgets not tied to any one of them.

pub mod attribution_badge;
pub mod certificate_table;
pub mod chart;
pub mod copy_button;
pub mod countdown;
pub mod error_note;
pub mod event_row;
pub mod event_table;
pub mod health_badge;
pub mod shell;
pub mod signed_in;
pub mod state_badge;
