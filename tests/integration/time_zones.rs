//! Named time zones (`time_zone = "Europe/London"`): a segment's local time follows the zone's
//! daylight saving changes, so office hours stay 08:00–17:00 local across a change.

use crate::common::*;

/// 400 London office devices (08:00–17:00 local, no jitter, never absent) scanning weekly and
/// restarting at once, from Monday `start` for two weeks; `local` is the segment's
/// `time_zone` or `utc_offset` line.
fn london_office(start: &str, local: &str) -> String {
    format!(
        r##"
[simulation]
start = "{start}T00:00:00Z"
horizon = "P14D"
seed = 7
sample_interval = "PT1H"

[client]
scan_interval = "P7D"
scan_jitter = "PT0S"
[client.quality]
download_time = "PT0S"
install_time = "PT0S"
restart_time = "PT0S"

[policies.default]
quality_deadline = "P0D"
quality_grace = "P0D"

[[segments]]
name = "london"
devices = 400
{local}
availability = {{ profile = "office", jitter = "PT0S", absent_days = 0.0 }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "{start}" }}
"##
    )
}

const LONDON: &str = r#"time_zone = "Europe/London""#;

/// The sample hours at which the count of compliant devices rose, with the rise.
fn rises(case: &Case, name: &str) -> Vec<(u64, u64)> {
    let s = series(&timeseries(&case.run(name, &[])), "q", "compliant");
    s.windows(2)
        .filter(|w| w[1].1 != w[0].1)
        .map(|w| (w[1].0 as u64, w[1].1 - w[0].1))
        .collect()
}

#[test]
fn london_office_hours_move_an_hour_earlier_in_utc_after_the_last_sunday_of_march() {
    // Monday 2026-03-23; the clocks go forward on Sunday 29 March at 01:00 UTC (hour 145).
    let zone = rises(&Case::new(&london_office("2026-03-23", LONDON)), "zone");
    let fixed = rises(
        &Case::new(&london_office("2026-03-23", r#"utc_offset = "+00:00""#)),
        "fixed",
    );
    // Until the change London is at +00:00: the same rises, all in 08:00–17:00 UTC.
    let before = |r: &[(u64, u64)]| {
        r.iter()
            .filter(|(h, _)| *h < 145)
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(before(&zone), before(&fixed));
    assert!(
        before(&zone)
            .iter()
            .all(|(h, _)| (8..=17).contains(&(h % 24)))
    );
    // The devices whose weekly scan fell on the weekend scan when they come online on Monday
    // 30 March: at 08:00 BST, 07:00 UTC (hour 175), where +00:00 says 08:00 UTC.
    let monday = |r: &[(u64, u64)]| r.iter().find(|(h, _)| *h >= 7 * 24).copied();
    let (at, n) = monday(&zone).expect("a rise on Monday");
    assert_eq!(at, 7 * 24 + 7, "{zone:?}");
    assert!(n > 50, "{n} devices");
    assert_eq!(monday(&fixed), Some((7 * 24 + 8, n)));
}

#[test]
fn a_run_that_crosses_no_change_runs_as_the_zone_s_offset_of_the_season_byte_for_byte() {
    for (start, offset) in [("2026-01-12", "+00:00"), ("2026-06-01", "+01:00")] {
        let zone = Case::new(&london_office(start, LONDON));
        let fixed = Case::new(&london_office(start, &format!("utc_offset = \"{offset}\"")));
        assert_same_outputs(&zone.run("out", &[]), &fixed.run("out", &[]));
    }
}

#[test]
fn validate_tells_a_misspelt_time_zone_the_closest_name() {
    let case = Case::new(&london_office(
        "2026-03-23",
        "time_zone = \"America/New_Yrok\"",
    ));
    let out = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("segments[0].time_zone: not a time zone of the IANA database")
            && err.contains("(did you mean \"America/New_York\"?)"),
        "{err}"
    );
}
