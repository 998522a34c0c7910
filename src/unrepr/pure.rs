//! The few names and calls CherryPy evaluates that we evaluate too, because they are pure:
//! `os.path.abspath(os.getcwd() + '/templates')` gives CherryPy a plain string, and a later
//! layer needs that string. Nothing is run; nothing is read but the working directory
//! (`os.getcwd()`, `abspath`) and `$HOME` (`expanduser`), as CherryPy started from the same
//! place would see them.
//!
//! - `os.sep`, `os.pathsep`, `os.linesep`, `os.curdir`, `os.pardir`, `os.extsep` (and under
//!   `os.path`); `os.getcwd()`; `os.path.join`, `abspath`, `dirname`, `basename`, `normpath`,
//!   `expanduser` on strings;
//! - `upper`, `lower`, `strip`, `lstrip`, `rstrip`, `split`, `replace`, `join`, `startswith`
//!   and `endswith` called on a string literal.
//!
//! Anything else, or these with other argument types, stays an expression. The path rules are
//! POSIX (`posixpath`); on other systems the names stay expressions.

use super::ops::MAX_WEIGHT;
use super::value::{Expr, Value};

/// The value of a dotted name, when it is one of the constants above.
pub(super) fn constant(dotted: &str) -> Option<Value> {
    let text = match dotted {
        "os.sep" | "os.path.sep" => "/",
        "os.pathsep" | "os.path.pathsep" => ":",
        "os.linesep" => "\n",
        "os.curdir" | "os.path.curdir" => ".",
        "os.pardir" | "os.path.pardir" => "..",
        "os.extsep" | "os.path.extsep" => ".",
        _ => return None,
    };
    cfg!(unix).then(|| Value::Str(text.into()))
}

/// The result of calling `func` with these arguments, when it is one of the calls above.
pub(super) fn call(
    func: &Value,
    args: &[Value],
    kwargs: &[(Option<String>, Value)],
) -> Option<Value> {
    if !cfg!(unix) || !kwargs.is_empty() {
        return None;
    }
    let Value::Expr(f) = func else { return None };
    match &**f {
        Expr::Name { dotted, .. } => path_call(dotted, &strs(args)?).map(Value::Str),
        Expr::Attribute {
            object: Value::Str(s),
            attr,
        } => str_method(s, attr, args),
        _ => None,
    }
}

/// The strings, if every value is one.
fn strs(values: &[Value]) -> Option<Vec<&str>> {
    values
        .iter()
        .map(|v| match v {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

fn path_call(name: &str, args: &[&str]) -> Option<String> {
    Some(match (name, args) {
        ("os.getcwd", []) => getcwd()?,
        ("os.path.join", [first, rest @ ..]) => join(first, rest),
        ("os.path.abspath", [p]) if p.starts_with('/') => normpath(p),
        ("os.path.abspath", [p]) => normpath(&join(&getcwd()?, &[p])),
        ("os.path.normpath", [p]) => normpath(p),
        ("os.path.dirname", [p]) => {
            let head = &p[..p.rfind('/').map_or(0, |i| i + 1)];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() { head } else { trimmed }.to_owned()
        }
        ("os.path.basename", [p]) => p[p.rfind('/').map_or(0, |i| i + 1)..].to_owned(),
        ("os.path.expanduser", [p]) => expanduser(p)?,
        _ => return None,
    })
}

/// The working directory, as Python's `os.getcwd()` gives it (kept as an expression when it
/// is gone or not UTF-8, where Python would raise or give surrogate escapes).
fn getcwd() -> Option<String> {
    std::env::current_dir()
        .ok()?
        .into_os_string()
        .into_string()
        .ok()
}

/// `posixpath.join`: an absolute part starts over; a `/` is added where missing.
pub(crate) fn join(first: &str, rest: &[&str]) -> String {
    let mut out = first.to_owned();
    for part in rest {
        if part.starts_with('/') {
            out.clear();
        } else if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(part);
    }
    out
}

/// `posixpath.normpath`: drops `.` and empty parts, resolves `..` where it can, and keeps
/// exactly two leading slashes (POSIX leaves their meaning to the system).
fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let slashes = p.len() - p.trim_start_matches('/').len();
    let prefix = match slashes {
        0 => "",
        2 => "//",
        _ => "/",
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if !prefix.is_empty() => {}
            _ => parts.push(part),
        }
    }
    let out = prefix.to_owned() + &parts.join("/");
    if out.is_empty() { ".".into() } else { out }
}

/// `posixpath.expanduser` for `~` and `~/...` with `$HOME` (`~user`, or no `$HOME`, would
/// need the password database: kept as an expression).
fn expanduser(p: &str) -> Option<String> {
    let Some(rest) = p.strip_prefix('~') else {
        return Some(p.to_owned());
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let home = std::env::var("HOME").ok()?;
    let out = home.trim_end_matches('/').to_owned() + rest;
    Some(if out.is_empty() { "/".into() } else { out })
}

/// Python's `str.isspace()`: Unicode white space plus the four information separators.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

fn str_method(s: &str, method: &str, args: &[Value]) -> Option<Value> {
    let text = |t: String| Some(Value::Str(t));
    match (method, strs(args).as_deref()) {
        ("upper", Some([])) => text(s.to_uppercase()),
        ("lower", Some([])) => text(s.to_lowercase()),
        ("strip", Some([])) => text(s.trim_matches(is_py_space).into()),
        ("lstrip", Some([])) => text(s.trim_start_matches(is_py_space).into()),
        ("rstrip", Some([])) => text(s.trim_end_matches(is_py_space).into()),
        ("strip", Some([chars])) => text(s.trim_matches(|c| chars.contains(c)).into()),
        ("lstrip", Some([chars])) => text(s.trim_start_matches(|c| chars.contains(c)).into()),
        ("rstrip", Some([chars])) => text(s.trim_end_matches(|c| chars.contains(c)).into()),
        ("split", Some([])) => strings(s.split(is_py_space).filter(|w| !w.is_empty())),
        ("split", Some([sep])) if !sep.is_empty() => strings(s.split(sep)),
        // An empty `old` matches around every character, in Rust as in Python.
        ("replace", Some([old, new])) => {
            let count = s.matches(old).count();
            fits(count.saturating_mul(new.len()).saturating_add(s.len()))?;
            text(s.replace(old, new))
        }
        ("startswith", Some([p])) => Some(Value::Bool(s.starts_with(p))),
        ("endswith", Some([p])) => Some(Value::Bool(s.ends_with(p))),
        ("join", _) => match args {
            [Value::List(items) | Value::Tuple(items)] => {
                let parts = strs(items)?;
                let seps = s.len().saturating_mul(parts.len());
                fits(parts.iter().fold(seps, |n, p| n.saturating_add(p.len())))?;
                text(parts.join(s))
            }
            _ => None,
        },
        _ => None,
    }
}

fn strings<'a>(parts: impl Iterator<Item = &'a str>) -> Option<Value> {
    let (mut weight, mut items) = (16usize, Vec::new());
    for part in parts {
        weight = weight.saturating_add(16 + part.len());
        fits(weight)?;
        items.push(Value::Str(part.into()));
    }
    Some(Value::List(items))
}

/// Results are bounded as `+` and `*` results are; a larger one stays an expression.
fn fits(weight: usize) -> Option<()> {
    (weight <= MAX_WEIGHT).then_some(())
}
