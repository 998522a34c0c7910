//! The CherryPy venv (`compat/.venv`) the tests run real CherryPy and Python from, made on
//! first use, so that `cargo test` on a plain clone sets it up as `scripts/test.sh` does.

#![allow(dead_code)] // each test file uses part of it

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// `compat/.venv/bin/python`, after `compat/setup.sh` made the venv if it was missing
/// (that needs Python 3.11 with `venv` and access to PyPI; the panic carries setup.sh's own
/// words when it fails).
pub(crate) fn venv_python() -> PathBuf {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let python = root.join("compat/.venv/bin/python");
            if python.exists() {
                return Ok(python);
            }
            // Test binaries may run at once: one setup at a time, and the later ones find
            // it done.
            let lock_path = std::env::temp_dir().join("actix-cherrypy-compat-setup.lock");
            let lock = std::fs::File::create(&lock_path).map_err(|e| e.to_string())?;
            lock.lock().map_err(|e| e.to_string())?;
            if python.exists() {
                return Ok(python);
            }
            // Straight to the process's stderr: the test harness captures `eprintln!`.
            let _ = writeln!(
                std::io::stderr(),
                "compat/.venv is missing: running compat/setup.sh (CherryPy 18.10 from PyPI)"
            );
            let out = Command::new(root.join("compat/setup.sh"))
                .output()
                .map_err(|e| format!("compat/setup.sh could not run: {e}"))?;
            match out.status.success() && python.exists() {
                true => Ok(python),
                false => Err(format!(
                    "compat/setup.sh failed to make the CherryPy venv the tests need:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )),
            }
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}
