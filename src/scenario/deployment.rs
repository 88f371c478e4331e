//! `[[deployments]]`: content, settings and audience, with Graph API names.
//!
//! `content` and `settings` are the Graph objects of a `POST .../deployments` request body, written
//! as TOML tables (`reference/deployment-service.md` §1–2).

use std::path::Path;

use serde::Deserialize;

use super::{Checker, suggest};
use crate::client::Category;
use crate::fleet::SegmentSpec;
use crate::service::{AudienceSpec, Content, DeploymentDef};
use crate::time::{DAY, parse_instant};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeployment {
    name: String,
    content: Option<toml::Value>,
    settings: Option<toml::Value>,
    audience: Option<RawAudience>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    #[serde(default)]
    members: Vec<String>,
}

const CONTENT_TYPES: [&str; 3] = [
    "featureUpdateReference",
    "qualityUpdateReference",
    "expeditedQualityUpdateReference",
];

/// What the content table says, before contents are deduplicated.
struct ContentDraft {
    category: Category,
    /// Quality: release instant (Unix s); feature: version string.
    release_unix: i64,
    version: String,
    expedited: bool,
}

fn content(c: &mut Checker, path: &str, v: Option<&toml::Value>, start_unix: i64) -> ContentDraft {
    let fallback = ContentDraft {
        category: Category::Quality,
        release_unix: start_unix,
        version: String::new(),
        expedited: false,
    };
    let Some(v) = v else {
        c.fail(path, "is required: the Graph content object, e.g. { \"@odata.type\" = \"microsoft.graph.windowsUpdates.qualityUpdateReference\", releaseDateTime = \"2026-01-13\" }");
        return fallback;
    };
    let Some(t) = v.as_table() else {
        c.fail(path, format!("must be a table, found {}", v.type_str()));
        return fallback;
    };
    let ty = t.get("@odata.type").and_then(|x| x.as_str()).unwrap_or("");
    let short = ty
        .trim_start_matches('#')
        .trim_start_matches("microsoft.graph.windowsUpdates.");
    let allowed: &[&str] = match short {
        "featureUpdateReference" => &["@odata.type", "version"],
        "qualityUpdateReference" => &[
            "@odata.type",
            "releaseDateTime",
            "releaseDate",
            "classification",
        ],
        "expeditedQualityUpdateReference" => &[
            "@odata.type",
            "releaseDate",
            "releaseDateTime",
            "classification",
            "equivalentContent",
        ],
        _ => {
            c.fail(
                format!("{path}.@odata.type"),
                format!(
                    "unknown content type \"{ty}\"{}; expected one of {}",
                    suggest(short, &CONTENT_TYPES),
                    CONTENT_TYPES.join(", ")
                ),
            );
            return fallback;
        }
    };
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            c.fail(
                format!("{path}.{k}"),
                format!(
                    "unknown property \"{k}\" of {short}{}; expected {}",
                    suggest(k, allowed),
                    allowed.join(", ")
                ),
            );
        }
    }
    if short == "featureUpdateReference" {
        let version = t.get("version").and_then(|x| x.as_str()).unwrap_or("");
        if version.is_empty() {
            c.fail(
                format!("{path}.version"),
                "is required for a feature update (e.g. \"24H2\")",
            );
        }
        return ContentDraft {
            category: Category::Feature,
            release_unix: start_unix,
            version: version.to_string(),
            expedited: false,
        };
    }
    let date = t
        .get("releaseDateTime")
        .or_else(|| t.get("releaseDate"))
        .and_then(|x| x.as_str());
    let release_unix = match date {
        None => start_unix,
        // Documentation placeholders ("YYYY-MM-DD") load as "released at the scenario start".
        Some(d) if d.contains("YYYY") || d.starts_with("String (") => start_unix,
        Some(d) => match parse_instant(d) {
            Ok(ts) => ts.as_second(),
            Err(e) => {
                c.fail(format!("{path}.releaseDate"), format!("{e}, found \"{d}\""));
                start_unix
            }
        },
    };
    ContentDraft {
        category: Category::Quality,
        release_unix,
        version: String::new(),
        expedited: short.starts_with("expedited"),
    }
}

/// (start offset, daysUntilForcedReboot) from the settings table.
fn settings(
    c: &mut Checker,
    path: &str,
    v: Option<&toml::Value>,
    start_unix: i64,
) -> (u64, Option<u64>) {
    let Some(v) = v else { return (0, None) };
    let mut start = 0;
    let mut forced = None;
    if let Some(ux) = v.get("userExperience")
        && let Some(d) = ux.get("daysUntilForcedReboot")
    {
        match d.as_integer() {
            Some(n) if (0..=30).contains(&n) => forced = Some(n as u64 * DAY),
            _ => c.fail(
                format!("{path}.userExperience.daysUntilForcedReboot"),
                format!("must be a whole number of days from 0 to 30, found {d}"),
            ),
        }
    }
    if let Some(sd) = v
        .get("schedule")
        .and_then(|s| s.get("startDateTime"))
        .and_then(|s| s.as_str())
    {
        match parse_instant(sd) {
            Ok(ts) => start = (ts.as_second() - start_unix).max(0) as u64,
            Err(e) => c.fail(
                format!("{path}.schedule.startDateTime"),
                format!("{e}, found \"{sd}\""),
            ),
        }
    }
    (start, forced)
}

/// Validates the deployments and builds the deduplicated content table.
pub(super) fn deployments(
    c: &mut Checker,
    raw: &[RawDeployment],
    segments: &[SegmentSpec],
    start_unix: i64,
    _base: &Path,
) -> (Vec<Content>, Vec<DeploymentDef>) {
    let drafts: Vec<ContentDraft> = raw
        .iter()
        .enumerate()
        .map(|(i, d)| {
            content(
                c,
                &format!("deployments[{i}].content"),
                d.content.as_ref(),
                start_unix,
            )
        })
        .collect();
    // Feature levels follow the order of version strings (22H2 < 23H2 < 24H2).
    let mut versions: Vec<&str> = drafts
        .iter()
        .filter(|d| d.category == Category::Feature)
        .map(|d| d.version.as_str())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let mut contents: Vec<Content> = Vec::new();
    let mut defs = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, (d, draft)) in raw.iter().zip(&drafts).enumerate() {
        let path = format!("deployments[{i}]");
        if !names.insert(d.name.as_str()) {
            c.fail(
                format!("{path}.name"),
                format!(
                    "deployment names must be unique, found \"{}\" twice",
                    d.name
                ),
            );
        }
        let (name, level, release) = match draft.category {
            Category::Feature => (
                format!("Windows feature update {}", draft.version),
                versions
                    .iter()
                    .position(|v| *v == draft.version)
                    .unwrap_or(0) as i64,
                0,
            ),
            Category::Quality => {
                let date = crate::time::format_instant(draft.release_unix, 0);
                (
                    format!("quality update released {}", &date[..10.min(date.len())]),
                    draft.release_unix,
                    draft.release_unix - start_unix,
                )
            }
        };
        let idx = match contents
            .iter()
            .position(|x| x.category == draft.category && x.level == level)
        {
            Some(x) => x,
            None => {
                contents.push(Content {
                    name,
                    category: draft.category,
                    level,
                    release,
                });
                contents.len() - 1
            }
        };
        let (start, forced) = settings(
            c,
            &format!("{path}.settings"),
            d.settings.as_ref(),
            start_unix,
        );
        let audience = match &d.audience {
            None => AudienceSpec::All,
            Some(a) if a.members.iter().any(|m| m == "all") => AudienceSpec::All,
            Some(a) => {
                let mut segs = Vec::new();
                for (j, m) in a.members.iter().enumerate() {
                    match segments.iter().position(|s| &s.name == m) {
                        Some(s) => segs.push(s as u16),
                        None => {
                            let known: Vec<&str> =
                                segments.iter().map(|s| s.name.as_str()).collect();
                            c.fail(
                                format!("{path}.audience.members[{j}]"),
                                format!(
                                    "no segment named \"{m}\"{}; use \"all\" or one of {}",
                                    suggest(m, &known),
                                    known.join(", ")
                                ),
                            );
                        }
                    }
                }
                AudienceSpec::Segments(segs)
            }
        };
        defs.push(DeploymentDef {
            name: d.name.clone(),
            content: idx as u16,
            start,
            expedited: draft.expedited,
            forced_reboot_after: forced,
            audience,
        });
    }
    (contents, defs)
}
