//! Python's `+`, `*`, unary `-`, subscripts and dict keys, on literal values.
//!
//! Only called when every operand is a literal; anything involving an expression stays an
//! expression. Results are bounded (see [`MAX_WEIGHT`]) where Python would happily build
//! gigabytes or fail with `MemoryError`.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};

use super::codes::{INDEX, TOO_LARGE, TYPE};
use super::value::{Expr, Value};

/// Largest result we build: 16 MiB, weighed as it takes in memory (see [`weight`]): a
/// list of 250,000 small ints, or a string of 16 million bytes. CherryPy would go on
/// until `MemoryError`; a config never needs this much.
pub(super) const MAX_WEIGHT: usize = 16 << 20;
/// Largest integer result, in bits (about 2.5 million decimal digits).
const MAX_INT_BITS: u64 = 1 << 23;

/// Why an operation failed: the error code of the Python exception it stands for, and its
/// message.
pub(super) type OpError = (&'static str, String);

type OpResult = Result<Value, OpError>;

/// Python's name for a literal's type, as in its error messages.
pub(super) fn py_type(v: &Value) -> &'static str {
    match v {
        Value::None => "NoneType",
        Value::Ellipsis => "ellipsis",
        other => other.type_name(),
    }
}

/// What any value takes in its place (an item of a list, a key or value of a dict).
pub(super) const SLOT: usize = size_of::<Value>();

/// What an expression takes before its parts and names: its place and its box.
const EXPR: usize = SLOT + heap(size_of::<Expr>());

/// What an allocation of `n` bytes takes from the allocator: with its header, in 16-byte
/// steps of at least 32 bytes (glibc's `malloc`).
pub(crate) const fn heap(n: usize) -> usize {
    match n {
        0 => 0,
        n if n <= 24 => 32,
        n => n.saturating_add(8 + 15) & !15,
    }
}

/// About how much memory a value takes: [`SLOT`] for itself, and what it owns on the heap.
/// A name in a list takes 160 bytes, a small int or a one-byte string 64.
pub(crate) fn weight(v: &Value) -> usize {
    fn sum<'v>(base: usize, parts: impl Iterator<Item = &'v Value>) -> usize {
        parts.map(weight).fold(base, usize::saturating_add)
    }
    match v {
        Value::Str(s) => SLOT + heap(s.len()),
        Value::Bytes(b) => SLOT + heap(b.len()),
        Value::Int(i) => SLOT + heap(i.bits().div_ceil(64) as usize * 8),
        Value::List(items) | Value::Tuple(items) => sum(SLOT, items.iter()),
        Value::Dict(items) => sum(SLOT, items.iter().flat_map(|(k, v)| [k, v])),
        Value::Expr(e) => match &**e {
            Expr::Attribute { object: v, .. } | Expr::Starred(v) | Expr::Neg(v) => {
                sum(expr_weight(e), std::iter::once(v))
            }
            Expr::Call { func, args, kwargs } => {
                let kwargs = kwargs.iter().map(|(_, v)| v);
                sum(
                    expr_weight(e),
                    std::iter::once(func).chain(args).chain(kwargs),
                )
            }
            Expr::BinOp { left, right, .. } => sum(expr_weight(e), [left, right].into_iter()),
            Expr::Subscript { value, index } => sum(expr_weight(e), [value, index].into_iter()),
            Expr::Name { .. } => expr_weight(e),
        },
        _ => SLOT,
    }
}

/// What an expression takes without the values it holds: its place, its box and the
/// names it owns (a dotted name, an attribute's name, a call's keyword names).
pub(super) fn expr_weight(e: &Expr) -> usize {
    let names = match e {
        Expr::Name { dotted, .. } => heap(dotted.len()),
        Expr::Attribute { attr, .. } => heap(attr.len()),
        Expr::Call { kwargs, .. } => kwargs
            .iter()
            .map(|(name, _)| {
                size_of::<Option<String>>() + name.as_ref().map_or(0, |n| heap(n.len()))
            })
            .fold(0, usize::saturating_add),
        _ => 0,
    };
    EXPR.saturating_add(names)
}

pub(super) fn too_large() -> OpError {
    let message = format!("the result would be larger than {} MiB", MAX_WEIGHT >> 20);
    (TOO_LARGE, message)
}

/// An `int` operand (`bool` is one).
fn int(v: &Value) -> Option<BigInt> {
    match v {
        Value::Bool(b) => Some(BigInt::from(u8::from(*b))),
        Value::Int(i) => Some(i.clone()),
        _ => None,
    }
}

/// `float(i)`, which raises `OverflowError` past the float range.
fn int_to_f64(i: &BigInt) -> Result<f64, OpError> {
    let f = if i.bits() > 1100 { None } else { i.to_f64() };
    f.filter(|f| f.is_finite())
        .ok_or((TOO_LARGE, "int too large to convert to float".into()))
}

/// A number operand as `complex` parts, with whether it is one (`None`: not a number).
fn complex(v: &Value) -> Option<Result<(f64, f64, bool), OpError>> {
    Some(match v {
        Value::Float(f) => Ok((*f, 0.0, false)),
        Value::Complex { re, im } => Ok((*re, *im, true)),
        _ => int_to_f64(&int(v)?).map(|f| (f, 0.0, false)),
    })
}

/// `a + b` or `a * b` on numbers; `None` if an operand is not a number.
fn arith(a: &Value, b: &Value, mul: bool) -> Option<OpResult> {
    let (x, y) = (complex(a)?, complex(b)?);
    let too_large = || Err((TOO_LARGE, "integer result too large".to_string()));
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        if mul && x.bits() + y.bits() > MAX_INT_BITS + 1 {
            return Some(too_large());
        }
        let i = if mul { x * y } else { x + y };
        return Some(if i.bits() > MAX_INT_BITS {
            too_large()
        } else {
            Ok(Value::Int(i))
        });
    }
    let ((ar, ai, ac), (br, bi, bc)) = match (x, y) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return Some(Err(e)),
    };
    // CPython converts the other operand to `complex(x, 0.0)` and uses the full formulas,
    // which matters for signed zeros, inf and nan.
    let (re, im) = if mul {
        (ar * br - ai * bi, ar * bi + ai * br)
    } else {
        (ar + br, ai + bi)
    };
    Some(Ok(if ac || bc {
        Value::Complex { re, im }
    } else {
        Value::Float(re)
    }))
}

/// `a + b`.
pub(super) fn add(a: Value, b: Value) -> OpResult {
    if let Some(r) = arith(&a, &b, false) {
        return r;
    }
    if weight(&a).saturating_add(weight(&b)) > MAX_WEIGHT {
        return Err(too_large());
    }
    let (ta, tb) = (py_type(&a), py_type(&b));
    let message = match (a, b) {
        (Value::Str(x), Value::Str(y)) => return Ok(Value::Str(x + &y)),
        (Value::Bytes(x), Value::Bytes(y)) => return Ok(Value::Bytes([x, y].concat())),
        (Value::List(x), Value::List(y)) => {
            return Ok(Value::List(x.into_iter().chain(y).collect()));
        }
        (Value::Tuple(x), Value::Tuple(y)) => {
            return Ok(Value::Tuple(x.into_iter().chain(y).collect()));
        }
        (Value::Str(_) | Value::List(_) | Value::Tuple(_), _) => {
            format!("can only concatenate {ta} (not \"{tb}\") to {ta}")
        }
        (Value::Bytes(_), _) => format!("can't concat {tb} to bytes"),
        _ => format!("unsupported operand type(s) for +: '{ta}' and '{tb}'"),
    };
    Err((TYPE, message))
}

/// `a * b`.
pub(super) fn mul(a: Value, b: Value) -> OpResult {
    if let Some(r) = arith(&a, &b, true) {
        return r;
    }
    let (ta, tb) = (py_type(&a), py_type(&b));
    let (seq, count) = match (&a, &b) {
        (Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_), _) => (a, b),
        (_, Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_)) => (b, a),
        _ => {
            let message = format!("unsupported operand type(s) for *: '{ta}' and '{tb}'");
            return Err((TYPE, message));
        }
    };
    let Some(n) = int(&count) else {
        let message = format!(
            "can't multiply sequence by non-int of type '{}'",
            py_type(&count)
        );
        return Err((TYPE, message));
    };
    // CPython converts the count to a C `Py_ssize_t` first.
    let Some(n) = n.to_i64() else {
        let message = "cannot fit 'int' into an index-sized integer".into();
        return Err((TOO_LARGE, message));
    };
    // An empty sequence weighs a slot, and stays empty.
    let n = if weight(&seq) == SLOT {
        0
    } else {
        usize::try_from(n).unwrap_or(0)
    };
    // Text is one allocation; a list or tuple holds copies of its items.
    let made = match &seq {
        Value::Str(s) => heap(s.len().saturating_mul(n)),
        Value::Bytes(b) => heap(b.len().saturating_mul(n)),
        _ => weight(&seq).saturating_sub(SLOT).saturating_mul(n),
    };
    if made > MAX_WEIGHT {
        return Err(too_large());
    }
    let repeat = |items: Vec<Value>| (0..n).flat_map(|_| items.iter().cloned()).collect();
    Ok(match seq {
        Value::Str(s) => Value::Str(s.repeat(n)),
        Value::Bytes(b) => Value::Bytes(b.repeat(n)),
        Value::List(v) => Value::List(repeat(v)),
        Value::Tuple(v) => Value::Tuple(repeat(v)),
        other => other,
    })
}

/// `-a`.
pub(super) fn neg(a: Value) -> OpResult {
    match a {
        Value::Bool(b) => Ok(Value::Int(-BigInt::from(u8::from(b)))),
        Value::Int(i) => Ok(Value::Int(-i)),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Complex { re, im } => Ok(Value::Complex { re: -re, im: -im }),
        other => Err((
            TYPE,
            format!("bad operand type for unary -: '{}'", py_type(&other)),
        )),
    }
}

/// A dict key under Python's equality: equal keys have equal `HashKey`s.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HashKey {
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

/// The key of a hashable value, or `TypeError: unhashable type`. `unique` numbers keys that
/// equal nothing else.
fn hash_key(v: &Value, unique: &mut usize) -> Result<HashKey, OpError> {
    let mut float = |f: f64| match f {
        f if f.is_nan() => {
            *unique += 1;
            HashKey::Unique(*unique)
        }
        f if f.is_finite() && f.fract() == 0.0 => {
            HashKey::Int(BigInt::from_f64(f).unwrap_or_default())
        }
        f => HashKey::Float(f.to_bits()),
    };
    let zero = |x: f64| if x == 0.0 { 0.0 } else { x };
    Ok(match v {
        Value::None => HashKey::None,
        Value::Ellipsis => HashKey::Ellipsis,
        Value::Bool(_) | Value::Int(_) => HashKey::Int(int(v).unwrap_or_default()),
        Value::Float(f) => float(*f),
        Value::Complex { re, im } if *im == 0.0 => float(*re),
        Value::Complex { re, im } if re.is_nan() || im.is_nan() => float(f64::NAN),
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
            return Err((TYPE, format!("unhashable type: '{}'", py_type(v))));
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
            return Err((INDEX, format!("KeyError: {}", index.python_repr())));
        }
        other => {
            let message = format!("'{}' object is not subscriptable", py_type(other));
            return Err((TYPE, message));
        }
    };
    let Some(i) = int(index) else {
        let (vt, it) = (py_type(value), py_type(index));
        let message = match value {
            Value::Str(_) => format!("string indices must be integers, not '{it}'"),
            Value::Bytes(_) => format!("byte indices must be integers or slices, not {it}"),
            _ => format!("{vt} indices must be integers or slices, not {it}"),
        };
        return Err((TYPE, message));
    };
    let Some(i) = i.to_i64() else {
        return Err((INDEX, "cannot fit 'int' into an index-sized integer".into()));
    };
    let at = if i < 0 { i + len as i64 } else { i };
    if at < 0 || at >= len as i64 {
        return Err((INDEX, format!("{what} index out of range")));
    }
    let at = at as usize;
    Ok(Some(match value {
        Value::List(v) | Value::Tuple(v) => v[at].clone(),
        Value::Str(s) => Value::Str(s.chars().nth(at).map(String::from).unwrap_or_default()),
        Value::Bytes(b) => Value::Int(BigInt::from(b[at])),
        _ => return Ok(None),
    }))
}
