//! `tools.sessions.servers` entries as python-memcached reads them (`_Host`): `host:port`,
//! `host` (port 11211), `inet:host:port`, or `unix:/path`.

/// The entry as a connection address (`tcp://host:port` or `unix:///path`), or `None` when
/// python-memcached would refuse it too.
pub(crate) fn memcached_dsn(server: &str) -> Option<String> {
    if let Some(path) = server.strip_prefix("unix:") {
        return (!path.is_empty()).then(|| format!("unix://{path}"));
    }
    let server = server.strip_prefix("inet:").unwrap_or(server);
    let (host, port) = match server.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().ok()?),
        None => (server, 11211),
    };
    let valid = !host.is_empty() && !host.contains(['/', ' ', '[', ']']);
    valid.then(|| format!("tcp://{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::memcached_dsn as dsn;

    #[test]
    fn server_spellings() {
        assert_eq!(
            dsn("127.0.0.1:11311").as_deref(),
            Some("tcp://127.0.0.1:11311")
        );
        assert_eq!(dsn("localhost").as_deref(), Some("tcp://localhost:11211"));
        assert_eq!(dsn("inet:mc:1").as_deref(), Some("tcp://mc:1"));
        assert_eq!(
            dsn("unix:/run/mc.sock").as_deref(),
            Some("unix:///run/mc.sock")
        );
        assert_eq!(dsn("mc:notaport"), None);
        assert_eq!(dsn(":11211"), None);
        assert_eq!(dsn("mc:70000"), None);
    }
}
