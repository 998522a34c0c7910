//! A [`Record`] as CherryPy's backends store it: a pickle of `(data, expiration)`, the
//! expiration a naive local-time `datetime` (`datetime.now() + timeout`).

use std::time::SystemTime;

use chrono::{DateTime, Local, NaiveDateTime, TimeDelta, TimeZone, Utc};

use super::pickle::{self, PickleError};
use super::{Record, StoreError};

/// The record as CherryPy's FileSession (and `cherrys`) write it, protocol 4.
pub(crate) fn encode(record: &Record) -> Result<Vec<u8>, StoreError> {
    pickle::encode(&record.data, to_local(record.expires)).map_err(backend)
}

/// The session as python-memcached writes it for CherryPy's MemcachedSession, protocol 0,
/// with the naive expiry `expires` ([`to_local`]).
#[cfg(feature = "memcached")]
pub(crate) fn encode_protocol0(
    data: &crate::session_value::SessionData,
    expires: NaiveDateTime,
) -> Result<Vec<u8>, StoreError> {
    pickle::encode_protocol0(data, expires).map_err(backend)
}

/// The record as `cherrys` writes it to Redis (`pickle.HIGHEST_PROTOCOL`, CPython's bytes).
#[cfg(feature = "redis")]
pub(crate) fn encode_highest(record: &Record) -> Result<Vec<u8>, StoreError> {
    pickle::encode_highest(&record.data, to_local(record.expires)).map_err(backend)
}

/// Reads a stored pickle, any protocol.
pub(crate) fn decode(bytes: &[u8]) -> Result<Record, PickleError> {
    let (data, expires) = pickle::decode(bytes)?;
    Ok(Record {
        data,
        expires: from_local(expires),
    })
}

/// Reads a stored pickle, any protocol, as [`decode`], for a store that writes `budget`:
/// a session it could not write back is refused as over the budget. A session CherryPy
/// stored can be longer in the store's encoding than as it was read: objects it shared
/// through memo references are written once per use, and python-memcached's protocol 0 may
/// escape differently. Read anyway, it would be an unknown session only later, at the
/// save, as a failed request (and a read of it could not even extend its expiry where the
/// expiry is inside the value). The weighing walks what was decoded, without allocating.
#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) fn decode_for(bytes: &[u8], budget: pickle::Budget) -> Result<Record, PickleError> {
    let record = decode(bytes)?;
    let weight = record
        .data
        .iter()
        .map(|(k, v)| pickle::measure_entry(k, v, budget.encoding))
        .try_fold(pickle::Weight::default(), |sum, w| w.map(|w| sum.plus(w)))?;
    weight.check(record.data.len(), budget, false)?;
    Ok(record)
}

/// Broken bytes (truncated, not a pickle, not a session pair) as opposed to a well-formed
/// pickle of values outside our data model, which must never be overwritten with less.
pub(crate) fn is_garbage(err: &PickleError) -> bool {
    use PickleError as E;
    matches!(
        err,
        E::Truncated { .. }
            | E::UnknownOpcode { .. }
            | E::Malformed { .. }
            | E::NotASession(_)
            | E::InvalidDateTime(_)
    )
}

pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// A server that cannot be reached or did not answer in time (see
/// [`StoreError::Unavailable`]).
#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// The naive local time CherryPy stores for an expiry: `datetime.now() + timeout`, the
/// local clock now plus the time left, whatever the clock will read then.
pub(crate) fn to_local(t: SystemTime) -> NaiveDateTime {
    naive_expiry(t, SystemTime::now(), &Local)
}

/// The instant of a stored naive expiry: now plus the time the local clock has left to
/// reach it. CherryPy compares the naive value with `datetime.now()`, and so, through
/// this instant, do we.
pub(crate) fn from_local(t: NaiveDateTime) -> SystemTime {
    expiry_instant(t, SystemTime::now(), &Local)
}

/// `expires` as CherryPy writes an expiry at `now` in the zone `tz`: the local clock at
/// `now` plus the time left. Across a daylight-saving change this is not the wall-clock
/// time of `expires` itself: a session saved in the first of two 01:10s with 60 minutes
/// left reads 02:10, as CherryPy writes it, not the second 01:10; and it may be a time the
/// clock skips (02:30 the night it jumps from 02:00 to 03:00), which CherryPy writes too.
pub(crate) fn naive_expiry<Tz: TimeZone>(
    expires: SystemTime,
    now: SystemTime,
    tz: &Tz,
) -> NaiveDateTime {
    let clock = local_clock(now, tz);
    match expires.duration_since(now) {
        Ok(left) => TimeDelta::from_std(left)
            .ok()
            .and_then(|left| clock.checked_add_signed(left)),
        Err(past) => TimeDelta::from_std(past.duration())
            .ok()
            .and_then(|past| clock.checked_sub_signed(past)),
    }
    // Beyond any date a pickle can hold: the encoder refuses it.
    .unwrap_or(NaiveDateTime::MAX)
}

/// The instant at which a naive expiry read at `now` in the zone `tz` is reached, if the
/// local clock runs on as it reads now: `expiry_instant(e, now, tz) < now` exactly when
/// `e < datetime.now()`, CherryPy's test in its load and its clean-up. So a time the clock
/// skips is an instant like any other, and a time the clock reads twice is past once the
/// clock has read it the first time.
pub(crate) fn expiry_instant<Tz: TimeZone>(
    expires: NaiveDateTime,
    now: SystemTime,
    tz: &Tz,
) -> SystemTime {
    let left = expires.signed_duration_since(local_clock(now, tz));
    let instant = match left.to_std() {
        Ok(left) => now.checked_add(left),
        Err(_) => (-left).to_std().ok().and_then(|past| now.checked_sub(past)),
    };
    // Not an instant this system can hold: long past.
    instant.unwrap_or(SystemTime::UNIX_EPOCH)
}

/// What the local clock of the zone `tz` reads at `now`: CherryPy's `datetime.now()`.
fn local_clock<Tz: TimeZone>(now: SystemTime, tz: &Tz) -> NaiveDateTime {
    DateTime::<Utc>::from(now).with_timezone(tz).naive_local()
}

/// CherryPy's `int(time.mktime(expires.timetuple()))` for the naive expiry `expires` in
/// the zone `tz`: the seconds since the epoch that python-memcached gives memcached as the
/// item's expiry. A time the clock skips is read with the offset in force before the skip,
/// as glibc's `mktime` does (02:30 read as 02:30 standard time, 03:30 daylight time); of a
/// time the clock reads twice the later reading is taken (glibc takes either, depending
/// on earlier calls), so the item outlives every moment the naive comparison finds the
/// session live.
#[cfg(any(feature = "memcached", test))]
pub(crate) fn mktime<Tz: TimeZone>(expires: NaiveDateTime, tz: &Tz) -> i64 {
    use chrono::{LocalResult, Offset};
    let local = expires.and_utc().timestamp();
    match tz.from_local_datetime(&expires) {
        LocalResult::Single(t) => t.timestamp(),
        LocalResult::Ambiguous(_, later) => later.timestamp(),
        LocalResult::None => {
            // In a skip the offsets before and after it alternate: reading the time with
            // one gives an instant that has the other. The one before is the smaller (the
            // clock skipped forward), and reading with it gives the later instant.
            let offset_at = |seconds: i64| {
                DateTime::<Utc>::from_timestamp(seconds, 0).map_or(0, |utc| {
                    i64::from(
                        tz.offset_from_utc_datetime(&utc.naive_utc())
                            .fix()
                            .local_minus_utc(),
                    )
                })
            };
            let first = offset_at(local);
            let second = offset_at(local - first);
            let third = offset_at(local - second);
            local - second.min(third)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, MappedLocalTime, NaiveDate};
    use std::time::Duration;

    /// America/New_York from March 2026 to March 2028, without touching the process's
    /// time zone: standard time (UTC-5) but from the second Sunday of March, 02:00, to the
    /// first Sunday of November, 02:00, daylight time (UTC-4).
    #[derive(Clone, Copy, Debug)]
    struct NewYork;

    /// The daylight-time spans, in UTC seconds: from 07:00 UTC (02:00 EST) to 06:00 UTC
    /// (02:00 EDT).
    const DAYLIGHT: [(&str, &str); 2] = [
        ("2026-03-08T07:00:00", "2026-11-01T06:00:00"),
        ("2027-03-14T07:00:00", "2027-11-07T06:00:00"),
    ];

    const EST: i32 = -5 * 3600;
    const EDT: i32 = -4 * 3600;

    fn naive(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
    }

    fn utc(s: &str) -> SystemTime {
        SystemTime::from(naive(s).and_utc())
    }

    fn offset_at(seconds: i64) -> FixedOffset {
        let daylight = DAYLIGHT.iter().any(|(from, to)| {
            (naive(from).and_utc().timestamp()..naive(to).and_utc().timestamp()).contains(&seconds)
        });
        FixedOffset::east_opt(if daylight { EDT } else { EST }).unwrap()
    }

    impl TimeZone for NewYork {
        type Offset = FixedOffset;

        fn from_offset(_: &FixedOffset) -> Self {
            NewYork
        }

        fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<FixedOffset> {
            self.offset_from_local_datetime(&local.and_hms_opt(0, 0, 0).unwrap())
        }

        /// Each offset that reads `local` at an instant where it is in force; the earlier
        /// instant (daylight time) first.
        fn offset_from_local_datetime(
            &self,
            local: &NaiveDateTime,
        ) -> MappedLocalTime<FixedOffset> {
            let seconds = local.and_utc().timestamp();
            let fits = |o: i32| offset_at(seconds - i64::from(o)).local_minus_utc() == o;
            match (fits(EDT), fits(EST)) {
                (true, true) => MappedLocalTime::Ambiguous(fixed(EDT), fixed(EST)),
                (true, false) => MappedLocalTime::Single(fixed(EDT)),
                (false, true) => MappedLocalTime::Single(fixed(EST)),
                (false, false) => MappedLocalTime::None,
            }
        }

        fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
            self.offset_from_utc_datetime(&utc.and_hms_opt(0, 0, 0).unwrap())
        }

        fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
            offset_at(utc.and_utc().timestamp())
        }
    }

    fn fixed(seconds: i32) -> FixedOffset {
        FixedOffset::east_opt(seconds).unwrap()
    }

    const HOUR: Duration = Duration::from_secs(3600);

    /// Saved at 01:30 EST the night the clock jumps from 02:00 to 03:00 with 60 minutes
    /// left, CherryPy stores 02:30, a time the clock never reads: live until the jump.
    #[test]
    fn an_expiry_the_clock_skips_is_live_until_the_clock_passes_it() {
        let now = utc("2027-03-14T06:30:00");
        let stored = naive_expiry(now + HOUR, now, &NewYork);
        assert_eq!(stored, naive("2027-03-14T02:30:00"));
        let live = |at: &str| expiry_instant(stored, utc(at), &NewYork) >= utc(at);
        assert_eq!(expiry_instant(stored, now, &NewYork), now + HOUR);
        assert!(live("2027-03-14T06:59:59"), "01:59:59 EST, before 02:30");
        assert!(!live("2027-03-14T07:00:00"), "03:00 EDT, past 02:30");
    }

    /// Saved in the first 01:10 of the night the clock falls back, with 60 minutes left:
    /// CherryPy stores 02:10 (the clock then, plus an hour), not the wall-clock time of
    /// the instant an hour later (the second 01:10), which it would read as past.
    #[test]
    fn an_expiry_written_in_the_repeated_hour_is_the_clock_plus_the_timeout() {
        let now = utc("2026-11-01T05:10:00");
        let stored = naive_expiry(now + HOUR, now, &NewYork);
        assert_eq!(stored, naive("2026-11-01T02:10:00"));
        let later = now + Duration::from_secs(2);
        assert_eq!(expiry_instant(stored, later, &NewYork), now + HOUR);
    }

    /// A stored 01:30 read at the first 01:45 is past, as `01:30 < 01:45` is for CherryPy,
    /// and live again at the second 01:15.
    #[test]
    fn a_repeated_expiry_is_past_when_the_clock_reads_later() {
        let stored = naive("2027-11-07T01:30:00");
        let live = |at: &str| expiry_instant(stored, utc(at), &NewYork) >= utc(at);
        assert!(!live("2027-11-07T05:45:00"), "01:45 EDT");
        assert!(live("2027-11-07T06:15:00"), "01:15 EST");
    }

    /// Around every change, for expiries on either side of now: the instant is past exactly
    /// when CherryPy's naive comparison says so, and an expiry read and written back at
    /// once is the same naive time (a session passed through unchanged keeps its bytes).
    #[test]
    fn every_comparison_is_cherrypys_naive_one() {
        let changes = DAYLIGHT.iter().flat_map(|(from, to)| [utc(from), utc(to)]);
        for change in changes {
            for step in -36..=36 {
                let now = add(change, step * 5 * 60 + 7);
                let clock = local_clock(now, &NewYork);
                for minutes in -100..=100 {
                    let stored =
                        clock + TimeDelta::seconds(minutes * 61) + TimeDelta::microseconds(123_456);
                    let instant = expiry_instant(stored, now, &NewYork);
                    assert_eq!(instant < now, stored < clock, "{stored} read at {clock}");
                    assert_eq!(naive_expiry(instant, now, &NewYork), stored);
                }
            }
        }
    }

    fn add(t: SystemTime, seconds: i64) -> SystemTime {
        if seconds >= 0 {
            t + Duration::from_secs(seconds.unsigned_abs())
        } else {
            t - Duration::from_secs(seconds.unsigned_abs())
        }
    }

    /// What `int(time.mktime(e.timetuple()))` gives under glibc with TZ=America/New_York
    /// (checked with CPython 3.11): a skipped time read in standard time, a repeated one
    /// (where glibc may give either) read the later way.
    #[test]
    fn mktime_is_glibcs() {
        let cases = [
            ("2027-03-14T02:30:00", 1_805_009_400),
            ("2027-03-14T03:30:00", 1_805_009_400),
            ("2027-03-14T01:30:00", 1_805_005_800),
            ("2026-11-01T01:10:00", 1_793_513_400),
            ("2026-11-01T02:10:00", 1_793_517_000),
        ];
        for (local, seconds) in cases {
            assert_eq!(mktime(naive(local), &NewYork), seconds, "{local}");
        }
    }
}
