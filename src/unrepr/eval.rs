//! CherryPy's `_Builder`, emulated without executing anything. The walk follows the
//! builder's order (a `BinOp` builds its left operand, then the operator, then the right one;
//! a unary operator is looked at before its operand; a dict builds every key and value before
//! hashing keys), so the first error found is the one CherryPy raises. The builder is
//! recursive Python with a limit of 1000 frames: we count the frames it would use and report
//! `value-too-large` where it would raise `RecursionError`.

use std::ops::Range;

use super::parser::{Node, NodeKind, grow_stack};
use super::value::{BinOp, Expr, Value};
use super::{Parsed, ValueError, ValueWarning, codes, hints, ops, pure};
use crate::limits::{MAX_CONFIG_VALUE_BYTES, MAX_DIAGNOSTICS_PER_CODE};

/// Python frames the builder may have in use (the 1000th frame raises).
const FRAME_LIMIT: u32 = 999;
/// Frames in use when the builder starts: the caller's module, its function,
/// `Parser.dict_from_file`, `Parser.as_dict` and `unrepr` (approximate: CherryPy's own
/// loading path adds a few).
const BASE_FRAMES: u32 = 5;

/// Frames the builder pushes for a node before building its children, measured on CPython
/// 3.11: `build` + `build_X`, one more for `build_Dict`'s comprehension, `build_Tuple` →
/// `build_List`, `build_Call` → `_build_call35`; a name adds `modules()` and importlib's
/// attempt to import it.
fn frames(kind: &NodeKind) -> u32 {
    match kind {
        NodeKind::Name(_) => 12,
        NodeKind::Rejected(..) | NodeKind::Starred(_) => 1,
        NodeKind::Tuple(_) | NodeKind::Dict(_) | NodeKind::Call(..) => 3,
        _ => 2,
    }
}

struct Builder<'a> {
    text: &'a str,
    warnings: Vec<ValueWarning>,
    /// The weight (`ops::weight`) of the parts built so far of the node being built: a
    /// display or a call is bounded as its items are built, not once it holds them all.
    parts: usize,
    /// The parts the nodes around the one being built hold meanwhile (their `parts`): a
    /// display nested in displays is bounded with what each level already holds.
    held: usize,
    /// What was built so far, kept or not (see `read::parse_counted`): a value that makes large
    /// results and keeps a piece of each (`[([0] * 500000)[0], ...]`) is bounded in the
    /// work it asks for, not only in what it keeps.
    built: usize,
}

/// The value of the first statement, with the warnings met building it; the tree's literals
/// are taken out of it.
pub(super) fn build(text: &str, node: &mut Node, built: &mut usize) -> Result<Parsed, ValueError> {
    let mut builder = Builder {
        text,
        warnings: Vec::new(),
        parts: 0,
        held: 0,
        built: 0,
    };
    let value = builder.build(node, BASE_FRAMES);
    *built = built.saturating_add(builder.built);
    Ok(Parsed {
        value: value?,
        warnings: builder.warnings,
    })
}

type BResult = Result<Value, ValueError>;

fn error((code, message): ops::OpError, span: Range<usize>) -> ValueError {
    ValueError::new(code, message, None, span)
}

impl Builder<'_> {
    /// Fails if `more` frames above `used` would pass the limit; reported at the start of the
    /// value, as the whole nesting is the problem.
    fn frames_left(&self, used: u32, more: u32) -> Result<(), ValueError> {
        let message =
            "the value is nested too deeply: CherryPy's builder would fail with RecursionError";
        (used + more <= FRAME_LIMIT)
            .then_some(())
            .ok_or_else(|| super::too_large(message, self.text))
    }

    /// Whether the unknown name at `span` gets a warning: where it first appears, and for the
    /// first [`MAX_DIAGNOSTICS_PER_CODE`] different names only. A value of a hundred
    /// thousand names would otherwise build as many warnings, which a config's report then
    /// leaves out all but twenty of.
    fn warns_of(&self, span: &Range<usize>) -> bool {
        let name = &self.text[span.clone()];
        self.warnings.len() < MAX_DIAGNOSTICS_PER_CODE
            && !self
                .warnings
                .iter()
                .any(|w| self.text[w.span.clone()] == *name)
    }

    fn unsupported(&self, class: &'static str, span: Range<usize>) -> ValueError {
        let (message, help) = hints::unsupported(class, self.text);
        ValueError::new(codes::UNSUPPORTED, message, help, span)
    }

    /// Builds `node`, adding its weight to its parent's parts: past [`ops::MAX_WEIGHT`] the
    /// value is too large, before anything more is built.
    fn build(&mut self, node: &mut Node, used: u32) -> BResult {
        let siblings = std::mem::take(&mut self.parts);
        self.held = self.held.saturating_add(siblings);
        let value = if used < BASE_FRAMES + 40 {
            self.build_node(node, used)
        } else {
            grow_stack(|| self.build_node(node, used))
        };
        self.held -= siblings;
        let value = value?;
        // What is made of its parts weighs them (as `ops::weight` counts it, without walking
        // them again); anything else (a literal, an operation's result, an item taken out
        // of a container) is weighed itself.
        let weight = match (&node.kind, &value) {
            (_, Value::Expr(e)) if !matches!(**e, Expr::Name { .. }) => {
                ops::expr_weight(e).saturating_add(self.parts)
            }
            (NodeKind::List(_) | NodeKind::Tuple(_) | NodeKind::Dict(_), _) => {
                ops::SLOT + self.parts
            }
            _ => {
                // A container's items were counted as they were built.
                let weight = ops::weight(&value);
                self.built = self.built.saturating_add(weight);
                if self.built > MAX_CONFIG_VALUE_BYTES {
                    let message = format!(
                        "the value builds more than {} MiB along the way",
                        MAX_CONFIG_VALUE_BYTES >> 20
                    );
                    return Err(error((codes::TOO_LARGE, message), node.span.clone()));
                }
                weight
            }
        };
        self.parts = siblings.saturating_add(weight);
        if self.parts.saturating_add(self.held) > ops::MAX_WEIGHT {
            return Err(error(ops::too_large(), node.span.clone()));
        }
        Ok(value)
    }

    fn build_node(&mut self, node: &mut Node, used: u32) -> BResult {
        let d = used + frames(&node.kind);
        self.frames_left(d, 0)?;
        let span = node.span.clone();
        match &mut node.kind {
            NodeKind::Lit(v) => Ok(std::mem::replace(v, Value::None)),
            NodeKind::Surrogate(at) => Err(ValueError::new(
                codes::LONE_SURROGATE,
                "this string contains a lone surrogate escape (such as `\\ud800`); Python accepts it, \
                 but it cannot be represented as Unicode text here",
                Some("write the character itself, or a `\\U0001xxxx` escape for characters outside the BMP".into()),
                at.clone(),
            )),
            NodeKind::Name(name) => {
                let resolved = hints::is_known_name(name);
                if !resolved && self.warns_of(&span) {
                    self.warnings.push(hints::unresolved_name(name, span, self.text));
                }
                Ok(Value::expr(Expr::Name { dotted: name.clone(), resolved }))
            }
            NodeKind::Attribute(value, attr) => Ok(match self.build(value, d)? {
                Value::Expr(e) => match *e {
                    Expr::Name { mut dotted, resolved } => {
                        dotted = format!("{dotted}.{attr}");
                        pure::constant(&dotted).unwrap_or_else(|| Value::expr(Expr::Name { dotted, resolved }))
                    }
                    other => Value::expr(Expr::Attribute { object: Value::Expr(Box::new(other)), attr: attr.clone() }),
                },
                object => Value::expr(Expr::Attribute { object, attr: attr.clone() }),
            }),
            NodeKind::Call(func, args, keywords) => self.call(func, args, keywords, d, span),
            NodeKind::Subscript(value, index) => {
                let index_span = index.span.clone();
                let (value, index) = (self.build(value, d)?, self.build(index, d)?);
                if value.is_expr() || index.is_expr() {
                    return Ok(Value::expr(Expr::Subscript { value, index }));
                }
                // A missing or ill-typed index is the index's fault; a value that cannot be
                // subscripted at all is the whole subscript's.
                let subscriptable =
                    matches!(value, Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Bytes(_) | Value::Dict(_));
                match ops::subscript(&value, &index) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Ok(Value::expr(Expr::Subscript { value, index })),
                    Err(e) => Err(error(e, if subscriptable { index_span } else { span })),
                }
            }
            NodeKind::Starred(_) => Err(self.unsupported("Starred", span)),
            NodeKind::List(items) => Ok(Value::List(self.build_all(items, d)?)),
            NodeKind::Tuple(items) => Ok(Value::Tuple(self.build_all(items, d)?)),
            NodeKind::Dict(items) => {
                let mut pairs = Vec::with_capacity(items.len());
                for (k, v) in items.iter_mut() {
                    // `{**m}` has no key node; the builder builds `None` for it, so the entry
                    // becomes `None: m`.
                    let key = match k {
                        Some(k) => self.build(k, d)?,
                        None => self.frames_left(d, 2).map(|()| Value::None)?,
                    };
                    pairs.push((key, self.build(v, d)?));
                }
                // Only a key can be unhashable, and `None` (for `**m`) never is.
                ops::build_dict(pairs)
                    .map(Value::Dict)
                    .map_err(|(i, e)| error(e, items[i].0.as_ref().map_or(span, |k| k.span.clone())))
            }
            NodeKind::BinOp(left, class, op_span, right) => {
                let l = self.build(left, d)?;
                self.frames_left(d, 2)?;
                let op = match *class {
                    "Add" => BinOp::Add,
                    "Mult" => BinOp::Mul,
                    other => return Err(self.unsupported(other, op_span.clone())),
                };
                let r = self.build(right, d)?;
                if l.is_expr() || r.is_expr() {
                    return Ok(Value::expr(Expr::BinOp { op, left: l, right: r }));
                }
                let result = if op == BinOp::Add { ops::add(l, r) } else { ops::mul(l, r) };
                result.map_err(|e| error(e, op_span.clone()))
            }
            NodeKind::Neg(operand) => {
                self.frames_left(d, 2)?;
                let v = self.build(operand, d)?;
                if v.is_expr() {
                    return Ok(Value::expr(Expr::Neg(v)));
                }
                // The node starts with its one-byte `-` token.
                ops::neg(v).map_err(|e| error(e, span.start..span.start + 1))
            }
            NodeKind::Rejected(class, at) => Err(self.unsupported(class, at.clone())),
        }
    }

    fn build_all(&mut self, items: &mut [Node], d: u32) -> Result<Vec<Value>, ValueError> {
        items.iter_mut().map(|n| self.build(n, d)).collect()
    }

    fn call(
        &mut self,
        func: &mut Node,
        args: &mut [Node],
        keywords: &mut [(Option<String>, Node)],
        d: u32,
        span: Range<usize>,
    ) -> BResult {
        let func = self.build(func, d)?;
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            // The builder builds the value of `*x` directly (and passes it as one argument).
            values.push(match &mut a.kind {
                NodeKind::Starred(inner) => Value::expr(Expr::Starred(self.build(inner, d)?)),
                _ => self.build(a, d)?,
            });
        }
        let mut kwargs = Vec::with_capacity(keywords.len());
        for (name, value) in keywords {
            let v = self.build(value, d)?;
            if name.is_none() && !v.is_expr() && !matches!(v, Value::Dict(_)) {
                let message = format!(
                    "argument after ** must be a mapping, not {}",
                    ops::py_type(&v)
                );
                return Err(error((codes::TYPE, message), value.span.clone()));
            }
            kwargs.push((name.clone(), v));
        }
        // Python checks `**` keys when making the call, before calling.
        let non_str_key = |(name, v): &(Option<String>, Value)| match (name, v) {
            (None, Value::Dict(items)) => items
                .iter()
                .any(|(k, _)| !matches!(k, Value::Str(_) | Value::Expr(_))),
            _ => false,
        };
        if kwargs.iter().any(non_str_key) {
            let message = "keywords must be strings".into();
            return Err(error((codes::TYPE, message), span));
        }
        if !func.is_expr() {
            let message = format!("'{}' object is not callable", ops::py_type(&func));
            return Err(error((codes::TYPE, message), span));
        }
        Ok(
            pure::call(&func, &values, &kwargs).unwrap_or(Value::expr(Expr::Call {
                func,
                args: values,
                kwargs,
            })),
        )
    }
}
