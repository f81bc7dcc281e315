// Loads the WebAssembly app. Kept in a file of its own because the Content-Security-Policy
// allows no inline script.
import init from "/pkg/opsportal.js";

init({ module_or_path: "/pkg/opsportal_bg.wasm" });
