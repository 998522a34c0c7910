//! CherryPy's config model: the per-path merge of the dispatcher, `environment` presets,
//! several files, and the checker's namespace warnings.

use actix_cherrypy::config::SourceFile;
use actix_cherrypy::config::{Config, ConfigError, Origin, Settings};
use actix_cherrypy::unrepr::Value;
use actix_cherrypy::{Diagnostic, Loaded};

fn load(text: &str) -> Result<Loaded<Config>, ConfigError> {
    let source = SourceFile::new("t.conf", text);
    let report = actix_cherrypy::config::read_source(&source);
    if let Some(error) = report.first_error() {
        return Err(error.clone().into());
    }
    Config::from_files(&[report.file.unwrap()])
}

fn int(settings: &Settings, key: &str) -> Option<String> {
    settings.get(key).map(|v| v.value.python_repr())
}

#[test]
fn a_path_gets_global_then_each_prefix_then_index() {
    let loaded = Config::load(&["fixtures/valid/path-sections.conf"]).unwrap();
    let config = loaded.value;
    let timeout = |path: &str| int(&config.for_path(path), "tools.sessions.timeout");
    assert_eq!(timeout("/"), None);
    assert_eq!(timeout("/other"), None);
    assert_eq!(timeout("/admin"), Some("15".into()));
    assert_eq!(timeout("/admin/"), Some("15".into()));
    assert_eq!(timeout("/admin/x/y"), Some("15".into()));
    assert_eq!(timeout("/admin/users"), Some("5".into()));
    assert_eq!(timeout("/admin//users/"), Some("5".into()));
    // `[/admin/]` never matches: CherryPy builds `/admin`, then `/admin/index`.
    assert!(config.for_path("/admin/").get("app.note").is_none());
    // Global settings are the base of every path.
    assert_eq!(
        int(&config.for_path("/admin/users"), "server.socket_port"),
        Some("8080".into())
    );
    assert_eq!(
        int(&config.for_path("/a b"), "app.space"),
        Some("True".into())
    );
}

#[test]
fn the_implicit_index_segment_has_a_section_too() {
    let config = load("[/]\nx = 1\n[/index]\nx = 2\n[/a/index]\nx = 3\n")
        .unwrap()
        .value;
    assert_eq!(int(&config.for_path("/"), "x"), Some("2".into()));
    assert_eq!(int(&config.for_path("/a"), "x"), Some("3".into()));
    assert_eq!(int(&config.for_path("/b"), "x"), Some("1".into()));
}

#[test]
fn environment_adds_the_preset_keys_the_file_does_not_set() {
    let loaded = Config::load(&["fixtures/valid/environment-presets.conf"]).unwrap();
    let global = loaded.value.global();
    let keys: Vec<_> = global
        .iter()
        .map(|(k, v)| format!("{k}={}", v.value.python_repr()))
        .collect();
    // CherryPy 18.10's `_cpconfig.environments["production"]`, after the file's own keys.
    assert_eq!(
        keys,
        [
            "environment='production'",
            "log.screen=True",
            "server.socket_port=8080",
            "engine.autoreload.on=False",
            "checker.on=False",
            "tools.log_headers.on=False",
            "request.show_tracebacks=False",
            "request.show_mismatched_params=False",
        ]
    );
    let origin = &global.get("checker.on").unwrap().origin;
    assert!(matches!(origin, Origin::Environment { preset, .. } if preset == "production"));
    assert_eq!(
        origin.place().position(),
        "fixtures/valid/environment-presets.conf:4:1"
    );
}

#[test]
fn embedded_and_test_suite_presets() {
    let g = load("[global]\nenvironment = 'embedded'\n").unwrap().value;
    assert_eq!(g.global().get("engine.SIGTERM").unwrap().value, Value::None);
    let t = load("[global]\nenvironment = 'test_suite'\n")
        .unwrap()
        .value;
    assert_eq!(
        t.global().get("request.show_tracebacks").unwrap().value,
        Value::Bool(true)
    );
    // An empty environment adds nothing, as in CherryPy (`if which_env:`).
    let e = load("[global]\nenvironment = ''\n").unwrap().value;
    assert_eq!(e.global().len(), 1);
}

#[test]
fn an_unknown_environment_is_a_located_error() {
    let err = load("[global]\nserver.socket_port = 80\nenvironment = 'development'\n").unwrap_err();
    let d: &Diagnostic = err.diagnostic();
    assert_eq!(d.code, "unknown-environment");
    assert_eq!(d.line_column(), Some((3, 15)));
    insta::assert_snapshot!(d.to_string(), @r#"t.conf:3:15: error: [global] environment: unknown environment "development"; CherryPy knows staging, production, embedded, test_suite [unknown-environment]"#);
}

#[test]
fn later_files_win_key_by_key() {
    let dir = std::env::temp_dir().join(format!("cherrypy-config-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.conf");
    let b = dir.join("b.conf");
    std::fs::write(&a, "[global]\nx = 1\ny = 1\n[/]\nz = 1\n").unwrap();
    std::fs::write(&b, "[global]\ny = 2\n[/]\nz = 2\nw = 2\n").unwrap();
    let config = Config::load(&[&a, &b]).unwrap().value;
    let global: Vec<_> = config
        .global()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.value.python_repr()))
        .collect();
    assert_eq!(global, ["x=1", "y=2"]);
    assert_eq!(int(&config.for_path("/"), "z"), Some("2".into()));
    assert_eq!(int(&config.for_path("/"), "w"), Some("2".into()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn namespace_warnings_follow_cherrypy_checker() {
    let loaded = load(
        "[global]\nfoo.bar = 1\nplain = 2\n[/]\ntools.nosuchtool.on = True\ncherrypy.response.timeout = 3\nserver.socket_port = 80\n[app]\nfoo.x = 1\n",
    )
    .unwrap();
    let found: Vec<_> = loaded
        .warnings
        .iter()
        .map(|d| format!("{}:{}", d.code, d.line_column().unwrap().0))
        .collect();
    assert_eq!(
        found,
        [
            "unknown-namespace:2",
            "unknown-tool:5",
            "unknown-namespace:6",
            "global-only-namespace:7"
        ]
    );
}

#[test]
fn the_first_error_stops_loading() {
    let err = Config::load(&[
        "fixtures/site.conf",
        "fixtures/invalid/duplicate-option.conf",
    ])
    .unwrap_err();
    assert_eq!(err.diagnostic().code, "duplicate-option");
    let err = Config::load(&["fixtures/no-such.conf"]).unwrap_err();
    assert_eq!(err.diagnostic().code, "io");
}
