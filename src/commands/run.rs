//! `rollsim run`: one scenario, simulated for a seed and written to an output folder (the run's
//! CSV and JSON files, the scenario as run with the inputs it read, charts and report.html);
//! with `replications` or `[[expect]]` gates, the same scenario is also run as a one-variant
//! batch for bands.csv, runs.csv and expectations.csv.
//!
//! In the library so that a program embedding rollsim writes a run's folder exactly as the
//! command line does, output-folder guards included.

use std::path::{Path, PathBuf};

use super::output::{default_out, guard_inputs, guard_out, write_folder};
use super::{Exit, concurrent_runs, gate, progress, threads};
use crate::{Error, Scenario, batch, report, sim};

/// What to run and how: `rollsim run`'s options.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder (default: `output/<scenario stem>/`).
    pub out: Option<PathBuf>,
    /// Seed instead of the scenario's `[simulation] seed`.
    pub seed: Option<u64>,
    /// Run this replication alone (0-based) and write its full outputs [default: 0].
    pub replication: Option<u64>,
    /// Rescale the fleet to this many devices, keeping segment shares.
    pub devices: Option<u64>,
    /// Changes to the scenario as `PATH=VALUE` (`simulation.horizon=P90D`), applied in order.
    pub sets: Vec<String>,
    /// Replications (seed, replication 0…N−1) for bands.csv and runs.csv [default: 1].
    pub replications: Option<u64>,
    /// Worker threads for replications [default: all cores].
    pub jobs: Option<usize>,
    /// Print events processed, events per second and time per phase on stderr.
    pub stats: bool,
    /// Replace the output folder even if it does not look like rollsim's.
    pub force: bool,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Also write devices.csv: each device's outcome per deployment (of the replication whose
    /// outputs are written), at 9 bytes more a device and deployment while it runs.
    pub per_device: bool,
}

/// Runs `opts.scenario` and writes its output folder; [`Exit::Missed`] when an `[[expect]]` is
/// missed (the outputs are written all the same).
///
/// ```no_run
/// use rollsim::commands::{Exit, RunOptions, run};
///
/// let opts = RunOptions {
///     scenario: "scenarios/quality-update-office-fleet.toml".into(),
///     out: Some("output/embedded".into()),
///     quiet: true,
///     ..Default::default()
/// };
/// assert_eq!(run(&opts)?, Exit::Ok);
/// # Ok::<(), rollsim::Error>(())
/// ```
pub fn run(opts: &RunOptions) -> Result<Exit, Error> {
    let (path, quiet) = (opts.scenario.as_path(), opts.quiet);
    let (mut sc, text) = Scenario::load_with(path, &opts.sets)?;
    if !quiet {
        sc.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    }
    if let Some(n) = opts.devices {
        sc.scale_devices(n);
    }
    // Replications run `--jobs` at a time, each with its own fleet.
    let reps = opts.replications.unwrap_or(1);
    let per_device = match opts.per_device {
        true => sc
            .devices()
            .saturating_mul(sc.deployments.len() as u64)
            .saturating_mul(110),
        false => 0,
    };
    sim::check_memory_with(&sc, concurrent_runs(opts.jobs, reps), per_device)?;
    let out = opts.out.clone().unwrap_or_else(|| default_out(path));
    guard_inputs(&out, &[path.to_path_buf()], "the scenario file")?;
    guard_out(&out, opts.force)?;
    let seed = opts.seed.unwrap_or(sc.seed);
    let result = sim::run_with(&sc, seed, opts.replication.unwrap_or(0), opts.per_device)?;
    if !quiet {
        // Known only now that the fleet is drawn; this run's, told once (other replications'
        // are counted once they are done, in `replicate`).
        let shown = path.display().to_string();
        let text = String::from_utf8_lossy(&text);
        let empty = crate::scenario::deployment::empty_audience_warnings(
            &sc,
            &result.start_audiences,
            seed,
            (&shown, &text),
        );
        empty.iter().for_each(|w| eprintln!("warning: {w}"));
    }
    let t = std::time::Instant::now();
    let mut files: Vec<(&str, Vec<u8>)> = report::run_files(&sc, &result)?;
    if let Some(table) = &result.per_device {
        files.push(("devices.csv", crate::per_device::devices_csv(&sc, table)?));
    }
    files.push(("scenario.toml", scenario_as_run(opts, &sc, &text)));
    // The Graph bodies and inventory it read, under the paths it names them by, so that the
    // folder shows and reruns what produced it (`rollsim run DIR/scenario.toml`).
    let (copies, versioned) = sc.inputs_to_copy();
    for (name, bytes) in copies {
        if !files.iter().any(|(n, _)| Path::new(n) == Path::new(name)) {
            files.push((name, bytes.to_vec()));
        }
    }
    if !quiet {
        for name in versioned {
            eprintln!(
                "warning: {name} is read with different --set changes by different deployments: the output folder holds no copy of it, so its scenario.toml does not rerun as is"
            );
        }
    }
    let (outcomes, across) = replicate(opts, &sc, (seed, &result), &mut files)?;
    write_folder(&out, files)?;
    let write_secs = t.elapsed().as_secs_f64();
    if !quiet {
        let mut text = report::terminal_summary(&report::summary(&sc, &result), &out);
        // The replications' spread before the closing "results in" line.
        let end = text.rfind("  results in ").unwrap_or(text.len());
        text.insert_str(end, &across);
        print!("{text}");
        print!("{}", batch::outcome_lines(&outcomes));
    } else {
        eprint!("{}", batch::missed_lines(&outcomes));
    }
    if opts.stats {
        eprintln!("{}", stats_line(&result.stats, write_secs));
    }
    Ok(gate(&outcomes))
}

/// The scenario as run (given, or with --set, --seed and --devices applied), so report.html
/// (and `rollsim plot`) show the parameters that ran, not the file's.
fn scenario_as_run(opts: &RunOptions, sc: &Scenario, text: &[u8]) -> Vec<u8> {
    let note: Vec<String> = opts
        .sets
        .iter()
        .map(|s| format!("--set {s}"))
        .chain(opts.seed.map(|s| format!("--seed {s}")))
        .chain(opts.replication.map(|r| format!("--replication {r}")))
        .chain(opts.devices.map(|n| format!("--devices {n}")))
        .collect();
    crate::scenario::overrides::as_run(
        text,
        &note.join(" "),
        opts.seed,
        opts.devices.is_some().then_some(sc),
    )
}

/// Replications and expectations: the same job as a one-variant batch, whose first run is
/// `result` (seed `seed`). Adds bands.csv, runs.csv and expectations.csv to `files` as they
/// apply; returns the expectations' outcomes and the replications' spread for the terminal.
fn replicate(
    opts: &RunOptions,
    sc: &Scenario,
    (seed, result): (u64, &sim::RunResult),
    files: &mut Vec<(&str, Vec<u8>)>,
) -> Result<(Vec<batch::Outcome>, String), Error> {
    let reps = opts.replications.unwrap_or(1);
    if reps <= 1 && sc.expect.is_empty() {
        return Ok((Vec::new(), String::new()));
    }
    let job = batch::Job {
        name: "base".into(),
        params: Vec::new(),
        scenario: sc,
        seed,
        first_replication: opts.replication.unwrap_or(0),
        // The run just made is that replication: its record, not a second run.
        first_run: Some(result),
    };
    let bar = progress(reps, opts.quiet || reps == 1);
    let mut results = batch::run_all(
        &[job],
        reps,
        threads(opts.jobs),
        &|_| bar.inc(1),
        None,
        None,
    )?;
    bar.finish_and_clear();
    let mut across = String::new();
    if reps > 1 {
        files.push(("bands.csv", batch::bands_csv(&results)?));
        files.push(("runs.csv", batch::runs_csv(&results, &[])?));
        across = batch::replication_lines(&results);
        if !opts.quiet {
            // An audience its draws leave empty in other replications than the one shown,
            // counted as a batch counts it; one empty in that one was told already.
            for (n, &told) in results[0]
                .empty_runs
                .iter_mut()
                .zip(&result.start_audiences.empty)
            {
                if told {
                    *n = 0;
                }
            }
            for w in batch::empty_audience_warnings(&[sc], &results) {
                let w = w.strip_prefix("variant base: ").unwrap_or(&w);
                eprintln!("warning: {}: {w}", opts.scenario.display());
            }
        }
    }
    let mut outcomes = batch::check(&results, |_| sc.expect.clone());
    for o in &mut outcomes {
        o.variant.clear();
    }
    if !outcomes.is_empty() {
        files.push(("expectations.csv", batch::expectations_csv(&outcomes)?));
    }
    Ok((outcomes, across))
}

/// `--stats`: events processed, their rate, time per phase, peak memory and CPU time.
fn stats_line(s: &sim::RunStats, write_secs: f64) -> String {
    let rate = s.events as f64 / s.simulate_secs.max(1e-9);
    format!(
        "stats: {} devices, {} events, {:.1} M events/s; generate {:.3} s, simulate {:.3} s, write {:.3} s; peak memory {}; cpu {}",
        s.devices,
        s.events,
        rate / 1e6,
        s.generate_secs,
        s.simulate_secs,
        write_secs,
        peak_memory().map_or("unknown".into(), |kb| format!(
            "{:.1} MB",
            kb as f64 / 1024.0
        )),
        cpu_times().map_or("unknown".into(), |(user, kernel)| format!(
            "{user:.2} s user, {kernel:.2} s kernel"
        )),
    )
}

/// The process's CPU time so far, (user, kernel) in seconds (Linux; elsewhere `None`). The
/// kernel's share is mostly first touches of fresh memory, which on a virtual machine whose host
/// takes freed memory back can cost a tenth of a run (docs/performance.md).
fn cpu_times() -> Option<(f64, f64)> {
    #[cfg(target_os = "linux")]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage only writes the struct it is handed, which is large enough.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: zeroed is a valid rusage, and getrusage succeeded.
        let usage = unsafe { usage.assume_init() };
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Some((secs(usage.ru_utime), secs(usage.ru_stime)))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Peak resident memory in KiB (Linux `VmHWM`), if the platform tells.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_embedding_rollsim_runs_a_scenario_to_a_folder_as_the_command_line_does() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/maintenance/second-expedite-ignored.toml");
        let out = dir.path().join("out");
        let opts = RunOptions {
            scenario,
            out: Some(out.clone()),
            replications: Some(2),
            jobs: Some(1),
            sets: vec!["simulation.seed=8".into()],
            quiet: true,
            ..Default::default()
        };
        assert_eq!(run(&opts).unwrap(), Exit::Ok);
        for f in [
            "summary.json",
            "timeseries.csv",
            "bands.csv",
            "runs.csv",
            "report.html",
        ] {
            assert!(out.join(f).is_file(), "{f} missing");
        }
        let as_run = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
        assert!(as_run.contains("--set simulation.seed=8"), "{as_run}");
        // The folder is rollsim's now: a second run replaces it without --force.
        assert_eq!(run(&opts).unwrap(), Exit::Ok);
    }
}
