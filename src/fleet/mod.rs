//! The fleet: devices generated from segments, with interned attributes.
//!
//! A segment says how many devices it has, their attributes (manufacturer, model, driver set,
//! software tags, OS build or any key=value), UTC offset or time zone, availability profile (with its dated off
//! periods, if any) and client policy.
//! A device stores only the id of its attribute *combination* (4 bytes, however many attributes
//! the fleet has: DESIGN.md §2 "Compact devices"); its segment is implied by its id, since each
//! segment's devices have consecutive ids. Attribute combinations are also what diverse wave
//! ordering works with.

pub mod availability;
pub mod filter;

use std::collections::HashMap;

use rand::RngExt;

use crate::client::index16;
use crate::rng::{RunKey, Stream};
pub use availability::{Availability, DayKey, DayModel, Profile};

/// How one attribute's value is chosen for each device of a segment.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrChoice {
    /// Every device gets this value.
    Fixed(String),
    /// Each device draws one value with these weights (equal weights spread devices evenly).
    Weighted(Vec<(String, f64)>),
}

/// A validated segment definition.
#[derive(Clone, Debug)]
pub struct SegmentSpec {
    /// Segment name, unique in the scenario.
    pub name: String,
    /// Number of devices (after resolving shares).
    pub devices: u32,
    /// Index of the client policy.
    pub policy: u16,
    /// Seconds east of UTC (0, and unused, when `time_zone` names a zone).
    pub utc_offset: i32,
    /// The devices' named time zone (`time_zone = "Europe/London"`), whose offset changes (daylight
    /// saving) their clocks follow; `None` for a fixed `utc_offset`.
    pub time_zone: Option<jiff::tz::TimeZone>,
    /// When devices are online.
    pub profile: Profile,
    /// Dated off periods (holidays), as inclusive ranges of local day numbers (days since
    /// 1970-01-01 in the devices' local time): offline all those days, whatever the profile.
    pub off: Vec<(i64, i64)>,
    /// Someone uses the devices whenever they are online, so they are never restarted
    /// automatically (`availability` module docs).
    pub attended: bool,
    /// Attribute name → how values are chosen, in a fixed (sorted) order.
    pub attributes: Vec<(String, AttrChoice)>,
}

/// Per attribute of a segment: its position among the keys, (value id, weight) pairs, weight sum.
type AttrPlan = (usize, Vec<(u32, f64)>, f64);

/// One device as the fleet describes it ([`Fleet::device`], [`Fleet::devices`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Index into [`Fleet::segments`].
    pub segment: u16,
    /// Index into [`Attributes::combos`].
    pub combo: u32,
}

/// Interned attribute names, values and combinations.
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    /// Attribute names, sorted.
    pub keys: Vec<String>,
    /// Interned values; a combination refers to them by index.
    pub values: Vec<String>,
    /// Each combination: one value index per key (`u32::MAX` when the device lacks the key).
    pub combos: Vec<Vec<u32>>,
    value_ids: HashMap<String, u32>,
    combo_ids: HashMap<Vec<u32>, u32>,
}

impl Attributes {
    fn value_id(&mut self, v: &str) -> u32 {
        if let Some(&id) = self.value_ids.get(v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.to_string());
        self.value_ids.insert(v.to_string(), id);
        id
    }

    fn combo_id(&mut self, combo: &[u32]) -> u32 {
        // Looked up by slice: a fleet has a handful of combinations and a million devices, so
        // only a new combination is copied (docs/performance.md: the start of a run).
        if let Some(&id) = self.combo_ids.get(combo) {
            return id;
        }
        let id = self.combos.len() as u32;
        self.combos.push(combo.to_vec());
        self.combo_ids.insert(combo.to_vec(), id);
        id
    }

    /// The value of attribute `key` in combination `combo`, if the device has it.
    pub fn get(&self, combo: u32, key: &str) -> Option<&str> {
        let k = self.keys.iter().position(|x| x == key)?;
        let v = *self.combos.get(combo as usize)?.get(k)?;
        self.values.get(v as usize).map(String::as_str)
    }
}

/// Per-segment facts the simulation needs at run time.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Segment name.
    pub name: String,
    /// Policy index.
    pub policy: u16,
    /// Seconds east of UTC.
    pub utc_offset: i32,
    /// Availability profile, prepared for drawing.
    pub profile: DayModel,
    /// First device id of the segment (devices of a segment are contiguous).
    pub first: u32,
    /// Number of devices.
    pub len: u32,
}

/// All devices of one run.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// Each device's attribute combination, by id (the segment is implied by the id: a copy
    /// would be 4 more bytes a device).
    combos: Vec<u32>,
    /// Segments by index.
    pub segments: Vec<Segment>,
    /// Interned attributes.
    pub attributes: Attributes,
}

impl Fleet {
    /// Generates the devices of `segments`; attribute draws come from each device's fleet stream.
    pub fn generate(segments: &[SegmentSpec], key: &RunKey) -> Fleet {
        let mut keys: Vec<String> = segments
            .iter()
            .flat_map(|s| s.attributes.iter().map(|(k, _)| k.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        let mut attributes = Attributes {
            keys,
            ..Attributes::default()
        };
        let total: usize = segments.iter().map(|s| s.devices as usize).sum();
        let mut combos = Vec::with_capacity(total);
        let mut out_segments = Vec::with_capacity(segments.len());
        for seg in segments {
            let first = combos.len() as u32;
            // Per-segment lookup: attribute position in the global key list, and interned values.
            let plan: Vec<AttrPlan> = seg
                .attributes
                .iter()
                .map(|(k, choice)| {
                    let pos = attributes.keys.iter().position(|x| x == k).unwrap_or(0);
                    let vals: Vec<(u32, f64)> = match choice {
                        AttrChoice::Fixed(v) => vec![(attributes.value_id(v), 1.0)],
                        AttrChoice::Weighted(vs) => vs
                            .iter()
                            .map(|(v, w)| (attributes.value_id(v), *w))
                            .collect(),
                    };
                    let total_w = vals.iter().map(|(_, w)| w).sum::<f64>();
                    (pos, vals, total_w)
                })
                .collect();
            let mut combo = vec![u32::MAX; attributes.keys.len()];
            for i in 0..seg.devices {
                let id = first + i;
                let mut rng = key.rng(Stream::Fleet, u64::from(id));
                combo.fill(u32::MAX);
                for (pos, vals, total_w) in &plan {
                    combo[*pos] = if vals.len() == 1 {
                        vals[0].0
                    } else {
                        let mut x = rng.random_range(0.0..*total_w);
                        let mut chosen = vals[vals.len() - 1].0;
                        for (v, w) in vals {
                            if x < *w {
                                chosen = *v;
                                break;
                            }
                            x -= w;
                        }
                        chosen
                    };
                }
                combos.push(attributes.combo_id(&combo));
            }
            out_segments.push(Segment {
                name: seg.name.clone(),
                policy: seg.policy,
                utc_offset: seg.utc_offset,
                profile: DayModel::new(seg.profile.clone())
                    .with_off(&seg.off)
                    .with_attended(seg.attended),
                first,
                len: seg.devices,
            });
        }
        Fleet {
            combos,
            segments: out_segments,
            attributes,
        }
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.combos.len()
    }

    /// Whether the fleet has no device.
    pub fn is_empty(&self) -> bool {
        self.combos.is_empty()
    }

    /// Device `id` (which must be below [`Fleet::len`]).
    pub fn device(&self, id: u32) -> Device {
        Device {
            segment: self.segment_index(id),
            combo: self.combos[id as usize],
        }
    }

    /// Every device, in id order.
    pub fn devices(&self) -> impl Iterator<Item = Device> + '_ {
        self.segments.iter().enumerate().flat_map(|(si, s)| {
            let ids = s.first as usize..(s.first + s.len) as usize;
            self.combos[ids].iter().map(move |&combo| Device {
                segment: index16(si),
                combo,
            })
        })
    }

    /// Each device's attribute combination, by id.
    pub fn combos(&self) -> &[u32] {
        &self.combos
    }

    /// The index of the segment of device `id`.
    pub fn segment_index(&self, id: u32) -> u16 {
        // Segments hold consecutive ids, in order; a segment may be empty.
        index16(self.segments.partition_point(|s| s.first + s.len <= id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, n: u32, attrs: Vec<(String, AttrChoice)>) -> SegmentSpec {
        SegmentSpec {
            name: name.into(),
            devices: n,
            policy: 0,
            utc_offset: 0,
            time_zone: None,
            profile: Profile::AlwaysOn,
            off: Vec::new(),
            attended: false,
            attributes: attrs,
        }
    }

    #[test]
    fn devices_are_contiguous_per_segment_and_attributes_are_interned() {
        let segs = vec![
            spec(
                "a",
                3,
                vec![("model".into(), AttrChoice::Fixed("D1".into()))],
            ),
            spec(
                "b",
                1000,
                vec![(
                    "model".into(),
                    AttrChoice::Weighted(vec![("L7".into(), 1.0), ("L9".into(), 1.0)]),
                )],
            ),
        ];
        let fleet = Fleet::generate(&segs, &RunKey::new(1, 0));
        assert_eq!(fleet.len(), 1003);
        assert_eq!(fleet.segments[1].first, 3);
        assert_eq!(fleet.attributes.combos.len(), 3);
        assert_eq!(
            fleet.attributes.get(fleet.device(0).combo, "model"),
            Some("D1")
        );
        let l9 = (3..1003)
            .filter(|&i| fleet.attributes.get(fleet.device(i as u32).combo, "model") == Some("L9"))
            .count();
        assert!((400..600).contains(&l9), "{l9} of 1000 drew L9");
    }

    #[test]
    fn a_device_s_segment_follows_from_its_id_across_empty_segments() {
        let segs = vec![
            spec("a", 2, vec![]),
            spec("empty", 0, vec![]),
            spec("b", 3, vec![]),
            spec("empty-too", 0, vec![]),
        ];
        let fleet = Fleet::generate(&segs, &RunKey::new(1, 0));
        let segments: Vec<u16> = (0..5).map(|id| fleet.device(id).segment).collect();
        assert_eq!(segments, [0, 0, 2, 2, 2]);
        assert_eq!(
            fleet.devices().map(|d| d.segment).collect::<Vec<_>>(),
            segments
        );
        assert_eq!(
            fleet.segments[usize::from(fleet.segment_index(4))].name,
            "b"
        );
    }
}
