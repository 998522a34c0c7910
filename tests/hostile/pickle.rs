//! Hostile input: see main.rs. Session pickles: what a store hands back (a memo bomb, a
//! value over the budget, an object outside the data model) and what a handler inserts.

// The memcached and Redis cases need both store features; without them their helpers idle.
#![cfg_attr(
    not(all(feature = "memcached", feature = "redis")),
    allow(unused_imports, dead_code)
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use actix_cherrypy::__private::pickle::{decode, encode};
use actix_cherrypy::limits::{
    MAX_SESSION_BYTES, MAX_SESSION_DECODE_BYTES, MAX_SESSION_EXPANSION, MAX_SESSION_VALUES,
    SESSION_EXPANSION_FLOOR_BYTES, SESSION_EXPANSION_FLOOR_VALUES,
};
use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session::Session;
use actix_cherrypy::session_value::{SessionData, SessionValue, dict_repr};
use actix_cherrypy::store::PickleError;

use super::bombs::{P4_TAIL, get4, key_bomb, p0_bomb, value_bomb};
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;

use crate::servers::probe::{cherrypy, write_config};
use crate::servers::{self, http};

fn expires() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
}

/// A few hundred bytes that name 2^k values are refused, for every k past the floors,
/// against a budget proportional to the input or the floor, whichever is larger: nothing
/// of the 2^k is built (the work itself is counted in the unit test
/// `memo_bombs_are_refused_in_linear_work`).
#[test]
fn memo_bombs_are_refused_within_a_budget_proportional_to_the_input() {
    for k in [17, 20, 30, 40, 64, 128] {
        for (name, bytes) in [
            ("value", value_bomb(k)),
            ("protocol 0", p0_bomb(k)),
            ("key", key_bomb(k)),
        ] {
            let budget = (bytes.len() * MAX_SESSION_EXPANSION).max(SESSION_EXPANSION_FLOOR_BYTES);
            match decode(&bytes) {
                Err(PickleError::TooLarge(b) | PickleError::TooManyValues(b)) => assert!(
                    b <= budget,
                    "{name} bomb, k = {k}, {} bytes: refused only at {b}",
                    bytes.len()
                ),
                Err(e) => panic!("{name} bomb, k = {k}: {e}"),
                Ok(_) => panic!("{name} bomb, k = {k}: decoded"),
            }
        }
    }
}

/// The floors are the most a short pickle can make a read build: a value bomb of 2^16
/// values (the key and 2^16 - 1 tuples) is read, one level more is refused on its values;
/// the same for bytes, with 64 KB of bytes under each leaf.
#[test]
fn a_short_pickle_builds_no_more_than_the_floors() {
    assert!(value_bomb(16).len() * MAX_SESSION_EXPANSION < SESSION_EXPANSION_FLOOR_VALUES / 8);
    let (data, _) = decode(&value_bomb(15)).unwrap();
    assert_eq!(data.len(), 1);
    assert!(matches!(
        decode(&value_bomb(16)),
        Err(PickleError::TooManyValues(SESSION_EXPANSION_FLOOR_VALUES))
    ));
    // 64 KB shared by 2^k leaves: 2^k * 64 KB of bytes from a pickle of 64 KB.
    let bytes_bomb = |k: usize| {
        let mut out = b"\x80\x04}\x8c\x01kB\x00\x00\x01\x00".to_vec();
        out.extend(vec![b'b'; 1 << 16]);
        out.extend(b"\x940");
        for i in 0..k {
            out.extend(get4(i));
            out.extend(get4(i));
            out.extend(b"\x86\x940");
        }
        out.extend(get4(k));
        out.push(b's');
        out.extend(P4_TAIL);
        out
    };
    // Four copies of 64 KB (256 KB) are read; 32 copies (2 MiB, over the floor and over
    // 16 times the pickle) are refused.
    assert_eq!(decode(&bytes_bomb(2)).unwrap().0.len(), 1);
    assert!(matches!(
        decode(&bytes_bomb(5)),
        Err(PickleError::TooLarge(_))
    ));
}

fn one(key: &str, value: SessionValue) -> SessionData {
    [(key.to_owned(), value)].into_iter().collect()
}

/// The largest bytes value the budget allows under the key `k`.
fn largest_bytes() -> usize {
    let probe = encode(&one("k", SessionValue::Bytes(vec![0; 300])), expires()).unwrap();
    MAX_SESSION_BYTES - (probe.len() - 300)
}

/// One budget for both directions: the largest session the encoder accepts decodes, and
/// one byte or one value more is refused when writing, not after.
#[test]
fn what_we_write_reads_back_at_the_budget_boundary() {
    // Bytes.
    let n = largest_bytes();
    let data = one("k", SessionValue::Bytes(vec![7; n]));
    let bytes = encode(&data, expires()).unwrap();
    assert_eq!(bytes.len(), MAX_SESSION_BYTES);
    assert_eq!(decode(&bytes).unwrap().0, data);
    let over = one("k", SessionValue::Bytes(vec![7; n + 1]));
    assert!(matches!(
        encode(&over, expires()),
        Err(PickleError::TooLarge(MAX_SESSION_BYTES))
    ));
    // Values: the key, the list and its items.
    let list = |n: usize| one("k", SessionValue::List(vec![SessionValue::None; n]));
    let data = list(MAX_SESSION_VALUES - 2);
    assert_eq!(decode(&encode(&data, expires()).unwrap()).unwrap().0, data);
    assert!(matches!(
        encode(&list(MAX_SESSION_VALUES - 1), expires()),
        Err(PickleError::TooManyValues(MAX_SESSION_VALUES))
    ));
    // What the review found: ~2 million None were written, then never read again.
    assert!(encode(&list(2_000_000), expires()).is_err());
}

/// Protocol 0 (memcached) is held to the same budget.
#[cfg(feature = "memcached")]
#[test]
fn protocol0_writes_what_it_can_read() {
    use actix_cherrypy::__private::pickle::encode_protocol0;
    let list = |n: usize| one("k", SessionValue::List(vec![SessionValue::None; n]));
    let data = list(MAX_SESSION_VALUES - 2);
    let bytes = encode_protocol0(&data, expires()).unwrap();
    assert_eq!(decode(&bytes).unwrap().0, data);
    assert!(encode_protocol0(&list(MAX_SESSION_VALUES - 1), expires()).is_err());
}

// ---- Session::insert against the budget, through the middleware ------------------------

#[derive(serde::Deserialize)]
struct Q {
    key: String,
    n: Option<usize>,
}

/// `key` = `n` bytes; a refused value answers 413 through `?`.
async fn fill(s: Session, q: web::Query<Q>) -> actix_web::Result<HttpResponse> {
    s.insert_value(
        q.key.clone(),
        SessionValue::Bytes(vec![1; q.n.unwrap_or(0)]),
    )?;
    Ok(HttpResponse::Ok().body(s.id().to_string()))
}

/// `key` = a list of `n` None.
async fn nones(s: Session, q: web::Query<Q>) -> actix_web::Result<HttpResponse> {
    s.insert(q.key.clone(), vec![(); q.n.unwrap_or(0)])?;
    Ok(HttpResponse::Ok().body(s.id().to_string()))
}

async fn remove(s: Session, q: web::Query<Q>) -> HttpResponse {
    s.remove(&q.key);
    HttpResponse::Ok().body(s.id().to_string())
}

/// `key:length` for each key, in order.
async fn show(s: Session) -> HttpResponse {
    let entries = s.entries();
    let parts: Vec<String> = entries
        .iter()
        .map(|(k, v)| match v {
            SessionValue::Bytes(b) => format!("{k}:{}", b.len()),
            SessionValue::List(l) => format!("{k}:{}", l.len()),
            other => format!("{k}:{}", other.python_repr()),
        })
        .collect();
    HttpResponse::Ok().body(parts.join(","))
}

/// The session dict as Python's `repr()` prints it (CherryPy's probe answers the same).
async fn dump(s: Session) -> HttpResponse {
    HttpResponse::Ok().body(dict_repr(&s.entries()))
}

fn serve(dir: &Path, storage: &str) -> u16 {
    let conf = dir.join("site.conf");
    std::fs::write(&conf, format!("[/]\ntools.sessions.on = True\n{storage}")).unwrap();
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let routes = |cfg: &mut web::ServiceConfig| {
        cfg.route("/fill", web::get().to(fill))
            .route("/nones", web::get().to(nones))
            .route("/remove", web::get().to(remove))
            .route("/show", web::get().to(show))
            .route("/dump", web::get().to(dump));
    };
    http::serve(1, move || sessions.clone(), routes)
}

/// `Session::insert` refuses a value that would take the session over the budget (413),
/// keeping the session exactly as it was, so every later request reads it; it accounts
/// for replaced and removed values, to the byte.
#[test]
fn insert_refuses_what_could_not_be_read_back() {
    let dir = servers::temp_dir("hostile-insert");
    let sessions = dir.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let port = serve(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n",
            sessions.display().to_string()
        ),
    );
    let first = http::get(port, "/fill?key=a&n=10", None);
    assert_eq!(first.status, 200);
    let id = first.body.clone();
    let cookie = format!("session_id={id}");
    let file = sessions.join(format!("session-{id}"));
    let stored = decode(&std::fs::read(&file).unwrap()).unwrap().0;
    // Two million None: refused with 413, the data unchanged (the request read the
    // session, so its expiry is extended, as by any read), the session still reads.
    let refused = http::get(port, "/nones?key=b&n=2000000", Some(&cookie));
    assert_eq!(refused.status, 413);
    assert_eq!(decode(&std::fs::read(&file).unwrap()).unwrap().0, stored);
    let after = http::get(port, "/show", Some(&cookie));
    assert_eq!(
        (after.status, after.session_id(), after.body.as_str()),
        (200, id.clone(), "a:10")
    );
    // Exactly at the budget, replacing `a`: accepted; one value more is not.
    let n = largest_bytes();
    let full = http::get(port, &format!("/fill?key=k&n={n}"), Some(&cookie));
    assert_eq!(full.status, 413, "with `a` beside it, `k` does not fit");
    assert_eq!(http::get(port, "/remove?key=a", Some(&cookie)).status, 200);
    let full = http::get(port, &format!("/fill?key=k&n={n}"), Some(&cookie));
    assert_eq!(full.status, 200);
    let stored = std::fs::read(&file).unwrap();
    assert_eq!(stored.len(), MAX_SESSION_BYTES);
    assert!(decode(&stored).is_ok());
    assert_eq!(
        http::get(port, "/nones?key=b&n=0", Some(&cookie)).status,
        413
    );
    let again = http::get(port, &format!("/fill?key=k&n={n}"), Some(&cookie));
    assert_eq!(again.status, 200, "replacing a value frees its room first");
    assert_eq!(http::get(port, "/remove?key=k", Some(&cookie)).status, 200);
    assert_eq!(
        http::get(port, "/nones?key=b&n=1000", Some(&cookie)).status,
        200
    );
    let last = http::get(port, "/show", Some(&cookie));
    assert_eq!((last.session_id(), last.body.as_str()), (id, "b:1000"));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- a stored session we cannot read is an unknown session ------------------------------

/// Asks for the session `id` and checks that it is answered as an unknown one: 200, a new
/// id in the cookie.
fn assert_unknown(port: u16, id: &str) {
    let reply = http::get(port, "/show", Some(&format!("session_id={id}")));
    assert_eq!(reply.status, 200, "{id}");
    let new = reply.session_id();
    assert!(new.len() == 40 && new != id, "a new id for {id}: {new:?}");
    assert_eq!(reply.body, "");
}

/// An id of 40 hex digits from a seed.
fn id(seed: char) -> String {
    seed.to_string().repeat(40)
}

/// What memcached on `port` answers to `command`.
#[cfg(feature = "memcached")]
fn memcached_cmd(port: u16, command: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(command).unwrap();
    s.write_all(b"quit\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

/// Stores `value` under `key` as python-memcached stores a pickle (flag 1), then checks,
/// once `check` ran, that it is still there as it was.
#[cfg(feature = "memcached")]
fn left_alone_in_memcached(port: u16, key: &str, value: &[u8], check: impl FnOnce()) {
    let mut set = format!("set {key} 1 0 {}\r\n", value.len()).into_bytes();
    set.extend(value);
    set.extend(b"\r\n");
    assert!(memcached_cmd(port, &set).starts_with(b"STORED"));
    check();
    let mut expected = format!("VALUE {key} 1 {}\r\n", value.len()).into_bytes();
    expected.extend(value);
    let got = memcached_cmd(port, format!("get {key}\r\n").as_bytes());
    assert!(got.starts_with(&expected), "the value is left as it was");
}

/// A pickle of a forbidden global (`posix.system`), as a hostile store could hold.
const CODE: &[u8] = b"cposix\nsystem\n(S'echo pwned'\ntR.";

#[cfg(feature = "memcached")]
#[test]
fn undecodable_memcached_sessions_are_unknown_and_left_alone() {
    let memcached = servers::Server::memcached();
    let dir = servers::temp_dir("hostile-memcached");
    let port = serve(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
            memcached.address()
        ),
    );
    for (seed, value) in [('a', p0_bomb(40)), ('b', CODE.to_vec())] {
        let key = id(seed);
        left_alone_in_memcached(memcached.port, &key, &value, || assert_unknown(port, &key));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// What Redis on `port` answers to the command `args`.
#[cfg(feature = "redis")]
fn redis_cmd(port: u16, args: &[&[u8]]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut command = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        command.extend(format!("${}\r\n", a.len()).into_bytes());
        command.extend(*a);
        command.extend(b"\r\n");
    }
    command.extend(b"*1\r\n$4\r\nQUIT\r\n");
    s.write_all(&command).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    reply
}

#[cfg(feature = "redis")]
#[test]
fn undecodable_redis_sessions_are_unknown_and_left_alone() {
    let dir = servers::temp_dir("hostile-redis");
    let redis = servers::Server::redis(&dir);
    let redis_cmd = |args: &[&[u8]]| redis_cmd(redis.port, args);
    let port = serve(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"redis\"\ntools.sessions.port = {}\ntools.sessions.prefix = \"h:\"\n",
            redis.port
        ),
    );
    // A well-formed session one byte over the budget, which is never read whole; a memo
    // bomb; a forbidden global.
    let over = encode(
        &one("k", SessionValue::Bytes(vec![7; largest_bytes()])),
        expires(),
    )
    .unwrap();
    let mut over = over;
    over.insert(over.len() - 2, b'N');
    over.insert(over.len() - 2, b'0');
    assert_eq!(over.len(), MAX_SESSION_BYTES + 2);
    // Within the budget as written here (protocol 4), over it as this store writes it
    // (protocol 5 adds a `MEMOIZE` per str): it could not be written back.
    let strs = SessionValue::List(vec![
        SessionValue::Str("x".repeat(30));
        // 32 bytes each in protocol 4, and `APPENDS` every 1,000.
        (MAX_SESSION_BYTES - 4096) / 32 - 100
    ]);
    let near = encode(&one("k", strs), expires()).unwrap();
    assert!(near.len() <= MAX_SESSION_BYTES);
    for (seed, value) in [
        ('c', over),
        ('d', value_bomb(40)),
        ('e', CODE.to_vec()),
        ('f', near),
    ] {
        let key = format!("h:{}", id(seed));
        assert!(redis_cmd(&[b"SET", key.as_bytes(), &value]).starts_with(b"+OK"));
        assert_unknown(port, &id(seed));
        let strlen = redis_cmd(&[b"STRLEN", key.as_bytes()]);
        assert!(
            strlen.starts_with(format!(":{}\r\n", value.len()).as_bytes()),
            "the value is left as it was"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Explicit locking: `n` = 1, under the lock.
async fn set_n(s: Session) -> actix_web::Result<HttpResponse> {
    s.acquire_lock()
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    s.insert("n", 1)?;
    Ok(HttpResponse::Ok().body(s.id().to_string()))
}

/// Explicit locking: reads `n` without the lock, waits, then takes the lock and answers
/// what it reads under it (`acquire_lock()`'s failure is the handler's 500).
async fn read_wait_lock(s: Session) -> actix_web::Result<HttpResponse> {
    let _: Option<i64> = s.get("n")?;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(400)).await;
    s.acquire_lock()
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let n: Option<i64> = s.get("n")?;
    s.insert("m", 1)?;
    Ok(HttpResponse::Ok().body(format!("{n:?}")))
}

/// Explicit locking: reads `n` without the lock, waits, then changes it, still without.
async fn read_wait_change(s: Session) -> actix_web::Result<HttpResponse> {
    let n: i64 = s.get("n")?.unwrap_or(0);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(400)).await;
    s.insert("n", n + 1)?;
    Ok(HttpResponse::Ok().finish())
}

/// A session that becomes unreadable while a request holds it without the lock (explicit
/// locking): the request's `acquire_lock()` then finds an unknown session, and goes on
/// under a new id, as the request would have at its start; a change made without the lock
/// is refused, as for any session changed meanwhile. Either way the stored value is left
/// as it is.
#[cfg(feature = "redis")]
#[test]
fn a_session_that_becomes_unreadable_under_explicit_locking_is_unknown_and_left_alone() {
    let dir = servers::temp_dir("hostile-redis-explicit");
    let redis = servers::Server::redis(&dir);
    let conf = dir.join("site.conf");
    let storage = format!(
        "[/]\ntools.sessions.on = True\ntools.sessions.locking = \"explicit\"\n\
         tools.sessions.storage_type = \"redis\"\ntools.sessions.port = {}\n\
         tools.sessions.prefix = \"h:\"\n",
        redis.port
    );
    std::fs::write(&conf, storage).unwrap();
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let port = http::serve(
        1,
        move || sessions.clone(),
        |cfg: &mut web::ServiceConfig| {
            cfg.route("/set", web::get().to(set_n))
                .route("/lock", web::get().to(read_wait_lock))
                .route("/change", web::get().to(read_wait_change));
        },
    );
    for (path, status) in [("/lock", 200), ("/change", 500)] {
        let made = http::get(port, "/set", None);
        assert_eq!(made.status, 200);
        let id = made.body;
        let cookie = format!("session_id={id}");
        let request = std::thread::spawn(move || http::get(port, path, Some(&cookie)));
        std::thread::sleep(std::time::Duration::from_millis(150));
        let key = format!("h:{id}");
        assert!(redis_cmd(redis.port, &[b"SET", key.as_bytes(), CODE]).starts_with(b"+OK"));
        let reply = request.join().unwrap();
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        if status == 200 {
            assert_eq!(reply.body, "None", "{path}: the new session is empty");
            let new = reply.session_id();
            assert!(new.len() == 40 && new != id, "{path}: a new id, {new:?}");
        }
        let stored = redis_cmd(redis.port, &[b"GET", key.as_bytes()]);
        let mut expected = format!("${}\r\n", CODE.len()).into_bytes();
        expected.extend(CODE);
        assert!(
            stored.starts_with(&expected),
            "{path}: the value is left as it was"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- the unpickler's own memory, while it runs ------------------------------------------

/// The error every input below must end in: the decoder's working memory is over its
/// budget, found while the machine runs, before the memory is spent.
fn assert_refused_while_running(name: &str, bytes: &[u8]) {
    assert!(
        bytes.len() <= MAX_SESSION_BYTES,
        "{name}: within the input budget"
    );
    match decode(bytes) {
        Err(PickleError::TooLarge(b)) => assert_eq!(b, MAX_SESSION_DECODE_BYTES, "{name}"),
        Err(e) => panic!("{name}: refused with {e}, not the decoding budget"),
        Ok(_) => panic!("{name}: decoded"),
    }
}

/// A protocol 4 pickle of `start` then `unit` repeated up to the input budget; there is no
/// `STOP`, so only a budget checked while the machine runs can end it early.
fn repeated(start: &[u8], unit: &[u8]) -> Vec<u8> {
    let mut out = b"\x80\x04".to_vec();
    out.extend(start);
    while out.len() + unit.len() <= MAX_SESSION_BYTES {
        out.extend(unit);
    }
    out
}

/// An empty container is one byte (`}`, `]`, `)`), and each one is a node of the arena
/// and an entry of the stack, whether anything refers to it or not.
#[test]
fn a_pickle_of_empty_containers_is_refused_while_running() {
    for (name, unit) in [("dicts", b"}"), ("lists", b"]"), ("tuples", b")")] {
        assert_refused_while_running(name, &repeated(b"", unit));
    }
    // One dict with as many distinct keys as fit: a key and its place in the dict's index.
    let mut keys = b"}(".to_vec();
    for i in 0..=u16::MAX {
        keys.push(b'M');
        keys.extend(i.to_le_bytes());
        keys.push(b'N');
    }
    keys.push(b'u');
    assert_refused_while_running("dict keys", &repeated(&keys, b"}("));
}

/// `MEMOIZE` (one byte) and `LONG_BINPUT` at distinct indices each add a memo entry.
#[test]
fn a_pickle_of_memo_entries_is_refused_while_running() {
    assert_refused_while_running("MEMOIZE", &repeated(b"N", b"\x94"));
    let mut sparse = b"\x80\x04N".to_vec();
    let mut i: u32 = 7;
    while sparse.len() + 5 <= MAX_SESSION_BYTES {
        sparse.push(b'r');
        sparse.extend(i.to_le_bytes());
        i = i.wrapping_mul(2_654_435_761).wrapping_add(1);
    }
    assert_refused_while_running("LONG_BINPUT", &sparse);
}

/// `DUP` (one byte) pushes a stack entry; so does any one-byte value (`N`), and a str of
/// two bytes is an entry and an allocation.
#[test]
fn a_pickle_of_stack_entries_is_refused_while_running() {
    assert_refused_while_running("DUP", &repeated(b"N", b"2"));
    assert_refused_while_running("NONE", &repeated(b"", b"N"));
    assert_refused_while_running("empty str", &repeated(b"", b"\x8c\x00"));
    // Values moved into a list stay there: a stack that never grows still fills the list.
    assert_refused_while_running(
        "APPENDS",
        &repeated(b"]", &[b"(", &[b'N'; 998][..], b"e"].concat()),
    );
}

/// `MARK` (one byte) pushes a mark.
#[test]
fn a_pickle_of_marks_is_refused_while_running() {
    assert_refused_while_running("MARK", &repeated(b"", b"("));
}

/// The largest count `n` of items for which `encode(make(n))` is accepted, starting from
/// `values` (the values budget allows) and stepping down where the bytes budget refuses.
fn largest_accepted(
    values: usize,
    make: &dyn Fn(usize) -> SessionData,
    encode: &dyn Fn(&SessionData) -> Result<Vec<u8>, PickleError>,
) -> (SessionData, Vec<u8>) {
    let mut n = values;
    loop {
        let data = make(n);
        match encode(&data) {
            Ok(bytes) => return (data, bytes),
            Err(PickleError::TooLarge(_)) => n -= n / 50,
            Err(e) => panic!("{n} items: {e}"),
        }
    }
}

/// What we write, we read back: the sessions that need the most of the decoder's memory
/// per value (empty containers, distinct str keys, 1-tuples, bytes, which protocols 0-2
/// spell as a call), as large as the session budgets allow, in every protocol this crate
/// writes.
#[test]
fn the_largest_sessions_still_read_back() {
    type Encoder = Box<dyn Fn(&SessionData) -> Result<Vec<u8>, PickleError>>;
    #[cfg_attr(
        not(any(feature = "memcached", feature = "redis")),
        expect(unused_mut, reason = "the other encoders come with the server stores")
    )]
    let mut encoders: Vec<(&str, Encoder)> = vec![(
        "protocol 4",
        Box::new(|d: &SessionData| encode(d, expires())),
    )];
    #[cfg(feature = "memcached")]
    encoders.push((
        "protocol 0",
        Box::new(|d: &SessionData| {
            actix_cherrypy::__private::pickle::encode_protocol0(d, expires())
        }),
    ));
    #[cfg(feature = "redis")]
    encoders.push((
        "protocol 5",
        Box::new(|d: &SessionData| actix_cherrypy::__private::pickle::encode_highest(d, expires())),
    ));
    // The key `k` and its container take two values.
    let items = MAX_SESSION_VALUES - 2;
    let list =
        |item: SessionValue| move |n: usize| one("k", SessionValue::List(vec![item.clone(); n]));
    type Shape = Box<dyn Fn(usize) -> SessionData>;
    let shapes: [(&str, usize, Shape); 6] = [
        (
            "empty lists",
            items,
            Box::new(list(SessionValue::List(vec![]))),
        ),
        (
            "empty dicts",
            items,
            Box::new(list(SessionValue::Dict(vec![]))),
        ),
        (
            "1-tuples",
            items / 2,
            Box::new(list(SessionValue::Tuple(vec![SessionValue::None]))),
        ),
        (
            "bytes",
            items,
            Box::new(list(SessionValue::Bytes(b"x".to_vec()))),
        ),
        (
            "empty bytes",
            items,
            Box::new(list(SessionValue::Bytes(vec![]))),
        ),
        (
            "str keys",
            items / 2,
            Box::new(|n: usize| {
                let dict = (0..n)
                    .map(|i| (SessionValue::Str(format!("{i:x}")), SessionValue::None))
                    .collect();
                one("k", SessionValue::Dict(dict))
            }),
        ),
    ];
    for (encoding, enc) in &encoders {
        for (shape, values, make) in &shapes {
            let (data, bytes) = largest_accepted(*values, make, enc);
            match decode(&bytes) {
                Ok((back, _)) => {
                    assert!(back == data, "{encoding}, {shape}: read back differently")
                }
                Err(e) => panic!("{encoding}, {shape}, {} bytes: {e}", bytes.len()),
            }
        }
    }
}

/// What python-memcached stores for CherryPy's `MemcachedSession` (flag 1, protocol 0):
/// `copies` keys that all name one list holding a str of `len` characters, stored once
/// with memo references, and an expiry in 2100.
#[cfg(feature = "memcached")]
fn shared_list_protocol0(copies: usize, len: usize) -> Vec<u8> {
    let mut p = format!("((dp0\nVk0\np1\n(lp2\nV{}\np3\nas", "x".repeat(len));
    for i in 1..copies {
        p += &format!("Vk{i}\np{}\ng2\ns", 100 + i);
    }
    p += "cdatetime\ndatetime\np5\n(c_codecs\nencode\np6\n(V\u{8}4\u{1}\u{1}\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\np7\nVlatin1\np8\ntp9\nRp10\ntp11\nRp12\ntp13\n.";
    p.into_bytes()
}

/// A session CherryPy stored with shared references, which this store could not write back
/// (its objects written out once per use are over memcached's item size), is an unknown
/// session left as it was, like one over the budget: a request that changes it, or only
/// reads it (memcached's expiry is inside the value, so an extension rewrites it), would
/// otherwise fail at the save.
#[cfg(feature = "memcached")]
#[test]
fn a_memcached_session_that_could_not_be_written_back_is_unknown_and_left_alone() {
    let memcached = servers::Server::memcached();
    let dir = servers::temp_dir("hostile-memcached-shared");
    let port = serve(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
            memcached.address()
        ),
    );
    // 100 KB stored, 1.2 MB written out: over memcached's default 1 MiB item.
    let value = shared_list_protocol0(12, 100_000);
    let key = id('c');
    left_alone_in_memcached(memcached.port, &key, &value, || {
        for path in ["/show", "/remove?key=k0"] {
            let reply = http::get(port, path, Some(&format!("session_id={key}")));
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
            assert_ne!(reply.session_id(), key, "{path}: a new id");
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- sessions CherryPy stored with one object shared by many keys -----------------------

/// What CherryPy stores for a session whose `n` keys all refer to one tuple of a
/// 1,000-character str and 500 bytes, pickled by Python with `protocol` (`FileSession` and
/// `cherrys` use `pickle.HIGHEST_PROTOCOL`, python-memcached protocol 0), expiring in an
/// hour; and the session dict's `repr()` as Python prints it. Pickle writes the tuple once
/// and refers to it through its memo after that, so the pickle is short and the session
/// it stands for is `n` times the tuple.
fn shared_tuple_session(n: usize, protocol: u8) -> (Vec<u8>, String) {
    let python = crate::servers::venv::venv_python();
    let script = "import datetime, pickle, sys\n\
        n, protocol = int(sys.argv[1]), int(sys.argv[2])\n\
        shared = ('v' * 1000, b'b' * 500)\n\
        data = {'k%d' % i: shared for i in range(n)}\n\
        expires = datetime.datetime.now() + datetime.timedelta(hours=1)\n\
        sys.stdout.buffer.write(repr(data).encode() + b'\\0')\n\
        sys.stdout.buffer.write(pickle.dumps((data, expires), protocol))\n";
    let out = Command::new(python)
        .args(["-c", script, &n.to_string(), &protocol.to_string()])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nul = out.stdout.iter().position(|&b| b == 0).unwrap();
    let repr = String::from_utf8(out.stdout[..nul].to_vec()).unwrap();
    (out.stdout[nul + 1..].to_vec(), repr)
}

/// A session whose keys share one object is read with all its data, in every protocol,
/// however many times its pickle's length it expands to: a tuple of 1.5 KB named by 600
/// keys is a pickle of a few KB and a session of 900 KB. Such a session is cheap to build;
/// refused, it would be an unknown session, and the new cookie would sign the user out of
/// CherryPy too.
#[test]
fn sessions_that_share_one_object_among_many_keys_are_read() {
    for protocol in 0..=5 {
        for n in [5, 20, 40, 200, 600] {
            let (bytes, repr) = shared_tuple_session(n, protocol);
            let (data, _) = decode(&bytes).unwrap_or_else(|e| {
                panic!("protocol {protocol}, {n} keys, {} bytes: {e}", bytes.len())
            });
            assert_eq!(data.len(), n);
            assert!(
                dict_repr(&data) == repr,
                "protocol {protocol}, {n} keys: read differently"
            );
            if n >= 40 {
                assert!(
                    repr.len() > MAX_SESSION_EXPANSION * bytes.len(),
                    "protocol {protocol}, {n} keys: expands more than {MAX_SESSION_EXPANSION} times"
                );
            }
        }
    }
}

/// A session CherryPy stored with one tuple shared by many keys, in the store's own
/// encoding, is read by us as the session it is (its id kept, its data whole), and
/// CherryPy still reads it after our request, under the cookie our response set. `put`
/// stores a pickle under a session id.
fn shared_sessions_are_read_on_both_sides(
    name: &str,
    storage: &str,
    protocol: u8,
    put: impl Fn(&str, &[u8]),
) {
    let dir = servers::temp_dir(name);
    let port = serve(&dir, storage);
    let cherrypy_dir = dir.join("cherrypy");
    std::fs::create_dir_all(&cherrypy_dir).unwrap();
    let (_cherrypy, cp) = cherrypy(&write_config(&cherrypy_dir, storage));
    for (seed, n) in [('1', 20), ('2', 40), ('3', 300)] {
        let (bytes, repr) = shared_tuple_session(n, protocol);
        let key = id(seed);
        put(&key, &bytes);
        let ours = http::get(port, "/dump", Some(&format!("session_id={key}")));
        assert_eq!(ours.status, 200, "{name}, {n} keys: {}", ours.body);
        assert_eq!(
            ours.session_id(),
            key,
            "{name}, {n} keys: the session's id is kept"
        );
        assert!(ours.body == repr, "{name}, {n} keys: read whole");
        let cookie = format!("session_id={}", ours.session_id());
        let theirs = http::get(cp, "/dump", Some(&cookie));
        assert_eq!(theirs.status, 200, "{name}, {n} keys: {}", theirs.body);
        assert!(
            theirs.body == repr,
            "{name}, {n} keys: CherryPy still reads it"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_session_that_shares_one_object_among_many_keys_is_read() {
    let dir = servers::temp_dir("hostile-shared-files");
    let sessions = dir.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let storage = format!(
        "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n",
        sessions.display().to_string()
    );
    shared_sessions_are_read_on_both_sides(
        "hostile-shared-files-servers",
        &storage,
        5,
        |key, bytes| {
            std::fs::write(sessions.join(format!("session-{key}")), bytes).unwrap();
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "memcached")]
#[test]
fn a_memcached_session_that_shares_one_object_among_many_keys_is_read() {
    let memcached = servers::Server::memcached();
    let storage = format!(
        "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
        memcached.address()
    );
    shared_sessions_are_read_on_both_sides(
        "hostile-shared-memcached",
        &storage,
        0,
        |key, bytes| {
            // As python-memcached stores a pickle: flag 1, no expiry of its own here.
            let mut set = format!("set {key} 1 0 {}\r\n", bytes.len()).into_bytes();
            set.extend(bytes);
            set.extend(b"\r\n");
            assert!(memcached_cmd(memcached.port, &set).starts_with(b"STORED"));
        },
    );
}

#[cfg(feature = "redis")]
#[test]
fn a_redis_session_that_shares_one_object_among_many_keys_is_read() {
    let dir = servers::temp_dir("hostile-shared-redis");
    let redis = servers::Server::redis(&dir);
    // The site's cherrys config, which we read as it is.
    let storage = format!(
        "tools.sessions.storage_class = cherrys.RedisSession\n\
         tools.sessions.host = \"127.0.0.1\"\ntools.sessions.port = {}\n\
         tools.sessions.prefix = \"h:\"\n",
        redis.port
    );
    shared_sessions_are_read_on_both_sides(
        "hostile-shared-redis-servers",
        &storage,
        5,
        |key, bytes| {
            let key = format!("h:{key}");
            let set: &[&[u8]] = &[b"SET", key.as_bytes(), bytes, b"EX", b"3600"];
            assert!(redis_cmd(redis.port, set).starts_with(b"+OK"));
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
}
