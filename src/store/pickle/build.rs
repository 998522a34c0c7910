//! The last step of reading a pickle: owned session values from the measured arena.

use super::grow_stack;
use super::objects::Dict;
use super::objects::{Node, Obj};
use crate::session_value::{SessionData, SessionValue};

/// Turns the arena graph into owned session values, once [`expand::Graph`] has measured
/// them within the budget (so neither depth nor size needs checking here).
pub(super) struct Build<'a> {
    pub(super) arena: &'a [Node],
    /// Values built.
    pub(super) built: u64,
}

impl Build<'_> {
    pub(super) fn session(&mut self, dict: &Dict) -> SessionData {
        let mut out = SessionData::with_capacity(dict.items.len());
        for (k, v) in &dict.items {
            if let Obj::Str(k) = k {
                let v = self.value(v);
                out.insert(k.to_string(), v);
            }
        }
        out
    }

    fn value(&mut self, obj: &Obj) -> SessionValue {
        self.built += 1;
        match obj {
            Obj::Bool(b) => SessionValue::Bool(*b),
            Obj::Int(i) => SessionValue::Int(*i),
            Obj::Big(b) => SessionValue::BigInt((**b).clone()),
            Obj::Float(f) => SessionValue::Float(*f),
            Obj::Str(s) => SessionValue::Str(s.to_string()),
            Obj::Bytes(b) => SessionValue::Bytes(b.to_vec()),
            Obj::List(id) | Obj::Tuple(id) | Obj::Dict(id) => match &self.arena[*id] {
                Node::List(items) => SessionValue::List(self.items(items)),
                Node::Tuple(items, _) => SessionValue::Tuple(self.items(items)),
                Node::Dict(dict) => SessionValue::Dict(
                    dict.items
                        .iter()
                        .map(|(k, v)| {
                            let k = grow_stack(|| self.value(k));
                            (k, grow_stack(|| self.value(v)))
                        })
                        .collect(),
                ),
            },
            // The measure refused everything else.
            _ => SessionValue::None,
        }
    }

    fn items(&mut self, items: &[Obj]) -> Vec<SessionValue> {
        items
            .iter()
            .map(|item| grow_stack(|| self.value(item)))
            .collect()
    }
}
