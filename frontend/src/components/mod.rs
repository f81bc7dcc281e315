//! Parts shared by several pages.

pub mod error_note;
pub mod shell;
