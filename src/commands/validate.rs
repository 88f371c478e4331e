//! `rollsim validate`: scenario and sweep files (.toml), Graph request bodies (.json) and fleet
//! inventories (.csv) checked without running them. Every file is checked and every problem
//! printed, so one call names all that is wrong.
//!
//! In the library so that a program embedding rollsim checks files the user hands it exactly as
//! the command line does.

use std::path::{Path, PathBuf};

use super::{Exit, count, print_error};
use crate::{Error, Scenario, batch};

/// The files to check: `rollsim validate`'s options.
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    /// Files to check; the extension says what each is (.json a Graph body, .csv an inventory,
    /// anything else a scenario or, if it has a sweep's keys, a sweep).
    pub files: Vec<PathBuf>,
}

/// Checks every file, printing `FILE: ok (…)` on stdout or its problems on stderr;
/// [`Exit::Invalid`] when any file has a problem.
pub fn validate(opts: &ValidateOptions) -> Result<Exit, Error> {
    let mut bad = false;
    for f in &opts.files {
        match check(f) {
            Ok(what) => println!("{}: ok ({what})", f.display()),
            Err(e) => {
                print_error(&e);
                bad = true;
            }
        }
    }
    Ok(if bad { Exit::Invalid } else { Exit::Ok })
}

/// Checks one file, printing its warnings; what it is (`sweep: 3 variants × 20 replications`)
/// when it is fine.
fn check(f: &Path) -> Result<String, Error> {
    let is = |ext: &str| f.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if is("json") {
        let (what, warnings) = crate::scenario::deployment::validate_graph_file(f)?;
        warnings.iter().for_each(|w| eprintln!("warning: {w}"));
        return Ok(what);
    }
    if is("csv") {
        return crate::scenario::inventory::validate_file(f);
    }
    let is_sweep = std::fs::read_to_string(f)
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .is_some_and(|t| {
            crate::scenario::SWEEP_KEYS
                .iter()
                .any(|k| t.contains_key(*k))
        });
    if is_sweep {
        let s = batch::sweep::Sweep::load(f)?;
        s.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
        return Ok(format!(
            "sweep: {} × {}",
            count(s.variants.len() as u64, "variant"),
            count(s.replications, "replication")
        ));
    }
    let sc = Scenario::load(f)?;
    sc.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    Ok(format!(
        "{}, {}",
        count(sc.devices(), "device"),
        count(sc.deployments.len() as u64, "deployment")
    ))
}
