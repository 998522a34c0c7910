//! The JSON reading of a value (`compat/FORMAT.md`, shared with the CherryPy oracle).

use serde_json::{Map, Number, Value as Json};

use super::value::{Expr, Value};

/// A JSON number with exactly this text (the `json` feature enables serde_json's
/// `arbitrary_precision`, so big ints keep every digit and floats keep Python's `repr`,
/// e.g. `1e+16`).
fn number(text: &str) -> Json {
    let text_json = || Json::String(text.to_string());
    text.parse::<Number>()
        .map_or_else(|_| text_json(), Json::Number)
}

/// `{"type": type_name, ...fields}`, in this order. (Not `json!`, which would copy every
/// nested value once more through `Serialize`.)
fn object<const N: usize>(type_name: &str, fields: [(&str, Json); N]) -> Json {
    let mut map = Map::with_capacity(N + 1);
    map.insert("type".into(), Json::String(type_name.into()));
    map.extend(fields.map(|(k, v)| (k.to_string(), v)));
    Json::Object(map)
}

fn items(values: &[Value]) -> Json {
    Json::Array(values.iter().map(Value::to_json).collect())
}

fn text(s: &str) -> Json {
    Json::String(s.to_string())
}

impl Value {
    /// The value as `compat/FORMAT.md` writes it, e.g. `{"type":"int","value":8080}`.
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn to_json(&self) -> Json {
        let (t, repr) = (self.type_name(), || Json::String(self.python_repr()));
        match self {
            Value::None | Value::Ellipsis => object(t, []),
            Value::Bool(b) => object(t, [("value", Json::Bool(*b))]),
            Value::Int(i) => object(t, [("value", number(&i.to_string()))]),
            Value::Float(f) if f.is_finite() => {
                let repr = self.python_repr();
                object(t, [("value", number(&repr)), ("repr", Json::String(repr))])
            }
            Value::Float(_) | Value::Complex { .. } => object(t, [("repr", repr())]),
            Value::Str(s) => object(t, [("value", text(s))]),
            Value::Bytes(b) => {
                let latin1 = b.iter().map(|&c| char::from(c)).collect();
                object(t, [("value", Json::String(latin1)), ("repr", repr())])
            }
            Value::List(v) | Value::Tuple(v) => object(t, [("items", items(v))]),
            Value::Dict(pairs) => {
                let pair = |(k, v): &(Value, Value)| Json::Array(vec![k.to_json(), v.to_json()]);
                object(t, [("items", pairs.iter().map(pair).collect())])
            }
            Value::Expr(e) => match &**e {
                Expr::Name { dotted, resolved } => object(
                    t,
                    [("value", text(dotted)), ("resolved", Json::Bool(*resolved))],
                ),
                Expr::Attribute { object: o, attr } => {
                    object(t, [("object", o.to_json()), ("attr", text(attr))])
                }
                Expr::Call { func, args, kwargs } => {
                    // A callee that is a name is written as its dotted text.
                    let func = match func {
                        Value::Expr(f) => match &**f {
                            Expr::Name { dotted, .. } => text(dotted),
                            _ => func.to_json(),
                        },
                        other => other.to_json(),
                    };
                    let kwarg = |(k, v): &(Option<String>, Value)| {
                        Json::Array(vec![k.as_deref().map_or(Json::Null, text), v.to_json()])
                    };
                    let kwargs = kwargs.iter().map(kwarg).collect();
                    object(
                        t,
                        [("func", func), ("args", items(args)), ("kwargs", kwargs)],
                    )
                }
                Expr::Starred(v) => object(t, [("value", v.to_json())]),
                Expr::BinOp { op, left, right } => object(
                    t,
                    [
                        ("op", text(op.symbol())),
                        ("left", left.to_json()),
                        ("right", right.to_json()),
                    ],
                ),
                Expr::Neg(v) => object(t, [("operand", v.to_json())]),
                Expr::Subscript { value, index } => {
                    object(t, [("value", value.to_json()), ("index", index.to_json())])
                }
            },
        }
    }
}
