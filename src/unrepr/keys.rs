//! Dict keys under Python's equality, and subscripts of literal values.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};

use super::ops::{OpError, py_type};
use super::value::{Expr, Value};

/// A dict key under Python's equality: equal keys have equal `HashKey`s.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum HashKey {
    /// Any number with an integral value (`1`, `True`, `1.0`, `(1+0j)`).
    Int(BigInt),
    /// A non-integral float (by its bits; `-0.0` is the integer 0).
    Float(u64),
    Complex(u64, u64),
    Str(String),
    Bytes(Vec<u8>),
    None,
    Ellipsis,
    Tuple(Vec<HashKey>),
    /// A dotted name: the same name is the same object.
    Name(String),
    /// Equal to nothing else (`nan`, other expressions).
    Unique(usize),
}

fn float_key(f: f64, unique: &mut usize) -> HashKey {
    if f.is_nan() {
        *unique += 1;
        return HashKey::Unique(*unique);
    }
    if f.is_finite() && f.fract() == 0.0 {
        return HashKey::Int(BigInt::from_f64(f).unwrap_or_default());
    }
    HashKey::Float(f.to_bits())
}

/// The key of a hashable value, or `TypeError: unhashable type`. `unique` numbers keys
/// that equal nothing else.
pub(super) fn hash_key(v: &Value, unique: &mut usize) -> Result<HashKey, OpError> {
    let zero = |x: f64| if x == 0.0 { 0.0 } else { x };
    Ok(match v {
        Value::None => HashKey::None,
        Value::Ellipsis => HashKey::Ellipsis,
        Value::Bool(b) => HashKey::Int(BigInt::from(u8::from(*b))),
        Value::Int(i) => HashKey::Int(i.clone()),
        Value::Float(f) => float_key(*f, unique),
        Value::Complex { re, im } if *im == 0.0 => float_key(*re, unique),
        Value::Complex { re, im } if re.is_nan() || im.is_nan() => float_key(f64::NAN, unique),
        Value::Complex { re, im } => HashKey::Complex(zero(*re).to_bits(), zero(*im).to_bits()),
        Value::Str(s) => HashKey::Str(s.clone()),
        Value::Bytes(b) => HashKey::Bytes(b.clone()),
        Value::Tuple(items) => HashKey::Tuple(
            items
                .iter()
                .map(|i| hash_key(i, unique))
                .collect::<Result<_, _>>()?,
        ),
        Value::List(_) | Value::Dict(_) => {
            return Err(OpError::Type(format!("unhashable type: '{}'", py_type(v))));
        }
        Value::Expr(e) => match &**e {
            Expr::Name { dotted, .. } => HashKey::Name(dotted.clone()),
            _ => {
                *unique += 1;
                HashKey::Unique(*unique)
            }
        },
    })
}

/// `dict(pairs)`: the first of equal keys is kept, with the last value. An error comes with
/// the position in `pairs` of the key that caused it.
pub(super) fn build_dict(
    pairs: Vec<(Value, Value)>,
) -> Result<Vec<(Value, Value)>, (usize, OpError)> {
    let mut unique = 0;
    let mut index: HashMap<HashKey, usize> = HashMap::with_capacity(pairs.len());
    let mut out: Vec<(Value, Value)> = Vec::with_capacity(pairs.len());
    for (pos, (k, v)) in pairs.into_iter().enumerate() {
        let key = hash_key(&k, &mut unique).map_err(|e| (pos, e))?;
        match index.get(&key) {
            Some(&i) => out[i].1 = v,
            None => {
                index.insert(key, out.len());
                out.push((k, v));
            }
        }
    }
    Ok(out)
}

/// Whether a value holds an expression anywhere (whose Python value is unknown).
fn contains_expr(v: &Value) -> bool {
    match v {
        Value::Expr(_) => true,
        Value::List(items) | Value::Tuple(items) => items.iter().any(contains_expr),
        Value::Dict(items) => items
            .iter()
            .any(|(k, v)| contains_expr(k) || contains_expr(v)),
        _ => false,
    }
}

/// Whether `value[...]` can work for some index (the types [`subscript`] handles).
pub(super) fn is_subscriptable(value: &Value) -> bool {
    matches!(
        value,
        Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Bytes(_) | Value::Dict(_)
    )
}

/// `value[index]` on literals. `Ok(None)` when the answer depends on an expression (a dict
/// with expression keys that might equal the index).
pub(super) fn subscript(value: &Value, index: &Value) -> Result<Option<Value>, OpError> {
    let (len, what) = match value {
        Value::List(v) => (v.len(), "list"),
        Value::Tuple(v) => (v.len(), "tuple"),
        Value::Str(s) => (s.chars().count(), "string"),
        Value::Bytes(b) => (b.len(), "index"),
        Value::Dict(items) => {
            let mut unique = 0;
            let key = hash_key(index, &mut unique)?;
            for (k, v) in items {
                if hash_key(k, &mut unique)? == key {
                    return Ok(Some(v.clone()));
                }
            }
            // A key that is an expression might equal the index: only running it would tell.
            if items.iter().any(|(k, _)| contains_expr(k)) || contains_expr(index) {
                return Ok(None);
            }
            return Err(OpError::Index(format!("KeyError: {}", index.python_repr())));
        }
        other => {
            return Err(OpError::Type(format!(
                "'{}' object is not subscriptable",
                py_type(other)
            )));
        }
    };
    let i = match index {
        Value::Int(i) => i.clone(),
        Value::Bool(b) => BigInt::from(u8::from(*b)),
        other => {
            let msg = match value {
                Value::Str(_) => {
                    format!("string indices must be integers, not '{}'", py_type(other))
                }
                Value::Bytes(_) => format!(
                    "byte indices must be integers or slices, not {}",
                    py_type(other)
                ),
                _ => format!(
                    "{} indices must be integers or slices, not {}",
                    py_type(value),
                    py_type(other)
                ),
            };
            return Err(OpError::Type(msg));
        }
    };
    let Some(i) = i.to_i64() else {
        return Err(OpError::Index(
            "cannot fit 'int' into an index-sized integer".into(),
        ));
    };
    let len = len as i64;
    let at = if i < 0 { i + len } else { i };
    if at < 0 || at >= len {
        return Err(OpError::Index(format!("{what} index out of range")));
    }
    let at = at as usize;
    Ok(Some(match value {
        Value::List(v) | Value::Tuple(v) => v[at].clone(),
        Value::Str(s) => Value::Str(s.chars().nth(at).map(String::from).unwrap_or_default()),
        Value::Bytes(b) => Value::Int(BigInt::from(b[at])),
        _ => unreachable!("non-sequences returned above"),
    }))
}
