//! Expressions: Python 3.11's grammar from `star_expressions` down to atoms.

use std::ops::Range;

use super::lexer::Kind;
use super::parser::{EXPRESSION_LEVELS, PResult, Parser, is_keyword};
use super::syntax::{Node, NodeKind, Operator, SyntaxError};

fn is_legacy_print(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Name(n) if n == "print" || n == "exec")
}

/// A unary prefix operator (`"USub"`, `"UAdd"` or `"Invert"`) and its token's span.
type Prefix = (&'static str, Range<usize>);

/// A pending wrapper while parsing the right-nested chains of `expression` iteratively.
enum Pending {
    Lambda(usize),
    /// Start offset, the `if` token's span, and the depth of the true branch and condition.
    IfExp(usize, Range<usize>, u32),
}

impl Parser<'_> {
    /// Whether the current token can start an expression (used where the grammar has an
    /// optional trailing comma).
    pub(super) fn starts_expression(&mut self) -> bool {
        let t = self.peek();
        match t.kind {
            Kind::Number | Kind::String => true,
            Kind::Name => {
                let w = self.text(t);
                !is_keyword(w)
                    || matches!(w, "None" | "True" | "False" | "not" | "lambda" | "await")
            }
            Kind::Op => matches!(
                self.text(t),
                "(" | "[" | "{" | "-" | "+" | "~" | "..." | "*"
            ),
            _ => false,
        }
    }

    /// `star_expressions`: a bare tuple when there is a comma.
    pub(super) fn star_expressions(&mut self) -> PResult<Node> {
        let first = self.star_expression()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat_op(",") {
            if !self.starts_expression() {
                break;
            }
            items.push(self.star_expression()?);
        }
        self.node(NodeKind::Tuple(items), start..self.prev_end())
    }

    /// `star_expression`: `*bitwise_or` or `expression`.
    pub(super) fn star_expression(&mut self) -> PResult<Node> {
        if self.is_op("*") {
            let star = self.advance();
            let inner = self.bitwise_or()?;
            let end = inner.span.end;
            return self.node(NodeKind::Starred(Box::new(inner)), star.start..end);
        }
        self.expression()
    }

    /// `star_named_expression`: `*bitwise_or` or `named_expression`.
    pub(super) fn star_named_expression(&mut self) -> PResult<Node> {
        if self.is_op("*") {
            return self.star_expression();
        }
        self.named_expression()
    }

    /// `named_expression`: `NAME := expression` or `expression`.
    pub(super) fn named_expression(&mut self) -> PResult<Node> {
        if self.is_name() && self.is_op_at(1, ":=") {
            let name = self.advance();
            let walrus = self.advance().span();
            let value = self.expression()?;
            let (span, below) = (name.start..value.span.end, value.depth + 1);
            return self.checked(Node::rejected_op("NamedExpr", span, walrus, below));
        }
        self.expression()
    }

    /// `yield_expr` (the current token is `yield`).
    pub(super) fn yield_expr(&mut self) -> PResult<Node> {
        let kw = self.expect_kw("yield")?;
        if self.eat_kw("from") {
            let value = self.expression()?;
            let end = value.span.end;
            return self.checked(Node::rejected("YieldFrom", kw.start..end, value.depth));
        }
        if self.starts_expression() {
            let value = self.star_expressions()?;
            let end = value.span.end;
            return self.checked(Node::rejected("Yield", kw.start..end, value.depth));
        }
        Ok(Node::rejected("Yield", kw.span(), 0))
    }

    /// `expression`: conditional expressions and lambdas (right-nested, parsed in a loop),
    /// or a `disjunction`.
    pub(super) fn expression(&mut self) -> PResult<Node> {
        self.nested(EXPRESSION_LEVELS, |p| {
            // Fast path: most expressions start with a primary (`8080`, `a.b.C`, `[1, 2]`);
            // read it first and stop there if an expression-ending token follows.
            let mut pre = None;
            if p.starts_primary() {
                let primary = p.primary()?;
                if p.ends_expression() && !is_legacy_print(&primary) {
                    return Ok(primary);
                }
                pre = Some(primary);
            }
            let mut pending = Vec::new();
            let mut result = loop {
                if pre.is_none() && p.is_kw("lambda") {
                    let kw = p.advance();
                    p.parameters(false)?;
                    p.expect_op(":")?;
                    pending.push(Pending::Lambda(kw.start));
                    continue;
                }
                let body = p.bool_chain("or", pre.take())?;
                p.legacy_print(&body)?;
                if p.is_kw("if") {
                    let kw = p.advance();
                    let cond = p.disjunction()?;
                    if !p.eat_kw("else") {
                        let t = p.peek();
                        return Err(SyntaxError::new(
                            "expected 'else' after 'if' expression",
                            body.span.start..t.start,
                        )
                        .into());
                    }
                    let below = body.depth.max(cond.depth);
                    pending.push(Pending::IfExp(body.span.start, kw.span(), below));
                    continue;
                }
                break body;
            };
            while let Some(w) = pending.pop() {
                let end = result.span.end;
                let node = match w {
                    Pending::Lambda(start) => Node::rejected("Lambda", start..end, result.depth),
                    Pending::IfExp(start, kw, below) => {
                        Node::rejected_op("IfExp", start..end, kw, result.depth.max(below))
                    }
                };
                result = p.checked(node)?;
            }
            Ok(result)
        })
    }

    /// Whether a primary (not `await`, `lambda`, `not` or a unary operator) starts here.
    fn starts_primary(&mut self) -> bool {
        let t = self.peek();
        match t.kind {
            Kind::Number | Kind::String => true,
            Kind::Name => {
                let w = self.text(t);
                !is_keyword(w) || matches!(w, "None" | "True" | "False")
            }
            Kind::Op => matches!(self.text(t), "(" | "[" | "{" | "..."),
            _ => false,
        }
    }

    /// Whether the current token cannot continue an expression.
    fn ends_expression(&mut self) -> bool {
        let t = self.peek();
        match t.kind {
            Kind::Newline | Kind::EndMarker => true,
            Kind::Op => matches!(self.text(t), "," | ")" | "]" | "}" | ";" | ":" | "="),
            _ => false,
        }
    }

    /// Python 2's `print x` / `exec code`: CPython names the problem.
    fn legacy_print(&mut self, body: &Node) -> PResult<()> {
        let NodeKind::Name(name) = &body.kind else {
            return Ok(());
        };
        if body.parenthesized || (name != "print" && name != "exec") {
            return Ok(());
        }
        let t = self.peek();
        let operand_follows = match t.kind {
            Kind::Number | Kind::String => true,
            Kind::Name => {
                !is_keyword(self.text(t))
                    || matches!(
                        self.text(t),
                        "None" | "True" | "False" | "lambda" | "not" | "await"
                    )
            }
            _ => false,
        };
        if operand_follows {
            let message =
                format!("Missing parentheses in call to '{name}'. Did you mean {name}(...)?");
            return Err(SyntaxError::new(message, body.span.clone()).into());
        }
        Ok(())
    }

    /// `disjunction`: `a or b or c` (rejected by the builder as `BoolOp`).
    pub(super) fn disjunction(&mut self) -> PResult<Node> {
        self.bool_chain("or", None)
    }

    /// `a or b` / `a and b` chains. `pre` is an already-read first primary (see `expression`);
    /// the levels below take it too.
    fn bool_chain(&mut self, kw: &str, pre: Option<Node>) -> PResult<Node> {
        let first = if kw == "or" {
            self.bool_chain("and", pre)?
        } else {
            self.inversion(pre)?
        };
        if !self.is_kw(kw) {
            return Ok(first);
        }
        // The builder meets the outermost chain first; it is reported at its first operator.
        let op = self.peek().span();
        let (start, mut depth) = (first.span.start, first.depth);
        while self.eat_kw(kw) {
            let next = if kw == "or" {
                self.bool_chain("and", None)?
            } else {
                self.inversion(None)?
            };
            depth = depth.max(next.depth);
        }
        let span = start..self.prev_end();
        self.checked(Node::rejected_op("BoolOp", span, op, depth))
    }

    /// `inversion`: any number of `not` (a loop, not recursion) before a comparison.
    fn inversion(&mut self, pre: Option<Node>) -> PResult<Node> {
        let mut nots = Vec::new();
        while pre.is_none() && self.is_kw("not") {
            nots.push(self.advance().span());
        }
        let mut node = self.comparison(pre)?;
        while let Some(kw) = nots.pop() {
            let span = kw.start..node.span.end;
            node = self.checked(Node::rejected_op("Not", span, kw, node.depth))?;
        }
        Ok(node)
    }

    /// Whether a comparison operator starts here; returns its length in tokens.
    fn comparison_op(&mut self) -> Option<usize> {
        let t = self.peek();
        match (t.kind, self.text(t)) {
            (Kind::Op, "==" | "!=" | "<" | "<=" | ">" | ">=") => Some(1),
            (Kind::Name, "in") => Some(1),
            (Kind::Name, "not") if self.is_kw_at(1, "in") => Some(2),
            (Kind::Name, "is") => Some(if self.is_kw_at(1, "not") { 2 } else { 1 }),
            _ => None,
        }
    }

    fn comparison(&mut self, pre: Option<Node>) -> PResult<Node> {
        let first = self.binary(1, pre)?;
        let (start, mut depth) = (first.span.start, first.depth);
        // The first operator (`not in` and `is not` are two tokens), where it is reported.
        let mut op = None;
        while let Some(n) = self.comparison_op() {
            let op_start = self.peek().start;
            for _ in 0..n {
                self.advance();
            }
            op.get_or_insert(op_start..self.prev_end());
            depth = depth.max(self.bitwise_or()?.depth);
        }
        let Some(op) = op else {
            return Ok(first);
        };
        let span = start..self.prev_end();
        self.checked(Node::rejected_op("Compare", span, op, depth))
    }

    /// `bitwise_or` and everything below it down to `term`, by precedence climbing.
    pub(super) fn bitwise_or(&mut self) -> PResult<Node> {
        self.binary(1, None)
    }

    fn binary_op(&mut self) -> Option<Operator> {
        let t = self.peek();
        if t.kind != Kind::Op {
            return None;
        }
        Operator::from_token(self.text(t)).filter(|op| *op != Operator::POW)
    }

    fn binary(&mut self, min_prec: u8, pre: Option<Node>) -> PResult<Node> {
        let mut left = self.factor(pre)?;
        while let Some(op) = self.binary_op() {
            let prec = op.precedence;
            if prec < min_prec {
                break;
            }
            let op_span = self.advance().span();
            let right = self.binary(prec + 1, None)?;
            let span = left.span.start..right.span.end;
            left = self.node(
                NodeKind::BinOp {
                    left: Box::new(left),
                    op,
                    op_span,
                    right: Box::new(right),
                },
                span,
            )?;
        }
        Ok(left)
    }

    /// `factor` and `power`: unary `+ - ~` prefixes and right-associative `**`, parsed in a
    /// loop so that long chains do not recurse.
    fn factor(&mut self, mut pre: Option<Node>) -> PResult<Node> {
        // Each pending `**`: the prefixes before its base, the base, and the `**` token.
        let mut frames: Vec<(Vec<Prefix>, Node, Range<usize>)> = Vec::new();
        loop {
            if let Some(base) = pre.take() {
                if !self.is_op("**") {
                    return Ok(base);
                }
                let pow = self.advance().span();
                frames.push((Vec::new(), base, pow));
                continue;
            }
            let mut prefixes = Vec::new();
            loop {
                let t = self.peek();
                let class = match (t.kind, self.text(t)) {
                    (Kind::Op, "-") => "USub",
                    (Kind::Op, "+") => "UAdd",
                    (Kind::Op, "~") => "Invert",
                    _ => break,
                };
                prefixes.push((class, t.span()));
                self.advance();
            }
            let base = self.await_primary()?;
            if self.is_op("**") {
                let pow = self.advance().span();
                frames.push((prefixes, base, pow));
                continue;
            }
            let mut result = self.apply_prefixes(prefixes, base)?;
            while let Some((prefixes, base, op_span)) = frames.pop() {
                let span = base.span.start..result.span.end;
                let pow = self.node(
                    NodeKind::BinOp {
                        left: Box::new(base),
                        op: Operator::POW,
                        op_span,
                        right: Box::new(result),
                    },
                    span,
                )?;
                result = self.apply_prefixes(prefixes, pow)?;
            }
            return Ok(result);
        }
    }

    fn apply_prefixes(&mut self, mut prefixes: Vec<Prefix>, mut node: Node) -> PResult<Node> {
        while let Some((class, op)) = prefixes.pop() {
            let span = op.start..node.span.end;
            node = if class == "USub" {
                self.node(NodeKind::Neg(Box::new(node)), span)?
            } else {
                // The builder looks at the operator before the operand, so `+x` and `~x` are
                // rejected whatever `x` is.
                self.checked(Node::rejected_op(class, span, op, node.depth))?
            };
        }
        Ok(node)
    }

    fn await_primary(&mut self) -> PResult<Node> {
        if self.is_kw("await") {
            let kw = self.advance();
            let inner = self.primary()?;
            let end = inner.span.end;
            return self.checked(Node::rejected("Await", kw.start..end, inner.depth));
        }
        self.primary()
    }
}
