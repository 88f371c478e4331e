//! Exposure (`exposure_device_days`): device-days of the audience outside the goal state, from
//! the content's release to the horizon. Checked against closed forms and between plans.

use crate::common::*;

fn exposure(out: &std::path::Path, dep: usize) -> f64 {
    summary(out)["deployments"][dep]["exposure_device_days"]
        .as_f64()
        .expect("exposure_device_days is a number")
}

#[test]
fn an_always_online_fleet_with_no_jitter_is_exposed_half_a_scan_interval_a_device() {
    let n = 20_000u32;
    let text = scenario(
        n,
        r#"availability = { profile = "always_on" }"#,
        &format!("{INSTANT_CLIENT}{FORCE_AT_ONCE}"),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    // Each device is exposed from the release (t = 0) until its first scan, uniform over the
    // 22 h interval (the rest is instant): 11 h on average, with a standard deviation of
    // 22/√12 h a device, so the sum is within 4 × 22/√12 × √n hours of n × 11 h.
    let expected = f64::from(n) * 11.0 / 24.0;
    let tol = 4.0 * 22.0 / 12f64.sqrt() * f64::from(n).sqrt() / 24.0;
    let e = exposure(&out, 0);
    assert!(
        (e - expected).abs() <= tol,
        "exposure {e} device-days, expected {expected} ± {tol}"
    );
}

#[test]
fn exposure_lies_between_the_sums_of_the_hourly_samples_of_devices_not_compliant() {
    // The integral is exact; the hourly samples bound it from both sides (each sample counts
    // every transition at or before it), which checks it on a fleet that is not always online.
    let text =
        std::fs::read_to_string("scenarios/expedite-vs-regular.toml").expect("shipped scenario");
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let rows = timeseries(&out);
    for (d, name) in ["expedited", "regular"].into_iter().enumerate() {
        let mut open: Vec<(f64, u64)> = Vec::new();
        for r in rows.iter().filter(|r| r.deployment == name) {
            let n = if r.state == "compliant" { 0 } else { r.devices };
            match open.last_mut() {
                Some((h, sum)) if *h == r.hours => *sum += n,
                _ => open.push((r.hours, n)),
            }
        }
        let day = |w: &[(f64, u64)]| (w[1].0 - w[0].0) / 24.0;
        let upper: f64 = open.windows(2).map(|w| w[0].1 as f64 * day(w)).sum();
        let lower: f64 = open.windows(2).map(|w| w[1].1 as f64 * day(w)).sum();
        let e = exposure(&out, d);
        assert!(lower <= e && e <= upper, "{name}: {lower} ≤ {e} ≤ {upper}");
    }
}

#[test]
fn the_expedited_half_of_a_fleet_is_exposed_less_than_the_half_offered_normally() {
    let text =
        std::fs::read_to_string("scenarios/expedite-vs-regular.toml").expect("shipped scenario");
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let (expedited, regular) = (exposure(&out, 0), exposure(&out, 1));
    assert!(expedited > 0.0, "{expedited}");
    assert!(
        expedited < regular,
        "expedited {expedited}, regular {regular}"
    );
    // The same number in summary.csv, under its own column.
    let mut csv = csv::Reader::from_path(out.join("summary.csv")).expect("summary.csv");
    let header = csv.headers().expect("header").clone();
    let col = header
        .iter()
        .position(|h| h == "exposure_device_days")
        .expect("summary.csv has exposure_device_days");
    let first = csv.records().next().expect("a row").expect("a record");
    assert_eq!(first[col].parse::<f64>().ok(), Some(expedited));
}

#[test]
fn the_days_before_the_release_are_not_exposure() {
    let n = 2_000u32;
    let base = scenario(
        n,
        r#"availability = { profile = "always_on" }"#,
        &format!("{INSTANT_CLIENT}{FORCE_AT_ONCE}"),
    );
    // Released two days after the start (the deployment offers it from the start, so devices
    // install it at their first scan after the release).
    let later = base.replace(
        r#"releaseDateTime = "2026-01-12""#,
        r#"releaseDateTime = "2026-01-14""#,
    );
    assert_ne!(base, later);
    let e = exposure(&Case::new(&later).run("out", &[]), 0);
    // Everyone is compliant within one scan interval of the release: at most n × 22 h, where
    // counting from the start would add n × 48 h.
    assert!(
        0.0 < e && e <= f64::from(n) * 22.0 / 24.0,
        "exposure {e} device-days"
    );
}

#[test]
fn a_sweep_gates_and_tabulates_exposure_by_name() {
    let base = std::fs::canonicalize("scenarios/expedite-vs-regular.toml").expect("scenario");
    let sweep = format!(
        r#"base = "{}"
replications = 1

[grid]
"deployments.expedited.settings.userExperience.daysUntilForcedReboot" = [0, 2]

[[expect]]
deployment = "expedited"
metric = "exposure_device_days"
quantile = 0.5
at_most = 2000
"#,
        base.display()
    );
    let case = Case::new("");
    let file = case.dir.path().join("sweep.toml");
    std::fs::write(&file, sweep).expect("write sweep");
    let out = case.out("batch");
    // Forcing the restart at once keeps the expedited half under 2 000 device-days; two days'
    // grace does not: one expectation missed, exit 3.
    rollsim()
        .args(["batch", "--quiet", "--jobs", "1", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .code(3);
    assert_eq!(expectation_statuses(&out), ["met", "missed"]);
    let variants = std::fs::read_to_string(out.join("variants.csv")).expect("variants.csv");
    assert!(
        variants.lines().next().is_some_and(|h| h
            .contains("exposure_device_days_p5,exposure_device_days_p50,exposure_device_days_p95")),
        "{variants}"
    );
    let runs = std::fs::read_to_string(out.join("runs.csv")).expect("runs.csv");
    assert!(
        runs.lines()
            .next()
            .is_some_and(|h| h.contains("exposure_device_days")),
        "{runs}"
    );
}
