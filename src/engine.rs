//! The event engine: a clock and two queues, knowing nothing of devices or deployments.
//!
//! - **Timers**: at most one pending wake-up per key (a device id). Setting a timer replaces the
//!   previous one, so an expedite push can move a device's wake-up earlier and the old wake-up
//!   never fires (DESIGN.md §2 "One pending timer per device"). Backed by a calendar queue over
//!   dense ids with lazy deletion ([`Timers`]: fixed-width buckets, a sorted run, and a FIFO and a
//!   small heap for the current window).
//! - **Service events**: a small binary heap of payloads of the model's choosing (deployment start,
//!   waves, admin actions).
//!
//! Both queues share one sequence counter. Events pop in (time, sequence) order, so events at the
//! same second pop in the order they were scheduled and runs repeat exactly.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::mem::{filled, prefetch};
use crate::time::{Divisor, Time};

/// What the engine hands back: a keyed timer firing, or a service payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired<S> {
    /// The timer of this key (a device id) fired.
    Timer(u32),
    /// A service-level event.
    Service(S),
}

/// Default width of a timer bucket (seconds).
const DEFAULT_BUCKET: Time = 120;

/// Bits of the sequence number in a packed timer key; the time takes the bits above.
const SEQ_BITS: u32 = 34;
/// Times at or beyond this (about 34 years) are clamped: they lie past any horizon.
const TIME_LIMIT: Time = 1 << (64 - SEQ_BITS);

/// Timers as a calendar queue with lazy deletion.
///
/// `live[id]` holds the key (packed time and sequence number) of the id's one pending timer.
/// Setting a timer writes `live[id]` and appends an entry; cancelling clears `live[id]`; an entry
/// whose key no longer matches `live[id]` is stale and is skipped when reached. So setting,
/// moving and cancelling touch one slot per id and never search or re-link a queue — a device
/// event costs one random memory access in the engine, not several (docs/performance.md).
///
/// Timers due after the current window wait in fixed-width buckets as bare ids, in the order
/// they were set (4 bytes an entry, not the 16 of a key and id: at a million devices the buckets
/// are most of the queue's memory). When the window reaches a bucket, each id's key is read
/// from its slot, ids whose timer has since moved to another bucket or been cancelled are
/// dropped, and the rest are sorted once and consumed from the front as the *run*; a run entry
/// whose timer moves later is skipped when reached, as before. Entries set
/// while their window is current go to a FIFO when they come in key order (a burst at the same
/// instant — an expedite push waking a whole fleet — arrives that way), else to a small heap.
#[derive(Debug, Clone)]
struct Timers {
    width: Time,
    /// Division by `width` without a division instruction (a timer set is on every event's path).
    per_bucket: Divisor,
    /// Index of the bucket that is the current window.
    current: usize,
    window_end: Time,
    run: Vec<(u64, u32)>,
    run_pos: usize,
    /// Timers set for the current instant, in key order, as (id, the low 32 bits of the
    /// sequence number): [`Timers::fifo_key`].
    fifo: VecDeque<(u32, u32)>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    buckets: Vec<Vec<u32>>,
    /// Per id: the key of its pending timer, or `NO_KEY`.
    live: Vec<u64>,
    len: usize,
}

const NO_KEY: u64 = u64::MAX;
const OVERFLOW: usize = 1 << 16;
/// How many ids ahead a bucket's slots are prefetched when it becomes the run.
const SLOT_PREFETCH_AHEAD: usize = 16;

impl Timers {
    fn new(width: Time) -> Self {
        Self {
            width: width.max(1),
            per_bucket: Divisor::new(width),
            current: 0,
            window_end: width.max(1),
            run: Vec::new(),
            run_pos: 0,
            fifo: VecDeque::new(),
            heap: BinaryHeap::new(),
            buckets: Vec::new(),
            live: Vec::new(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_live(&self, e: (u64, u32)) -> bool {
        self.live[e.1 as usize] == e.0
    }

    fn remove(&mut self, id: u32) {
        if let Some(k) = self.live.get_mut(id as usize)
            && *k != NO_KEY
        {
            *k = NO_KEY;
            self.len -= 1;
        }
    }

    fn set(&mut self, id: u32, key: u64, now: Time) {
        if self.live.len() <= id as usize {
            self.live.resize(id as usize + 1, NO_KEY);
        }
        let slot = &mut self.live[id as usize];
        if *slot == NO_KEY {
            self.len += 1;
        }
        *slot = key;
        let at = unpack_time(key);
        if at < self.window_end {
            // Timers for the current instant arrive in key order (the clock never goes back and
            // sequence numbers grow), so the FIFO stays sorted. Only those go there: a timer
            // for later in the window, queued in the FIFO, would send every later same-instant
            // timer of a burst to the heap (measured: 40 % of an expedite's million wake-ups).
            if at <= now {
                self.fifo.push_back((id, key as u32));
            } else {
                self.heap.push(Reverse((key, id)));
            }
            return;
        }
        // Timers beyond the last bucket share an overflow bucket. The run picks the width so
        // that the buckets span its horizon, but caps it at an hour, so with 65 536 buckets a
        // horizon over about 7.5 years has live timers there: still in order (the window is
        // then unbounded and its timers go through the heap), only slower.
        let b = self.bucket_of(at);
        if self.buckets.len() <= b {
            self.buckets.resize_with(b + 1, Vec::new);
        }
        self.buckets[b].push(id);
    }

    /// The bucket of a timer at `at` beyond the current window.
    fn bucket_of(&self, at: Time) -> usize {
        (self.per_bucket.quotient(at) as usize).min(OVERFLOW)
    }

    /// Bucket `b`'s live timers in key order, from the ids set into it (see [`Timers`]).
    fn live_run(&self, ids: &[u32], b: usize) -> Vec<(u64, u32)> {
        let mut v = Vec::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            // The slots are read at random, a bucket's worth in a row.
            if let Some(&ahead) = ids.get(i + SLOT_PREFETCH_AHEAD) {
                prefetch(&self.live, ahead as usize);
            }
            let k = self.live[id as usize];
            if k != NO_KEY && self.bucket_of(unpack_time(k)) == b {
                v.push((k, id));
            }
        }
        // An id set into the bucket twice (moved out and back) is read twice with its one key:
        // the copies end up side by side, and once the first pops the second is stale.
        if b == OVERFLOW {
            v.sort_unstable_by_key(|e| e.0);
            v
        } else {
            sort_by_time(v, b as Time * self.width, self.width)
        }
    }

    /// The key of a FIFO entry if it is still its id's pending timer. An entry's time need not be
    /// kept: the FIFO only ever holds timers for the instant they were set at, and a live one
    /// pops at that instant, so the FIFO empties before the clock moves on (a stale entry left
    /// at its back is dropped at the next look). Its sequence number's low 32 bits tell it from
    /// the id's later timers, set fewer than 2^32 sets later, so an entry is 8 bytes instead
    /// of 16 (an expedite queues a whole fleet here at once).
    fn fifo_key(&self, (id, seq): (u32, u32)) -> Option<u64> {
        let k = self.live[id as usize];
        (k != NO_KEY && k as u32 == seq).then_some(k)
    }

    fn get(&self, id: u32) -> Option<u64> {
        let k = *self.live.get(id as usize)?;
        (k != NO_KEY).then_some(k)
    }

    /// The earliest live timer, moving to the next non-empty bucket when the window is used up.
    fn peek(&mut self) -> Option<(u64, u32)> {
        loop {
            let mut best: Option<(u64, u32)> = None;
            while let Some(&e) = self.run.get(self.run_pos) {
                if self.is_live(e) {
                    best = Some(e);
                    break;
                }
                self.run_pos += 1;
            }
            // The window's FIFO and heap are usually empty: look at them only when they are not.
            if !self.fifo.is_empty() {
                while let Some(&f) = self.fifo.front() {
                    if let Some(k) = self.fifo_key(f) {
                        let e = (k, f.0);
                        best = Some(best.map_or(e, |b| b.min(e)));
                        break;
                    }
                    self.fifo.pop_front();
                }
                if self.fifo.is_empty() && self.fifo.capacity() > 4096 {
                    // A burst's FIFO is not kept allocated for the rest of the run.
                    self.fifo = VecDeque::new();
                }
            }
            if !self.heap.is_empty() {
                while let Some(&Reverse(e)) = self.heap.peek() {
                    if self.is_live(e) {
                        best = Some(best.map_or(e, |b| b.min(e)));
                        break;
                    }
                    self.heap.pop();
                }
            }
            if best.is_some() {
                return best;
            }
            let next =
                (self.current + 1..self.buckets.len()).find(|&b| !self.buckets[b].is_empty())?;
            self.current = next;
            self.window_end = if next == OVERFLOW {
                Time::MAX
            } else {
                (next as Time + 1) * self.width
            };
            // The bucket becomes the run; past buckets are never used again, so the old run's
            // memory is freed rather than kept.
            let ids = std::mem::take(&mut self.buckets[next]);
            self.run = self.live_run(&ids, next);
            self.run_pos = 0;
        }
    }

    /// Removes the timer `peek` returned, `e`, and its entry: the fronts stay live, so that
    /// [`Engine::upcoming`] counts from the next timer to pop.
    fn take(&mut self, e: (u64, u32)) {
        self.remove(e.1);
        if self.run.get(self.run_pos) == Some(&e) {
            self.run_pos += 1;
        } else if self.fifo.front() == Some(&(e.1, e.0 as u32)) {
            self.fifo.pop_front();
            if self.fifo.is_empty() && self.fifo.capacity() > 4096 {
                // A burst's FIFO is not kept allocated for the rest of the run.
                self.fifo = VecDeque::new();
            }
        } else if self.heap.peek() == Some(&Reverse(e)) {
            self.heap.pop();
        }
    }
}

/// Sorts one bucket's live entries by key. Entries come in the order their ids were set, which
/// is sequence-number order except for an id set into the bucket more than once (each copy
/// carries the last key), so a stable counting sort on the time alone (one count per second of
/// the bucket) gives (time, sequence) order in two linear passes, and an insertion pass puts
/// such copies in place (a comparison an entry when there are none). A short bucket is
/// insertion-sorted directly. Both beat a general sort several times over on this pattern
/// (`cargo bench --bench engine`).
fn sort_by_time(mut v: Vec<(u64, u32)>, base: Time, width: Time) -> Vec<(u64, u32)> {
    if v.len() > 32 {
        if width > 1 << 16 {
            // Too wide for a count per second.
            v.sort_unstable_by_key(|e| e.0);
            return v;
        }
        let mut starts = vec![0u32; width as usize + 1];
        for e in &v {
            starts[(unpack_time(e.0) - base) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut out = vec![(0u64, 0u32); v.len()];
        for e in &v {
            let slot = &mut starts[(unpack_time(e.0) - base) as usize];
            out[*slot as usize] = *e;
            *slot += 1;
        }
        v = out;
    }
    for i in 1..v.len() {
        let e = v[i];
        let mut j = i;
        while j > 0 && v[j - 1].0 > e.0 {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = e;
    }
    v
}

const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;

/// The last sequence number a run may reach before [`Engine::pop`] stops it. A key keeps
/// `SEQ_BITS` of the number, and a larger one would run into the time's bits and reorder events
/// silently, so the limit must hold in release builds too. It is checked in `pop`, once per
/// event (one compare and a branch never taken, beside an event's hundreds of instructions)
/// rather than on every set; what one event can set before the next check is at most a timer
/// per device (an expedite waking the fleet: 50 million at most, `scenario::MAX_DEVICES`) and a
/// few service events, far within the 2^32 numbers kept free. About 1.3e10 sets: a million
/// devices would need 13 000 events each.
const SEQ_GUARD: u64 = (1 << SEQ_BITS) - (1 << 32);

fn pack(at: Time, seq: u64) -> u64 {
    debug_assert!(seq < 1 << SEQ_BITS);
    (at.min(TIME_LIMIT - 1) << SEQ_BITS) | seq
}

fn unpack_time(key: u64) -> Time {
    key >> SEQ_BITS
}

type Priority = Reverse<(Time, u64)>;

/// A service event waiting in the heap, ordered by (time, seq) only.
struct Pending<S> {
    at: Priority,
    payload: S,
}

impl<S> PartialEq for Pending<S> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl<S> Eq for Pending<S> {}
impl<S> PartialOrd for Pending<S> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<S> Ord for Pending<S> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

/// The clock and the two queues.
pub struct Engine<S> {
    now: Time,
    seq: u64,
    timers: Timers,
    service: BinaryHeap<Pending<S>>,
    processed: u64,
}

impl<S> Default for Engine<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Engine<S> {
    /// An empty engine at t = 0.
    pub fn new() -> Self {
        Self {
            now: 0,
            seq: 0,
            timers: Timers::new(DEFAULT_BUCKET),
            service: BinaryHeap::new(),
            processed: 0,
        }
    }

    /// Current simulated time: the time of the last event popped.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Number of events popped so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Whether the run set so many timers and events that the engine stopped popping them:
    /// events past that could no longer be ordered. The caller must fail the run (`sim::run`
    /// returns `Error::Run`), as its results end early.
    pub fn exhausted(&self) -> bool {
        self.seq >= SEQ_GUARD
    }

    /// Number of pending timers.
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }

    /// An empty engine whose timer buckets are `width` seconds wide (see [`Timers`]): a run over
    /// a long horizon wants wider buckets, so that their number stays in the tens of thousands.
    pub fn with_bucket_width(width: Time) -> Self {
        Self {
            timers: Timers::new(width),
            ..Self::new()
        }
    }

    /// Makes room for timers of keys `0..n` up front (one slot each), so that the slots of a
    /// large fleet are allocated once, in huge pages where the system offers them ([`crate::mem`]).
    pub fn reserve_keys(&mut self, n: usize) {
        if self.timers.live.len() < n {
            let old = std::mem::take(&mut self.timers.live);
            self.timers.live = filled(n, |i| old.get(i).copied().unwrap_or(NO_KEY));
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Sets (or moves) the timer of `key` to fire at `at`; a time in the past fires at `now`.
    pub fn set_timer(&mut self, key: u32, at: Time) {
        let at = at.max(self.now);
        let seq = self.next_seq();
        self.timers.set(key, pack(at, seq), self.now);
    }

    /// Makes room for `n` timers about to be set for the current instant (a burst: an expedite
    /// waking a fleet), so that their queue is allocated once rather than grown by doubling.
    pub fn reserve_burst(&mut self, n: usize) {
        self.timers.fifo.reserve(n);
    }

    /// Cancels the timer of `key`, if any.
    pub fn cancel_timer(&mut self, key: u32) {
        self.timers.remove(key);
    }

    /// The key of a timer likely to fire `ahead` pops from now (a hint: it may have been moved
    /// since), so that a caller can prefetch what that key's event will touch, including the
    /// key's timer slot ([`Engine::prefetch_key`]).
    pub fn upcoming(&self, ahead: usize) -> Option<u32> {
        let t = &self.timers;
        let run = t.run.get(t.run_pos..).unwrap_or_default();
        // During a burst (an expedite waking the fleet at one instant) the FIFO comes first.
        let burst = t
            .fifo
            .front()
            .and_then(|&f| t.fifo_key(f))
            .is_some_and(|k| run.first().is_none_or(|r| k < r.0));
        if burst {
            t.fifo.get(ahead).map(|e| e.0)
        } else {
            run.get(ahead).map(|e| e.1)
        }
    }

    /// Starts loading the timer slot of `key` (a hint for a key about to be set or popped).
    pub fn prefetch_key(&self, key: u32) {
        prefetch(&self.timers.live, key as usize);
    }

    /// When the timer of `key` fires, if one is set.
    pub fn timer(&self, key: u32) -> Option<Time> {
        self.timers.get(key).map(unpack_time)
    }

    /// Schedules a service event at `at` (never before `now`).
    pub fn schedule(&mut self, at: Time, payload: S) {
        let at = Reverse((at.max(self.now), self.next_seq()));
        self.service.push(Pending { at, payload });
    }

    /// Pops the earliest event at or before `until`, advancing the clock; `None` when nothing is
    /// left in that window, or when the sequence numbers are used up ([`Engine::exhausted`]).
    pub fn pop(&mut self, until: Time) -> Option<(Time, Fired<S>)> {
        if self.seq >= SEQ_GUARD {
            return None;
        }
        let timer = self.timers.peek();
        let service = self.service.peek().map(|p| p.at.0);
        let take_timer = match (timer, service) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((k, _)), Some(b)) => (unpack_time(k), k & SEQ_MASK) < b,
        };
        let (at, fired) = match timer {
            Some((k, id)) if take_timer => {
                let at = unpack_time(k);
                if at > until {
                    return None;
                }
                self.timers.take((k, id));
                (at, Fired::Timer(id))
            }
            _ => {
                if self.service.peek()?.at.0.0 > until {
                    return None;
                }
                let p = self.service.pop()?;
                (p.at.0.0, Fired::Service(p.payload))
            }
        };
        self.now = at;
        self.processed += 1;
        Some((at, fired))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upcoming_names_the_timers_that_pop_next_in_a_bucket_and_in_a_burst() {
        let mut e: Engine<()> = Engine::with_bucket_width(100);
        for id in 0..6 {
            e.set_timer(id, 500 + u64::from(id));
        }
        assert_eq!(e.pop(u64::MAX), Some((500, Fired::Timer(0))));
        assert_eq!(e.upcoming(2), Some(3));
        // A burst at the current instant, set in order, pops before the rest of the bucket.
        for id in 10..14 {
            e.set_timer(id, 500);
        }
        assert_eq!(e.upcoming(2), Some(12));
        let next: Vec<_> = std::iter::from_fn(|| e.pop(u64::MAX)).take(5).collect();
        let expected: Vec<_> = [(500, 10), (500, 11), (500, 12), (500, 13), (501, 1)]
            .into_iter()
            .map(|(t, id)| (t, Fired::Timer(id)))
            .collect();
        assert_eq!(next, expected);
        assert_eq!(e.upcoming(0), Some(2));
    }

    #[test]
    fn events_pop_in_time_order_with_ties_in_scheduling_order() {
        let mut e: Engine<&str> = Engine::new();
        e.schedule(10, "b");
        e.set_timer(1, 10);
        e.schedule(5, "a");
        e.set_timer(2, 10);
        let order: Vec<_> = std::iter::from_fn(|| e.pop(u64::MAX)).collect();
        assert_eq!(
            order,
            vec![
                (5, Fired::Service("a")),
                (10, Fired::Service("b")),
                (10, Fired::Timer(1)),
                (10, Fired::Timer(2)),
            ]
        );
        assert_eq!(e.processed(), 4);
    }

    #[test]
    fn the_engine_stops_before_sequence_numbers_run_into_the_time_bits_not_only_in_debug() {
        let mut e: Engine<&str> = Engine::new();
        e.seq = SEQ_GUARD - 3;
        e.set_timer(1, 10);
        e.schedule(15, "s");
        assert_eq!(e.pop(u64::MAX), Some((10, Fired::Timer(1))));
        assert!(!e.exhausted());
        e.set_timer(2, 20);
        // The last number is used: nothing pops any more, though events are pending.
        assert!(e.exhausted());
        assert_eq!(e.pop(u64::MAX), None);
        assert_eq!(e.pending_timers(), 1);
    }

    #[test]
    fn setting_a_timer_again_moves_it_without_a_stale_event() {
        let mut e: Engine<()> = Engine::new();
        e.set_timer(7, 100);
        e.set_timer(7, 20);
        assert_eq!(e.timer(7), Some(20));
        assert_eq!(e.pop(u64::MAX), Some((20, Fired::Timer(7))));
        assert_eq!(e.pop(u64::MAX), None);
    }

    #[test]
    fn nothing_pops_past_the_horizon_and_cancelled_timers_never_fire() {
        let mut e: Engine<()> = Engine::new();
        e.set_timer(1, 50);
        e.set_timer(2, 500);
        e.cancel_timer(1);
        assert_eq!(e.pop(100), None);
        assert_eq!(e.pending_timers(), 1);
    }

    #[test]
    fn a_timer_moved_many_times_fires_once_at_its_last_time() {
        let mut e: Engine<()> = Engine::with_bucket_width(60);
        for (k, at) in [
            (1u32, 5_000u64),
            (2, 700),
            (1, 90),
            (1, 100_000),
            (2, 650),
            (1, 30),
        ] {
            e.set_timer(k, at);
        }
        e.cancel_timer(2);
        e.set_timer(2, 40);
        let fired: Vec<_> = std::iter::from_fn(|| e.pop(u64::MAX)).collect();
        assert_eq!(fired, vec![(30, Fired::Timer(1)), (40, Fired::Timer(2))]);
        assert_eq!(e.processed(), 2);
        assert_eq!(e.pending_timers(), 0);
    }

    #[test]
    fn bucket_sort_gives_time_then_sequence_order() {
        for n in [0usize, 1, 5, 33, 500] {
            let entries: Vec<(u64, u32)> = (0..n as u64)
                .map(|seq| (pack(1_000 + (seq * 7_919) % 120, seq + 1), seq as u32))
                .collect();
            let mut expected = entries.clone();
            expected.sort_unstable();
            assert_eq!(sort_by_time(entries, 1_000, 120), expected, "{n} entries");
        }
    }

    #[test]
    fn bucket_sort_puts_an_id_set_into_its_bucket_twice_in_its_last_place() {
        for n in [5u64, 40, 500] {
            // Id 0 was set first, moved away, then set back last: both copies read its last key.
            let last = pack(1_000 + n % 120, n + 1);
            let mut entries = vec![(last, 0u32)];
            entries
                .extend((1..n).map(|seq| (pack(1_000 + (seq * 7_919) % 120, seq + 1), seq as u32)));
            entries.push((last, 0));
            let mut expected = entries.clone();
            expected.sort_unstable();
            assert_eq!(sort_by_time(entries, 1_000, 120), expected, "{n} entries");
        }
    }

    #[test]
    fn a_timer_moved_out_of_its_bucket_and_back_fires_once_after_those_set_between() {
        let mut e: Engine<()> = Engine::with_bucket_width(100);
        e.set_timer(1, 550);
        e.set_timer(2, 550);
        e.set_timer(1, 900);
        e.set_timer(3, 550);
        e.set_timer(1, 550);
        let fired: Vec<_> = std::iter::from_fn(|| e.pop(u64::MAX)).collect();
        let expected: Vec<_> = [2, 3, 1]
            .into_iter()
            .map(|k| (550, Fired::Timer(k)))
            .collect();
        assert_eq!(fired, expected);
    }

    #[test]
    fn timers_set_during_the_current_window_pop_in_order() {
        let mut e: Engine<()> = Engine::with_bucket_width(3_600);
        e.set_timer(0, 10);
        assert_eq!(e.pop(u64::MAX), Some((10, Fired::Timer(0))));
        // Now inside the first window: a burst at one instant, then an earlier one.
        for k in 1..=3 {
            e.set_timer(k, 500);
        }
        e.set_timer(9, 200);
        e.set_timer(2, 100);
        let order: Vec<_> = std::iter::from_fn(|| e.pop(u64::MAX)).collect();
        assert_eq!(
            order,
            vec![
                (100, Fired::Timer(2)),
                (200, Fired::Timer(9)),
                (500, Fired::Timer(1)),
                (500, Fired::Timer(3)),
            ]
        );
    }

    proptest::proptest! {
        /// Against a reference that keeps every pending timer in a map and pops the smallest
        /// (time, sequence): whatever the mix of sets, moves, cancels and pops, the calendar queue
        /// fires the same timers in the same order.
        #[test]
        fn timers_fire_like_a_reference_map(
            width in 1u64..500,
            ops in proptest::collection::vec((0u8..4, 0u32..40, 0u64..5_000), 1..300),
        ) {
            let mut e: Engine<()> = Engine::with_bucket_width(width);
            let mut reference: std::collections::BTreeMap<u32, (u64, u64)> = Default::default();
            let mut seq = 0u64;
            let mut now = 0u64;
            for (op, id, dt) in ops {
                match op {
                    0 | 1 => {
                        // Half the sets are for the current instant (the FIFO's bursts).
                        let at = if op == 0 { now + dt } else { now };
                        e.set_timer(id, at);
                        seq += 1;
                        reference.insert(id, (at, seq));
                    }
                    2 => {
                        e.cancel_timer(id);
                        reference.remove(&id);
                    }
                    _ => {
                        let want = reference
                            .iter()
                            .min_by_key(|(_, v)| **v)
                            .map(|(&k, &(at, _))| (at, k));
                        let got = e.pop(u64::MAX).map(|(at, f)| match f {
                            Fired::Timer(k) => (at, k),
                            Fired::Service(()) => unreachable!(),
                        });
                        proptest::prop_assert_eq!(got, want);
                        if let Some((at, k)) = want {
                            reference.remove(&k);
                            now = at;
                        }
                    }
                }
                proptest::prop_assert_eq!(e.pending_timers(), reference.len());
            }
        }
    }
}
