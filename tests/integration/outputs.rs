//! The output contract: files, columns and keys users and scripts rely on.

use crate::common::*;

#[test]
fn a_run_writes_the_documented_files_columns_and_keys() {
    let case = Case::new(
        &std::fs::read_to_string("scenarios/quality-update-office-fleet.toml")
            .expect("shipped scenario"),
    );
    let out = case.run("out", &[]);
    for f in [
        "timeseries.csv",
        "summary.json",
        "summary.csv",
        "segments.csv",
        "events.csv",
        "restarts.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let header = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries");
    assert!(header.starts_with("hours,time,deployment,state,devices,share\n"));
    let s = summary(&out);
    let d = &s["deployments"][0];
    for key in [
        "name",
        "devices_targeted",
        "devices_compliant",
        "hours_to_50",
        "hours_to_90",
        "hours_to_95",
        "hours_to_99",
        "forced_restarts",
        "restarts_in_active_hours",
        "rollbacks",
        "devices_rolled_back",
        "issue_hits",
        "held",
        "state_changes",
    ] {
        assert!(d.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(d["state_changes"][0]["state"], "offering");
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let mut cmd = rollsim();
    cmd.arg("validate");
    for e in std::fs::read_dir("scenarios").expect("scenarios folder") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            cmd.arg(p);
        }
    }
    cmd.assert().success();
}

#[test]
fn the_default_output_folder_is_named_after_the_scenario() {
    let case = Case::new(&scenario(50, "", ""));
    rollsim()
        .current_dir(case.dir.path())
        .args(["run", "case.toml", "--quiet"])
        .assert()
        .success();
    assert!(case.dir.path().join("output/case/summary.json").is_file());
}

#[test]
fn names_that_look_like_formulas_are_defused_in_every_csv() {
    let text = scenario(50, r#"availability = { profile = "always_on" }"#, "")
        .replace("name = \"q\"", "name = \"=HYPERLINK(\\\"http://x\\\")\"")
        .replace("name = \"fleet\"", "name = \"+fleet\"");
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    for f in [
        "timeseries.csv",
        "summary.csv",
        "segments.csv",
        "events.csv",
        "restarts.csv",
    ] {
        let body = std::fs::read_to_string(out.join(f)).expect("csv");
        for line in body.lines().skip(1) {
            for cell in line.split(',') {
                let c = cell.trim_start_matches('"');
                assert!(
                    !c.starts_with('=') && !c.starts_with('+') && !c.starts_with('@'),
                    "{f}: {line}"
                );
            }
        }
        assert!(
            body.contains("'=HYPERLINK") || f == "restarts.csv" && !body.contains("HYPERLINK"),
            "{f}"
        );
    }
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("=HYPERLINK(&quot;http://x&quot;)") || html.contains("=HYPERLINK(&#34;"),
        "escaped in HTML"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_out_folder_that_cannot_be_written_is_named_as_given_with_the_reason_and_exit_1() {
    // No folder can be made in /proc, even by root.
    let case = Case::new(&scenario(10, "", ""));
    let a = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .args(["--out", "/proc/rollsim-forbidden", "--quiet"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.starts_with(
            "error: cannot write /proc/rollsim-forbidden: cannot create a folder in /proc: "
        ),
        "{err}"
    );
    assert!(!err.contains(".tmp-"), "{err}");
}

#[test]
fn a_folder_rollsim_did_not_write_is_not_replaced_without_force() {
    let case = Case::new(&scenario(
        20,
        r#"availability = { profile = "always_on" }"#,
        "",
    ));
    let precious = case.out("precious");
    std::fs::create_dir_all(&precious).expect("mkdir");
    std::fs::write(precious.join("thesis.docx"), b"years of work").expect("write");
    let a = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .arg("--out")
        .arg(&precious)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("--force"), "{err}");
    assert!(precious.join("thesis.docx").exists());
    // A folder rollsim wrote is replaced without asking; --force replaces anything.
    let out = case.run("out", &[]);
    let again = case.run("out", &[]);
    assert_eq!(out, again);
    case.run("precious", &["--force"]);
    assert!(!precious.join("thesis.docx").exists());
    assert!(precious.join("summary.json").exists());
}

#[test]
fn set_changes_one_value_of_the_scenario_and_the_copy_shows_it() {
    let case = Case::new(&scenario(50, "", ""));
    let plain = case.run("plain", &[]);
    let longer = case.run("longer", &["--set", "simulation.horizon=P10D"]);
    let rows = |dir: &std::path::Path| {
        timeseries(dir)
            .iter()
            .map(|r| r.hours)
            .fold(0.0f64, f64::max)
    };
    assert_eq!(rows(&plain), 30.0 * 24.0);
    assert_eq!(rows(&longer), 10.0 * 24.0);
    let copy = std::fs::read_to_string(longer.join("scenario.toml")).expect("copy");
    assert!(copy.contains("horizon = \"P10D\""), "{copy}");
    assert!(
        copy.starts_with("# "),
        "the copy says it was changed: {copy}"
    );
}

#[test]
fn the_copy_after_set_is_the_file_with_a_heading_and_only_the_values_set_changed() {
    let file = std::fs::read_to_string("scenarios/quality-update-office-fleet.toml")
        .expect("shipped scenario");
    let case = Case::new(&file);
    let out = case.run(
        "out",
        &[
            "--devices",
            "500",
            "--set",
            "simulation.horizon=P10D",
            "--set",
            "simulation.description=\"Shorter.\"",
        ],
    );
    let copy = std::fs::read_to_string(out.join("scenario.toml")).expect("copy");
    let (head, body) = copy.split_once('\n').expect("a heading line");
    assert_eq!(
        head,
        "# as run with --set simulation.horizon=P10D --set simulation.description=\"Shorter.\" --devices 500"
    );
    // Comments, blank lines and the order of tables are the file's; the horizon and the
    // description changed where they are written, and the devices took the shares' places.
    let changed: Vec<(&str, &str)> = file
        .lines()
        .zip(body.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(body.lines().count(), file.lines().count(), "{copy}");
    assert!(body.starts_with("# Question:"), "{copy}");
    let description = file
        .lines()
        .find(|l| l.starts_with("description = "))
        .expect("the file has a description");
    assert_eq!(
        changed,
        [
            (description, "description = \"Shorter.\""),
            ("horizon = \"P30D\"", "horizon = \"P10D\""),
            ("devices = 10000", "devices = 500"),
            ("share = 0.6", "devices = 300"),
            ("share = 0.3", "devices = 150"),
            ("share = 0.1", "devices = 50"),
        ]
    );
}

#[test]
fn a_set_under_a_graph_body_changes_the_body_as_read_and_its_folder_reruns_as_it_ran() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let tmp = tempfile::tempdir().expect("tmp");
    let run = |scenario: &std::path::Path, out: &str, extra: &[&str]| {
        rollsim()
            .arg("run")
            .arg(scenario)
            .arg("--out")
            .arg(tmp.path().join(out))
            .arg("--quiet")
            .args(extra)
            .assert()
            .success();
        tmp.path().join(out)
    };
    let as_filed = run(&root.join("seed-003-expedite.toml"), "as-filed", &[]);
    let set = "deployments.expedite-pilot.settings.userExperience.daysUntilForcedReboot=0";
    let changed = run(
        &root.join("seed-003-expedite.toml"),
        "changed",
        &["--set", set],
    );
    // No grace: every pilot device is restarted by force (the body's 2 days let most restart
    // on their own).
    let forced = |dir: &std::path::Path| summary(dir)["deployments"][0]["forced_restarts"].clone();
    assert_eq!(forced(&changed), 500);
    assert!(
        forced(&as_filed).as_u64() < Some(100),
        "{}",
        forced(&as_filed)
    );
    // The folder holds the body as it ran, the scenario as written under a heading.
    let body = |dir: &std::path::Path| -> serde_json::Value {
        let text =
            std::fs::read_to_string(dir.join("graph/seed-003-deployment.json")).expect("body copy");
        serde_json::from_str(&text).expect("JSON")
    };
    let days = "/settings/userExperience/daysUntilForcedReboot";
    assert_eq!(body(&changed).pointer(days), Some(&serde_json::json!(0)));
    assert_eq!(body(&root).pointer(days), Some(&serde_json::json!(2)));
    let copy = std::fs::read_to_string(changed.join("scenario.toml")).expect("copy");
    let file = std::fs::read_to_string(root.join("seed-003-expedite.toml")).expect("file");
    assert_eq!(copy, format!("# as run with --set {set}\n{file}"));
    let again = run(&changed.join("scenario.toml"), "again", &[]);
    assert_same_outputs(&changed, &again);
}

#[test]
fn a_graph_body_changed_for_one_of_two_deployments_reading_it_is_not_copied() {
    let body = r##"{"@odata.type": "#microsoft.graph.windowsUpdates.deployment", "content": {"@odata.type": "#microsoft.graph.windowsUpdates.qualityUpdateReference", "releaseDateTime": "2026-01-12"}}"##;
    let both = "[[deployments]]\nname = \"again\"\ngraph = \"body.json\"\n";
    let text = scenario(20, r#"availability = { profile = "always_on" }"#, both).replace(
        "content = { \"@odata.type\" = \"#microsoft.graph.windowsUpdates.qualityUpdateReference\", releaseDateTime = \"2026-01-12\" }",
        "graph = \"body.json\"",
    );
    let case = Case::new(&text);
    std::fs::write(case.dir.path().join("body.json"), body).expect("body");
    let plain = case.run("plain", &[]);
    assert!(plain.join("body.json").exists());
    let a = case
        .run_command("one")
        .args([
            "--set",
            "deployments.q.settings.schedule.startDateTime=2026-01-20T00:00:00Z",
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        stderr.contains("body.json is read with different --set changes"),
        "{stderr}"
    );
    assert!(!case.out("one").join("body.json").exists());
}

#[test]
fn a_set_that_names_no_field_is_bad_input() {
    let case = Case::new(&scenario(50, "", ""));
    let out = case.out("out");
    let run = |set: &str| {
        rollsim()
            .arg("run")
            .arg(&case.scenario)
            .arg("--out")
            .arg(&out)
            .args(["--set", set])
            .assert()
            .code(2)
    };
    let e = run("simulation.horizn=P10D");
    let text = String::from_utf8_lossy(&e.get_output().stderr).into_owned();
    assert!(text.contains("did you mean \"horizon\""), "{text}");
    let e = run("horizon");
    let text = String::from_utf8_lossy(&e.get_output().stderr).into_owned();
    assert!(text.contains("PATH=VALUE"), "{text}");
    assert!(!out.exists(), "no output folder is left behind");
}

#[test]
fn stats_report_events_phases_memory_and_cpu_time_on_stderr() {
    // Large enough that the run's user CPU time shows in the line's two decimals (200 devices
    // sometimes took under 5 ms and printed 0.00).
    let case = Case::new(&scenario(200_000, "", ""));
    let assert = case
        .run_command("out")
        .args(["--quiet", "--stats"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("stats: "))
        .unwrap_or_else(|| panic!("no stats line in {stderr:?}"));
    let number_before = |unit: &str| -> f64 {
        let (head, _) = line
            .split_once(unit)
            .unwrap_or_else(|| panic!("{unit} in {line}"));
        let word = head
            .split_whitespace()
            .last()
            .expect("a number before the unit");
        word.parse()
            .unwrap_or_else(|_| panic!("{word:?} before {unit} in {line}"))
    };
    assert_eq!(number_before(" devices"), 200_000.0);
    assert!(number_before(" events,") > 0.0, "{line}");
    for phase in ["generate", "simulate", "write"] {
        assert!(
            line.contains(&format!("{phase} ")),
            "{phase} missing: {line}"
        );
    }
    if cfg!(target_os = "linux") {
        assert!(number_before(" MB") > 0.0, "{line}");
        assert!(number_before(" s user") > 0.0, "{line}");
        assert!(number_before(" s kernel") >= 0.0, "{line}");
    }
}

/// Hidden entries (`.name.tmp-*`, `.name.old-*`) left beside `dir`.
fn leftovers(dir: &std::path::Path) -> Vec<String> {
    let name = dir
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    std::fs::read_dir(dir.parent().expect("parent"))
        .expect("parent folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")))
        .collect()
}

#[test]
fn an_out_that_names_a_file_is_refused_even_with_force_for_run_batch_and_merge() {
    let case = Case::new(&scenario(
        20,
        r#"availability = { profile = "always_on" }"#,
        "",
    ));
    let sweep = case.dir.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"case.toml\"\n[grid]\n\"client.scan_interval\" = [\"PT12H\"]\n",
    )
    .expect("write sweep");
    let notes = case.out("notes.md");
    std::fs::write(&notes, b"important").expect("write");
    for force in [false, true] {
        let commands: [Vec<std::ffi::OsString>; 3] = [
            vec!["run".into(), case.scenario.clone().into()],
            vec!["batch".into(), sweep.clone().into()],
            vec!["merge".into(), case.out("shard").into()],
        ];
        for args in commands {
            let a = rollsim()
                .args(&args)
                .arg("--out")
                .arg(&notes)
                .args(force.then_some("--force"))
                .assert()
                .code(2);
            let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
            assert!(err.contains("not a folder"), "{args:?}: {err}");
            assert_eq!(std::fs::read(&notes).expect("notes.md"), b"important");
            assert_eq!(leftovers(&notes), Vec::<String>::new());
        }
    }
}

#[test]
fn an_out_that_is_the_current_folder_or_holds_the_file_being_run_is_refused_even_with_force() {
    let case = Case::new(&scenario(
        20,
        r#"availability = { profile = "always_on" }"#,
        "",
    ));
    let dir = case.dir.path();
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"case.toml\"\n[grid]\n\"client.scan_interval\" = [\"PT12H\"]\n",
    )
    .expect("write sweep");
    let work = dir.join("work");
    std::fs::create_dir(&work).expect("work folder");
    std::fs::write(work.join("notes.md"), b"important").expect("notes");
    let entries = |d: &std::path::Path| std::fs::read_dir(d).expect("dir").count();
    let before = (entries(dir), entries(&work));
    for args in [["run", "case.toml"], ["batch", "sweep.toml"]] {
        let input = dir.join(args[1]);
        // `--out .` from a working folder, and the folder holding the input from elsewhere.
        for (cwd, out, needle) in [
            (
                &work,
                std::path::PathBuf::from("."),
                "is the current folder",
            ),
            (&work, std::path::PathBuf::from(".."), "holds the"),
            (&work, dir.to_path_buf(), "holds the"),
        ] {
            let a = rollsim()
                .current_dir(cwd)
                .arg(args[0])
                .arg(&input)
                .arg("--out")
                .arg(&out)
                .arg("--force")
                .assert()
                .code(2);
            let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
            assert!(
                err.contains("--out") && err.contains(needle),
                "{args:?} {out:?}: {err}"
            );
            assert!(input.is_file(), "{} deleted", input.display());
        }
    }
    assert_eq!(
        before,
        (entries(dir), entries(&work)),
        "nothing written or left"
    );
    assert_eq!(
        std::fs::read(work.join("notes.md")).expect("notes"),
        b"important"
    );
}

#[test]
fn replacing_an_output_folder_leaves_nothing_hidden_beside_it() {
    let case = Case::new(&scenario(20, "", ""));
    let out = case.run("out", &[]);
    case.run("out", &[]);
    assert!(out.join("summary.json").is_file());
    assert_eq!(leftovers(&out), Vec::<String>::new());
}

#[test]
fn validate_counts_one_deployment_in_the_singular() {
    let case = Case::new(&scenario(1, "", ""));
    let a = rollsim()
        .arg("validate")
        .arg(&case.scenario)
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(out.contains("(1 device, 1 deployment)"), "{out}");
}

#[test]
fn the_scenario_copy_shows_the_seed_and_fleet_size_given_on_the_command_line() {
    // Shares of [fleet] devices: the copy must give the rescaled counts, not the file's 10000.
    let case = Case::new(
        &std::fs::read_to_string("scenarios/quality-update-office-fleet.toml")
            .expect("shipped scenario"),
    );
    let out = case.run("out", &["--seed", "7", "--devices", "2000"]);
    let copy = out.join("scenario.toml");
    let sc = rollsim::Scenario::load(&copy).unwrap_or_else(|e| panic!("copy loads back: {e}"));
    assert_eq!(sc.seed, 7);
    assert_eq!(sc.devices(), 2000);
    let text = std::fs::read_to_string(&copy).expect("copy");
    assert!(
        text.starts_with("# as run with --seed 7 --devices 2000\n"),
        "{text}"
    );
}

#[test]
fn a_horizon_shorter_than_a_day_is_printed_in_hours_not_as_0_days() {
    let text = scenario(10, r#"availability = { profile = "always_on" }"#, "")
        .replace(r#"horizon = "P30D""#, r#"horizon = "PT10H""#);
    let case = Case::new(&text);
    let run = case.run_command("out").assert().success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains(": 10 devices, 10 h, seed 7\n"), "{stdout}");
    let late = Case::new(
        &(text
            + r#"
[[actions]]
at = "PT12H"
deployment = "q"
do = "pause"
"#),
    );
    let refused = rollsim()
        .arg("validate")
        .arg(&late.scenario)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("is after the horizon (10 h)"), "{stderr}");
}

#[test]
fn overlapping_deployments_share_states_by_content_but_restarts_only_where_they_offered() {
    // README, Outputs, "Overlapping deployments": states are with respect to the content, and a
    // restart is counted for each deployment that offered the device the update. "also" offers
    // the same update to the same devices at the start; "later" starts after the horizon and
    // offers nothing, yet its audience is updated by the others.
    let others = r##"
[[deployments]]
name = "also"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }

[[deployments]]
name = "later"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }
settings = { schedule = { startDateTime = "2026-03-01T00:00:00Z" } }
"##;
    let text = scenario(
        200,
        r#"availability = { profile = "always_on" }"#,
        &format!("{INSTANT_CLIENT}{FORCE_AT_ONCE}{others}"),
    );
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let s = summary(&out);
    let (q, also, later) = (
        &s["deployments"][0],
        &s["deployments"][1],
        &s["deployments"][2],
    );
    assert_eq!(q["devices_offered"], 200);
    assert_eq!(also["devices_offered"], 200);
    assert_eq!(later["devices_offered"], 0);
    for k in ["devices_compliant", "hours_to_95"] {
        assert_eq!(later[k], q[k], "{k}");
        assert_eq!(also[k], q[k], "{k}");
    }
    assert_eq!(q["forced_restarts"], 200);
    assert_eq!(also["forced_restarts"], 200);
    assert_eq!(later["forced_restarts"], 0, "it offered nothing: {later}");
    // restarts.csv has the rows of the two that offered: 400 restarts for 200 devices.
    let mut r = csv::Reader::from_path(out.join("restarts.csv")).expect("restarts.csv");
    let total: u64 = r
        .records()
        .map(|x| x.expect("record")[4].parse::<u64>().expect("count"))
        .sum();
    assert_eq!(total, 400);
}

#[test]
fn a_run_folder_holds_the_graph_bodies_it_read_and_reruns_from_its_copy() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("first");
    rollsim()
        .arg("run")
        .arg(root.join("seed-003-expedite.toml"))
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    for body in ["seed-003-deployment.json", "seed-003-update-audience.json"] {
        assert_eq!(
            std::fs::read(out.join("graph").join(body)).expect("copied"),
            std::fs::read(root.join("graph").join(body)).expect("source"),
            "{body}"
        );
    }
    let again = tmp.path().join("again");
    rollsim()
        .arg("run")
        .arg(out.join("scenario.toml"))
        .arg("--out")
        .arg(&again)
        .arg("--quiet")
        .assert()
        .success();
    assert_same_outputs(&out, &again);
}

#[test]
fn summary_json_gives_each_window_of_active_hours_with_its_devices_most_first() {
    let night = r#"
[[segments]]
name = "night-shift"
devices = 30
policy = "night"

[policies.night]
active_hours = { start = "22:00", end = "06:00" }
"#;
    let case = Case::new(&scenario(
        50,
        r#"availability = { profile = "always_on" }"#,
        night,
    ));
    let out = case.run("out", &[]);
    let s = summary(&out);
    assert_eq!(
        s["active_hours"],
        serde_json::json!([
            { "start": "08:00", "end": "17:00", "devices": 50, "policies": ["default"] },
            { "start": "22:00", "end": "06:00", "devices": 30, "policies": ["night"] },
        ]),
        "{s}"
    );
    // The restarts chart marks the first and names the other.
    let svg = std::fs::read_to_string(out.join("restarts.svg")).expect("restarts.svg");
    assert!(
        svg.contains(
            "Active hours 08:00–17:00, the policy of 50 of 80 devices (others: 22:00–06:00)"
        ),
        "{svg}"
    );
}

/// One row of events.csv, with its numeric columns read by name (an empty cell is `None`).
#[derive(Debug)]
struct EventRow {
    hours: f64,
    event: String,
    detail: String,
    wave: Option<u64>,
    devices: Option<u64>,
    devices_removed: Option<u64>,
    signals: Option<u64>,
    denominator: Option<u64>,
    threshold: Option<u64>,
    issue_hits: Option<u64>,
}

fn event_rows(dir: &std::path::Path) -> Vec<EventRow> {
    let mut r = csv::Reader::from_path(dir.join("events.csv")).expect("events.csv");
    let head = r.headers().expect("header").clone();
    let col = |name: &str| head.iter().position(|h| h == name).expect(name);
    let (hours, event, detail) = (col("hours"), col("event"), col("detail"));
    let numbers = [
        "wave",
        "devices",
        "devices_removed",
        "signals",
        "denominator",
        "threshold",
        "issue_hits",
    ]
    .map(col);
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            let [w, d, dr, s, den, th, ih] = numbers.map(|i| {
                let cell = &rec[i];
                (!cell.is_empty()).then(|| cell.parse::<u64>().expect("a whole number"))
            });
            EventRow {
                hours: rec[hours].parse().expect("hours"),
                event: rec[event].to_string(),
                detail: rec[detail].to_string(),
                wave: w,
                devices: d,
                devices_removed: dr,
                signals: s,
                denominator: den,
                threshold: th,
                issue_hits: ih,
            }
        })
        .collect()
}

#[test]
fn events_csv_gives_the_numbers_of_waves_audience_changes_and_rule_firings_in_columns_after_the_detail()
 {
    // 1050 devices in waves of 200 a day from 0 h; 230 more join at 49 h (after wave 3, before
    // wave 4), so the 1280 are offered in six waves of 200 and a last one of 80. An issue rolls
    // back a fifth of the first segment's devices, so the 5 % alert rule fires (an alert does
    // not pause, so the waves go on). No likely-issue holds, and the issue is never known: no
    // device is held back from its wave.
    let text = r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P20D"
seed = 5
sample_interval = "PT6H"

[[segments]]
name = "fleet"
devices = 1050
availability = { profile = "always_on" }

[[segments]]
name = "late"
devices = 230
availability = { profile = "always_on" }

[groups]
newcomers = { segments = ["late"] }

[[deployments]]
name = "f"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateReference", version = "24H2" }
audience = { members = ["fleet"] }
settings = { schedule = { gradualRollout = { devicesPerOffer = 200, durationBetweenOffers = "P1D" } }, monitoring = { monitoringRules = [{ signal = "rollback", threshold = 5, action = "alertError" }] }, contentApplicability = { safeguard = { disabledSafeguardProfiles = [{ category = "likelyIssues" }] } } }

[[actions]]
at = "P2DT1H"
deployment = "f"
do = "update_audience"
add_members = ["newcomers"]

[[issues]]
name = "rb"
content = "f"
when = 'segment = "fleet"'
rollback = 0.2
"##;
    let case = Case::new(text);
    let out = case.run("out", &[]);
    let body = std::fs::read_to_string(out.join("events.csv")).expect("events.csv");
    // The columns before are where they were: readers by position keep working.
    assert!(
        body.starts_with(
            "hours,time,deployment,event,state,reason,detail,wave,devices,devices_removed,signals,denominator,threshold,issue_hits\n"
        ),
        "{body}"
    );
    let rows = event_rows(&out);

    let waves: Vec<(f64, Option<u64>, Option<u64>)> = rows
        .iter()
        .filter(|r| r.event == "wave")
        .map(|r| (r.hours, r.wave, r.devices))
        .collect();
    let expected: Vec<(f64, Option<u64>, Option<u64>)> = (0..7u64)
        .map(|i| {
            (
                24.0 * i as f64,
                Some(i + 1),
                Some(if i < 6 { 200 } else { 80 }),
            )
        })
        .collect();
    assert_eq!(waves, expected);
    for r in rows.iter().filter(|r| r.event == "wave") {
        assert_eq!(
            r.detail,
            format!(
                "wave {}: {} devices offered",
                r.wave.unwrap_or(0),
                r.devices.unwrap_or(0)
            )
        );
        assert_eq!(
            (r.devices_removed, r.signals, r.threshold),
            (None, None, None)
        );
    }

    let change: Vec<&EventRow> = rows
        .iter()
        .filter(|r| r.detail.starts_with("update_audience"))
        .collect();
    assert_eq!(change.len(), 1, "{rows:?}");
    assert_eq!(change[0].event, "action");
    assert_eq!(change[0].hours, 49.0);
    assert_eq!(
        (change[0].devices, change[0].devices_removed, change[0].wave),
        (Some(230), Some(0), None),
        "the group's 230 devices joined and none left"
    );

    let fired: Vec<&EventRow> = rows.iter().filter(|r| r.event == "rule_fired").collect();
    assert_eq!(fired.len(), 1, "{rows:?}");
    let f = fired[0];
    let (signals, denominator) = (
        f.signals.expect("signals"),
        f.denominator.expect("denominator"),
    );
    assert_eq!(f.threshold, Some(5));
    assert!(denominator > 0 && signals * 100 >= 5 * denominator, "{f:?}");
    assert_eq!((f.wave, f.devices, f.devices_removed), (None, None, None));
    // The same firing as summary.json tells it.
    let s = summary(&out);
    let firing = &s["deployments"][0]["rule_firings"][0];
    assert_eq!(firing["signals"], signals);
    assert_eq!(firing["denominator"], denominator);
    assert_eq!(firing["threshold"], 5);
    assert_eq!(
        Some(firing["issue_hits"].as_u64().expect("hits")),
        f.issue_hits
    );
    assert_eq!(firing["hours"].as_f64(), Some(f.hours));
    let alert = rows.iter().find(|r| r.event == "alert").expect("an alert");
    assert_eq!((alert.hours, alert.threshold), (f.hours, Some(5)));

    // A state change has no numbers.
    for r in rows.iter().filter(|r| r.event == "state_change") {
        let none = [
            r.wave,
            r.devices,
            r.devices_removed,
            r.signals,
            r.denominator,
            r.threshold,
            r.issue_hits,
        ];
        assert!(none.iter().all(Option::is_none), "{r:?}");
    }
    // Everyone was offered once, by the waves.
    let offered: u64 = waves.iter().filter_map(|w| w.2).sum();
    assert_eq!(offered, 1280);
    assert_eq!(s["deployments"][0]["devices_offered"], 1280);
}

#[test]
fn the_terminal_summary_json_and_the_report_say_which_deployment_is_expedited() {
    // Three deployments of one update: "q" regular, "fix" expedited from its start, and
    // "made-urgent" regular until a settings PATCH expedites it on day 1.
    let others = r##"
[[deployments]]
name = "fix"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }
settings = { expedite = { isExpedited = true } }

[[deployments]]
name = "made-urgent"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }

[[actions]]
at = "P1D"
deployment = "made-urgent"
do = "set"
settings = { expedite = { isExpedited = true } }
"##;
    let case = Case::new(&scenario(
        20,
        r#"availability = { profile = "always_on" }"#,
        others,
    ));
    let run = case.run_command("out").assert().success();
    let out = case.out("out");
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains("\n  q: 20/20 compliant"), "{stdout}");
    assert!(
        stdout.contains("\n  fix (expedited): 20/20 compliant"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  made-urgent (expedited): 20/20 compliant"),
        "{stdout}"
    );
    let s = summary(&out);
    let flags: Vec<&serde_json::Value> =
        (0..3).map(|i| &s["deployments"][i]["expedited"]).collect();
    assert_eq!(flags, [false, true, true]);
    // Appended: each deployment's fields before it are where they were, `expedited` last.
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    for part in text.split("\"state_changes\"").skip(1) {
        let tail = &part[part.find(']').expect("end of state_changes")..];
        let next_key = tail.split('"').nth(1).expect("a key after state_changes");
        assert_eq!(next_key, "expedited", "{text}");
    }
    // summary.csv's columns are as they were, none moved; `devices_rolled_back` (added later)
    // after them.
    let csv = std::fs::read_to_string(out.join("summary.csv")).expect("summary.csv");
    assert!(
        csv.starts_with("deployment,devices_targeted,devices_offered,devices_compliant,share_compliant,hours_to_50,hours_to_90,hours_to_95,hours_to_99,forced_restarts,auto_restarts,user_restarts,restarts_in_active_hours,install_failures,rollbacks,issue_hits,held,ineligible,rule_fired_hours,issue_hits_at_rule,paused_by_monitoring_hours,exposure_device_days,share_compliant_at_exploit,exposure_after_exploit_device_days,devices_rolled_back\n"),
        "{csv}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    let mark = "<span class=\"mark\">(expedited)</span>";
    assert!(html.contains(&format!(">fix {mark}</th>")), "{html}");
    assert!(
        html.contains(&format!(">made-urgent {mark}</th>")),
        "{html}"
    );
    assert!(html.contains(">q</th>"), "{html}");
}
