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

use crate::client::index16;
use crate::rng::{RunKey, Stream, shuffle};
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

/// `total` split in proportion to `weights` (not all zero; they need not add up to 1) into whole
/// counts that add up to `total`: each gets the floor of its exact share, and the units left go
/// to the largest remainders, the earlier one first on a tie.
pub fn largest_remainder(weights: &[f64], total: u64) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let missing = total.saturating_sub(counts.iter().sum());
    for &i in order.iter().cycle().take(missing as usize) {
        counts[i] += 1;
    }
    counts
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
    /// Generates the devices of `segments`, dealing out their attributes on exact shares.
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
            // Each attribute of more than one value is dealt out on exact shares: its values'
            // counts are the segment's devices split by the weights (largest remainder, as
            // segments split a fleet), in a random order from the stream of the segment's and the
            // attribute's names. So "5 % have the bad driver" is 5 % in every replication, and
            // which devices have it changes with the seed; the attributes are independent of
            // each other. (Before 2026-11-25 each device drew its values: a binomial count, 4.0
            // to 5.4 % of 6 000 devices over eight seeds for a 5 % weight.)
            let dealt: Vec<Option<Vec<u32>>> = plan
                .iter()
                .zip(&seg.attributes)
                .map(|((_, vals, _), (name, _))| {
                    (vals.len() > 1).then(|| {
                        let weights: Vec<f64> = vals.iter().map(|&(_, w)| w).collect();
                        let counts = largest_remainder(&weights, u64::from(seg.devices));
                        let mut column: Vec<u32> = vals
                            .iter()
                            .zip(counts)
                            .flat_map(|(&(v, _), n)| std::iter::repeat_n(v, n as usize))
                            .collect();
                        let mut rng =
                            key.rng_named(Stream::Fleet, &format!("{}\u{0}{name}", seg.name));
                        shuffle(&mut column, &mut rng);
                        column
                    })
                })
                .collect();
            let mut combo = vec![u32::MAX; attributes.keys.len()];
            for i in 0..seg.devices as usize {
                combo.fill(u32::MAX);
                for ((pos, vals, _), column) in plan.iter().zip(&dealt) {
                    combo[*pos] = match column {
                        Some(c) => c[i],
                        None => vals[0].0,
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
        assert_eq!(l9, 500, "an even list is dealt out evenly");
    }

    #[test]
    fn weights_are_exact_shares_of_the_segment_dealt_out_to_different_devices_by_seed() {
        let driver = || {
            AttrChoice::Weighted(vec![
                ("ok".into(), 0.75),
                ("old".into(), 0.2),
                ("bad".into(), 0.05),
            ])
        };
        let model = || AttrChoice::Weighted(vec![("L7".into(), 1.0), ("L9".into(), 1.0)]);
        let segs = vec![spec(
            "office",
            6000,
            vec![("driver".into(), driver()), ("model".into(), model())],
        )];
        let bad = |seed: u64| -> Vec<u32> {
            let fleet = Fleet::generate(&segs, &RunKey::new(seed, 0));
            (0..6000)
                .filter(|&i| fleet.attributes.get(fleet.device(i).combo, "driver") == Some("bad"))
                .collect()
        };
        for seed in 1..=8 {
            assert_eq!(bad(seed).len(), 300, "seed {seed}: 5 % of 6 000");
        }
        assert_ne!(bad(1), bad(2), "other devices with another seed");
        assert_eq!(bad(1), bad(1), "the same with the same seed");
        // Two attributes are dealt out independently: about half the bad drivers are on L9.
        let fleet = Fleet::generate(&segs, &RunKey::new(1, 0));
        let on_l9 = bad(1)
            .into_iter()
            .filter(|&i| fleet.attributes.get(fleet.device(i).combo, "model") == Some("L9"))
            .count();
        assert!((110..190).contains(&on_l9), "{on_l9} of 300");
    }

    #[test]
    fn largest_remainder_splits_a_total_exactly_in_proportion() {
        assert_eq!(
            largest_remainder(&[0.75, 0.2, 0.05], 6000),
            [4500, 1200, 300]
        );
        assert_eq!(largest_remainder(&[1.0, 1.0, 1.0], 7), [3, 2, 2]);
        assert_eq!(
            largest_remainder(&[2.0, 1.0], 3),
            [2, 1],
            "weights need not add up to 1"
        );
        assert_eq!(largest_remainder(&[0.0, 0.0], 5), [0, 0]);
        assert_eq!(largest_remainder(&[], 5), Vec::<u64>::new());
        assert_eq!(largest_remainder(&[0.5, 0.5], 0), [0, 0]);
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
