//! How a request path names config sections: CherryPy 3's prefixes with the implicit
//! `index`, 2.x's walk up to `/`, and 2.0's static URLs.

/// A 2.0 `[staticContent]` key (`static`) as a URL path. 2.0's ConfigParser lower-cased
/// every key name (Python 2's `optionxform` is `str.lower`, which changes ASCII letters
/// only), and 2.0 matched request paths against the lower-cased key: `/Static = dir`
/// served `/static`.
pub(crate) fn static_url(key: &str) -> String {
    format!("/{}", key.to_ascii_lowercase().trim_matches('/'))
}

/// Whether `path` is `url` or below it. 2.0 compared with `startswith` (unverified); the
/// segment check avoids `/staticky` counting as static.
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
