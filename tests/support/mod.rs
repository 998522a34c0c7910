//! What several test binaries share that is neither a server nor the CherryPy oracle.

#![allow(dead_code)] // each test file uses part of it

/// Keeps the snapshots of the test binary `binary` in `tests/snapshots/<binary>/`, named by
/// test alone: one folder a binary, rather than hundreds of files in one.
#[must_use = "the setting holds while the guard lives"]
pub(crate) fn snapshots_of(binary: &str) -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(format!("snapshots/{binary}"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind_to_scope()
}
