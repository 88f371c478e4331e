//! The output folder of `run`, `batch` and `merge`: its default name, the guards that refuse to
//! replace a folder rollsim did not write (or one holding the inputs), and atomic writes.
//!
//! Every command that replaces a folder goes through these guards, so a program embedding
//! rollsim cannot delete someone's documents by passing the wrong `out` any more than the
//! command line can.

use std::path::{Path, PathBuf};

use super::problem;
use crate::{Error, report};

/// `output/<stem of the scenario or sweep file>`.
pub(super) fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    PathBuf::from("output").join(stem.unwrap_or_else(|| "run".into()))
}

/// Files that mark a folder as rollsim's output.
const MARKERS: [&str; 5] = [
    "summary.json",
    "variants.csv",
    "manifest.json",
    "report.html",
    "bands.csv",
];

/// Refuses to replace an existing, non-empty folder that rollsim did not write, unless forced:
/// `--out ~/Documents` must not delete someone's documents.
pub(super) fn guard_out(out: &Path, force: bool) -> Result<(), Error> {
    let refuse = |message: &str| Err(problem(out.display(), "--out", message));
    // `--force` is for folders: a file under that name is someone's, never rollsim's output.
    if out.symlink_metadata().is_ok() && !out.is_dir() {
        return refuse(
            "exists and is a file, not a folder; rollsim writes a folder and never replaces a file, even with --force: choose another --out",
        );
    }
    // Writing the output replaces the folder: the folder a user works in (or one holding it)
    // would go with everything in it, even with --force.
    if let (Ok(target), Ok(here)) = (std::fs::canonicalize(out), std::env::current_dir())
        && let Ok(here) = std::fs::canonicalize(here)
        && here.starts_with(&target)
    {
        let what = if here == target { "is" } else { "holds" };
        return refuse(&format!(
            "{what} the current folder: writing the output replaces the whole folder and everything in it, even with --force; choose a folder of its own, such as output/NAME"
        ));
    }
    let Ok(mut entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    let empty = entries.next().is_none();
    // A shard folder holds run records before its manifest is written.
    let shard = out.join("runs").is_dir();
    if force || empty || shard || MARKERS.iter().any(|m| out.join(m).exists()) {
        return Ok(());
    }
    refuse(
        "exists and does not look like a rollsim output folder (no summary.json, report.html, …); it would be replaced: choose another folder or pass --force",
    )
}

/// Refuses an output folder that is one of `inputs` or holds one, even with `--force`: writing
/// the output replaces the folder, and with it the shard records `merge` reads, or the scenario
/// or sweep file a run reads (`what` names them).
pub(super) fn guard_inputs(out: &Path, inputs: &[PathBuf], what: &str) -> Result<(), Error> {
    // A folder that does not exist yet holds nothing.
    let Ok(target) = std::fs::canonicalize(out) else {
        return Ok(());
    };
    for d in inputs {
        let Ok(input) = std::fs::canonicalize(d) else {
            continue;
        };
        if input.starts_with(&target) {
            let is = if input == target { "is" } else { "holds" };
            return Err(problem(
                out.display(),
                "--out",
                format!(
                    "{is} {what} {}: writing the output would delete it; choose another --out",
                    d.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Adds the charts and report.html drawn from `files` and writes the folder atomically.
pub(super) fn write_folder(out: &Path, files: Vec<(&str, Vec<u8>)>) -> Result<(), Error> {
    let charts = report::charts::render_files(&files, &Default::default())?;
    let html = report::html::report_html(&files, &charts).into_bytes();
    let mut all: Vec<(&str, Vec<u8>)> = files;
    all.extend(charts.iter().map(|(n, b)| (n.as_str(), b.clone())));
    all.push(("report.html", html));
    report::write_dir_atomic(out, &all)
}

/// Writes `bytes` to `tmp`, then renames it to `path`, so that a file under its final name is
/// complete (a reader of a shard's manifest or of a re-plotted chart never sees half of it).
/// Errors name `path`: the temporary name means nothing to the user.
pub(super) fn write_file_atomic(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<(), Error> {
    let write_err = |e: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::write(tmp, bytes).map_err(write_err)?;
    if let Err(e) = std::fs::rename(tmp, path) {
        let _ = std::fs::remove_file(tmp);
        return Err(write_err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_rollsim_did_not_write_is_replaced_only_when_forced() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("documents");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::write(theirs.join("letter.txt"), "dear").unwrap();
        let e = guard_out(&theirs, false).expect_err("refused");
        assert!(e.is_bad_input() && e.to_string().contains("--force"), "{e}");
        guard_out(&theirs, true).unwrap();
        // A folder rollsim wrote, a new one and an empty one need no --force.
        std::fs::write(theirs.join("summary.json"), "{}").unwrap();
        guard_out(&theirs, false).unwrap();
        guard_out(&dir.path().join("new"), false).unwrap();
        // A file is never replaced, forced or not.
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "x").unwrap();
        let e = guard_out(&file, true).expect_err("a file");
        assert!(e.to_string().contains("is a file"), "{e}");
    }

    #[test]
    fn an_output_folder_holding_an_input_is_refused_even_when_forced() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join("plans").join("s.toml");
        std::fs::create_dir_all(scenario.parent().unwrap()).unwrap();
        std::fs::write(&scenario, "").unwrap();
        let e = guard_inputs(
            dir.path(),
            std::slice::from_ref(&scenario),
            "the scenario file",
        )
        .expect_err("refused");
        assert!(e.to_string().contains("holds the scenario file"), "{e}");
        guard_inputs(&dir.path().join("out"), &[scenario], "the scenario file").unwrap();
    }

    #[test]
    fn a_file_written_atomically_replaces_the_old_one_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let (path, tmp) = (dir.path().join("manifest.json"), dir.path().join(".m.tmp"));
        std::fs::write(&path, "old").unwrap();
        write_file_atomic(&path, &tmp, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!tmp.exists());
        // Errors name the file asked for, not the temporary one.
        let missing = dir.path().join("no-such-folder").join("f");
        let e = write_file_atomic(&missing, &dir.path().join("no-such-folder/.f.tmp"), b"x")
            .expect_err("no folder");
        assert!(
            matches!(&e, Error::Write { path, .. } if *path == missing),
            "{e}"
        );
    }
}
