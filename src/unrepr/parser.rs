//! The parser core: the tree the builder walks, token access, recursion bounds, and how a
//! failure becomes the error CPython reports.
//!
//! The grammar is Python 3.11's, read as `__tempvalue__ = <text>` (`expr.rs` has the
//! expressions, `stmt.rs` the statements), by recursive descent with loops for the chains that
//! need no brackets (`- - x`, `a if b else c if d else e`, `lambda: lambda:`), so only brackets
//! and a few rare forms recurse. CPython's PEG parser reports a generic "invalid syntax" at the
//! furthest token it fetched; `furthest` tracks the same.

use std::ops::Range;

use super::ValueError;
use super::lexer::{Kind, Lexed, Token, line_of, syntax_error};
use super::value::Value;

pub(super) type Span = Range<usize>;

/// How deep a tree may be: CPython 3.11 raises `RecursionError` while building a deeper AST
/// (`not not ... 1` fails past 2979 levels when called from a shallow stack).
pub(super) const MAX_TREE_DEPTH: u32 = 2975;
/// CPython's parser stack: past 6000 levels of grammar rules it raises `MemoryError`. Each of
/// our recursions is charged roughly what CPython's rules cost for it, so 200 nested brackets
/// (the tokenizer's limit) always fit and `lambda a=lambda a=...` fails near 745 levels.
const MAX_PARSER_LEVELS: u32 = 6000;
pub(super) const EXPRESSION_LEVELS: u32 = 8;
pub(super) const BRACKET_LEVELS: u32 = 16;

/// Runs `f` on a fresh stack segment if little is left: the depth bounds follow CPython's,
/// which take more stack than a 2 MiB thread can spare in an unoptimised build.
pub(super) fn grow_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, f)
}

/// Python's keywords (3.11); soft keywords (`match`, `case`, `_`) are names.
const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

pub(super) fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

pub(super) fn syntax(message: impl Into<String>, span: Range<usize>) -> Fail {
    Fail::Syntax(syntax_error(message, span))
}

/// An expression node. Literals are already values; a node the builder rejects on sight (a
/// comparison, a lambda, ...) is a `Rejected` leaf named after Python's AST class, since the
/// builder raises `unrepr does not recognize '<class>'` before looking inside it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NodeKind {
    Lit(Value),
    /// A `str` literal with a lone surrogate escape there: valid Python, but not a `String`.
    Surrogate(Range<usize>),
    Name(String),
    Attribute(Box<Node>, String),
    /// Callee, positional arguments, keyword arguments (`None` for `**mapping`).
    Call(Box<Node>, Vec<Node>, Vec<(Option<String>, Node)>),
    Subscript(Box<Node>, Box<Node>),
    Starred(Box<Node>),
    List(Vec<Node>),
    Tuple(Vec<Node>),
    /// A `None` key is a `**mapping` entry.
    Dict(Vec<(Option<Node>, Node)>),
    /// The operator's AST class (`"Add"`, `"Sub"`, ...) and its token's span.
    BinOp(Box<Node>, &'static str, Range<usize>, Box<Node>),
    Neg(Box<Node>),
    /// Reported at `at`: the operator token of an operator (`<`, `and`, `if`, ...), else the node.
    Rejected(&'static str, Range<usize>),
}

impl NodeKind {
    fn children(&mut self) -> Vec<&mut Node> {
        use NodeKind::*;
        match self {
            Attribute(v, _) | Starred(v) | Neg(v) => vec![v],
            Subscript(a, b) | BinOp(a, _, _, b) => vec![a, b],
            Call(f, args, kw) => {
                let kw = kw.iter_mut().map(|k| &mut k.1);
                std::iter::once(&mut **f).chain(args).chain(kw).collect()
            }
            List(items) | Tuple(items) => items.iter_mut().collect(),
            Dict(items) => items
                .iter_mut()
                .flat_map(|(k, v)| k.iter_mut().chain([v]))
                .collect(),
            _ => vec![],
        }
    }
}

/// An expression with its span. `depth` is the height of the tree below (bounded, so that
/// walking it never exhausts the stack); `parenthesized` tells `(x) = 1` from `x = 1`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub(super) kind: NodeKind,
    pub(super) span: Range<usize>,
    pub(super) depth: u32,
    pub(super) parenthesized: bool,
}

impl Drop for Node {
    /// Deep trees are taken apart with an explicit stack rather than by recursion.
    fn drop(&mut self) {
        if self.depth < 64 {
            return;
        }
        let leaf = || NodeKind::Name(String::new());
        let mut stack = vec![std::mem::replace(&mut self.kind, leaf())];
        while let Some(mut kind) = stack.pop() {
            for child in kind.children() {
                stack.push(std::mem::replace(&mut child.kind, leaf()));
            }
        }
    }
}

/// Checks that `node` can be assigned to (`del_only`: deleted): names, attributes,
/// subscripts, and tuples/lists of those (with starred items for assignment). Python names
/// the first bad one.
pub(super) fn check_target(node: &Node, del_only: bool) -> PResult<()> {
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        match &n.kind {
            NodeKind::Name(_) | NodeKind::Attribute(..) | NodeKind::Subscript(..) => {}
            NodeKind::Starred(inner) if !del_only => todo.push(inner),
            NodeKind::Tuple(items) | NodeKind::List(items) => todo.extend(items.iter().rev()),
            _ => {
                let verb = if del_only { "delete" } else { "assign to" };
                let message = format!("cannot {verb} this expression");
                return Err(syntax(message, n.span.clone()));
            }
        }
    }
    Ok(())
}

/// Why parsing stopped.
#[derive(Debug)]
pub(super) enum Fail {
    /// No rule matched: "invalid syntax" at the furthest token (or a tokenizer error).
    Generic,
    Syntax(ValueError),
    /// Nested too deeply (CPython: `MemoryError` / `RecursionError`).
    TooDeep,
}

pub(super) type PResult<T> = Result<T, Fail>;

/// `Fail::Generic` unless the grammar's condition holds.
pub(super) fn ensure(ok: bool) -> PResult<()> {
    if ok { Ok(()) } else { Err(Fail::Generic) }
}

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    tokens: &'a [Token],
    /// The current token; `with_stmt` saves and restores it to backtrack.
    pub(super) pos: usize,
    /// The furthest token looked at, where CPython reports a generic "invalid syntax".
    furthest: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, tokens: &'a [Token]) -> Self {
        let (pos, furthest, depth) = (0, 0, 0);
        Parser {
            src,
            tokens,
            pos,
            furthest,
            depth,
        }
    }

    /// The token `ahead` of the current one (the stream always ends with a terminal token).
    pub(super) fn peek_at(&mut self, ahead: usize) -> Token {
        let i = (self.pos + ahead).min(self.tokens.len() - 1);
        self.furthest = self.furthest.max(i);
        self.tokens[i]
    }

    pub(super) fn peek(&mut self) -> Token {
        self.peek_at(0)
    }

    pub(super) fn advance(&mut self) -> Token {
        let t = self.peek();
        self.pos = (self.pos + 1).min(self.tokens.len() - 1);
        t
    }

    pub(super) fn text(&self, t: Token) -> &'a str {
        &self.src[t.start()..t.end()]
    }

    /// Whether the token `ahead` is this operator or keyword.
    pub(super) fn at_n(&mut self, ahead: usize, word: &str) -> bool {
        let t = self.peek_at(ahead);
        matches!(t.kind, Kind::Op | Kind::Name) && self.text(t) == word
    }

    pub(super) fn at(&mut self, word: &str) -> bool {
        self.at_n(0, word)
    }

    pub(super) fn eat(&mut self, word: &str) -> bool {
        let yes = self.at(word);
        self.pos += usize::from(yes); // not the terminal token: it is no word
        yes
    }

    pub(super) fn expect(&mut self, word: &str) -> PResult<Token> {
        ensure(self.at(word))?;
        Ok(self.advance())
    }

    /// A name that is not a keyword.
    pub(super) fn is_name(&mut self) -> bool {
        let t = self.peek();
        t.kind == Kind::Name && !is_keyword(self.text(t))
    }

    pub(super) fn expect_name(&mut self) -> PResult<Token> {
        ensure(self.is_name())?;
        Ok(self.advance())
    }

    pub(super) fn is_kind(&mut self, kind: Kind) -> bool {
        self.peek().kind == kind
    }

    /// End offset of the previous token.
    pub(super) fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).map_or(0, |i| self.tokens[i].end())
    }

    /// Builds a node, enforcing the tree-depth bound.
    pub(super) fn node(&self, mut kind: NodeKind, span: Span) -> PResult<Node> {
        let below = kind.children().iter().map(|n| n.depth).max().unwrap_or(0);
        self.sized(kind, span, below)
    }

    /// A node the builder rejects as a whole, reported at the node.
    pub(super) fn reject(&self, class: &'static str, span: Span, below: u32) -> PResult<Node> {
        self.reject_at(class, span.clone(), span, below)
    }

    /// A node the builder rejects as a whole, reported at `at`; `below` is the depth of the
    /// children it has in Python's tree, so that the depth bound sees CPython's tree height.
    pub(super) fn reject_at(
        &self,
        class: &'static str,
        span: Span,
        at: Span,
        below: u32,
    ) -> PResult<Node> {
        self.sized(NodeKind::Rejected(class, at), span, below)
    }

    /// A node `below + 1` deep, unless that passes the tree-depth bound.
    fn sized(&self, kind: NodeKind, span: Span, below: u32) -> PResult<Node> {
        ensure(below < MAX_TREE_DEPTH).map_err(|_| Fail::TooDeep)?;
        let (depth, parenthesized) = (below + 1, false);
        Ok(Node {
            kind,
            span,
            depth,
            parenthesized,
        })
    }

    /// Runs `f` one recursion level deeper (costing `levels` of CPython's parser stack).
    pub(super) fn nested<T>(
        &mut self,
        levels: u32,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        ensure(self.depth + levels <= MAX_PARSER_LEVELS).map_err(|_| Fail::TooDeep)?;
        self.depth += levels;
        // A few levels cannot exhaust any sane stack; skip the check there.
        let r = if self.depth < 100 {
            f(self)
        } else {
            grow_stack(|| f(self))
        };
        self.depth -= levels;
        r
    }

    /// Turns a failure into the `SyntaxError` to report; `None` is "nested too deeply".
    ///
    /// CPython tokenizes the rest of the source after a parser error, so a tokenizer error
    /// anywhere wins. Where the tokenizer only stopped (end of input inside brackets, a bad
    /// line continuation), that counts if the parser got there. (CPython's second pass, which
    /// sometimes gets there too, is not reproduced: `(1 2` is "invalid syntax" at `2` rather
    /// than "'(' was never closed", on the same line.)
    pub(super) fn resolve(&mut self, fail: Fail, lexed: &Lexed) -> Option<ValueError> {
        let far = self.tokens[self.furthest];
        let error = |message: &str, span: Range<usize>| Some(syntax_error(message, span));
        // A `MemoryError` from CPython's parser is not a `SyntaxError` and is not replaced,
        // unless the tokenizer failed first.
        if matches!(fail, Fail::TooDeep) && far.kind != Kind::Hard {
            return None;
        }
        // Reported before the rest is tokenized, so it wins over a tokenizer error further on.
        if matches!(fail, Fail::Generic) && far.kind == Kind::Indent {
            return error("unexpected indent", far.span());
        }
        if let Some(e) = &lexed.hard_error {
            return Some(e.clone());
        }
        let at = match &fail {
            Fail::Syntax(e) => e.span.start,
            _ => far.start(),
        };
        let unclosed = |at: usize| {
            let bracket = self.src[at..].chars().next().unwrap_or('(');
            error(&format!("'{bracket}' was never closed"), at..at + 1)
        };
        if far.kind == Kind::Stop {
            return match lexed.unclosed {
                Some(open) => unclosed(open),
                None => error(lexed.stop, far.span()),
            };
        }
        // A bracket left open on an earlier line than the error is reported instead.
        let earlier_line = |open: usize| line_of(self.src, at) > line_of(self.src, open);
        if let Some(open) = lexed.unclosed.filter(|&open| earlier_line(open)) {
            return unclosed(open);
        }
        match fail {
            Fail::Syntax(e) => Some(e),
            Fail::TooDeep => None,
            Fail::Generic => error(
                "invalid syntax",
                far.start()..far.end().max(far.start() + 1),
            ),
        }
    }
}
