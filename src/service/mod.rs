//! The Windows Update for Business deployment service (`reference/deployment-service.md`).
//!
//! A **deployment** approves one piece of content for an **audience** and, from its start, *offers*
//! it to audience members — at once, or in the waves of a gradual rollout ([`rollout`]). The service
//! only marks a device as offered; the device sees the offer at its next scan (§7), except for
//! expedited deployments, whose push makes an online device scan at once (§4, seed 003). After
//! everyone has been offered, the offer stands for devices that reconnect as long as the deployment
//! exists (§1).
//!
//! **Audience** (§3): members and exclusions are devices, updatable asset groups (named device sets
//! of the scenario), segments or everyone; a device in both is excluded ("exclusions win").
//! Membership can change during the run (`updateAudience`), entry by entry: a device is a member
//! while any member entry holds it.
//!
//! **State** (§1): `scheduled` before the start (`scheduledByOfferWindow`), `offering`
//! (`offeringByRequest`), `paused` with stacking reasons (`pausedByRequest`, `pausedByMonitoring`:
//! clearing the request does not lift a monitoring pause), `faulted` (`faultedByContentOutdated`,
//! once the content's `deployableUntilDateTime` passes) and `archived` (`archivedByRequest`: ended,
//! never offers again). Paused deployments make no new offers; devices already offered continue.
//! Archived or faulted deployments no longer offer their content to anyone.
//!
//! **Content** (§1, §4) is ordered within its category by `level`: for quality updates the release
//! instant, for feature updates the version order (`22H2` < `23H2` < `24H2`). A device takes quality
//! before feature, expedited first, then the newest content; newer content of the same category
//! satisfies older (`equivalentContent = latestSecurity`), and an expedited security update
//! delivers the newest security update released by the time of the scan that the device's policy
//! does not defer or pause: the expedite lifts the deferral of its own update only
//! (`reference/client-timing.md` §2).

pub mod log;
pub mod rollout;
pub mod safety;

use std::collections::{HashSet, VecDeque};

use crate::client::{Category, DeviceState, NONE, Offer, Policy, index16};
use crate::fleet::Fleet;
use crate::fleet::filter::Filter;
use crate::rng::{RunKey, Stream, StreamRng};
use crate::time::{Secs, Time};
pub use log::{EventNumbers, LogLine};
pub use rollout::{Ordering, Rollout};
pub use safety::{
    Denominator, IssueDef, IssueStats, Known, LikelyRelease, Release, Report, RuleFiring, RuleMiss,
    RulePeak, SafetyParams,
};

/// One piece of deployable content.
#[derive(Clone, Debug, PartialEq)]
pub struct Content {
    /// Display name (`quality update released 2026-01-13`, `Windows feature update 24H2`).
    pub name: String,
    /// Category.
    pub category: Category,
    /// Order within the category; higher satisfies lower.
    pub level: i64,
    /// Release instant relative to the scenario start (seconds, may be negative); policy deferrals
    /// count from here.
    pub release: i64,
    /// Quality update classified `security` (what `latestSecurity` may substitute).
    pub security: bool,
}

/// One entry of an audience's members or exclusions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Member {
    /// Every device of the fleet.
    All,
    /// The devices of a segment.
    Segment(u16),
    /// An updatable asset group (`[groups]`).
    Group(u16),
    /// One device (`azureADDevice`): segment and 0-based index within it.
    Device {
        /// Segment index.
        segment: u16,
        /// Index within the segment.
        index: u32,
    },
}

/// Members and exclusions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Audience {
    /// Devices the deployment applies to.
    pub members: Vec<Member>,
    /// Devices it never applies to (they win over members).
    pub exclusions: Vec<Member>,
}

/// Monitoring signal (`monitoringRule.signal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// The device reverted to its prior OS after the update.
    Rollback,
    /// The device is not eligible for the update (Windows 11 feature updates).
    Ineligible,
}

/// Monitoring action (`monitoringRule.action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    /// Raise an alert only.
    AlertError,
    /// Pause the deployment (`pausedByMonitoring`).
    PauseDeployment,
    /// Offer the fallback (Windows 10 22H2) to ineligible devices.
    OfferFallback,
}

/// One monitoring rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitoringRule {
    /// What is counted.
    pub signal: Signal,
    /// Percentage (1–100) that makes the rule fire.
    pub threshold: u8,
    /// What happens then.
    pub action: RuleAction,
}

/// A deployment's settings (Graph `deploymentSettings`); admin actions may replace them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// `schedule.startDateTime`, relative to the scenario start (absent = at once: 0).
    pub start: Time,
    /// `schedule.gradualRollout` (absent = everyone at the start).
    pub rollout: Option<Rollout>,
    /// `monitoring.monitoringRules`.
    pub monitoring: Vec<MonitoringRule>,
    /// `expedite.isExpedited` (or an `expeditedQualityUpdateReference`).
    pub expedited: bool,
    /// `expedite.isReadinessTest`: no content, devices report readiness.
    pub readiness: bool,
    /// `userExperience.offerAsOptional`: installed only when the user chooses.
    pub optional: bool,
    /// `userExperience.isHotpatchEnabled`: a quality update applies without a restart.
    pub hotpatch: bool,
    /// `userExperience.daysUntilForcedReboot`, as seconds.
    pub forced_reboot_after: Option<Secs>,
    /// `contentApplicability.safeguard.disabledSafeguardProfiles` contains `likelyIssues`.
    pub likely_issues_disabled: bool,
}

/// A validated deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentDef {
    /// Name, unique in the scenario.
    pub name: String,
    /// Content index.
    pub content: u16,
    /// Settings at creation.
    pub settings: Settings,
    /// Audience at creation.
    pub audience: Audience,
    /// Wave ordering of gradual rollouts.
    pub ordering: Ordering,
    /// `equivalentContent = latestSecurity` (the default for expedited quality updates).
    pub latest_security: bool,
    /// `state.requestedValue` of the request body that created the deployment.
    pub requested: Requested,
    /// The `deployableUntilDateTime` of the catalog entry the deployment names, relative to the
    /// scenario start: afterwards the deployment faults.
    pub deployable_until: Option<Time>,
}

/// `requestedDeploymentStateValue`: what the admin asks of a deployment's state (§1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Requested {
    /// `none`: the schedule decides.
    #[default]
    None,
    /// `paused`: the same request a `pause` action makes, in force from creation.
    Paused,
    /// `archived`: ended before it starts; it never offers.
    Archived,
}

/// An updatable asset group: a named device set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupDef {
    /// Name, unique in the scenario.
    pub name: String,
    /// Devices of these segments (empty = every segment).
    pub segments: Vec<u16>,
    /// Devices matching this attribute filter.
    pub filter: Option<Filter>,
    /// Keep a random share of the matching devices.
    pub share: Option<f64>,
    /// Keep this many of the matching devices, at random (all of them if fewer match).
    pub count: Option<u32>,
    /// Explicit devices (segment, index); with these alone the group is exactly them.
    pub devices: Vec<(u16, u32)>,
    /// Groups (indexes) whose devices are left out before the share is drawn, so that rings
    /// drawn at random are disjoint.
    pub excluding: Vec<u16>,
}

impl GroupDef {
    /// Whether the group keeps a random part of its matching devices (a share or a count).
    pub fn is_drawn(&self) -> bool {
        self.share.is_some() || self.count.is_some()
    }
}

/// What an admin action does.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    /// `state.requestedValue = paused`.
    Pause,
    /// `state.requestedValue = none`.
    Resume,
    /// `state.requestedValue = archived`.
    Archive,
    /// `updateAudience`.
    UpdateAudience {
        /// `addMembers`.
        add_members: Vec<Member>,
        /// `removeMembers`.
        remove_members: Vec<Member>,
        /// `addExclusions`.
        add_exclusions: Vec<Member>,
        /// `removeExclusions`.
        remove_exclusions: Vec<Member>,
    },
    /// `PATCH settings`.
    Settings {
        /// The deployment's settings from now on: the PATCH merged into the settings so far.
        settings: Box<Settings>,
        /// The PATCH writes `monitoring.monitoringRules`: only then do the rules start afresh
        /// and a monitoring pause is reconsidered (§7); other PATCHes leave them as they stand.
        rules: bool,
    },
    /// One `PATCH` of both `state.requestedValue` and `settings`: one request, so both take
    /// effect in the same step and the deployment's state changes at most once.
    Patch {
        /// `state.requestedValue`, as [`ActionKind::Pause`], `Resume` or `Archive` request it.
        requested: Requested,
        /// As in [`ActionKind::Settings`].
        settings: Box<Settings>,
        /// As in [`ActionKind::Settings`].
        rules: bool,
    },
}

impl ActionKind {
    /// Name used in outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ActionKind::Pause => "pause",
            ActionKind::Resume => "resume",
            ActionKind::Archive => "archive",
            ActionKind::UpdateAudience { .. } => "update_audience",
            ActionKind::Settings { .. } => "set",
            ActionKind::Patch { requested, .. } => match requested {
                Requested::Paused => "pause + set",
                Requested::None => "resume + set",
                Requested::Archived => "archive + set",
            },
        }
    }
}

/// An admin action at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// When, relative to the scenario start.
    pub at: Time,
    /// Deployment index.
    pub deployment: u16,
    /// What.
    pub kind: ActionKind,
}

/// Service-level events (the engine's second queue): a small closed set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceEvent {
    /// A deployment reaches its start time.
    Start(u16),
    /// A gradual rollout's next wave (deployment, generation: stale waves are ignored).
    Wave(u16, u32),
    /// Admin action number `i`.
    Action(u16),
    /// A deployment's content stops being deployable.
    Fault(u16),
    /// A device's report reaches the service (deployment, device, what).
    Report(u16, u32, Report),
    /// Issue `i` becomes known: its safeguard hold is placed.
    HoldPlaced(u16),
    /// Issue `i`'s safeguard hold is released.
    HoldReleased(u16),
    /// Likely-issue holds are released.
    LikelyRelease,
}

/// A compact set of device ids: one bit per device, its words allocated on the first insert.
/// Many of a deployment's sets stay empty in a run (no exclusions, no readiness test, no
/// ineligible device), and an empty set then costs no memory and no cache line a device event:
/// at ten million devices each allocated set is 1.25 MB, and an event looks up its device's bit
/// in every set (docs/performance.md). Not comparable with `==`: a set never written and one
/// emptied again hold the same devices but not the same words.
#[derive(Clone, Debug, Default)]
pub struct DeviceSet {
    bits: Vec<u64>,
    /// Words the set needs once it holds a device.
    words: usize,
}

impl DeviceSet {
    /// An empty set able to hold `n` devices.
    pub fn with_len(n: usize) -> Self {
        Self {
            bits: Vec::new(),
            words: n.div_ceil(64),
        }
    }
    /// Whether `d` is in the set.
    pub fn contains(&self, d: u32) -> bool {
        self.bits
            .get(d as usize / 64)
            .is_some_and(|w| w >> (d % 64) & 1 == 1)
    }
    /// Asks the CPU to load the word holding `d` (see [`crate::mem::prefetch`]); nothing for a
    /// set that has never held a device.
    pub fn prefetch(&self, d: u32) {
        if !self.bits.is_empty() {
            crate::mem::prefetch(&self.bits, d as usize / 64);
        }
    }
    /// Adds `d`; returns whether it was new (`false` too for a device beyond the set's words).
    pub fn insert(&mut self, d: u32) -> bool {
        let i = d as usize / 64;
        if self.bits.is_empty() && i < self.words {
            self.bits = vec![0; self.words];
        }
        match self.bits.get_mut(i) {
            Some(w) => {
                let was = *w >> (d % 64) & 1 == 1;
                *w |= 1 << (d % 64);
                !was
            }
            None => false,
        }
    }
    /// The devices in the set, in id order; skips empty words, so a sparse set costs a
    /// sixty-fourth of a device scan.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let b = w.trailing_zeros();
                    w &= w - 1;
                    i as u32 * 64 + b
                })
            })
        })
    }
    /// Removes `d`; returns whether it was present.
    pub fn remove(&mut self, d: u32) -> bool {
        match self.bits.get_mut(d as usize / 64) {
            Some(w) => {
                let was = *w >> (d % 64) & 1 == 1;
                *w &= !(1 << (d % 64));
                was
            }
            None => false,
        }
    }
}

/// What a scan finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanAnswer {
    /// Install this; when it is optional, the user may not want it yet, so the answer also
    /// says from when policy lets a deferred offer be installed (if one is).
    Install(Offer, Option<Time>),
    /// Something is offered but policy defers it until then.
    NotBefore(Time),
    /// Nothing to do.
    Nothing,
}

/// A device whose standing with a deployment may have changed in a service event. Its standing
/// before is not carried: the simulation keeps every device's last recorded state, and an
/// expedite touches every device of the fleet in one event, so a touch is kept to 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touch {
    /// Device id.
    pub dev: u32,
    /// Deployment index.
    pub dep: u16,
    /// Newly offered now: the device must be woken so its next scan sees the offer.
    pub offered_now: bool,
    /// Wake the device (a hold on an offer it already had was released).
    pub wake: bool,
}

impl Touch {
    fn new(dep: u16, dev: u32) -> Self {
        Touch {
            dev,
            dep,
            offered_now: false,
            wake: false,
        }
    }
}

/// What a service event produced, for the simulation to apply.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    /// Devices whose standing changed.
    pub touched: Vec<Touch>,
    /// Service events to schedule.
    pub schedule: Vec<(Time, ServiceEvent)>,
    /// Deployment log lines.
    pub log: Vec<LogLine>,
}

/// The audiences as a run starts ([`Service::start_audiences`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartAudiences {
    /// Per deployment: its audience holds no device.
    pub empty: Vec<bool>,
    /// Per group of the scenario: the devices it holds in this fleet.
    pub group_sizes: Vec<u64>,
}

/// Run-time state of one deployment.
#[derive(Clone, Debug)]
pub struct DeploymentRun {
    /// Current settings.
    pub settings: Settings,
    /// Audience members.
    pub members: DeviceSet,
    /// Audience exclusions.
    pub exclusions: DeviceSet,
    /// The audience's member entries (§3: `updatableAsset`s): `members` is their union, so a
    /// device stays a member while any entry still holds it.
    member_entries: Vec<Member>,
    /// The audience's exclusion entries; `exclusions` is their union.
    exclusion_entries: Vec<Member>,
    /// Devices offered so far.
    pub offered: DeviceSet,
    /// When each device was offered (seconds; meaningful where `offered` holds it), kept only
    /// when a policy's quality deadline counts from the offer ([`Service::keep_offer_times`]),
    /// else empty: 4 bytes a device a deployment that most runs do not need.
    offered_at: Vec<u32>,
    /// Readiness tests: devices that reported ready.
    pub ready: DeviceSet,
    /// Devices in the audience waiting for their offer, in offer order.
    queue: VecDeque<u32>,
    /// Ordering rank per device (`groups` ordering), else empty.
    rank: Vec<u32>,
    started: bool,
    rollout_start: Time,
    wave_gen: u32,
    wave_pending: bool,
    /// Waves offered so far.
    pub waves: u32,
    /// Paused by request.
    pub requested_pause: bool,
    /// Paused by a monitoring rule.
    pub monitoring_pause: bool,
    archived: bool,
    faulted: bool,
    last_state: (&'static str, String),
    /// The deployment's service stream (wave ordering).
    rng: StreamRng,
    /// Devices offered so far (the default monitoring denominator).
    pub offered_count: u64,
    /// Reports received: rollbacks, ineligible devices, finished installs, each counting a
    /// device once (a device that rolls back again after a retry is one device of the
    /// threshold's percentage, deployment-service.md §2).
    pub reported: [u64; 3],
    /// Devices whose rollback report has arrived (each counted once in `reported[0]`).
    rollback_reported: DeviceSet,
    /// Devices whose finished-install report has arrived (each counted once in `reported[2]`).
    install_reported: DeviceSet,
    /// Per monitoring rule of the current settings: whether it has fired.
    fired: Vec<bool>,
    /// Per monitoring rule of the current settings: the highest share its signal reached while
    /// it had not fired, at moments it was judged (see [`RulePeak`]).
    peaks: Vec<Option<RulePeak>>,
    /// Devices whose wave came while they were held; offered when the hold is released.
    held_back: Vec<u32>,
    /// Devices found ineligible for the content.
    pub ineligible: DeviceSet,
    /// Distinct devices hit by an issue of the content while this deployment offered it to them
    /// or held them in its audience (counted at a device's first hit for the content).
    pub issue_hits: u64,
    /// Distinct devices this deployment found ineligible (the size of `ineligible`).
    pub ineligible_count: u64,
}

impl DeploymentRun {
    /// Whether `dev` is in the audience (member and not excluded).
    pub fn in_audience(&self, dev: u32) -> bool {
        self.members.contains(dev) && !self.exclusions.contains(dev)
    }

    /// Whether a queued device could still be offered: it is in the audience and not offered
    /// yet. A held one counts, as the next wave sets it aside until its hold's release (which
    /// re-arms the waves); a device that left does not, as only an audience change brings it
    /// back, and that re-arms them too. Stops at the first such device, normally the queue's
    /// head.
    fn has_waiting(&self) -> bool {
        self.queue
            .iter()
            .any(|&dev| self.in_audience(dev) && !self.offered.contains(dev))
    }

    /// Whether new offers may be made now.
    fn may_offer(&self) -> bool {
        self.started && !self.archived && !self.faulted && !self.paused()
    }

    /// Whether the deployment is paused (by request or by a monitoring rule): its offers are
    /// withheld from devices that have not taken them up yet (the service's `ServicePaused`
    /// substate, client-timing.md §5; approvals take effect at a device's next scan, §1).
    pub fn paused(&self) -> bool {
        self.requested_pause || self.monitoring_pause
    }

    /// Whether standing offers are valid (the deployment exists and its content is deployable).
    pub fn offers_valid(&self) -> bool {
        !self.archived && !self.faulted
    }

    /// Effective state and its reasons (`;`-separated when they stack).
    pub fn state(&self) -> (&'static str, String) {
        if self.archived {
            return ("archived", "archivedByRequest".into());
        }
        if self.faulted {
            return ("faulted", "faultedByContentOutdated".into());
        }
        if self.requested_pause || self.monitoring_pause {
            let mut r = Vec::new();
            if self.requested_pause {
                r.push("pausedByRequest");
            }
            if self.monitoring_pause {
                r.push("pausedByMonitoring");
            }
            return ("paused", r.join(";"));
        }
        if !self.started {
            return ("scheduled", "scheduledByOfferWindow".into());
        }
        ("offering", "offeringByRequest".into())
    }
}

/// The simulated service.
#[derive(Clone, Debug)]
pub struct Service<'a> {
    /// Content table.
    pub contents: &'a [Content],
    /// Deployment definitions.
    pub defs: &'a [DeploymentDef],
    /// Admin actions.
    pub actions: &'a [Action],
    /// Run-time state per deployment.
    pub deps: Vec<DeploymentRun>,
    /// Device ids of each group, sorted.
    groups: Vec<Vec<u32>>,
    /// (first id, length) per segment.
    segments: Vec<(u32, u32)>,
    /// Each device's attribute combination (for `diverse` ordering), borrowed from the fleet:
    /// a copy would be 4 bytes a device.
    combos: &'a [u32],
    n: usize,
    /// Hidden issues.
    pub issues: &'a [IssueDef],
    /// Safety parameters.
    pub safety: &'a SafetyParams,
    /// Devices matching each issue.
    issue_match: Vec<DeviceSet>,
    /// Per content: whether any issue concerns it (most content has none).
    has_issues: Vec<bool>,
    /// Devices hit by each issue.
    issue_hit: Vec<DeviceSet>,
    /// Per-issue counters.
    pub issue_stats: Vec<IssueStats>,
    /// Whether each issue's safeguard hold is in place.
    hold_active: Vec<bool>,
    /// Per content: devices flagged by the likely-issue model (feature updates with issues);
    /// `None` once its holds are released.
    likely: Vec<Option<DeviceSet>>,
    /// Monitoring rules that fired.
    pub firings: Vec<RuleFiring>,
    /// Service events raised by device-side calls, for the simulation to schedule.
    pub pending: Vec<(Time, ServiceEvent)>,
}

impl<'a> Service<'a> {
    /// Asks the CPU to load what a coming event of device `dev` will look up: its bits in the
    /// deployments' and issues' device sets. With ten million devices each set is 1.25 MB, and a
    /// dozen of them do not stay in cache (docs/performance.md).
    pub fn prefetch(&self, dev: u32) {
        for run in &self.deps {
            for set in [
                &run.members,
                &run.exclusions,
                &run.offered,
                &run.ready,
                &run.ineligible,
            ] {
                set.prefetch(dev);
            }
        }
        for set in self.issue_match.iter().chain(self.likely.iter().flatten()) {
            set.prefetch(dev);
        }
    }

    /// Builds the service for `fleet`: resolves groups and audiences.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        contents: &'a [Content],
        defs: &'a [DeploymentDef],
        groups: &[GroupDef],
        actions: &'a [Action],
        issues: &'a [IssueDef],
        safety: &'a SafetyParams,
        fleet: &'a Fleet,
        key: RunKey,
    ) -> Self {
        let n = fleet.len();
        let segments: Vec<(u32, u32)> = fleet.segments.iter().map(|s| (s.first, s.len)).collect();
        let groups = resolve_groups(groups, fleet, &segments, key);
        let mut s = Self {
            contents,
            defs,
            actions,
            deps: Vec::with_capacity(defs.len()),
            groups,
            segments,
            combos: fleet.combos(),
            n,
            issues,
            safety,
            issue_match: Vec::new(),
            has_issues: Vec::new(),
            issue_hit: Vec::new(),
            issue_stats: Vec::new(),
            hold_active: vec![false; issues.len()],
            likely: Vec::new(),
            firings: Vec::new(),
            pending: Vec::new(),
        };
        s.setup_issues(fleet, key);
        for d in defs {
            let members = s.entry_set(&d.audience.members);
            let exclusions = s.entry_set(&d.audience.exclusions);
            let rank = if d.ordering == Ordering::Groups {
                let mut rank = vec![u32::MAX; n];
                for (i, m) in d.audience.members.iter().enumerate() {
                    s.for_each(m, |dev| {
                        let r = &mut rank[dev as usize];
                        *r = (*r).min(i as u32);
                    });
                }
                rank
            } else {
                Vec::new()
            };
            let mut run = DeploymentRun {
                settings: d.settings.clone(),
                members,
                exclusions,
                member_entries: d.audience.members.clone(),
                exclusion_entries: d.audience.exclusions.clone(),
                offered: DeviceSet::with_len(n),
                offered_at: Vec::new(),
                ready: DeviceSet::with_len(n),
                queue: VecDeque::new(),
                rank,
                started: false,
                rollout_start: 0,
                wave_gen: 0,
                wave_pending: false,
                waves: 0,
                // Created paused or archived, the deployment holds the same flags an action
                // sets, so it never offers before a resume and its state log starts there.
                requested_pause: d.requested == Requested::Paused,
                monitoring_pause: false,
                archived: d.requested == Requested::Archived,
                faulted: false,
                last_state: ("", String::new()),
                rng: key.rng_named(Stream::Service, &d.name),
                offered_count: 0,
                reported: [0; 3],
                rollback_reported: DeviceSet::with_len(n),
                install_reported: DeviceSet::with_len(n),
                fired: vec![false; d.settings.monitoring.len()],
                peaks: vec![None; d.settings.monitoring.len()],
                held_back: Vec::new(),
                ineligible: DeviceSet::with_len(n),
                issue_hits: 0,
                ineligible_count: 0,
            };
            run.last_state = run.state();
            s.deps.push(run);
        }
        s
    }

    /// What the audiences hold as the run starts, before any action: per deployment whether its
    /// audience holds no device, and each group's size. A group's random share and an attribute
    /// filter are decided only by the fleet's draw, so the scenario cannot tell this at load.
    pub fn start_audiences(&self) -> StartAudiences {
        StartAudiences {
            empty: self
                .deps
                .iter()
                .map(|r| r.members.iter().all(|dev| r.exclusions.contains(dev)))
                .collect(),
            group_sizes: self.groups.iter().map(|g| g.len() as u64).collect(),
        }
    }

    /// Calls `f` for every device of audience entry `m`.
    fn for_each(&self, m: &Member, mut f: impl FnMut(u32)) {
        match m {
            Member::All => (0..self.n as u32).for_each(f),
            Member::Segment(sg) => {
                if let Some(&(first, len)) = self.segments.get(*sg as usize) {
                    (first..first + len).for_each(f);
                }
            }
            Member::Group(g) => {
                if let Some(devs) = self.groups.get(*g as usize) {
                    devs.iter().copied().for_each(f);
                }
            }
            Member::Device { segment, index } => {
                if let Some(&(first, len)) = self.segments.get(*segment as usize)
                    && *index < len
                {
                    f(first + index);
                }
            }
        }
    }

    /// The devices of any of `entries`.
    fn entry_set(&self, entries: &[Member]) -> DeviceSet {
        let mut set = DeviceSet::with_len(self.n);
        for m in entries {
            self.for_each(m, |dev| {
                set.insert(dev);
            });
        }
        set
    }

    /// Adds and removes entries of deployment `d`'s members (or exclusions) and brings the
    /// device set up to date. Removing an entry rebuilds the set from the entries left, since
    /// its devices may be held by another entry too (a group and one of its devices named on
    /// its own); updates are rare, so the rebuild costs less than a per-device entry count.
    fn update_entries(&mut self, d: u16, add: &[Member], remove: &[Member], excl: bool) {
        let run = &mut self.deps[d as usize];
        let (mut entries, mut set) = if excl {
            (
                std::mem::take(&mut run.exclusion_entries),
                std::mem::take(&mut run.exclusions),
            )
        } else {
            (
                std::mem::take(&mut run.member_entries),
                std::mem::take(&mut run.members),
            )
        };
        let gone: HashSet<&Member> = remove.iter().collect();
        let before = entries.len();
        entries.retain(|e| !gone.contains(e));
        let rebuild = entries.len() != before;
        let mut known: HashSet<Member> = entries.iter().cloned().collect();
        for m in add {
            if known.insert(m.clone()) {
                entries.push(m.clone());
                if !rebuild {
                    self.for_each(m, |dev| {
                        set.insert(dev);
                    });
                }
            }
        }
        if rebuild {
            set = self.entry_set(&entries);
        }
        let run = &mut self.deps[d as usize];
        if excl {
            run.exclusion_entries = entries;
            run.exclusions = set;
        } else {
            run.member_entries = entries;
            run.members = set;
        }
    }

    /// Deployment `d`'s audience devices flagged by the likely-issue model, with their held
    /// standing, when a settings change sets its likely-issue opt-out to `disabled` and so
    /// changes whether they are held; else none.
    fn likely_standing(&self, d: u16, disabled: bool) -> Vec<(usize, u32, bool)> {
        let run = &self.deps[d as usize];
        let flagged = self
            .likely
            .get(self.defs[d as usize].content as usize)
            .and_then(Option::as_ref);
        match flagged {
            Some(f) if run.settings.likely_issues_disabled != disabled => f
                .iter()
                .filter(|&dev| run.in_audience(dev))
                .map(|dev| (d as usize, dev, self.held(d as usize, dev)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Devices of group `g`.
    pub fn group(&self, g: usize) -> &[u32] {
        self.groups.get(g).map_or(&[], Vec::as_slice)
    }

    /// The service events to schedule at the beginning of a run, and the initial state log.
    pub fn initial(&self) -> Outbox {
        let mut out = Outbox::default();
        for (i, d) in self.defs.iter().enumerate() {
            out.schedule
                .push((d.settings.start, ServiceEvent::Start(index16(i))));
            if let Some(until) = d.deployable_until {
                out.schedule.push((until, ServiceEvent::Fault(index16(i))));
            }
            // A deployment created paused or archived never passes through a state change at
            // its start, so its first state is logged here, like a scheduled one's.
            if d.settings.start > 0 || d.requested != Requested::None {
                let (state, reason) = self.deps[i].state();
                out.log.push(LogLine::state_change(
                    index16(i),
                    state,
                    reason,
                    String::new(),
                ));
            }
        }
        for (i, a) in self.actions.iter().enumerate() {
            out.schedule.push((a.at, ServiceEvent::Action(index16(i))));
        }
        self.initial_safety(&mut out);
        out
    }

    /// Handles a service event at `t`.
    pub fn handle(&mut self, ev: ServiceEvent, t: Time, out: &mut Outbox) {
        match ev {
            ServiceEvent::Start(d) => {
                let run = &self.deps[d as usize];
                if run.started || run.settings.start != t {
                    return; // superseded by a settings change
                }
                self.start(d, t, out);
            }
            ServiceEvent::Wave(d, generation) => {
                let run = &mut self.deps[d as usize];
                if generation != run.wave_gen {
                    return;
                }
                run.wave_pending = false;
                if run.may_offer() {
                    self.wave(d, t, out);
                }
            }
            ServiceEvent::Action(i) => self.action(i as usize, t, out),
            ServiceEvent::Fault(d) => {
                let run = &mut self.deps[d as usize];
                run.faulted = true;
                run.queue.clear();
            }
            ServiceEvent::Report(d, dev, what) => self.on_report(d, dev, what, t, out),
            ServiceEvent::HoldPlaced(i) => {
                if !self.hold_active[i as usize] && self.issue_stats[i as usize].hold_at.is_none() {
                    self.place_hold(i as usize, t, out);
                }
            }
            ServiceEvent::HoldReleased(i) => self.release_hold(i as usize, t, out),
            ServiceEvent::LikelyRelease => self.release_likely(t, out),
        }
        for d in 0..self.deps.len() {
            self.log_state(index16(d), out, String::new());
        }
    }

    /// Logs the deployment's state if it changed.
    pub fn log_state(&mut self, d: u16, out: &mut Outbox, detail: String) {
        let run = &mut self.deps[d as usize];
        let now = run.state();
        if now != run.last_state {
            let resumed = run.last_state.0 == "paused" && now.0 != "paused";
            out.log
                .push(LogLine::state_change(d, now.0, now.1.clone(), detail));
            run.last_state = now;
            if resumed {
                self.wake_offered(d, out);
            }
        }
    }

    /// A paused deployment's offers are withheld from devices that had not taken them up
    /// ([`Service::has_offer`]); when it resumes, they stand again, and a device that scanned
    /// meanwhile and went idle is woken so that its next scan sees the offer.
    fn wake_offered(&self, d: u16, out: &mut Outbox) {
        let run = &self.deps[d as usize];
        if !run.offers_valid() {
            return;
        }
        for dev in 0..self.n as u32 {
            if run.offered.contains(dev) && run.in_audience(dev) && !self.held(d as usize, dev) {
                out.touched.push(Touch {
                    wake: true,
                    ..Touch::new(d, dev)
                });
            }
        }
    }

    fn start(&mut self, d: u16, t: Time, out: &mut Outbox) {
        let waiting: Vec<u32> = {
            let run = &self.deps[d as usize];
            (0..self.n as u32)
                .filter(|&dev| run.in_audience(dev) && !run.offered.contains(dev))
                .collect()
        };
        let run = &mut self.deps[d as usize];
        run.started = true;
        run.rollout_start = t;
        self.log_state(d, out, String::new());
        self.enqueue(d, waiting);
        self.offer_step(d, t, out);
    }

    /// Appends devices to the deployment's queue in its wave order.
    fn enqueue(&mut self, d: u16, devices: Vec<u32>) {
        if devices.is_empty() {
            return;
        }
        let ordering = self.defs[d as usize].ordering;
        let combos = self.combos;
        let run = &mut self.deps[d as usize];
        let rank = &run.rank;
        let ordered = rollout::order(
            devices,
            ordering,
            |dev| combos[dev as usize],
            |dev| rank.get(dev as usize).copied().unwrap_or(0),
            &mut run.rng,
        );
        run.queue.extend(ordered);
    }

    /// Offers what may be offered now: everything queued (no gradual rollout, or a date-driven
    /// rollout past its end), or schedules the next wave if a queued device is waiting for one.
    fn offer_step(&mut self, d: u16, t: Time, out: &mut Outbox) {
        let run = &mut self.deps[d as usize];
        if !run.may_offer() || run.queue.is_empty() {
            return;
        }
        match run.settings.rollout {
            Some(r) if !r.offers_newcomers_at_once(t) => {
                // A queue of devices that left would only schedule waves of no device.
                if !run.wave_pending && run.has_waiting() {
                    let interval = r.interval();
                    let since = t.saturating_sub(run.rollout_start);
                    let next = run.rollout_start + since.div_ceil(interval) * interval;
                    run.wave_gen += 1;
                    run.wave_pending = true;
                    out.schedule
                        .push((next, ServiceEvent::Wave(d, run.wave_gen)));
                }
            }
            _ => {
                let n = run.queue.len();
                let offered = self.offer(d, n, t, out);
                if offered > 0 {
                    out.log.push(LogLine::offer(d, offered));
                }
            }
        }
    }

    /// Offers up to `n` queued devices still in the audience; returns how many.
    fn offer(&mut self, d: u16, n: usize, t: Time, out: &mut Outbox) -> usize {
        // An expedite offers a whole fleet at once: its list sized once, not grown by doubling
        // (below 32 MB, about four million devices, each doubling copies through the heap;
        // with the engine's burst queue sized the same way, a million devices' peak 115 ->
        // 112 MB).
        out.touched
            .reserve(n.min(self.deps[d as usize].queue.len()));
        let mut count = 0;
        while count < n {
            let Some(dev) = self.deps[d as usize].queue.pop_front() else {
                break;
            };
            let run = &self.deps[d as usize];
            if !run.in_audience(dev) || run.offered.contains(dev) {
                continue;
            }
            if self.held(d as usize, dev) {
                // Held: not offered, and not counted towards the wave; offered on release.
                self.deps[d as usize].held_back.push(dev);
                continue;
            }
            let run = &mut self.deps[d as usize];
            run.offered.insert(dev);
            if let Some(at) = run.offered_at.get_mut(dev as usize) {
                *at = t.min(u64::from(u32::MAX)) as u32;
            }
            run.offered_count += 1;
            out.touched.push(Touch {
                offered_now: true,
                ..Touch::new(d, dev)
            });
            count += 1;
        }
        let queue = &mut self.deps[d as usize].queue;
        if queue.is_empty() && queue.capacity() > 4096 {
            // An emptied queue's memory goes to the burst that follows (the devices just
            // offered), not held for the rest of the run.
            *queue = VecDeque::new();
        }
        count
    }

    fn wave(&mut self, d: u16, t: Time, out: &mut Outbox) {
        let run = &self.deps[d as usize];
        let Some(r) = run.settings.rollout else {
            self.offer_step(d, t, out);
            return;
        };
        // Devices that left the audience do not count towards the wave.
        let waiting = run
            .queue
            .iter()
            .filter(|&&dev| run.in_audience(dev) && !run.offered.contains(dev));
        let remaining = match r.count_needed() {
            Some(enough) => waiting.take(enough).count(),
            None => waiting.count(),
        };
        let size = r.wave_size(run.rollout_start, t, remaining);
        let offered = self.offer(d, size, t, out);
        let run = &mut self.deps[d as usize];
        run.waves += 1;
        let waves = run.waves;
        out.log.push(LogLine::wave(d, waves, offered));
        // Devices that left stay queued, so that one rejoining keeps its place; they alone
        // would make a wave of no device every interval to the horizon. A rejoining device, and
        // one whose hold is released, schedule the next wave (`offer_step`).
        if run.has_waiting() {
            run.wave_gen += 1;
            run.wave_pending = true;
            out.schedule
                .push((t + r.interval(), ServiceEvent::Wave(d, run.wave_gen)));
        }
    }

    fn action(&mut self, i: usize, t: Time, out: &mut Outbox) {
        let a = &self.actions[i];
        let d = a.deployment;
        let what = a.kind.as_str();
        match &a.kind {
            ActionKind::Pause => self.deps[d as usize].requested_pause = true,
            ActionKind::Resume => {
                let run = &mut self.deps[d as usize];
                run.requested_pause = false;
                // Clearing the request leaves a monitoring pause (deployment-service.md §7):
                // said where the admin looks for the resume, not left to the state alone.
                let detail = match run.monitoring_pause {
                    true => format!(
                        "{what}: no effect on the monitoring pause, which only a set or patch of monitoringRules lifts"
                    ),
                    false => what.to_string(),
                };
                out.log.push(LogLine::action(d, detail));
                self.log_state(d, out, String::new());
                self.offer_step(d, t, out);
                return;
            }
            ActionKind::Archive => {
                let run = &mut self.deps[d as usize];
                run.archived = true;
                run.queue.clear();
            }
            ActionKind::UpdateAudience {
                add_members,
                remove_members,
                add_exclusions,
                remove_exclusions,
            } => {
                let mut changed: Vec<u32> = Vec::new();
                let mut seen = DeviceSet::with_len(self.n);
                let mut note = |dev: u32| {
                    if seen.insert(dev) {
                        changed.push(dev);
                    }
                };
                for list in [
                    add_members,
                    remove_members,
                    add_exclusions,
                    remove_exclusions,
                ] {
                    for m in list {
                        self.for_each(m, &mut note);
                    }
                }
                let before: Vec<(u32, bool)> = {
                    let run = &self.deps[d as usize];
                    changed
                        .iter()
                        .map(|&dev| (dev, run.in_audience(dev)))
                        .collect()
                };
                self.update_entries(d, add_members, remove_members, false);
                self.update_entries(d, add_exclusions, remove_exclusions, true);
                let joined: Vec<u32> = {
                    let run = &self.deps[d as usize];
                    before
                        .iter()
                        .filter(|&&(dev, was_in)| {
                            !was_in && run.in_audience(dev) && !run.offered.contains(dev)
                        })
                        .map(|&(dev, _)| dev)
                        .collect()
                };
                let run = &self.deps[d as usize];
                let (mut added, mut left, mut again) = (0, 0, 0);
                for &(dev, was_in) in &before {
                    let now_in = run.in_audience(dev);
                    added += usize::from(!was_in && now_in);
                    left += usize::from(was_in && !now_in);
                    if was_in != now_in {
                        // A device offered before it left has that offer again (it is not
                        // offered, nor counted, twice), but it may have scanned while outside
                        // the audience and gone idle: woken, its next scan sees the offer. A
                        // held device is woken by its hold's release instead.
                        let wake = now_in
                            && run.offered.contains(dev)
                            && run.offers_valid()
                            && !self.held(d as usize, dev);
                        again += usize::from(wake);
                        out.touched.push(Touch {
                            wake,
                            ..Touch::new(d, dev)
                        });
                    }
                }
                out.log
                    .push(LogLine::update_audience(d, added, again, left));
                if self.deps[d as usize].started {
                    // A device that left before its wave and rejoins is still queued (or held
                    // back): queued twice, it would count twice towards a wave's size.
                    let run = &self.deps[d as usize];
                    let joined = if joined.is_empty() {
                        joined
                    } else {
                        let waiting: HashSet<u32> =
                            run.queue.iter().chain(&run.held_back).copied().collect();
                        joined
                            .into_iter()
                            .filter(|dev| !waiting.contains(dev))
                            .collect()
                    };
                    self.enqueue(d, joined);
                    self.offer_step(d, t, out);
                }
                return;
            }
            ActionKind::Settings { settings, rules } => {
                let (settings, rules) = ((**settings).clone(), *rules);
                self.patch_settings(d, settings, rules, t, what, out);
                return;
            }
            ActionKind::Patch {
                requested,
                settings,
                rules,
            } => {
                let (settings, rules) = ((**settings).clone(), *rules);
                // The request first, so that the settings' own state logging sees both.
                let run = &mut self.deps[d as usize];
                match requested {
                    Requested::Paused => run.requested_pause = true,
                    Requested::None => run.requested_pause = false,
                    Requested::Archived => {
                        run.archived = true;
                        run.queue.clear();
                    }
                }
                self.patch_settings(d, settings, rules, t, what, out);
                return;
            }
        }
        out.log.push(LogLine::action(d, what.to_string()));
    }

    /// Applies a settings PATCH (`settings`: the deployment's settings from now on), logged as
    /// action `what`.
    fn patch_settings(
        &mut self,
        d: u16,
        settings: Settings,
        rules: bool,
        t: Time,
        what: &str,
        out: &mut Outbox,
    ) {
        let likely = self.likely_standing(d, settings.likely_issues_disabled);
        let likely_before = self.likely_in_force(d as usize).is_some();
        let run = &mut self.deps[d as usize];
        let old_start = run.settings.start;
        run.settings = settings;
        if !run.started && run.settings.start != old_start {
            let at = run.settings.start.max(t);
            run.settings.start = at;
            out.schedule.push((at, ServiceEvent::Start(d)));
        }
        let started = run.started;
        out.log.push(LogLine::action(d, what.to_string()));
        if rules {
            self.rules_changed(d, t, out);
        }
        self.log_state(d, out, String::new());
        if started {
            // A new rollout takes effect from its next wave.
            let run = &mut self.deps[d as usize];
            run.wave_gen += 1;
            run.wave_pending = false;
            self.offer_step(d, t, out);
        }
        // Opting out of likely-issue holds releases the devices only they held, as a
        // hold release does; opting in again holds them from now on.
        match (likely_before, self.likely_in_force(d as usize)) {
            (true, None) => out.log.push(LogLine::hold_released(
                d,
                "likely-issue safeguard holds released: the deployment opts out".into(),
            )),
            (false, Some(n)) => Self::log_likely_placed(d, n, out),
            _ => {}
        }
        self.touch_changed(likely, t, out);
    }

    /// Whether installed content `installed` satisfies content `c`.
    pub fn satisfies(&self, installed: u16, c: u16) -> bool {
        if installed == NONE {
            return false;
        }
        let (a, b) = (
            &self.contents[installed as usize],
            &self.contents[c as usize],
        );
        a.category == b.category && a.level >= b.level
    }

    /// Whether device state `st` already runs content `c` (or newer).
    pub fn device_has(&self, st: &DeviceState, c: u16) -> bool {
        match self.contents[c as usize].category {
            Category::Quality => self.satisfies(st.quality, c),
            Category::Feature => self.satisfies(st.feature, c),
        }
    }

    /// Whether device `dev` currently holds a valid offer of deployment `i`.
    pub fn has_offer(&self, i: usize, dev: u32) -> bool {
        let run = &self.deps[i];
        run.offers_valid() && !run.paused() && run.offered.contains(dev) && run.in_audience(dev)
    }

    /// The content deployment `i` delivers to a device under `policy` that scans at `t`: its
    /// own, or with `latestSecurity` on an expedited security update the newest security update
    /// released by then that the policy does not defer or pause.
    pub fn delivered(&self, i: usize, t: Time, policy: &Policy) -> u16 {
        let d = &self.defs[i];
        if self.deps[i].settings.expedited
            && d.latest_security
            && self.contents[d.content as usize].security
        {
            self.latest_security(d.content, t, policy)
        } else {
            d.content
        }
    }

    /// The newest security quality update at or above `c` that a device under `policy` may take
    /// at `t` (`latestSecurity`): `c` itself, which the expedite makes exempt from the policy's
    /// deferral and pause, or a newer one released by `t` and no longer deferred or paused.
    /// "Expedite overrides the quality deferral only for the chosen release"; "a newer
    /// superseding update that isn't deferred may install instead" (`reference/client-timing.md`
    /// §2).
    fn latest_security(&self, c: u16, t: Time, policy: &Policy) -> u16 {
        let base = &self.contents[c as usize];
        let deferral = policy.deferral(Category::Quality) as i64;
        let paused_until = policy.paused_until(Category::Quality) as i64;
        let mut best = c;
        for (i, x) in self.contents.iter().enumerate() {
            if x.category == Category::Quality
                && x.security
                && (x.release + deferral).max(paused_until) <= t as i64
                && x.level > self.contents[best as usize].level
                && x.level >= base.level
            {
                best = index16(i);
            }
        }
        best
    }

    /// Keeps when each device is offered, for policies whose quality deadline counts from the
    /// offer ([`crate::client::DeadlineClock::Offer`]). Called before the run starts.
    pub fn keep_offer_times(&mut self) {
        for run in &mut self.deps {
            run.offered_at = vec![0; self.n];
        }
    }

    /// When quality `content`, delivered by deployment `dep`, became available to `dev` under
    /// `policy`: the deployment's offer of the device, the content's release and the end of the
    /// policy's deferral and pause, whichever came last (`reference/client-timing.md` §3, older
    /// clients: the quality deadline counts from the offer). Only for devices `dep` offered.
    fn offer_time(&self, dep: usize, dev: u32, content: u16, policy: &Policy) -> Time {
        let c = &self.contents[content as usize];
        let offered = self.deps[dep]
            .offered_at
            .get(dev as usize)
            .map_or(0, |&at| u64::from(at));
        let eligible = (c.release + policy.deferral(c.category) as i64)
            .max(policy.paused_until(c.category) as i64)
            .max(0) as Time;
        offered.max(eligible)
    }

    /// What a scan by device `dev` (state `st`, policy `policy`) at `t` finds. Readiness tests
    /// offered to the device are answered (the device becomes ready) as a side effect.
    pub fn scan(&mut self, dev: u32, st: &DeviceState, policy: &Policy, t: Time) -> ScanAnswer {
        let mut best: Option<(Offer, (bool, bool, bool, i64))> = None;
        let mut later: Option<Time> = None;
        for i in 0..self.defs.len() {
            if !self.has_offer(i, dev) {
                continue;
            }
            if self.held(i, dev) || self.deps[i].ineligible.contains(dev) {
                continue;
            }
            let d = &self.defs[i];
            if self.ineligible_for(dev, d.content) {
                self.mark_ineligible(i, dev, t);
                continue;
            }
            let d = &self.defs[i];
            let s = &self.deps[i].settings;
            if s.readiness {
                self.deps[i].ready.insert(dev);
                continue;
            }
            // A device that rolled back takes the same content again from its retry instant
            // (`retry_after_rollback`: Windows Update retries, client-timing.md §5); until then
            // it is as if deferred, so a device with nothing else to do sleeps until then
            // rather than scanning for nothing. Devices that never rolled back pay one test.
            if st.rolled_back() && st.failed == d.content {
                match st.retry_at() {
                    Some(at) if at <= t => {}
                    Some(at) => {
                        later = Some(later.map_or(at, |l| l.min(at)));
                        continue;
                    }
                    None => continue,
                }
            }
            if self.device_has(st, d.content) {
                continue;
            }
            let c = &self.contents[d.content as usize];
            // An expedite ignores the policy's deferral and pause, not the release: an update
            // is installed once it exists (a deployment made expedited by a PATCH before the
            // release; the scenario starts an expedite at its release).
            let eligible = match s.expedited {
                true => c.release,
                false => (c.release + policy.deferral(c.category) as i64)
                    .max(policy.paused_until(c.category) as i64),
            };
            if eligible > t as i64 {
                let at = eligible as Time;
                later = Some(later.map_or(at, |l| l.min(at)));
                continue;
            }
            let content = self.delivered(i, t, policy);
            // Required before optional (an optional offer waits for the user, and must not hold
            // up what the device has to install), quality before feature, expedited first,
            // newest content.
            let level = self.contents[content as usize].level;
            let rank = (
                !s.optional,
                c.category == Category::Quality,
                s.expedited,
                level,
            );
            if best.as_ref().is_none_or(|(_, r)| rank > *r) {
                let offer = Offer {
                    content,
                    deployment: index16(i),
                    category: c.category,
                    expedited: s.expedited,
                    forced_reboot_after: s.forced_reboot_after,
                    optional: s.optional,
                    // Hotpatches exist for security quality updates only (deployment-service.md
                    // §2): on other content the setting has no effect (a load warning says so).
                    hotpatch: s.hotpatch && c.category == Category::Quality && c.security,
                    // Under the offer clock, set below for the offer taken.
                    deadline_from: t,
                };
                best = Some((offer, rank));
            }
        }
        if let Some((o, _)) = &mut best {
            // Only a regular quality update's deadline can count from the offer: an expedite's
            // terms and an optional update's clock start at the scan that takes them up.
            let s = &self.deps[o.deployment as usize].settings;
            if o.category == Category::Quality
                && !s.expedited
                && !s.optional
                && policy.quality_deadline_from_offer()
            {
                o.deadline_from = self
                    .offer_time(o.deployment as usize, dev, o.content, policy)
                    .min(t);
            }
        }
        match (best, later) {
            (Some((o, _)), later) => ScanAnswer::Install(o, later),
            (None, Some(t)) => ScanAnswer::NotBefore(t),
            (None, None) => ScanAnswer::Nothing,
        }
    }
}

/// The devices of a group, sorted.
/// A circle of `excluding` references through group `gi` (the groups in order, `gi` first and
/// last), if there is one.
pub fn exclusion_circle(groups: &[GroupDef], gi: usize) -> Option<Vec<usize>> {
    // Depth first; a group explored once without finding `start` is not explored again, so
    // many rings excluding all the earlier ones cost a visit each, not one per path.
    fn walk(
        groups: &[GroupDef],
        start: usize,
        at: usize,
        path: &mut Vec<usize>,
        seen: &mut [bool],
    ) -> bool {
        let Some(g) = groups.get(at) else {
            return false;
        };
        for &x in &g.excluding {
            let x = x as usize;
            if x == start {
                path.push(x);
                return true;
            }
            if x < seen.len() && !seen[x] {
                seen[x] = true;
                path.push(x);
                if walk(groups, start, x, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![gi];
    let mut seen = vec![false; groups.len()];
    walk(groups, gi, gi, &mut path, &mut seen).then_some(path)
}

/// Resolves every group, each after the groups it excludes (the scenario refuses circles; one
/// that got through would resolve with the excluded group empty rather than loop).
fn resolve_groups(
    groups: &[GroupDef],
    fleet: &Fleet,
    segments: &[(u32, u32)],
    key: RunKey,
) -> Vec<Vec<u32>> {
    fn resolve(
        gi: usize,
        groups: &[GroupDef],
        ctx: (&Fleet, &[(u32, u32)], RunKey),
        done: &mut Vec<Option<Vec<u32>>>,
        busy: &mut Vec<bool>,
    ) {
        if done[gi].is_some() || busy[gi] {
            return;
        }
        busy[gi] = true;
        for &x in &groups[gi].excluding {
            if (x as usize) < groups.len() {
                resolve(x as usize, groups, ctx, done, busy);
            }
        }
        let mut excluded: Vec<u32> = groups[gi]
            .excluding
            .iter()
            .filter_map(|&x| done.get(x as usize).and_then(Option::as_ref))
            .flatten()
            .copied()
            .collect();
        excluded.sort_unstable();
        done[gi] = Some(resolve_group(&groups[gi], ctx.0, ctx.1, ctx.2, &excluded));
    }
    let mut done = vec![None; groups.len()];
    let mut busy = vec![false; groups.len()];
    for gi in 0..groups.len() {
        resolve(gi, groups, (fleet, segments, key), &mut done, &mut busy);
    }
    done.into_iter().map(Option::unwrap_or_default).collect()
}

/// The devices of group `g` (whose name keys its random draw), leaving out `excluded` (sorted:
/// the devices of the groups it excludes) before the share is drawn.
fn resolve_group(
    g: &GroupDef,
    fleet: &Fleet,
    segments: &[(u32, u32)],
    key: RunKey,
    excluded: &[u32],
) -> Vec<u32> {
    let mut devs: Vec<u32> = Vec::new();
    let mut matching = 0usize;
    if g.filter.is_some() || !g.segments.is_empty() || g.devices.is_empty() {
        let matches = g.filter.as_ref().map(|f| f.matches(fleet));
        for (id, d) in fleet.devices().enumerate() {
            let in_seg = g.segments.is_empty() || g.segments.contains(&d.segment);
            let in_filter = matches.as_ref().is_none_or(|m| m[id]);
            if in_seg && in_filter {
                matching += 1;
                if excluded.binary_search(&(id as u32)).is_err() {
                    devs.push(id as u32);
                }
            }
        }
    }
    // The share (or count) samples the matching devices only: devices named explicitly are in
    // the group whatever the draw. A share is of all the matching devices, excluded ones too, so
    // that rings read as shares of the fleet (First 1 %, Fast 9 %, Broad 90 %), drawn from those
    // left; the last ring of shares adding up to more takes what is left, as does a count larger
    // than what is left.
    let keep = match (g.share, g.count) {
        (Some(share), _) => Some((share * matching as f64).round() as usize),
        (None, Some(n)) => Some(n as usize),
        (None, None) => None,
    };
    if let Some(keep) = keep {
        let keep = keep.min(devs.len());
        let mut rng = key.rng_named(Stream::Group, &g.name);
        for i in (1..devs.len()).rev() {
            let j = rand::RngExt::random_range(&mut rng, 0..=i);
            devs.swap(i, j);
        }
        devs.truncate(keep);
    }
    for &(s, i) in &g.devices {
        if let Some(&(first, len)) = segments.get(s as usize)
            && i < len
        {
            devs.push(first + i);
        }
    }
    devs.sort_unstable();
    devs.dedup();
    devs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Profile, SegmentSpec};

    static SP: std::sync::LazyLock<SafetyParams> = std::sync::LazyLock::new(SafetyParams::default);

    #[test]
    fn a_device_set_allocates_on_its_first_insert_and_answers_the_same_before_and_after() {
        let mut s = DeviceSet::with_len(130);
        assert!(s.bits.is_empty());
        assert!(!s.contains(5) && !s.remove(5));
        s.prefetch(5);
        assert!(
            s.bits.is_empty(),
            "looking up or prefetching allocates nothing"
        );
        assert!(!s.insert(192), "a device beyond the set's words is refused");
        assert!(s.bits.is_empty());
        assert!(s.insert(129) && !s.insert(129));
        assert_eq!(s.bits.len(), 3);
        assert!(s.contains(129) && !s.contains(128) && !s.contains(5));
        assert!(s.remove(129) && !s.contains(129));
        for d in [0, 63, 64, 127] {
            s.insert(d);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 63, 64, 127]);
    }

    #[test]
    fn a_touch_stays_within_8_bytes() {
        // An expedite to ten million devices queues ten million touches in one service event.
        assert!(std::mem::size_of::<Touch>() <= 8);
    }

    fn contents() -> Vec<Content> {
        let q = |name: &str, level, release| Content {
            name: name.into(),
            category: Category::Quality,
            level,
            release,
            security: true,
        };
        vec![q("jan", 1, 0), q("feb", 2, 100)]
    }

    fn dep(content: u16, settings: Settings) -> DeploymentDef {
        DeploymentDef {
            name: format!("d{content}"),
            content,
            settings,
            audience: Audience {
                members: vec![Member::All],
                exclusions: vec![],
            },
            ordering: Ordering::Fleet,
            latest_security: true,
            requested: Requested::None,
            deployable_until: None,
        }
    }

    fn fleet(n: u32) -> Fleet {
        Fleet::generate(
            &[SegmentSpec {
                name: "s".into(),
                devices: n,
                policy: 0,
                utc_offset: 0,
                time_zone: None,
                profile: Profile::AlwaysOn,
                off: Vec::new(),
                attended: false,
                attributes: vec![],
            }],
            &RunKey::new(1, 0),
        )
    }

    fn st() -> DeviceState {
        let k = RunKey::new(1, 0);
        DeviceState::new(&k.rng(Stream::Scan, 0), &k.rng(Stream::Pipeline, 0))
    }

    fn run_all(s: &mut Service<'_>, until: Time) -> Vec<(Time, Outbox)> {
        let mut q: Vec<(Time, ServiceEvent)> = s.initial().schedule;
        let mut outs = Vec::new();
        while let Some(i) = (0..q.len()).min_by_key(|&i| q[i].0) {
            let (t, ev) = q.remove(i);
            if t > until {
                break;
            }
            let mut out = Outbox::default();
            s.handle(ev, t, &mut out);
            q.extend(out.schedule.iter().copied());
            outs.push((t, out));
        }
        outs
    }

    #[test]
    fn a_newer_quality_update_satisfies_an_older_one() {
        let c = contents();
        let d = vec![dep(0, Settings::default())];
        let f = fleet(1);
        let s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        assert!(s.satisfies(1, 0));
        assert!(!s.satisfies(0, 1));
        assert!(!s.satisfies(NONE, 0));
    }

    #[test]
    fn only_offered_devices_find_content_and_newest_wins() {
        let c = contents();
        let d = vec![dep(0, Settings::default()), dep(1, Settings::default())];
        let f = fleet(2);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        let pol = Policy::default_named("p");
        assert_eq!(s.scan(0, &st(), &pol, 500), ScanAnswer::Nothing);
        run_all(&mut s, 0);
        match s.scan(0, &st(), &pol, 500) {
            ScanAnswer::Install(o, _) => assert_eq!(o.content, 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_expedited_security_update_delivers_the_newest_released_one() {
        let c = contents();
        let d = vec![dep(
            0,
            Settings {
                expedited: true,
                ..Settings::default()
            },
        )];
        let f = fleet(1);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        let pol = Policy::default_named("p");
        run_all(&mut s, 0);
        let got = |s: &mut Service<'_>, t| match s.scan(0, &st(), &pol, t) {
            ScanAnswer::Install(o, _) => o.content,
            other => panic!("{other:?}"),
        };
        assert_eq!(got(&mut s, 50), 0, "feb not released yet");
        assert_eq!(got(&mut s, 150), 1, "feb released at 100");
    }

    #[test]
    fn an_expedited_update_is_not_installed_before_its_release() {
        let c = contents();
        let d = vec![dep(
            1,
            Settings {
                expedited: true,
                ..Settings::default()
            },
        )];
        let f = fleet(1);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        let mut pol = Policy::default_named("p");
        // The policy's deferral does not hold an expedite back; the release does.
        pol.quality_deferral = 1000;
        run_all(&mut s, 0);
        assert_eq!(s.scan(0, &st(), &pol, 50), ScanAnswer::NotBefore(100));
        match s.scan(0, &st(), &pol, 100) {
            ScanAnswer::Install(o, _) => assert_eq!(o.content, 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_rolled_back_device_is_offered_its_content_again_from_its_retry_instant_only() {
        let c = contents();
        let d = vec![dep(0, Settings::default())];
        let f = fleet(1);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        let pol = Policy::default_named("p");
        run_all(&mut s, 0);
        let mut rolled = st();
        rolled.failed = 0;
        rolled.rollbacks = crate::client::ROLLED_BACK | 1;
        rolled.pending_since = 40;
        // Blocked until 40: as if deferred, so the device sleeps until then.
        assert_eq!(s.scan(0, &rolled, &pol, 20), ScanAnswer::NotBefore(40));
        match s.scan(0, &rolled, &pol, 40) {
            ScanAnswer::Install(o, _) => assert_eq!(o.content, 0),
            other => panic!("{other:?}"),
        }
        // `retry_after_rollback = "never"`: nothing, ever, and no timer.
        rolled.pending_since = crate::client::UNSET;
        assert_eq!(s.scan(0, &rolled, &pol, 1000), ScanAnswer::Nothing);
    }

    #[test]
    fn deferral_postpones_the_offer_until_release_plus_deferral() {
        let c = contents();
        let d = vec![dep(1, Settings::default())];
        let f = fleet(1);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        let mut pol = Policy::default_named("p");
        pol.quality_deferral = 1000;
        run_all(&mut s, 0);
        assert_eq!(s.scan(0, &st(), &pol, 10), ScanAnswer::NotBefore(1100));
    }

    #[test]
    fn rate_driven_waves_offer_k_devices_per_interval() {
        let c = contents();
        let d = vec![dep(
            0,
            Settings {
                rollout: Some(Rollout::Rate {
                    per_offer: 3,
                    interval: 10,
                }),
                ..Settings::default()
            },
        )];
        let f = fleet(10);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        let outs = run_all(&mut s, 1000);
        let offers: Vec<(Time, usize)> = outs
            .iter()
            .map(|(t, o)| (*t, o.touched.iter().filter(|x| x.offered_now).count()))
            .filter(|&(_, n)| n > 0)
            .collect();
        assert_eq!(offers, vec![(0, 3), (10, 3), (20, 3), (30, 1)]);
    }

    #[test]
    fn a_paused_deployment_makes_no_new_offers_until_resumed() {
        let c = contents();
        let d = vec![dep(
            0,
            Settings {
                rollout: Some(Rollout::Rate {
                    per_offer: 1,
                    interval: 10,
                }),
                ..Settings::default()
            },
        )];
        let actions = vec![
            Action {
                at: 5,
                deployment: 0,
                kind: ActionKind::Pause,
            },
            Action {
                at: 42,
                deployment: 0,
                kind: ActionKind::Resume,
            },
        ];
        let f = fleet(3);
        let mut s = Service::new(&c, &d, &[], &actions, &[], &SP, &f, RunKey::new(1, 0));
        let outs = run_all(&mut s, 1000);
        let offers: Vec<Time> = outs
            .iter()
            .filter(|(_, o)| o.touched.iter().any(|x| x.offered_now))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(offers, vec![0, 50, 60]);
        let states: Vec<&str> = outs
            .iter()
            .flat_map(|(_, o)| {
                o.log
                    .iter()
                    .filter(|l| l.event == "state_change")
                    .map(|l| l.state)
            })
            .collect();
        assert_eq!(states, vec!["offering", "paused", "offering"]);
    }

    #[test]
    fn a_deployment_created_paused_offers_nothing_until_resumed() {
        let c = contents();
        let mut def = dep(0, Settings::default());
        def.requested = Requested::Paused;
        let actions = vec![Action {
            at: 30,
            deployment: 0,
            kind: ActionKind::Resume,
        }];
        let f = fleet(3);
        let d = vec![def];
        let mut s = Service::new(&c, &d, &[], &actions, &[], &SP, &f, RunKey::new(1, 0));
        let first = s.initial();
        let outs = run_all(&mut s, 1000);
        let offers: Vec<Time> = outs
            .iter()
            .filter(|(_, o)| o.touched.iter().any(|x| x.offered_now))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(offers, vec![30]);
        let states: Vec<(&str, &str)> = std::iter::once(&first)
            .chain(outs.iter().map(|(_, o)| o))
            .flat_map(|o| {
                o.log
                    .iter()
                    .filter(|l| l.event == "state_change")
                    .map(|l| (l.state, l.reason.as_str()))
            })
            .collect();
        assert_eq!(
            states,
            vec![
                ("paused", "pausedByRequest"),
                ("offering", "offeringByRequest")
            ]
        );
    }

    #[test]
    fn excluded_devices_are_never_offered() {
        let c = contents();
        let mut def = dep(0, Settings::default());
        def.audience.exclusions = vec![Member::Device {
            segment: 0,
            index: 1,
        }];
        let d = vec![def];
        let f = fleet(3);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        run_all(&mut s, 10);
        assert!(s.has_offer(0, 0) && !s.has_offer(0, 1) && s.has_offer(0, 2));
    }

    #[test]
    fn a_safeguard_hold_holds_its_matching_devices_from_placing_to_release_only() {
        let mut c = contents();
        c.push(Content {
            name: "fu".into(),
            category: Category::Feature,
            level: 1,
            release: 0,
            security: false,
        });
        let d = vec![dep(0, Settings::default()), dep(2, Settings::default())];
        let issues = vec![IssueDef {
            name: "gfx".into(),
            content: 2,
            filter: Filter::In("segment".into(), vec!["s".into()]),
            install_failure: 0.0,
            rollback: 0.0,
            incident: 0.0,
            ineligible: false,
            known: Some(Known::At(100)),
            release: Some(Release::After(50)),
            predictable: true,
        }];
        let f = fleet(4);
        // Likely-issue flags are a random share of the matching devices: recall 0 flags none,
        // so only the known hold can hold a device here.
        let sp = SafetyParams {
            likely_recall: 0.0,
            ..SafetyParams::default()
        };
        let mut s = Service::new(&c, &d, &[], &[], &issues, &sp, &f, RunKey::new(1, 0));
        let held = |s: &Service<'_>| -> Vec<(bool, bool)> {
            (0..4).map(|dev| (s.held(0, dev), s.held(1, dev))).collect()
        };
        assert_eq!(held(&s), vec![(false, false); 4], "before the hold");
        let mut out = Outbox::default();
        s.handle(ServiceEvent::HoldPlaced(0), 100, &mut out);
        assert_eq!(
            held(&s),
            vec![(false, true); 4],
            "the feature deployment's devices are held, the quality one's never"
        );
        let mut out = Outbox::default();
        s.handle(ServiceEvent::HoldReleased(0), 150, &mut out);
        assert_eq!(held(&s), vec![(false, false); 4], "after the release");
    }

    #[test]
    fn a_failure_or_rollback_after_an_issues_hold_is_released_is_not_the_issues() {
        let mut c = contents();
        c.push(Content {
            name: "fu".into(),
            category: Category::Feature,
            level: 1,
            release: 0,
            security: false,
        });
        let d = vec![dep(2, Settings::default())];
        let issues = vec![IssueDef {
            name: "gfx".into(),
            content: 2,
            filter: Filter::In("segment".into(), vec!["s".into()]),
            install_failure: 0.5,
            rollback: 0.5,
            incident: 0.5,
            ineligible: false,
            known: Some(Known::At(100)),
            release: Some(Release::After(50)),
            predictable: true,
        }];
        let f = fleet(4);
        let mut s = Service::new(&c, &d, &[], &[], &issues, &SP, &f, RunKey::new(1, 0));
        // Before the release the issue is the cause of device 0's failure and rollback.
        s.install_failed(0, 0, 2, 10);
        s.restarted(0, 0, 2, 20, true, false);
        let mut out = Outbox::default();
        s.handle(ServiceEvent::HoldPlaced(0), 100, &mut out);
        s.handle(ServiceEvent::HoldReleased(0), 150, &mut out);
        assert_eq!(s.effects(1, 2), safety::Effects::default(), "the fix is in");
        // After it the same events of device 1 are background ones, as its effects drew none;
        // device 0, hit before, rolls back again in the background.
        s.install_failed(0, 1, 2, 200);
        s.restarted(0, 1, 2, 210, true, false);
        s.restarted(0, 0, 2, 220, true, false);
        let stats = &s.issue_stats[0];
        assert_eq!(
            (stats.hit, stats.failed, stats.rolled_back),
            (1, 1, 1),
            "device 0's first failure and rollback only"
        );
        assert_eq!(s.deps[0].issue_hits, 1);
        let reports: Vec<(u32, Report)> = s
            .pending
            .iter()
            .filter_map(|(_, e)| match e {
                ServiceEvent::Report(_, dev, what) => Some((*dev, *what)),
                _ => None,
            })
            .collect();
        assert_eq!(
            reports,
            vec![
                (0, Report::Hit),
                (0, Report::IssueRollback),
                (1, Report::Rollback),
                (0, Report::Rollback)
            ]
        );
        for (t, ev) in std::mem::take(&mut s.pending) {
            s.handle(ev, t, &mut out);
        }
        // The issue received the reports of its two hits; the rules saw both devices roll back,
        // whatever the cause.
        assert_eq!(s.issue_stats[0].reported, 2);
        assert_eq!(s.deps[0].reported[0], 2);
    }

    fn one_action(at: Time, kind: ActionKind) -> Vec<Action> {
        vec![Action {
            at,
            deployment: 0,
            kind,
        }]
    }

    fn offered(s: &Service<'_>, n: u32) -> Vec<u32> {
        (0..n).filter(|&dev| s.has_offer(0, dev)).collect()
    }

    #[test]
    fn removing_a_member_group_keeps_its_devices_that_are_members_in_their_own_right() {
        let c = contents();
        let mut def = dep(0, Settings::default());
        def.settings.start = 100;
        def.audience.members = vec![
            Member::Group(0),
            Member::Device {
                segment: 0,
                index: 3,
            },
        ];
        let d = vec![def];
        let groups = vec![GroupDef::default()];
        let actions = one_action(
            50,
            ActionKind::UpdateAudience {
                add_members: vec![],
                remove_members: vec![Member::Group(0)],
                add_exclusions: vec![],
                remove_exclusions: vec![],
            },
        );
        let f = fleet(5);
        let mut s = Service::new(&c, &d, &groups, &actions, &[], &SP, &f, RunKey::new(1, 0));
        let outs = run_all(&mut s, 200);
        assert_eq!(offered(&s, 5), vec![3]);
        let detail = outs
            .iter()
            .flat_map(|(_, o)| &o.log)
            .find(|l| l.event == "action");
        assert_eq!(
            detail.map(|l| l.detail.as_str()),
            Some("update_audience: 0 devices joined, 4 left")
        );
    }

    #[test]
    fn a_device_rejoining_after_its_offer_is_woken_not_offered_again() {
        let c = contents();
        let d = vec![dep(0, Settings::default())];
        let everyone = || vec![Member::All];
        let update = |at, add: Vec<Member>, remove: Vec<Member>| Action {
            at,
            deployment: 0,
            kind: ActionKind::UpdateAudience {
                add_members: add,
                remove_members: remove,
                add_exclusions: vec![],
                remove_exclusions: vec![],
            },
        };
        let actions = vec![
            update(10, vec![], everyone()),
            update(20, everyone(), vec![]),
        ];
        let f = fleet(4);
        let mut s = Service::new(&c, &d, &[], &actions, &[], &SP, &f, RunKey::new(1, 0));
        let outs = run_all(&mut s, 100);
        let rejoin = outs.iter().find(|(t, _)| *t == 20).map(|(_, o)| o);
        let touched = rejoin.map(|o| o.touched.clone()).unwrap_or_default();
        assert_eq!(touched.len(), 4);
        assert!(
            touched.iter().all(|x| x.wake && !x.offered_now),
            "{touched:?}"
        );
        assert_eq!(offered(&s, 4), vec![0, 1, 2, 3]);
        assert_eq!(s.deps[0].offered_count, 4);
        assert_eq!(
            rejoin
                .and_then(|o| o.log.iter().find(|l| l.event == "action"))
                .map(|l| l.detail.as_str()),
            Some(
                "update_audience: 4 devices joined (4 of them offered before: offered again), 0 left"
            )
        );
    }

    #[test]
    fn a_device_rejoining_before_its_wave_is_queued_once() {
        let c = contents();
        let mut def = dep(0, Settings::default());
        def.settings.rollout = Some(Rollout::Rate {
            per_offer: 1,
            interval: 100,
        });
        let d = vec![def];
        let one = || {
            vec![Member::Device {
                segment: 0,
                index: 3,
            }]
        };
        let update = |at, add: Vec<Member>, remove: Vec<Member>| Action {
            at,
            deployment: 0,
            kind: ActionKind::UpdateAudience {
                add_members: vec![],
                remove_members: vec![],
                add_exclusions: add,
                remove_exclusions: remove,
            },
        };
        let actions = vec![update(10, one(), vec![]), update(20, vec![], one())];
        let f = fleet(4);
        let mut s = Service::new(&c, &d, &[], &actions, &[], &SP, &f, RunKey::new(1, 0));
        run_all(&mut s, 50);
        let queued: Vec<u32> = s.deps[0].queue.iter().copied().collect();
        assert_eq!(
            queued.iter().filter(|&&dev| dev == 3).count(),
            1,
            "{queued:?}"
        );
    }

    /// The waves of a five-device deployment whose devices 1–4 leave at 5 (excluded one by
    /// one) and whose device 3 rejoins at 50: (instant, devices offered) of each wave.
    fn waves_when_the_queue_leaves(rollout: Rollout) -> (Vec<(Time, u64)>, Vec<u32>) {
        let c = contents();
        let mut def = dep(0, Settings::default());
        def.settings.rollout = Some(rollout);
        let d = vec![def];
        let dev = |index| Member::Device { segment: 0, index };
        let exclude = |at, add: Vec<Member>, remove: Vec<Member>| Action {
            at,
            deployment: 0,
            kind: ActionKind::UpdateAudience {
                add_members: vec![],
                remove_members: vec![],
                add_exclusions: add,
                remove_exclusions: remove,
            },
        };
        let actions = vec![
            exclude(5, (1..5).map(dev).collect(), vec![]),
            exclude(50, vec![], vec![dev(3)]),
        ];
        let f = fleet(5);
        let mut s = Service::new(&c, &d, &[], &actions, &[], &SP, &f, RunKey::new(1, 0));
        let outs = run_all(&mut s, 1000);
        let waves = outs
            .iter()
            .flat_map(|(t, o)| o.log.iter().map(move |l| (*t, l)))
            .filter(|(_, l)| l.event == "wave")
            .map(|(t, l)| (t, l.numbers.devices.unwrap_or(0)))
            .collect();
        (waves, offered(&s, 5))
    }

    #[test]
    fn a_rate_driven_rollout_whose_queued_devices_all_left_stops_its_waves_until_one_rejoins() {
        let (waves, offered) = waves_when_the_queue_leaves(Rollout::Rate {
            per_offer: 1,
            interval: 10,
        });
        // The wave due at 10 finds its devices gone (a wave of 0, as scheduled before they
        // left); none follow until device 3 rejoins at 50, on a wave tick.
        assert_eq!(waves, vec![(0, 1), (10, 0), (50, 1)]);
        assert_eq!(offered, vec![0, 3]);
    }

    #[test]
    fn a_date_driven_rollout_whose_queued_devices_all_left_stops_its_waves_until_one_rejoins() {
        let (waves, offered) = waves_when_the_queue_leaves(Rollout::Date {
            end: 100,
            interval: 10,
            from_duration: false,
        });
        // Ten waves before the end: the first offers ceil(5 / 10) = 1.
        assert_eq!(waves, vec![(0, 1), (10, 0), (50, 1)]);
        assert_eq!(offered, vec![0, 3]);
    }

    #[test]
    fn a_wave_whose_devices_are_all_held_ends_the_waves_until_the_hold_is_released() {
        let mut c = contents();
        c.push(Content {
            name: "fu".into(),
            category: Category::Feature,
            level: 1,
            release: 0,
            security: false,
        });
        let mut def = dep(2, Settings::default());
        def.settings.rollout = Some(Rollout::Rate {
            per_offer: 1,
            interval: 10,
        });
        let d = vec![def];
        let issues = vec![IssueDef {
            name: "gfx".into(),
            content: 2,
            filter: Filter::In("segment".into(), vec!["s".into()]),
            install_failure: 0.0,
            rollback: 0.0,
            incident: 0.0,
            ineligible: false,
            known: Some(Known::At(5)),
            release: Some(Release::At(105)),
            predictable: true,
        }];
        let sp = SafetyParams {
            likely_recall: 0.0,
            ..SafetyParams::default()
        };
        let f = fleet(3);
        let mut s = Service::new(&c, &d, &[], &[], &issues, &sp, &f, RunKey::new(1, 0));
        let outs = run_all(&mut s, 1000);
        let waves: Vec<(Time, u64)> = outs
            .iter()
            .flat_map(|(t, o)| o.log.iter().map(move |l| (*t, l)))
            .filter(|(_, l)| l.event == "wave")
            .map(|(t, l)| (t, l.numbers.devices.unwrap_or(0)))
            .collect();
        // The wave at 10 sets both held devices aside; the release at 105 queues them again
        // and the waves resume at the next tick.
        assert_eq!(waves, vec![(0, 1), (10, 0), (110, 1), (120, 1)]);
        assert_eq!(offered(&s, 3), vec![0, 1, 2]);
    }

    #[test]
    fn removing_an_exclusion_group_keeps_its_devices_that_are_excluded_in_their_own_right() {
        let c = contents();
        let mut def = dep(0, Settings::default());
        def.settings.start = 100;
        def.audience.exclusions = vec![
            Member::Group(0),
            Member::Device {
                segment: 0,
                index: 1,
            },
        ];
        let d = vec![def];
        let groups = vec![GroupDef::default()];
        // Removing an entry the audience does not list changes nothing: device 2 is a member
        // through "all", not through an entry of its own.
        let actions = one_action(
            50,
            ActionKind::UpdateAudience {
                add_members: vec![],
                remove_members: vec![Member::Device {
                    segment: 0,
                    index: 2,
                }],
                add_exclusions: vec![],
                remove_exclusions: vec![Member::Group(0)],
            },
        );
        let f = fleet(4);
        let mut s = Service::new(&c, &d, &groups, &actions, &[], &SP, &f, RunKey::new(1, 0));
        run_all(&mut s, 200);
        assert_eq!(offered(&s, 4), vec![0, 2, 3]);
    }

    #[test]
    fn a_rule_that_never_fires_reports_the_highest_share_its_signal_reached_and_when() {
        let c = contents();
        let rule = MonitoringRule {
            signal: Signal::Rollback,
            threshold: 30,
            action: RuleAction::PauseDeployment,
        };
        let settings = Settings {
            monitoring: vec![rule],
            ..Settings::default()
        };
        let d = vec![dep(0, settings)];
        let f = fleet(10);
        let mut s = Service::new(&c, &d, &[], &[], &[], &SP, &f, RunKey::new(1, 0));
        run_all(&mut s, 0);
        let never = s.rules_not_fired();
        assert_eq!(never.len(), 1);
        assert_eq!(never[0].peak, None, "no report yet: never judged");
        // 10 offered: 1, 2, then 2 again (equal shares keep the first moment).
        for (t, dev) in [(10, 0), (20, 1)] {
            let mut out = Outbox::default();
            s.handle(ServiceEvent::Report(0, dev, Report::Rollback), t, &mut out);
        }
        let mut out = Outbox::default();
        s.handle(ServiceEvent::Report(0, 2, Report::Ineligible), 30, &mut out);
        let never = s.rules_not_fired();
        assert_eq!(
            never[0].peak,
            Some(RulePeak {
                at: 20,
                signals: 2,
                denominator: 10
            })
        );
        assert_eq!((never[0].signal, never[0].threshold), ("rollback", 30));
        let mut out = Outbox::default();
        s.handle(ServiceEvent::Report(0, 3, Report::Rollback), 40, &mut out);
        assert_eq!(s.firings.len(), 1, "3 of 10 reaches 30 %");
        assert!(
            s.rules_not_fired().is_empty(),
            "a rule that fired is not listed"
        );
    }

    #[test]
    fn a_settings_patch_that_leaves_the_rules_alone_keeps_a_monitoring_pause() {
        let c = contents();
        let rule = MonitoringRule {
            signal: Signal::Rollback,
            threshold: 10,
            action: RuleAction::PauseDeployment,
        };
        let settings = Settings {
            monitoring: vec![rule],
            ..Settings::default()
        };
        let d = vec![dep(0, settings.clone())];
        let actions = vec![
            Action {
                at: 20,
                deployment: 0,
                kind: ActionKind::Settings {
                    settings: Box::new(Settings {
                        optional: true,
                        ..settings.clone()
                    }),
                    rules: false,
                },
            },
            Action {
                at: 30,
                deployment: 0,
                kind: ActionKind::Settings {
                    settings: Box::new(Settings {
                        monitoring: vec![],
                        ..settings
                    }),
                    rules: true,
                },
            },
        ];
        let f = fleet(10);
        let mut s = Service::new(&c, &d, &[], &actions, &[], &SP, &f, RunKey::new(1, 0));
        run_all(&mut s, 0);
        let mut out = Outbox::default();
        s.handle(ServiceEvent::Report(0, 0, Report::Rollback), 10, &mut out);
        assert!(s.deps[0].monitoring_pause, "1 of 10 offered is 10 %");
        let mut out = Outbox::default();
        s.handle(ServiceEvent::Action(0), 20, &mut out);
        assert!(
            s.deps[0].monitoring_pause,
            "offerAsOptional says nothing of the rules"
        );
        assert_eq!(s.firings.len(), 1, "and the rule does not fire again");
        let mut out = Outbox::default();
        s.handle(ServiceEvent::Action(1), 30, &mut out);
        assert!(!s.deps[0].monitoring_pause, "monitoringRules: [] lifts it");
        assert_eq!(s.deps[0].state().0, "offering");
    }

    #[test]
    fn opting_out_of_likely_issue_holds_mid_run_offers_the_devices_they_held() {
        let mut c = contents();
        c.push(Content {
            name: "fu".into(),
            category: Category::Feature,
            level: 1,
            release: 0,
            security: false,
        });
        let d = vec![dep(2, Settings::default())];
        let issues = vec![IssueDef {
            name: "rb".into(),
            content: 2,
            filter: Filter::In("segment".into(), vec!["s".into()]),
            install_failure: 0.0,
            rollback: 0.1,
            incident: 0.0,
            ineligible: false,
            known: None,
            release: None,
            predictable: true,
        }];
        let sp = SafetyParams {
            likely_recall: 1.0,
            likely_precision: 1.0,
            ..SafetyParams::default()
        };
        let actions = one_action(
            50,
            ActionKind::Settings {
                settings: Box::new(Settings {
                    likely_issues_disabled: true,
                    ..Settings::default()
                }),
                rules: false,
            },
        );
        let f = fleet(4);
        let mut s = Service::new(&c, &d, &[], &actions, &issues, &sp, &f, RunKey::new(1, 0));
        run_all(&mut s, 0);
        assert!((0..4).all(|dev| s.held(0, dev)), "every device is flagged");
        assert_eq!(offered(&s, 4), Vec::<u32>::new());
        let mut out = Outbox::default();
        s.handle(ServiceEvent::Action(0), 50, &mut out);
        assert_eq!(offered(&s, 4), vec![0, 1, 2, 3]);
        let now: Vec<u32> = out
            .touched
            .iter()
            .filter(|x| x.offered_now)
            .map(|x| x.dev)
            .collect();
        assert_eq!(now.len(), 4, "each woken once to see its offer: {now:?}");
    }

    #[test]
    fn a_group_share_samples_the_matching_devices_and_keeps_its_explicit_ones() {
        let c = contents();
        let d = vec![dep(0, Settings::default())];
        let groups = vec![GroupDef {
            segments: vec![0],
            share: Some(0.1),
            devices: vec![(0, 3)],
            ..GroupDef::default()
        }];
        let f = fleet(100);
        for seed in 1..20 {
            let s = Service::new(&c, &d, &groups, &[], &[], &SP, &f, RunKey::new(seed, 0));
            let g = s.group(0);
            assert!(g.contains(&3), "seed {seed}: {g:?}");
            assert!(g.len() == 10 || g.len() == 11, "seed {seed}: {g:?}");
        }
    }

    #[test]
    fn a_random_group_draws_the_same_devices_whatever_other_groups_the_scenario_adds() {
        let c = contents();
        let d = vec![dep(0, Settings::default())];
        let group = |name: &str, share: f64| GroupDef {
            name: name.into(),
            share: Some(share),
            ..GroupDef::default()
        };
        let f = fleet(1000);
        let key = RunKey::new(7, 0);
        let alone = [group("it", 0.02)];
        let s = Service::new(&c, &d, &alone, &[], &[], &SP, &f, key);
        let it = s.group(0).to_vec();
        assert_eq!(it.len(), 20);
        // Groups are read in name order: "aaa" comes before "it", "zzz" after it.
        for other in ["aaa", "zzz"] {
            let mut groups = vec![group(other, 0.5), group("it", 0.02)];
            groups.sort_by(|a, b| a.name.cmp(&b.name));
            let s = Service::new(&c, &d, &groups, &[], &[], &SP, &f, key);
            let at = groups.iter().position(|g| g.name == "it").expect("it");
            assert_eq!(s.group(at), it.as_slice(), "with a group {other:?}");
        }
        // Another name is another draw.
        let renamed = [group("it-ring", 0.02)];
        let s = Service::new(&c, &d, &renamed, &[], &[], &SP, &f, key);
        assert_ne!(s.group(0), it.as_slice());
    }

    #[test]
    fn a_group_count_draws_that_many_matching_devices_or_all_that_are_left() {
        let c = contents();
        let d = vec![dep(0, Settings::default())];
        let f = fleet(1000);
        let groups = vec![
            GroupDef {
                name: "it".into(),
                count: Some(200),
                ..GroupDef::default()
            },
            GroupDef {
                name: "rest".into(),
                count: Some(5000),
                excluding: vec![0],
                ..GroupDef::default()
            },
        ];
        for seed in 1..5 {
            let s = Service::new(&c, &d, &groups, &[], &[], &SP, &f, RunKey::new(seed, 0));
            assert_eq!(s.group(0).len(), 200, "seed {seed}");
            assert_eq!(s.group(1).len(), 800, "seed {seed}: all that is left");
            assert!(s.group(1).iter().all(|x| !s.group(0).contains(x)));
        }
    }

    #[test]
    fn rings_drawn_with_excluding_are_disjoint_shares_of_the_fleet_and_the_last_takes_what_is_left()
    {
        let c = contents();
        let d = vec![dep(0, Settings::default())];
        let ring = |share: f64, excluding: Vec<u16>| GroupDef {
            share: Some(share),
            excluding,
            ..GroupDef::default()
        };
        // Listed out of order on purpose: each ring is drawn after those it excludes.
        let groups = vec![
            ring(0.9, vec![1, 2]),
            ring(0.01, vec![]),
            ring(0.09, vec![1]),
            ring(0.5, vec![0, 1]),
        ];
        let f = fleet(1000);
        for seed in 1..10 {
            let s = Service::new(&c, &d, &groups, &[], &[], &SP, &f, RunKey::new(seed, 0));
            let (broad, first, fast) = (s.group(0), s.group(1), s.group(2));
            assert_eq!((first.len(), fast.len(), broad.len()), (10, 90, 900));
            let mut all: Vec<u32> = [first, fast, broad].concat();
            all.sort_unstable();
            all.dedup();
            assert_eq!(
                all.len(),
                1000,
                "seed {seed}: the rings cover the fleet once"
            );
            assert!(s.group(3).iter().all(|d| fast.contains(d)));
            assert_eq!(
                s.group(3).len(),
                90,
                "500 asked, but only fast's 90 are left"
            );
        }
    }

    #[test]
    fn an_exclusion_circle_is_found_through_every_group_on_it() {
        let g = |excluding: Vec<u16>| GroupDef {
            excluding,
            ..GroupDef::default()
        };
        let groups = vec![g(vec![1]), g(vec![2]), g(vec![0]), g(vec![0])];
        assert_eq!(exclusion_circle(&groups, 0), Some(vec![0, 1, 2, 0]));
        assert_eq!(exclusion_circle(&groups, 2), Some(vec![2, 0, 1, 2]));
        assert_eq!(
            exclusion_circle(&groups, 3),
            None,
            "it points into the circle, not on it"
        );
        // Sixty rings, each excluding every earlier one: 2^59 paths, found free of circles at once.
        let rings: Vec<GroupDef> = (0..60u16).map(|i| g((0..i).collect())).collect();
        assert!((0..60).all(|i| exclusion_circle(&rings, i).is_none()));
    }
}
