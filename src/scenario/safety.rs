//! `[[issues]]` (hidden ground truth) and `[safety]` (signal delay, monitoring denominator,
//! likely-issue model): see [`crate::service::safety`] for the model.

use serde::Deserialize;

use super::deployment::at;
use super::{Checker, suggest};
use crate::client::Category;
use crate::fleet::filter::Filter;
use crate::fleet::{AttrChoice, SegmentSpec};
use crate::service::{
    Content, Denominator, DeploymentDef, IssueDef, Known, LikelyRelease, Release, SafetyParams,
};
use crate::time::{DAY, parse_duration_signed, parse_instant};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIssue {
    name: String,
    content: String,
    when: String,
    install_failure: Option<f64>,
    rollback: Option<f64>,
    incident: Option<f64>,
    ineligible: Option<bool>,
    known: Option<RawKnown>,
    release: Option<RawRelease>,
    predictable: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawKnown {
    #[serde(default, deserialize_with = "super::opt_instant_text")]
    at: Option<String>,
    after_devices: Option<i64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    #[serde(default, deserialize_with = "super::opt_instant_text")]
    at: Option<String>,
    after: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSafety {
    signal_delay: Option<String>,
    monitoring_denominator: Option<String>,
    monitoring_min_devices: Option<i64>,
    likely_issues: Option<RawLikely>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawLikely {
    precision: Option<f64>,
    recall: Option<f64>,
    #[serde(default, deserialize_with = "super::opt_instant_text")]
    release: Option<String>,
}

/// Validates `[safety]`.
pub(super) fn safety(c: &mut Checker, raw: Option<&RawSafety>, start_unix: i64) -> SafetyParams {
    let d = SafetyParams::default();
    let Some(r) = raw else { return d };
    let denominator = match r.monitoring_denominator.as_deref() {
        None | Some("offered") => Denominator::Offered,
        Some("installed") => Denominator::Installed,
        Some(x) => {
            c.fail(
                "safety.monitoring_denominator",
                format!(
                    "unknown denominator \"{x}\"{}; expected offered or installed",
                    suggest(x, &["offered", "installed"])
                ),
            );
            Denominator::Offered
        }
    };
    let min_devices = match r.monitoring_min_devices {
        None => 0,
        Some(n) if n >= 0 => n as u64,
        Some(n) => {
            c.fail(
                "safety.monitoring_min_devices",
                format!("must not be negative, found {n}"),
            );
            0
        }
    };
    let (mut precision, mut recall, mut release) =
        (d.likely_precision, d.likely_recall, d.likely_release);
    if let Some(l) = &r.likely_issues {
        precision = l.precision.unwrap_or(precision);
        if !(precision > 0.0 && precision <= 1.0) {
            c.fail(
                "safety.likely_issues.precision",
                format!("must be above 0 and at most 1, found {precision}"),
            );
        }
        recall = c.probability("safety.likely_issues.recall", l.recall, recall);
        release = match l.release.as_deref() {
            None => release,
            Some("with_issues") => LikelyRelease::WithIssues,
            Some("never") => LikelyRelease::Never,
            Some(t) if parse_duration_signed(t).is_ok() || parse_instant(t).is_ok() => {
                LikelyRelease::At(at(c, "safety.likely_issues.release", t, start_unix))
            }
            Some(t) => {
                c.fail(
                    "safety.likely_issues.release",
                    format!(
                        "must be \"with_issues\" (the default: when the content's issues' holds are released), \"never\", a duration after the start (\"P20D\") or an instant (\"2026-01-16T09:00:00Z\"), found \"{t}\"{}",
                        suggest(t, &["with_issues", "never"])
                    ),
                );
                release
            }
        };
    }
    SafetyParams {
        signal_delay: c.duration(
            "safety.signal_delay",
            r.signal_delay.as_deref(),
            d.signal_delay,
        ),
        denominator,
        min_devices,
        likely_precision: precision,
        likely_recall: recall,
        likely_release: release,
    }
}

/// Warns when no device of the fleet can match issue filter `f`, whatever the draw (a value no
/// segment has, or values no one segment combines): the issue affects nothing, which a run tells
/// only as "0 of 0 matching". Names the values the fleet has for the attributes it names.
fn warn_matching_nothing(c: &mut Checker, path: &str, f: &Filter, segments: &[SegmentSpec]) {
    let populated: Vec<&SegmentSpec> = segments.iter().filter(|s| s.devices > 0).collect();
    if populated.is_empty() || populated.iter().any(|s| f.can_match(s)) {
        return;
    }
    let mut names = f.names();
    names.sort_unstable();
    names.dedup();
    let values: Vec<String> = names
        .iter()
        .map(|n| {
            let mut vs: Vec<&str> = populated
                .iter()
                .flat_map(|s| -> Vec<&str> {
                    if *n == "segment" {
                        return vec![s.name.as_str()];
                    }
                    match s.attributes.iter().find(|(k, _)| k == n).map(|(_, c)| c) {
                        None => vec![],
                        Some(AttrChoice::Fixed(v)) => vec![v.as_str()],
                        Some(AttrChoice::Weighted(vs)) => vs
                            .iter()
                            .filter(|(_, w)| *w > 0.0)
                            .map(|(v, _)| v.as_str())
                            .collect(),
                    }
                })
                .collect();
            vs.sort_unstable();
            vs.dedup();
            let shown = vs.len().min(10);
            let more = if vs.len() > shown { ", …" } else { "" };
            format!("{n} {}{more}", vs[..shown].join(", "))
        })
        .collect();
    c.warnings.push(format!(
        "{path}: matches no device of the fleet (its values there: {}), so the issue affects nothing",
        values.join("; ")
    ));
}

/// Validates `[[issues]]`.
pub(super) fn issues(
    c: &mut Checker,
    raw: &[RawIssue],
    deployments: &[DeploymentDef],
    contents: &[Content],
    content_unknown: &[bool],
    segments: &[SegmentSpec],
    start_unix: i64,
) -> Vec<IssueDef> {
    let dep_names: Vec<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
    let mut attrs: Vec<&str> = segments
        .iter()
        .flat_map(|s| s.attributes.iter().map(|(k, _)| k.as_str()))
        .collect();
    attrs.push("segment");
    attrs.sort_unstable();
    attrs.dedup();
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let path = format!("issues[{i}]");
        let Some(dep) = dep_names.iter().position(|n| *n == r.content) else {
            c.fail(
                format!("{path}.content"),
                format!(
                    "no deployment named \"{}\"{}; an issue affects the content of a deployment, one of {}",
                    r.content,
                    suggest(&r.content, &dep_names),
                    dep_names.join(", ")
                ),
            );
            continue;
        };
        let content = deployments[dep].content;
        let filter = match Filter::parse(&r.when) {
            Ok(f) => {
                let known = f.names().iter().all(|n| attrs.contains(n));
                if known && !c.inventory_failed {
                    warn_matching_nothing(c, &format!("{path}.when"), &f, segments);
                }
                for n in f.names() {
                    if !attrs.contains(&n) {
                        c.fail(
                            format!("{path}.when"),
                            format!(
                                "names attribute \"{n}\" that no segment has{}; attributes are {}",
                                suggest(n, &attrs),
                                attrs.join(", ")
                            ),
                        );
                    }
                }
                f
            }
            Err(e) => {
                c.fail(format!("{path}.when"), format!("{e}, in \"{}\"", r.when));
                continue;
            }
        };
        let known = r
            .known
            .as_ref()
            .and_then(|k| match (&k.at, k.after_devices) {
                (Some(t), None) => {
                    Some(Known::At(at(c, &format!("{path}.known.at"), t, start_unix)))
                }
                (None, Some(n)) if n >= 1 => {
                    Some(Known::AfterDevices(n.min(i64::from(u32::MAX)) as u32))
                }
                (None, Some(n)) => {
                    c.fail(
                        format!("{path}.known.after_devices"),
                        format!("must be at least 1, found {n}"),
                    );
                    None
                }
                _ => {
                    c.fail(
                        format!("{path}.known"),
                        "needs exactly one of at (a time) or after_devices (a count of distinct affected devices)",
                    );
                    None
                }
            });
        if known.is_some()
            && !content_unknown[dep]
            && contents[content as usize].category != Category::Feature
        {
            c.fail(
                format!("{path}.known"),
                "safeguard holds apply to feature updates only, but this issue affects a quality update",
            );
        }
        let release = r
            .release
            .as_ref()
            .and_then(|rel| match (&rel.at, &rel.after) {
                (Some(t), None) => Some(Release::At(at(
                    c,
                    &format!("{path}.release.at"),
                    t,
                    start_unix,
                ))),
                (None, Some(d)) => Some(Release::After(c.positive(
                    &format!("{path}.release.after"),
                    Some(d),
                    DAY,
                ))),
                _ => {
                    c.fail(
                        format!("{path}.release"),
                        "needs exactly one of at (a time) or after (a duration after the hold)",
                    );
                    None
                }
            });
        if release.is_some() && known.is_none() {
            c.fail(
                format!("{path}.release"),
                "releases a hold that is never placed: add known = { at = ... } or { after_devices = ... }",
            );
        }
        let (install_failure, rollback, incident) = (
            c.probability(&format!("{path}.install_failure"), r.install_failure, 0.0),
            c.probability(&format!("{path}.rollback"), r.rollback, 0.0),
            c.probability(&format!("{path}.incident"), r.incident, 0.0),
        );
        // `predictable = false` takes the issue's devices out of the likely-issue model's
        // ground truth: set where the model would not flag them anyway, it changes nothing,
        // which the author should know rather than believe otherwise.
        if r.predictable == Some(false) {
            let feature =
                content_unknown[dep] || contents[content as usize].category == Category::Feature;
            let harms = install_failure > 0.0 || rollback > 0.0 || incident > 0.0;
            if !feature {
                c.warnings.push(format!(
                    "{path}.predictable: has no effect: the likely-issue model flags devices for feature updates only, and this issue affects a quality update"
                ));
            } else if !harms {
                c.warnings.push(format!(
                    "{path}.predictable: has no effect: the likely-issue model predicts install failures, rollbacks and incidents, and this issue has none of them"
                ));
            }
        }
        out.push(IssueDef {
            name: r.name.clone(),
            content,
            filter,
            install_failure,
            rollback,
            incident,
            ineligible: r.ineligible.unwrap_or(false),
            known,
            release,
            predictable: r.predictable.unwrap_or(true),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    const FLEET: &str = r##"
[simulation]
start = "2026-01-13T18:00:00Z"
horizon = "P10D"

[[segments]]
name = "office"
devices = 10
attributes = { maker = "Contoso", driver = { values = ["gfx-30", "gfx-31"], weights = [1, 0] } }

[[segments]]
name = "laptops"
devices = 10
attributes = { maker = "Fabrikam", driver = "gfx-31" }

[[segments]]
name = "spare"
devices = 0
attributes = { maker = "Contoso", driver = "gfx-31" }

[[deployments]]
name = "f"
content = { "@odata.type" = "featureUpdateReference", version = "24H2" }

[[issues]]
name = "gfx"
content = "f"
"##;

    fn warnings(when: &str) -> Vec<String> {
        let text = format!("{FLEET}when = '{when}'\n");
        Scenario::parse(&text, "t.toml", "t", std::path::Path::new("."))
            .expect("loads")
            .warnings
    }

    #[test]
    fn an_unpredictable_issue_is_warned_of_only_where_the_likely_issue_model_would_not_flag_it() {
        let issue = |content: &str, effects: &str| {
            let text = format!(
                r##"{FLEET}when = 'driver = "gfx-31"'
{effects}
predictable = false

[[deployments]]
name = "q"
content = {{ "@odata.type" = "qualityUpdateReference", classification = "security", releaseDateTime = "2026-01-13T18:00:00Z" }}
"##
            )
            .replace("content = \"f\"\nwhen", &format!("content = \"{content}\"\nwhen"));
            Scenario::parse(&text, "t.toml", "t", std::path::Path::new(".")).expect("loads")
        };
        let sc = issue("f", "rollback = 0.1");
        assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
        assert!(!sc.issues[0].predictable);
        assert_eq!(
            issue("q", "rollback = 0.1").warnings,
            [
                "t.toml:30:15: issues[0].predictable: has no effect: the likely-issue model flags devices for feature updates only, and this issue affects a quality update"
            ]
        );
        assert_eq!(
            issue("f", "ineligible = true").warnings,
            [
                "t.toml:30:15: issues[0].predictable: has no effect: the likely-issue model predicts install failures, rollbacks and incidents, and this issue has none of them"
            ]
        );
    }

    #[test]
    fn an_issue_whose_filter_no_device_can_match_is_a_located_warning_naming_the_fleets_values() {
        assert_eq!(
            warnings(r#"driver = "gfx-31.5""#),
            [
                "t.toml:28:8: issues[0].when: matches no device of the fleet (its values there: driver gfx-30, gfx-31), so the issue affects nothing"
            ]
        );
        // Values that no one segment combines: gfx-31 has weight 0 in office, and the empty
        // segment that combines them has no device.
        assert_eq!(
            warnings(r#"driver = "gfx-31" and maker = "Contoso""#).len(),
            1
        );
        assert!(warnings(r#"driver = "gfx-31" and maker = "Fabrikam""#).is_empty());
        assert!(warnings(r#"segment = "office""#).is_empty());
    }
}
