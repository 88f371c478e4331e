//! `segments.csv`: per deployment and segment, the devices targeted and compliant and the hours
//! to each threshold, so that rings made of segments can be read ring by ring, and their restarts
//! (also cut by segment in `restarts.csv`), which add up to the deployment's.

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
        text.starts_with("deployment,segment,devices_targeted,devices_compliant,share_compliant,hours_to_50,hours_to_90,hours_to_95,hours_to_99,forced_restarts,auto_restarts,user_restarts,restarts_in_active_hours\n"),
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

/// `restarts.csv` as rows of (deployment, segment, kind, restarts).
fn restarts(dir: &Path) -> Vec<(String, String, String, u64)> {
    let mut r = csv::Reader::from_path(dir.join("restarts.csv")).expect("restarts.csv");
    let header = r.headers().expect("header").clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("restarts.csv has no {name}: {header:?}"))
    };
    let (d, s, k, n) = (
        col("deployment"),
        col("segment"),
        col("kind"),
        col("restarts"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.expect("csv record");
            let count = rec[n].parse().expect("a count");
            (rec[d].into(), rec[s].into(), rec[k].into(), count)
        })
        .collect()
}

/// The restart columns of `segments.csv` and `summary.csv`.
const RESTART_COLUMNS: [&str; 4] = [
    "forced_restarts",
    "auto_restarts",
    "user_restarts",
    "restarts_in_active_hours",
];

/// Asserts that, per deployment of the run in `out`, the segments' restarts in `segments.csv` add
/// up to the deployment's in `summary.csv` and `summary.json`, and each segment's cells of
/// `restarts.csv` to the segment's row. Returns the deployments' forced restarts in all.
fn assert_restarts_add_up(out: &Path) -> u64 {
    let rows = segments(out);
    let cells = restarts(out);
    let json = summary(out);
    let mut summary_csv = csv::Reader::from_path(out.join("summary.csv")).expect("summary.csv");
    let header = summary_csv.headers().expect("header").clone();
    let mut forced = 0;
    for rec in summary_csv.records() {
        let rec = rec.expect("csv record");
        let dep = &rec[0];
        let d = json["deployments"]
            .as_array()
            .expect("deployments")
            .iter()
            .find(|d| d["name"] == dep)
            .expect("the deployment in summary.json");
        for col in RESTART_COLUMNS {
            let i = header.iter().position(|h| h == col).expect(col);
            let total: u64 = rec[i].parse().expect("a count");
            let sum: u64 = rows
                .iter()
                .filter(|r| r["deployment"] == dep)
                .map(|r| r[col].parse::<u64>().expect("a count"))
                .sum();
            assert_eq!(sum, total, "{}: {dep} {col}", out.display());
            assert_eq!(
                d[col],
                total,
                "{}: {dep} {col} in summary.json",
                out.display()
            );
        }
        forced += d["forced_restarts"].as_u64().expect("a count");
    }
    for r in &rows {
        for (kind, col) in [
            ("forced", "forced_restarts"),
            ("auto", "auto_restarts"),
            ("user", "user_restarts"),
        ] {
            let sum: u64 = cells
                .iter()
                .filter(|c| c.0 == r["deployment"] && c.1 == r["segment"] && c.2 == kind)
                .map(|c| c.3)
                .sum();
            assert_eq!(
                sum.to_string(),
                r[col],
                "{}: {} {} {kind}",
                out.display(),
                r["deployment"],
                r["segment"]
            );
        }
    }
    forced
}

#[test]
fn in_shipped_scenarios_the_segments_restarts_add_up_to_their_deployments() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let dir = tempfile::tempdir().expect("tmp");
    let mut forced = 0;
    // Rings with deadlines, expedites (forced restarts), overlapping deployments of one update,
    // and an inventory whose segments share names.
    for name in [
        "autopatch-rings",
        "expedite-vs-regular",
        "pilot-then-waves",
        "inventory-fleet",
    ] {
        let out = dir.path().join(name);
        rollsim()
            .arg("run")
            .arg(root.join(format!("{name}.toml")))
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .assert()
            .success();
        forced += assert_restarts_add_up(&out);
    }
    assert!(forced > 0, "the scenarios force some restarts");
}

#[test]
fn of_two_segments_only_the_one_whose_restarts_are_forced_shows_forced_restarts() {
    // london: deadline 0, so every restart is forced at once; paris: no deadline, so restarts
    // are automatic (outside active hours) or the users'.
    let text = format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P10D"
seed = 3
sample_interval = "PT1H"

{INSTANT_CLIENT}
{FORCE_AT_ONCE}

[policies.relaxed]
quality_deadline = "none"

[[segments]]
name = "london"
devices = 120
availability = {{ profile = "office" }}

[[segments]]
name = "paris"
devices = 80
policy = "relaxed"
availability = {{ profile = "office" }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }}
"##
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let forced = assert_restarts_add_up(&out);
    let rows = segments(&out);
    let names: Vec<&str> = rows.iter().map(|r| r["segment"].as_str()).collect();
    assert_eq!(names, ["london", "paris"]);
    let (london, paris) = (&rows[0], &rows[1]);
    assert!(forced > 0);
    assert_eq!(london["forced_restarts"], forced.to_string());
    assert_eq!(paris["forced_restarts"], "0");
    let paris_restarts: u64 = ["auto_restarts", "user_restarts"]
        .iter()
        .map(|c| paris[*c].parse::<u64>().expect("a count"))
        .sum();
    assert!(paris_restarts > 0, "{paris:?}");
    // restarts.csv cuts the heatmap the same way: every forced cell is london's.
    let cells = restarts(&out);
    assert!(cells.iter().any(|c| c.1 == "paris"));
    for c in cells.iter().filter(|c| c.2 == "forced") {
        assert_eq!(c.1, "london", "{c:?}");
    }
    // And the report's per-segment table shows them.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("<th>forced restarts</th>"), "{html}");
}

#[test]
fn a_segment_that_restarted_and_then_left_the_audience_keeps_its_row_for_its_restarts() {
    // Both rings take the update within their first scan (22 h) with a forced restart; at P5D
    // `later` leaves the audience. Its restarts stay in the deployment's totals, so its row stays
    // too, with no device, or the segments would not add up.
    let text = two_rings().replace(
        r#"audience = { members = ["now", "later"] }"#,
        r#"audience = { members = ["now", "later"] }

[[actions]]
at = "P5D"
deployment = "q"
do = "update_audience"
remove_members = ["later"]"#,
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let forced = assert_restarts_add_up(&out);
    assert_eq!(forced, 500);
    let rows = segments(&out);
    let names: Vec<&str> = rows.iter().map(|r| r["segment"].as_str()).collect();
    assert_eq!(names, ["now", "later"]);
    let later = &rows[1];
    assert_eq!(later["devices_targeted"], "0");
    assert_eq!(later["share_compliant"], "0");
    assert_eq!(later["forced_restarts"], "200");
}
