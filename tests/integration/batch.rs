//! Replications, sweeps and expectations.

use std::path::Path;

use crate::common::*;

/// An always-on fleet with an expedited update, fixed durations and a forced restart right after
/// the install: every replication is the same.
const DETERMINISTIC: &str = r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P3D"
seed = 1
sample_interval = "PT1H"

[client.quality]
download_time = "PT10M"
install_time = "PT20M"
restart_time = "PT5M"

[[segments]]
name = "fleet"
devices = 200
availability = { profile = "always_on" }

[[deployments]]
name = "x"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", classification = "security", releaseDateTime = "2026-01-12T00:00:00Z" }
settings = { expedite = { isExpedited = true }, userExperience = { daysUntilForcedReboot = 0 } }
"##;

/// A random one: office devices, a regular update.
fn random_scenario(expect: &str) -> String {
    scenario(300, r#"availability = { profile = "office" }"#, expect)
}

fn run_in(case: &Case, name: &str, args: &[&str]) -> (std::path::PathBuf, i32) {
    let out = case.out(name);
    let a = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .args(args)
        .assert();
    let code = a.get_output().status.code().unwrap_or(-1);
    (out, code)
}

fn read(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
}

#[test]
fn replications_give_the_same_bytes_with_one_or_two_jobs() {
    let case = Case::new(&random_scenario(""));
    let (a, _) = run_in(&case, "j1", &["--replications", "8", "--jobs", "1"]);
    let (b, _) = run_in(&case, "j2", &["--replications", "8", "--jobs", "2"]);
    for f in [
        "bands.csv",
        "runs.csv",
        "timeseries.csv",
        "summary.json",
        "segments.csv",
    ] {
        assert_eq!(read(&a, f), read(&b, f), "{f}");
    }
    let runs = String::from_utf8(read(&a, "runs.csv")).expect("utf-8");
    assert_eq!(
        runs.lines().count(),
        1 + 8,
        "a header and one row per replication"
    );
}

#[test]
fn replications_on_the_terminal_give_the_median_time_to_95_of_runs_csv() {
    let case = Case::new(&random_scenario(""));
    let out = case.out("r");
    let a = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .arg("--out")
        .arg(&out)
        .args(["--replications", "5"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(text.contains("across all 5 replications"), "{text}");
    // The median of five is the third smallest.
    let mut r = csv::Reader::from_path(out.join("runs.csv")).expect("runs.csv");
    let mut h: Vec<f64> = r
        .records()
        .map(|x| {
            x.expect("row")[10]
                .parse::<f64>()
                .expect("every run reaches 95 %")
        })
        .collect();
    h.sort_by(f64::total_cmp);
    let want = format!(
        "q: 95 % at {:.1} h (median of 5 runs; min {:.1} h, max {:.1} h)",
        h[2], h[0], h[4]
    );
    assert!(text.contains(&want), "{want} in {text}");
}

#[test]
fn band_percentiles_are_ordered_and_equal_when_every_replication_is_the_same() {
    let check = |text: &str, equal: bool| {
        let case = Case::new(text);
        let (out, code) = run_in(&case, "out", &["--replications", "6"]);
        assert_eq!(code, 0);
        let mut r = csv::Reader::from_path(out.join("bands.csv")).expect("bands.csv");
        let mut rows = 0;
        for rec in r.records() {
            let rec = rec.expect("row");
            let q: Vec<f64> = (5..10).map(|i| rec[i].parse().expect("number")).collect();
            for w in q.windows(2) {
                assert!(w[0] <= w[1], "{rec:?}");
            }
            if equal {
                assert!(q.iter().all(|&x| x == q[0]), "{rec:?}");
                assert_eq!(rec[10].parse::<f64>().expect("mean"), q[0]);
            }
            rows += 1;
        }
        assert!(rows > 0);
    };
    check(DETERMINISTIC, true);
    check(&random_scenario(""), false);
}

#[test]
fn a_met_expectation_exits_0_and_a_missed_one_exits_3_and_names_it() {
    let met = "[[expect]]\ndeployment = \"q\"\nmetric = \"hours_to_50\"\nat_most = 500\n";
    let case = Case::new(&random_scenario(met));
    let (out, code) = run_in(&case, "ok", &[]);
    assert_eq!(code, 0);
    let e = String::from_utf8(read(&out, "expectations.csv")).expect("utf-8");
    assert!(e.contains(",met"), "{e}");

    let missed =
        "[[expect]]\ndeployment = \"q\"\nmetric = \"hours_to_95\"\nquantile = 0.9\nat_most = 1\n";
    let case = Case::new(&random_scenario(missed));
    let a = case
        .run_command("bad")
        .args(["--replications", "3"])
        .assert()
        .code(3);
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(stdout.contains("q hours_to_95 (p90) at_most 1"), "{stdout}");
    assert!(stdout.contains("MISSED"), "{stdout}");

    // Quiet, a CI gate still says which bound it missed (on stderr), and nothing else.
    let both = format!("{met}\n{missed}");
    let case = Case::new(&random_scenario(&both));
    let a = case
        .run_command("quiet")
        .args(["--replications", "3", "--quiet"])
        .assert()
        .code(3);
    let out = a.get_output();
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("q hours_to_95 (p90) at_most 1") && stderr.contains("MISSED"),
        "{stderr}"
    );
}

fn sweep_case(sweep: &str) -> (Case, std::path::PathBuf) {
    let case = Case::new(&random_scenario(""));
    let path = case.dir.path().join("sweep.toml");
    std::fs::write(&path, sweep).expect("write sweep");
    (case, path)
}

#[test]
fn a_sweep_runs_every_grid_point_and_marks_the_pareto_front() {
    let (case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 3\n[grid]\n\"policies.default.quality_deadline\" = [\"P1D\", \"P7D\"]\n\"client.scan_interval\" = [\"PT12H\", \"PT22H\"]\n",
    );
    let out = case.out("sweep");
    for jobs in ["1", "2"] {
        rollsim()
            .arg("batch")
            .arg(&path)
            .arg("--out")
            .arg(case.out(jobs))
            .args(["--jobs", jobs, "--quiet"])
            .assert()
            .success();
    }
    for f in ["runs.csv", "bands.csv", "variants.csv"] {
        assert_eq!(read(&case.out("1"), f), read(&case.out("2"), f), "{f}");
    }
    let _ = out;
    let mut r = csv::Reader::from_path(case.out("1").join("variants.csv")).expect("variants");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert_eq!(rows.len(), 4);
    // No issue hits anyone: a front of time against 0 devices hit would only be the fastest
    // variants, so no variant is flagged on it.
    assert!(
        rows.iter().all(|x| &x[14] == "false"),
        "no blast-radius front without hits"
    );
    // The disruption front is flagged when some variant disrupts someone.
    let disrupted = rows
        .iter()
        .any(|x| x[13].parse::<f64>().is_ok_and(|v| v > 0.0));
    assert!(
        disrupted,
        "a 1-day deadline forces restarts in working hours"
    );
    assert!(
        rows.iter().any(|x| &x[15] == "true"),
        "someone is on the disruption front"
    );
}

#[test]
fn bad_sweep_input_is_rejected_naming_the_path() {
    let cases = [
        (
            "base = \"case.toml\"\n[grid]\n\"client.scan_intervall\" = [\"PT12H\"]\n",
            "client.scan_intervall",
        ),
        (
            "base = \"case.toml\"\n[grid]\n\"client.scan_interval\" = []\n",
            "empty list",
        ),
        (
            "base = \"case.toml\"\n[grid]\n\"client.scan_interval\" = [12]\n",
            "client.scan_interval",
        ),
        (
            "base = \"case.toml\"\n[grid]\n\"deployments.nope.name\" = [\"x\"]\n",
            "no element named \"nope\"",
        ),
    ];
    for (text, needle) in cases {
        let (_case, path) = sweep_case(text);
        let a = rollsim().arg("batch").arg(&path).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(needle), "{needle} in {err}");
        assert!(err.contains("sweep.toml:"), "{err}");
    }
}

#[test]
fn a_sweep_over_a_setting_without_effect_warns_once_in_validate_and_batch() {
    let (case, path) = sweep_case(
        "base = \"case.toml\"\n[grid]\n\"deployments.q.settings.userExperience.daysUntilForcedReboot\" = [0, 2]\n",
    );
    let warned = |a: assert_cmd::assert::Assert| {
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(
            lines[0].contains(
                "all 2 variants: deployments[0].settings.userExperience.daysUntilForcedReboot"
            ) && lines[0].contains("not expedited"),
            "{err}"
        );
    };
    warned(rollsim().arg("validate").arg(&path).assert().success());
    warned(
        rollsim()
            .arg("batch")
            .arg(&path)
            .arg("--out")
            .arg(case.out("b"))
            .assert()
            .success(),
    );
}

const SWEEP: &str = "base = \"case.toml\"\nreplications = 4\n[grid]\n\"policies.default.quality_deadline\" = [\"P1D\", \"P7D\"]\n";

fn batch_cmd(path: &Path, out: &Path, extra: &[&str]) {
    rollsim()
        .arg("batch")
        .arg(path)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success();
}

#[test]
fn three_shards_merged_give_the_bytes_of_the_unsharded_batch() {
    let (case, path) = sweep_case(SWEEP);
    batch_cmd(&path, &case.out("whole"), &[]);
    let mut dirs = Vec::new();
    for i in 1..=3 {
        let d = case.out(&format!("shard{i}"));
        batch_cmd(&path, &d, &["--shard", &format!("{i}/3")]);
        dirs.push(d);
    }
    rollsim()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(case.out("merged"))
        .arg("--quiet")
        .assert()
        .success();
    for f in [
        "runs.csv",
        "bands.csv",
        "variants.csv",
        "report.html",
        "bands.svg",
    ] {
        assert_eq!(
            read(&case.out("whole"), f),
            read(&case.out("merged"), f),
            "{f}"
        );
    }
    // A merge with a shard missing says which runs are missing; the folders named are the
    // input, so it is bad input.
    let a = rollsim()
        .arg("merge")
        .args(&dirs[..2])
        .arg("--out")
        .arg(case.out("partial"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("runs are missing"), "{err}");
    assert!(!case.out("partial").exists());
}

#[test]
fn a_batch_prints_each_variants_median_time_to_95_as_variants_csv_has_it() {
    let (case, path) = sweep_case(SWEEP);
    let out = case.out("b");
    let a = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    let mut r = csv::Reader::from_path(out.join("variants.csv")).expect("variants.csv");
    let header = r.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (v, h) = (col("variant"), col("hours_to_95_p50"));
    let mut seen = 0;
    for row in r.records() {
        let row = row.expect("row");
        let hours: f64 = row[h].parse().expect("hours");
        let expected = format!("  {}:\n    q: 95 % at {hours:.1} h (median of", &row[v]);
        assert!(stdout.contains(&expected), "{expected:?} not in:\n{stdout}");
        seen += 1;
    }
    assert_eq!(seen, 2, "one row per variant");
}

#[test]
fn resume_after_losing_some_runs_reproduces_the_same_outputs() {
    let (case, path) = sweep_case(SWEEP);
    let out = case.out("b");
    batch_cmd(&path, &out, &[]);
    let before: Vec<Vec<u8>> = ["runs.csv", "bands.csv", "variants.csv"]
        .iter()
        .map(|f| read(&out, f))
        .collect();
    let records = case.out("b.runs");
    for k in [1, 4, 6] {
        std::fs::remove_file(records.join(format!("run-{k:08}.bin"))).expect("record");
    }
    let again = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .arg("--resume")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&again.get_output().stdout).into_owned();
    assert!(
        stdout.contains("--resume: 5 of 8 runs reused from ") && stdout.contains(", 3 run now"),
        "{stdout}"
    );
    for (f, b) in ["runs.csv", "bands.csv", "variants.csv"].iter().zip(before) {
        assert_eq!(read(&out, f), b, "{f}");
    }
    assert!(
        records.join("run-00000004.bin").exists(),
        "the lost run ran again"
    );
}

#[test]
fn batch_set_and_devices_run_every_variant_as_a_base_scenario_edited_to_match() {
    let (case, path) = sweep_case(SWEEP);
    let opts = ["--devices", "150", "--set", "client.scan_interval=PT12H"];
    batch_cmd(&path, &case.out("opts"), &opts);
    // The same sweep over a base file that says so itself.
    let edited = random_scenario("\n[client]\nscan_interval = \"PT12H\"\n")
        .replace("devices = 300", "devices = 150");
    std::fs::write(case.dir.path().join("edited.toml"), edited).expect("edited base");
    let by_hand = case.dir.path().join("by-hand.toml");
    std::fs::write(&by_hand, SWEEP.replace("case.toml", "edited.toml")).expect("sweep");
    batch_cmd(&by_hand, &case.out("by-hand"), &[]);
    for f in ["runs.csv", "bands.csv", "variants.csv"] {
        assert_eq!(
            read(&case.out("opts"), f),
            read(&case.out("by-hand"), f),
            "{f}"
        );
    }
    let runs = String::from_utf8(read(&case.out("opts"), "runs.csv")).expect("utf-8");
    assert!(runs.lines().skip(1).all(|l| l.contains(",150,")), "{runs}");
    // The copy of the sweep says how it ran.
    let copy = String::from_utf8(read(&case.out("opts"), "scenario.toml")).expect("utf-8");
    assert!(
        copy.contains("# as run with --set client.scan_interval=PT12H --devices 150\n"),
        "{copy}"
    );
    // Shards run with the options merge into the same batch; their manifests carry them.
    let dirs: Vec<_> = (1..=2)
        .map(|i| {
            let d = case.out(&format!("shard{i}"));
            let mut args = vec!["--shard".to_string(), format!("{i}/2")];
            args.extend(opts.iter().map(|s| s.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            batch_cmd(&path, &d, &args);
            d
        })
        .collect();
    merge_into(&dirs, &case.out("merged")).success();
    assert_eq!(
        read(&case.out("opts"), "runs.csv"),
        read(&case.out("merged"), "runs.csv")
    );
    // A resume without the options is of another batch.
    let a = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(case.out("opts"))
        .arg("--resume")
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("another batch"), "{err}");
}

#[test]
fn batch_options_that_the_sweep_would_undo_or_that_would_undo_it_are_refused() {
    let (case, path) = sweep_case(SWEEP);
    let refused = |args: &[&str], expected: &str| {
        let a = rollsim()
            .arg("batch")
            .arg(&path)
            .arg("--out")
            .arg(case.out("x"))
            .args(args)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(expected), "{expected:?} not in {err}");
        assert!(!case.out("x").exists());
    };
    refused(
        &["--set", "policies.default.quality_deadline=P3D"],
        "every variant sets policies.default.quality_deadline, so this option would change nothing",
    );
    let sizes = "base = \"case.toml\"\n[grid]\n\"segments.fleet.devices\" = [100, 200]\n";
    std::fs::write(&path, sizes).expect("sweep");
    refused(
        &["--devices", "50"],
        "the sweep varies segments.fleet.devices, so every variant would run 50 devices",
    );
    // A --set value the base scenario refuses names the option.
    refused(
        &["--set", "client.scan_interval=22"],
        "(from --set client.scan_interval=22)",
    );
}

#[test]
fn slurm_array_variables_select_the_shard() {
    let (case, path) = sweep_case(SWEEP);
    let d = case.out("slurm");
    rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(&d)
        .arg("--quiet")
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .assert()
        .success();
    let m: serde_json::Value =
        serde_json::from_slice(&read(&d, "manifest.json")).expect("manifest");
    assert_eq!(
        (m["shard"].as_u64(), m["shards"].as_u64()),
        (Some(2), Some(4))
    );
    // Runs 1 and 5 of 8 belong to shard 2 of 4.
    let mut names: Vec<String> = std::fs::read_dir(d.join("runs"))
        .expect("runs")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    names.sort();
    assert_eq!(names, vec!["run-00000001.bin", "run-00000005.bin"]);
}

#[test]
fn a_killed_batch_leaves_no_partial_output_folder() {
    let (case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 400\n[grid]\n\"policies.default.quality_deadline\" = [\"P1D\", \"P7D\"]\n",
    );
    let out = case.out("killed");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rollsim"))
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        !out.exists() || out.join("variants.csv").exists(),
        "all or nothing"
    );
    // Every record under its final name is complete.
    if let Ok(entries) = std::fs::read_dir(case.out("killed.runs")) {
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".bin") {
                let b = std::fs::read(e.path()).expect("record");
                assert!(rollsim::batch::RunRecord::decode(&b).is_some(), "{name}");
            } else if name != "batch.json" {
                assert!(name.starts_with('.'), "only hidden temporary files: {name}");
            }
        }
    }
}

#[test]
fn asking_for_more_memory_than_the_machine_has_is_bad_input() {
    let text = scenario(
        50_000_000,
        r#"availability = { profile = "always_on" }"#,
        "",
    );
    let case = Case::new(&text);
    let path = case.dir.path().join("sweep.toml");
    std::fs::write(
        &path,
        "base = \"case.toml\"\nreplications = 1000\n[[variants]]\nname = \"v\"\nset = { \"simulation.seed\" = 2 }\n",
    )
    .expect("write");
    // 1000 parallel runs of 50 million devices cannot fit on any machine this runs on.
    let a = rollsim()
        .arg("batch")
        .arg(&path)
        .args(["--jobs", "1000", "--out"])
        .arg(case.out("x"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("GB of memory is available"), "{err}");
    assert!(!case.out("x").exists());
}

#[test]
fn a_time_series_too_large_for_memory_is_bad_input_at_its_sample_interval() {
    let text = scenario(10, r#"availability = { profile = "always_on" }"#, "");
    let case = Case::new(&text);
    // Ten years sampled every second: 3.8 billion rows of timeseries.csv, hundreds of GB built
    // in memory before the file is written; refused before the run, not killed halfway.
    let a = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .args([
            "--set",
            "simulation.horizon=P3650D",
            "--set",
            "simulation.sample_interval=PT1S",
            "--out",
        ])
        .arg(case.out("x"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("simulation.sample_interval"), "{err}");
    assert!(err.contains("of it for timeseries.csv's rows"), "{err}");
    assert!(!case.out("x").exists());
}

#[test]
fn variants_that_set_different_paths_share_one_header_with_empty_cells_where_unset() {
    let (case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 2\n\
         [[variants]]\nname = \"a\"\nset = { \"policies.default.quality_deadline\" = \"P1D\" }\n\
         [[variants]]\nname = \"b\"\nset = { \"policies.default.quality_deadline\" = \"P7D\", \"client.scan_interval\" = \"PT12H\" }\n",
    );
    let out = case.out("b");
    batch_cmd(&path, &out, &[]);
    for (f, rows) in [("runs.csv", 4), ("variants.csv", 2)] {
        let text = String::from_utf8(read(&out, f)).expect("utf-8");
        assert!(text.ends_with('\n'), "{f} is whole");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().expect("header").clone();
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{f} lacks {name}"))
        };
        let (deadline, scan) = (
            col("policies.default.quality_deadline"),
            col("client.scan_interval"),
        );
        let recs: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
        assert_eq!(recs.len(), rows, "{f}: {text}");
        for rec in &recs {
            let (dl, si) = if &rec[0] == "a" {
                ("P1D", "")
            } else {
                ("P7D", "PT12H")
            };
            assert_eq!((&rec[deadline], &rec[scan]), (dl, si), "{f}: {rec:?}");
        }
    }
}

#[test]
fn replications_of_a_run_are_checked_for_memory_as_jobs_runs_at_once() {
    let case = Case::new(&scenario(
        1000,
        r#"availability = { profile = "always_on" }"#,
        "",
    ));
    // One run of 50 million devices may fit here; 1000 at once fit on no machine this runs on.
    let a = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .args([
            "--devices",
            "50000000",
            "--replications",
            "1000",
            "--jobs",
            "1000",
        ])
        .arg("--out")
        .arg(case.out("x"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("× 1000 parallel run(s)"), "{err}");
    assert!(!case.out("x").exists());
}

#[test]
fn a_shard_index_from_job_completion_index_out_of_range_is_named_in_the_error() {
    let (case, path) = sweep_case(SWEEP);
    let a = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(case.out("k"))
        .args(["--shard-count", "3"])
        .env("JOB_COMPLETION_INDEX", "5")
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("JOB_COMPLETION_INDEX"), "{err}");
    assert!(err.contains("found 5 with --shard-count 3"), "{err}");
    assert!(!err.contains("--shard:"), "no --shard was given: {err}");
}

#[test]
fn resume_refuses_the_records_of_another_replication_count_or_sweep_file() {
    let (case, path) = sweep_case(SWEEP);
    let out = case.out("b");
    batch_cmd(&path, &out, &[]);
    let before = read(&out, "runs.csv");
    let refused = |extra: &[&str]| {
        let a = rollsim()
            .arg("batch")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .arg("--resume")
            .args(extra)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains("another batch"), "{err}");
        assert!(err.contains("drop --resume"), "{err}");
        assert_eq!(read(&out, "runs.csv"), before, "the outputs are untouched");
    };
    refused(&["--replications", "2"]);
    std::fs::write(&path, SWEEP.replace("P7D", "P3D")).expect("edit sweep");
    refused(&[]);
    // The same for a shard's records.
    let shard = case.out("s");
    batch_cmd(&path, &shard, &["--shard", "1/2"]);
    let a = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(&shard)
        .args(["--shard", "1/2", "--resume", "--replications", "3"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("another batch"), "{err}");
    // Without --resume the batch starts afresh.
    batch_cmd(&path, &out, &["--replications", "2"]);
    let runs = String::from_utf8(read(&out, "runs.csv")).expect("utf-8");
    assert_eq!(runs.lines().count(), 1 + 2 * 2, "{runs}");
}

#[test]
fn merge_refuses_shards_of_a_sweep_file_that_changed_since() {
    let (case, path) = sweep_case(SWEEP);
    let dirs: Vec<_> = (1..=2)
        .map(|i| {
            let d = case.out(&format!("shard{i}"));
            batch_cmd(&path, &d, &["--shard", &format!("{i}/2")]);
            d
        })
        .collect();
    std::fs::write(&path, SWEEP.replace("P7D", "P3D")).expect("edit sweep");
    let a = rollsim()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(case.out("merged"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("changed since the shards ran"), "{err}");
    assert!(!case.out("merged").exists());
}

/// Environment variables for a command.
type Env<'a> = &'a [(&'a str, &'a str)];

/// `rollsim batch` with only the shard-selecting variables given (the test's own environment
/// may be a cluster's): an assertion on its exit code.
fn batch_with_env(
    path: &Path,
    out: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> assert_cmd::assert::Assert {
    let mut cmd = rollsim();
    cmd.arg("batch")
        .arg(path)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra);
    for k in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "JOB_COMPLETION_INDEX",
    ] {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied()).assert()
}

fn merge_into(dirs: &[std::path::PathBuf], out: &Path) -> assert_cmd::assert::Assert {
    rollsim()
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .assert()
}

#[test]
fn a_sweep_over_the_seed_runs_each_variant_with_its_own_seed() {
    let (case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 2\n[grid]\n\"simulation.seed\" = [1, 2]\n",
    );
    let out = case.out("seeds");
    batch_cmd(&path, &out, &[]);
    let mut r = csv::Reader::from_path(out.join("runs.csv")).expect("runs.csv");
    let header = r.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let (seed, hits) = (col("seed"), col("hours_to_50"));
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    let seeds: Vec<&str> = rows.iter().map(|x| &x[seed]).collect();
    assert_eq!(
        seeds,
        ["1", "1", "2", "2"],
        "runs.csv shows the seed each run used"
    );
    // Replication 0 of seed 1 and of seed 2 are different runs.
    assert_ne!(rows[0][hits], rows[2][hits], "{rows:?}");
    // And the same as `rollsim run --seed`.
    let single = case.run("single", &["--seed", "2"]);
    let summary = summary(&single);
    let h50 = summary["deployments"][0]["hours_to_50"]
        .as_f64()
        .expect("hours_to_50");
    assert_eq!(
        rows[2][hits].parse::<f64>().expect("number"),
        (h50 * 10_000.0).round() / 10_000.0
    );
}

#[test]
fn an_explicit_single_shard_writes_records_that_merge_into_the_whole_batch() {
    let (case, path) = sweep_case(SWEEP);
    batch_cmd(&path, &case.out("whole"), &[]);
    let selections: [(&str, &[&str], Env); 3] = [
        ("flag", &["--shard", "1/1"], &[]),
        (
            "slurm",
            &[],
            &[
                ("SLURM_ARRAY_TASK_ID", "0"),
                ("SLURM_ARRAY_TASK_COUNT", "1"),
            ],
        ),
        (
            "k8s",
            &["--shard-count", "1"],
            &[("JOB_COMPLETION_INDEX", "0")],
        ),
    ];
    for (name, extra, env) in selections {
        let shard = case.out(name);
        batch_with_env(&path, &shard, extra, env).success();
        assert!(
            shard.join("manifest.json").is_file(),
            "{name}: a shard's manifest"
        );
        assert!(shard.join("runs").is_dir(), "{name}: a shard's records");
        let merged = case.out(&format!("{name}-merged"));
        merge_into(&[shard], &merged).success();
        for f in ["runs.csv", "bands.csv", "variants.csv", "report.html"] {
            assert_eq!(read(&case.out("whole"), f), read(&merged, f), "{name}: {f}");
        }
    }
}

#[test]
fn a_shard_selection_that_cannot_be_resolved_is_refused_naming_the_flag_or_variable() {
    let (case, path) = sweep_case(SWEEP);
    let cases: [(&[&str], Env, &[&str]); 3] = [
        (
            &["--shard-count", "3"],
            &[],
            &["--shard-count", "JOB_COMPLETION_INDEX"],
        ),
        (
            &[],
            &[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
            &["SLURM_ARRAY_TASK_ID", "\"x\""],
        ),
        (
            &["--shard-count", "3"],
            &[("JOB_COMPLETION_INDEX", "first")],
            &["JOB_COMPLETION_INDEX", "\"first\""],
        ),
    ];
    for (extra, env, needles) in cases {
        let out = case.out("refused");
        let a = batch_with_env(&path, &out, extra, env).code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        for n in needles {
            assert!(err.contains(n), "{n} in {err}");
        }
        assert!(!out.exists(), "nothing ran: {err}");
    }
}

#[test]
fn a_sweep_with_no_variants_is_refused_naming_the_line_and_rule() {
    for (text, needle) in [
        (
            "base = \"case.toml\"\nvariants = []\n",
            "sweep.toml:2:12: variants: is an empty list",
        ),
        (
            "base = \"case.toml\"\n[grid]\n",
            "sweep.toml:2:1: grid: is empty",
        ),
        (
            "base = \"case.toml\"\n[grid]\n\"fleet.devices\" = { from = 5.0, to = 6.0, step = 1e-300 }\n",
            "sweep.toml:3:1: grid.fleet.devices: gives about 1e300 values",
        ),
    ] {
        let (case, _path) = sweep_case(text);
        for cmd in ["batch", "validate"] {
            let a = rollsim()
                .current_dir(case.dir.path())
                .arg(cmd)
                .arg("sweep.toml")
                .assert()
                .code(2);
            let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
            assert!(err.contains(needle), "{cmd}: {needle} in {err}");
        }
        assert!(!case.dir.path().join("output").exists());
    }
}

#[test]
fn merge_refuses_an_output_folder_that_is_or_holds_one_of_its_shards() {
    let (case, path) = sweep_case(SWEEP);
    let shards = case.out("shards");
    let dirs: Vec<_> = (1..=2)
        .map(|i| {
            let d = shards.join(format!("s{i}"));
            batch_cmd(&path, &d, &["--shard", &format!("{i}/2")]);
            d
        })
        .collect();
    for (out, force) in [(&dirs[0], false), (&dirs[0], true), (&shards, true)] {
        let mut cmd = rollsim();
        cmd.arg("merge").args(&dirs).arg("--out").arg(out);
        if force {
            cmd.arg("--force");
        }
        let a = cmd.assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(
            err.contains("--out") && err.contains("shard folder"),
            "{err}"
        );
    }
    for d in &dirs {
        assert!(
            d.join("manifest.json").is_file() && d.join("runs").is_dir(),
            "{} intact",
            d.display()
        );
    }
    merge_into(&dirs, &case.out("merged")).success();
}

#[test]
fn a_batch_report_names_the_sweep_its_base_scenario_its_question_and_the_replications_that_ran() {
    let (case, path) = sweep_case(
        "# Question: does a one-day deadline do it?\nbase = \"case.toml\"\nreplications = 4\n[[variants]]\nname = \"only\"\nset = { \"policies.default.quality_deadline\" = \"P1D\" }\n",
    );
    let out = case.out("report");
    let a = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .args(["--replications", "2"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        stdout.contains(": 1 variant × 2 replications; results in"),
        "{stdout}"
    );
    let copy = String::from_utf8(read(&out, "scenario.toml")).expect("utf-8");
    assert!(
        copy.starts_with(
            "# sweep: sweep\n# base scenario: case\n# as run with --replications 2\n# Question:"
        ),
        "{copy}"
    );
    assert!(copy.contains("\nreplications = 2\n"), "{copy}");
    let html = String::from_utf8(read(&out, "report.html")).expect("utf-8");
    assert!(
        html.contains("<h1>sweep: sweep over case</h1>"),
        "titled with the sweep file's stem and the base scenario's name"
    );
    assert!(
        html.contains("<p class=\"description\">Question: does a one-day deadline do it?</p>"),
        "the sweep's question describes it"
    );
    assert!(
        !html.contains("replications = 4"),
        "the count that ran, not the file's"
    );
}

#[test]
fn plot_of_a_file_says_it_is_not_a_folder() {
    let case = Case::new(DETERMINISTIC);
    let a = rollsim().arg("plot").arg(&case.scenario).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("not a folder"), "{err}");
    assert!(!err.contains("no such folder"), "{err}");
}

#[test]
fn a_sweep_varies_a_setting_of_a_deployment_whose_body_is_a_graph_file() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/seed-003-expedite.toml");
    let case = Case::new("");
    let path = case.dir.path().join("sweep.toml");
    let sweep = |values: &str| {
        format!(
            "base = {}\n[grid]\n\"deployments.expedite-pilot.settings.userExperience.daysUntilForcedReboot\" = {values}\n",
            toml_string(&base.display().to_string())
        )
    };
    std::fs::write(&path, sweep("[0, 2]")).expect("write sweep");
    batch_cmd(&path, &case.out("b"), &[]);
    let mut r = csv::Reader::from_path(case.out("b").join("variants.csv")).expect("variants");
    let header = r.headers().expect("header").clone();
    let col = header
        .iter()
        .position(|h| h == "forced_restarts_p50")
        .expect("forced restarts column");
    let forced: Vec<String> = r
        .records()
        .map(|x| x.expect("row")[col].to_string())
        .collect();
    // No grace restarts every pilot device by force; the body's own 2 days, a few.
    assert_eq!(forced[0], "500");
    assert_ne!(forced[1], "500");
    std::fs::write(&path, sweep("[0, 31]")).expect("write sweep");
    let a = rollsim().arg("validate").arg(&path).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("sweep.toml:3:1: deployments.expedite-pilot.settings.userExperience.daysUntilForcedReboot: variant daysUntilForcedReboot=31: must be a whole number from 0 to 30, found 31"),
        "{err}"
    );
}

/// `s` as a TOML string (a Windows path's backslashes escaped).
fn toml_string(s: &str) -> String {
    toml::Value::from(s).to_string()
}

/// A sweep over a copy of the shipped seed-003 scenario, which reads two Graph bodies, in a
/// folder of its own.
fn graph_sweep_case() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::create_dir(dir.path().join("graph")).expect("graph folder");
    for f in [
        "seed-003-expedite.toml",
        "graph/seed-003-deployment.json",
        "graph/seed-003-update-audience.json",
    ] {
        std::fs::copy(root.join(f), dir.path().join(f)).expect(f);
    }
    let sweep = dir.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"seed-003-expedite.toml\"\nreplications = 2\n[grid]\n\"client.scan_interval\" = [\"PT12H\", \"PT22H\"]\n",
    )
    .expect("sweep");
    (dir, sweep)
}

#[test]
fn a_batch_folder_holds_its_base_scenario_and_bodies_and_runs_again_to_the_same_bytes() {
    let (dir, sweep) = graph_sweep_case();
    let out = dir.path().join("out");
    batch_cmd(&sweep, &out, &["--devices", "400"]);
    for f in [
        "base/seed-003-expedite.toml",
        "base/graph/seed-003-deployment.json",
        "base/graph/seed-003-update-audience.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let copy = String::from_utf8(read(&out, "scenario.toml")).expect("utf-8");
    assert!(
        copy.contains("base = \"base/seed-003-expedite.toml\"\n"),
        "{copy}"
    );
    // The copy of the base has the fleet --devices gave it, so the folder runs again as is.
    let again = dir.path().join("again");
    batch_cmd(&out.join("scenario.toml"), &again, &[]);
    for f in ["runs.csv", "bands.csv", "variants.csv"] {
        assert_eq!(read(&out, f), read(&again, f), "{f}");
    }
}

#[test]
fn resume_refuses_records_run_before_a_graph_body_of_the_base_changed() {
    let (dir, sweep) = graph_sweep_case();
    let out = dir.path().join("out");
    batch_cmd(&sweep, &out, &[]);
    let body = dir.path().join("graph/seed-003-deployment.json");
    let text = std::fs::read_to_string(&body).expect("body");
    let changed = text.replace(
        "\"daysUntilForcedReboot\": 2",
        "\"daysUntilForcedReboot\": 1",
    );
    assert_ne!(text, changed, "the body sets daysUntilForcedReboot = 2");
    std::fs::write(&body, changed).expect("edit body");
    let a = rollsim()
        .arg("batch")
        .arg(&sweep)
        .arg("--out")
        .arg(&out)
        .arg("--resume")
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("another batch"), "{err}");
}

/// The values of column `name` of `runs.csv` in `dir` (`None`: an empty cell).
fn runs_column(dir: &Path, name: &str) -> Vec<Option<f64>> {
    let mut r = csv::Reader::from_path(dir.join("runs.csv")).expect("runs.csv");
    let col = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    r.records()
        .map(|x| x.expect("row")[col].parse::<f64>().ok())
        .collect()
}

#[test]
fn a_replicated_runs_report_shows_the_spread_of_runs_csv_and_plot_draws_it_again() {
    let case = Case::new(&random_scenario(""));
    let (out, code) = run_in(&case, "r", &["--replications", "5"]);
    assert_eq!(code, 0);
    let sorted = |name: &str| {
        let mut v: Vec<f64> = runs_column(&out, name)
            .into_iter()
            .map(|x| x.expect("every run reaches it"))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let h95 = sorted("hours_to_95");
    let h50 = sorted("hours_to_50");
    let forced = sorted("forced_restarts");
    let line = format!(
        "<li>q: 95 % at {:.1} h (median of 5 runs; min {:.1} h, max {:.1} h); forced restarts {}, restarts in active hours",
        h95[2], h95[0], h95[4], forced[2]
    );
    // The start is 2026-01-12 00:00 UTC: the median time to 50 % falls on that day or the next.
    let cell = format!("{:.1}<br><small class=\"date\">2026-01-1", h50[2]);
    let report = |dir: &Path| std::fs::read_to_string(dir.join("report.html")).expect("report");
    let check = |html: &str| {
        assert!(html.contains("<h2>Across 5 replications</h2>"), "{html}");
        assert!(html.contains(&line), "{line} in {html}");
        assert!(html.contains(&cell), "{cell} in {html}");
        assert!(
            html.contains("<td>95 %</td><td class=\"num\">5 of 5</td>"),
            "{html}"
        );
    };
    let first = report(&out);
    check(&first);
    // A redrawn report reads runs.csv back and says the same.
    std::fs::remove_file(out.join("report.html")).expect("remove");
    rollsim().arg("plot").arg(&out).assert().success();
    assert_eq!(report(&out), first);
}

#[test]
fn replications_that_never_reach_95_say_in_how_many_runs_not_that_it_was_not_held() {
    let case = Case::new(&random_scenario(""));
    let out = case.out("r");
    let a = rollsim()
        .arg("run")
        .arg(&case.scenario)
        .arg("--out")
        .arg(&out)
        .args(["--replications", "4", "--set", "simulation.horizon=PT20H"])
        .assert()
        .success();
    assert!(runs_column(&out, "hours_to_95").iter().all(Option::is_none));
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(text.contains("    q: 95 % in none of 4 runs; "), "{text}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(html.contains("<li>q: 95 % in none of 4 runs; "), "{html}");
    assert!(
        html.contains(
            "<td>95 %</td><td class=\"num\">0 of 4</td><td class=\"num\">not by the end</td>"
        ),
        "{html}"
    );
    let section = html
        .split("<h2>Across 4 replications</h2>")
        .nth(1)
        .and_then(|rest| rest.split("<h2>").next())
        .expect("the across section");
    for t in [text.as_str(), section] {
        assert!(!t.contains("not held") && !t.contains("at never"), "{t}");
    }
}

#[test]
fn a_batch_tells_an_audience_its_draws_leave_empty_once_per_deployment_with_in_how_many_runs() {
    // A pilot of the devices with a rare model and a rare driver: each is on exactly 2 of the
    // 20 devices, dealt out independently, so in some fleets no device has both. A share of
    // 1 % of 20 devices draws none in every fleet.
    let base = DETERMINISTIC.replace(
        "devices = 200",
        "devices = 20\nattributes = { model = { values = [\"A\", \"B\"], weights = [0.9, 0.1] }, driver = { values = [\"W\", \"X\"], weights = [0.9, 0.1] } }",
    ) + "audience = { members = [\"rare\"] }\n\n[groups]\nrare = { filter = 'model = \"B\" and driver = \"X\"' }\ntiny = { share = 0.01 }\n\n[[deployments]]\nname = \"y\"\ncontent = { \"@odata.type\" = \"#microsoft.graph.windowsUpdates.qualityUpdateReference\", releaseDateTime = \"2026-01-12T00:00:00Z\" }\naudience = { members = [\"tiny\"] }\n";
    let case = Case::new(&base);
    let path = case.dir.path().join("sweep.toml");
    std::fs::write(
        &path,
        "base = \"case.toml\"\nreplications = 12\n[grid]\n\"client.scan_interval\" = [\"PT12H\", \"PT22H\"]\n",
    )
    .expect("write sweep");
    let out = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(case.out("b"))
        .args(["--jobs", "1"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let told: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("holds no device in"))
        .collect();
    // Once per deployment for both variants (their fleets are the same), not once per run.
    assert_eq!(told.len(), 2, "{err}");
    let rare = told[0];
    assert!(
        rare.starts_with(
            "warning: all 2 variants: deployments[0].audience: \"x\" holds no device in "
        ),
        "{err}"
    );
    let n: u64 = rare
        .split("holds no device in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(
        (1..12).contains(&n) && rare.contains(&format!("{n} of 12 replications (group \"rare\": ")),
        "{err}"
    );
    assert!(
        told[1].starts_with("warning: all 2 variants: deployments[1].audience: \"y\" holds no device in all 12 replications (group \"tiny\": "),
        "{err}"
    );
    // `run --replications` counts over its replications the same way, once the runs are done.
    let run = case
        .run_command("r")
        .args(["--replications", "12", "--jobs", "1"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    let told_run: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("holds no device"))
        .collect();
    // "y" is empty in every fleet, the one shown too: told for it, located, as a single run
    // tells it; "x" in some fleets: told for the one shown if it is one of them, else counted
    // over the others.
    assert_eq!(told_run.len(), 2, "{err}");
    assert!(
        told_run.iter().any(|l| l.contains(
            "deployments[1].audience: holds no device in this fleet (seed 1, replication 0)"
        )),
        "{err}"
    );
    assert!(
        told_run.iter().any(|l| l.contains("deployments[0].audience: holds no device in this fleet")
            || l.contains(&format!("case.toml: deployments[0].audience: \"x\" holds no device in {n} of 12 replications"))),
        "{err}"
    );
    // The count is the runs' own: runs.csv has as many runs of "x" with nobody targeted.
    let runs = std::fs::read_to_string(case.out("b").join("runs.csv")).expect("runs.csv");
    let mut r = csv::Reader::from_reader(runs.as_bytes());
    let header = r.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (dep, targeted) = (col("deployment"), col("devices_targeted"));
    let empty = r
        .records()
        .map(|x| x.expect("row"))
        .filter(|x| &x[dep] == "x" && &x[targeted] == "0")
        .count() as u64;
    assert_eq!(empty, 2 * n, "{runs}");
    // --quiet leaves it out.
    let quiet = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(case.out("q"))
        .args(["--jobs", "1", "--quiet"])
        .assert()
        .success();
    assert!(quiet.get_output().stderr.is_empty());
}

#[test]
fn a_sweep_judges_its_base_scenarios_gates_too_and_tells_how_many_runs_met_each() {
    // The base scenario's gate (every run 95 % within 1 h) cannot be met; the sweep's own
    // (half of the runs 50 % within 500 h) is.
    let base =
        "[[expect]]\ndeployment = \"q\"\nmetric = \"hours_to_95\"\nquantile = 0.9\nat_most = 1\n";
    let case = Case::new(&random_scenario(base));
    let path = case.dir.path().join("sweep.toml");
    std::fs::write(
        &path,
        "base = \"case.toml\"\nreplications = 4\n[grid]\n\"policies.default.quality_deadline\" = [\"P1D\", \"P7D\"]\n\n[[expect]]\ndeployment = \"q\"\nmetric = \"hours_to_50\"\nat_most = 500\n",
    )
    .expect("write sweep");
    let out = case.out("sweep");
    let a = rollsim()
        .arg("batch")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .args(["--jobs", "1"])
        .assert()
        .code(3);
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        stdout.contains("q hours_to_95 (p90) at_most 1: ")
            && stdout.contains("→ MISSED (0 of 4 runs meet the bound)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("→ met (4 of 4 runs meet the bound)"),
        "{stdout}"
    );
    let mut r = csv::Reader::from_path(out.join("expectations.csv")).expect("csv");
    let header = r.headers().expect("header").clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        [
            "variant",
            "deployment",
            "metric",
            "quantile",
            "bound",
            "limit",
            "value",
            "status",
            "runs_met",
            "runs"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    // Per variant: the base's gate, then the sweep's.
    let got: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|x| (&x[2], &x[7], &x[8], &x[9])).collect();
    assert_eq!(
        got,
        [
            ("hours_to_95", "missed", "0", "4"),
            ("hours_to_50", "met", "4", "4"),
            ("hours_to_95", "missed", "0", "4"),
            ("hours_to_50", "met", "4", "4"),
        ]
    );
}

#[test]
fn a_sweeps_own_gate_on_an_exploit_figure_without_an_exploit_instant_is_a_warning() {
    let (_case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 1\n[grid]\n\"policies.default.quality_deadline\" = [\"P1D\", \"P7D\"]\n\n[[expect]]\ndeployment = \"q\"\nmetric = \"share_compliant_at_exploit\"\nat_least = 0.5\n",
    );
    let out = rollsim().arg("validate").arg(&path).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("sweep.toml:8:10: expect[0].metric: share_compliant_at_exploit is empty without [simulation] exploit_at"),
        "{err}"
    );
    // Given by the sweep, nothing to tell.
    let (_case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 1\n[grid]\n\"simulation.exploit_at\" = [\"P1D\", \"P2D\"]\n\n[[expect]]\ndeployment = \"q\"\nmetric = \"share_compliant_at_exploit\"\nat_least = 0.5\n",
    );
    let out = rollsim().arg("validate").arg(&path).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("exploit_at"), "{err}");
}

#[test]
fn a_replication_run_alone_gives_the_row_runs_csv_has_for_it() {
    let case = Case::new(&random_scenario(""));
    let (many, code) = run_in(&case, "many", &["--replications", "4"]);
    assert_eq!(code, 0);
    let runs = std::fs::read_to_string(many.join("runs.csv")).expect("runs.csv");
    let row = |r: &str| -> Vec<String> {
        runs.lines()
            .find(|l| l.split(',').nth(1) == Some(r))
            .expect("a row")
            .split(',')
            .skip(3)
            .map(str::to_string)
            .collect()
    };
    assert_ne!(row("2"), row("0"), "replications differ");
    let (alone, code) = run_in(&case, "alone", &["--replication", "2"]);
    assert_eq!(code, 0);
    let csv = std::fs::read_to_string(alone.join("summary.csv")).expect("summary.csv");
    let line: Vec<String> = csv
        .lines()
        .nth(1)
        .expect("a deployment")
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(line, row("2")[..line.len()]);
    assert_eq!(summary(&alone)["replication"], 2);
    // The folder's scenario.toml says which replication it holds.
    let copy = std::fs::read_to_string(alone.join("scenario.toml")).expect("copy");
    assert!(copy.contains("--replication 2"), "{copy}");
}

#[test]
fn a_sweep_whose_bands_csv_would_pass_ten_million_rows_is_told_its_size() {
    // 120 variants × 30 days of 1-minute samples × 12 states: 62 million rows.
    let (_case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 1\n[grid]\n\"simulation.seed\" = { from = 1, to = 120, step = 1 }\n\"simulation.sample_interval\" = [\"PT1M\"]\n",
    );
    let out = rollsim().arg("validate").arg(&path).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("sweep.toml: bands.csv would have about ")
            && err.contains("million rows (120 variants"),
        "{err}"
    );
    // Hourly samples: 1 million rows, nothing to tell.
    let (_case, path) = sweep_case(
        "base = \"case.toml\"\nreplications = 1\n[grid]\n\"simulation.seed\" = { from = 1, to = 120, step = 1 }\n",
    );
    let out = rollsim().arg("validate").arg(&path).output().expect("runs");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("bands.csv"));
}
