//! The `Set-Cookie` header CherryPy 18 writes for the session.

use std::borrow::Cow;
use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `Max-Age` as Python prints `timeout * 60`: an int stays an int (`3600`), a float keeps
/// its repr (`30.0`, `90.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum MaxAge {
    /// From an int timeout.
    Int(i64),
    /// From a float timeout; printed with Python's `repr`.
    Float(f64),
}

/// One `Set-Cookie` value, printed with attributes in CherryPy's (Python's `Morsel`) order.
/// Its text fields borrow or own (`"x".into()`, `String::into()`), so the middleware builds
/// one from the settings without copying them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetCookie<'a> {
    /// Cookie name (`session_id`).
    pub name: Cow<'a, str>,
    /// Cookie value (the session id).
    pub value: Cow<'a, str>,
    /// `Domain=`, when configured.
    pub domain: Option<Cow<'a, str>>,
    /// `expires=` in RFC 1123 form, when the cookie is persistent.
    pub expires: Option<SystemTime>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Max-Age=`.
    pub max_age: Option<MaxAge>,
    /// `Path=`.
    pub path: Cow<'a, str>,
    /// `SameSite=` (our extension; CherryPy has no setting for it).
    pub same_site: Option<Cow<'a, str>>,
    /// `Secure`.
    pub secure: bool,
}

impl SetCookie<'_> {
    /// The header value: `name=value; Domain=…; expires=…; HttpOnly; Max-Age=…; Path=…;
    /// SameSite=…; Secure` (attributes sorted by their lower-case names, as `Morsel` sorts
    /// them; empty ones left out).
    pub fn header_value(&self) -> String {
        // One buffer, written in place: this runs for every response of a session path.
        let mut out =
            String::with_capacity(self.name.len() + self.value.len() + self.path.len() + 96);
        let _ = self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) -> std::fmt::Result {
        out.push_str(&self.name);
        out.push('=');
        out.push_str(&self.value);
        if let Some(domain) = self.domain.as_deref().filter(|d| !d.is_empty()) {
            write!(out, "; Domain={domain}")?;
        }
        if let Some(expires) = self.expires {
            out.push_str("; expires=");
            write_http_date(out, expires)?;
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        match self.max_age {
            Some(MaxAge::Int(n)) => write!(out, "; Max-Age={n}")?,
            Some(MaxAge::Float(f)) => write!(out, "; Max-Age={}", crate::unrepr::float_repr(f))?,
            None => {}
        }
        if !self.path.is_empty() {
            out.push_str("; Path=");
            out.push_str(&self.path);
        }
        if let Some(same_site) = self.same_site.as_deref().filter(|s| !s.is_empty()) {
            write!(out, "; SameSite={same_site}")?;
        }
        if self.secure {
            out.push_str("; Secure");
        }
        Ok(())
    }
}

/// `email.utils.formatdate(t, usegmt=True)`: `Fri, 28 Nov 2025 03:20:48 GMT`, seconds
/// truncated as Python's `time.gmtime` truncates them.
pub fn http_date(t: SystemTime) -> String {
    let mut out = String::with_capacity(29);
    let _ = write_http_date(&mut out, t);
    out
}

fn write_http_date(out: &mut String, t: SystemTime) -> std::fmt::Result {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    // Every response of a second carries the same dates: format each once per second. A
    // response has two (its `Date` and the cookie's `expires`, a timeout later), so the
    // cache keeps two, replacing the one used less recently.
    thread_local! {
        static LAST: std::cell::RefCell<([(i64, String); 2], usize)> =
            const { std::cell::RefCell::new(([(i64::MIN, String::new()), (i64::MIN, String::new())], 0)) };
    }
    LAST.with_borrow_mut(|(dates, older)| {
        let slot = match dates.iter().position(|(at, _)| *at == secs) {
            Some(hit) => hit,
            None => {
                let (at, text) = &mut dates[*older];
                text.clear();
                format_http_date(text, secs)?;
                *at = secs;
                *older
            }
        };
        *older = 1 - slot;
        out.push_str(&dates[slot].1);
        Ok(())
    })
}

fn format_http_date(out: &mut String, secs: i64) -> std::fmt::Result {
    // `httpdate` writes IMF-fixdate, the same text as Python's
    // `formatdate(usegmt=True)`, for years up to 9999; no session date comes near that
    // (timeouts are bounded when the config is read), and one past it is written as the
    // last second of 9999 rather than panicking.
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let secs = u64::try_from(secs.clamp(0, LAST)).unwrap_or(0);
    write!(
        out,
        "{}",
        httpdate::HttpDate::from(UNIX_EPOCH + Duration::from_secs(secs))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// The per-thread cache of formatted dates never answers one second with another's
    /// text, however the seconds asked for interleave.
    #[test]
    fn cached_dates_are_each_seconds_own() {
        let fresh = |secs: i64| {
            let mut out = String::new();
            format_http_date(&mut out, secs).unwrap();
            out
        };
        let seconds = [
            1_764_300_048,
            1_764_303_648,
            1_764_300_048,
            1_764_300_049,
            1_764_303_648,
            1_764_303_649,
            1_764_303_649,
            1_764_300_049,
            5,
            1_764_300_049,
        ];
        for secs in seconds {
            assert_eq!(http_date(at(secs as u64)), fresh(secs), "{secs}");
        }
    }

    #[test]
    fn dates_past_year_9999_are_its_last_second_not_a_panic() {
        assert_eq!(
            http_date(at(300_000_000_000)),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            http_date(UNIX_EPOCH - Duration::from_secs(5)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn dates_are_rfc_1123_gmt() {
        // email.utils.formatdate(1764300048.9, usegmt=True)
        assert_eq!(
            http_date(at(1_764_300_048) + Duration::from_millis(900)),
            "Fri, 28 Nov 2025 03:20:48 GMT"
        );
        // email.utils.formatdate(t, usegmt=True) for each t.
        for (t, python) in [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
        ] {
            assert_eq!(http_date(at(t)), python);
        }
    }

    #[test]
    fn default_cookie_is_cherrypys() {
        let c = SetCookie {
            name: "session_id".into(),
            value: "ab".into(),
            expires: Some(at(1_764_300_048)),
            max_age: Some(MaxAge::Int(3600)),
            path: "/".into(),
            ..SetCookie::default()
        };
        assert_eq!(
            c.header_value(),
            "session_id=ab; expires=Fri, 28 Nov 2025 03:20:48 GMT; Max-Age=3600; Path=/"
        );
    }

    #[test]
    fn every_attribute_in_cherrypys_order() {
        let c = SetCookie {
            name: "session_id".into(),
            value: "ab".into(),
            domain: Some("example.com".into()),
            expires: Some(at(1_764_300_048)),
            http_only: true,
            max_age: Some(MaxAge::Float(30.0)),
            path: "/admin".into(),
            same_site: Some("Lax".into()),
            secure: true,
        };
        assert_eq!(
            c.header_value(),
            "session_id=ab; Domain=example.com; expires=Fri, 28 Nov 2025 03:20:48 GMT; HttpOnly; Max-Age=30.0; Path=/admin; SameSite=Lax; Secure"
        );
    }
}
