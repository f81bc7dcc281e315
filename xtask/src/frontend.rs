//! Builds the browser app into `frontend/dist`: the WebAssembly bundle through wasm-bindgen,
//! the page and the stylesheet. Nothing is downloaded; the pinned wasm-bindgen-cli comes from
//! `cargo install`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::paths;
use crate::setup;
use crate::sh;

/// The folder the server embeds.
pub fn dist() -> PathBuf {
    paths::root().join("frontend/dist")
}

pub fn build() -> anyhow::Result<()> {
    setup::wasm_tools()?;
    let root = paths::root();
    sh::run_visible(
        Command::new("cargo")
            .current_dir(&root)
            .args(["build", "--package", "opsportal-frontend"])
            .args([
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
            ]),
    )?;
    let wasm = paths::target().join("wasm32-unknown-unknown/wasm-release/opsportal_frontend.wasm");

    let dist = dist();
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(dist.join("pkg"))?;
    sh::run(
        Command::new("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "opsportal",
            ])
            .args(["--remove-name-section", "--remove-producers-section"])
            .arg("--out-dir")
            .arg(dist.join("pkg"))
            .arg(&wasm),
    )?;
    copy(&root.join("frontend/index.html"), &dist.join("index.html"))?;
    copy(&root.join("frontend/boot.js"), &dist.join("boot.js"))?;
    copy(&root.join("style/portal.css"), &dist.join("portal.css"))?;
    copy(&root.join("style/favicon.svg"), &dist.join("favicon.svg"))?;
    eprintln!("frontend built into {}", dist.display());
    Ok(())
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}
