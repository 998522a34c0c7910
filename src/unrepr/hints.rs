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

/// What CherryPy's builder does not recognise, by Python's AST class: `class|what we call
/// it|op if it is an operator (whose fix is to compute the value)|the fix we suggest`.
const UNSUPPORTED: &str = "
Sub|subtraction (`-`)|op|
Div|division (`/`)|op|
FloorDiv|floor division (`//`)|op|
Mod|the `%` operator|op|
Pow|exponentiation (`**`)|op|
MatMult|the `@` operator|op|
LShift|the `<<` operator|op|
RShift|the `>>` operator|op|
BitOr|the `|` operator|op|
BitXor|the `^` operator|op|
BitAnd|the `&` operator|op|
UAdd|unary `+`|op|drop the `+`
Invert|the `~` operator|op|
Not|`not`|op|
Compare|comparisons (`==`, `<`, `in`, `is`, ...) are||
BoolOp|`and` and `or` are||
IfExp|conditional expressions (`x if c else y`) are||
Set|set displays (`{1, 2}`) are||use a list `[...]` or a tuple `(...)`
Lambda|lambda expressions are||
ListComp|comprehensions and generator expressions are||write the items out
SetComp|comprehensions and generator expressions are||write the items out
DictComp|comprehensions and generator expressions are||write the items out
GeneratorExp|comprehensions and generator expressions are||write the items out
JoinedStr|f-strings are||use a plain string; `+` can join strings
Slice|slices (`a[1:2]`) are||
NamedExpr|assignment expressions (`:=`) are||
Await|`await` expressions are||
Yield|`yield` expressions are||
YieldFrom|`yield` expressions are||
Starred|unpacking with `*` outside call arguments is||
";

/// Message and help for a node CherryPy's builder does not recognise.
pub(super) fn unsupported(class: &str, text: &str) -> (String, Option<String>) {
    let row = UNSUPPORTED
        .lines()
        .find(|l| l.split('|').next() == Some(class));
    // `the `|` operator` holds the separator: split from both ends.
    let (what, rest) = row
        .and_then(|r| r[class.len() + 1..].rsplit_once('|'))
        .unwrap_or(("this expression is|", ""));
    let (what, operator) = what
        .rsplit_once('|')
        .map_or((what, false), |(w, op)| (w, op == "op"));
    let help = match rest {
        "" if operator => "write the computed value instead",
        rest => rest,
    };
    let message = if operator {
        format!(
            "{what} is not supported in config values; CherryPy allows only `+`, `*` and unary `-`"
        )
    } else {
        format!(
            "{what} not supported in config values (CherryPy: unrepr does not recognize '{class}')"
        )
    };
    let help = quote_help(text).or((!help.is_empty()).then(|| help.to_string()));
    (message, help)
}

/// The warning for a name CherryPy could only resolve with the application's help.
pub(super) fn unresolved_name(name: &str, span: Range<usize>, text: &str) -> ValueWarning {
    // A name of megabytes is shown by its start (the span still covers all of it).
    let name = match name.char_indices().nth(80) {
        Some((end, _)) => &format!("{}…", &name[..end]),
        None => name,
    };
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
            // A long value is not repeated in each of its warnings.
            let shown = if whole.len() <= 200 && looks_like_bare_text(whole) {
                whole
            } else {
                name
            };
            format!("if this is meant as text, quote it: `\"{shown}\"`")
        }
    };
    ValueWarning::new(codes::UNRESOLVED_NAME, message, Some(help), span)
}

/// Whether the first part of a (dotted) name can be resolved by CherryPy without the
/// application: a builtin, a standard-library top-level module, or `cherrypy`.
pub(super) fn is_known_name(first: &str) -> bool {
    static KNOWN: std::sync::OnceLock<std::collections::HashSet<&str>> = std::sync::OnceLock::new();
    let lines = include_str!("names.txt")
        .lines()
        .filter(|l| !l.starts_with('#'));
    KNOWN
        .get_or_init(|| lines.flat_map(str::split_ascii_whitespace).collect())
        .contains(first)
}
