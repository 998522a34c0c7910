//! CherryPy's `_Builder`, emulated without executing anything.
//!
//! The walk follows the builder's order (depth-first, left to right; a `BinOp` builds its
//! left operand, then the operator, then the right operand; a unary operator is looked at
//! before its operand; a call builds the callee, then positional, then keyword arguments;
//! a dict builds every key and value before checking that keys are hashable), so the first
//! error found is the one CherryPy raises.
//!
//! The builder is recursive Python with the default recursion limit of 1000 frames. We count
//! the frames it would use (see [`frames`]) and report `value-too-large` where it would raise
//! `RecursionError`, which also keeps our own recursion shallow.

use std::ops::Range;

use super::keys;
use super::known_names::is_known_name;
use super::ops::{self, OpError};
use super::pure;
use super::syntax::{Const, Node, NodeKind};
use super::value::{BinOp, Expr, Value};
use super::{ValueError, ValueWarning, codes, hints};

/// Python frames the builder may have in use (`sys.getrecursionlimit()` is 1000 and the
/// 1000th frame raises).
const FRAME_LIMIT: u32 = 999;
/// Frames in use when the builder starts: the caller's module, its function,
/// `Parser.dict_from_file`, `Parser.as_dict` and `unrepr` (CherryPy's own loading path adds
/// a few more, so the bound is approximate).
const BASE_FRAMES: u32 = 5;
/// Frames to resolve a name: `build`, `build_Name`, `modules()` and importlib's attempt to
/// import it (measured for a name that is not an imported module).
const NAME_FRAMES: u32 = 12;

/// Frames the builder pushes for a node before building its children (for leaves: in
/// all). Measured against CPython 3.11: `build` + `build_X` for most nodes, one more for
/// the list comprehension in `build_Dict`, `build_Tuple` → `build_List`, and
/// `build_Call` → `_build_call35`.
fn frames(kind: &NodeKind) -> u32 {
    match kind {
        NodeKind::Name(_) => NAME_FRAMES,
        NodeKind::Rejected { .. } | NodeKind::Starred(_) => 1,
        NodeKind::Tuple(_) | NodeKind::Dict(_) | NodeKind::Call { .. } => 3,
        _ => 2,
    }
}

pub(super) struct Builder<'a> {
    text: &'a str,
    pub(super) warnings: Vec<ValueWarning>,
}

type BResult = Result<Value, ValueError>;

impl<'a> Builder<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Builder {
            text,
            warnings: Vec::new(),
        }
    }

    /// Builds the value of `node`, taking its strings and numbers out of it.
    pub(super) fn build_root(&mut self, node: &mut Node) -> BResult {
        self.build(node, BASE_FRAMES)
    }

    fn error(&self, code: &'static str, message: String, span: Range<usize>) -> ValueError {
        ValueError {
            code,
            message,
            help: None,
            span,
        }
    }

    /// Reported at the start of the value: the whole nesting is the problem.
    fn too_deep(&self) -> ValueError {
        let message =
            "the value is nested too deeply: CherryPy's builder would fail with RecursionError"
                .to_string();
        self.error(codes::TOO_LARGE, message, super::value_start(self.text))
    }

    fn op_error(&self, e: OpError, span: Range<usize>) -> ValueError {
        match e {
            OpError::Type(m) => self.error(codes::TYPE, m, span),
            OpError::Index(m) => self.error(codes::INDEX, m, span),
            OpError::TooLarge(m) => self.error(codes::TOO_LARGE, m, span),
        }
    }

    fn unsupported(&self, class: &'static str, span: Range<usize>) -> ValueError {
        let (message, help) = hints::unsupported(class, self.text);
        ValueError {
            code: codes::UNSUPPORTED,
            message,
            help,
            span,
        }
    }

    fn build(&mut self, node: &mut Node, used: u32) -> BResult {
        // Shallow levels cannot exhaust any sane stack; skip the check there.
        if used < BASE_FRAMES + 40 {
            self.build_node(node, used)
        } else {
            super::parser::grow_stack(|| self.build_node(node, used))
        }
    }

    fn build_node(&mut self, node: &mut Node, used: u32) -> BResult {
        let d = used + frames(&node.kind);
        if d > FRAME_LIMIT {
            return Err(self.too_deep());
        }
        let span = node.span.clone();
        match &mut node.kind {
            NodeKind::Const(c) => self.constant(c),
            NodeKind::Name(name) => Ok(self.name(name, span)),
            NodeKind::Attribute { value, attr } => Ok(match self.build(value, d)? {
                Value::Expr(e) => match *e {
                    Expr::Name {
                        mut dotted,
                        resolved,
                    } => {
                        dotted.push('.');
                        dotted.push_str(attr);
                        pure::constant(&dotted)
                            .unwrap_or_else(|| Value::expr(Expr::Name { dotted, resolved }))
                    }
                    other => Value::expr(Expr::Attribute {
                        object: Value::Expr(Box::new(other)),
                        attr: attr.clone(),
                    }),
                },
                object => Value::expr(Expr::Attribute {
                    object,
                    attr: attr.clone(),
                }),
            }),
            NodeKind::Call {
                func,
                args,
                keywords,
            } => self.call(func, args, keywords, d, span),
            NodeKind::Subscript { value, index } => {
                let index_span = index.span.clone();
                let value = self.build(value, d)?;
                let index = self.build(index, d)?;
                if value.is_expr() || index.is_expr() {
                    return Ok(Value::expr(Expr::Subscript { value, index }));
                }
                // A missing or ill-typed index is the index's fault; a value that cannot be
                // subscripted at all is the whole subscript's.
                let at = if keys::is_subscriptable(&value) {
                    index_span
                } else {
                    span
                };
                match keys::subscript(&value, &index) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Ok(Value::expr(Expr::Subscript { value, index })),
                    Err(e) => Err(self.op_error(e, at)),
                }
            }
            NodeKind::Starred(_) => Err(self.unsupported("Starred", span)),
            NodeKind::List(items) => Ok(Value::List(self.build_all(items, d)?)),
            NodeKind::Tuple(items) => Ok(Value::Tuple(self.build_all(items, d)?)),
            NodeKind::Dict(items) => {
                let mut pairs = Vec::with_capacity(items.len());
                for (k, v) in items.iter_mut() {
                    // `{**m}` has no key node; the builder builds `None` for it, so the
                    // entry becomes `None: m`.
                    let key = match k {
                        Some(k) => self.build(k, d)?,
                        None if d + 2 > FRAME_LIMIT => return Err(self.too_deep()),
                        None => Value::None,
                    };
                    pairs.push((key, self.build(v, d)?));
                }
                keys::build_dict(pairs).map(Value::Dict).map_err(|(i, e)| {
                    // Only a key can be unhashable, and `None` (for `**m`) never is.
                    let key = items[i].0.as_ref().map_or(span, |k| k.span.clone());
                    self.op_error(e, key)
                })
            }
            NodeKind::BinOp {
                left,
                op,
                op_span,
                right,
            } => {
                let l = self.build(left, d)?;
                if d + 2 > FRAME_LIMIT {
                    return Err(self.too_deep());
                }
                let op_span = op_span.clone();
                let op = match op.class {
                    "Add" => BinOp::Add,
                    "Mult" => BinOp::Mul,
                    other => return Err(self.unsupported(other, op_span)),
                };
                let r = self.build(right, d)?;
                if l.is_expr() || r.is_expr() {
                    return Ok(Value::expr(Expr::BinOp {
                        op,
                        left: l,
                        right: r,
                    }));
                }
                let result = if op == BinOp::Add {
                    ops::add(l, r)
                } else {
                    ops::mul(l, r)
                };
                result.map_err(|e| self.op_error(e, op_span))
            }
            NodeKind::Neg(operand) => {
                if d + 2 > FRAME_LIMIT {
                    return Err(self.too_deep());
                }
                let v = self.build(operand, d)?;
                if v.is_expr() {
                    return Ok(Value::expr(Expr::Neg(v)));
                }
                // The node starts with its one-byte `-` token.
                let minus = span.start..span.start + 1;
                ops::neg(v).map_err(|e| self.op_error(e, minus))
            }
            NodeKind::Rejected { class, at } => Err(self.unsupported(class, at.clone())),
        }
    }

    fn build_all(&mut self, items: &mut [Node], d: u32) -> Result<Vec<Value>, ValueError> {
        items.iter_mut().map(|n| self.build(n, d)).collect()
    }

    fn constant(&self, c: &mut Const) -> BResult {
        Ok(match c {
            Const::None => Value::None,
            Const::True => Value::Bool(true),
            Const::False => Value::Bool(false),
            Const::Ellipsis => Value::Ellipsis,
            Const::Int(i) => Value::Int(std::mem::take(i)),
            Const::Float(f) => Value::Float(*f),
            Const::Imag(f) => Value::Complex { re: 0.0, im: *f },
            Const::Bytes(b) => Value::Bytes(std::mem::take(b)),
            Const::Str {
                value,
                surrogate: None,
            } => Value::Str(std::mem::take(value)),
            Const::Str {
                surrogate: Some(at),
                ..
            } => {
                let message = "this string contains a lone surrogate escape (such as `\\ud800`); Python accepts it, \
                               but it cannot be represented as Unicode text here"
                    .to_string();
                return Err(ValueError {
                    code: codes::LONE_SURROGATE,
                    message,
                    help: Some("write the character itself, or a `\\U0001xxxx` escape for characters outside the BMP".into()),
                    span: at.clone(),
                });
            }
        })
    }

    fn name(&mut self, name: &str, span: Range<usize>) -> Value {
        let resolved = is_known_name(name);
        if !resolved {
            self.warnings
                .push(hints::unresolved_name(name, span, self.text));
        }
        Value::expr(Expr::Name {
            dotted: name.to_string(),
            resolved,
        })
    }

    fn call(
        &mut self,
        func: &mut Node,
        args: &mut [Node],
        keywords: &mut [super::syntax::Keyword],
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
        for kw in keywords {
            let v = self.build(&mut kw.value, d)?;
            if kw.name.is_none() && !v.is_expr() && !matches!(v, Value::Dict(_)) {
                let message = format!(
                    "argument after ** must be a mapping, not {}",
                    ops::py_type(&v)
                );
                return Err(self.error(codes::TYPE, message, kw.value.span.clone()));
            }
            kwargs.push((kw.name.clone(), v));
        }
        // Python checks `**` keys when making the call, before calling.
        let non_str_key = |(name, v): &(Option<String>, Value)| match (name, v) {
            (None, Value::Dict(items)) => items
                .iter()
                .any(|(k, _)| !matches!(k, Value::Str(_) | Value::Expr(_))),
            _ => false,
        };
        if kwargs.iter().any(non_str_key) {
            return Err(self.error(codes::TYPE, "keywords must be strings".into(), span));
        }
        if !func.is_expr() {
            let message = format!("'{}' object is not callable", ops::py_type(&func));
            return Err(self.error(codes::TYPE, message, span));
        }
        if let Some(value) = pure::call(&func, &values, &kwargs) {
            return Ok(value);
        }
        Ok(Value::expr(Expr::Call {
            func,
            args: values,
            kwargs,
        }))
    }
}
