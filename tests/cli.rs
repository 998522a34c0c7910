//! The `cherrypy-config` command as a user runs it: exit codes, `dump` text and rendered
//! diagnostics (snapshots, reviewed like UI text), and every invalid fixture's location.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value as Json;

mod servers;
mod support;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cherrypy-config"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Paths relative to the repository, as a user would type them.
fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn dump_text_of_every_valid_fixture() {
    let _snapshots = support::snapshots_of("cli");
    insta::glob!("../fixtures", "valid/*.conf", |path| {
        let file = relative(path);
        let out = run(&["dump", &file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {stderr}");
        // `os.getcwd()` reads as the working directory, which is the repository's here.
        let stdout = String::from_utf8_lossy(&out.stdout);
        insta::assert_snapshot!(stdout.replace(env!("CARGO_MANIFEST_DIR"), "[CWD]"));
    });
}

#[test]
fn check_output_of_every_fixture() {
    let _snapshots = support::snapshots_of("cli");
    insta::glob!("../fixtures", "{valid,invalid,legacy/*}/*.conf", |path| {
        let file = relative(path);
        let out = run(&["check", &file]);
        let code = out.status.code().expect("exited");
        // Valid fixtures are valid for CherryPy's reader; a few hold session settings that
        // cannot work (`timeout = "60"`), so their exit code is part of the snapshot.
        if file.contains("/invalid/") {
            assert_eq!(code, 1, "{file}");
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.replace(env!("CARGO_MANIFEST_DIR"), "[CWD]");
        insta::assert_snapshot!(format!("exit {code}\n{stderr}"));
    });
}

/// `fixtures/expected-errors.tsv`: `name, code, line, column` for every file in `fixtures/invalid/`.
#[test]
fn every_invalid_fixture_is_located() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("fixtures/expected-errors.tsv")).unwrap();
    let mut listed = Vec::new();
    for row in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = row.split('\t').collect();
        let [name, code, line, column] = cols[..] else {
            panic!("bad row {row:?}");
        };
        let file = &format!("fixtures/invalid/{name}");
        let out = run(&["dump", "--format", "json", file]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let json: Json = serde_json::from_slice(&out.stdout).expect("one JSON object");
        let error = &json["error"];
        assert_eq!(error["code"], code, "{file}: {error}");
        assert_eq!(error["line"].to_string(), line, "{file}: {error}");
        assert_eq!(error["column"].to_string(), column, "{file}: {error}");
        // `check --format json`: one object per line, the same error among them.
        let out = run(&["check", "--format", "json", file]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let diagnostics: Vec<Json> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect();
        assert!(
            diagnostics.iter().any(|d| d["code"] == code
                && d["severity"] == "error"
                && d["file"] == file.as_str()
                && d["line"].as_u64().map(|l| l.to_string()).as_deref() == Some(line)),
            "{file}: {diagnostics:?}"
        );
        listed.push(file.clone());
    }
    for entry in std::fs::read_dir(root.join("fixtures/invalid")).unwrap() {
        let file = relative(&entry.unwrap().path());
        assert!(
            listed.contains(&file),
            "{file} is not in fixtures/expected-errors.tsv"
        );
    }
}

#[test]
fn exit_codes() {
    assert_eq!(run(&["check", "fixtures/site.conf"]).status.code(), Some(0));
    assert_eq!(
        run(&["check", "fixtures/no-such-file.conf"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["check"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    // The worst outcome over all files wins.
    let both = run(&[
        "check",
        "fixtures/site.conf",
        "fixtures/invalid/duplicate-option.conf",
    ]);
    assert_eq!(both.status.code(), Some(1));
}

/// `check` draws in colour with `--color always` (and on a terminal unless `NO_COLOR` is
/// set); into a pipe, as here, it is plain. The coloured text is the plain text plus escape
/// codes: the same words, the same snippet.
#[test]
fn colour_is_asked_for_or_on_a_terminal() {
    let file = "fixtures/invalid/duplicate-option.conf";
    let plain = run(&["check", file]);
    let plain = String::from_utf8(plain.stderr).unwrap();
    assert!(!plain.contains('\x1b'), "{plain}");
    let never = run(&["check", "--color", "never", file]);
    assert_eq!(String::from_utf8(never.stderr).unwrap(), plain);
    let always = run(&["check", "--color", "always", file]);
    let always = String::from_utf8(always.stderr).unwrap();
    assert!(always.contains("\x1b["), "{always}");
    let stripped = strip_ansi(&always);
    assert_eq!(stripped, plain);
}

/// Removes ANSI SGR sequences (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn dump_json_is_one_line_per_file() {
    let out = run(&[
        "dump",
        "--format",
        "json",
        "fixtures/site.conf",
        "fixtures/invalid/duplicate-option.conf",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[0]["file"], "fixtures/site.conf");
    assert_eq!(lines[1]["ok"], false);
}

/// Shell completions and the manual page come from the same command definition.
#[test]
fn completions_and_man_page() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(
        script.contains("cherrypy-config") && script.contains("migrate"),
        "{script}"
    );
    let man = run(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH"), "{page}");
    assert!(page.contains("check"), "{page}");
}

/// `check --startup` refuses what the middleware refuses at startup on this machine, in
/// the same words: here a storage directory that does not exist. Without `--startup` the
/// file alone is checked (it may be meant for another machine).
#[test]
fn check_agrees_with_the_middleware_on_the_storage_directory() {
    let conf = servers::temp_dir("cli").join("missing-dir.conf");
    std::fs::write(
        &conf,
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'file'\n\
         tools.sessions.storage_path = '/nonexistent/actix-cherrypy'\n",
    )
    .unwrap();
    let conf_arg = conf.to_str().unwrap();
    assert_eq!(run(&["check", conf_arg]).status.code(), Some(0));
    let out = run(&["check", "--startup", "--format", "json", conf_arg]);
    assert_eq!(out.status.code(), Some(1));
    let line = String::from_utf8(out.stdout).unwrap();
    let d: Json = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(d["code"], "storage-path", "{d}");
    assert_eq!(d["line"], 4, "{d}");
    let app = actix_cherrypy::middleware::CherryPySessions::from_file(&conf).unwrap_err();
    assert_eq!(d["message"], app.diagnostic().message.as_str());
}

/// What startup warns of on this machine is in `check --startup` too, located and in the
/// same words as the log: here a session directory every user may write, with the sticky
/// bit (it was only a line in the log, without the config's line or a code).
#[cfg(unix)]
#[test]
fn check_warns_as_the_middleware_does_of_a_shared_storage_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = servers::temp_dir("cli-shared");
    let sessions = dir.join("sessions");
    std::fs::create_dir(&sessions).unwrap();
    std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let conf = dir.join("shared-dir.conf");
    std::fs::write(
        &conf,
        format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'file'\n\
             tools.sessions.storage_path = {:?}\n",
            sessions.display().to_string()
        ),
    )
    .unwrap();
    let app = actix_cherrypy::middleware::CherryPySessions::from_file(&conf).unwrap();
    let warning = app
        .warnings()
        .iter()
        .find(|d| d.code == "storage-path-shared")
        .expect("warned");
    assert_eq!(warning.line_column().map(|(line, _)| line), Some(4));
    let conf_arg = conf.to_str().unwrap();
    let out = run(&["check", "--startup", conf_arg]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(&warning.to_string()), "{stderr}");
    let quiet = String::from_utf8(run(&["check", conf_arg]).stderr).unwrap();
    assert!(!quiet.contains("storage-path-shared"), "{quiet}");
    std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// For a config of session settings, `check` says what the middleware logs at startup,
/// line for line, and nothing beside it: a 2.1 name is read as 2.1 read it (not also
/// "unknown to CherryPy; ignored"), and a setting's own warning stands for the value's.
#[test]
fn check_warns_of_what_startup_logs_and_of_nothing_else() {
    for path in [
        "fixtures/legacy/2.1/01-on-only.conf",
        "fixtures/legacy/2.1/03-ram-per-path.conf",
        "fixtures/legacy/2.1/04-capital-Timeout.conf",
        "fixtures/legacy/2.1/05-callbacks.conf",
        "fixtures/legacy/2.1/09-static-off-with-comment.conf",
        "fixtures/legacy/2.2/01-on-only.conf",
        "fixtures/legacy/2.2/03-cookie-options.conf",
        "fixtures/legacy/2.2/05-callbacks.conf",
        "fixtures/legacy/2.2/06-problem-generate-session-id.conf",
        "fixtures/legacy/2.2/10-problem-interpolation-of-renamed-key.conf",
        "fixtures/legacy/mixed/02-both-spellings-one-node.conf",
        "fixtures/legacy/mixed/03-tools-sessions-and-legacy.conf",
        "fixtures/legacy/mixed/05-2.2-sessions-3.x-engine.conf",
        "fixtures/legacy/mixed/06-problem-default-outranked.conf",
    ] {
        let app = actix_cherrypy::middleware::CherryPySessions::from_file(path).unwrap();
        let stderr = String::from_utf8(run(&["check", path]).stderr).unwrap();
        let printed: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with(path) && l.contains(": warning: "))
            .collect();
        let logged: Vec<String> = app.warnings().iter().map(|d| d.to_string()).collect();
        assert_eq!(printed, logged, "{path}");
        assert!(!logged.is_empty(), "{path}");
    }
}

/// `dump` prints each section's values, the `[DEFAULT]` ones it inherits included: a file
/// of a few hundred bytes (one long `[DEFAULT]` string, many sections) would print
/// gigabytes. Past its budget it stops with an error.
#[test]
fn a_dump_of_inherited_long_values_stops_at_its_budget() {
    let conf = servers::temp_dir("cli-dump").join("inherited.conf");
    let sections: String = (0..40).map(|i| format!("[s{i}]\n")).collect();
    std::fs::write(
        &conf,
        format!("[DEFAULT]\nbig = 'a' * 16000000\n{sections}"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cherrypy-config"))
        .args(["dump", "--format", "json"])
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("the dump is longer than 256 MiB"),
        "{stderr}"
    );
}
