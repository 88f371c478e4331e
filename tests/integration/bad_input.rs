//! Bad input: exit code 2, a message naming the file, line and field, and no output folder.

use crate::common::*;

fn rejects(text: &str, field: &str, line: usize, words: &[&str]) {
    let case = Case::new(text);
    let out = case.out("out");
    let assert = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let place = format!("case.toml:{line}:");
    assert!(stderr.contains(&place), "stderr lacks {place}: {stderr}");
    assert!(stderr.contains(field), "stderr lacks {field}: {stderr}");
    for w in words {
        assert!(stderr.contains(w), "stderr lacks {w:?}: {stderr}");
    }
    assert!(!out.exists(), "an output folder was created for bad input");
    rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .assert()
        .code(2);
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i + 1)
}

#[test]
fn an_unknown_field_is_rejected_with_its_line_and_a_suggestion() {
    let text = scenario(10, "polcy = \"default\"", "");
    rejects(
        &text,
        "segments[0].polcy",
        line_of(&text, "polcy"),
        &["unknown field", "did you mean \"policy\""],
    );
}

#[test]
fn a_negative_duration_is_rejected_with_the_value_found() {
    let text = scenario(10, "", "").replace("horizon = \"P30D\"", "horizon = \"-P3D\"");
    rejects(
        &text,
        "simulation.horizon",
        line_of(&text, "horizon"),
        &["negative", "-P3D"],
    );
}

#[test]
fn a_retry_after_rollback_that_is_neither_a_duration_nor_never_is_rejected_with_both_forms() {
    let text = scenario(
        10,
        "",
        "[client.feature]\nretry_after_rollback = \"sometimes\"\n",
    );
    rejects(
        &text,
        "client.feature.retry_after_rollback",
        line_of(&text, "retry_after_rollback"),
        &["\"P30D\"", "\"never\"", "sometimes"],
    );
    let text = scenario(
        10,
        "",
        "[client.quality]\nretry_after_rollback = \"-P1D\"\n",
    );
    rejects(
        &text,
        "client.quality.retry_after_rollback",
        line_of(&text, "retry_after_rollback"),
        &["negative"],
    );
}

#[test]
fn a_max_retries_after_rollback_that_is_neither_a_count_nor_unlimited_is_rejected_where_it_is() {
    for (value, words) in [
        (
            "\"never\"",
            &["\"unlimited\"", "from 0 to 100", "\"never\""][..],
        ),
        ("-1", &["from 0 to 100", "found -1"]),
        ("101", &["from 0 to 100", "found 101"]),
        ("2.5", &["found 2.5"]),
        ("\"3\"", &["without quotes"]),
    ] {
        let text = scenario(
            10,
            "",
            &format!("[client.feature]\nmax_retries_after_rollback = {value}\n"),
        );
        rejects(
            &text,
            "client.feature.max_retries_after_rollback",
            line_of(&text, "max_retries_after_rollback"),
            words,
        );
    }
    // In [client] itself: told that it is set per category.
    let text = scenario(10, "", "[client]\nmax_retries_after_rollback = 3\n");
    rejects(
        &text,
        "client.max_retries_after_rollback",
        line_of(&text, "max_retries_after_rollback"),
        &["is set per category"],
    );
}

#[test]
fn segment_shares_that_do_not_add_up_are_rejected_with_the_sum() {
    let text = scenario(10, "", "").replace("devices = 10", "share = 0.7").replace(
        "[[deployments]]",
        "[[segments]]\nname = \"more\"\nshare = 0.2\n\n[fleet]\ndevices = 100\n\n[[deployments]]",
    );
    rejects(
        &text,
        "segments[0].share",
        line_of(&text, "share = 0.7"),
        &["add up to 1", "0.9"],
    );
}

#[test]
fn an_unknown_availability_profile_is_rejected_with_the_valid_ones() {
    let text = scenario(10, "availability = { profile = \"laptp\" }", "");
    rejects(
        &text,
        "segments[0].availability.profile",
        line_of(&text, "laptp"),
        &["\"laptp\"", "did you mean \"laptop\""],
    );
}

#[test]
fn a_missing_scenario_file_is_bad_input() {
    rollsim()
        .args(["run", "does-not-exist.toml"])
        .assert()
        .code(2);
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let text = scenario(10, "", "").replace("seed = 7", "seed = = 7");
    let case = Case::new(&text);
    let assert = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("case.toml:{}:", line_of(&text, "seed = = 7"))),
        "{stderr}"
    );
}

#[test]
fn a_usage_error_exits_with_code_2_and_help_with_0() {
    rollsim().args(["run"]).assert().code(2);
    let help = rollsim().args(["run", "--help"]).assert().code(0);
    assert!(String::from_utf8_lossy(&help.get_output().stdout).contains("Examples:"));
}

/// The shipped inventory scenario in a temporary folder, its CSV changed by `edit` (None: no CSV).
fn inventory_case(edit: Option<&dyn Fn(String) -> String>) -> (tempfile::TempDir, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        root.join("inventory-fleet.toml"),
        dir.path().join("inventory-fleet.toml"),
    )
    .expect("copy scenario");
    if let Some(edit) = edit {
        let csv = std::fs::read_to_string(root.join("inventory/devices.csv")).expect("csv");
        std::fs::create_dir(dir.path().join("inventory")).expect("mkdir");
        std::fs::write(dir.path().join("inventory/devices.csv"), edit(csv)).expect("write csv");
    }
    let out = rollsim()
        .arg("validate")
        .arg(dir.path().join("inventory-fleet.toml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (dir, stderr)
}

#[test]
fn a_bad_inventory_row_is_reported_instead_of_the_devices_it_leaves_undefined() {
    let (_dir, stderr) = inventory_case(Some(&|csv| {
        csv + "PC-0301,office,+31:00,laptop,Contoso,D100,gfx\n"
    }));
    assert!(stderr.contains("devices.csv:302:"), "{stderr}");
    assert!(stderr.contains("utc_offset"), "{stderr}");
    assert!(stderr.contains("+31:00"), "{stderr}");
    assert!(!stderr.contains("no group, segment or device"), "{stderr}");
}

#[test]
fn an_inventory_with_a_serial_number_column_making_a_segment_per_device_is_refused() {
    // Past 65 535 segments their 16-bit numbers wrapped: devices took another segment's policy.
    // The file is made here rather than kept: 65 600 rows.
    let serials = |csv: String| {
        let mut out = String::new();
        let mut lines = csv.lines();
        out.push_str(lines.next().unwrap_or_default());
        out.push_str(",serial\n");
        let rows: Vec<&str> = lines.collect();
        for i in 0..65_600 {
            let row = rows[i % rows.len()];
            let (_, rest) = row.split_once(',').unwrap_or_default();
            out.push_str(&format!("PC-{i:06},{rest},SN{i:08}\n"));
        }
        out
    };
    let (dir, stderr) = inventory_case(Some(&serials));
    // 3 [[segments]] templates leave room for 65 532; the row making the 65 533rd is line 65 534.
    for words in [
        "devices.csv:65534:1: the inventory makes 65600 segments",
        "more than the 65532 left beside the scenario's 3 [[segments]] (a scenario holds at most 65535)",
        "each distinct combination of its columns",
        "a column unique per device, such as a serial number, should be dropped",
        "(column \"serial\" alone has 65600 distinct values)",
    ] {
        assert!(stderr.contains(words), "stderr lacks {words:?}: {stderr}");
    }
    let out = dir.path().join("out");
    rollsim()
        .arg("run")
        .arg(dir.path().join("inventory-fleet.toml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.exists(), "an output folder was created for bad input");
}

#[test]
fn a_missing_inventory_is_reported_without_follow_on_unknown_names() {
    let (_dir, stderr) = inventory_case(None);
    assert!(stderr.contains("inventory-fleet.toml:"), "{stderr}");
    assert!(stderr.contains("fleet.inventory"), "{stderr}");
    assert!(stderr.contains("cannot read inventory"), "{stderr}");
    assert!(!stderr.contains("no group, segment or device"), "{stderr}");
}

#[test]
fn an_unreadable_graph_file_is_the_only_error_not_a_cascade_of_guesses_about_its_content() {
    // The missing file holds a feature update: a safeguard hold and a fallback rule on it are
    // fine, and must not be judged as if the content were a quality update.
    let text = r#"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P30D"

[[segments]]
name = "fleet"
devices = 10
attributes = { driver = "gfx-31.0" }

[[deployments]]
name = "24h2"
graph = "missing/feature-24h2.json"

[[issues]]
name = "black screen"
content = "24h2"
when = 'driver = "gfx-31.0"'
rollback = 0.6
known = { after_devices = 5 }

[[actions]]
at = "P6D"
deployment = "24h2"
do = "set"
settings = { monitoring = { monitoringRules = [{ signal = "ineligible", threshold = 5, action = "offerFallback" }] } }
"#;
    let case = Case::new(text);
    let out = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("cannot read Graph JSON file"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one problem: {stderr}");
}

#[test]
fn a_sweep_a_scenario_or_a_graph_body_handed_to_the_wrong_command_says_which_command_takes_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            "run",
            "sweeps/forced-reboot.toml",
            "run it with `rollsim batch`",
        ),
        (
            "batch",
            "expedite-vs-regular.toml",
            "run it with `rollsim run`",
        ),
        (
            "run",
            "graph/seed-003-deployment.json",
            "check it on its own with `rollsim validate",
        ),
        (
            "batch",
            "graph/seed-003-deployment.json",
            "not a sweep: a scenario reads it with graph = \"seed-003-deployment.json\"",
        ),
    ];
    for (command, file, hint) in cases {
        let out = tmp.path().join(command);
        let a = rollsim()
            .arg(command)
            .arg(root.join(file))
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(hint), "{command} {file}: {err}");
        // The hint alone: a parse error of the wrong kind of file only hides it.
        assert_eq!(err.lines().count(), 1, "{command} {file}: {err}");
        assert!(
            !err.contains("unknown field") && !err.contains("key-value"),
            "{command} {file}: {err}"
        );
        assert!(
            !out.exists(),
            "{command} {file}: an output folder was created"
        );
    }
    // A scenario with actions (whose `[[actions]]` a sweep reader took for the first unknown
    // field), and a JSON body that does not start with `{`, are told what they are too.
    let vendor = Case::new(&format!(
        "{}\n[[actions]]\nat = \"P1D\"\ndeployment = \"q\"\ndo = \"pause\"\n",
        scenario(10, "", "")
    ));
    let a = rollsim()
        .arg("batch")
        .arg(&vendor.scenario)
        .arg("--out")
        .arg(vendor.out("b"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.starts_with("error: ")
            && err.contains("case.toml:")
            && err.contains("this is a scenario file (it has [simulation]), not a sweep"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let body = vendor.dir.path().join("list.json");
    std::fs::write(&body, "[1, 2]").expect("write");
    let a = rollsim()
        .arg("run")
        .arg(&body)
        .arg("--out")
        .arg(vendor.out("r"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("list.json:1:1: this is JSON"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // A mistake in a scenario handed to `run` is only that: no hint to run it with `run`.
    let case = Case::new(&scenario(10, "availabilty = { profile = \"office\" }", ""));
    let err = run_errors(&case, &[]).join("\n");
    assert!(err.contains("unknown field \"availabilty\""), "{err}");
    assert!(!err.contains("run it with"), "{err}");
}

/// The error lines of `rollsim run` with `args` (no output folder may be left).
fn run_errors(case: &Case, args: &[&str]) -> Vec<String> {
    let a = case.run_command("out").args(args).assert().code(2);
    assert!(!case.out("out").exists(), "an output folder was created");
    String::from_utf8_lossy(&a.get_output().stderr)
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(String::from)
        .collect()
}

#[test]
fn shares_that_no_longer_add_up_after_set_are_told_at_the_share_set_gave_naming_the_option() {
    let text = r#"[simulation]
start = "2026-03-02T14:00:00Z"
horizon = "P10D"

[fleet]
devices = 100

[[segments]]
name = "office"
share = 0.6

[[segments]]
name = "laptops"
share = 0.4

[[deployments]]
name = "q"
content = { "@odata.type" = "featureUpdateReference", version = "24H2" }
"#;
    let case = Case::new(text);
    let file = case.scenario.display().to_string();
    let set = "segments.laptops.share=0.5";
    assert_eq!(
        run_errors(&case, &["--set", set]),
        [format!(
            "error: {file}: segments[1].share: segment shares must add up to 1, found a sum of 1.1 (office 0.6 + laptops 0.5) (from --set {set})"
        )]
    );
    // The same sum written in the file is told at its first share, with every share.
    let case = Case::new(&text.replace("share = 0.4", "share = 0.5"));
    let file = case.scenario.display().to_string();
    assert_eq!(
        run_errors(&case, &[]),
        [format!(
            "error: {file}:10:9: segments[0].share: segment shares must add up to 1, found a sum of 1.1 (office 0.6 + laptops 0.5)"
        )]
    );
}

#[test]
fn an_error_in_the_file_is_located_in_the_file_when_set_adds_lines_before_it() {
    // `simulation.name` is a new key: the edited text has a line more above the error than the
    // file, which must not show (nor the segment's new `utc_offset` after the error's line).
    for segment in [
        r#"availability = { profile = "offce" }"#,
        "polcy = \"default\"",
    ] {
        let case = Case::new(&scenario(10, segment, ""));
        let validate = rollsim()
            .arg("validate")
            .arg(&case.scenario)
            .assert()
            .code(2);
        let alone: Vec<String> = String::from_utf8_lossy(&validate.get_output().stderr)
            .lines()
            .filter(|l| l.starts_with("error: "))
            .map(String::from)
            .collect();
        assert_eq!(alone.len(), 1, "{alone:?}");
        let sets = [
            "--set",
            "simulation.name=renamed",
            "--set",
            "segments.fleet.utc_offset=+01:00",
        ];
        assert_eq!(run_errors(&case, &sets), alone, "{segment}");
    }
}

#[test]
fn an_error_in_a_value_given_by_set_names_the_option_instead_of_a_line() {
    let case = Case::new(&scenario(10, "", ""));
    let errors = run_errors(
        &case,
        &[
            "--set",
            "simulation.horizon=P0D",
            "--set",
            "segments.fleet.availabilty.profile=office",
        ],
    );
    let file = case.scenario.display().to_string();
    assert_eq!(
        errors,
        [format!(
            "error: {file}: segments[0].availabilty: unknown field \"availabilty\" (did you mean \"availability\"?); expected one of `name`, `devices`, `share`, `policy`, `utc_offset`, `time_zone`, `availability`, `attributes` (from --set segments.fleet.availabilty.profile=office)"
        )]
    );
    let errors = run_errors(&case, &["--set", "simulation.horizon=P0D"]);
    assert_eq!(
        errors,
        [format!(
            "error: {file}: simulation.horizon: must be longer than zero, found \"P0D\" (from --set simulation.horizon=P0D)"
        )]
    );
    // A path that does not lead anywhere is told with the option, before anything is checked.
    let errors = run_errors(&case, &["--set", "deployments.r.name=x"]);
    assert_eq!(
        errors,
        [format!(
            "error: {file}: --set deployments.r.name=x: \"deployments\" has no element named \"r\" (did you mean \"q\"?); elements are q (or an index from 0 to 0)"
        )]
    );
}

#[test]
fn an_error_in_a_graph_body_value_given_by_set_is_told_in_the_body_with_the_option() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let case = Case::new("");
    let run = |set: &str| {
        let a = rollsim()
            .arg("run")
            .arg(root.join("seed-003-expedite.toml"))
            .arg("--out")
            .arg(case.out("out"))
            .args(["--set", set])
            .assert()
            .code(2);
        assert!(!case.out("out").exists());
        String::from_utf8_lossy(&a.get_output().stderr).into_owned()
    };
    let body = root
        .join("graph/seed-003-deployment.json")
        .display()
        .to_string();
    let set = "deployments.expedite-pilot.settings.userExperience.daysUntilForcedReboot=31";
    let err = run(set);
    assert!(
        err.contains(&format!(
            "error: {body}: settings.userExperience.daysUntilForcedReboot: must be a whole number from 0 to 30, found 31 (from --set {set})"
        )),
        "{err}"
    );
    // A misspelt property the option adds is the option's too.
    let set = "deployments.expedite-pilot.settings.userExperiense.daysUntilForcedReboot=1";
    let err = run(set);
    assert!(
        err.contains(&format!(
            "error: {body}: settings.userExperiense: unknown property"
        )) && err.contains(&format!("(from --set {set})")),
        "{err}"
    );
    // A path through a value of the body that is not an object names the scenario's field.
    let err = run("deployments.expedite-pilot.settings.userExperience.daysUntilForcedReboot.x=1");
    assert!(
        err.contains("seed-003-expedite.toml:42:9: deployments[0].graph: --set deployments.expedite-pilot.settings.userExperience.daysUntilForcedReboot.x=1: \"settings.userExperience.daysUntilForcedReboot\" is a number in the Graph file, not an object: it has no field \"x\""),
        "{err}"
    );
}

#[test]
fn every_problem_of_a_file_is_a_line_of_its_own_starting_with_error() {
    let text = scenario(
        10,
        r#"availability = { profile = "offce" }"#,
        "[client]\nscan_interval = \"-PT1H\"\n",
    );
    let case = Case::new(&text);
    let a = case.run_command("out").assert().code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.len() >= 2, "two problems: {stderr}");
    assert!(lines.iter().all(|l| l.starts_with("error: ")), "{stderr}");
    assert!(
        stderr.contains("offce") && stderr.contains("-PT1H"),
        "{stderr}"
    );
}

#[test]
fn a_seed_above_the_largest_toml_integer_is_refused_and_the_largest_reruns_from_the_folder() {
    let case = Case::new(&scenario(10, "", ""));
    let a = case
        .run_command("big")
        .args(["--seed", "9223372036854775808"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.starts_with("error: ") && err.contains("from 0 to 9223372036854775807"),
        "{err}"
    );
    assert!(!case.out("big").exists(), "an output folder was created");
    // The largest seed is written into the copy, which reruns with it.
    let out = case.run("max", &["--seed", "9223372036854775807"]);
    let copy = std::fs::read_to_string(out.join("scenario.toml")).expect("copy");
    assert!(copy.contains("seed = 9223372036854775807"), "{copy}");
    assert!(!copy.contains("note:"), "{copy}");
    let rerun = case.out("rerun");
    rollsim()
        .arg("run")
        .arg(out.join("scenario.toml"))
        .args(["--quiet", "--out"])
        .arg(&rerun)
        .assert()
        .success();
    // The same run: the same seed and the same time series (the name is the file's stem).
    let read = |d: &std::path::Path| std::fs::read(d.join("timeseries.csv")).expect("series");
    assert_eq!(read(&out), read(&rerun));
    let seed = |d: &std::path::Path| summary(d)["seed"].as_u64();
    assert_eq!(seed(&rerun), Some(i64::MAX as u64));
}

#[test]
fn an_idle_removal_a_start_after_the_horizon_and_an_unused_policy_are_warnings_that_quiet_leaves_out()
 {
    let extra = r#"
[policies.laptops]
quality_deadline = "P3D"

[deployments.settings.schedule]
startDateTime = "2026-03-01T00:00:00Z"

[[actions]]
at = "P1D"
deployment = "q"
do = "update_audience"
remove_members = ["fleet-1"]
"#;
    let case = Case::new(&scenario(5, "", extra));
    let a = case.run_command("loud").assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    for (line, head) in lines.iter().zip([
        ":18:1: policies.laptops: no segment uses this policy",
        ":22:17: deployments[0].settings.schedule.startDateTime: is 18 days after the horizon ends",
        ":28:19: actions[0].remove_members[0]: \"fleet-1\" is not a member entry of deployment \"q\" at P1D (its members: \"all\")",
    ]) {
        assert!(line.starts_with("warning: ") && line.contains(head), "{err}");
    }
    let a = case.run_command("quiet").arg("--quiet").assert().success();
    assert!(a.get_output().stderr.is_empty(), "{:?}", a.get_output());
}
