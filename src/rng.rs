//! Random streams keyed by (scenario seed, replication, stream kind, id).
//!
//! No draw ever comes from a shared sequential generator: each device, and each service-level
//! purpose, owns a stream derived from its key. A device's draws therefore do not depend on how many
//! other devices exist, on event interleaving, on thread count or on how a batch is sharded
//! (DESIGN.md §1 "Randomness and determinism").
//!
//! The generator is PCG32 (`rand_pcg`), which is small (16 bytes), fast and value-stable across
//! platforms and crate versions; keys are mixed with SplitMix64's finaliser so that neighbouring
//! device ids get unrelated streams.

pub use rand_pcg::Pcg32 as StreamRng;

/// Shuffles `v` in place (Fisher–Yates) with draws from `rng`: written out rather than taken
/// from `rand`, so that the order stays the same whatever the crate's version does.
pub fn shuffle<T>(v: &mut [T], rng: &mut StreamRng) {
    use rand::RngExt;
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// What a stream is used for; part of its key so purposes never share draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Fleet generation: which devices of a segment get each value of an attribute, keyed by
    /// the segment's and the attribute's names.
    Fleet = 1,
    /// A device's scan schedule (first phase and per-scan jitter).
    Scan = 2,
    /// A device's update pipeline (durations, failures, restart behaviour).
    Pipeline = 3,
    /// A device's availability on one local day (further keyed by the day number).
    Day = 4,
    /// Service-level decisions (wave ordering and the like), keyed by deployment name.
    Service = 5,
    /// Updatable asset groups' random shares, keyed by group name.
    Group = 6,
    /// Ground-truth issues and safeguards: the likely-issue model's flags, keyed by the content's
    /// name.
    Issue = 7,
}

/// SplitMix64 finaliser: a bijective mix with good avalanche, used only to derive seeds.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of one run: scenario seed and replication index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunKey {
    base: u64,
}

impl RunKey {
    /// Key for replication `replication` of a scenario seeded with `seed`.
    pub fn new(seed: u64, replication: u64) -> Self {
        Self {
            base: mix(mix(seed) ^ replication.wrapping_mul(0xD6E8_FEB8_6659_FD93)),
        }
    }

    /// A 64-bit key for (stream kind, id); feed it to [`RunKey::rng`] or [`rng_from_key`].
    pub fn key(&self, stream: Stream, id: u64) -> u64 {
        mix(self.base ^ mix((stream as u64) << 56 ^ id))
    }

    /// A fresh generator for (stream kind, id).
    pub fn rng(&self, stream: Stream, id: u64) -> StreamRng {
        rng_from_key(self.key(stream, id))
    }

    /// A fresh generator for (stream kind, a name unique within the kind): a group's share, a
    /// deployment's wave order. Keyed by the name rather than the position, so that adding,
    /// removing or reordering the others (groups are read in name order) leaves its draws as they
    /// were, and variants of a plan compare like for like.
    pub fn rng_named(&self, stream: Stream, name: &str) -> StreamRng {
        self.rng(stream, name_id(name))
    }
}

/// A stable 64-bit id of a name (FNV-1a, then mixed): the same on every platform and version.
pub fn name_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name.as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    mix(h)
}

/// A generator for an already-derived key, further split by `sub` (e.g. a day number).
pub fn rng_from_key_sub(key: u64, sub: u64) -> StreamRng {
    rng_from_key(mix(key ^ mix(sub)))
}

/// The four PCG32 outputs with which `seed_from_u64(key)` fills a generator's 16-byte seed, as
/// the seed's two words: (state word, increment word).
fn seed_words(key: u64) -> (u64, u64) {
    const MUL: u64 = 0x5851_F42D_4C95_7F2D;
    const INC: u64 = 0xA176_54E4_6FBE_17F3;
    let mut state = key;
    let mut next = || {
        state = state.wrapping_mul(MUL).wrapping_add(INC);
        let xorshifted = (((state >> 18) ^ state) >> 27) as u32;
        u64::from(xorshifted.rotate_right((state >> 59) as u32))
    };
    let (a, b, c, d) = (next(), next(), next(), next());
    (a | b << 32, c | d << 32)
}

/// The stream constant (PCG's increment, halved) of the generator [`rng_from_key`] makes for
/// `key`: with a kept state, `StreamRng::from_state(state, stream_constant(key))` resumes that
/// generator exactly.
pub fn stream_constant(key: u64) -> u64 {
    seed_words(key).1 >> 1
}

/// A generator seeded from a derived key: the generator `StreamRng::seed_from_u64(key)` gives,
/// built straight from its seed words (a day's availability seeds one per device-day, and the
/// generic seeding path costs more than the draws that follow).
pub fn rng_from_key(key: u64) -> StreamRng {
    let (state, increment) = seed_words(key);
    // `from_seed` takes `increment | 1` as the increment; `new` takes `(stream << 1) | 1`.
    StreamRng::new(state, increment >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn a_generator_from_a_key_is_the_one_seed_from_u64_gives() {
        let k = RunKey::new(5, 1);
        for id in (0..2_000u64).chain([u64::MAX, 1 << 40]) {
            let key = k.key(Stream::Day, id);
            let mut fast = rng_from_key(key);
            let mut slow = StreamRng::seed_from_u64(key);
            assert_eq!(fast, slow, "id {id}");
            assert_eq!(fast.next_u64(), slow.next_u64());
        }
    }

    #[test]
    fn the_stream_constant_is_the_one_seeding_gives() {
        let k = RunKey::new(11, 2);
        for id in (0..2_000u64).chain([u64::MAX, 1 << 40]) {
            let key = k.key(Stream::Scan, id);
            assert_eq!(stream_constant(key), rng_from_key(key).stream(), "id {id}");
        }
    }

    #[test]
    fn a_generator_resumed_from_its_state_and_stream_constant_continues_exactly() {
        let k = RunKey::new(7, 3);
        for id in [0u64, 1, 999_999] {
            let key = k.key(Stream::Pipeline, id);
            let mut whole = rng_from_key(key);
            let mut kept = rng_from_key(key).state();
            for _ in 0..5 {
                let mut resumed = StreamRng::from_state(kept, stream_constant(key));
                assert_eq!(resumed.next_u64(), whole.next_u64());
                assert_eq!(resumed.next_u32(), whole.next_u32());
                kept = resumed.state();
            }
        }
    }

    #[test]
    fn same_key_gives_same_stream_and_different_keys_differ() {
        let k = RunKey::new(42, 0);
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(k.rng(Stream::Scan, 7), |r, _: u64| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(k.rng(Stream::Scan, 7), |r, _: u64| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(
            k.rng(Stream::Scan, 7).next_u64(),
            k.rng(Stream::Scan, 8).next_u64()
        );
        assert_ne!(
            k.rng(Stream::Scan, 7).next_u64(),
            k.rng(Stream::Pipeline, 7).next_u64()
        );
        assert_ne!(
            RunKey::new(42, 0).rng(Stream::Scan, 7).next_u64(),
            RunKey::new(42, 1).rng(Stream::Scan, 7).next_u64()
        );
    }
}
