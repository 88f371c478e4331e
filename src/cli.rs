//! Command-line definition and the subcommands' pipelines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use rollsim::{Error, Scenario, report, sim};

const RUN_EXAMPLES: &str = "Examples:
  rollsim run scenarios/quality-update-office-fleet.toml
  rollsim run scenarios/quality-update-office-fleet.toml --seed 7 --out output/seed7
  rollsim run my-plan.toml --devices 100000 --stats";

const PLOT_EXAMPLES: &str = "Examples:
  rollsim plot output/quality-update-office-fleet
  rollsim plot output/quality-update-office-fleet --width 1600 --height 900 --format svg
  rollsim plot output/my-batch --title \"Ring plan v2\"";

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
    /// Run a scenario and write timeseries.csv, summary.json/csv, events.csv, restarts.csv, a copy
    /// of the scenario, charts and report.html.
    #[command(after_help = RUN_EXAMPLES)]
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output folder [default: output/<scenario stem>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed (overrides [simulation] seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Rescale the fleet to this many devices, keeping segment shares.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
        devices: Option<u64>,
        /// Print events processed, events per second and time per phase.
        #[arg(long)]
        stats: bool,
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
    },
    /// Check scenario files (.toml) or Graph request bodies (.json: a deployment or an
    /// updateAudience body) without running them; exit code 2 names every problem found.
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
            stats,
            quiet,
        } => run_scenario(&scenario, out, seed, devices, stats, quiet),
        Command::Plot {
            dir,
            width,
            height,
            format,
            title,
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
            };
            plot(&dir, &opts)
        }
        Command::Validate { files } => validate(&files),
    }
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
    seed: Option<u64>,
    devices: Option<u64>,
    stats: bool,
    quiet: bool,
) -> Result<ExitCode, Error> {
    let mut sc = Scenario::load(path)?;
    if !quiet {
        sc.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    }
    if let Some(n) = devices {
        sc.scale_devices(n);
    }
    let out = out.unwrap_or_else(|| default_out(path));
    let seed = seed.unwrap_or(sc.seed);
    let result = sim::run(&sc, seed, 0);
    let t = std::time::Instant::now();
    let mut files: Vec<(&str, Vec<u8>)> = report::run_files(&sc, &result);
    // The scenario as given, so report.html (and `rollsim plot`) can show its parameters.
    let text = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    files.push(("scenario.toml", text));
    let charts = report::charts::render_files(&files, &Default::default())?;
    let html = report::html::report_html(&files, &charts).into_bytes();
    files.extend(charts.iter().map(|(n, b)| (n.as_str(), b.clone())));
    files.push(("report.html", html));
    report::write_dir_atomic(&out, &files)?;
    let write_secs = t.elapsed().as_secs_f64();
    if !quiet {
        print!(
            "{}",
            report::terminal_summary(&report::summary(&sc, &result), &out)
        );
    }
    if stats {
        let s = &result.stats;
        let rate = s.events as f64 / s.simulate_secs.max(1e-9);
        eprintln!(
            "stats: {} devices, {} events, {:.1} M events/s; generate {:.3} s, simulate {:.3} s, write {:.3} s; peak memory {}",
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
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Re-renders the charts and report.html of `dir`, each file written to a temporary name and
/// renamed into place.
fn plot(dir: &Path, opts: &report::charts::ChartOptions) -> Result<ExitCode, Error> {
    if !dir.is_dir() {
        return Err(Error::Read {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
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

/// Peak resident memory in KiB (Linux `VmHWM`), if the platform tells.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn validate(files: &[PathBuf]) -> Result<ExitCode, Error> {
    let mut bad = false;
    for f in files {
        if f.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            match rollsim::scenario::deployment::validate_graph_file(f) {
                Ok(what) => println!("{}: ok ({what})", f.display()),
                Err(e) => {
                    eprintln!("error: {e}");
                    bad = true;
                }
            }
            continue;
        }
        match Scenario::load(f) {
            Ok(sc) => {
                sc.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
                println!(
                    "{}: ok ({} devices, {} deployments)",
                    f.display(),
                    sc.devices(),
                    sc.deployments.len()
                )
            }
            Err(e) => {
                eprintln!("error: {e}");
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
}
