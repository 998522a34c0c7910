//! Statements. Only the first statement's value is used, but CherryPy parses the whole text,
//! so whatever follows (`60 ; minutes = 1`, a second line) must be valid Python too.
//!
//! Known gap: `match` statements after the value are not recognised (they are reported as
//! `value-syntax`); Python 3.11 accepts them.

use super::lexer::Kind;
use super::parser::{Fail, PResult, Parser};
use super::syntax::{Node, NodeKind, SyntaxError, TargetUse, check_target};

const AUGASSIGN: [&str; 13] = [
    "+=", "-=", "*=", "@=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**=", "//=",
];

impl Parser<'_> {
    /// The whole module `__tempvalue__ = <text>`, with `__tempvalue__ =` already read.
    /// Returns the value of the first statement.
    pub(super) fn module(&mut self) -> PResult<Node> {
        let value = self.assignment_chain()?;
        self.simple_stmts_tail()?;
        while !self.is_kind(Kind::EndMarker) {
            self.statement()?;
        }
        Ok(value)
    }

    /// `yield_expr | star_expressions`.
    fn annotated_rhs(&mut self) -> PResult<Node> {
        if self.is_kw("yield") {
            self.yield_expr()
        } else {
            self.star_expressions()
        }
    }

    /// `(star_targets '=')* annotated_rhs`, the right-hand side of an assignment whose first
    /// target has been read. Returns the value (the last item).
    fn assignment_chain(&mut self) -> PResult<Node> {
        let mut value = self.annotated_rhs()?;
        while self.is_op("=") {
            check_target(&value, TargetUse::Assign)?;
            self.advance();
            value = self.annotated_rhs()?;
        }
        Ok(value)
    }

    /// `[';' simple_stmt]* [';'] NEWLINE` after a first simple statement.
    fn simple_stmts_tail(&mut self) -> PResult<()> {
        while self.eat_op(";") {
            if self.is_kind(Kind::Newline) {
                break;
            }
            self.simple_stmt()?;
        }
        if !self.is_kind(Kind::Newline) {
            return Err(Fail::Generic);
        }
        self.advance();
        Ok(())
    }

    /// One statement (a line of simple statements, or a compound statement).
    pub(super) fn statement(&mut self) -> PResult<()> {
        if self.compound_stmt()? {
            return Ok(());
        }
        self.simple_stmt_line()
    }

    /// `simple_stmts`: simple statements separated by `;`, then NEWLINE.
    pub(super) fn simple_stmt_line(&mut self) -> PResult<()> {
        self.simple_stmt()?;
        self.simple_stmts_tail()
    }

    fn simple_stmt(&mut self) -> PResult<()> {
        let t = self.peek();
        let word = if t.kind == Kind::Name {
            self.text(t)
        } else {
            ""
        };
        match word {
            "pass" | "break" | "continue" => {
                self.advance();
            }
            "return" => {
                self.advance();
                if self.starts_expression() {
                    self.star_expressions()?;
                }
            }
            "raise" => {
                self.advance();
                if self.starts_expression() {
                    self.expression()?;
                    if self.eat_kw("from") {
                        self.expression()?;
                    }
                }
            }
            "global" | "nonlocal" => {
                self.advance();
                self.expect_name()?;
                while self.eat_op(",") {
                    self.expect_name()?;
                }
            }
            "del" => self.del_stmt()?,
            "assert" => {
                self.advance();
                self.expression()?;
                if self.eat_op(",") {
                    self.expression()?;
                }
            }
            "import" => {
                self.advance();
                self.dotted_as_names()?;
            }
            "from" => self.import_from()?,
            "yield" => {
                self.yield_expr()?;
            }
            _ => self.expression_stmt()?,
        }
        Ok(())
    }

    /// Expression statements and every kind of assignment.
    fn expression_stmt(&mut self) -> PResult<()> {
        if self.is_name() && self.is_op_at(1, ":") {
            self.advance();
            return self.annotation_rest();
        }
        let first = self.star_expressions()?;
        if self.is_op(":") {
            let single = matches!(
                first.kind,
                NodeKind::Attribute { .. } | NodeKind::Subscript { .. }
            ) || (first.parenthesized && matches!(first.kind, NodeKind::Name(_)));
            if !single {
                let msg = "illegal target for annotation";
                return Err(SyntaxError::new(msg, first.span.clone()).into());
            }
            return self.annotation_rest();
        }
        let t = self.peek();
        if t.kind == Kind::Op && AUGASSIGN.contains(&self.text(t)) {
            if !matches!(
                first.kind,
                NodeKind::Name(_) | NodeKind::Attribute { .. } | NodeKind::Subscript { .. }
            ) {
                let msg = "illegal expression for augmented assignment";
                return Err(SyntaxError::new(msg, first.span.clone()).into());
            }
            self.advance();
            self.annotated_rhs()?;
            return Ok(());
        }
        if self.is_op("=") {
            check_target(&first, TargetUse::Assign)?;
            self.advance();
            self.assignment_chain()?;
        }
        Ok(())
    }

    /// `: annotation ['=' annotated_rhs]`.
    fn annotation_rest(&mut self) -> PResult<()> {
        self.expect_op(":")?;
        self.expression()?;
        if self.eat_op("=") {
            self.annotated_rhs()?;
        }
        Ok(())
    }

    fn del_stmt(&mut self) -> PResult<()> {
        self.expect_kw("del")?;
        loop {
            let target = self.primary()?;
            check_target(&target, TargetUse::Delete)?;
            if !self.eat_op(",") || self.is_op(";") || self.is_kind(Kind::Newline) {
                break;
            }
        }
        if !self.is_op(";") && !self.is_kind(Kind::Newline) {
            return Err(Fail::Generic);
        }
        Ok(())
    }

    fn dotted_name(&mut self) -> PResult<()> {
        self.expect_name()?;
        while self.eat_op(".") {
            self.expect_name()?;
        }
        Ok(())
    }

    fn dotted_as_names(&mut self) -> PResult<()> {
        loop {
            self.dotted_name()?;
            if self.eat_kw("as") {
                self.expect_name()?;
            }
            if !self.eat_op(",") {
                return Ok(());
            }
        }
    }

    fn import_from(&mut self) -> PResult<()> {
        self.expect_kw("from")?;
        let mut dots = 0;
        while self.is_op(".") || self.is_op("...") {
            self.advance();
            dots += 1;
        }
        if dots == 0 || !self.is_kw("import") {
            self.dotted_name()?;
        }
        self.expect_kw("import")?;
        if self.eat_op("*") {
            return Ok(());
        }
        let parens = self.eat_op("(");
        loop {
            self.expect_name()?;
            if self.eat_kw("as") {
                self.expect_name()?;
            }
            if !self.eat_op(",") {
                break;
            }
            if parens && self.is_op(")") {
                break;
            }
            if !parens && !self.is_name() {
                return Err(Fail::Generic);
            }
        }
        if parens {
            self.expect_op(")")?;
        }
        Ok(())
    }
}
