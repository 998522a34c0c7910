//! `%(name)s` interpolation as Python 3's `BasicInterpolation` does it.
//!
//! It is textual and runs before the value is parsed as Python, so `%(dir)s + "/sub"` works
//! only when `dir` holds a quoted string.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::limits::{MAX_INTERPOLATED_BYTES, MAX_INTERPOLATION_READ_BYTES};

/// configparser's `MAX_INTERPOLATION_DEPTH`.
pub const MAX_INTERPOLATION_DEPTH: usize = 10;

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InterpolationError {
    /// A `%` not followed by `%` or `(name)s`.
    #[error("'%' must be followed by '%' or '(name)s', found: {found:?}")]
    Syntax {
        /// The text from the bad `%` on.
        found: String,
    },
    /// `%(name)s` names a key that is neither in the section nor in `[DEFAULT]`.
    #[error("`%({name})s` refers to a key that is not in this section or in [DEFAULT]")]
    Missing {
        /// The missing key.
        name: String,
    },
    /// References nested more than [`MAX_INTERPOLATION_DEPTH`] deep (often a cycle).
    #[error(
        "interpolation nested deeper than {MAX_INTERPOLATION_DEPTH} levels (a key that refers to itself?)"
    )]
    Depth,
    /// The value would expand to more than [`MAX_INTERPOLATED_BYTES`] bytes, or would need
    /// more references than that to expand (keys that each name the previous several times
    /// grow exponentially with the depth).
    #[error(
        "interpolation would expand this value past {MAX_INTERPOLATED_BYTES} bytes (keys that refer to each other several times grow exponentially)"
    )]
    TooLong,
    /// Interpolating the file has read [`MAX_INTERPOLATION_READ_BYTES`] of value text: each
    /// value is bounded, but many values can each name the same long one.
    #[error(
        "interpolating this file would read more than {} MiB of value text (many values that name long values); this value is not interpolated",
        MAX_INTERPOLATION_READ_BYTES >> 20
    )]
    OverBudget,
}

impl InterpolationError {
    /// The stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            InterpolationError::Syntax { .. } => "interpolation-syntax",
            InterpolationError::Missing { .. } => "interpolation-missing",
            InterpolationError::Depth => "interpolation-depth",
            InterpolationError::TooLong => "interpolation-too-long",
            InterpolationError::OverBudget => "interpolation-over-budget",
        }
    }
}

/// What is left of the interpolation budget of one file: every byte of value text that
/// interpolation reads (the value, and each value it names, each time it is named) is taken
/// from [`MAX_INTERPOLATION_READ_BYTES`] before it is read. Once it is spent, every later
/// value with a `%` is [`InterpolationError::OverBudget`].
#[derive(Debug, Clone)]
pub struct InterpolationBudget {
    left: usize,
}

impl Default for InterpolationBudget {
    fn default() -> Self {
        Self {
            left: MAX_INTERPOLATION_READ_BYTES,
        }
    }
}

impl InterpolationBudget {
    /// Takes `text` from the budget before it is read.
    pub(super) fn spend(&mut self, text: &str) -> Result<(), InterpolationError> {
        match self.left.checked_sub(text.len()) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => {
                // Spent: nothing more is read, not even a short value.
                self.left = 0;
                Err(InterpolationError::OverBudget)
            }
        }
    }
}

/// Expands `%(name)s` and `%%` in `raw`; `lookup` gives the raw value of a key of the same
/// section or of `[DEFAULT]`. Text without `%` is returned as it is.
///
/// The expansion is measured before it is built: its length and the number of references
/// it follows are worked out once per key and depth (so a key named many times is measured
/// once), and a value past [`MAX_INTERPOLATED_BYTES`] of either is an error before any of
/// it is written. configparser's own errors come first, in its order, as it would raise them.
/// What measuring and building read is taken from `budget`, which one file shares.
pub fn interpolate<'a>(
    raw: &'a str,
    lookup: &dyn Fn(&str) -> Option<&'a str>,
    budget: &mut InterpolationBudget,
) -> Result<Cow<'a, str>, InterpolationError> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    budget.spend(raw)?;
    let size = measure(raw, lookup, 1, &mut HashMap::new(), budget)?;
    if size.bytes > MAX_INTERPOLATED_BYTES || size.references > MAX_INTERPOLATED_BYTES {
        return Err(InterpolationError::TooLong);
    }
    let mut out = String::with_capacity(size.bytes);
    budget.spend(raw)?;
    expand(raw, lookup, &mut out, 1, budget)?;
    Ok(Cow::Owned(out))
}

/// What expanding a value costs: its length and the references followed (saturating).
#[derive(Clone, Copy, Default)]
struct Size {
    bytes: usize,
    references: usize,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.references = self.references.saturating_add(other.references);
    }
}

/// [`expand`] without building anything: the same walk, in the same order (so the same
/// first error), remembering the size of each key expanded at each depth. A key's expansion
/// depends only on its name and its depth (the lookup is fixed), so each is measured once.
/// The caller has taken `rest` from the budget; each value it names is taken when first
/// read.
fn measure<'a>(
    mut rest: &'a str,
    lookup: &dyn Fn(&str) -> Option<&'a str>,
    depth: usize,
    seen: &mut HashMap<(&'a str, usize), Size>,
    budget: &mut InterpolationBudget,
) -> Result<Size, InterpolationError> {
    if depth > MAX_INTERPOLATION_DEPTH {
        return Err(InterpolationError::Depth);
    }
    let mut size = Size::default();
    while let Some(p) = rest.find('%') {
        size.bytes = size.bytes.saturating_add(p);
        let (name, tail) = reference(&rest[p..])?;
        rest = tail;
        let Some(name) = name else {
            size.bytes = size.bytes.saturating_add(1);
            continue;
        };
        let value = lookup(name).ok_or_else(|| InterpolationError::Missing {
            name: name.to_owned(),
        })?;
        size.references = size.references.saturating_add(1);
        let inner = match seen.get(&(name, depth + 1)) {
            Some(&inner) => inner,
            None => {
                budget.spend(value)?;
                let inner = if value.contains('%') {
                    measure(value, lookup, depth + 1, seen, budget)?
                } else {
                    Size {
                        bytes: value.len(),
                        references: 0,
                    }
                };
                seen.insert((name, depth + 1), inner);
                inner
            }
        };
        size.add(inner);
    }
    size.bytes = size.bytes.saturating_add(rest.len());
    Ok(size)
}

/// At a `%`: `%%` (no name) or `%(name)s`, and the text after it.
fn reference(at: &str) -> Result<(Option<&str>, &str), InterpolationError> {
    let after = &at[1..];
    if let Some(tail) = after.strip_prefix('%') {
        return Ok((None, tail));
    }
    if after.starts_with('(') {
        // `%\(([^)]+)\)s`
        let close = after
            .find(')')
            .filter(|&c| c > 1 && after[c + 1..].starts_with('s'));
        if let Some(close) = close {
            return Ok((Some(&after[1..close]), &after[close + 2..]));
        }
    }
    Err(InterpolationError::Syntax {
        found: at.to_owned(),
    })
}

/// Builds the expansion [`measure`] found within bounds. The caller has taken `rest` from
/// the budget; each value it names is taken each time it is read.
fn expand<'a>(
    mut rest: &'a str,
    lookup: &dyn Fn(&str) -> Option<&'a str>,
    out: &mut String,
    depth: usize,
    budget: &mut InterpolationBudget,
) -> Result<(), InterpolationError> {
    if depth > MAX_INTERPOLATION_DEPTH {
        return Err(InterpolationError::Depth);
    }
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        let (name, tail) = reference(&rest[p..])?;
        rest = tail;
        let Some(name) = name else {
            out.push('%');
            continue;
        };
        let value = lookup(name).ok_or_else(|| InterpolationError::Missing {
            name: name.to_owned(),
        })?;
        budget.spend(value)?;
        if value.contains('%') {
            expand(value, lookup, out, depth + 1, budget)?;
        } else {
            out.push_str(value);
        }
    }
    out.push_str(rest);
    Ok(())
}
