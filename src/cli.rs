//! Command-line definition: clap parses the arguments into a [`Command`], which becomes the
//! options of one of the library's [`commands`], whose [`commands::Exit`] becomes the exit code. The
//! pipelines themselves (what is run, checked, printed and written) live in
//! `rollsim::commands`, so that a program embedding the library runs them as `rollsim` does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use rollsim::commands;
use rollsim::{Error, report};

const RUN_EXAMPLES: &str = "Examples:
  rollsim run scenarios/quality-update-office-fleet.toml
  rollsim run scenarios/quality-update-office-fleet.toml --seed 7 --out output/seed7
  rollsim run my-plan.toml --devices 100000 --stats
  rollsim run scenarios/bench-1m.toml --set simulation.horizon=P90D --stats
  rollsim run scenarios/safety-false-alarm.toml --replications 100 --jobs 2
  rollsim run scenarios/inventory-fleet.toml --per-device";

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
        /// Also write devices.csv: per deployment, each device that was in its audience, its
        /// state at the end, when it became compliant and its restart (replication 0's, or
        /// --replication R's). Off by default: it costs 9 bytes a device and deployment.
        #[arg(long)]
        per_device: bool,
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

/// Parses the command line and runs the command; `Err` for the caller to print and map to exit
/// code 2 (bad input) or 1.
pub fn run() -> Result<ExitCode, Error> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    let exit = match cli.command {
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
            per_device,
            force,
            quiet,
        } => commands::run(&commands::RunOptions {
            scenario,
            out,
            seed,
            replication,
            devices,
            sets,
            replications,
            jobs,
            stats,
            force,
            quiet,
            per_device,
        })?,
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
        } => commands::batch(&commands::BatchOptions {
            // Before anything else: a shard that cannot be worked out is the first error told.
            shard: commands::shard_of(shard.as_deref(), shard_count)?,
            sweep,
            out,
            jobs,
            replications,
            devices,
            sets,
            resume,
            force,
            quiet,
        })?,
        Command::Merge {
            dirs,
            out,
            force,
            quiet,
        } => commands::merge(&commands::MergeOptions {
            dirs,
            out,
            force,
            quiet,
        })?,
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
            let charts = report::charts::ChartOptions {
                width,
                height,
                formats,
                title,
                days,
            };
            commands::plot(&commands::PlotOptions { dir, charts })?
        }
        Command::Validate { files } => commands::validate(&commands::ValidateOptions { files })?,
    };
    Ok(ExitCode::from(exit.code()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
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
}
