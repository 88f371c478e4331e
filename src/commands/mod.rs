//! The `rollsim` commands as library functions: [`run`] a scenario to an output folder,
//! [`batch`] a sweep (or one shard of it), [`merge`] the shards' folders, [`plot`] a finished
//! folder again, [`validate`] input files.
//!
//! They live in the library, not in the binary, so that a program embedding rollsim runs a
//! scenario, a batch or a merge exactly as `rollsim` does (same files, same checks on the output
//! folder) without copying the command line's code; `src/cli.rs` only parses arguments into
//! these options structs and turns an [`Exit`] or an [`Error`] into an exit code.
//!
//! Each command prints what `rollsim` prints (warnings and errors on stderr, the summary on
//! stdout), so the binary's output is produced here; `quiet` leaves only errors. The progress
//! bar of replications and batches is drawn here too, because only the command knows how many
//! runs there are and sees each one end; it draws on stderr only when that is a terminal and
//! never when `quiet`, so an embedding program that passes `quiet` gets no bar.
//!
//! - `run.rs`: one scenario, optionally replicated, to an output folder;
//! - `batch.rs`: a sweep's variants × replications, its outputs (shared with `merge`);
//! - `shard.rs`: which shard of a batch this process runs (`--shard`, Slurm, Kubernetes);
//! - `merge.rs`: the shards' run records into the outputs of the whole batch;
//! - `plot.rs`: charts and report.html drawn again from a folder's CSV files;
//! - `validate.rs`: scenario, sweep, Graph JSON and inventory files checked without running;
//! - `output.rs`: the output folder: default name, the guards that refuse to replace what is
//!   not rollsim's, atomic writes.

mod batch;
mod merge;
mod output;
mod plot;
mod run;
mod shard;
mod validate;

pub use batch::{BatchOptions, batch};
pub use merge::{MergeOptions, merge};
pub use plot::{PlotOptions, plot};
pub use run::{RunOptions, run};
pub use shard::{shard_from, shard_of};
pub use validate::{ValidateOptions, validate};

use crate::Error;

/// How a command that did not fail ended; [`Exit::code`] is `rollsim`'s exit code for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything ran and every `[[expect]]` was met (exit code 0).
    Ok,
    /// `validate` found a problem in one of the files, each printed (exit code 2, as for bad
    /// input).
    Invalid,
    /// A run or batch finished and wrote its outputs, but an `[[expect]]` was missed (exit
    /// code 3).
    Missed,
}

impl Exit {
    /// The process exit code `rollsim` ends with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Invalid => 2,
            Exit::Missed => 3,
        }
    }
}

/// Prints an error, each of its problems on a line of its own starting with `error: `, so that
/// a program reading stderr finds every problem the same way.
pub fn print_error(e: &Error) {
    for line in e.to_string().lines() {
        eprintln!("error: {line}");
    }
}

/// [`Exit::Missed`] when an expectation is missed.
fn gate(outcomes: &[crate::batch::Outcome]) -> Exit {
    if outcomes.iter().any(|o| !o.met) {
        Exit::Missed
    } else {
        Exit::Ok
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

/// `1 deployment`, `2 deployments`.
fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A bad-input error about `file` (a folder, a manifest, `command line`) with one problem that
/// has no line or column: these are checks of the whole input, not of a place in it. `field`
/// names the option or variable at fault, or is empty.
fn problem(file: impl std::fmt::Display, field: &str, message: impl Into<String>) -> Error {
    Error::Input(crate::error::InputError {
        file: file.to_string(),
        problems: vec![crate::error::Problem {
            line: 0,
            column: 0,
            path: field.into(),
            message: message.into(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_in_memory_at_once_are_the_fewer_of_jobs_and_runs() {
        assert_eq!(concurrent_runs(Some(8), 8), 8);
        assert_eq!(concurrent_runs(Some(8), 3), 3);
        assert_eq!(concurrent_runs(Some(2), 100), 2);
        assert_eq!(concurrent_runs(Some(0), 0), 1);
    }

    #[test]
    fn counts_of_one_are_singular() {
        assert_eq!(count(1, "deployment"), "1 deployment");
        assert_eq!(count(2, "deployment"), "2 deployments");
        assert_eq!(count(0, "variant"), "0 variants");
    }

    #[test]
    fn exit_codes_are_those_rollsim_documents() {
        assert_eq!(Exit::Ok.code(), 0);
        assert_eq!(Exit::Invalid.code(), 2);
        assert_eq!(Exit::Missed.code(), 3);
    }
}
