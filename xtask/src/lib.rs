//! Development and test orchestration for opsportal.
//!
//! The binary (`cargo xtask ...`) starts the real dependency stack, builds the frontend, and
//! runs the demo or the tests. The library half holds [`stack_info`], the description of a
//! running stack that the integration tests read.

pub mod stack_info;
