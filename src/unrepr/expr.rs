//! Expressions: Python 3.11's grammar from `star_expressions` down to atoms.

use std::ops::Range;

use super::lexer::{Kind, Token};
use super::literal::{self, Literal};
use super::parser::{
    BRACKET_LEVELS, EXPRESSION_LEVELS, Fail, Node, NodeKind, PResult, Parser, check_target,
};
use super::parser::{ensure, is_keyword, syntax};
use super::value::Value;

/// Binary operators below `**`: token, AST class (as in `unrepr does not recognize 'Sub'`)
/// and binding strength for precedence climbing. The builder accepts only `Add` and `Mult`.
const BINARY: [(&str, &str, u8); 12] = [
    ("|", "BitOr", 1),
    ("^", "BitXor", 2),
    ("&", "BitAnd", 3),
    ("<<", "LShift", 4),
    (">>", "RShift", 4),
    ("+", "Add", 5),
    ("-", "Sub", 5),
    ("*", "Mult", 6),
    ("@", "MatMult", 6),
    ("/", "Div", 6),
    ("%", "Mod", 6),
    ("//", "FloorDiv", 6),
];

/// A grammar rule.
type Rule<'a> = fn(&mut Parser<'a>) -> PResult<Node>;

/// A unary prefix operator (`"USub"`, `"UAdd"` or `"Invert"`) and its token's span.
type Prefix = (&'static str, Range<usize>);

/// A pending wrapper while parsing the right-nested chains of `expression` iteratively.
enum Pending {
    Lambda(usize),
    /// Start offset, the `if` token's span, and the depth of the true branch and condition.
    IfExp(usize, Range<usize>, u32),
}

fn is_starred(n: &Node) -> bool {
    matches!(n.kind, NodeKind::Starred(_))
}

impl<'a> Parser<'a> {
    /// Whether the current token starts an atom, or (`unary`) `not`, `lambda` or `await`, or
    /// is one of the operators `ops`.
    fn starts(&mut self, unary: bool, ops: &[&str]) -> bool {
        let t = self.peek();
        let w = self.text(t);
        match t.kind {
            Kind::Number | Kind::String => true,
            Kind::Name => {
                !is_keyword(w)
                    || matches!(w, "None" | "True" | "False")
                    || (unary && matches!(w, "not" | "lambda" | "await"))
            }
            Kind::Op => ops.contains(&w),
            _ => false,
        }
    }

    /// Whether an expression can start here (where the grammar has an optional trailing comma).
    pub(super) fn starts_expression(&mut self) -> bool {
        self.starts(true, &["(", "[", "{", "-", "+", "~", "...", "*"])
    }

    /// `star_expressions`: a bare tuple when there is a comma.
    pub(super) fn star_expressions(&mut self) -> PResult<Node> {
        let first = self.star_expression(false)?;
        if !self.at(",") {
            return Ok(first);
        }
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat(",") && self.starts_expression() {
            items.push(self.star_expression(false)?);
        }
        self.node(NodeKind::Tuple(items), start..self.prev_end())
    }

    /// `'*' inner` if a `*` is here, else `or_else`.
    fn starred(&mut self, inner: Rule<'a>, or_else: Rule<'a>) -> PResult<Node> {
        if !self.at("*") {
            return or_else(self);
        }
        let star = self.advance();
        let inner = inner(self)?;
        let end = inner.span.end;
        self.node(NodeKind::Starred(Box::new(inner)), star.start()..end)
    }

    /// `star_expression` (`*bitwise_or` or `expression`), or with `named`
    /// `star_named_expression` (`*bitwise_or` or `named_expression`).
    pub(super) fn star_expression(&mut self, named: bool) -> PResult<Node> {
        let bitwise_or = |p: &mut Self| p.binary(1);
        if named {
            self.starred(bitwise_or, Self::named_expression)
        } else {
            self.starred(bitwise_or, Self::expression)
        }
    }

    /// `named_expression`: `NAME := expression` or `expression`.
    pub(super) fn named_expression(&mut self) -> PResult<Node> {
        if self.is_name() && self.at_n(1, ":=") {
            let name = self.advance();
            let walrus = self.advance().span();
            let value = self.expression()?;
            let span = name.start()..value.span.end;
            return self.reject_at("NamedExpr", span, walrus, value.depth + 1);
        }
        self.expression()
    }

    /// `yield_expr` (the current token is `yield`).
    pub(super) fn yield_expr(&mut self) -> PResult<Node> {
        let kw = self.expect("yield")?;
        let (class, value) = if self.eat("from") {
            ("YieldFrom", self.expression()?)
        } else if self.starts_expression() {
            ("Yield", self.star_expressions()?)
        } else {
            return self.reject("Yield", kw.span(), 0);
        };
        let span = kw.start()..value.span.end;
        self.reject(class, span, value.depth)
    }

    /// `expression`: conditional expressions and lambdas (right-nested, parsed in a loop),
    /// or a `disjunction`.
    pub(super) fn expression(&mut self) -> PResult<Node> {
        self.nested(EXPRESSION_LEVELS, |p| {
            let mut pending = Vec::new();
            let mut result = loop {
                if p.at("lambda") {
                    let kw = p.advance();
                    p.parameters(false)?;
                    p.expect(":")?;
                    pending.push(Pending::Lambda(kw.start()));
                    continue;
                }
                let body = p.bool_chain("or")?;
                p.legacy_print(&body)?;
                if !p.at("if") {
                    break body;
                }
                let kw = p.advance();
                let cond = p.bool_chain("or")?;
                p.expect("else")?;
                pending.push(Pending::IfExp(
                    body.span.start,
                    kw.span(),
                    body.depth.max(cond.depth),
                ));
            };
            while let Some(w) = pending.pop() {
                let end = result.span.end;
                result = match w {
                    Pending::Lambda(start) => p.reject("Lambda", start..end, result.depth)?,
                    Pending::IfExp(start, kw, below) => {
                        p.reject_at("IfExp", start..end, kw, result.depth.max(below))?
                    }
                };
            }
            Ok(result)
        })
    }

    /// Python 2's `print x` / `exec code`: CPython names the problem.
    fn legacy_print(&mut self, body: &Node) -> PResult<()> {
        let NodeKind::Name(name) = &body.kind else {
            return Ok(());
        };
        if body.parenthesized || !(name == "print" || name == "exec") || !self.starts(true, &[]) {
            return Ok(());
        }
        let message = format!("Missing parentheses in call to '{name}'. Did you mean {name}(...)?");
        Err(syntax(message, body.span.clone()))
    }

    /// `disjunction` (`a or b`) and `conjunction` (`a and b`) chains.
    fn bool_chain(&mut self, kw: &str) -> PResult<Node> {
        let operand = |p: &mut Self| {
            if kw == "or" {
                p.bool_chain("and")
            } else {
                p.inversion()
            }
        };
        let first = operand(self)?;
        if !self.at(kw) {
            return Ok(first);
        }
        // The builder meets the outermost chain first; it is reported at its first operator.
        let op = self.peek().span();
        let mut depth = first.depth;
        while self.eat(kw) {
            depth = depth.max(operand(self)?.depth);
        }
        let span = first.span.start..self.prev_end();
        self.reject_at("BoolOp", span, op, depth)
    }

    /// `inversion`: any number of `not` (a loop, not recursion) before a comparison.
    fn inversion(&mut self) -> PResult<Node> {
        let mut nots = Vec::new();
        while self.at("not") {
            nots.push(self.advance().span());
        }
        let mut node = self.comparison()?;
        while let Some(kw) = nots.pop() {
            let span = kw.start..node.span.end;
            node = self.reject_at("Not", span, kw, node.depth)?;
        }
        Ok(node)
    }

    fn comparison(&mut self) -> PResult<Node> {
        let first = self.binary(1)?;
        let (start, mut depth, mut op) = (first.span.start, first.depth, None);
        loop {
            // The first operator (`not in` and `is not` are two tokens) is where it is reported.
            let t = self.peek();
            let n = match (t.kind, self.text(t)) {
                (Kind::Op, "==" | "!=" | "<" | "<=" | ">" | ">=") | (Kind::Name, "in") => 1,
                (Kind::Name, "not") if self.at_n(1, "in") => 2,
                (Kind::Name, "is") => 1 + usize::from(self.at_n(1, "not")),
                _ => break,
            };
            self.pos += n; // the tokens were peeked at just now
            op.get_or_insert(t.start()..self.prev_end());
            depth = depth.max(self.binary(1)?.depth);
        }
        match op {
            Some(op) => self.reject_at("Compare", start..self.prev_end(), op, depth),
            None => Ok(first),
        }
    }

    /// `bitwise_or` (`min_prec` 1) and everything below it down to `term`, by precedence
    /// climbing.
    fn binary(&mut self, min_prec: u8) -> PResult<Node> {
        let mut left = self.factor()?;
        loop {
            let t = self.peek();
            let op = BINARY
                .iter()
                .find(|(o, ..)| t.kind == Kind::Op && *o == self.text(t));
            let Some(&(_, class, prec)) = op.filter(|op| op.2 >= min_prec) else {
                return Ok(left);
            };
            let op_span = self.advance().span();
            let right = self.binary(prec + 1)?;
            let span = left.span.start..right.span.end;
            left = self.node(
                NodeKind::BinOp(Box::new(left), class, op_span, Box::new(right)),
                span,
            )?;
        }
    }

    /// `factor` and `power`: unary `+ - ~` prefixes and right-associative `**`, parsed in a
    /// loop so that long chains do not recurse.
    fn factor(&mut self) -> PResult<Node> {
        // Each pending `**`: the prefixes before its base, the base, and the `**` token.
        let mut frames: Vec<(Vec<Prefix>, Node, Range<usize>)> = Vec::new();
        let mut result = loop {
            let mut prefixes = Vec::new();
            while let Some(class) = match self.peek() {
                t if t.kind != Kind::Op => None,
                t => ["USub", "UAdd", "Invert"]
                    .get("-+~".find(self.text(t)).unwrap_or(3))
                    .copied(),
            } {
                prefixes.push((class, self.advance().span()));
            }
            let base = if self.at("await") {
                let kw = self.advance();
                let inner = self.primary()?;
                let span = kw.start()..inner.span.end;
                self.reject("Await", span, inner.depth)?
            } else {
                self.primary()?
            };
            if !self.at("**") {
                break self.apply_prefixes(prefixes, base)?;
            }
            let pow = self.advance().span();
            frames.push((prefixes, base, pow));
        };
        while let Some((prefixes, base, op_span)) = frames.pop() {
            let span = base.span.start..result.span.end;
            let pow = self.node(
                NodeKind::BinOp(Box::new(base), "Pow", op_span, Box::new(result)),
                span,
            )?;
            result = self.apply_prefixes(prefixes, pow)?;
        }
        Ok(result)
    }

    fn apply_prefixes(&mut self, mut prefixes: Vec<Prefix>, mut node: Node) -> PResult<Node> {
        while let Some((class, op)) = prefixes.pop() {
            let span = op.start..node.span.end;
            node = if class == "USub" {
                self.node(NodeKind::Neg(Box::new(node)), span)?
            } else {
                // The builder looks at the operator before the operand: `+x` is rejected
                // whatever `x` is.
                self.reject_at(class, span, op, node.depth)?
            };
        }
        Ok(node)
    }

    /// `primary`: an atom followed by `.name`, `(args)` and `[index]` trailers.
    pub(super) fn primary(&mut self) -> PResult<Node> {
        let mut node = self.atom()?;
        loop {
            let start = node.span.start;
            let kind = if self.eat(".") {
                let name = self.expect_name()?;
                NodeKind::Attribute(Box::new(node), self.name_text(name))
            } else if self.eat("(") {
                let (args, keywords) = self.nested(BRACKET_LEVELS, Self::call_arguments)?;
                self.expect(")")?;
                NodeKind::Call(Box::new(node), args, keywords)
            } else if self.eat("[") {
                let index = self.nested(BRACKET_LEVELS, Self::slices)?;
                self.expect("]")?;
                NodeKind::Subscript(Box::new(node), Box::new(index))
            } else {
                return Ok(node);
            };
            node = self.node(kind, start..self.prev_end())?;
        }
    }

    /// A name as Python stores it: NFKC-normalized (PEP 3131).
    fn name_text(&self, t: Token) -> String {
        use unicode_normalization::UnicodeNormalization;
        let raw = self.text(t);
        if raw.is_ascii() {
            raw.to_string()
        } else {
            raw.nfkc().collect()
        }
    }

    fn atom(&mut self) -> PResult<Node> {
        let t = self.peek();
        let value = match (t.kind, self.text(t)) {
            (Kind::Name, "None") => Value::None,
            (Kind::Name, "True") => Value::Bool(true),
            (Kind::Name, "False") => Value::Bool(false),
            (Kind::Op, "...") => Value::Ellipsis,
            (Kind::Name, w) if is_keyword(w) => return Err(Fail::Generic),
            (Kind::Name, _) => {
                self.advance();
                return self.node(NodeKind::Name(self.name_text(t)), t.span());
            }
            // Python reports no useful column here; point at the literal itself.
            (Kind::Number, w) => literal::number(w).map_err(|m| syntax(m, t.span()))?,
            (Kind::String, _) => return self.strings(),
            (Kind::Op, "(" | "[" | "{") => return self.nested(BRACKET_LEVELS, Self::display),
            _ => return Err(Fail::Generic),
        };
        self.advance();
        self.node(NodeKind::Lit(value), t.span())
    }

    /// Adjacent string literals, concatenated (`'a' "b"`); any f-string makes the whole a
    /// `JoinedStr`.
    fn strings(&mut self) -> PResult<Node> {
        let mut toks = Vec::new();
        while self.is_kind(Kind::String) {
            toks.push(self.advance());
        }
        let span = toks[0].start()..toks[toks.len() - 1].end();
        let is_bytes = |t: &Token| literal::parts(self.text(*t), t.start()).0.contains('b');
        let non_ascii = toks
            .iter()
            .find(|t| is_bytes(t) && !self.text(**t).is_ascii());
        if let Some(t) = non_ascii {
            let message = "bytes can only contain ASCII literal characters";
            return Err(syntax(message, t.span()));
        }
        let first_bytes = is_bytes(&toks[0]);
        // CPython reports this at the token after the strings; we point at the literals.
        if toks.iter().any(|t| is_bytes(t) != first_bytes) {
            return Err(syntax("cannot mix bytes and nonbytes literals", span));
        }
        // CPython raises f-string errors from a parser action, at the token it has just
        // looked ahead to (the one after the strings).
        let after = self.peek().start();
        let (mut joined, mut text, mut bytes, mut surrogate) =
            (false, String::new(), Vec::new(), None);
        for t in &toks {
            // A bad escape is reported at the escape itself (CPython: after the strings).
            match literal::decode(self.text(*t), t.start()).map_err(Fail::Syntax)? {
                Literal::Str(s, at) => {
                    text.push_str(&s);
                    surrogate = surrogate.or(at);
                }
                Literal::Bytes(b) => bytes.extend(b),
                Literal::FString(true) => joined = true,
                Literal::FString(false) => {
                    return Err(syntax("invalid f-string", after..after + 1));
                }
            }
        }
        let kind = match surrogate {
            _ if joined => return self.reject("JoinedStr", span, 0),
            _ if first_bytes => NodeKind::Lit(Value::Bytes(bytes)),
            Some(at) => NodeKind::Surrogate(at),
            None => NodeKind::Lit(Value::Str(text)),
        };
        self.node(kind, span)
    }

    /// Whether a comprehension clause (`for` or `async for`) starts here.
    fn at_for(&mut self) -> bool {
        self.at("for") || (self.at("async") && self.at_n(1, "for"))
    }

    /// `for_if_clauses`; returns the depth of the deepest part.
    fn for_if_clauses(&mut self) -> PResult<u32> {
        let mut depth = 0;
        while self.at_for() {
            self.eat("async");
            self.expect("for")?;
            depth = depth.max(self.for_targets()?);
            self.expect("in")?;
            depth = depth.max(self.bool_chain("or")?.depth);
            while self.eat("if") {
                depth = depth.max(self.bool_chain("or")?.depth);
            }
        }
        Ok(depth)
    }

    /// `star_targets` before `in` (of a comprehension or a `for` statement). Parsed as
    /// primaries, so that `in` is not taken for a comparison, then checked as targets.
    pub(super) fn for_targets(&mut self) -> PResult<u32> {
        let mut depth = 0;
        loop {
            let target = self.starred(Self::primary, Self::primary)?;
            check_target(&target, false)?;
            depth = depth.max(target.depth);
            if !self.eat(",") || self.at("in") {
                return Ok(depth);
            }
        }
    }

    /// A bracketed display, from its open bracket: `(...)` (empty tuple, group, tuple,
    /// generator expression or `(yield ...)`), `[...]` (list or list comprehension) or `{...}`
    /// (dict, set, or their comprehensions).
    fn display(&mut self) -> PResult<Node> {
        let open = self.advance();
        let (start, bracket) = (open.start(), self.text(open));
        let (close, comprehension) = match bracket {
            "(" => (")", "GeneratorExp"),
            "[" => ("]", "ListComp"),
            _ => ("}", "SetComp"),
        };
        if bracket == "{" && (self.at("}") || self.at("**")) {
            return self.dict_rest(start, Vec::new());
        }
        if bracket == "(" && self.at("yield") {
            let mut inner = self.yield_expr()?;
            self.expect(")")?;
            inner.parenthesized = true;
            return Ok(inner);
        }
        let mut items = Vec::new();
        if !self.at(close) {
            let first = self.star_expression(true)?;
            if bracket == "{" && self.at(":") && !is_starred(&first) {
                let named = matches!(first.kind, NodeKind::Rejected("NamedExpr", _));
                ensure(!named || first.parenthesized)?;
                self.advance();
                let value = self.expression()?;
                if !self.at_for() {
                    return self.dict_rest(start, vec![(Some(first), value)]);
                }
                let depth = self.for_if_clauses()?.max(first.depth).max(value.depth);
                let end = self.expect("}")?.end();
                return self.reject("DictComp", start..end, depth);
            }
            if self.at_for() {
                ensure(!is_starred(&first))?;
                let depth = self.for_if_clauses()?.max(first.depth);
                let end = self.expect(close)?.end();
                return self.reject(comprehension, start..end, depth);
            }
            if bracket == "(" && self.eat(")") {
                ensure(!is_starred(&first))?;
                let mut inner = first;
                inner.parenthesized = true;
                return Ok(inner);
            }
            ensure(bracket != "(" || self.at(","))?;
            items.push(first);
        }
        while self.eat(",") && !self.at(close) {
            items.push(self.star_expression(true)?);
        }
        let end = self.expect(close)?.end();
        let mut node = match bracket {
            "(" => self.node(NodeKind::Tuple(items), start..end)?,
            "[" => self.node(NodeKind::List(items), start..end)?,
            _ => {
                let depth = items.iter().map(|n| n.depth).max().unwrap_or(0);
                self.reject("Set", start..end, depth)?
            }
        };
        node.parenthesized = bracket == "(";
        Ok(node)
    }

    /// The rest of a dict display after its first item, if any (a key and value, or `**m`).
    fn dict_rest(&mut self, start: usize, mut items: Vec<(Option<Node>, Node)>) -> PResult<Node> {
        while (items.is_empty() || self.eat(",")) && !self.at("}") {
            if self.eat("**") {
                items.push((None, self.binary(1)?));
            } else {
                let key = self.expression()?;
                self.expect(":")?;
                items.push((Some(key), self.expression()?));
            }
        }
        let end = self.expect("}")?.end();
        self.node(NodeKind::Dict(items), start..end)
    }

    /// Call arguments after `(`, up to (not including) `)`.
    #[allow(clippy::type_complexity)]
    pub(super) fn call_arguments(&mut self) -> PResult<(Vec<Node>, Vec<(Option<String>, Node)>)> {
        let (mut args, mut keywords) = (Vec::new(), Vec::new());
        let (mut seen_kw, mut seen_dstar) = (false, false);
        while !self.at(")") {
            if self.at("*") {
                ensure(!seen_dstar)?;
                args.push(self.starred(Self::expression, Self::expression)?);
            } else if self.eat("**") {
                keywords.push((None, self.expression()?));
                seen_dstar = true;
            } else if self.is_name() && self.at_n(1, "=") {
                let name = self.advance();
                self.advance();
                keywords.push((Some(self.name_text(name)), self.expression()?));
                seen_kw = true;
            } else {
                ensure(!seen_dstar && !seen_kw)?;
                let value = self.named_expression()?;
                ensure(!self.at("="))?;
                if !self.at_for() {
                    args.push(value);
                } else {
                    // A generator expression written directly as an argument: `f(x for x in y)`.
                    let start = value.span.start;
                    let depth = self.for_if_clauses()?.max(value.depth);
                    let span = start..self.prev_end();
                    ensure(args.is_empty() && keywords.is_empty() && self.at(")"))?;
                    args.push(self.reject("GeneratorExp", span, depth)?);
                    break;
                }
            }
            if !self.eat(",") {
                break;
            }
        }
        Ok((args, keywords))
    }

    /// The index of a subscript (`slices`): one item, or a tuple of items and slices.
    fn slices(&mut self) -> PResult<Node> {
        let first = self.slice_item()?;
        if !self.at(",") && !is_starred(&first) {
            return Ok(first);
        }
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat(",") && !self.at("]") {
            items.push(self.slice_item()?);
        }
        self.node(NodeKind::Tuple(items), start..self.prev_end())
    }

    fn slice_item(&mut self) -> PResult<Node> {
        if self.at("*") {
            return self.starred(Self::expression, Self::expression);
        }
        let start = self.peek().start();
        let mut depth = 0;
        if !self.at(":") {
            let lower = self.named_expression()?;
            if !self.at(":") {
                return Ok(lower);
            }
            depth = lower.depth;
        }
        self.expect(":")?;
        let bound = |p: &mut Self| p.starts_expression() && !p.at("*");
        if bound(self) {
            depth = depth.max(self.expression()?.depth);
        }
        if self.eat(":") && bound(self) {
            depth = depth.max(self.expression()?.depth);
        }
        let span = start..self.prev_end();
        self.reject("Slice", span, depth)
    }
}
