//! [`Typed`]: one written value once read, before it becomes a field of a
//! [`SessionConfig`](super::SessionConfig); [`FromTyped`] takes a field's value out of it,
//! [`ToTyped`] puts one made in code back in.

use super::types::{LockingMode, Minutes, SameSite, StorageKind};
use crate::unrepr::heap;

/// A value read for one setting.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Typed {
    Bool(bool),
    Text(String),
    OptText(Option<String>),
    Minutes(Minutes),
    /// Minutes, or `None` for "no value" (`max_lifetime = None`).
    OptMinutes(Option<Minutes>),
    Locking(LockingMode),
    /// `None`: not set (a false `storage_type`, `storage_class = None`).
    Storage(Option<StorageKind>),
    /// `storage_class` naming a class of the application's own.
    Class(String),
    Seconds(Option<f64>),
    Servers(Vec<String>),
    SameSite(Option<SameSite>),
    Int(i64),
    /// Read but without effect here (`priority`).
    Ignored,
}

impl Typed {
    /// About the memory a copy of the setting holds on the heap: its text, or its list of
    /// servers (each a `String` and its text).
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Typed::Text(s) | Typed::OptText(Some(s)) | Typed::Class(s) => heap(s.len()),
            Typed::Servers(list) => list
                .iter()
                .map(|s| size_of::<String>() + heap(s.len()))
                .fold(0, usize::saturating_add),
            _ => 0,
        }
    }

    /// The number a range applies to, in the setting's unit.
    pub(super) fn number(&self) -> Option<f64> {
        match self {
            Typed::Minutes(m) | Typed::OptMinutes(Some(m)) => Some(m.as_f64()),
            Typed::Seconds(Some(s)) => Some(*s),
            _ => None,
        }
    }
}

/// A field's value out of a [`Typed`] of the field's kind (`None`: the written value sets
/// nothing, and the default applies).
pub(super) trait FromTyped: Sized {
    fn from_typed(typed: &Typed) -> Option<Self>;
}

/// A field's value as a read value of its kind would hold it, so that a setting made in
/// code is checked by the rules a read one is (`SessionConfig::check`).
pub(super) trait ToTyped {
    fn to_typed(&self) -> Typed;
}

/// Each field type and the [`Typed`] variant that holds it, both ways.
macro_rules! typed_fields {
    ($($ty:ty: $variant:ident;)*) => {
        $(
            impl FromTyped for $ty {
                fn from_typed(typed: &Typed) -> Option<Self> {
                    match typed {
                        Typed::$variant(value) => Some(Clone::clone(value)),
                        _ => None,
                    }
                }
            }

            impl ToTyped for $ty {
                fn to_typed(&self) -> Typed {
                    Typed::$variant(Clone::clone(self))
                }
            }
        )*
    };
}

typed_fields! {
    bool: Bool;
    String: Text;
    Option<String>: OptText;
    Minutes: Minutes;
    Option<Minutes>: OptMinutes;
    LockingMode: Locking;
    Option<f64>: Seconds;
    Vec<String>: Servers;
    Option<SameSite>: SameSite;
    i64: Int;
}
