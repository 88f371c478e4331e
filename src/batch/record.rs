//! Run records: everything aggregation needs from one run — its summary metrics and its state
//! counts per sample — in a small binary file, so runs can be resumed after an interruption and
//! shards computed on different machines can be merged into exactly the outputs of one unsharded
//! batch (aggregation reads the same records in the same order either way).
//!
//! Format (little-endian): `RSRUN1\\0\\0`, run index u64, seed u64, deployments u32, metrics u32,
//! the metrics as f64 (NaN = never reached), samples u32, states u32, then the counts as u32,
//! then `EMPTY\\0\\0\\0` and a byte per deployment (1: its audience held no device as the run
//! started). A record written before that last part (it ends after the counts) still reads, with
//! the audiences unknown.
//! A record is written to a temporary name and renamed, so a file under its final name is complete.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::metrics::N_STATES;
use crate::report;
use crate::scenario::Scenario;
use crate::sim::RunResult;

const MAGIC: &[u8; 8] = b"RSRUN1\0\0";

/// Heads the per-deployment flags of empty audiences at the end of a record.
const EMPTY_TAG: &[u8; 8] = b"EMPTY\0\0\0";

/// Values per deployment in a record: [`report::METRICS`], then
/// [`report::NOT_HELD_AT_END`].
const RUN_VALUES: usize = report::METRICS.len() + 1;

/// One run's contribution to a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Run number (variant × replications + replication).
    pub index: u64,
    /// Seed the run used.
    pub seed: u64,
    /// Per deployment, the values of a `runs.csv` row
    /// ([`report::DeploymentSummary::run_values`]).
    pub metrics: Vec<Vec<Option<f64>>>,
    /// Per deployment, per sample, the state counts.
    pub counts: Vec<Vec<[u64; N_STATES]>>,
    /// Per deployment, whether its audience held no device as the run started
    /// ([`crate::service::StartAudiences`]), for the warning a batch gives once its runs are
    /// done; `None` in a record written before records kept it.
    pub empty: Option<Vec<bool>>,
}

impl RunRecord {
    /// The record of run `index` of scenario `sc`.
    pub fn from_run(index: u64, seed: u64, sc: &Scenario, r: &RunResult) -> Self {
        let summary = report::summary(sc, r);
        Self {
            index,
            seed,
            metrics: summary.deployments.iter().map(|d| d.run_values()).collect(),
            counts: (0..sc.deployments.len())
                .map(|d| r.recorder.series(d))
                .collect(),
            empty: Some(
                (0..sc.deployments.len())
                    .map(|d| r.start_audiences.empty.get(d).copied().unwrap_or(false))
                    .collect(),
            ),
        }
    }

    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.index.to_le_bytes());
        b.extend_from_slice(&self.seed.to_le_bytes());
        b.extend_from_slice(&(self.metrics.len() as u32).to_le_bytes());
        b.extend_from_slice(&(RUN_VALUES as u32).to_le_bytes());
        for dep in &self.metrics {
            for m in dep {
                b.extend_from_slice(&m.unwrap_or(f64::NAN).to_le_bytes());
            }
        }
        let samples = self.counts.first().map_or(0, Vec::len);
        b.extend_from_slice(&(samples as u32).to_le_bytes());
        b.extend_from_slice(&(N_STATES as u32).to_le_bytes());
        for dep in &self.counts {
            for row in dep {
                for &n in row {
                    b.extend_from_slice(&(n.min(u64::from(u32::MAX)) as u32).to_le_bytes());
                }
            }
        }
        if let Some(empty) = &self.empty {
            b.extend_from_slice(EMPTY_TAG);
            b.extend(empty.iter().map(|&e| u8::from(e)));
        }
        b
    }

    /// Reads the binary form; `None` when it is not a complete record of this version.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let at = std::cell::Cell::new(0);
        let take = |n: usize| -> Option<&[u8]> {
            let s = b.get(at.get()..at.get() + n)?;
            at.set(at.get() + n);
            Some(s)
        };
        if take(8)? != MAGIC {
            return None;
        }
        let u64_ = |s: &[u8]| s.try_into().ok().map(u64::from_le_bytes);
        let index = u64_(take(8)?)?;
        let seed = u64_(take(8)?)?;
        let u32_ = |s: &[u8]| s.try_into().ok().map(u32::from_le_bytes);
        let deps = u32_(take(4)?)? as usize;
        let nm = u32_(take(4)?)? as usize;
        if nm != RUN_VALUES || deps > 10_000 {
            return None;
        }
        let mut metrics = Vec::with_capacity(deps);
        for _ in 0..deps {
            let mut v = Vec::with_capacity(nm);
            for _ in 0..nm {
                let x = f64::from_le_bytes(take(8)?.try_into().ok()?);
                v.push((!x.is_nan()).then_some(x));
            }
            metrics.push(v);
        }
        let samples = u32_(take(4)?)? as usize;
        if u32_(take(4)?)? as usize != N_STATES {
            return None;
        }
        // The counts must be in the file before room is made for them: a corrupt `samples`
        // (up to 2^32) would otherwise ask for hundreds of gigabytes and abort the process.
        let counts_len = deps
            .checked_mul(samples)
            .and_then(|n| n.checked_mul(N_STATES * 4))?;
        if b.len() - at.get() < counts_len {
            return None;
        }
        let mut counts = Vec::with_capacity(deps);
        for _ in 0..deps {
            let mut series = Vec::with_capacity(samples);
            for _ in 0..samples {
                let mut row = [0u64; N_STATES];
                for x in &mut row {
                    *x = u64::from(u32_(take(4)?)?);
                }
                series.push(row);
            }
            counts.push(series);
        }
        // An older record ends here; a newer one has the audiences' flags.
        let empty = match b.len() - at.get() {
            0 => None,
            _ => {
                if take(8)? != EMPTY_TAG {
                    return None;
                }
                let flags = take(deps)?;
                if flags.iter().any(|&f| f > 1) {
                    return None;
                }
                Some(flags.iter().map(|&f| f == 1).collect())
            }
        };
        if at.get() != b.len() {
            return None;
        }
        Some(Self {
            index,
            seed,
            metrics,
            counts,
            empty,
        })
    }
}

/// Where run `k`'s record lives in `dir`.
pub fn path(dir: &Path, k: u64) -> PathBuf {
    dir.join(format!("run-{k:08}.bin"))
}

/// Run `k`'s record in `dir`, if a complete one is there.
pub fn load(dir: &Path, k: u64) -> Option<RunRecord> {
    let b = std::fs::read(path(dir, k)).ok()?;
    RunRecord::decode(&b).filter(|r| r.index == k)
}

/// Writes a record atomically (temporary name, then rename).
pub fn save(dir: &Path, rec: &RunRecord) -> Result<(), Error> {
    let err = |p: &Path, e: std::io::Error| Error::Write {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let final_path = path(dir, rec.index);
    let tmp = dir.join(format!(".run-{:08}.tmp", rec.index));
    std::fs::write(&tmp, rec.encode()).map_err(|e| err(&final_path, e))?;
    std::fs::rename(&tmp, &final_path).map_err(|e| err(&final_path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_a_truncated_one_is_rejected() {
        let mut row = [0u64; N_STATES];
        row[3] = 7;
        let r = RunRecord {
            index: 5,
            seed: 9,
            metrics: vec![vec![Some(1.5); RUN_VALUES], vec![None; RUN_VALUES]],
            counts: vec![vec![row; 3], vec![row; 3]],
            empty: Some(vec![false, true]),
        };
        let b = r.encode();
        assert_eq!(RunRecord::decode(&b), Some(r.clone()));
        assert_eq!(RunRecord::decode(&b[..b.len() - 1]), None);
        assert_eq!(RunRecord::decode(&b[..b.len() - 9]), None, "a cut tag");
    }

    #[test]
    fn a_record_whose_sample_count_is_corrupt_is_rejected_before_anything_is_allocated() {
        let r = RunRecord {
            index: 1,
            seed: 4,
            metrics: vec![vec![Some(2.0); RUN_VALUES]; 2],
            counts: vec![vec![[3; N_STATES]; 4]; 2],
            empty: Some(vec![false, false]),
        };
        let mut b = r.encode();
        // `samples` follows the header (8 + 8 + 8 + 4 + 4 bytes) and the metrics.
        let at = 32 + 2 * RUN_VALUES * 8;
        assert_eq!(b[at..at + 4], 4u32.to_le_bytes());
        for bad in [u32::MAX, 1 << 28, 5] {
            b[at..at + 4].copy_from_slice(&bad.to_le_bytes());
            // Before the check, u32::MAX samples asked for 2 × 2^32 rows up front and aborted.
            assert_eq!(RunRecord::decode(&b), None, "{bad} samples");
        }
        b[at..at + 4].copy_from_slice(&4u32.to_le_bytes());
        assert_eq!(RunRecord::decode(&b), Some(r));
    }

    #[test]
    fn a_record_written_before_the_audiences_were_kept_still_reads_with_them_unknown() {
        let r = RunRecord {
            index: 2,
            seed: 1,
            metrics: vec![vec![Some(3.0); RUN_VALUES]],
            counts: vec![vec![[1; N_STATES]; 2]],
            empty: None,
        };
        let old = r.encode();
        let new = RunRecord {
            empty: Some(vec![true]),
            ..r.clone()
        }
        .encode();
        assert_eq!(
            &new[..old.len()],
            &old[..],
            "the flags are only added at the end"
        );
        assert_eq!(RunRecord::decode(&old), Some(r));
    }
}
