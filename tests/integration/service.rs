//! The deployment service: gradual rollouts, expedite, pause, audiences, Graph JSON bodies.

use std::path::Path;

use crate::common::*;

/// A scenario with segment "fleet" (`devices`, always on unless `segment` says otherwise), an
/// optional second segment "late", and the deployments/actions in `rest`.
fn service_scenario(devices: u32, late: u32, segment: &str, rest: &str) -> String {
    let late = if late > 0 {
        format!(
            "[[segments]]\nname = \"late\"\ndevices = {late}\navailability = {{ profile = \"always_on\" }}\n"
        )
    } else {
        String::new()
    };
    format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P30D"
seed = 9
sample_interval = "PT1H"

[[segments]]
name = "fleet"
devices = {devices}
availability = {{ profile = "always_on" }}
{segment}

{late}

{rest}
"##
    )
}

const FEATURE: &str = r##"content = { "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateReference", version = "24H2" }"##;
const QUALITY: &str = r##"content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", classification = "security", releaseDateTime = "2026-01-12T00:00:00Z" }"##;

/// (hours, event, detail) rows of events.csv.
fn events(dir: &Path) -> Vec<(f64, String, String)> {
    let mut r = csv::Reader::from_path(dir.join("events.csv")).expect("events.csv");
    r.records()
        .map(|x| {
            let x = x.expect("record");
            (
                x[0].parse().expect("hours"),
                x[3].to_string(),
                x[6].to_string(),
            )
        })
        .collect()
}

/// The number at the start of "wave 3: 75 devices offered" or "75 devices offered".
fn offered_in(detail: &str) -> u64 {
    let d = detail.split(": ").last().unwrap_or(detail);
    d.split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("count")
}

#[test]
fn a_rate_driven_rollout_offers_its_last_wave_ceil_n_over_k_minus_one_intervals_after_start() {
    let (n, k) = (1000u64, 75u64);
    let text = service_scenario(
        n as u32,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ startDateTime = "2026-01-12T06:00:00Z", gradualRollout = {{ devicesPerOffer = {k}, durationBetweenOffers = "P1D" }} }} }}
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let waves: Vec<(f64, u64)> = events(&out)
        .into_iter()
        .filter(|e| e.1 == "wave")
        .map(|e| (e.0, offered_in(&e.2)))
        .collect();
    let expected_waves = n.div_ceil(k);
    assert_eq!(waves.len() as u64, expected_waves);
    assert_eq!(waves.iter().map(|w| w.1).sum::<u64>(), n);
    assert!(waves[..waves.len() - 1].iter().all(|w| w.1 == k));
    let last = waves.last().expect("a wave").0;
    assert_eq!(last, 6.0 + 24.0 * (expected_waves - 1) as f64);
}

#[test]
fn a_date_driven_rollout_offers_everyone_before_its_end_date() {
    let text = service_scenario(
        1000,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ gradualRollout = {{ endDateTime = "2026-01-17T03:00:00Z" }} }} }}
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let end_h = 5.0 * 24.0 + 3.0;
    let waves: Vec<(f64, u64)> = events(&out)
        .into_iter()
        .filter(|e| e.1 == "wave")
        .map(|e| (e.0, offered_in(&e.2)))
        .collect();
    assert_eq!(waves.len(), 6, "daily waves at 0..5 d: {waves:?}");
    assert!(waves.iter().all(|w| w.0 < end_h));
    assert_eq!(waves.iter().map(|w| w.1).sum::<u64>(), 1000);
    let not_offered = series(&timeseries(&out), "f", "not_offered");
    let at_end = not_offered
        .iter()
        .find(|(h, _)| *h >= end_h)
        .expect("sample");
    assert_eq!(at_end.1, 0);
}

#[test]
fn a_device_added_after_a_date_driven_end_is_offered_at_once() {
    let text = service_scenario(
        500,
        50,
        "",
        &format!(
            r##"
[[deployments]]
name = "f"
{FEATURE}
audience = {{ members = ["fleet"] }}
settings = {{ schedule = {{ gradualRollout = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.durationDrivenRolloutSettings", durationUntilDeploymentEnd = "P5D" }} }} }}

[[actions]]
at = "P6DT2H"
deployment = "f"
do = "update_audience"
add_members = ["late"]
"##
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let ev = events(&out);
    let offer = ev
        .iter()
        .find(|e| e.1 == "offer")
        .expect("an immediate offer");
    assert_eq!(offer.0, 146.0);
    assert_eq!(offered_in(&offer.2), 50);
    let s = summary(&out);
    assert_eq!(s["deployments"][0]["devices_offered"], 550);
}

#[test]
fn waves_stop_while_the_devices_left_in_the_queue_have_left_the_audience_and_resume_when_they_rejoin()
 {
    // The audience loses the devices its waves had not reached at 12 h and has them back at
    // 5 days: the wave due at 24 h finds none (0 offered), then none is due until the rejoin.
    let text = service_scenario(
        10,
        100,
        "",
        &format!(
            r#"
[[deployments]]
name = "q"
{QUALITY}
audience = {{ members = ["fleet", "late"] }}
ordering = "fleet"
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 10, durationBetweenOffers = "P1D" }} }} }}

[[actions]]
at = "PT12H"
deployment = "q"
do = "update_audience"
remove_members = ["late"]

[[actions]]
at = "P5D"
deployment = "q"
do = "update_audience"
add_members = ["late"]
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let waves: Vec<(f64, u64)> = events(&out)
        .into_iter()
        .filter(|e| e.1 == "wave")
        .map(|e| (e.0, offered_in(&e.2)))
        .collect();
    let mut expected = vec![(0.0, 10), (24.0, 0)];
    expected.extend((0..10).map(|k| (120.0 + 24.0 * f64::from(k), 10)));
    assert_eq!(waves, expected);
    assert_eq!(summary(&out)["deployments"][0]["devices_offered"], 110);
}

/// An always-on fleet with fixed pipeline durations and no automatic restart, so the restart
/// waits for the forced-reboot grace.
const FIXED_CLIENT: &str = r#"
[client]
scan_jitter = "PT0S"
[client.quality]
download_time = "PT10M"
install_time = "PT20M"
restart_time = "PT5M"
[policies.default]
auto_restart = false
"#;

#[test]
fn an_expedited_update_reaches_an_always_online_fleet_within_minutes_and_forces_restarts_after_its_grace()
 {
    let text = service_scenario(
        2000,
        0,
        "",
        &format!(
            r#"
{FIXED_CLIENT}
[[deployments]]
name = "x"
{QUALITY}
settings = {{ expedite = {{ isExpedited = true }}, userExperience = {{ daysUntilForcedReboot = 2 }} }}
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let rows = timeseries(&out);
    // One hour in, nobody is still waiting for a scan: the push made every device scan at once.
    for state in ["not_offered", "offered"] {
        assert_eq!(series(&rows, "x", state)[1].1, 0, "{state} at 1 h");
    }
    let s = summary(&out);
    let d = &s["deployments"][0];
    // Install done at 30 min; grace 2 d from then; restart 5 min: compliant at 48 h 35 min.
    let bound = 0.5 + 48.0 + 5.0 / 60.0;
    let h100 = d["hours_to_99"].as_f64().expect("reached");
    assert!(h100 <= bound + 1e-6, "99 % at {h100} h");
    assert_eq!(d["devices_compliant"], 2000);
    assert_eq!(d["forced_restarts"], 2000);
}

#[test]
fn a_regular_update_on_the_same_fleet_is_picked_up_within_one_scan_interval() {
    let text = service_scenario(
        2000,
        0,
        "",
        &format!("{FIXED_CLIENT}\n[[deployments]]\nname = \"r\"\n{QUALITY}\n"),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let offered = series(&timeseries(&out), "r", "offered");
    assert!(offered[1].1 > 1500, "most devices wait for their scan");
    assert_eq!(offered[23].1, 0, "all scanned within 22 h");
}

#[test]
fn a_paused_deployment_makes_no_new_offers_until_it_is_resumed() {
    let text = service_scenario(
        1000,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 100 }} }} }}

[[actions]]
at = "P2DT1H"
deployment = "f"
do = "pause"

[[actions]]
at = "2026-01-17T01:00:00Z"
deployment = "f"
do = "resume"
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let ev = events(&out);
    let waves: Vec<f64> = ev.iter().filter(|e| e.1 == "wave").map(|e| e.0).collect();
    assert!(
        waves.iter().all(|&h| !(49.0..121.0).contains(&h)),
        "{waves:?}"
    );
    assert_eq!(waves.len(), 10);
    assert_eq!(
        waves[3], 144.0,
        "the next wave after resuming is the next daily tick"
    );
    let not_offered = series(&timeseries(&out), "f", "not_offered");
    let during: Vec<u64> = not_offered
        .iter()
        .filter(|(h, _)| (49.0..=121.0).contains(h))
        .map(|x| x.1)
        .collect();
    assert!(
        during.windows(2).all(|w| w[0] == w[1]),
        "offers while paused"
    );
    let s = summary(&out);
    let states: Vec<&str> = s["deployments"][0]["state_changes"]
        .as_array()
        .expect("state changes")
        .iter()
        .map(|c| c["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, vec!["offering", "paused", "offering"]);
}

#[test]
fn a_pause_withholds_the_offer_from_devices_that_had_not_scanned_and_resuming_restores_it() {
    // 1000 always-online devices offered a quality update at 0 h, each finding it at its first
    // scan (uniform over 0–22 h) and compliant at once. Paused at 1 h, resumed at 72 h: only
    // the devices that scanned in the first hour (about 1/22 of them) install before the
    // resume; the rest, idle since their scan found nothing, are woken and install at their
    // next scan, within 22 h of the resume.
    let text = service_scenario(
        1000,
        0,
        "",
        &format!(
            r#"
{INSTANT_CLIENT}
{FORCE_AT_ONCE}
[[deployments]]
name = "q"
{QUALITY}

[[actions]]
at = "PT1H"
deployment = "q"
do = "pause"

[[actions]]
at = "P3D"
deployment = "q"
do = "resume"
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let compliant = series(&timeseries(&out), "q", "compliant");
    let at = |h: f64| {
        compliant
            .iter()
            .find(|x| x.0 == h)
            .map(|x| x.1)
            .expect("sample")
    };
    assert!(
        (20..=75).contains(&at(1.0)),
        "scanned in the first hour: {}",
        at(1.0)
    );
    assert_eq!(at(72.0), at(1.0), "nothing installs while paused");
    assert_eq!(
        at(72.0 + 23.0),
        1000,
        "all install within a scan interval of the resume"
    );
}

#[test]
fn a_graph_body_created_with_requested_value_paused_offers_nothing_until_resumed() {
    let text = service_scenario(
        100,
        0,
        "",
        r#"
[[deployments]]
name = "g"
graph = "body.json"

[[actions]]
at = "P2D"
deployment = "g"
do = "resume"
"#,
    );
    let case = Case::new(&text);
    std::fs::write(
        case.dir.path().join("body.json"),
        r##"{"content": {"@odata.type": "#microsoft.graph.windowsUpdates.featureUpdateReference", "version": "24H2"},
 "state": {"requestedValue": "paused"}}"##,
    )
    .expect("write json");
    let out = case.run("out", &[]);
    let offers: Vec<f64> = events(&out)
        .iter()
        .filter(|e| e.1 == "offer")
        .map(|e| e.0)
        .collect();
    assert_eq!(offers, vec![48.0], "offered only once resumed");
    let s = summary(&out);
    let states: Vec<(&str, &str)> = s["deployments"][0]["state_changes"]
        .as_array()
        .expect("state changes")
        .iter()
        .map(|c| {
            (
                c["state"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("paused", "pausedByRequest"),
            ("offering", "offeringByRequest")
        ]
    );
}

#[test]
fn excluded_devices_are_never_offered() {
    let text = service_scenario(
        900,
        100,
        "",
        &format!(
            r#"
[[deployments]]
name = "q"
{QUALITY}
audience = {{ members = ["all"], exclusions = ["late", "fleet-1"] }}
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let d = &summary(&out)["deployments"][0];
    assert_eq!(d["devices_targeted"], 899);
    assert_eq!(d["devices_offered"], 899);
    assert_eq!(d["devices_compliant"], 899);
}

#[test]
fn an_archived_deployment_stops_offering() {
    let text = service_scenario(
        1000,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 100 }} }} }}

[[actions]]
at = "P2DT1H"
deployment = "f"
do = "archive"
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let d = &summary(&out)["deployments"][0];
    assert_eq!(d["devices_offered"], 300);
    let last = d["state_changes"]
        .as_array()
        .and_then(|a| a.last())
        .cloned();
    assert_eq!(last.expect("a change")["state"], "archived");
}

#[test]
fn the_seed_003_request_bodies_load_unchanged_and_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    let assert = rollsim()
        .arg("run")
        .arg(root.join("scenarios/seed-003-expedite.toml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    // The body's azureADDevice entries use the id mapped to the pilot group: they do nothing,
    // and the warning says so rather than that the service takes care of them.
    assert!(
        stderr.contains("to \"pilot\", a group, not a device, so this entry adds nothing"),
        "{stderr}"
    );
    assert!(!stderr.contains("no Graph body names this id"), "{stderr}");
    let d = &summary(&out)["deployments"][0];
    assert_eq!(
        d["devices_targeted"], 500,
        "the pilot group: a tenth of 5000"
    );
    assert!(d["share_compliant"].as_f64().expect("share") > 0.99);
    // The JSON files in the repository are byte for byte the bodies of the seed document.
    let seed = std::fs::read_to_string(root.join("../shared/seeds/003_da8ca0d718d5142a.txt"));
    if let Ok(seed) = seed {
        for f in ["seed-003-deployment.json", "seed-003-update-audience.json"] {
            let body = std::fs::read_to_string(root.join("scenarios/graph").join(f)).expect("body");
            assert!(seed.contains(body.trim()), "{f} differs from the seed");
        }
    }
}

fn graph_case(json: &str) -> (Case, String) {
    let text = service_scenario(
        10,
        0,
        "",
        "[[deployments]]\nname = \"g\"\ngraph = \"body.json\"\n",
    );
    let case = Case::new(&text);
    std::fs::write(case.dir.path().join("body.json"), json).expect("write json");
    let assert = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .arg("--out")
        .arg(case.out("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    (case, stderr)
}

#[test]
fn malformed_graph_json_is_bad_input_with_its_line() {
    let (case, err) = graph_case("{\n  \"content\": {\n    \"@odata.type\": \"x\",,\n  }\n}\n");
    assert!(err.contains("body.json:3:"), "{err}");
    assert!(err.contains("malformed JSON"), "{err}");
    assert!(!case.out("out").exists());
}

#[test]
fn a_deployment_body_without_content_is_bad_input_though_alone_it_would_read_as_a_patch() {
    let (case, err) = graph_case("{\n  \"settings\": {}\n}\n");
    assert!(err.contains("body.json:"), "{err}");
    assert!(err.contains("content: is required"), "{err}");
    assert!(!case.out("out").exists());
}

#[test]
fn an_unknown_graph_property_is_bad_input_naming_its_json_path() {
    let (_, err) = graph_case(
        r##"{
  "content": {"@odata.type": "#microsoft.graph.windowsUpdates.featureUpdateReference", "version": "24H2"},
  "settings": {
    "schedule": {"gradualRollout": {"devicesPerOfer": 10}}
  }
}"##,
    );
    assert!(err.contains("body.json:4:"), "{err}");
    assert!(
        err.contains("settings.schedule.gradualRollout.devicesPerOfer"),
        "{err}"
    );
    assert!(err.contains("did you mean \"devicesPerOffer\""), "{err}");
}

#[test]
fn an_unknown_odata_type_is_bad_input_with_the_valid_types() {
    let (_, err) = graph_case(
        r##"{"content": {"@odata.type": "#microsoft.graph.windowsUpdates.featureUpdateReferense", "version": "24H2"}}"##,
    );
    assert!(err.contains("content.@odata.type"), "{err}");
    assert!(err.contains("featureUpdateReference"), "{err}");
}

#[test]
fn validate_checks_a_graph_body_before_it_is_sent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ok = rollsim()
        .arg("validate")
        .arg(root.join("scenarios/graph/seed-003-deployment.json"))
        .arg(root.join("scenarios/graph/seed-003-update-audience.json"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&ok.get_output().stdout).to_string();
    assert!(stdout.contains("expedited quality update"), "{stdout}");
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"content": {"@odata.type": "featureUpdateReference", "version": "24H2"},
 "settings": {"expedite": {"isReadinessTest": true}}}"#,
    )
    .expect("write");
    let out = rollsim().arg("validate").arg(&bad).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("bad.json:2:"), "{err}");
    assert!(err.contains("requires isExpedited"), "{err}");
    // A Graph body's durations are ISO 8601, as the service takes them; the friendly form a
    // scenario's TOML may use is refused there.
    let body = |d: &str| {
        format!(
            r#"{{"content": {{"@odata.type": "featureUpdateReference", "version": "24H2"}},
 "settings": {{"schedule": {{"gradualRollout": {{"devicesPerOffer": 100, "durationBetweenOffers": "{d}"}}}}}}}}"#
        )
    };
    std::fs::write(&bad, body("1 day")).expect("write");
    let out = rollsim().arg("validate").arg(&bad).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("durationBetweenOffers: must be an ISO 8601 duration")
            && err.contains("\"1 day\""),
        "{err}"
    );
    std::fs::write(&bad, body("P1D")).expect("write");
    let ok = rollsim().arg("validate").arg(&bad).assert().success();
    let stdout = String::from_utf8_lossy(&ok.get_output().stdout).to_string();
    assert!(stdout.contains("0 monitoring rules"), "{stdout}");
}

#[test]
fn validating_a_graph_response_body_on_its_own_prints_the_warnings_a_scenario_would() {
    let dir = tempfile::tempdir().expect("tmp");
    let body = dir.path().join("response.json");
    std::fs::write(
        &body,
        r##"{"@odata.type": "#microsoft.graph.windowsUpdates.deployment",
 "state": {"value": "offering", "requestedValue": "none"},
 "content": {"@odata.type": "#microsoft.graph.windowsUpdates.expeditedQualityUpdateReference", "releaseDate": "2026-01-13"}}"##,
    )
    .expect("write");
    let out = rollsim().arg("validate").arg(&body).assert().success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("warning: "), "{err}");
    assert!(err.contains("state.value: is read-only"), "{err}");
}

#[test]
fn a_readiness_test_reports_ready_devices_and_delivers_nothing() {
    let text = service_scenario(
        300,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "ready"
{QUALITY}
settings = {{ expedite = {{ isExpedited = true, isReadinessTest = true }} }}
"#
        ),
    );
    let case = Case::new(&text);
    let a = case.run_command("out").assert().success();
    let out = case.out("out");
    // The terminal and summary.json say the figures count ready devices, not compliant ones
    // (a readiness test is an expedite, and is marked so).
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(
        stdout.contains("  ready (expedited): 300/300 ready (100.0 %)"),
        "{stdout}"
    );
    assert_eq!(summary(&out)["deployments"][0]["goal_state"], "ready");
    let rows = timeseries(&out);
    assert_eq!(
        series(&rows, "ready", "ready").last().map(|x| x.1),
        Some(300)
    );
    for s in ["downloading", "installing", "pending_restart", "compliant"] {
        assert!(series(&rows, "ready", s).iter().all(|x| x.1 == 0), "{s}");
    }
    let d = &summary(&out)["deployments"][0];
    assert_eq!(
        d["forced_restarts"].as_u64().unwrap_or(1) + d["auto_restarts"].as_u64().unwrap_or(1),
        0
    );
}

#[test]
fn an_optional_offer_waits_for_the_user_and_a_hotpatch_needs_no_restart() {
    let run = |settings: &str| {
        let text = service_scenario(
            500,
            0,
            "",
            &format!(
                "{FIXED_CLIENT}\n[[deployments]]\nname = \"q\"\n{QUALITY}\nsettings = {{ {settings} }}\n"
            ),
        );
        let case = Case::new(&text);
        let out = case.run("out", &[]);
        summary(&out)["deployments"][0].clone()
    };
    let required = run("");
    let optional = run("userExperience = { offerAsOptional = true }");
    let h = |d: &serde_json::Value| d["hours_to_50"].as_f64().expect("reached");
    // Users take optional updates after an exponential delay with a 7-day mean.
    assert!(
        h(&optional) > h(&required) + 48.0,
        "{} vs {}",
        h(&optional),
        h(&required)
    );
    let hot = run("userExperience = { isHotpatchEnabled = true }");
    assert_eq!(hot["devices_compliant"], 500);
    let restarts = ["forced_restarts", "auto_restarts", "user_restarts"]
        .iter()
        .map(|k| hot[k].as_u64().expect("count"))
        .sum::<u64>();
    assert_eq!(restarts, 0);
}

#[test]
fn an_inventory_fleet_runs_and_audience_entries_name_its_devices() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("inv");
    rollsim()
        .arg("run")
        .arg(root.join("scenarios/inventory-fleet.toml"))
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    let d = &summary(&out)["deployments"][0];
    assert_eq!(
        summary(&out)["devices"],
        300,
        "one device per inventory row"
    );
    assert_eq!(d["devices_targeted"], 298, "two devices excluded by name");
    let events = std::fs::read_to_string(out.join("events.csv")).expect("events");
    assert!(
        events.contains("20 devices offered"),
        "the 20 kiosks first: {events}"
    );
}

#[test]
fn removing_a_group_from_the_members_keeps_a_device_that_is_a_member_in_its_own_right() {
    let text = service_scenario(
        10,
        0,
        "",
        &format!(
            r#"
[groups]
g = {{ segments = ["fleet"] }}

[[deployments]]
name = "q"
{QUALITY}
settings = {{ schedule = {{ startDateTime = "2026-01-15T00:00:00Z" }} }}
audience = {{ members = ["g", "fleet-3"] }}

[[actions]]
at = "P1D"
deployment = "q"
do = "update_audience"
remove_members = ["g"]
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let d = &summary(&out)["deployments"][0];
    assert_eq!(d["devices_targeted"], 1);
    assert_eq!(d["devices_offered"], 1);
    let ev = events(&out);
    let action = ev.iter().find(|e| e.1 == "action").expect("the update");
    assert_eq!(action.2, "update_audience: 0 devices joined, 9 left");
}

#[test]
fn a_group_share_is_drawn_from_the_matching_devices_before_its_explicit_devices_are_added() {
    for seed in 1..6 {
        let text = service_scenario(
            10,
            0,
            "",
            &format!(
                r#"
[groups]
g = {{ segments = ["fleet"], share = 0.1, devices = ["fleet-3"] }}

[[deployments]]
name = "q"
{QUALITY}
audience = {{ members = ["g"] }}
"#
            ),
        )
        .replace("seed = 9", &format!("seed = {seed}"));
        let case = Case::new(&text);
        let out = case.run("out", &[]);
        let targeted = summary(&out)["deployments"][0]["devices_targeted"].clone();
        // One drawn device, plus fleet-3 unless the draw was fleet-3 itself.
        assert!(targeted == 1 || targeted == 2, "seed {seed}: {targeted}");
        let offer = events(&out)
            .into_iter()
            .find(|e| e.1 == "offer")
            .expect("an offer");
        assert_eq!(offered_in(&offer.2), targeted.as_u64().expect("count"));
    }
}

#[test]
fn opting_out_of_likely_issue_holds_mid_run_offers_the_devices_they_held() {
    let text = service_scenario(
        100,
        0,
        r#"attributes = { model = ["A", "B"] }"#,
        &format!(
            r#"
[safety]
likely_issues = {{ recall = 1.0, precision = 1.0 }}

[[deployments]]
name = "f"
{FEATURE}

[[issues]]
name = "rb"
content = "f"
when = 'model = "A"'
rollback = 0.01

[[actions]]
at = "P3D"
deployment = "f"
do = "set"
settings = {{ contentApplicability = {{ safeguard = {{ disabledSafeguardProfiles = [{{ category = "likelyIssues" }}] }} }} }}
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let offers: Vec<(f64, u64)> = events(&out)
        .iter()
        .filter(|e| e.1 == "offer")
        .map(|e| (e.0, offered_in(&e.2)))
        .collect();
    assert_eq!(offers.len(), 2, "{offers:?}");
    assert_eq!(
        offers[1].0, 72.0,
        "the held devices are offered at the PATCH"
    );
    assert_eq!(offers[0].1 + offers[1].1, 100);
    assert_eq!(summary(&out)["deployments"][0]["devices_offered"], 100);
}

/// A rate-driven feature update (100 a day) with a 5 % rollback rule that pauses, and an issue
/// that rolls back 20 % of the fleet, so the rule fires; `actions` are appended.
fn monitored_rollout(actions: &str) -> String {
    service_scenario(
        1000,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 100 }} }}, monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 5, action = "pauseDeployment" }}] }} }}

[[issues]]
name = "rb"
content = "f"
when = 'segment = "fleet"'
rollback = 0.2
{actions}"#
        ),
    )
}

#[test]
fn a_settings_patch_without_monitoring_rules_leaves_a_monitoring_pause_and_fired_rules_alone() {
    let text = monitored_rollout(
        r#"
[[actions]]
at = "P12D"
deployment = "f"
do = "set"
settings = { userExperience = { offerAsOptional = false } }
"#,
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let ev = events(&out);
    let fired = ev.iter().filter(|e| e.1 == "rule_fired").count();
    assert_eq!(fired, 1, "the rule is not started afresh: {ev:?}");
    let d = &summary(&out)["deployments"][0];
    let last = d["state_changes"]
        .as_array()
        .and_then(|a| a.last())
        .cloned();
    assert_eq!(last.expect("a change")["reason"], "pausedByMonitoring");
}

#[test]
fn a_resume_of_a_deployment_paused_by_monitoring_says_it_changed_nothing_and_the_end_says_paused() {
    let text = monitored_rollout(
        r#"
[[actions]]
at = "P12D"
deployment = "f"
do = "resume"
"#,
    );
    let case = Case::new(&text);
    let a = case.run_command("out").assert().success();
    let ev = events(&case.out("out"));
    let resume = ev.iter().find(|e| e.1 == "action").expect("the resume");
    assert_eq!(
        resume.2,
        "resume: no effect on the monitoring pause, which only a set or patch of monitoringRules lifts"
    );
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    let fired = summary(&case.out("out"))["deployments"][0]["paused_by_monitoring_hours"]
        .as_f64()
        .expect("paused");
    assert!(
        stdout.contains(&format!(
            "    paused at the end since {fired:.1} h (pausedByMonitoring)\n"
        )),
        "{stdout}"
    );
}

#[test]
fn a_device_that_leaves_and_rejoins_the_audience_is_offered_again() {
    // All 100 devices are offered at 0 and leave the audience an hour later, before most of
    // them scanned; the scans outside the audience find nothing. At P2D they rejoin: each is
    // woken, its next scan sees the offer again, and it is one device offered, not two.
    let text = service_scenario(
        100,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "q"
{QUALITY}
audience = {{ members = ["fleet"] }}

[[actions]]
at = "PT1H"
deployment = "q"
do = "update_audience"
remove_members = ["fleet"]

[[actions]]
at = "P2D"
deployment = "q"
do = "update_audience"
add_members = ["fleet"]
"#
        ),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let d = &summary(&out)["deployments"][0];
    assert_eq!(d["devices_targeted"], 100);
    assert_eq!(d["devices_offered"], 100);
    assert_eq!(d["devices_compliant"], 100, "{d}");
    let rows = timeseries(&out);
    let offered = series(&rows, "q", "offered");
    assert_eq!(offered.last().map(|&(_, n)| n), Some(0));
    let rejoin = events(&out)
        .into_iter()
        .find(|(h, e, _)| *h == 48.0 && e == "action")
        .expect("the rejoin action");
    assert!(
        rejoin
            .2
            .contains("100 devices joined (100 of them offered before: offered again)"),
        "{rejoin:?}"
    );
}

/// Two segments of always-online devices, an instant pipeline that restarts at once, and the
/// deployments `deployments` (TOML).
fn two_segments(deployments: &str) -> String {
    format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P10D"
seed = 3
sample_interval = "PT1H"

[[segments]]
name = "a"
devices = 100
availability = {{ profile = "always_on" }}

[[segments]]
name = "b"
devices = 100
availability = {{ profile = "always_on" }}

{INSTANT_CLIENT}
[client.feature]
download_time = "PT0S"
install_time = "PT0S"
restart_time = "PT0S"
rollback = 0.0

[policies.default]
quality_deadline = "P0D"
quality_grace = "P0D"
feature_deadline = "P0D"
feature_grace = "P0D"

{deployments}
"##
    )
}

#[test]
fn a_catalog_entry_that_expires_faults_its_own_deployment_not_another_of_the_same_release() {
    let plain = r##"
[[deployments]]
name = "plain"
content = { "@odata.type" = "qualityUpdateReference", releaseDateTime = "2026-01-12T00:00:00Z", classification = "security" }
audience = { members = ["a"] }
"##;
    let catalog = r##"
[[deployments]]
name = "catalog"
content = { "@odata.type" = "catalogContent", catalogEntry = { "@odata.type" = "qualityUpdateCatalogEntry", releaseDateTime = "2026-01-12T00:00:00Z", deployableUntilDateTime = "2026-01-12T06:00:00Z", qualityUpdateClassification = "security" } }
audience = { members = ["b"] }
"##;
    for text in [
        two_segments(&format!("{plain}{catalog}")),
        two_segments(&format!("{catalog}{plain}")),
    ] {
        let case = Case::new(&text);
        let out = case.run("out", &[]);
        let events = std::fs::read_to_string(out.join("events.csv")).expect("events.csv");
        let faulted: Vec<&str> = events
            .lines()
            .filter(|l| l.contains("faultedByContentOutdated"))
            .collect();
        assert_eq!(faulted.len(), 1, "{faulted:?}");
        assert!(faulted[0].contains(",catalog,"), "{faulted:?}");
        let s = summary(&out);
        let plain = s["deployments"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["name"] == "plain"))
            .expect("plain");
        assert_eq!(plain["devices_compliant"], 100, "{plain}");
    }
}

#[test]
fn feature_versions_are_ordered_by_the_release_they_name_not_as_text() {
    // "Windows 11, version 22H2" sorts after "24H2" as text. Segment a takes 22H2 first; when
    // 24H2 is offered to everyone on day 5, a's devices must install it (one restart each).
    let text = two_segments(
        r##"
[[deployments]]
name = "old"
content = { "@odata.type" = "catalogContent", catalogEntry = { "@odata.type" = "featureUpdateCatalogEntry", version = "Windows 11, version 22H2" } }
audience = { members = ["a"] }

[[deployments]]
name = "new"
content = { "@odata.type" = "featureUpdateReference", version = "24H2" }
settings = { schedule = { startDateTime = "2026-01-17T00:00:00Z" } }
"##,
    );
    let case = Case::new(&text);
    let s = summary(&case.run("out", &[]));
    let new = &s["deployments"][1];
    let restarts: u64 = ["forced_restarts", "auto_restarts", "user_restarts"]
        .iter()
        .map(|k| new[*k].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(restarts, 200, "every device restarts into 24H2: {new}");
    assert_eq!(new["devices_compliant"], 200);
    let old = &s["deployments"][0];
    assert_eq!(old["devices_compliant"], 100, "24H2 satisfies 22H2: {old}");
}

/// Copies `tests/fixtures/graph/<name>` next to the case's scenario.
fn copy_fixture(case: &Case, name: &str) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    std::fs::copy(from.join(name), case.dir.path().join(name)).expect("copy fixture");
}

#[test]
fn pausing_and_resuming_with_patch_bodies_gives_the_same_outputs_as_pause_and_resume_actions() {
    let text = |pause: &str, resume: &str| {
        service_scenario(
            1000,
            0,
            "",
            &format!(
                r#"
[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 100 }} }} }}

[[actions]]
at = "P2DT1H"
deployment = "f"
{pause}

[[actions]]
at = "2026-01-17T01:00:00Z"
deployment = "f"
{resume}
"#
            ),
        )
    };
    let verbs = Case::new(&text(r#"do = "pause""#, r#"do = "resume""#));
    let bodies = Case::new(&text(
        r#"do = "patch"
graph = "pause.json""#,
        r#"do = "patch"
graph = "resume.json""#,
    ));
    copy_fixture(&bodies, "pause.json");
    copy_fixture(&bodies, "resume.json");
    let a = verbs.run("out", &[]);
    let b = bodies.run("out", &[]);
    let s = summary(&a);
    let states: Vec<&str> = s["deployments"][0]["state_changes"]
        .as_array()
        .expect("state changes")
        .iter()
        .map(|c| c["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, vec!["offering", "paused", "offering"]);
    assert_eq!(
        std::fs::read(a.join("summary.json")).expect("summary"),
        std::fs::read(b.join("summary.json")).expect("summary"),
        "summary.json differs"
    );
    assert_same_outputs(&a, &b);
}

#[test]
fn a_patch_body_with_state_and_settings_lifts_a_request_and_a_monitoring_pause_in_one_step() {
    let text = monitored_rollout(
        r#"
[[actions]]
at = "P10D"
deployment = "f"
do = "pause"

[[actions]]
at = "P12D"
deployment = "f"
do = "patch"
graph = "lift.json"
"#,
    );
    let case = Case::new(&text);
    std::fs::write(
        case.dir.path().join("lift.json"),
        r##"{"@odata.type": "#microsoft.graph.windowsUpdates.deployment",
 "state": {"requestedValue": "none"},
 "settings": {"monitoring": {"monitoringRules": []}}}"##,
    )
    .expect("write json");
    let out = case.run("out", &[]);
    let s = summary(&out);
    let changes: Vec<(f64, &str, &str)> = s["deployments"][0]["state_changes"]
        .as_array()
        .expect("state changes")
        .iter()
        .map(|c| {
            (
                c["hours"].as_f64().unwrap_or(-1.0),
                c["state"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let before = changes
        .iter()
        .rfind(|c| c.0 < 288.0)
        .expect("a state before the PATCH");
    assert!(
        before.2.contains("pausedByMonitoring") && before.2.contains("pausedByRequest"),
        "both pauses are in force before the PATCH: {changes:?}"
    );
    let at_patch: Vec<_> = changes.iter().filter(|c| c.0 == 288.0).collect();
    assert_eq!(
        at_patch,
        vec![&(288.0, "offering", "offeringByRequest")],
        "one request, one state change: {changes:?}"
    );
    let action = events(&out)
        .into_iter()
        .find(|(h, e, _)| *h == 288.0 && e == "action")
        .expect("the PATCH action");
    assert_eq!(action.2, "resume + set");
}

/// Runs `validate` on a scenario whose only action PATCHes deployment "f" with `json`; returns
/// (exit code, stderr).
fn validate_patch(json: &str) -> (Option<i32>, String) {
    let text = service_scenario(
        10,
        0,
        "",
        &format!(
            "[[deployments]]\nname = \"f\"\n{FEATURE}\n\n[[actions]]\nat = \"P1D\"\ndeployment = \"f\"\ndo = \"patch\"\ngraph = \"patch.json\"\n"
        ),
    );
    let case = Case::new(&text);
    std::fs::write(case.dir.path().join("patch.json"), json).expect("write json");
    let out = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_patch_body_that_changes_content_or_audience_or_nothing_is_refused_as_the_service_refuses_it() {
    let (code, err) = validate_patch(
        r##"{"@odata.type": "#microsoft.graph.windowsUpdates.deployment",
 "content": {"@odata.type": "featureUpdateReference", "version": "25H2"},
 "audience": {"id": "a"},
 "state": {"requestedValue": "paused"}}"##,
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("patch.json:2:"), "{err}");
    assert!(
        err.contains("content: PATCH accepts only state and settings"),
        "{err}"
    );
    assert!(
        err.contains("audience: PATCH accepts only state and settings"),
        "{err}"
    );
    let (code, err) = validate_patch(r##"{"state": {"effectiveValue": "paused"}}"##);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("changes nothing"), "{err}");
    let (code, err) = validate_patch(r##"{"stat": {"requestedValue": "paused"}}"##);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("did you mean \"state\""), "{err}");
}

#[test]
fn a_patch_body_settings_problem_is_located_in_the_body_and_read_only_properties_are_warnings() {
    let (code, err) = validate_patch(
        "{\"state\": {\"requestedValue\": \"paused\"},\n \"settings\": {\"schedule\": {\"gradualRollout\": {\"devicesPerOfer\": 10}}}}",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("patch.json:2:"), "{err}");
    assert!(
        err.contains("settings.schedule.gradualRollout.devicesPerOfer"),
        "{err}"
    );
    // A response body sent back as it is: its read-only properties are told and ignored.
    let (code, err) = validate_patch(
        r##"{"id": "b5171742", "lastModifiedDateTime": "2026-01-12T00:00:00Z",
 "state": {"value": "offering", "reasons": [], "requestedValue": "paused"}}"##,
    );
    assert_eq!(code, Some(0), "{err}");
    for w in [
        "patch.json:1:2: id: is read-only",
        "patch.json:2:12: state.value: is read-only",
    ] {
        assert!(err.contains(w), "{w} in {err}");
    }
}

#[test]
fn a_hotpatch_on_a_non_security_or_feature_update_is_warned_about_and_changes_nothing() {
    let non_security = QUALITY.replace(r#""security""#, r#""nonSecurity""#);
    for content in [non_security.as_str(), FEATURE] {
        let case = |settings: &str| {
            Case::new(&service_scenario(
                200,
                0,
                "",
                &format!(
                    "{FIXED_CLIENT}\n[[deployments]]\nname = \"q\"\n{content}\nsettings = {{ userExperience = {{ {settings} }} }}\n"
                ),
            ))
        };
        let (with, without) = (
            case("isHotpatchEnabled = true"),
            case("offerAsOptional = false"),
        );
        let out = rollsim()
            .arg("validate")
            .arg(&with.scenario)
            .assert()
            .success();
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            err.contains(
                "case.toml:29:53: deployments[0].settings.userExperience.isHotpatchEnabled: applies to monthly security quality updates only"
            ) && err.contains("no effect"),
            "{content}: {err}"
        );
        let (a, b) = (with.run("out", &[]), without.run("out", &[]));
        assert_same_outputs(&a, &b);
        let d = &summary(&a)["deployments"][0];
        let restarts = ["forced_restarts", "auto_restarts", "user_restarts"]
            .iter()
            .map(|k| d[k].as_u64().expect("count"))
            .sum::<u64>();
        assert!(restarts > 0, "{content}: the devices restart: {d}");
    }
}

#[test]
fn disabling_likely_issue_holds_on_a_quality_update_is_warned_about_by_validate() {
    let case = Case::new(&service_scenario(
        10,
        0,
        "",
        &format!(
            r#"[[deployments]]
name = "q"
{QUALITY}
settings = {{ contentApplicability = {{ safeguard = {{ disabledSafeguardProfiles = [{{ category = "likelyIssues" }}] }} }} }}
"#
        ),
    ));
    let out = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("case.toml:19:95: deployments[0].settings.contentApplicability.safeguard.disabledSafeguardProfiles[0].category: likely-issue safeguard holds apply to feature updates only"),
        "{err}"
    );
}

#[test]
fn validate_checks_a_patch_body_on_its_own_reporting_only_what_is_wrong_for_any_deployment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ok = rollsim()
        .arg("validate")
        .arg(root.join("tests/fixtures/graph/pause.json"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&ok.get_output().stdout).to_string();
    assert!(stdout.contains("deployment PATCH body: pause"), "{stdout}");
    let dir = tempfile::tempdir().expect("tmp");
    // A fallback rule is fine on a feature update: not an error without the deployment.
    let fallback = dir.path().join("fallback.json");
    std::fs::write(
        &fallback,
        r#"{"settings": {"monitoring": {"monitoringRules": [{"signal": "ineligible", "threshold": 5, "action": "offerFallback"}]}}}"#,
    )
    .expect("write");
    rollsim().arg("validate").arg(&fallback).assert().success();
    // A misspelt signal is wrong for any deployment.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"settings": {"monitoring": {"monitoringRules": [{"signal": "rollbak", "threshold": 5, "action": "pauseDeployment"}]}}}"#,
    )
    .expect("write");
    let out = rollsim().arg("validate").arg(&bad).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("monitoringRules[0].signal"), "{err}");
    assert!(err.contains("did you mean \"rollback\""), "{err}");
    assert!(!err.contains("content"), "not read as a POST body: {err}");
}

#[test]
fn a_settings_warning_is_told_once_not_again_for_every_action_that_patches_the_settings() {
    let text = scenario(
        10,
        "",
        r#"
[[actions]]
at = "P2D"
deployment = "q"
do = "set"
settings = { monitoring = { monitoringRules = [] } }

[[actions]]
at = "P3D"
deployment = "q"
do = "set"
settings = { userExperience = { daysUntilForcedReboot = 2 } }

[[actions]]
at = "P4D"
deployment = "q"
do = "set"
settings = { userExperience = { offerAsOptional = false } }
"#,
    );
    let case = Case::new(&text);
    let out = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    // The warning comes with the action that set the value, and only then.
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("daysUntilForcedReboot"))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("actions[1].settings.userExperience.daysUntilForcedReboot"),
        "{err}"
    );
}

#[test]
fn rings_drawn_at_random_overlap_with_a_warning_unless_the_later_ring_excludes_the_earlier() {
    let rings = |early: &str| {
        service_scenario(
            2000,
            0,
            "",
            &format!(
                r#"[groups]
pilot = {{ share = 0.05 }}
early = {{ {early} }}

[[deployments]]
name = "q"
{QUALITY}
audience = {{ members = ["pilot", "early"] }}
"#
            ),
        )
    };
    let overlapping = Case::new(&rings("share = 0.25"));
    let out = rollsim()
        .arg("validate")
        .arg(&overlapping.scenario)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains(r#"groups "pilot" and "early" each draw a random share (0.05 and 0.25) independently, so about 1.25 % of the devices both could hold are in both; to make them disjoint rings, add excluding = ["pilot"] to group "early""#),
        "{err}"
    );
    let disjoint = Case::new(&rings(r#"share = 0.25, excluding = ["pilot"]"#));
    let dir = disjoint.out("run");
    let out = rollsim()
        .arg("run")
        .arg(&disjoint.scenario)
        .arg("--out")
        .arg(&dir)
        .arg("--quiet")
        .assert()
        .success();
    assert!(out.get_output().stderr.is_empty(), "no warning");
    // 5 % and 25 % of the fleet, none in both: 100 + 500 devices.
    assert_eq!(summary(&dir)["deployments"][0]["devices_targeted"], 600);
}

#[test]
fn an_expedite_of_an_update_released_after_its_start_is_pushed_on_release_day() {
    let text = service_scenario(
        200,
        0,
        "",
        r##"
[[deployments]]
name = "x"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.expeditedQualityUpdateReference", releaseDate = "2026-01-15", equivalentContent = "none" }
settings = { userExperience = { daysUntilForcedReboot = 0 } }
"##,
    );
    let case = Case::new(&text);
    let a = case.run_command("o").assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("case.toml:19:11: deployments[0].content: the expedited update is released 3 days after the deployment starts (2026-01-15T00:00:00Z)"),
        "{err}"
    );
    let s = summary(&case.out("o"));
    let d = &s["deployments"][0];
    // Released at 72 h: always-on devices take the push then, and restart at once.
    let h50 = d["hours_to_50"].as_f64().expect("reached");
    assert!((72.0..73.0).contains(&h50), "{h50}");
    assert_eq!(d["devices_compliant"], 200);
    let first = &d["state_changes"][0];
    assert_eq!(first["state"], "scheduled", "{d}");
    assert_eq!(d["state_changes"][1]["hours"], 72.0, "{d}");
}

/// An inventory of four devices named by lower-case GUIDs, with a deployment whose audience is
/// the Graph body `aud.json`, in a temporary folder; returns the case and the GUIDs.
fn guid_inventory_case(body: &str, graph_ids: &str) -> (Case, [&'static str; 4]) {
    let ids = [
        "f18dd1ee-d77c-96c0-084f-3dd6415af341",
        "5d5f576c-deb8-fc4c-7b29-7d0b0e5e18ba",
        "f0e642f4-3328-ad08-8ded-3c9691eb79fa",
        "cd613e30-d8f1-6adf-91b7-584a2265b1f5",
    ];
    let case = Case::new(&format!(
        r##"[simulation]
start = "2026-02-10T18:00:00Z"
horizon = "P5D"

[fleet]
inventory = "devices.csv"

[[segments]]
name = "office"

{graph_ids}

[[deployments]]
name = "feb"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", classification = "security", releaseDateTime = "2026-02-10T18:00:00Z" }}
audience = {{ graph = "aud.json" }}
"##
    ));
    let mut csv = "name,segment,availability\n".to_string();
    for id in ids {
        csv.push_str(&format!("{id},office,always_on\n"));
    }
    std::fs::write(case.dir.path().join("devices.csv"), csv).expect("csv");
    std::fs::write(case.dir.path().join("aud.json"), body).expect("body");
    (case, ids)
}

/// An updateAudienceById body of azureADDevice ids.
fn by_id(members: &[String], exclusions: &[String]) -> String {
    serde_json::json!({
        "memberEntityType": "#microsoft.graph.windowsUpdates.azureADDevice",
        "addMembers": members,
        "addExclusions": exclusions,
    })
    .to_string()
}

#[test]
fn a_graph_exclusion_naming_a_fleet_device_in_upper_case_or_braces_excludes_that_device() {
    let guids = guid_inventory_case("", "").1;
    let members: Vec<String> = guids.iter().map(|g| g.to_uppercase()).collect();
    for excluded in [
        guids[0].to_uppercase(),
        format!("{{{}}}", guids[0]),
        format!("{{{}}}", guids[0].to_uppercase()),
    ] {
        let (case, _) = guid_inventory_case(&by_id(&members, std::slice::from_ref(&excluded)), "");
        let run = case.run_command("out").assert().success();
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
        assert!(
            !stderr.contains("matches no device"),
            "{excluded}: {stderr}"
        );
        let d = &summary(&case.out("out"))["deployments"][0];
        assert_eq!(d["devices_targeted"], 3, "{excluded} is excluded");
    }
}

#[test]
fn a_graph_device_one_character_off_a_fleet_device_is_warned_about_as_doing_nothing_with_a_did_you_mean()
 {
    let guids = guid_inventory_case("", "").1;
    let members: Vec<String> = guids.iter().map(|g| g.to_string()).collect();
    let typo = guids[1].replace("5d5f", "5d5e").to_uppercase();
    let (case, _) = guid_inventory_case(&by_id(&members, std::slice::from_ref(&typo)), "");
    let run = case.run_command("out").assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(
        stderr.contains(&format!(
            "addExclusions[0]: device \"{typo}\" matches no device of the fleet (did you mean \"{}\"?), so this entry excludes nothing",
            guids[1]
        )),
        "{stderr}"
    );
    assert!(stderr.contains("ignoring case"), "{stderr}");
    let d = &summary(&case.out("out"))["deployments"][0];
    assert_eq!(d["devices_targeted"], 4, "the exclusion excludes nothing");
}

#[test]
fn a_graph_ids_key_and_target_name_a_guid_in_any_case() {
    let guids = guid_inventory_case("", "").1;
    let members: Vec<String> = guids.iter().map(|g| g.to_string()).collect();
    // The body names an id the scenario maps to a fleet device written in upper case.
    let graph_ids = format!(
        "[graph_ids]\n\"{{AAAAAAAA-0000-0000-0000-000000000001}}\" = \"{}\"\n",
        guids[2].to_uppercase()
    );
    let body = by_id(
        &members,
        &["aaaaaaaa-0000-0000-0000-000000000001".to_string()],
    );
    let (case, _) = guid_inventory_case(&body, &graph_ids);
    let run = case.run_command("out").assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(!stderr.contains("warning"), "{stderr}");
    let d = &summary(&case.out("out"))["deployments"][0];
    assert_eq!(d["devices_targeted"], 3);
}

/// seed-003 in a temporary folder with its `[graph_ids]` table replaced by `graph_ids`; returns
/// the case and `rollsim validate`'s exit code and stderr.
fn seed_003_with(graph_ids: &str) -> (Case, Option<i32>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let text = std::fs::read_to_string(root.join("seed-003-expedite.toml")).expect("seed 003");
    let text = text.replace(
        "[graph_ids]\n\"String (identifier)\" = \"pilot\"\n",
        graph_ids,
    );
    let case = Case::new(&text);
    std::fs::create_dir(case.dir.path().join("graph")).expect("mkdir");
    for f in ["seed-003-deployment.json", "seed-003-update-audience.json"] {
        std::fs::copy(
            root.join("graph").join(f),
            case.dir.path().join("graph").join(f),
        )
        .expect("copy body");
    }
    let out = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (case, out.status.code(), stderr)
}

#[test]
fn a_misspelt_graph_ids_target_is_reported_at_its_scenario_line_not_in_the_body_that_uses_it() {
    let (case, code, stderr) = seed_003_with("[graph_ids]\n\"String (identifier)\" = \"pilott\"\n");
    assert_eq!(code, Some(2), "{stderr}");
    let line = std::fs::read_to_string(&case.scenario)
        .expect("scenario")
        .lines()
        .position(|l| l.contains("\"pilott\""))
        .expect("the entry")
        + 1;
    assert!(
        stderr.contains(&format!(
            "case.toml:{line}:25: graph_ids.\"String (identifier)\": maps the id to \"pilott\", which names no group, segment or device (did you mean \"pilot\"?)"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("seed-003-update-audience.json"),
        "{stderr}"
    );
}

#[test]
fn a_graph_ids_target_naming_a_device_beyond_its_segment_is_an_error_not_a_warning() {
    let (_case, code, stderr) = seed_003_with(
        "[graph_ids]\n\"String (identifier)\" = \"pilot\"\n\"dev-aaa\" = \"laptops-3000\"\n",
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("graph_ids.dev-aaa"), "{stderr}");
    assert!(
        stderr.contains("(segment \"laptops\" has devices laptops-1 to laptops-1500)"),
        "{stderr}"
    );
}

#[test]
fn a_graph_ids_entry_no_body_names_is_a_warning_at_its_line() {
    let (case, code, stderr) = seed_003_with(
        "[graph_ids]\n\"String (identifier)\" = \"pilot\"\n\"unused id\" = \"laptops-3\"\n",
    );
    assert_eq!(code, Some(0), "{stderr}");
    let line = std::fs::read_to_string(&case.scenario)
        .expect("scenario")
        .lines()
        .position(|l| l.contains("\"unused id\""))
        .expect("the entry")
        + 1;
    assert!(
        stderr.contains(&format!(
            "warning: {}:{line}:15: graph_ids.\"unused id\": no Graph body names this id, so its mapping to \"laptops-3\" is not used",
            case.scenario.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_patch_to_another_rollout_kind_replaces_the_rollout_and_its_waves_follow_the_new_kind() {
    // 200 a day from the start; a PATCH after the third wave switches to date-driven, ending 6
    // days after the start: the 2 400 devices left are offered in the 3 waves before the end.
    let text = service_scenario(
        3000,
        0,
        "",
        &format!(
            r#"
[[deployments]]
name = "f"
{FEATURE}
settings = {{ schedule = {{ gradualRollout = {{ devicesPerOffer = 200 }} }} }}

[[actions]]
at = "P2DT1H"
deployment = "f"
do = "patch"
graph = "switch.json"
"#
        ),
    );
    let case = Case::new(&text);
    std::fs::write(
        case.dir.path().join("switch.json"),
        r##"{ "settings": { "schedule": { "gradualRollout": { "@odata.type": "#microsoft.graph.windowsUpdates.dateDrivenRolloutSettings", "endDateTime": "2026-01-18T00:00:00Z" } } } }"##,
    )
    .expect("body");
    let out = case.run("out", &[]);
    let waves: Vec<(f64, u64)> = events(&out)
        .iter()
        .filter(|e| e.1 == "wave")
        .map(|e| (e.0, offered_in(&e.2)))
        .collect();
    assert_eq!(
        waves,
        vec![
            (0.0, 200),
            (24.0, 200),
            (48.0, 200),
            (72.0, 800),
            (96.0, 800),
            (120.0, 800)
        ]
    );
}

#[test]
fn an_audience_a_random_draw_leaves_empty_is_warned_once_after_the_fleet_is_drawn() {
    // 1 % of 10 devices rounds to none: loading cannot tell (a share may draw devices), the
    // drawn fleet can. The all-excluded audience is told at load, and not again.
    let text = scenario(
        10,
        "",
        r##"[groups]
pilot = { share = 0.01 }
half = { share = 0.5 }

[[deployments]]
name = "pilot"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }
audience = { members = ["pilot"] }

[[deployments]]
name = "none"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }
audience = { members = ["fleet"], exclusions = ["fleet"] }

[[deployments]]
name = "half"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }
audience = { members = ["half"] }
"##,
    );
    let line = text
        .lines()
        .position(|l| l == r#"audience = { members = ["pilot"] }"#)
        .expect("audience line")
        + 1;
    let case = Case::new(&text);
    let a = case
        .run_command("out")
        .args(["--replications", "3", "--jobs", "1"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let empty: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("holds no device"))
        .collect();
    assert_eq!(empty.len(), 2, "one for the draw, one from loading: {err}");
    let drawn = format!(
        "warning: {}:{line}:12: deployments[1].audience: holds no device in this fleet (seed 7, replication 0): group \"pilot\" holds 0 devices; no action adds members, so the deployment offers nothing",
        case.scenario.display()
    );
    assert!(empty.iter().any(|l| l.starts_with(&drawn)), "{err}");
    assert!(
        empty
            .iter()
            .any(|l| l.contains("deployments[2].audience: holds no device: every device")),
        "{err}"
    );
    assert!(!err.contains("deployments[3]"), "{err}");
    // An action that adds members may fill it: no warning.
    let adds = format!(
        "{text}\n[[actions]]\nat = \"P1D\"\ndeployment = \"pilot\"\ndo = \"update_audience\"\nadd_members = [\"fleet-1\"]\n"
    );
    let case = Case::new(&adds);
    let a = case.run_command("out").assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(!err.contains("in this fleet"), "{err}");
}

/// January's security update expedited with `latestSecurity` to devices whose policy defers
/// quality updates by `deferral`, while February's (released at the start) is approved to them
/// by a regular deployment.
fn expedite_beside_a_deferred_newer_update(deferral: &str) -> serde_json::Value {
    let case = Case::new(&format!(
        r##"[simulation]
start = "2026-02-10T18:00:00Z"
horizon = "P14D"
seed = 1

[client.quality]
download_time = "PT1M"
install_time = "PT1M"
restart_time = "PT1M"

[policies.default]
quality_deferral = "{deferral}"

[[segments]]
name = "k"
devices = 200
availability = {{ profile = "always_on" }}

[[deployments]]
name = "jan-expedite"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.expeditedQualityUpdateReference", releaseDateTime = "2026-01-13T18:00:00Z" }}
settings = {{ userExperience = {{ daysUntilForcedReboot = 1 }} }}

[[deployments]]
name = "feb-regular"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", classification = "security", releaseDateTime = "2026-02-10T18:00:00Z" }}
"##
    ));
    case.run_command("o").arg("--quiet").assert().success();
    summary(&case.out("o"))
}

#[test]
fn an_expedite_installs_a_newer_security_update_only_once_the_policy_no_longer_defers_it() {
    // client-timing.md §2: the expedite overrides the deferral only for the chosen release; a
    // newer update that isn't deferred may install instead.
    let deferred = expedite_beside_a_deferred_newer_update("P10D");
    let jan = &deferred["deployments"][0];
    let feb = &deferred["deployments"][1];
    assert!(
        jan["hours_to_95"].as_f64().expect("January reached") < 1.0,
        "{jan}"
    );
    let feb_95 = feb["hours_to_95"].as_f64().expect("February reached");
    assert!(
        (240.0..270.0).contains(&feb_95),
        "February waits for its deferral: {feb}"
    );
    // Without a deferral the expedite delivers February at once (latestSecurity).
    let open = expedite_beside_a_deferred_newer_update("P0D");
    let feb_95 = open["deployments"][1]["hours_to_95"]
        .as_f64()
        .expect("reached");
    assert!(feb_95 < 1.0, "{}", open["deployments"][1]);
}
