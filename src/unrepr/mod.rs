//! The CherryPy config *value language* (`cherrypy.lib.reprconf.unrepr`).
//!
//! CherryPy reads every config value as Python: it parses `'__tempvalue__ = ' + text` with
//! `ast.parse` and evaluates the first statement's value with a whitelist builder. This module
//! reads values that way, for CPython 3.11 and CherryPy 18.10, without executing anything.
//! What is public is what a value *is* ([`Value`], [`Expr`], [`BinOp`]) and the diagnostic
//! [`codes`]; the reader (`read::parse`) is internal.
//!
//! - The whole text must be valid Python (`60 # min` and `2 ; x = 1` read, `2 ; two words` is
//!   a syntax error), so there is a real tokenizer (`lexer.rs`) and parser (`parser.rs`,
//!   `expr.rs`, `stmt.rs`). Statements after the value (`; default`, `if x: pass` on a
//!   continuation line) are only checked. configparser strips every line, so an indented
//!   block can only follow an empty interpolation (`%(empty)s  pass`): indentation is not
//!   tracked and such a line is an error.
//! - Literals and `+`, `*`, unary `-` and subscripts on literals are computed with Python's
//!   rules (`ops.rs`: `60 * 24`, `"ab" * 2`, `{1: 'a', True: 'b'}` → `{1: 'b'}`).
//! - Names, attributes and calls, which CherryPy would import, look up or call, are kept as
//!   [`Expr`]s (a name that is neither a builtin, a standard-library module nor `cherrypy`
//!   also gives an `unresolved-name` warning), except a closed list of pure ones real configs
//!   use for paths (`os.sep`, `os.path.abspath(os.getcwd() + '/static')`), computed as Python
//!   does (`pure.rs`).
//! - Everything else CherryPy rejects (`-`, `/`, comparisons, sets, lambdas, ...) is an error,
//!   and the error reported first is the one CherryPy reports first (`eval.rs`).
//!
//! # Limits and divergences from CPython
//!
//! - Values heavier than 16 MiB (weighed as they take in memory: a list of 250,000 small
//!   ints, a string of 16 million bytes; see `ops::MAX_WEIGHT`), values of more than
//!   `MAX_VALUE_TOKENS` (262,144) tokens and integers above 2²³ bits are `value-too-large`,
//!   where Python would build them or fail with `MemoryError`. The weight is checked as the
//!   value is built: an operation's result before it is made, a list, dict or call as each
//!   item is added.
//! - An unknown name warns once per value, and a value warns of twenty of them at most.
//! - Nesting fails as in CPython, at approximately its thresholds: trees deeper than 2975
//!   levels; parser recursion past CPython's 6000-level parser stack, estimated per construct
//!   (200 nested brackets always fit); and builder recursion past Python's 1000 frames, counted
//!   per node kind (a name costs the 12 frames of an import attempt; an already imported
//!   module costs 3, so such names get a few levels less than in CPython). Deep nesting grows
//!   the stack (`stacker`) rather than overflowing it.
//! - `\N{...}` names, identifiers (`unicode-ident`) and what `repr()` escapes
//!   (`unicode-general-category`) follow a newer Unicode than Python 3.11's 14.0.
//! - Syntax errors have CPython's verdict and, except in rare texts that mix a backslash
//!   continuation with an error, its line; the column is CPython's for the common errors
//!   only. The wording is ours: we name what a config author can act on (brackets, strings,
//!   numbers, escapes, Python 2's `print x`) and say "invalid syntax" or "invalid f-string"
//!   for the rest, where CPython often has a more specific message.
//! - Of an f-string, its text's escapes and its fields' structure are checked (braces,
//!   brackets, `=`, conversions, an expression that is not blank and has no `#` or
//!   backslash), not what their expressions say: one that passes is
//!   `unsupported-expression` (CherryPy: `JoinedStr`) even where CPython finds a syntax
//!   error inside an expression (`f'{1 +}'`); both refuse the value. In a statement after
//!   the value, which is only checked, such an f-string is accepted.
//! - Dict keys that are expressions are never merged with other keys except an identical
//!   dotted name (`{os: 1, os: 2}` → `{os: 2}`); a subscript of a dict with expression keys
//!   stays an expression when no literal key matches.
//! - A call's `*args` and `**kwargs` are kept as written. Calls are never made, so only the
//!   errors Python raises before calling are reported: a literal callee (`"a"(1)`), `**` of a
//!   non-mapping literal or of a dict with non-string keys.

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

pub use value::{BinOp, Expr, Value};

// Reading a value is machinery: the crate reads values as part of a config, and its own
// fuzz targets, benchmarks and tests reach `parse` through `crate::__private`.
use read::too_large;
pub(crate) use read::{Parsed, ValueError, ValueWarning, parse, parse_counted};

pub(crate) use ops::{heap, weight};
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
