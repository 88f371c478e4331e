//! `rollsim merge`: the run records the shards of a batch wrote, combined into the outputs of
//! the whole batch, exactly as an unsharded batch writes them. The shards' manifests must agree
//! (same sweep, replications, seed, shard count, `--set` and `--devices`) and every run must
//! have a record.
//!
//! In the library so that a program embedding rollsim that ran the shards on a cluster merges
//! them without the command line.

use std::path::PathBuf;

use super::output::{guard_inputs, guard_out};
use super::{Exit, problem};
use crate::{Error, batch};

/// What to merge and where: `rollsim merge`'s options.
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// The shard folders (each with `manifest.json` and `runs/`).
    pub dirs: Vec<PathBuf>,
    /// Output folder (neither one of the shard folders nor a folder holding one).
    pub out: PathBuf,
    /// Replace the output folder even if it does not look like rollsim's.
    pub force: bool,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// Writes the outputs of the batch whose shards are `opts.dirs`; [`Exit::Missed`] when a
/// variant misses an `[[expect]]`.
pub fn merge(opts: &MergeOptions) -> Result<Exit, Error> {
    let (dirs, out) = (opts.dirs.as_slice(), opts.out.as_path());
    guard_inputs(out, dirs, "the shard folder given to merge")?;
    guard_out(out, opts.force)?;
    // The command line asks for at least one folder; a caller of the library may pass none.
    if dirs.is_empty() {
        return Err(problem("merge", "", "no shard folders given"));
    }
    let mut manifests = Vec::new();
    for d in dirs {
        let m = d.join("manifest.json");
        let text = std::fs::read_to_string(&m).map_err(|source| Error::Read {
            path: m.clone(),
            source,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            problem(
                m.display(),
                "",
                format!("not a rollsim shard manifest: {e}"),
            )
        })?;
        manifests.push(v);
    }
    let key = |v: &serde_json::Value| {
        (
            v["sweep"].as_str().unwrap_or_default().to_string(),
            v["replications"].as_u64(),
            v["seed"].as_u64(),
            v["shards"].as_u64(),
            v["batch"].as_str().map(String::from),
        )
    };
    let first = key(&manifests[0]);
    for (d, m) in dirs.iter().zip(&manifests) {
        if key(m) != first {
            return Err(problem(
                d.display(),
                "",
                "belongs to another batch (sweep, replications, seed, shard count, --set or --devices differ)",
            ));
        }
    }
    let (sweep_path, reps, _, _, id) = first;
    let sweep_path = PathBuf::from(sweep_path);
    // The shards' --set and --devices (none in older manifests).
    let overrides = batch::sweep::Overrides {
        sets: manifests[0]["set"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        devices: manifests[0]["devices"].as_u64(),
    };
    let sweep = batch::sweep::Sweep::load_with(&sweep_path, &overrides)?;
    let reps = reps.unwrap_or(sweep.replications);
    // Manifests of older versions carry no identity; theirs cannot be checked.
    if id.is_some_and(|id| id != batch::batch_id(&sweep, reps)) {
        return Err(problem(
            sweep_path.display(),
            "",
            "changed since the shards ran (or its base scenario did): their records are of another batch; run the shards again",
        ));
    }
    let list = super::batch::jobs_of(&sweep);
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for (vi, job) in list.iter().enumerate() {
        let mut acc = batch::Accumulator::new(job, job.scenario);
        for r in 0..reps {
            let k = vi as u64 * reps + r;
            match dirs
                .iter()
                .find_map(|d| batch::record::load(&d.join("runs"), k))
            {
                Some(rec) => acc.add(rec),
                None => missing.push(k),
            }
        }
        results.push(acc.finish());
    }
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(u64::to_string).collect();
        // The folders named are the input, and they are incomplete: bad input, like folders
        // of another batch.
        return Err(problem(
            "merge",
            "",
            format!(
                "{} runs are missing from the shard folders (runs {}{}): run the missing shards (or rerun them with --resume) and merge again",
                missing.len(),
                shown.join(", "),
                if missing.len() > 10 { ", …" } else { "" }
            ),
        ));
    }
    super::batch::batch_outputs(&sweep_path, &sweep, &results, reps, out, opts.quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_no_shard_folders_is_bad_input_rather_than_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let opts = MergeOptions {
            out: dir.path().join("merged"),
            quiet: true,
            ..Default::default()
        };
        let e = merge(&opts).expect_err("nothing to merge");
        assert!(e.is_bad_input(), "{e}");
        assert_eq!(e.to_string(), "merge: no shard folders given");
    }
}
