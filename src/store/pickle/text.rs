//! The text escapes of protocol 0 and Python 2 pickles, as Python decodes them.

/// Python's `codecs.escape_decode`, which reads a Python 2 `STRING` literal.
pub(super) fn escape_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err("trailing \\ in string".into());
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                // Two hex digits, no sign: `from_str_radix` alone would take `\x+f`, which
                // Python refuses.
                let hex = s
                    .get(i..i + 2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok());
                let v = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(v.ok_or_else(|| format!("invalid \\x escape at position {}", i - 2))?);
                i += 2;
            }
            _ => out.extend([b'\\', e]),
        }
    }
    Ok(out)
}

/// Python's `raw_unicode_escape` decoder, which reads protocol 0's `UNICODE`: bytes are
/// latin-1 code points, except `\uXXXX` and `\UXXXXXXXX` after an odd number of backslashes.
pub(super) fn raw_unicode_escape(s: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(char::from(s[i]));
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && s[i] == b'\\' {
            out.push('\\');
            i += 1;
        }
        let odd = (i - start) % 2 == 1;
        let width = match s.get(i) {
            Some(b'u') if odd => 4,
            Some(b'U') if odd => 8,
            _ => continue,
        };
        out.pop();
        let hex = s
            .get(i + 1..i + 1 + width)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("truncated \\{} escape", char::from(s[i])))?;
        let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        let c = char::from_u32(code).ok_or_else(|| {
            if code > 0x10ffff {
                "\\Uxxxxxxxx out of range".to_owned()
            } else {
                "a lone surrogate, which a session str cannot hold".to_owned()
            }
        })?;
        out.push(c);
        i += 1 + width;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::escape_decode;

    #[test]
    fn a_hex_escape_is_two_hex_digits() {
        assert_eq!(escape_decode(br"\x0f\xFF"), Ok(vec![0x0f, 0xff]));
        for bad in [&br"\x+f"[..], br"\x-1", br"\x f", br"\xg0", br"\x1"] {
            assert!(escape_decode(bad).is_err(), "{bad:?}");
        }
    }
}
