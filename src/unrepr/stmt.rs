//! Statements after the value (`60 ; minutes = 1`, `if x: pass` on a continuation line):
//! CherryPy parses the whole text, so they must be valid Python, but they are only checked.
//! Compound statements have one-line bodies (see the module docs). Known gap: `match`
//! statements are not recognised (reported as `value-syntax`); Python 3.11 accepts them.

use super::lexer::Kind;
use super::parser::{
    BRACKET_LEVELS, Fail, Node, NodeKind, PResult, Parser, check_target, ensure, is_keyword, syntax,
};

/// Statements whose shape is a sequence, by their first word: words are keywords or
/// operators to expect; `[...]` is optional and `{...}` repeated, each entered when its first
/// item is there; `E` an expression, `X` a named expression, `S` star expressions, `N` a name,
/// `T` `for` targets, `P` a function's parameters, `A` call arguments, `B` a block.
const SIMPLE: &str = "pass
break
continue
return [ S ]
raise [ E [ from E ] ]
global N { , N }
nonlocal N { , N }
assert E [ , E ]
import N { . N } [ as N ] { , N { . N } [ as N ] }";

/// Compound statements shaped as sequences (see `SIMPLE`).
const COMPOUND: &str = "if X B { elif X B } [ else B ]
while X B [ else B ]
for T in S B [ else B ]
def N ( P ) [ -> E ] B
class N [ ( A ) ] B";

impl<'a> Parser<'a> {
    /// The whole module `__tempvalue__ = <text>`, with `__tempvalue__ =` already read.
    /// Returns the value of the first statement.
    pub(super) fn module(&mut self) -> PResult<Node> {
        let value = self.assignment_chain()?;
        self.simple_stmts_tail()?;
        while !self.is_kind(Kind::EndMarker) {
            if !self.compound_stmt()? {
                self.simple_stmt()?;
                self.simple_stmts_tail()?;
            }
        }
        Ok(value)
    }

    /// `yield_expr | star_expressions`.
    fn annotated_rhs(&mut self) -> PResult<Node> {
        if self.at("yield") {
            self.yield_expr()
        } else {
            self.star_expressions()
        }
    }

    /// `(star_targets '=')* annotated_rhs` after a first target; returns the last item.
    fn assignment_chain(&mut self) -> PResult<Node> {
        let mut value = self.annotated_rhs()?;
        while self.at("=") {
            check_target(&value, false)?;
            self.advance();
            value = self.annotated_rhs()?;
        }
        Ok(value)
    }

    /// `[';' simple_stmt]* [';'] NEWLINE` after a first simple statement.
    fn simple_stmts_tail(&mut self) -> PResult<()> {
        while self.eat(";") && !self.is_kind(Kind::Newline) {
            self.simple_stmt()?;
        }
        ensure(self.is_kind(Kind::Newline))?;
        self.advance();
        Ok(())
    }

    /// The current token if it is a name or keyword, else "".
    fn word(&mut self) -> &'a str {
        let t = self.peek();
        if t.kind == Kind::Name {
            self.text(t)
        } else {
            ""
        }
    }

    /// Reads the statement of `table` (see `SIMPLE`) that starts here, if there is one.
    fn shaped(&mut self, table: &str) -> PResult<bool> {
        let word = self.word();
        // Every shape starts with a keyword: other statements need no look-up.
        let head = |l: &&str| is_keyword(word) && l.split(' ').next() == Some(word);
        let Some(shape) = table.lines().find(head) else {
            return Ok(false);
        };
        self.shape(&shape.split(' ').collect::<Vec<_>>())?;
        Ok(true)
    }

    fn shape(&mut self, shape: &[&str]) -> PResult<()> {
        let mut i = 0;
        while let Some(&item) = shape.get(i) {
            i += 1;
            match item {
                "[" | "{" => {
                    let mut open = 1;
                    let len = shape[i..].iter().position(|w| {
                        open +=
                            i32::from(matches!(*w, "[" | "{")) - i32::from(matches!(*w, "]" | "}"));
                        open == 0
                    });
                    let group = &shape[i..i + len.unwrap_or(0)];
                    i += group.len() + 1;
                    while match group[0] {
                        "E" | "S" => self.starts_expression(),
                        word => self.at(word),
                    } {
                        self.shape(group)?;
                        if item == "[" {
                            break;
                        }
                    }
                }
                "E" => drop(self.expression()?),
                "X" => drop(self.named_expression()?),
                "S" => drop(self.star_expressions()?),
                "N" => drop(self.expect_name()?),
                "T" => drop(self.for_targets()?),
                "P" => self.parameters(true)?,
                "A" => drop(self.nested(BRACKET_LEVELS, Self::call_arguments)?),
                "B" => self.block()?,
                word => drop(self.expect(word)?),
            }
        }
        Ok(())
    }

    fn simple_stmt(&mut self) -> PResult<()> {
        if self.shaped(SIMPLE)? {
            return Ok(());
        }
        match self.word() {
            "from" => self.import_from(),
            "yield" => self.yield_expr().map(drop),
            "del" => {
                self.advance();
                loop {
                    check_target(&self.primary()?, true)?;
                    if !self.eat(",") || self.at(";") || self.is_kind(Kind::Newline) {
                        break;
                    }
                }
                ensure(self.at(";") || self.is_kind(Kind::Newline))
            }
            _ => self.expression_stmt(),
        }
    }

    /// Expression statements and every kind of assignment.
    fn expression_stmt(&mut self) -> PResult<()> {
        if self.is_name() && self.at_n(1, ":") {
            self.advance();
            return self.annotation_rest();
        }
        let first = self.star_expressions()?;
        let single = matches!(
            first.kind,
            NodeKind::Attribute(..) | NodeKind::Subscript(..)
        );
        if self.at(":") {
            if !(single || first.parenthesized && matches!(first.kind, NodeKind::Name(_))) {
                return Err(syntax("illegal target for annotation", first.span.clone()));
            }
            return self.annotation_rest();
        }
        let t = self.peek();
        let augmented = [
            "+=", "-=", "*=", "@=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**=", "//=",
        ];
        if t.kind == Kind::Op && augmented.contains(&self.text(t)) {
            if !single && !matches!(first.kind, NodeKind::Name(_)) {
                let message = "illegal expression for augmented assignment";
                return Err(syntax(message, first.span.clone()));
            }
            self.advance();
            self.annotated_rhs()?;
        } else if self.at("=") {
            check_target(&first, false)?;
            self.advance();
            self.assignment_chain()?;
        }
        Ok(())
    }

    /// `: annotation ['=' annotated_rhs]`.
    fn annotation_rest(&mut self) -> PResult<()> {
        self.expect(":")?;
        self.expression()?;
        if self.eat("=") {
            self.annotated_rhs()?;
        }
        Ok(())
    }

    fn import_from(&mut self) -> PResult<()> {
        self.expect("from")?;
        let mut dots = 0;
        while self.eat(".") || self.eat("...") {
            dots += 1;
        }
        if dots == 0 || !self.at("import") {
            self.shape(&["N", "{", ".", "N", "}"])?;
        }
        self.expect("import")?;
        if self.eat("*") {
            return Ok(());
        }
        let parens = self.eat("(");
        loop {
            self.expect_name()?;
            if self.eat("as") {
                self.expect_name()?;
            }
            if !self.eat(",") || (parens && self.at(")")) {
                break;
            }
            ensure(parens || self.is_name())?;
        }
        if parens {
            self.expect(")")?;
        }
        Ok(())
    }

    /// Parses a compound statement if one starts here; `Ok(false)` if none does.
    fn compound_stmt(&mut self) -> PResult<bool> {
        if self.at("@") {
            while self.eat("@") {
                self.named_expression()?;
                ensure(self.is_kind(Kind::Newline))?;
                self.advance();
            }
            self.eat("async");
            ensure(self.at("def") || self.at("class"))?;
            return self.shaped(COMPOUND);
        }
        let word = self.word();
        if self.shaped(COMPOUND)? {
            return Ok(true);
        }
        if !matches!(word, "try" | "with" | "async") {
            return Ok(false);
        }
        self.advance();
        match word {
            "try" => self.try_stmt()?,
            "with" => self.with_stmt()?,
            _ if self.at("def") || self.at("for") => drop(self.shaped(COMPOUND)?),
            _ if self.eat("with") => self.with_stmt()?,
            _ => return Err(Fail::Generic),
        }
        Ok(true)
    }

    /// `':' block`: a one-line body.
    fn block(&mut self) -> PResult<()> {
        self.expect(":")?;
        if !self.is_kind(Kind::Newline) {
            self.simple_stmt()?;
            return self.simple_stmts_tail();
        }
        self.advance();
        let next = self.peek();
        let message = if next.kind == Kind::Indent {
            "indented blocks are not supported in config values"
        } else {
            "expected an indented block"
        };
        Err(syntax(message, next.span()))
    }

    /// After `try`.
    fn try_stmt(&mut self) -> PResult<()> {
        self.block()?;
        let (mut handlers, mut star) = (0, None);
        while self.eat("except") {
            let is_star = self.eat("*");
            ensure(*star.get_or_insert(is_star) == is_star)?;
            if is_star || !self.at(":") {
                self.expression()?;
                if self.eat("as") {
                    self.expect_name()?;
                }
            }
            self.block()?;
            handlers += 1;
        }
        if handlers > 0 && self.eat("else") {
            self.block()?;
        }
        if self.eat("finally") {
            self.block()
        } else if handlers == 0 {
            Err(Fail::Generic)
        } else {
            Ok(())
        }
    }

    /// After `with`. `with (a as b, c):` needs the parenthesized form; `with (a, b):` reads
    /// either way.
    fn with_stmt(&mut self) -> PResult<()> {
        if self.at("(") {
            let mark = self.pos;
            self.advance();
            let parenthesized = self.with_items(")").and_then(|()| self.expect(")"));
            if parenthesized.is_ok() && self.at(":") {
                return self.block();
            }
            self.pos = mark;
        }
        self.with_items(":")?;
        self.block()
    }

    fn with_items(&mut self, close: &str) -> PResult<()> {
        loop {
            self.expression()?;
            if self.eat("as") {
                check_target(&self.primary()?, false)?;
            }
            if !self.eat(",") || self.at(close) {
                return Ok(());
            }
        }
    }

    /// Function (`annotated`, up to `)`) or lambda (up to `:`) parameters:
    /// `a, b=1, /, c, *d, e, **f`.
    pub(super) fn parameters(&mut self, annotated: bool) -> PResult<()> {
        let close = if annotated { ")" } else { ":" };
        let (mut count, mut seen_default, mut seen_star, mut seen_slash, mut bare_star) =
            (0, false, false, false, false);
        while !self.at(close) {
            if self.eat("**") {
                // A bare `*` needs a named parameter after it, before `**kwargs`.
                ensure(!bare_star)?;
                self.param(annotated, false)?;
                self.eat(",");
                ensure(self.at(close))?;
                break;
            }
            if self.at("*") {
                ensure(!seen_star)?;
                self.advance();
                seen_star = true;
                bare_star = !self.is_name();
                if !bare_star {
                    self.param(annotated, true)?;
                }
            } else if self.at("/") {
                ensure(!seen_slash && !seen_star && count > 0)?;
                self.advance();
                seen_slash = true;
            } else {
                self.param(annotated, false)?;
                count += 1;
                if self.eat("=") {
                    self.expression()?;
                    seen_default = true;
                } else if seen_default && !seen_star {
                    return Err(Fail::Generic);
                }
                bare_star = false;
            }
            if !self.eat(",") {
                break;
            }
        }
        ensure(!bare_star)
    }

    /// One parameter name with its optional annotation (`*args` may have `*Ts`).
    fn param(&mut self, annotated: bool, star: bool) -> PResult<()> {
        self.expect_name()?;
        if annotated && self.eat(":") {
            if star {
                self.star_expression(false)?
            } else {
                self.expression()?
            };
        }
        Ok(())
    }
}
