//! Benchmarks at three levels (`reference/style-by-example.md` §2.14): the event queue, one
//! device's pipeline, and whole scenarios. Run with `cargo bench --bench engine`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rollsim::engine::Engine;
use rollsim::{Scenario, sim};

/// Pop + set pairs on a queue holding one million pending timers, in the device-timer pattern
/// (each device's next wake-up is a scan interval, 22 h + jitter, ahead): rollsim's calendar
/// queue against the `priority-queue` crate it replaced.
fn queue(c: &mut Criterion) {
    let n = 1_000_000u32;
    let first = |k: u32| u64::from(k.wrapping_mul(2_654_435_761)) % 80_000;
    let next = |k: u32, t: u64| t + 79_200 + u64::from(k % 14_400);
    let mut g = c.benchmark_group("timer pop + set at 1e6 pending");
    let mut e: Engine<()> = Engine::with_bucket_width(600);
    for k in 0..n {
        e.set_timer(k, first(k));
    }
    g.bench_function("rollsim calendar queue", |b| {
        b.iter(|| {
            if let Some((t, rollsim::engine::Fired::Timer(k))) = e.pop(u64::MAX) {
                e.set_timer(k, next(k, t));
            }
        })
    });
    let mut pq: priority_queue::PriorityQueue<u32, std::cmp::Reverse<(u64, u64)>> =
        priority_queue::PriorityQueue::new();
    let mut seq = 0u64;
    for k in 0..n {
        seq += 1;
        pq.push(k, std::cmp::Reverse((first(k), seq)));
    }
    g.bench_function("priority-queue crate", |b| {
        b.iter(|| {
            if let Some((k, std::cmp::Reverse((t, _)))) = pq.pop() {
                seq += 1;
                pq.push(k, std::cmp::Reverse((next(k, t), seq)));
            }
        })
    });
    g.finish();
}

fn scenario_file(file: &str, devices: u64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let mut sc = Scenario::load(&path).expect("shipped scenario loads");
    sc.scale_devices(devices);
    sc
}

fn scenario(devices: u64) -> Scenario {
    scenario_file("quality-update-office-fleet.toml", devices)
}

/// One device through a whole quality update (fleet of one, 30 days).
fn one_device(c: &mut Criterion) {
    let sc = scenario(1);
    c.bench_function("one device, quality update, 30 days", |b| {
        b.iter(|| black_box(sim::run(&sc, 42, 0)))
    });
}

/// Whole runs of the shipped quality-update scenario.
fn whole(c: &mut Criterion) {
    let mut g = c.benchmark_group("quality-update-office-fleet");
    g.sample_size(10);
    for n in [10_000u64, 100_000] {
        let sc = scenario(n);
        g.bench_function(format!("{n} devices"), |b| {
            b.iter(|| black_box(sim::run(&sc, 42, 0)))
        });
    }
    g.finish();
    // The performance reference scenario (issue 7) at a size criterion can sample.
    let mut g = c.benchmark_group("bench-1m");
    g.sample_size(10);
    let sc = scenario_file("bench-1m.toml", 100_000);
    g.bench_function("100000 devices", |b| {
        b.iter(|| black_box(sim::run(&sc, 1, 0)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own charts need system fonts, which a fresh machine may not have.
    config = Criterion::default().without_plots();
    targets = queue, one_device, whole
}
criterion_main!(benches);
