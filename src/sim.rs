//! One simulation run: the glue between the engine, the fleet, the client and the service.
//!
//! The engine pops events; a device timer is interpreted by the device's pipeline phase, a service
//! event by the service. Around every change the device's state with respect to each deployment is
//! compared before and after, and the difference goes to the recorder — the only place metrics are
//! counted.
//!
//! Steps that nothing can interrupt and that draw nothing in between share one event: a scan that
//! starts a download also plans the install after it (unless the install waits for Automatic
//! Maintenance: then the download's end is an event, and so is the install's start), and an
//! install's end also begins the planned restart. The intermediate step's transitions are still
//! recorded at its own instant (`catch_up`, `record_restart`), so every output is that of one
//! event per step.

use std::time::Instant;

use crate::client::{Category, Client, DeviceRngs, DeviceState, Expedited, NONE, Phase, Policy};
use crate::engine::{Engine, Fired};
use crate::fleet::{Availability, DayKey, Fleet};
use crate::mem::{filled, prefetch};
use crate::metrics::{N_STATES, Recorder, State, segment_rows};
use crate::per_device::{DeviceTable, PerDevice};
use crate::rng::{RunKey, Stream};
use crate::scenario::Scenario;
use crate::service::{
    DeviceSet, EventNumbers, IssueStats, Outbox, RuleFiring, RuleMiss, ScanAnswer, Service,
    ServiceEvent,
};
use crate::time::{HOUR, LocalClock, Time, Zone};

/// A deployment log entry (for `events.csv`; state changes also go to `summary.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// When.
    pub at: Time,
    /// Deployment index.
    pub deployment: u16,
    /// What happened: `state_change`, `offer`, `wave`, `action`, …
    pub event: &'static str,
    /// New state for state changes (`scheduled`, `offering`, …), else empty.
    pub state: &'static str,
    /// Reasons, `;`-separated when they stack (`pausedByRequest;pausedByMonitoring`).
    pub reason: String,
    /// Free text, e.g. how many devices were offered.
    pub detail: String,
    /// The numbers the detail holds (`events.csv`'s numeric columns).
    pub numbers: EventNumbers,
}

/// Counts and timings of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Devices simulated.
    pub devices: usize,
    /// Events the engine processed.
    pub events: u64,
    /// Seconds spent generating the fleet.
    pub generate_secs: f64,
    /// Seconds spent simulating.
    pub simulate_secs: f64,
}

/// Everything a run produces.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Seed used.
    pub seed: u64,
    /// Replication index.
    pub replication: u64,
    /// Transition counts.
    pub recorder: Recorder,
    /// Deployment state changes, in time order.
    pub state_changes: Vec<StateChange>,
    /// Per hidden issue: devices matching, hit, failed, rolled back, hold times.
    pub issues: Vec<IssueStats>,
    /// Monitoring rules that fired.
    pub firings: Vec<RuleFiring>,
    /// Monitoring rules in force at the end that never fired, with how close they came.
    pub rules_not_fired: Vec<RuleMiss>,
    /// Per deployment: distinct devices hit by an issue of its content that it offered the
    /// content to or held in its audience at their first hit.
    pub issue_hits: Vec<u64>,
    /// Per deployment: distinct devices it found ineligible.
    pub ineligible: Vec<u64>,
    /// Counts and timings.
    pub stats: RunStats,
    /// The audiences as the run started, before any action.
    pub start_audiences: crate::service::StartAudiences,
    /// Per deployment: the devices still held by a safeguard at the end, by kind of hold.
    pub held_at_end: Vec<HeldAtEnd>,
    /// Per deployment: the devices the likely-issue model's holds kept from it during the run.
    pub likely_held: Vec<LikelyHeld>,
    /// Each device's outcome per deployment, when asked for (`run --per-device`).
    pub per_device: Option<Box<DeviceTable>>,
}

/// A deployment's devices that a likely-issue safeguard hold put in the `held` state at some
/// point of the run (each once), and how many of them match an issue of its content: what the
/// model (an assumption, `[safety] likely_issues`) did to the rollout, which the holds' events
/// and the final counts alone do not show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LikelyHeld {
    /// Distinct devices held.
    pub devices: u64,
    /// Of them, devices matching an issue of the content that puts devices at risk (the ground
    /// truth the model is scored against); the others it held by mistake.
    pub matching_issue: u64,
    /// When the first of them was held (0: from the start).
    pub first: Option<Time>,
}

/// A deployment's devices in the `held` state at the end of a run, and which holds keep them:
/// the final counts alone cannot tell a known issue's hold, which its release ends, from a
/// likely-issue hold, which lasts until its content's issues are resolved (or for ever). A device
/// held by both counts in both kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldAtEnd {
    /// Devices held at the end.
    pub devices: u64,
    /// Of them, held by a known issue's safeguard hold.
    pub known_issue: u64,
    /// Of them, held by a likely-issue safeguard hold.
    pub likely_issue: u64,
}

/// Memory a run of `sc` needs, in bytes: about 120 bytes per device for two deployments (the
/// device record, its timer slot, its states per deployment, its place in the offer queues and
/// in an expedite's lists, audience bitsets; measured 106 MB at a million devices and 0.95 GB at
/// ten million, so the estimate errs on the safe side: README, performance), 4 bytes more a
/// device and deployment when a policy's quality deadline counts from the offer (the offer
/// times), plus the time series.
pub fn memory_estimate(sc: &Scenario) -> u64 {
    let samples = sc.horizon / sc.sample_interval.max(1) + 1;
    let per_offer_time = if offer_clock(sc) { 4 } else { 0 };
    let per_device = 104 + (8 + per_offer_time) * sc.deployments.len() as u64;
    sc.devices() * per_device
        + samples * sc.deployments.len() as u64 * N_STATES as u64 * 8
        + (8 << 20)
}

/// Memory the outputs of one run of `sc` need while they are written, in bytes: `timeseries.csv`
/// is built in memory (about 52 bytes a row and the deployment's name) and read back for the
/// charts (8 bytes a row), which a short `sample_interval` makes gigabytes of (a week sampled
/// every second, one deployment: 7.3 million rows, about 0.4 GB).
pub fn output_estimate(sc: &Scenario) -> u64 {
    let rows =
        crate::scenario::timeseries_rows(sc.horizon, sc.sample_interval, sc.deployments.len());
    let name = sc
        .deployments
        .iter()
        .map(|d| d.name.len() as u64)
        .sum::<u64>()
        / (sc.deployments.len() as u64).max(1);
    rows.saturating_mul(60 + name)
}

/// Whether a policy of `sc` counts its quality deadline from the offer, so that the service
/// must keep when it offered each device.
fn offer_clock(sc: &Scenario) -> bool {
    sc.policies.iter().any(Policy::quality_deadline_from_offer)
}

/// Checks that `runs` simultaneous runs of `sc` fit in the memory available now (Linux
/// `MemAvailable`; elsewhere nothing is checked): asking for more is bad input (exit 2), not a
/// process killed halfway.
pub fn check_memory(sc: &Scenario, runs: u64) -> Result<(), crate::Error> {
    check_memory_with(sc, runs, 0)
}

/// [`check_memory`] with `extra` bytes more for the one run that writes its outputs: `--per-device`
/// asks about 9 bytes a device and deployment for its table and about 100 for its `devices.csv`
/// row, built in memory (measured 179 MB for a million devices of bench-1m's two deployments).
pub fn check_memory_with(sc: &Scenario, runs: u64, extra: u64) -> Result<(), crate::Error> {
    let Some(avail) = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    }) else {
        return Ok(());
    };
    // Only replication 0 writes its time series, whatever the runs at once.
    let need = memory_estimate(sc)
        .saturating_mul(runs.max(1))
        .saturating_add(output_estimate(sc))
        .saturating_add(extra);
    if need <= avail {
        return Ok(());
    }
    let gb = |b: u64| b as f64 / (1u64 << 30) as f64;
    Err(crate::Error::Input(crate::error::InputError {
        file: sc.name.clone(),
        problems: vec![crate::error::Problem {
            line: 0,
            column: 0,
            // The time series' rows, when they are most of it, are what to change.
            path: match output_estimate(sc) > need / 2 {
                true => "simulation.sample_interval",
                false => "fleet.devices",
            }
            .into(),
            message: format!(
                "{} devices × {runs} parallel run(s) need about {:.1} GB{}, but only {:.1} GB of memory is available; use fewer devices or fewer --jobs{}",
                sc.devices(),
                gb(need),
                match output_estimate(sc) >= 1 << 30 {
                    true => format!(
                        " ({:.1} GB of it for timeseries.csv's rows)",
                        gb(output_estimate(sc))
                    ),
                    false => String::new(),
                },
                gb(avail),
                match output_estimate(sc) >= 1 << 30 {
                    true => ", or a longer [simulation] sample_interval",
                    false => "",
                },
            ),
        }],
    }))
}

/// Runs replication `replication` of scenario `sc` with `seed`. Fails (`Error::Run`) for a
/// scenario with more entries of a kind than [`crate::scenario::MAX_ITEMS`], which a loaded one
/// never has.
pub fn run(sc: &Scenario, seed: u64, replication: u64) -> Result<RunResult, crate::Error> {
    run_with(sc, seed, replication, false)
}

/// [`run`], keeping each device's outcome per deployment ([`RunResult::per_device`]) when
/// `per_device`: 9 bytes more a device and deployment, and the fleet kept past the run.
pub fn run_with(
    sc: &Scenario,
    seed: u64,
    replication: u64,
    per_device: bool,
) -> Result<RunResult, crate::Error> {
    if let Some(what) = sc.too_many() {
        return Err(crate::Error::Run(format!(
            "the scenario has {what}, more than the {} a run can number",
            crate::scenario::MAX_ITEMS
        )));
    }
    let key = RunKey::new(seed, replication);
    let t0 = Instant::now();
    let fleet = Fleet::generate(&sc.segments, &key);
    let generate_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let zones = zones(sc);
    let mut world = World::new(sc, &fleet, &zones, key);
    if per_device {
        world.per_device = Some(PerDevice::new(fleet.len(), sc.deployments.len()));
    }
    let start_audiences = world.service.start_audiences();
    world.run();
    if world.engine.exhausted() {
        return Err(crate::Error::Run(format!(
            "the run stopped {} in, after {} events: it set more timers than the event engine can keep in order (about 1.3e10); run fewer devices or a shorter horizon",
            crate::time::fmt_span(world.engine.now()),
            world.engine.processed()
        )));
    }
    // The compliance thresholds of the run's last instant are judged on its final counts.
    world.rec.finish();
    let stats = RunStats {
        devices: fleet.len(),
        events: world.engine.processed(),
        generate_secs,
        simulate_secs: t1.elapsed().as_secs_f64(),
    };
    let held_at_end = world.held_at_end();
    let per_device = world.per_device.take().map(|record| {
        Box::new(DeviceTable {
            record,
            states: std::mem::take(&mut world.states),
            fleet: fleet.clone(),
        })
    });
    Ok(RunResult {
        per_device,
        held_at_end,
        likely_held: world.likely_held.clone(),
        seed,
        replication,
        issues: world.service.issue_stats.clone(),
        firings: world.service.firings.clone(),
        rules_not_fired: world.service.rules_not_fired(),
        issue_hits: world.service.deps.iter().map(|d| d.issue_hits).collect(),
        ineligible: world
            .service
            .deps
            .iter()
            .map(|d| d.ineligible_count)
            .collect(),
        recorder: world.rec,
        state_changes: world.changes,
        stats,
        start_audiences,
    })
}

/// The offset changes within the run of each segment's named time zone (`None`: a fixed
/// offset), which the segments' clocks borrow.
fn zones(sc: &Scenario) -> Vec<Option<Zone>> {
    sc.segments
        .iter()
        .map(|s| {
            s.time_zone
                .as_ref()
                .map(|tz| Zone::new(tz, sc.start_unix, sc.horizon))
        })
        .collect()
}

struct World<'a> {
    sc: &'a Scenario,
    fleet: &'a Fleet,
    key: RunKey,
    engine: Engine<ServiceEvent>,
    devices: Vec<DeviceState>,
    service: Service<'a>,
    client: Client<'a>,
    clocks: Vec<LocalClock<'a>>,
    rec: Recorder,
    changes: Vec<StateChange>,
    before: Vec<Option<State>>,
    /// Each device's state per deployment (`dev × deployments + dep`), as last recorded: the
    /// "before" of the next change without recomputing it. `NO_STATE` = not in the audience.
    states: Vec<u8>,
    /// Whether the service's device sets are large enough for their words to be prefetched
    /// ([`SET_PREFETCH_DEVICES`]).
    prefetch_sets: bool,
    /// Per deployment: the devices a likely-issue hold put in `held`, and which they are (each
    /// counted once).
    likely_held: Vec<LikelyHeld>,
    likely_seen: Vec<DeviceSet>,
    /// Each device's outcome per deployment (`--per-device`); `None` in a default run, which
    /// pays a branch on it where it records a change or a restart.
    per_device: Option<PerDevice>,
}

const NO_STATE: u8 = u8::MAX;

/// How many events ahead a device's data is prefetched: the timers about to pop, the devices a
/// service event is about to handle.
const PREFETCH_AHEAD: usize = 4;

/// From how many devices on the words of the service's device sets are prefetched too. A set is
/// one bit a device: below this it is under half a megabyte, and the few sets an event reads
/// stay in the L2 cache between touches, so the prefetch loop over every deployment's sets is
/// only work (without it a million devices ran 1.7 % faster, 8 of 8 side-by-side pairs, three
/// million the same, 3 pairs); at ten million they paid (44 s without against 36–39 s with,
/// interleaved runs; docs/performance.md).
const SET_PREFETCH_DEVICES: usize = 4_000_000;

/// How many device records ahead the first-states pass prefetches.
const FIRST_PASS_AHEAD: usize = 16;

/// From how many touched devices a service event sizes the engine's burst queue up front.
const BURST_RESERVE: usize = 4096;

fn encode(s: Option<State>) -> u8 {
    s.map_or(NO_STATE, |s| s as u8)
}

fn decode(v: u8) -> Option<State> {
    State::ALL.get(usize::from(v)).copied()
}

impl<'a> World<'a> {
    fn new(sc: &'a Scenario, fleet: &'a Fleet, zones: &'a [Option<Zone>], key: RunKey) -> Self {
        let n = fleet.len();
        let devices = filled(n, |i| DeviceState {
            segment: fleet.segment_index(i as u32),
            ..DeviceState::new(
                &key.rng(Stream::Scan, i as u64),
                &key.rng(Stream::Pipeline, i as u64),
            )
        });
        let mut service = Service::new(
            &sc.contents,
            &sc.deployments,
            &sc.groups,
            &sc.actions,
            &sc.issues,
            &sc.safety,
            fleet,
            key,
        );
        if offer_clock(sc) {
            service.keep_offer_times();
        }
        let clocks = fleet
            .segments
            .iter()
            .zip(zones)
            .map(|(s, z)| match z {
                Some(z) => z.clock(),
                None => LocalClock::new(sc.start_unix, s.utc_offset),
            })
            .collect();
        Self {
            sc,
            fleet,
            key,
            // About 20 000 timer buckets over the horizon, each between 1 and 60 minutes wide.
            engine: {
                let mut e = Engine::with_bucket_width((sc.horizon / 20_000).clamp(60, 3600));
                e.reserve_keys(n);
                e
            },
            devices,
            service,
            client: Client::new(&sc.client),
            clocks,
            rec: {
                let mut rec = Recorder::new(
                    sc.deployments.len(),
                    segment_rows(sc.segments.iter().map(|s| s.name.as_str())).0,
                    sc.sample_interval,
                    sc.horizon,
                );
                // A device is exposed to what the content fixes from its release on, whenever
                // the deployment starts offering it: a later start is exposure the plan adds.
                for (d, dep) in sc.deployments.iter().enumerate() {
                    let release = sc.contents[dep.content as usize].release;
                    rec.count_exposure_from(d, release.max(0) as Time);
                }
                if let Some(e) = sc.exploit_at {
                    // An exploit out before the start: the figures count from the start.
                    rec.exploit_at(e.max(0) as Time);
                }
                rec
            },
            changes: Vec::new(),
            before: vec![None; sc.deployments.len()],
            states: vec![NO_STATE; n * sc.deployments.len()],
            prefetch_sets: n >= SET_PREFETCH_DEVICES,
            likely_held: vec![LikelyHeld::default(); sc.deployments.len()],
            likely_seen: (0..sc.deployments.len())
                .map(|_| DeviceSet::with_len(n))
                .collect(),
            per_device: None,
        }
    }

    fn run(&mut self) {
        // Counted per segment row and state and recorded in one step (`Recorder::initial`), in
        // one pass over the device records.
        let rows = self.rec.segment_row_count();
        let mut counts = vec![vec![[0u64; N_STATES]; rows]; self.before.len()];
        for dev in 0..self.fleet.len() as u32 {
            // A pass in order, but the hardware's prefetcher stops at each 4 KB page (64
            // records), where each new page's first record waited for memory.
            prefetch(&self.devices, dev as usize + FIRST_PASS_AHEAD);
            let row = self.rec.row_of(self.devices[dev as usize].segment);
            for (dep, per_row) in counts.iter_mut().enumerate() {
                let s = self.state_for(dep, dev);
                if let Some(s) = s {
                    per_row[row][s as usize] += 1;
                }
                if s == Some(State::Held) {
                    self.entered_held(dep, dev, 0);
                }
                if let Some(pd) = &mut self.per_device {
                    pd.observe(dev, dep, 0, None, s);
                }
                self.store(dep, dev, s);
            }
        }
        for (dep, per_row) in counts.iter().enumerate() {
            self.rec.initial(dep, per_row);
        }
        let out = self.service.initial();
        self.apply(out, 0);
        while let Some((t, fired)) = self.engine.pop(self.sc.horizon) {
            match fired {
                Fired::Timer(dev) => {
                    if let Some(next) = self.engine.upcoming(PREFETCH_AHEAD) {
                        self.prefetch(next);
                    }
                    self.catch_up(dev, t);
                    self.snapshot(dev);
                    self.on_device(dev, t);
                    self.commit(dev, t);
                }
                Fired::Service(ev) => self.on_service(ev, t),
            }
            // Reports raised by the device (they reach the service after the signal delay).
            for (at, ev) in self.service.pending.drain(..) {
                self.engine.schedule(at, ev);
            }
        }
        // Installs that began by the horizon with no event of the device since, and restarts
        // that began by then and end after it.
        for dev in 0..self.fleet.len() as u32 {
            self.catch_up(dev, self.sc.horizon);
            let st = &self.devices[dev as usize];
            if st.phase == Phase::Restarting && st.restart_at() <= self.sc.horizon {
                self.record_restart(dev);
            }
        }
    }

    /// Applies what a service event produced: metric transitions of touched devices, wake-ups
    /// of newly offered devices, new service events and the deployment log.
    fn apply(&mut self, out: Outbox, t: Time) {
        if out.touched.len() > BURST_RESERVE {
            // Every expedited offer may wake its device at once (see `activate`).
            let pushes = out
                .touched
                .iter()
                .filter(|x| x.offered_now && self.service.deps[x.dep as usize].settings.expedited);
            self.engine.reserve_burst(pushes.count());
        }
        for (i, x) in out.touched.iter().enumerate() {
            // A wave or an expedite touches thousands of devices in one event.
            if let Some(ahead) = out.touched.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead.dev);
            }
            let dep = x.dep as usize;
            self.catch_up(x.dev, t);
            // The cached state, not one rebuilt from the touch's flags: a device touched twice
            // in one service event (joins the audience, then is offered) must count once.
            let before = self.cached(dep, x.dev);
            let after = self.state_for(dep, x.dev);
            let seg = self.devices[x.dev as usize].segment;
            self.rec.touched(dep, (x.dev, seg), t, before, after);
            if after == Some(State::Held) && before != Some(State::Held) {
                self.entered_held(dep, x.dev, t);
            }
            if let Some(pd) = &mut self.per_device {
                pd.observe(x.dev, dep, t, before, after);
            }
            self.store(dep, x.dev, after);
            if x.offered_now {
                self.rec.counters[dep].offered += 1;
                let push = self.service.deps[dep].settings.expedited;
                self.activate(x.dev, t, push.then_some(dep));
            } else if x.wake {
                self.activate(x.dev, t, None);
            }
        }
        for (at, ev) in out.schedule {
            self.engine.schedule(at.max(t), ev);
        }
        for l in out.log {
            self.changes.push(StateChange {
                at: t,
                deployment: l.deployment,
                event: l.event,
                state: l.state,
                reason: l.reason,
                detail: l.detail,
                numbers: l.numbers,
            });
        }
    }

    /// Starts loading what an event of `dev` will touch: its record, its cached states, its
    /// timer slot and its bits in the service's sets ([`crate::mem`]).
    fn prefetch(&self, dev: u32) {
        prefetch(&self.devices, dev as usize);
        prefetch(&self.states, dev as usize * self.before.len());
        self.engine.prefetch_key(dev);
        if self.prefetch_sets {
            self.service.prefetch(dev);
        }
    }

    fn policy(&self, dev: u32) -> &'a Policy {
        let sc: &'a Scenario = self.sc;
        &sc.policies
            [self.fleet.segments[self.devices[dev as usize].segment as usize].policy as usize]
    }

    fn avail(&self, dev: u32) -> Availability<'a> {
        let fleet: &'a Fleet = self.fleet;
        let seg = self.devices[dev as usize].segment as usize;
        Availability {
            model: &fleet.segments[seg].profile,
            clock: self.clocks[seg],
            key: DayKey::Device(self.key, u64::from(dev)),
            until: self.sc.horizon,
            memo: std::cell::Cell::new(self.devices[dev as usize].avail_memo),
        }
    }

    /// The device's random streams, resumed for one event.
    fn rngs(&self, dev: u32) -> DeviceRngs {
        DeviceRngs::resume(&self.devices[dev as usize], &self.key, u64::from(dev))
    }

    /// Keeps the device's random streams and what `avail` learnt about its online intervals for
    /// its next event.
    fn keep(&mut self, dev: u32, avail: &Availability<'_>, r: &DeviceRngs) {
        let st = &mut self.devices[dev as usize];
        st.avail_memo = avail.memo.get();
        r.suspend(st);
    }

    fn category(&self, content: u16) -> Category {
        self.sc.contents[content as usize].category
    }

    /// The device's state with respect to deployment `dep` (`None` when not in its audience).
    /// Called for every deployment on every device event, so the costlier questions (offered?
    /// held?) are asked only when the device's own record does not already decide the state.
    fn state_for(&self, dep: usize, dev: u32) -> Option<State> {
        let run = &self.service.deps[dep];
        if !run.in_audience(dev) {
            return None;
        }
        if run.settings.readiness {
            return Some(if run.ready.contains(dev) {
                State::Ready
            } else if run.offered.contains(dev) {
                State::Offered
            } else {
                State::NotOffered
            });
        }
        let content = self.sc.deployments[dep].content;
        let st = &self.devices[dev as usize];
        if self.service.device_has(st, content) {
            return Some(State::Compliant);
        }
        if st.work != NONE && self.service.satisfies(st.work, content) {
            return Some(match st.phase {
                Phase::Downloading => State::Downloading,
                Phase::Downloaded => State::Downloaded,
                Phase::Installing => State::Installing,
                Phase::PendingRestart | Phase::Restarting => State::PendingRestart,
                Phase::Waiting | Phase::Deferred | Phase::OptIn | Phase::Idle
                    if st.failed == st.work =>
                {
                    State::Failed
                }
                Phase::Waiting | Phase::Deferred | Phase::OptIn | Phase::Idle => State::Offered,
            });
        }
        if st.failed != NONE && self.service.satisfies(st.failed, content) {
            return Some(if st.rolled_back() {
                State::RolledBack
            } else {
                State::Failed
            });
        }
        if run.ineligible.contains(dev) {
            return Some(State::Ineligible);
        }
        if self.service.held(dep, dev) {
            return Some(State::Held);
        }
        Some(if run.offered.contains(dev) {
            State::Offered
        } else {
            State::NotOffered
        })
    }

    /// Per deployment, the devices held at the end and by which holds (one pass over the
    /// recorded states, at the end of the run only).
    fn held_at_end(&self) -> Vec<HeldAtEnd> {
        let mut out = vec![HeldAtEnd::default(); self.before.len()];
        for dev in 0..self.fleet.len() as u32 {
            for (dep, h) in out.iter_mut().enumerate() {
                if self.cached(dep, dev) == Some(State::Held) {
                    let (known, likely) = self.service.hold_kinds(dep, dev);
                    h.devices += 1;
                    h.known_issue += u64::from(known);
                    h.likely_issue += u64::from(likely);
                }
            }
        }
        out
    }

    fn cached(&self, dep: usize, dev: u32) -> Option<State> {
        decode(self.states[dev as usize * self.before.len() + dep])
    }

    fn store(&mut self, dep: usize, dev: u32, s: Option<State>) {
        let k = self.before.len();
        self.states[dev as usize * k + dep] = encode(s);
    }

    /// An install that began at or before `t` without an event of its own (the download and
    /// install are one event, [`Client::plan_install`]): its transitions are recorded at the
    /// instant it began, before anything else looks at the device, so counts over time are
    /// those of a separate event at that instant.
    fn catch_up(&mut self, dev: u32, t: Time) {
        let Some(at) = Client::install_began(&mut self.devices[dev as usize], t) else {
            return;
        };
        let seg = self.devices[dev as usize].segment;
        for dep in 0..self.before.len() {
            if self.cached(dep, dev) == Some(State::Downloading) {
                self.rec.transition(
                    dep,
                    (dev, seg),
                    at,
                    Some(State::Downloading),
                    Some(State::Installing),
                );
                self.store(dep, dev, Some(State::Installing));
            }
        }
    }

    fn snapshot(&mut self, dev: u32) {
        for dep in 0..self.before.len() {
            self.before[dep] = self.cached(dep, dev);
        }
    }

    fn commit(&mut self, dev: u32, t: Time) {
        let seg = self.devices[dev as usize].segment;
        for dep in 0..self.before.len() {
            let after = self.state_for(dep, dev);
            self.rec
                .transition(dep, (dev, seg), t, self.before[dep], after);
            if after == Some(State::Held) && self.before[dep] != Some(State::Held) {
                self.entered_held(dep, dev, t);
            }
            if let Some(pd) = &mut self.per_device {
                pd.observe(dev, dep, t, self.before[dep], after);
            }
            self.store(dep, dev, after);
        }
    }

    /// `dev` entered the `held` state of deployment `dep` at `t`: counted in
    /// [`LikelyHeld`] when a likely-issue hold is one that holds it (a device held by a known
    /// issue's hold too counts, as in [`HeldAtEnd`]). Holds begin in service events, so this
    /// is rare and out of line.
    #[cold]
    #[inline(never)]
    fn entered_held(&mut self, dep: usize, dev: u32, t: Time) {
        let (_, likely) = self.service.hold_kinds(dep, dev);
        if likely && self.likely_seen[dep].insert(dev) {
            let h = &mut self.likely_held[dep];
            h.devices += 1;
            h.matching_issue += u64::from(self.service.at_risk(dep, dev));
            h.first.get_or_insert(t);
        }
    }

    fn on_service(&mut self, ev: ServiceEvent, t: Time) {
        let mut out = Outbox::default();
        self.service.handle(ev, t, &mut out);
        self.apply(out, t);
    }

    /// Content became offerable to `dev` at `t`: make sure a scan will see it. `expedite`: the
    /// expedited deployment whose push this is.
    fn activate(&mut self, dev: u32, t: Time, expedite: Option<usize>) {
        let phase = self.devices[dev as usize].phase;
        if !matches!(
            phase,
            Phase::Idle | Phase::Waiting | Phase::Deferred | Phase::OptIn
        ) {
            // Busy: the scan after the current work will see the offer, unless an expedite
            // changes the work's terms or supersedes it.
            if let Some(dep) = expedite {
                self.expedite_busy(dev, dep, t);
            }
            return;
        }
        let push = expedite.is_some();
        let avail = self.avail(dev);
        let mut r = self.rngs(dev);
        let st = &mut self.devices[dev as usize];
        // An expedite push makes an online device scan at once; a push to an offline device
        // is dropped, so it waits for its next due scan.
        let at = if push && avail.is_online(t) {
            Some(t)
        } else if st.phase == Phase::Waiting {
            // The timer is the next scan, its interval already drawn.
            self.engine.timer(dev)
        } else if st.phase == Phase::OptIn {
            // The user's choice stays due; the next regular scan may come first.
            let scan = self.client.next_scan_at_or_after(st, &mut r, &avail, t);
            match (scan, self.engine.timer(dev)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        } else {
            // Idle, or deferred: no scan after the last real one has been drawn.
            self.client.next_scan_at_or_after(st, &mut r, &avail, t)
        };
        st.phase = Phase::Waiting;
        self.keep(dev, &avail, &r);
        match at {
            Some(at) => self.engine.set_timer(dev, at),
            None => self.engine.cancel_timer(dev),
        }
    }

    /// Expedited deployment `dep` offered its update at `t` to `dev`, which is busy with a
    /// quality update: the device learns of it at once if the push finds it online, else at
    /// its next scan (a busy device scans on its schedule too; rollsim draws that scan only
    /// here), and the work goes on under the expedite's terms or is superseded
    /// ([`Client::expedite_busy`]). A device busy with a feature update takes the expedite at
    /// the scan after its restart. The states the change implies are recorded by the device's
    /// next event, as for any change to its record.
    fn expedite_busy(&mut self, dev: u32, dep: usize, t: Time) {
        let settings = &self.service.deps[dep].settings;
        if settings.readiness || settings.optional {
            return;
        }
        let grace = settings.forced_reboot_after.unwrap_or(0);
        let work = self.devices[dev as usize].work;
        if work == NONE || self.category(work) != Category::Quality {
            return;
        }
        let named = self.service.defs[dep].content;
        if self.service.device_has(&self.devices[dev as usize], named) {
            // The device runs the update already: its scan skips the expedite.
            return;
        }
        let avail = self.avail(dev);
        let mut r = self.rngs(dev);
        let timer = self.engine.timer(dev);
        let policy = self.policy(dev);
        let st = &mut self.devices[dev as usize];
        let learn = if avail.is_online(t) {
            Some(t)
        } else {
            self.client.next_scan_at_or_after(st, &mut r, &avail, t)
        };
        if let Some(learn) = learn {
            // What the expedite delivers when the device learns of it (`latestSecurity`: the
            // newest security update released by then that its policy does not defer).
            let delivered = self.service.delivered(dep, learn, policy);
            let supersedes = !self.service.satisfies(work, delivered);
            let change = self.client.expedite_busy(
                st,
                &mut r,
                &avail,
                policy,
                Category::Quality,
                supersedes,
                grace,
                learn,
                timer,
            );
            if change != Expedited::Unchanged {
                st.last_scan = learn.min(u64::from(u32::MAX - 1)) as u32;
            }
            match change {
                Expedited::Unchanged | Expedited::Terms(None) => {}
                Expedited::Terms(Some(end)) => self.engine.set_timer(dev, end),
                Expedited::Superseded(at) => self.engine.set_timer(dev, at),
            }
        }
        self.keep(dev, &avail, &r);
    }

    fn set_or_clear(&mut self, dev: u32, at: Option<Time>) {
        match at {
            Some(at) => self.engine.set_timer(dev, at),
            None => self.engine.cancel_timer(dev),
        }
    }

    /// Handles the timer of `dev` at `t`.
    fn on_device(&mut self, dev: u32, t: Time) {
        let phase = self.devices[dev as usize].phase;
        match phase {
            // No timer: an idle device waits for an offer, a pending restart without a deadline
            // for the user (a planned restart begins in the install's event, below). A
            // download with its install planned has moved on in `catch_up` before this event.
            Phase::Idle | Phase::PendingRestart => return,
            Phase::Waiting | Phase::OptIn => {
                self.scan(dev, t);
                return;
            }
            Phase::Deferred => {
                self.resume_scans(dev, t);
                return;
            }
            _ => {}
        }
        let avail = self.avail(dev);
        let mut r = self.rngs(dev);
        let policy = self.policy(dev);
        let work = self.devices[dev as usize].work;
        match phase {
            Phase::Idle
            | Phase::Waiting
            | Phase::Deferred
            | Phase::OptIn
            | Phase::PendingRestart => {}
            Phase::Downloading | Phase::Downloaded => {
                // A download whose install waits for Automatic Maintenance ended, or the
                // maintenance (or an expedite) begins the install.
                let cat = self.category(work);
                let st = &mut self.devices[dev as usize];
                let next = if phase == Phase::Downloading {
                    self.client.downloaded(st, &mut r, &avail, policy, cat, t)
                } else {
                    self.client.install_now(st, &mut r, &avail, cat, t)
                };
                self.keep(dev, &avail, &r);
                self.set_or_clear(dev, next);
            }
            Phase::Installing => {
                let cat = self.category(work);
                let fx = self.service.effects(dev, work);
                let st = &mut self.devices[dev as usize];
                let dep = st.work_deployment;
                let result =
                    self.client
                        .installed(st, &mut r, &avail, policy, cat, t, fx.install_failure);
                if result.is_err() {
                    self.service.install_failed(dep, dev, work, t);
                }
                let st = &mut self.devices[dev as usize];
                let next = match result {
                    Ok(_) if st.hotpatch => {
                        // A hotpatch applies in memory: the update is in without a restart, so
                        // nothing rolls it back (a rollback follows a restart); an issue's
                        // incident still strikes, and the service hears of it as of any install.
                        self.applied(dev, t, &avail, r, fx.incident, 0.0);
                        return;
                    }
                    Ok(Some(restart_at)) => {
                        // The device draws nothing until its planned restart, and only an
                        // expedite can bring it forward (`expedite_busy`, which keeps the drawn
                        // duration): the restart begins here, one event instead of two, with
                        // the same draws in the same order.
                        let done = self.client.restart_begins(st, &mut r, cat, restart_at);
                        self.keep(dev, &avail, &r);
                        self.engine.set_timer(dev, done);
                        return;
                    }
                    Ok(None) => None,
                    Err(next_scan) => next_scan,
                };
                self.keep(dev, &avail, &r);
                self.set_or_clear(dev, next);
            }
            Phase::Restarting => {
                self.record_restart(dev);
                let cat = self.category(work);
                let fx = self.service.effects(dev, work);
                let background = self.sc.client.times(cat).rollback;
                let rollback = if fx.rollback > 0.0 {
                    1.0 - (1.0 - background) * (1.0 - fx.rollback)
                } else {
                    background
                };
                self.applied(dev, t, &avail, r, fx.incident, rollback);
            }
        }
    }

    /// The update `dev` was working on is applied at `t`: at the end of its restart, or at the
    /// end of the install for a hotpatch. The device rolls back with probability `rollback`, or
    /// keeps the update and has an incident with probability `incident` (its issues'); the
    /// service learns of it (issue hits, reports, the `installed` denominator) and the device
    /// scans again. The one path of both, so that they cannot drift apart: a hotpatch once
    /// skipped the service and so every issue's incident and report (until 2026-11-25).
    // Inlined into a restart's end, the hot path, as `Service::restarted` is.
    #[inline(always)]
    fn applied(
        &mut self,
        dev: u32,
        t: Time,
        avail: &Availability<'a>,
        mut r: DeviceRngs,
        incident: f64,
        rollback: f64,
    ) {
        let st = &mut self.devices[dev as usize];
        let (work, dep) = (st.work, st.work_deployment);
        let cat = self.sc.contents[work as usize].category;
        let rolled_back = self.client.restart_done(st, &mut r, cat, rollback, t);
        let incident = !rolled_back
            && incident > 0.0
            && rand::RngExt::random_bool(r.pipeline(), incident.clamp(0.0, 1.0));
        self.service
            .restarted(dep, dev, work, t, rolled_back, incident);
        // The client scans again right after the update is applied.
        self.keep(dev, avail, &r);
        self.scan(dev, t);
    }

    /// Counts the restart of a `Restarting` device for each deployment it is restart-pending
    /// for and that offered it its update (a deployment that never offered the device did not
    /// cause the restart, though the device's state satisfies its content), once the restart can
    /// no longer move: when it ends, or at the horizon.
    fn record_restart(&mut self, dev: u32) {
        let st = &self.devices[dev as usize];
        let clock = self.clocks[st.segment as usize];
        let restart = Client::restart_record(st, self.policy(dev), &clock);
        let at = st.restart_at();
        let weekday = LocalClock::weekday(clock.day(at));
        let hour = (clock.time_of_day(at) / HOUR) as u8;
        let seg = st.segment;
        for dep in 0..self.before.len() {
            if self.cached(dep, dev) == Some(State::PendingRestart)
                && self.service.deps[dep].offered.contains(dev)
            {
                self.rec.restart(dep, seg, restart, weekday, hour);
                if let Some(pd) = &mut self.per_device {
                    pd.restart(dev, dep, at, restart);
                }
            }
        }
    }

    /// A deferral or pause ended at `t`: the device's regular scans resume, the first of them
    /// at or after `t` (scans before it would have found nothing).
    fn resume_scans(&mut self, dev: u32, t: Time) {
        let avail = self.avail(dev);
        let mut r = self.rngs(dev);
        let st = &mut self.devices[dev as usize];
        st.phase = Phase::Waiting;
        let next = self.client.next_scan_at_or_after(st, &mut r, &avail, t);
        self.keep(dev, &avail, &r);
        if next == Some(t) {
            self.scan(dev, t);
        } else {
            self.set_or_clear(dev, next);
        }
    }

    fn scan(&mut self, dev: u32, t: Time) {
        let avail = self.avail(dev);
        let policy = self.policy(dev);
        if !avail.is_online(t) {
            // A scan that falls due while offline runs at the next online instant.
            let next = avail.next_online(t);
            let st = &mut self.devices[dev as usize];
            st.phase = Phase::Waiting;
            st.avail_memo = avail.memo.get();
            self.set_or_clear(dev, next);
            return;
        }
        let mut r = self.rngs(dev);
        let answer = self
            .service
            .scan(dev, &self.devices[dev as usize], policy, t);
        let st = &mut self.devices[dev as usize];
        st.last_scan = t.min(u64::from(u32::MAX - 1)) as u32;
        let next = match answer {
            ScanAnswer::Install(offer, later)
                if offer.optional && !self.client.opted_in(st, &mut r, t) =>
            {
                // Optional: nothing happens until the user chooses to install, or until a
                // deferred offer may be installed, whichever comes first.
                let chosen = avail.next_online(u64::from(st.optional_at));
                match later {
                    Some(at) if chosen.is_none_or(|c| at < c) => {
                        st.phase = Phase::Deferred;
                        Some(at)
                    }
                    _ => {
                        st.phase = Phase::OptIn;
                        chosen
                    }
                }
            }
            ScanAnswer::Install(offer, _) => {
                let done = self.client.begin(st, &mut r, &avail, offer, t);
                if policy.waits_for_maintenance(&offer) {
                    // The download's end is an event of its own: the install waits for
                    // Automatic Maintenance (`Client::downloaded`).
                    done
                } else {
                    done.and_then(|done| {
                        self.client
                            .plan_install(st, &mut r, &avail, offer.category, done)
                    })
                }
            }
            ScanAnswer::NotBefore(at) => {
                // The scans until `at` are drawn then (`resume_scans`), or when an offer comes.
                st.phase = Phase::Deferred;
                Some(at)
            }
            ScanAnswer::Nothing => {
                st.phase = Phase::Idle;
                None
            }
        };
        self.keep(dev, &avail, &r);
        self.set_or_clear(dev, next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn memory_asked_for_the_outputs_of_a_run_counts_in_the_memory_check() {
        let text = "[simulation]\nstart = \"2026-01-13T18:00:00Z\"\nhorizon = \"P1D\"\n[[segments]]\nname = \"all\"\ndevices = 10\n[[deployments]]\nname = \"q\"\ncontent = { \"@odata.type\" = \"#microsoft.graph.windowsUpdates.qualityUpdateReference\", releaseDateTime = \"2026-01-13T00:00:00Z\" }\n";
        let sc = Scenario::parse(text, "t.toml", "t", Path::new(".")).unwrap();
        assert!(check_memory_with(&sc, 1, 0).is_ok(), "ten devices fit");
        // Where the memory available is known (Linux), an exabyte more for outputs does not.
        if std::path::Path::new("/proc/meminfo").exists() {
            let e = check_memory_with(&sc, 1, 1 << 60).unwrap_err().to_string();
            assert!(e.contains("of memory is available"), "{e}");
        }
    }

    #[test]
    fn a_scenario_built_in_code_with_more_groups_than_a_run_can_number_is_an_error_not_a_wrap() {
        let text = r##"
[simulation]
start = "2026-01-13T18:00:00Z"
horizon = "P1D"

[[segments]]
name = "all"
devices = 10

[groups]
pilot = { share = 0.5 }

[[deployments]]
name = "q"
content = { "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-13T00:00:00Z" }
audience = { members = ["pilot"] }
"##;
        let mut sc = Scenario::parse(text, "t.toml", "t", Path::new(".")).unwrap();
        assert!(run(&sc, 1, 0).is_ok());
        let pilot = sc.groups[0].clone();
        sc.groups.resize(crate::scenario::MAX_ITEMS + 1, pilot);
        match run(&sc, 1, 0) {
            Err(crate::Error::Run(m)) => assert_eq!(
                m,
                "the scenario has 65536 groups, more than the 65535 a run can number"
            ),
            other => panic!("expected a run error, got {:?}", other.map(|_| ())),
        }
    }
}
