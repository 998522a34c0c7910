//! Primaries and atoms: names, numbers, strings, bracketed forms and their trailers
//! (`.name`, `(args)`, `[index]`).

use super::lexer::{Kind, Token};
use super::number::{self, Number};
use super::parser::{BRACKET_LEVELS, Fail, PResult, Parser, is_keyword};
use super::string::{self, Literal};
use super::syntax::{Const, Node, NodeKind, SyntaxError};

impl Parser<'_> {
    /// `primary`: an atom followed by `.name`, `(args)` and `[index]` trailers.
    pub(super) fn primary(&mut self) -> PResult<Node> {
        let mut node = self.atom()?;
        loop {
            let start = node.span.start;
            if self.eat_op(".") {
                let name = self.expect_name()?;
                let attr = self.name_text(name);
                node = self.node(
                    NodeKind::Attribute {
                        value: Box::new(node),
                        attr,
                    },
                    start..name.end,
                )?;
            } else if self.is_op("(") {
                self.advance();
                let (args, keywords) = self.nested(BRACKET_LEVELS, Self::call_arguments)?;
                let close = self.expect_op(")")?;
                node = self.node(
                    NodeKind::Call {
                        func: Box::new(node),
                        args,
                        keywords,
                    },
                    start..close.end,
                )?;
            } else if self.is_op("[") {
                self.advance();
                let index = self.nested(BRACKET_LEVELS, Self::slices)?;
                let close = self.expect_op("]")?;
                node = self.node(
                    NodeKind::Subscript {
                        value: Box::new(node),
                        index: Box::new(index),
                    },
                    start..close.end,
                )?;
            } else {
                return Ok(node);
            }
        }
    }

    /// A name as Python stores it: NFKC-normalized (PEP 3131).
    pub(super) fn name_text(&self, t: Token) -> String {
        let raw = self.text(t);
        if raw.is_ascii() {
            raw.to_string()
        } else {
            use unicode_normalization::UnicodeNormalization;
            raw.nfkc().collect()
        }
    }

    fn atom(&mut self) -> PResult<Node> {
        let t = self.peek();
        match t.kind {
            Kind::Name => {
                let word = self.text(t);
                let c = match word {
                    "None" => Const::None,
                    "True" => Const::True,
                    "False" => Const::False,
                    _ if is_keyword(word) => return Err(Fail::Generic),
                    _ => {
                        self.advance();
                        return self.node(NodeKind::Name(self.name_text(t)), t.span());
                    }
                };
                self.advance();
                self.node(NodeKind::Const(c), t.span())
            }
            Kind::Number => {
                self.advance();
                // Python reports no useful column here; point at the literal itself.
                let c =
                    match number::value(self.text(t)).map_err(|m| SyntaxError::new(m, t.span()))? {
                        Number::Int(i) => Const::Int(i),
                        Number::Float(f) => Const::Float(f),
                        Number::Imag(f) => Const::Imag(f),
                    };
                self.node(NodeKind::Const(c), t.span())
            }
            Kind::String => self.strings(),
            Kind::Op => match self.text(t) {
                "(" => self.nested(BRACKET_LEVELS, Self::paren),
                "[" => self.nested(BRACKET_LEVELS, Self::list_display),
                "{" => self.nested(BRACKET_LEVELS, Self::brace_display),
                "..." => {
                    self.advance();
                    self.node(NodeKind::Const(Const::Ellipsis), t.span())
                }
                _ => Err(Fail::Generic),
            },
            _ => Err(Fail::Generic),
        }
    }

    /// Adjacent string literals, concatenated (`'a' "b"`); any f-string makes the whole a
    /// `JoinedStr`.
    fn strings(&mut self) -> PResult<Node> {
        let mut toks = Vec::new();
        while self.is_kind(Kind::String) {
            toks.push(self.advance());
        }
        let span = toks[0].start..toks[toks.len() - 1].end;
        // CPython raises these errors from a parser action, at the token it has just looked
        // ahead to (the one after the strings).
        let after = self.peek().start;
        let at_next = |f: Fail| match f {
            Fail::Syntax(e) => Fail::Syntax(SyntaxError::new(e.message, after..after + 1)),
            other => other,
        };
        let is_bytes = |t: &Token| string::parts(self.text(*t), t.start).bytes;
        // This one CPython reports at the string itself.
        if let Some(t) = toks
            .iter()
            .find(|t| is_bytes(t) && !self.text(**t).is_ascii())
        {
            return Err(SyntaxError::new(
                "bytes can only contain ASCII literal characters",
                t.span(),
            )
            .into());
        }
        let first_bytes = is_bytes(&toks[0]);
        // CPython reports this at the token after the strings; we point at the literals.
        if toks.iter().any(|t| is_bytes(t) != first_bytes) {
            return Err(SyntaxError::new("cannot mix bytes and nonbytes literals", span).into());
        }
        let mut joined = false;
        let mut text = String::new();
        let mut bytes = Vec::new();
        let mut surrogate = None;
        for t in &toks {
            // A bad escape is reported at the escape itself (CPython: after the strings).
            let decoded: Result<_, Fail> =
                string::decode(self.text(*t), t.start).map_err(Into::into);
            match decoded? {
                Literal::Str {
                    value,
                    surrogate: s,
                } => {
                    text.push_str(&value);
                    surrogate = surrogate.or(s);
                }
                Literal::Bytes(b) => bytes.extend_from_slice(&b),
                Literal::FString => {
                    self.check_fstring(*t).map_err(at_next)?;
                    joined = true;
                }
            }
        }
        if joined {
            return Ok(Node::rejected("JoinedStr", span, 0));
        }
        let c = if first_bytes {
            Const::Bytes(bytes)
        } else {
            Const::Str {
                value: text,
                surrogate,
            }
        };
        self.node(NodeKind::Const(c), span)
    }
}
