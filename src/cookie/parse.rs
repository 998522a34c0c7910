//! Reading a request's `Cookie` headers as Python's `SimpleCookie.load` does: headers in
//! order, the last value of a name wins, `"quoted"` values are
//! unquoted, and a header with a bad part (an attribute before any cookie, a name without
//! a value) is ignored as a whole.

use std::borrow::Cow;
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

/// The value of cookie `name` in these `Cookie` headers, as CherryPy sees it (borrowed from
/// the header unless it had to be unquoted). Headers are taken as bytes, as they arrive; one
/// that is not visible ASCII (what `http`'s `HeaderValue::to_str` accepts) is ignored.
pub fn cookie_value<'h>(
    headers: impl IntoIterator<Item = &'h [u8]>,
    name: &str,
) -> Option<Cow<'h, str>> {
    let mut found = None;
    for header in headers {
        if let Some(value) = header_value(header, name) {
            found = Some(value);
        }
    }
    found
}

/// One header: `None` when the header does not set `name` or is rejected as a whole.
fn header_value<'h>(header: &'h [u8], name: &str) -> Option<Cow<'h, str>> {
    match plain_header_value(header, name.as_bytes()) {
        Some(found) => found.map(Cow::Borrowed),
        None => {
            let visible = header
                .iter()
                .all(|&b| (b' '..=b'~').contains(&b) || b == b'\t');
            let text = std::str::from_utf8(header).ok().filter(|_| visible)?;
            pattern_header_value(text, name).map(Cow::Owned)
        }
    }
}

/// Characters of an unquoted value (`_LegalValueChars`); keys take the same but `[` `]`.
fn is_value_char(b: u8) -> bool {
    // A table, as every byte of every Cookie header is checked.
    const LEGAL: [bool; 256] = {
        let mut table = [false; 256];
        let punctuation = b"!#%&'~_`><@,:/$*+-.^|)(?}{=[]";
        let mut i = 0;
        while i < punctuation.len() {
            table[punctuation[i] as usize] = true;
            i += 1;
        }
        let mut b = 0;
        while b < 128 {
            if (b as u8).is_ascii_alphanumeric() {
                table[b] = true;
            }
            b += 1;
        }
        table
    };
    LEGAL[usize::from(b)]
}

/// The common header, read without the pattern: `name=value` parts joined by `;` (and
/// spaces), plain keys, unquoted values. Gives the same answer as the pattern for every
/// header it accepts (all of them visible ASCII); `None` sends anything else (quotes,
/// attributes, `$` keys, stray white space or characters) to the pattern.
fn plain_header_value<'h>(bytes: &'h [u8], name: &[u8]) -> Option<Option<&'h str>> {
    let mut at = 0;
    let mut found = None;
    while at < bytes.len() {
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        if at == bytes.len() {
            break;
        }
        let key_start = at;
        while at < bytes.len() && bytes[at] != b'=' {
            let b = bytes[at];
            if !is_value_char(b) || b == b'[' || b == b']' {
                return None;
            }
            at += 1;
        }
        let key = &bytes[key_start..at];
        if at == bytes.len() || key.is_empty() || key.starts_with(b"$") {
            return None;
        }
        if RESERVED
            .iter()
            .any(|r| r.as_bytes().eq_ignore_ascii_case(key))
        {
            return None;
        }
        at += 1;
        let value_start = at;
        while at < bytes.len() && is_value_char(bytes[at]) {
            at += 1;
        }
        let value = &bytes[value_start..at];
        match bytes.get(at) {
            None => {}
            Some(b';') => at += 1,
            Some(_) => return None,
        }
        if key == name {
            found = Some(value);
        }
    }
    // Only the value found is turned into text: it is ASCII, so this cannot fail.
    found.map(std::str::from_utf8).transpose().ok()
}

/// Any header, by Python's pattern.
fn pattern_header_value(header: &str, name: &str) -> Option<String> {
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
        let one = |h: &str| cookie_value([h.as_bytes()], "session_id").map(|v| v.into_owned());
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

    /// The plain reader agrees with the pattern on every header it accepts, over headers
    /// built from the characters that matter to the pattern.
    #[test]
    fn the_plain_reader_agrees_with_the_pattern() {
        let parts = [
            "session_id=abc",
            "session_id=",
            "a=1",
            "b=x=y",
            "path=/",
            "$Path=/",
            "Secure",
            "c=\"q\"",
            "d=a b",
            " ",
            ";",
            "; ",
            "=",
            "e=[1]",
            "f=é",
            "g=\\",
            "session_id=d,e",
            "h",
            "\t",
            "Max-Age=3",
            "k=v;",
            "session_id=Wed, 01 Jan 2025 00:00:00 GMT",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut plain = 0;
        for _ in 0..20_000 {
            let n = 1 + next() % 5;
            let header: String = (0..n)
                .map(|_| {
                    let part = parts[(next() % parts.len() as u64) as usize];
                    let sep = ["; ", ";", ""][(next() % 3) as usize];
                    format!("{part}{sep}")
                })
                .collect();
            let by_pattern = super::pattern_header_value(&header, "session_id");
            if let Some(fast) = super::plain_header_value(header.as_bytes(), b"session_id") {
                plain += 1;
                assert_eq!(fast.map(str::to_owned), by_pattern, "{header:?}");
            }
        }
        // The common headers do take the plain path.
        assert!(plain > 1_000, "{plain}");
    }

    #[test]
    fn a_header_that_is_not_visible_ascii_is_ignored_as_a_whole() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        for bad in [&b"a=\"\xff\"; session_id="[..], b"a=\"\x01\"; session_id="] {
            let header = [bad, id.as_bytes()].concat();
            assert_eq!(cookie_value([&header[..]], "session_id"), None);
            // The same header with a visible character instead is read.
            let visible = [&bad[..3], b"x", &bad[4..], id.as_bytes()].concat();
            assert_eq!(
                cookie_value([&visible[..]], "session_id").as_deref(),
                Some(id)
            );
        }
    }

    #[test]
    fn the_last_header_wins() {
        let v = cookie_value(
            [&b"session_id=a"[..], b"x=1", b"session_id=b"],
            "session_id",
        );
        assert_eq!(v.as_deref(), Some("b"));
    }
}
