//! One request through CherryPy's session tool, step by step.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};

use tracing::Instrument;

use super::request_path::dispatch_path;
use super::save::carry_out_whole;
use super::{SessionError, Shared};
use crate::cookie::{MaxAge, SetCookie, cookie_value, http_date};
use crate::session::{Fetched, Session, later, lock_timeout, outlived};
use crate::session_config::{LockingMode, SessionConfig};
use crate::session_id::SessionId;
use crate::store::{ErrorChain, SessionStore, StoreError, short, unknown_if_undecodable};

/// The middleware service [`super::CherryPySessions`] builds for each worker.
pub struct SessionMiddleware<S> {
    service: Rc<S>,
    shared: Arc<Shared>,
}

impl<S> SessionMiddleware<S> {
    pub(super) fn new(service: S, shared: Arc<Shared>) -> Self {
        Self {
            service: Rc::new(service),
            shared,
        }
    }
}

impl<S, B> Service<ServiceRequest> for SessionMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            // The lookup below is linear in the path; the budget caps what one request can
            // ask for, before any session work.
            if req.path().len() > crate::limits::MAX_REQUEST_PATH_BYTES {
                tracing::warn!(
                    bytes = req.path().len(),
                    budget = crate::limits::MAX_REQUEST_PATH_BYTES,
                    "request path refused: longer than the budget (414)"
                );
                let res = HttpResponse::UriTooLong().finish();
                return Ok(req.into_response(res).map_into_right_body());
            }
            let config = Arc::clone(shared.configs.for_path(&dispatch_path(req.path())));
            if !config.on.value {
                return service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body);
            }
            // One span per request with a session: its events (lock waits, loads, saves,
            // store failures) carry the session id's first 8 hex digits, never the whole.
            // Built only when a subscriber may want it: with tracing's `log` feature (which
            // actix turns on) even a disabled span records its fields for `log`, and entering
            // one costs every poll.
            let span = if tracing::level_enabled!(tracing::Level::INFO) {
                tracing::info_span!("session", id = tracing::field::Empty)
            } else {
                tracing::Span::none()
            };
            let traced = !span.is_disabled();
            let request = async move {
                let session = match open(&shared, &config, &req).await {
                    Ok(session) => session,
                    Err(err) => return Ok(store_failed(req.into_parts().0, &config, err)),
                };
                if traced {
                    tracing::Span::current().record("id", short(&session.id()));
                }
                req.extensions_mut().insert(session.clone());
                let outcome = service.call(req).await;
                finish(&session, &config, outcome).await
            };
            // One await, so this future holds `request` once. Entering `Span::none()`
            // costs a branch.
            request.instrument(span).await
        })
    }
}

/// `init`: the cookie's id if the store knows it, else a new one; the data fetched; the lock
/// taken for `implicit` and `early` locking.
async fn open(
    shared: &Shared,
    config: &Arc<SessionConfig>,
    req: &ServiceRequest,
) -> Result<Session, StoreError> {
    let store = shared.store_for(config).clone();
    let cookies = req
        .headers()
        .get_all(header::COOKIE)
        .map(HeaderValue::as_bytes);
    // A malformed, hostile or unknown id is an unknown session: a new id (fixation
    // protection).
    let candidate = cookie_value(cookies, &config.name.value).and_then(|v| SessionId::parse(&v));
    let locks = matches!(
        config.locking.value,
        LockingMode::Implicit | LockingMode::Early
    );
    let started = std::time::Instant::now();
    let (lock, record) = match candidate {
        Some(id) if locks => match store.lock_and_load(&id, lock_timeout(config)).await {
            Ok((lock, record)) => {
                step!(
                    config,
                    session = short(&id),
                    waited_ms = started.elapsed().as_millis(),
                    found = record.is_some(),
                    "session locked and loaded"
                );
                (Some(lock), record)
            }
            Err(err) => (None, unknown_if_undecodable(&id, err)?),
        },
        Some(id) => match store.load(&id).await {
            Ok(record) => {
                step!(
                    config,
                    session = short(&id),
                    found = record.is_some(),
                    "session loaded"
                );
                (None, record)
            }
            Err(err) => (None, unknown_if_undecodable(&id, err)?),
        },
        None => (None, None),
    };
    let mut fetched = None;
    let mut stored_expiry = None;
    let mut replaces = None;
    let now = SystemTime::now();
    let id = match candidate {
        // Past `max_lifetime`: expired however active, and under a new id (its data is
        // deleted at the save).
        Some(id)
            if record
                .as_ref()
                .is_some_and(|r| outlived(config, &r.data, now)) =>
        {
            step!(
                config,
                session = short(&id),
                "session older than max_lifetime: a new id"
            );
            replaces = Some(id);
            None
        }
        Some(id) => match record {
            Some(record) => {
                stored_expiry = Some(record.expires);
                fetched = (!record.is_expired(now)).then_some(record.data);
                Some(id)
            }
            None => None,
        },
        None => None,
    };
    let (id, lock) = match id {
        Some(id) => (id, lock),
        None => {
            drop(lock);
            let id = new_id(&store).await?;
            step!(config, session = short(&id), "new session id");
            let lock = if locks {
                Some(store.lock(&id, lock_timeout(config)).await?)
            } else {
                None
            };
            (id, lock)
        }
    };
    Ok(Session::opened(
        Arc::clone(config),
        store,
        id,
        Fetched {
            data: fetched,
            stored_expiry,
            replaces,
        },
        lock,
    ))
}

/// A fresh id the store does not know (CherryPy loops the same way).
async fn new_id(store: &impl SessionStore) -> Result<SessionId, StoreError> {
    loop {
        let id = SessionId::generate();
        if !store.exists(&id).await? {
            return Ok(id);
        }
    }
}

/// `save` unless the handler failed: CherryPy saves after any response a handler gives,
/// `HTTPError` and `HTTPRedirect` included, and skips the save only when the handler raised
/// an unexpected exception (an `Err` or a panic here). Then the lock is released and the
/// cookie set on every response, error responses included.
async fn finish<B: MessageBody + 'static>(
    session: &Session,
    config: &Arc<SessionConfig>,
    outcome: Result<ServiceResponse<B>, Error>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let handler_failed = match &outcome {
        Ok(res) => res.response().error().is_some() && res.status().is_server_error(),
        Err(_) => true,
    };
    // Its own statement, so the ending's future is gone before the store's work starts
    // (a scrutinee's temporaries would live through the match, doubling this future).
    let ended = session.end(handler_failed).await;
    let (saved, refused) = match ended {
        Ok(ending) => {
            let refused = ending.refused;
            (
                carry_out_whole(session.store(), ending, config).await,
                refused,
            )
        }
        Err(err) => (Err(err), false),
    };
    // Handler errors reach here as responses; an `Err` comes from an inner middleware and
    // carries no request to answer with, so it goes on without a cookie.
    let res = outcome?;
    let mut res = match saved {
        Ok(()) if refused => ServiceResponse::from_err(SessionError::Refused, res.into_parts().0)
            .map_into_right_body(),
        Ok(()) => res.map_into_left_body(),
        Err(err) => store_failed(res.into_parts().0, config, err),
    };
    let id = session.id();
    // One reading of the clock for the cookie's `expires` and the response's `Date`:
    // actix-web's own `Date` is a cached value up to half a second old, which would put
    // `expires` one second further than CherryPy's `Date + timeout` about a third of the
    // time.
    let now = SystemTime::now();
    let cookie = set_cookie(session, config, res.request(), &id, now);
    let dated = cookie.expires.is_some();
    let value = cookie.header_value();
    // The header takes the string's buffer as it is (no copy).
    if let Ok(value) = HeaderValue::from_maybe_shared(actix_web::web::Bytes::from(value)) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    if dated && let Some(date) = date_header(now) {
        res.headers_mut().insert(header::DATE, date);
    }
    Ok(res)
}

/// The `Date` header for `now`, made once per second on each worker thread: cloning it
/// costs a reference count, where making it costs two allocations.
fn date_header(now: SystemTime) -> Option<HeaderValue> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(u64, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    let second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    LAST.with_borrow_mut(|last| match last {
        Some((at, value)) if *at == second => Some(value.clone()),
        _ => {
            let value = HeaderValue::from_str(&http_date(now)).ok()?;
            *last = Some((second, value.clone()));
            Some(value)
        }
    })
}

/// A store failure: a 500 through the app's error handlers, whose message says nothing of
/// the cause; the cause goes to the log.
fn store_failed<B>(
    request: HttpRequest,
    config: &SessionConfig,
    err: StoreError,
) -> ServiceResponse<EitherBody<B>> {
    let error = SessionError::Store(err);
    tracing::error!(
        store = config.storage.value.as_str(),
        status = actix_web::ResponseError::status_code(&error).as_u16(),
        error = %ErrorChain(&error),
        "session request failed"
    );
    ServiceResponse::from_err(error, request).map_into_right_body()
}

/// The cookie as CherryPy sets it: path from `path`, else the request
/// header named by `path_header`, else `/`; `expires`/`Max-Age` only when persistent with a
/// non-zero timeout; after `expire()`, one year in the past and no `Max-Age`.
fn set_cookie<'a>(
    session: &Session,
    config: &'a SessionConfig,
    req: &'a HttpRequest,
    id: &'a SessionId,
    now: SystemTime,
) -> SetCookie<'a> {
    let path = config
        .path
        .value
        .as_deref()
        .filter(|p| !p.is_empty())
        .or_else(|| {
            let name = config.path_header.value.as_deref()?;
            let value = req.headers().get(name)?.to_str().ok()?;
            (!value.is_empty()).then_some(value)
        })
        .unwrap_or("/");
    let timeout = config.timeout.value;
    let (expires, max_age) = if session.cookie_expired() {
        let year = Duration::from_secs(60 * 60 * 24 * 365);
        (Some(now - year), None)
    } else if (config.persistent.value || session.wants_persistent_cookie()) && !timeout.is_zero() {
        // CherryPy's tool function regenerate() re-sets the cookie from `timeout` alone,
        // ignoring `persistent` (checked against CherryPy 18.10); the
        // session object's regenerate() leaves the cookie as configured.
        let seconds = timeout.as_f64() * 60.0;
        let max_age = if timeout.is_int() {
            MaxAge::Int(seconds as i64)
        } else {
            MaxAge::Float(seconds)
        };
        (Some(later(now, timeout.as_duration())), Some(max_age))
    } else {
        (None, None)
    };
    SetCookie {
        name: config.name.value.as_str().into(),
        value: id.as_str().into(),
        domain: config.domain.value.as_deref().map(Into::into),
        expires,
        http_only: config.httponly.value,
        max_age,
        path: path.into(),
        same_site: config.samesite.value.map(|s| s.as_str().into()),
        secure: config.secure.value,
    }
}
