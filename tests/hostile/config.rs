//! Hostile input: see main.rs. Here: request paths against per-path settings, and config
//! files read by `check` in CI (a typo must not take gigabytes).

use std::path::PathBuf;

use actix_cherrypy::config::SourceFile;
use actix_cherrypy::limits;
use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session_config::SessionConfigs;
use actix_web::{HttpResponse, web};

use crate::servers::http;

/// A config file of its own for one test.
fn config_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "actix-cherrypy-hostile-config-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn configs(text: &str) -> SessionConfigs {
    SessionConfigs::from_sources(&[SourceFile::new("t.conf", text)])
        .expect("a valid config")
        .value
}

/// A path of a million bytes, and a section as deep as the path, in both eras: the lookup
/// walks the segments once. The old lookup copied every prefix of the path (a 2.x config:
/// 250 GB for this path) or hashed every prefix (3.x: minutes), and reading the config
/// listed every prefix of the section's name the same way.
#[test]
fn a_long_path_is_looked_up_without_copying_its_prefixes() {
    let deep = "/a".repeat(500_000);
    for key in ["tools.sessions.timeout", "session_filter.timeout"] {
        let configs = configs(&format!("[/a]\n{key} = 1\n[{deep}]\n{key} = 2\n"));
        let timeout = |path: &str| configs.session_for_path(path).timeout.value.as_f64();
        assert_eq!(timeout(&format!("{deep}/b")), 2.0, "{key}");
        assert_eq!(
            timeout(&format!("{}/b", &deep[..deep.len() - 2])),
            1.0,
            "{key}"
        );
        assert_eq!(timeout(&"/b".repeat(500_000)), 60.0, "{key}");
    }
}

/// A path longer than the budget is answered `414 URI Too Long`, with no session opened
/// (no cookie); a path just within it is served.
#[test]
fn an_over_long_path_is_414_before_any_session_work() {
    let path = config_file("on.conf", "[/]\ntools.sessions.on = True\n");
    let port = http::serve(
        1,
        move || CherryPySessions::from_file(&path).unwrap(),
        |cfg| {
            cfg.default_service(web::to(|| async { HttpResponse::Ok().body("ok") }));
        },
    );
    let long = "/a".repeat(limits::MAX_REQUEST_PATH_BYTES / 2 + 1);
    let reply = http::get(port, &long, None);
    assert_eq!(reply.status, 414);
    assert!(reply.set_cookies.is_empty());
    let within = &long[..limits::MAX_REQUEST_PATH_BYTES];
    let reply = http::get(port, within, None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.set_cookies.len(), 1);
}

/// The codes `check` reports for one config, with their 1-based line.
fn session_codes(text: &str) -> Vec<(&'static str, usize)> {
    SessionConfigs::check_sources(&[SourceFile::new("t.conf", text)])
        .iter()
        .map(|d| (d.code, d.line_column().map_or(0, |(line, _)| line)))
        .collect()
}

/// A cookie attribute with a line break would split the `Set-Cookie` header and write a
/// header of the config's own (CherryPy writes it so); one with any control character
/// cannot be sent. A cookie name Python's `http.cookies` refuses makes CherryPy fail every
/// request. Each is a located error when the config is read, so the middleware refuses to
/// start; before, `check` passed them and every response went without its cookie.
#[test]
fn cookie_settings_that_cannot_be_sent_are_refused_when_the_config_is_read() {
    for (line, refused) in [
        ("tools.sessions.domain = 'example.com\\r\\nX-Evil: 1'", true),
        ("tools.sessions.path = '/a\\x00'", true),
        ("tools.sessions.name = 'a b'", true),
        ("tools.sessions.name = 'sid;x'", true),
        ("tools.sessions.name = ''", true),
        ("tools.sessions.domain = '.example.com'", false),
        ("tools.sessions.name = \"my_app-sid.v2:x\"", false),
    ] {
        let text = format!("[/]\ntools.sessions.on = True\n{line}\n");
        let codes = session_codes(&text);
        assert_eq!(
            codes.contains(&("cookie-text", 3)),
            refused,
            "{line}: {codes:?}"
        );
        if refused {
            let err = SessionConfigs::from_sources(&[SourceFile::new("t.conf", text)]).unwrap_err();
            assert_eq!(err.diagnostic().code, "cookie-text", "{line}");
        }
    }
}

/// Every numeric session setting has a range, checked when the config is read: `check`
/// reports a located `value-out-of-range` error and the middleware refuses to start. These
/// values used to pass `check` and then panic on every request.
#[test]
fn absurd_numbers_are_refused_when_the_config_is_read() {
    let cases = [
        "tools.sessions.timeout = 1e999",
        "tools.sessions.timeout = 1e20",
        "tools.sessions.timeout = -1e20",
        "tools.sessions.timeout = 1000000000 * 1000000000 * 1000000000",
        "tools.sessions.timeout = 100000000000000000000000",
        "tools.sessions.clean_freq = 1e20",
        "tools.sessions.clean_freq = -1",
        "tools.sessions.lock_timeout = 1e300",
        "tools.sessions.lock_timeout = -1e999",
        "tools.sessions.lock_timeout = -1",
        "tools.sessions.lock_timeout = datetime.timedelta(days=1e300)",
        "tools.sessions.port = 70000",
        "tools.sessions.db = -1",
        "session_filter.timeout = 1e20",
    ];
    for line in cases {
        let text = format!("[/]\ntools.sessions.on = True\n{line}\n");
        let codes = session_codes(&text);
        assert!(
            codes.contains(&("value-out-of-range", 3)),
            "{line}: {codes:?}"
        );
        let path = config_file("range.conf", &text);
        let err = CherryPySessions::from_file(&path).unwrap_err();
        let d = err.diagnostic();
        assert_eq!(
            (d.code, d.line_column().map(|(l, _)| l)),
            ("value-out-of-range", Some(3)),
            "{line}"
        );
        assert!(
            d.to_string().contains(" to "),
            "the range is in the message: {d}"
        );
    }
    // 2.0 raw numbers too.
    let codes = session_codes("[session]\nstorageType = ram\ntimeout = 1e20\n");
    assert!(codes.contains(&("value-out-of-range", 3)), "{codes:?}");
}

/// The values CherryPy accepts keep working: a negative timeout (sessions expire at once,
/// `Max-Age=-60` as CherryPy sends it), long ones, and the edges of the ranges.
#[test]
fn numbers_cherrypy_accepts_stay_accepted() {
    for line in [
        "tools.sessions.timeout = -1",
        "tools.sessions.timeout = 1000000000",
        "tools.sessions.timeout = -1e9",
        "tools.sessions.timeout = 5256000",
        "tools.sessions.clean_freq = 0",
        "tools.sessions.clean_freq = None",
        "tools.sessions.lock_timeout = 0",
        "tools.sessions.lock_timeout = datetime.timedelta(weeks=52)",
        "tools.sessions.port = 65535",
    ] {
        let text = format!("[/]\ntools.sessions.on = True\n{line}\n");
        let codes = session_codes(&text);
        assert!(
            codes.iter().all(|(code, _)| *code != "value-out-of-range"),
            "{line}: {codes:?}"
        );
    }
    let path = config_file(
        "negative.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.timeout = -1\n",
    );
    let port = http::serve(
        1,
        move || CherryPySessions::from_file(&path).unwrap(),
        |cfg| {
            cfg.default_service(web::to(|| async { HttpResponse::Ok().body("ok") }));
        },
    );
    let reply = http::get(port, "/", None);
    assert_eq!(reply.status, 200);
    assert!(
        reply.set_cookie().contains("Max-Age=-60"),
        "{}",
        reply.set_cookie()
    );
}

/// Values set in code are checked like a config's: an infinite timeout and a NaN lock
/// timeout are refused at startup (they used to start and write `Max-Age=inf`), and the
/// largest values a config may give serve requests without any arithmetic panicking.
#[test]
fn no_arithmetic_on_a_setting_panics() {
    use actix_cherrypy::session::Session;
    use actix_cherrypy::session_config::{SessionConfig, codes};
    let refused = [
        SessionConfig::default()
            .on(true)
            .timeout_minutes_float(f64::INFINITY),
        SessionConfig::default()
            .on(true)
            .lock_timeout_seconds(f64::NAN),
    ];
    for config in refused {
        let err = CherryPySessions::from_session_config(config).unwrap_err();
        assert_eq!(err.diagnostic().code, codes::VALUE_OUT_OF_RANGE);
    }
    let longest = limits::MAX_DURATION_MINUTES;
    let port = http::serve(
        1,
        move || {
            CherryPySessions::from_session_config(
                SessionConfig::default()
                    .on(true)
                    .timeout_minutes_float(longest)
                    .lock_timeout_seconds(longest * 60.0),
            )
            .unwrap()
        },
        |cfg| {
            cfg.default_service(web::to(|s: Session| async move {
                s.insert("k".to_owned(), 1).unwrap();
                HttpResponse::Ok().body("ok")
            }));
        },
    );
    let reply = http::get(port, "/", None);
    assert_eq!(reply.status, 200);
    let id = reply.cookie_id();
    let reply = http::get(port, "/", Some(&format!("session_id={id}")));
    assert_eq!(reply.status, 200);
}

/// The codes of every diagnostic `check` reports for one config (the config layer and the
/// session layer), with their 1-based line.
fn all_codes(text: &str) -> Vec<(&'static str, usize)> {
    actix_cherrypy::config::read_source(&SourceFile::new("t.conf", text))
        .diagnostics
        .iter()
        .map(|d| (d.code, d.line_column().map_or(0, |(line, _)| line)))
        .collect()
}

/// Keys that each name the previous one eight times: the tenth expands to 8^10 copies
/// (8.6 GB), within configparser's depth limit. It is a located error, found by measuring
/// the expansion (each key once) before building any of it; so is a fan-out that expands to
/// nothing but would follow 8^10 references.
#[test]
fn interpolation_that_grows_exponentially_is_refused_before_it_is_built() {
    for leaf in ["'aaaaaaaa'", ""] {
        let mut text = format!("[global]\nx0 = {leaf}\n");
        for level in 1..=10 {
            let refs = format!("%(x{})s", level - 1).repeat(8);
            text.push_str(&format!("x{level} = {refs}\n"));
        }
        let codes = all_codes(&text);
        assert!(
            codes.contains(&("interpolation-too-long", 12)),
            "{leaf:?}: {codes:?}"
        );
        // The levels within the budget still expand.
        assert!(!codes.contains(&("interpolation-too-long", 7)), "{codes:?}");
    }
    // configparser's own errors keep their precedence: a missing key is reported as such.
    let codes = all_codes("[global]\nx = %(nope)s\n");
    assert_eq!(codes, [("interpolation-missing", 2)]);
}

/// A 4 MB value in `[DEFAULT]` and 2 000 sections: every section has the key, and all of
/// them share the one value (it used to be copied into each: 8 GB here).
#[test]
fn a_default_value_is_shared_by_every_section_not_copied() {
    let big = "a".repeat(4 << 20);
    let mut text = format!("[DEFAULT]\nbig = '{big}'\n");
    for i in 0..2000 {
        text.push_str(&format!("[s{i}]\n"));
    }
    let report = actix_cherrypy::config::read_source(&SourceFile::new("t.conf", text));
    let file = report.file.expect("valid");
    let first = std::sync::Arc::clone(&file.sections()["s0"].get("big").expect("inherited").value);
    assert_eq!(file.sections().len(), 2000);
    for settings in file.sections().values() {
        let value = &settings.get("big").expect("inherited").value;
        assert!(std::sync::Arc::ptr_eq(value, &first));
    }
    let config = actix_cherrypy::config::Config::from_files(&[file])
        .expect("valid")
        .value;
    let merged = &config
        .section("s1999")
        .expect("merged")
        .get("big")
        .expect("kept")
        .value;
    assert!(std::sync::Arc::ptr_eq(merged, &first));
}

/// A section named by half a megabyte, with a bad line after it for every remaining byte
/// pair: each diagnostic names the section, and all of them share the one name (it was
/// copied into each: 128 GB here).
#[test]
fn diagnostics_share_their_section_name() {
    let name = "s".repeat(512 << 10);
    let text = format!("[{name}]\n{}", "x\n".repeat(256 << 10));
    let report = actix_cherrypy::config::read_source(&SourceFile::new("t.conf", text));
    let names: Vec<*const u8> = report
        .diagnostics
        .iter()
        .filter_map(|d| d.location.as_ref()?.section.as_deref().map(str::as_ptr))
        .collect();
    assert!(names.len() >= 2, "{}", names.len());
    assert!(names.iter().all(|&p| p == names[0]));
}

fn cli(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cherrypy-config"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// 1 500 warnings of one code on long lines: the library's report keeps the first
/// MAX_DIAGNOSTICS_PER_CODE and one closing line counting the rest, so `check` prints a
/// few kilobytes (it printed every warning with its whole line), with the full tally.
#[test]
fn repeated_diagnostics_are_counted_not_all_shown() {
    let mut text = String::from("[global]\n");
    let value = "v".repeat(2000);
    let n = 1500;
    for i in 0..n {
        text.push_str(&format!("app.k{i} = '{value}'\n"));
    }
    let report = actix_cherrypy::config::read_source(&SourceFile::new("t.conf", text.as_str()));
    assert!(report.diagnostics.is_empty(), "values are fine");
    let file = report.file.unwrap();
    let loaded = actix_cherrypy::config::Config::from_files(&[file]).unwrap();
    let warnings = &loaded.warnings;
    assert_eq!(warnings.len(), limits::MAX_DIAGNOSTICS_PER_CODE + 1);
    let last = warnings.last().unwrap();
    assert_eq!(last.code, "unknown-namespace");
    assert_eq!(last.omitted, n - limits::MAX_DIAGNOSTICS_PER_CODE);
    assert!(
        last.message
            .contains(&format!("and {} more like this", last.omitted))
    );
    assert_eq!(
        last.line_column(),
        Some((limits::MAX_DIAGNOSTICS_PER_CODE + 2, 1)),
        "located at the first one left out"
    );

    let path = config_file("many.conf", &text);
    let (code, stderr) = cli(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stderr.len() < 16 << 10, "{} bytes", stderr.len());
    let hidden = n - limits::MAX_DIAGNOSTICS_PER_CODE;
    assert!(
        stderr.contains(&format!(
            "… and {hidden} more like this [unknown-namespace]"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(": 0 errors, {n} warnings")),
        "{stderr}"
    );
    // Each snippet is cut around its column.
    let longest = stderr.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest <= limits::MAX_SNIPPET_CHARS + 16, "{longest}");
}

/// A config file larger than MAX_CONFIG_BYTES is refused, located, before it is decoded
/// (the file here is sparse: it takes no disk).
#[test]
fn an_oversized_config_is_refused_before_it_is_decoded() {
    let path = config_file("huge.conf", "");
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(limits::MAX_CONFIG_BYTES as u64 + 1).unwrap();
    let err = SourceFile::read(&path).unwrap_err();
    assert_eq!(err.code(), "config-too-large");
    assert_eq!(err.line_column(), Some((1, 1)));
    let err = SessionConfigs::load(&[&path]).unwrap_err();
    assert_eq!(err.diagnostic().code, "config-too-large");
    let (code, stderr) = cli(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("huge.conf:1:1: error: the file has"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&path);
}

/// A 64 KB `Cookie` header of 10 000 cookies, read by the plain reader and by Python's
/// pattern (quoted values), finds the session cookie at its end: both readers are linear
/// in the header (measured: a few milliseconds for 256 KB of `=` or spaces).
#[test]
fn a_cookie_header_of_ten_thousand_cookies_is_read_linearly() {
    use actix_cherrypy::__private::cookie::cookie_value;
    let id = "0123456789abcdef0123456789abcdef01234567";
    let plain: String = (0..10_000).map(|i| format!("c{i}=v; ")).collect();
    let quoted: String = (0..10_000).map(|i| format!("c{i}=\"v\"; ")).collect();
    for header in [plain, quoted] {
        let header = format!("{header}session_id={id}");
        assert!(header.len() > 60_000);
        assert_eq!(
            cookie_value([header.as_bytes()], "session_id").as_deref(),
            Some(id)
        );
    }
    let hostile = [
        format!("a=\"{}", "x".repeat(64 << 10)),
        "a=\"".repeat(20_000),
        "=".repeat(64 << 10),
        format!("a=b{}", " ".repeat(64 << 10)),
    ];
    for header in &hostile {
        assert_eq!(cookie_value([header.as_bytes()], "session_id"), None);
    }
}

/// Each value is bounded (16 MiB), but twenty bytes can name one that large: 200 of them
/// would build 3.2 GB. The values of a file together are bounded too.
#[test]
fn the_values_of_a_file_are_bounded_together() {
    let mut text = String::from("[global]\n");
    for i in 0..200 {
        text.push_str(&format!("app.k{i} = 'a' * 16000000\n"));
    }
    let codes = all_codes(&text);
    let line = 2 + limits::MAX_CONFIG_VALUE_BYTES / 16_000_000;
    assert!(
        codes.contains(&("config-values-too-large", line)),
        "{codes:?}"
    );
    assert!(!codes.contains(&("config-values-too-large", line - 1)));
}

/// Each item of a display or call is bounded, and so is what holds them: a list of a
/// hundred `'a' * 16000000` is 2 KB of text and would build 1.6 GB. It is refused at the item
/// that passes 16 MiB, before the next is built.
#[test]
fn a_display_or_call_of_large_items_is_bounded_as_it_is_built() {
    let big = "'a' * 10000000";
    let values = [
        format!("[{big}, {big}]"),
        format!("({big}, {big})"),
        format!("{{1: {big}, 2: {big}}}"),
        format!("f({big}, {big})"),
        format!("f(a={big}, b={big})"),
        format!("-f({big}) + f({big})"),
        format!("[[{big}], [{big}]]"),
        format!("[{}]", vec![big; 100].join(", ")),
    ];
    for value in &values {
        let codes = all_codes(&format!("[global]\napp.k = {value}\n"));
        assert!(
            codes.contains(&("value-too-large", 2)),
            "{value}: {codes:?}"
        );
    }
    // One such item fits, in any of them.
    for value in [
        format!("[{big}]"),
        format!("f(k={big})"),
        format!("{{1: [{big}]}}"),
    ] {
        let codes = all_codes(&format!("[global]\napp.k = {value}\n"));
        assert!(
            !codes.contains(&("value-too-large", 2)),
            "{value}: {codes:?}"
        );
    }
}

/// A long session value in `[DEFAULT]` is copied into the settings of every path section
/// (the session settings hold their own strings): with 1 000 sections, 16 GB. The copies
/// are counted before they are made.
#[test]
fn a_default_session_value_is_not_copied_into_every_section_without_bound() {
    let mut text = String::from("[DEFAULT]\ntools.sessions.name = 'n' * 16000000\n");
    for i in 0..1000 {
        text.push_str(&format!("[/p{i}]\n"));
    }
    let codes = session_codes(&text);
    assert!(
        codes.contains(&("session-settings-too-large", 2)),
        "{codes:?}"
    );
    let err = SessionConfigs::from_sources(&[SourceFile::new("t.conf", text)]).unwrap_err();
    assert_eq!(err.diagnostic().code, "session-settings-too-large");
}

/// configparser copies every `[DEFAULT]` key into every section: 1 000 keys and 4 000
/// empty sections are a 40 KB file but four million settings (10 000 sections, ten
/// million: 5 GB and a minute and a half before they were counted). The settings are
/// counted section by section, before they are made, and the section where they run out
/// is a located error.
#[test]
fn defaults_inherited_by_many_sections_are_bounded() {
    let keys = 1000;
    let mut text = String::from("[DEFAULT]\n");
    for i in 0..keys {
        text.push_str(&format!("k{i} = {i}\n"));
    }
    for i in 0..4000 {
        text.push_str(&format!("[s{i}]\n"));
    }
    let refused = located(&text);
    // The first section over the budget: the settings of the sections before it fit.
    let over = limits::MAX_CONFIG_SETTINGS / keys;
    let header_line = 1 + keys + 1 + over;
    assert_eq!(
        refused,
        [(
            "config-too-many-settings",
            header_line,
            format!("s{over}"),
            String::new()
        )]
    );
    let path = config_file("many-defaults.conf", &text);
    let err = actix_cherrypy::config::Config::load(&[&path]).expect_err("refused");
    assert!(
        err.to_string().contains("config-too-many-settings"),
        "{err}"
    );
}

/// `[DEFAULT]` holds `big`: 200 000 references to an empty key (1 MB of text that expands
/// to nothing), and `n` lines follow that each name `big`. Each value alone is within the
/// per-value budget, but every one of them made interpolation read `big` again: 4 000
/// lines took a minute, a file at the size limit hours.
fn interpolation_bomb(n: usize) -> String {
    let mut text = format!("[DEFAULT]\ne =\nbig = {}\n[/]\n", "%(e)s".repeat(200_000));
    for i in 0..n {
        text.push_str(&format!("a{i} = %(big)s\n"));
    }
    text.push_str("plain = 1\n");
    text
}

/// The codes of `read_source`'s diagnostics, with their line, section and key.
fn located(text: &str) -> Vec<(&'static str, usize, String, String)> {
    actix_cherrypy::config::read_source(&SourceFile::new("t.conf", text))
        .diagnostics
        .iter()
        .map(|d| {
            let location = d.location.as_ref().expect("located");
            (
                d.code,
                d.line_column().map_or(0, |(line, _)| line),
                location.section.as_deref().unwrap_or("").to_owned(),
                location.key.as_deref().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Each token of a value becomes a syntax node and often an item of what it builds: one
/// value of two million names (`[x,x,...]`, a 4 MiB file) took 450 MB to check. Past
/// [`limits::MAX_VALUE_TOKENS`] the value is a located error where its tokens ran out, and
/// none of it is parsed; the other values of the file are read.
#[test]
fn a_value_of_too_many_tokens_is_refused_where_they_run_out() {
    // With `[`, `]` and the two tokens that end a value: two under the limit.
    let fits = "1,".repeat(limits::MAX_VALUE_TOKENS / 2 - 3);
    let over = "1,".repeat(limits::MAX_VALUE_TOKENS / 2 + 1);
    let text = format!("[global]\napp.a = [{fits}]\napp.b = [{over}]\napp.c = (\n");
    let source = SourceFile::new("t.conf", &text);
    let report = actix_cherrypy::config::read_source(&source);
    let found: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| (d.code, d.line_column(), d.message.as_str()))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    let (code, place, message) = found[0];
    assert_eq!(code, "value-too-large");
    // Tokens of one byte each: the first one over the limit is at that byte of the value.
    assert_eq!(place, Some((3, 9 + limits::MAX_VALUE_TOKENS)));
    assert!(message.contains("262144 tokens"), "{message}");
    assert_eq!(
        (found[1].0, found[1].1.map(|(line, _)| line)),
        ("value-syntax", Some(4))
    );
}

/// Every part of a value is weighed, names and text included: an attribute's or a keyword
/// argument's name, and a one-byte string, each took more than its weight said, so a
/// repeated list of them (a 20 KB file) took 2 GB, 800 MB, or past the budget of the file's
/// values before the value over it was refused. Each is now too large as a value.
#[test]
fn every_part_of_a_value_is_weighed() {
    let long = "a".repeat(20_000);
    for value in [
        format!("[''.{long}] * 100000"),
        format!("[f({long}=1)] * 40000"),
        "['a'] * 508000".to_owned(),
        "[b'a'] * 508000".to_owned(),
    ] {
        let codes = all_codes(&format!("[global]\napp.k = {value}\n"));
        assert_eq!(codes, [("value-too-large", 2)], "{value}");
    }
}

/// What a value builds and does not keep is bounded too: each item of
/// `[([1] * 200000)[0], ...]` built a list of 13 MB to keep an int, 12 ms an item, so a
/// 16 KB value took 12 s and a 4 MiB file would take most of an hour. Both one value and
/// the file's values together are held to [`limits::MAX_CONFIG_VALUE_BYTES`] of what they
/// build, kept or not.
#[test]
fn what_values_build_and_discard_is_bounded() {
    let item = "([1] * 200000)[0]";
    let one = format!("[global]\napp.k = [{}]\n", vec![item; 20].join(", "));
    assert_eq!(all_codes(&one), [("value-too-large", 2)]);
    let mut many = String::from("[global]\n");
    for i in 0..100 {
        many.push_str(&format!("app.k{i} = {item}\n"));
    }
    let codes = all_codes(&many);
    let first = codes.first().copied();
    assert!(
        matches!(first, Some(("config-values-too-large", 3..=12))),
        "{codes:?}"
    );
}

/// A warning quotes what it is about, but not megabytes of it: each of the twenty
/// `unresolved-name` warnings a value may give quoted the whole name, and its help the
/// whole value (a 4 MB name took 209 MB to print).
#[test]
fn a_long_unknown_name_is_quoted_by_its_start() {
    let name = "z".repeat(100_000);
    let text = format!("[global]\napp.k = {name} + a1 + a2\n");
    let report = actix_cherrypy::config::read_source(&SourceFile::new("t.conf", &text));
    let warnings: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "unresolved-name")
        .collect();
    assert_eq!(warnings.len(), 3);
    for w in warnings {
        let help = w.help.as_deref().unwrap_or("");
        assert!(w.message.len() + help.len() < 1000, "{}", w.message.len());
    }
}

/// Each section holds its own copy of the session settings it inherits: a list of half a
/// million servers in `[global]` took 4 GB to check with fifty path sections, its copies
/// counted by their text alone. They are weighed as they take in memory and held to
/// [`limits::MAX_SESSION_SETTINGS_BYTES`] in all, and the error is said once.
#[test]
fn session_settings_copied_into_path_sections_are_bounded() {
    let mut text = String::from(
        "[global]\ntools.sessions.on = True\ntools.sessions.storage_type = 'memcached'\n\
         tools.sessions.servers = ['localhost:11211'] * 10000\n",
    );
    for i in 0..50 {
        text.push_str(&format!("[/p{i}]\ntools.sessions.on = True\n"));
    }
    let codes = session_codes(&text);
    assert!(
        codes.contains(&("session-settings-too-large", 4)),
        "{codes:?}"
    );
    // One copy for each of a few sections fits.
    let few = text.split("[/p3]").next().unwrap();
    assert!(
        !session_codes(few)
            .iter()
            .any(|(code, _)| *code == "session-settings-too-large")
    );
    // A setting is weighed with what holding it takes (its place, its slot, the resolved
    // settings of its path), not by its value alone: thousands of sections, each with every
    // session setting, took 160 MiB to check, within the budget. Past it, one error.
    let every: String = (0..3000)
        .map(|i| format!("[/p{i}]\n{EVERY_SESSION_SETTING}"))
        .collect();
    let codes = session_codes(&every);
    let over = codes
        .iter()
        .filter(|(code, _)| *code == "session-settings-too-large")
        .count();
    assert_eq!(over, 1, "{codes:?}");
}

/// A value names each unknown name once, and at most twenty of them: a value of a hundred
/// thousand unknown names built a warning for each (80 MB for a file of them), which the
/// report then left out all but twenty of.
#[test]
fn a_value_warns_of_each_unknown_name_once_and_of_twenty_at_most() {
    let codes = |value: &str| {
        all_codes(&format!("[global]\napp.k = {value}\n"))
            .into_iter()
            .filter(|&(code, _)| code == "unresolved-name")
            .count()
    };
    assert_eq!(codes("[x, x, y, x.z, f(x)]"), 3);
    let many: Vec<String> = (0..1000).map(|i| format!("n{i}")).collect();
    assert_eq!(codes(&format!("[{}]", many.join(", "))), 20);
}

/// Each section costs a settings map, and a path section its resolved session settings,
/// whatever its size: a 4 MiB file of short path sections turning sessions on took over
/// 1 GB to check. Past [`limits::MAX_CONFIG_SECTIONS`] the section's header is a located
/// error and nothing after it is read; a file of that many sections reads.
#[test]
fn sections_are_bounded() {
    let section = |i: usize| format!("[/p{i}]\ntools.sessions.on = True\n");
    let mut text: String = (0..limits::MAX_CONFIG_SECTIONS).map(section).collect();
    assert_eq!(located(&text), []);
    let path = config_file("many-sections.conf", &text);
    let configs = SessionConfigs::load(&[&path]).expect("as many sections as the budget");
    assert!(configs.value.session_for_path("/p9").on.value);

    text.push_str(&section(limits::MAX_CONFIG_SECTIONS));
    text.push_str("tools.sessions.timeout = (\n[/after]\n");
    let header_line = 2 * limits::MAX_CONFIG_SECTIONS + 1;
    let over = format!("/p{}", limits::MAX_CONFIG_SECTIONS);
    assert_eq!(
        located(&text),
        [("config-too-many-sections", header_line, over, String::new())],
        "the section over the budget, and nothing after it"
    );
    std::fs::write(&path, &text).unwrap();
    let err = SessionConfigs::load(&[&path]).expect_err("refused at startup");
    assert_eq!(err.diagnostic().code, "config-too-many-sections");
    let _ = std::fs::remove_file(path);
}

/// The bomb is a located error once the file's interpolation budget is spent: the first
/// values read, the rest refused, each named by file, line, section and key. A value
/// without `%` still reads.
#[test]
fn interpolation_is_bounded_across_the_whole_file() {
    let n = 1000;
    let text = interpolation_bomb(n);
    let report = actix_cherrypy::config::read_source(&SourceFile::new("t.conf", text.as_str()));
    let first = report.first_error().expect("refused").clone();
    assert_eq!(first.code, "interpolation-over-budget");
    let location = first.location.as_ref().unwrap();
    assert_eq!(location.section.as_deref(), Some("/"));
    let line = first.line_column().unwrap().0;
    // Each value reads `big` (1 MB) twice: measured, then expanded.
    let read_per_value = 2 * 1_000_000;
    let expected = 5 + limits::MAX_INTERPOLATION_READ_BYTES / read_per_value;
    assert!(
        line.abs_diff(expected) <= 2,
        "line {line}, expected {expected}"
    );
    assert_eq!(
        location.key.as_deref(),
        Some(format!("a{}", line - 5).as_str())
    );
    assert!(
        first.message.contains(&format!(
            "{} MiB",
            limits::MAX_INTERPOLATION_READ_BYTES >> 20
        )),
        "{}",
        first.message
    );
    let file = report.file.as_ref().expect("the INI structure is fine");
    let root = &file.sections()["/"];
    assert!(root.get("a0").is_some());
    assert!(root.get("plain").is_some(), "no `%`: read as it is");
    assert!(root.get(&format!("a{}", n - 1)).is_none());
    // Every refused value is counted: the first few shown, then one closing line.
    let refused = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "interpolation-over-budget")
        .count();
    assert_eq!(refused, limits::MAX_DIAGNOSTICS_PER_CODE + 1);

    // `Config::load` stops on it, and `check` says the same words.
    let path = config_file("interpolation-bomb.conf", &text);
    let err = actix_cherrypy::config::Config::load(&[&path]).expect_err("refused");
    assert!(
        err.to_string().contains("interpolation-over-budget"),
        "{err}"
    );
    let (code, stderr) = cli(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&first.message), "{stderr}");
    assert!(stderr.contains("[interpolation-over-budget]"), "{stderr}");
}

/// The same bomb through `[DEFAULT]`: one key names `big`, and each of many small sections
/// inherits it (and `big`), so both are read again in each. Each is reported once, at its
/// line in `[DEFAULT]`, in the section where the budget ran out.
#[test]
fn interpolation_inherited_by_many_sections_is_bounded() {
    let mut text = interpolation_bomb(0).replace("[/]\nplain = 1\n", "x = %(big)s\n");
    for i in 0..1000 {
        text.push_str(&format!("[s{i}]\n"));
    }
    let refused: Vec<_> = located(&text)
        .into_iter()
        .filter(|(code, ..)| *code == "interpolation-over-budget")
        .collect();
    // Each section reads `big` and `x`, each of which reads `big` (1 MB) twice.
    let sections_read = limits::MAX_INTERPOLATION_READ_BYTES / (4 * 1_000_000);
    assert!(!refused.is_empty() && refused.len() <= 2, "{refused:?}");
    for (_, line, section, key) in &refused {
        assert!(
            [(3, "big"), (4, "x")].contains(&(*line, key.as_str())),
            "{refused:?}"
        );
        let index: usize = section.strip_prefix('s').unwrap().parse().unwrap();
        assert!(index.abs_diff(sections_read) <= 1, "{refused:?}");
    }
}

/// Many legitimate references stay far from the budget and read as configparser reads
/// them: 4 000 sections whose values name `[DEFAULT]` keys, which name each other.
#[test]
fn many_legitimate_references_read_as_configparser_reads_them() {
    let mut text = String::from(
        "[DEFAULT]\nroot = '/srv/site'\nsessions = %(root)s + '/sessions'\n\
         path = %(sessions)s + '/' + %(name)s\n",
    );
    let n = 4000;
    for i in 0..n {
        text.push_str(&format!(
            "[/app{i}]\nname = 's{i}'\ntools.sessions.storage_path = %(path)s\n\
             tools.sessions.name = %(name)s + '-' + %(name)s\n"
        ));
    }
    let report = actix_cherrypy::config::read_source(&SourceFile::new("t.conf", text.as_str()));
    let codes: Vec<_> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [""; 0], "a valid config");
    let file = report.file.unwrap();
    assert_eq!(file.sections().len(), n);
    for (i, (name, settings)) in file.sections().iter().enumerate() {
        assert_eq!(name, &format!("/app{i}"));
        let text = |key: &str| match &*settings.get(key).expect(key).value {
            actix_cherrypy::unrepr::Value::Str(s) => s.clone(),
            other => panic!("{key}: {other:?}"),
        };
        assert_eq!(
            text("tools.sessions.storage_path"),
            format!("/srv/site/sessions/s{i}")
        );
        assert_eq!(text("tools.sessions.name"), format!("s{i}-s{i}"));
        assert_eq!(text("path"), format!("/srv/site/sessions/s{i}"));
        assert_eq!(text("sessions"), "/srv/site/sessions");
    }
}

/// Set in the process [`a_config_at_the_size_limit_takes_a_bounded_multiple_of_its_size`]
/// starts to read one file: the file's path.
const MEASURE_FILE: &str = "ACTIX_CHERRYPY_MEASURE_CONFIG";

/// A file at [`limits::MAX_CONFIG_BYTES`] of one line repeated (after `head`); `line` is
/// given the line's number, so lines can differ.
fn file_of_lines(name: &str, head: &str, line: impl Fn(usize) -> String) -> PathBuf {
    let mut text = String::from(head);
    for i in 0.. {
        let next = line(i);
        if text.len() + next.len() > limits::MAX_CONFIG_BYTES {
            break;
        }
        text.push_str(&next);
    }
    config_file(name, &text)
}

/// One line for each session setting, the Redis ones included, with a value that is not
/// its default (`storage_class` and `priority` have no value that takes effect beside
/// these).
const EVERY_SESSION_SETTING: &str = "tools.sessions.on = True
tools.sessions.timeout = 30
tools.sessions.name = 'sid'
tools.sessions.path = '/'
tools.sessions.path_header = 'X-Path'
tools.sessions.secure = True
tools.sessions.httponly = True
tools.sessions.locking = 'early'
tools.sessions.clean_freq = 5
tools.sessions.domain = 'example.com'
tools.sessions.persistent = False
tools.sessions.storage_type = 'redis'
tools.sessions.servers = ['a:1', 'b:2', 'c:3']
tools.sessions.storage_path = '/srv/sessions'
tools.sessions.lock_timeout = 20
tools.sessions.samesite = 'Lax'
tools.sessions.debug = True
tools.sessions.max_lifetime = 600
tools.sessions.url = 'redis://h:1/0'
tools.sessions.host = 'h'
tools.sessions.port = 6380
tools.sessions.db = 1
tools.sessions.user = 'u'
tools.sessions.password = 'p'
tools.sessions.prefix = 'site::'
tools.sessions.lock_prefix = 'lk'
tools.sessions.ssl = True
tools.sessions.tls_skip_verify = True
tools.sessions.is_sentinel = True
tools.sessions.sentinel_pass = 'sp'
tools.sessions.sentinel_service = 'ss'
tools.sessions.cluster = True
tools.sessions.storage_class = None
tools.sessions.priority = 50
";

/// The process's peak resident memory (`VmHWM`), in bytes.
fn peak_resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kb: usize = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb << 10
}

/// In the process of its own: what `check` does with a file (read it, read its values,
/// merge it, check its session settings) and what the middleware does at startup; prints
/// how much the peak resident memory grew.
#[allow(
    clippy::print_stdout,
    reason = "the figure goes to the parent test on stdout"
)]
fn measure_reading(path: &str) {
    use actix_cherrypy::config::{Config, read_source};
    let before = peak_resident_bytes();
    {
        let source = SourceFile::read(path).unwrap();
        let report = read_source(&source);
        // What `dump --format json` prints, written as it does.
        #[cfg(feature = "json")]
        actix_cherrypy::config::write_report_json(path, &report, &mut std::io::sink()).unwrap();
        let clean = report.first_error().is_none();
        if let Some(file) = report.file.filter(|_| clean) {
            let files = std::slice::from_ref(&file);
            drop(Config::from_files(files).map(|loaded| loaded.warnings));
            drop(SessionConfigs::check_files(files));
        }
    }
    drop(SessionConfigs::load(&[path]));
    // On a line of its own: the test harness may have started one.
    println!("\ngrew {} bytes", peak_resident_bytes() - before);
}

/// A config is read in CI by `check` on pull requests, and at startup. A file at the size
/// limit costs less than 32 bytes of memory per byte of input (128 MiB) when it is a
/// million short lines that each are a duplicate key, an invalid line, a header,
/// a comment or a blank, or each a different key, with a good or a bad value (the worst,
/// about 110 MiB: each key is checked against the others, mapped and given its value), or
/// each a different section, or when it has as many path sections as a file may have,
/// each with every session setting (about 95 MiB: each is resolved into its own session
/// settings, until their budget runs out), or values each as large as a value may be
/// (about 100 MiB at most: lists of unknown names), or a long session setting inherited by
/// as many path sections as a file may have. Its JSON report, as `dump` writes it, is
/// measured too.
/// It was 90 to 370 bytes per byte: each line kept its spans in 88 bytes, each key and
/// value its own copy, every error on every line was built (and cloned) before all but
/// twenty were dropped, and `check` read the file twice (1.5 GB for a file of invalid
/// lines).
///
/// Each file is read in a process of its own (this test binary, started again), whose peak
/// resident memory is measured (Linux only).
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the skip and the figures, with --nocapture"
)]
fn a_config_at_the_size_limit_takes_a_bounded_multiple_of_its_size() {
    if let Ok(path) = std::env::var(MEASURE_FILE) {
        measure_reading(&path);
        return;
    }
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipped: peak memory is read from /proc");
        return;
    }
    // Strings that take all but a mebibyte of what the values of a file may build.
    let string = |n: usize| format!("'a' * {n}\n");
    let mut most_built = String::from("[global]\n");
    let mut left = limits::MAX_CONFIG_VALUE_BYTES - (1 << 20);
    for i in 0.. {
        let n = left.min(limits::MAX_CONFIG_VALUE_BYTES / 4);
        if n == 0 {
            break;
        }
        most_built.push_str(&format!("v{i} = {}", string(n - 64)));
        left -= n;
    }
    let shapes = [
        file_of_lines("dup-keys.conf", "[global]\n", |_| "a=1\n".into()),
        file_of_lines("invalid.conf", "[global]\n", |_| "x\n".into()),
        file_of_lines("headers.conf", "", |_| "[s]\n".into()),
        file_of_lines("comments.conf", "[global]\n", |_| "#\n".into()),
        file_of_lines("blank.conf", "[global]\n", |_| "\n".into()),
        file_of_lines("keys.conf", "[global]\n", |i| format!("k{i:x}=1\n")),
        file_of_lines("bad-values.conf", "[global]\n", |i| format!("k{i:x}=(\n")),
        file_of_lines("sections.conf", "", |i| format!("[s{i:x}]\n")),
        // As many path sections as a file may have, each with every session setting, then
        // comments: each section is resolved into a whole set of session settings.
        file_of_lines("path-sections.conf", "", |i| {
            match i < limits::MAX_CONFIG_SECTIONS {
                true => format!("[/p{i:x}]\n{EVERY_SESSION_SETTING}"),
                false => "#\n".into(),
            }
        }),
        // The same after values that build as much as the values of a file may: the two
        // budgets filled together.
        file_of_lines("path-sections-and-values.conf", &most_built, |i| {
            match i < limits::MAX_CONFIG_SECTIONS {
                true => format!("[/p{i:x}]\n{EVERY_SESSION_SETTING}"),
                false => "#\n".into(),
            }
        }),
    ];
    // Values as large as a value may be (in tokens, or for names in what they build),
    // repeated to fill the file: each shape makes the most tokens, syntax nodes, built
    // items or warnings (an unknown name warns) its bytes can.
    let most = |tokens_per_item: usize| (limits::MAX_VALUE_TOKENS - 8) / tokens_per_item;
    let values = [
        ("names", "[", "x,", "x]", 100_000),
        ("ints", "[", "1,", "1]", most(2)),
        ("lists", "[", "[],", "[]]", most(3)),
        ("strs", "[", "'',", "'']", most(2)),
        ("parens", "[", "(1),", "(1)]", most(4)),
        ("dict", "{", "1:1,", "1:1}", most(4)),
        ("call", "f(", "x,", "x)", 100_000),
        ("attrs", "[", "x.y,", "x.y]", most(4)),
        ("sum", "", "1+", "1", most(2)),
        ("statements", "1\n ", "x;", "x", most(2)),
        ("lines", "1", "\n x", "", most(3)),
    ];
    let shapes = shapes
        .into_iter()
        .chain(values.map(|(name, open, item, close, n)| {
            let value = format!("{open}{}{close}\n", item.repeat(n));
            file_of_lines(&format!("values-{name}.conf"), "[global]\n", |i| {
                format!("k{i} = {value}")
            })
        }));
    // A session setting as long as a value may be, inherited by as many path sections as
    // a file may have: each section would hold its own copy.
    let mut copied = String::from(
        "[global]\ntools.sessions.on = True\ntools.sessions.storage_type = 'memcached'\n\
         tools.sessions.servers = ['localhost:11211'] * 60000\n",
    );
    for i in 1..limits::MAX_CONFIG_SECTIONS {
        copied.push_str(&format!("[/p{i}]\ntools.sessions.on = True\n"));
    }
    // Displays nested in displays, each level holding a string as long as a value may
    // be: 3 KB that took 3 GB, each level bounded alone.
    let big = "'a' * 16000000";
    let nested = format!(
        "[global]\nk = {}0{}\n",
        format!("[{big}, ").repeat(199),
        "]".repeat(199)
    );
    let shapes = shapes.chain([
        config_file("copied-servers.conf", &copied),
        config_file("nested-displays.conf", &nested),
    ]);
    let budget = 32 * limits::MAX_CONFIG_BYTES;
    for path in shapes {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "config::a_config_at_the_size_limit_takes_a_bounded_multiple_of_its_size",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(MEASURE_FILE, &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}: {stdout}", path.display());
        let grew: usize = stdout
            .lines()
            .find_map(|l| l.split("grew ").nth(1))
            .and_then(|l| l.split(" bytes").next())
            .expect("measured")
            .parse()
            .unwrap();
        eprintln!("{}: {} MiB", path.display(), grew >> 20);
        assert!(
            grew < budget,
            "{}: {} MiB, over {} MiB",
            path.display(),
            grew >> 20,
            budget >> 20
        );
        let _ = std::fs::remove_file(&path);
    }
}
