//! What a random memory access costs on this machine: the latency of dependent random loads
//! (each load's value is the next address) over arrays of growing size. At a million devices
//! each event touches one 64-byte device record at random in 64 MB, so where the cache ends and
//! what a page walk adds decide how much the run's prefetches must hide (docs/performance.md).
//! Not a criterion benchmark: it characterises the host, so that figures measured on different
//! days can be told apart. Run with `cargo bench --bench memory`.

use std::hint::black_box;
use std::time::Instant;

use rand::seq::SliceRandom;
use rollsim::mem::filled;
use rollsim::rng::{RunKey, Stream};

const LINE: usize = 64 / size_of::<u64>();
const LOADS: usize = 3_000_000;

/// Nanoseconds per dependent load over `lines` cache lines, one every `stride` lines of an
/// array of `lines × stride` lines (allocated with the simulator's huge-page hint when `huge`),
/// visited in one random cycle. A line's offset within its stride varies, so that lines a power
/// of two apart do not all fall in the same cache sets.
fn chase(lines: usize, stride: usize, huge: bool) -> f64 {
    let words = lines * stride * LINE;
    let mut a = if huge {
        filled(words, |_| 0u64)
    } else {
        vec![0u64; words]
    };
    let at = |k: usize| (k * stride + k % stride) * LINE;
    // The lines in a random order, each pointing at the next: one cycle through all of them.
    let mut order: Vec<usize> = (0..lines).collect();
    order.shuffle(&mut RunKey::new(1, 0).rng(Stream::Service, 0));
    for i in 0..lines {
        a[at(order[i])] = at(order[(i + 1) % lines]) as u64;
    }
    let mut i = at(order[0]);
    for _ in 0..lines.min(LOADS) {
        i = a[i] as usize;
    }
    let t = Instant::now();
    for _ in 0..LOADS {
        i = a[i] as usize;
    }
    let ns = t.elapsed().as_secs_f64() * 1e9 / LOADS as f64;
    black_box(i);
    ns
}

fn main() {
    // `cargo bench` passes `--bench` (and a filter, if any); there is nothing to filter.
    println!("dependent random loads, every line of an array (huge-page hint as the simulator's):");
    for mb in [1usize, 4, 8, 16, 32, 64, 256] {
        let lines = (mb << 20) / 64;
        println!("  {mb:4} MB: {:6.1} ns", chase(lines, 1, true));
    }
    println!("4 MB of lines, one in each 4 KB page of 256 MB (cached data, a page walk each):");
    let lines = (4 << 20) / 64;
    println!("  huge pages: {:6.1} ns", chase(lines, 64, true));
    println!(
        "  without the hint (4 KB pages where huge pages are on request, the usual setting): {:6.1} ns",
        chase(lines, 64, false)
    );
}
