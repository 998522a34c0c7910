//! `storage_path = os.path.join(os.getcwd(), 'sessions')`, a common form in real configs
//! (corpus 036, 037): the path such an expression gives, worked out without running Python.
//! `os.getcwd()` becomes `.`, which means the same thing to a file store resolved against
//! the process's working directory, as CherryPy's `FileSession` resolves it.

use crate::unrepr::{Expr, Value, posix_join};

/// The path, when `value` is built only from strings, `os.getcwd()` and `os.path.join`.
pub(super) fn path(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::Expr(e) => match &**e {
            Expr::Call { func, args, kwargs } if kwargs.is_empty() => match name(func)? {
                "os.getcwd" if args.is_empty() => Some(".".to_owned()),
                "os.path.join" if !args.is_empty() => {
                    let parts = args.iter().map(path).collect::<Option<Vec<_>>>()?;
                    let rest: Vec<&str> = parts[1..].iter().map(String::as_str).collect();
                    Some(posix_join(&parts[0], &rest))
                }
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn name(value: &Value) -> Option<&str> {
    match value {
        Value::Expr(e) => match &**e {
            Expr::Name { dotted, .. } => Some(dotted),
            _ => None,
        },
        _ => None,
    }
}
