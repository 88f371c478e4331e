//! `rollsim run --per-device`: each device's outcome per deployment (`devices.csv`), for an admin
//! to join to an inventory: which devices ended non-compliant, which were restarted by force,
//! when each became compliant.
//!
//! Off by default: the counters of [`crate::metrics`] never look at a device twice, and a
//! million-device run must stay as fast and as small as before. With the flag, [`PerDevice`]
//! keeps 9 bytes per device and deployment (two times and a byte of flags), outside the device
//! record, which must stay within a cache line; the simulation pays one branch on an `Option`
//! where it records a transition or a restart.
//!
//! A row is written for each device and deployment whose audience the device was in at some
//! point of the run (from the start, or joining it by an action): one that left the audience
//! has an empty `state`, as it has no state with respect to the deployment at the end.

use crate::client::{Restart, RestartKind};
use crate::fleet::Fleet;
use crate::metrics::State;
use crate::report::{csv_text, fmt_hours};
use crate::scenario::Scenario;
use crate::time::Time;

/// No time recorded (an instant is at most ten years' seconds, far below it).
const NEVER: u32 = u32::MAX;
/// The device was in the deployment's audience at some point.
const SEEN: u8 = 1;
/// Its last restart began inside its active hours.
const IN_ACTIVE_HOURS: u8 = 2;
/// Bits 2–3: its last restart's kind, `1 + RestartKind` (0: none).
const KIND_SHIFT: u8 = 2;

/// Per device and deployment (`dev × deployments + dep`, as the simulation's cached states): when
/// it last became compliant, when its last counted restart began, and flags.
#[derive(Clone, Debug)]
pub struct PerDevice {
    deployments: usize,
    compliant: Vec<u32>,
    restart_at: Vec<u32>,
    flags: Vec<u8>,
}

fn secs(t: Time) -> u32 {
    t.min(u64::from(NEVER - 1)) as u32
}

impl PerDevice {
    /// Room for `devices` devices and `deployments` deployments, nothing recorded yet.
    pub fn new(devices: usize, deployments: usize) -> Self {
        let n = devices * deployments;
        PerDevice {
            deployments,
            compliant: vec![NEVER; n],
            restart_at: vec![NEVER; n],
            flags: vec![0; n],
        }
    }

    /// Device `dev`'s state for deployment `dep` went from `before` to `after` at `t`; called on
    /// every recorded change, so the common case (neither joining nor becoming compliant) is
    /// two comparisons.
    #[inline]
    pub fn observe(
        &mut self,
        dev: u32,
        dep: usize,
        t: Time,
        before: Option<State>,
        after: Option<State>,
    ) {
        let i = dev as usize * self.deployments + dep;
        if after.is_some() {
            self.flags[i] |= SEEN;
        }
        // A rollback and a second install make it compliant again: the last time is kept, the
        // one that stands at the end.
        if after == Some(State::Compliant) && before != after {
            self.compliant[i] = secs(t);
        }
    }

    /// A restart of `dev` that began at `at` was counted for deployment `dep` (the last one
    /// counted stands: a rolled-back device restarts again).
    pub fn restart(&mut self, dev: u32, dep: usize, at: Time, r: Restart) {
        let i = dev as usize * self.deployments + dep;
        self.restart_at[i] = secs(at);
        let kind = 1 + r.kind as u8;
        let active = if r.in_active_hours {
            IN_ACTIVE_HOURS
        } else {
            0
        };
        self.flags[i] = (self.flags[i] & SEEN) | (kind << KIND_SHIFT) | active;
    }

    /// The last restart counted for `dev` and `dep`, when it began, and whether inside active
    /// hours.
    fn last_restart(&self, i: usize) -> Option<(RestartKind, Time, bool)> {
        let kind = match (self.flags[i] >> KIND_SHIFT) & 3 {
            1 => RestartKind::Forced,
            2 => RestartKind::Auto,
            3 => RestartKind::User,
            _ => return None,
        };
        Some((
            kind,
            Time::from(self.restart_at[i]),
            self.flags[i] & IN_ACTIVE_HOURS != 0,
        ))
    }
}

/// What `devices.csv` is written from: the recorder, each device's state per deployment at the
/// end (the simulation's cached states, `u8::MAX` when not in the audience) and the fleet (its
/// segments and attributes).
#[derive(Clone, Debug)]
pub struct DeviceTable {
    /// Times and restarts.
    pub record: PerDevice,
    /// States at the end, `dev × deployments + dep`, as [`State`] indexes.
    pub states: Vec<u8>,
    /// The run's fleet.
    pub fleet: Fleet,
}

/// `devices.csv`: one row per deployment and device that was in its audience, deployments in
/// scenario order and devices in id order (segment by segment); then a column per fleet
/// attribute, empty when the device lacks it.
pub fn devices_csv(sc: &Scenario, t: &DeviceTable) -> Result<Vec<u8>, crate::Error> {
    let deps = sc.deployments.len();
    let attrs = &t.fleet.attributes;
    // Sized up front, generously: a buffer grown by doubling holds up to twice the file at its
    // last growth (a 100 000-device run peaked 14 MB higher), while capacity never written is
    // never touched, so an estimate too high costs address space only.
    let rows = t.record.flags.iter().filter(|f| *f & SEEN != 0).count();
    let longest = |it: &mut dyn Iterator<Item = usize>| it.max().unwrap_or(0);
    let per_row = 96
        + longest(&mut sc.deployments.iter().map(|d| d.name.len()))
        + 2 * longest(&mut sc.segments.iter().map(|s| s.name.len()))
        + longest(&mut sc.device_names.iter().flatten().map(String::len))
        + attrs
            .values
            .iter()
            .map(String::len)
            .sum::<usize>()
            .min(4096)
        + attrs.keys.len();
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.saturating_mul(per_row)));
    let err = |e: String| crate::Error::Write {
        path: "devices.csv".into(),
        message: e,
    };
    let write = |w: &mut csv::Writer<Vec<u8>>| -> csv::Result<()> {
        let mut header: Vec<String> = [
            "deployment",
            "device",
            "segment",
            "state",
            "compliant_hours",
            "restart",
            "restart_hours",
            "restart_in_active_hours",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(attrs.keys.iter().map(|k| csv_text(k)));
        w.write_record(&header)?;
        let mut row: Vec<String> = Vec::with_capacity(header.len());
        for (d, dep) in sc.deployments.iter().enumerate() {
            let dep_name = csv_text(&dep.name);
            for (si, seg) in t.fleet.segments.iter().enumerate() {
                let seg_name = csv_text(&seg.name);
                for index in 0..seg.len {
                    let dev = seg.first + index;
                    let i = dev as usize * deps + d;
                    if t.record.flags[i] & SEEN == 0 {
                        continue;
                    }
                    row.clear();
                    row.push(dep_name.clone());
                    row.push(csv_text(&sc.device_name(si as u16, index)));
                    row.push(seg_name.clone());
                    let state = State::ALL.get(usize::from(t.states[i]));
                    row.push(state.map_or(String::new(), |s| s.as_str().to_string()));
                    row.push(match t.record.compliant[i] {
                        NEVER => String::new(),
                        s => fmt_hours(Time::from(s)),
                    });
                    match t.record.last_restart(i) {
                        Some((kind, at, active)) => {
                            row.push(kind.as_str().to_string());
                            row.push(fmt_hours(at));
                            row.push(active.to_string());
                        }
                        None => row.extend([String::new(), String::new(), String::new()]),
                    }
                    let combo = t.fleet.combos().get(dev as usize).copied();
                    for k in &attrs.keys {
                        let v = combo.and_then(|c| attrs.get(c, k)).unwrap_or("");
                        row.push(csv_text(v));
                    }
                    w.write_record(&row)?;
                }
            }
        }
        Ok(())
    };
    // As `report::csv_bytes`: a row of the wrong length is an error returned, never dropped.
    write(&mut w).map_err(|e| err(e.to_string()))?;
    w.into_inner().map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_compliance_and_the_last_restart_stand() {
        let mut p = PerDevice::new(2, 2);
        p.observe(1, 0, 0, None, Some(State::Offered));
        p.observe(
            1,
            0,
            3600,
            Some(State::PendingRestart),
            Some(State::Compliant),
        );
        p.restart(
            1,
            0,
            1800,
            Restart {
                kind: RestartKind::Forced,
                in_active_hours: true,
            },
        );
        p.observe(1, 0, 7200, Some(State::Compliant), Some(State::Compliant));
        assert_eq!(p.compliant[2], 3600);
        p.observe(1, 0, 9000, Some(State::RolledBack), Some(State::Compliant));
        p.restart(
            1,
            0,
            8000,
            Restart {
                kind: RestartKind::User,
                in_active_hours: false,
            },
        );
        assert_eq!(p.compliant[2], 9000);
        assert_eq!(p.last_restart(2), Some((RestartKind::User, 8000, false)));
        assert_eq!(p.flags[2] & SEEN, SEEN);
        // Nothing of another device or deployment.
        assert_eq!(p.last_restart(3), None);
        assert_eq!(p.flags[0] | p.flags[1] | p.flags[3], 0);
    }
}
