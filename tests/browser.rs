//! The demo in a real browser: headless Chromium driven over WebDriver (chromedriver),
//! against `examples/demo.rs` serving a copy of `fixtures/site.conf` on a free port.
//!
//! Skipped, with a message, where Chromium or chromedriver is not installed;
//! `ACTIX_CHERRYPY_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs both) makes that a
//! failure.

mod servers;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use fantoccini::cookies::Cookie;
use fantoccini::{Client, ClientBuilder, Locator};
use servers::{free_port, temp_dir, wait_for_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A child process, killed when dropped (also when an assertion fails).
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn browser_installed() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let required = std::env::var_os("ACTIX_CHERRYPY_REQUIRE_BROWSER").is_some_and(|v| v == "1");
    assert!(
        !required,
        "{CHROMIUM} or {CHROMEDRIVER} is missing and ACTIX_CHERRYPY_REQUIRE_BROWSER=1 \
         (apt-get install chromium chromium-driver)"
    );
    // Straight to stderr: the harness would swallow `eprintln!` of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the browser test: {CHROMIUM} or {CHROMEDRIVER} is missing \
         (apt-get install chromium chromium-driver)"
    );
    false
}

/// `examples/demo`, built beside this test binary.
fn demo_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args(["build", "--quiet", "--example", "demo", "--all-features"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "CARGO_TARGET_DIR",
            profile_dir.parent().expect("target dir"),
        )
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building examples/demo failed");
    profile_dir.join("examples").join("demo")
}

/// The demo on `fixtures/site.conf`, moved to a free port.
fn start_demo() -> (Process, u16) {
    let port = free_port();
    let site =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/site.conf"))
            .expect("fixtures/site.conf");
    let config = site.replace(
        "server.socket_port = 8080",
        &format!("server.socket_port = {port}"),
    );
    assert_ne!(config, site, "site.conf no longer names port 8080");
    let path = temp_dir("browser").join("site.conf");
    std::fs::write(&path, config).expect("write the config");
    let child = Command::new(demo_binary())
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the demo");
    let demo = Process(child);
    wait_for_port(port);
    (demo, port)
}

fn start_chromedriver() -> (Process, u16) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Process(child);
    wait_for_port(port);
    (driver, port)
}

/// A new browser with its own empty profile (its own cookie jar).
async fn browser(driver: u16, profile: &Path) -> Client {
    // The flags keep Chromium off the network (this machine has none) and out of the way.
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        &format!("--user-data-dir={}", profile.display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::rustls()
        .expect("an HTTP client")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver}"))
        .await
        .expect("connect to chromedriver")
}

async fn body_text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .expect("a body")
        .text()
        .await
        .expect("its text")
}

/// The visit count the page reports ("You have been here N time(s)").
async fn visits(client: &Client) -> u64 {
    let text = body_text(client).await;
    let after = text
        .split("been here ")
        .nth(1)
        .unwrap_or_else(|| panic!("no visit count in {text:?}"));
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no visit count in {text:?}"))
}

async fn cookie(client: &Client, name: &str) -> Option<Cookie<'static>> {
    client
        .get_all_cookies()
        .await
        .expect("cookies")
        .into_iter()
        .find(|c| c.name() == name)
}

fn unix_now() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(now.as_secs()).expect("in range")
}

#[actix_web::test]
async fn the_demo_in_a_real_browser() {
    if !browser_installed() {
        return;
    }
    let (_demo, port) = start_demo();
    let (_driver, driver_port) = start_chromedriver();
    let base = format!("http://127.0.0.1:{port}");
    let profiles = temp_dir("browser-profiles");

    let alice = browser(driver_port, &profiles.join("alice")).await;
    alice.goto(&format!("{base}/")).await.expect("open /");
    assert_eq!(visits(&alice).await, 1);
    let first = cookie(&alice, "session_id")
        .await
        .expect("a session cookie");
    // As CherryPy sets it for site.conf: HttpOnly, path /, and (persistent, the default)
    // an expiry `timeout` = 60 minutes from now.
    assert_eq!(first.value().len(), 40);
    assert_eq!(first.http_only(), Some(true));
    assert_eq!(first.path(), Some("/"));
    let expires = first
        .expires_datetime()
        .expect("a persistent cookie")
        .unix_timestamp();
    let left = expires - unix_now();
    assert!((3500..=3610).contains(&left), "expires in {left} s");

    // Reloading keeps the session.
    alice.refresh().await.expect("reload");
    assert_eq!(visits(&alice).await, 2);

    // Sign in with a name that is also markup: it shows as text, not as an element.
    let name = "<i>alice</i>";
    let field = alice
        .find(Locator::Css("input[name=user]"))
        .await
        .expect("the sign-in form");
    field.send_keys(name).await.expect("type the name");
    alice
        .find(Locator::Css("form button"))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .expect("sign in");
    // The click submits the form; the signed-in page is the next one to load, which a
    // busy machine may not have done by the time the click returns.
    let signed_in = alice
        .wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(Locator::Css("p b"))
        .await
        .expect("the signed-in line")
        .text()
        .await
        .expect("its text");
    assert_eq!(signed_in, name);
    assert!(
        alice.find(Locator::Css("p b i")).await.is_err(),
        "the name was rendered as markup"
    );
    // Signing in gave a new id (the pre-login id is useless to whoever knew it).
    let signed = cookie(&alice, "session_id")
        .await
        .expect("a session cookie");
    assert_ne!(signed.value(), first.value());

    // The signed-in session survives reloads.
    let before = visits(&alice).await;
    alice.refresh().await.expect("reload");
    assert_eq!(visits(&alice).await, before + 1);
    assert!(body_text(&alice).await.contains("Signed in as"));

    // A second browser (its own profile) has its own session.
    let bob = browser(driver_port, &profiles.join("bob")).await;
    bob.goto(&format!("{base}/")).await.expect("open /");
    assert_eq!(visits(&bob).await, 1);
    assert!(!body_text(&bob).await.contains("Signed in as"));
    let bobs = cookie(&bob, "session_id").await.expect("a session cookie");
    assert_ne!(bobs.value(), signed.value());
    bob.close().await.expect("close the second browser");

    // /admin has its own cookie (`[/admin]` names it), with the 15-minute timeout.
    alice
        .goto(&format!("{base}/admin"))
        .await
        .expect("open /admin");
    let admin = cookie(&alice, "admin_session_id")
        .await
        .expect("the admin cookie");
    let left = admin
        .expires_datetime()
        .expect("a persistent cookie")
        .unix_timestamp()
        - unix_now();
    assert!(
        (800..=910).contains(&left),
        "admin cookie expires in {left} s"
    );

    // Signing out expires the cookie: the browser drops it, and the next visit is a new,
    // signed-out session.
    alice
        .goto(&format!("{base}/logout"))
        .await
        .expect("sign out");
    assert!(!body_text(&alice).await.contains("Signed in as"));
    assert_eq!(visits(&alice).await, 1);
    let after = cookie(&alice, "session_id").await.expect("a new cookie");
    assert_ne!(after.value(), signed.value());
    alice.close().await.expect("close the browser");
}
