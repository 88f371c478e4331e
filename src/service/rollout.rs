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
//! `random`; `diverse` (below); `groups`, in the order the audience lists its members (a ring
//! order); `fleet`, device id order.
//!
//! **`diverse`** models §6 "Ordering": "with a gradual rollout the service orders devices itself:
//! (1) size waves from schedule params, (2) fill early waves with diverse hardware/software as a
//! pilot, (3) deploy early waves to cover attributes, (4) continue at a uniform rate until all
//! waves done. Goal: fewest devices hit an unknown issue." The algorithm itself is unpublished:
//! what follows is rollsim's assumption, chosen to serve that stated goal. A device's
//! *combination* is its whole set of attribute values (the fleet interns them: `fleet` module
//! docs); every attribute counts, and there is no per-deployment choice of attributes.
//!
//! 1. **Pilot round** (steps 2 and 3): one device of every combination, the combinations in a
//!    random order (a shuffle from the deployment's service stream, so a combination's place
//!    depends neither on its name nor on its size nor on its segment's position), the device a
//!    random one of its combination. The first waves thus cover every combination, with one
//!    device each: an issue peculiar to a combination shows on one device before it can reach
//!    more.
//! 2. **The rest in proportion** (step 4): with `m_c` devices of combination `c` left after the
//!    pilot round, `M` in all and `n ≥ 2` combinations with devices left, the first `k` of them
//!    hold `x_c(k)` devices of `c` with `|x_c(k) − k·m_c/M| ≤ 1 − 1/(2(n − 1))`, for every `k`
//!    and `c`: always less than one device from its share (with `n = 1`, trivially none). This
//!    is Tijdeman's chairman-assignment sequence (R. Tijdeman, "The chairman assignment
//!    problem", Discrete Math. 32, 1980, whose theorem gives the bound), built earliest deadline
//!    first: combination `c`'s `(x+1)`-th device becomes eligible at the first step `k` with
//!    `k·m_c/M − x ≥ 1/(2(n − 1))`, and each step goes to the eligible combination whose
//!    deadline `(x + 1 − 1/(2(n − 1)))·M/m_c` is earliest (ties: the pilot round's random order
//!    of combinations). Within a combination the devices come in a random order. The unit tests
//!    check the bound exactly on random size vectors.
//!
//! Why not a round-robin over combinations to the end (rollsim's `diverse` before this): it
//! exhausts the small combinations first, so after a quarter of the waves most devices of a rare
//! combination had been offered (200 kiosks among 6 000 devices: 57 % of them updated after 3 of
//! 12 waves, against 10 % of 1 700 office PCs), and an issue of that rare combination (a rare
//! driver, say) hit more devices than with a random order: against the goal §6 states. After its
//! pilot round, a proportional order exposes no combination faster than its share, nor slower; a
//! random order does so on average only (in a given run a small combination can be missing from
//! the first waves, or over-represented in them). For the proportional part, a sequence with a
//! proven bound was preferred to a random systematic sample (sort key `(j + u_c)/m_c` for the
//! `j`-th device of `c`, `u_c` a uniform draw per combination): there, a prefix's error for `c`
//! is its own rounding (under one device) minus `m_c/M` times the sum of all `n` combinations'
//! roundings, so a large combination can drift by up to about `n/2` devices when there are many
//! combinations. Devices that join the audience later are ordered the same way among
//! themselves (their own pilot round), behind those already queued. The cost is `O(N log n)` for
//! `N` devices and `n` combinations (a heap of combinations), with `O(N + n)` memory.

use crate::rng::{StreamRng, shuffle};
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
    /// A pilot round of one device of every attribute combination, then the rest in proportion
    /// to each combination's size (module docs).
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
        Ordering::Diverse => diverse(devices, combo, rng),
    }
}

/// [`Ordering::Diverse`]: the pilot round, then the rest in proportion (module docs).
fn diverse(mut devices: Vec<u32>, combo: impl Fn(u32) -> u32, rng: &mut StreamRng) -> Vec<u32> {
    shuffle(&mut devices, rng);
    // Each device's bucket (its combination's, in order of first appearance). Combinations are
    // dense ids, so a vector indexes the buckets (a hash map cost 5 % of a 10 M-device run).
    let max = devices.iter().map(|&d| combo(d)).max().unwrap_or(0) as usize;
    let mut index: Vec<u32> = if max <= 4 * devices.len() + 1024 {
        vec![u32::MAX; max + 1]
    } else {
        Vec::new()
    };
    let mut sparse: std::collections::HashMap<u32, u32> = Default::default();
    let mut sizes: Vec<usize> = Vec::new();
    for &d in &devices {
        let c = combo(d);
        let slot = match index.get_mut(c as usize) {
            Some(slot) => slot,
            None => sparse.entry(c).or_insert(u32::MAX),
        };
        if *slot == u32::MAX {
            *slot = sizes.len() as u32;
            sizes.push(0);
        }
        sizes[*slot as usize] += 1;
    }
    // The buckets side by side, each in the shuffled order: bucket b is
    // grouped[starts[b]..starts[b] + sizes[b]]. Each device's bucket is looked up again rather
    // than kept, so that at most two lists of the audience exist at once (this and the order).
    let mut starts = Vec::with_capacity(sizes.len());
    let mut next = 0;
    for &n in &sizes {
        starts.push(next);
        next += n;
    }
    let mut fill = starts.clone();
    let mut grouped = vec![0u32; devices.len()];
    for &d in &devices {
        let c = combo(d);
        let b = match index.get(c as usize) {
            Some(&slot) => slot,
            None => sparse[&c],
        } as usize;
        grouped[fill[b]] = d;
        fill[b] += 1;
    }
    drop((devices, index, sparse, fill));
    // The combinations in a random order: the pilot round's order, and the tie-break after it.
    let mut pilot: Vec<u32> = (0..sizes.len() as u32).collect();
    shuffle(&mut pilot, rng);
    let mut tie = vec![0u32; sizes.len()];
    for (i, &b) in pilot.iter().enumerate() {
        tie[b as usize] = i as u32;
    }
    let mut out = Vec::with_capacity(grouped.len());
    out.extend(pilot.iter().map(|&b| grouped[starts[b as usize]]));
    // The rest: each bucket from its second device on.
    let rest: Vec<usize> = sizes.iter().map(|&n| n - 1).collect();
    let mut taken = vec![1usize; sizes.len()];
    proportional(&rest, &tie, |b| {
        out.push(grouped[starts[b] + taken[b]]);
        taken[b] += 1;
    });
    out
}

/// Emits `sum(sizes)` bucket indices, `sizes[b]` of each, so that every prefix of length `k`
/// holds `x_b` of bucket `b` with `|x_b − k·sizes[b]/sum| ≤ 1 − 1/(2(n − 1))`, `n` the number of
/// non-empty buckets: Tijdeman's chairman-assignment sequence, earliest deadline first (module
/// docs). Ties go to the bucket with the smaller `tie`. `O(sum · log n)`.
fn proportional(sizes: &[usize], tie: &[u32], mut emit: impl FnMut(usize)) {
    let live = sizes.iter().filter(|&&m| m > 0).count();
    if live == 1 {
        let only = sizes.iter().position(|&m| m > 0).unwrap_or(0);
        (0..sizes[only]).for_each(|_| emit(only));
    }
    if live < 2 {
        return;
    }
    // The largest product the arithmetic forms is about M·M·d (a release's numerator, a
    // deadline's cross-product): in 64 bits when it fits, as for any audience under a few
    // million devices, since 128-bit division is a call costing tens of cycles, once a device.
    // Both widths compute the same exact integers, so the order is the same.
    let total = sizes.iter().sum::<usize>() as u128;
    let d = 2 * (live as u128 - 1);
    if total * total * (d + 1) < 1 << 63 {
        proportional_in::<u64>(sizes, tie, live, &mut emit);
    } else {
        proportional_in::<u128>(sizes, tie, live, &mut emit);
    }
}

/// [`proportional`] in the integer width `W` (`u64` or `u128`), which must hold `M·M·(d + 1)`.
fn proportional_in<W>(sizes: &[usize], tie: &[u32], live: usize, emit: &mut impl FnMut(usize))
where
    W: Copy
        + Ord
        + From<u64>
        + std::ops::Add<Output = W>
        + std::ops::Sub<Output = W>
        + std::ops::Mul<Output = W>
        + std::ops::Div<Output = W>,
{
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    let w = |x: usize| W::from(x as u64);
    let one = W::from(1);
    // In units of 1/d, d = 2(n − 1): bucket b's (x+1)-th item is eligible from the first step k
    // (counted from 1) with k·m_b/M − x ≥ 1/d, and due by (x + 1 − 1/d)·M/m_b, whose order is
    // that of (d·x + d − 1)/m_b. Exact integers.
    let total = sizes.iter().sum::<usize>();
    let d = w(2 * (live - 1));
    let release = |b: usize, x: usize| -> W {
        let den = d * w(sizes[b]);
        (w(total) * (d * w(x) + one) + den - one) / den
    };
    let due = |b: usize, x: usize| Due {
        num: d * w(x) + d - one,
        den: w(sizes[b]),
        tie: tie[b],
        bucket: b,
    };
    let mut placed = vec![0usize; sizes.len()];
    let mut waiting: BinaryHeap<Reverse<(W, u32, usize)>> = (0..sizes.len())
        .filter(|&b| sizes[b] > 0)
        .map(|b| Reverse((release(b, 0), tie[b], b)))
        .collect();
    let mut ready: BinaryHeap<Reverse<Due<W>>> = BinaryHeap::with_capacity(live);
    for k in 1..=total {
        let k = w(k);
        while let Some(&Reverse((r, _, b))) = waiting.peek() {
            if r > k {
                break;
            }
            waiting.pop();
            ready.push(Reverse(due(b, placed[b])));
        }
        // Tijdeman's theorem: some bucket is always eligible. Were it not, the earliest to
        // become so goes (the order stays complete).
        let b = match ready.pop() {
            Some(Reverse(next)) => next.bucket,
            None => {
                debug_assert!(false, "no bucket eligible at a step");
                let Some(Reverse((_, _, b))) = waiting.pop() else {
                    break;
                };
                b
            }
        };
        emit(b);
        placed[b] += 1;
        if placed[b] < sizes[b] {
            waiting.push(Reverse((release(b, placed[b]), tie[b], b)));
        }
    }
}

/// A bucket's next deadline, `num/den` in [`proportional`]'s units; ordered by deadline, then by
/// `tie` (unique to a bucket).
#[derive(Clone, Copy, Debug)]
struct Due<W> {
    num: W,
    den: W,
    tie: u32,
    bucket: usize,
}

impl<W: Copy + Ord + std::ops::Mul<Output = W>> Ord for Due<W> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.num * other.den)
            .cmp(&(other.num * self.den))
            .then(self.tie.cmp(&other.tie))
    }
}

impl<W: Copy + Ord + std::ops::Mul<Output = W>> PartialEq for Due<W> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl<W: Copy + Ord + std::ops::Mul<Output = W>> Eq for Due<W> {}

impl<W: Copy + Ord + std::ops::Mul<Output = W>> PartialOrd for Due<W> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{RunKey, Stream};
    use crate::time::DAY;
    use rand::RngExt;

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

    /// The order of `devices` whose combination is `combo`, from service stream `seed`.
    fn diverse_of(devices: &[u32], combo: impl Fn(u32) -> u32, seed: u64) -> Vec<u32> {
        let mut rng = RunKey::new(seed, 0).rng(Stream::Service, 0);
        order(devices.to_vec(), Ordering::Diverse, combo, |_| 0, &mut rng)
    }

    /// `sizes[c]` devices of combination `c` (device ids 0.., combination by id range).
    fn fleet_of(sizes: &[u32]) -> (Vec<u32>, impl Fn(u32) -> u32 + use<>) {
        let ends: Vec<u32> = sizes
            .iter()
            .scan(0, |end, &n| {
                *end += n;
                Some(*end)
            })
            .collect();
        let n = *ends.last().unwrap_or(&0);
        let combo = move |d: u32| ends.partition_point(|&e| e <= d) as u32;
        ((0..n).collect(), combo)
    }

    #[test]
    fn a_diverse_order_offers_every_device_once() {
        let (devices, combo) = fleet_of(&[1, 7, 300, 2, 90]);
        let mut o = diverse_of(&devices, combo, 3);
        o.sort_unstable();
        assert_eq!(o, devices);
        assert!(diverse_of(&[], |_| 0, 3).is_empty());
    }

    #[test]
    fn the_first_devices_of_a_diverse_order_cover_every_combination() {
        // Dense and sparse combination ids (the latter indexed by a hash map) alike.
        for spread in [1u32, 1_000_003] {
            let devices: Vec<u32> = (0..500).collect();
            let combo = |d: u32| (d * d % 7 + u32::from(d.is_multiple_of(50)) * 7) * spread;
            let mut combos: Vec<u32> = devices.iter().map(|&d| combo(d)).collect();
            combos.sort_unstable();
            combos.dedup();
            for seed in 1..=20 {
                let o = diverse_of(&devices, combo, seed);
                let mut first: Vec<u32> = o[..combos.len()].iter().map(|&d| combo(d)).collect();
                first.sort_unstable();
                assert_eq!(first, combos, "spread {spread}, seed {seed}");
            }
        }
    }

    #[test]
    fn the_pilot_round_puts_the_combinations_in_a_random_order_whatever_their_size_or_id() {
        // Sizes 1, 10 and 100: each comes first in about a third of the seeds.
        let (devices, combo) = fleet_of(&[1, 10, 100]);
        let mut first = [0u32; 3];
        for seed in 0..900 {
            first[combo(diverse_of(&devices, &combo, seed)[0]) as usize] += 1;
        }
        // Binomial(900, 1/3): sd 14; ±60 is more than 4 sd.
        assert!(first.iter().all(|&n| n.abs_diff(300) <= 60), "{first:?}");
    }

    /// Checks that every prefix of `seq` (bucket indices) holds each bucket within
    /// `1 − 1/(2(n − 1))` of its share, exactly (integers).
    fn check_prefixes(sizes: &[usize], seq: &[usize]) {
        let total = sizes.iter().sum::<usize>() as i128;
        let n = sizes.iter().filter(|&&m| m > 0).count() as i128;
        assert_eq!(seq.len() as i128, total);
        let d = 2 * (n - 1).max(1);
        let mut x = vec![0i128; sizes.len()];
        for (k, &b) in seq.iter().enumerate() {
            x[b] += 1;
            let k = k as i128 + 1;
            for (c, &m) in sizes.iter().enumerate() {
                // |x − k·m/M| ≤ 1 − 1/d  ⇔  d·|x·M − k·m| ≤ (d − 1)·M
                let dev = (x[c] * total - k * m as i128).abs();
                assert!(
                    d * dev <= (d - 1) * total,
                    "sizes {sizes:?}: bucket {c} holds {} of the first {k}, share {:.3}",
                    x[c],
                    (k * m as i128) as f64 / total as f64
                );
            }
        }
    }

    #[test]
    fn the_proportional_sequence_is_the_same_in_64_and_128_bit_arithmetic() {
        let mut rng = RunKey::new(11, 0).rng(Stream::Service, 1);
        for _ in 0..200 {
            let n = rng.random_range(2..=30usize);
            let sizes: Vec<usize> = (0..n).map(|_| rng.random_range(0..=400)).collect();
            let live = sizes.iter().filter(|&&m| m > 0).count();
            if live < 2 {
                continue;
            }
            let mut tie: Vec<u32> = (0..n as u32).collect();
            shuffle(&mut tie, &mut rng);
            let (mut narrow, mut wide) = (Vec::new(), Vec::new());
            proportional_in::<u64>(&sizes, &tie, live, &mut |b| narrow.push(b));
            proportional_in::<u128>(&sizes, &tie, live, &mut |b| wide.push(b));
            assert_eq!(narrow, wide, "{sizes:?}");
            assert_eq!(narrow.len(), sizes.iter().sum::<usize>());
        }
    }

    #[test]
    fn after_the_pilot_round_every_prefix_holds_each_combination_within_one_device_of_its_share() {
        // The sequence itself, on many size vectors: two to forty buckets, even and skewed.
        let mut rng = RunKey::new(9, 0).rng(Stream::Service, 1);
        for case in 0..400 {
            let n = rng.random_range(1..=40usize);
            let skew = case % 3;
            let sizes: Vec<usize> = (0..n)
                .map(|_| match skew {
                    0 => rng.random_range(0..=30),
                    1 => rng.random_range(1..=3),
                    _ => {
                        if rng.random_bool(0.2) {
                            rng.random_range(100..=600)
                        } else {
                            rng.random_range(0..=4)
                        }
                    }
                })
                .collect();
            let tie: Vec<u32> = (0..n as u32).rev().collect();
            let mut seq = Vec::new();
            proportional(&sizes, &tie, |b| seq.push(b));
            check_prefixes(&sizes, &seq);
        }
        // And through `order`: after the pilot round, the rest of the audience.
        let sizes = [3000u32, 1500, 900, 400, 150, 40, 9, 1];
        let (devices, combo) = fleet_of(&sizes);
        let o = diverse_of(&devices, &combo, 5);
        let rest: Vec<usize> = o[sizes.len()..]
            .iter()
            .map(|&d| combo(d) as usize)
            .collect();
        let left: Vec<usize> = sizes.iter().map(|&m| m as usize - 1).collect();
        check_prefixes(&left, &rest);
    }

    #[test]
    fn a_rare_combination_is_not_exhausted_early() {
        // 200 of 6000 devices: after a quarter of the order about a quarter of them (50), not
        // all of them as a round-robin over the five combinations gave.
        let (devices, combo) = fleet_of(&[2500, 1800, 1000, 500, 200]);
        for seed in 1..=5 {
            let o = diverse_of(&devices, &combo, seed);
            let rare = o[..1500].iter().filter(|&&d| combo(d) == 4).count();
            // The pilot's one, plus 1495·199/5995 = 49.6 within one.
            assert!((49..=51).contains(&rare), "seed {seed}: {rare} of 200");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_diverse_order() {
        let (devices, combo) = fleet_of(&[400, 250, 30, 7, 1]);
        let a = diverse_of(&devices, &combo, 42);
        assert_eq!(a, diverse_of(&devices, &combo, 42));
        assert_ne!(
            a,
            diverse_of(&devices, &combo, 43),
            "another seed, another order"
        );
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
