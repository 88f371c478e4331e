//! Dated off periods (`availability.off`): "what if the laptops are off for a holiday week?".
//! A device is offline on every local day of a period, so nothing happens to it then, and the
//! rollout goes on where it was once the period ends.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;

/// 500 office devices at +05:00 take a quality update offered at the start (Monday 2026-01-12,
/// 00:00 UTC); `off` is spliced into their availability table.
fn office_fleet(off: &str) -> String {
    format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P30D"
seed = 7
sample_interval = "PT1H"

[[segments]]
name = "office"
devices = 500
utc_offset = "+05:00"
availability = {{ profile = "office"{off} }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }}
"##
    )
}

/// The local days 2026-01-13 to 2026-01-19 at +05:00: from 2026-01-12T19:00Z (hour 19) to
/// 2026-01-19T19:00Z (hour 187).
const OFF_WEEK: &str = r#", off = [{ from = "2026-01-13", to = "2026-01-19" }]"#;
const OFF_START: f64 = 19.0;
const OFF_END: f64 = 187.0;

/// Each sample hour's devices by state, for deployment "q".
fn states(dir: &Path) -> BTreeMap<u64, BTreeMap<String, u64>> {
    let mut by_hour: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
    for r in timeseries(dir).into_iter().filter(|r| r.deployment == "q") {
        by_hour
            .entry(r.hours as u64)
            .or_default()
            .insert(r.state, r.devices);
    }
    by_hour
}

fn compliant_at(s: &BTreeMap<u64, BTreeMap<String, u64>>, hour: f64) -> u64 {
    s[&(hour as u64)]["compliant"]
}

#[test]
fn an_office_segment_off_for_a_week_installs_and_restarts_nothing_that_week_and_resumes_after() {
    let case = Case::new(&office_fleet(OFF_WEEK));
    let s = states(&case.run("holiday", &[]));
    // Mid-rollout when the week starts: some devices compliant, others still to go.
    let at_start = s[&(OFF_START as u64)].clone();
    let before = compliant_at(&s, OFF_START);
    assert!(
        before > 0 && before < 450,
        "{before} compliant at the start of the week"
    );
    // No install, no restart, no state change at all during the off week.
    for (hour, counts) in s.range(OFF_START as u64..=OFF_END as u64) {
        assert_eq!(counts, &at_start, "at hour {hour}");
    }
    // It resumes when the week ends: more compliant within two days, nearly all by the end.
    assert!(compliant_at(&s, OFF_END + 48.0) > before + 50);
    assert!(compliant_at(&s, 719.0) >= 495, "{:?}", s[&719]);

    // Without the off week, the same fleet goes on through it (the week above was not idle by
    // chance), and before it the two runs are the same.
    let plain = Case::new(&office_fleet(""));
    let p = states(&plain.run("plain", &[]));
    assert!(compliant_at(&p, OFF_START + 48.0) > before + 50);
    for hour in 0..OFF_START as u64 {
        assert_eq!(s[&hour], p[&hour], "at hour {hour}");
    }
}

#[test]
fn an_off_period_given_by_set_runs_as_one_written_in_the_file() {
    let written = Case::new(&office_fleet(OFF_WEEK));
    let a = written.run("file", &[]);
    let plain = Case::new(&office_fleet(""));
    let b = plain.run(
        "set",
        &[
            "--set",
            r#"segments.office.availability.off=[{ from = "2026-01-13", to = "2026-01-19" }]"#,
        ],
    );
    for f in [
        "timeseries.csv",
        "events.csv",
        "restarts.csv",
        "segments.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).expect("file run"),
            std::fs::read(b.join(f)).expect("set run"),
            "{f} differs"
        );
    }
}

#[test]
fn an_always_on_site_closed_for_its_first_days_takes_the_update_when_it_reopens() {
    let text = format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P10D"
seed = 3
sample_interval = "PT1H"

{INSTANT_CLIENT}
{FORCE_AT_ONCE}

[[segments]]
name = "servers"
devices = 200
availability = {{ profile = "always_on", off = [{{ from = "2026-01-12", to = "2026-01-14" }}] }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }}
"##
    );
    let case = Case::new(&text);
    let s = states(&case.run("closed", &[]));
    // Closed for three days (72 h): nothing is compliant before; every scan missed runs at the
    // reopening, with an instant pipeline and a restart forced at once.
    for (hour, counts) in s.range(..72) {
        assert_eq!(counts["compliant"], 0, "at hour {hour}");
    }
    assert_eq!(s[&72]["compliant"], 200, "{:?}", s[&72]);
}
