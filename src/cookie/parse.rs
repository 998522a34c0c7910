//! Reading a request's `Cookie` headers as Python's `SimpleCookie.load` does (spec:
//! sessions §4): headers in order, the last value of a name wins, `"quoted"` values are
//! unquoted, and a header with a bad part (an attribute before any cookie, a name without
//! a value) is ignored as a whole.

use std::sync::LazyLock;

use regex::Regex;

/// `http.cookies._CookiePattern` (Python 3.11): a key, an optional `=value` (quoted, an
/// `expires` date, or legal characters), then white space, `;` or the end.
static COOKIE_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    // Python compiles it with re.ASCII: \w, \d and \s are ASCII classes.
    const W: &str = "0-9A-Za-z_";
    const S: &str = r"[\t\n\x0B\x0C\r ]";
    let key = format!(r"{W}!#%&'~`><@,:/\$\*\+\-\.\^\|\)\(\?\}}\{{=");
    let pattern = format!(
        r#"^{S}*(?P<key>[{key}]+?)(?:{S}*={S}*(?P<val>"(?:[^\\"]|\\.)*"|[{W}]{{3}},{S}[{W}{S}-]{{9,11}}{S}[0-9:]{{8}}{S}GMT|[{key}\[\]]*))?{S}*(?:{S}+|;|$)"#
    );
    Regex::new(&pattern).expect("the cookie pattern is valid")
});

/// Attribute names `Morsel` reserves; as a cookie name they are attributes, not cookies.
const RESERVED: &[&str] = &[
    "expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version", "samesite",
];
const FLAGS: &[&str] = &["secure", "httponly"];

/// The value of cookie `name` in these `Cookie` headers, as CherryPy sees it.
pub fn cookie_value<'h>(headers: impl IntoIterator<Item = &'h str>, name: &str) -> Option<String> {
    let mut found = None;
    for header in headers {
        if let Some(value) = header_value(header, name) {
            found = Some(value);
        }
    }
    found
}

/// One header: `None` when the header does not set `name` or is rejected as a whole.
fn header_value(header: &str, name: &str) -> Option<String> {
    let mut at = 0;
    let mut seen_cookie = false;
    let mut found = None;
    while at < header.len() {
        let Some(caps) = COOKIE_PATTERN.captures(&header[at..]) else {
            // Python stops at the first part it cannot match and keeps what came before.
            break;
        };
        let end = caps.get(0).map_or(0, |m| m.end());
        if end == 0 {
            break;
        }
        at += end;
        let key = &caps["key"];
        let value = caps.name("val").map(|m| m.as_str());
        if key.starts_with('$') {
            continue;
        }
        let lower = key.to_ascii_lowercase();
        if RESERVED.contains(&lower.as_str()) {
            let bad = !seen_cookie || (value.is_none() && !FLAGS.contains(&lower.as_str()));
            if bad {
                return None;
            }
            continue;
        }
        let value = value?;
        seen_cookie = true;
        if key == name {
            found = Some(unquote(value));
        }
    }
    found
}

/// `http.cookies._unquote`: strip the quotes of a `"…"` value and undo `\"`, `\\` and
/// three-digit octal escapes.
fn unquote(value: &str) -> String {
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|_| value.len() >= 2)
    else {
        return value.to_owned();
    };
    let chars: Vec<char> = inner.chars().collect();
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' {
            let octal = chars.get(i + 1..i + 4).filter(|d| {
                ('0'..='3').contains(&d[0]) && d[1..].iter().all(|c| ('0'..='7').contains(c))
            });
            if let Some(d) = octal {
                let code = d.iter().fold(0, |n, c| n * 8 + c.to_digit(8).unwrap_or(0));
                out.extend(char::from_u32(code));
                i += 4;
                continue;
            }
            if let Some(&c) = chars.get(i + 1) {
                out.push(c);
                i += 2;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cookie_value;

    /// Expected values checked with Python 3.11's `SimpleCookie`.
    #[test]
    fn reads_like_simplecookie() {
        let one = |h: &str| cookie_value([h], "session_id");
        assert_eq!(
            one("session_id=abc; session_id=def").as_deref(),
            Some("def")
        );
        assert_eq!(one(r#"session_id="ab\143""#).as_deref(), Some("abc"));
        assert_eq!(one("path=/; session_id=x"), None);
        assert_eq!(one("a=1; session_id"), None);
        assert_eq!(one("session_id=x y"), None);
        assert_eq!(one("session_id=a,b").as_deref(), Some("a,b"));
        assert_eq!(one("session_id=\0"), None);
        assert_eq!(one("session_id=[x]").as_deref(), Some("[x]"));
        assert_eq!(one("x=1; $Path=/; session_id=y").as_deref(), Some("y"));
        assert_eq!(one("other=1"), None);
        assert_eq!(one("session_id=").as_deref(), Some(""));
    }

    #[test]
    fn the_last_header_wins() {
        let v = cookie_value(["session_id=a", "x=1", "session_id=b"], "session_id");
        assert_eq!(v.as_deref(), Some("b"));
    }
}
