use super::*;

fn run(text: &str) -> Migration {
    migrate(&SourceFile::new("t.conf", text)).expect("migrates")
}

#[test]
fn modern_file_is_unchanged() {
    let text = "[global]\ntools.sessions.on = True\nserver.socket_port = 8080\n";
    let m = run(text);
    assert!(!m.changed);
    assert_eq!(m.text, text);
}

#[test]
fn keys_are_renamed_in_place_keeping_spacing() {
    let m = run("[global]\nserver.socketPort=8080\nsessionFilter.on = True\n");
    assert!(
        m.text
            .starts_with("[global]\nserver.socket_port=8080\ntools.sessions.on = True\n")
    );
    assert!(m.text.contains("tools.sessions.name = \"sessionID\"\n"));
}

#[test]
fn crlf_is_kept_for_added_lines() {
    let m = run("[global]\r\nsession_filter.on = True\r\n");
    assert_eq!(
        m.text,
        "[global]\r\ntools.sessions.on = True\r\n# cherrypy-config migrate: CherryPy 2.2 defaults this site relied on\r\ntools.sessions.locking = \"explicit\"\r\ntools.sessions.lock_timeout = 30\r\n"
    );
}

#[test]
fn file_without_final_newline_keeps_none() {
    let m = run("[global]\nsession_filter.on = True");
    assert!(
        m.text.ends_with("tools.sessions.lock_timeout = 30"),
        "{}",
        m.text
    );
}

#[test]
fn two_spellings_at_one_node_keep_the_winner() {
    let m = run(
        "[global]\nsession_filter.on = True\nsession_filter.timeout = 30\nsessionFilter.timeout = 90\n",
    );
    assert!(
        m.text
            .contains("# session_filter.timeout = 30  (not used: `sessionFilter.timeout` (line 4)"),
        "{}",
        m.text
    );
    assert!(m.text.contains("\ntools.sessions.timeout = 90\n"));
}

#[test]
fn errors_stop_migrate() {
    let err = migrate(&SourceFile::new(
        "t.conf",
        "[global]\nsessionFilter.on = True\nsessionFilter.storageType = \"RAM\"\n",
    ))
    .unwrap_err();
    assert_eq!(err.diagnostic().line_column().map(|l| l.0), Some(3));
}

#[test]
fn empty_2_0_value_gets_the_key_spacing() {
    let m = run("[session]\nstorageType =\n");
    assert!(
        m.text.starts_with("[global]\ntools.sessions.on = False\n"),
        "{}",
        m.text
    );
}
