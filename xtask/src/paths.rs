//! Where things live: the workspace, the throwaway stack folder, caches and tools.

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Cargo's target folder.
pub fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The running stack's folder, emptied at every start.
pub fn stack() -> PathBuf {
    target().join("stack")
}

/// What survives between runs to make the next start quick (a provisioned directory).
pub fn cache() -> PathBuf {
    target().join("stack-cache")
}

/// Tools installed for the stack (OpenBao's virtualenv).
pub fn tools() -> PathBuf {
    target().join("tools")
}
