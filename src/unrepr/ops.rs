//! Python's `+`, `*`, unary `-`, subscripts and dict keys, on literal values.
//!
//! Only called when every operand is a literal; anything involving an expression stays an
//! expression. Results are bounded (see [`MAX_WEIGHT`]) where Python would happily build
//! gigabytes or fail with `MemoryError`.

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::value::Value;

/// Largest result we build: 16 MiB, counting string and bytes contents by their length and
/// every item of a list, tuple or dict as 16 bytes (so a million items). CherryPy would go
/// on until `MemoryError`; a config never needs this much.
pub(super) const MAX_WEIGHT: usize = 16 << 20;
/// Largest integer result, in bits (about 2.5 million decimal digits).
const MAX_INT_BITS: u64 = 1 << 23;

/// Why an operation failed, as the Python exception class it stands for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum OpError {
    /// `TypeError`.
    Type(String),
    /// `IndexError` or `KeyError`.
    Index(String),
    /// `OverflowError` / `MemoryError`, or our own size bound.
    TooLarge(String),
}

type OpResult = Result<Value, OpError>;

/// Python's name for a literal's type, as in its error messages.
pub(super) fn py_type(v: &Value) -> &'static str {
    match v {
        Value::None => "NoneType",
        Value::Ellipsis => "ellipsis",
        other => other.type_name(),
    }
}

/// A number operand, with `bool` as an `int`.
enum Num {
    Int(BigInt),
    Float(f64),
    Complex(f64, f64),
}

fn num(v: &Value) -> Option<Num> {
    Some(match v {
        Value::Bool(b) => Num::Int(BigInt::from(u8::from(*b))),
        Value::Int(i) => Num::Int(i.clone()),
        Value::Float(f) => Num::Float(*f),
        Value::Complex { re, im } => Num::Complex(*re, *im),
        _ => return None,
    })
}

/// `float(i)`, which raises `OverflowError` past the float range.
pub(super) fn int_to_f64(i: &BigInt) -> Result<f64, OpError> {
    let f = if i.bits() > 1100 {
        f64::INFINITY
    } else {
        i.to_f64().unwrap_or(f64::INFINITY)
    };
    if f.is_finite() {
        Ok(f)
    } else {
        Err(OpError::TooLarge(
            "int too large to convert to float".into(),
        ))
    }
}

fn as_complex(n: &Num) -> Result<(f64, f64), OpError> {
    Ok(match n {
        Num::Int(i) => (int_to_f64(i)?, 0.0),
        Num::Float(f) => (*f, 0.0),
        Num::Complex(re, im) => (*re, *im),
    })
}

fn check_int(i: BigInt) -> OpResult {
    if i.bits() > MAX_INT_BITS {
        return Err(OpError::TooLarge("integer result too large".into()));
    }
    Ok(Value::Int(i))
}

fn arith(a: Num, b: Num, mul: bool) -> OpResult {
    match (&a, &b) {
        (Num::Int(x), Num::Int(y)) => {
            if mul && x.bits() + y.bits() > MAX_INT_BITS + 1 {
                return Err(OpError::TooLarge("integer result too large".into()));
            }
            check_int(if mul { x * y } else { x + y })
        }
        (Num::Complex(..), _) | (_, Num::Complex(..)) => {
            // CPython converts the other operand to `complex(x, 0.0)` and uses the full
            // formulas, which matters for signed zeros, inf and nan.
            let ((ar, ai), (br, bi)) = (as_complex(&a)?, as_complex(&b)?);
            let (re, im) = if mul {
                (ar * br - ai * bi, ar * bi + ai * br)
            } else {
                (ar + br, ai + bi)
            };
            Ok(Value::Complex { re, im })
        }
        _ => {
            let (x, y) = (as_complex(&a)?.0, as_complex(&b)?.0);
            Ok(Value::Float(if mul { x * y } else { x + y }))
        }
    }
}

/// How much memory a value stands for (see [`MAX_WEIGHT`]).
pub(crate) fn weight(v: &Value) -> usize {
    match v {
        Value::Str(s) => 16 + s.len(),
        Value::Bytes(b) => 16 + b.len(),
        Value::List(items) | Value::Tuple(items) => {
            items.iter().map(weight).fold(16, usize::saturating_add)
        }
        Value::Dict(items) => items
            .iter()
            .map(|(k, v)| weight(k).saturating_add(weight(v)))
            .fold(16, usize::saturating_add),
        Value::Expr(_) => 64,
        _ => 16,
    }
}

fn too_large() -> OpError {
    OpError::TooLarge(format!(
        "the result would be larger than {} MiB",
        MAX_WEIGHT >> 20
    ))
}

/// `a + b`.
pub(super) fn add(a: Value, b: Value) -> OpResult {
    if let (Some(x), Some(y)) = (num(&a), num(&b)) {
        return arith(x, y, false);
    }
    if weight(&a).saturating_add(weight(&b)) > MAX_WEIGHT {
        return Err(too_large());
    }
    match (a, b) {
        (Value::Str(mut x), Value::Str(y)) => {
            x.push_str(&y);
            Ok(Value::Str(x))
        }
        (Value::Bytes(mut x), Value::Bytes(y)) => {
            x.extend(y);
            Ok(Value::Bytes(x))
        }
        (Value::List(mut x), Value::List(y)) => {
            x.extend(y);
            Ok(Value::List(x))
        }
        (Value::Tuple(mut x), Value::Tuple(y)) => {
            x.extend(y);
            Ok(Value::Tuple(x))
        }
        (a, b) => Err(OpError::Type(match &a {
            Value::Str(_) | Value::List(_) | Value::Tuple(_) => {
                format!(
                    "can only concatenate {} (not \"{}\") to {}",
                    py_type(&a),
                    py_type(&b),
                    py_type(&a)
                )
            }
            Value::Bytes(_) => format!("can't concat {} to bytes", py_type(&b)),
            _ => format!(
                "unsupported operand type(s) for +: '{}' and '{}'",
                py_type(&a),
                py_type(&b)
            ),
        })),
    }
}

fn is_sequence(v: &Value) -> bool {
    matches!(
        v,
        Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_)
    )
}

/// `a * b`.
pub(super) fn mul(a: Value, b: Value) -> OpResult {
    if let (Some(x), Some(y)) = (num(&a), num(&b)) {
        return arith(x, y, true);
    }
    let (seq, count) = match (is_sequence(&a), is_sequence(&b)) {
        (true, _) => (a, b),
        (false, true) => (b, a),
        _ => {
            return Err(OpError::Type(format!(
                "unsupported operand type(s) for *: '{}' and '{}'",
                py_type(&a),
                py_type(&b)
            )));
        }
    };
    let n = match &count {
        Value::Int(i) => i.clone(),
        Value::Bool(b) => BigInt::from(u8::from(*b)),
        other => {
            return Err(OpError::Type(format!(
                "can't multiply sequence by non-int of type '{}'",
                py_type(other)
            )));
        }
    };
    // CPython converts the count to a C `Py_ssize_t` first.
    let Some(n) = n.to_i64() else {
        return Err(OpError::TooLarge(
            "cannot fit 'int' into an index-sized integer".into(),
        ));
    };
    let n = usize::try_from(n).unwrap_or(0);
    let empty = match &seq {
        Value::Str(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(v) | Value::Tuple(v) => v.is_empty(),
        _ => true,
    };
    if n == 0 || empty {
        return Ok(match seq {
            Value::Str(_) => Value::Str(String::new()),
            Value::Bytes(_) => Value::Bytes(Vec::new()),
            Value::List(_) => Value::List(Vec::new()),
            _ => Value::Tuple(Vec::new()),
        });
    }
    if weight(&seq).saturating_sub(16).saturating_mul(n) > MAX_WEIGHT {
        return Err(too_large());
    }
    Ok(match seq {
        Value::Str(s) => Value::Str(s.repeat(n)),
        Value::Bytes(b) => Value::Bytes(b.repeat(n)),
        Value::List(v) => Value::List(repeat(v, n)),
        Value::Tuple(v) => Value::Tuple(repeat(v, n)),
        other => other,
    })
}

fn repeat(items: Vec<Value>, n: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(items.len() * n);
    for _ in 0..n {
        out.extend(items.iter().cloned());
    }
    out
}

/// `-a`.
pub(super) fn neg(a: Value) -> OpResult {
    match a {
        Value::Bool(b) => Ok(Value::Int(-BigInt::from(u8::from(b)))),
        Value::Int(i) => Ok(Value::Int(-i)),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Complex { re, im } => Ok(Value::Complex { re: -re, im: -im }),
        other => Err(OpError::Type(format!(
            "bad operand type for unary -: '{}'",
            py_type(&other)
        ))),
    }
}
