//! The JSON reading of a value (`compat/FORMAT.md`, shared with the CherryPy oracle).

use serde_json::{Map, Number, Value as Json, json};

use super::repr::{bytes_repr, complex_repr, float_repr};
use super::value::{Expr, Value};

/// A JSON number with exactly this text (the `json` feature enables serde_json's
/// `arbitrary_precision`, so big ints keep every digit and floats keep Python's `repr`,
/// e.g. `1e+16`).
fn number(text: &str) -> Json {
    text.parse::<Number>()
        .map(Json::Number)
        .unwrap_or_else(|_| Json::String(text.to_string()))
}

fn object(type_name: &str, fields: Vec<(&str, Json)>) -> Json {
    let mut map = Map::with_capacity(fields.len() + 1);
    map.insert("type".into(), Json::String(type_name.into()));
    for (k, v) in fields {
        map.insert(k.into(), v);
    }
    Json::Object(map)
}

fn items(values: &[Value]) -> Json {
    Json::Array(values.iter().map(Value::to_json).collect())
}

impl Value {
    /// The value as `compat/FORMAT.md` writes it, e.g. `{"type":"int","value":8080}`.
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn to_json(&self) -> Json {
        let t = self.type_name();
        match self {
            Value::None | Value::Ellipsis => object(t, vec![]),
            Value::Bool(b) => object(t, vec![("value", Json::Bool(*b))]),
            Value::Int(i) => object(t, vec![("value", number(&i.to_string()))]),
            Value::Float(f) if f.is_finite() => {
                let repr = float_repr(*f);
                object(
                    t,
                    vec![("value", number(&repr)), ("repr", Json::String(repr))],
                )
            }
            Value::Float(f) => object(t, vec![("repr", Json::String(float_repr(*f)))]),
            Value::Complex { re, im } => {
                object(t, vec![("repr", Json::String(complex_repr(*re, *im)))])
            }
            Value::Str(s) => object(t, vec![("value", Json::String(s.clone()))]),
            Value::Bytes(b) => {
                let latin1: String = b.iter().map(|&c| char::from(c)).collect();
                object(
                    t,
                    vec![
                        ("value", Json::String(latin1)),
                        ("repr", Json::String(bytes_repr(b))),
                    ],
                )
            }
            Value::List(v) | Value::Tuple(v) => object(t, vec![("items", items(v))]),
            Value::Dict(pairs) => {
                let pairs = pairs
                    .iter()
                    .map(|(k, v)| json!([k.to_json(), v.to_json()]))
                    .collect();
                object(t, vec![("items", Json::Array(pairs))])
            }
            Value::Expr(e) => match &**e {
                Expr::Name { dotted, resolved } => object(
                    t,
                    vec![
                        ("value", Json::String(dotted.clone())),
                        ("resolved", Json::Bool(*resolved)),
                    ],
                ),
                Expr::Attribute { object: o, attr } => object(
                    t,
                    vec![
                        ("object", o.to_json()),
                        ("attr", Json::String(attr.clone())),
                    ],
                ),
                Expr::Call { func, args, kwargs } => {
                    let func = match func {
                        Value::Expr(f) if matches!(**f, Expr::Name { .. }) => match &**f {
                            Expr::Name { dotted, .. } => Json::String(dotted.clone()),
                            _ => unreachable!("matched a name"),
                        },
                        other => other.to_json(),
                    };
                    let kwargs = kwargs
                        .iter()
                        .map(|(k, v)| json!([k, v.to_json()]))
                        .collect();
                    object(
                        t,
                        vec![
                            ("func", func),
                            ("args", items(args)),
                            ("kwargs", Json::Array(kwargs)),
                        ],
                    )
                }
                Expr::Starred(v) => object(t, vec![("value", v.to_json())]),
                Expr::BinOp { op, left, right } => object(
                    t,
                    vec![
                        ("op", Json::String(op.symbol().into())),
                        ("left", left.to_json()),
                        ("right", right.to_json()),
                    ],
                ),
                Expr::Neg(v) => object(t, vec![("operand", v.to_json())]),
                Expr::Subscript { value, index } => object(
                    t,
                    vec![("value", value.to_json()), ("index", index.to_json())],
                ),
            },
        }
    }
}
