//! Bands: percentiles of the state curves across replications, in bounded memory.
//!
//! For every (sample time, deployment, state) cell, each replication contributes the share of the
//! deployment's audience in that state, as an integer number of parts per million (exact and
//! order-independent). A cell keeps a histogram of [`BINS`] equal bins over 0–100 %, the exact
//! minimum and maximum, and the exact sum (for the mean): memory depends on the number of samples,
//! deployments and states, never on the number of replications, and merging two aggregates is
//! adding their histograms (so the result does not depend on thread count or run order).
//!
//! **Accuracy**: a percentile is the nearest-rank value (0-based index round(q·(N−1)) of the
//! sorted replications, as in `variants.csv`; gates take a conservative rank), located in its bin by that rank and
//! interpolated linearly within it, then clamped to the exact [min, max]; its error is at most one
//! bin width, 0.5 % of the audience.
//! When all replications agree, every percentile equals that value exactly. The mean is exact
//! (to 1 ppm).

use crate::metrics::{N_STATES, State};

/// Histogram bins over 0–100 %.
pub const BINS: usize = 200;
const PPM: u64 = 1_000_000;

#[derive(Clone, Debug)]
struct Cell {
    hist: [u32; BINS],
    min: u32,
    max: u32,
    sum: u64,
}

impl Default for Cell {
    fn default() -> Self {
        Self {
            hist: [0; BINS],
            min: u32::MAX,
            max: 0,
            sum: 0,
        }
    }
}

/// Percentile bands of one variant.
#[derive(Clone, Debug)]
pub struct Bands {
    samples: usize,
    deployments: usize,
    runs: u64,
    cells: Vec<Cell>,
    /// After [`Bands::finish`]: per cell, the [`QUANTILES`] and the mean, in place of `cells`.
    done: Vec<[f64; QUANTILES.len() + 1]>,
}

/// The percentiles written to `bands.csv`.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

impl Bands {
    /// Empty bands for `deployments` deployments over `samples` sample times.
    pub fn new(deployments: usize, samples: usize) -> Self {
        Self {
            samples,
            deployments,
            runs: 0,
            cells: vec![Cell::default(); deployments * samples * N_STATES],
            done: Vec::new(),
        }
    }

    /// Once every replication is in: works out each cell's [`QUANTILES`] and mean and drops the
    /// histograms. A cell's histogram is 816 bytes, its figures 48: a sweep holds every
    /// variant's bands until it writes `bands.csv`, and 300 variants of a 30-day scenario kept
    /// 4 GB of histograms (docs/performance.md). The figures are the ones the histograms give,
    /// so the outputs are the same.
    pub fn finish(&mut self) {
        if !self.done.is_empty() || self.cells.is_empty() {
            return;
        }
        self.done = self
            .cells
            .iter()
            .map(|c| {
                let mut v = [0.0; QUANTILES.len() + 1];
                for (x, &q) in v.iter_mut().zip(&QUANTILES) {
                    *x = cell_quantile(c, self.runs, q);
                }
                v[QUANTILES.len()] = cell_mean(c, self.runs);
                v
            })
            .collect();
        self.cells = Vec::new();
    }

    fn idx(&self, dep: usize, k: usize, s: usize) -> usize {
        (dep * self.samples + k) * N_STATES + s
    }

    /// Adds one replication's state counts (`counts[dep][sample][state]`).
    pub fn add_counts(&mut self, counts: &[Vec<[u64; N_STATES]>]) {
        for (dep, series) in counts.iter().enumerate().take(self.deployments) {
            for (k, row) in series.iter().enumerate().take(self.samples) {
                let total: u64 = row.iter().sum();
                for (s, &n) in row.iter().enumerate() {
                    let ppm = (n * PPM).checked_div(total).unwrap_or(0) as u32;
                    let i = self.idx(dep, k, s);
                    let c = &mut self.cells[i];
                    let bin = (ppm as usize * BINS / PPM as usize).min(BINS - 1);
                    c.hist[bin] += 1;
                    c.min = c.min.min(ppm);
                    c.max = c.max.max(ppm);
                    c.sum += u64::from(ppm);
                }
            }
        }
        self.runs += 1;
    }

    /// The `q` percentile (share 0–1) of cell (dep, sample, state). After [`Bands::finish`],
    /// only the [`QUANTILES`] are known (another `q` is NaN).
    pub fn quantile(&self, dep: usize, k: usize, s: State, q: f64) -> f64 {
        let i = self.idx(dep, k, s as usize);
        if !self.done.is_empty() {
            return QUANTILES
                .iter()
                .position(|&x| x == q)
                .map_or(f64::NAN, |j| self.done[i][j]);
        }
        cell_quantile(&self.cells[i], self.runs, q)
    }

    /// The mean share of cell (dep, sample, state).
    pub fn mean(&self, dep: usize, k: usize, s: State) -> f64 {
        let i = self.idx(dep, k, s as usize);
        if !self.done.is_empty() {
            return self.done[i][QUANTILES.len()];
        }
        cell_mean(&self.cells[i], self.runs)
    }

    /// Sample times.
    pub fn samples(&self) -> usize {
        self.samples
    }
}

/// The `q` percentile (share 0–1) of a cell of `runs` replications.
fn cell_quantile(c: &Cell, runs: u64, q: f64) -> f64 {
    if runs == 0 {
        return 0.0;
    }
    if c.min == c.max {
        return f64::from(c.min) / PPM as f64;
    }
    // The nearest rank, as `variants.csv` takes it (`expect::quantile`): the value at 0-based
    // index round(q·(N−1)) of the sorted replications. Its bin is the one holding that index;
    // within the bin, the value is interpolated by its rank among the bin's values, so the
    // estimate stays in the bin (within one bin width of the value).
    let rank = (q.clamp(0.0, 1.0) * (runs - 1) as f64).round() as u64;
    let mut before: u64 = 0;
    for (b, &n) in c.hist.iter().enumerate() {
        let n = u64::from(n);
        if n > 0 && before + n > rank {
            let width = PPM as f64 / BINS as f64;
            let frac = ((rank - before) as f64 + 0.5) / n as f64;
            let v = (b as f64 + frac) * width;
            return v.clamp(f64::from(c.min), f64::from(c.max)) / PPM as f64;
        }
        before += n;
    }
    f64::from(c.max) / PPM as f64
}

/// The mean share of a cell of `runs` replications.
fn cell_mean(c: &Cell, runs: u64) -> f64 {
    if runs == 0 {
        0.0
    } else {
        c.sum as f64 / runs as f64 / PPM as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(v: u64, total: u64) -> Vec<Vec<[u64; N_STATES]>> {
        let mut row = [0u64; N_STATES];
        row[State::Compliant as usize] = v;
        row[State::NotOffered as usize] = total - v;
        vec![vec![row]]
    }

    #[test]
    fn identical_replications_give_equal_percentiles() {
        let mut b = Bands::new(1, 1);
        for _ in 0..7 {
            b.add_counts(&one(333, 1000));
        }
        for q in QUANTILES {
            assert_eq!(b.quantile(0, 0, State::Compliant, q), 0.333);
        }
        assert_eq!(b.mean(0, 0, State::Compliant), 0.333);
    }

    #[test]
    fn finished_bands_give_the_figures_the_histograms_gave() {
        let mut b = Bands::new(1, 1);
        for v in [0, 120, 555, 555, 900, 1000, 37] {
            b.add_counts(&one(v, 1000));
        }
        let before: Vec<f64> = QUANTILES
            .iter()
            .map(|&q| b.quantile(0, 0, State::Compliant, q))
            .chain([b.mean(0, 0, State::Compliant)])
            .collect();
        b.finish();
        assert!(b.cells.is_empty(), "the histograms are dropped");
        let after: Vec<f64> = QUANTILES
            .iter()
            .map(|&q| b.quantile(0, 0, State::Compliant, q))
            .chain([b.mean(0, 0, State::Compliant)])
            .collect();
        assert_eq!(before, after);
        assert!(b.quantile(0, 0, State::Compliant, 0.9).is_nan());
    }

    /// The exact nearest-rank percentile of `sorted`, as `expect::quantile` takes it.
    fn nearest_rank(sorted: &[u64], q: f64) -> u64 {
        sorted[(q * (sorted.len() - 1) as f64).round() as usize]
    }

    #[test]
    fn the_p95_of_ten_runs_is_the_tenth_value_within_one_bin() {
        // Nine runs at 0 and one at 11.16 %: the nearest rank of p95 is index round(8.55) = 9.
        let mut b = Bands::new(1, 1);
        for v in [0, 0, 0, 0, 0, 0, 0, 0, 0, 1116] {
            b.add_counts(&one(v, 10_000));
        }
        let p95 = b.quantile(0, 0, State::Compliant, 0.95);
        assert!((p95 - 0.1116).abs() <= 0.005, "p95 {p95}");
    }

    #[test]
    fn with_two_runs_the_upper_percentiles_are_the_larger_run() {
        let mut b = Bands::new(1, 1);
        for v in [2220, 1830] {
            b.add_counts(&one(v, 10_000));
        }
        let mean = b.mean(0, 0, State::Compliant);
        for q in [0.75, 0.95] {
            let got = b.quantile(0, 0, State::Compliant, q);
            assert!((got - 0.222).abs() <= 0.005, "q {q}: {got}");
            assert!(got >= mean, "q {q}: {got} below the mean {mean}");
        }
        let p25 = b.quantile(0, 0, State::Compliant, 0.25);
        assert!((p25 - 0.183).abs() <= 0.005, "p25 {p25}");
    }

    proptest! {
        #[test]
        fn percentiles_are_ordered_and_within_one_bin_of_the_exact_nearest_rank_ones(
            values in proptest::collection::vec(0u64..=1000, 1..60)
        ) {
            let mut b = Bands::new(1, 1);
            for &v in &values {
                b.add_counts(&one(v, 1000));
            }
            let qs: Vec<f64> = QUANTILES.iter().map(|&q| b.quantile(0, 0, State::Compliant, q)).collect();
            for w in qs.windows(2) {
                prop_assert!(w[0] <= w[1] + 1e-12, "{qs:?}");
            }
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let bin = 1.0 / BINS as f64;
            for (&q, &got) in QUANTILES.iter().zip(&qs) {
                // The documented bound: one bin (0.5 % of the audience) of the nearest-rank value.
                let exact = nearest_rank(&sorted, q) as f64 / 1000.0;
                prop_assert!((got - exact).abs() <= bin + 1e-9, "q {q}: {got} vs {exact} in {sorted:?}");
            }
        }
    }
}
