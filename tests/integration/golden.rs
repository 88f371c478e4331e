//! Golden outputs: every shipped scenario's summary and a fingerprint of its CSV files are
//! snapshots (insta). A change to the model or a refactoring that changes any output shows up here;
//! optimisations must leave them byte-identical. Review a deliberate change with
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test --release golden`).

use std::path::Path;

use crate::common::*;

/// FNV-1a: a stable fingerprint of a file, so the snapshot stays small.
fn fnv(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

#[test]
fn the_shipped_scenarios_produce_their_golden_outputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("scenarios folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        // Sweep files name a base scenario; they are not scenarios themselves.
        .filter(|n| !n.starts_with("sweep"))
        .collect();
    names.sort();
    let dir = tempfile::tempdir().expect("tmp");
    for name in names {
        let out = dir.path().join(&name);
        let mut cmd = rollsim();
        cmd.arg("run")
            .arg(root.join(format!("{name}.toml")))
            .arg("--out")
            .arg(&out)
            .arg("--quiet");
        if name == "bench-1m" {
            cmd.args(["--devices", "20000"]);
        }
        cmd.assert().success();
        let mut text = std::fs::read_to_string(out.join("summary.csv")).expect("summary.csv");
        for f in [
            "timeseries.csv",
            "events.csv",
            "restarts.csv",
            "summary.json",
            "segments.csv",
        ] {
            let bytes = std::fs::read(out.join(f)).expect("output file");
            text.push_str(&format!("{f} {}\n", fnv(&bytes)));
        }
        insta::assert_snapshot!(name, text);
    }
}
