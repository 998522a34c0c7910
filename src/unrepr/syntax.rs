//! The syntax tree the parser produces, and syntax errors.
//!
//! The tree keeps only what CherryPy's builder looks at: a node the builder rejects on sight
//! (a comparison, a lambda, ...) is an [`NodeKind::Rejected`] leaf named after Python's AST
//! class, since the builder raises `unrepr does not recognize '<class>'` before looking
//! inside it.

use std::ops::Range;

use num_bigint::BigInt;

/// A Python `SyntaxError` (or `IndentationError`) found while reading a value.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SyntaxError {
    pub(super) message: String,
    pub(super) span: Range<usize>,
}

impl SyntaxError {
    pub(super) fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        SyntaxError {
            message: message.into(),
            span,
        }
    }
}

/// A constant (`ast.Constant`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Const {
    None,
    True,
    False,
    Ellipsis,
    Int(BigInt),
    Float(f64),
    /// An imaginary literal (`2j`), by its imaginary part.
    Imag(f64),
    /// A `str`; `surrogate` is where a lone-surrogate escape was written.
    Str {
        value: String,
        surrogate: Option<Range<usize>>,
    },
    Bytes(Vec<u8>),
}

/// Python's binary operators: token, AST class name (as in `unrepr does not recognize
/// 'Sub'`) and binding strength for precedence climbing (`|` loosest, `**` tightest). The
/// builder accepts only `Add` and `Mult`.
const OPERATORS: [(&str, &str, u8); 13] = [
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
    ("**", "Pow", 7),
];

/// A binary operator, by its AST class name and precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Operator {
    pub(super) class: &'static str,
    pub(super) precedence: u8,
}

impl Operator {
    pub(super) const POW: Operator = Operator {
        class: "Pow",
        precedence: 7,
    };

    /// From an operator token's text (binary operators only).
    pub(super) fn from_token(text: &str) -> Option<Operator> {
        let &(_, class, precedence) = OPERATORS.iter().find(|(t, ..)| *t == text)?;
        Some(Operator { class, precedence })
    }
}

/// A keyword argument of a call; `name` is `None` for `**mapping`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Keyword {
    pub(super) name: Option<String>,
    pub(super) value: Node,
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NodeKind {
    Const(Const),
    Name(String),
    Attribute {
        value: Box<Node>,
        attr: String,
    },
    Call {
        func: Box<Node>,
        args: Vec<Node>,
        keywords: Vec<Keyword>,
    },
    Subscript {
        value: Box<Node>,
        index: Box<Node>,
    },
    Starred(Box<Node>),
    List(Vec<Node>),
    Tuple(Vec<Node>),
    /// `ast.Dict`; a `None` key is a `**mapping` entry.
    Dict(Vec<(Option<Node>, Node)>),
    /// `op_span` is the operator token's, where errors about the operation are reported.
    BinOp {
        left: Box<Node>,
        op: Operator,
        op_span: Range<usize>,
        right: Box<Node>,
    },
    /// Unary minus, the only unary operator the builder accepts. The node starts with its
    /// `-` token.
    Neg(Box<Node>),
    /// A node the builder rejects on sight, by Python's class name (`"Compare"`, `"UAdd"`,
    /// `"Lambda"`, `"JoinedStr"`, `"Slice"`, ...). `at` is where the error is reported: the
    /// operator token of an operator (`<`, `and`, `if`, `:=`, `not`, ...), else the node.
    Rejected {
        class: &'static str,
        at: Range<usize>,
    },
}

/// An expression with its span. `depth` is the height of the tree below (bounded, so that
/// walking it never exhausts the stack); `parenthesized` tells `(x) = 1` from `x = 1` where
/// the grammar cares.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub(super) kind: NodeKind,
    pub(super) span: Range<usize>,
    pub(super) depth: u32,
    pub(super) parenthesized: bool,
}

impl Node {
    /// Builds a node, computing its depth from its children.
    pub(super) fn new(kind: NodeKind, span: Range<usize>) -> Node {
        let child = |n: &Node| n.depth;
        let below = match &kind {
            NodeKind::Const(_) | NodeKind::Name(_) | NodeKind::Rejected { .. } => 0,
            NodeKind::Attribute { value, .. } | NodeKind::Starred(value) | NodeKind::Neg(value) => {
                child(value)
            }
            NodeKind::Call {
                func,
                args,
                keywords,
            } => {
                let a = args.iter().map(child).max().unwrap_or(0);
                let k = keywords.iter().map(|k| child(&k.value)).max().unwrap_or(0);
                child(func).max(a).max(k)
            }
            NodeKind::Subscript { value, index } => child(value).max(child(index)),
            NodeKind::List(items) | NodeKind::Tuple(items) => {
                items.iter().map(child).max().unwrap_or(0)
            }
            NodeKind::Dict(items) => items
                .iter()
                .map(|(k, v)| k.as_ref().map_or(0, child).max(child(v)))
                .max()
                .unwrap_or(0),
            NodeKind::BinOp { left, right, .. } => child(left).max(child(right)),
        };
        Node {
            kind,
            span,
            depth: below + 1,
            parenthesized: false,
        }
    }

    /// A node the builder rejects, reported as a whole; `below` is the depth of the children it had in Python's
    /// tree (kept so that the depth guard sees the same tree height as CPython).
    pub(super) fn rejected(class: &'static str, span: Range<usize>, below: u32) -> Node {
        Node::rejected_op(class, span.clone(), span, below)
    }

    /// A rejected operator node (`Compare`, `BoolOp`, `IfExp`, `NamedExpr`, a unary operator),
    /// reported at its operator token `op`.
    pub(super) fn rejected_op(
        class: &'static str,
        span: Range<usize>,
        op: Range<usize>,
        below: u32,
    ) -> Node {
        Node {
            kind: NodeKind::Rejected { class, at: op },
            span,
            depth: below + 1,
            parenthesized: false,
        }
    }
}

impl Drop for Node {
    /// Deep trees (up to [`super::parser::MAX_TREE_DEPTH`] levels) are taken apart with an
    /// explicit stack rather than by recursion.
    fn drop(&mut self) {
        if self.depth < 64 {
            return;
        }
        // Any leaf will do as the placeholder left behind.
        let leaf = || NodeKind::Const(Const::None);
        let mut stack = vec![std::mem::replace(&mut self.kind, leaf())];
        while let Some(kind) = stack.pop() {
            let mut take = |n: &mut Node| stack.push(std::mem::replace(&mut n.kind, leaf()));
            match kind {
                NodeKind::Attribute { mut value, .. }
                | NodeKind::Starred(mut value)
                | NodeKind::Neg(mut value) => take(&mut value),
                NodeKind::Subscript {
                    mut value,
                    mut index,
                } => {
                    take(&mut value);
                    take(&mut index);
                }
                NodeKind::BinOp {
                    mut left,
                    mut right,
                    ..
                } => {
                    take(&mut left);
                    take(&mut right);
                }
                NodeKind::Call {
                    mut func,
                    mut args,
                    keywords,
                } => {
                    take(&mut func);
                    args.iter_mut().for_each(&mut take);
                    keywords.into_iter().for_each(|mut k| take(&mut k.value));
                }
                NodeKind::List(mut items) | NodeKind::Tuple(mut items) => {
                    items.iter_mut().for_each(&mut take)
                }
                NodeKind::Dict(items) => {
                    for (k, mut v) in items {
                        if let Some(mut k) = k {
                            take(&mut k);
                        }
                        take(&mut v);
                    }
                }
                NodeKind::Const(_) | NodeKind::Name(_) | NodeKind::Rejected { .. } => {}
            }
        }
    }
}

/// What an assignment-like statement does with a target, for error wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TargetUse {
    Assign,
    Delete,
}

/// Checks that `node` can be assigned to (or deleted), as Python's `star_targets` /
/// `del_targets` rules: names, attributes, subscripts, and tuples/lists of those (with
/// starred items for assignment).
pub(super) fn check_target(node: &Node, how: TargetUse) -> Result<(), SyntaxError> {
    // Walk iteratively (a target can be as deep as any expression), first item first: Python
    // names the first invalid one.
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        match &n.kind {
            NodeKind::Name(_) | NodeKind::Attribute { .. } | NodeKind::Subscript { .. } => {}
            NodeKind::Starred(inner) if how == TargetUse::Assign => todo.push(inner),
            NodeKind::Tuple(items) | NodeKind::List(items) => todo.extend(items.iter().rev()),
            _ => {
                let verb = if how == TargetUse::Assign {
                    "assign to"
                } else {
                    "delete"
                };
                return Err(SyntaxError::new(
                    format!("cannot {verb} this expression"),
                    n.span.clone(),
                ));
            }
        }
    }
    Ok(())
}
