//! The value of a config entry, and the expressions kept unevaluated.

use num_bigint::BigInt;
use num_traits::Zero;

/// A config value, as CherryPy's `unrepr` reads it.
///
/// Literals (and `+`, `*`, unary `-` and subscripts applied to literals) are evaluated with
/// Python's rules. Anything CherryPy would *execute* (importing a module, looking up an
/// attribute, calling a function) is kept as an [`Expr`] instead.
///
/// Equality is structural (`Float(f64::NAN) != Float(f64::NAN)`, `Int(1) != Bool(true)`),
/// not Python's `==`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An `int` of any size.
    Int(BigInt),
    /// A `float` (`inf` and `nan` included).
    Float(f64),
    /// A `complex` number.
    Complex {
        /// The real part.
        re: f64,
        /// The imaginary part.
        im: f64,
    },
    /// A `str`.
    Str(String),
    /// A `bytes` value.
    Bytes(Vec<u8>),
    /// A `list`.
    List(Vec<Value>),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A `dict`, in insertion order, with Python's key equality already applied
    /// (`{1: 'a', True: 'b'}` is `{1: 'b'}`).
    Dict(Vec<(Value, Value)>),
    /// `...` (`Ellipsis`).
    Ellipsis,
    /// Something CherryPy would execute; never evaluated here (except the pure names and
    /// calls listed in the module docs, which become literals).
    Expr(Box<Expr>),
}

/// An expression that CherryPy would execute when loading the config.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Expr {
    /// A name or dotted name (`os`, `cherrypy.lib.sessions.FileSession`).
    Name {
        /// The name, with its dots.
        dotted: String,
        /// Whether the first part is a Python builtin, a standard-library module or
        /// `cherrypy`, i.e. CherryPy can resolve it without the application's help.
        resolved: bool,
    },
    /// An attribute of something that is not a name (`f().x`, `"a".upper`).
    Attribute {
        /// The object.
        object: Value,
        /// The attribute name.
        attr: String,
    },
    /// A call `f(x, *xs, k=y, **kw)`.
    Call {
        /// The callee.
        func: Value,
        /// Positional arguments; `*x` is an [`Expr::Starred`].
        args: Vec<Value>,
        /// Keyword arguments in order; `**x` has no name.
        kwargs: Vec<(Option<String>, Value)>,
    },
    /// `*x` in a call's arguments.
    Starred(Value),
    /// `a + b` or `a * b` where an operand is an expression.
    BinOp {
        /// The operator.
        op: BinOp,
        /// The left operand.
        left: Value,
        /// The right operand.
        right: Value,
    },
    /// `-a` where `a` is an expression.
    Neg(Value),
    /// `a[k]` where `a` or `k` is an expression.
    Subscript {
        /// The subscripted value.
        value: Value,
        /// The index or key.
        index: Value,
    },
}

/// The binary operators CherryPy's `unrepr` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinOp {
    /// `+`
    Add,
    /// `*`
    Mul,
}

impl BinOp {
    /// The operator as written: `"+"` or `"*"`.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Mul => "*",
        }
    }
}

impl Value {
    /// The type's name as in the JSON reading (`"int"`, `"str"`, `"name"`, `"call"`, ...);
    /// for literals this is Python's type name (`bool` is `"bool"`, `None` is `"none"`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Complex { .. } => "complex",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Ellipsis => "ellipsis",
            Value::Expr(e) => match **e {
                Expr::Name { .. } => "name",
                Expr::Attribute { .. } => "attribute",
                Expr::Call { .. } => "call",
                Expr::Starred(_) => "starred",
                Expr::BinOp { .. } => "binop",
                Expr::Neg(_) => "neg",
                Expr::Subscript { .. } => "subscript",
            },
        }
    }

    /// Python's truth value of a literal (`bool(x)`), or `None` for an expression, whose
    /// value is unknown. A quoted `"False"` is a non-empty string, so it is true, as in
    /// CherryPy.
    pub fn is_truthy(&self) -> Option<bool> {
        Some(match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => !i.is_zero(),
            // NaN is true in Python, as here (`NaN != 0.0`).
            Value::Float(f) => *f != 0.0,
            Value::Complex { re, im } => *re != 0.0 || *im != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(v) | Value::Tuple(v) => !v.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::Ellipsis => true,
            Value::Expr(_) => return None,
        })
    }

    /// Whether this is an unevaluated expression (at the top).
    pub fn is_expr(&self) -> bool {
        matches!(self, Value::Expr(_))
    }

    /// Wraps an expression.
    pub(super) fn expr(e: Expr) -> Value {
        Value::Expr(Box::new(e))
    }
}
