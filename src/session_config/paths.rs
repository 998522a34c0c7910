//! How a request path names config sections: CherryPy 3's prefixes with the implicit
//! `index`, 2.x's walk up to `/`, and 2.0's static URLs.

/// A 2.0 `[staticContent]` key (`static`) as the URL path 2.0 served, if it served one.
/// 2.0's ConfigParser lower-cased every key name (Python 2's `optionxform` is `str.lower`,
/// which changes ASCII letters only), and 2.0 matched the request path, without its
/// leading and trailing `/`, against the lower-cased key: `Static = dir` served `/static`,
/// and a key that starts or ends with `/` matched no request (`None`).
pub(crate) fn static_url(key: &str) -> Option<String> {
    let key = key.to_ascii_lowercase();
    (!key.starts_with('/') && !key.ends_with('/')).then(|| format!("/{key}"))
}

/// Why a 2.0 `[staticContent]` key that [`static_url`] gives no URL for is not used: the
/// same words for `explain`, `check` and `migrate`.
pub(crate) const STATIC_NEVER_SERVED: &str = "CherryPy 2.0 never served this static URL: it compared keys with the request path without its leading and trailing `/`, so a key that starts or ends with `/` matched no request (and sessions stayed on there)";

/// The fix for [`STATIC_NEVER_SERVED`].
pub(crate) const STATIC_NEVER_SERVED_HELP: &str =
    "to serve it, write the key without the outer slashes (`static`, `static/css`)";

/// Whether `path` is `url` or below it, segment by segment, as 2.0 compared them (`/static`
/// and `/static/x`, not `/staticky`).
pub(super) fn under(path: &str, url: &str) -> bool {
    path.strip_prefix(url)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The pieces of a path as 2.1/2.2's `config.get` walked it: the path itself, then each
/// parent cut at its last `/`, ending with `/`. Every candidate but that final `/` is the
/// path cut before one of its `/`, so it is the path's `/`-separated pieces up to there,
/// empty ones included: a walk down these pieces meets the same candidates, shortest first.
/// (The final `/` is `[/]`, which the caller applies to every path.)
pub(super) fn walk_pieces(path: &str) -> std::str::Split<'_, char> {
    path.split('/')
}

/// 2.1/2.2 `config.get`'s list of candidates, as it built them: the reference the pieces
/// are tested against.
#[cfg(test)]
pub(super) fn walk_2x(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = path.to_owned();
    loop {
        if p.is_empty() {
            p.push('/');
        }
        out.push(p.clone());
        if p == "/" {
            break;
        }
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => break,
        }
    }
    out
}
