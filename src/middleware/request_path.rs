//! The path a request's settings are looked up by: the one CherryPy's dispatcher sees.
//!
//! CherryPy's server (cheroot) percent-decodes the request path before dispatch, except
//! `%2F`, which stays (as `%2F`, also when sent as `%2f`) so that an encoded slash never
//! splits a segment; CherryPy
//! then reads the bytes as UTF-8, or as Latin-1 where they are not UTF-8. Its per-path
//! config is found by that path, so `/%61dmin` gets the settings of `[/admin]`. actix-web
//! routes `/%61dmin` to the `/admin` handlers too; looked up by the raw path, that request
//! would get `[/]`'s settings instead (another cookie, timeout or locking, or sessions on
//! where `[/admin]` turns them off).

use std::borrow::Cow;

use percent_encoding::percent_decode;

/// `raw` (a request's path as sent) as CherryPy dispatches it. Borrowed when it has no `%`.
pub(super) fn dispatch_path(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw.as_bytes();
    while !rest.is_empty() {
        let slash = rest
            .windows(3)
            .position(|w| w.eq_ignore_ascii_case(b"%2f"))
            .unwrap_or(rest.len());
        bytes.extend(percent_decode(&rest[..slash]));
        if slash < rest.len() {
            bytes.extend_from_slice(b"%2F");
            rest = &rest[slash + 3..];
        } else {
            rest = &[];
        }
    }
    match String::from_utf8(bytes) {
        Ok(path) => Cow::Owned(path),
        Err(not_utf8) => Cow::Owned(
            not_utf8
                .into_bytes()
                .iter()
                .map(|&b| char::from(b))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::dispatch_path;

    /// Each pair as CherryPy 18's `request.path_info` shows it.
    #[test]
    fn decoded_as_cherrypy_dispatches_it() {
        for (raw, dispatched) in [
            ("/admin/x", "/admin/x"),
            ("/%61dmin/%6Eoop", "/admin/noop"),
            // An encoded slash stays one: no `/a/b` section applies to `/a%2Fb`.
            ("/a%2Fb/%2fc", "/a%2Fb/%2Fc"),
            ("/caf%C3%A9", "/café"),
            // Not UTF-8: Latin-1.
            ("/caf%E9", "/café"),
            // Not an escape: kept.
            ("/100%/%zz/%4", "/100%/%zz/%4"),
            ("/100%25/x", "/100%/x"),
        ] {
            assert_eq!(dispatch_path(raw), dispatched, "{raw}");
        }
    }
}
