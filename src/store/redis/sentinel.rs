//! The master named by a Sentinel (cherrys' `is_sentinel`), asked again after a failover.

use super::*;

/// How a store reaches a Redis master through a Sentinel: cherrys' `is_sentinel = True`
/// with `host`, `port`, `sentinel_service`, `sentinel_pass`, `user`, `password`, `ssl`
/// and `tls_skip_verify`. Build it with [`SentinelOptions::new`], then set the fields it
/// needs.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct SentinelOptions {
    /// The sentinel's host (cherrys' `host`).
    pub host: String,
    /// The sentinel's port (cherrys' `port`; sentinels usually listen on 26379).
    pub port: u16,
    /// The master's name at the sentinel (cherrys' `sentinel_service`).
    pub service: String,
    /// The ACL user on the master and its replicas (cherrys' `user`).
    pub user: Option<String>,
    /// The password on the master and its replicas (cherrys' `password`).
    pub password: Option<String>,
    /// The sentinel's own password (cherrys' `sentinel_pass`).
    pub sentinel_password: Option<String>,
    /// TLS to the sentinel and to the master (cherrys' `ssl`).
    pub tls: bool,
    /// With `tls`, accept any certificate (cherrys' `tls_skip_verify`, which in this mode
    /// turns redis-py's certificate check off).
    pub tls_skip_verify: bool,
}

impl SentinelOptions {
    /// The sentinel at `host:port`, asked for the master named `service`; no passwords,
    /// no TLS.
    pub fn new(host: impl Into<String>, port: u16, service: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            service: service.into(),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for SentinelOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Passwords never reach a log.
        f.debug_struct("SentinelOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("service", &self.service)
            .field("user", &self.user)
            .field("tls", &self.tls)
            .field("tls_skip_verify", &self.tls_skip_verify)
            .finish_non_exhaustive()
    }
}

/// The sentinel a store asks for its master.
pub(super) struct Sentinel {
    /// redis-rs' client asks one question at a time.
    pub(super) client: tokio::sync::Mutex<SentinelClient>,
    pub(super) service: String,
}

impl Sentinel {
    pub(super) fn new(options: &SentinelOptions) -> Result<Self, StoreError> {
        let (host, port) = (options.host.clone(), options.port);
        let address = if options.tls {
            redis::ConnectionAddr::TcpTls {
                host,
                port,
                insecure: options.tls_skip_verify,
                tls_params: None,
            }
        } else {
            redis::ConnectionAddr::Tcp(host, port)
        };
        let mut builder = SentinelClientBuilder::new(
            [address.clone()],
            options.service.clone(),
            SentinelServerType::Master,
        )
        .map_err(backend)?;
        if options.tls {
            let mode = if options.tls_skip_verify {
                redis::TlsMode::Insecure
            } else {
                redis::TlsMode::Secure
            };
            builder = builder
                .set_client_to_redis_tls_mode(mode)
                .set_client_to_sentinel_tls_mode(mode);
            use_tls_provider(&redis::ConnectionInfo {
                addr: address,
                redis: redis::RedisConnectionInfo::default(),
            });
        }
        if let Some(user) = &options.user {
            builder = builder.set_client_to_redis_username(user.clone());
        }
        if let Some(password) = &options.password {
            builder = builder.set_client_to_redis_password(password.clone());
        }
        if let Some(password) = &options.sentinel_password {
            builder = builder.set_client_to_sentinel_password(password.clone());
        }
        Ok(Self {
            client: tokio::sync::Mutex::new(builder.build().map_err(backend)?),
            service: options.service.clone(),
        })
    }

    /// A client for the master the sentinel names now (it has checked that the server
    /// says it is a master). A failure is an outage (during a failover the sentinel may
    /// name no master for a moment), unless a certificate or a password was refused.
    pub(super) async fn master(&self) -> Result<redis::Client, StoreError> {
        let mut client = self.client.lock().await;
        // The sentinel and then the master are asked, each over a new connection.
        match tokio::time::timeout(
            CONNECT_TIMEOUT + RESPONSE_TIMEOUT,
            client.async_get_client(),
        )
        .await
        {
            Ok(Ok(master)) => Ok(master),
            // A certificate that fails verification, or a password refused, is to be
            // fixed, not waited out.
            Ok(Err(e)) if is_refused_certificate(&e) || is_refused_password(&e) => {
                Err(codec::backend(e))
            }
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the sentinel did not name the master of {:?} in time",
                    self.service
                ),
            ))),
        }
    }
}
