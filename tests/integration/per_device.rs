//! `run --per-device`: devices.csv, each device's outcome per deployment, agrees with the
//! aggregate outputs and names devices as audiences and inventories do.

use std::collections::HashMap;
use std::path::Path;

use crate::common::*;

const COLUMNS: [&str; 8] = [
    "deployment",
    "device",
    "segment",
    "state",
    "compliant_hours",
    "restart",
    "restart_hours",
    "restart_in_active_hours",
];

/// devices.csv of `dir`: its header and its rows, each by column name.
fn devices(dir: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(dir.join("devices.csv")).expect("devices.csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("row");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn devices_csv_says_which_devices_end_compliant_and_a_never_online_segment_never_does() {
    let text = format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P5D"
seed = 3
sample_interval = "PT1H"

{INSTANT_CLIENT}
{FORCE_AT_ONCE}

[[segments]]
name = "on"
devices = 20
availability = {{ profile = "always_on" }}
attributes = {{ model = "D100" }}

[[segments]]
name = "off"
devices = 10
availability = {{ profile = "never" }}
attributes = {{ driver = "gfx-30.1" }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }}
"##
    );
    let case = Case::new(&text);
    let out = case.run("out", &["--per-device"]);
    let (header, rows) = devices(&out);
    assert_eq!(header[..8], COLUMNS);
    // Attribute columns follow the fixed ones, one per attribute name of the fleet.
    assert_eq!(header[8..], ["driver", "model"]);
    assert_eq!(rows.len(), 30);
    for r in &rows {
        let on = r["segment"] == "on";
        assert_eq!(r["deployment"], "q");
        if on {
            assert_eq!(r["state"], "compliant", "{r:?}");
            assert!(r["compliant_hours"].parse::<f64>().is_ok(), "{r:?}");
            // Deadline and grace 0: every restart is forced, at once.
            assert_eq!(r["restart"], "forced", "{r:?}");
            assert_eq!(r["restart_hours"], r["compliant_hours"], "{r:?}");
            assert_eq!((r["model"].as_str(), r["driver"].as_str()), ("D100", ""));
        } else {
            assert_eq!(r["state"], "offered", "{r:?}");
            assert_eq!(r["compliant_hours"], "", "{r:?}");
            assert_eq!(r["restart"], "", "{r:?}");
            assert_eq!(r["restart_in_active_hours"], "", "{r:?}");
            assert_eq!(
                (r["model"].as_str(), r["driver"].as_str()),
                ("", "gfx-30.1")
            );
        }
    }
    // Devices are named as audience entries name them, "<segment>-<n>", n from 1.
    let names: Vec<&str> = rows.iter().map(|r| r["device"].as_str()).collect();
    let expected: Vec<String> = (1..=20)
        .map(|n| format!("on-{n}"))
        .chain((1..=10).map(|n| format!("off-{n}")))
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn devices_csv_counts_compliant_devices_and_restarts_of_each_kind_as_summary_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    // Two deployments each, forced, automatic and users' restarts, and no rollback: summary
    // counts restarts, devices.csv each device's last, which are the same only without them.
    for name in ["expedite-vs-regular", "deadline-vs-no-deadline"] {
        let case = Case::new(
            &std::fs::read_to_string(root.join(format!("{name}.toml"))).expect("scenario"),
        );
        let out = case.run("out", &["--per-device"]);
        let (_, rows) = devices(&out);
        let s = summary(&out);
        let deps = s["deployments"].as_array().expect("deployments");
        assert_eq!(deps.len(), 2, "{name}");
        for d in deps {
            let dep = d["name"].as_str().expect("a name");
            assert_eq!(
                d["rollbacks"], 0,
                "{name}: the comparison needs no rollback"
            );
            let mine: Vec<_> = rows.iter().filter(|r| r["deployment"] == dep).collect();
            let count = |f: &dyn Fn(&HashMap<String, String>) -> bool| {
                mine.iter().filter(|r| f(r)).count() as u64
            };
            let compliant = count(&|r| r["state"] == "compliant");
            assert_eq!(
                Some(compliant),
                d["devices_compliant"].as_u64(),
                "{name} {dep}"
            );
            assert_eq!(
                count(&|r| r["state"] == "compliant" && r["compliant_hours"].is_empty()),
                0
            );
            for kind in ["forced", "auto", "user"] {
                let n = count(&|r| r["restart"] == kind);
                assert_eq!(
                    Some(n),
                    d[format!("{kind}_restarts")].as_u64(),
                    "{name} {dep} {kind}"
                );
            }
            // Summary counts the restarts in active hours that were not the user's own.
            let active =
                count(&|r| r["restart_in_active_hours"] == "true" && r["restart"] != "user");
            assert_eq!(
                Some(active),
                d["restarts_in_active_hours"].as_u64(),
                "{name} {dep}"
            );
            assert_eq!(
                Some(mine.len() as u64),
                d["devices_targeted"].as_u64(),
                "{name} {dep}"
            );
        }
    }
}

#[test]
fn an_inventory_scenarios_devices_are_named_as_the_inventory_writes_them() {
    let case = Case::new(&format!(
        r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P3D"
seed = 5
sample_interval = "PT1H"

{INSTANT_CLIENT}
{FORCE_AT_ONCE}

[fleet]
inventory = "devices.csv"

[[segments]]
name = "office"
availability = {{ profile = "always_on" }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12" }}
audience = {{ members = ["office"], exclusions = ["desktop-b"] }}
"##
    ));
    std::fs::write(
        case.dir.path().join("devices.csv"),
        "name,segment,availability,model\n\
         DESKTOP-A,office,,D100\n\
         DESKTOP-B,office,,D100\n\
         {F18DD1EE-D77C-96C0-084F-3DD6415AF341},office,never,D200\n\
         Kiosk-7,office,,\n",
    )
    .expect("inventory");
    let out = case.run("out", &["--per-device"]);
    let (header, rows) = devices(&out);
    assert_eq!(header[8..], ["model"]);
    let mut by_name: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["device"].as_str(),
                r["state"].as_str(),
                r["model"].as_str(),
            )
        })
        .collect();
    by_name.sort();
    // As written (case, braces), not as names are compared; the excluded device has no row.
    assert_eq!(
        by_name,
        [
            ("DESKTOP-A", "compliant", "D100"),
            ("Kiosk-7", "compliant", ""),
            ("{F18DD1EE-D77C-96C0-084F-3DD6415AF341}", "offered", "D200"),
        ]
    );
    assert!(rows.iter().all(|r| r["segment"] == "office"));
}

#[test]
fn devices_csv_is_written_only_on_request_and_shows_replication_0_of_replications() {
    let text = format!(
        "{}{INSTANT_CLIENT}",
        scenario(40, r#"availability = { profile = "laptop" }"#, "")
    );
    let case = Case::new(&text);
    let plain = case.run("plain", &[]);
    assert!(!plain.join("devices.csv").exists());
    let one = case.run("one", &["--per-device"]);
    assert_same_outputs(&plain, &one);
    let reps = case.run(
        "reps",
        &["--per-device", "--replications", "3", "--jobs", "1"],
    );
    assert_eq!(
        std::fs::read(one.join("devices.csv")).ok(),
        std::fs::read(reps.join("devices.csv")).ok()
    );
    // Another replication's devices differ: the file is the replication the folder shows.
    let other = case.run("other", &["--per-device", "--replication", "1"]);
    assert_ne!(
        std::fs::read(one.join("devices.csv")).ok(),
        std::fs::read(other.join("devices.csv")).ok()
    );
}

#[test]
fn a_batch_has_no_per_device_table_and_says_so_as_a_usage_error() {
    let case = Case::new("");
    let a = rollsim()
        .arg("batch")
        .arg(&case.scenario)
        .arg("--per-device")
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("--per-device"), "{err}");
}
