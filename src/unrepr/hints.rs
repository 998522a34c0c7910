//! Wording of errors and warnings, and the fixes we suggest.

use std::ops::Range;

use super::{ValueWarning, codes};

/// Whether the text reads like a word or path meant as a plain string (`utf-8`, `/tmp/x`,
/// `log/cherrypy.log`, `en-US`): one run of non-blank characters without quotes or
/// brackets, with a letter or a leading `/`, `.` or `~`. Such text fails (or parses as
/// arithmetic) only because it is not quoted.
pub(super) fn looks_like_bare_text(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && !t.contains(|c: char| c.is_whitespace() || "\"'()[]{}#\\;,".contains(c))
        && (t.chars().any(char::is_alphabetic) || t.starts_with(['/', '.', '~']))
}

/// "to use it as text, quote it: `"utf-8"`", when the whole text looks like bare text.
pub(super) fn quote_help(text: &str) -> Option<String> {
    looks_like_bare_text(text)
        .then(|| format!("if this is meant as text, quote it: `\"{}\"`", text.trim()))
}

/// Message and help for a node CherryPy's builder does not recognise.
pub(super) fn unsupported(class: &str, text: &str) -> (String, Option<String>) {
    let operator = match class {
        "Sub" => Some("subtraction (`-`)"),
        "Div" => Some("division (`/`)"),
        "FloorDiv" => Some("floor division (`//`)"),
        "Mod" => Some("the `%` operator"),
        "Pow" => Some("exponentiation (`**`)"),
        "MatMult" => Some("the `@` operator"),
        "LShift" => Some("the `<<` operator"),
        "RShift" => Some("the `>>` operator"),
        "BitOr" => Some("the `|` operator"),
        "BitXor" => Some("the `^` operator"),
        "BitAnd" => Some("the `&` operator"),
        "UAdd" => Some("unary `+`"),
        "Invert" => Some("the `~` operator"),
        "Not" => Some("`not`"),
        _ => None,
    };
    if let Some(what) = operator {
        let message = format!(
            "{what} is not supported in config values; CherryPy allows only `+`, `*` and unary `-`"
        );
        let help = quote_help(text).or_else(|| match class {
            "UAdd" => Some("drop the `+`".to_string()),
            _ => Some("write the computed value instead".to_string()),
        });
        return (message, help);
    }
    let (what, help) = match class {
        "Compare" => ("comparisons (`==`, `<`, `in`, `is`, ...) are", None),
        "BoolOp" => ("`and` and `or` are", None),
        "IfExp" => ("conditional expressions (`x if c else y`) are", None),
        "Set" => (
            "set displays (`{1, 2}`) are",
            Some("use a list `[...]` or a tuple `(...)`"),
        ),
        "Lambda" => ("lambda expressions are", None),
        "ListComp" | "SetComp" | "DictComp" | "GeneratorExp" => (
            "comprehensions and generator expressions are",
            Some("write the items out"),
        ),
        "JoinedStr" => (
            "f-strings are",
            Some("use a plain string; `+` can join strings"),
        ),
        "Slice" => ("slices (`a[1:2]`) are", None),
        "NamedExpr" => ("assignment expressions (`:=`) are", None),
        "Await" => ("`await` expressions are", None),
        "Yield" | "YieldFrom" => ("`yield` expressions are", None),
        "Starred" => ("unpacking with `*` outside call arguments is", None),
        _ => ("this expression is", None),
    };
    let message = format!(
        "{what} not supported in config values (CherryPy: unrepr does not recognize '{class}')"
    );
    (message, quote_help(text).or(help.map(String::from)))
}

/// The warning for a name CherryPy could only resolve with the application's help.
pub(super) fn unresolved_name(name: &str, span: Range<usize>, text: &str) -> ValueWarning {
    let message = format!(
        "`{name}` is not a Python builtin or standard-library module: CherryPy would try to import a module \
         named `{name}`, and fail unless the application provides one"
    );
    let help = match name {
        "true" => "write `True` (Python's spelling)".to_string(),
        "false" => "write `False` (Python's spelling)".to_string(),
        "none" | "null" => "write `None` (Python's spelling)".to_string(),
        _ => {
            let whole = text.trim();
            let shown = if looks_like_bare_text(whole) {
                whole
            } else {
                name
            };
            format!("if this is meant as text, quote it: `\"{shown}\"`")
        }
    };
    ValueWarning {
        code: codes::UNRESOLVED_NAME,
        message,
        help: Some(help),
        span,
    }
}
