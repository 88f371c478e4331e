//! `rollsim batch`: a sweep's variants, each replicated, run in parallel and written to an
//! output folder (runs.csv, bands.csv, variants.csv, expectations.csv, charts, report.html);
//! or one shard of it, which keeps its run records and a manifest for `merge`. Run records
//! are kept beside the output folder so that `resume` reuses the runs an interrupted batch
//! completed.
//!
//! In the library so that a program embedding rollsim runs a sweep, or one shard of it on a
//! cluster, with the same records, resumption and outputs as the command line.

use std::path::{Path, PathBuf};

use super::output::{default_out, guard_inputs, guard_out, write_file_atomic, write_folder};
use super::{Exit, concurrent_runs, count, gate, problem, progress, threads};
use crate::batch::{self, Shard};
use crate::{Error, Scenario, sim};

/// What to run and how: `rollsim batch`'s options.
#[derive(Clone, Debug, Default)]
pub struct BatchOptions {
    /// The sweep file (TOML).
    pub sweep: PathBuf,
    /// Output folder (default: `output/<sweep stem>/`).
    pub out: Option<PathBuf>,
    /// Worker threads [default: all cores].
    pub jobs: Option<usize>,
    /// Replications per variant instead of the sweep's `replications`.
    pub replications: Option<u64>,
    /// Rescale every variant's fleet to this many devices, keeping segment shares.
    pub devices: Option<u64>,
    /// Changes to the base scenario as `PATH=VALUE`, for every variant.
    pub sets: Vec<String>,
    /// Run only this shard's runs and keep their records and a manifest for
    /// [`merge`](super::merge); [`shard_of`](super::shard_of) works it out as `--shard` does.
    pub shard: Option<Shard>,
    /// Keep the records of runs an interrupted batch completed instead of running them again.
    pub resume: bool,
    /// Replace the output folder even if it does not look like rollsim's.
    pub force: bool,
    /// Print nothing but errors (and no progress bar).
    pub quiet: bool,
}

/// Runs the sweep `opts.sweep` and writes its outputs (or, for a shard, its run records and
/// manifest); [`Exit::Missed`] when a variant misses an `[[expect]]`.
pub fn batch(opts: &BatchOptions) -> Result<Exit, Error> {
    let (path, quiet) = (opts.sweep.as_path(), opts.quiet);
    let out = opts.out.clone().unwrap_or_else(|| default_out(path));
    guard_inputs(&out, std::slice::from_ref(&opts.sweep), "the sweep file")?;
    guard_out(&out, opts.force)?;
    let overrides = batch::sweep::Overrides {
        sets: opts.sets.clone(),
        devices: opts.devices,
    };
    let sweep = batch::sweep::Sweep::load_with(path, &overrides)?;
    if !quiet {
        sweep
            .warnings
            .iter()
            .for_each(|w| eprintln!("warning: {w}"));
    }
    let reps = opts.replications.unwrap_or(sweep.replications);
    let list = jobs_of(&sweep);
    let id = batch::batch_id(&sweep, reps);
    let total = reps * list.len() as u64;
    let mine = (0..total)
        .filter(|&k| opts.shard.is_none_or(|s| s.owns(k)))
        .count() as u64;
    for v in &sweep.variants {
        sim::check_memory(&v.scenario, concurrent_runs(opts.jobs, mine))?;
    }
    let bar = progress(mine, quiet);
    let reused = std::sync::atomic::AtomicU64::new(0);
    let tick = |from_record: bool| {
        if from_record {
            reused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        bar.inc(1);
    };
    let threads = threads(opts.jobs);
    if let Some(shard) = opts.shard {
        // A shard (even 1/1) keeps its run records and a manifest; `merge` aggregates.
        let runs = out.join("runs");
        prepare_records(&runs, &id, opts.resume)?;
        batch::run_all(&list, reps, threads, &tick, Some(&runs), Some(shard))?;
        bar.finish_and_clear();
        let sweep_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let manifest = serde_json::json!({
            "sweep": sweep_path.display().to_string(),
            "replications": reps,
            "seed": sweep.seed,
            "batch": id,
            "shard": shard.index,
            "shards": shard.count,
            "runs": mine,
            "set": overrides.sets,
            "devices": overrides.devices,
        });
        let text = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        write_file_atomic(
            &out.join("manifest.json"),
            &out.join(".manifest.json.tmp"),
            &text,
        )?;
        if opts.resume && !quiet {
            println!("{}", reused_line(reused.into_inner(), mine, &runs));
        }
        if !quiet {
            println!(
                "{}: shard {}/{}: {mine} of {total} runs; records in {}",
                path.display(),
                shard.index,
                shard.count,
                runs.display()
            );
        }
        return Ok(Exit::Ok);
    }
    // Run records live beside the output folder: `--resume` reuses them after an interruption.
    let partial = PathBuf::from(format!("{}.runs", out.display()));
    prepare_records(&partial, &id, opts.resume)?;
    let results = batch::run_all(&list, reps, threads, &tick, Some(&partial), None)?;
    bar.finish_and_clear();
    if opts.resume && !quiet {
        println!("{}", reused_line(reused.into_inner(), mine, &partial));
    }
    batch_outputs(path, &sweep, &results, reps, &out, quiet)
}

/// The sweep's variants as jobs, in the order run numbers count them.
pub(super) fn jobs_of(sweep: &batch::sweep::Sweep) -> Vec<batch::Job<'_>> {
    sweep
        .variants
        .iter()
        .map(|v| batch::Job {
            name: v.name.clone(),
            params: v.values(&sweep.parameters),
            scenario: &v.scenario,
            seed: v.scenario.seed,
            first_replication: 0,
            first_run: None,
        })
        .collect()
}

/// What `--resume` took from the records folder `dir`.
fn reused_line(reused: u64, runs: u64, dir: &Path) -> String {
    format!(
        "--resume: {reused} of {runs} runs reused from {}, {} run now",
        dir.display(),
        runs - reused.min(runs)
    )
}

/// Name of the file in a records folder that holds the identity of the batch the records are of.
const BATCH_FILE: &str = "batch.json";

/// Readies the run-records folder `dir` of batch `id`. Without `resume` old records are deleted.
/// With it, records are kept only if they are this batch's: records of another sweep or another
/// replication count have the same file names but other runs behind them, and reusing them would
/// mix variants silently.
fn prepare_records(dir: &Path, id: &str, resume: bool) -> Result<(), Error> {
    let write_err = |p: &Path, e: std::io::Error| Error::Write {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    let has_records = std::fs::read_dir(dir).is_ok_and(|mut es| {
        es.any(|e| {
            e.is_ok_and(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with("run-") && n.ends_with(".bin")
            })
        })
    });
    if has_records && resume {
        let theirs = std::fs::read(dir.join(BATCH_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["batch"].as_str().map(String::from));
        if theirs.as_deref() != Some(id) {
            return Err(problem(
                dir.display(),
                "--resume",
                "holds the run records of another batch (the sweep file, its base scenario, --replications or rollsim's version differ): drop --resume to run the batch afresh, or choose a new --out",
            ));
        }
    } else if !resume && dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| write_err(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let text = serde_json::to_vec_pretty(&serde_json::json!({ "batch": id })).unwrap_or_default();
    write_file_atomic(
        &dir.join(BATCH_FILE),
        &dir.join(format!(".{BATCH_FILE}.tmp")),
        &text,
    )
}

/// Writes a batch's outputs (also what `merge` does).
pub(super) fn batch_outputs(
    path: &Path,
    sweep: &batch::sweep::Sweep,
    results: &[batch::VariantResult],
    reps: u64,
    out: &Path,
    quiet: bool,
) -> Result<Exit, Error> {
    let outcomes = batch::check(results, |i| sweep.expectations(&results[i].name));
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // The sweep as run (its name, the base scenario's, and --replications if it changed the
    // count).
    let text = sweep.as_run(&text, reps);
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("runs.csv", batch::runs_csv(results, &sweep.parameters)?),
        ("bands.csv", batch::bands_csv(results)?),
        (
            "variants.csv",
            batch::variants_csv(results, &sweep.parameters)?,
        ),
        ("scenario.toml", text),
    ];
    files.extend(sweep.base_copy.iter().map(|(n, b)| (n.as_str(), b.clone())));
    if !outcomes.is_empty() {
        files.push(("expectations.csv", batch::expectations_csv(&outcomes)?));
    }
    write_folder(out, files)?;
    if !quiet {
        // Known only now that the fleets are drawn: once per variant and deployment.
        let scenarios: Vec<&Scenario> = sweep.variants.iter().map(|v| &v.scenario).collect();
        batch::empty_audience_warnings(&scenarios, results)
            .iter()
            .for_each(|w| eprintln!("warning: {w}"));
        println!(
            "{}: {} × {}; results in {}",
            path.display(),
            count(results.len() as u64, "variant"),
            count(reps, "replication"),
            out.display()
        );
        print!("{}", batch::variant_lines(results));
        print!("{}", batch::outcome_lines(&outcomes));
    } else {
        eprint!("{}", batch::missed_lines(&outcomes));
    }
    Ok(gate(&outcomes))
}
