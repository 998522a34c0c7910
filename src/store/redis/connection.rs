//! The one multiplexed connection a store keeps, reopened after an outage or a failover,
//! and how a failure is told apart: an outage (503) or anything else.

use super::*;

impl RedisStore {
    /// The connection, opened if there is none (first use, or dropped after a failover).
    pub(super) async fn connection(&self) -> Result<Conn, StoreError> {
        let connections = &self.inner.connection;
        let conn = |(generation, manager)| Conn {
            manager,
            generation,
            store: self.inner.clone(),
        };
        if let Some(current) = connections.current() {
            return Ok(conn(current));
        }
        // One opening at a time: the requests that find no connection wait for it.
        let mut opened = connections.opening.lock().await;
        if let Some(current) = connections.current() {
            return Ok(conn(current));
        }
        let manager = self.open().await?;
        *opened += 1;
        let current = (*opened, manager);
        *connections
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(current.clone());
        Ok(conn(current))
    }

    /// A new connection to the server, or to the master the sentinel names now.
    pub(super) async fn open(&self) -> Result<Link, StoreError> {
        let waits = self
            .inner
            .replica_acks
            .map_or(Duration::ZERO, |a| a.timeout);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT + waits)
            .set_number_of_retries(1)
            .set_max_delay(200);
        if let Some(cluster) = &self.inner.cluster {
            return cluster
                .get_async_connection()
                .await
                .map(Link::Cluster)
                .map_err(backend);
        }
        let client = match &self.inner.sentinel {
            None => self.inner.client.clone(),
            Some(sentinel) => sentinel.master().await?,
        };
        ConnectionManager::new_with_config(client, config)
            .await
            .map(|manager| Link::Single(Box::new(manager)))
            .map_err(backend)
    }

    /// Unless turned off, `WAIT` for the replicas to have this connection's writes; an
    /// error if too few confirm them in time.
    pub(super) async fn replicated(&self, redis: &mut Conn) -> Result<(), StoreError> {
        let Some(acks) = self.inner.replica_acks else {
            return Ok(());
        };
        let acked: i64 = acks.command().query_async(redis).await.map_err(backend)?;
        redis.enough(acks, acked)
    }

    /// `evalsha` (an `EVALSHA` of `script`) followed by [`Self::replicated`]'s `WAIT`, in
    /// one round trip. A server that does not know the script (restarted, or a replica
    /// promoted since it was loaded) answers `NOSCRIPT` without running it: the script is
    /// loaded and both are sent again.
    pub(super) async fn run_replicated(
        &self,
        redis: &mut Conn,
        script: &redis::Script,
        evalsha: redis::Cmd,
    ) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.add_command(evalsha).ignore();
        let acks = self.inner.replica_acks;
        if let Some(acks) = acks {
            pipe.add_command(acks.command());
        }
        let mut loaded = false;
        loop {
            let ran = match acks {
                Some(acks) => match pipe.query_async::<(i64,)>(redis).await {
                    Ok((acked,)) => return redis.enough(acks, acked),
                    Err(err) => err,
                },
                None => match pipe.query_async::<()>(redis).await {
                    Ok(()) => return Ok(()),
                    Err(err) => err,
                },
            };
            if ran.kind() != redis::ErrorKind::NoScriptError || loaded {
                return Err(backend(ran));
            }
            script.load_async(redis).await.map_err(backend)?;
            loaded = true;
        }
    }
}

/// The store's connection: none yet, or the one in use with its generation (a number that
/// tells a connection from the one that replaced it).
#[derive(Default)]
pub(super) struct Connections {
    pub(super) current: std::sync::Mutex<Option<(u64, Link)>>,
    /// Held while a connection is opened; the count of connections opened.
    pub(super) opening: tokio::sync::Mutex<u64>,
}

impl Connections {
    pub(super) fn current(&self) -> Option<(u64, Link)> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops the connection `generation` (not one that already replaced it).
    pub(super) fn forget(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|(g, _)| *g == generation) {
            *current = None;
        }
    }
}

/// A TLS handshake that failed on the server's certificate (rustls reports it as invalid
/// data): a configuration to fix, not an outage to wait out.
pub(super) fn is_refused_certificate(e: &redis::RedisError) -> bool {
    std::error::Error::source(e)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
}

/// A server that refused our credentials (or wanted some).
pub(super) fn is_refused_password(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
}

/// A command's error that a failover explains: the server went away, did not answer,
/// answers that it is a replica now (`READONLY`, also inside a transaction's abort), or
/// (in a cluster) that the cluster is down or its slot is moving.
pub(super) fn points_elsewhere(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            redis::ErrorKind::ReadOnly
                | redis::ErrorKind::MasterDown
                | redis::ErrorKind::ClusterDown
                | redis::ErrorKind::TryAgain
        )
        || e.to_string().contains("READONLY")
}

/// The connection a command goes over. Through a sentinel, a failure that a failover
/// explains drops it from the store, so the next command asks the sentinel again.
#[derive(Clone)]
pub(super) struct Conn {
    pub(super) manager: Link,
    pub(super) generation: u64,
    pub(super) store: Arc<Inner>,
}

impl Conn {
    pub(super) fn failed(&self, e: &redis::RedisError) {
        if self.store.sentinel.is_some() && points_elsewhere(e) {
            self.store.connection.forget(self.generation);
        }
    }

    /// Whether `acked` replicas are enough; if not, an outage, and through a sentinel the
    /// connection is dropped (the master may have been replaced).
    pub(super) fn enough(&self, acks: ReplicaAcks, acked: i64) -> Result<(), StoreError> {
        if acked >= i64::from(acks.replicas) {
            return Ok(());
        }
        if self.store.sentinel.is_some() {
            self.store.connection.forget(self.generation);
        }
        Err(unavailable(std::io::Error::other(format!(
            "a write reached {acked} of the {} Redis replicas it waits for within {} ms (a failover, or a replica down?)",
            acks.replicas,
            acks.timeout.as_millis()
        ))))
    }
}

impl redis::aio::ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let reply = self.manager.req_packed_command(cmd).await;
            if let Err(e) = &reply {
                self.failed(e);
            }
            reply
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move {
            let reply = self
                .manager
                .req_packed_commands(pipeline, offset, count)
                .await;
            match &reply {
                Err(e) => self.failed(e),
                // Errors inside a pipeline's replies (a write refused by a replica).
                Ok(values) => {
                    for value in values {
                        if let redis::Value::ServerError(e) = value {
                            self.failed(&redis::RedisError::from(e.clone()));
                        }
                    }
                }
            }
            reply
        })
    }

    fn get_db(&self) -> i64 {
        self.manager.get_db()
    }
}

/// A connection to one server (reopened by redis-rs after an outage), or to a cluster.
#[derive(Clone)]
pub(super) enum Link {
    // Boxed: a cluster connection is a pointer, a connection manager much larger.
    Single(Box<ConnectionManager>),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl redis::aio::ConnectionLike for Link {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Link::Single(manager) => manager.req_packed_command(cmd),
            Link::Cluster(cluster) => cluster.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Link::Single(manager) => manager.req_packed_commands(pipeline, offset, count),
            Link::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Single(manager) => manager.get_db(),
            Link::Cluster(cluster) => cluster.get_db(),
        }
    }
}

/// How many replicas must confirm a write, and how long to wait for them.
#[derive(Clone, Copy)]
pub(super) struct ReplicaAcks {
    pub(super) replicas: u32,
    pub(super) timeout: Duration,
}

impl ReplicaAcks {
    /// Through a sentinel: a failover promotes a replica, so one must have each write.
    pub(super) const SENTINEL_DEFAULT: Self = Self {
        replicas: 1,
        timeout: Duration::from_millis(500),
    };

    pub(super) fn command(self) -> redis::Cmd {
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(self.replicas).arg(millis(self.timeout));
        cmd
    }
}
