//! Expectations as gates: `[[expect]]` in a scenario or a sweep states a bound on a summary
//! metric of a deployment, at a quantile across replications (the median by default; with one
//! run, the run's value). A gate counts runs ([`Expectation::judge`]): "p90 at_most 72" is met
//! when at least 90 % of the runs are at most 72. `rollsim run` and `rollsim batch` print each as
//! met or missed and exit with code 3 when any is missed, so a rollout plan can be checked in CI
//! like code.

use serde::Deserialize;

use crate::report::METRICS;
use crate::scenario::{Checker, suggest};

/// `[[expect]]` as written.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    deployment: String,
    metric: String,
    at_most: Option<f64>,
    at_least: Option<f64>,
    quantile: Option<f64>,
}

/// A checked expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// Deployment name.
    pub deployment: String,
    /// Metric name (a column of `summary.csv`).
    pub metric: String,
    /// Quantile across replications (0–1).
    pub quantile: f64,
    /// The bound.
    pub bound: Bound,
}

/// Which side the bound is on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// The value must be at most this. A missing value (a time never reached; or
    /// `rule_fired_hours`, `issue_hits_at_rule`, `paused_by_monitoring_hours` when no rule fired
    /// or paused, as for a deployment without rules) is infinitely large: missed.
    AtMost(f64),
    /// The value must be at least this (a missing value meets it).
    AtLeast(f64),
}

impl Expectation {
    /// The bound as written (`at_most 72`).
    pub fn bound_text(&self) -> String {
        match self.bound {
            Bound::AtMost(v) => format!("at_most {v}"),
            Bound::AtLeast(v) => format!("at_least {v}"),
        }
    }

    /// Whether `value` (`None`: never reached, or missing) meets the bound.
    pub fn met(&self, value: Option<f64>) -> bool {
        match (self.bound, value) {
            (Bound::AtMost(b), Some(v)) => v <= b,
            (Bound::AtMost(_), None) => false,
            (Bound::AtLeast(b), Some(v)) => v >= b,
            // Never reached counts as infinitely large: it meets any lower bound.
            (Bound::AtLeast(_), None) => true,
        }
    }
}

/// Checks `[[expect]]` entries at `prefix` (`expect`) against the deployment names.
pub(crate) fn check(
    c: &mut Checker,
    prefix: &str,
    raw: &[RawExpect],
    deployments: &[&str],
) -> Vec<Expectation> {
    let mut out = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let path = format!("{prefix}[{i}]");
        if !deployments.contains(&e.deployment.as_str()) {
            c.fail(
                format!("{path}.deployment"),
                format!(
                    "no deployment named \"{}\"{}; deployments are {}",
                    e.deployment,
                    suggest(&e.deployment, deployments),
                    deployments.join(", ")
                ),
            );
        }
        if !METRICS.contains(&e.metric.as_str()) {
            c.fail(
                format!("{path}.metric"),
                format!(
                    "unknown metric \"{}\"{}; metrics are the columns of summary.csv: {}",
                    e.metric,
                    suggest(&e.metric, &METRICS),
                    METRICS.join(", ")
                ),
            );
        }
        let quantile = e.quantile.unwrap_or(0.5);
        if !(0.0..=1.0).contains(&quantile) {
            c.fail(
                format!("{path}.quantile"),
                format!("must be between 0 and 1, found {quantile}"),
            );
        }
        let bound = match (e.at_most, e.at_least) {
            (Some(v), None) => Bound::AtMost(v),
            (None, Some(v)) => Bound::AtLeast(v),
            _ => {
                c.fail(&path, "needs exactly one of at_most or at_least");
                continue;
            }
        };
        out.push(Expectation {
            deployment: e.deployment.clone(),
            metric: e.metric.clone(),
            quantile,
            bound,
        });
    }
    out
}

/// How a gate judges the runs: the value it reports (the order statistic it decides on) and how
/// many of the runs meet the bound on their own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judged {
    /// The value at the gate's rank (`None`: never reached, or missing).
    pub value: Option<f64>,
    /// Runs whose own value meets the bound.
    pub runs_met: usize,
    /// Runs.
    pub runs: usize,
    /// Whether the gate is met: at least the share of runs its quantile names meet the bound.
    pub met: bool,
}

impl Expectation {
    /// Judges the gate on the runs' `values`. An `at_most` bound at quantile `q` is met when at
    /// least ⌈q·N⌉ of the N runs are at most the bound (so "p90 at_most 72" means at least 90 %
    /// of the runs took at most 72, never fewer: 7 of 7, 18 of 20); an `at_least` bound when at
    /// least N − ⌊q·N⌋ of them are at least it (quantile 0.1: at least 90 % of the runs). The
    /// value reported is the order statistic that decides it (rank ⌈q·N⌉, resp. ⌊q·N⌋ + 1, of
    /// the runs sorted with never-reached last), so it meets the bound exactly when the gate
    /// is met. With one run it is the run's value.
    pub fn judge(&self, values: &[Option<f64>]) -> Judged {
        let n = values.len();
        let runs_met = values.iter().filter(|&&v| self.met(v)).count();
        if n == 0 {
            return Judged {
                value: None,
                runs_met,
                runs: 0,
                met: false,
            };
        }
        let q = self.quantile.clamp(0.0, 1.0);
        // A tolerance for quantiles written in decimal (0.9 × 20 is 18.000000000000004).
        let qn = q * n as f64;
        let rank = match self.bound {
            Bound::AtMost(_) => ((qn - 1e-9).ceil() as usize).clamp(1, n),
            Bound::AtLeast(_) => ((qn + 1e-9).floor() as usize + 1).clamp(1, n),
        };
        let value = sorted(values)[rank - 1];
        Judged {
            value,
            runs_met,
            runs: n,
            met: self.met(value),
        }
    }
}

/// `values` sorted, with `None` (never reached) last.
fn sorted(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut v: Vec<Option<f64>> = values.to_vec();
    v.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    v
}

/// The `q` quantile of `values` by nearest rank, with `None` (never reached) sorting last.
pub fn quantile(values: &[Option<f64>], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let v = sorted(values);
    let i = (q.clamp(0.0, 1.0) * (v.len() - 1) as f64).round() as usize;
    v[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(quantile: f64, bound: Bound) -> Expectation {
        Expectation {
            deployment: "d".into(),
            metric: "hours_to_95".into(),
            quantile,
            bound,
        }
    }

    #[test]
    fn a_p90_gate_is_met_only_when_at_least_nine_runs_in_ten_meet_the_bound() {
        let runs = |k: usize, n: usize| -> Vec<Option<f64>> {
            (0..n)
                .map(|i| Some(if i < k { 1.0 } else { 9.0 }))
                .collect()
        };
        let g = gate(0.9, Bound::AtMost(5.0));
        // 6 of 7 is 85.7 %: missed (the rank round(q(N - 1)) would have taken the 6th run).
        let j = g.judge(&runs(6, 7));
        assert_eq!(
            (j.met, j.runs_met, j.runs, j.value),
            (false, 6, 7, Some(9.0))
        );
        assert!(g.judge(&runs(7, 7)).met);
        assert!(g.judge(&runs(18, 20)).met && !g.judge(&runs(17, 20)).met);
        assert!(g.judge(&runs(9, 10)).met && !g.judge(&runs(8, 10)).met);
        // A never-reached run misses an upper bound.
        let mut v = runs(10, 10);
        v[3] = None;
        assert_eq!(g.judge(&v).runs_met, 9);
        // An upper bound on a low quantile of a share: at least 90 % of the runs at least 0.5.
        let share = gate(0.1, Bound::AtLeast(5.0));
        let high = |k: usize, n: usize| -> Vec<Option<f64>> {
            (0..n)
                .map(|i| Some(if i < k { 9.0 } else { 1.0 }))
                .collect()
        };
        assert!(share.judge(&high(18, 20)).met && !share.judge(&high(17, 20)).met);
        assert!(!share.judge(&high(6, 7)).met && share.judge(&high(7, 7)).met);
        // The median: half the runs (10 of 20; with 7 runs, 4).
        let median = gate(0.5, Bound::AtMost(5.0));
        assert!(median.judge(&runs(10, 20)).met && !median.judge(&runs(9, 20)).met);
        assert!(median.judge(&runs(4, 7)).met && !median.judge(&runs(3, 7)).met);
        // One run: its value.
        assert_eq!(median.judge(&[Some(4.0)]).value, Some(4.0));
        assert_eq!(
            gate(0.9, Bound::AtLeast(1.0)).judge(&[Some(4.0)]).value,
            Some(4.0)
        );
    }

    #[test]
    fn never_reached_sorts_last_and_misses_an_upper_bound() {
        let v = [Some(3.0), None, Some(1.0)];
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        assert_eq!(quantile(&v, 1.0), None);
        let e = Expectation {
            deployment: "d".into(),
            metric: "hours_to_95".into(),
            quantile: 0.5,
            bound: Bound::AtMost(2.0),
        };
        assert!(!e.met(None) && e.met(Some(2.0)) && !e.met(Some(2.5)));
    }
}
