//! How a Redis store is made: from a URL or cherrys' parts, over TLS, through a Sentinel,
//! in a Cluster, with its lock's lease, prefixes and replica acknowledgements.

use super::*;

impl RedisStore {
    /// How long a session lock outlives a holder that stops renewing it (a process that
    /// crashed while holding it); the holder renews it every third of that. Default 30 s.
    #[must_use]
    pub fn with_lock_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The key of a session's lock is `lock_prefix + id` (cherrys' `lock_prefix`, default
    /// `lock_`). It must differ from the data's `prefix` (cherrys asserts the same): both
    /// keys would be one.
    pub fn with_lock_prefix(self, lock_prefix: impl Into<String>) -> Result<Self, StoreError> {
        let lock_prefix = lock_prefix.into();
        check_prefixes(&self.inner.prefix, &lock_prefix)?;
        let stale_lock_after = self.inner.stale_lock_after;
        Ok(self.rebuilt(|inner| Inner {
            lock_prefix,
            stale_lock_after,
            ..inner
        }))
    }

    /// How long a session lock that never expires (one cherrys takes with
    /// `lock_timeout = None`) may stay with one holder before a request waiting for it
    /// fails with [`StoreError::LockTimeout`] and a logged warning naming the key. CherryPy
    /// would wait for ever for such a lock, left behind by a process that died holding it.
    /// Default 60 s. Locks that expire (ours, cherrys' with a `lock_timeout`) are waited
    /// for as the middleware asks (`lock_timeout`, else for ever).
    #[must_use]
    pub fn with_stale_lock_after(self, limit: Duration) -> Self {
        self.rebuilt(|inner| Inner {
            stale_lock_after: limit,
            ..inner
        })
    }

    /// The store with `change` made to its settings: in place before the store is shared,
    /// else on a fresh handle that shares nothing with the clones (no lock held yet can be
    /// lost by this, as only clones hold it).
    pub(super) fn rebuilt(self, change: impl FnOnce(Inner) -> Inner) -> Self {
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                client: shared.client.clone(),
                sentinel: shared.sentinel.clone(),
                cluster: shared.cluster.clone(),
                connection: Connections::default(),
                replica_acks: shared.replica_acks,
                prefix: shared.prefix.clone(),
                lock_prefix: shared.lock_prefix.clone(),
                stale_lock_after: shared.stale_lock_after,
                locks: LockTable::default(),
                renewals: Arc::default(),
            },
        };
        Self {
            inner: Arc::new(change(inner)),
            lease: self.lease,
        }
    }

    /// A store on the server at `url` (`redis://[user:password@]host:port/db`), keys starting
    /// with `prefix`, lock keys with `lock_`. Nothing is connected until the first request,
    /// so a server that is down at startup fails requests, not the startup; a malformed URL,
    /// or a `prefix` of `lock_`, is an error here.
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, StoreError> {
        let mut info = url.into_connection_info().map_err(backend)?;
        // redis-rs reads a `#insecure` fragment as "do not verify the certificate";
        // redis-py, under cherrys, ignores it and verifies, and so does this store.
        if let redis::ConnectionAddr::TcpTls { insecure, .. } = &mut info.addr {
            *insecure = false;
        }
        let client = redis::Client::open(info).map_err(backend)?;
        Self::with_client(client, prefix.into())
    }

    /// A store on `host:port`, database `db`, with optional ACL user and password (the
    /// `cherrys` options).
    pub fn from_parts(
        host: &str,
        port: u16,
        db: i64,
        user: Option<&str>,
        password: Option<&str>,
        prefix: impl Into<String>,
    ) -> Result<Self, StoreError> {
        let info = redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp(host.to_owned(), port),
            redis: redis::RedisConnectionInfo {
                db,
                username: user.map(str::to_owned),
                password: password.map(str::to_owned),
                ..Default::default()
            },
        };
        let client = redis::Client::open(info).map_err(backend)?;
        Self::with_client(client, prefix.into())
    }

    /// The same server reached over TLS, as cherrys' `ssl = True` does without `url`: the
    /// server's certificate is verified against the system's trusted roots (which
    /// `SSL_CERT_FILE`/`SSL_CERT_DIR` replace), and its name against `host`. A `rediss://`
    /// URL given to [`Self::new`] does the same.
    pub fn over_tls(self) -> Result<Self, StoreError> {
        let info = self.inner.client.get_connection_info();
        let addr = match &info.addr {
            redis::ConnectionAddr::Tcp(host, port) => redis::ConnectionAddr::TcpTls {
                host: host.clone(),
                port: *port,
                insecure: false,
                tls_params: None,
            },
            other => other.clone(),
        };
        let info = redis::ConnectionInfo {
            addr,
            redis: info.redis.clone(),
        };
        use_tls_provider(&info);
        let client = redis::Client::open(info).map_err(backend)?;
        Ok(self.rebuilt(|inner| Inner {
            client,
            connection: Connections::default(),
            ..inner
        }))
    }

    /// A store on the master that a Redis Sentinel names, as cherrys' `is_sentinel = True`
    /// reaches it: the sentinel at `options.host:options.port` is asked for the master of
    /// `options.service`, and asked again after a failover. Database 0, as cherrys (which
    /// passes no `db` in this mode). Writes wait for one replica (see
    /// [`Self::with_replica_acks`]). Nothing is connected until the first request.
    pub fn through_sentinel(
        options: &SentinelOptions,
        prefix: impl Into<String>,
    ) -> Result<Self, StoreError> {
        let sentinel = Sentinel::new(options)?;
        // What the store reports of itself (and the startup check reaches): the sentinel.
        let client = redis::Client::open(redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp(options.host.clone(), options.port),
            redis: redis::RedisConnectionInfo::default(),
        })
        .map_err(backend)?;
        let store = Self::with_client(client, prefix.into())?;
        Ok(store.rebuilt(|inner| Inner {
            sentinel: Some(Arc::new(sentinel)),
            replica_acks: Some(ReplicaAcks::SENTINEL_DEFAULT),
            ..inner
        }))
    }

    /// The same server as one node of a Redis Cluster (`tools.sessions.cluster = True`,
    /// this crate's extension): the cluster's other nodes are learnt from it, and each
    /// command goes to the node holding its keys. The keys are `prefix{id}` and
    /// `lock_prefix{id}` (a hash tag, so that a session's keys share a slot), where a
    /// store outside a cluster uses cherrys' `prefix + id`. Call it after
    /// [`Self::over_tls`]; a database other than 0 is an error (a cluster has only 0).
    pub fn in_cluster(self) -> Result<Self, StoreError> {
        let info = self.inner.client.get_connection_info().clone();
        if info.redis.db != 0 {
            return Err(StoreError::Backend(
                format!("a Redis Cluster has only database 0, not {}", info.redis.db).into(),
            ));
        }
        let waits = self
            .inner
            .replica_acks
            .map_or(Duration::ZERO, |a| a.timeout);
        let cluster = redis::cluster::ClusterClientBuilder::new(vec![info])
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT + waits)
            .retries(1)
            .build()
            .map_err(backend)?;
        Ok(self.rebuilt(|inner| Inner {
            cluster: Some(cluster),
            connection: Connections::default(),
            ..inner
        }))
    }

    /// After each write (a lock taken, a session saved or deleted), wait with `WAIT` until
    /// `replicas` replicas have it, for at most `timeout`; a write that fewer confirm in
    /// time fails with [`StoreError::Unavailable`] (the write itself may still reach
    /// them). With a sentinel this is one replica and 500 ms unless set here; elsewhere
    /// it is off. `replicas == 0` turns it off. `timeout` is added to the time a command
    /// may take before the request fails.
    #[must_use]
    pub fn with_replica_acks(self, replicas: u32, timeout: Duration) -> Self {
        let replica_acks = (replicas > 0).then_some(ReplicaAcks { replicas, timeout });
        self.rebuilt(|inner| Inner {
            replica_acks,
            connection: Connections::default(),
            ..inner
        })
    }

    /// The server's host and port, where it is reached over TCP (for the startup check).
    pub(crate) fn tcp_address(&self) -> Option<(String, u16)> {
        match &self.inner.client.get_connection_info().addr {
            redis::ConnectionAddr::Tcp(host, port)
            | redis::ConnectionAddr::TcpTls { host, port, .. } => Some((host.clone(), *port)),
            _ => None,
        }
    }

    pub(super) fn with_client(client: redis::Client, prefix: String) -> Result<Self, StoreError> {
        check_prefixes(&prefix, DEFAULT_LOCK_PREFIX)?;
        use_tls_provider(client.get_connection_info());
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                sentinel: None,
                cluster: None,
                connection: Connections::default(),
                replica_acks: None,
                prefix,
                lock_prefix: DEFAULT_LOCK_PREFIX.to_owned(),
                stale_lock_after: DEFAULT_STALE_LOCK_AFTER,
                locks: LockTable::default(),
                renewals: Arc::default(),
            }),
            lease: shared_lock::DEFAULT_LEASE,
        })
    }
}

/// For a TLS connection: rustls' default crypto provider, unless the application installed
/// one. redis' rustls support leaves the choice to the application, and rustls cannot make
/// it alone when a build has both of its providers: its connection would panic.
pub(super) fn use_tls_provider(info: &redis::ConnectionInfo) {
    if matches!(info.addr, redis::ConnectionAddr::TcpTls { .. })
        && rustls::crypto::CryptoProvider::get_default().is_none()
    {
        // An error only means that another thread installed one meanwhile.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// cherrys' `assert cls.prefix != cls.lock_prefix`: otherwise a session's data would be
/// its own lock (its lock could never be taken while the session exists).
pub(super) fn check_prefixes(prefix: &str, lock_prefix: &str) -> Result<(), StoreError> {
    if prefix == lock_prefix {
        return Err(StoreError::Backend(
            format!("the Redis prefix and lock_prefix are both {prefix:?}: a session's data and its lock would share one key").into(),
        ));
    }
    Ok(())
}
