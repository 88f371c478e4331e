//! Which shard of a batch this process runs: `--shard I/N`, or the task index and count of a
//! Slurm job array or a Kubernetes Indexed Job, so that one command line serves every task of
//! the array.
//!
//! In the library so that a program embedding rollsim and started as an array task selects the
//! same runs as `rollsim batch` would.

use crate::Error;
use crate::batch::Shard;

/// The shard from `--shard I/N`, else from Slurm or Kubernetes variables; `None` when no shard
/// is asked for. A shard that is asked for but cannot be worked out (a variable that is not a
/// number, `--shard-count` without `JOB_COMPLETION_INDEX`) is an error naming the flag or
/// variable: running every run in every task of an array would be silently wrong.
pub fn shard_of(flag: Option<&str>, count: Option<u64>) -> Result<Option<Shard>, Error> {
    shard_from(flag, count, &|k| std::env::var_os(k))
}

/// [`shard_of`] with the environment read through `env`.
pub fn shard_from(
    flag: Option<&str>,
    count: Option<u64>,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Option<Shard>, Error> {
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
        return Ok(Some(Shard { index: i, count: n }));
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
            return Ok(Some(Shard {
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
        Some(k) => Ok(Some(Shard {
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

/// A command-line error about `what` (an option or the environment variable it came from).
fn usage(what: &str, message: String) -> Error {
    super::problem("command line", what, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`shard_from`] with these environment variables and no others.
    fn shard_with(
        flag: Option<&str>,
        count: Option<u64>,
        vars: &[(&str, &str)],
    ) -> Result<Option<Shard>, String> {
        let env = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| std::ffi::OsString::from(v))
        };
        shard_from(flag, count, &env).map_err(|e| e.to_string())
    }

    #[test]
    fn an_explicit_single_shard_is_a_shard_not_the_unsharded_batch() {
        let one = Ok(Some(Shard { index: 1, count: 1 }));
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
}
