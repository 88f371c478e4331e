//! The event engine: a clock and two queues, knowing nothing of devices or deployments.
//!
//! - **Timers**: at most one pending wake-up per key (a device id). Setting a timer replaces the
//!   previous one, so an expedite push can move a device's wake-up earlier without leaving a stale
//!   event behind (DESIGN.md §2 "One pending timer per device"). Backed by a calendar queue over
//!   dense ids ([`Timers`]: fixed-width buckets, a sorted run and a small indexed 4-ary heap for the
//!   current window).
//! - **Service events**: a small binary heap of payloads of the model's choosing (deployment start,
//!   waves, admin actions).
//!
//! Both queues share one sequence counter. Events pop in (time, sequence) order, so events at the
//! same second pop in the order they were scheduled and runs repeat exactly.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::Time;

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
const NO_POS: u32 = u32::MAX;

/// An indexed 4-ary min-heap of timers keyed by dense `u32` ids: `pos[id]` is the id's slot, so a
/// timer can be moved or removed in O(log n) with no hashing and no stale entries. A timer's
/// priority is packed into one `u64` — time in the high bits, sequence number in the low
/// [`SEQ_BITS`] — so comparisons are single integer compares, and four children share a cache
/// line. (It replaced the `priority-queue` crate, which spent most of a run hashing and
/// re-heapifying: see the README's performance section.)
#[derive(Debug, Default, Clone)]
struct TimerHeap {
    heap: Vec<(u64, u32)>,
    pos: Vec<u32>,
}

impl TimerHeap {
    fn peek(&self) -> Option<(u64, u32)> {
        self.heap.first().copied()
    }

    fn get(&self, id: u32) -> Option<u64> {
        let p = *self.pos.get(id as usize)?;
        (p != NO_POS).then(|| self.heap[p as usize].0)
    }

    fn place(&mut self, i: usize, e: (u64, u32)) {
        self.heap[i] = e;
        self.pos[e.1 as usize] = i as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        let e = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.heap[parent].0 <= e.0 {
                break;
            }
            let p = self.heap[parent];
            self.place(i, p);
            i = parent;
        }
        self.place(i, e);
    }

    fn sift_down(&mut self, mut i: usize) {
        let e = self.heap[i];
        let n = self.heap.len();
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let last = (first + 4).min(n);
            let mut best = first;
            for c in first + 1..last {
                if self.heap[c].0 < self.heap[best].0 {
                    best = c;
                }
            }
            if self.heap[best].0 >= e.0 {
                break;
            }
            let b = self.heap[best];
            self.place(i, b);
            i = best;
        }
        self.place(i, e);
    }

    fn set(&mut self, id: u32, key: u64) {
        if self.pos.len() <= id as usize {
            self.pos.resize(id as usize + 1, NO_POS);
        }
        let p = self.pos[id as usize];
        if p == NO_POS {
            self.heap.push((key, id));
            let i = self.heap.len() - 1;
            self.pos[id as usize] = i as u32;
            self.sift_up(i);
        } else {
            let i = p as usize;
            let old = self.heap[i].0;
            self.heap[i].0 = key;
            if key < old {
                self.sift_up(i);
            } else {
                self.sift_down(i);
            }
        }
    }

    fn remove(&mut self, id: u32) {
        let Some(&p) = self.pos.get(id as usize) else {
            return;
        };
        if p == NO_POS {
            return;
        }
        let i = p as usize;
        self.pos[id as usize] = NO_POS;
        let last = self.heap.len() - 1;
        if i == last {
            self.heap.pop();
            return;
        }
        let moved = self.heap[last];
        self.heap.pop();
        let old = self.heap[i].0;
        self.place(i, moved);
        if moved.0 < old {
            self.sift_up(i);
        } else {
            self.sift_down(i);
        }
    }
}

/// Timers as a calendar queue. Timers due in the current window (one bucket wide) are either in
/// a sorted *run* — the window's bucket, sorted once when the window is reached and consumed from
/// the front — or, when set while the window is current, in a small indexed heap; later timers
/// wait unsorted in fixed-width buckets with O(1) insertion and removal. Most device timers are
/// minutes to a day ahead, so they wait in buckets, and a burst of timers at the same instant
/// (an expedite push wakes a whole fleet at once) is a sorted run, not a heap of a million entries.
#[derive(Debug, Clone)]
struct Timers {
    width: Time,
    /// Index of the bucket that is the current window.
    current: usize,
    window_end: Time,
    run: Vec<(u64, u32)>,
    run_pos: usize,
    heap: TimerHeap,
    buckets: Vec<Vec<(u64, u32)>>,
    /// Per id: `NO_LOC`, `HEAP`, `RUN | index`, or `bucket << 32 | index`.
    loc: Vec<u64>,
    len: usize,
}

const NO_LOC: u64 = u64::MAX;
const OVERFLOW: usize = 1 << 16;
const HEAP: u64 = 1 << 62;
const RUN: u64 = 1 << 63;
const DEAD: u64 = u64::MAX;

impl Timers {
    fn new(width: Time) -> Self {
        Self {
            width: width.max(1),
            current: 0,
            window_end: width.max(1),
            run: Vec::new(),
            run_pos: 0,
            heap: TimerHeap::default(),
            buckets: Vec::new(),
            loc: Vec::new(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn remove(&mut self, id: u32) {
        let Some(&l) = self.loc.get(id as usize) else {
            return;
        };
        if l == NO_LOC {
            return;
        }
        self.len -= 1;
        self.loc[id as usize] = NO_LOC;
        if l == HEAP {
            self.heap.remove(id);
        } else if l & RUN != 0 {
            // Sorted: leave a tombstone, skipped when reached.
            self.run[(l & !RUN) as usize].0 = DEAD;
        } else {
            let (b, i) = ((l >> 32) as usize, (l & 0xFFFF_FFFF) as usize);
            let bucket = &mut self.buckets[b];
            bucket.swap_remove(i);
            if let Some(&(_, moved)) = bucket.get(i) {
                self.loc[moved as usize] = ((b as u64) << 32) | i as u64;
            }
        }
    }

    fn set(&mut self, id: u32, key: u64) {
        if self.loc.len() <= id as usize {
            self.loc.resize(id as usize + 1, NO_LOC);
        }
        let at = unpack_time(key);
        let l = self.loc[id as usize];
        if l == HEAP && at < self.window_end {
            self.heap.set(id, key);
            return;
        }
        self.remove(id);
        self.len += 1;
        if at < self.window_end {
            self.heap.set(id, key);
            self.loc[id as usize] = HEAP;
            return;
        }
        // Timers beyond the last bucket share an overflow bucket (they are past any horizon that
        // chose this width; if reached, that window is unbounded).
        let b = ((at / self.width) as usize).min(OVERFLOW);
        if self.buckets.len() <= b {
            self.buckets.resize_with(b + 1, Vec::new);
        }
        let bucket = &mut self.buckets[b];
        self.loc[id as usize] = ((b as u64) << 32) | bucket.len() as u64;
        bucket.push((key, id));
    }

    fn get(&self, id: u32) -> Option<u64> {
        let l = *self.loc.get(id as usize)?;
        if l == NO_LOC {
            None
        } else if l == HEAP {
            self.heap.get(id)
        } else if l & RUN != 0 {
            Some(self.run[(l & !RUN) as usize].0)
        } else {
            let (b, i) = ((l >> 32) as usize, (l & 0xFFFF_FFFF) as usize);
            Some(self.buckets[b][i].0)
        }
    }

    /// The earliest timer, moving to the next non-empty bucket when the window is used up.
    fn peek(&mut self) -> Option<(u64, u32)> {
        loop {
            while self.run.get(self.run_pos).is_some_and(|e| e.0 == DEAD) {
                self.run_pos += 1;
            }
            let run = self.run.get(self.run_pos).copied();
            let heap = self.heap.peek();
            match (run, heap) {
                (Some(r), Some(h)) => return Some(if r.0 < h.0 { r } else { h }),
                (Some(r), None) => return Some(r),
                (None, Some(h)) => return Some(h),
                (None, None) => {}
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
            self.run = std::mem::take(&mut self.buckets[next]);
            self.run.sort_unstable_by_key(|e| e.0);
            self.run_pos = 0;
            for (i, &(_, id)) in self.run.iter().enumerate() {
                self.loc[id as usize] = RUN | i as u64;
            }
        }
    }

    /// Removes the timer `peek` returned.
    fn take(&mut self, id: u32) {
        self.remove(id);
    }
}

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

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Sets (or moves) the timer of `key` to fire at `at`; a time in the past fires at `now`.
    pub fn set_timer(&mut self, key: u32, at: Time) {
        let at = at.max(self.now);
        let seq = self.next_seq();
        self.timers.set(key, pack(at, seq));
    }

    /// Cancels the timer of `key`, if any.
    pub fn cancel_timer(&mut self, key: u32) {
        self.timers.remove(key);
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
    /// left in that window.
    pub fn pop(&mut self, until: Time) -> Option<(Time, Fired<S>)> {
        let timer = self
            .timers
            .peek()
            .map(|(k, _)| (unpack_time(k), k & ((1 << SEQ_BITS) - 1)));
        let service = self.service.peek().map(|p| p.at.0);
        let take_timer = match (timer, service) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a < b,
        };
        let (at, fired) = if take_timer {
            let (k, id) = self.timers.peek()?;
            let at = unpack_time(k);
            if at > until {
                return None;
            }
            self.timers.take(id);
            (at, Fired::Timer(id))
        } else {
            if self.service.peek()?.at.0.0 > until {
                return None;
            }
            let p = self.service.pop()?;
            (p.at.0.0, Fired::Service(p.payload))
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
}
