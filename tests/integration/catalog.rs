//! `[catalog]`: Graph bodies that name their content by catalog entry id alone, as Graph
//! documents them, run with what the scenario's catalog (a table, a catalog file) says of it.

use std::path::Path;

use crate::common::*;

const FEATURE_ID: &str = "f341705b-0b15-4ce3-aaf2-6a1681d78606";
const QUALITY_ID: &str = "bd9554dc-2737-4e3c-b794-fa2b8b3f4a30";

/// A deployment body naming a catalog entry of `kind` by `id` alone.
fn body(kind: &str, id: &str) -> String {
    format!(
        r##"{{
  "@odata.type": "#microsoft.graph.windowsUpdates.deployment",
  "content": {{
    "@odata.type": "#microsoft.graph.windowsUpdates.catalogContent",
    "catalogEntry": {{
      "@odata.type": "#microsoft.graph.windowsUpdates.{kind}",
      "id": "{id}"
    }}
  }}
}}
"##
    )
}

/// The tenant's catalog as `GET .../catalog/entries` returns it: the quality update, released
/// on day 3 of the scenario (the id in capitals, as PowerShell may write it), and a driver.
const CATALOG_FILE: &str = r##"{
  "@odata.context": "https://graph.microsoft.com/beta/$metadata#admin/windows/updates/catalog/entries",
  "value": [
    {
      "@odata.type": "#microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry",
      "id": "BD9554DC-2737-4E3C-B794-FA2B8B3F4A30",
      "displayName": "2026.01 B SecurityUpdate for Windows 10 and later",
      "releaseDateTime": "2026-01-15T00:00:00Z",
      "deployableUntilDateTime": null,
      "isExpeditable": true,
      "qualityUpdateClassification": "security",
      "qualityUpdateCadence": "monthly",
      "catalogName": "2026-01 Cumulative Update for Windows 10 and later",
      "shortName": "2026.01 B"
    },
    {
      "@odata.type": "#microsoft.graph.windowsUpdates.driverUpdateCatalogEntry",
      "id": "5d6dede684ba5c4a731d62d9c9c2a99db12c5e6015e9f8ad00f3e9387588cd0b",
      "displayName": "Microsoft - Display - 1.0.0.1",
      "version": "1.0.0.1",
      "driverClass": "Display"
    }
  ]
}
"##;

/// A scenario starting 2026-01-12 whose two deployments read Graph bodies naming their entries
/// by id alone: the feature entry is in the scenario's `[catalog]` table, released 42 h after
/// the start, the quality entry in `catalog.json`, released on day 3 (72 h).
fn case() -> Case {
    let text = format!(
        r##"
[simulation]
name = "catalog"
start = "2026-01-12T00:00:00Z"
horizon = "P6D"
seed = 3
sample_interval = "PT1H"

[[segments]]
name = "fleet"
devices = 200

{INSTANT_CLIENT}
{FORCE_AT_ONCE}

[[deployments]]
name = "f"
graph = "feature.json"

[[deployments]]
name = "q"
graph = "quality.json"

[catalog]
file = "catalog.json"

[catalog."{FEATURE_ID}"]
"@odata.type" = "featureUpdateCatalogEntry"
version = "Windows 11, version 24H2"
releaseDateTime = 2026-01-13T18:00:00Z
"##
    );
    let case = Case::new(&text);
    let dir = case.dir.path();
    std::fs::write(
        dir.join("feature.json"),
        body("featureUpdateCatalogEntry", FEATURE_ID),
    )
    .expect("feature body");
    std::fs::write(
        dir.join("quality.json"),
        body("qualityUpdateCatalogEntry", QUALITY_ID),
    )
    .expect("quality body");
    std::fs::write(dir.join("catalog.json"), CATALOG_FILE).expect("catalog");
    case
}

/// The devices of deployment `d` that have started taking its update (anything past the
/// offer), at each sample hour.
fn taking(rows: &[Row], d: &str) -> Vec<(f64, u64)> {
    let mut by_hour: std::collections::BTreeMap<u64, u64> = Default::default();
    for r in rows.iter().filter(|r| r.deployment == d) {
        let past_offer = !matches!(
            r.state.as_str(),
            "not_offered" | "offered" | "held" | "ineligible" | "ready"
        );
        *by_hour.entry(r.hours.to_bits()).or_default() += if past_offer { r.devices } else { 0 };
    }
    by_hour
        .into_iter()
        .map(|(h, n)| (f64::from_bits(h), n))
        .collect()
}

#[test]
fn bodies_naming_entries_by_id_alone_run_with_the_catalog_s_versions_and_releases() {
    let case = case();
    let out = case.run("run", &[]);
    let s = summary(&out);
    let text = s.to_string();
    assert!(
        text.contains("Windows feature update Windows 11, version 24H2"),
        "the table's version: {text}"
    );
    assert!(
        text.contains("quality update released 2026-01-15"),
        "the file's release: {text}"
    );
    let rows = timeseries(&out);
    for (d, release_hours) in [("f", 42.0), ("q", 72.0)] {
        let series = taking(&rows, d);
        let early: Vec<_> = series
            .iter()
            .filter(|(h, n)| *h < release_hours && *n > 0)
            .collect();
        assert!(early.is_empty(), "{d} taken before its release: {early:?}");
        assert!(
            series.iter().any(|(h, n)| *h >= release_hours && *n > 0),
            "{d} is taken after its release: {series:?}"
        );
    }
    // The folder holds the catalog file it read and runs again to the same bytes.
    assert_eq!(
        std::fs::read_to_string(out.join("catalog.json")).expect("copied"),
        CATALOG_FILE
    );
    let again = case.out("again");
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
fn a_set_of_a_catalog_entry_s_release_moves_the_update_for_one_run() {
    let case = case();
    let out = case.run(
        "later",
        &[
            "--set",
            &format!("catalog.\"{QUALITY_ID}\".releaseDateTime=2026-01-16T00:00:00Z"),
        ],
    );
    let series = taking(&timeseries(&out), "q");
    assert!(
        series.iter().all(|(h, n)| *h >= 96.0 || *n == 0),
        "released on day 4 now: {series:?}"
    );
}

#[test]
fn a_body_that_disagrees_with_the_catalog_is_an_error_naming_both_places() {
    let case = case();
    std::fs::write(
        case.dir.path().join("quality.json"),
        body("qualityUpdateCatalogEntry", QUALITY_ID).replace(
            "\"id\"",
            "\"releaseDateTime\": \"2026-01-14T00:00:00Z\",\n      \"id\"",
        ),
    )
    .expect("body");
    let a = case.run_command("bad").assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("quality.json:7:7: content.catalogEntry.releaseDateTime: is \"2026-01-14T00:00:00Z\", but the catalog entry \"BD9554DC-2737-4E3C-B794-FA2B8B3F4A30\" gives releaseDateTime = \"2026-01-15T00:00:00Z\" (value[0].releaseDateTime,")
            && err.contains("catalog.json:8:7)"),
        "{err}"
    );
    assert!(!case.out("bad").exists());
}

#[test]
fn validate_reads_a_catalog_file_and_a_body_naming_an_entry_by_id_alone() {
    let case = case();
    let dir = case.dir.path();
    let a = rollsim()
        .arg("validate")
        .arg(dir.join("catalog.json"))
        .arg(dir.join("feature.json"))
        .arg(&case.scenario)
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        out.contains("catalog.json: ok (catalog: 2 entries: 1 driver (not simulated), 1 quality)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "feature.json: ok (deployment body: feature update of catalog entry {FEATURE_ID}"
        )),
        "{out}"
    );
}

fn batch(sweep: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    rollsim()
        .arg("batch")
        .arg(sweep)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
}

#[test]
fn a_batch_folder_holds_the_catalog_file_reruns_to_the_same_bytes_and_resume_sees_it_change() {
    let case = case();
    let dir = case.dir.path();
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        "base = \"case.toml\"\nreplications = 2\n[grid]\n\"client.scan_interval\" = [\"PT12H\", \"PT22H\"]\n",
    )
    .expect("sweep");
    let out = dir.join("out");
    batch(&sweep, &out, &[]).success();
    assert_eq!(
        std::fs::read_to_string(out.join("base/catalog.json")).expect("copied"),
        CATALOG_FILE
    );
    let again = dir.join("again");
    batch(&out.join("scenario.toml"), &again, &[]).success();
    for f in ["runs.csv", "bands.csv", "variants.csv"] {
        assert_eq!(
            std::fs::read(out.join(f)).expect(f),
            std::fs::read(again.join(f)).expect(f),
            "{f}"
        );
    }
    // Another catalog is another batch: resuming into the folder is refused.
    std::fs::write(
        dir.join("catalog.json"),
        CATALOG_FILE.replace("2026-01-15T00:00:00Z", "2026-01-16T00:00:00Z"),
    )
    .expect("edit");
    let a = batch(&sweep, &out, &["--resume"]).code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("another batch"), "{err}");
}

/// The quality deployment of [`case`] with hotpatches asked for, against a catalog whose
/// quality entry lists its product revisions, the first of which is a hotpatch when `hot`.
fn hotpatch_case(hot: bool) -> (Case, String) {
    let case = case();
    let dir = case.dir.path();
    let revisions = format!(
        r#""productRevisions": [
        {{"id": "10.0.26100.2894", "product": "Windows 11", "isHotpatchUpdate": {hot}, "osBuild": {{"buildNumber": 26100}}}},
        {{"id": "10.0.22631.4751", "product": "Windows 11", "isHotpatchUpdate": false}}
      ],
      "shortName": "2026.01 B""#
    );
    std::fs::write(
        dir.join("catalog.json"),
        CATALOG_FILE.replace(r#""shortName": "2026.01 B""#, &revisions),
    )
    .expect("catalog");
    let quality = body("qualityUpdateCatalogEntry", QUALITY_ID).replace(
        "  }\n}\n",
        "  },\n  \"settings\": {\"userExperience\": {\"isHotpatchEnabled\": true}}\n}\n",
    );
    std::fs::write(dir.join("quality.json"), quality).expect("quality body");
    let out = case.run_command("o").assert().success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    (case, err)
}

#[test]
fn a_quality_entry_none_of_whose_product_revisions_is_a_hotpatch_restarts_its_devices() {
    let (case, err) = hotpatch_case(false);
    assert!(
        err.contains("settings.userExperience.isHotpatchEnabled: applies to monthly security quality updates only, but the content is a baseline security update"),
        "{err}"
    );
    let s = summary(&case.out("o"));
    let q = &s["deployments"][1];
    let restarts = |d: &serde_json::Value| {
        ["forced_restarts", "auto_restarts", "user_restarts"]
            .iter()
            .map(|k| d[k].as_u64().expect("a count"))
            .sum::<u64>()
    };
    assert!(restarts(q) > 0, "a baseline restarts: {q}");
    // A hotpatch revision among them: the update installs without a restart.
    let (case, err) = hotpatch_case(true);
    assert!(!err.contains("baseline"), "{err}");
    let s = summary(&case.out("o"));
    assert_eq!(restarts(&s["deployments"][1]), 0, "{}", s["deployments"][1]);
}
