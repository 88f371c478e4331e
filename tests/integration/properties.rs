//! Property tests: random and mutated scenario files never make the loader panic, and random
//! valid scenarios keep the model's invariants. Case counts are small so CI stays fast; raise them
//! with `PROPTEST_CASES=100000 cargo test --release properties` to fuzz longer.

use std::path::Path;

use proptest::prelude::*;
use rollsim::metrics::State;
use rollsim::{Error, Scenario, sim};

fn shipped() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    v.sort();
    v
}

/// One edit of a scenario text.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    FlipChar(usize, char),
    Truncate(usize),
    InsertLine(usize, String),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let junk = prop_oneof![
        Just("x = 1".to_string()),
        Just("[[segments]]".to_string()),
        Just("devices = -5".to_string()),
        Just("horizon = \"P-1D\"".to_string()),
        Just("share = 2.0".to_string()),
        Just("threshold = 1000".to_string()),
        Just("[groups]\ng = { filter = 'a = ' }".to_string()),
        Just("graph = \"missing.json\"".to_string()),
        "[a-z_]{1,8} = \"[ -~]{0,12}\"",
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), proptest::char::range(' ', '~')).prop_map(|(i, c)| Edit::FlipChar(i, c)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), junk).prop_map(|(i, s)| Edit::InsertLine(i, s)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(text: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let n = lines.len().max(1);
    match e {
        Edit::DeleteLine(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
        }
        Edit::DuplicateLine(i) => {
            if let Some(l) = lines.get(i % n).cloned() {
                lines.insert(i % n, l);
            }
        }
        Edit::FlipChar(i, c) => {
            let mut chars: Vec<char> = lines.join("\n").chars().collect();
            if !chars.is_empty() {
                let k = i % chars.len();
                chars[k] = *c;
            }
            return chars.into_iter().collect();
        }
        Edit::Truncate(i) => {
            let t = lines.join("\n");
            let mut k = i % (t.len() + 1);
            while !t.is_char_boundary(k) {
                k -= 1;
            }
            return t[..k].to_string();
        }
        Edit::InsertLine(i, s) => lines.insert(i % n, s.clone()),
        Edit::SwapLines(a, b) => {
            if !lines.is_empty() {
                lines.swap(a % n, b % n);
            }
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_load_or_fail_cleanly_and_never_panic(
        which in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let all = shipped();
        let mut text = all[which % all.len()].clone();
        for e in &edits {
            text = apply(&text, e);
        }
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        match Scenario::parse(&text, "mutated.toml", "mutated", &base) {
            Ok(_) | Err(Error::Input(_)) | Err(Error::Read { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
        }
    }
}

/// A small random but valid scenario.
fn small_scenario() -> impl Strategy<Value = String> {
    (
        1u32..60,
        1u32..40,
        prop_oneof![Just("always_on"), Just("office"), Just("laptop"), Just("dormant")],
        prop_oneof![Just(""), Just("devicesPerOffer = 7"), Just("endDateTime = \"2026-01-15T00:00:00Z\"")],
        0u64..5,
        any::<bool>(),
        0.0f64..0.5,
        0u8..3,
    )
        .prop_map(|(a, b, profile, rollout, pause_day, expedite, rollback, deadlines)| {
            let policy = match deadlines {
                // Without deadlines, installs wait for Automatic Maintenance (`downloaded`).
                1 => "[policies.default]\nquality_deadline = \"none\"\nfeature_deadline = \"none\"\n",
                // Older clients' deadline clock: from the offer (quality), from pending (feature).
                2 => "[policies.default]\ndeadline_clock = \"offer\"\n",
                _ => "",
            };
            let rollout = if rollout.is_empty() {
                String::new()
            } else {
                format!(", schedule = {{ gradualRollout = {{ {rollout} }} }}")
            };
            let exp = if expedite { "expedite = { isExpedited = true }, " } else { "" };
            format!(
                r##"
[simulation]
start = "2026-01-12T00:00:00Z"
horizon = "P8D"
seed = 3
sample_interval = "PT2H"

[[segments]]
name = "a"
devices = {a}
availability = {{ profile = "{profile}" }}
attributes = {{ model = ["X", "Y"] }}

[[segments]]
name = "b"
devices = {b}
availability = {{ profile = "always_on" }}
attributes = {{ model = "Z" }}

[[deployments]]
name = "q"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.qualityUpdateReference", releaseDateTime = "2026-01-12T00:00:00Z" }}
audience = {{ members = ["all"], exclusions = ["b-1"] }}
settings = {{ {exp}userExperience = {{ daysUntilForcedReboot = 1 }} }}

[[deployments]]
name = "f"
content = {{ "@odata.type" = "#microsoft.graph.windowsUpdates.featureUpdateReference", version = "24H2" }}
settings = {{ monitoring = {{ monitoringRules = [{{ signal = "rollback", threshold = 20, action = "pauseDeployment" }}] }}{rollout} }}

[[issues]]
name = "z"
content = "f"
when = 'model = "Z"'
rollback = {rollback}
known = {{ after_devices = 2 }}
release = {{ after = "P2D" }}

[[actions]]
at = "P{pause_day}DT3H"
deployment = "f"
do = "pause"

[[actions]]
at = "P{resume}D"
deployment = "f"
do = "resume"

{policy}"##,
                resume = pause_day + 2
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_scenarios_keep_the_invariants(text in small_scenario(), seed in 0u64..1000) {
        let sc = Scenario::parse(&text, "gen.toml", "gen", Path::new(".")).expect("valid");
        let r = sim::run(&sc, seed, 0).expect("runs");
        for (d, dep) in sc.deployments.iter().enumerate() {
            let series = r.recorder.series(d);
            let c = &r.recorder.counters[d];
            for row in &series {
                // States partition the audience: the sum never exceeds the fleet, and the final
                // sample sums exactly to the audience at the end.
                prop_assert!(row.iter().sum::<u64>() <= sc.devices());
                prop_assert!(row[State::Compliant as usize] <= row.iter().sum::<u64>());
            }
            let last = series.last().expect("samples");
            prop_assert_eq!(last.iter().sum::<u64>(), c.targeted, "{}", dep.name);
            prop_assert!(c.compliant <= c.targeted);
            prop_assert!(c.offered <= sc.devices());
            // Threshold crossings are in order.
            let reached: Vec<u64> = c.reached.iter().flatten().copied().collect();
            prop_assert!(reached.windows(2).all(|w| w[0] <= w[1]));
        }
        // No offers while paused: no wave or offer event between a pause and the next state change.
        let mut paused = false;
        for e in r.state_changes.iter().filter(|e| e.deployment == 1) {
            match e.event {
                "state_change" => paused = e.state == "paused",
                "wave" | "offer" => prop_assert!(!paused, "offer while paused at {}", e.at),
                _ => {}
            }
        }
        // The excluded device b-1 is never in the audience of q.
        prop_assert!(r.recorder.counters[0].targeted < sc.devices());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// `segments.csv`'s restart columns of a deployment add up to its `summary.csv` ones, and so
    /// do each segment's weekday × hour cells of `restarts.csv` to the segment's.
    #[test]
    fn the_restarts_of_a_deployments_segments_add_up_to_its_own(text in small_scenario(), seed in 0u64..1000) {
        let sc = Scenario::parse(&text, "gen.toml", "gen", Path::new(".")).expect("valid");
        let r = sim::run(&sc, seed, 0).expect("runs");
        for (d, dep) in sc.deployments.iter().enumerate() {
            let c = &r.recorder.counters[d];
            let totals = [c.forced_restarts, c.auto_restarts, c.user_restarts, c.restarts_in_active_hours];
            let mut by_segment = [0u64; 4];
            for row in 0..r.recorder.segment_row_count() {
                let s = r.recorder.segment(d, row).restarts;
                let mut by_cell = [0u64; 3];
                for (_, _, kind, n) in r.recorder.restart_grid(d, row) {
                    by_cell[kind as usize] += n;
                }
                prop_assert_eq!(by_cell, [s.forced, s.auto, s.user], "{} row {}", dep.name, row);
                for (t, n) in by_segment.iter_mut().zip([s.forced, s.auto, s.user, s.in_active_hours]) {
                    *t += n;
                }
            }
            prop_assert_eq!(by_segment, totals, "{}", dep.name);
        }
    }
}
