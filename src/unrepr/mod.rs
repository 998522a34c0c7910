//! The CherryPy config *value language* (`cherrypy.lib.reprconf.unrepr`).
//!
//! CherryPy reads every config value as Python: it parses `'__tempvalue__ = ' + text` with
//! `ast.parse` and evaluates the first statement's value with a whitelist builder.
//! This crate reads values that way, as part of reading a config ([`crate::config`]), for
//! CPython 3.11 and CherryPy 18.10, without executing anything. What is public here is what
//! a value read from a config *is* ([`Value`], [`Expr`], [`BinOp`]) and the diagnostic
//! [`codes`]; the reader itself is internal. It:
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

mod eval;
mod expr;
mod hints;
#[cfg(feature = "json")]
mod json;
mod lexer;
mod literal;
mod ops;
mod parser;
mod pure;
pub(crate) mod read;
mod repr;
mod stmt;
mod value;

// They compare with Python through the JSON reading.
#[cfg(all(test, feature = "json"))]
mod tests;

pub use value::{BinOp, Expr, Value};

// Reading a value is machinery: the crate reads values as part of a config, and its own
// fuzz targets, benchmarks and tests reach `parse` through `crate::__private`.
use read::value_start;
pub(crate) use read::{Parsed, ValueError, ValueWarning, parse};

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
