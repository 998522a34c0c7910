//! Python's `repr()` of literal values, and source-like text for expressions.

use std::fmt::Write;

use super::value::{BinOp, Expr, Value};

/// Python's `str.isprintable()` for one character, which decides what `repr()` escapes:
/// everything but "other" (control, format, surrogate, private use, unassigned) and
/// separators, the space excepted. Unicode data from `unicode-general-category`, whose
/// Unicode is newer than Python 3.11's 14.0: characters assigned since are printed where
/// Python would escape them.
pub(super) fn is_printable(c: char) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    c == ' '
        || !matches!(
            get_general_category(c),
            G::Control
                | G::Format
                | G::Surrogate
                | G::PrivateUse
                | G::Unassigned
                | G::LineSeparator
                | G::ParagraphSeparator
                | G::SpaceSeparator
        )
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation for
/// exponents -4 ≤ e < 16 (with `.0` when integral), else `1e+16` / `1.5e-05`.
pub(crate) fn float_repr(f: f64) -> String {
    format_float(f, true)
}

/// `add_dot_0` is false inside complex reprs, where CPython writes `1` rather than `1.0`.
fn format_float(f: f64, add_dot_0: bool) -> String {
    // Rust writes infinities as Python does (`inf`, `-inf`), but not NaN.
    if !f.is_finite() {
        return if f.is_nan() {
            "nan".into()
        } else {
            f.to_string()
        };
    }
    // CPython's `repr` gives the shortest digits that round-trip and, of two such strings, the
    // nearer, ties to even. Rust's shortest digits have the right length but may break an exact
    // tie upwards (`900719925474099.25` → `...3`); the correctly rounded (half-even) digits of
    // that length are CPython's whenever they round-trip.
    let shortest = format!("{f:e}");
    let (mantissa, exp) = shortest.split_once('e').unwrap_or_default();
    let len = mantissa.matches(|c: char| c.is_ascii_digit()).count();
    let nearest = format!("{:.*e}", len - 1, f);
    let round_trips = nearest.parse::<f64>() == Ok(f);
    let exp: i32 = exp.parse().unwrap_or_default();
    if !(-4..16).contains(&exp) {
        let sci = if round_trips { &nearest } else { &shortest };
        let mantissa = sci.split_once('e').unwrap_or_default().0;
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let fixed = if round_trips {
        format!("{:.*}", (len as i32 - 1 - exp).max(0) as usize, f)
    } else {
        f.to_string()
    };
    if add_dot_0 && !fixed.contains('.') {
        fixed + ".0"
    } else {
        fixed
    }
}

/// Python's `repr(str)` (`bytes`: of the `bytes` whose bytes are these code points): quote
/// choice and escapes as CPython 3.11.
fn quoted(codes: impl Iterator<Item = u32> + Clone, bytes: bool) -> String {
    let has = |c: char| codes.clone().any(|x| x == u32::from(c));
    let quote = if has('\'') && !has('"') { '"' } else { '\'' };
    let mut out = String::from(if bytes { "b" } else { "" });
    out.push(quote);
    for code in codes {
        let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        let _ = match c {
            '\\' | '\t' | '\n' | '\r' => write!(out, "{}", c.escape_default()),
            c if c == quote => write!(out, "\\{c}"),
            ' '..='~' => write!(out, "{c}"),
            c if !bytes && c as u32 > 0x7f && is_printable(c) => write!(out, "{c}"),
            c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32),
            c if (c as u32) < 0x10000 => write!(out, "\\u{:04x}", c as u32),
            c => write!(out, "\\U{:08x}", c as u32),
        };
    }
    out.push(quote);
    out
}

/// Binding strength of rendered text, to know where parentheses are needed.
fn precedence(v: &Value) -> u8 {
    match v {
        Value::Expr(e) => match **e {
            Expr::BinOp { op: BinOp::Add, .. } => 1,
            Expr::BinOp { op: BinOp::Mul, .. } => 2,
            Expr::Neg(_) => 3,
            Expr::Starred(_) => 0,
            _ => 4,
        },
        Value::Int(i) if i.sign() == num_bigint::Sign::Minus => 3,
        Value::Float(f) if f.is_sign_negative() => 3,
        _ => 4,
    }
}

/// `v` rendered, in parentheses if it binds less tightly than `min`.
fn operand(v: &Value, min: u8) -> String {
    let text = v.python_repr();
    if precedence(v) < min {
        format!("({text})")
    } else {
        text
    }
}

pub(super) fn expr_repr(e: &Expr) -> String {
    match e {
        Expr::Name { dotted, .. } => dotted.clone(),
        Expr::Attribute { object, attr } => {
            let obj = match object {
                // `1.real` would read as a float.
                Value::Int(_) => format!("({})", object.python_repr()),
                _ => operand(object, 4),
            };
            format!("{obj}.{attr}")
        }
        Expr::Call { func, args, kwargs } => {
            let mut parts: Vec<String> = args.iter().map(Value::python_repr).collect();
            for (name, v) in kwargs {
                parts.push(match name {
                    Some(n) => format!("{n}={}", v.python_repr()),
                    None => format!("**{}", operand(v, 3)),
                });
            }
            format!("{}({})", operand(func, 4), parts.join(", "))
        }
        Expr::Starred(v) => format!("*{}", operand(v, 3)),
        Expr::BinOp { op, left, right } => {
            let p = if *op == BinOp::Add { 1 } else { 2 };
            let (left, right) = (operand(left, p), operand(right, p + 1));
            format!("{left} {} {right}", op.symbol())
        }
        Expr::Neg(v) => format!("-{}", operand(v, 3)),
        Expr::Subscript { value, index } => {
            format!("{}[{}]", operand(value, 4), index.python_repr())
        }
    }
}

impl Value {
    /// Python's `repr()` of a literal (`'a'`, `1e+16`, `(1+2j)`, `b'\x00'`, `{1: 'b'}`);
    /// expressions are rendered as source text (`os.getcwd()`, `a.b + '/x'`).
    pub fn python_repr(&self) -> String {
        let join = |items: &[Value]| {
            items
                .iter()
                .map(Value::python_repr)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Value::None => "None".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => float_repr(*f),
            // `1j`, `(1+2j)`, `(-0-1j)`, `(nan+infj)`.
            Value::Complex { re, im } if *re == 0.0 && re.is_sign_positive() => {
                format!("{}j", format_float(*im, false))
            }
            Value::Complex { re, im } => {
                let (re, im) = (format_float(*re, false), format_float(*im, false));
                let sign = if im.starts_with('-') { "" } else { "+" };
                format!("({re}{sign}{im}j)")
            }
            Value::Str(s) => quoted(s.chars().map(u32::from), false),
            Value::Bytes(b) => quoted(b.iter().map(|&c| u32::from(c)), true),
            Value::List(items) => format!("[{}]", join(items)),
            Value::Tuple(items) if items.len() == 1 => format!("({},)", items[0].python_repr()),
            Value::Tuple(items) => format!("({})", join(items)),
            Value::Dict(items) => {
                let pairs = items
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.python_repr(), v.python_repr()));
                format!("{{{}}}", pairs.collect::<Vec<_>>().join(", "))
            }
            Value::Ellipsis => "Ellipsis".into(),
            Value::Expr(e) => expr_repr(e),
        }
    }
}
