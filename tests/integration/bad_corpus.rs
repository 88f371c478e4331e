//! The corpus of malformed inputs in `tests/bad_inputs/`: every file must be rejected by
//! `rollsim validate` with exit code 2, a message containing each fragment of its `.expect` file,
//! its file name with line and column, each problem on a line of its own, and no panic; a scenario run must create no output folder.

use std::path::Path;

use crate::common::*;

#[test]
fn every_malformed_input_is_rejected_with_a_located_message_and_no_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "toml" || x == "json" || x == "csv")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} inputs", files.len());
    let tmp = tempfile::tempdir().expect("tmp");
    let mut failures = Vec::new();
    for f in &files {
        let expect = std::fs::read_to_string(f.with_extension("expect")).expect(".expect file");
        let out = rollsim().arg("validate").arg(f).output().expect("runs");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if out.status.code() != Some(2) {
            failures.push(format!("{name}: exit {:?}: {err}", out.status.code()));
            continue;
        }
        if err.contains("panicked") {
            failures.push(format!("{name}: panic: {err}"));
        }
        // One problem, one line, naming its file: a value with a line break is shown escaped,
        // not as a second line without a place.
        if let Some(l) = err.lines().find(|l| {
            ![".toml:", ".json:", ".csv:"]
                .iter()
                .any(|ext| l.contains(ext))
        }) {
            failures.push(format!("{name}: a line of stderr naming no file: {l:?}"));
        }
        if !err.contains(&format!("{name}:")) {
            failures.push(format!("{name}: no file:line in {err}"));
        }
        for frag in expect.lines().filter(|l| !l.is_empty()) {
            if !err.contains(frag) {
                failures.push(format!("{name}: expected {frag:?} in {err}"));
            }
        }
        if f.extension().is_some_and(|x| x == "toml") {
            let o = tmp.path().join(&name);
            let run = rollsim()
                .arg("run")
                .arg(f)
                .arg("--out")
                .arg(&o)
                .output()
                .expect("runs");
            if run.status.code() != Some(2) || o.exists() {
                failures.push(format!(
                    "{name}: run exit {:?}, output {}",
                    run.status.code(),
                    o.exists()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
