//! The event engine: a clock and two queues, knowing nothing of devices or deployments.
//!
//! - **Timers**: at most one pending wake-up per key (a device id). Setting a timer replaces the
//!   previous one, so an expedite push can move a device's wake-up earlier without leaving a stale
//!   event behind (DESIGN.md §2 "One pending timer per device"). Backed by the keyed
//!   `priority-queue` crate.
//! - **Service events**: a small binary heap of payloads of the model's choosing (deployment start,
//!   waves, admin actions).
//!
//! Both queues share one sequence counter. Events pop in (time, sequence) order, so events at the
//! same second pop in the order they were scheduled and runs repeat exactly.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{BuildHasherDefault, Hasher};

use priority_queue::PriorityQueue;

use crate::time::Time;

/// What the engine hands back: a keyed timer firing, or a service payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired<S> {
    /// The timer of this key (a device id) fired.
    Timer(u32),
    /// A service-level event.
    Service(S),
}

/// Multiplicative hashing for dense `u32` keys: the keys are already well spread, SipHash would
/// only cost time.
#[derive(Default, Clone, Copy)]
pub struct DenseKeyHasher(u64);

impl Hasher for DenseKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
    }
    fn write_u32(&mut self, k: u32) {
        self.0 = u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
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
    timers: PriorityQueue<u32, Priority, BuildHasherDefault<DenseKeyHasher>>,
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
            timers: PriorityQueue::with_default_hasher(),
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

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Sets (or moves) the timer of `key` to fire at `at`; a time in the past fires at `now`.
    pub fn set_timer(&mut self, key: u32, at: Time) {
        let at = at.max(self.now);
        let p = Reverse((at, self.next_seq()));
        self.timers.push(key, p);
    }

    /// Cancels the timer of `key`, if any.
    pub fn cancel_timer(&mut self, key: u32) {
        self.timers.remove(&key);
    }

    /// When the timer of `key` fires, if one is set.
    pub fn timer(&self, key: u32) -> Option<Time> {
        self.timers.get_priority(&key).map(|p| p.0.0)
    }

    /// Schedules a service event at `at` (never before `now`).
    pub fn schedule(&mut self, at: Time, payload: S) {
        let at = Reverse((at.max(self.now), self.next_seq()));
        self.service.push(Pending { at, payload });
    }

    /// Pops the earliest event at or before `until`, advancing the clock; `None` when nothing is
    /// left in that window.
    pub fn pop(&mut self, until: Time) -> Option<(Time, Fired<S>)> {
        let timer = self.timers.peek().map(|(_, p)| p.0);
        let service = self.service.peek().map(|p| p.at.0);
        let take_timer = match (timer, service) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a < b,
        };
        let (at, fired) = if take_timer {
            let (key, p) = self.timers.peek().map(|(k, p)| (*k, p.0))?;
            if p.0 > until {
                return None;
            }
            self.timers.pop();
            (p.0, Fired::Timer(key))
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
