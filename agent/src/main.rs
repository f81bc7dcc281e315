//! The `opsportal-agent` command.

fn main() {}
