//! Safety what-ifs: hidden issues, monitoring rules, safeguard holds, diverse ordering.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

const FEATURE: &str = r##"content = { "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateReference", version = "24H2" }"##;

/// Always-on devices whose pipeline is instant: a device installs and restarts at its first scan
/// after the offer, and scan phases are uniform over 22 h with no jitter.
const INSTANT_FEATURE: &str = r#"
[client]
scan_jitter = "PT0S"
[client.feature]
download_time = "PT0S"
install_time = "PT0S"
restart_time = "PT0S"
rollback = 0.0
[policies.default]
feature_deadline = "P0D"
feature_grace = "P0D"
"#;

fn base(seed: u64, segments: &str, rest: &str) -> String {
    format!(
        r#"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P20D"
seed = {seed}
sample_interval = "PT1H"
{INSTANT_FEATURE}
{segments}
{rest}
"#
    )
}

fn segment(name: &str, devices: u32, attrs: &str) -> String {
    format!(
        "[[segments]]\nname = \"{name}\"\ndevices = {devices}\navailability = {{ profile = \"always_on\" }}\nattributes = {{ {attrs} }}\n"
    )
}

fn run_summary(text: &str) -> Value {
    let case = Case::new(text);
    let out = case.run("out", &[]);
    summary(&out)
}

#[test]
fn a_pause_rule_stops_a_rollback_issue_after_the_first_wave_as_the_closed_form_predicts() {
    // 1000 devices, 100 of them (driver x) roll back for sure. Waves of 100 a day in diverse order
    // (two driver combinations): wave 1 holds 11 affected devices, the pilot round's one and 10
    // of the 98 after it (98·99/998 = 9.7, within half a device: two combinations). Each rolls
    // back at its first scan, uniform over [0, 22 h); its report arrives 6 h later. The 5 % rule
    // (of 100 offered) fires at the 5th report: t = 6 h + p5, p5 the 5th smallest of 11 phases
    // (mean 9.2 h, sd 3.0 h), before wave 2 at 24 h unless p5 ≥ 18 h (probability 3·10⁻⁴).
    // Devices hit by then: the 5 plus those of the other 6 with a phase in (p5, t]:
    // binomial(6, 6 h / (22 h − p5)). The deployment pauses before wave 2, so 100 devices are
    // offered; and the pause withholds the offer from the devices of wave 1 that have not scanned
    // yet, so the devices hit by the time the rule fired are all that are ever hit.
    let segments =
        segment("good", 900, r#"driver = "ok""#) + &segment("bad", 100, r#"driver = "x""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT6H"
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}
ordering = "diverse"
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 100 }} }}, monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 5, action = "pauseDeployment" }}] }} }}

[[issues]]
name = "bad driver"
content = "f"
when = 'driver = "x"'
rollback = 1.0
"#
    );
    for seed in [1, 2, 3] {
        let s = run_summary(&base(seed, &segments, &rest));
        let d = &s["deployments"][0];
        assert_eq!(
            d["devices_offered"], 100,
            "seed {seed}: paused before wave 2"
        );
        let fired = d["paused_by_monitoring_hours"]
            .as_f64()
            .expect("the rule fires");
        assert!(
            (6.0..24.0).contains(&fired),
            "seed {seed}: fired at {fired} h, expected 6 h + p5 (p5 ≈ 9.2 h ± 3.0 h)"
        );
        let p5 = fired - 6.0;
        let q = 6.0 / (22.0 - p5);
        let expected = 5.0 + 6.0 * q;
        let sd = (6.0 * q * (1.0 - q)).sqrt();
        let hits = d["issue_hits_at_rule"].as_f64().expect("hits at rule");
        assert!(
            (hits - expected).abs() <= 4.0 * sd + 1.0,
            "seed {seed}: {hits} devices hit when the rule fired, closed form {expected:.1} ± {:.1}",
            4.0 * sd + 1.0
        );
        assert_eq!(
            s["issues"][0]["devices_hit"].as_f64(),
            Some(hits),
            "seed {seed}: no device is hit after the pause"
        );
        // The issue names the deployments of the content it affects.
        assert_eq!(
            s["issues"][0]["deployments"],
            serde_json::json!([d["name"]])
        );
        let states: Vec<&str> = d["state_changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|c| c["reason"].as_str())
            .collect();
        assert_eq!(states, vec!["offeringByRequest", "pausedByMonitoring"]);
    }
}

#[test]
fn disabling_likely_issue_safeguards_leaves_known_issue_holds_in_place() {
    let segments = segment("main", 500, r#"driver = "ok""#)
        + &segment("x", 50, r#"driver = "x""#)
        + &segment("y", 80, r#"driver = "y""#);
    let with = |disabled: bool| {
        // Offering starts after the known-issue hold, so no affected device is already busy.
        let start = r#"schedule = { startDateTime = "2026-01-12T02:00:00Z" }"#;
        let settings = if disabled {
            format!(
                r#"settings = {{ {start}, contentApplicability = {{ safeguard = {{ disabledSafeguardProfiles = [{{ category = "likelyIssues" }}] }} }} }}"#
            )
        } else {
            format!("settings = {{ {start} }}")
        };
        format!(
            r#"
[safety]
likely_issues = {{ precision = 1.0, recall = 1.0 }}

[[deployments]]
name = "f"
{FEATURE}
{settings}

[[issues]]
name = "known"
content = "f"
when = 'driver = "x"'
rollback = 0.5
known = {{ at = "PT1H" }}

[[issues]]
name = "unknown"
content = "f"
when = 'driver = "y"'
rollback = 0.5
"#
        )
    };
    let on = run_summary(&base(4, &segments, &with(false)));
    assert_eq!(
        on["deployments"][0]["held"], 130,
        "the model flags every at-risk device (precision = recall = 1)"
    );
    let off = run_summary(&base(4, &segments, &with(true)));
    assert_eq!(
        off["deployments"][0]["held"], 50,
        "only the known-issue hold"
    );
    assert_eq!(off["issues"][0]["hold_hours"], 1.0);
}

#[test]
fn likely_issue_holds_in_force_from_the_start_are_logged_as_placed_and_released() {
    // The likely-issue model holds "f" from the start; "g" opts out, so neither row. At P1D "f"
    // opts out (its holds are released), at P2D "g" opts in (placed), and at P5D the model's
    // holds are released where they are in force: for "g" only.
    let segments = segment("main", 100, r#"driver = "ok""#) + &segment("y", 20, r#"driver = "y""#);
    let opt_out = r#"contentApplicability = { safeguard = { disabledSafeguardProfiles = [{ category = "likelyIssues" }] } }"#;
    let rest = format!(
        r#"
[safety]
likely_issues = {{ precision = 1.0, recall = 1.0, release = "P5D" }}

[[deployments]]
name = "f"
{FEATURE}

[[deployments]]
name = "g"
{FEATURE}
settings = {{ {opt_out} }}

[[issues]]
name = "unknown"
content = "f"
when = 'driver = "y"'
rollback = 0.5

[[actions]]
at = "P1D"
deployment = "f"
do = "set"
settings = {{ {opt_out} }}

[[actions]]
at = "P2D"
deployment = "g"
do = "set"
settings = {{ contentApplicability = {{ safeguard = {{ disabledSafeguardProfiles = [] }} }} }}
"#
    );
    let case = Case::new(&base(4, &segments, &rest));
    let out = case.run("out", &[]);
    let mut r = csv::Reader::from_path(out.join("events.csv")).expect("events.csv");
    let holds: Vec<(String, String, String)> = r
        .records()
        .map(|x| x.expect("record"))
        .filter(|x| x[3].starts_with("hold_"))
        .map(|x| (x[0].to_string(), x[2].to_string(), x[3].to_string()))
        .collect();
    let row = |h: &str, d: &str, e: &str| (h.to_string(), d.to_string(), e.to_string());
    assert_eq!(
        holds,
        vec![
            row("0", "f", "hold_placed"),
            row("24", "f", "hold_released"),
            row("48", "g", "hold_placed"),
            row("120", "g", "hold_released"),
        ]
    );
    let events = std::fs::read_to_string(out.join("events.csv")).expect("events");
    assert!(
        events.contains("likely-issue safeguard holds: 20 flagged devices"),
        "{events}"
    );
}

#[test]
fn held_devices_are_not_offered_until_the_hold_is_released() {
    let segments = segment("x", 50, r#"driver = "x""#);
    let rest = format!(
        r#"
[safety]
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ startDateTime = "2026-01-12T01:00:00Z" }} }}

[[issues]]
name = "known"
content = "f"
when = 'driver = "x"'
incident = 0.1
known = {{ at = "PT0S" }}
release = {{ at = "P5D" }}
"#
    );
    let case = Case::new(&base(5, &segments, &rest));
    let out = case.run("out", &[]);
    let rows = timeseries(&out);
    let held = series(&rows, "f", "held");
    let offered_or_later: Vec<(f64, u64)> = rows
        .iter()
        .filter(|r| r.state != "held" && r.state != "not_offered")
        .map(|r| (r.hours, r.devices))
        .collect();
    for &(h, n) in &held {
        if h < 120.0 {
            assert_eq!(n, 50, "all held at {h} h");
        }
    }
    assert!(
        offered_or_later.iter().all(|&(h, n)| h >= 120.0 || n == 0),
        "nothing offered while held"
    );
    let s = summary(&out);
    let d = &s["deployments"][0];
    assert_eq!(d["devices_offered"], 50);
    assert_eq!(d["devices_compliant"], 50, "released devices proceed");
    assert!(d["hours_to_50"].as_f64().expect("reached") >= 120.0);
    assert_eq!(s["issues"][0]["released_hours"], 120.0);
}

/// Hours until the issue is known (hold placed after the first report) for one seed.
fn detection_hours(ordering: &str, seed: u64) -> f64 {
    let segments = segment("main", 2970, r#"model = ["A", "B", "C"]"#)
        + &segment("rare", 30, r#"model = "R""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT2H"
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}
ordering = "{ordering}"
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 100 }} }} }}

[[issues]]
name = "rare model"
content = "f"
when = 'model = "R"'
rollback = 1.0
known = {{ after_devices = 1 }}
"#
    );
    let s = run_summary(&base(seed, &segments, &rest));
    s["issues"][0]["hold_hours"]
        .as_f64()
        .expect("the issue is found within the horizon")
}

#[test]
fn diverse_order_detects_a_rare_combination_issue_earlier_than_random_order() {
    // 30 of 3000 devices (1 %) have the affected model. Diverse wave 1 (of 100) holds 2 of them
    // for sure: the pilot round's one (four combinations) and 96·29/2996 = 0.93 within a device;
    // a random wave 1 holds about 1, and none with probability 0.37, which waits a day for wave 2.
    // We check the mean detection time over 8 seeds is at least 6 h earlier.
    let seeds = 1..=8u64;
    let mean = |o: &str| seeds.clone().map(|s| detection_hours(o, s)).sum::<f64>() / 8.0;
    let (diverse, random) = (mean("diverse"), mean("random"));
    assert!(
        diverse + 6.0 <= random,
        "diverse {diverse:.1} h vs random {random:.1} h"
    );
}

fn rejects(text: &str, field: &str, words: &[&str]) {
    let case = Case::new(text);
    let out = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains(field), "expected field {field} in: {err}");
    for w in words {
        assert!(err.contains(w), "expected {w:?} in: {err}");
    }
}

fn with_rule(rule: &str) -> String {
    base(
        1,
        &segment("s", 10, r#"model = "A""#),
        &format!(
            "[[deployments]]\nname = \"f\"\n{FEATURE}\nsettings = {{ monitoring = {{ monitoringRules = [{rule}] }} }}\n"
        ),
    )
}

#[test]
fn a_threshold_outside_1_to_100_is_rejected() {
    for t in ["0", "101"] {
        rejects(
            &with_rule(&format!(
                r#"{{ signal = "rollback", threshold = {t}, action = "pauseDeployment" }}"#
            )),
            "deployments[0].settings.monitoring.monitoringRules[0].threshold",
            &["from 1 to 100", t],
        );
    }
}

#[test]
fn an_unknown_signal_or_action_is_rejected_with_a_suggestion() {
    rejects(
        &with_rule(r#"{ signal = "rolback", threshold = 5, action = "pauseDeployment" }"#),
        "monitoringRules[0].signal",
        &["did you mean \"rollback\""],
    );
    rejects(
        &with_rule(r#"{ signal = "rollback", threshold = 5, action = "pause" }"#),
        "monitoringRules[0].action",
        &["pauseDeployment"],
    );
}

#[test]
fn an_issue_predicate_naming_an_unknown_attribute_is_rejected() {
    let text = base(
        1,
        &segment("s", 10, r#"model = "A""#),
        &format!(
            "[[deployments]]\nname = \"f\"\n{FEATURE}\n\n[[issues]]\nname = \"i\"\ncontent = \"f\"\nwhen = 'modle = \"A\"'\nrollback = 0.5\n"
        ),
    );
    rejects(
        &text,
        "issues[0].when",
        &["modle", "did you mean \"model\""],
    );
}

#[test]
fn the_shipped_safety_scenarios_show_rules_and_holds_at_work() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let dir = tempfile::tempdir().expect("tmp");
    let run = |name: &str| {
        let out = dir.path().join(name);
        rollsim()
            .arg("run")
            .arg(root.join(format!("{name}.toml")))
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .assert()
            .success();
        summary(&out)
    };
    let none = run("safety-driver-issue-no-rules");
    let rule = run("safety-driver-issue-pause-rule");
    let hits = |s: &Value| s["deployments"][0]["issue_hits"].as_u64().expect("hits");
    assert!(none["deployments"][0]["rule_fired_hours"].is_null());
    assert!(rule["deployments"][0]["paused_by_monitoring_hours"].is_number());
    assert!(
        hits(&rule) < hits(&none),
        "the rule limits the blast radius"
    );
    let alarm = run("safety-false-alarm");
    assert!(alarm["issues"].as_array().is_some_and(Vec::is_empty));
    assert!(
        alarm["deployments"][0]["rule_fired_hours"].is_number(),
        "background rollbacks trip the rule"
    );
}

#[test]
fn a_rule_that_never_fired_says_how_close_it_came_on_the_terminal_and_in_the_summary() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/safety-false-alarm.toml");
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("run");
    let run = rollsim()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    // The admin's PATCH replaces the first rule, which fired, with a 20 % rule that does not.
    let line = stdout
        .lines()
        .find(|l| l.contains("did not fire"))
        .unwrap_or_else(|| panic!("no did-not-fire line in:\n{stdout}"));
    assert!(
        line.contains("rule rollback 20 % → pauseDeployment did not fire; highest "),
        "{line}"
    );
    let s = summary(&out);
    let miss = &s["deployments"][0]["rules_not_fired"][0];
    assert_eq!(miss["threshold"], 20);
    let (sig, den) = (
        miss["peak_signals"].as_u64().expect("signals"),
        miss["peak_denominator"].as_u64().expect("denominator"),
    );
    assert!(
        den > 0 && sig * 100 < 20 * den,
        "below the threshold: {sig}/{den}"
    );
    assert!(miss["peak_hours"].as_f64().is_some_and(|h| h > 0.0));
    let none = dir.path().join("none");
    rollsim()
        .arg("run")
        .arg(scenario.with_file_name("safety-driver-issue-no-rules.toml"))
        .arg("--out")
        .arg(&none)
        .arg("--quiet")
        .assert()
        .success();
    assert!(
        summary(&none)["deployments"][0]
            .get("rules_not_fired")
            .is_none(),
        "a deployment without rules has no such list"
    );
}

#[test]
fn ineligible_devices_are_reported_and_an_offer_fallback_rule_fires() {
    let segments = segment("new", 90, r#"cpu = "new""#) + &segment("old", 10, r#"cpu = "old""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT1H"

[[deployments]]
name = "f"
{FEATURE}
settings = {{ monitoring = {{ monitoringRules = [{{ signal = "ineligible", action = "offerFallback" }}] }} }}

[[issues]]
name = "old CPUs"
content = "f"
when = 'cpu = "old"'
ineligible = true
"#
    );
    let case = Case::new(&base(3, &segments, &rest));
    let a = case.run_command("out").assert().success();
    let out = case.out("out");
    let s = summary(&out);
    let d = &s["deployments"][0];
    assert_eq!(d["ineligible"], 10);
    assert_eq!(d["devices_compliant"], 90);
    assert_eq!(d["rule_firings"][0]["action"], "offerFallback");
    let events = std::fs::read_to_string(out.join("events.csv")).expect("events");
    assert!(events.contains(",fallback,"), "{events}");
    // The threshold is ignored, and no text claims a comparison with it.
    assert!(
        events.contains("(threshold ignored for offerFallback) → offerFallback"),
        "{events}"
    );
    assert!(!events.contains("≥"), "{events}");
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(
        stdout.contains("rule ineligible (threshold ignored) → offerFallback fired at"),
        "{stdout}"
    );
}

#[test]
fn ineligible_devices_are_not_counted_as_failed_installs() {
    // No install ever fails; 10 of 100 devices are ineligible. They never attempt the install,
    // so they are `ineligible` in the time series, not `failed`, and no failure is counted.
    let segments = segment("new", 90, r#"cpu = "new""#) + &segment("old", 10, r#"cpu = "old""#);
    let rest = format!(
        r#"
[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "old CPUs"
content = "f"
when = 'cpu = "old"'
ineligible = true
"#
    );
    let text = base(3, &segments, &rest).replace("[client]\n", "[client]\ninstall_failure = 0.0\n");
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let d = &summary(&out)["deployments"][0];
    assert_eq!(d["ineligible"], 10);
    assert_eq!(d["install_failures"], 0);
    let rows = timeseries(&out);
    let last = |state: &str| series(&rows, "f", state).last().map(|&(_, n)| n);
    assert_eq!(last("ineligible"), Some(10));
    assert_eq!(last("failed"), Some(0));
    assert_eq!(last("compliant"), Some(90));
}

#[test]
fn leaving_and_rejoining_the_audience_counts_no_failure_rollback_or_hold_again() {
    // Failures, rollbacks and likely-issue holds (from the start, never released) all happen
    // in the first days; at P15D every device leaves the audience and at P16D it rejoins, in
    // the state it left in. No device fails, rolls back or is put on hold again, so the counts
    // are those of the run without the detour.
    let segments = segment("a", 300, r#"model = ["X", "Y", "Z"]"#);
    let rest = format!(
        r#"
[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "flaky installs"
content = "f"
when = 'model = "Y"'
install_failure = 0.5

[[issues]]
name = "bad driver"
content = "f"
when = 'model = "Z"'
rollback = 0.5
"#
    );
    let detour = r#"
[[actions]]
at = "P15D"
deployment = "f"
do = "update_audience"
add_exclusions = ["a"]

[[actions]]
at = "P16D"
deployment = "f"
do = "update_audience"
remove_exclusions = ["a"]
"#;
    let counts = |d: &Value| {
        ["install_failures", "rollbacks", "held", "devices_targeted"].map(|k| d[k].clone())
    };
    let plain = run_summary(&base(5, &segments, &rest));
    let churn = run_summary(&base(5, &segments, &(rest.clone() + detour)));
    let (plain, churn) = (&plain["deployments"][0], &churn["deployments"][0]);
    for k in ["install_failures", "rollbacks", "held"] {
        assert!(plain[k].as_u64() > Some(0), "{k}: {plain}");
    }
    assert_eq!(counts(churn), counts(plain), "{churn}\n{plain}");
}

#[test]
fn a_device_hit_by_two_issues_counts_once_in_issue_hits() {
    // Two issues of the same content match every device and each makes it roll back: a device
    // is hit by both, and is one device hit, in the summary, at the rule and in its event.
    let segments = segment("a", 100, r#"model = "X", driver = "d1""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT6H"
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}
settings = {{ monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 20, action = "alertError" }}] }} }}

[[issues]]
name = "by model"
content = "f"
when = 'model = "X"'
rollback = 1.0

[[issues]]
name = "by driver"
content = "f"
when = 'driver = "d1"'
rollback = 1.0
"#
    );
    let case = Case::new(&base(4, &segments, &rest));
    let out = case.run("out", &[]);
    let s = summary(&out);
    let d = &s["deployments"][0];
    assert_eq!(d["issue_hits"], 100, "{d}");
    for issue in s["issues"].as_array().expect("issues") {
        assert_eq!(issue["devices_hit"], 100, "{issue}");
    }
    let at_rule = d["issue_hits_at_rule"].as_u64().expect("the rule fired");
    assert!((20..100).contains(&at_rule), "{at_rule}");
    assert_eq!(d["rule_firings"][0]["issue_hits"], at_rule);
    let events = std::fs::read_to_string(out.join("events.csv")).expect("events");
    let fired = events
        .lines()
        .find(|l| l.contains(",rule_fired,"))
        .expect("rule_fired row");
    assert!(
        fired.contains(&format!("; {at_rule} devices hit by issues so far")),
        "{fired}"
    );
}

#[test]
fn a_device_two_issues_make_ineligible_is_one_ineligible_device() {
    // Two ineligibility issues match the same 10 devices; a second deployment of the same
    // content finds them ineligible again. Still 10 devices, for the content and for each issue.
    let segments = segment("new", 90, r#"cpu = "new""#) + &segment("old", 10, r#"cpu = "old""#);
    let rest = format!(
        r#"
[[deployments]]
name = "f"
{FEATURE}

[[deployments]]
name = "g"
{FEATURE}

[[issues]]
name = "old CPUs"
content = "f"
when = 'cpu = "old"'
ineligible = true

[[issues]]
name = "no TPM"
content = "f"
when = 'cpu = "old"'
ineligible = true
"#
    );
    let s = run_summary(&base(3, &segments, &rest));
    for d in s["deployments"].as_array().expect("deployments") {
        assert_eq!(d["ineligible"], 10, "{d}");
        // Ineligible is not harmed: no part of the blast radius.
        assert_eq!(d["issue_hits"], 0, "{d}");
    }
    for issue in s["issues"].as_array().expect("issues") {
        assert_eq!(issue["ineligible"], 10, "{issue}");
        assert_eq!(issue["devices_hit"], 0, "{issue}");
    }
}

/// 1000 devices in waves of 100 a day, 10 % of them rolling back for sure; the rollback rule
/// with `threshold` % is added by a PATCH at P5D, halfway through the rollout.
fn rule_added_later(threshold: u8) -> Value {
    let segments =
        segment("good", 900, r#"driver = "ok""#) + &segment("bad", 100, r#"driver = "x""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT6H"
monitoring_denominator = "installed"
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 100 }} }} }}

[[issues]]
name = "bad driver"
content = "f"
when = 'driver = "x"'
rollback = 1.0

[[actions]]
at = "P5D"
deployment = "f"
do = "set"
settings = {{ monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = {threshold}, action = "pauseDeployment" }}] }} }}
"#
    );
    run_summary(&base(7, &segments, &rest))
}

#[test]
fn a_rule_added_by_a_later_patch_compares_rollbacks_with_installs_since_the_start() {
    // Before the fix installs were counted only while the deployment had rules, and rollbacks
    // always: the first install after the PATCH gave "rollback 58/1 ≥ 50 %".
    let high = rule_added_later(50);
    let d = &high["deployments"][0];
    assert_eq!(
        d["rule_firings"].as_array().map(Vec::len),
        Some(0),
        "10 % of devices roll back, a 50 % rule must not fire: {}",
        d["rule_firings"]
    );
    assert_eq!(d["devices_offered"], 1000, "never paused");
    // A rule the real rate does exceed fires at once, at about the real rate.
    let low = rule_added_later(5);
    let f = &low["deployments"][0]["rule_firings"][0];
    assert_eq!(f["hours"], 120.0, "fires at the PATCH: {f}");
    let (signals, installed) = (
        f["signals"].as_f64().expect("signals"),
        f["denominator"].as_f64().expect("denominator"),
    );
    assert!(installed >= 300.0, "installs since the start: {f}");
    let ratio = signals / installed;
    assert!(
        (0.05..0.2).contains(&ratio),
        "ratio {ratio} vs 10 % real: {f}"
    );
}

/// 50 healthy devices and `affected` devices whose install always fails (they retry at every
/// scan, about daily), with a hold due once 3 affected devices have reported the issue.
fn failing_devices(affected: u32) -> Value {
    let segments =
        segment("good", 50, r#"driver = "ok""#) + &segment("bad", affected, r#"driver = "x""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT6H"
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "bad driver"
content = "f"
when = 'driver = "x"'
install_failure = 1.0
known = {{ after_devices = 3 }}
"#
    );
    run_summary(&base(8, &segments, &rest))
}

#[test]
fn one_device_failing_again_and_again_does_not_count_as_three_affected_devices() {
    let one = failing_devices(1);
    let issue = &one["issues"][0];
    assert_eq!(issue["devices_hit"], 1);
    assert!(
        issue["reported"].as_u64().expect("reports") >= 3,
        "the device reports every failure: {issue}"
    );
    assert!(
        issue["hold_hours"].is_null(),
        "one affected device is not three: {issue}"
    );
    // Three devices, each failing at its first scan (within 22 h of the start), do place it.
    let three = failing_devices(3);
    let hold = three["issues"][0]["hold_hours"]
        .as_f64()
        .expect("three affected devices place the hold");
    assert!(
        (6.0..28.0).contains(&hold),
        "the third device's first report arrives 6 h after its first failure: {hold} h"
    );
}

#[test]
fn each_deployment_counts_only_the_issue_hits_of_its_own_audience() {
    // Two deployments of one content with disjoint audiences: `pilot` (segment good, which no
    // issue matches) and `rest` (segment bad, every device of which rolls back). The pilot
    // reports no device hit, neither in the summary nor at a rule's firing; the rest reports
    // every one of its devices, as the issue does.
    let segments =
        segment("good", 200, r#"driver = "ok""#) + &segment("bad", 100, r#"driver = "x""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT1H"
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "pilot"
{FEATURE}
audience = {{ members = ["good"] }}
settings = {{ monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 100, action = "alertError" }}] }} }}

[[deployments]]
name = "rest"
{FEATURE}
audience = {{ members = ["bad"] }}
settings = {{ monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 50, action = "alertError" }}] }} }}

[[issues]]
name = "bad driver"
content = "pilot"
when = 'driver = "x"'
rollback = 1.0
"#
    );
    let s = run_summary(&base(3, &segments, &rest));
    let (pilot, rest) = (&s["deployments"][0], &s["deployments"][1]);
    assert_eq!(pilot["rollbacks"], 0, "{pilot}");
    assert_eq!(pilot["issue_hits"], 0, "{pilot}");
    // Every device of the rest rolls back at each of its daily scans (it retries:
    // `retry_after_rollback`): rollbacks count each, issue hits each device once.
    let rollbacks = rest["rollbacks"].as_u64().expect("rollbacks");
    assert!(rollbacks >= 100 * 19, "{rest}");
    assert_eq!(rest["issue_hits"], 100, "{rest}");
    assert_eq!(s["issues"][0]["devices_hit"], 100);
    // The rest's rule fired on its own devices' reports: the hits it names are its own.
    let hits_at_rule = rest["issue_hits_at_rule"].as_u64().expect("the rule fired");
    assert!((50..=100).contains(&hits_at_rule), "{rest}");
    assert!(pilot["rule_fired_hours"].is_null(), "{pilot}");
}

#[test]
fn likely_issue_holds_end_with_the_investigation_of_their_content_s_issues_unless_told_never() {
    // Every device of segment y matches an issue that rolls it back half the time; the model
    // flags them all (precision and recall 1). The issue is known at P2D and its hold released
    // P3D later: by default the likely-issue holds end with it, at 120 h, and every device is
    // compliant at the end; with `release = "never"` the flagged devices stay held.
    let segments = segment("main", 100, r#"driver = "ok""#) + &segment("y", 20, r#"driver = "y""#);
    let rest = |release: &str| {
        format!(
            r#"
[safety]
likely_issues = {{ precision = 1.0, recall = 1.0{release} }}

[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "black screen"
content = "f"
when = 'driver = "y"'
rollback = 0.5
known = {{ at = "P2D" }}
release = {{ after = "P3D" }}
"#
        )
    };
    let holds = |out: &Path| -> Vec<(String, String)> {
        let mut r = csv::Reader::from_path(out.join("events.csv")).expect("events.csv");
        r.records()
            .map(|x| x.expect("record"))
            .filter(|x| x[3].starts_with("hold_"))
            .map(|x| (x[0].to_string(), x[6].to_string()))
            .collect()
    };
    let row = |h: &str, d: &str| (h.to_string(), d.to_string());
    let case = Case::new(&base(2, &segments, &rest("")));
    let out = case.run("out", &[]);
    assert_eq!(
        holds(&out),
        vec![
            row("0", "likely-issue safeguard holds: 20 flagged devices"),
            row(
                "48",
                "safeguard hold for \"black screen\": 20 matching devices"
            ),
            row("120", "safeguard hold for \"black screen\" released"),
            row("120", "likely-issue safeguard holds released"),
        ]
    );
    let s = summary(&out);
    assert_eq!(s["deployments"][0]["devices_compliant"], 120, "{s}");

    let case = Case::new(&base(2, &segments, &rest(", release = \"never\"")));
    let out = case.run("out", &[]);
    assert_eq!(holds(&out).len(), 3, "no release: {:?}", holds(&out));
    let s = summary(&out);
    assert_eq!(s["deployments"][0]["devices_compliant"], 100, "{s}");
}

#[test]
fn a_likely_issue_release_that_is_neither_a_time_nor_a_keyword_is_refused_with_the_choices() {
    let segments = segment("main", 10, r#"driver = "ok""#);
    let rest = format!(
        r#"
[safety]
likely_issues = {{ release = "with_issue" }}

[[deployments]]
name = "f"
{FEATURE}
"#
    );
    rejects(
        &base(1, &segments, &rest),
        "safety.likely_issues.release",
        &[
            "\"with_issues\"",
            "\"never\"",
            "found \"with_issue\"",
            "did you mean",
        ],
    );
}

#[test]
fn devices_still_held_at_the_end_are_counted_by_kind_of_hold_and_told_on_the_terminal() {
    // The model flags every at-risk device (x and y); x also has a known issue whose hold is
    // never released. At the end x's 50 devices are held by both kinds, y's 80 by the model.
    let segments = segment("main", 500, r#"driver = "ok""#)
        + &segment("x", 50, r#"driver = "x""#)
        + &segment("y", 80, r#"driver = "y""#);
    let rest = format!(
        r#"
[safety]
likely_issues = {{ precision = 1.0, recall = 1.0 }}

[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "known"
content = "f"
when = 'driver = "x"'
rollback = 0.5
known = {{ at = "PT1H" }}

[[issues]]
name = "unknown"
content = "f"
when = 'driver = "y"'
rollback = 0.5
"#
    );
    let case = Case::new(&base(4, &segments, &rest));
    let a = case.run_command("out").assert().success();
    let out = case.out("out");
    let s = summary(&out);
    let held = &s["deployments"][0]["held_at_end"];
    assert_eq!(held["devices"], 130, "{held}");
    assert_eq!(held["known_issue"], 50, "{held}");
    assert_eq!(held["likely_issue"], 130, "{held}");
    // The same count as the time series' last sample.
    let last = timeseries(&out)
        .into_iter()
        .rfind(|r| r.state == "held")
        .expect("held rows");
    assert_eq!(last.devices, 130);
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(
        text.contains("    still held at the end: 130 devices (50 by a known-issue hold, 130 by a likely-issue hold)\n"),
        "{text}"
    );
    // The model's holds are told as the assumption they are, whether or not they last.
    assert!(
        text.contains("    likely-issue holds: 130 devices held from the start (130 matching an issue, 0 not); an assumption: [safety] likely_issues\n"),
        "{text}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(
        html.contains("<h2>Issues and safeguard holds</h2>"),
        "{html}"
    );
    assert!(html.contains("issue &quot;known&quot;: "), "{html}");
    assert!(
        html.contains("still held at the end: 130 devices"),
        "{html}"
    );
}

#[test]
fn summary_json_gives_each_time_as_an_instant_beside_its_hours() {
    let segments = segment("main", 200, r#"driver = "ok""#) + &segment("x", 50, r#"driver = "x""#);
    let rest = format!(
        r#"
[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "known"
content = "f"
when = 'driver = "x"'
rollback = 0.5
known = {{ at = "PT1H" }}
release = {{ after = "P2D" }}
"#
    );
    let s = run_summary(&base(4, &segments, &rest));
    let start = jiff::Timestamp::from_second(1_768_176_000).expect("2026-01-12");
    let at = |hours: &Value| {
        let secs = (hours.as_f64().expect("hours") * 3600.0).round() as i64;
        let t = start
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .expect("instant");
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    let d = &s["deployments"][0];
    for x in ["50", "90", "95", "99"] {
        let (h, t) = (&d[format!("hours_to_{x}")], &d[format!("time_to_{x}")]);
        match h.as_f64() {
            Some(_) => assert_eq!(t.as_str(), Some(at(h).as_str()), "{x}"),
            None => assert!(t.is_null(), "{x}"),
        }
    }
    assert!(d["time_to_50"].is_string(), "{d}");
    let i = &s["issues"][0];
    assert_eq!(i["hold_time"], "2026-01-12T01:00:00Z");
    assert_eq!(i["released_time"], "2026-01-14T01:00:00Z");
    assert!(d["rule_fired_time"].is_null() && d["paused_by_monitoring_time"].is_null());
}

#[test]
fn a_rollback_rule_over_a_few_installs_without_a_minimum_is_warned_of_once() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("scenarios/safety-false-alarm.toml"))
        .expect("shipped scenario");
    let warnings = |text: &str| {
        let case = Case::new(text);
        let out = rollsim()
            .arg("validate")
            .arg(&case.scenario)
            .output()
            .expect("runs");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains("fires on a single rollback report"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let told = warnings(&text);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains(
            "safety.monitoring_denominator: over the installed devices, 24h2's rollback rule of 5 % fires on a single rollback report while at most 20 devices have installed, and monitoring_min_devices is 0"
        ),
        "{told:?}"
    );
    let installed = "monitoring_denominator = \"installed\"";
    // A minimum above 100 / threshold, or the offered devices as denominator: nothing to tell.
    let min = text.replace(
        installed,
        &format!("{installed}\nmonitoring_min_devices = 21"),
    );
    assert!(warnings(&min).is_empty());
    let offered = text.replace(installed, "monitoring_denominator = \"offered\"");
    assert!(warnings(&offered).is_empty());
    // A minimum too small is named.
    let small = text.replace(
        installed,
        &format!("{installed}\nmonitoring_min_devices = 20"),
    );
    let told = warnings(&small);
    assert!(
        told[0].contains("safety.monitoring_min_devices: "),
        "{told:?}"
    );
}

/// 80 healthy devices and 20 that an issue rolls back for sure, all offered at the start. The
/// issue becomes known at P3D (a hold) and its hold is released at P8D (192 h: the fix
/// shipped). Until the hold, an affected device takes the update at every scan (22 h apart, no
/// jitter) and rolls back each time, three or four times. A rollback rule of 25 % of the
/// offered devices alerts: the 20 devices are 20 %, their rollbacks well over 25.
fn retry_after_hold_release(retry: &str) -> (Value, Vec<Row>) {
    let segments = segment("good", 80, r#"driver = "ok""#) + &segment("bad", 20, r#"driver = "x""#);
    let rest = format!(
        r#"
[safety]
signal_delay = "PT6H"
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}
settings = {{ monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 25, action = "alertError" }}] }} }}

[[issues]]
name = "bad driver"
content = "f"
when = 'driver = "x"'
rollback = 1.0
known = {{ at = "P3D" }}
release = {{ at = "P8D" }}
"#
    );
    // Into `base`'s `[client.feature]` table (a second table of the same name is not TOML).
    let text = base(11, &segments, &rest).replacen(
        "rollback = 0.0\n",
        &format!("rollback = 0.0\nretry_after_rollback = \"{retry}\"\n"),
        1,
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    (summary(&out), timeseries(&out))
}

fn last(rows: &[Row], state: &str) -> u64 {
    series(rows, "f", state).last().expect("samples").1
}

fn at(rows: &[Row], state: &str, hours: f64) -> u64 {
    series(rows, "f", state)
        .into_iter()
        .find(|&(h, _)| h == hours)
        .expect("sample")
        .1
}

#[test]
fn rolled_back_devices_retry_after_the_hold_is_released_and_the_deployment_ends_compliant() {
    let (s, rows) = retry_after_hold_release("P0D");
    let d = &s["deployments"][0];
    // While the hold is in force the affected devices are rolled back; after its release
    // (the fix) they take the update again at their next scan and it sticks.
    assert_eq!(at(&rows, "rolled_back", 100.0), 20);
    assert_eq!(at(&rows, "compliant", 100.0), 80);
    assert_eq!(d["devices_compliant"], 100, "{d}");
    assert_eq!(last(&rows, "rolled_back"), 0);
    assert_eq!(last(&rows, "compliant"), 100);
    let h = d["hours_to_95"].as_f64().expect("95 % reached");
    assert!(
        (192.0..192.0 + 23.0).contains(&h),
        "at the first scans after the release: {h} h"
    );
    // Each affected device rolled back at every daily scan before the hold: rollbacks count
    // events, the issue's devices hit count devices.
    let rollbacks = d["rollbacks"].as_u64().expect("rollbacks");
    assert!((60..=80).contains(&rollbacks), "{rollbacks} rollbacks");
    let issue = &s["issues"][0];
    assert_eq!(issue["rolled_back"].as_u64(), Some(rollbacks), "{issue}");
    assert_eq!(issue["devices_hit"], 20, "{issue}");
    assert_eq!(issue["released_hours"], 192.0);
}

#[test]
fn a_device_that_rolls_back_twice_counts_once_in_the_monitoring_signal_and_in_issue_hits() {
    let (s, _) = retry_after_hold_release("P0D");
    let d = &s["deployments"][0];
    assert!(d["rollbacks"].as_u64().expect("rollbacks") >= 60);
    assert_eq!(d["issue_hits"], 20, "distinct devices: {d}");
    // 20 devices of 100 offered is 20 %, below the rule's 25 %, however often they roll back.
    assert_eq!(d["rule_firings"].as_array().map(Vec::len), Some(0), "{d}");
    let miss = &d["rules_not_fired"][0];
    assert_eq!(miss["peak_signals"], 20, "{miss}");
    assert_eq!(miss["peak_denominator"], 100, "{miss}");
}

#[test]
fn with_retry_after_rollback_never_a_rolled_back_device_stays_rolled_back() {
    let (s, rows) = retry_after_hold_release("never");
    let d = &s["deployments"][0];
    // Each affected device rolls back at its first scan and never takes the update again,
    // also once the hold is released.
    assert_eq!(d["rollbacks"], 20, "{d}");
    assert_eq!(d["devices_compliant"], 80, "{d}");
    assert_eq!(last(&rows, "rolled_back"), 20);
    assert!(d["hours_to_95"].is_null(), "{d}");
    assert_eq!(s["issues"][0]["rolled_back"], 20);
}

#[test]
fn a_hotpatched_update_draws_its_issues_incidents_and_reports_its_installs_as_a_restarted_one_does()
{
    // Always-on devices of one model, an incident issue certain to strike, and a rollback rule
    // over the installed devices: with a hotpatch the update applies without a restart, and the
    // service must hear of it as of any applied update.
    let run = |hotpatch: bool| {
        run_summary(&format!(
            r##"
[simulation]
start = "2026-01-13T00:00:00Z"
horizon = "P10D"
seed = 3
sample_interval = "PT6H"

[safety]
monitoring_denominator = "installed"

{segments}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", classification = "security", releaseDateTime = "2026-01-13T00:00:00Z" }}
settings = {{ userExperience = {{ isHotpatchEnabled = {hotpatch} }}, monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 5, action = "pauseDeployment" }}] }} }}

[[issues]]
name = "crash"
content = "q"
when = 'model = "K1"'
incident = 1.0
"##,
            segments = segment("kiosks", 200, r#"model = "K1""#),
        ))
    };
    for hotpatch in [false, true] {
        let s = run(hotpatch);
        let d = &s["deployments"][0];
        assert_eq!(d["devices_compliant"], 200, "hotpatch {hotpatch}");
        assert_eq!(d["issue_hits"], 200, "hotpatch {hotpatch}");
        assert_eq!(s["issues"][0]["incidents"], 200, "hotpatch {hotpatch}");
        assert_eq!(s["issues"][0]["reported"], 200, "hotpatch {hotpatch}");
        // Judged on every install report: all 200 installs were reported by the end.
        let miss = &d["rules_not_fired"][0];
        assert_eq!(miss["peak_signals"], 0, "hotpatch {hotpatch}");
        assert!(
            miss["peak_denominator"].as_u64().is_some_and(|n| n > 0),
            "hotpatch {hotpatch}: {miss}"
        );
    }
}

#[test]
fn likely_issue_holds_are_counted_by_whether_the_devices_match_an_issue_and_from_when() {
    // Precision 0.5, recall 1: the 20 devices of driver y and 20 others are flagged. "g" opts
    // in at P2D, before its start at P3D, so all 40 are held from then; "h" opts out.
    let segments = segment("main", 100, r#"driver = "ok""#) + &segment("y", 20, r#"driver = "y""#);
    let opt_out = r#"contentApplicability = { safeguard = { disabledSafeguardProfiles = [{ category = "likelyIssues" }] } }"#;
    let rest = format!(
        r#"
[safety]
likely_issues = {{ precision = 0.5, recall = 1.0 }}

[[deployments]]
name = "g"
{FEATURE}
settings = {{ schedule = {{ startDateTime = "2026-01-15T00:00:00Z" }}, {opt_out} }}

[[deployments]]
name = "h"
{FEATURE}
settings = {{ schedule = {{ startDateTime = "2026-01-15T00:00:00Z" }}, {opt_out} }}

[[issues]]
name = "unknown"
content = "g"
when = 'driver = "y"'
rollback = 0.5

[[actions]]
at = "P2D"
deployment = "g"
do = "set"
settings = {{ contentApplicability = {{ safeguard = {{ disabledSafeguardProfiles = [] }} }} }}
"#
    );
    let case = Case::new(&base(4, &segments, &rest));
    let a = case.run_command("out").assert().success();
    let s = summary(&case.out("out"));
    let likely = &s["deployments"][0]["likely_issue_holds"];
    assert_eq!(likely["devices"], 40, "{likely}");
    assert_eq!(likely["matching_issue"], 20, "{likely}");
    assert_eq!(likely["not_matching_issue"], 20, "{likely}");
    assert_eq!(likely["first_hours"], 48.0, "{likely}");
    assert!(
        s["deployments"][1].get("likely_issue_holds").is_none(),
        "a deployment that opts out has none: {}",
        s["deployments"][1]
    );
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(
        text.contains("    likely-issue holds: 40 devices held from 48.0 h (20 matching an issue, 20 not); an assumption: [safety] likely_issues\n"),
        "{text}"
    );
    assert_eq!(text.matches("likely-issue holds:").count(), 1, "{text}");
}

/// Hold rows of events.csv: (hours, detail).
fn hold_rows(out: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(out.join("events.csv")).expect("events.csv");
    r.records()
        .map(|x| x.expect("record"))
        .filter(|x| x[3].starts_with("hold_"))
        .map(|x| (x[0].to_string(), x[6].to_string()))
        .collect()
}

#[test]
fn an_issue_the_likely_issue_model_cannot_predict_is_neither_flagged_nor_waited_for() {
    // A vendor's driver issue (x, known at 1 h, fixed two days later) and an in-house one (y,
    // never known to Microsoft). A perfect model flags x's 20 devices only, and its holds end
    // with the vendor issue's fix at 49 h, not never.
    let segments = segment("main", 100, r#"driver = "ok""#)
        + &segment("x", 20, r#"driver = "x""#)
        + &segment("y", 30, r#"driver = "y""#);
    let rest = |likely: &str, predictable: &str| {
        format!(
            r#"
[safety]
likely_issues = {likely}

[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "vendor"
content = "f"
when = 'driver = "x"'
rollback = 0.5
known = {{ at = "PT1H" }}
release = {{ after = "P2D" }}

[[issues]]
name = "in-house"
content = "f"
when = 'driver = "y"'
rollback = 0.5
{predictable}
"#
        )
    };
    let run = |likely: &str, predictable: &str| {
        let case = Case::new(&base(4, &segments, &rest(likely, predictable)));
        let out = case.run("out", &[]);
        (hold_rows(&out), summary(&out))
    };
    let perfect = "{ precision = 1.0, recall = 1.0 }";
    let (holds, s) = run(perfect, "predictable = false");
    let row = |h: &str, d: &str| (h.to_string(), d.to_string());
    assert_eq!(
        holds,
        vec![
            row("0", "likely-issue safeguard holds: 20 flagged devices"),
            row("1", "safeguard hold for \"vendor\": 20 matching devices"),
            row("49", "safeguard hold for \"vendor\" released"),
            row("49", "likely-issue safeguard holds released"),
        ]
    );
    let likely = &s["deployments"][0]["likely_issue_holds"];
    assert_eq!(likely["devices"], 20, "{likely}");
    assert_eq!(likely["matching_issue"], 20, "{likely}");
    assert!(
        s["issues"][1]["devices_hit"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "the model spared none of the in-house issue's devices: {}",
        s["issues"][1]
    );
    // Predictable, the in-house issue's devices are flagged too, and as it never becomes known
    // the holds last to the end: x's devices too, though the vendor's fix is out.
    let (holds, s) = run(perfect, "");
    assert_eq!(
        holds[0],
        row("0", "likely-issue safeguard holds: 50 flagged devices")
    );
    assert!(
        !holds
            .iter()
            .any(|h| h.1 == "likely-issue safeguard holds released")
    );
    assert_eq!(s["deployments"][0]["held_at_end"]["likely_issue"], 50);
    assert_eq!(s["issues"][1]["devices_hit"], 0);
    // recall = 0 switches the model off for every content: no likely-issue hold at all.
    let (holds, s) = run("{ recall = 0 }", "");
    assert_eq!(
        holds,
        vec![
            row("1", "safeguard hold for \"vendor\": 20 matching devices"),
            row("49", "safeguard hold for \"vendor\" released"),
        ]
    );
    assert!(s["deployments"][0].get("likely_issue_holds").is_none());
}

/// 80 healthy devices and 20 that a never-known issue rolls back at every install, all offered
/// at the start, retrying at each daily scan; `max_retries` goes into `[client.feature]`. The
/// summary, the terminal's output and `summary.csv`.
fn always_rolling_back(max_retries: Option<&str>) -> (Value, String, String) {
    let segments = segment("good", 80, r#"driver = "ok""#) + &segment("bad", 20, r#"driver = "x""#);
    let rest = format!(
        r#"
[safety]
likely_issues = {{ recall = 0.0 }}

[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "bad driver"
content = "f"
when = 'driver = "x"'
rollback = 1.0
"#
    );
    let mut text = base(5, &segments, &rest);
    if let Some(m) = max_retries {
        // Into `base`'s `[client.feature]` table (a second table of the same name is not TOML).
        text = text.replacen(
            "rollback = 0.0\n",
            &format!("rollback = 0.0\nmax_retries_after_rollback = {m}\n"),
            1,
        );
    }
    let case = Case::new(&text);
    let run = case.run_command("out").assert().success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    let out = case.out("out");
    let csv = std::fs::read_to_string(out.join("summary.csv")).expect("summary.csv");
    (summary(&out), stdout, csv)
}

#[test]
fn a_device_whose_update_always_rolls_back_retries_exactly_max_retries_after_rollback_times() {
    for (n, expected) in [(0, 20), (3, 80)] {
        let (s, stdout, _) = always_rolling_back(Some(&n.to_string()));
        let d = &s["deployments"][0];
        // The first install and N retries each roll back; then the device stays rolled back
        // for the rest of the 20 days, far longer than N daily scans.
        assert_eq!(d["rollbacks"], expected, "max {n}: {d}");
        assert_eq!(d["devices_rolled_back"], 20, "max {n}: {d}");
        assert_eq!(d["devices_compliant"], 80, "max {n}: {d}");
        assert_eq!(s["issues"][0]["rolled_back"], expected, "max {n}");
        assert!(
            stdout.contains(&format!(
                "0 failed installs, {expected} rollbacks (20 devices);"
            )),
            "max {n}: {stdout}"
        );
    }
    // "unlimited" is the default: a retry at every daily scan of the 20 days.
    let (limited, _, _) = always_rolling_back(Some("\"unlimited\""));
    let (default, _, _) = always_rolling_back(None);
    assert_eq!(limited["deployments"], default["deployments"]);
    let rollbacks = default["deployments"][0]["rollbacks"]
        .as_u64()
        .expect("rollbacks");
    assert!(rollbacks >= 20 * 19, "{rollbacks}");
}

#[test]
fn devices_rolled_back_is_at_most_the_rollbacks_and_counts_each_affected_device_once() {
    let (s, stdout, csv) = always_rolling_back(None);
    let d = &s["deployments"][0];
    let rollbacks = d["rollbacks"].as_u64().expect("rollbacks");
    let devices = d["devices_rolled_back"]
        .as_u64()
        .expect("devices_rolled_back");
    // The 20 devices of the issue, each many times; the healthy 80 never (no background rate).
    assert_eq!(devices, 20, "{d}");
    assert!(devices <= rollbacks && rollbacks > 20, "{d}");
    assert_eq!(d["issue_hits"], 20, "{d}");
    assert!(
        stdout.contains(&format!("{rollbacks} rollbacks (20 devices);")),
        "{stdout}"
    );
    // summary.csv: the last column, after the older ones.
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header = r.headers().expect("header").clone();
    assert_eq!(
        header.iter().next_back(),
        Some("devices_rolled_back"),
        "{csv}"
    );
    let row = r.records().next().expect("a row").expect("record");
    assert_eq!(row.iter().next_back(), Some("20"), "{csv}");
}
