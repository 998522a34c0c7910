//! `explain` over every fixture, and the legacy fixtures against the tables of
//! `fixtures/legacy/README.md` (B: effective settings, C: diagnostics), encoded as data.

use std::path::{Path, PathBuf};

mod oracle;
mod support;

use actix_cherrypy::session_config::{Explanation, Setting, StorageConfig, explain_file};

/// In the main crate: `concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")`.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// Table B. Columns: file · era · path · on · storage · storage_path · timeout · locking ·
/// name · clean_freq · lock_timeout · also. `*` = an era (or built-in) default.
const TABLE_B: &str = "
2.0/01-ram-minimal | 2.0 | / | true | ram | null | 60* | explicit* | CherryPySession* | 60* | null* |
2.0/02-file-storage-full | 2.0 | / | true | file | /var/lib/shop/sessions | 120 | explicit* | SHOPSESSION | 30 | null* |
2.0/02-file-storage-full | 2.0 | /static | false | file | /var/lib/shop/sessions | 120 | explicit* | SHOPSESSION | 30 | null* |
2.0/02-file-storage-full | 2.0 | /images | false | file | /var/lib/shop/sessions | 120 | explicit* | SHOPSESSION | 30 | null* |
2.0/03-case-insensitive-keys | 2.0 | / | true | ram | null | 7.5 | explicit* | kiosk | 5 | null* |
2.0/04-configoption-spellings | 2.0 | / | true | file | /var/cache/wiki/sessions | 30 | explicit* | wikiSession | 10 | null* |
2.0/05-session-attribute-spellings | 2.0 | / | true | file | /home/blog/sessions | 1440 | explicit* | blogSession | 0 | null* |
2.0/06-sessions-off | 2.0 | / | false | ram* | null | 60* | explicit* | gallerySession | 60* | null* |
2.0/12-static-url-case | 2.0 | / | true | ram | null | 60* | explicit* | CherryPySession* | 60* | null* |
2.0/12-static-url-case | 2.0 | /static | false | ram | null | 60* | explicit* | CherryPySession* | 60* | null* |
2.0/12-static-url-case | 2.0 | /Static | true | ram | null | 60* | explicit* | CherryPySession* | 60* | null* |
2.0/13-inline-comments | 2.0 | / | true | file | /var/lib/shop/sessions | 90 | explicit* | shopSession | 60* | null* |
2.0/13-inline-comments | 2.0 | /static | false | file | /var/lib/shop/sessions | 90 | explicit* | shopSession | 60* | null* |
2.0/13-inline-comments | 2.0 | /files | false | file | /var/lib/shop/sessions | 90 | explicit* | shopSession | 60* | null* |
2.0/14-empty-values | 2.0 | / | true | ram | null | 60* | explicit* | CherryPySession* | 60* | null* |
2.0/15-quoted-empty-storage | 2.0 | / | false | ram* | null | 60* | explicit* | shopSession | 60* | null* |
2.0/16-interpolation | 2.0 | / | true | file | /srv/shop/sessions | 60* | explicit* | shop% | 60* | null* |
2.0/16-interpolation | 2.0 | /static | false | file | /srv/shop/sessions | 60* | explicit* | shop% | 60* | null* |
2.1/01-on-only | 2.1 | / | true | ram* | null | 60* | explicit* | sessionID* | 5* | 30* |
2.1/02-file-storage-static | 2.1 | / | true | file | /var/lib/ecomap/sessions | 120 | early | ecomapSession | 30 | 10 |
2.1/02-file-storage-static | 2.1 | /css | false | file | /var/lib/ecomap/sessions | 120 | early | ecomapSession | 30 | 10 |
2.1/02-file-storage-static | 2.1 | /images | false | file | /var/lib/ecomap/sessions | 120 | early | ecomapSession | 30 | 10 |
2.1/03-ram-per-path | 2.1 | / | true | ram | null | 60* | explicit* | sessionID* | 5* | 30* |
2.1/03-ram-per-path | 2.1 | /admin | true | ram | null | 15 | explicit* | sessionID* | 5* | 30* |
2.1/03-ram-per-path | 2.1 | /feeds | false | ram | null | 60* | explicit* | sessionID* | 5* | 30* |
2.1/04-capital-Timeout | 2.1 | / | true | ram | null | 30 | explicit* | sessionID* | 5* | 30* |
2.1/05-callbacks | 2.1 | / | true | ram* | null | 45 | explicit* | sessionID* | 5* | 30* |
2.2/01-on-only | 2.2 | / | true | ram* | null | 60* | explicit* | session_id* | 5* | 30* |
2.2/02-turbogears-file | 2.2 | / | true | file | /var/tmp/rollo/sessions | 180 | explicit* | session_id* | 15 | 30* |
2.2/02-turbogears-file | 2.2 | /static | false | file | /var/tmp/rollo/sessions | 180 | explicit* | session_id* | 15 | 30* |
2.2/02-turbogears-file | 2.2 | /favicon.ico | false | file | /var/tmp/rollo/sessions | 180 | explicit* | session_id* | 15 | 30* |
2.2/03-cookie-options | 2.2 | / | true | ram | null | 60* | explicit* | portal_sid | 5* | 30* | domain=.example.org secure=true path=/portal
2.2/04-behind-proxy | 2.2 | / | true | file | /var/lib/tracker/sessions | 60* | early | session_id* | 5* | 5 | path_header=X-Forwarded-Path
2.2/05-callbacks | 2.2 | / | true | ram | null | 60* | explicit* | session_id* | 1 | 30* |
2.2/06-problem-generate-session-id | 2.2 | / | true | ram* | null | 60* | explicit* | session_id* | 5* | 30* |
mixed/01-camelcase-on-2.2 | mixed | / | true | file | /var/tmp/maap-sessions | 60* | explicit* | session_id* | 5* | 30* |
mixed/01-camelcase-on-2.2 | mixed | /static | true | file | /var/tmp/maap-sessions | 60* | explicit* | session_id* | 5* | 30* |
mixed/02-both-spellings-one-node | mixed | / | true | ram* | null | 90 | explicit* | cmsSession | 20 | 30* |
mixed/02-both-spellings-one-node | mixed | /admin | true | ram* | null | 10 | explicit* | cmsSession | 20 | 30* |
mixed/03-tools-sessions-and-legacy | mixed | / | true | ram* | null | 525600 | implicit* | session_id* | 5* | null* |
mixed/04-2.1-session-keys-on-2.2 | mixed | / | true | file | /var/lib/tasty/sessions | 60 | explicit* | session_id* | 5* | 30* |
mixed/04-2.1-session-keys-on-2.2 | mixed | /static | false | file | /var/lib/tasty/sessions | 60 | explicit* | session_id* | 5* | 30* |
mixed/05-2.2-sessions-3.x-engine | mixed | / | true | ram | null | 20 | implicit* | session_id* | 5* | null* |
";

/// Table B's error rows with table C's line, plus the code we give.
const ERRORS: &[(&str, usize, &str)] = &[
    ("2.0/07-problem-storage-case", 8, "legacy-storage-value"),
    ("2.0/08-problem-quoted-values", 9, "legacy-storage-value"),
    ("2.0/09-problem-indented-session", 7, "legacy-refused-line"),
    ("2.1/06-problem-postgresql", 8, "postgresql-storage"),
    ("2.1/07-problem-RAM", 8, "legacy-storage-case"),
    ("2.1/08-problem-storage-class", 8, "legacy-storage-class"),
    ("2.2/07-problem-postgresql", 11, "postgresql-storage"),
    ("2.2/08-problem-storage-class", 7, "legacy-storage-class"),
];

/// Table C's warnings (for files that load), with the code we give.
const WARNINGS: &[(&str, &[usize], &str)] = &[
    (
        "2.0/02-file-storage-full",
        &[16],
        "file-storage-explicit-locking",
    ),
    (
        "2.0/04-configoption-spellings",
        &[10, 11, 12, 13, 14],
        "legacy-attribute-spelling",
    ),
    (
        "2.0/04-configoption-spellings",
        &[10],
        "file-storage-explicit-locking",
    ),
    (
        "2.0/05-session-attribute-spellings",
        &[9, 10, 12, 14, 15],
        "legacy-attribute-spelling",
    ),
    (
        "2.0/05-session-attribute-spellings",
        &[9],
        "file-storage-explicit-locking",
    ),
    ("2.0/14-empty-values", &[11, 12], "legacy-empty-number"),
    ("2.1/04-capital-Timeout", &[10], "legacy-capital-timeout"),
    ("2.1/05-callbacks", &[10, 11], "legacy-callback"),
    (
        "2.2/02-turbogears-file",
        &[12],
        "file-storage-explicit-locking",
    ),
    ("2.2/05-callbacks", &[9, 10, 12], "legacy-callback"),
    (
        "2.2/06-problem-generate-session-id",
        &[8],
        "legacy-generate-session-id",
    ),
    (
        "mixed/01-camelcase-on-2.2",
        &[12],
        "file-storage-explicit-locking",
    ),
    (
        "mixed/03-tools-sessions-and-legacy",
        &[15, 16],
        "legacy-key-ignored-by-cherrypy3",
    ),
    ("mixed/03-tools-sessions-and-legacy", &[16], "shadowed-key"),
    (
        "mixed/04-2.1-session-keys-on-2.2",
        &[11],
        "file-storage-explicit-locking",
    ),
    (
        "mixed/05-2.2-sessions-3.x-engine",
        &[10, 11, 12],
        "legacy-key-ignored-by-cherrypy3",
    ),
];

fn legacy(name: &str) -> PathBuf {
    Path::new(FIXTURES)
        .join("legacy")
        .join(format!("{name}.conf"))
}

fn explain(name: &str, path: &str) -> Explanation {
    explain_file(legacy(name), path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Checks a value and whether it came from a default (`*`).
fn check<T>(row: &str, column: &str, setting: &Setting<T>, shown: String, expected: &str) {
    let (want, is_default) = match expected.strip_suffix('*') {
        Some(v) => (v, true),
        None => (expected, false),
    };
    assert_eq!(shown, want, "{row}: {column}");
    assert_eq!(
        setting.origin.is_default(),
        is_default,
        "{row}: {column} origin {}",
        setting.origin
    );
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "null".into())
}

#[test]
fn table_b_effective_settings() {
    let mut rows = 0;
    for line in TABLE_B.lines().filter(|l| !l.trim().is_empty()) {
        let c: Vec<&str> = line.split('|').map(str::trim).collect();
        let row = format!("{} {}", c[0], c[2]);
        let e = explain(c[0], c[2]);
        let s = &e.session;
        assert_eq!(e.era.label(), c[1], "{row}: era");
        check(&row, "on", &s.on, s.on.value.to_string(), c[3]);
        check(
            &row,
            "storage",
            &s.storage,
            s.storage.value.as_str().into(),
            c[4],
        );
        // A storage path is an option of the file store only.
        let storage_path = match &s.storage.value {
            StorageConfig::File { path, .. } => opt(&path.value),
            _ => "null".to_owned(),
        };
        assert_eq!(storage_path, c[5], "{row}: storage_path");
        check(
            &row,
            "timeout",
            &s.timeout,
            s.timeout.value.to_string(),
            c[6],
        );
        check(
            &row,
            "locking",
            &s.locking,
            s.locking.value.as_str().into(),
            c[7],
        );
        check(&row, "name", &s.name, s.name.value.clone(), c[8]);
        check(
            &row,
            "clean_freq",
            &s.clean_freq,
            s.clean_freq.value.to_string(),
            c[9],
        );
        let lt = s
            .lock_timeout
            .value
            .map_or("null".into(), |v| v.to_string());
        check(&row, "lock_timeout", &s.lock_timeout, lt, c[10]);
        // "persistent is false for every 2.0 row and true for every other row".
        assert_eq!(
            s.persistent.value,
            !c[0].starts_with("2.0/"),
            "{row}: persistent"
        );
        let mut also = std::collections::HashMap::new();
        for kv in c[11].split_whitespace() {
            let (k, v) = kv.split_once('=').unwrap();
            also.insert(k, v);
        }
        let get = |k: &str| also.get(k).map_or("null".to_owned(), |v| v.to_string());
        assert_eq!(opt(&s.domain.value), get("domain"), "{row}: domain");
        assert_eq!(opt(&s.path.value), get("path"), "{row}: path");
        assert_eq!(
            opt(&s.path_header.value),
            get("path_header"),
            "{row}: path_header"
        );
        assert_eq!(
            s.secure.value,
            also.get("secure") == Some(&"true"),
            "{row}: secure"
        );
        assert!(!s.httponly.value && s.samesite.value.is_none());
        // No row is a memcached store; `explain` still shows the servers' default.
        assert!(
            e.to_text()
                .contains("servers = [\"localhost:11211\"]    (built-in default)\n"),
            "{row}: servers"
        );
        rows += 1;
    }
    assert_eq!(rows, 43);
}

#[test]
fn table_c_errors_are_located() {
    for (name, line, code) in ERRORS {
        let err = explain_file(legacy(name), "/").expect_err(name);
        let d = err.diagnostic();
        assert_eq!(d.code, *code, "{name}: {d}");
        assert_eq!(d.line_column().map(|(l, _)| l), Some(*line), "{name}: {d}");
    }
}

#[test]
fn table_c_warnings_are_located() {
    for (name, lines, code) in WARNINGS {
        let e = explain(name, "/");
        for line in *lines {
            assert!(
                e.warnings
                    .iter()
                    .any(|d| d.code == *code && d.line_column().map(|(l, _)| l) == Some(*line)),
                "{name}: no {code} at line {line}; got:\n{}",
                e.to_text()
            );
        }
    }
}

#[test]
fn file_storage_with_early_locking_is_not_a_trap() {
    for name in ["2.1/02-file-storage-static", "2.2/04-behind-proxy"] {
        let e = explain(name, "/");
        // Only the "this is the 2.x name of …" notes, which every legacy key gets.
        let other: Vec<_> = e
            .warnings
            .iter()
            .filter(|d| d.code != "legacy-name")
            .collect();
        assert!(other.is_empty(), "{name}: {other:?}");
    }
}

#[test]
fn every_legacy_key_names_its_modern_spelling() {
    let e = explain("2.1/03-ram-per-path", "/");
    let lines: Vec<usize> = e
        .warnings
        .iter()
        .filter(|d| d.code == "legacy-name")
        .filter_map(|d| d.line_column().map(|(l, _)| l))
        .collect();
    assert_eq!(lines, [8, 9, 13, 17]);
    assert!(e.warnings[0].message.contains("tools.sessions.on"));
}

fn conf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            conf_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "conf") {
            out.push(path);
        }
    }
}

#[test]
fn explain_runs_over_every_fixture() {
    let mut files = Vec::new();
    conf_files(&Path::new(FIXTURES).join("legacy"), &mut files);
    conf_files(&Path::new(FIXTURES).join("valid"), &mut files);
    files.push(Path::new(FIXTURES).join("site.conf"));
    files.sort();
    assert!(files.len() > 40);
    for file in &files {
        for path in ["/", "/admin/x", "/static/a.css", ""] {
            match explain_file(file, path) {
                Ok(e) => {
                    let json = e.to_json();
                    assert_eq!(json["session"].as_object().unwrap().len(), 16);
                    assert_eq!(e.to_text().lines().count(), 18 + e.warnings.len());
                }
                Err(err) => assert!(
                    err.diagnostic().location.is_some(),
                    "{}: {err}",
                    file.display()
                ),
            }
        }
    }
}

#[test]
fn site_conf_per_path() {
    let site = Path::new(FIXTURES).join("site.conf");
    let admin = explain_file(&site, "/admin/users").unwrap();
    assert_eq!(admin.era.label(), "3.x");
    assert_eq!(admin.session.name.value, "admin_session_id");
    assert_eq!(admin.session.timeout.value.to_string(), "15");
    assert_eq!(admin.session.timeout.origin.line(), Some(45));
    let stat = explain_file(&site, "/static/app.css").unwrap();
    assert!(!stat.session.on.value);
    let root = explain_file(&site, "/").unwrap();
    assert!(root.session.on.value);
    assert_eq!(root.session.on.origin.line(), Some(37));
}

/// The real-world corpus next to the repo: every file gives settings or a located error,
/// and what each gives is pinned in a snapshot (a change in how any real config reads
/// shows up in review).
#[test]
fn explain_runs_over_the_real_corpus() {
    let _snapshots = support::snapshots_of("session_config");
    use std::fmt::Write;
    let Some(dir) = oracle::corpus_or_skip("explain_runs_over_the_real_corpus") else {
        return;
    };
    let files = oracle::conf_files(&dir);
    assert!(files.len() >= 60, "only {} corpus files", files.len());
    let mut summary = String::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        match explain_file(file, "/") {
            Ok(e) => {
                let s = &e.session;
                writeln!(
                    summary,
                    "{name}: {} on={} storage={} timeout={} locking={} warnings={}",
                    e.era.label(),
                    s.on.value,
                    s.storage.value.as_str(),
                    s.timeout.value,
                    s.locking.value.as_str(),
                    e.warnings.len()
                )
                .unwrap();
            }
            Err(err) => {
                let d = err.diagnostic();
                let location = d.location.as_ref().unwrap_or_else(|| panic!("{name}: {d}"));
                let (line, _) = location.line_column();
                writeln!(summary, "{name}: error {} at line {line}", d.code).unwrap();
            }
        }
    }
    insta::assert_snapshot!(summary);
}

/// A cherrys site's config, unchanged: `explain` shows the Redis store with each of
/// cherrys' options, the written ones at their line and the rest as cherrys' defaults.
#[test]
fn explain_shows_cherrys_options_and_defaults() {
    let dir = std::env::temp_dir().join(format!(
        "actix-cherrypy-explain-cherrys-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("site.conf");
    std::fs::write(
        &file,
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_class = cherrys.RedisSession\ntools.sessions.prefix = 'session:'\ntools.sessions.password = 'secret'\n",
    )
    .unwrap();
    let text = explain_file(&file, "/").unwrap().to_text();
    let name = file.display().to_string();
    let redis_rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("url = "))
        .take_while(|l| !l.starts_with("debug = "))
        .collect();
    assert_eq!(
        redis_rows.join("\n").replace(&name, "site.conf"),
        "url = null    (cherrys default)
host = \"127.0.0.1\"    (cherrys default)
port = 6379    (cherrys default)
db = 0    (cherrys default)
user = null    (cherrys default)
password = \"********\"    (site.conf:5 [/] tools.sessions.password)
prefix = \"session:\"    (site.conf:4 [/] tools.sessions.prefix)
lock_prefix = \"lock_\"    (cherrys default)
ssl = false    (cherrys default)
tls_skip_verify = false    (cherrys default)
is_sentinel = false    (cherrys default)
sentinel_pass = null    (cherrys default)
sentinel_service = null    (cherrys default)"
    );
    assert!(
        text.contains(
            "storage = \"redis\"    (site.conf:3 [/] tools.sessions.storage_class)"
                .replace("site.conf", &name)
                .as_str()
        ),
        "{text}"
    );
    // Not the warning of `storage_type = "redis"`: with cherrys installed, CherryPy runs it.
    assert!(!text.contains("extension"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
