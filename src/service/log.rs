//! The deployment log: one line per service event, written to `events.csv`.
//!
//! Each kind of line is built by one function here from the values it reports, so that its
//! free-text `detail` (for people) and its numeric columns ([`EventNumbers`], for programs) are
//! written from the same numbers and cannot drift apart. The detail texts are unchanged from
//! before the numeric columns existed.

/// The numbers of a log line, `events.csv`'s columns after `detail`. `None` is an empty cell: the
/// event has no such number. A column means the same for every event that fills it (README,
/// Outputs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventNumbers {
    /// `wave`: the wave's number in its deployment, from 1.
    pub wave: Option<u32>,
    /// The devices the event adds or covers: offered (`offer`, `wave`), joined the audience (an
    /// `update_audience` action), flagged or matching (`hold_placed`).
    pub devices: Option<u64>,
    /// Devices that left the audience (an `update_audience` action).
    pub devices_removed: Option<u64>,
    /// `rule_fired`: the reports of the rule's signal counted when it fired.
    pub signals: Option<u64>,
    /// `rule_fired`: the devices the signals were counted against (offered or installed).
    pub denominator: Option<u64>,
    /// `rule_fired`, `alert`: the rule's threshold in percent; empty for an `offerFallback` rule,
    /// whose threshold is ignored (any report fires it).
    pub threshold: Option<u8>,
    /// `rule_fired`: distinct devices hit by an issue of the deployment's content by then.
    pub issue_hits: Option<u64>,
}

impl EventNumbers {
    /// The column names, in file order.
    pub const COLUMNS: [&'static str; 7] = [
        "wave",
        "devices",
        "devices_removed",
        "signals",
        "denominator",
        "threshold",
        "issue_hits",
    ];

    /// The cells, in the order of [`Self::COLUMNS`]: the number, or empty.
    pub fn cells(&self) -> [String; 7] {
        fn cell<T: ToString>(v: Option<T>) -> String {
            v.map_or(String::new(), |x| x.to_string())
        }
        [
            cell(self.wave),
            cell(self.devices),
            cell(self.devices_removed),
            cell(self.signals),
            cell(self.denominator),
            cell(self.threshold),
            cell(self.issue_hits),
        ]
    }
}

/// One line of the deployment log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Deployment index.
    pub deployment: u16,
    /// What happened: `state_change`, `offer`, `wave`, `action`, `rule_fired`, …
    pub event: &'static str,
    /// New state for state changes (`scheduled`, `offering`, …), else empty.
    pub state: &'static str,
    /// Reasons of a state change, `;`-separated when they stack, else empty.
    pub reason: String,
    /// Free text for people.
    pub detail: String,
    /// The numbers the detail holds, for programs.
    pub numbers: EventNumbers,
}

impl LogLine {
    /// A line of `event` with a detail and no numbers.
    fn text(deployment: u16, event: &'static str, detail: String) -> Self {
        LogLine {
            deployment,
            event,
            state: "",
            reason: String::new(),
            detail,
            numbers: EventNumbers::default(),
        }
    }

    /// The deployment's new state and its reasons.
    pub fn state_change(
        deployment: u16,
        state: &'static str,
        reason: String,
        detail: String,
    ) -> Self {
        LogLine {
            state,
            reason,
            ..Self::text(deployment, "state_change", detail)
        }
    }

    /// Devices offered at once (no gradual rollout, or past a date-driven rollout's end).
    pub fn offer(deployment: u16, offered: usize) -> Self {
        LogLine {
            numbers: EventNumbers {
                devices: Some(offered as u64),
                ..EventNumbers::default()
            },
            ..Self::text(deployment, "offer", format!("{offered} devices offered"))
        }
    }

    /// Wave number `wave` of a gradual rollout, `offered` devices offered (0 when everything
    /// it reached was held or had left).
    pub fn wave(deployment: u16, wave: u32, offered: usize) -> Self {
        LogLine {
            numbers: EventNumbers {
                wave: Some(wave),
                devices: Some(offered as u64),
                ..EventNumbers::default()
            },
            ..Self::text(
                deployment,
                "wave",
                format!("wave {wave}: {offered} devices offered"),
            )
        }
    }

    /// An admin action without numbers (`pause`, `resume`, `set`, `archive`, `patch`), its
    /// detail the action's name and what it did.
    pub fn action(deployment: u16, detail: String) -> Self {
        Self::text(deployment, "action", detail)
    }

    /// An `update_audience` action: `joined` devices entered the audience (`again` of them had
    /// been offered before, and have that offer again), `left` devices left it.
    pub fn update_audience(deployment: u16, joined: usize, again: usize, left: usize) -> Self {
        let again_text = if again > 0 {
            format!(" ({again} of them offered before: offered again)")
        } else {
            String::new()
        };
        LogLine {
            numbers: EventNumbers {
                devices: Some(joined as u64),
                devices_removed: Some(left as u64),
                ..EventNumbers::default()
            },
            ..Self::action(
                deployment,
                format!("update_audience: {joined} devices joined{again_text}, {left} left"),
            )
        }
    }

    /// The likely-issue safeguard holds in force for the deployment, `flagged` devices flagged.
    pub fn likely_holds_placed(deployment: u16, flagged: usize) -> Self {
        LogLine {
            numbers: EventNumbers {
                devices: Some(flagged as u64),
                ..EventNumbers::default()
            },
            ..Self::text(
                deployment,
                "hold_placed",
                format!("likely-issue safeguard holds: {flagged} flagged devices"),
            )
        }
    }

    /// A known issue's safeguard hold, `matching` devices matching the issue.
    pub fn hold_placed(deployment: u16, issue: &str, matching: u64) -> Self {
        LogLine {
            numbers: EventNumbers {
                devices: Some(matching),
                ..EventNumbers::default()
            },
            ..Self::text(
                deployment,
                "hold_placed",
                format!("safeguard hold for \"{issue}\": {matching} matching devices"),
            )
        }
    }

    /// A hold released; `detail` says which.
    pub fn hold_released(deployment: u16, detail: String) -> Self {
        Self::text(deployment, "hold_released", detail)
    }

    /// A monitoring rule fired: `signals` reports of `signal` against `denominator` devices,
    /// compared with `threshold` percent (`None`: ignored, for `offerFallback`), taking
    /// `action`; `issue_hits` devices hit by issues so far.
    pub fn rule_fired(
        deployment: u16,
        signal: &str,
        action: &str,
        threshold: Option<u8>,
        signals: u64,
        denominator: u64,
        issue_hits: u64,
    ) -> Self {
        let detail = match threshold {
            // Its threshold is ignored: any report fires it, and the log says so rather than
            // claim a comparison that did not hold.
            None => format!(
                "{signal} {signals}/{denominator} (threshold ignored for {action}) → {action}; {issue_hits} devices hit by issues so far"
            ),
            Some(th) => format!(
                "{signal} {signals}/{denominator} ≥ {th}% → {action}; {issue_hits} devices hit by issues so far"
            ),
        };
        LogLine {
            numbers: EventNumbers {
                signals: Some(signals),
                denominator: Some(denominator),
                threshold,
                issue_hits: Some(issue_hits),
                ..EventNumbers::default()
            },
            ..Self::text(deployment, "rule_fired", detail)
        }
    }

    /// An `alertError` rule's alert: `signal` above `threshold` percent.
    pub fn alert(deployment: u16, signal: &str, threshold: u8) -> Self {
        LogLine {
            numbers: EventNumbers {
                threshold: Some(threshold),
                ..EventNumbers::default()
            },
            ..Self::text(deployment, "alert", format!("{signal} above {threshold}%"))
        }
    }

    /// An `offerFallback` rule's fallback offer.
    pub fn fallback(deployment: u16) -> Self {
        Self::text(
            deployment,
            "fallback",
            "ineligible devices are offered the fallback (Windows 10 22H2)".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wave_line_has_its_number_and_offered_devices_in_columns_and_text() {
        let l = LogLine::wave(1, 3, 400);
        assert_eq!((l.deployment, l.event), (1, "wave"));
        assert_eq!(l.detail, "wave 3: 400 devices offered");
        assert_eq!(l.numbers.wave, Some(3));
        assert_eq!(l.numbers.devices, Some(400));
        assert_eq!(
            l.numbers.cells(),
            ["3", "400", "", "", "", "", ""].map(String::from)
        );
    }

    #[test]
    fn an_offer_line_counts_its_devices_and_has_no_wave() {
        let l = LogLine::offer(0, 278);
        assert_eq!(l.detail, "278 devices offered");
        assert_eq!(
            l.numbers,
            EventNumbers {
                devices: Some(278),
                ..EventNumbers::default()
            }
        );
    }

    #[test]
    fn an_audience_change_puts_joined_devices_in_devices_and_those_that_left_in_devices_removed() {
        let l = LogLine::update_audience(0, 0, 0, 1264);
        assert_eq!(l.event, "action");
        assert_eq!(l.detail, "update_audience: 0 devices joined, 1264 left");
        assert_eq!(
            (l.numbers.devices, l.numbers.devices_removed),
            (Some(0), Some(1264))
        );
        let again = LogLine::update_audience(0, 4, 4, 0);
        assert_eq!(
            again.detail,
            "update_audience: 4 devices joined (4 of them offered before: offered again), 0 left"
        );
        assert_eq!(again.numbers.devices, Some(4));
    }

    #[test]
    fn a_plain_action_a_state_change_a_release_and_a_fallback_have_no_numbers() {
        for l in [
            LogLine::action(0, "pause".into()),
            LogLine::state_change(0, "paused", "pausedByMonitoring".into(), String::new()),
            LogLine::hold_released(0, "likely-issue safeguard holds released".into()),
            LogLine::fallback(0),
        ] {
            assert_eq!(l.numbers, EventNumbers::default(), "{l:?}");
            assert!(l.numbers.cells().iter().all(String::is_empty));
        }
    }

    #[test]
    fn both_kinds_of_hold_put_the_devices_they_cover_in_devices() {
        let likely = LogLine::likely_holds_placed(0, 1264);
        assert_eq!(
            likely.detail,
            "likely-issue safeguard holds: 1264 flagged devices"
        );
        assert_eq!(likely.numbers.devices, Some(1264));
        let known = LogLine::hold_placed(0, "gfx-31 on L9", 4470);
        assert_eq!(
            known.detail,
            "safeguard hold for \"gfx-31 on L9\": 4470 matching devices"
        );
        assert_eq!(known.numbers.devices, Some(4470));
    }

    #[test]
    fn a_rule_firing_has_its_counts_threshold_and_issue_hits_in_columns() {
        let l = LogLine::rule_fired(0, "rollback", "pauseDeployment", Some(5), 1, 5, 28);
        assert_eq!(
            l.detail,
            "rollback 1/5 ≥ 5% → pauseDeployment; 28 devices hit by issues so far"
        );
        assert_eq!(
            l.numbers.cells(),
            ["", "", "", "1", "5", "5", "28"].map(String::from)
        );
    }

    #[test]
    fn an_offer_fallback_firing_leaves_the_ignored_threshold_empty() {
        let l = LogLine::rule_fired(0, "ineligible", "offerFallback", None, 2, 0, 0);
        assert_eq!(
            l.detail,
            "ineligible 2/0 (threshold ignored for offerFallback) → offerFallback; 0 devices hit by issues so far"
        );
        assert_eq!(l.numbers.threshold, None);
        assert_eq!(
            (l.numbers.signals, l.numbers.denominator),
            (Some(2), Some(0))
        );
    }

    #[test]
    fn an_alert_carries_the_threshold_it_passed() {
        let l = LogLine::alert(0, "rollback", 10);
        assert_eq!(l.detail, "rollback above 10%");
        assert_eq!(l.numbers.threshold, Some(10));
        assert_eq!(l.numbers.devices, None);
    }
}
