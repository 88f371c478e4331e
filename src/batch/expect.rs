//! Expectations as gates: `[[expect]]` in a scenario or a sweep states a bound on a summary
//! metric of a deployment, at a quantile across replications (the median by default; with one
//! run, the run's value). `rollsim run` and `rollsim batch` print each as met or missed and exit
//! with code 3 when any is missed, so a rollout plan can be checked in CI like code.

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

/// The `q` quantile of `values` by nearest rank, with `None` (never reached) sorting last.
pub fn quantile(values: &[Option<f64>], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<Option<f64>> = values.to_vec();
    v.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let i = (q.clamp(0.0, 1.0) * (v.len() - 1) as f64).round() as usize;
    v[i]
}

#[cfg(test)]
mod tests {
    use super::*;

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
