//! A Python literal read as the type a setting needs (a truth value, a number of minutes,
//! text, an int in a range), with CherryPy's traps on the way (a quoted boolean, a quoted
//! number, a bare word, an expression it would have to run) reported as located
//! diagnostics. Which setting takes which reader is `values`' job.

use crate::Diagnostic;
use crate::config::FilePlace;
use crate::unrepr::{Expr, Value};

use super::codes;
use super::sink::{Sink, at_value, type_error};
use super::types::Minutes;

/// The value itself, or an error where CherryPy would have to run code to get it.
pub(super) fn literal<'v>(
    value: &'v Value,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<&'v Value> {
    let Value::Expr(expr) = value else {
        return Some(value);
    };
    let d = match &**expr {
        Expr::Name {
            dotted,
            resolved: false,
        } => Diagnostic::error(
            codes::UNRESOLVED_NAME,
            format!("`{dotted}` is a bare word: CherryPy cannot resolve the name and refuses the config at startup"),
        )
        .with_help(format!("write it as a string: \"{dotted}\"")),
        _ => Diagnostic::error(
            codes::NOT_LITERAL,
            format!(
                "this {} would have to be run by Python to get a value; write a literal",
                value.type_name()
            ),
        ),
    };
    sink.push(at_value(place, d));
    None
}

/// Python truthiness; a quoted boolean is a non-empty string, so true, as in CherryPy.
pub(super) fn truthy(value: &Value, place: &FilePlace, sink: &mut Sink) -> bool {
    if let Value::Str(s) = value {
        let looks_bool = ["false", "true", "0", "1", "no", "yes", "off", "on", "none"]
            .contains(&s.trim().to_ascii_lowercase().as_str());
        if looks_bool {
            let on = !s.is_empty();
            sink.push(at_value(
                place,
                Diagnostic::warning(
                    codes::QUOTED_BOOL,
                    format!(
                        "{s:?} is a non-empty string, so CherryPy reads it as {}",
                        py_bool(on)
                    ),
                )
                .with_help(format!("write {} without quotes", bool_word(s))),
            ));
        }
    }
    value.is_truthy().unwrap_or(true)
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn bool_word(s: &str) -> &'static str {
    match s.trim().to_ascii_lowercase().as_str() {
        "false" | "0" | "no" | "off" | "none" => "False",
        _ => "True",
    }
}

/// A number of minutes (or seconds): a Python int or float.
pub(super) fn minutes(
    value: &Value,
    none_is_zero: bool,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<Minutes> {
    let m = match value {
        Value::Int(i) => match i.to_string().parse::<i64>() {
            Ok(n) => Minutes::int(n),
            Err(_) => Minutes::float(i.to_string().parse().unwrap_or(f64::INFINITY)),
        },
        Value::Float(f) => Minutes::float(*f),
        Value::Bool(b) => {
            sink.push(at_value(
                place,
                Diagnostic::warning(
                    codes::BOOL_AS_NUMBER,
                    format!("{} is used as the number {}", py_bool(*b), u8::from(*b)),
                ),
            ));
            Minutes::int(i64::from(*b))
        }
        Value::None if none_is_zero => Minutes::int(0),
        Value::Str(s) if s.trim().parse::<f64>().is_ok() => {
            sink.push(at_value(
                place,
                Diagnostic::error(
                    codes::QUOTED_NUMBER,
                    format!("{s:?} is a string, not a number: CherryPy's arithmetic on it fails with an error on every request"),
                )
                .with_help(format!("remove the quotes: {}", s.trim())),
            ));
            return None;
        }
        other => {
            type_error(place, "a number", other, sink);
            return None;
        }
    };
    // A negative `clean_freq` is out of range (checked by the caller), not a duration.
    if m.as_f64() < 0.0 && !none_is_zero {
        sink.push(at_value(
            place,
            Diagnostic::warning(
                codes::NEGATIVE_DURATION,
                "a negative duration: sessions expire at once",
            ),
        ));
    }
    Some(m)
}

/// A string.
pub(super) fn text(value: &Value, place: &FilePlace, sink: &mut Sink) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        other => {
            type_error(place, "a string", other, sink);
            None
        }
    }
}

/// An int (not a bool) that a machine integer holds. One too long for it is outside
/// `range` (every range a setting has is within an `i64`); whether one that fits is in
/// `range` is `values::check`'s to say.
pub(super) fn int_in(
    value: &Value,
    range: std::ops::RangeInclusive<i64>,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<i64> {
    let Value::Int(i) = value else {
        type_error(place, "an integer", value, sink);
        return None;
    };
    let fits = num_traits::ToPrimitive::to_i64(i);
    if fits.is_none() {
        sink.push(at_value(place, int_out_of_range(i, &range)));
    }
    fits
}

/// The error for an int outside `range`.
pub(super) fn int_out_of_range(
    i: &impl std::fmt::Display,
    range: &std::ops::RangeInclusive<i64>,
) -> Diagnostic {
    Diagnostic::error(
        codes::VALUE_OUT_OF_RANGE,
        format!(
            "{i} is out of range: takes {} to {}",
            range.start(),
            range.end()
        ),
    )
}

/// A string, or `None`.
pub(super) fn optional_text(
    value: &Value,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<Option<String>> {
    match value {
        Value::None => Some(None),
        Value::Str(s) => Some(Some(s.clone())),
        other => {
            type_error(place, "a string or None", other, sink);
            None
        }
    }
}
