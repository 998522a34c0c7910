//! `%(name)s` interpolation as Python 3's `BasicInterpolation` does it (spec: config-format §2).
//!
//! It is textual and runs before the value is parsed as Python, so `%(dir)s + "/sub"` works
//! only when `dir` holds a quoted string.

use std::borrow::Cow;

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
}

impl InterpolationError {
    /// The stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            InterpolationError::Syntax { .. } => "interpolation-syntax",
            InterpolationError::Missing { .. } => "interpolation-missing",
            InterpolationError::Depth => "interpolation-depth",
        }
    }
}

/// Expands `%(name)s` and `%%` in `raw`; `lookup` gives the raw value of a key of the same
/// section or of `[DEFAULT]`. Text without `%` is returned as it is.
pub fn interpolate<'a>(
    raw: &'a str,
    lookup: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<Cow<'a, str>, InterpolationError> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    expand(raw, lookup, &mut out, 1)?;
    Ok(Cow::Owned(out))
}

fn expand<'a>(
    mut rest: &'a str,
    lookup: &dyn Fn(&str) -> Option<&'a str>,
    out: &mut String,
    depth: usize,
) -> Result<(), InterpolationError> {
    if depth > MAX_INTERPOLATION_DEPTH {
        return Err(InterpolationError::Depth);
    }
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let after = &rest[1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if after.starts_with('(') {
            // `%\(([^)]+)\)s`
            let close = after
                .find(')')
                .filter(|&c| c > 1 && after[c + 1..].starts_with('s'));
            let Some(close) = close else {
                return Err(InterpolationError::Syntax {
                    found: rest.to_owned(),
                });
            };
            let name = &after[1..close];
            rest = &after[close + 2..];
            let value = lookup(name).ok_or_else(|| InterpolationError::Missing {
                name: name.to_owned(),
            })?;
            if value.contains('%') {
                expand(value, lookup, out, depth + 1)?;
            } else {
                out.push_str(value);
            }
        } else {
            return Err(InterpolationError::Syntax {
                found: rest.to_owned(),
            });
        }
    }
    out.push_str(rest);
    Ok(())
}
