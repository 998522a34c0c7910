//! Reading one value: [`parse`], its result and its errors.

use std::ops::Range;

use super::{Value, codes, eval, hints, lexer, parser};
use crate::limits::MAX_VALUE_TOKENS;

/// A successfully read value, with the warnings found on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The value.
    pub value: Value,
    /// Warnings, in the order CherryPy's builder would meet their causes.
    pub warnings: Vec<ValueWarning>,
}

/// Something that reads but probably does not mean what was intended: it has an error's
/// fields, with a warning code (`unresolved-name`).
pub type ValueWarning = ValueError;

/// Why a value cannot be read the way CherryPy would read it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// A stable code (see [`codes`]): `value-syntax`, `unsupported-expression`, ...,
    /// `unresolved-name` for a warning.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// A suggested fix, if there is an obvious one.
    pub help: Option<String>,
    /// The byte range, in the text given to [`parse`], of the construct concerned.
    pub span: Range<usize>,
}

impl ValueError {
    pub(super) fn new(
        code: &'static str,
        message: impl Into<String>,
        help: Option<String>,
        span: Range<usize>,
    ) -> Self {
        let message = message.into();
        ValueError {
            code,
            message,
            help,
            span,
        }
    }
}

/// Reads one config value (after INI interpolation) as CherryPy 18.10 on Python 3.11 would.
///
/// ```
/// use actix_cherrypy::__private::unrepr::parse;
/// use actix_cherrypy::unrepr::Value;
///
/// let parsed = parse("60 * 24  # minutes").unwrap();
/// assert_eq!(parsed.value, Value::Int(1440.into()));
/// assert_eq!(parse("utf-8").unwrap_err().code, "unsupported-expression");
/// ```
pub fn parse(text: &str) -> Result<Parsed, ValueError> {
    parse_counted(text, &mut 0)
}

/// [`parse`], adding to `built` what reading the value built along the way, kept or not
/// and whether it succeeded or not (weighed as `weight` weighs values: every literal and
/// every operation's result), so that a config can bound the work all its values ask for.
pub(crate) fn parse_counted(text: &str, built: &mut usize) -> Result<Parsed, ValueError> {
    if let Some(at) = text.find('\0') {
        // CPython 3.11 refuses the whole source before tokenizing.
        let message = "source code string cannot contain null bytes".into();
        return Err(syntax_error(message, at..at + 1, text));
    }
    if u32::try_from(text.len()).is_err() {
        // Tokens keep their offsets in `u32`. A config is far smaller (`MAX_CONFIG_BYTES`).
        return Err(too_large("the value is longer than 4 GiB", text));
    }
    if let Some(value) = plain_literal(text) {
        return Ok(Parsed {
            value,
            warnings: Vec::new(),
        });
    }
    let lexed = lexer::tokenize(text);
    if let Some(at) = lexed.over_budget {
        let message = format!(
            "the value has more than {MAX_VALUE_TOKENS} tokens (names, numbers, strings, \
             operators), more than a config value may have"
        );
        return Err(ValueError::new(
            codes::TOO_LARGE,
            message,
            None,
            char_at(text, at),
        ));
    }
    let mut p = parser::Parser::new(text, &lexed.tokens);
    let mut node = p.module().map_err(|fail| match p.resolve(fail, &lexed) {
        Some(e) => syntax_error(e.message, e.span, text),
        None => too_large(
            "the value is nested too deeply: Python's parser would fail (MemoryError/RecursionError)",
            text,
        ),
    })?;
    eval::build(text, &mut node, built)
}

fn syntax_error(message: String, span: Range<usize>, text: &str) -> ValueError {
    let help = hints::quote_help(text);
    ValueError::new(codes::SYNTAX, message, help, clamp(span, text))
}

/// `value-too-large` for the value as a whole (too long, nested too deeply): reported at its
/// first character.
pub(super) fn too_large(message: &str, text: &str) -> ValueError {
    ValueError::new(codes::TOO_LARGE, message, None, char_at(text, 0))
}

/// The span of the character at byte `at` of `text` (empty at its end).
fn char_at(text: &str, at: usize) -> Range<usize> {
    at..at + text[at..].chars().next().map_or(0, char::len_utf8)
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
        // unrepr's own first line: `if not s: return s`.
        "" => return Some(Value::Str(String::new())),
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
