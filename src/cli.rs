//! Command-line definition and the subcommands' pipelines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use rollsim::{Error, Scenario, batch, report, sim};

const RUN_EXAMPLES: &str = "Examples:
  rollsim run scenarios/quality-update-office-fleet.toml
  rollsim run scenarios/quality-update-office-fleet.toml --seed 7 --out output/seed7
  rollsim run my-plan.toml --devices 100000 --stats
  rollsim run scenarios/bench-1m.toml --set simulation.horizon=P90D --stats
  rollsim run scenarios/safety-false-alarm.toml --replications 100 --jobs 2";

const BATCH_EXAMPLES: &str = "Examples:
  rollsim batch scenarios/sweeps/forced-reboot.toml
  rollsim batch scenarios/sweeps/rollout-size.toml --jobs 2 --replications 50 --out output/sizes
  rollsim batch scenarios/sweeps/rollout-size.toml --devices 100000 --set simulation.horizon=P60D";

const PLOT_EXAMPLES: &str = "Examples:
  rollsim plot output/quality-update-office-fleet
  rollsim plot output/quality-update-office-fleet --width 1600 --height 900 --format svg
  rollsim plot output/my-batch --title \"Ring plan v2\"
  rollsim plot output/my-batch --days 5";

const VALIDATE_EXAMPLES: &str = "Examples:
  rollsim validate scenarios/*.toml
  rollsim validate scenarios/graph/seed-003-deployment.json";

/// Simulate Windows update rollouts through the Windows Update for Business deployment service.
#[derive(Parser, Debug)]
#[command(name = "rollsim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write timeseries.csv, summary.json/csv, segments.csv, events.csv,
    /// restarts.csv, a copy of the scenario, charts and report.html.
    #[command(after_help = RUN_EXAMPLES)]
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output folder [default: output/<scenario stem>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed (overrides [simulation] seed): 0 to 9223372036854775807.
        #[arg(long, value_parser = parse_seed)]
        seed: Option<u64>,
        /// Rescale the fleet to this many devices, keeping segment shares (counts in the plan,
        /// such as devicesPerOffer, stay as written).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
        devices: Option<u64>,
        /// Change one value of the scenario, as a dotted path like a sweep's (repeatable):
        /// `--set simulation.horizon=P90D`. The scenario copy in the output shows the change.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Run this many replications (seeds seed, replication 0…N−1) and add bands.csv and
        /// runs.csv; the other files show replication 0.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        replications: Option<u64>,
        /// Run replication R alone (0-based, as runs.csv numbers them) and write its full
        /// outputs: the run behind a row of runs.csv, with the seed runs.csv gives.
        #[arg(long, value_name = "R", conflicts_with = "replications",
              value_parser = clap::value_parser!(u64).range(0..=999_999))]
        replication: Option<u64>,
        /// Worker threads for replications [default: all cores].
        #[arg(long)]
        jobs: Option<usize>,
        /// Print events processed, events per second and time per phase.
        #[arg(long)]
        stats: bool,
        /// Replace the output folder even if it does not look like rollsim's.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a sweep: a base scenario and parameters to vary, each variant replicated; writes
    /// runs.csv, bands.csv, variants.csv (with Pareto fronts), expectations.csv and charts.
    #[command(after_help = BATCH_EXAMPLES)]
    Batch {
        /// The sweep file (TOML).
        sweep: PathBuf,
        /// Output folder [default: output/<sweep stem>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads [default: all cores].
        #[arg(long)]
        jobs: Option<usize>,
        /// Replications per variant (overrides the sweep's `replications`).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        replications: Option<u64>,
        /// Rescale every variant's fleet to this many devices, keeping segment shares (counts in
        /// the plan, such as devicesPerOffer, stay as written).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
        devices: Option<u64>,
        /// Change one value of the base scenario for every variant (repeatable), as `run --set`
        /// does; a variant that sets the same path keeps its own value.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Run only shard I of N (1-based, e.g. 2/3): runs whose number ≡ I−1 (mod N). Without
        /// it, SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with
        /// --shard-count select the shard. A shard (1/1 too) writes run records and a manifest;
        /// `rollsim merge` combines them.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Number of shards when the shard index comes from JOB_COMPLETION_INDEX (Kubernetes),
        /// which must then be set.
        #[arg(long)]
        shard_count: Option<u64>,
        /// Keep the records of runs already completed by an interrupted batch instead of
        /// running them again.
        #[arg(long)]
        resume: bool,
        /// Replace the output folder even if it does not look like rollsim's.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors (and no progress bar).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Combine the folders written by the shards of a batch into the outputs of the whole batch.
    Merge {
        /// The shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder (neither one of the shard folders nor a folder holding one).
        #[arg(long)]
        out: PathBuf,
        /// Replace the output folder even if it does not look like rollsim's.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Re-render the charts and report.html of a finished run or batch folder from its CSV files.
    #[command(after_help = PLOT_EXAMPLES)]
    Plot {
        /// The output folder of a run or batch.
        dir: PathBuf,
        /// Chart width in pixels.
        #[arg(long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(200..=10_000))]
        width: u32,
        /// Chart height in pixels.
        #[arg(long, default_value_t = 700, value_parser = clap::value_parser!(u32).range(150..=10_000))]
        height: u32,
        /// Image format(s) to write.
        #[arg(long, value_enum, default_value_t = PlotFormat::Both)]
        format: PlotFormat,
        /// Title put before each chart's caption [default: the scenario name].
        #[arg(long)]
        title: Option<String>,
        /// How many days the time-based charts (compliance, states, bands) show: a number
        /// (`5`, `2.5`; at most the horizon), `all` (the whole horizon), or `auto`, which ends
        /// a little after the last change when everything is over well before the horizon.
        #[arg(long, value_name = "N|auto|all", default_value = "auto", value_parser = parse_days, allow_negative_numbers = true)]
        days: report::charts::Days,
    },
    /// Check scenario or sweep files (.toml), Graph request bodies (.json: a deployment's POST
    /// or PATCH body, or an updateAudience or updateAudienceById body) or fleet inventories (.csv)
    /// without running them; exit code 2 names every problem found.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum PlotFormat {
    Png,
    Svg,
    Both,
}

pub fn run() -> Result<ExitCode, Error> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            devices,
            sets,
            replications,
            replication,
            jobs,
            stats,
            force,
            quiet,
        } => run_scenario(
            &scenario,
            out,
            (seed, replication),
            (devices, &sets),
            (replications, jobs),
            stats,
            (force, quiet),
        ),
        Command::Batch {
            sweep,
            out,
            jobs,
            replications,
            devices,
            sets,
            shard,
            shard_count,
            resume,
            force,
            quiet,
        } => {
            let shard = shard_of(shard.as_deref(), shard_count)?;
            let out = out.unwrap_or_else(|| default_out(&sweep));
            guard_inputs(&out, std::slice::from_ref(&sweep), "the sweep file")?;
            guard_out(&out, force)?;
            let overrides = batch::sweep::Overrides { sets, devices };
            batch(
                &sweep,
                &overrides,
                out,
                (jobs, replications),
                shard,
                resume,
                quiet,
            )
        }
        Command::Merge {
            dirs,
            out,
            force,
            quiet,
        } => {
            guard_inputs(&out, &dirs, "the shard folder given to merge")?;
            guard_out(&out, force)?;
            merge(&dirs, &out, quiet)
        }
        Command::Plot {
            dir,
            width,
            height,
            format,
            title,
            days,
        } => {
            use report::charts::Format;
            let formats = match format {
                PlotFormat::Png => vec![Format::Png],
                PlotFormat::Svg => vec![Format::Svg],
                PlotFormat::Both => vec![Format::Png, Format::Svg],
            };
            let opts = report::charts::ChartOptions {
                width,
                height,
                formats,
                title,
                days,
            };
            plot(&dir, &opts)
        }
        Command::Validate { files } => validate(&files),
    }
}

/// Prints an error, each of its problems on a line of its own starting with `error: `, so that
/// a program reading stderr finds every problem the same way.
pub fn print_error(e: &Error) {
    for line in e.to_string().lines() {
        eprintln!("error: {line}");
    }
}

/// `--seed`: a seed a scenario file can hold. TOML integers are 64-bit signed, so a larger
/// seed could not be written as the output's `simulation.seed`, and the folder would not rerun
/// as it ran.
fn parse_seed(s: &str) -> Result<u64, String> {
    let range = "must be a whole number from 0 to 9223372036854775807 (2^63 − 1, the largest TOML integer, so that the output's scenario.toml reruns with it)";
    match s.trim().parse::<u64>() {
        Ok(n) if i64::try_from(n).is_ok() => Ok(n),
        _ => Err(format!("{range}, found \"{s}\"")),
    }
}

/// `--days`: see [`report::charts::Days`].
fn parse_days(s: &str) -> Result<report::charts::Days, String> {
    s.parse()
}

fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    PathBuf::from("output").join(stem.unwrap_or_else(|| "run".into()))
}

fn run_scenario(
    path: &Path,
    out: Option<PathBuf>,
    (seed, replication_given): (Option<u64>, Option<u64>),
    (devices, sets): (Option<u64>, &[String]),
    (replications, jobs): (Option<u64>, Option<usize>),
    stats: bool,
    (force, quiet): (bool, bool),
) -> Result<ExitCode, Error> {
    let (mut sc, text) = Scenario::load_with(path, sets)?;
    if !quiet {
        sc.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    }
    if let Some(n) = devices {
        sc.scale_devices(n);
    }
    // Replications run `--jobs` at a time, each with its own fleet.
    sim::check_memory(&sc, concurrent_runs(jobs, replications.unwrap_or(1)))?;
    let out = out.unwrap_or_else(|| default_out(path));
    guard_inputs(&out, &[path.to_path_buf()], "the scenario file")?;
    guard_out(&out, force)?;
    let seed_given = seed;
    let seed = seed.unwrap_or(sc.seed);
    let replication = replication_given.unwrap_or(0);
    let result = sim::run(&sc, seed, replication)?;
    let reps = replications.unwrap_or(1);
    if !quiet {
        // Known only now that the fleet is drawn; this run's, told once (other replications'
        // are counted once they are done, below).
        let shown = path.display().to_string();
        let text = String::from_utf8_lossy(&text);
        let empty = rollsim::scenario::deployment::empty_audience_warnings(
            &sc,
            &result.start_audiences,
            seed,
            (&shown, &text),
        );
        empty.iter().for_each(|w| eprintln!("warning: {w}"));
    }
    let t = std::time::Instant::now();
    let mut files: Vec<(&str, Vec<u8>)> = report::run_files(&sc, &result)?;
    // The scenario as run (given, or with --set, --seed and --devices applied), so report.html
    // (and `rollsim plot`) show the parameters that ran, not the file's.
    let note: Vec<String> = sets
        .iter()
        .map(|s| format!("--set {s}"))
        .chain(seed_given.map(|s| format!("--seed {s}")))
        .chain(replication_given.map(|r| format!("--replication {r}")))
        .chain(devices.map(|n| format!("--devices {n}")))
        .collect();
    let text = rollsim::scenario::overrides::as_run(
        &text,
        &note.join(" "),
        seed_given,
        devices.is_some().then_some(&sc),
    );
    files.push(("scenario.toml", text));
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
    // Replications and expectations: the same job as a one-variant batch.
    let mut outcomes = Vec::new();
    let mut across = String::new();
    if reps > 1 || !sc.expect.is_empty() {
        let job = batch::Job {
            name: "base".into(),
            params: Vec::new(),
            scenario: &sc,
            seed,
            first_replication: replication,
            // The run just made is replication `replication`: its record, not a second run.
            first_run: Some(&result),
        };
        let bar = progress(reps, quiet || reps == 1);
        let mut results = batch::run_all(&[job], reps, threads(jobs), &|_| bar.inc(1), None, None)?;
        bar.finish_and_clear();
        if reps > 1 {
            files.push(("bands.csv", batch::bands_csv(&results)?));
            files.push(("runs.csv", batch::runs_csv(&results, &[])?));
            across = batch::replication_lines(&results);
            if !quiet {
                // An audience its draws leave empty in other replications than the one shown,
                // counted as a batch counts it; one empty in that one was told above.
                for (n, &told) in results[0]
                    .empty_runs
                    .iter_mut()
                    .zip(&result.start_audiences.empty)
                {
                    if told {
                        *n = 0;
                    }
                }
                for w in batch::empty_audience_warnings(&[&sc], &results) {
                    let w = w.strip_prefix("variant base: ").unwrap_or(&w);
                    eprintln!("warning: {}: {w}", path.display());
                }
            }
        }
        outcomes = batch::check(&results, |_| sc.expect.clone());
        for o in &mut outcomes {
            o.variant.clear();
        }
        if !outcomes.is_empty() {
            files.push(("expectations.csv", batch::expectations_csv(&outcomes)?));
        }
    }
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
    if stats {
        let s = &result.stats;
        let rate = s.events as f64 / s.simulate_secs.max(1e-9);
        eprintln!(
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
        );
    }
    Ok(gate(&outcomes))
}

/// Adds the charts and report.html drawn from `files` and writes the folder atomically.
fn write_folder(out: &Path, files: Vec<(&str, Vec<u8>)>) -> Result<(), Error> {
    let charts = report::charts::render_files(&files, &Default::default())?;
    let html = report::html::report_html(&files, &charts).into_bytes();
    let mut all: Vec<(&str, Vec<u8>)> = files;
    all.extend(charts.iter().map(|(n, b)| (n.as_str(), b.clone())));
    all.push(("report.html", html));
    report::write_dir_atomic(out, &all)
}

/// Exit code 3 when an expectation is missed.
fn gate(outcomes: &[batch::Outcome]) -> ExitCode {
    if outcomes.iter().any(|o| !o.met) {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn threads(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// How many of `runs` runs are in memory at once on `jobs` threads: a thread without a run to
/// take holds nothing.
fn concurrent_runs(jobs: Option<usize>, runs: u64) -> u64 {
    (threads(jobs) as u64).min(runs).max(1)
}

/// A progress bar on stderr (hidden when stderr is not a terminal, or when `hidden`).
fn progress(total: u64, hidden: bool) -> indicatif::ProgressBar {
    let target = if hidden {
        indicatif::ProgressDrawTarget::hidden()
    } else {
        indicatif::ProgressDrawTarget::stderr()
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {per_sec}, ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// A command-line error about `what` (an option or the environment variable it came from).
fn usage(what: &str, message: String) -> Error {
    Error::Input(rollsim::error::InputError {
        file: "command line".into(),
        problems: vec![rollsim::error::Problem {
            line: 0,
            column: 0,
            path: what.into(),
            message,
        }],
    })
}

/// The shard from `--shard I/N`, else from Slurm or Kubernetes variables; `None` when no shard
/// is asked for. A shard that is asked for but cannot be worked out (a variable that is not a
/// number, `--shard-count` without `JOB_COMPLETION_INDEX`) is an error naming the flag or
/// variable: running every run in every task of an array would be silently wrong.
fn shard_of(flag: Option<&str>, count: Option<u64>) -> Result<Option<batch::Shard>, Error> {
    shard_from(flag, count, &|k| std::env::var_os(k))
}

/// [`shard_of`] with the environment read through `env`.
fn shard_from(
    flag: Option<&str>,
    count: Option<u64>,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Option<batch::Shard>, Error> {
    if let Some(s) = flag {
        let bad = || usage("--shard", format!("must be I/N like 2/3, found \"{s}\""));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (u64, u64) = match (i.trim().parse(), n.trim().parse()) {
            (Ok(i), Ok(n)) => (i, n),
            _ => return Err(bad()),
        };
        if n == 0 || i == 0 || i > n {
            return Err(usage("--shard", format!("needs 1 ≤ I ≤ N, found {i}/{n}")));
        }
        return Ok(Some(batch::Shard { index: i, count: n }));
    }
    // A variable that is set must be a number: `None` only when it is not set at all.
    let var = |k: &str| -> Result<Option<u64>, Error> {
        let Some(v) = env(k) else {
            return Ok(None);
        };
        let text = v.to_string_lossy();
        text.trim().parse::<u64>().map(Some).map_err(|_| {
            usage(
                k,
                format!("must be a whole number ≥ 0 to select the shard, found \"{text}\""),
            )
        })
    };
    // The message names the variables the shard came from: no --shard was typed.
    match (var("SLURM_ARRAY_TASK_ID")?, var("SLURM_ARRAY_TASK_COUNT")?) {
        (Some(id), Some(n)) => {
            let min = var("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            if n == 0 || id < min || id - min >= n {
                return Err(usage(
                    "SLURM_ARRAY_TASK_ID",
                    format!(
                        "needs SLURM_ARRAY_TASK_MIN ≤ SLURM_ARRAY_TASK_ID < SLURM_ARRAY_TASK_MIN + SLURM_ARRAY_TASK_COUNT, found {id} with SLURM_ARRAY_TASK_MIN {min} and SLURM_ARRAY_TASK_COUNT {n}"
                    ),
                ));
            }
            return Ok(Some(batch::Shard {
                index: id - min + 1,
                count: n,
            }));
        }
        (Some(id), None) => {
            return Err(usage(
                "SLURM_ARRAY_TASK_COUNT",
                format!(
                    "is not set, but SLURM_ARRAY_TASK_ID is ({id}): the number of shards is unknown; pass --shard I/N"
                ),
            ));
        }
        (None, Some(n)) => {
            return Err(usage(
                "SLURM_ARRAY_TASK_ID",
                format!(
                    "is not set, but SLURM_ARRAY_TASK_COUNT is ({n}): the shard index is unknown; pass --shard I/N"
                ),
            ));
        }
        (None, None) => {}
    }
    let Some(n) = count else {
        return Ok(None);
    };
    if n == 0 {
        return Err(usage("--shard-count", "must be at least 1, found 0".into()));
    }
    match var("JOB_COMPLETION_INDEX")? {
        Some(k) if k >= n => Err(usage(
            "JOB_COMPLETION_INDEX",
            format!(
                "needs 0 ≤ JOB_COMPLETION_INDEX < --shard-count, found {k} with --shard-count {n}"
            ),
        )),
        Some(k) => Ok(Some(batch::Shard {
            index: k + 1,
            count: n,
        })),
        None => Err(usage(
            "--shard-count",
            format!(
                "{n} needs the shard index from JOB_COMPLETION_INDEX (set in each pod of a Kubernetes Indexed Job), which is not set; use --shard I/{n} elsewhere"
            ),
        )),
    }
}

fn jobs_of(sweep: &batch::sweep::Sweep) -> Vec<batch::Job<'_>> {
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
fn guard_out(out: &Path, force: bool) -> Result<(), Error> {
    let refuse = |message: &str| {
        Err(Error::Input(rollsim::error::InputError {
            file: out.display().to_string(),
            problems: vec![rollsim::error::Problem {
                line: 0,
                column: 0,
                path: "--out".into(),
                message: message.into(),
            }],
        }))
    };
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
fn guard_inputs(out: &Path, inputs: &[PathBuf], what: &str) -> Result<(), Error> {
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
            return Err(Error::Input(rollsim::error::InputError {
                file: out.display().to_string(),
                problems: vec![rollsim::error::Problem {
                    line: 0,
                    column: 0,
                    path: "--out".into(),
                    message: format!(
                        "{is} {what} {}: writing the output would delete it; choose another --out",
                        d.display()
                    ),
                }],
            }));
        }
    }
    Ok(())
}

fn batch(
    path: &Path,
    overrides: &batch::sweep::Overrides,
    out: PathBuf,
    (jobs, replications): (Option<usize>, Option<u64>),
    shard: Option<batch::Shard>,
    resume: bool,
    quiet: bool,
) -> Result<ExitCode, Error> {
    let sweep = batch::sweep::Sweep::load_with(path, overrides)?;
    if !quiet {
        sweep
            .warnings
            .iter()
            .for_each(|w| eprintln!("warning: {w}"));
    }
    let reps = replications.unwrap_or(sweep.replications);
    let list = jobs_of(&sweep);
    let id = batch::batch_id(&sweep, reps);
    let total = reps * list.len() as u64;
    let mine = (0..total)
        .filter(|&k| shard.is_none_or(|s| s.owns(k)))
        .count() as u64;
    for v in &sweep.variants {
        sim::check_memory(&v.scenario, concurrent_runs(jobs, mine))?;
    }
    let bar = progress(mine, quiet);
    let reused = std::sync::atomic::AtomicU64::new(0);
    let tick = |from_record: bool| {
        if from_record {
            reused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        bar.inc(1);
    };
    let write_err = |p: &Path, e: std::io::Error| Error::Write {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(shard) = shard {
        // A shard (even 1/1) keeps its run records and a manifest; `merge` aggregates.
        let runs = out.join("runs");
        prepare_records(&runs, &id, resume)?;
        batch::run_all(&list, reps, threads(jobs), &tick, Some(&runs), Some(shard))?;
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
        let tmp = out.join(".manifest.json.tmp");
        let fin = out.join("manifest.json");
        let text = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        std::fs::write(&tmp, text).map_err(|e| write_err(&fin, e))?;
        std::fs::rename(&tmp, &fin).map_err(|e| write_err(&fin, e))?;
        if resume && !quiet {
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
        return Ok(ExitCode::SUCCESS);
    }
    // Run records live beside the output folder: `--resume` reuses them after an interruption.
    let partial = PathBuf::from(format!("{}.runs", out.display()));
    prepare_records(&partial, &id, resume)?;
    let results = batch::run_all(&list, reps, threads(jobs), &tick, Some(&partial), None)?;
    bar.finish_and_clear();
    if resume && !quiet {
        println!("{}", reused_line(reused.into_inner(), mine, &partial));
    }
    batch_outputs(path, &sweep, &results, reps, &out, quiet)
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
            return Err(Error::Input(rollsim::error::InputError {
                file: dir.display().to_string(),
                problems: vec![rollsim::error::Problem {
                    line: 0,
                    column: 0,
                    path: "--resume".into(),
                    message: "holds the run records of another batch (the sweep file, its base scenario, --replications or rollsim's version differ): drop --resume to run the batch afresh, or choose a new --out".into(),
                }],
            }));
        }
    } else if !resume && dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| write_err(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let tmp = dir.join(format!(".{BATCH_FILE}.tmp"));
    let fin = dir.join(BATCH_FILE);
    let text = serde_json::to_vec_pretty(&serde_json::json!({ "batch": id })).unwrap_or_default();
    std::fs::write(&tmp, text).map_err(|e| write_err(&fin, e))?;
    std::fs::rename(&tmp, &fin).map_err(|e| write_err(&fin, e))
}

/// Writes a batch's outputs (also what `merge` does).
fn batch_outputs(
    path: &Path,
    sweep: &batch::sweep::Sweep,
    results: &[batch::VariantResult],
    reps: u64,
    out: &Path,
    quiet: bool,
) -> Result<ExitCode, Error> {
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

fn merge(dirs: &[PathBuf], out: &Path, quiet: bool) -> Result<ExitCode, Error> {
    let bad = |dir: &Path, message: String| {
        Error::Input(rollsim::error::InputError {
            file: dir.display().to_string(),
            problems: vec![rollsim::error::Problem {
                line: 0,
                column: 0,
                path: String::new(),
                message,
            }],
        })
    };
    let mut manifests = Vec::new();
    for d in dirs {
        let m = d.join("manifest.json");
        let text = std::fs::read_to_string(&m).map_err(|source| Error::Read {
            path: m.clone(),
            source,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| bad(&m, format!("not a rollsim shard manifest: {e}")))?;
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
            return Err(bad(
                d,
                "belongs to another batch (sweep, replications, seed, shard count, --set or --devices differ)".into(),
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
        return Err(bad(
            &sweep_path,
            "changed since the shards ran (or its base scenario did): their records are of another batch; run the shards again".into(),
        ));
    }
    let list = jobs_of(&sweep);
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
        return Err(bad(
            Path::new("merge"),
            format!(
                "{} runs are missing from the shard folders (runs {}{}): run the missing shards (or rerun them with --resume) and merge again",
                missing.len(),
                shown.join(", "),
                if missing.len() > 10 { ", …" } else { "" }
            ),
        ));
    }
    batch_outputs(&sweep_path, &sweep, &results, reps, out, quiet)
}

/// Re-renders the charts and report.html of `dir`, each file written to a temporary name and
/// renamed into place.
fn plot(dir: &Path, opts: &report::charts::ChartOptions) -> Result<ExitCode, Error> {
    if !dir.is_dir() {
        // A file (`rollsim plot out/report.html`) is there, but is not what plot reads.
        let source = if dir.exists() {
            std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a folder: give the output folder of a run or batch",
            )
        } else {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder")
        };
        return Err(Error::Read {
            path: dir.to_path_buf(),
            source,
        });
    }
    let inputs = report::charts::read_inputs(dir)?;
    if !inputs.iter().any(|(n, _)| n.ends_with(".csv")) {
        return Err(Error::Input(rollsim::error::InputError {
            file: dir.display().to_string(),
            problems: vec![rollsim::error::Problem {
                line: 0,
                column: 0,
                path: String::new(),
                message: "no rollsim output here (timeseries.csv, restarts.csv, bands.csv, variants.csv…)".into(),
            }],
        }));
    }
    let charts = report::charts::render_files(&inputs, opts)?;
    let html = report::html::report_html(&inputs, &charts);
    let mut outputs: Vec<(&str, &[u8])> = charts
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    outputs.push(("report.html", html.as_bytes()));
    for (name, bytes) in outputs {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let write_err = |e: std::io::Error| Error::Write {
            path: path.clone(),
            message: e.to_string(),
        };
        std::fs::write(&tmp, bytes).map_err(write_err)?;
        if let Err(e) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(write_err(e));
        }
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
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

/// `1 deployment`, `2 deployments`.
fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn validate(files: &[PathBuf]) -> Result<ExitCode, Error> {
    let mut bad = false;
    for f in files {
        if f.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            match rollsim::scenario::deployment::validate_graph_file(f) {
                Ok((what, warnings)) => {
                    warnings.iter().for_each(|w| eprintln!("warning: {w}"));
                    println!("{}: ok ({what})", f.display());
                }
                Err(e) => {
                    print_error(&e);
                    bad = true;
                }
            }
            continue;
        }
        if f.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            match rollsim::scenario::inventory::validate_file(f) {
                Ok(what) => println!("{}: ok ({what})", f.display()),
                Err(e) => {
                    print_error(&e);
                    bad = true;
                }
            }
            continue;
        }
        let is_sweep = std::fs::read_to_string(f)
            .ok()
            .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
            .is_some_and(|t| {
                rollsim::scenario::SWEEP_KEYS
                    .iter()
                    .any(|k| t.contains_key(*k))
            });
        if is_sweep {
            match batch::sweep::Sweep::load(f) {
                Ok(s) => {
                    s.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
                    println!(
                        "{}: ok (sweep: {} × {})",
                        f.display(),
                        count(s.variants.len() as u64, "variant"),
                        count(s.replications, "replication")
                    )
                }
                Err(e) => {
                    print_error(&e);
                    bad = true;
                }
            }
            continue;
        }
        match Scenario::load(f) {
            Ok(sc) => {
                sc.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
                println!(
                    "{}: ok ({}, {})",
                    f.display(),
                    count(sc.devices(), "device"),
                    count(sc.deployments.len() as u64, "deployment")
                )
            }
            Err(e) => {
                print_error(&e);
                bad = true;
            }
        }
    }
    Ok(if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn runs_in_memory_at_once_are_the_fewer_of_jobs_and_runs() {
        assert_eq!(concurrent_runs(Some(8), 8), 8);
        assert_eq!(concurrent_runs(Some(8), 3), 3);
        assert_eq!(concurrent_runs(Some(2), 100), 2);
        assert_eq!(concurrent_runs(Some(0), 0), 1);
    }

    /// [`shard_from`] with these environment variables and no others.
    fn shard_with(
        flag: Option<&str>,
        count: Option<u64>,
        vars: &[(&str, &str)],
    ) -> Result<Option<batch::Shard>, String> {
        let env = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| std::ffi::OsString::from(v))
        };
        shard_from(flag, count, &env).map_err(|e| e.to_string())
    }

    #[test]
    fn an_explicit_single_shard_is_a_shard_not_the_unsharded_batch() {
        let one = Ok(Some(batch::Shard { index: 1, count: 1 }));
        assert_eq!(shard_with(Some("1/1"), None, &[]), one);
        assert_eq!(
            shard_with(
                None,
                None,
                &[
                    ("SLURM_ARRAY_TASK_ID", "0"),
                    ("SLURM_ARRAY_TASK_COUNT", "1")
                ]
            ),
            one
        );
        assert_eq!(
            shard_with(None, Some(1), &[("JOB_COMPLETION_INDEX", "0")]),
            one
        );
        assert_eq!(shard_with(None, None, &[]), Ok(None));
        // The index alone, without --shard-count, asks for nothing.
        assert_eq!(
            shard_with(None, None, &[("JOB_COMPLETION_INDEX", "2")]),
            Ok(None)
        );
    }

    #[test]
    fn a_shard_selection_that_cannot_be_worked_out_is_an_error_naming_its_source() {
        let err = |flag: Option<&str>, count: Option<u64>, vars: &[(&str, &str)]| {
            shard_with(flag, count, vars).expect_err("an error")
        };
        let e = err(None, Some(3), &[]);
        assert!(
            e.contains("--shard-count") && e.contains("JOB_COMPLETION_INDEX"),
            "{e}"
        );
        let e = err(None, Some(3), &[("JOB_COMPLETION_INDEX", "one")]);
        assert!(
            e.contains("JOB_COMPLETION_INDEX") && e.contains("\"one\""),
            "{e}"
        );
        let e = err(None, Some(0), &[("JOB_COMPLETION_INDEX", "0")]);
        assert!(e.contains("--shard-count") && e.contains("found 0"), "{e}");
        let e = err(
            None,
            None,
            &[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
        );
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID") && e.contains("\"x\""),
            "{e}"
        );
        let e = err(
            None,
            None,
            &[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MIN", ""),
            ],
        );
        assert!(e.contains("SLURM_ARRAY_TASK_MIN"), "{e}");
        let e = err(None, None, &[("SLURM_ARRAY_TASK_ID", "2")]);
        assert!(
            e.contains("SLURM_ARRAY_TASK_COUNT") && e.contains("(2)"),
            "{e}"
        );
        let e = err(None, None, &[("SLURM_ARRAY_TASK_COUNT", "4")]);
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID") && e.contains("(4)"),
            "{e}"
        );
    }

    #[test]
    fn a_seed_is_one_a_toml_integer_can_hold() {
        assert_eq!(parse_seed("0"), Ok(0));
        assert_eq!(parse_seed("9223372036854775807"), Ok(i64::MAX as u64));
        for bad in ["9223372036854775808", "18446744073709551615", "-1", "7.5"] {
            let e = parse_seed(bad).expect_err(bad);
            assert!(
                e.contains("from 0 to 9223372036854775807")
                    && e.contains(&format!("found \"{bad}\"")),
                "{e}"
            );
        }
    }

    #[test]
    fn counts_of_one_are_singular() {
        assert_eq!(count(1, "deployment"), "1 deployment");
        assert_eq!(count(2, "deployment"), "2 deployments");
        assert_eq!(count(0, "variant"), "0 variants");
    }
}
