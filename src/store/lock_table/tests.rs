use super::*;

#[tokio::test]
async fn one_holder_at_a_time_and_the_table_empties() {
    let table = LockTable::default();
    let id = SessionId::generate();
    let first = table.lock(&id, None).await.unwrap();
    let err = table
        .lock(&id, Some(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout(_)));
    assert_eq!(table.len(), 1);
    drop(first);
    assert!(table.is_empty());
    let again = table
        .lock(&id, Some(Duration::from_millis(50)))
        .await
        .unwrap();
    drop(again);
    assert!(table.is_empty());
}

#[tokio::test]
async fn a_waiter_gets_the_lock_when_it_is_released() {
    let table = LockTable::default();
    let id = SessionId::generate();
    let held = table.lock(&id, None).await.unwrap();
    let waiter = tokio::spawn({
        let table = table.clone();
        async move { table.lock(&id, None).await.map(drop) }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiter.is_finished());
    drop(held);
    waiter.await.unwrap().unwrap();
    assert!(table.is_empty());
}

#[tokio::test]
async fn a_dropped_waiter_leaves_nothing_behind() {
    let table = LockTable::default();
    let id = SessionId::generate();
    let held = table.lock(&id, None).await.unwrap();
    let waiter = tokio::spawn({
        let table = table.clone();
        async move { table.lock(&id, None).await.map(drop) }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    waiter.abort();
    let _ = waiter.await;
    drop(held);
    assert!(table.is_empty());
}

/// An outer lock that counts how often it is taken and how many are held.
#[derive(Clone, Default)]
struct Outer {
    taken: Arc<std::sync::atomic::AtomicUsize>,
    held: Arc<std::sync::atomic::AtomicUsize>,
}

struct OuterGuard(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for OuterGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Outer {
    async fn take(self, _: Option<Duration>) -> Result<SessionLock, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.taken.fetch_add(1, SeqCst);
        assert_eq!(self.held.fetch_add(1, SeqCst), 0, "two outer locks at once");
        Ok(SessionLock::new(OuterGuard(self.held)))
    }

    fn counts(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        (self.taken.load(SeqCst), self.held.load(SeqCst))
    }
}

#[tokio::test]
async fn the_outer_lock_is_handed_to_waiters_then_released() {
    let table = LockTable::default();
    let outer = Outer::default();
    let id = SessionId::generate();
    let take = |o: &Outer| {
        let o = o.clone();
        move |left| o.take(left)
    };
    // Alone: taken and released each time.
    for _ in 0..2 {
        drop(
            table
                .lock_with_outer(&id, None, false, take(&outer))
                .await
                .unwrap(),
        );
    }
    assert_eq!(outer.counts(), (2, 0));
    // A queue of 40 requests: one acquisition per MAX_HAND_OVERS + 1 holders.
    let first = table
        .lock_with_outer(&id, None, false, take(&outer))
        .await
        .unwrap();
    let waiters: Vec<_> = (0..39)
        .map(|_| {
            let (table, take) = (table.clone(), take(&outer));
            tokio::spawn(async move {
                table
                    .lock_with_outer(&id, None, false, take)
                    .await
                    .map(drop)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(first);
    for w in waiters {
        w.await.unwrap().unwrap();
    }
    let per_streak = MAX_HAND_OVERS as usize + 1;
    assert_eq!(outer.counts(), (2 + 40_usize.div_ceil(per_streak), 0));
    assert!(table.is_empty());
}

#[tokio::test]
async fn a_holder_can_refuse_to_hand_over_its_outer_lock() {
    let table = LockTable::default();
    let outer = Outer::default();
    let id = SessionId::generate();
    let o = outer.clone();
    let mut first = table
        .lock_with_outer(&id, None, false, move |l| o.take(l))
        .await
        .unwrap();
    let o = outer.clone();
    let waiter = tokio::spawn({
        let table = table.clone();
        async move {
            table
                .lock_with_outer(&id, None, false, move |l| o.take(l))
                .await
                .map(drop)
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    first.release_outer_on_drop();
    drop(first);
    waiter.await.unwrap().unwrap();
    assert_eq!(outer.counts(), (2, 0));
}

/// A hand-over that nobody takes up (the waiter counted for it went away, or the count
/// caught another thread's holder on its way out) leaves the outer lock in the slot
/// until the table's entry goes: the expiry extension the holder left is then made,
/// and the outer lock released.
#[tokio::test]
async fn an_extension_left_in_an_abandoned_hand_over_is_made() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let outer = Outer::default();
    let made = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&made);
    let mut slot = Slot::default();
    slot.outer = Some(outer.clone().take(None).await.unwrap());
    slot.baton.pass_on_extending(
        super::super::Record {
            data: Default::default(),
            expires: std::time::SystemTime::now(),
        },
        Box::new(move || {
            Box::pin(async move {
                flag.store(true, SeqCst);
            })
        }),
    );
    drop(slot);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(made.load(SeqCst), "the extension was not made");
    assert_eq!(outer.counts(), (1, 0), "the outer lock was not released");
}
