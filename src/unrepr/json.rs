//! The JSON reading of a value (`compat/FORMAT.md`, shared with the CherryPy oracle).

use serde_json::{Number, Value as Json, json};

use super::repr::{bytes_repr, complex_repr, float_repr};
use super::value::{Expr, Value};

/// A JSON number with exactly this text (the `json` feature enables serde_json's
/// `arbitrary_precision`, so big ints keep every digit and floats keep Python's `repr`,
/// e.g. `1e+16`).
fn number(text: &str) -> Json {
    text.parse::<Number>()
        .map_or_else(|_| Json::String(text.to_string()), Json::Number)
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
            Value::None | Value::Ellipsis => json!({ "type": t }),
            Value::Bool(b) => json!({ "type": t, "value": b }),
            Value::Int(i) => json!({ "type": t, "value": number(&i.to_string()) }),
            Value::Float(f) if f.is_finite() => {
                let repr = float_repr(*f);
                json!({ "type": t, "value": number(&repr), "repr": repr })
            }
            Value::Float(f) => json!({ "type": t, "repr": float_repr(*f) }),
            Value::Complex { re, im } => json!({ "type": t, "repr": complex_repr(*re, *im) }),
            Value::Str(s) => json!({ "type": t, "value": s }),
            Value::Bytes(b) => {
                let latin1: String = b.iter().map(|&c| char::from(c)).collect();
                json!({ "type": t, "value": latin1, "repr": bytes_repr(b) })
            }
            Value::List(v) | Value::Tuple(v) => json!({ "type": t, "items": items(v) }),
            Value::Dict(pairs) => {
                let pairs: Vec<Json> = pairs
                    .iter()
                    .map(|(k, v)| json!([k.to_json(), v.to_json()]))
                    .collect();
                json!({ "type": t, "items": pairs })
            }
            Value::Expr(e) => match &**e {
                Expr::Name { dotted, resolved } => {
                    json!({ "type": t, "value": dotted, "resolved": resolved })
                }
                Expr::Attribute { object, attr } => {
                    json!({ "type": t, "object": object.to_json(), "attr": attr })
                }
                Expr::Call { func, args, kwargs } => {
                    let func = match func {
                        Value::Expr(f) => match &**f {
                            Expr::Name { dotted, .. } => Json::String(dotted.clone()),
                            _ => func.to_json(),
                        },
                        other => other.to_json(),
                    };
                    let kwargs: Vec<Json> = kwargs
                        .iter()
                        .map(|(k, v)| json!([k, v.to_json()]))
                        .collect();
                    json!({ "type": t, "func": func, "args": items(args), "kwargs": kwargs })
                }
                Expr::Starred(v) => json!({ "type": t, "value": v.to_json() }),
                Expr::BinOp { op, left, right } => {
                    json!({ "type": t, "op": op.symbol(), "left": left.to_json(), "right": right.to_json() })
                }
                Expr::Neg(v) => json!({ "type": t, "operand": v.to_json() }),
                Expr::Subscript { value, index } => {
                    json!({ "type": t, "value": value.to_json(), "index": index.to_json() })
                }
            },
        }
    }
}
