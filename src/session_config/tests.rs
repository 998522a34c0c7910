use crate::config::{Config, ConfigError, read_source};
use crate::source::SourceFile;
use crate::{Diagnostic, Loaded};

use super::keys::{did_you_mean, edit_distance, lower_to_camel};
use super::*;

fn load(text: &str) -> Result<Loaded<SessionConfigs>, ConfigError> {
    SessionConfigs::from_sources(&[SourceFile::new("t.conf", text)])
}

fn ok(text: &str) -> Loaded<SessionConfigs> {
    load(text).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> Diagnostic {
    load(text).expect_err("an error").into_diagnostic()
}

fn line(d: &Diagnostic) -> usize {
    d.line_column().unwrap().0
}

/// The Redis options of a config whose storage is Redis.
fn redis(s: &SessionConfig) -> &RedisConfig {
    match &s.storage.value {
        StorageConfig::Redis(redis) => redis,
        other => panic!("not Redis: {other:?}"),
    }
}

/// `explain`'s value for the row `name` (a store option as written, whatever the storage).
fn row(s: &SessionConfig, name: &str) -> serde_json::Value {
    s.explain_rows()
        .into_iter()
        .find(|row| row.name == name)
        .unwrap_or_else(|| panic!("no row {name}"))
        .value
}

fn warning<'a>(loaded: &'a Loaded<SessionConfigs>, code: &str) -> &'a Diagnostic {
    loaded
        .warnings
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", loaded.warnings))
}

#[test]
fn defaults_are_cherrypy_18s() {
    let loaded = ok("[global]\nserver.socket_port = 8080\n");
    let s = loaded.value.root();
    assert_eq!(loaded.value.era().label(), "3.x");
    assert!(!s.on.value);
    assert_eq!(s.storage.value.kind(), StorageKind::Ram);
    assert_eq!(s.timeout.value, Minutes::int(60));
    assert_eq!(s.locking.value, LockingMode::Implicit);
    assert_eq!(s.name.value, "session_id");
    assert!(s.persistent.value && !s.secure.value && !s.httponly.value && !s.debug.value);
    assert_eq!(s.clean_freq.value, Minutes::int(5));
    assert_eq!(s.lock_timeout.value, None);
    assert_eq!(row(s, "servers"), serde_json::json!(["localhost:11211"]));
    assert_eq!(s.on.origin, SettingOrigin::BuiltinDefault);
}

#[test]
fn quoted_false_is_on_with_a_warning() {
    let loaded = ok("[global]\n\ntools.sessions.on = \"False\"\n");
    assert!(loaded.value.root().on.value);
    let d = warning(&loaded, codes::QUOTED_BOOL);
    assert_eq!(line(d), 3);
    assert_eq!(d.help.as_deref(), Some("write False without quotes"));
}

#[test]
fn locking_is_compared_exactly() {
    let loaded = ok("[global]\ntools.sessions.locking = 'Implicit'\n");
    assert_eq!(loaded.value.root().locking.value, LockingMode::Explicit);
    let d = warning(&loaded, codes::LOCKING_NOT_RECOGNISED);
    assert_eq!(d.help.as_deref(), Some("did you mean \"implicit\"?"));
    let early = ok("[global]\ntools.sessions.locking = 'early'\n");
    assert_eq!(early.value.root().locking.value, LockingMode::Early);
    assert!(early.warnings.is_empty());
}

#[test]
fn unknown_session_keys_are_accepted_with_did_you_mean() {
    let loaded = ok("[global]\ntools.sessions.timout = 30\ntools.sessions.pickle_protocol = 2\n");
    assert_eq!(loaded.value.root().timeout.value, Minutes::int(60));
    let unknown: Vec<_> = loaded
        .warnings
        .iter()
        .filter(|d| d.code == codes::UNKNOWN_SESSION_KEY)
        .collect();
    assert_eq!(unknown.len(), 2);
    assert_eq!(unknown[0].help.as_deref(), Some("did you mean `timeout`?"));
    assert_eq!(unknown[1].help, None);
}

#[test]
fn values_that_cannot_work_are_located_errors() {
    let d = err("[global]\ntools.sessions.timeout = \"60\"\n");
    assert_eq!((d.code, line(&d)), (codes::QUOTED_NUMBER, 2));
    assert_eq!(d.help.as_deref(), Some("remove the quotes: 60"));

    let d = err("[global]\ntools.sessions.storage_type = ram\n");
    assert_eq!(d.code, codes::UNRESOLVED_NAME);
    assert_eq!(d.help.as_deref(), Some("write it as a string: \"ram\""));
    assert_eq!(d.line_column(), Some((2, 31)));

    let d = err("[global]\ntools.sessions.storage_type = \"memcache\"\n");
    assert_eq!(d.code, codes::UNKNOWN_STORAGE);
    assert_eq!(d.help.as_deref(), Some("did you mean \"memcached\"?"));

    let d = err("[global]\ntools.sessions.storage_type = \"postgresql\"\n");
    assert_eq!(d.code, codes::POSTGRESQL_STORAGE);

    let d = err("[/]\ntools.sessions.on = True\ntools.sessions.storage_type = \"file\"\n");
    assert_eq!((d.code, line(&d)), (codes::FILE_STORAGE_WITHOUT_PATH, 3));

    let d = err("[global]\ntools.sessions.timeout = None\n");
    assert_eq!(d.code, codes::VALUE_TYPE);

    let d = err("[global]\ntools.sessions.samesite = 'sometimes'\n");
    assert_eq!(d.code, codes::SAMESITE_VALUE);
}

/// CherryPy reads the session tool's settings only where the tool runs: a value it could
/// not use, where the file turns sessions off, is a warning (the site runs under CherryPy;
/// `tests/conformance.rs` serves one). Where sessions may be on, including where the file
/// leaves them to the application's code, it stays an error.
#[test]
fn a_bad_setting_only_paths_with_sessions_off_read_is_a_warning() {
    let bad = "tools.sessions.timeout = 'abc'\n";
    let off = "tools.sessions.on = False\n";
    let on = "tools.sessions.on = True\n";
    let warned = |text: &str| {
        let loaded = ok(text);
        let d = &loaded.warnings[0];
        assert_eq!(d.code, codes::VALUE_TYPE, "{text}");
        assert!(d.message.contains("turns sessions off"), "{}", d.message);
    };
    warned(&format!("[/]\n{on}[/static]\n{off}{bad}"));
    warned(&format!("[/]\n{off}{bad}"));
    warned(&format!("[DEFAULT]\n{bad}[/]\n{off}"));
    warned(&format!("[global]\n{bad}[/]\n{off}[/a]\n{off}"));
    // Read where sessions are on below the section that turns them off.
    assert_eq!(
        err(&format!("[/a]\n{off}{bad}[/a/b]\n{on}")).code,
        codes::VALUE_TYPE
    );
    // Read by a path that turns them on.
    assert_eq!(
        err(&format!("[DEFAULT]\n{bad}[/]\n{off}[/a]\n{on}")).code,
        codes::VALUE_TYPE
    );
    // Not turned off in the file: the application may turn them on.
    assert_eq!(err(&format!("[global]\n{bad}")).code, codes::VALUE_TYPE);
    // What CherryPy meets reading the file, whatever is on: a name it cannot import, a
    // call it runs (CherryPy 18.10 refuses to load both).
    for value in ["xyzzy", "int('x')", "datetime.timedelta(days=1e12)"] {
        let text = format!("[/]\n{on}[/static]\n{off}tools.sessions.timeout = {value}\n");
        assert!(load(&text).is_err(), "{text}");
    }
    // A section no request path reaches is never read either, for another reason.
    let loaded = ok(&format!("[/]\n{on}[/admin/]\n{bad}"));
    assert!(
        loaded.warnings[0]
            .message
            .contains("no request path reaches")
    );
}

#[test]
fn file_storage_without_a_path_is_fine_where_sessions_are_off() {
    let loaded = ok(
        "[global]\ntools.sessions.storage_type = \"file\"\n[/app]\ntools.sessions.on = True\ntools.sessions.storage_path = \"/tmp/s\"\n",
    );
    let app = loaded.value.session_for_path("/app/x");
    assert_eq!(app.storage.value.kind(), StorageKind::File);
    assert!(!loaded.value.root().on.value);
}

#[test]
fn storage_type_is_case_insensitive_and_beats_storage_class() {
    let loaded = ok("[global]\ntools.sessions.storage_type = \"RAM\"\n");
    assert_eq!(loaded.value.root().storage.value.kind(), StorageKind::Ram);

    let loaded =
        ok("[global]\ntools.sessions.storage_class = cherrypy.lib.sessions.MemcachedSession\n");
    assert_eq!(
        loaded.value.root().storage.value.kind(),
        StorageKind::Memcached
    );

    let loaded = ok(
        "[global]\ntools.sessions.storage_class = cherrypy.lib.sessions.FileSession\ntools.sessions.storage_type = \"ram\"\n",
    );
    assert_eq!(loaded.value.root().storage.value.kind(), StorageKind::Ram);
    assert_eq!(
        line(warning(&loaded, codes::STORAGE_TYPE_OVERRIDES_CLASS)),
        2
    );

    // A false storage_type leaves storage_class in charge (18.x).
    let loaded = ok(
        "[global]\ntools.sessions.storage_class = cherrypy.lib.sessions.FileSession\ntools.sessions.storage_type = None\ntools.sessions.storage_path = '/s'\n",
    );
    assert_eq!(loaded.value.root().storage.value.kind(), StorageKind::File);

    let d = err("[global]\ntools.sessions.storage_class = 'cherrypy.lib.sessions.FileSession'\n");
    assert_eq!(d.code, codes::STORAGE_CLASS_QUOTED);
    // A class of the application's own: a warning here (the application may map it to a
    // store in code; startup refuses it if not).
    let loaded = ok("[global]\ntools.sessions.storage_class = myapp.RedisSession\n");
    warning(&loaded, codes::CUSTOM_STORAGE_CLASS);
    let root = loaded.value.root();
    assert_eq!(root.storage.value.kind(), StorageKind::Custom);
    let StorageConfig::Custom { class, .. } = &root.storage.value else {
        panic!("not custom: {:?}", root.storage.value);
    };
    assert_eq!(class.value, "myapp.RedisSession");
    // A true storage_type still wins over it, as in CherryPy 18.
    let loaded = ok(
        "[global]\ntools.sessions.storage_class = myapp.RedisSession\ntools.sessions.storage_type = 'file'\ntools.sessions.storage_path = '/s'\n",
    );
    assert_eq!(loaded.value.root().storage.value.kind(), StorageKind::File);

    let loaded = ok("[global]\ntools.sessions.storage_type = 'redis'\n");
    assert_eq!(loaded.value.root().storage.value.kind(), StorageKind::Redis);
    warning(&loaded, codes::STORAGE_EXTENSION);
}

/// cherrys' option names, its defaults when absent, and typed values.
#[test]
fn redis_options_as_cherrys_spells_them() {
    let defaults = ok("[global]\ntools.sessions.storage_type = 'redis'\n");
    let s = defaults.value.root();
    assert_eq!(
        (
            &*redis(s).host.value,
            redis(s).port.value,
            redis(s).db.value
        ),
        ("127.0.0.1", 6379, 0)
    );
    assert_eq!(
        (
            &redis(s).url.value,
            &redis(s).password.value,
            &*redis(s).prefix.value
        ),
        (&None, &None, "")
    );

    let written = ok(
        "[global]\ntools.sessions.storage_type = 'redis'\ntools.sessions.host = 'cache'\ntools.sessions.port = 6380\ntools.sessions.db = 2\ntools.sessions.user = 'app'\ntools.sessions.password = 's3cret'\ntools.sessions.prefix = 'cp:'\ntools.sessions.url = 'redis://cache:6380/2'\n",
    );
    let s = written.value.root();
    assert_eq!(
        (
            &*redis(s).host.value,
            redis(s).port.value,
            redis(s).db.value
        ),
        ("cache", 6380, 2)
    );
    assert_eq!(redis(s).user.value.as_deref(), Some("app"));
    assert_eq!(redis(s).password.value.as_deref(), Some("s3cret"));
    assert_eq!(redis(s).prefix.value, "cp:");
    assert_eq!(redis(s).url.value.as_deref(), Some("redis://cache:6380/2"));

    let d = err("[global]\ntools.sessions.port = 70000\n");
    assert_eq!((d.code, line(&d)), (codes::VALUE_OUT_OF_RANGE, 2));
    let d = err("[global]\ntools.sessions.db = -1\n");
    assert_eq!(d.code, codes::VALUE_OUT_OF_RANGE);
    let d = err("[global]\ntools.sessions.port = '6379'\n");
    assert_eq!(d.code, codes::VALUE_TYPE);
}

/// `storage_class = cherrys.RedisSession`, written as a cherrys site writes it, selects the
/// Redis store with cherrys' defaults, each shown as cherrys' own.
#[test]
fn cherrys_storage_class_selects_redis_with_cherrys_defaults() {
    let loaded = ok(
        "[global]\ntools.sessions.on = True\ntools.sessions.storage_class = cherrys.RedisSession\n",
    );
    let s = loaded.value.root();
    assert_eq!(s.storage.value.kind(), StorageKind::Redis);
    assert_eq!(s.storage.origin.line(), Some(3));
    // cherrys exists: no warning that CherryPy has no such backend.
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    assert_eq!(
        (&*redis(s).prefix.value, &*redis(s).lock_prefix.value),
        ("", "lock_")
    );
    assert_eq!(
        (
            redis(s).ssl.value,
            redis(s).tls_skip_verify.value,
            redis(s).is_sentinel.value
        ),
        (false, false, false)
    );
    assert_eq!(
        (
            &redis(s).sentinel_pass.value,
            &redis(s).sentinel_service.value
        ),
        (&None, &None)
    );
    assert_eq!(s.lock_timeout.value, None);
    for origin in [
        &redis(s).host.origin,
        &redis(s).port.origin,
        &redis(s).lock_prefix.origin,
        &redis(s).is_sentinel.origin,
    ] {
        assert_eq!(origin, &SettingOrigin::CherrysDefault);
        assert_eq!(origin.to_string(), "cherrys default");
    }

    let written = ok(
        "[global]\ntools.sessions.storage_class = cherrys.RedisSession\ntools.sessions.lock_prefix = 'L:'\ntools.sessions.sentinel_service = 'mymaster'\ntools.sessions.sentinel_pass = 'x'\ntools.sessions.ssl = False\n",
    );
    let s = written.value.root();
    assert_eq!(redis(s).lock_prefix.value, "L:");
    assert_eq!(redis(s).lock_prefix.origin.line(), Some(3));
    assert_eq!(redis(s).sentinel_service.value.as_deref(), Some("mymaster"));
    assert_eq!(redis(s).sentinel_pass.value.as_deref(), Some("x"));
    assert!(written.warnings.is_empty(), "{:#?}", written.warnings);
}

/// CherryPy instantiates whatever `storage_class` names: a string, or a class of another
/// package, fails there and is a located error here that says what works.
#[test]
fn other_storage_classes_are_refused_naming_what_is_supported() {
    let d = err("[global]\ntools.sessions.storage_class = 'cherrys.RedisSession'\n");
    assert_eq!((d.code, line(&d)), (codes::STORAGE_CLASS_QUOTED, 2));
    assert_eq!(
        d.help.as_deref(),
        Some("remove the quotes: cherrys.RedisSession")
    );
    // An application's own class is the application's to map in code: a warning that
    // names the way, and what is built in.
    let loaded = ok("[global]\ntools.sessions.storage_class = myapp.RedisSession\n");
    let d = warning(&loaded, codes::CUSTOM_STORAGE_CLASS);
    assert!(super::is_about_custom_class(d, "myapp.RedisSession"));
    assert!(!super::is_about_custom_class(d, "myapp.Redis"));
    assert!(
        d.help
            .as_deref()
            .is_some_and(|h| h.contains(".storage_class(")
                && h.contains("cherrys.RedisSession")
                && h.contains("cherrypy.lib.sessions.RamSession")),
        "{d}"
    );
    for class in ["cherrys.RedisSessions", "cherrypy.lib.sessions.Redis"] {
        let d = err(&format!(
            "[global]\ntools.sessions.storage_class = {class}\n"
        ));
        assert_eq!(line(&d), 2, "{class}");
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.contains("cherrys.RedisSession")
                    && h.contains("cherrypy.lib.sessions.RamSession")),
            "{class}: {d}"
        );
    }
}

/// cherrys asserts `prefix != lock_prefix` at startup; so do we, at the line that made them
/// equal.
#[test]
fn redis_prefix_equal_to_lock_prefix_is_a_located_error() {
    let d = err(
        "[global]\ntools.sessions.on = True\ntools.sessions.storage_class = cherrys.RedisSession\ntools.sessions.prefix = 'lock_'\n",
    );
    assert_eq!((d.code, line(&d)), (codes::REDIS_PREFIX_IS_LOCK_PREFIX, 4));
    let d = err(
        "[global]\ntools.sessions.on = True\ntools.sessions.storage_type = 'redis'\ntools.sessions.prefix = 's:'\ntools.sessions.lock_prefix = 's:'\n",
    );
    assert_eq!((d.code, line(&d)), (codes::REDIS_PREFIX_IS_LOCK_PREFIX, 5));
    // Sessions off: cherrys never runs its setup.
    ok(
        "[global]\ntools.sessions.storage_class = cherrys.RedisSession\ntools.sessions.prefix = 'lock_'\n",
    );
}

/// Sentinel is read and accepted (the store asks the sentinel for the master); TLS
/// (`ssl`, `rediss://`) is read as cherrys reads it.
#[test]
fn redis_sentinel_is_accepted_and_tls_is_read() {
    let head =
        "[global]\ntools.sessions.on = True\ntools.sessions.storage_class = cherrys.RedisSession\n";
    let loaded = ok(&format!("{head}tools.sessions.is_sentinel = True\n"));
    assert!(redis(loaded.value.root()).is_sentinel.value);

    let loaded = ok(&format!("{head}tools.sessions.ssl = True\n"));
    assert!(redis(loaded.value.root()).ssl.value);
    assert_eq!(redis(loaded.value.root()).ssl.origin.line(), Some(4));
    ok(&format!(
        "{head}tools.sessions.url = 'rediss://cache:6380/0'\n"
    ));
    // cherrys reads tls_skip_verify only for a sentinel: a warning, and certificates are
    // verified.
    let loaded = ok(&format!("{head}tools.sessions.tls_skip_verify = True\n"));
    let w = warning(&loaded, codes::REDIS_OPTION_IGNORED);
    assert_eq!(line(w), 4);
}

#[test]
fn memcached_servers_are_checked_as_python_memcached_reads_them() {
    let d = err("[global]\ntools.sessions.servers = ['mc1:11211', 'mc2:port']\n");
    assert_eq!((d.code, line(&d)), (codes::MEMCACHED_SERVER, 2));
    let loaded = ok(
        "[global]\ntools.sessions.storage_type = 'memcached'\ntools.sessions.servers = ['mc1', 'inet:mc2:1', 'unix:/s']\n",
    );
    let StorageConfig::Memcached { servers, .. } = &loaded.value.root().storage.value else {
        panic!("not memcached");
    };
    assert_eq!(servers.value.len(), 3);
}

#[test]
fn lock_timeout_takes_seconds_or_a_timedelta() {
    let seconds = |v: &str| {
        ok(&format!("[global]\ntools.sessions.lock_timeout = {v}\n"))
            .value
            .root()
            .lock_timeout
            .value
    };
    assert_eq!(seconds("10"), Some(10.0));
    assert_eq!(seconds("2.5"), Some(2.5));
    assert_eq!(seconds("None"), None);
    assert_eq!(seconds("datetime.timedelta(minutes=5)"), Some(300.0));
    assert_eq!(seconds("datetime.timedelta(1, 30)"), Some(86_430.0));
    assert_eq!(
        seconds("datetime.timedelta(hours=1, milliseconds=500)"),
        Some(3600.5)
    );
    for bad in [
        "datetime.timedelta(fortnights=1)",
        "datetime.timedelta('5')",
        "datetime.timedelta(1, seconds=2, days=3)",
        "[1]",
    ] {
        let d = err(&format!("[global]\ntools.sessions.lock_timeout = {bad}\n"));
        assert_eq!(d.code, codes::LOCK_TIMEOUT_INVALID, "{bad}");
    }
    assert_eq!(
        err("[global]\ntools.sessions.lock_timeout = '5'\n").code,
        codes::QUOTED_NUMBER
    );
}

#[test]
fn max_age_prints_as_python_does() {
    assert_eq!(Minutes::int(60).python_seconds(), "3600");
    assert_eq!(Minutes::float(0.5).python_seconds(), "30.0");
    assert_eq!(Minutes::float(1.0).python_seconds(), "60.0");
    let loaded = ok("[global]\ntools.sessions.timeout = 0.5\ntools.sessions.clean_freq = None\n");
    let s = loaded.value.root();
    assert!(!s.timeout.value.is_int());
    assert_eq!(s.timeout.value.python_seconds(), "30.0");
    assert!(s.clean_freq.value.is_zero());
    assert_eq!(crate::unrepr::float_repr(1e16), "1e+16");
}

#[test]
fn other_fields_are_read() {
    let loaded = ok(
        "[global]\ntools.sessions.servers = ['mc1:11211', 'mc2:11211']\ntools.sessions.samesite = 'lax'\ntools.sessions.httponly = True\ntools.sessions.debug = 1\ntools.sessions.domain = 'example.com'\ntools.sessions.path_header = 'X-Path'\ntools.sessions.priority = 40\n",
    );
    let s = loaded.value.root();
    assert_eq!(
        row(s, "servers"),
        serde_json::json!(["mc1:11211", "mc2:11211"])
    );
    assert_eq!(s.samesite.value, Some(SameSite::Lax));
    assert!(s.httponly.value && s.debug.value);
    assert_eq!(s.domain.value.as_deref(), Some("example.com"));
    assert_eq!(s.path_header.value.as_deref(), Some("X-Path"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn modern_per_path_merge() {
    let loaded = ok(
        "[global]\ntools.sessions.on = True\n[/]\ntools.sessions.timeout = 30\n[/admin]\ntools.sessions.name = 'adm'\n[/admin/]\ntools.sessions.name = 'never'\n[/admin/x/index]\ntools.sessions.timeout = 5\n[/index]\ntools.sessions.secure = True\n",
    );
    let c = &loaded.value;
    assert_eq!(c.session_for_path("/admin").name.value, "adm");
    assert_eq!(c.session_for_path("/admin/").name.value, "adm");
    assert_eq!(
        c.session_for_path("/admin/y").timeout.value,
        Minutes::int(30)
    );
    // `/admin/x` gets the implicit `index` segment; `/admin/x/z` does not.
    assert_eq!(
        c.session_for_path("/admin/x").timeout.value,
        Minutes::int(5)
    );
    assert_eq!(
        c.session_for_path("/admin/x/z").timeout.value,
        Minutes::int(30)
    );
    assert!(c.session_for_path("/").secure.value);
    assert!(c.session_for_path("").secure.value);
    assert!(!c.session_for_path("/other").secure.value);
    assert_eq!(
        c.session_for_path("/admin//x").timeout.value,
        Minutes::int(5)
    );
}

#[test]
fn legacy_walk_takes_the_nearest_node() {
    let loaded = ok(
        "[global]\nsession_filter.on = True\nsession_filter.timeout = 10\n[/a]\nsession_filter.timeout = 20\n[/a/b]\nsession_filter.cookie_name = 'ab'\n",
    );
    let c = &loaded.value;
    assert_eq!(c.era().label(), "2.2");
    let ab = c.session_for_path("/a/b/c");
    assert_eq!(
        (ab.timeout.value, ab.name.value.as_str()),
        (Minutes::int(20), "ab")
    );
    assert_eq!(c.session_for_path("/ab").timeout.value, Minutes::int(10));
    assert_eq!(c.session_for_path("/a/").timeout.value, Minutes::int(20));
}

#[test]
fn two_one_timeout_beats_capital_timeout() {
    let loaded = ok("[global]\nsessionFilter.Timeout = 30\nsessionFilter.timeout = 45\n");
    assert_eq!(loaded.value.root().timeout.value, Minutes::int(45));
    assert_eq!(line(warning(&loaded, codes::SHADOWED_KEY)), 2);
    assert_eq!(loaded.value.root().name.value, "sessionID");
}

#[test]
fn two_two_reads_the_camel_case_of_its_new_keys() {
    let loaded = ok(
        "[global]\nsession_filter.on = True\nsessionFilter.cookieDomain = 'x.org'\nsessionFilter.getDb = app.db\n",
    );
    assert_eq!(loaded.value.root().domain.value.as_deref(), Some("x.org"));
    warning(&loaded, codes::LEGACY_GET_DB);
}

#[test]
fn two_two_secure_only_for_true_itself() {
    let loaded = ok("[global]\nsession_filter.cookie_secure = 1\n");
    assert!(!loaded.value.root().secure.value);
    warning(&loaded, codes::LEGACY_COOKIE_SECURE);
    let loaded = ok("[global]\ntools.sessions.secure = 1\n");
    assert!(loaded.value.root().secure.value);
}

#[test]
fn unknown_legacy_keys() {
    let loaded = ok(
        "[global]\nsessionFilter.on = True\nsessionFilter.new = 'sessionMap'\nsession_filter.storage_table = 'x'\nsessionFilter.cookiName = 'x'\n",
    );
    let unknown: Vec<_> = loaded
        .warnings
        .iter()
        .filter(|d| d.code == codes::LEGACY_UNKNOWN_KEY)
        .collect();
    assert_eq!(unknown.len(), 3);
    assert!(unknown[0].message.contains("pre-release"));
    assert_eq!(
        unknown[2].help.as_deref(),
        Some("did you mean `cookieName`?")
    );
}

#[test]
fn two_oh_raw_values() {
    let d = err("[session]\nstorageType = ram\ntimeout = 2h\n");
    assert_eq!((d.code, line(&d)), (codes::LEGACY_NUMBER, 3));
    let d = err("[session]\nstorageType = file\n");
    assert_eq!(d.code, codes::FILE_STORAGE_WITHOUT_PATH);
    assert!(d.help.unwrap().contains("storageFileDir"));
    let loaded = ok("[session]\nstorageType = ram\ncookieName = 'x'\n");
    assert_eq!(loaded.value.root().name.value, "'x'");
    warning(&loaded, codes::LEGACY_RAW_QUOTES);
}

#[test]
fn two_oh_static_content_has_no_sessions() {
    let loaded = ok("[session]\nstorageType=ram\n[staticContent]\nstatic=/srv/s\n");
    let c = &loaded.value;
    assert!(!c.session_for_path("/static/a.css").on.value);
    assert!(!c.session_for_path("/static").on.value);
    assert!(c.session_for_path("/staticky").on.value);
    assert!(matches!(
        c.session_for_path("/static").on.origin,
        SettingOrigin::LegacyBehaviour { era: Era::V2_0, .. }
    ));
}

#[test]
fn two_one_static_filter_turns_sessions_off_but_not_in_two_two() {
    let text = "[global]\nsessionFilter.on = True\n[/s]\nstaticFilter.on = True\n";
    assert!(!ok(text).value.session_for_path("/s/x").on.value);
    let mixed = format!("{text}[/t]\nsession_filter.on = True\n");
    assert!(ok(&mixed).value.session_for_path("/s/x").on.value);
}

#[test]
fn era_detection() {
    let era = |text: &str| ok(text).value.era().label();
    assert_eq!(era("[global]\nserver.socket_port = 80\n"), "3.x");
    assert_eq!(
        era("[global]\nserver.socket_port = 80\nsession_filter.on = True\n"),
        "2.2"
    );
    assert_eq!(
        era("[global]\nserver.socket_port = 80\nsessionFilter.on = True\n"),
        "mixed"
    );
    assert_eq!(
        era("[global]\nserver.socketPort = 80\nsessionFilter.on = True\n"),
        "2.1"
    );
    assert_eq!(era("[global]\nserver.log_to_screen = False\n"), "2.2");
    assert_eq!(era("[server]\nsocketPort = 80\n"), "2.0");
    assert_eq!(
        era("[global]\nsessionFilter.on = True\nlog.screen = True\n"),
        "mixed"
    );
    let mixed = ok("[global]\nsessionFilter.on = True\nlog.screen = True\n");
    assert_eq!(mixed.value.era().defaults, Era::V3);
}

#[test]
fn default_section_keys_warn_once() {
    let loaded = ok("[DEFAULT]\ntools.sessions.on = 'yes'\n[/a]\nx.y = 1\n[/b]\nx.y = 2\n");
    let n = loaded
        .warnings
        .iter()
        .filter(|d| d.code == codes::QUOTED_BOOL)
        .count();
    assert_eq!(n, 1);
}

#[test]
fn from_config_reads_a_modern_config() {
    let source = SourceFile::new(
        "t.conf",
        "[global]\ntools.sessions.on = True\n[/a]\ntools.sessions.timeout = 3\n",
    );
    let file = read_source(&source).file.unwrap();
    let config = Config::from_files(&[file]).unwrap().value;
    let loaded = SessionConfigs::from_config(&config).unwrap();
    assert_eq!(
        loaded.value.session_for_path("/a").timeout.value,
        Minutes::int(3)
    );
}

#[cfg(feature = "json")]
#[test]
fn explain_json_has_the_issues_shape() {
    let source = SourceFile::new(
        "t.conf",
        "[global]\ntools.sessions.on = 'no'\ntools.sessions.timeout = 7.5\n",
    );
    let e = explain(&source, "/x").unwrap();
    let json = e.to_json();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["file", "path", "era", "session", "warnings"]);
    let session: Vec<&str> = json["session"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        session,
        [
            "on",
            "storage",
            "storage_path",
            "timeout_minutes",
            "locking",
            "name",
            "domain",
            "path",
            "path_header",
            "secure",
            "httponly",
            "persistent",
            "samesite",
            "clean_freq_minutes",
            "lock_timeout_seconds",
            "servers"
        ]
    );
    assert_eq!(json["session"]["timeout_minutes"].to_string(), "7.5");
    assert_eq!(json["session"]["clean_freq_minutes"].to_string(), "5");
    assert_eq!(json["warnings"][0]["line"], 2);
    let text = e.to_text();
    assert!(
        text.contains("timeout_minutes = 7.5    (t.conf:3 [global] tools.sessions.timeout)\n"),
        "{text}"
    );
    assert!(text.contains("locking = \"implicit\"    (built-in default)\n"));
}

#[test]
fn helpers() {
    assert_eq!(edit_distance("timout", "timeout"), 1);
    assert_eq!(
        did_you_mean("Locking", ["locking"].into_iter()).as_deref(),
        Some("locking")
    );
    assert_eq!(did_you_mean("zzz", ["locking"].into_iter()), None);
    assert_eq!(
        lower_to_camel("cookie_path_from_header"),
        "cookiePathFromHeader"
    );
    assert_eq!(lower_to_camel("get_db"), "getDb");
}

#[test]
fn check_collects_every_diagnostic() {
    let source = SourceFile::new(
        "t.conf",
        "[session]\nstorageType = \"file\"\nstorageFileDir = \"/var/s\"\ntimeout = x\n",
    );
    let all = SessionConfigs::check_sources(&[source]);
    let found: Vec<(&str, usize)> = all.iter().map(|d| (d.code, line(d))).collect();
    assert!(
        found.contains(&(codes::LEGACY_STORAGE_VALUE, 2)),
        "{found:?}"
    );
    assert!(found.contains(&(codes::LEGACY_RAW_QUOTES, 3)), "{found:?}");
    assert!(found.contains(&(codes::LEGACY_NUMBER, 4)), "{found:?}");
}

#[test]
fn storage_path_from_os_path_join() {
    // The value layer evaluates these pure calls as CherryPy does: a plain string.
    let loaded =
        ok("[global]\ntools.sessions.storage_path = os.path.join(os.getcwd(), 'sessions')\n");
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        row(loaded.value.root(), "storage_path"),
        cwd.join("sessions").to_str().unwrap()
    );
    let loaded = ok("[global]\ntools.sessions.storage_path = os.path.join('/a', 'b', '/c', 'd')\n");
    assert_eq!(row(loaded.value.root(), "storage_path"), "/c/d");
    let d = err("[global]\ntools.sessions.storage_path = os.path.dirname(__file__)\n");
    assert_eq!(d.code, codes::NOT_LITERAL);
}

/// `explain` shows the Redis options only for Redis storage, and never prints a password.
#[cfg(feature = "json")]
#[test]
fn explain_masks_the_redis_password() {
    let source = std::sync::Arc::new(SourceFile::new(
        "redis.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'redis'\ntools.sessions.password = 's3cret'\n",
    ));
    let text = super::explain(&source, "/").expect("valid").to_text();
    assert!(
        text.contains("********") && text.contains("prefix"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    let json = super::explain(&source, "/")
        .expect("valid")
        .to_json()
        .to_string();
    assert!(!json.contains("s3cret"), "{json}");

    let ram = std::sync::Arc::new(SourceFile::new(
        "ram.conf",
        "[/]\ntools.sessions.on = True\n",
    ));
    let text = super::explain(&ram, "/").expect("valid").to_text();
    assert!(!text.contains("prefix"), "{text}");

    // Nor the password a URL holds: the host and database still show.
    let url = std::sync::Arc::new(SourceFile::new(
        "url.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'redis'\n\
         tools.sessions.url = 'redis://user:hunter2@cache:6380/2'\n",
    ));
    let explained = super::explain(&url, "/").expect("valid");
    let shown = [explained.to_text(), explained.to_json().to_string()];
    for text in shown {
        assert!(
            !text.contains("hunter2") && !text.contains("user:"),
            "{text}"
        );
        assert!(text.contains("redis://********@cache:6380/2"), "{text}");
    }
}

/// `tools.sessions.max_lifetime`: minutes (int or float), `None` for no limit (the
/// default), our extension with no 2.x spelling.
#[test]
fn max_lifetime_is_read_in_minutes() {
    let s = ok("[global]\n").value.root().clone();
    assert_eq!(s.max_lifetime.value, None);
    assert_eq!(s.max_lifetime.origin, SettingOrigin::BuiltinDefault);

    let loaded = ok("[global]\ntools.sessions.max_lifetime = 0.02\n");
    let s = loaded.value.root();
    assert_eq!(s.max_lifetime.value, Some(Minutes::float(0.02)));
    assert_eq!(s.max_lifetime.origin.line(), Some(2));
    let s = ok("[global]\ntools.sessions.max_lifetime = 480\n").value;
    assert_eq!(s.root().max_lifetime.value, Some(Minutes::int(480)));
    let s = ok(
        "[global]\ntools.sessions.max_lifetime = 480\n[/api]\ntools.sessions.max_lifetime = None\n",
    )
    .value;
    assert_eq!(s.session_for_path("/api/x").max_lifetime.value, None);
    assert_eq!(
        s.session_for_path("/x").max_lifetime.value,
        Some(Minutes::int(480))
    );

    // In code.
    let c = SessionConfig::default().max_lifetime(Minutes::int(5));
    assert_eq!(c.max_lifetime.value, Some(Minutes::int(5)));
    assert_eq!(c.max_lifetime.origin, SettingOrigin::Code);

    // 2.x had no such setting.
    let loaded = ok("[global]\nsession_filter.on = True\nsession_filter.max_lifetime = 5\n");
    assert_eq!(loaded.value.root().max_lifetime.value, None);
    warning(&loaded, codes::LEGACY_UNKNOWN_KEY);
}

/// A negative or absurd `max_lifetime`, a quoted number or a string is refused where it is
/// written.
#[test]
fn max_lifetime_out_of_range_or_of_the_wrong_type_is_a_located_error() {
    let d = err("[global]\n\ntools.sessions.max_lifetime = -1\n");
    assert_eq!(d.code, codes::VALUE_OUT_OF_RANGE);
    assert_eq!(line(&d), 3);
    assert!(
        d.message
            .contains("tools.sessions.max_lifetime takes 0 to 1000000000 minutes"),
        "{}",
        d.message
    );
    let d = err("[global]\ntools.sessions.max_lifetime = 1e12\n");
    assert_eq!(d.code, codes::VALUE_OUT_OF_RANGE);
    let d = err("[global]\ntools.sessions.max_lifetime = \"5\"\n");
    assert_eq!(d.code, codes::QUOTED_NUMBER);
    let d = err("[global]\ntools.sessions.max_lifetime = 'long'\n");
    assert_eq!(d.code, codes::VALUE_TYPE);
    // No warning for a negative duration: it is an error of its own.
    assert!(
        ok("[global]\ntools.sessions.max_lifetime = 0\n")
            .warnings
            .is_empty()
    );
}

/// `explain` shows `max_lifetime_minutes` only where it is set, so the output of configs
/// without it is as before.
#[test]
fn explain_shows_max_lifetime_only_where_set() {
    let source = std::sync::Arc::new(SourceFile::new(
        "life.conf",
        "[/]\ntools.sessions.on = True\n[/admin]\ntools.sessions.max_lifetime = 480\n",
    ));
    let text = super::explain(&source, "/admin").expect("valid").to_text();
    let rows: Vec<&str> = text.lines().skip(4).take(3).collect();
    assert_eq!(
        rows,
        [
            "timeout_minutes = 60    (built-in default)",
            "max_lifetime_minutes = 480    (life.conf:4 [/admin] tools.sessions.max_lifetime)",
            "locking = \"implicit\"    (built-in default)",
        ],
        "{text}"
    );
    let text = super::explain(&source, "/").expect("valid").to_text();
    assert!(!text.contains("max_lifetime"), "{text}");
    #[cfg(feature = "json")]
    {
        let json = super::explain(&source, "/admin").expect("valid").to_json();
        assert_eq!(json["session"]["max_lifetime_minutes"], 480);
        let json = super::explain(&source, "/").expect("valid").to_json();
        assert!(json["session"].get("max_lifetime_minutes").is_none());
    }
}

/// `cluster`, this crate's extension, is read as a truth value, false unless set.
#[test]
fn redis_cluster_is_read_and_off_by_default() {
    let head =
        "[global]\ntools.sessions.on = True\ntools.sessions.storage_class = cherrys.RedisSession\n";
    let loaded = ok(head);
    assert!(!redis(loaded.value.root()).cluster.value);
    let loaded = ok(&format!("{head}tools.sessions.cluster = True\n"));
    assert!(redis(loaded.value.root()).cluster.value);
    assert_eq!(redis(loaded.value.root()).cluster.origin.line(), Some(4));
}

/// A store's options are in its own `StorageConfig` variant only; options written for
/// another store are still read, checked and shown by `explain` where they were written
/// (CherryPy reads them all whatever the store).
#[test]
fn store_options_belong_to_their_store() {
    let text = "[global]\ntools.sessions.storage_path = '/s'\ntools.sessions.servers = ['mc:1']\ntools.sessions.cluster = True\n";
    let loaded = ok(text);
    let s = loaded.value.root();
    assert_eq!(s.storage.value, StorageConfig::Ram);
    assert_eq!(row(s, "storage_path"), "/s");
    assert_eq!(row(s, "servers"), serde_json::json!(["mc:1"]));
    let source = SourceFile::new("t.conf", text);
    let explained = super::explain(&source, "/").expect("valid").to_text();
    for line in [
        "storage_path = \"/s\"    (t.conf:2 [global] tools.sessions.storage_path)\n",
        "servers = [\"mc:1\"]    (t.conf:3 [global] tools.sessions.servers)\n",
        "cluster = true    (t.conf:4 [global] tools.sessions.cluster)\n",
    ] {
        assert!(explained.contains(line), "{line} in {explained}");
    }
    // The Redis options are not shown for another store.
    assert!(!explained.contains("lock_prefix"), "{explained}");

    // The file store holds its path, where it was written; the servers stay as written.
    let loaded = ok(&format!("{text}tools.sessions.storage_type = 'file'\n"));
    let s = loaded.value.root();
    let StorageConfig::File { path, .. } = &s.storage.value else {
        panic!("not a file store: {:?}", s.storage.value);
    };
    assert_eq!(path.value.as_deref(), Some("/s"));
    assert_eq!(path.origin.line(), Some(2));
    assert_eq!(row(s, "servers"), serde_json::json!(["mc:1"]));
    // A value for another store is still checked when it is read.
    let d = err("[global]\ntools.sessions.storage_type = 'file'\ntools.sessions.port = 0\n");
    assert_eq!(d.code, codes::VALUE_OUT_OF_RANGE);
}

/// Stores made in code: cherrys' defaults for Redis, each said to be cherrys', and the
/// constructors' options set in code.
#[test]
fn stores_made_in_code() {
    let defaults = RedisConfig::default();
    assert_eq!(
        (
            &*defaults.host.value,
            defaults.port.value,
            &*defaults.lock_prefix.value
        ),
        ("127.0.0.1", 6379, "lock_")
    );
    assert_eq!(defaults.host.origin, SettingOrigin::CherrysDefault);
    assert_eq!(defaults.cluster.origin, SettingOrigin::BuiltinDefault);
    // The same as a config file that asks for Redis gives.
    let loaded = ok("[global]\ntools.sessions.storage_type = 'redis'\n");
    assert_eq!(&defaults, redis(loaded.value.root()));

    let config = SessionConfig::default().storage(StorageConfig::memcached(["mc1:11211"]));
    assert_eq!(config.storage.origin, SettingOrigin::Code);
    let StorageConfig::Memcached { servers, .. } = &config.storage.value else {
        panic!("not memcached");
    };
    assert_eq!(
        (servers.value.as_slice(), &servers.origin),
        (["mc1:11211".to_owned()].as_slice(), &SettingOrigin::Code)
    );
    assert_eq!(StorageConfig::custom("myapp.S").kind(), StorageKind::Custom);
    assert_eq!(StorageConfig::file("/d").as_str(), "file");
}

/// Paths share a store when the options of their store have the same values, wherever each
/// was written; any option of that store that differs gives another store, and the options
/// of other stores do not count.
#[test]
fn store_identity_is_every_option_of_the_store() {
    let loaded = ok(
        "[/]\ntools.sessions.storage_type = 'redis'\n[/a]\ntools.sessions.prefix = 'a:'\n[/b]\ntools.sessions.cluster = True\n[/c]\ntools.sessions.host = '127.0.0.1'\n[/d]\ntools.sessions.storage_path = '/elsewhere'\n[/e]\ntools.sessions.storage_type = 'file'\ntools.sessions.storage_path = '/s'\n[/f]\ntools.sessions.storage_type = 'file'\ntools.sessions.storage_path = '/t'\n",
    );
    let id = |path: &str| loaded.value.session_for_path(path).storage.value.identity();
    assert_ne!(id("/a"), id("/"));
    assert_ne!(id("/b"), id("/"));
    assert_eq!(id("/c"), id("/"));
    assert_eq!(id("/d"), id("/"));
    assert_ne!(id("/e"), id("/f"));
    assert_eq!(id("/e"), id("/e/x"));
}
