//! The CherryPy config *value language* (`cherrypy.lib.reprconf.unrepr`).
//!
//! CherryPy reads every config value as Python: it parses `'__tempvalue__ = ' + text` with
//! `ast.parse` and evaluates the first statement's value with a whitelist builder.
//! [`parse`] reproduces that reading for CPython 3.11 and CherryPy 18.10, without executing
//! anything:
//!
//! - the whole text must be valid Python (`60 # min` and `2 ; x = 1` are fine, `2 ; two words`
//!   is a syntax error), which needs a real tokenizer and parser (`lexer.rs`, `parser.rs`);
//! - literals and `+`, `*`, unary `-` and subscripts on literals are computed with Python's
//!   rules (`60 * 24`, `"ab" * 2`, `{1: 'a', True: 'b'}` → `{1: 'b'}`);
//! - names, attributes and calls, which CherryPy would import, look up or call, are kept as
//!   [`Expr`]s; a name that is neither a builtin, a standard-library module nor `cherrypy` also
//!   gives an `unresolved-name` warning. The exception is a closed list of pure ones that real
//!   configs use for paths (`os.sep`, `os.path.abspath(os.getcwd() + '/static')`,
//!   `','.join([...])`), computed as Python does (`pure.rs`);
//! - everything else CherryPy rejects (`-`, `/`, comparisons, sets, lambdas, ...) is an error,
//!   and the error reported first is the one CherryPy reports first.
//!
//! # How much of Python this needs
//!
//! Only the first statement's value is built, but whether the value reads at all depends on
//! the whole text being valid Python, and a config can put more than one expression there:
//!
//! - `port = 8080 ; the port` is a common slip (`;` is not an inline comment in CherryPy's
//!   files), and whether it reads depends on the words: `; default` and `; TODO: fix` are
//!   valid statements (a name, an annotation), `; the port` is not. So every simple
//!   statement, with the full expression grammar (lambdas, comprehensions and f-strings
//!   included, since free text can happen to be one), is checked after a `;`.
//! - configparser joins continuation lines with newlines, and each line is a new Python line:
//!   a value can hold `1` and, on its next line, `if x: pass` or `def f(a=1): return a`, so
//!   one-line compound statements are checked too.
//! - What a value cannot hold is an indented block: configparser strips every line, so a
//!   line can start with white space only after an interpolation that gives an empty string
//!   (`%(empty)s  pass`). Indentation is therefore not tracked; such a line is an error here
//!   (Python accepts it after `if x:` and rejects it elsewhere, as "unexpected indent").
//!
//! # Error codes
//!
//! | code | CherryPy / Python |
//! |---|---|
//! | `value-syntax` | `SyntaxError` from `ast.parse` (incl. "too many nested parentheses") |
//! | `unsupported-expression` | `TypeError: unrepr does not recognize 'Sub'` |
//! | `value-type` | any other `TypeError` while building (bad operands, unhashable key, bad index type) |
//! | `value-index` | `IndexError` / `KeyError` from a subscript |
//! | `value-too-large` | `OverflowError`, `MemoryError`, `RecursionError`, or our size bounds |
//! | `lone-surrogate` | none: see below |
//!
//! # Limits and divergences from CPython
//!
//! - Results are bounded: strings, lists, ... heavier than 16 MiB (16 bytes per item, see
//!   `ops::MAX_WEIGHT`), and integers above 2²³ bits, are `value-too-large`, where Python would
//!   build them or fail with `MemoryError`.
//! - Depth, all `value-too-large` as in CPython (`RecursionError`/`MemoryError`), at
//!   approximately CPython's thresholds: trees deeper than 2975 levels (CPython fails while
//!   building its AST); parser recursion past CPython's 6000-level parser stack, estimated per
//!   construct (`lambda a=lambda a=...` fails near 745 levels; 200 nested brackets, the
//!   tokenizer's limit, always fit); and a builder recursion past Python's 1000 frames,
//!   counted per node kind with an allowance for the caller's frames (5) and for the import
//!   attempt a name costs (12 frames; a module that is already imported costs 3, so such
//!   names get a few levels less than in CPython). Deeper nesting than the default thread
//!   stack allows is handled by growing the stack (`stacker`), never by overflowing it.
//! - A string with a lone surrogate escape (`"\ud800"`) is valid Python but cannot be a Rust
//!   `String`: it is reported as `lone-surrogate` (a deliberate divergence) when the builder
//!   would evaluate it.
//! - `\N{...}` names are looked up in `unicode_names2`'s Unicode version, identifiers are
//!   checked with `unicode-ident`, and `repr()` decides what to escape with
//!   `unicode-general-category`, all newer than Python 3.11's Unicode 14.0: characters added
//!   since are accepted (and printed as they are) where CPython 3.11 rejects (or escapes) them.
//! - Syntax errors have CPython's verdict, and its line except in rare multi-line texts that
//!   mix a backslash continuation with an error, but not always its wording or column:
//!   CPython picks a specific message from a second parser pass; we name the problems a
//!   config author can act on (brackets, strings, numbers, escapes, Python 2's `print x`)
//!   and say "invalid syntax" or a plain message for the rest.
//! - Dict keys that are expressions are never merged with other keys except an identical
//!   dotted name (`{os: 1, os: 2}` → `{os: 2}`): their Python values are unknown. Likewise a
//!   subscript of a dict with expression keys stays an expression when no literal key matches.
//! - A call's `*args` and `**kwargs` are kept as written (CherryPy 18.10 passes `*x` as one
//!   argument; we keep `Starred` so later layers can tell). Calls are never made, so errors a
//!   call would raise are not reported, except those Python raises before calling: a literal
//!   callee (`"a"(1)`), `**` of a non-mapping literal, `**` of a dict with non-string keys.

use std::ops::Range;

mod atom;
mod compound;
mod display;
mod eval;
mod expr;
mod fstring;
mod hints;
#[cfg(feature = "json")]
mod json;
mod keys;
mod known_names;
mod lexer;
mod number;
mod ops;
mod parser;
mod pure;
mod repr;
mod stmt;
mod string;
mod syntax;
mod tokens;
mod value;

// They compare with Python through the JSON reading.
#[cfg(all(test, feature = "json"))]
mod tests;

pub use value::{BinOp, Expr, Value};

pub(crate) use ops::weight;
pub(crate) use pure::join as posix_join;
pub(crate) use repr::float_repr;

/// The error and warning codes this module produces (as in `compat/FORMAT.md`).
pub mod codes {
    /// A Python `SyntaxError` (CherryPy: `ast.parse` fails).
    pub const SYNTAX: &str = "value-syntax";
    /// A construct CherryPy's builder does not recognise (`unrepr does not recognize 'Sub'`).
    pub const UNSUPPORTED: &str = "unsupported-expression";
    /// A `TypeError` while building (bad operand types, unhashable key, bad index type, ...).
    pub const TYPE: &str = "value-type";
    /// An `IndexError` or `KeyError` from a subscript.
    pub const INDEX: &str = "value-index";
    /// `OverflowError`, `MemoryError`, `RecursionError`, or one of our size bounds.
    pub const TOO_LARGE: &str = "value-too-large";
    /// A `str` literal with a lone surrogate escape, which Rust text cannot hold (our own
    /// code: CherryPy accepts it).
    pub const LONE_SURROGATE: &str = "lone-surrogate";
    /// Warning: a name CherryPy could only resolve with the application's help.
    pub const UNRESOLVED_NAME: &str = "unresolved-name";
}

/// A successfully read value, with the warnings found on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The value.
    pub value: Value,
    /// Warnings, in the order CherryPy's builder would meet their causes.
    pub warnings: Vec<ValueWarning>,
}

/// Something that reads but probably does not mean what was intended.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueWarning {
    /// A stable code, e.g. `unresolved-name` (see [`codes`]).
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// A suggested fix, if there is an obvious one.
    pub help: Option<String>,
    /// The byte range, in the text given to [`parse`], of the construct concerned.
    pub span: Range<usize>,
}

/// Why a value cannot be read the way CherryPy would read it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// A stable code (see [`codes`]): `value-syntax`, `unsupported-expression`, ...
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// A suggested fix, if there is an obvious one.
    pub help: Option<String>,
    /// The byte range, in the text given to [`parse`], of the offending construct.
    pub span: Range<usize>,
}

/// Reads one config value (after INI interpolation) as CherryPy 18.10 on Python 3.11 would.
///
/// ```
/// use actix_cherrypy::unrepr::{parse, Value};
///
/// let parsed = parse("60 * 24  # minutes").unwrap();
/// assert_eq!(parsed.value, Value::Int(1440.into()));
/// assert_eq!(parse("utf-8").unwrap_err().code, "unsupported-expression");
/// ```
pub fn parse(text: &str) -> Result<Parsed, ValueError> {
    // unrepr's own first line: `if not s: return s`.
    if text.is_empty() {
        return Ok(Parsed {
            value: Value::Str(String::new()),
            warnings: Vec::new(),
        });
    }
    if let Some(at) = text.find('\0') {
        // CPython 3.11 refuses the whole source before tokenizing.
        return Err(syntax_error(
            "source code string cannot contain null bytes".into(),
            at..at + 1,
            text,
        ));
    }
    if let Some(value) = plain_literal(text) {
        return Ok(Parsed {
            value,
            warnings: Vec::new(),
        });
    }
    let lexed = lexer::tokenize(text);
    let mut p = parser::Parser::new(text, &lexed.tokens, 0);
    let mut node = match p.module() {
        Ok(node) => node,
        Err(fail) => {
            return Err(match p.resolve(fail, &lexed) {
                parser::ParseError::Syntax(e) => syntax_error(e.message, e.span, text),
                parser::ParseError::TooDeep => ValueError {
                    code: codes::TOO_LARGE,
                    message: "the value is nested too deeply: Python's parser would fail (MemoryError/RecursionError)".into(),
                    help: None,
                    span: value_start(text),
                },
            });
        }
    };
    let mut builder = eval::Builder::new(text);
    let value = builder.build_root(&mut node).map_err(|mut e| {
        e.span = clamp(e.span, text);
        e
    })?;
    Ok(Parsed {
        value,
        warnings: builder.warnings,
    })
}

fn syntax_error(message: String, span: Range<usize>, text: &str) -> ValueError {
    ValueError {
        code: codes::SYNTAX,
        message,
        help: hints::quote_help(text),
        span: clamp(span, text),
    }
}

/// The first character of the value, where errors about the value as a whole (too deep
/// nesting) are reported.
fn value_start(text: &str) -> Range<usize> {
    0..text.chars().next().map_or(0, char::len_utf8)
}

/// Keeps a span inside the text (errors at the implicit final newline point past its end).
fn clamp(span: Range<usize>, text: &str) -> Range<usize> {
    let end = span.end.min(text.len());
    span.start.min(end)..end
}

/// Most config values are a plain number, constant or string. Reading those without the
/// tokenizer gives the same value (nothing in them can mean anything else to Python) and
/// keeps a 10,000-line config fast. Anything less plain takes the full path.
fn plain_literal(text: &str) -> Option<Value> {
    match text {
        "True" => return Some(Value::Bool(true)),
        "False" => return Some(Value::Bool(false)),
        "None" => return Some(Value::None),
        _ => {}
    }
    let bytes = text.as_bytes();
    // A decimal integer: no sign, no underscore, no leading zero, small enough for u64.
    if bytes.len() <= 18
        && bytes.iter().all(u8::is_ascii_digit)
        && (bytes[0] != b'0' || bytes.len() == 1)
    {
        return text.parse::<u64>().ok().map(|n| Value::Int(n.into()));
    }
    // A one-line string in quotes with no backslash and no quote of its kind inside.
    let quote = *bytes.first()?;
    if (quote == b'"' || quote == b'\'') && bytes.len() >= 2 && bytes[bytes.len() - 1] == quote {
        let inner = &text[1..text.len() - 1];
        let plain = !inner
            .bytes()
            .any(|b| b == quote || b == b'\\' || b == b'\n' || b == b'\r');
        // `""` followed by more quotes would be a triple-quoted string: leave it to the parser.
        if plain && !(inner.is_empty() && text.len() != 2) {
            return Some(Value::Str(inner.to_owned()));
        }
    }
    None
}
