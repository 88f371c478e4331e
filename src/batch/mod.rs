//! Many runs: replications of a scenario and sweeps over variants, in parallel, summarised.
//!
//! - Replication `r` of a variant runs with the variant's seed and replication index `r` (the
//!   random streams are keyed by both), so variants share their random numbers (common random
//!   numbers make comparisons sharper) and nothing depends on thread count or run order.
//! - Runs execute on a rayon pool (`--jobs`); each simulation stays single-threaded. Results are
//!   folded in replication order, in chunks, so memory holds a chunk of runs plus the aggregates.
//! - Per variant: [`bands::Bands`] (percentile curves in bounded memory) and the per-run summary
//!   metrics (one row per run in `runs.csv`; their percentiles and the Pareto front in
//!   `variants.csv`).

pub mod bands;
pub mod expect;
pub mod record;
pub mod sweep;

use rayon::prelude::*;

use crate::error::Error;
use crate::metrics::State;
use crate::report::{self, csv_bytes, csv_text, fmt_hours};
use crate::scenario::Scenario;
use crate::sim;
use crate::time::format_instant;
use bands::{Bands, QUANTILES};
use expect::{Expectation, quantile};

/// One variant to run.
pub struct Job<'a> {
    /// Variant name.
    pub name: String,
    /// Parameter values, in the order of the batch's parameter names.
    pub params: Vec<String>,
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The seed of its replications (a sweep variant that sets `simulation.seed` has its own).
    pub seed: u64,
    /// The replication index of its first run (0, or `rollsim run --replication R`'s R).
    pub first_replication: u64,
    /// Its first run, already made (`rollsim run` simulates it for its own outputs first): folded
    /// in as it is, not simulated a second time.
    pub first_run: Option<&'a sim::RunResult>,
}

/// Per-run summary rows of one variant: `metrics[run][deployment]`.
pub struct VariantResult {
    /// Variant name.
    pub name: String,
    /// Parameter values.
    pub params: Vec<String>,
    /// Deployment names.
    pub deployments: Vec<String>,
    /// Bands of the state curves.
    pub bands: Bands,
    /// Per replication: (seed, per deployment the metric values in [`report::METRICS`] order).
    pub runs: Vec<(u64, Vec<Vec<Option<f64>>>)>,
    /// Per deployment, in how many runs its audience held no device as the run started, of
    /// [`VariantResult::audiences_known`] runs (records of an older build do not say).
    pub empty_runs: Vec<u64>,
    /// The runs whose records say whether the audiences were empty.
    pub audiences_known: u64,
    /// Per deployment, whether it has a monitoring rule ([`Scenario::monitored`]).
    pub monitored: Vec<bool>,
    /// Scenario start (for the time column) and sample interval.
    start_unix: i64,
    sample: u64,
    horizon: u64,
}

impl VariantResult {
    /// The values of `metric` for deployment `dep` across runs.
    pub fn values(&self, dep: usize, metric: &str) -> Vec<Option<f64>> {
        let m = if metric == report::NOT_HELD_AT_END {
            report::METRICS.len()
        } else {
            let Some(m) = report::METRICS.iter().position(|x| *x == metric) else {
                return Vec::new();
            };
            m
        };
        self.runs
            .iter()
            .map(|(_, ds)| ds.get(dep).and_then(|d| d.get(m).copied().flatten()))
            .collect()
    }
}

/// Which runs this process executes: shard `index` (1-based) of `count`. Run `k` (numbered
/// variant × replications + replication) belongs to shard `k mod count + 1`. A shard, even the
/// only one of `1/1`, keeps run records for `merge`; an unsharded batch is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// Whether run `k` is this shard's.
    pub fn owns(&self, k: u64) -> bool {
        k % self.count.max(1) == self.index.saturating_sub(1)
    }
}

/// Runs `reps` replications of every job (each with its seed) on `threads` threads. With
/// `store`, each run's record is kept in that folder (written atomically) and runs whose record is
/// already there are not run again (`--resume`); with a shard, only that shard's runs are run and
/// nothing is aggregated (`merge` does it). `progress` is called after each run, told whether
/// its record was reused from `store`.
pub fn run_all(
    jobs_list: &[Job<'_>],
    reps: u64,
    threads: usize,
    progress: &(dyn Fn(bool) + Sync),
    store: Option<&std::path::Path>,
    shard: Option<Shard>,
) -> Result<Vec<VariantResult>, Error> {
    // A thread without a run to take only costs its start (`--jobs 4000` for 2 runs took 19 s).
    let runs = (jobs_list.len() as u64).saturating_mul(reps);
    let threads = threads
        .min(usize::try_from(runs).unwrap_or(usize::MAX))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Run(format!("cannot start {threads} worker threads: {e}")))?;
    let chunk = (threads.max(1) * 4) as u64;
    let mut out = Vec::new();
    for (vi, job) in jobs_list.iter().enumerate() {
        let (sc, seed) = (job.scenario, job.seed);
        let mut acc = Accumulator::new(job, sc);
        let mine: Vec<u64> = (0..reps)
            .filter(|r| shard.is_none_or(|s| s.owns(vi as u64 * reps + r)))
            .collect();
        for part in mine.chunks(chunk as usize) {
            let results: Result<Vec<RunRecord>, Error> = pool.install(|| {
                part.par_iter()
                    .map(|&r| {
                        let k = vi as u64 * reps + r;
                        let rec = match store.and_then(|d| record::load(d, k)) {
                            Some(rec) => {
                                progress(true);
                                rec
                            }
                            None => {
                                let made;
                                let res = match job.first_run {
                                    Some(res) if r == 0 => res,
                                    _ => {
                                        made = sim::run(sc, seed, job.first_replication + r)?;
                                        &made
                                    }
                                };
                                let rec = RunRecord::from_run(k, seed, sc, res);
                                if let Some(d) = store {
                                    record::save(d, &rec)?;
                                }
                                progress(false);
                                rec
                            }
                        };
                        Ok(rec)
                    })
                    .collect()
            });
            if shard.is_none() {
                for rec in results? {
                    acc.add(rec);
                }
            } else {
                results?;
            }
        }
        out.push(acc.finish());
    }
    Ok(out)
}

/// FNV-1a over `parts`, each followed by its length so that moving bytes from one part to the
/// next changes the hash. Stable across builds and platforms, unlike std's hasher, because it is
/// stored in files that a later process compares.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.iter().chain(&(p.len() as u64).to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// What run `k` of a sweep file means, beyond the inputs [`batch_id`] hashes: changed whenever
/// rollsim numbers runs or seeds them differently for the same sweep file, so that records of an
/// older build with the same version number are refused instead of misread. Layout 2: grid axes in
/// file order, and a variant that sets `simulation.seed` runs with it.
const RUNS_LAYOUT: &[u8] = b"runs-2";

/// The identity of a batch's run records: run `k`'s record is the same only when the sweep file,
/// its base scenario, the replication count (which numbers the runs) and rollsim's version are.
/// `--resume` and `merge` refuse records whose identity differs.
pub fn batch_id(sweep: &sweep::Sweep, reps: u64) -> String {
    let h = fnv1a(&[
        &sweep.fingerprint.to_le_bytes(),
        &reps.to_le_bytes(),
        &sweep.seed.to_le_bytes(),
        env!("CARGO_PKG_VERSION").as_bytes(),
        RUNS_LAYOUT,
    ]);
    format!("{h:016x}")
}

/// Folds run records of one variant, in replication order, into its result.
pub struct Accumulator {
    result: VariantResult,
}

impl Accumulator {
    /// An empty result for `job`.
    pub fn new(job: &Job<'_>, sc: &Scenario) -> Self {
        let samples = sc.horizon.div_ceil(sc.sample_interval.max(1)) as usize + 1;
        Self {
            result: VariantResult {
                name: job.name.clone(),
                params: job.params.clone(),
                deployments: sc.deployments.iter().map(|d| d.name.clone()).collect(),
                bands: Bands::new(sc.deployments.len(), samples),
                runs: Vec::new(),
                empty_runs: vec![0; sc.deployments.len()],
                audiences_known: 0,
                monitored: (0..sc.deployments.len()).map(|d| sc.monitored(d)).collect(),
                start_unix: sc.start_unix,
                sample: sc.sample_interval,
                horizon: sc.horizon,
            },
        }
    }

    /// Adds the next run.
    pub fn add(&mut self, rec: RunRecord) {
        if let Some(empty) = &rec.empty {
            self.result.audiences_known += 1;
            for (n, &e) in self.result.empty_runs.iter_mut().zip(empty) {
                *n += u64::from(e);
            }
        }
        self.result.bands.add_counts(&rec.counts);
        self.result.runs.push((rec.seed, rec.metrics));
    }

    /// The result, its bands worked out ([`Bands::finish`]).
    pub fn finish(mut self) -> VariantResult {
        self.result.bands.finish();
        self.result
    }
}

pub use record::RunRecord;

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| {
        let r = (x * 10_000.0).round() / 10_000.0;
        r.to_string()
    })
}

/// `bands.csv`: per variant, sample, deployment and state, the percentiles and mean share.
pub fn bands_csv(results: &[VariantResult]) -> Result<Vec<u8>, Error> {
    csv_bytes("bands.csv", |w| {
        w.write_record([
            "variant",
            "hours",
            "time",
            "deployment",
            "state",
            "p5",
            "p25",
            "p50",
            "p75",
            "p95",
            "mean",
        ])?;
        for v in results {
            for (d, dep) in v.deployments.iter().enumerate() {
                for k in 0..v.bands.samples() {
                    let t = (k as u64 * v.sample).min(v.horizon);
                    let (hours, time) = (fmt_hours(t), format_instant(v.start_unix, t));
                    for s in State::ALL {
                        let mut row = vec![
                            csv_text(&v.name),
                            hours.clone(),
                            time.clone(),
                            csv_text(dep),
                            s.as_str().to_string(),
                        ];
                        for q in QUANTILES {
                            row.push(format!("{:.6}", v.bands.quantile(d, k, s, q)));
                        }
                        row.push(format!("{:.6}", v.bands.mean(d, k, s)));
                        w.write_record(&row)?;
                    }
                }
            }
        }
        Ok(())
    })
}

/// `runs.csv`: one row per run and deployment with every summary metric.
pub fn runs_csv(results: &[VariantResult], parameters: &[String]) -> Result<Vec<u8>, Error> {
    csv_bytes("runs.csv", |w| {
        let mut header = vec!["variant".to_string()];
        header.extend(parameters.iter().cloned());
        header.extend(["replication", "seed", "deployment"].map(String::from));
        header.extend(report::METRICS.iter().map(|m| m.to_string()));
        header.push(report::NOT_HELD_AT_END.to_string());
        w.write_record(&header)?;
        for v in results {
            for (r, (seed, ds)) in v.runs.iter().enumerate() {
                for (d, values) in ds.iter().enumerate() {
                    let mut row = vec![csv_text(&v.name)];
                    row.extend(v.params.iter().map(|p| csv_text(p)));
                    row.extend([r.to_string(), seed.to_string(), csv_text(&v.deployments[d])]);
                    let (metrics, rest) = values.split_at(values.len().min(report::METRICS.len()));
                    row.extend(metrics.iter().map(|&x| num(x)));
                    row.push(
                        rest.first()
                            .copied()
                            .flatten()
                            .map_or(String::new(), report::not_held_text),
                    );
                    w.write_record(&row)?;
                }
            }
        }
        Ok(())
    })
}

/// Pareto front flags: point i is on the front when no other point is at least as good in both
/// coordinates and better in one (smaller is better; `None` = never = worst).
fn pareto(points: &[(Option<f64>, Option<f64>)]) -> Vec<bool> {
    let key = |v: Option<f64>| v.unwrap_or(f64::INFINITY);
    points
        .iter()
        .map(|&(a, b)| {
            !points.iter().any(|&(c, d)| {
                key(c) <= key(a) && key(d) <= key(b) && (key(c) < key(a) || key(d) < key(b))
            })
        })
        .collect()
}

/// `variants.csv`: per variant and deployment, percentiles of the key metrics and the Pareto
/// flags (speed vs blast radius, speed vs disruption), then the variant's parameters.
pub fn variants_csv(results: &[VariantResult], parameters: &[String]) -> Result<Vec<u8>, Error> {
    // Rows: (variant index, deployment index).
    let mut rows: Vec<(usize, usize)> = Vec::new();
    for (vi, v) in results.iter().enumerate() {
        for d in 0..v.deployments.len() {
            rows.push((vi, d));
        }
    }
    let q = |vi: usize, d: usize, m: &str, p: f64| quantile(&results[vi].values(d, m), p);
    // Fronts are computed among the variants of the same deployment.
    let mut blast = vec![false; rows.len()];
    let mut disruption = vec![false; rows.len()];
    let deps: Vec<String> = {
        let mut v: Vec<String> = rows
            .iter()
            .map(|&(vi, d)| results[vi].deployments[d].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    for dep in deps {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|&i| results[rows[i].0].deployments[rows[i].1] == dep)
            .collect();
        let speed: Vec<Option<f64>> = idx
            .iter()
            .map(|&i| q(rows[i].0, rows[i].1, "hours_to_95", 0.5))
            .collect();
        for (metric, flags) in [
            ("issue_hits", &mut blast),
            ("restarts_in_active_hours", &mut disruption),
        ] {
            let pts: Vec<(Option<f64>, Option<f64>)> = idx
                .iter()
                .zip(&speed)
                .map(|(&i, &s)| (s, q(rows[i].0, rows[i].1, metric, 0.5)))
                .collect();
            // With every median at 0 (no variant hits or disrupts anyone) the front would only
            // be the fastest variants, which says nothing of the trade-off: no flag is set, as
            // no Pareto chart is drawn.
            if pts.iter().all(|(_, m)| m.is_none_or(|m| m == 0.0)) {
                continue;
            }
            for (k, on) in pareto(&pts).into_iter().enumerate() {
                flags[idx[k]] = on;
            }
        }
    }
    csv_bytes("variants.csv", |w| {
        let mut header: Vec<String> = [
            "variant",
            "deployment",
            "runs",
            "hours_to_90_p5",
            "hours_to_90_p50",
            "hours_to_90_p95",
            "hours_to_95_p5",
            "hours_to_95_p50",
            "hours_to_95_p95",
            "issue_hits_p5",
            "issue_hits_p50",
            "issue_hits_p95",
            "forced_restarts_p50",
            "restarts_in_active_hours_p50",
            "pareto_blast",
            "pareto_disruption",
            "exposure_device_days_p5",
            "exposure_device_days_p50",
            "exposure_device_days_p95",
            "share_compliant_at_exploit_p50",
            "exposure_after_exploit_device_days_p5",
            "exposure_after_exploit_device_days_p50",
            "exposure_after_exploit_device_days_p95",
            "hours_to_99_p5",
            "hours_to_99_p50",
            "hours_to_99_p95",
            "share_compliant_p50",
            "rule_fired_runs",
            "rule_fired_hours_p50",
            "issue_hits_at_rule_p50",
        ]
        .map(String::from)
        .to_vec();
        header.extend(parameters.iter().cloned());
        w.write_record(&header)?;
        for (i, &(vi, d)) in rows.iter().enumerate() {
            let v = &results[vi];
            let mut row = vec![
                csv_text(&v.name),
                csv_text(&v.deployments[d]),
                v.runs.len().to_string(),
            ];
            for m in ["hours_to_90", "hours_to_95", "issue_hits"] {
                for p in [0.05, 0.5, 0.95] {
                    row.push(num(q(vi, d, m, p)));
                }
            }
            row.push(num(q(vi, d, "forced_restarts", 0.5)));
            row.push(num(q(vi, d, "restarts_in_active_hours", 0.5)));
            row.push(blast[i].to_string());
            row.push(disruption[i].to_string());
            // After the columns that were there before them, so that a reader by position
            // still finds those; the parameters stay last.
            for p in [0.05, 0.5, 0.95] {
                row.push(num(q(vi, d, "exposure_device_days", p)));
            }
            row.push(num(q(vi, d, "share_compliant_at_exploit", 0.5)));
            for p in [0.05, 0.5, 0.95] {
                row.push(num(q(vi, d, "exposure_after_exploit_device_days", p)));
            }
            for p in [0.05, 0.5, 0.95] {
                row.push(num(q(vi, d, "hours_to_99", p)));
            }
            // The share at the end, what a safety sweep that pauses its rollout is read by.
            row.push(num(q(vi, d, "share_compliant", 0.5)));
            // Empty, not 0, for a deployment without a rule: nothing could have fired.
            let fired = v.values(d, "rule_fired_hours");
            row.push(match v.monitored.get(d) {
                Some(true) => fired.iter().flatten().count().to_string(),
                _ => String::new(),
            });
            // Medians over the runs in which a rule fired: the runs without are no time and no
            // count (rather than latest, as for a threshold not reached).
            let when = |m: &str| -> Vec<Option<f64>> {
                let values = v.values(d, m);
                fired
                    .iter()
                    .zip(values)
                    .filter(|(f, _)| f.is_some())
                    .map(|(_, x)| x)
                    .collect()
            };
            row.push(num(quantile(&when("rule_fired_hours"), 0.5)));
            row.push(num(quantile(&when("issue_hits_at_rule"), 0.5)));
            row.extend(v.params.iter().map(|p| csv_text(p)));
            w.write_record(&row)?;
        }
        Ok(())
    })
}

/// One expectation's outcome.
pub struct Outcome {
    /// Variant (empty for a plain run).
    pub variant: String,
    /// The expectation.
    pub expect: Expectation,
    /// The value the gate decides on (`None`: never reached; [`Expectation::judge`]).
    pub value: Option<f64>,
    /// Runs whose own value meets the bound, of `runs`.
    pub runs_met: usize,
    /// Runs.
    pub runs: usize,
    /// Whether it is met.
    pub met: bool,
}

/// Checks expectations against every variant: variant `i`'s are `expectations(i)` (a sweep's
/// own and its base scenario's, as the variant has them).
pub fn check(
    results: &[VariantResult],
    expectations: impl Fn(usize) -> Vec<Expectation>,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (i, v) in results.iter().enumerate() {
        for e in expectations(i) {
            let Some(d) = v.deployments.iter().position(|n| *n == e.deployment) else {
                continue;
            };
            let j = e.judge(&v.values(d, &e.metric));
            out.push(Outcome {
                variant: v.name.clone(),
                met: j.met,
                expect: e,
                value: j.value,
                runs_met: j.runs_met,
                runs: j.runs,
            });
        }
    }
    out
}

/// `expectations.csv`.
pub fn expectations_csv(outcomes: &[Outcome]) -> Result<Vec<u8>, Error> {
    csv_bytes("expectations.csv", |w| {
        w.write_record([
            "variant",
            "deployment",
            "metric",
            "quantile",
            "bound",
            "limit",
            "value",
            "status",
            "runs_met",
            "runs",
        ])?;
        for o in outcomes {
            let (bound, limit) = match o.expect.bound {
                expect::Bound::AtMost(v) => ("at_most", v),
                expect::Bound::AtLeast(v) => ("at_least", v),
            };
            w.write_record([
                csv_text(&o.variant),
                csv_text(&o.expect.deployment),
                o.expect.metric.clone(),
                o.expect.quantile.to_string(),
                bound.to_string(),
                // Both unrounded, so that the status can be checked from the file (a value
                // rounded to 4 decimals can read equal to a limit it misses).
                limit.to_string(),
                // Empty: never reached (a time), or missing (no rule fired).
                o.value.map_or(String::new(), |v| v.to_string()),
                if o.met { "met" } else { "missed" }.to_string(),
                o.runs_met.to_string(),
                o.runs.to_string(),
            ])?;
        }
        Ok(())
    })
}

/// `p50`, `p97.5`: quantile `q` as a percentile, as precise as it was written (to 1e-6 %).
fn percentile_label(q: f64) -> String {
    format!("p{}", (q * 100.0 * 1e6).round() / 1e6)
}

/// The terminal's lines for the replications of one scenario (`rollsim run --replications`),
/// which otherwise shows replication 0 alone: a line per deployment (see [`deployment_line`]).
pub fn replication_lines(results: &[VariantResult]) -> String {
    let Some(v) = results.first() else {
        return String::new();
    };
    let mut t = format!(
        "  the lines above are replication 0; across all {} replications (runs.csv, bands.csv):\n",
        v.runs.len()
    );
    for d in 0..v.deployments.len() {
        t.push_str(&format!("    {}\n", deployment_line(v, d)));
    }
    t
}

/// Most variants the terminal lists after a batch; the rest are in `variants.csv`.
const VARIANT_LINES: usize = 12;

/// The warnings, once a batch's runs are done, of the deployments whose audience held no device
/// as a run started, in some of its replications, when loading could not tell it (a group's
/// random share or an attribute filter on drawn attributes emptied it; see
/// [`crate::scenario::deployment::empty_audience_warnings`], which `run` tells for replication
/// 0): one per deployment, not per run, told once for the variants with the same count ("all 3
/// variants: deployments[0].audience: \"pilot\" holds no device in 4 of 20 replications …"),
/// else naming each variant's count. `scenarios` are the variants' (of `results`, in order).
pub fn empty_audience_warnings(scenarios: &[&Scenario], results: &[VariantResult]) -> Vec<String> {
    let total = results.len();
    // Per deployment (its index): the variants whose runs had it empty, with (empty, known).
    let deployments = results
        .iter()
        .map(|v| v.empty_runs.len())
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for di in 0..deployments {
        let hit: Vec<(usize, u64, u64)> =
            results
                .iter()
                .zip(scenarios)
                .enumerate()
                .filter_map(|(vi, (v, sc))| {
                    let n = v.empty_runs.get(di).copied().unwrap_or(0);
                    (n > 0 && crate::scenario::deployment::empty_told_after_draw(sc, di))
                        .then_some((vi, n, v.audiences_known))
                })
                .collect();
        let Some(&(first, n, known)) = hit.first() else {
            continue;
        };
        let names: Vec<String> = hit
            .iter()
            .map(|&(vi, _, _)| results[vi].name.clone())
            .collect();
        let runs = |n: u64, known: u64| match n == known {
            true if known == 1 => "its only replication".to_string(),
            true => format!("all {known} replications"),
            false => format!("{n} of {known} replications"),
        };
        let counts = match hit.iter().all(|&(_, m, k)| (m, k) == (n, known)) {
            true => runs(n, known),
            false => {
                const SHOWN: usize = 3;
                let each: Vec<String> = hit
                    .iter()
                    .take(SHOWN)
                    .map(|&(vi, m, k)| format!("{}: {}", results[vi].name, runs(m, k)))
                    .collect();
                let more = if hit.len() > SHOWN { "; …" } else { "" };
                format!("some replications ({}{more})", each.join("; "))
            }
        };
        let text = crate::scenario::deployment::empty_audience_batch_warning(
            scenarios[first],
            di,
            &counts,
        );
        out.push(format!("{}: {text}", sweep::which_variants(&names, total)));
    }
    out
}

/// The terminal's answer after a batch: per variant a line per deployment (see
/// [`deployment_line`]). A deployment whose line is the same in every variant (one the sweep
/// does not vary: common random numbers make its runs identical) is listed once, after them.
pub fn variant_lines(results: &[VariantResult]) -> String {
    let Some(first) = results.first() else {
        return String::new();
    };
    let lines: Vec<Vec<String>> = results
        .iter()
        .map(|v| {
            (0..v.deployments.len())
                .map(|d| deployment_line(v, d))
                .collect()
        })
        .collect();
    let same = |d: usize| results.len() > 1 && lines.iter().all(|l| l.get(d) == lines[0].get(d));
    let mut t = String::new();
    for (v, l) in results.iter().zip(&lines).take(VARIANT_LINES) {
        t.push_str(&format!("  {}:\n", v.name));
        for (d, line) in l.iter().enumerate() {
            if !same(d) {
                t.push_str(&format!("    {line}\n"));
            }
        }
    }
    if results.len() > VARIANT_LINES {
        t.push_str(&format!(
            "  … and {} more variants in variants.csv\n",
            results.len() - VARIANT_LINES
        ));
    }
    for d in (0..first.deployments.len()).filter(|&d| same(d)) {
        t.push_str(&format!("  the same in every variant: {}\n", lines[0][d]));
    }
    t
}

/// One deployment across a variant's runs, in the words report.html uses too
/// ([`report::AcrossOut`]).
fn deployment_line(v: &VariantResult, d: usize) -> String {
    let name = v.deployments.get(d).map_or("", String::as_str);
    report::AcrossOut::new(name, |metric| v.values(d, metric))
        .with_monitored(v.monitored.get(d).copied())
        .text()
}

/// Terminal lines for expectations.
pub fn outcome_lines(outcomes: &[Outcome]) -> String {
    lines_of(outcomes.iter())
}

/// The lines of the expectations that were missed: what `--quiet` still prints (to stderr), so
/// that a CI gate that fails with exit code 3 says which bound it missed.
pub fn missed_lines(outcomes: &[Outcome]) -> String {
    lines_of(outcomes.iter().filter(|o| !o.met))
}

fn lines_of<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> String {
    outcomes
        .map(|o| {
            format!(
                "  expect {}{} {} ({}) {}: {} → {}{}\n",
                if o.variant.is_empty() {
                    String::new()
                } else {
                    format!("[{}] ", o.variant)
                },
                o.expect.deployment,
                o.expect.metric,
                percentile_label(o.expect.quantile),
                o.expect.bound_text(),
                o.value.map_or("never".into(), |v| num(Some(v))),
                if o.met { "met" } else { "MISSED" },
                if o.runs > 1 {
                    format!(" ({} of {} runs meet the bound)", o.runs_met, o.runs)
                } else {
                    String::new()
                }
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_quantile_is_labelled_with_the_percentile_as_written() {
        assert_eq!(percentile_label(0.975), "p97.5");
        assert_eq!(percentile_label(0.9), "p90");
        assert_eq!(percentile_label(0.5), "p50");
        assert_eq!(percentile_label(0.999), "p99.9");
        assert_eq!(percentile_label(0.0), "p0");
        assert_eq!(percentile_label(1.0), "p100");
    }

    #[test]
    fn a_jobs_first_run_already_made_is_folded_in_as_it_is_and_the_others_are_simulated() {
        let text = r##"
[simulation]
start = "2026-01-13T18:00:00Z"
horizon = "P5D"
seed = 1
[[segments]]
name = "s"
devices = 50
[[deployments]]
name = "q"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", classification = "security", releaseDateTime = "2026-01-13T18:00:00Z" }
"##;
        let sc = Scenario::parse(text, "t.toml", "t", std::path::Path::new(".")).expect("loads");
        let job = |first_run| Job {
            name: "base".into(),
            params: Vec::new(),
            scenario: &sc,
            seed: 1,
            first_replication: 0,
            first_run,
        };
        let runs = |first_run| {
            let mut r = run_all(&[job(first_run)], 2, 1, &|_| {}, None, None).expect("runs");
            r.remove(0).runs
        };
        let made = runs(None);
        // The run given for replication 0 is taken as it is: one of another seed shows it.
        let other = sim::run(&sc, 9, 0).expect("runs");
        let given = runs(Some(&other));
        let record = |r: &sim::RunResult| RunRecord::from_run(0, 1, &sc, r).metrics;
        assert_eq!(given[0].1, record(&other));
        assert_ne!(given[0].1, made[0].1, "seed 9 is not seed 1");
        assert_eq!(given[1], made[1], "replication 1 is simulated as before");
        let same = sim::run(&sc, 1, 0).expect("runs");
        assert_eq!(runs(Some(&same)), made);
    }

    /// A variant whose runs give deployment `d` the metric values `metric_of(d, metric)`.
    fn variant(
        name: &str,
        runs: u64,
        metric_of: impl Fn(usize, &str) -> Option<f64>,
    ) -> VariantResult {
        let deployments = vec!["a".to_string(), "b".to_string()];
        let per_dep = |d: usize| report::METRICS.iter().map(|m| metric_of(d, m)).collect();
        VariantResult {
            name: name.into(),
            params: Vec::new(),
            bands: Bands::new(2, 1),
            runs: (0..runs)
                .map(|r| (r, vec![per_dep(0), per_dep(1)]))
                .collect(),
            deployments,
            start_unix: 0,
            sample: 3600,
            horizon: 3600,
            empty_runs: vec![0, 0],
            audiences_known: runs,
            monitored: vec![false, false],
        }
    }

    #[test]
    fn a_batch_lists_each_variant_and_a_deployment_the_sweep_does_not_change_once() {
        let v = |name: &str, hours: f64| {
            variant(name, 3, move |d, m| match (d, m) {
                (0, "hours_to_95") => Some(hours),
                (_, "hours_to_95") => Some(50.0),
                (_, "rule_fired_hours") => None,
                // No exploit instant: the words leave its figures out.
                (_, m) if m.contains("exploit") => None,
                _ => Some(0.0),
            })
        };
        let text = variant_lines(&[v("grace=0", 10.0), v("grace=2", 40.0)]);
        assert_eq!(
            text,
            "  grace=0:\n    a: 95 % at 10.0 h (median of 3 runs; min 10.0 h, max 10.0 h); forced restarts 0, restarts in active hours 0 (median); exposure 0.0 device-days (median)\n  \
             grace=2:\n    a: 95 % at 40.0 h (median of 3 runs; min 40.0 h, max 40.0 h); forced restarts 0, restarts in active hours 0 (median); exposure 0.0 device-days (median)\n  \
             the same in every variant: b: 95 % at 50.0 h (median of 3 runs; min 50.0 h, max 50.0 h); forced restarts 0, restarts in active hours 0 (median); exposure 0.0 device-days (median)\n"
        );
        let many: Vec<_> = (0..VARIANT_LINES + 3)
            .map(|i| v(&format!("v{i}"), i as f64))
            .collect();
        let text = variant_lines(&many);
        assert!(
            text.contains("  … and 3 more variants in variants.csv\n"),
            "{text}"
        );
        assert!(!text.contains(&format!("v{VARIANT_LINES}:")), "{text}");
    }

    #[test]
    fn a_deployment_line_counts_the_runs_a_rule_fired_in_and_the_runs_that_missed_95() {
        let v = variant("x", 4, |_, m| match m {
            "hours_to_95" => Some(5.0),
            "rule_fired_hours" => Some(1.0),
            "issue_hits" => Some(7.0),
            "share_compliant_at_exploit" => Some(0.6),
            _ => Some(2.0),
        });
        let mut v = v;
        v.runs[3].1[0][report::METRICS
            .iter()
            .position(|m| *m == "hours_to_95")
            .unwrap()] = None;
        v.runs[3].1[0][report::METRICS
            .iter()
            .position(|m| *m == "rule_fired_hours")
            .unwrap()] = None;
        let line = deployment_line(&v, 0);
        // A run below 95 % at the end is counted, not called "not held" (it may never have
        // got there).
        assert!(
            line.starts_with(
                "a: 95 % in 3 of 4 runs: median 5.0 h (min 5.0 h, max not by the end);"
            ),
            "{line}"
        );
        assert!(
            line.ends_with(
                "; devices hit by issues 7 (median); exposure 2.0 device-days (median); at the exploit 60.0 % compliant, then 2.0 device-days exposed (median); a monitoring rule fired in 3 of 4"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_deployment_with_rules_that_never_fired_says_so_and_one_without_rules_stays_silent() {
        let mut v = variant("x", 4, |_, m| match m {
            "rule_fired_hours" | "issue_hits_at_rule" => None,
            _ => Some(1.0),
        });
        v.monitored = vec![true, false];
        let line = |d: usize| deployment_line(&v, d);
        assert!(
            line(0).ends_with("; its monitoring rules fired in none of 4 runs"),
            "{}",
            line(0)
        );
        assert!(!line(1).contains("monitoring"), "{}", line(1));
    }

    /// `variants.csv`'s value of `column` in deployment `a`'s row of variant `x`.
    fn variants_cell(v: &VariantResult, column: &str) -> String {
        let bytes = variants_csv(std::slice::from_ref(v), &[]).expect("variants.csv");
        let mut r = csv::Reader::from_reader(&bytes[..]);
        let header = r.headers().expect("header").clone();
        let i = header.iter().position(|h| h == column).expect(column);
        let row = r.records().next().expect("a row").expect("a record");
        row[i].to_string()
    }

    #[test]
    fn variants_csv_counts_the_runs_a_rule_fired_in_and_takes_its_medians_over_those_runs_only() {
        // Runs 0 and 2 fired (at 10 h with 3 hits, at 30 h with 9), runs 1 and 3 did not.
        let mut v = variant("x", 4, |_, m| match m {
            "hours_to_99" => Some(100.0),
            "share_compliant" => Some(0.5),
            _ => Some(0.0),
        });
        let col = |m: &str| report::METRICS.iter().position(|x| *x == m).expect(m);
        for (run, fired) in [
            (0, Some((10.0, 3.0))),
            (1, None),
            (2, Some((30.0, 9.0))),
            (3, None),
        ] {
            let d = &mut v.runs[run].1[0];
            d[col("rule_fired_hours")] = fired.map(|f| f.0);
            d[col("issue_hits_at_rule")] = fired.map(|f| f.1);
        }
        v.monitored = vec![true, false];
        assert_eq!(variants_cell(&v, "rule_fired_runs"), "2");
        // The nearest-rank median of two runs is the later one; the runs without a firing
        // would have made it "never".
        assert_eq!(variants_cell(&v, "rule_fired_hours_p50"), "30");
        assert_eq!(variants_cell(&v, "issue_hits_at_rule_p50"), "9");
        assert_eq!(variants_cell(&v, "hours_to_99_p50"), "100");
        assert_eq!(variants_cell(&v, "share_compliant_p50"), "0.5");
        v.monitored = vec![false, false];
        assert_eq!(
            variants_cell(&v, "rule_fired_runs"),
            "",
            "no rule, no count"
        );
    }

    #[test]
    fn the_pareto_front_keeps_undominated_points() {
        let pts = [
            (Some(10.0), Some(5.0)),
            (Some(20.0), Some(1.0)),
            (Some(30.0), Some(6.0)),
            (None, Some(0.0)),
        ];
        assert_eq!(pareto(&pts), vec![true, true, false, true]);
    }
}
