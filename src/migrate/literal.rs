//! Writing values: 2.0 raw text as Python literals, and the few 2.x values whose meaning
//! changed in 3.x (MIGRATION.md §1).

use super::names::RawType;
use crate::unrepr::Value;

/// A Python string literal CherryPy 18 reads back as `s`, with `%` doubled because
/// CherryPy's configparser interpolates every value.
pub(crate) fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '%' => out.push_str("%%"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A 2.0 number (2.0 converted with `int()`/`float()`) as a Python literal: `+5` and `010`
/// are not Python 3 literals, so integers are written out again.
pub(crate) fn number_2_0(raw: &str) -> Option<String> {
    let t = raw.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n.to_string());
    }
    let f = t.parse::<f64>().ok().filter(|f| f.is_finite())?;
    let t = t.strip_prefix('+').unwrap_or(t);
    // Rust accepts "1." and ".5" like Python does; anything odd is written from the number.
    let plain = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    Some(if plain {
        t.to_owned()
    } else {
        format!("{f:?}")
    })
}

/// A 2.0 integer as 2.0's `int()` read it (surrounding white space, a sign and leading
/// zeros allowed; `1.0`, `yes` and the empty value are not integers).
pub(crate) fn int_2_0(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok()
}

/// A 2.0 `[server]` value as a Python literal of its type. An integer `int()` could not
/// read is written as the default 2.0 kept in its place.
pub(crate) fn raw_2_0(raw: &str, ty: RawType) -> String {
    match ty {
        RawType::Int { default_2_0 } => int_2_0(raw).unwrap_or(default_2_0).to_string(),
        RawType::Bool { default_2_0 } => {
            let on = int_2_0(raw).unwrap_or(default_2_0) != 0;
            if on { "True" } else { "False" }.to_owned()
        }
        RawType::Str => py_str(raw),
    }
}

/// The text inside a simple quoted literal (`"File"`, `'Ram'`) and its quote character.
fn unquote(value: &str) -> Option<(char, &str)> {
    let q = value.chars().next()?;
    if !matches!(q, '"' | '\'') || value.len() < 2 || !value.ends_with(q) {
        return None;
    }
    let inner = &value[1..value.len() - 1];
    (!inner.contains([q, '\\'])).then_some((q, inner))
}

/// A simple string literal with the given quote.
pub(crate) fn quoted(q: char, inner: &str) -> String {
    format!("{q}{inner}{q}")
}

/// What a 2.1/2.2 value meant: its text read as Python, as those releases read it, so a
/// trailing `# comment`, brackets (`('implicit')`) or a value wrapped over lines read as the
/// value they hold. `None` for what is not a literal.
fn python_value(value: &str) -> Option<Value> {
    crate::unrepr::parse(value).ok().map(|parsed| parsed.value)
}

/// [`python_value`], when it is a string.
pub(crate) fn python_str(value: &str) -> Option<String> {
    match python_value(value)? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// The quote a rewritten string keeps: the value's own when it is a simple literal.
pub(crate) fn quote_of(value: &str) -> char {
    unquote(value).map_or('"', |(q, _)| q)
}

/// 2.1/2.2 storage types are case-insensitive in their first letter only; 3.x wants
/// lower case (`"File"` → `"file"`).
pub(crate) fn storage_type(value: &str) -> Option<String> {
    let inner = python_str(value)?;
    let lower = inner.to_ascii_lowercase();
    let q = quote_of(value);
    (lower != inner && !lower.contains([q, '\\'])).then(|| quoted(q, &lower))
}

/// 2.x `'implicit'` locked before the body was read: 3.x `'early'`. Any other 2.x value
/// meant no automatic lock: `'explicit'`.
pub(crate) fn locking_2x(value: &str) -> String {
    let mode = match python_str(value).as_deref() {
        Some("implicit") => "early",
        _ => "explicit",
    };
    quoted(quote_of(value), mode)
}

/// 2.2 set Secure only for the value `True` itself (`is True`): `None` when the value is
/// `True` or `False` already (kept as written), else `False`.
pub(crate) fn secure_2_2(value: &str) -> Option<String> {
    (!matches!(python_value(value), Some(Value::Bool(_)))).then(|| "False".to_owned())
}

/// Whether a 2.x Python value is true, for `staticFilter.on`. What is not a literal counts
/// as true, as any object did.
pub(crate) fn truthy(value: &str) -> bool {
    python_value(value)
        .and_then(|v| v.is_truthy())
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_for_python_and_configparser() {
        assert_eq!(py_str(r"C:\s"), r#""C:\\s""#);
        assert_eq!(py_str("100%"), "\"100%%\"");
        assert_eq!(py_str("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn numbers_of_2_0() {
        assert_eq!(number_2_0("+5").as_deref(), Some("5"));
        assert_eq!(number_2_0("010").as_deref(), Some("10"));
        assert_eq!(number_2_0("7.5").as_deref(), Some("7.5"));
        assert_eq!(number_2_0("2h"), None);
    }

    #[test]
    fn values_of_2x() {
        assert_eq!(storage_type("\"File\"").as_deref(), Some("\"file\""));
        assert_eq!(storage_type("'ram'"), None);
        assert_eq!(locking_2x("'implicit'"), "'early'");
        assert_eq!(locking_2x("\"Implicit\""), "\"explicit\"");
        assert_eq!(secure_2_2("1").as_deref(), Some("False"));
        assert_eq!(secure_2_2("True"), None);
        // As 2.1/2.2 read them: Python, comments and brackets included.
        assert_eq!(locking_2x("'implicit'  # before the body"), "\"early\"");
        assert_eq!(locking_2x("('implicit')"), "\"early\"");
        assert_eq!(secure_2_2("True  # https only"), None);
        assert_eq!(secure_2_2("(True)"), None);
        assert_eq!(
            storage_type("'File'  # on disk").as_deref(),
            Some("\"file\"")
        );
        assert!(!truthy("False  # disabled while we debug"));
        assert!(!truthy("0"));
        assert!(truthy("1"));
        let flag = RawType::Bool { default_2_0: 1 };
        let port = RawType::Int { default_2_0: 8080 };
        assert_eq!(raw_2_0("1", flag), "True");
        assert_eq!(raw_2_0("0", flag), "False");
        assert_eq!(raw_2_0("8080", port), "8080");
        assert_eq!(raw_2_0(" +010 ", port), "10");
    }

    #[test]
    fn what_int_could_not_read_is_the_2_0_default() {
        let flag = RawType::Bool { default_2_0: 1 };
        let port = RawType::Int { default_2_0: 8080 };
        assert_eq!(raw_2_0("", port), "8080");
        assert_eq!(raw_2_0("80.0", port), "8080");
        assert_eq!(raw_2_0("", flag), "True");
        assert_eq!(raw_2_0("off", flag), "True");
    }
}
