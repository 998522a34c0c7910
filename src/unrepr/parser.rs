//! The parser core: token access, the recursion guard and how a failure becomes the error
//! CPython would report.
//!
//! The grammar is Python 3.11's, read as `__tempvalue__ = <text>`: `expr.rs` has the
//! expressions, `stmt.rs` the statements. The parser is recursive descent with loops for the
//! chains that need no brackets (`- - - x`, `a if b else c if d else e`, `lambda: lambda:`,
//! `x ** -y ** -z`), so only brackets (at most 200, as in Python) and a few rare forms recurse;
//! a depth guard covers those.
//!
//! CPython's PEG parser reports a generic "invalid syntax" at the furthest token it fetched;
//! `furthest` tracks the same. Specific messages are produced where we recognise the
//! construct; they can differ from CPython's wording, never from its verdict.

use std::ops::Range;

use super::lexer::{Kind, Lexed, Stop, Token};
use super::syntax::{Node, NodeKind, SyntaxError};

/// How deep a tree may be. CPython 3.11 raises `RecursionError` while building a deeper AST
/// (its limit is 3000 minus three times the Python stack depth at the call; `not not ... 1`
/// fails past 2979 levels when called from a shallow stack).
pub(super) const MAX_TREE_DEPTH: u32 = 2975;
/// CPython's parser stack (`MAXSTACK`): past 6000 levels of grammar rules it raises
/// `MemoryError`. We charge each of our recursions what CPython's rules cost for it, roughly:
/// [`EXPRESSION_LEVELS`] per nested expression, [`BRACKET_LEVELS`] per bracket (so 200 nested
/// brackets, the tokenizer's limit, always fit, and `lambda a=lambda a=...` fails near
/// CPython's 745 levels).
const MAX_PARSER_LEVELS: u32 = 6000;
pub(super) const EXPRESSION_LEVELS: u32 = 8;
pub(super) const BRACKET_LEVELS: u32 = 16;
/// Below this many levels (a few nested brackets) the stack check is skipped.
const SHALLOW_LEVELS: u32 = 100;

/// Runs `f`, first moving to a fresh stack segment if less than `RED_ZONE` is left.
///
/// The depth bounds above follow CPython, and 200 nested brackets take several MiB of stack
/// in an unoptimised build (about 1 MiB optimised), more than a 2 MiB thread (tokio's and the
/// test harness's default) can spare. `stacker` grows the stack on demand instead.
pub(super) fn grow_stack<R>(f: impl FnOnce() -> R) -> R {
    /// Larger than what one level of our recursion uses between two checks, in any build.
    const RED_ZONE: usize = 128 * 1024;
    const SEGMENT: usize = 2 * 1024 * 1024;
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// Python's keywords (3.11); soft keywords (`match`, `case`, `_`) are names.
const KEYWORDS: &str = "False None True and as assert async await break class continue def del \
    elif else except finally for from global if import in is lambda nonlocal not or pass raise \
    return try while with yield";

pub(super) fn is_keyword(word: &str) -> bool {
    KEYWORDS.split_ascii_whitespace().any(|k| k == word)
}

/// Why parsing stopped.
#[derive(Debug)]
pub(super) enum Fail {
    /// No rule matched: "invalid syntax" at the furthest token (or a tokenizer error).
    Generic,
    /// A specific `SyntaxError`.
    Syntax(SyntaxError),
    /// The input is nested too deeply (CPython: `MemoryError` / `RecursionError`).
    TooDeep,
}

impl From<SyntaxError> for Fail {
    fn from(e: SyntaxError) -> Self {
        Fail::Syntax(e)
    }
}

pub(super) type PResult<T> = Result<T, Fail>;

/// The outcome of a failed parse, in the terms of the module's error codes.
#[derive(Debug)]
pub(super) enum ParseError {
    Syntax(SyntaxError),
    /// Nested too deeply, reported at the start of the value (no one place is to blame).
    TooDeep,
}

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    tokens: &'a [Token],
    pos: usize,
    furthest: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, tokens: &'a [Token], depth: u32) -> Self {
        Parser {
            src,
            tokens,
            pos: 0,
            furthest: 0,
            depth,
        }
    }

    /// The current token (the stream always ends with a terminal token).
    pub(super) fn peek(&mut self) -> Token {
        self.peek_at(0)
    }

    pub(super) fn peek_at(&mut self, ahead: usize) -> Token {
        let i = (self.pos + ahead).min(self.tokens.len() - 1);
        self.furthest = self.furthest.max(i);
        self.tokens[i]
    }

    pub(super) fn advance(&mut self) -> Token {
        let t = self.peek();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(super) fn text(&self, t: Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    pub(super) fn is_op(&mut self, op: &str) -> bool {
        let t = self.peek();
        t.kind == Kind::Op && self.text(t) == op
    }

    pub(super) fn is_op_at(&mut self, ahead: usize, op: &str) -> bool {
        let t = self.peek_at(ahead);
        t.kind == Kind::Op && self.text(t) == op
    }

    pub(super) fn eat_op(&mut self, op: &str) -> bool {
        let yes = self.is_op(op);
        if yes {
            self.advance();
        }
        yes
    }

    pub(super) fn expect_op(&mut self, op: &str) -> PResult<Token> {
        if self.is_op(op) {
            Ok(self.advance())
        } else {
            Err(Fail::Generic)
        }
    }

    pub(super) fn is_kw(&mut self, kw: &str) -> bool {
        let t = self.peek();
        t.kind == Kind::Name && self.text(t) == kw
    }

    pub(super) fn is_kw_at(&mut self, ahead: usize, kw: &str) -> bool {
        let t = self.peek_at(ahead);
        t.kind == Kind::Name && self.text(t) == kw
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.advance();
        }
        yes
    }

    pub(super) fn expect_kw(&mut self, kw: &str) -> PResult<Token> {
        if self.is_kw(kw) {
            Ok(self.advance())
        } else {
            Err(Fail::Generic)
        }
    }

    /// A name that is not a keyword.
    pub(super) fn is_name(&mut self) -> bool {
        let t = self.peek();
        t.kind == Kind::Name && !is_keyword(self.text(t))
    }

    pub(super) fn expect_name(&mut self) -> PResult<Token> {
        if self.is_name() {
            Ok(self.advance())
        } else {
            Err(Fail::Generic)
        }
    }

    pub(super) fn is_kind(&mut self, kind: Kind) -> bool {
        self.peek().kind == kind
    }

    /// End offset of the previous token.
    pub(super) fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).map_or(0, |i| self.tokens[i].end)
    }

    /// Builds a node and enforces the tree-depth bound.
    pub(super) fn node(&self, kind: NodeKind, span: Range<usize>) -> PResult<Node> {
        self.checked(Node::new(kind, span))
    }

    pub(super) fn checked(&self, node: Node) -> PResult<Node> {
        if node.depth > MAX_TREE_DEPTH {
            return Err(Fail::TooDeep);
        }
        Ok(node)
    }

    /// Runs `f` one recursion level deeper (costing `levels` of CPython's parser stack),
    /// failing cleanly past the bound. This bound is also what keeps our own stack small.
    pub(super) fn nested<T>(
        &mut self,
        levels: u32,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        if self.depth + levels > MAX_PARSER_LEVELS {
            return Err(Fail::TooDeep);
        }
        self.depth += levels;
        // Shallow levels cannot exhaust any sane stack; skip the check there.
        let r = if self.depth < SHALLOW_LEVELS {
            f(self)
        } else {
            grow_stack(|| f(self))
        };
        self.depth -= levels;
        r
    }

    /// Where the parser is, to come back with `reset` (the one place that backtracks).
    pub(super) fn mark(&self) -> usize {
        self.pos
    }

    pub(super) fn reset(&mut self, mark: usize) {
        self.pos = mark;
    }

    pub(super) fn depth(&self) -> u32 {
        self.depth
    }

    fn line_of(&self, at: usize) -> usize {
        self.src[..at.min(self.src.len())].matches('\n').count()
    }

    /// CPython's second pass tries `invalid_expression` (`a=disjunction b=expression`, "Perhaps
    /// you forgot a comma?") where an expression is directly followed by another one; if
    /// reading that second expression reaches the tokenizer's stopping point, the
    /// tokenizer's error is raised. Replays that reading.
    fn second_pass_reaches_stop(&mut self) -> bool {
        let at = self.furthest;
        if at == 0 || at + 1 >= self.tokens.len() {
            return false;
        }
        let prev = self.tokens[at - 1];
        let ends_expression = match prev.kind {
            Kind::Name => {
                !is_keyword(self.text(prev)) || matches!(self.text(prev), "None" | "True" | "False")
            }
            Kind::Number | Kind::String => true,
            Kind::Op => matches!(self.text(prev), ")" | "]" | "}" | "..."),
            _ => false,
        };
        let (pos, furthest, depth) = (self.pos, self.furthest, self.depth);
        self.pos = at;
        let starts = self.starts_expression() && !self.is_op("*");
        if ends_expression && starts {
            let _ = self.expression();
        }
        let reached = matches!(self.tokens[self.furthest].kind, Kind::Stop(_));
        (self.pos, self.furthest, self.depth) = (pos, furthest, depth);
        reached
    }

    /// Turns a failure into the error CPython reports (`_PyPegen_set_syntax_error`).
    ///
    /// CPython tokenizes the rest of the source after any `SyntaxError` from the parser, so
    /// a tokenizer error anywhere wins. Problems the tokenizer only flags (end of input inside
    /// brackets, a bad line continuation) count when the parser gets there; its second pass,
    /// which looks further ahead for a better message, gets there in the "forgot a comma?"
    /// situation (see `second_pass_reaches_stop`).
    pub(super) fn resolve(&mut self, fail: Fail, lexed: &Lexed) -> ParseError {
        let far = self.tokens[self.furthest.min(self.tokens.len() - 1)];
        let last = self.tokens[self.tokens.len() - 1];
        let unclosed = || {
            let at = lexed.unclosed.unwrap_or(far.start);
            let bracket = self.src[at..].chars().next().unwrap_or('(');
            ParseError::Syntax(SyntaxError::new(
                format!("'{bracket}' was never closed"),
                at..at + 1,
            ))
        };
        let stop_error = |stop: Stop, at: Token| match stop {
            Stop::Unclosed => unclosed(),
            _ => ParseError::Syntax(SyntaxError::new(stop.message(), at.span())),
        };
        // A `MemoryError` from CPython's parser is not a `SyntaxError` and is not replaced,
        // unless the tokenizer failed first.
        if matches!(fail, Fail::TooDeep) && far.kind != Kind::Hard {
            return ParseError::TooDeep;
        }
        // An unexpected indent is reported before the rest is tokenized (so it wins over a
        // tokenizer error further on).
        if matches!(fail, Fail::Generic) && far.kind == Kind::Indent {
            return ParseError::Syntax(SyntaxError::new("unexpected indent", far.span()));
        }
        if let Some(e) = &lexed.hard_error {
            return ParseError::Syntax(e.clone());
        }
        if let Kind::Stop(stop) = far.kind {
            return stop_error(stop, far);
        }
        // CPython's last check: a bracket left open on an earlier line than the error is
        // reported instead (`_PyPegen_tokenize_full_source_to_check_for_errors`).
        let error_line = match &fail {
            Fail::Syntax(e) => self.line_of(e.span.start),
            _ => self.line_of(far.start),
        };
        if last.kind == Kind::Stop(Stop::Unclosed)
            && lexed
                .unclosed
                .is_some_and(|at| error_line > self.line_of(at))
        {
            return unclosed();
        }
        match fail {
            Fail::Syntax(e) => ParseError::Syntax(e),
            Fail::TooDeep => ParseError::TooDeep,
            Fail::Generic => {
                if let Kind::Stop(stop) = last.kind
                    && self.second_pass_reaches_stop()
                {
                    return stop_error(stop, last);
                }
                let span = if far.start == far.end {
                    far.start..far.start + 1
                } else {
                    far.span()
                };
                ParseError::Syntax(SyntaxError::new("invalid syntax", span))
            }
        }
    }
}
