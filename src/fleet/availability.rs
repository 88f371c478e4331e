//! Availability profiles: when a device is switched on and connected, as a pure function of time.
//!
//! A profile yields, for each local day, a short sorted list of online intervals drawn from a stream
//! keyed by (run, device, day). Because a day's intervals depend on nothing else, "the next online
//! instant at or after t" is computed by looking at days in order — no events, no stepping through
//! time (DESIGN.md §1 "Availability"). No public data gives work-hour or weekend online patterns
//! (`reference/client-timing.md` §8), so every shape below is an **assumption** with parameters a
//! scenario can set:
//!
//! - `always_on`: online all the time (kiosks, servers, desktops never switched off).
//! - `office`: on selected weekdays, online from `start` to `end` local time, each moved by
//!   uniform(−`jitter`, +`jitter`) per day; a day is skipped entirely with probability `absent_days`.
//! - `laptop`: on selected weekdays, Poisson(`sessions_per_day`) sessions, each starting uniformly in
//!   the local `window` and lasting exponential(mean `session_length`), clipped to the window.
//! - `dormant`: long absences: each day independently online with probability `online_days` for
//!   one session of `session_length` at a uniform time in the window (mean gap 1/`online_days` days).
//! - `never`: never online (a shelved device).
//!
//! A profile also says whether a device is **attended** (`attended`): whether someone is using
//! it whenever it is online. Windows restarts a device automatically outside active hours only
//! when it is not in use (`reference/client-timing.md` §3), so an attended device is never
//! restarted automatically; its pending restart waits for the user's shutdown, the user's own
//! restart or the deadline (the client's `plan_restart`). rollsim does not model use within a
//! session, so this is all or nothing per segment, and the defaults are **assumptions**:
//! attended for `office`, `laptop` and `dormant` (people's own machines, switched on to be
//! used: a session is someone at it), unattended for `always_on` (a kiosk, a server, a PC left
//! on, idle outside the hours someone uses it). `never` is never online, so it does not matter.
//!
//! A segment may also list dated **off periods** (`off`: holidays, a site closed between two
//! dates): whole local days, from the local midnight that starts the first to the one that ends
//! the last, on which a device of any profile is offline. An off day draws nothing, as a weekday
//! outside `days` draws nothing, so every other day's draws, which come from streams of their
//! own, stay as they were. Sessions never cross local midnight (every window and office day lies
//! within its local day, `24:00` at the latest), so a session of the day before an off day has
//! ended by the midnight the off day starts at; an `always_on` device, online across midnights,
//! goes offline at that midnight and comes back at the midnight that ends the period.
//! A segment without off periods pays one predictable branch a day drawn (and `always_on` one a
//! question), and no device carries anything more.

use std::cell::Cell;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp, Poisson};

use crate::rng::{RunKey, Stream, rng_from_key_sub};
use crate::time::{DAY, LocalClock, NEVER, Secs, Time};

/// Most sessions a laptop or dormant device can have in one day; more are dropped (the Poisson tail
/// beyond 8 at 2 sessions/day has probability < 0.1 %).
const MAX_SESSIONS: usize = 8;

/// Weekdays as a bitmask, bit 0 = Monday.
pub type DayMask = u8;
/// Monday to Friday.
pub const WEEKDAYS: DayMask = 0b001_1111;
/// Every day of the week.
pub const ALL_DAYS: DayMask = 0b111_1111;

/// When a device is online; see the module docs for the meaning of each parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Profile {
    /// Always online.
    AlwaysOn,
    /// Working hours on working days.
    Office {
        start: Secs,
        end: Secs,
        jitter: Secs,
        absent_days: f64,
        days: DayMask,
    },
    /// Sporadic sessions.
    Laptop {
        sessions_per_day: f64,
        session_length: Secs,
        window_start: Secs,
        window_end: Secs,
        days: DayMask,
    },
    /// Rare single sessions, long gaps.
    Dormant {
        online_days: f64,
        session_length: Secs,
        window_start: Secs,
        window_end: Secs,
    },
    /// Never online.
    Never,
}

impl Profile {
    /// Whether a device of this profile is attended unless its scenario says otherwise (see the
    /// module docs: an assumption per profile).
    pub fn attended_by_default(&self) -> bool {
        !matches!(self, Profile::AlwaysOn | Profile::Never)
    }
}

/// A profile with the distributions it draws from every device-day worked out once (per
/// segment), rather than on every draw. Draws are the same either way.
#[derive(Clone, Debug, PartialEq)]
pub struct DayModel {
    /// The profile.
    pub profile: Profile,
    /// Someone is using the device whenever it is online, so Windows never restarts it
    /// automatically (module docs). Kept here, beside the profile every availability question
    /// already reads, so that planning a restart costs one field read.
    pub attended: bool,
    /// Laptop: sessions a day (`None` when the rate is not positive: no sessions).
    sessions: Option<Poisson<f64>>,
    /// Laptop and dormant: session length (`None` for a zero mean: no sessions).
    length: Option<Exp<f64>>,
    /// The first local day number of the off periods (days since 1970-01-01 local).
    off_first: i64,
    /// Days from `off_first` to the last off day, plus one: 0 when there are no off periods, so
    /// that "is this day off?" is one comparison, `day - off_first < off_span` (unsigned), for
    /// a segment without them.
    off_span: u64,
    /// The off periods as inclusive ranges of local day numbers, sorted, merged where they
    /// overlap or touch (so that between two ranges there is at least one day on).
    off: Box<[(i64, i64)]>,
}

impl DayModel {
    /// Prepares `profile`, attended as its profile is by default.
    pub fn new(profile: Profile) -> Self {
        let (sessions, length) = match profile {
            Profile::Laptop {
                sessions_per_day,
                session_length,
                ..
            } => (
                Poisson::new(sessions_per_day).ok(),
                exp_length(session_length),
            ),
            Profile::Dormant { session_length, .. } => (None, exp_length(session_length)),
            _ => (None, None),
        };
        Self {
            attended: profile.attended_by_default(),
            profile,
            sessions,
            length,
            off_first: 0,
            off_span: 0,
            off: Box::default(),
        }
    }

    /// The same profile, offline on the local days of `periods` (inclusive ranges of local day
    /// numbers, days since 1970-01-01 local; in any order, overlapping or not; a range whose end
    /// is before its start is no day).
    pub fn with_off(mut self, periods: &[(i64, i64)]) -> Self {
        let mut ranges: Vec<(i64, i64)> = periods.iter().copied().filter(|(a, b)| a <= b).collect();
        ranges.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        match (merged.first(), merged.last()) {
            (Some(&(first, _)), Some(&(_, last))) => {
                self.off_first = first;
                self.off_span = last.abs_diff(first) + 1;
            }
            _ => {
                self.off_first = 0;
                self.off_span = 0;
            }
        }
        self.off = merged.into_boxed_slice();
        self
    }

    /// The same profile, attended or not (rather than its profile's default).
    pub fn with_attended(mut self, attended: bool) -> Self {
        self.attended = attended;
        self
    }

    /// The off periods, as merged inclusive ranges of local day numbers.
    pub fn off_periods(&self) -> &[(i64, i64)] {
        &self.off
    }

    /// Whether local day `day` is in an off period: one comparison for a segment without any.
    #[inline(always)]
    fn is_off(&self, day: i64) -> bool {
        (day.wrapping_sub(self.off_first) as u64) < self.off_span && self.in_off_range(day)
    }

    /// The off range holding `day`, or the index of the first range after it.
    fn off_range(&self, day: i64) -> Result<usize, usize> {
        let i = self.off.partition_point(|&(_, b)| b < day);
        match self.off.get(i) {
            Some(&(a, _)) if a <= day => Ok(i),
            _ => Err(i),
        }
    }

    #[inline(never)]
    fn in_off_range(&self, day: i64) -> bool {
        self.off_range(day).is_ok()
    }
}

fn exp_length(mean: Secs) -> Option<Exp<f64>> {
    if mean == 0 {
        return None;
    }
    Exp::new(1.0 / mean as f64).ok()
}

/// The last online interval a device's availability computed: `(start, end)` is the first online
/// interval ending after `from`, so it is also the answer for every `t` in `[from, end)` (with the
/// start moved up to `t`). A device asks about the same interval several times while one update
/// moves through download, install and restart planning; this memo answers those without
/// drawing the day again (the draws are the costliest part of a run: docs/performance.md).
/// When the interval is the last of its local day, the memo says so (the top bit of `end`), so
/// that the question "what comes after it?" starts drawing at the next day instead of drawing
/// that day again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memo {
    from: u32,
    /// Clamped at 0: intervals of the first day may begin before the run; answers never do.
    start: u32,
    /// The end, with [`LAST_OF_DAY`] set when no online moment follows it on its local day.
    end: u32,
}

/// The flag bit in [`Memo::end`]; times within the horizon (at most 10 years, about 2^28.2
/// seconds) never reach it.
const LAST_OF_DAY: u32 = 1 << 31;

impl Memo {
    /// Remembers nothing.
    pub const EMPTY: Memo = Memo {
        from: u32::MAX,
        start: 0,
        end: 0,
    };

    fn end(self) -> Time {
        u64::from(self.end & !LAST_OF_DAY)
    }

    fn last_of_day(self) -> bool {
        self.end & LAST_OF_DAY != 0
    }
}

impl Default for Memo {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// The key of a device's day streams. A device asks about its availability a few times an
/// event, and its memo answers most questions without drawing a day, so the key (two rounds of
/// mixing) is derived only when a day is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayKey {
    /// An already derived key.
    Key(u64),
    /// `run.key(Stream::Day, device)`.
    Device(RunKey, u64),
}

impl DayKey {
    /// The key.
    pub fn get(self) -> u64 {
        match self {
            DayKey::Key(k) => k,
            DayKey::Device(run, dev) => run.key(Stream::Day, dev),
        }
    }
}

impl From<u64> for DayKey {
    fn from(k: u64) -> Self {
        DayKey::Key(k)
    }
}

/// One device's availability: its profile, its local clock and its day-stream key.
#[derive(Clone, Debug)]
pub struct Availability<'a> {
    /// The profile shared by the device's segment.
    pub model: &'a DayModel,
    /// The device's local clock.
    pub clock: LocalClock<'a>,
    /// Key of the device's day streams.
    pub key: DayKey,
    /// No interval starting at or after this time is ever reported (the horizon end).
    pub until: Time,
    /// The device's last computed interval (pure cache: answers are the same with or without it).
    pub memo: Cell<Memo>,
}

impl Availability<'_> {
    /// The first online interval that ends after `t`, as (max(start, t), end); `None` when there is
    /// no online moment in [t, until).
    #[inline]
    pub fn next_interval(&self, t: Time) -> Option<(Time, Time)> {
        if t >= self.until {
            return None;
        }
        match self.model.profile {
            Profile::AlwaysOn if self.model.off_span == 0 => Some((t, NEVER)),
            Profile::AlwaysOn => self.always_on_between_off_periods(t),
            Profile::Never => None,
            _ => {
                // Most questions fall in the remembered interval: answered inline, without a
                // call; drawing days is `draw_interval`.
                let m = self.memo.get();
                let memo_end = m.end();
                if t >= u64::from(m.from) && t < memo_end {
                    let s = t.max(u64::from(m.start));
                    return (s < self.until).then_some((s, memo_end));
                }
                self.draw_interval(t, m)
            }
        }
    }

    /// [`Availability::next_interval`] when the memo does not answer: draws days from `t` on.
    #[inline(never)]
    fn draw_interval(&self, t: Time, m: Memo) -> Option<(Time, Time)> {
        let memo_end = m.end();
        let mut buf = [(0i64, 0i64); MAX_SESSIONS];
        let mut first = self.clock.day(t);
        if m.last_of_day() && t >= memo_end {
            // Nothing follows the remembered interval on its day: start at the next.
            first = first.max(self.clock.day(memo_end - 1) + 1);
        }
        // Derived once for all the days this call may draw (most draw one, a weekend three).
        let key = self.key.get();
        // Days up to the one after the horizon's: `day_start(day - 1) <= until` is `day <=
        // day(until) + 1` without a division.
        let until = self.until as i64;
        let mut day = first;
        while self.clock.day_start(day - 1) <= until {
            let n = self.day_intervals(key, day, &mut buf);
            for (i, &(s, e)) in buf[..n].iter().enumerate() {
                if e > t as i64 {
                    if let (Ok(from), Ok(start), Ok(end)) =
                        (u32::try_from(t), u32::try_from(s.max(0)), u32::try_from(e))
                        && end < LAST_OF_DAY
                    {
                        // The flag is set only when the interval provably lies within
                        // its day, so that `day(end - 1)` above is that day.
                        let within =
                            s >= self.clock.day_start(day) && e <= self.clock.day_start(day + 1);
                        let flag = if i + 1 == n && within { LAST_OF_DAY } else { 0 };
                        self.memo.set(Memo {
                            from,
                            start,
                            end: end | flag,
                        });
                    }
                    let s = s.max(t as i64) as Time;
                    return (s < self.until).then_some((s, e as Time));
                }
            }
            day += 1;
        }
        None
    }

    /// [`Availability::next_interval`] of an `always_on` device of a segment with off periods:
    /// online from the midnight that ends an off period to the one that starts the next (its
    /// intervals run across the midnights between, as without off periods).
    #[inline(never)]
    fn always_on_between_off_periods(&self, t: Time) -> Option<(Time, Time)> {
        let off = &self.model.off;
        let (start, next) = match self.model.off_range(self.clock.day(t)) {
            // Off at `t`: back at the midnight ending the period (after `t`, as its day is off).
            Ok(i) => (self.clock.day_start(off[i].1 + 1) as Time, i + 1),
            Err(i) => (t, i),
        };
        if start >= self.until {
            return None;
        }
        let end = off
            .get(next)
            .map_or(NEVER, |&(a, _)| self.clock.day_start(a) as Time);
        Some((start, end))
    }

    /// The first instant at or after `t` when the device is online.
    pub fn next_online(&self, t: Time) -> Option<Time> {
        self.next_interval(t).map(|(s, _)| s)
    }

    /// Whether the device is online at `t`.
    pub fn is_online(&self, t: Time) -> bool {
        self.next_online(t) == Some(t)
    }

    /// When `work` seconds of online time starting at `t` are complete (progress pauses while
    /// offline, as downloads and installs do); `None` if that is not within the horizon.
    pub fn advance_online(&self, t: Time, work: Secs) -> Option<Time> {
        let mut t = t;
        let mut left = work;
        loop {
            let (s, e) = self.next_interval(t)?;
            if e - s >= left {
                // Cannot overflow, however long the drawn work: s + left <= e.
                return Some(s + left);
            }
            left -= e - s;
            t = e;
        }
    }

    /// Fills `buf` with the day's online intervals in simulated time (sorted, disjoint, may be
    /// negative before the start) and returns how many there are.
    #[inline(always)]
    fn day_intervals(&self, key: u64, day: i64, buf: &mut [(i64, i64); MAX_SESSIONS]) -> usize {
        match self.clock.zone() {
            None => self.draw_day(key, day, self.clock.day_start(day), buf),
            Some(_) => self.zoned_day(key, day, buf),
        }
    }

    /// [`Availability::day_intervals`] of a clock whose offset changes during the run: the day
    /// is drawn in local wall seconds (as on any day: the draws do not depend on the offset),
    /// then each end is converted to simulated time through the offset of its moment. The
    /// conversion never decreases, so the intervals stay sorted; one the clocks skip entirely
    /// (a session within the spring-forward hour) is dropped.
    #[inline(never)]
    fn zoned_day(&self, key: u64, day: i64, buf: &mut [(i64, i64); MAX_SESSIONS]) -> usize {
        let n = self.draw_day(key, day, day * DAY as i64, buf);
        let mut w = 0;
        for i in 0..n {
            let (s, e) = buf[i];
            let (s, e) = (self.clock.at_wall(s), self.clock.at_wall(e));
            if e > s {
                buf[w] = (s, e);
                w += 1;
            }
        }
        w
    }

    /// The day's online intervals as seconds from `midnight` (the day's local midnight in
    /// simulated time, or its local wall second for [`Availability::zoned_day`]).
    #[inline(always)]
    fn draw_day(
        &self,
        key: u64,
        day: i64,
        midnight: i64,
        buf: &mut [(i64, i64); MAX_SESSIONS],
    ) -> usize {
        let weekday_bit = 1u8 << LocalClock::weekday(day);
        let off_day = match self.model.profile {
            Profile::Office { days, .. } | Profile::Laptop { days, .. } => days & weekday_bit == 0,
            _ => false,
        };
        // A dated off day (a holiday) is a day off too; without off periods the check is one
        // comparison.
        if off_day || self.model.is_off(day) {
            // Nothing is drawn on a day off, so its stream need not be seeded.
            return 0;
        }
        let mut rng = rng_from_key_sub(key, day as u64);
        match self.model.profile {
            Profile::AlwaysOn => {
                buf[0] = (midnight, midnight + DAY as i64);
                1
            }
            Profile::Never => 0,
            Profile::Office {
                start,
                end,
                jitter,
                absent_days,
                ..
            } => {
                if rng.random_bool(absent_days.clamp(0.0, 1.0)) {
                    return 0;
                }
                let j = jitter as i64;
                let (ds, de) = if j > 0 {
                    (rng.random_range(-j..=j), rng.random_range(-j..=j))
                } else {
                    (0, 0)
                };
                let s = (start as i64 + ds).clamp(0, DAY as i64);
                let e = (end as i64 + de).clamp(0, DAY as i64);
                if e <= s {
                    return 0;
                }
                buf[0] = (midnight + s, midnight + e);
                1
            }
            Profile::Laptop {
                window_start,
                window_end,
                ..
            } => {
                let n = match self.model.sessions {
                    Some(p) => (p.sample(&mut rng) as usize).min(MAX_SESSIONS),
                    None => 0,
                };
                sessions(
                    &mut rng,
                    n,
                    self.model.length,
                    window_start,
                    window_end,
                    midnight,
                    buf,
                )
            }
            Profile::Dormant {
                online_days,
                window_start,
                window_end,
                ..
            } => {
                let n = usize::from(rng.random_bool(online_days.clamp(0.0, 1.0)));
                sessions(
                    &mut rng,
                    n,
                    self.model.length,
                    window_start,
                    window_end,
                    midnight,
                    buf,
                )
            }
        }
    }
}

/// Draws `n` sessions in [window_start, window_end) local time, each lasting `length` (none
/// when there is no length law: a zero mean), then sorts and merges overlaps.
// Inline in the day draw, as the profile-guided build does: 1.3 % faster at a million devices
// (8 of 9 side-by-side pairs; docs/performance.md).
#[inline(always)]
fn sessions(
    rng: &mut impl Rng,
    n: usize,
    length: Option<Exp<f64>>,
    window_start: Secs,
    window_end: Secs,
    midnight: i64,
    buf: &mut [(i64, i64); MAX_SESSIONS],
) -> usize {
    let Some(length) = length else {
        return 0;
    };
    if n == 0 || window_end <= window_start {
        return 0;
    }
    for slot in buf.iter_mut().take(n) {
        let s = rng.random_range(window_start..window_end);
        let len = length.sample(rng).max(60.0) as Secs;
        // A session length drawn from a huge mean can be u64::MAX seconds.
        let e = s.saturating_add(len).min(window_end);
        *slot = (midnight + s as i64, midnight + e as i64);
    }
    // At most eight sessions, mostly two or three: an insertion sort in line, rather than the
    // standard library's call (which picks the same algorithm for so few). Same order: equal
    // sessions are equal in both fields.
    for i in 1..n {
        let x = buf[i];
        let mut j = i;
        while j > 0 && buf[j - 1] > x {
            buf[j] = buf[j - 1];
            j -= 1;
        }
        buf[j] = x;
    }
    let mut w = 0;
    for i in 1..n {
        if buf[i].0 <= buf[w].1 {
            buf[w].1 = buf[w].1.max(buf[i].1);
        } else {
            w += 1;
            buf[w] = buf[i];
        }
    }
    w + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::HOUR;

    fn office() -> Profile {
        Profile::Office {
            start: 8 * HOUR,
            end: 17 * HOUR,
            jitter: 0,
            absent_days: 0.0,
            days: WEEKDAYS,
        }
    }

    // 2026-01-12T00:00:00Z is a Monday.
    const MONDAY: i64 = 1_768_176_000;

    fn avail(p: &DayModel) -> Availability<'_> {
        Availability {
            model: p,
            clock: LocalClock::new(MONDAY, 0),
            key: 99.into(),
            until: 30 * DAY,
            memo: Default::default(),
        }
    }

    #[test]
    fn office_device_is_online_in_working_hours_on_weekdays_only() {
        let p = DayModel::new(office());
        let a = avail(&p);
        assert_eq!(a.next_online(0), Some(8 * HOUR));
        assert!(a.is_online(9 * HOUR));
        assert!(!a.is_online(18 * HOUR));
        assert_eq!(a.next_online(18 * HOUR), Some(DAY + 8 * HOUR));
        // Saturday 10:00 → Monday 08:00.
        assert_eq!(a.next_online(5 * DAY + 10 * HOUR), Some(7 * DAY + 8 * HOUR));
    }

    #[test]
    fn work_pauses_while_offline() {
        let p = DayModel::new(office());
        let a = avail(&p);
        // 2 h of work starting Monday 16:00 ends Tuesday 09:00.
        assert_eq!(a.advance_online(16 * HOUR, 2 * HOUR), Some(DAY + 9 * HOUR));
        assert_eq!(a.advance_online(9 * HOUR, 0), Some(9 * HOUR));
    }

    #[test]
    fn never_online_has_no_next_instant_and_always_on_is_now() {
        let never = DayModel::new(Profile::Never);
        assert_eq!(avail(&never).next_online(5), None);
        let always = DayModel::new(Profile::AlwaysOn);
        assert_eq!(avail(&always).next_online(5), Some(5));
        assert_eq!(avail(&always).advance_online(5, 100), Some(105));
    }

    #[test]
    fn nothing_is_reported_past_the_horizon() {
        let p = DayModel::new(office());
        let a = Availability {
            until: 20 * HOUR,
            ..avail(&p)
        };
        assert_eq!(a.next_online(18 * HOUR), None);
    }

    #[test]
    fn laptop_sessions_are_sorted_disjoint_and_inside_the_window() {
        let p = DayModel::new(Profile::Laptop {
            sessions_per_day: 3.0,
            session_length: 2 * HOUR,
            window_start: 7 * HOUR,
            window_end: 23 * HOUR,
            days: ALL_DAYS,
        });
        let a = avail(&p);
        let mut t = 0;
        let mut online = 0;
        while let Some((s, e)) = a.next_interval(t) {
            assert!(s >= t && e > s);
            let tod = a.clock.time_of_day(s);
            assert!(
                (7 * HOUR..23 * HOUR).contains(&tod),
                "session starts at {tod}"
            );
            online += e - s;
            t = e;
        }
        let per_day = online as f64 / 30.0 / HOUR as f64;
        assert!((2.0..8.0).contains(&per_day), "{per_day} h online per day");
    }

    fn profiles() -> Vec<DayModel> {
        vec![
            DayModel::new(Profile::Office {
                start: 8 * HOUR,
                end: 17 * HOUR,
                jitter: HOUR,
                absent_days: 0.2,
                days: WEEKDAYS,
            }),
            DayModel::new(Profile::Laptop {
                sessions_per_day: 3.0,
                session_length: 2 * HOUR,
                window_start: 0,
                window_end: DAY,
                days: ALL_DAYS,
            }),
            DayModel::new(Profile::Dormant {
                online_days: 0.3,
                session_length: HOUR,
                window_start: 8 * HOUR,
                window_end: 20 * HOUR,
            }),
        ]
    }

    /// The local day number of `MONDAY` (a clock at UTC offset 0 starting then).
    const MONDAY_DAY: i64 = MONDAY / DAY as i64;

    #[test]
    fn an_off_day_has_no_online_interval() {
        // Wednesday of the first week is off.
        let p = DayModel::new(office()).with_off(&[(MONDAY_DAY + 2, MONDAY_DAY + 2)]);
        let a = avail(&p);
        assert!(a.is_online(DAY + 9 * HOUR));
        assert!(!a.is_online(2 * DAY + 9 * HOUR));
        // Tuesday 18:00 → Thursday 08:00, past the off Wednesday.
        assert_eq!(
            a.next_interval(DAY + 18 * HOUR),
            Some((3 * DAY + 8 * HOUR, 3 * DAY + 17 * HOUR))
        );
        // Work begun on Tuesday afternoon pauses over the off day.
        assert_eq!(
            a.advance_online(DAY + 16 * HOUR, 2 * HOUR),
            Some(3 * DAY + 9 * HOUR)
        );
    }

    #[test]
    fn next_online_instant_at_or_after_t_skips_a_run_of_off_days() {
        // The whole second week is off: Friday evening of the first → Monday of the third.
        let p = DayModel::new(office()).with_off(&[(MONDAY_DAY + 7, MONDAY_DAY + 13)]);
        let a = avail(&p);
        assert_eq!(
            a.next_online(4 * DAY + 18 * HOUR),
            Some(14 * DAY + 8 * HOUR)
        );
        assert_eq!(a.next_online(9 * DAY), Some(14 * DAY + 8 * HOUR));
        // An off period lasting past the horizon leaves nothing.
        let p = DayModel::new(office()).with_off(&[(MONDAY_DAY + 7, MONDAY_DAY + 100)]);
        assert_eq!(avail(&p).next_online(4 * DAY + 18 * HOUR), None);
    }

    #[test]
    fn an_always_on_session_is_cut_at_the_midnight_an_off_day_starts() {
        let p = DayModel::new(Profile::AlwaysOn).with_off(&[
            (MONDAY_DAY + 2, MONDAY_DAY + 3),
            (MONDAY_DAY + 9, MONDAY_DAY + 9),
        ]);
        let a = avail(&p);
        // Online from Monday 10:00 until Wednesday's midnight, back at Friday's.
        assert_eq!(a.next_interval(10 * HOUR), Some((10 * HOUR, 2 * DAY)));
        assert_eq!(
            a.next_interval(2 * DAY + 5 * HOUR),
            Some((4 * DAY, 9 * DAY))
        );
        assert!(!a.is_online(2 * DAY));
        assert!(!a.is_online(4 * DAY - 1));
        assert!(a.is_online(4 * DAY));
        // After the last off day, online for good.
        assert_eq!(a.next_interval(9 * DAY + 1), Some((10 * DAY, NEVER)));
        // Two days of work begun on Monday noon: 36 h before Wednesday, 12 h from Friday.
        assert_eq!(
            a.advance_online(12 * HOUR, 2 * DAY),
            Some(4 * DAY + 12 * HOUR)
        );
        // Off until past the horizon: nothing.
        let p = DayModel::new(Profile::AlwaysOn).with_off(&[(MONDAY_DAY + 20, MONDAY_DAY + 40)]);
        assert_eq!(avail(&p).next_interval(21 * DAY), None);
        assert_eq!(avail(&p).next_interval(DAY), Some((DAY, 20 * DAY)));
    }

    #[test]
    fn a_laptop_session_never_runs_past_the_midnight_an_off_day_starts() {
        // Sessions all day long, every day; Thursday is off.
        let model = |off: &[(i64, i64)]| {
            DayModel::new(Profile::Laptop {
                sessions_per_day: 8.0,
                session_length: 6 * HOUR,
                window_start: 0,
                window_end: DAY,
                days: ALL_DAYS,
            })
            .with_off(off)
        };
        let plain = model(&[]);
        let holiday = model(&[(MONDAY_DAY + 3, MONDAY_DAY + 3)]);
        for key in 0..50u64 {
            let a = Availability {
                key: key.into(),
                ..avail(&holiday)
            };
            let b = Availability {
                key: key.into(),
                ..avail(&plain)
            };
            let (mut t, mut before) = (0, Vec::new());
            while let Some((s, e)) = a.next_interval(t) {
                assert!(
                    e <= 3 * DAY || s >= 4 * DAY,
                    "key {key}: {s}..{e} touches the off Thursday"
                );
                before.push((s, e));
                t = e;
            }
            // Every other day is drawn as without the off day.
            let (mut t, mut other) = (0, Vec::new());
            while let Some((s, e)) = b.next_interval(t) {
                if !(3 * DAY..4 * DAY).contains(&s) {
                    other.push((s, e));
                }
                t = e;
            }
            assert_eq!(before, other, "key {key}");
        }
    }

    #[test]
    fn off_dates_are_local_days_of_the_device_s_utc_offset() {
        // At +05:00 the local Wednesday runs from Tuesday 19:00 to Wednesday 19:00 UTC.
        let offset = 5 * HOUR as i64;
        let local_wednesday = (MONDAY + offset) / DAY as i64 + 2;
        let always =
            DayModel::new(Profile::AlwaysOn).with_off(&[(local_wednesday, local_wednesday)]);
        let a = Availability {
            clock: LocalClock::new(MONDAY, offset as i32),
            ..avail(&always)
        };
        assert_eq!(a.next_interval(0), Some((0, 2 * DAY - 5 * HOUR)));
        assert_eq!(a.next_online(2 * DAY), Some(3 * DAY - 5 * HOUR));
        let office = DayModel::new(office()).with_off(&[(local_wednesday, local_wednesday)]);
        let a = Availability {
            clock: LocalClock::new(MONDAY, offset as i32),
            ..avail(&office)
        };
        // Local Tuesday 18:00 → local Thursday 08:00 (03:00 UTC).
        assert_eq!(a.next_online(DAY + 13 * HOUR), Some(3 * DAY + 3 * HOUR));
    }

    #[test]
    fn overlapping_and_touching_off_periods_merge_and_reversed_ones_are_no_day() {
        let p = DayModel::new(office()).with_off(&[(5, 7), (3, 5), (8, 9), (20, 19), (12, 12)]);
        assert_eq!(p.off_periods(), [(3, 9), (12, 12)]);
        assert!(p.is_off(3) && p.is_off(9) && p.is_off(12));
        assert!(!p.is_off(2) && !p.is_off(10) && !p.is_off(13) && !p.is_off(-5));
        let none = DayModel::new(office()).with_off(&[]);
        assert_eq!(none, DayModel::new(office()));
        assert!(!none.is_off(0));
    }

    proptest::proptest! {
        #[test]
        fn the_memo_never_changes_an_answer_with_off_periods(
            profile in 0usize..4,
            key in 0u64..1_000,
            offset in 0i64..DAY as i64,
            utc_offset in -14i32..=14,
            // Off periods as (first day, length) from the run's first local day.
            off in proptest::collection::vec((-2i64..13, 0i64..4), 0..4),
            queries in proptest::collection::vec(0u64..12 * DAY, 1..60),
        ) {
            let mut models = profiles();
            models.push(DayModel::new(Profile::AlwaysOn));
            let clock = LocalClock::new(MONDAY + offset, utc_offset * HOUR as i32);
            let first = clock.day(0);
            let periods: Vec<(i64, i64)> =
                off.iter().map(|&(d, n)| (first + d, first + d + n)).collect();
            let plain = &models[profile];
            let model = &plain.clone().with_off(&periods);
            let is_off = |day: i64| periods.iter().any(|&(a, b)| (a..=b).contains(&day));
            let make = |model| Availability { model, clock, key: key.into(), until: 10 * DAY, memo: Default::default() };
            let kept = make(model);
            for &q in &queries {
                let fresh = make(model).next_interval(q);
                proptest::prop_assert_eq!(kept.next_interval(q), fresh, "at {}", q);
                if let Some((_, e)) = fresh.filter(|&(_, e)| e < 12 * DAY) {
                    proptest::prop_assert_eq!(kept.next_interval(e), make(model).next_interval(e), "at {}", e);
                }
                // No online moment on an off day, and the online moments are those of the
                // profile without off periods on the other days.
                if let Some((s, e)) = fresh {
                    proptest::prop_assert!(!is_off(clock.day(s)), "{} on an off day", s);
                    proptest::prop_assert!(e == NEVER || !is_off(clock.day(e - 1)), "{} on an off day", e);
                }
                if profile < 3 {
                    let reference = make(plain);
                    let mut t = q;
                    let expected = loop {
                        match reference.next_interval(t) {
                            Some((s, e)) if is_off(clock.day(s)) => t = e,
                            other => break other,
                        }
                    };
                    proptest::prop_assert_eq!(fresh, expected.map(|(s, e)| (s.max(q), e)), "at {}", q);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_memo_never_changes_an_answer(
            profile in 0usize..3,
            key in 0u64..1_000,
            // The run starts mid-day, so the first day's intervals can begin before it.
            offset in 0i64..DAY as i64,
            queries in proptest::collection::vec(0u64..12 * DAY, 1..60),
        ) {
            let models = profiles();
            let model = &models[profile];
            let clock = LocalClock::new(MONDAY + offset, 0);
            let make = || Availability { model, clock, key: key.into(), until: 10 * DAY, memo: Default::default() };
            let kept = make();
            for &q in &queries {
                // Also ask at the end of the answer, the question a walk through intervals asks.
                let fresh = make().next_interval(q);
                proptest::prop_assert_eq!(kept.next_interval(q), fresh, "at {}", q);
                if let Some((_, e)) = fresh.filter(|&(_, e)| e < 12 * DAY) {
                    proptest::prop_assert_eq!(kept.next_interval(e), make().next_interval(e), "at {}", e);
                }
            }
        }
    }

    #[test]
    fn same_key_and_day_give_the_same_intervals() {
        let p = DayModel::new(Profile::Dormant {
            online_days: 0.3,
            session_length: HOUR,
            window_start: 8 * HOUR,
            window_end: 20 * HOUR,
        });
        let a = avail(&p);
        let b = avail(&p);
        assert_eq!(a.next_interval(3 * DAY), b.next_interval(3 * DAY));
    }

    #[test]
    fn a_london_office_device_keeps_its_local_hours_across_the_last_sunday_of_march() {
        // Monday 2026-03-23; London's clocks go forward on Sunday 2026-03-29, 01:00 UTC.
        let start = crate::time::parse_instant("2026-03-23")
            .unwrap()
            .as_second();
        let tz = crate::time::parse_time_zone("Europe/London").unwrap();
        let zone = crate::time::Zone::new(&tz, start, 30 * DAY);
        let p = DayModel::new(office());
        let a = Availability {
            clock: zone.clock(),
            ..avail(&p)
        };
        // Friday 27 March: 08:00 to 17:00 GMT, which is UTC.
        assert_eq!(
            a.next_interval(4 * DAY),
            Some((4 * DAY + 8 * HOUR, 4 * DAY + 17 * HOUR))
        );
        // Monday 30 March: 08:00 to 17:00 BST, an hour earlier in UTC.
        let monday = a.next_interval(4 * DAY + 18 * HOUR);
        assert_eq!(monday, Some((7 * DAY + 7 * HOUR, 7 * DAY + 16 * HOUR)));
        let (s, e) = monday.unwrap();
        assert_eq!(
            (a.clock.time_of_day(s), a.clock.time_of_day(e)),
            (8 * HOUR, 17 * HOUR)
        );
        assert_eq!(LocalClock::weekday(a.clock.day(s)), 0);
        // A device kept at +00:00 comes online an hour late all week.
        let fixed = avail(&p);
        assert_eq!(
            fixed.next_interval(4 * DAY + 18 * HOUR),
            Some((7 * DAY + 8 * HOUR, 7 * DAY + 17 * HOUR))
        );
    }

    #[test]
    fn an_always_on_device_off_on_the_change_day_is_off_for_its_23_hours() {
        let start = crate::time::parse_instant("2026-03-23")
            .unwrap()
            .as_second();
        let tz = crate::time::parse_time_zone("Europe/London").unwrap();
        let zone = crate::time::Zone::new(&tz, start, 30 * DAY);
        let sunday = start / DAY as i64 + 6;
        let p = DayModel::new(Profile::AlwaysOn).with_off(&[(sunday, sunday)]);
        let a = Availability {
            clock: zone.clock(),
            ..avail(&p)
        };
        // Off from Sunday 00:00 GMT to Monday 00:00 BST (Sunday 23:00 UTC).
        assert_eq!(a.next_interval(DAY), Some((DAY, 6 * DAY)));
        assert_eq!(a.next_online(6 * DAY), Some(7 * DAY - HOUR));
    }

    proptest::proptest! {
        #[test]
        fn sessions_of_a_zone_s_clock_stay_sorted_and_disjoint_across_its_changes(
            profile in 0usize..3,
            key in 0u64..1_000,
            zone_index in 0usize..3,
            queries in proptest::collection::vec(0u64..40 * DAY, 1..40),
        ) {
            // Runs from 2026-03-01 over the March and April changes of three zones, with
            // sessions all day long (the laptop's window starts at midnight): some fall in the
            // skipped hour.
            let names = ["Europe/London", "America/New_York", "Australia/Sydney"];
            let start = crate::time::parse_instant("2026-03-01").unwrap().as_second();
            let tz = crate::time::parse_time_zone(names[zone_index]).unwrap();
            let zone = crate::time::Zone::new(&tz, start, 40 * DAY);
            let models = profiles();
            let model = &models[profile];
            let make = || Availability { model, clock: zone.clock(), key: key.into(), until: 40 * DAY, memo: Default::default() };
            let kept = make();
            let mut t = 0;
            while let Some((s, e)) = kept.next_interval(t) {
                proptest::prop_assert!(s >= t && e > s, "{}..{} after {}", s, e, t);
                t = e;
            }
            for &q in &queries {
                proptest::prop_assert_eq!(kept.next_interval(q), make().next_interval(q), "at {}", q);
            }
        }
    }
}
