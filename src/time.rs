//! Simulated time: integer seconds since the scenario's `start`, ISO 8601 durations, local time.
//!
//! Integer seconds make every run exactly reproducible (no float drift in event ordering). Calendar
//! maths — local time of day, weekday — happens only here, through a device's fixed UTC offset, so the
//! rest of the model never touches time zones (DESIGN.md §1 "Clock").

use jiff::{Span, SpanTotal, Timestamp, Unit};

/// Seconds since the scenario's `start` (t = 0).
pub type Time = u64;

/// A non-negative length of time in seconds.
pub type Secs = u64;

/// Seconds in a minute, an hour and a day.
pub const MINUTE: Secs = 60;
/// Seconds in an hour.
pub const HOUR: Secs = 3_600;
/// Seconds in a day (days are always 24 h: local time uses fixed UTC offsets, no DST).
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
        // A time zone's name (`Europe/London`, `EST`): rollsim keeps a segment at one offset.
        return Err("not a UTC offset such as \"+01:00\" or \"-05:00\": named time zones are not supported, since rollsim keeps each segment at a fixed offset, without daylight saving; write the offset the zone has during the run (Europe/London: \"+00:00\" in winter, \"+01:00\" in summer)".into());
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalClock {
    base: i64,
}

impl LocalClock {
    /// A clock for a scenario starting at `start_unix` (seconds since the Unix epoch, UTC) seen from
    /// a device at `utc_offset` seconds east of UTC.
    pub fn new(start_unix: i64, utc_offset: i32) -> Self {
        Self {
            base: start_unix + i64::from(utc_offset),
        }
    }

    /// Local day number (days since 1970-01-01 local) of simulated time `t`.
    pub fn day(&self, t: Time) -> i64 {
        (self.base + t as i64).div_euclid(DAY as i64)
    }

    /// Seconds after local midnight at simulated time `t`.
    pub fn time_of_day(&self, t: Time) -> Secs {
        (self.base + t as i64).rem_euclid(DAY as i64) as Secs
    }

    /// Simulated time of local midnight starting `day`; negative when before the scenario start.
    pub fn day_start(&self, day: i64) -> i64 {
        day * DAY as i64 - self.base
    }

    /// Weekday of a local day number, 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(day: i64) -> u8 {
        (day + 3).rem_euclid(7) as u8
    }
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
    fn a_time_zone_name_where_an_offset_belongs_is_told_that_offsets_are_fixed() {
        let e = parse_utc_offset("Europe/London").unwrap_err();
        assert!(e.contains("named time zones are not supported"), "{e}");
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
        assert!(
            !parse_utc_offset("")
                .unwrap_err()
                .contains("named time zones")
        );
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
}
