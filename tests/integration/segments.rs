//! `segments.csv`: per deployment and segment, the devices targeted and compliant and the hours
//! to each threshold, so that rings made of segments can be read ring by ring.

use std::collections::HashMap;
use std::path::Path;

use crate::common::*;

/// Two always-online rings with an instant pipeline and restarts forced at once: `now` takes the
/// update at its first scan (within the 22 h scan interval), `later` defers it two days. A third
/// segment is outside the audience.
fn two_rings() -> String {
    format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P10D"
seed = 3
sample_interval = "PT1H"

{INSTANT_CLIENT}
{FORCE_AT_ONCE}

[policies.deferred]
quality_deferral = "P2D"
quality_deadline = "P0D"
quality_grace = "P0D"

[[segments]]
name = "now"
devices = 300
availability = {{ profile = "always_on" }}

[[segments]]
name = "later"
devices = 200
policy = "deferred"
availability = {{ profile = "always_on" }}

[[segments]]
name = "outside"
devices = 50
availability = {{ profile = "always_on" }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }}
audience = {{ members = ["now", "later"] }}
"##
    )
}

/// `segments.csv` as (deployment, segment) → column → cell.
fn segments(dir: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("segments.csv")).expect("segments.csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("csv record");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn hours(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?}", row[col]))
}

#[test]
fn each_ring_reaches_95_percent_on_the_schedule_of_its_own_policy() {
    let case = Case::new(&two_rings());
    let out = case.run("out", &[]);
    let text = std::fs::read_to_string(out.join("segments.csv")).expect("segments.csv");
    assert!(
        text.starts_with("deployment,segment,devices_targeted,devices_compliant,share_compliant,hours_to_50,hours_to_90,hours_to_95,hours_to_99\n"),
        "{text}"
    );
    let rows = segments(&out);
    // The segment outside the audience has no row.
    let names: Vec<&str> = rows.iter().map(|r| r["segment"].as_str()).collect();
    assert_eq!(names, ["now", "later"], "{text}");
    let (now, later) = (&rows[0], &rows[1]);
    assert_eq!(now["devices_targeted"], "300");
    assert_eq!(later["devices_targeted"], "200");
    for r in &rows {
        assert_eq!(r["deployment"], "q");
        assert_eq!(r["devices_compliant"], r["devices_targeted"], "{text}");
        assert_eq!(r["share_compliant"], "1", "{text}");
    }
    // A scan every 22 h without jitter: every device of `now` is compliant at its first scan.
    assert!(hours(now, "hours_to_95") <= 26.0, "{text}");
    assert!(hours(now, "hours_to_99") <= 26.0, "{text}");
    // `later` is offered from day 2 on, then takes it at its next scan.
    assert!(hours(later, "hours_to_50") >= 48.0, "{text}");
    assert!(hours(later, "hours_to_95") >= 48.0, "{text}");
    assert!(hours(later, "hours_to_95") <= 48.0 + 26.0, "{text}");
    // The rings add up to the deployment, whose 95 % waits for `later`.
    let s = summary(&out);
    let d = &s["deployments"][0];
    assert_eq!(d["devices_targeted"], 500);
    assert_eq!(d["devices_compliant"], 500);
    let h95 = d["hours_to_95"].as_f64().expect("95 % reached");
    assert!(h95 >= 48.0, "deployment 95 % at {h95} h");
    // The report shows the per-segment table.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("<h2>Per segment</h2>"));
}

#[test]
fn a_lone_segment_has_the_numbers_of_the_whole_deployment() {
    let case = Case::new(&format!(
        "{}{INSTANT_CLIENT}{FORCE_AT_ONCE}",
        scenario(120, r#"availability = { profile = "office" }"#, "")
    ));
    let out = case.run("out", &[]);
    let rows = segments(&out);
    assert_eq!(rows.len(), 1);
    let summary_csv = csv::Reader::from_path(out.join("summary.csv"))
        .expect("summary.csv")
        .into_records()
        .next()
        .expect("a row")
        .expect("csv record");
    let row = &rows[0];
    assert_eq!(row["segment"], "fleet");
    // summary.csv: deployment, targeted, offered, compliant, share, hours to 50/90/95/99.
    for (col, i) in [
        ("devices_targeted", 1),
        ("devices_compliant", 3),
        ("share_compliant", 4),
        ("hours_to_50", 5),
        ("hours_to_90", 6),
        ("hours_to_95", 7),
        ("hours_to_99", 8),
    ] {
        assert_eq!(row[col], summary_csv[i], "{col}");
    }
    // One segment: the report has no per-segment table, the summary says it all.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(!html.contains("Per segment"));
}

#[test]
fn segments_csv_is_the_same_with_one_or_two_jobs() {
    let case =
        Case::new(&two_rings().replace(r#"profile = "always_on" }"#, r#"profile = "office" }"#));
    let one = case.run("j1", &["--replications", "2", "--jobs", "1"]);
    let two = case.run("j2", &["--replications", "2", "--jobs", "2"]);
    let read = |d: &Path| std::fs::read(d.join("segments.csv")).expect("segments.csv");
    assert_eq!(read(&one), read(&two));
}
