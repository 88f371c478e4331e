//! Gradual rollouts: the order in which a deployment's audience is offered, and the size of each
//! wave (`reference/deployment-service.md` §2 "scheduleSettings", §6 "Ordering", §7).
//!
//! - **Rate-driven** (`rateDrivenRolloutSettings`): `devicesPerOffer` devices every
//!   `durationBetweenOffers` (default `P1D`) until everyone is offered; the last of N devices is
//!   offered at `ceil(N / k) − 1` intervals after the start.
//! - **Date-driven** (`dateDrivenRolloutSettings`): waves every `durationBetweenOffers` from the
//!   start, sized so that everyone in the audience is offered by the last wave *before*
//!   `endDateTime`: each wave offers `ceil(remaining / waves left)`. Devices added after the end
//!   are offered at once.
//! - **Duration-driven** (`durationDrivenRolloutSettings`): the same with end = start +
//!   `durationUntilDeploymentEnd` ("the service computes the per-offer size").
//!
//! **Ordering** is a rollsim parameter, because the service does not document its algorithm:
//! `random`; `diverse`, which fills the earliest waves round-robin over attribute combinations so
//! that every hardware/software combination is represented as early as possible (§6: "fill early
//! waves with diverse hardware/software as a pilot … fewest devices hit an unknown issue");
//! `groups`, in the order the audience lists its members (a ring order); `fleet`, device id order.

use rand::RngExt;

use crate::rng::StreamRng;
use crate::time::{Secs, Time};

/// A gradual rollout, as the schedule describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollout {
    /// `devicesPerOffer` every `durationBetweenOffers`.
    Rate {
        /// Devices per wave (≥ 1).
        per_offer: u32,
        /// Time between waves.
        interval: Secs,
    },
    /// Everyone offered before `end` (date-driven; duration-driven resolves to this too).
    Date {
        /// End of the rollout, relative to the scenario start.
        end: Time,
        /// Time between waves.
        interval: Secs,
        /// Whether the scenario wrote it as `durationUntilDeploymentEnd` (for reporting).
        from_duration: bool,
    },
}

impl Rollout {
    /// Time between waves.
    pub fn interval(&self) -> Secs {
        match *self {
            Rollout::Rate { interval, .. } | Rollout::Date { interval, .. } => interval.max(1),
        }
    }

    /// How far [`Rollout::wave_size`] needs the waiting devices counted: a rate-driven wave's size
    /// is `min(devicesPerOffer, remaining)`, so counting can stop at `devicesPerOffer` (counting
    /// the whole queue at every wave would cost days × devices); a date-driven one divides the
    /// whole remainder (`None`: count them all).
    pub fn count_needed(&self) -> Option<usize> {
        match *self {
            Rollout::Rate { per_offer, .. } => Some(per_offer.max(1) as usize),
            Rollout::Date { .. } => None,
        }
    }

    /// How many devices the wave at `t` offers, with `remaining` devices waiting (counted at
    /// least up to [`Rollout::count_needed`]) and the rollout started at `start`.
    pub fn wave_size(&self, start: Time, t: Time, remaining: usize) -> usize {
        match *self {
            Rollout::Rate { per_offer, .. } => (per_offer.max(1) as usize).min(remaining),
            Rollout::Date { end, interval, .. } => {
                if t >= end {
                    return remaining;
                }
                let interval = interval.max(1);
                // Waves at start + k·interval strictly before `end`; this one included.
                let last_k = (end.saturating_sub(1).saturating_sub(start)) / interval;
                let this_k = t.saturating_sub(start) / interval;
                let left = (last_k.saturating_sub(this_k) + 1) as usize;
                remaining.div_ceil(left.max(1))
            }
        }
    }

    /// Whether devices joining the audience at `t` are offered at once rather than queued.
    pub fn offers_newcomers_at_once(&self, t: Time) -> bool {
        matches!(*self, Rollout::Date { end, .. } if t >= end)
    }
}

/// Wave ordering of a gradual rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Ordering {
    /// Uniformly random.
    #[default]
    Random,
    /// Round-robin over attribute combinations, so early waves cover every combination.
    Diverse,
    /// By the position of the audience member (group or segment) that brought the device in,
    /// random within a member.
    Groups,
    /// By device id (segment order, then index): reproducible by hand.
    Fleet,
}

impl Ordering {
    /// Names accepted in scenarios.
    pub const NAMES: [&'static str; 4] = ["random", "diverse", "groups", "fleet"];

    /// Parses a scenario name.
    pub fn from_name(s: &str) -> Option<Ordering> {
        Some(match s {
            "random" => Ordering::Random,
            "diverse" => Ordering::Diverse,
            "groups" => Ordering::Groups,
            "fleet" => Ordering::Fleet,
            _ => return None,
        })
    }

    /// Name used in outputs.
    pub fn as_str(self) -> &'static str {
        Ordering::NAMES[self as usize]
    }
}

fn shuffle(v: &mut [u32], rng: &mut StreamRng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// Orders `devices` for offering. `combo` gives a device's attribute combination, `rank` the
/// position of the audience member that brought it in (for [`Ordering::Groups`]).
pub fn order(
    mut devices: Vec<u32>,
    ordering: Ordering,
    combo: impl Fn(u32) -> u32,
    rank: impl Fn(u32) -> u32,
    rng: &mut StreamRng,
) -> Vec<u32> {
    match ordering {
        Ordering::Fleet => {
            devices.sort_unstable();
            devices
        }
        Ordering::Random => {
            shuffle(&mut devices, rng);
            devices
        }
        Ordering::Groups => {
            shuffle(&mut devices, rng);
            devices.sort_by_key(|&d| rank(d));
            devices
        }
        Ordering::Diverse => {
            shuffle(&mut devices, rng);
            // Buckets by combination in order of first appearance (random, since shuffled),
            // then one device from each bucket in turn. Combinations are dense ids, so a vector
            // indexes the buckets (a hash map cost 5 % of a 10 M-device run).
            let max = devices.iter().map(|&d| combo(d)).max().unwrap_or(0) as usize;
            let mut index: Vec<usize> = if max <= 4 * devices.len() + 1024 {
                vec![usize::MAX; max + 1]
            } else {
                Vec::new()
            };
            let mut sparse: std::collections::HashMap<u32, usize> = Default::default();
            let mut buckets: Vec<Vec<u32>> = Vec::new();
            for d in devices {
                let c = combo(d);
                let slot = match index.get_mut(c as usize) {
                    Some(slot) => slot,
                    None => sparse.entry(c).or_insert(usize::MAX),
                };
                if *slot == usize::MAX {
                    *slot = buckets.len();
                    buckets.push(Vec::new());
                }
                buckets[*slot].push(d);
            }
            let total: usize = buckets.iter().map(Vec::len).sum();
            let mut out = Vec::with_capacity(total);
            // Buckets still holding devices, in order; a round takes one from each.
            let mut live: Vec<&Vec<u32>> = buckets.iter().collect();
            let mut round = 0;
            while !live.is_empty() {
                out.extend(live.iter().map(|b| b[round]));
                round += 1;
                live.retain(|b| b.len() > round);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{RunKey, Stream};
    use crate::time::DAY;

    #[test]
    fn rate_driven_waves_have_the_requested_size_until_the_rest() {
        let r = Rollout::Rate {
            per_offer: 300,
            interval: DAY,
        };
        assert_eq!(r.wave_size(0, 0, 1000), 300);
        assert_eq!(r.wave_size(0, 3 * DAY, 100), 100);
    }

    #[test]
    fn a_remainder_counted_only_up_to_what_is_needed_gives_the_same_wave() {
        let rate = Rollout::Rate {
            per_offer: 300,
            interval: DAY,
        };
        let date = Rollout::Date {
            end: 4 * DAY,
            interval: DAY,
            from_duration: false,
        };
        assert_eq!(
            date.count_needed(),
            None,
            "a date-driven wave divides the whole rest"
        );
        let enough = rate.count_needed().unwrap();
        for waiting in [0usize, 1, 299, 300, 301, 5_000_000] {
            assert_eq!(
                rate.wave_size(0, DAY, waiting.min(enough)),
                rate.wave_size(0, DAY, waiting),
                "{waiting} waiting"
            );
        }
    }

    #[test]
    fn date_driven_waves_spread_the_audience_over_the_waves_before_the_end() {
        // Start 0, end 4 d, daily waves at 0, 1, 2, 3 d: 1000 devices → 250 each.
        let r = Rollout::Date {
            end: 4 * DAY,
            interval: DAY,
            from_duration: false,
        };
        assert_eq!(r.wave_size(0, 0, 1000), 250);
        assert_eq!(r.wave_size(0, DAY, 750), 250);
        assert_eq!(r.wave_size(0, 3 * DAY, 250), 250);
        assert_eq!(r.wave_size(0, 4 * DAY, 7), 7);
        // An end just after a wave still counts that wave.
        let r = Rollout::Date {
            end: 3 * DAY + 1,
            interval: DAY,
            from_duration: false,
        };
        assert_eq!(r.wave_size(0, 0, 1000), 250);
    }

    #[test]
    fn diverse_order_puts_one_of_every_combination_first() {
        let devices: Vec<u32> = (0..100).collect();
        // 99 devices of combination 0 and one of combination 1.
        let combo = |d: u32| u32::from(d == 57);
        let mut rng = RunKey::new(1, 0).rng(Stream::Service, 0);
        let o = order(devices, Ordering::Diverse, combo, |_| 0, &mut rng);
        assert_eq!(o.len(), 100);
        assert!(o[..2].contains(&57));
    }

    #[test]
    fn diverse_order_is_a_round_robin_over_combinations_in_order_of_first_appearance() {
        // Dense and sparse combination ids give the same rounds.
        for spread in [1u32, 1_000_003] {
            let devices: Vec<u32> = (0..500).collect();
            let combo = |d: u32| (d * d % 7 + u32::from(d.is_multiple_of(50)) * 3) * spread;
            let mut rng = RunKey::new(4, 0).rng(Stream::Service, 0);
            let o = order(devices.clone(), Ordering::Diverse, combo, |_| 0, &mut rng);
            // The reference: the same shuffle, then rounds over first-appearance buckets.
            let mut rng = RunKey::new(4, 0).rng(Stream::Service, 0);
            let mut shuffled = devices;
            shuffle(&mut shuffled, &mut rng);
            let mut keys: Vec<u32> = Vec::new();
            let mut buckets: Vec<Vec<u32>> = Vec::new();
            for d in shuffled {
                let k = combo(d);
                match keys.iter().position(|&x| x == k) {
                    Some(i) => buckets[i].push(d),
                    None => {
                        keys.push(k);
                        buckets.push(vec![d]);
                    }
                }
            }
            let longest = buckets.iter().map(Vec::len).max().unwrap_or(0);
            let expected: Vec<u32> = (0..longest)
                .flat_map(|r| buckets.iter().filter_map(move |b| b.get(r).copied()))
                .collect();
            assert_eq!(o, expected, "spread {spread}");
        }
    }

    #[test]
    fn groups_order_follows_member_rank() {
        let devices: Vec<u32> = (0..10).collect();
        let mut rng = RunKey::new(1, 0).rng(Stream::Service, 0);
        let o = order(
            devices,
            Ordering::Groups,
            |_| 0,
            |d| u32::from(d < 5),
            &mut rng,
        );
        assert!(o[..5].iter().all(|&d| d >= 5));
    }
}
