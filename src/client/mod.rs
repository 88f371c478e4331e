//! The Windows Update client on each device: scan, download, install, restart.
//!
//! Facts and defaults come from `reference/client-timing.md`; each is a scenario parameter.
//!
//! - **Scan** (§1): every `scan_interval` (22 h) plus uniform(0, `scan_jitter`) (0–4 h), the first
//!   one at a uniform phase within the first interval. A scan needs the device online; one that
//!   falls due while offline runs at the next online instant, and the next is due one interval after
//!   the scan that actually ran. Approvals take effect at the device's next scan.
//! - **No idle events**: a device with nothing offered has no timer. When content becomes offerable
//!   at `t`, its scan schedule is replayed from its last real (or first virtual) scan to find the
//!   first scan at or after `t`: scans in between would have found nothing.
//! - **Pipeline** (§5): download, then install — durations drawn per attempt, progressing only
//!   while online — then *pending restart*. An install fails with probability `install_failure` and
//!   is retried at the next scan. After the restart (`restart_time`, the offline phase) the device
//!   runs the new build and scans again at once (§1 "extra scans after the install restart").
//! - **Deadlines** (§3, Windows 11 22H2+ clock): the deadline counts from the first scan that
//!   discovered the update, the grace period from restart-pending; the effective deadline is the
//!   later of the two. With a deadline set, download and install start as soon as offered.
//! - **No deadline** (§3, `AllowAutoUpdate` = 2): the download starts as soon as offered, the
//!   install waits for Automatic Maintenance: the first moment the device is online at or after
//!   the policy's `maintenance_time` (local, 02:00 by default; a device off then runs the missed
//!   maintenance when it is next on). Idle and AC power are not modelled, so maintenance never
//!   fails and the documented two-day fallback ("install immediately") never comes into play.
//!   An expedite, or the user's own choice of an optional update, installs at once.
//! - **Restart before the effective deadline**: automatic restart at the first online moment
//!   outside active hours, only of a device not in use (§3): an *unattended* one (the
//!   availability profile's `attended`, an **assumption** per profile: see
//!   [`crate::fleet::availability`]), and unless the policy turns auto-restart off; or the user's
//!   shutdown at the end of an online session completes the pending restart with probability
//!   `shutdown_completes_restart` (**assumption**: laptops often sleep instead); or — if
//!   configured — a user-initiated restart after a drawn delay when the device is online then.
//!   An attended device, in use whenever online, restarts only in the last two ways (or forced).
//! - **After the effective deadline**: a forced restart as soon as the device is online, even inside
//!   active hours.
//! - **Expedited** offers (§2) ignore deferral and deadline policy: the grace after install is
//!   `daysUntilForcedReboot`, after which the restart is forced. An expedite also reaches a
//!   device busy with a quality update (at the push if online, else at its next scan): work
//!   that satisfies it goes on under its terms, older work is superseded and its restart
//!   cancelled (§2), so the device restarts once ([`Client::expedite_busy`]).

pub mod dist;

use rand::RngExt;

use crate::fleet::Availability;
use crate::fleet::availability::Memo;
use crate::rng::{RunKey, Stream, StreamRng, stream_constant};
use crate::time::{DAY, HOUR, LocalClock, MINUTE, NEVER, Secs, Time};
pub use dist::{Dist, Sampler};

/// Content index meaning "none".
pub const NONE: u16 = u16::MAX;

/// Entry `i` of a scenario's segments, deployments, contents, groups, issues or actions as a run
/// numbers it. Loading and `sim::run` refuse more than `scenario::MAX_ITEMS` of a kind, so `i`
/// is below [`NONE`]; were it not, the answer is `NONE`, which names no entry, where a cast
/// wrapped to another entry's number and gave its devices that entry's settings.
#[inline]
pub fn index16(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(NONE)
}
/// The flag bit of [`DeviceState::rollbacks`]: `failed` rolled back (its other bits count).
pub const ROLLED_BACK: u8 = 1 << 7;

/// A `u32` time meaning "never / not set".
pub const UNSET: u32 = u32::MAX;

/// Update category; the client's timings and policy differ per category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Monthly cumulative (security) updates.
    Quality,
    /// Windows version upgrades.
    Feature,
}

/// Timings and background rates of one category's pipeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CategoryParams {
    /// Online time needed to download.
    pub download: Dist,
    /// Online time needed to install before the restart.
    pub install: Dist,
    /// Time the restart itself takes (the offline phase), after which the device is compliant.
    pub restart: Dist,
    /// Probability that a device reverts to its old build after the restart, with no known issue
    /// (**assumption**: 0.5 % for feature updates, 0 for quality updates).
    pub rollback: f64,
    /// How long after a rollback the device may take the same content again (it then takes it
    /// at its next scan at or after that instant, and never at the scan it makes as it comes
    /// back up from the rollback), or `None`: never within the run. Windows Update retries a
    /// failed deployment (`client-timing.md` §5, "Failed (may auto-retry)"): feature updates
    /// at the next scan (0, an **assumption**: no retry delay is published); quality updates
    /// after 30 days (§5: a quality update removed after a boot failure is blocked for 30 days,
    /// KB4492307).
    pub retry_after_rollback: Option<Secs>,
    /// How many times a device retries the same content after rolling it back, or `None`:
    /// without limit. Once the retries are spent, the rollback after the last one leaves the
    /// device rolled back for the rest of the run, as `retry_after_rollback = "never"` does.
    /// Nothing is published about a limit (`client-timing.md` §5 says only "Failed (may
    /// auto-retry)"), so the default keeps retrying, an **assumption**. At most
    /// [`MAX_RETRIES_AFTER_ROLLBACK`]: the count lives in 7 bits of [`DeviceState::rollbacks`].
    pub max_retries_after_rollback: Option<u8>,
}

/// The largest finite [`CategoryParams::max_retries_after_rollback`]: a device counts its
/// rollbacks of one content in 7 bits ([`DeviceState::rollbacks`]), and must be able to count
/// one past the limit.
pub const MAX_RETRIES_AFTER_ROLLBACK: u8 = 100;

/// Client behaviour shared by all devices of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientParams {
    /// Base interval between scans.
    pub scan_interval: Secs,
    /// Uniform(0, jitter) added to each interval.
    pub scan_jitter: Secs,
    /// Quality-update timings.
    pub quality: CategoryParams,
    /// Feature-update timings.
    pub feature: CategoryParams,
    /// Probability that one install attempt fails (retried at the next scan).
    pub install_failure: f64,
    /// Probability that a user's shutdown at the end of an online session completes a pending restart.
    pub shutdown_completes_restart: f64,
    /// Delay after restart-pending at which the user restarts on their own (if online then).
    pub user_restart: Option<Dist>,
    /// Delay from first seeing an optional offer (`offerAsOptional`) until the user chooses to
    /// install it.
    pub optional_uptake: Dist,
}

impl Default for ClientParams {
    /// Defaults from `reference/client-timing.md` and DESIGN.md's table; durations are assumptions.
    fn default() -> Self {
        Self {
            scan_interval: 22 * HOUR,
            scan_jitter: 4 * HOUR,
            quality: CategoryParams {
                download: Dist::LogNormal {
                    median: 10 * MINUTE,
                    sigma: 0.5,
                },
                install: Dist::LogNormal {
                    median: 15 * MINUTE,
                    sigma: 0.5,
                },
                restart: Dist::LogNormal {
                    median: 5 * MINUTE,
                    sigma: 0.3,
                },
                rollback: 0.0,
                retry_after_rollback: Some(30 * DAY),
                max_retries_after_rollback: None,
            },
            feature: CategoryParams {
                download: Dist::LogNormal {
                    median: 60 * MINUTE,
                    sigma: 0.5,
                },
                install: Dist::LogNormal {
                    median: 60 * MINUTE,
                    sigma: 0.5,
                },
                restart: Dist::LogNormal {
                    median: 30 * MINUTE,
                    sigma: 0.3,
                },
                rollback: 0.005,
                retry_after_rollback: Some(0),
                max_retries_after_rollback: None,
            },
            install_failure: 0.0,
            shutdown_completes_restart: 0.5,
            user_restart: None,
            // Assumption: half of users who see an optional update take it within about 5 days.
            optional_uptake: Dist::Exponential { mean: 7 * DAY },
        }
    }
}

impl ClientParams {
    /// Timings of a category.
    pub fn times(&self, c: Category) -> &CategoryParams {
        match c {
            Category::Quality => &self.quality,
            Category::Feature => &self.feature,
        }
    }
}

/// The longest a Windows Update pause runs, counted from when it was set (client-timing.md §4,
/// `PauseQualityUpdatesStartTime` / `PauseFeatureUpdatesStartTime`). Windows offers no setting for
/// it, so neither does a scenario.
pub const PAUSE_MAX: Secs = 35 * DAY;

/// A client policy (a ring): deferrals, deadlines, grace periods, active hours.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Policy name.
    pub name: String,
    /// Days after release before a quality update is taken.
    pub quality_deferral: Secs,
    /// Quality deadline from the start of the deadline clock ([`DeadlineClock`]); `None` = no
    /// deadline configured.
    pub quality_deadline: Option<Secs>,
    /// Quality grace period from restart-pending.
    pub quality_grace: Secs,
    /// Days after release before a feature update is taken.
    pub feature_deferral: Secs,
    /// Feature deadline from the start of the deadline clock ([`DeadlineClock`]); `None` = no
    /// deadline configured.
    pub feature_deadline: Option<Secs>,
    /// Feature grace period from restart-pending.
    pub feature_grace: Secs,
    /// Active hours start, seconds after local midnight.
    pub active_start: Secs,
    /// Active hours end, seconds after local midnight.
    pub active_end: Secs,
    /// Whether the client restarts automatically outside active hours before the deadline
    /// (`ConfigureDeadlineNoAutoReboot` = 0).
    pub auto_restart: bool,
    /// Quality updates paused until then (relative to the scenario start; 0 = not paused).
    pub quality_pause_until: Time,
    /// Feature updates paused until then (relative to the scenario start; 0 = not paused).
    pub feature_pause_until: Time,
    /// Automatic Maintenance's daily start, seconds after local midnight: when an update
    /// without a deadline installs.
    pub maintenance_time: Secs,
    /// When the deadlines start counting.
    pub deadline_clock: DeadlineClock,
}

/// When a policy's deadlines start counting (`reference/client-timing.md` §3, "How the clock
/// runs"). Grace periods count from restart-pending under both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeadlineClock {
    /// Windows 11 22H2 and later: both deadlines count from the first scan that discovered the
    /// update.
    #[default]
    Discovery,
    /// Older clients (Windows 10, Windows 11 before 22H2): the quality deadline counts from the
    /// offer (when the update became available to the device: the deployment offered it and
    /// the policy's deferral and pause had passed), the feature deadline from restart-pending.
    Offer,
}

impl DeadlineClock {
    /// Names in scenario files, in the order of the variants.
    pub const NAMES: [&'static str; 2] = ["discovery", "offer"];

    /// The clock named `name` in a scenario file.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "discovery" => Some(DeadlineClock::Discovery),
            "offer" => Some(DeadlineClock::Offer),
            _ => None,
        }
    }
}

impl Policy {
    /// The documented Windows 11 22H2+ recommendations: quality 7 d / 2 d, feature 2 d / 7 d,
    /// active hours 08:00–17:00 (`reference/client-timing.md` §3).
    pub fn default_named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            quality_deferral: 0,
            quality_deadline: Some(7 * DAY),
            quality_grace: 2 * DAY,
            feature_deferral: 0,
            feature_deadline: Some(2 * DAY),
            feature_grace: 7 * DAY,
            active_start: 8 * HOUR,
            active_end: 17 * HOUR,
            auto_restart: true,
            quality_pause_until: 0,
            feature_pause_until: 0,
            maintenance_time: 2 * HOUR,
            deadline_clock: DeadlineClock::Discovery,
        }
    }

    /// Whether the quality deadline counts from the offer rather than from its discovery.
    pub fn quality_deadline_from_offer(&self) -> bool {
        self.deadline_clock == DeadlineClock::Offer && self.quality_deadline.is_some()
    }

    /// Until when the policy pauses a category (0 = not paused).
    pub fn paused_until(&self, c: Category) -> Time {
        match c {
            Category::Quality => self.quality_pause_until,
            Category::Feature => self.feature_pause_until,
        }
    }

    /// Deferral for a category.
    pub fn deferral(&self, c: Category) -> Secs {
        match c {
            Category::Quality => self.quality_deferral,
            Category::Feature => self.feature_deferral,
        }
    }

    /// Whether an offer's install waits for Automatic Maintenance: a regular offer under a
    /// policy without a deadline for its category (an expedite installs at once, and so does
    /// an optional update the user chose to install).
    pub fn waits_for_maintenance(&self, offer: &Offer) -> bool {
        !offer.expedited && !offer.optional && self.deadline(offer.category).0.is_none()
    }

    /// (deadline, grace) for a category.
    pub fn deadline(&self, c: Category) -> (Option<Secs>, Secs) {
        match c {
            Category::Quality => (self.quality_deadline, self.quality_grace),
            Category::Feature => (self.feature_deadline, self.feature_grace),
        }
    }

    /// Whether local time of day `tod` lies inside active hours (which may wrap past midnight).
    pub fn in_active_hours(&self, tod: Secs) -> bool {
        if self.active_start <= self.active_end {
            (self.active_start..self.active_end).contains(&tod)
        } else {
            tod >= self.active_start || tod < self.active_end
        }
    }
}

/// Where a device is in its update pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Nothing to do; no timer.
    Idle,
    /// Waiting for the next scan (its timer is the scan).
    Waiting,
    /// Offered nothing it may install before a deferral or pause ends (its timer is that
    /// instant). Every scan until then would find nothing, so none is drawn: at the timer the
    /// device resumes its regular scans from its last real one, with the draws it would have
    /// made. An offer made before then is seen at the next regular scan (`client-timing.md` §1:
    /// approvals take effect at the next scan), which its arrival works out.
    Deferred,
    /// Offered an optional update the user has not yet chosen to install (its timer is the
    /// user's choice: the device scans then). An offer made before then is seen at the next
    /// regular scan, if that comes first.
    OptIn,
    /// Downloading `work` (its timer is the end of the install that follows: the install begins
    /// without an event of its own, see [`Client::plan_install`]). An install that waits for
    /// Automatic Maintenance is not planned (`pending_since` unset): the timer is then the end
    /// of the download ([`Client::downloaded`]).
    Downloading,
    /// Downloaded `work`, waiting for Automatic Maintenance to install it (no deadline); its
    /// timer is the start of the maintenance ([`Client::install_now`]).
    Downloaded,
    /// Installing `work` (its timer is the end of the install).
    Installing,
    /// Installed, waiting for a restart the user has to make (no timer: a planned restart
    /// begins in the install's event, see `Restarting`).
    PendingRestart,
    /// Restarting into the new build, or about to: the restart an install planned begins at its
    /// planned instant without an event of its own (its duration drawn when the install ended),
    /// so the timer is the end of the restart. Counted as pending restart until then.
    Restarting,
}

/// Who or what restarted a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RestartKind {
    /// Forced after the effective deadline (or an expedite's forced-reboot grace).
    Forced,
    /// Automatic, outside active hours, before the deadline.
    Auto,
    /// The user's shutdown or own restart.
    User,
}

impl RestartKind {
    /// Name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartKind::Forced => "forced",
            RestartKind::Auto => "auto",
            RestartKind::User => "user",
        }
    }
}

/// What the device is installing and under which terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offer {
    /// Content index.
    pub content: u16,
    /// Deployment that offered it.
    pub deployment: u16,
    /// Category of the content.
    pub category: Category,
    /// Expedited: ignore deferral and deadline policy.
    pub expedited: bool,
    /// For expedited offers: grace after install before the forced restart.
    pub forced_reboot_after: Option<Secs>,
    /// `offerAsOptional`: installed only once the user chooses to.
    pub optional: bool,
    /// `isHotpatchEnabled` on a quality update: applies without a restart.
    pub hotpatch: bool,
    /// When the deadline clock of this offer starts should the device take it up: the scan
    /// that finds it, or, under the offer clock of a quality update, when it was offered
    /// ([`DeadlineClock`]).
    pub deadline_from: Time,
}

/// The mutable state of one device, 64 bytes (a device event reads and writes only this record,
/// its timer slot and a few bits of the service's device sets). Aligned to a cache line so that
/// a record is one line, not parts of two: one miss (and one prefetch) a device event.
#[derive(Clone, Debug)]
#[repr(align(64))]
pub struct DeviceState {
    /// Pipeline phase.
    pub phase: Phase,
    /// Kind of the planned restart (meaningful in `PendingRestart`).
    pub restart: RestartKind,
    /// Content in progress, or [`NONE`].
    pub work: u16,
    /// Deployment that offered `work`.
    pub work_deployment: u16,
    /// Expedited terms of the current work (forced-reboot grace in seconds), or [`UNSET`].
    pub work_forced_after: u32,
    /// Content whose last install attempt failed or rolled back, or [`NONE`].
    pub failed: u16,
    /// Bit 7 ([`ROLLED_BACK`]): whether `failed` rolled back after its restart (rather than
    /// failing to install), read by [`DeviceState::rolled_back`]. Bits 0–6: how many times in
    /// a row the device has rolled back its content (`work`, or `failed` while it has no
    /// work), saturating at 127, for [`CategoryParams::max_retries_after_rollback`]. One byte
    /// for both: the record has none to spare. Other work resets the count, as it forgets the
    /// retry instant.
    pub rollbacks: u8,
    /// Installed quality content, or [`NONE`] for the baseline build.
    pub quality: u16,
    /// Installed feature content, or [`NONE`] for the baseline build.
    pub feature: u16,
    /// When the deadline clock of the current work started (the scan that first discovered it,
    /// or its offer: [`Offer::deadline_from`]), or [`UNSET`].
    /// While `Restarting`, when the planned restart begins ([`DeviceState::restart_at`]).
    pub first_seen: u32,
    /// When the current work became restart-pending (grace clock), or [`UNSET`]. While
    /// downloading with the install planned ([`Client::plan_install`]): when the download
    /// completes and the install begins. While the device has no work after a rollback
    /// (`rolled_back`): when it may take the rolled-back content again
    /// ([`DeviceState::retry_at`]), [`UNSET`] for never.
    pub pending_since: u32,
    /// Time of the last scan that really ran, or [`UNSET`].
    pub last_scan: u32,
    /// When the user chooses to install optional offers, or [`UNSET`] until one is first seen.
    pub optional_at: u32,
    /// The current work is a hotpatch (no restart).
    pub hotpatch: bool,
    /// The device's segment (kept here so a device event touches one record, not two).
    pub segment: u16,
    /// The device's last computed online interval (a cache for [`Availability`]).
    pub avail_memo: Memo,
    /// State of the scan schedule's stream (its stream constant is re-derived from the device's
    /// key when needed: see [`DeviceRngs`]).
    pub scan_state: u64,
    /// State of the pipeline's stream.
    pub pipeline_state: u64,
}

/// A device's two random streams while one of its events is handled. Between events only their
/// 8-byte states live in [`DeviceState`]: PCG's other half, the stream constant, is a function
/// of the device's key, so storing it would cost 16 bytes a device for nothing (README,
/// performance). Most events draw from one stream or none, so each generator is rebuilt only on
/// its first draw. Draws are the same as from a generator kept whole.
#[derive(Clone, Debug)]
pub struct DeviceRngs {
    /// The scan schedule's stream (first phase, jitter).
    scan: Resumable,
    /// The pipeline's stream (durations, failures, restart behaviour).
    pipeline: Resumable,
}

/// A generator known by its key and kept state, built on first use (the key too: deriving it
/// costs a few multiplications an event, and most events draw from one stream or none).
#[derive(Clone, Debug)]
struct Resumable {
    run: RunKey,
    stream: Stream,
    id: u64,
    state: u64,
    rng: Option<StreamRng>,
}

impl Resumable {
    fn new(run: RunKey, stream: Stream, id: u64, state: u64) -> Self {
        Self {
            run,
            stream,
            id,
            state,
            rng: None,
        }
    }

    fn get(&mut self) -> &mut StreamRng {
        self.rng.get_or_insert_with(|| {
            let key = self.run.key(self.stream, self.id);
            StreamRng::from_state(self.state, stream_constant(key))
        })
    }

    fn state(&self) -> u64 {
        self.rng.as_ref().map_or(self.state, StreamRng::state)
    }
}

impl DeviceRngs {
    /// Device `id`'s streams in run `key`, resumed from the states kept in `st`.
    pub fn resume(st: &DeviceState, key: &RunKey, id: u64) -> Self {
        Self {
            scan: Resumable::new(*key, Stream::Scan, id, st.scan_state),
            pipeline: Resumable::new(*key, Stream::Pipeline, id, st.pipeline_state),
        }
    }

    /// The scan schedule's stream (first phase, jitter).
    pub fn scan(&mut self) -> &mut StreamRng {
        self.scan.get()
    }

    /// The pipeline's stream (durations, failures, restart behaviour).
    pub fn pipeline(&mut self) -> &mut StreamRng {
        self.pipeline.get()
    }

    /// Keeps the streams' states in `st` for the device's next event.
    pub fn suspend(&self, st: &mut DeviceState) {
        st.scan_state = self.scan.state();
        st.pipeline_state = self.pipeline.state();
    }
}

impl DeviceState {
    /// While `Restarting`: when the planned restart begins. The deadline clock has done its
    /// work once the restart is planned, and the record has no byte to spare (64 bytes, one
    /// cache line), so the instant is kept in `first_seen`'s place.
    pub fn restart_at(&self) -> Time {
        u64::from(self.first_seen)
    }

    fn set_restart_at(&mut self, t: Time) {
        self.first_seen = t32(t);
    }

    /// After a rollback (`rolled_back`, no work): from when the device may take the content
    /// it rolled back (`failed`) again, or `None` when it never does within the run
    /// ([`CategoryParams::retry_after_rollback`]). Like [`DeviceState::restart_at`], kept in
    /// the place of a field that has nothing to hold then (`pending_since`: the record has no
    /// byte to spare); beginning any work clears `rolled_back` and overwrites it.
    pub fn retry_at(&self) -> Option<Time> {
        (self.pending_since != UNSET).then_some(u64::from(self.pending_since))
    }

    /// Whether `failed` rolled back after its restart (rather than failing to install).
    pub fn rolled_back(&self) -> bool {
        self.rollbacks & ROLLED_BACK != 0
    }

    /// How many times in a row the device has rolled back its content ([`DeviceState::rollbacks`]).
    pub fn rollback_count(&self) -> u8 {
        self.rollbacks & !ROLLED_BACK
    }

    /// A device on its baseline build with nothing to do.
    pub fn new(scan_rng: &StreamRng, rng: &StreamRng) -> Self {
        Self {
            phase: Phase::Idle,
            restart: RestartKind::User,
            work: NONE,
            work_deployment: NONE,
            work_forced_after: UNSET,
            failed: NONE,
            rollbacks: 0,
            quality: NONE,
            feature: NONE,
            first_seen: UNSET,
            pending_since: UNSET,
            last_scan: UNSET,
            optional_at: UNSET,
            hotpatch: false,
            segment: 0,
            avail_memo: Memo::EMPTY,
            scan_state: scan_rng.state(),
            pipeline_state: rng.state(),
        }
    }
}

fn t32(t: Time) -> u32 {
    t.min(u64::from(UNSET - 1)) as u32
}

/// What an expedite that reaches a busy device changes ([`Client::expedite_busy`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expedited {
    /// Nothing: the device restarts before it learns of the expedite, or its work is already
    /// under terms at least as strict.
    Unchanged,
    /// The work goes on under the expedite's terms; `Some(at)`: the device's timer moves to
    /// `at` (a restart brought forward now ends then, or a downloaded update waiting for
    /// Automatic Maintenance begins its install then).
    Terms(Option<Time>),
    /// A newer expedited quality update supersedes the work: it and its planned restart are
    /// dropped, and the device scans at the given instant.
    Superseded(Time),
}

/// A restart that has begun, for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restart {
    /// Who restarted.
    pub kind: RestartKind,
    /// Whether it began inside the device's active hours.
    pub in_active_hours: bool,
}

/// The client model: parameters shared by every device.
#[derive(Clone, Debug)]
pub struct Client<'a> {
    /// Timings and behaviour.
    pub params: &'a ClientParams,
    /// `params`' duration distributions, prepared once: per category, the user's restart delay,
    /// the optional uptake.
    quality: Durations,
    feature: Durations,
    user_restart: Option<Sampler>,
    optional_uptake: Sampler,
}

/// A category's download, install and restart distributions, prepared.
#[derive(Clone, Copy, Debug)]
struct Durations {
    download: Sampler,
    install: Sampler,
    restart: Sampler,
}

impl Durations {
    fn new(c: &CategoryParams) -> Self {
        Self {
            download: Sampler::new(c.download),
            install: Sampler::new(c.install),
            restart: Sampler::new(c.restart),
        }
    }
}

impl<'a> Client<'a> {
    /// The client model with parameters `params`.
    pub fn new(params: &'a ClientParams) -> Self {
        Self {
            params,
            quality: Durations::new(&params.quality),
            feature: Durations::new(&params.feature),
            user_restart: params.user_restart.map(Sampler::new),
            optional_uptake: Sampler::new(params.optional_uptake),
        }
    }

    /// The prepared duration distributions of a category.
    fn times(&self, c: Category) -> &Durations {
        match c {
            Category::Quality => &self.quality,
            Category::Feature => &self.feature,
        }
    }

    fn interval(&self, r: &mut DeviceRngs) -> Secs {
        let j = self.params.scan_jitter;
        self.params.scan_interval
            + if j > 0 {
                r.scan().random_range(0..=j)
            } else {
                0
            }
    }

    /// The time of the device's first scan at or after `t` (replaying the scans it would have
    /// made while it had nothing to do), or `None` if it never scans again within the horizon.
    pub fn next_scan_at_or_after(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        t: Time,
    ) -> Option<Time> {
        let mut last = if st.last_scan == UNSET {
            // First scan: a uniform phase within the first interval.
            let first = self.interval(r);
            let phase = if first > 0 {
                r.scan().random_range(0..first)
            } else {
                0
            };
            let actual = avail.next_online(phase)?;
            if actual >= t {
                return Some(actual);
            }
            actual
        } else {
            u64::from(st.last_scan)
        };
        loop {
            let due = last + self.interval(r);
            let actual = avail.next_online(due.max(last + 1))?;
            if actual >= t {
                return Some(actual);
            }
            last = actual;
            st.last_scan = t32(actual);
        }
    }

    /// Starts the pipeline for `offer` at scan time `t`; returns when the download completes.
    // Inlined into the device events (a scan, an install's end): with the Automatic
    // Maintenance arms the event loop outgrew the inliner's budget, and these calls out of line
    // cost 1.6 % more instructions at 50 000 devices (docs/performance.md).
    #[inline(always)]
    pub fn begin(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        offer: Offer,
        t: Time,
    ) -> Option<Time> {
        if st.work != offer.content {
            st.first_seen = t32(offer.deadline_from.min(t));
        }
        // The count is of one content: a retry of it keeps counting, other work starts over.
        let counted = if st.work != NONE { st.work } else { st.failed };
        st.rollbacks = if counted == offer.content {
            st.rollback_count()
        } else {
            0
        };
        st.work = offer.content;
        st.work_deployment = offer.deployment;
        st.work_forced_after = match (offer.expedited, offer.forced_reboot_after) {
            (true, Some(g)) => t32(g),
            (true, None) => t32(0),
            (false, _) => UNSET,
        };
        st.failed = NONE;
        st.hotpatch = offer.hotpatch;
        st.phase = Phase::Downloading;
        st.pending_since = UNSET;
        let d = self.times(offer.category).download.sample(r.pipeline());
        avail.advance_online(t, d)
    }

    /// Plans the install that follows a download completing at `t`; returns when the install
    /// completes. Nothing can interrupt a download and the device draws nothing until it ends,
    /// so the install's duration is drawn now, with the same draw as at `t`, and the device stays
    /// `Downloading` until [`Client::install_began`] moves it on (one event for both steps).
    // Inlined: see `Client::begin`.
    #[inline(always)]
    pub fn plan_install(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        category: Category,
        t: Time,
    ) -> Option<Time> {
        st.pending_since = t32(t);
        let d = self.times(category).install.sample(r.pipeline());
        avail.advance_online(t, d)
    }

    /// The download of work whose install waits for Automatic Maintenance completed at `t`:
    /// returns when the install begins ([`install_start`]). Work an expedite reached installs
    /// as soon as the device has learnt of it, unless the maintenance comes first.
    #[inline(never)]
    pub fn downloaded(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        policy: &Policy,
        category: Category,
        t: Time,
    ) -> Option<Time> {
        let start = install_start(st, policy, avail, t);
        if start == Some(t) {
            return self.install_now(st, r, avail, category, t);
        }
        st.phase = Phase::Downloaded;
        start
    }

    /// The install of downloaded work begins at `t` (Automatic Maintenance, or an expedite);
    /// returns when it completes. Out of line, as are [`Client::downloaded`] and
    /// `expedite_waiting`: only policies without a deadline come here, and the instruction
    /// counts in docs/performance.md were measured with them out of the event loop.
    #[inline(never)]
    pub fn install_now(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        category: Category,
        t: Time,
    ) -> Option<Time> {
        st.phase = Phase::Installing;
        st.pending_since = UNSET;
        let d = self.times(category).install.sample(r.pipeline());
        avail.advance_online(t, d)
    }

    /// Moves a device whose planned download completed by `t` to `Installing`; returns when the
    /// download completed, or `None` when there was nothing to move.
    pub fn install_began(st: &mut DeviceState, t: Time) -> Option<Time> {
        if st.phase != Phase::Downloading || u64::from(st.pending_since) > t {
            return None;
        }
        let at = u64::from(st.pending_since);
        st.phase = Phase::Installing;
        st.pending_since = UNSET;
        Some(at)
    }

    /// Install finished at `t`. `Ok(restart_at)` when it succeeded (the device is now
    /// restart-pending, with its restart planned), `Err(next_scan)` when it failed.
    // Inlined: see `Client::begin`.
    #[inline(always)]
    #[expect(
        clippy::too_many_arguments,
        reason = "the device's record, streams and surroundings, each needed once"
    )]
    pub fn installed(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        policy: &Policy,
        category: Category,
        t: Time,
        extra_failure: f64,
    ) -> Result<Option<Time>, Option<Time>> {
        let p = (self.params.install_failure + extra_failure).clamp(0.0, 1.0);
        if p > 0.0 && r.pipeline().random_bool(p) {
            st.failed = st.work;
            st.rollbacks = st.rollback_count();
            st.phase = Phase::Waiting;
            st.last_scan = t32(t);
            return Err(self.next_scan_at_or_after(st, r, avail, t + 1));
        }
        st.phase = Phase::PendingRestart;
        st.pending_since = t32(t);
        Ok(self.plan_restart(st, r, avail, policy, category, t))
    }

    /// The effective deadline of the current work, or [`NEVER`] when none applies.
    pub fn effective_deadline(
        &self,
        st: &DeviceState,
        policy: &Policy,
        category: Category,
    ) -> Time {
        self.deadline_if_pending_from(st, policy, category, u64::from(st.pending_since))
    }

    /// The effective deadline of the current work were it restart-pending from `pending`.
    fn deadline_if_pending_from(
        &self,
        st: &DeviceState,
        policy: &Policy,
        category: Category,
        pending: Time,
    ) -> Time {
        if st.work_forced_after != UNSET {
            // Expedited terms (quality deadline 0, grace `daysUntilForcedReboot`) from the scan
            // that found them: the one that began the work, or a later one ([`Client::expedite_busy`]).
            return u64::from(st.first_seen).max(pending + u64::from(st.work_forced_after));
        }
        match policy.deadline(category) {
            (Some(deadline), grace) => {
                let from = match (policy.deadline_clock, category) {
                    (DeadlineClock::Offer, Category::Feature) => pending,
                    _ => u64::from(st.first_seen),
                };
                (from + deadline).max(pending + grace)
            }
            (None, _) => NEVER,
        }
    }

    /// Decides when and how the pending restart happens, from `t` on.
    fn plan_restart(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        policy: &Policy,
        category: Category,
        t: Time,
    ) -> Option<Time> {
        let deadline = self.effective_deadline(st, policy, category);
        // Saturating here and wherever a drawn duration is added to a time: a lognormal or
        // exponential draw can be u64::MAX seconds, and a sum that wrapped would end at once
        // instead of never.
        let user_at = self
            .user_restart
            .map(|d| t.saturating_add(d.sample(r.pipeline())));
        // Windows restarts automatically only a device not in use, and an attended device is in
        // use whenever it is online (offline it cannot restart): its restart waits for the
        // user's shutdown or restart, or the deadline.
        let auto_restart = policy.auto_restart && !avail.model.attended;
        let mut cursor = t;
        while cursor < deadline {
            let Some((s, e)) = avail.next_interval(cursor) else {
                break;
            };
            if s >= deadline {
                break;
            }
            let window_end = e.min(deadline);
            if let Some(u) = user_at.filter(|&u| u >= s && u < window_end) {
                // The user's own restart comes first unless an automatic one is earlier.
                let auto = auto_restart
                    .then(|| first_outside_active(policy, &avail.clock, s, u))
                    .flatten();
                st.restart = if auto.is_some() {
                    RestartKind::Auto
                } else {
                    RestartKind::User
                };
                return Some(auto.unwrap_or(u));
            }
            let auto =
                auto_restart.then(|| first_outside_active(policy, &avail.clock, s, window_end));
            if let Some(x) = auto.flatten() {
                st.restart = RestartKind::Auto;
                return Some(x);
            }
            if e < deadline && e != NEVER {
                let q = self.params.shutdown_completes_restart.clamp(0.0, 1.0);
                if q > 0.0 && r.pipeline().random_bool(q) {
                    st.restart = RestartKind::User;
                    return Some(e);
                }
            }
            cursor = e;
        }
        st.restart = RestartKind::Forced;
        if deadline == NEVER {
            return None;
        }
        avail.next_online(deadline.max(t))
    }

    /// The planned restart begins at `t`; returns when the device runs the new build. The
    /// restart is counted when it ends (or at the horizon), by [`Client::restart_record`], so
    /// that an expedite can still move it before it begins.
    pub fn restart_begins(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        category: Category,
        t: Time,
    ) -> Time {
        st.phase = Phase::Restarting;
        st.set_restart_at(t);
        let took = self.times(category).restart.sample(r.pipeline());
        t.saturating_add(took)
    }

    /// An expedite reached a device that is downloading, installing or restart-pending with a
    /// quality update (`client-timing.md` §2), and the device learns of it at `learn` (at once
    /// when the push found it online, else at its next scan). `supersedes`: the expedited
    /// update is newer than the device's work, so it installs instead and the work's planned
    /// restart is cancelled. Otherwise the work already satisfies the expedite, and from
    /// `learn` on its restart is also due under the expedite's terms (deadline 0, grace `grace`
    /// after the install): forced at the first online moment at or after max(`learn`, install +
    /// `grace`), unless the policy's terms or the planned restart come first (an expedite never
    /// postpones a restart). `timer` is the device's pending timer: the install's end, or a
    /// planned restart's end (the restart keeps its drawn duration).
    #[expect(
        clippy::too_many_arguments,
        reason = "the device's record, streams and surroundings, each needed once"
    )]
    pub fn expedite_busy(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        avail: &Availability<'_>,
        policy: &Policy,
        category: Category,
        supersedes: bool,
        grace: Secs,
        learn: Time,
        timer: Option<Time>,
    ) -> Expedited {
        // Told apart from a download whose install is planned but ends after the horizon
        // (`pending_since` unset too) by the policy: only work without a deadline waits.
        if st.phase == Phase::Downloaded
            || (st.phase == Phase::Downloading
                && st.pending_since == UNSET
                && policy.deadline(category).0.is_none())
        {
            return self.expedite_waiting(st, avail, policy, supersedes, grace, learn, timer);
        }
        let installing = matches!(st.phase, Phase::Downloading | Phase::Installing);
        let planned = match st.phase {
            // An install that ends before the device learns of the expedite goes ahead: its
            // restart follows its plan and the scan after it takes the expedite (a device that
            // is offline at the push and finishes its install first may so restart twice). One
            // without a timer ends after the horizon, so after `learn`: it is replaced.
            Phase::Downloading | Phase::Installing if supersedes => {
                if timer.is_some_and(|end| end <= learn) {
                    return Expedited::Unchanged;
                }
                None
            }
            Phase::Downloading | Phase::Downloaded | Phase::Installing | Phase::PendingRestart => {
                None
            }
            // A restart that begins before the device learns of the expedite is not moved; the
            // scan after it sees the offer.
            Phase::Restarting if st.restart_at() <= learn => return Expedited::Unchanged,
            Phase::Restarting => Some(st.restart_at()),
            Phase::Idle | Phase::Waiting | Phase::Deferred | Phase::OptIn => {
                return Expedited::Unchanged;
            }
        };
        if supersedes {
            return supersede(st, learn);
        }
        if installing {
            // The restart is planned when the install ends (`timer`), under the stricter terms.
            let Some(end) = timer else {
                return Expedited::Unchanged;
            };
            let current = self.deadline_if_pending_from(st, policy, category, end);
            if learn.max(end + grace) >= current {
                return Expedited::Unchanged;
            }
            st.first_seen = t32(learn);
            st.work_forced_after = t32(grace);
            return Expedited::Terms(None);
        }
        let pending = u64::from(st.pending_since);
        let forced = avail.next_online(learn.max(pending + grace));
        let Some(forced) = forced.filter(|&f| planned.is_none_or(|p| f < p)) else {
            return Expedited::Unchanged;
        };
        let took = match (planned, timer) {
            (Some(p), Some(done)) => done.saturating_sub(p),
            _ => self.times(category).restart.sample(r.pipeline()),
        };
        st.restart = RestartKind::Forced;
        st.phase = Phase::Restarting;
        st.set_restart_at(forced);
        Expedited::Terms(Some(forced.saturating_add(took)))
    }

    /// [`Client::expedite_busy`] for work whose install waits for Automatic Maintenance
    /// (downloading with no install planned, or downloaded): `timer` is the download's end or
    /// the install's start ([`install_start`]). An install that begins before the device learns
    /// of the expedite goes ahead as one underway would (its end is not drawn until it begins,
    /// so it is not judged by it), under the expedite's terms from `learn` if it satisfies it;
    /// otherwise newer content supersedes the work, and content that satisfies the expedite
    /// takes its terms and installs as soon as it is downloaded and the device has learnt of
    /// it. Of two expedites of content the work satisfies, the terms of the one the device
    /// learns of first apply.
    #[expect(
        clippy::too_many_arguments,
        reason = "the device's record, surroundings and the expedite's terms, each needed once"
    )]
    #[inline(never)]
    fn expedite_waiting(
        &self,
        st: &mut DeviceState,
        avail: &Availability<'_>,
        policy: &Policy,
        supersedes: bool,
        grace: Secs,
        learn: Time,
        timer: Option<Time>,
    ) -> Expedited {
        let downloaded = st.phase == Phase::Downloaded;
        let begins = if downloaded {
            timer
        } else {
            timer.and_then(|done| install_start(st, policy, avail, done))
        };
        let begins_first = begins.is_some_and(|b| b <= learn);
        if supersedes {
            if begins_first {
                return Expedited::Unchanged;
            }
            return supersede(st, learn);
        }
        if st.work_forced_after != UNSET && u64::from(st.first_seen) <= learn {
            // The terms of an expedite the device learns of no later already apply.
            return Expedited::Unchanged;
        }
        st.first_seen = t32(learn);
        st.work_forced_after = t32(grace);
        if downloaded && !begins_first {
            // The install begins when the device learns of the expedite ([`Client::install_now`]).
            return Expedited::Terms(Some(learn));
        }
        // Downloading: the install begins when the download ends or the device learns of the
        // expedite ([`Client::downloaded`]); or it began first, and the terms set its restart.
        Expedited::Terms(None)
    }

    /// The record of the restart a `Restarting` device planned: who restarts it and whether it
    /// begins inside active hours.
    pub fn restart_record(st: &DeviceState, policy: &Policy, clock: &LocalClock) -> Restart {
        Restart {
            kind: st.restart,
            in_active_hours: policy.in_active_hours(clock.time_of_day(st.restart_at())),
        }
    }

    /// The restart completed at `t`: the device runs the new build (or, with probability
    /// `rollback`, reverts to the old one, and may take the content again from
    /// [`DeviceState::retry_at`] unless its retries are spent,
    /// [`CategoryParams::max_retries_after_rollback`]). Returns whether it rolled back.
    pub fn restart_done(
        &self,
        st: &mut DeviceState,
        r: &mut DeviceRngs,
        category: Category,
        rollback: f64,
        t: Time,
    ) -> bool {
        let rolled_back = rollback > 0.0 && r.pipeline().random_bool(rollback.clamp(0.0, 1.0));
        if !rolled_back {
            match category {
                Category::Quality => st.quality = st.work,
                Category::Feature => st.feature = st.work,
            }
            st.rollbacks = 0;
        } else {
            st.failed = st.work;
            st.rollbacks = ROLLED_BACK | (st.rollback_count() + 1).min(!ROLLED_BACK);
        }
        st.work = NONE;
        st.work_deployment = NONE;
        st.work_forced_after = UNSET;
        st.first_seen = UNSET;
        st.pending_since = UNSET;
        st.optional_at = UNSET;
        st.hotpatch = false;
        st.phase = Phase::Idle;
        let params = self.params.times(category);
        // The first rollback is no retry: after its n-th the device has retried n − 1 times.
        if rolled_back
            && params
                .max_retries_after_rollback
                .is_none_or(|max| st.rollback_count() <= max)
        {
            // Not at the scan the device makes as it comes back up (the same instant): the
            // earliest retry is its next scan.
            if let Some(d) = params.retry_after_rollback {
                st.pending_since = t32(t.saturating_add(d.max(1)));
            }
        }
        rolled_back
    }

    /// Whether the user has chosen to install optional offers by `t`; the first time an optional
    /// offer is seen, draws when they will.
    pub fn opted_in(&self, st: &mut DeviceState, r: &mut DeviceRngs, t: Time) -> bool {
        if st.optional_at == UNSET {
            let d = self.optional_uptake.sample(r.pipeline());
            st.optional_at = t32(t.saturating_add(d));
        }
        t >= u64::from(st.optional_at)
    }
}

/// Newer expedited content replaces the device's work at `learn`: the work and its planned
/// restart are dropped and the device scans then.
fn supersede(st: &mut DeviceState, learn: Time) -> Expedited {
    st.work = NONE;
    st.work_deployment = NONE;
    st.work_forced_after = UNSET;
    st.first_seen = UNSET;
    st.pending_since = UNSET;
    st.hotpatch = false;
    st.phase = Phase::Waiting;
    Expedited::Superseded(learn)
}

/// When the install of work waiting for Automatic Maintenance begins, its download having
/// ended at `done`: at the maintenance, or, under an expedite's terms (learnt at `first_seen`),
/// once the device has both the download and the expedite if that comes first. Both are
/// online instants: the download progresses only online, and the device learns of an expedite
/// at a push it is online for or at a scan.
fn install_start(
    st: &DeviceState,
    policy: &Policy,
    avail: &Availability<'_>,
    done: Time,
) -> Option<Time> {
    let maintenance = maintenance_after(policy, avail, done);
    if st.work_forced_after == UNSET {
        return maintenance;
    }
    let expedite = done.max(u64::from(st.first_seen));
    Some(maintenance.map_or(expedite, |m| m.min(expedite)))
}

/// When Automatic Maintenance next runs on the device from `t` on: at the policy's daily
/// maintenance time if the device is online then, else when it is next online (Windows runs a
/// missed maintenance at the next opportunity).
fn maintenance_after(policy: &Policy, avail: &Availability<'_>, t: Time) -> Option<Time> {
    // `24:00` is the next midnight, or now at midnight.
    let at = avail
        .clock
        .next_time_of_day(t, policy.maintenance_time % DAY);
    avail.next_online(at)
}

/// The first instant in [from, to) outside active hours, if any.
fn first_outside_active(policy: &Policy, clock: &LocalClock, from: Time, to: Time) -> Option<Time> {
    if from >= to {
        return None;
    }
    let tod = clock.time_of_day(from);
    if !policy.in_active_hours(tod) {
        return Some(from);
    }
    // Inside active hours the clock does not read their end (they end before it), so this is
    // the end today, or tomorrow when they wrap past midnight; across a clock change, an hour
    // sooner or later than the clock's face says.
    let x = clock.next_time_of_day(from, policy.active_end);
    (x < to).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::availability::WEEKDAYS;
    use crate::fleet::{DayModel, Profile};
    use crate::rng::{RunKey, Stream};

    const MONDAY: i64 = 1_768_176_000; // 2026-01-12T00:00:00Z

    fn state() -> DeviceState {
        let k = RunKey::new(1, 0);
        DeviceState::new(&k.rng(Stream::Scan, 0), &k.rng(Stream::Pipeline, 0))
    }

    fn rngs(seed: u64) -> DeviceRngs {
        let k = RunKey::new(seed, 0);
        let fresh = DeviceState::new(&k.rng(Stream::Scan, 0), &k.rng(Stream::Pipeline, 0));
        DeviceRngs::resume(&fresh, &k, 0)
    }

    fn avail(p: &DayModel) -> Availability<'_> {
        Availability {
            model: p,
            clock: LocalClock::new(MONDAY, 0),
            key: 5.into(),
            until: 60 * DAY,
            memo: Default::default(),
        }
    }

    #[test]
    fn a_restart_drawn_longer_than_time_itself_never_ends_rather_than_at_once() {
        // A lognormal draw of sigma 60 rounds to u64::MAX seconds; `t + took` wrapped to just
        // before `t` in a release build, so the restart was over before it began.
        let mut params = ClientParams::default();
        params.quality.restart = Dist::Fixed(Secs::MAX);
        let c = Client::new(&params);
        let mut st = state();
        let t = 3 * DAY;
        let done = c.restart_begins(&mut st, &mut rngs(1), Category::Quality, t);
        assert_eq!(done, NEVER);
    }

    #[test]
    fn first_scan_falls_within_one_jittered_interval() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let p = DayModel::new(Profile::AlwaysOn);
        for seed in 0..200 {
            let k = RunKey::new(seed, 0);
            let mut st = DeviceState::new(&k.rng(Stream::Scan, 0), &k.rng(Stream::Pipeline, 0));
            let s = c
                .next_scan_at_or_after(&mut st, &mut rngs(seed), &avail(&p), 0)
                .unwrap();
            assert!(s < 26 * HOUR);
        }
    }

    #[test]
    fn later_activation_finds_the_first_scan_after_it() {
        let params = ClientParams {
            scan_jitter: 0,
            ..ClientParams::default()
        };
        let c = Client::new(&params);
        let p = DayModel::new(Profile::AlwaysOn);
        let mut st = state();
        let first = c
            .next_scan_at_or_after(&mut st, &mut rngs(1), &avail(&p), 0)
            .unwrap();
        let mut st2 = state();
        let later = c
            .next_scan_at_or_after(&mut st2, &mut rngs(1), &avail(&p), 5 * DAY)
            .unwrap();
        assert!((5 * DAY..5 * DAY + 22 * HOUR).contains(&later));
        assert_eq!((later - first) % (22 * HOUR), 0, "same scan grid");
    }

    #[test]
    fn a_rolled_back_device_may_retake_its_content_after_retry_after_rollback_and_never_when_never()
    {
        let mut params = ClientParams::default();
        let p = DayModel::new(Profile::AlwaysOn);
        let a = avail(&p);
        let t = 3 * DAY;
        let rolled_back = |params: &ClientParams, cat: Category| {
            let c = Client::new(params);
            let mut st = state();
            let mut r = rngs(3);
            c.begin(&mut st, &mut r, &a, quality_offer(HOUR), HOUR);
            assert!(c.restart_done(&mut st, &mut r, cat, 1.0, t));
            assert!(st.rolled_back() && st.failed == 0 && st.work == NONE);
            st
        };
        // Defaults: feature updates at the next scan (not the one of the rollback's own
        // instant), quality updates 30 days later (KB4492307).
        assert_eq!(
            rolled_back(&params, Category::Feature).retry_at(),
            Some(t + 1)
        );
        assert_eq!(
            rolled_back(&params, Category::Quality).retry_at(),
            Some(t + 30 * DAY)
        );
        params.feature.retry_after_rollback = Some(2 * DAY);
        assert_eq!(
            rolled_back(&params, Category::Feature).retry_at(),
            Some(t + 2 * DAY)
        );
        params.feature.retry_after_rollback = None;
        assert_eq!(rolled_back(&params, Category::Feature).retry_at(), None);
        // A successful restart leaves no retry instant, and beginning any work clears it.
        let c = Client::new(&params);
        let mut st = state();
        let mut r = rngs(3);
        c.begin(&mut st, &mut r, &a, quality_offer(HOUR), HOUR);
        assert!(!c.restart_done(&mut st, &mut r, Category::Quality, 0.0, t));
        assert_eq!(st.retry_at(), None);
        let mut st = rolled_back(&ClientParams::default(), Category::Feature);
        c.begin(&mut st, &mut r, &a, quality_offer(t + DAY), t + DAY);
        assert!(!st.rolled_back() && st.failed == NONE);
    }

    #[test]
    fn a_device_whose_content_always_rolls_back_retries_exactly_max_retries_after_rollback_times() {
        let p = DayModel::new(Profile::AlwaysOn);
        let a = avail(&p);
        // Rollbacks until the device no longer has a retry instant (capped, for unlimited).
        let rollbacks_until_given_up = |max: Option<u8>| {
            let mut params = ClientParams::default();
            params.feature.max_retries_after_rollback = max;
            let c = Client::new(&params);
            let mut st = state();
            let mut r = rngs(5);
            let mut t = HOUR;
            let mut n = 0;
            while n < 300 {
                c.begin(&mut st, &mut r, &a, quality_offer(t), t);
                assert!(c.restart_done(&mut st, &mut r, Category::Feature, 1.0, t + HOUR));
                n += 1;
                assert!(st.rolled_back() && st.failed == 0);
                let Some(at) = st.retry_at() else { break };
                t = at + HOUR;
            }
            n
        };
        // The first install and then N retries, each rolled back.
        assert_eq!(rollbacks_until_given_up(Some(0)), 1);
        assert_eq!(rollbacks_until_given_up(Some(3)), 4);
        assert_eq!(
            rollbacks_until_given_up(Some(MAX_RETRIES_AFTER_ROLLBACK)),
            usize::from(MAX_RETRIES_AFTER_ROLLBACK) + 1
        );
        // Unlimited: the count saturates and the device keeps retrying.
        assert_eq!(rollbacks_until_given_up(None), 300);
    }

    #[test]
    fn the_rollback_count_survives_a_failed_install_of_the_same_content_and_not_other_work() {
        let params = ClientParams {
            install_failure: 1.0,
            ..ClientParams::default()
        };
        let c = Client::new(&params);
        let p = DayModel::new(Profile::AlwaysOn);
        let a = avail(&p);
        let mut st = state();
        let mut r = rngs(7);
        c.begin(&mut st, &mut r, &a, quality_offer(HOUR), HOUR);
        assert!(c.restart_done(&mut st, &mut r, Category::Quality, 1.0, 2 * HOUR));
        assert_eq!(st.rollback_count(), 1);
        // The retry fails to install: no longer rolled back, still one rollback of content 0.
        c.begin(&mut st, &mut r, &a, quality_offer(DAY), DAY);
        let policy = Policy::default_named("p");
        assert!(
            c.installed(
                &mut st,
                &mut r,
                &a,
                &policy,
                Category::Quality,
                2 * DAY,
                0.0
            )
            .is_err()
        );
        assert!(!st.rolled_back() && st.failed == 0 && st.rollback_count() == 1);
        c.begin(&mut st, &mut r, &a, quality_offer(3 * DAY), 3 * DAY);
        assert!(c.restart_done(&mut st, &mut r, Category::Quality, 1.0, 4 * DAY));
        assert_eq!(st.rollback_count(), 2);
        // Other content starts the count over.
        let other = Offer {
            content: 1,
            ..quality_offer(5 * DAY)
        };
        c.begin(&mut st, &mut r, &a, other, 5 * DAY);
        assert_eq!(st.rollback_count(), 0);
    }

    #[test]
    fn a_planned_install_begins_exactly_when_its_download_completes() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let p = DayModel::new(Profile::AlwaysOn);
        let a = avail(&p);
        let mut st = state();
        let mut r = rngs(3);
        let offer = quality_offer(HOUR);
        let downloaded = c.begin(&mut st, &mut r, &a, offer, HOUR).unwrap();
        let installed = c
            .plan_install(&mut st, &mut r, &a, Category::Quality, downloaded)
            .unwrap();
        assert!(HOUR < downloaded && downloaded < installed);
        assert_eq!(Client::install_began(&mut st, downloaded - 1), None);
        assert_eq!(st.phase, Phase::Downloading);
        assert_eq!(Client::install_began(&mut st, installed), Some(downloaded));
        assert_eq!(st.phase, Phase::Installing);
        assert_eq!(
            st.pending_since, UNSET,
            "the grace clock starts at the install's end"
        );
        assert_eq!(
            Client::install_began(&mut st, installed),
            None,
            "moved once"
        );
    }

    #[test]
    fn a_download_without_a_planned_install_never_moves_on_by_itself() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let p = DayModel::new(Profile::AlwaysOn);
        let mut st = state();
        st.pending_since = t32(HOUR);
        let offer = Offer {
            content: 0,
            deployment: 0,
            category: Category::Feature,
            expedited: false,
            forced_reboot_after: None,
            optional: false,
            hotpatch: false,
            deadline_from: 0,
        };
        c.begin(&mut st, &mut rngs(4), &avail(&p), offer, 0);
        assert_eq!(Client::install_began(&mut st, 60 * DAY), None);
        assert_eq!(st.phase, Phase::Downloading);
    }

    #[test]
    fn effective_deadline_is_the_later_of_deadline_and_grace() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let pol = Policy::default_named("p");
        let mut st = state();
        st.first_seen = 0;
        st.pending_since = t32(6 * DAY);
        // 7 d from discovery vs 6 d + 2 d grace → 8 d.
        assert_eq!(c.effective_deadline(&st, &pol, Category::Quality), 8 * DAY);
        st.pending_since = t32(HOUR);
        assert_eq!(c.effective_deadline(&st, &pol, Category::Quality), 7 * DAY);
        st.work_forced_after = t32(2 * DAY);
        assert_eq!(
            c.effective_deadline(&st, &pol, Category::Quality),
            HOUR + 2 * DAY
        );
    }

    #[test]
    fn under_the_offer_clock_the_feature_deadline_counts_from_restart_pending() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let mut pol = Policy::default_named("p");
        pol.feature_grace = 0;
        let mut st = state();
        st.first_seen = 0;
        st.pending_since = t32(DAY);
        // Discovery at 0, pending at 1 d, deadline 2 d: 2 d from discovery, or 3 d from pending.
        assert_eq!(c.effective_deadline(&st, &pol, Category::Feature), 2 * DAY);
        pol.deadline_clock = DeadlineClock::Offer;
        assert_eq!(c.effective_deadline(&st, &pol, Category::Feature), 3 * DAY);
        // The quality deadline still counts from `first_seen` (there the offer, set by `begin`).
        assert_eq!(c.effective_deadline(&st, &pol, Category::Quality), 7 * DAY);
    }

    #[test]
    fn under_the_offer_clock_a_quality_deadline_starts_at_the_offer_the_scan_reports() {
        let params = ClientParams::default();
        let p = DayModel::new(Profile::AlwaysOn);
        let mut st = state();
        let offer = quality_offer(2 * HOUR);
        Client::new(&params).begin(&mut st, &mut rngs(5), &avail(&p), offer, 9 * HOUR);
        assert_eq!(u64::from(st.first_seen), 2 * HOUR);
    }

    #[test]
    fn an_unattended_always_on_device_restarts_at_the_active_hours_end() {
        let params = ClientParams {
            shutdown_completes_restart: 0.0,
            ..ClientParams::default()
        };
        let c = Client::new(&params);
        let pol = Policy::default_named("p");
        let p = DayModel::new(Profile::AlwaysOn);
        assert!(!p.attended);
        let mut st = state();
        st.first_seen = t32(9 * HOUR);
        let at = c.installed(
            &mut st,
            &mut rngs(1),
            &avail(&p),
            &pol,
            Category::Quality,
            10 * HOUR,
            0.0,
        );
        assert_eq!(at, Ok(Some(17 * HOUR)));
        assert_eq!(st.restart, RestartKind::Auto);
    }

    #[test]
    fn office_device_without_shutdown_restarts_is_forced_at_the_deadline() {
        let params = ClientParams {
            shutdown_completes_restart: 0.0,
            ..ClientParams::default()
        };
        let c = Client::new(&params);
        let pol = Policy::default_named("p");
        let p = DayModel::new(Profile::Office {
            start: 8 * HOUR,
            end: 17 * HOUR,
            jitter: 0,
            absent_days: 0.0,
            days: WEEKDAYS,
        });
        let mut st = state();
        st.first_seen = t32(9 * HOUR);
        let at = c.installed(
            &mut st,
            &mut rngs(1),
            &avail(&p),
            &pol,
            Category::Quality,
            10 * HOUR,
            0.0,
        );
        // Deadline: Monday 09:00 + 7 d = next Monday 09:00, online then → forced.
        assert_eq!(at, Ok(Some(7 * DAY + 9 * HOUR)));
        assert_eq!(st.restart, RestartKind::Forced);
    }

    /// Monday 08:00–18:00 on weekdays, without jitter: online an hour past the default
    /// active hours (08:00–17:00), as an office PC whose user stays late.
    fn office_until_18() -> DayModel {
        DayModel::new(Profile::Office {
            start: 8 * HOUR,
            end: 18 * HOUR,
            jitter: 0,
            absent_days: 0.0,
            days: WEEKDAYS,
        })
    }

    /// When and how the restart of a quality update found at 09:00 and installed at 10:00 on
    /// Monday is planned, the user's shutdown completing it with probability `shutdown`.
    fn restart_of_monday_install(
        p: &DayModel,
        shutdown: f64,
    ) -> (Result<Option<Time>, Option<Time>>, RestartKind) {
        let params = ClientParams {
            shutdown_completes_restart: shutdown,
            ..ClientParams::default()
        };
        let c = Client::new(&params);
        let pol = Policy::default_named("p");
        let mut st = state();
        st.first_seen = t32(9 * HOUR);
        let at = c.installed(
            &mut st,
            &mut rngs(1),
            &avail(p),
            &pol,
            Category::Quality,
            10 * HOUR,
            0.0,
        );
        (at, st.restart)
    }

    #[test]
    fn an_attended_office_device_pending_restart_is_not_restarted_automatically_at_17_but_at_its_shutdown_or_deadline()
     {
        let p = office_until_18();
        assert!(p.attended);
        // Online 17:00–18:00 outside active hours, but in use: the user's shutdown at 18:00.
        assert_eq!(
            restart_of_monday_install(&p, 1.0),
            (Ok(Some(18 * HOUR)), RestartKind::User)
        );
        // No shutdown completes it: forced at the deadline, Monday 09:00 + 7 d, online then.
        assert_eq!(
            restart_of_monday_install(&p, 0.0),
            (Ok(Some(7 * DAY + 9 * HOUR)), RestartKind::Forced)
        );
    }

    #[test]
    fn attended_false_on_an_office_profile_restores_the_automatic_restart_at_the_active_hours_end()
    {
        let p = office_until_18().with_attended(false);
        for shutdown in [0.0, 1.0] {
            assert_eq!(
                restart_of_monday_install(&p, shutdown),
                (Ok(Some(17 * HOUR)), RestartKind::Auto)
            );
        }
    }

    #[test]
    fn a_failed_install_waits_for_the_next_scan() {
        let params = ClientParams {
            install_failure: 1.0,
            scan_jitter: 0,
            ..ClientParams::default()
        };
        let c = Client::new(&params);
        let pol = Policy::default_named("p");
        let p = DayModel::new(Profile::AlwaysOn);
        let mut st = state();
        st.work = 0;
        let r = c.installed(
            &mut st,
            &mut rngs(1),
            &avail(&p),
            &pol,
            Category::Quality,
            10 * HOUR,
            0.0,
        );
        assert_eq!(r, Err(Some(32 * HOUR)));
        assert_eq!(st.failed, 0);
        assert_eq!(st.phase, Phase::Waiting);
    }

    /// A device restart-pending since `pending` for a regular quality update, with its
    /// restart planned (or not) as `planned`.
    fn restart_pending(pending: Time, planned: Option<(Time, Time)>) -> DeviceState {
        let mut st = state();
        st.work = 0;
        st.work_deployment = 0;
        st.first_seen = 0;
        st.pending_since = t32(pending);
        st.phase = Phase::PendingRestart;
        st.restart = RestartKind::User;
        if let Some((at, _)) = planned {
            st.phase = Phase::Restarting;
            st.set_restart_at(at);
        }
        st
    }

    /// A device downloading a regular quality update it found at `t`, its install planned to
    /// begin half an hour later.
    fn downloading_from(t: Time) -> DeviceState {
        let mut st = downloading_for_maintenance(t);
        st.pending_since = t32(t + 30 * MINUTE);
        st
    }

    /// A device downloading a regular quality update it found at `t`, its install left to
    /// Automatic Maintenance (no install planned).
    fn downloading_for_maintenance(t: Time) -> DeviceState {
        let params = ClientParams::default();
        let p = DayModel::new(Profile::AlwaysOn);
        let mut st = state();
        Client::new(&params).begin(&mut st, &mut rngs(5), &avail(&p), quality_offer(t), t);
        st
    }

    /// A regular quality update of deployment 0, its deadline clock started at `deadline_from`.
    fn quality_offer(deadline_from: Time) -> Offer {
        Offer {
            content: 0,
            deployment: 0,
            category: Category::Quality,
            expedited: false,
            forced_reboot_after: None,
            optional: false,
            hotpatch: false,
            deadline_from,
        }
    }

    /// What an expedite (`supersedes`, `grace`) learnt at `learn` does to an always-online
    /// device under `pol` whose pending timer is `timer`.
    fn expedite(
        st: &mut DeviceState,
        pol: &Policy,
        supersedes: bool,
        grace: Secs,
        learn: Time,
        timer: Option<Time>,
    ) -> Expedited {
        let params = ClientParams::default();
        let p = DayModel::new(Profile::AlwaysOn);
        let c = Client::new(&params);
        let a = avail(&p);
        let mut r = rngs(1);
        c.expedite_busy(
            st,
            &mut r,
            &a,
            pol,
            Category::Quality,
            supersedes,
            grace,
            learn,
            timer,
        )
    }

    #[test]
    fn an_expedite_forces_a_pending_restart_its_grace_after_the_install() {
        // Installed at 10 h, user restart planned for day 6 (ending 10 minutes later); the
        // expedite (grace 1 day) is learnt at 20 h: forced at 34 h, the same 10 minutes.
        let mut st = restart_pending(10 * HOUR, Some((6 * DAY, 6 * DAY + 600)));
        let pol = Policy::default_named("p");
        let change = expedite(&mut st, &pol, false, DAY, 20 * HOUR, Some(6 * DAY + 600));
        assert_eq!(change, Expedited::Terms(Some(34 * HOUR + 600)));
        assert_eq!(st.restart_at(), 34 * HOUR);
        assert_eq!(st.restart, RestartKind::Forced);
        assert_eq!(st.phase, Phase::Restarting);
    }

    #[test]
    fn an_expedite_learnt_after_the_grace_forces_the_restart_at_once() {
        // No restart planned within the horizon (no deadline, no willing user).
        let mut st = restart_pending(HOUR, None);
        let pol = Policy::default_named("p");
        let change = expedite(&mut st, &pol, false, 0, 3 * DAY, None);
        let Expedited::Terms(Some(end)) = change else {
            panic!("expected a forced restart, got {change:?}");
        };
        assert_eq!(st.restart_at(), 3 * DAY);
        assert!(end > 3 * DAY, "the restart's duration is drawn");
    }

    #[test]
    fn a_restart_planned_before_the_expedite_is_learnt_or_forced_is_not_moved() {
        let pol = Policy::default_named("p");
        let mut st = restart_pending(HOUR, Some((5 * HOUR, 5 * HOUR + 600)));
        let change = expedite(&mut st, &pol, false, DAY, 6 * HOUR, Some(5 * HOUR + 600));
        assert_eq!(change, Expedited::Unchanged);
        assert_eq!(st.restart_at(), 5 * HOUR);
        // Planned at 20 h, before the forced restart at 25 h: kept.
        let mut st = restart_pending(HOUR, Some((20 * HOUR, 20 * HOUR + 600)));
        let change = expedite(&mut st, &pol, false, DAY, 2 * HOUR, Some(20 * HOUR + 600));
        assert_eq!(change, Expedited::Unchanged);
        assert_eq!(st.restart_at(), 20 * HOUR);
        assert_eq!(st.restart, RestartKind::User);
    }

    #[test]
    fn a_newer_expedited_update_supersedes_the_pending_one_and_cancels_its_restart() {
        let pol = Policy::default_named("p");
        let mut st = restart_pending(HOUR, Some((3 * DAY, 3 * DAY + 600)));
        let change = expedite(&mut st, &pol, true, DAY, 2 * DAY, Some(3 * DAY + 600));
        assert_eq!(change, Expedited::Superseded(2 * DAY));
        assert_eq!(st.phase, Phase::Waiting);
        assert_eq!(st.work, NONE);
        assert_eq!(st.quality, NONE, "nothing installed yet");
    }

    #[test]
    fn an_expedite_learnt_while_downloading_sets_the_terms_of_the_restart_to_come() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let pol = Policy::default_named("p");
        let mut st = downloading_from(HOUR);
        // The install ends at 3 h.
        let change = expedite(&mut st, &pol, false, 2 * DAY, 2 * HOUR, Some(3 * HOUR));
        assert_eq!(change, Expedited::Terms(None));
        st.pending_since = t32(3 * HOUR);
        assert_eq!(
            c.effective_deadline(&st, &pol, Category::Quality),
            3 * HOUR + 2 * DAY,
            "the expedite's grace from the install, not the policy's 7-day deadline"
        );
    }

    #[test]
    fn an_expedite_never_postpones_a_restart_the_policy_forces_sooner() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let pol = Policy {
            quality_deadline: Some(0),
            quality_grace: 0,
            ..Policy::default_named("p")
        };
        let mut st = downloading_from(HOUR);
        let before = st.clone();
        let change = expedite(&mut st, &pol, false, 2 * DAY, 2 * HOUR, Some(5 * HOUR));
        assert_eq!(change, Expedited::Unchanged);
        assert_eq!(st.work_forced_after, before.work_forced_after);
        st.pending_since = t32(5 * HOUR);
        assert_eq!(c.effective_deadline(&st, &pol, Category::Quality), 5 * HOUR);
    }

    #[test]
    fn an_older_install_that_ends_before_the_device_learns_of_a_newer_expedite_goes_ahead() {
        let pol = Policy::default_named("p");
        let mut st = downloading_from(HOUR);
        // Learnt at 10 h, the install ending at 6 h: untouched.
        let change = expedite(&mut st, &pol, true, DAY, 10 * HOUR, Some(6 * HOUR));
        assert_eq!(change, Expedited::Unchanged);
        assert_eq!(st.phase, Phase::Downloading);
        // Learnt at 4 h: the newer update replaces it.
        let change = expedite(&mut st, &pol, true, DAY, 4 * HOUR, Some(6 * HOUR));
        assert_eq!(change, Expedited::Superseded(4 * HOUR));
        assert_eq!(st.phase, Phase::Waiting);
    }

    #[test]
    fn a_newer_expedite_replaces_an_install_that_would_end_after_the_horizon() {
        // With a deadline and without one (where the download's end is the timer), a device
        // whose work ends after the horizon (no timer) has not finished it when it learns of
        // the newer expedite: the newer update replaces it, as it would one ending in an hour.
        // The install planned, or the download itself ending after the horizon (no install
        // planned yet).
        for pol in [Policy::default_named("p"), no_deadline()] {
            for mut st in [downloading_from(HOUR), downloading_for_maintenance(HOUR)] {
                let change = expedite(&mut st, &pol, true, DAY, 4 * HOUR, None);
                assert_eq!(change, Expedited::Superseded(4 * HOUR), "{pol:?}");
                assert_eq!(st.phase, Phase::Waiting);
            }
        }
    }

    /// A policy without a quality deadline, its maintenance at 02:00.
    fn no_deadline() -> Policy {
        Policy {
            quality_deadline: None,
            ..Policy::default_named("p")
        }
    }

    /// A device that found a regular quality update under `no_deadline` at 10:00 on the
    /// scenario's first day (a Monday) and whose download ended at 11:00.
    fn downloaded_at_11(p: &DayModel) -> (DeviceState, Option<Time>) {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let mut st = downloading_for_maintenance(10 * HOUR);
        let at = c.downloaded(
            &mut st,
            &mut rngs(2),
            &avail(p),
            &no_deadline(),
            Category::Quality,
            11 * HOUR,
        );
        (st, at)
    }

    #[test]
    fn an_update_without_a_deadline_installs_at_the_next_automatic_maintenance() {
        let p = DayModel::new(Profile::AlwaysOn);
        let (st, at) = downloaded_at_11(&p);
        assert_eq!(st.phase, Phase::Downloaded);
        assert_eq!(at, Some(DAY + 2 * HOUR), "Tuesday 02:00");
        let late = Policy {
            maintenance_time: 23 * HOUR,
            ..no_deadline()
        };
        let params = ClientParams::default();
        let c = Client::new(&params);
        let mut st = downloading_for_maintenance(10 * HOUR);
        let at = c.downloaded(
            &mut st,
            &mut rngs(2),
            &avail(&p),
            &late,
            Category::Quality,
            11 * HOUR,
        );
        assert_eq!(at, Some(23 * HOUR), "the same evening");
    }

    #[test]
    fn a_device_off_at_the_maintenance_time_installs_when_it_is_next_on() {
        let p = DayModel::new(Profile::Office {
            start: 8 * HOUR,
            end: 17 * HOUR,
            jitter: 0,
            absent_days: 0.0,
            days: WEEKDAYS,
        });
        let (_, at) = downloaded_at_11(&p);
        assert_eq!(at, Some(DAY + 8 * HOUR), "Tuesday when the office opens");
    }

    #[test]
    fn the_maintenance_begins_the_install_with_the_draw_a_planned_install_makes() {
        let params = ClientParams::default();
        let c = Client::new(&params);
        let p = DayModel::new(Profile::AlwaysOn);
        let (mut st, at) = downloaded_at_11(&p);
        let start = at.unwrap();
        let end = c
            .install_now(&mut st, &mut rngs(2), &avail(&p), Category::Quality, start)
            .unwrap();
        assert_eq!(st.phase, Phase::Installing);
        assert!(end > start);
        // The same draw as an install planned at the download's end (one stream, same order).
        let mut planned = downloading_for_maintenance(10 * HOUR);
        let planned_end = c
            .plan_install(
                &mut planned,
                &mut rngs(2),
                &avail(&p),
                Category::Quality,
                start,
            )
            .unwrap();
        assert_eq!(end, planned_end);
    }

    #[test]
    fn an_expedite_reaching_an_update_waiting_for_maintenance_installs_it_at_once() {
        let p = DayModel::new(Profile::AlwaysOn);
        let (mut st, at) = downloaded_at_11(&p);
        let change = expedite(&mut st, &no_deadline(), false, DAY, 15 * HOUR, at);
        assert_eq!(change, Expedited::Terms(Some(15 * HOUR)));
        assert_eq!(
            st.work_forced_after,
            t32(DAY),
            "the expedite's grace applies"
        );
        // Reached while still downloading: it installs when the download ends.
        let params = ClientParams::default();
        let c = Client::new(&params);
        let mut st = downloading_for_maintenance(10 * HOUR);
        let change = expedite(
            &mut st,
            &no_deadline(),
            false,
            DAY,
            10 * HOUR,
            Some(11 * HOUR),
        );
        assert_eq!(change, Expedited::Terms(None));
        c.downloaded(
            &mut st,
            &mut rngs(2),
            &avail(&p),
            &no_deadline(),
            Category::Quality,
            11 * HOUR,
        );
        assert_eq!(st.phase, Phase::Installing, "no wait for the maintenance");
    }

    #[test]
    fn a_newer_expedite_supersedes_an_update_waiting_for_maintenance_unless_it_began_first() {
        let p = DayModel::new(Profile::AlwaysOn);
        let (mut st, at) = downloaded_at_11(&p);
        let change = expedite(&mut st, &no_deadline(), true, DAY, 15 * HOUR, at);
        assert_eq!(change, Expedited::Superseded(15 * HOUR));
        assert_eq!((st.phase, st.work), (Phase::Waiting, NONE));
        // Learnt only after the maintenance began the install: the install goes ahead.
        let (mut st, at) = downloaded_at_11(&p);
        let change = expedite(&mut st, &no_deadline(), true, DAY, DAY + 3 * HOUR, at);
        assert_eq!(change, Expedited::Unchanged);
        assert_eq!(st.phase, Phase::Downloaded);
    }

    #[test]
    fn a_device_record_stays_within_64_bytes() {
        // 64 bytes a device is most of the 150-byte budget (README, performance).
        assert!(std::mem::size_of::<DeviceState>() <= 64);
    }

    #[test]
    fn active_hours_may_wrap_past_midnight() {
        let mut pol = Policy::default_named("p");
        pol.active_start = 22 * HOUR;
        pol.active_end = 6 * HOUR;
        assert!(pol.in_active_hours(23 * HOUR));
        assert!(pol.in_active_hours(HOUR));
        assert!(!pol.in_active_hours(12 * HOUR));
    }

    #[test]
    fn an_automatic_restart_waits_for_the_end_of_local_active_hours_after_the_clocks_change() {
        // Monday 2026-03-23; London's clocks go forward on Sunday 2026-03-29 (01:00 UTC).
        let start = crate::time::parse_instant("2026-03-23")
            .unwrap()
            .as_second();
        let tz = crate::time::parse_time_zone("Europe/London").unwrap();
        let zone = crate::time::Zone::new(&tz, start, 30 * DAY);
        let clock = zone.clock();
        let pol = Policy::default_named("p");
        assert_eq!((pol.active_start, pol.active_end), (8 * HOUR, 17 * HOUR));
        // Monday 10:00 GMT: active hours end at 17:00 GMT.
        let x = first_outside_active(&pol, &clock, 10 * HOUR, 30 * DAY);
        assert_eq!(x, Some(17 * HOUR));
        // A week later, 10:00 BST (09:00 UTC): they end at 17:00 BST, 16:00 UTC, not an hour
        // into the evening (as +00:00 would have it) nor inside them (as 18:00 UTC would).
        let from = 7 * DAY + 9 * HOUR;
        let x = first_outside_active(&pol, &clock, from, 30 * DAY).unwrap();
        assert_eq!(x, 7 * DAY + 16 * HOUR);
        assert!(!pol.in_active_hours(clock.time_of_day(x)));
        assert!(pol.in_active_hours(clock.time_of_day(x - 1)));
        // Automatic Maintenance at 02:00 local: Tuesday 02:00 BST is 01:00 UTC.
        let p = DayModel::new(Profile::AlwaysOn);
        let a = Availability { clock, ..avail(&p) };
        assert_eq!(maintenance_after(&pol, &a, from), Some(8 * DAY + HOUR));
        assert_eq!(maintenance_after(&pol, &a, 10 * HOUR), Some(DAY + 2 * HOUR));
    }
}
