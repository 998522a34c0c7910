//! Bracketed forms: parentheses, list/dict/set displays, comprehensions, call arguments and
//! subscripts.

use super::parser::{Fail, PResult, Parser};
use super::syntax::{Keyword, Node, NodeKind, SyntaxError, TargetUse, check_target};

fn is_starred(n: &Node) -> bool {
    matches!(n.kind, NodeKind::Starred(_))
}

impl Parser<'_> {
    /// Whether a comprehension clause (`for` or `async for`) starts here.
    fn at_for(&mut self) -> bool {
        if self.is_kw("for") {
            return true;
        }
        self.is_kw("async") && self.is_kw_at(1, "for")
    }

    /// `for_if_clauses`; returns the depth of the deepest part.
    fn for_if_clauses(&mut self) -> PResult<u32> {
        let mut depth = 0;
        while self.at_for() {
            self.eat_kw("async");
            self.expect_kw("for")?;
            depth = depth.max(self.for_targets()?);
            self.expect_kw("in")?;
            depth = depth.max(self.disjunction()?.depth);
            while self.eat_kw("if") {
                depth = depth.max(self.disjunction()?.depth);
            }
        }
        Ok(depth)
    }

    /// `star_targets` before `in` (of a comprehension or a `for` statement). Parsed as
    /// primaries, so that `in` is not taken for a comparison, then checked as targets.
    pub(super) fn for_targets(&mut self) -> PResult<u32> {
        let mut depth = 0;
        loop {
            let target = if self.is_op("*") {
                let star = self.advance();
                let inner = self.primary()?;
                let end = inner.span.end;
                self.node(NodeKind::Starred(Box::new(inner)), star.start..end)?
            } else {
                self.primary()?
            };
            check_target(&target, TargetUse::Assign)?;
            depth = depth.max(target.depth);
            if !self.eat_op(",") || self.is_kw("in") {
                return Ok(depth);
            }
        }
    }

    /// A comprehension whose element (`first`) has been read; `class` is its AST class.
    fn comprehension(
        &mut self,
        class: &'static str,
        first: Node,
        start: usize,
        close: &str,
    ) -> PResult<Node> {
        if is_starred(&first) {
            return Err(SyntaxError::new(
                "iterable unpacking cannot be used in comprehension",
                first.span.clone(),
            )
            .into());
        }
        let depth = self.for_if_clauses()?.max(first.depth);
        let end = self.expect_op(close)?.end;
        self.checked(Node::rejected(class, start..end, depth))
    }

    /// Items after the first of a tuple/list/set display, up to the closing bracket.
    fn more_items(&mut self, items: &mut Vec<Node>, close: &str) -> PResult<usize> {
        while self.eat_op(",") {
            if self.is_op(close) {
                break;
            }
            items.push(self.star_named_expression()?);
        }
        Ok(self.expect_op(close)?.end)
    }

    /// `(...)`: empty tuple, group, tuple, generator expression or `(yield ...)`.
    pub(super) fn paren(&mut self) -> PResult<Node> {
        let open = self.expect_op("(")?;
        if self.is_op(")") {
            let close = self.advance();
            return self.node(NodeKind::Tuple(Vec::new()), open.start..close.end);
        }
        if self.is_kw("yield") {
            let mut inner = self.yield_expr()?;
            self.expect_op(")")?;
            inner.parenthesized = true;
            return Ok(inner);
        }
        let first = self.star_named_expression()?;
        if self.at_for() {
            return self.comprehension("GeneratorExp", first, open.start, ")");
        }
        if self.is_op(")") {
            self.advance();
            if is_starred(&first) {
                return Err(SyntaxError::new(
                    "cannot use starred expression here",
                    first.span.clone(),
                )
                .into());
            }
            let mut inner = first;
            inner.parenthesized = true;
            return Ok(inner);
        }
        if !self.is_op(",") {
            return Err(Fail::Generic);
        }
        let mut items = vec![first];
        let end = self.more_items(&mut items, ")")?;
        let mut node = self.node(NodeKind::Tuple(items), open.start..end)?;
        node.parenthesized = true;
        Ok(node)
    }

    /// `[...]`: list or list comprehension.
    pub(super) fn list_display(&mut self) -> PResult<Node> {
        let open = self.expect_op("[")?;
        if self.is_op("]") {
            let close = self.advance();
            return self.node(NodeKind::List(Vec::new()), open.start..close.end);
        }
        let first = self.star_named_expression()?;
        if self.at_for() {
            return self.comprehension("ListComp", first, open.start, "]");
        }
        let mut items = vec![first];
        let end = self.more_items(&mut items, "]")?;
        self.node(NodeKind::List(items), open.start..end)
    }

    /// `{...}`: dict, set, or their comprehensions.
    pub(super) fn brace_display(&mut self) -> PResult<Node> {
        let open = self.expect_op("{")?;
        if self.is_op("}") {
            let close = self.advance();
            return self.node(NodeKind::Dict(Vec::new()), open.start..close.end);
        }
        if self.is_op("**") {
            return self.dict_rest(open.start, Vec::new());
        }
        let first = self.star_named_expression()?;
        if self.is_op(":") && !is_starred(&first) {
            if matches!(
                first.kind,
                NodeKind::Rejected {
                    class: "NamedExpr",
                    ..
                }
            ) && !first.parenthesized
            {
                return Err(Fail::Generic);
            }
            self.advance();
            let value = self.expression()?;
            if self.at_for() {
                let depth = self.for_if_clauses()?.max(first.depth).max(value.depth);
                let end = self.expect_op("}")?.end;
                return self.checked(Node::rejected("DictComp", open.start..end, depth));
            }
            if !self.eat_op(",") {
                let end = self.expect_op("}")?.end;
                return self.node(NodeKind::Dict(vec![(Some(first), value)]), open.start..end);
            }
            return self.dict_rest(open.start, vec![(Some(first), value)]);
        }
        if self.at_for() {
            return self.comprehension("SetComp", first, open.start, "}");
        }
        let mut items = vec![first];
        let end = self.more_items(&mut items, "}")?;
        let depth = items.iter().map(|n| n.depth).max().unwrap_or(0);
        self.checked(Node::rejected("Set", open.start..end, depth))
    }

    /// The rest of a dict display, after a comma (or at a leading `**`).
    fn dict_rest(&mut self, start: usize, mut items: Vec<(Option<Node>, Node)>) -> PResult<Node> {
        loop {
            if self.is_op("}") {
                break;
            }
            if self.eat_op("**") {
                let value = self.bitwise_or()?;
                items.push((None, value));
            } else {
                let key = self.expression()?;
                self.expect_op(":")?;
                let value = self.expression()?;
                items.push((Some(key), value));
            }
            if !self.eat_op(",") {
                break;
            }
        }
        let end = self.expect_op("}")?.end;
        self.node(NodeKind::Dict(items), start..end)
    }

    /// Call arguments after `(`, up to (not including) `)`.
    pub(super) fn call_arguments(&mut self) -> PResult<(Vec<Node>, Vec<Keyword>)> {
        let (mut args, mut keywords) = (Vec::new(), Vec::new());
        let (mut seen_kw, mut seen_dstar) = (false, false);
        while !self.is_op(")") {
            if self.is_op("*") {
                let star = self.advance();
                let value = self.expression()?;
                if seen_dstar {
                    let msg = "iterable argument unpacking follows keyword argument unpacking";
                    return Err(SyntaxError::new(msg, star.start..value.span.end).into());
                }
                let end = value.span.end;
                args.push(self.node(NodeKind::Starred(Box::new(value)), star.start..end)?);
            } else if self.eat_op("**") {
                let value = self.expression()?;
                keywords.push(Keyword { name: None, value });
                seen_dstar = true;
            } else if self.is_name() && self.is_op_at(1, "=") {
                let name = self.advance();
                self.advance();
                let value = self.expression()?;
                keywords.push(Keyword {
                    name: Some(self.name_text(name)),
                    value,
                });
                seen_kw = true;
            } else {
                if seen_dstar || seen_kw {
                    let msg = "positional argument follows keyword argument";
                    return Err(SyntaxError::new(msg, self.peek().span()).into());
                }
                let value = self.named_expression()?;
                if self.is_op("=") {
                    let msg = "expression cannot contain assignment, perhaps you meant \"==\"?";
                    return Err(SyntaxError::new(msg, value.span.clone()).into());
                }
                if self.at_for() {
                    let genexp = self.comprehension_in_call(value)?;
                    if !args.is_empty() || !keywords.is_empty() || !self.is_op(")") {
                        return Err(SyntaxError::new(
                            "Generator expression must be parenthesized",
                            genexp.span.clone(),
                        )
                        .into());
                    }
                    args.push(genexp);
                    break;
                }
                args.push(value);
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok((args, keywords))
    }

    /// A generator expression written directly as a call's argument: `f(x for x in y)`.
    fn comprehension_in_call(&mut self, element: Node) -> PResult<Node> {
        let start = element.span.start;
        let depth = self.for_if_clauses()?.max(element.depth);
        let end = self.prev_end();
        self.checked(Node::rejected("GeneratorExp", start..end, depth))
    }

    /// The index of a subscript (`slices`): one item, or a tuple of items and slices.
    pub(super) fn slices(&mut self) -> PResult<Node> {
        let first = self.slice_item()?;
        if !self.is_op(",") && !is_starred(&first) {
            return Ok(first);
        }
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("]") {
                break;
            }
            items.push(self.slice_item()?);
        }
        self.node(NodeKind::Tuple(items), start..self.prev_end())
    }

    fn slice_item(&mut self) -> PResult<Node> {
        if self.is_op("*") {
            let star = self.advance();
            let value = self.expression()?;
            let end = value.span.end;
            return self.node(NodeKind::Starred(Box::new(value)), star.start..end);
        }
        let start = self.peek().start;
        let mut depth = 0;
        if !self.is_op(":") {
            let lower = self.named_expression()?;
            if !self.is_op(":") {
                return Ok(lower);
            }
            depth = lower.depth;
        }
        self.expect_op(":")?;
        let starts_bound = |p: &mut Self| p.starts_expression() && !p.is_op("*");
        if starts_bound(self) {
            depth = depth.max(self.expression()?.depth);
        }
        if self.eat_op(":") && starts_bound(self) {
            depth = depth.max(self.expression()?.depth);
        }
        self.checked(Node::rejected("Slice", start..self.prev_end(), depth))
    }
}
