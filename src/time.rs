//! Simulated time: integer seconds since the scenario's `start`, ISO 8601 durations, local time.
//!
//! Integer seconds make every run exactly reproducible (no float drift in event ordering). Calendar
//! maths — local day, time of day, weekday — happens only here, through a device's
//! [`LocalClock`], so the rest of the model never touches time zones (DESIGN.md §1 "Clock").
//!
//! A segment's local time is a fixed UTC offset (`utc_offset`) or a named IANA time zone
//! (`time_zone = "Europe/London"`). A named zone changes its offset on its own dates (London and
//! New York a few weeks apart in March), and a fixed offset would put office hours, active
//! hours and the maintenance time an hour off local time for those weeks. So a zone's clock
//! knows the offset changes that fall in the run ([`Zone`]): a local day on a change day lasts
//! 23 or 25 hours, and local times map to instants through the offset of their moment. The
//! database is jiff's bundled copy, never the machine's, so a scenario runs the same everywhere.
//! A local time the clocks skip is the instant they change; one they read twice is its first
//! reading ([`LocalClock::at`]).

use jiff::{Span, SpanTotal, Timestamp, Unit};

/// Seconds since the scenario's `start` (t = 0).
pub type Time = u64;

/// A non-negative length of time in seconds.
pub type Secs = u64;

/// Seconds in a minute, an hour and a day.
pub const MINUTE: Secs = 60;
/// Seconds in an hour.
pub const HOUR: Secs = 3_600;
/// Seconds in a day: a simulated day; a local day of a zone with daylight saving lasts 23 or 25
/// hours on the days its clocks change ([`LocalClock::at`]).
pub const DAY: Secs = 86_400;

/// "Never" for times that may not happen within the horizon.
pub const NEVER: Time = u64::MAX;

/// Parses a duration: ISO 8601 (`PT22H`, `P2D`, `P1DT12H`, as the Graph API uses for
/// `durationBetweenOffers`) or jiff's friendly form (`22h`, `2d`, `1h 30m`).
///
/// Days count as 24 hours; months and years are refused because their length depends on the
/// calendar. Returns the signed number of seconds so callers can say "must not be negative" with
/// the value found.
pub fn parse_duration_signed(text: &str) -> Result<i64, String> {
    let span: Span = text.trim().parse().map_err(|e| duration_error(text, &e))?;
    if span.get_months() != 0 || span.get_years() != 0 {
        return Err("months and years have no fixed length; use days (e.g. \"P30D\")".into());
    }
    let total = span
        .total(SpanTotal::from(Unit::Second).days_are_24_hours())
        .map_err(|e| format!("cannot convert to seconds ({e})"))?;
    if total.fract() != 0.0 {
        return Err("sub-second precision is not supported".into());
    }
    Ok(total as i64)
}

/// Why `text` is not a duration, with what to write instead when the slip is a common one: a
/// number without a unit, a unit written after the number without the `P` (`3D`), hours before
/// the `T` (`P72H`). The parser's own words are kept only where they help (inside an ISO 8601
/// form); its "friendly format" errors name a syntax the message does not teach.
fn duration_error(text: &str, e: &jiff::Error) -> String {
    const USAGE: &str =
        "not an ISO 8601 duration such as \"P2D\" (2 days), \"PT22H\" (22 hours) or \"P1DT12H\"";
    let t = text.trim();
    let before_unit = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &t[before_unit.len()..];
    let digits = before_unit.trim_end();
    let number = !digits.is_empty() && digits.parse::<f64>().is_ok();
    if number && unit.is_empty() {
        return format!(
            "{USAGE}: a number needs a unit, e.g. \"P{digits}D\" for {digits} days or \"PT{digits}H\" for {digits} hours"
        );
    }
    if number {
        let fixed = match unit.to_ascii_uppercase().as_str() {
            "D" | "DAY" | "DAYS" => Some(format!("P{digits}D")),
            "W" | "WEEK" | "WEEKS" => Some(format!("P{digits}W")),
            "H" | "HOUR" | "HOURS" => Some(format!("PT{digits}H")),
            "M" | "MIN" | "MINS" | "MINUTE" | "MINUTES" => Some(format!("PT{digits}M")),
            "S" | "SEC" | "SECS" | "SECOND" | "SECONDS" => Some(format!("PT{digits}S")),
            _ => None,
        };
        if let Some(fixed) = fixed {
            return format!("{USAGE}: write \"{fixed}\"");
        }
    }
    let upper = t.to_ascii_uppercase();
    if let Some(body) = upper.strip_prefix('P')
        && !body.contains('T')
        && body.ends_with(['H', 'S'])
    {
        let fixed = match body.split_once('D') {
            Some((days, time)) => format!("P{days}DT{time}"),
            None => format!("PT{body}"),
        };
        return format!("{USAGE}: hours, minutes and seconds come after a T, e.g. \"{fixed}\"");
    }
    if upper.starts_with('P') {
        return format!("{USAGE} ({e})");
    }
    USAGE.to_string()
}

/// Parses a non-negative duration (see [`parse_duration_signed`]).
pub fn parse_duration(text: &str) -> Result<Secs, String> {
    let secs = parse_duration_signed(text)?;
    if secs < 0 {
        return Err("must not be negative".into());
    }
    Ok(secs as Secs)
}

/// Parses an RFC 3339 instant (`2026-01-13T18:00:00Z`) or a plain date (`2026-01-13`, midnight UTC).
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    // jiff reads a date followed by a time as that date, so a date-time without an offset
    // would silently become midnight: refuse it, since its time zone is unknown.
    if text.parse::<jiff::civil::DateTime>().is_ok() && text.len() > "2026-01-13".len() {
        return Err("has no UTC offset; add \"Z\" for UTC or an offset such as \"+01:00\"".into());
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    Err(
        "not an RFC 3339 instant such as \"2026-01-13T18:00:00Z\" or a date such as \"2026-01-13\""
            .into(),
    )
}

/// Parses a UTC offset `+HH:MM` / `-HH:MM` (or `Z`) into seconds east of UTC.
pub fn parse_utc_offset(text: &str) -> Result<i32, String> {
    let t = text.trim();
    if t == "Z" || t == "z" {
        return Ok(0);
    }
    if t.contains('/') || (!t.is_empty() && t.chars().all(|c| c.is_ascii_alphabetic())) {
        // A time zone's name (`Europe/London`, `EST`): it has a field of its own.
        return Err("not a UTC offset such as \"+01:00\" or \"-05:00\": a named time zone goes in time_zone instead (time_zone = \"Europe/London\"), which follows the zone's daylight saving changes".into());
    }
    let err = || "not a UTC offset such as \"+01:00\" or \"-05:00\"".to_string();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(err()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(err)?;
    let h: i32 = h.parse().map_err(|_| err())?;
    let m: i32 = m.parse().map_err(|_| err())?;
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return Err("offset must lie between -14:00 and +14:00".into());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// Parses a local time of day `HH:MM` into seconds after midnight; `24:00` is allowed as an end.
pub fn parse_time_of_day(text: &str) -> Result<Secs, String> {
    let err = || "not a time of day such as \"08:00\"".to_string();
    let (h, m) = text.trim().split_once(':').ok_or_else(err)?;
    let h: u64 = h.parse().map_err(|_| err())?;
    let m: u64 = m.parse().map_err(|_| err())?;
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err("hours must be 0–24 and minutes 0–59".into());
    }
    Ok(h * HOUR + m * MINUTE)
}

/// Maps simulated time to a device's local calendar.
///
/// `base` is the local wall-clock second (since 1970-01-01 local) at t = 0, i.e. the scenario start
/// plus the device's UTC offset. All calendar questions reduce to integer division by [`DAY`].
///
/// A clock of a named time zone ([`Zone`]) also borrows the zone's offset changes within the
/// run; `base` is then the one before the first change. The clock stays two words and `Copy`,
/// as every availability question copies it, and a fixed offset (`zone` is `None`: also a zone
/// that does not change its offset during the run) pays one predictable branch per question.
/// A borrowed table rather than an inline array: a ten-year run in a zone with daylight saving
/// crosses twenty changes, and an array that large would be copied with every question; the
/// borrow's lifetime is the run's, which every holder of a clock (a run's world, a device's
/// availability) already has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalClock<'z> {
    base: i64,
    zone: Option<&'z Zone>,
}

impl LocalClock<'static> {
    /// A clock for a scenario starting at `start_unix` (seconds since the Unix epoch, UTC) seen from
    /// a device at `utc_offset` seconds east of UTC.
    pub fn new(start_unix: i64, utc_offset: i32) -> Self {
        Self {
            base: start_unix + i64::from(utc_offset),
            zone: None,
        }
    }
}

impl LocalClock<'_> {
    /// `base` at simulated time `t`: local wall second = base + t.
    #[inline(always)]
    fn base_at(&self, t: Time) -> i64 {
        match self.zone {
            None => self.base,
            Some(z) => z.base_at(self.base, t as i64),
        }
    }

    /// Local day number (days since 1970-01-01 local) of simulated time `t`.
    #[inline]
    pub fn day(&self, t: Time) -> i64 {
        (self.base_at(t) + t as i64).div_euclid(DAY as i64)
    }

    /// Seconds after local midnight at simulated time `t`.
    #[inline]
    pub fn time_of_day(&self, t: Time) -> Secs {
        (self.base_at(t) + t as i64).rem_euclid(DAY as i64) as Secs
    }

    /// Simulated time of local midnight starting `day`; negative when before the scenario start.
    #[inline]
    pub fn day_start(&self, day: i64) -> i64 {
        self.at(day, 0)
    }

    /// Simulated time when the local clock reads `secs` (0 to [`DAY`], `DAY` being the midnight
    /// that ends the day) on local day `day`; negative when before the scenario start. A time the
    /// clocks skip (spring forward) is the instant they change, the first after the gap; a time
    /// they read twice (fall back) is its first reading, with the offset before the change (as
    /// jiff's "compatible" disambiguation). So the answer never decreases as `secs` grows: a
    /// day's online intervals stay sorted and none ends before it begins.
    #[inline]
    pub fn at(&self, day: i64, secs: Secs) -> i64 {
        self.at_wall(day * DAY as i64 + secs as i64)
    }

    /// Simulated time when the local clock reads `wall`, in seconds since 1970-01-01 local
    /// (see [`LocalClock::at`]).
    #[inline]
    pub fn at_wall(&self, wall: i64) -> i64 {
        match self.zone {
            None => wall - self.base,
            Some(z) => z.instant(self.base, wall),
        }
    }

    /// The first simulated time at or after `t` when the local clock reads `secs` (0 to
    /// [`DAY`]); at `t` itself when it reads `secs` then. Where the clock changes between `t`
    /// and that reading, the wait is an hour shorter or longer than the difference on the
    /// clock's face.
    #[inline]
    pub fn next_time_of_day(&self, t: Time, secs: Secs) -> Time {
        let tod = self.time_of_day(t);
        if self.zone.is_none() {
            return if secs >= tod {
                t + (secs - tod)
            } else {
                t + (DAY - tod + secs)
            };
        }
        let day = self.day(t);
        if secs >= tod {
            let x = self.at(day, secs);
            // In the second reading of a repeated hour, `at` names the first, which is past:
            // the clock reads `secs` again `secs - tod` from now.
            if x >= t as i64 {
                x as Time
            } else {
                t + (secs - tod)
            }
        } else {
            // The next day's reading is after every instant of this day.
            self.at(day + 1, secs).max(t as i64) as Time
        }
    }

    /// The zone whose offset changes this clock follows, if it has any within the run.
    pub fn zone(&self) -> Option<&Zone> {
        self.zone
    }

    /// Weekday of a local day number, 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(day: i64) -> u8 {
        (day + 3).rem_euclid(7) as u8
    }
}

/// A named time zone's offset changes (daylight saving, or a change of standard time) within one
/// run, from the IANA time zone database bundled into rollsim (so that a run gives the same
/// answers on every machine, whatever its `/usr/share/zoneinfo`, and on one without it).
///
/// Only the changes from a day before the scenario start to a day after the horizon's end are
/// kept: every question a run asks of a clock lies there (the day draws look at most a day
/// either side of the run), and a clock outside keeps the offset of the nearest end. A change
/// is a few words in simulated time, so that a clock answers without calendar arithmetic: which
/// change applies at `t` is a binary search among a handful.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// `base` (local wall second − simulated time) before the first change.
    first_base: i64,
    /// The changes in time order; none when the zone keeps one offset through the run.
    changes: Box<[Change]>,
}

/// One offset change of a [`Zone`], in simulated time and local wall seconds (seconds since
/// 1970-01-01 local).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Change {
    /// When the offset changes (negative in the day before the start).
    at: i64,
    /// `base` before the change.
    before: i64,
    /// `base` from the change on.
    after: i64,
    /// The local wall seconds `[lo, hi)` around the change that the clock skips (`after >
    /// before`) or reads twice (`after < before`): `at` seen with the smaller and the larger
    /// offset. Wall times from `hi` on are after the change, before `lo` before it.
    lo: i64,
    hi: i64,
}

impl Zone {
    /// The changes of `tz` for a run starting at `start_unix` (Unix seconds) and lasting
    /// `horizon`, with a day of margin either side.
    pub fn new(tz: &jiff::tz::TimeZone, start_unix: i64, horizon: Secs) -> Zone {
        let horizon = i64::try_from(horizon).unwrap_or(i64::MAX);
        let clamp = |s: i64| {
            Timestamp::from_second(s.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second()))
                .unwrap_or(Timestamp::UNIX_EPOCH)
        };
        let from = clamp(start_unix.saturating_sub(DAY as i64));
        let to = clamp(
            start_unix
                .saturating_add(horizon)
                .saturating_add(DAY as i64),
        );
        let offset = |o: jiff::tz::Offset| i64::from(o.seconds());
        let first_base = start_unix + offset(tz.to_offset(from));
        let mut changes: Vec<Change> = Vec::new();
        let mut base = first_base;
        for tr in tz.following(from) {
            if tr.timestamp() > to {
                break;
            }
            let after = start_unix + offset(tr.offset());
            if after == base {
                // Only the abbreviation or the daylight-saving flag changed.
                continue;
            }
            let at = tr.timestamp().as_second() - start_unix;
            let (mut lo, hi) = (at + base.min(after), at + base.max(after));
            // Changes are months apart in every zone of the database today; two closer than
            // their own size (history has a few) are kept in order by clamping, so that
            // `instant` still finds its change by a binary search and never decreases.
            if let Some(prev) = changes.last() {
                lo = lo.max(prev.hi);
            }
            changes.push(Change {
                at,
                before: base,
                after,
                lo,
                hi: hi.max(lo),
            });
            base = after;
        }
        Zone {
            first_base,
            changes: changes.into_boxed_slice(),
        }
    }

    /// The clock of this zone for its run: the fixed-offset fast path when the offset does not
    /// change within the run.
    pub fn clock(&self) -> LocalClock<'_> {
        LocalClock {
            base: self.first_base,
            zone: (!self.changes.is_empty()).then_some(self),
        }
    }

    /// How many offset changes fall within the run (and its day of margin either side).
    pub fn changes(&self) -> usize {
        self.changes.len()
    }

    /// `base` at simulated time `t` (`first` before the first change).
    #[inline(never)]
    fn base_at(&self, first: i64, t: i64) -> i64 {
        match self.changes.partition_point(|c| c.at <= t) {
            0 => first,
            i => self.changes[i - 1].after,
        }
    }

    /// Simulated time at local wall second `wall` (see [`LocalClock::at`]).
    #[inline(never)]
    fn instant(&self, first: i64, wall: i64) -> i64 {
        match self.changes.partition_point(|c| c.lo <= wall) {
            0 => wall - first,
            i => {
                let c = self.changes[i - 1];
                if wall >= c.hi {
                    wall - c.after
                } else if c.after > c.before {
                    // Skipped: the instant the clocks change.
                    c.at
                } else {
                    // Read twice: the first reading.
                    wall - c.before
                }
            }
        }
    }
}

/// The bundled IANA time zone database, opened once (its zones are looked up by name).
fn tzdb() -> &'static jiff::tz::TimeZoneDatabase {
    static DB: std::sync::OnceLock<jiff::tz::TimeZoneDatabase> = std::sync::OnceLock::new();
    DB.get_or_init(jiff::tz::TimeZoneDatabase::bundled)
}

/// Parses an IANA time zone name (`Europe/London`, compared ignoring case) from the time zone
/// database bundled into rollsim.
pub fn parse_time_zone(text: &str) -> Result<jiff::tz::TimeZone, String> {
    let t = text.trim();
    let usage =
        "not a time zone of the IANA database such as \"Europe/London\" or \"America/New_York\"";
    if t.is_empty() {
        return Err(usage.into());
    }
    if let Ok(tz) = tzdb().get(t) {
        return Ok(tz);
    }
    if parse_utc_offset(t).is_ok() {
        return Err(format!(
            "{usage}: a fixed offset goes in utc_offset (utc_offset = \"{t}\")"
        ));
    }
    if t.to_ascii_lowercase().ends_with(" standard time") {
        // Windows names its zones so (`GMT Standard Time`); the IANA names are what jiff reads.
        return Err(format!(
            "{usage}: \"{t}\" is a Windows time zone name; write the IANA name of its place"
        ));
    }
    Err(match suggest_zone(t) {
        Some(name) => format!("{usage} (did you mean \"{name}\"?)"),
        None => usage.into(),
    })
}

/// The zone a misspelt or partial name most likely means: one whose place is the name given
/// (`London`, `new york`), or the closest name letter by letter.
fn suggest_zone(found: &str) -> Option<String> {
    let key = |s: &str| s.to_lowercase().replace([' ', '-'], "_");
    let f = key(found);
    let names: Vec<String> = tzdb().available().map(|n| n.to_string()).collect();
    if let Some(n) = names
        .iter()
        .filter(|n| n.contains('/'))
        .find(|n| n.rsplit('/').next().is_some_and(|place| key(place) == f))
    {
        return Some(n.clone());
    }
    names
        .iter()
        .map(|n| (strsim::levenshtein(&f, &key(n)), n))
        .min()
        .filter(|(d, _)| *d <= 2.max(f.len() / 4))
        .map(|(_, n)| n.clone())
}

/// Hours (as shown in outputs) for a simulated time.
pub fn hours(t: Time) -> f64 {
    t as f64 / HOUR as f64
}

/// A span for people: whole days as days ("1 day", "30 days"), the rest in hours with up to
/// two decimals ("10 h", "1.5 h", "10 days 12 h"), or in seconds below that ("30 s"); never
/// "0 days" for a span shorter than a day.
pub fn fmt_span(secs: Secs) -> String {
    let days = secs / DAY;
    let rest = secs % DAY;
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} day{}", if days == 1 { "" } else { "s" }));
    }
    let h = format!("{:.2}", rest as f64 / HOUR as f64);
    let h = h.trim_end_matches('0').trim_end_matches('.');
    if h != "0" {
        parts.push(format!("{h} h"));
    } else if rest > 0 || days == 0 {
        parts.push(format!("{rest} s"));
    }
    parts.join(" ")
}

/// Formats simulated time `t` as an RFC 3339 UTC instant.
pub fn format_instant(start_unix: i64, t: Time) -> String {
    match Timestamp::from_second(start_unix + t as i64) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => format!("+{t}s"),
    }
}

/// Division of times by a divisor fixed for a whole run (a timer bucket's width, the sample
/// interval), by a multiplication and a shift instead of a hardware division. Every event sets
/// a timer and counts its transitions, and each of those divided by a run-time value: a 64-bit
/// division takes tens of cycles on many processors, on the path to the event's next memory
/// access (docs/performance.md). Exact: for a divisor d below 2^32 and m = ⌊2^64 / d⌋ + 1
/// (⌊2^64 / d⌋ for a power of two), ⌊t·m / 2^64⌋ = ⌊t / d⌋ whenever t < 2^32, because the
/// error t·(m − 2^64/d) / 2^64 is below 2^-32 ≤ 1/d. Other operands take the hardware division.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divisor {
    d: u64,
    /// The multiplier, or 0 where the hardware division is used (d = 1 or d ≥ 2^32).
    m: u64,
}

impl Divisor {
    /// Dividing by `d` (at least 1: 0 is taken as 1).
    pub fn new(d: u64) -> Self {
        let d = d.max(1);
        let m = if (2..1 << 32).contains(&d) {
            u64::MAX / d + 1
        } else {
            0
        };
        Self { d, m }
    }

    /// The divisor.
    pub fn get(self) -> u64 {
        self.d
    }

    /// ⌊t / d⌋.
    #[inline]
    pub fn quotient(self, t: u64) -> u64 {
        if t < 1 << 32 && self.m != 0 {
            ((u128::from(t) * u128::from(self.m)) >> 64) as u64
        } else {
            t / self.d
        }
    }

    /// ⌈t / d⌉.
    #[inline]
    pub fn div_ceil(self, t: u64) -> u64 {
        let q = self.quotient(t);
        if q * self.d < t { q + 1 } else { q }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_shorter_than_a_day_is_shown_in_hours_not_as_0_days() {
        assert_eq!(fmt_span(10 * HOUR), "10 h");
        assert_eq!(fmt_span(90 * MINUTE), "1.5 h");
        assert_eq!(fmt_span(DAY), "1 day");
        assert_eq!(fmt_span(30 * DAY), "30 days");
        assert_eq!(fmt_span(10 * DAY + 12 * HOUR), "10 days 12 h");
        assert_eq!(fmt_span(DAY + 1), "1 day 1 s");
        assert_eq!(fmt_span(0), "0 s");
    }

    #[test]
    fn a_divisor_divides_exactly_at_the_edges_of_its_fast_range() {
        let ds = [
            1u64,
            2,
            3,
            7,
            60,
            129,
            3_600,
            86_400,
            (1 << 31) + 1,
            (1 << 32) - 1,
            1 << 32,
            u64::MAX,
        ];
        let ts = [
            0u64,
            1,
            59,
            60,
            61,
            (1 << 32) - 1,
            1 << 32,
            (1 << 32) + 1,
            1 << 40,
            u64::MAX,
        ];
        for &d in &ds {
            let div = Divisor::new(d);
            for &t in &ts {
                assert_eq!(div.quotient(t), t / d, "{t} / {d}");
                assert_eq!(div.div_ceil(t), t.div_ceil(d), "{t} / {d} rounded up");
            }
        }
        assert_eq!(Divisor::new(0).quotient(5), 5);
    }

    proptest::proptest! {
        #[test]
        fn a_divisor_gives_the_hardware_quotient(d in 1u64..1 << 34, t in 0u64..1 << 34) {
            let div = Divisor::new(d);
            proptest::prop_assert_eq!(div.quotient(t), t / d);
            proptest::prop_assert_eq!(div.div_ceil(t), t.div_ceil(d));
        }
    }

    #[test]
    fn iso_and_friendly_durations_parse_to_seconds() {
        assert_eq!(parse_duration("PT22H"), Ok(22 * HOUR));
        assert_eq!(parse_duration("P2D"), Ok(2 * DAY));
        assert_eq!(parse_duration("P1DT12H"), Ok(DAY + 12 * HOUR));
        assert_eq!(parse_duration("PT10M"), Ok(10 * MINUTE));
        assert_eq!(parse_duration("22h"), Ok(22 * HOUR));
        assert_eq!(parse_duration("2d"), Ok(2 * DAY));
        assert_eq!(parse_duration("P0D"), Ok(0));
    }

    #[test]
    fn negative_durations_and_months_are_refused() {
        assert_eq!(parse_duration_signed("-P1D"), Ok(-(DAY as i64)));
        assert!(parse_duration("-P1D").unwrap_err().contains("negative"));
        assert!(parse_duration("P1M").unwrap_err().contains("months"));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn a_duration_written_in_a_common_wrong_way_is_told_what_to_write() {
        let e = |t: &str| parse_duration(t).unwrap_err();
        assert!(
            e("3").contains("\"P3D\" for 3 days or \"PT3H\""),
            "{}",
            e("3")
        );
        assert!(e("3D").contains("write \"P3D\""), "{}", e("3D"));
        assert!(e("36H").contains("write \"PT36H\""), "{}", e("36H"));
        assert!(
            e("P72H").contains("after a T, e.g. \"PT72H\""),
            "{}",
            e("P72H")
        );
        assert!(e("P1D12H").contains("e.g. \"P1DT12H\""), "{}", e("P1D12H"));
        assert!(!e("soon").contains("friendly"), "{}", e("soon"));
        assert!(
            e("soon").starts_with("not an ISO 8601 duration"),
            "{}",
            e("soon")
        );
        // The friendly forms still read.
        assert_eq!(parse_duration("3d"), Ok(3 * DAY));
    }

    #[test]
    fn a_time_zone_name_where_an_offset_belongs_is_told_to_write_time_zone() {
        let e = parse_utc_offset("Europe/London").unwrap_err();
        assert!(e.contains("goes in time_zone instead"), "{e}");
        assert!(
            parse_utc_offset("EST")
                .unwrap_err()
                .contains("daylight saving")
        );
        assert!(
            parse_utc_offset("+1")
                .unwrap_err()
                .starts_with("not a UTC offset")
        );
        assert!(!parse_utc_offset("").unwrap_err().contains("time_zone"));
    }

    #[test]
    fn an_instant_without_an_offset_is_refused_rather_than_read_as_midnight() {
        for text in [
            "2026-01-13T18:00:00",
            "2026-01-13 18:00",
            "2026-01-13T18:00:00.5",
        ] {
            let e = parse_instant(text).expect_err(text);
            assert!(e.contains("no UTC offset"), "{text}: {e}");
        }
        assert!(parse_instant("2026-01-13T18:00:00+01:00").is_ok());
        assert!(parse_instant(" 2026-01-13 ").is_ok());
    }

    #[test]
    fn instants_accept_rfc3339_and_plain_dates() {
        let a = parse_instant("2026-01-13T00:00:00Z").unwrap();
        let b = parse_instant("2026-01-13").unwrap();
        assert_eq!(a, b);
        assert!(parse_instant("13/01/2026").is_err());
    }

    #[test]
    fn offsets_and_times_of_day_parse() {
        assert_eq!(parse_utc_offset("-05:00"), Ok(-5 * 3600));
        assert_eq!(parse_utc_offset("+05:30"), Ok(5 * 3600 + 1800));
        assert!(parse_utc_offset("5").is_err());
        assert_eq!(parse_time_of_day("08:00"), Ok(8 * HOUR));
        assert_eq!(parse_time_of_day("24:00"), Ok(DAY));
        assert!(parse_time_of_day("25:00").is_err());
    }

    #[test]
    fn local_clock_knows_weekday_and_time_of_day() {
        // 2026-01-13T18:00:00Z is a Tuesday; at -05:00 it is 13:00 local, same day.
        let start = parse_instant("2026-01-13T18:00:00Z").unwrap().as_second();
        let clock = LocalClock::new(start, -5 * 3600);
        assert_eq!(clock.time_of_day(0), 13 * HOUR);
        assert_eq!(LocalClock::weekday(clock.day(0)), 1);
        // 11 hours later it is Wednesday 00:00 local.
        assert_eq!(clock.time_of_day(11 * HOUR), 0);
        assert_eq!(LocalClock::weekday(clock.day(11 * HOUR)), 2);
        assert_eq!(clock.day_start(clock.day(11 * HOUR)), 11 * HOUR as i64);
    }

    /// Unix seconds of an RFC 3339 instant.
    fn unix(text: &str) -> i64 {
        parse_instant(text).unwrap().as_second()
    }

    fn zone(name: &str, start: &str, horizon: Secs) -> Zone {
        Zone::new(&parse_time_zone(name).unwrap(), unix(start), horizon)
    }

    /// London's clocks go forward at 01:00 UTC on the last Sunday of March (2026-03-29) and
    /// back at 01:00 UTC on the last Sunday of October (2026-10-25).
    const LONDON_RUN: &str = "2026-03-01T00:00:00Z";

    #[test]
    fn a_london_day_lasts_23_hours_when_the_clocks_go_forward_and_25_when_they_go_back() {
        let z = zone("Europe/London", LONDON_RUN, 300 * DAY);
        assert_eq!(z.changes(), 2);
        let clock = z.clock();
        let start = unix(LONDON_RUN);
        let day_of = |date: &str| unix(date).div_euclid(DAY as i64);
        let length = |date: &str| {
            let d = day_of(date);
            clock.day_start(d + 1) - clock.day_start(d)
        };
        assert_eq!(length("2026-03-28"), DAY as i64);
        assert_eq!(length("2026-03-29"), 23 * HOUR as i64);
        assert_eq!(length("2026-03-30"), DAY as i64);
        assert_eq!(length("2026-10-25"), 25 * HOUR as i64);
        assert_eq!(length("2026-10-26"), DAY as i64);
        // Midnights are local: 00:00 UTC in winter, 23:00 UTC the day before in summer.
        assert_eq!(
            start + clock.day_start(day_of("2026-03-30")),
            unix("2026-03-29T23:00:00Z")
        );
        assert_eq!(
            start + clock.day_start(day_of("2026-10-26")),
            unix("2026-10-26T00:00:00Z")
        );
    }

    #[test]
    fn local_time_of_day_and_weekday_are_right_after_the_change() {
        let z = zone("Europe/London", LONDON_RUN, 60 * DAY);
        let clock = z.clock();
        let t = |text: &str| (unix(text) - unix(LONDON_RUN)) as Time;
        // Saturday 12:00 UTC is 12:00 local; Monday 12:00 UTC is 13:00 local.
        let sat = t("2026-03-28T12:00:00Z");
        assert_eq!(clock.time_of_day(sat), 12 * HOUR);
        assert_eq!(LocalClock::weekday(clock.day(sat)), 5);
        let mon = t("2026-03-30T12:00:00Z");
        assert_eq!(clock.time_of_day(mon), 13 * HOUR);
        assert_eq!(LocalClock::weekday(clock.day(mon)), 0);
        // Sunday 23:30 UTC is already Monday 00:30 local.
        let late = t("2026-03-29T23:30:00Z");
        assert_eq!(LocalClock::weekday(clock.day(late)), 0);
        assert_eq!(clock.time_of_day(late), 30 * MINUTE);
        // The change itself: 00:59:59 GMT, then 02:00:00 BST.
        let change = t("2026-03-29T01:00:00Z");
        assert_eq!(clock.time_of_day(change - 1), HOUR - 1);
        assert_eq!(clock.time_of_day(change), 2 * HOUR);
    }

    #[test]
    fn new_york_and_london_differ_by_an_hour_less_in_the_weeks_between_their_changes() {
        // New York goes forward on 2026-03-08, London on 2026-03-29.
        let start = "2026-02-01T00:00:00Z";
        let (ny, london) = (
            zone("America/New_York", start, 90 * DAY),
            zone("Europe/London", start, 90 * DAY),
        );
        let at = |date: &str| (unix(date) - unix(start)) as Time;
        let gap = |date: &str| {
            let t = at(date);
            london.clock().time_of_day(t) as i64 - ny.clock().time_of_day(t) as i64
        };
        assert_eq!(gap("2026-03-02T15:00:00Z"), 5 * HOUR as i64);
        assert_eq!(gap("2026-03-16T15:00:00Z"), 4 * HOUR as i64);
        assert_eq!(gap("2026-03-27T15:00:00Z"), 4 * HOUR as i64);
        assert_eq!(gap("2026-04-06T15:00:00Z"), 5 * HOUR as i64);
        // 09:00 in New York on Monday 2026-03-16 is 13:00 UTC (EDT), not 14:00 (EST).
        let c = ny.clock();
        let day = c.day(at("2026-03-16T15:00:00Z"));
        assert_eq!(c.at(day, 9 * HOUR), at("2026-03-16T13:00:00Z") as i64);
    }

    #[test]
    fn a_skipped_local_time_is_the_instant_of_the_change_and_a_repeated_one_its_first_reading() {
        let z = zone("Europe/London", LONDON_RUN, 300 * DAY);
        let clock = z.clock();
        let start = unix(LONDON_RUN);
        let sunday = unix("2026-03-29").div_euclid(DAY as i64);
        // 01:30 does not exist on 2026-03-29: the clocks read 02:00 BST at 01:00 UTC.
        let skipped = start + clock.at(sunday, 90 * MINUTE);
        assert_eq!(skipped, unix("2026-03-29T01:00:00Z"));
        assert_eq!(start + clock.at(sunday, 2 * HOUR), skipped);
        assert_eq!(
            start + clock.at(sunday, 3 * HOUR),
            unix("2026-03-29T02:00:00Z")
        );
        // 01:30 happens twice on 2026-10-25: first at 00:30 UTC (BST).
        let autumn = unix("2026-10-25").div_euclid(DAY as i64);
        assert_eq!(
            start + clock.at(autumn, 90 * MINUTE),
            unix("2026-10-25T00:30:00Z")
        );
        assert_eq!(
            start + clock.at(autumn, 2 * HOUR),
            unix("2026-10-25T02:00:00Z")
        );
        // In the second reading of 01:30, 01:45 is a quarter of an hour away, not in the past.
        let second = (unix("2026-10-25T01:30:00Z") - start) as Time;
        assert_eq!(clock.time_of_day(second), 90 * MINUTE);
        assert_eq!(
            clock.next_time_of_day(second, 105 * MINUTE),
            second + 15 * MINUTE
        );
    }

    #[test]
    fn the_next_time_of_day_counts_the_hour_a_change_takes_or_gives() {
        let z = zone("Europe/London", LONDON_RUN, 60 * DAY);
        let clock = z.clock();
        let t = |text: &str| (unix(text) - unix(LONDON_RUN)) as Time;
        // Saturday 20:00 to Sunday 02:00 local is 6 hours on the clock's face, 5 in fact.
        let sat = t("2026-03-28T20:00:00Z");
        assert_eq!(clock.next_time_of_day(sat, 3 * HOUR), sat + 6 * HOUR);
        assert_eq!(
            clock.next_time_of_day(sat, 17 * HOUR),
            t("2026-03-29T16:00:00Z")
        );
        assert_eq!(clock.next_time_of_day(sat, 20 * HOUR), sat);
        // A fixed offset answers as ever.
        let fixed = LocalClock::new(unix(LONDON_RUN), 0);
        assert_eq!(fixed.next_time_of_day(sat, 17 * HOUR), sat + 21 * HOUR);
        assert_eq!(fixed.next_time_of_day(sat, DAY), sat + 4 * HOUR);
    }

    #[test]
    fn a_zone_without_a_change_in_the_run_is_a_fixed_offset_clock() {
        let tokyo = zone("Asia/Tokyo", LONDON_RUN, 300 * DAY);
        assert_eq!(tokyo.changes(), 0);
        assert_eq!(tokyo.clock(), LocalClock::new(unix(LONDON_RUN), 9 * 3600));
        // London in summer only: +01:00 throughout.
        let summer = zone("Europe/London", "2026-05-01T00:00:00Z", 90 * DAY);
        assert_eq!(
            summer.clock(),
            LocalClock::new(unix("2026-05-01T00:00:00Z"), 3600)
        );
        // A change a few hours past the horizon is kept, for the draws of the last day.
        let edge = zone("Europe/London", "2026-02-26T12:00:00Z", 30 * DAY);
        assert_eq!(edge.changes(), 1);
    }

    #[test]
    fn a_run_at_the_ends_of_time_builds_its_zone_without_failing() {
        let tz = parse_time_zone("Europe/London").unwrap();
        let first = Timestamp::MIN.as_second();
        let last = Timestamp::MAX.as_second();
        assert!(Zone::new(&tz, first, 3650 * DAY).changes() <= 30);
        assert_eq!(Zone::new(&tz, last - DAY as i64, DAY).changes(), 0);
    }

    #[test]
    fn time_zone_names_are_read_ignoring_case_and_a_misspelt_one_is_told_the_closest() {
        assert!(parse_time_zone("europe/london").is_ok());
        assert!(parse_time_zone(" America/New_York ").is_ok());
        assert!(parse_time_zone("UTC").is_ok());
        let e = |t: &str| parse_time_zone(t).unwrap_err();
        assert!(
            e("Europe/Londn").contains("did you mean \"Europe/London\""),
            "{}",
            e("Europe/Londn")
        );
        assert!(e("London").contains("did you mean \"Europe/London\""));
        assert!(e("new york").contains("did you mean \"America/New_York\""));
        assert!(
            e("+01:00").contains("utc_offset = \"+01:00\""),
            "{}",
            e("+01:00")
        );
        assert!(e("GMT Standard Time").contains("Windows time zone name"));
        assert!(e("").starts_with("not a time zone"));
        assert!(
            !e("Nowhere/Atall").contains("did you mean"),
            "{}",
            e("Nowhere/Atall")
        );
    }

    proptest::proptest! {
        /// Local (day, time of day) back to the instant is the instant, in zones that change
        /// forward, back, or by half an hour (Lord Howe), except the instants of a repeated
        /// hour's second reading, which map to its first; and local midnights bound their day.
        #[test]
        fn a_local_day_and_time_of_day_name_their_instant_again(
            zone_index in 0usize..5,
            start in 1_700_000_000i64..1_900_000_000,
            t in 0u64..400 * DAY,
            // Half the cases within three hours of a change, where the clocks skip or repeat.
            near in proptest::option::of(0u64..6 * HOUR),
        ) {
            let names = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"];
            let tz = parse_time_zone(names[zone_index]).unwrap();
            let z = Zone::new(&tz, start, 400 * DAY);
            let t = match (near, z.changes.iter().find(|c| c.at >= 3 * HOUR as i64)) {
                (Some(n), Some(c)) => (c.at - 3 * HOUR as i64) as u64 + n,
                _ => t,
            };
            let clock = z.clock();
            let (day, tod) = (clock.day(t), clock.time_of_day(t));
            let back = clock.at(day, tod);
            let ts = Timestamp::from_second(start + t as i64).unwrap();
            let offset = i64::from(tz.to_offset(ts).seconds());
            let ahead = i64::from(tz.to_offset(Timestamp::from_second(start + t as i64 - 2 * HOUR as i64).unwrap()).seconds());
            if ahead > offset && back < t as i64 {
                // A second reading: the first was the change in offset earlier.
                proptest::prop_assert_eq!(back, t as i64 - (ahead - offset));
            } else {
                proptest::prop_assert_eq!(back, t as i64);
            }
            // The clock agrees with jiff's own reading of the instant.
            let wall = start + t as i64 + offset;
            proptest::prop_assert_eq!(day, wall.div_euclid(DAY as i64));
            proptest::prop_assert_eq!(tod as i64, wall.rem_euclid(DAY as i64));
            proptest::prop_assert!(clock.day_start(day) <= t as i64);
            proptest::prop_assert!((t as i64) < clock.day_start(day + 1));
            proptest::prop_assert!(clock.at(day, tod / 2) <= clock.at(day, tod));
        }
    }
}
