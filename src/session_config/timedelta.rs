//! `lock_timeout = datetime.timedelta(minutes=5)`: the seconds such a call would give,
//! computed from its literal arguments without calling anything (nothing from a config is
//! ever run).

use crate::unrepr::{Expr, Value};

/// `datetime.timedelta`'s parameters in positional order, with their length in seconds.
const UNITS: &[(&str, f64)] = &[
    ("days", 86_400.0),
    ("seconds", 1.0),
    ("microseconds", 1e-6),
    ("milliseconds", 1e-3),
    ("minutes", 60.0),
    ("hours", 3_600.0),
    ("weeks", 604_800.0),
];

/// What a value is, seen as a possible `timedelta(...)` call.
pub(super) enum Timedelta {
    /// Not a call of `datetime.timedelta`.
    NotACall,
    /// `timedelta(...)` with arguments that give this many seconds.
    Seconds(f64),
    /// `timedelta(...)` that Python would reject or that needs running code; the reason.
    Invalid(String),
}

/// Reads `datetime.timedelta(...)` with number literals as arguments.
pub(super) fn seconds(value: &Value) -> Timedelta {
    let Value::Expr(expr) = value else {
        return Timedelta::NotACall;
    };
    let Expr::Call { func, args, kwargs } = &**expr else {
        return Timedelta::NotACall;
    };
    let is_timedelta = matches!(func, Value::Expr(f)
        if matches!(&**f, Expr::Name { dotted, .. } if dotted == "datetime.timedelta"));
    if !is_timedelta {
        return Timedelta::NotACall;
    }
    if args.len() > UNITS.len() {
        return Timedelta::Invalid(format!(
            "timedelta takes at most {} positional arguments",
            UNITS.len()
        ));
    }
    let mut given = [None::<f64>; 7];
    for (i, arg) in args.iter().enumerate() {
        match number(arg) {
            Some(n) => given[i] = Some(n),
            None => return Timedelta::Invalid(not_a_number(arg)),
        }
    }
    for (name, arg) in kwargs {
        let Some(name) = name else {
            return Timedelta::Invalid(
                "`**` arguments cannot be read without running Python".into(),
            );
        };
        let Some(i) = UNITS.iter().position(|(u, _)| u == name) else {
            return Timedelta::Invalid(format!("timedelta has no argument `{name}`"));
        };
        if given[i].is_some() {
            return Timedelta::Invalid(format!("timedelta got `{name}` twice"));
        }
        match number(arg) {
            Some(n) => given[i] = Some(n),
            None => return Timedelta::Invalid(not_a_number(arg)),
        }
    }
    let total = given
        .iter()
        .zip(UNITS)
        .map(|(n, (_, unit))| n.unwrap_or(0.0) * unit)
        .sum();
    Timedelta::Seconds(total)
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => i.to_string().parse().ok(),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn not_a_number(value: &Value) -> String {
    format!(
        "timedelta's arguments must be numbers, not {}",
        value.type_name()
    )
}
