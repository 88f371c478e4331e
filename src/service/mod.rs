//! The Windows Update for Business deployment service, as far as the core needs it.
//!
//! A deployment approves one piece of content for an audience and, from its start time, *offers* it
//! to audience members: the service marks the device as offered and the device sees the offer at its
//! next scan (`reference/deployment-service.md` §7: "Offer reaches device only at its next WU scan").
//! After everyone has been offered, the offer stands for devices that reconnect for as long as the
//! deployment exists (§1).
//!
//! Content is ordered within its category by `level`: for quality updates the release instant (a
//! newer security update satisfies an older one — `equivalentContent = latestSecurity`), for feature
//! updates the version string's order (`22H2` < `23H2` < `24H2`). A device offered several contents
//! takes quality before feature, expedited first, and the newest content of a category
//! (`deployment-service.md` §1: "same category → newer content wins").

use crate::client::{Category, DeviceState, NONE, Offer, Policy};
use crate::time::{Secs, Time};

/// One piece of deployable content.
#[derive(Clone, Debug, PartialEq)]
pub struct Content {
    /// Display name (`2026-01 security update`, `Windows 11 24H2`).
    pub name: String,
    /// Category.
    pub category: Category,
    /// Order within the category; higher satisfies lower.
    pub level: i64,
    /// Release instant relative to the scenario start (seconds, may be negative); policy deferrals
    /// count from here.
    pub release: i64,
}

/// Which devices a deployment targets.
#[derive(Clone, Debug, PartialEq)]
pub enum AudienceSpec {
    /// Every device of the fleet.
    All,
    /// The devices of these segments.
    Segments(Vec<u16>),
}

/// A validated deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentDef {
    /// Name, unique in the scenario.
    pub name: String,
    /// Content index.
    pub content: u16,
    /// When offering starts (`startDateTime`), relative to the scenario start.
    pub start: Time,
    /// Expedited quality update: push, ignore deferral and deadline policy.
    pub expedited: bool,
    /// `userExperience.daysUntilForcedReboot` as seconds.
    pub forced_reboot_after: Option<Secs>,
    /// Audience.
    pub audience: AudienceSpec,
}

/// Service-level events (the engine's second queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceEvent {
    /// A deployment reaches its start time and offers to its audience.
    Start(u16),
}

/// A compact set of device ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceSet {
    bits: Vec<u64>,
}

impl DeviceSet {
    /// An empty set able to hold `n` devices.
    pub fn with_len(n: usize) -> Self {
        Self {
            bits: vec![0; n.div_ceil(64)],
        }
    }
    /// Whether `d` is in the set.
    pub fn contains(&self, d: u32) -> bool {
        self.bits
            .get(d as usize / 64)
            .is_some_and(|w| w >> (d % 64) & 1 == 1)
    }
    /// Adds `d`; returns whether it was new.
    pub fn insert(&mut self, d: u32) -> bool {
        match self.bits.get_mut(d as usize / 64) {
            Some(w) => {
                let was = *w >> (d % 64) & 1 == 1;
                *w |= 1 << (d % 64);
                !was
            }
            None => false,
        }
    }
}

/// What a scan finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanAnswer {
    /// Install this.
    Install(Offer),
    /// Something is offered but policy defers it until then.
    NotBefore(Time),
    /// Nothing to do.
    Nothing,
}

/// The simulated service: deployments, their audiences and what has been offered.
#[derive(Clone, Debug)]
pub struct Service<'a> {
    /// Content table.
    pub contents: &'a [Content],
    /// Deployments.
    pub deployments: &'a [DeploymentDef],
    /// Audience members per deployment.
    pub members: Vec<DeviceSet>,
    /// Devices offered per deployment.
    pub offered: Vec<DeviceSet>,
}

impl<'a> Service<'a> {
    /// Builds audiences for a fleet of `n` devices whose segments span `segment_ranges`.
    pub fn new(
        contents: &'a [Content],
        deployments: &'a [DeploymentDef],
        n: usize,
        segment_ranges: &[(u32, u32)],
    ) -> Self {
        let members = deployments
            .iter()
            .map(|d| {
                let mut set = DeviceSet::with_len(n);
                match &d.audience {
                    AudienceSpec::All => (0..n as u32).for_each(|i| {
                        set.insert(i);
                    }),
                    AudienceSpec::Segments(segs) => {
                        for &s in segs {
                            if let Some(&(first, len)) = segment_ranges.get(s as usize) {
                                (first..first + len).for_each(|i| {
                                    set.insert(i);
                                });
                            }
                        }
                    }
                }
                set
            })
            .collect();
        let offered = deployments.iter().map(|_| DeviceSet::with_len(n)).collect();
        Self {
            contents,
            deployments,
            members,
            offered,
        }
    }

    /// The service events to schedule at the beginning of a run.
    pub fn initial_events(&self) -> Vec<(Time, ServiceEvent)> {
        (0..self.deployments.len())
            .map(|i| (self.deployments[i].start, ServiceEvent::Start(i as u16)))
            .collect()
    }

    /// Handles a service event at `t`; returns the devices newly offered, each with whether the
    /// service pushes to it (expedite).
    pub fn handle(&mut self, ev: ServiceEvent, n: usize) -> (u16, Vec<u32>, bool) {
        match ev {
            ServiceEvent::Start(d) => {
                let i = d as usize;
                let mut newly = Vec::new();
                for dev in 0..n as u32 {
                    if self.members[i].contains(dev) && self.offered[i].insert(dev) {
                        newly.push(dev);
                    }
                }
                (d, newly, self.deployments[i].expedited)
            }
        }
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

    /// What a scan by device `dev` (state `st`, policy `policy`) at `t` finds.
    pub fn scan(&self, dev: u32, st: &DeviceState, policy: &Policy, t: Time) -> ScanAnswer {
        let mut best: Option<(Offer, (bool, bool, i64))> = None;
        let mut later: Option<Time> = None;
        for (i, d) in self.deployments.iter().enumerate() {
            // A device that rolled back does not take the same content again within the horizon
            // (assumption; compare the 30-day block after a failed boot, KB4492307).
            let rolled_back = st.rolled_back && st.failed == d.content;
            if !self.offered[i].contains(dev) || self.device_has(st, d.content) || rolled_back {
                continue;
            }
            let c = &self.contents[d.content as usize];
            if !d.expedited {
                let eligible = c.release + policy.deferral(c.category) as i64;
                if eligible > t as i64 {
                    let at = eligible as Time;
                    later = Some(later.map_or(at, |l| l.min(at)));
                    continue;
                }
            }
            // Quality before feature, expedited first, newest content of the category.
            let rank = (c.category == Category::Quality, d.expedited, c.level);
            if best.as_ref().is_none_or(|(_, r)| rank > *r) {
                let offer = Offer {
                    content: d.content,
                    deployment: i as u16,
                    category: c.category,
                    expedited: d.expedited,
                    forced_reboot_after: d.forced_reboot_after,
                };
                best = Some((offer, rank));
            }
        }
        match (best, later) {
            (Some((o, _)), _) => ScanAnswer::Install(o),
            (None, Some(t)) => ScanAnswer::NotBefore(t),
            (None, None) => ScanAnswer::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{RunKey, Stream};

    fn contents() -> Vec<Content> {
        vec![
            Content {
                name: "jan".into(),
                category: Category::Quality,
                level: 1,
                release: 0,
            },
            Content {
                name: "feb".into(),
                category: Category::Quality,
                level: 2,
                release: 100,
            },
        ]
    }

    fn dep(content: u16, start: Time) -> DeploymentDef {
        DeploymentDef {
            name: format!("d{content}"),
            content,
            start,
            expedited: false,
            forced_reboot_after: None,
            audience: AudienceSpec::All,
        }
    }

    fn st() -> DeviceState {
        let k = RunKey::new(1, 0);
        DeviceState::new(k.rng(Stream::Scan, 0), k.rng(Stream::Pipeline, 0))
    }

    #[test]
    fn a_newer_quality_update_satisfies_an_older_one() {
        let c = contents();
        let d = vec![dep(0, 0)];
        let s = Service::new(&c, &d, 1, &[(0, 1)]);
        assert!(s.satisfies(1, 0));
        assert!(!s.satisfies(0, 1));
        assert!(!s.satisfies(NONE, 0));
    }

    #[test]
    fn only_offered_devices_find_content_and_newest_wins() {
        let c = contents();
        let d = vec![dep(0, 0), dep(1, 0)];
        let mut s = Service::new(&c, &d, 2, &[(0, 2)]);
        let pol = Policy::default_named("p");
        assert_eq!(s.scan(0, &st(), &pol, 500), ScanAnswer::Nothing);
        s.handle(ServiceEvent::Start(0), 2);
        s.handle(ServiceEvent::Start(1), 2);
        match s.scan(0, &st(), &pol, 500) {
            ScanAnswer::Install(o) => assert_eq!(o.content, 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deferral_postpones_the_offer_until_release_plus_deferral() {
        let c = contents();
        let d = vec![dep(1, 0)];
        let mut s = Service::new(&c, &d, 1, &[(0, 1)]);
        let mut pol = Policy::default_named("p");
        pol.quality_deferral = 1000;
        s.handle(ServiceEvent::Start(0), 1);
        assert_eq!(s.scan(0, &st(), &pol, 10), ScanAnswer::NotBefore(1100));
    }
}
