//! Memory per RAM session: `cargo run --release --example ram_rss [COUNT]` stores COUNT
//! (default 1,000,000) small sessions in a [`RamStore`] and prints the growth of the
//! process's resident set per session, and what of it is not the session's own data.
//!
//! A session's "own data" is counted as the bytes of its keys and values (`user` and an
//! address of about 20 bytes here); everything else (id, expiry, map, hash table,
//! allocator) is overhead.

#![allow(clippy::print_stdout, reason = "the measurement is the output")]

use std::time::{Duration, SystemTime};

use actix_cherrypy::session_id::SessionId;
use actix_cherrypy::session_value::{SessionData, SessionValue};
use actix_cherrypy::store::{RamStore, Record, SessionStore};

/// The resident set size, from /proc/self/status.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn main() -> anyhow::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let store = RamStore::new();
    let expires = SystemTime::now() + Duration::from_secs(3600);
    // Ids made up front, so their own memory is not counted.
    let ids: Vec<SessionId> = (0..count).map(|_| SessionId::generate()).collect();
    let before = rss_bytes();
    let mut data_bytes = 0;
    runtime.block_on(async {
        for (n, id) in ids.iter().enumerate() {
            let mut data = SessionData::new();
            let user = format!("user{n}@example.com");
            data_bytes += "user".len() + user.len();
            data.insert("user".into(), SessionValue::Str(user));
            store.save(id, Record { data, expires }).await?;
        }
        anyhow::Ok(())
    })?;
    let grown = rss_bytes().saturating_sub(before);
    let per_session = grown as f64 / count as f64;
    let data_per_session = data_bytes as f64 / count as f64;
    println!("sessions:              {count}");
    println!(
        "resident set growth:   {:.1} MiB",
        grown as f64 / 1_048_576.0
    );
    println!("per session:           {per_session:.0} bytes");
    println!("  of which data:       {data_per_session:.0} bytes (key and value text)");
    println!(
        "  beyond the data:     {:.0} bytes",
        per_session - data_per_session
    );
    assert_eq!(store.len(), count);
    Ok(())
}
