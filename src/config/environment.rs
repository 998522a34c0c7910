//! `environment = "production"` and its presets (CherryPy 18).

use super::origin::{FilePlace, Origin};
use super::{ConfigError, ConfigValue, Settings};
use crate::diagnostic::Diagnostic;
use crate::unrepr::Value;

/// The presets CherryPy 18 knows, in its order.
pub(super) const ENVIRONMENTS: &[&str] = &["staging", "production", "embedded", "test_suite"];

/// The keys a preset adds, in CherryPy's order.
fn preset(name: &str) -> Option<Vec<(&'static str, Value)>> {
    let f = || Value::Bool(false);
    let mut keys = vec![
        ("engine.autoreload.on", f()),
        ("checker.on", f()),
        ("tools.log_headers.on", f()),
    ];
    let tracebacks = name == "test_suite";
    match name {
        "staging" | "production" | "embedded" | "test_suite" => {
            keys.push(("request.show_tracebacks", Value::Bool(tracebacks)));
            keys.push(("request.show_mismatched_params", Value::Bool(tracebacks)));
        }
        _ => return None,
    }
    if name != "staging" {
        keys.push(("log.screen", f()));
    }
    if name == "embedded" {
        keys.push(("engine.SIGHUP", Value::None));
        keys.push(("engine.SIGTERM", Value::None));
    }
    Some(keys)
}

/// Adds the preset named by `environment` to a global section, for keys it does not set
/// itself (CherryPy's `Config._apply`). An empty or false `environment` adds nothing.
pub(super) fn apply(global: &mut Settings) -> Result<(), ConfigError> {
    let Some(setting) = global.get("environment") else {
        return Ok(());
    };
    let place = setting.origin.place().clone();
    let name = match &*setting.value {
        Value::Str(name) => name.clone(),
        other if other.is_truthy() == Some(false) => return Ok(()),
        other => {
            return Err(error(
                &place,
                format!(
                    "`environment` must be a quoted string such as \"production\", not {}",
                    other.type_name()
                ),
            ));
        }
    };
    if name.is_empty() {
        return Ok(());
    }
    let Some(keys) = preset(&name) else {
        return Err(error(
            &place,
            format!(
                "unknown environment {name:?}; CherryPy knows {}",
                ENVIRONMENTS.join(", ")
            ),
        ));
    };
    for (key, value) in keys {
        if !global.contains_key(key) {
            global.insert(
                key.to_owned(),
                ConfigValue {
                    value: value.into(),
                    origin: Origin::Environment {
                        preset: name.clone(),
                        set_at: place.clone(),
                    },
                },
            );
        }
    }
    Ok(())
}

fn error(place: &FilePlace, message: String) -> ConfigError {
    Diagnostic::error("unknown-environment", message)
        .at(&place.file, place.value_span)
        .in_entry(&place.section, Some("environment"))
        .into()
}
