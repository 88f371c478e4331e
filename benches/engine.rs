//! Benchmarks at the three levels of `reference/style-by-example.md` §2.14 (the event queue, one
//! device's pipeline, whole scenarios) and one below the pipeline: the availability day draw, a
//! quarter of a run's time. Run with `cargo bench --bench engine`; one group with a filter, e.g.
//! `cargo bench --bench engine -- availability`.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rollsim::engine::Engine;
use rollsim::fleet::availability::Memo;
use rollsim::fleet::{Availability, DayKey, Fleet};
use rollsim::rng::RunKey;
use rollsim::time::{DAY, HOUR, LocalClock};
use rollsim::{Scenario, sim};

/// Pop + set pairs on a queue holding one million pending timers, in the device-timer pattern
/// (each device's next wake-up is a scan interval, 22 h + jitter, ahead): rollsim's calendar
/// queue against the `priority-queue` crate it replaced and against the standard library's
/// binary heap, with the entry a device simulator would push (time, sequence, id) and with the
/// smallest one possible (time and id packed in one word, ties by id). Each iteration is
/// [`BATCH`] pairs, so that the calendar's occasional bucket sorts are spread evenly over the
/// samples; criterion reports pairs per second.
fn queue(c: &mut Criterion) {
    const BATCH: u64 = 100_000;
    let n = 1_000_000u32;
    let first = |k: u32| u64::from(k.wrapping_mul(2_654_435_761)) % 80_000;
    let next = |k: u32, t: u64| t + 79_200 + u64::from(k % 14_400);
    let mut g = c.benchmark_group("timer pop + set at 1e6 pending");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(20);
    // Time only moves forward: about 200 M pops at this rate take the queue 17 M seconds
    // ahead, within the 39 M seconds its buckets cover at this width (beyond, timers share one
    // overflow bucket, as past any horizon).
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    let mut e: Engine<()> = Engine::with_bucket_width(600);
    e.reserve_keys(n as usize);
    for k in 0..n {
        e.set_timer(k, first(k));
    }
    g.bench_function("rollsim calendar queue", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                if let Some((t, rollsim::engine::Fired::Timer(k))) = e.pop(u64::MAX) {
                    e.set_timer(k, next(k, t));
                }
            }
        })
    });
    drop(e);

    let mut heap = BinaryHeap::with_capacity(n as usize);
    let mut seq = 0u64;
    for k in 0..n {
        seq += 1;
        heap.push(Reverse((first(k), seq, k)));
    }
    g.bench_function("std BinaryHeap of (time, seq, id)", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                if let Some(Reverse((t, _, k))) = heap.pop() {
                    seq += 1;
                    heap.push(Reverse((next(k, t), seq, k)));
                }
            }
        })
    });
    drop(heap);

    let mut packed = BinaryHeap::with_capacity(n as usize);
    for k in 0..n {
        packed.push(Reverse(first(k) << 20 | u64::from(k)));
    }
    g.bench_function("std BinaryHeap of packed u64", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                if let Some(Reverse(x)) = packed.pop() {
                    let (t, k) = (x >> 20, (x & 0xF_FFFF) as u32);
                    packed.push(Reverse(next(k, t) << 20 | u64::from(k)));
                }
            }
        })
    });
    drop(packed);

    let mut pq: priority_queue::PriorityQueue<u32, Reverse<(u64, u64)>> =
        priority_queue::PriorityQueue::new();
    let mut seq = 0u64;
    for k in 0..n {
        seq += 1;
        pq.push(k, Reverse((first(k), seq)));
    }
    g.sample_size(10);
    g.bench_function("priority-queue crate", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                if let Some((k, Reverse((t, _)))) = pq.pop() {
                    seq += 1;
                    pq.push(k, Reverse((next(k, t), seq)));
                }
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
        b.iter(|| black_box(sim::run(&sc, 42, 0).expect("runs")))
    });
}

/// Whole runs of the shipped quality-update scenario.
fn whole(c: &mut Criterion) {
    let mut g = c.benchmark_group("quality-update-office-fleet");
    g.sample_size(10);
    for n in [10_000u64, 100_000] {
        let sc = scenario(n);
        g.bench_function(format!("{n} devices"), |b| {
            b.iter(|| black_box(sim::run(&sc, 42, 0).expect("runs")))
        });
    }
    g.finish();
    // The performance reference scenario (issue 7) at a size criterion can sample.
    let mut g = c.benchmark_group("bench-1m");
    g.sample_size(10);
    let sc = scenario_file("bench-1m.toml", 100_000);
    g.bench_function("100000 devices", |b| {
        b.iter(|| black_box(sim::run(&sc, 1, 0).expect("runs")))
    });
    g.finish();
}

/// The availability question a run asks most, where the memo cannot answer: a device's next
/// online interval from noon of a day it has not drawn yet, for bench-1m's office and laptop
/// segments (their profiles as the scenario sets them). Each question seeds the device-day's
/// stream and draws the day, more than one day when nothing is left of it (a weekend, a laptop
/// with no session after noon). A fourth level below the pipeline: the draws are a quarter of
/// a run's time (docs/performance.md).
fn day_draw(c: &mut Criterion) {
    const DEVICES: u64 = 1_000;
    const DAYS: u64 = 7;
    let sc = scenario_file("bench-1m.toml", 1_000);
    let run = RunKey::new(1, 0);
    let fleet = Fleet::generate(&sc.segments, &run);
    let mut g = c.benchmark_group("availability: next interval from noon of an undrawn day");
    g.throughput(Throughput::Elements(DEVICES * DAYS));
    for seg in fleet.segments.iter().filter(|s| s.name != "always-on") {
        let clock = LocalClock::new(sc.start_unix, seg.utc_offset);
        g.bench_function(seg.name.as_str(), |b| {
            b.iter(|| {
                let mut online = 0;
                for dev in 0..DEVICES {
                    let a = Availability {
                        model: &seg.profile,
                        clock,
                        key: DayKey::Device(run, dev),
                        until: 60 * DAY,
                        memo: Cell::new(Memo::EMPTY),
                    };
                    for day in 0..DAYS {
                        if let Some((s, e)) = a.next_interval(day * DAY + 12 * HOUR) {
                            online += e - s;
                        }
                    }
                }
                black_box(online)
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own charts need system fonts, which a fresh machine may not have.
    config = Criterion::default().without_plots();
    targets = queue, day_draw, one_device, whole
}
criterion_main!(benches);
