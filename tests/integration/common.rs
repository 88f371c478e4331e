//! Helpers: a temporary folder per test, scenario text in, parsed outputs back.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn rollsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rollsim"))
}

/// A temporary working folder holding one scenario file.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub scenario: PathBuf,
}

impl Case {
    pub fn new(text: &str) -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        let scenario = dir.path().join("case.toml");
        std::fs::write(&scenario, text).expect("write scenario");
        Case { dir, scenario }
    }

    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the scenario into `out/<name>` and returns that folder; the run must succeed.
    pub fn run(&self, name: &str, extra: &[&str]) -> PathBuf {
        self.run_with_env(name, extra, &[])
    }

    /// [`Case::run`] with environment variables set for the run.
    pub fn run_with_env(&self, name: &str, extra: &[&str], env: &[(&str, &str)]) -> PathBuf {
        self.run_command(name)
            .arg("--quiet")
            .args(extra)
            .envs(env.iter().copied())
            .assert()
            .success();
        self.out(name)
    }

    /// `rollsim run <scenario> --out out/<name>`, for a test to add to and assert on.
    pub fn run_command(&self, name: &str) -> Command {
        let mut cmd = rollsim();
        cmd.arg("run")
            .arg(&self.scenario)
            .arg("--out")
            .arg(self.out(name));
        cmd
    }
}

/// The files of a run that must be byte-identical between two runs of the same inputs.
pub const RUN_FILES: [&str; 6] = [
    "timeseries.csv",
    "summary.json",
    "segments.csv",
    "events.csv",
    "restarts.csv",
    "summary.csv",
];

/// Asserts that runs `a` and `b` wrote each of [`RUN_FILES`], byte for byte the same.
pub fn assert_same_outputs(a: &Path, b: &Path) {
    for f in RUN_FILES {
        let left = std::fs::read(a.join(f)).ok();
        assert!(left.is_some(), "{f} missing in {}", a.display());
        assert_eq!(left, std::fs::read(b.join(f)).ok(), "{f} differs");
    }
}

pub fn summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json parses")
}

/// The `status` column of `expectations.csv` in `dir`, row by row (read by name: the run
/// counts follow it).
pub fn expectation_statuses(dir: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(dir.join("expectations.csv")).expect("expectations.csv");
    let c = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "status")
        .expect("a status column");
    r.records()
        .map(|x| x.expect("row")[c].to_string())
        .collect()
}

/// One row of timeseries.csv.
#[derive(Debug, Clone)]
pub struct Row {
    pub hours: f64,
    pub deployment: String,
    pub state: String,
    pub devices: u64,
}

pub fn timeseries(dir: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(dir.join("timeseries.csv")).expect("timeseries.csv");
    r.records()
        .map(|rec| {
            let rec = rec.expect("csv record");
            Row {
                hours: rec[0].parse().expect("hours"),
                deployment: rec[2].to_string(),
                state: rec[3].to_string(),
                devices: rec[4].parse().expect("devices"),
            }
        })
        .collect()
}

/// Count of `state` at each sample hour, for one deployment.
pub fn series(rows: &[Row], deployment: &str, state: &str) -> Vec<(f64, u64)> {
    rows.iter()
        .filter(|r| r.deployment == deployment && r.state == state)
        .map(|r| (r.hours, r.devices))
        .collect()
}

/// A scenario with one segment and one quality update offered at t = 0. `segment` and `extra`
/// are TOML spliced in (segment keys, then whole tables).
pub fn scenario(devices: u32, segment: &str, extra: &str) -> String {
    format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P30D"
seed = 7
sample_interval = "PT1H"

[[segments]]
name = "fleet"
devices = {devices}
{segment}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }}

{extra}
"##
    )
}

/// Client settings for an instant pipeline: no jitter unless given, zero durations.
pub const INSTANT_CLIENT: &str = r#"
[client]
scan_jitter = "PT0S"
[client.quality]
download_time = "PT0S"
install_time = "PT0S"
restart_time = "PT0S"
"#;

/// A policy that restarts at once after install: deadline 0, grace 0.
pub const FORCE_AT_ONCE: &str = r#"
[policies.default]
quality_deadline = "P0D"
quality_grace = "P0D"
"#;
