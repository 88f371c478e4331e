//! Duration distributions for client timings (download, install, restart, user behaviour).

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp, LogNormal};

use crate::time::Secs;

/// A distribution of durations in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Fixed(Secs),
    /// Lognormal with this median and shape `sigma` (the log-space standard deviation).
    LogNormal { median: Secs, sigma: f64 },
    /// Exponential with this mean.
    Exponential { mean: Secs },
    /// Uniform between `min` and `max` inclusive.
    Uniform { min: Secs, max: Secs },
}

impl Dist {
    /// Draws one duration, rounded to whole seconds.
    pub fn sample(&self, rng: &mut impl Rng) -> Secs {
        Sampler::new(*self).sample(rng)
    }
}

/// A [`Dist`] with its parameters worked out once (a lognormal's log-median, an exponential's
/// rate), for distributions drawn from on every device event. Draws are exactly those of
/// [`Dist::sample`], which is built on it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Always this value (also a degenerate lognormal or exponential).
    Fixed(Secs),
    /// Lognormal in seconds.
    LogNormal(LogNormal<f64>),
    /// Exponential in seconds.
    Exponential(Exp<f64>),
    /// Uniform between the bounds inclusive (`min < max`).
    Uniform(Secs, Secs),
}

impl Sampler {
    /// Prepares `d`.
    pub fn new(d: Dist) -> Self {
        match d {
            Dist::Fixed(v) => Sampler::Fixed(v),
            Dist::LogNormal { median, sigma } => {
                if median == 0 || sigma <= 0.0 {
                    return Sampler::Fixed(median);
                }
                LogNormal::new((median as f64).ln(), sigma)
                    .map_or(Sampler::Fixed(median), Sampler::LogNormal)
            }
            Dist::Exponential { mean } => {
                if mean == 0 {
                    return Sampler::Fixed(0);
                }
                Exp::new(1.0 / mean as f64).map_or(Sampler::Fixed(mean), Sampler::Exponential)
            }
            Dist::Uniform { min, max } => {
                if max <= min {
                    Sampler::Fixed(min)
                } else {
                    Sampler::Uniform(min, max)
                }
            }
        }
    }

    /// Draws one duration, rounded to whole seconds.
    pub fn sample(&self, rng: &mut impl Rng) -> Secs {
        match *self {
            Sampler::Fixed(v) => v,
            Sampler::LogNormal(d) => d.sample(rng).round() as Secs,
            Sampler::Exponential(d) => d.sample(rng).round() as Secs,
            Sampler::Uniform(min, max) => rng.random_range(min..=max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{RunKey, Stream};

    #[test]
    fn lognormal_median_is_close_to_the_parameter() {
        let mut rng = RunKey::new(3, 0).rng(Stream::Pipeline, 1);
        let d = Dist::LogNormal {
            median: 600,
            sigma: 0.5,
        };
        let mut v: Vec<Secs> = (0..10_001).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let median = v[5000] as f64;
        assert!((median - 600.0).abs() < 30.0, "median {median}");
    }

    #[test]
    fn fixed_and_degenerate_uniform_return_the_value() {
        let mut rng = RunKey::new(3, 0).rng(Stream::Pipeline, 1);
        assert_eq!(Dist::Fixed(5).sample(&mut rng), 5);
        assert_eq!(Dist::Uniform { min: 7, max: 7 }.sample(&mut rng), 7);
    }
}
