//! Benchmarks at three levels (`reference/style-by-example.md` §2.14): the event queue, one
//! device's pipeline, and whole scenarios. Run with `cargo bench --bench engine`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rollsim::engine::Engine;
use rollsim::{Scenario, sim};

/// Push/pop pairs on a queue holding one million pending timers (the device-timer pattern).
fn queue(c: &mut Criterion) {
    let n = 1_000_000u32;
    let mut e: Engine<()> = Engine::new();
    for k in 0..n {
        e.set_timer(k, u64::from(k.wrapping_mul(2_654_435_761)) % 80_000);
    }
    c.bench_function("timer pop + set at 1e6 pending", |b| {
        b.iter(|| {
            if let Some((t, rollsim::engine::Fired::Timer(k))) = e.pop(u64::MAX) {
                e.set_timer(k, t + 79_200 + u64::from(k % 14_400));
            }
        })
    });
}

fn scenario(devices: u64) -> Scenario {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quality-update-office-fleet.toml");
    let mut sc = Scenario::load(&path).expect("shipped scenario loads");
    sc.scale_devices(devices);
    sc
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
}

criterion_group!(benches, queue, one_device, whole);
criterion_main!(benches);
