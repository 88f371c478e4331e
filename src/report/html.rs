//! `report.html`: one self-contained page per output folder, for people who would rather look
//! than read CSV.
//!
//! The page holds, in order: the scenario name and description, the per-deployment summary
//! (`summary.csv` turned on its side: a row per column of the file, by theme, with a label for
//! people and the column's name, and a column per deployment; every hours figure with its UTC
//! date) and the deployments not offering at the end, for a replicated run the section "Across
//! N replications" (from `runs.csv`), the monitoring rules, the issues and the devices still
//! held at the end (from `summary.json`, in the terminal's words), the per-segment table (a few
//! columns of `segments.csv`, when it has more than one segment), the charts (SVGs inlined;
//! PNG-only charts embedded as `data:` URIs), the expectations met or missed
//! (`expectations.csv`, when present), the batch variants table (`variants.csv`, when present:
//! a row per variant and deployment, its quantile columns grouped under their metric, and the
//! parameters each variant sets in a table of their own), and the parameters (the folder's
//! `scenario.toml` when present, else the header fields of `summary.json`). A batch's folder
//! holds its sweep file as run, headed by the sweep's name and the base scenario's, which title
//! the page; the sweep file's leading comment (its question) is the page's description.
//!
//! Every table fits the page's width without sideways scrolling, on screen (a window 1024 px
//! wide or more: below 1200 px the variants table's text is smaller; below 900 px a wide table
//! scrolls in its own box rather than the page) and in print: text cells wrap, numbers are short, the summary takes six deployments
//! and the variants table 14 measure columns to a table, more continue in another below. Numbers are shown for people (the CSV files keep them exact,
//! and each rounded cell carries the exact value as its `title`): shares in percent with one
//! decimal, hours with one decimal, counts as whole numbers.
//!
//! It needs no network and no JavaScript: CSS is inline, images are inline. Every piece of text
//! that comes from the inputs is HTML-escaped (`& < > " '`), and so is the text inside the SVGs
//! (plotters escapes it; [`report_html`] re-checks it and drops any SVG that would contain markup
//! other than plotters' own elements).

use crate::report::charts::{Table, unguard};
use crate::report::{
    AcrossOut, HeldAtEndOut, IssueOut, LikelyHoldsOut, StateChangeOut, date_text, final_state_text,
    percent, start_unix_of,
};

/// How the copy of a sweep in a batch's output folder (`scenario.toml`) starts: this, then the
/// sweep's name (its file's stem), then [`SWEEP_BASE_LINE`]. The report is titled
/// "NAME: sweep over BASE".
pub const SWEEP_NAME_LINE: &str = "# sweep: ";

/// The second line of a sweep copy (see [`SWEEP_NAME_LINE`]): this, then the base scenario's
/// name.
pub const SWEEP_BASE_LINE: &str = "# base scenario: ";

/// The line a sweep copy has under its names when `--replications` changed the count.
const SWEEP_AS_RUN_LINE: &str = "# as run with ";

/// A sweep copy's head (see [`SWEEP_NAME_LINE`]): the sweep's name, the base scenario's name,
/// and the sweep file's leading comment (its question) as one paragraph.
struct SweepHead {
    name: Option<String>,
    base: Option<String>,
    question: Option<String>,
}

fn sweep_head(text: &str) -> SweepHead {
    let mut lines = text.lines().peekable();
    let (mut name, mut base) = (None, None);
    while let Some(l) = lines.peek() {
        let value = |p: &str| {
            l.strip_prefix(p)
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
        };
        if let Some(n) = value(SWEEP_NAME_LINE) {
            name = Some(n);
        } else if let Some(b) = value(SWEEP_BASE_LINE) {
            base = Some(b);
        } else if !l.starts_with(SWEEP_AS_RUN_LINE) {
            break;
        }
        lines.next();
    }
    // `as_run` puts the count that ran above a file that had none.
    if lines
        .peek()
        .is_some_and(|l| l.starts_with("replications ="))
    {
        lines.next();
    }
    let words: Vec<&str> = lines
        .map_while(|l| l.trim_start().strip_prefix('#'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    SweepHead {
        name,
        base,
        question: (!words.is_empty()).then(|| words.join(" ")),
    }
}

impl SweepHead {
    /// The page's title: "rollout-size: sweep over safety-driver-issue-pause-rule".
    fn title(&self) -> String {
        match (&self.name, &self.base) {
            (Some(n), Some(b)) => format!("{n}: sweep over {b}"),
            (None, Some(b)) => format!("sweep over {b}"),
            (Some(n), None) => format!("{n}: sweep"),
            (None, None) => "rollsim sweep".into(),
        }
    }
}

/// The name a batch's charts carry before their captions, from the folder's sweep copy
/// (`scenario.toml` with a `base`): the sweep's name (`rollout-size`), or "sweep over BASE" for
/// a copy that names only its base; `None` for a scenario.
pub(crate) fn sweep_name(toml_text: &str) -> Option<String> {
    let t: toml::Table = toml_text.parse().ok()?;
    if !t.contains_key("base") {
        return None;
    }
    let head = sweep_head(toml_text);
    Some(head.name.clone().unwrap_or_else(|| head.title()))
}

/// Escapes `& < > " '` for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; color: #222; margin: 2rem auto;
  max-width: 1260px; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
p.description { font-size: 1.1rem; color: #444; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.95rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; overflow-wrap: break-word; }
th.name { overflow-wrap: anywhere; }
th { background: #f2f2f2; text-align: left; vertical-align: bottom; }
th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.met { color: #006b4f; font-weight: bold; }
td.missed { color: #b34700; font-weight: bold; }
tbody th { background: #fafafa; font-weight: normal; vertical-align: top; }
tr.group th { background: #e6edf5; font-weight: bold; }
td.csv { font-family: monospace; font-size: 0.9em; color: #555; }
table.variants { font-size: 0.85rem; }
table.variants th, table.variants td { padding: 0.25rem 0.4rem; }
table.variants th { hyphens: none; }
figure { margin: 1.2rem 0; }
figure svg, figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
small.date { color: #555; font-size: 0.8em; }
span.mark { font-weight: normal; white-space: nowrap; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.8rem; overflow-x: auto; }
@media screen and (max-width: 1200px) {
  body { padding: 0 0.5rem; }
  table.variants { font-size: 0.75rem; }
  table.variants th, table.variants td { padding: 0.2rem 0.25rem; }
}
@media screen and (max-width: 900px) {
  table.variants, table.summary { display: block; overflow-x: auto; }
}
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  table { font-size: 8pt; }
  table.variants { font-size: 7.5pt; }
  th, td { padding: 0.1rem 0.2rem; }
  table.variants th, table.variants td { padding: 0.1rem 0.2rem; }
  table.variants th { hyphens: manual; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; }
  pre { white-space: pre-wrap; overflow: visible; overflow-wrap: anywhere; font-size: 8pt; }
}
";

fn find<'a>(files: &'a [(&str, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    files
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b.as_slice())
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok()
}

/// How the numbers of a column are shown (the CSV files keep them exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A share of 0–1: a percent with one decimal.
    Share,
    /// Hours: one decimal.
    Hours,
    /// A count: whole numbers as they are, a median between two with one decimal.
    Count,
    /// `true` or `false`: yes or no.
    Flag,
    /// As written.
    Text,
}

/// The metric a quantile column of `variants.csv` is of, and the quantile
/// (`hours_to_95_p50` → `hours_to_95`, `50`); other columns are their own metric.
fn metric_of(column: &str) -> (&str, Option<&str>) {
    match column.rsplit_once("_p") {
        Some((m, q))
            if !m.is_empty()
                && q.starts_with(|c: char| c.is_ascii_digit())
                && q.chars().all(|c| c.is_ascii_digit() || c == '.') =>
        {
            (m, Some(q))
        }
        _ => (column, None),
    }
}

/// How the numbers of column `column` (of `summary.csv`, `segments.csv` or `variants.csv`, or
/// a metric's name) are shown.
fn kind_of(column: &str) -> Kind {
    let (m, _) = metric_of(column);
    if m.starts_with("share") {
        Kind::Share
    } else if m.starts_with("pareto_") {
        Kind::Flag
    } else if m.starts_with("restarts") {
        // `restarts_in_active_hours` counts restarts.
        Kind::Count
    } else if m.starts_with("hours") || m.ends_with("_hours") {
        Kind::Hours
    } else if m == "runs" || m.ends_with("_runs") || crate::report::METRICS.contains(&m) {
        Kind::Count
    } else {
        Kind::Text
    }
}

/// Cell text `v` (unguarded) as shown in a column of kind `kind`: an empty cell is `–`.
fn shown(kind: Kind, v: &str) -> String {
    if v.is_empty() {
        return "–".into();
    }
    let x = v.parse::<f64>().ok().filter(|x| x.is_finite());
    match (kind, x) {
        (Kind::Share, Some(x)) => percent(x),
        (Kind::Hours, Some(x)) => format!("{x:.1}"),
        (Kind::Count, Some(x)) if x.fract() == 0.0 => format!("{x:.0}"),
        (Kind::Count, Some(x)) => format!("{x:.1}"),
        (Kind::Flag, _) => match v {
            "true" => "yes".into(),
            "false" => "no".into(),
            _ => v.to_string(),
        },
        _ => v.to_string(),
    }
}

/// Escaped text that may break after its commas (variant names such as `a=1,b=2`), where a
/// browser would not break it on its own.
fn breakable(s: &str) -> String {
    escape(s).replace(',', ",<wbr>")
}

/// A table cell of CSV text `cell` shown as `kind`: numbers right-aligned, a rounded number
/// with its exact value as the `title`; `extra` adds attributes (`rowspan`).
fn td(kind: Kind, cell: &str, extra: &str) -> String {
    let v = unguard(cell);
    let text = shown(kind, v);
    if is_number(v) {
        let title = if text == v {
            String::new()
        } else {
            format!(" title=\"{}\"", escape(v))
        };
        format!("<td class=\"num\"{title}{extra}>{}</td>", escape(&text))
    } else if v.is_empty() && kind != Kind::Text {
        // Not reached, in a column of numbers: the dash goes where the number would.
        format!("<td class=\"num\"{extra}>{}</td>", escape(&text))
    } else {
        format!("<td{extra}>{}</td>", breakable(&text))
    }
}

/// A cell of hours since the scenario start (CSV text `cell`), with the UTC date and time it
/// falls on under the number when the start is known: a planner reads the date, not the hours.
fn td_hours(cell: &str, start: Option<i64>) -> String {
    let v = unguard(cell);
    match (start, v.parse::<f64>().ok().filter(|x| x.is_finite())) {
        (Some(s), Some(x)) => {
            let text = shown(Kind::Hours, v);
            let title = if text == v {
                String::new()
            } else {
                format!(" title=\"{}\"", escape(v))
            };
            format!(
                "<td class=\"num\"{title}>{}<br><small class=\"date\">{}</small></td>",
                escape(&text),
                escape(&date_text(s, x))
            )
        }
        _ => td(Kind::Hours, cell, ""),
    }
}

/// `expectations.csv` as an HTML table: met and missed marked, each value shown as its metric's
/// numbers are.
fn expectations_html(bytes: &[u8]) -> String {
    let t = match Table::parse("expectations.csv", bytes) {
        Ok(t) => t,
        Err(e) => return format!("<p>{}</p>\n", escape(&e.to_string())),
    };
    let col = |n: &str| t.header.iter().position(|h| h == n);
    let (status, metric, value) = (col("status"), col("metric"), col("value"));
    // A run's expectations have no variant: the column is left out.
    let shown = |i: usize| {
        Some(i) != col("variant")
            || t.rows
                .iter()
                .any(|r| r.get(i).is_some_and(|c| !c.is_empty()))
    };
    let mut h = String::from("<table>\n<thead><tr>");
    for (_, c) in t.header.iter().enumerate().filter(|(i, _)| shown(*i)) {
        h.push_str(&format!("<th>{}</th>", escape(&c.replace('_', " "))));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate().filter(|(i, _)| shown(*i)) {
            let v = unguard(cell);
            if Some(i) == value && v.is_empty() {
                h.push_str("<td>never</td>");
                continue;
            }
            if Some(i) == status && matches!(v, "met" | "missed") {
                h.push_str(&format!("<td class=\"{v}\">{v}</td>"));
                continue;
            }
            let kind = match (Some(i) == value, metric.and_then(|m| row.get(m))) {
                (true, Some(m)) => kind_of(unguard(m)),
                _ => Kind::Text,
            };
            h.push_str(&td(kind, cell, ""));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h
}

/// The rows of the report's summary, by theme: `summary.csv`'s columns with a label for people
/// (the column's name is shown under it). A column not named here is shown under "Other".
const SUMMARY_GROUPS: [(&str, &[(&str, &str)]); 4] = [
    (
        "Audience and compliance",
        &[
            ("devices_targeted", "Devices in the audience at the end"),
            ("devices_offered", "Devices offered the update"),
            ("devices_compliant", "Devices compliant at the end"),
            ("share_compliant", "Share compliant at the end"),
            (
                "exposure_device_days",
                "Exposure: device-days not compliant, from the release",
            ),
            (
                "share_compliant_at_exploit",
                "Share compliant at the exploit instant (exploit_at)",
            ),
            (
                "exposure_after_exploit_device_days",
                "Exposure after the exploit instant: device-days not compliant",
            ),
        ],
    ),
    (
        "Time to compliance (hours since the start)",
        &[
            ("hours_to_50", "Hours to 50 % compliant"),
            ("hours_to_90", "Hours to 90 % compliant"),
            ("hours_to_95", "Hours to 95 % compliant"),
            ("hours_to_99", "Hours to 99 % compliant"),
        ],
    ),
    (
        "Restarts",
        &[
            ("forced_restarts", "Forced restarts (after the deadline)"),
            ("auto_restarts", "Automatic restarts (outside active hours)"),
            ("user_restarts", "Restarts by users (not disruptions)"),
            (
                "restarts_in_active_hours",
                "Forced or automatic restarts in active hours (disruptions)",
            ),
        ],
    ),
    (
        "Failures and safety",
        &[
            ("install_failures", "Failed installs"),
            ("rollbacks", "Rollbacks (events)"),
            ("devices_rolled_back", "Devices that rolled back"),
            ("issue_hits", "Devices hit by hidden issues"),
            ("held", "Times a device was put on a safeguard hold"),
            ("ineligible", "Devices found ineligible"),
            (
                "rule_fired_hours",
                "Hours until a monitoring rule first fired",
            ),
            ("issue_hits_at_rule", "Devices hit by issues when it fired"),
            (
                "paused_by_monitoring_hours",
                "Hours until a monitoring rule paused the deployment",
            ),
        ],
    ),
];

/// Deployments side by side in one summary table; more get another table below, so that the
/// page never scrolls sideways.
const SUMMARY_DEPLOYMENTS_PER_TABLE: usize = 6;

/// The summary from `summary.csv` on its side: a row per column of the file (by theme, labelled,
/// with the column's name), a column per deployment.
fn summary_html(bytes: &[u8], start: Option<i64>, expedited: &[String]) -> String {
    let t = match Table::parse("summary.csv", bytes) {
        Ok(t) => t,
        Err(e) => return format!("<p>{}</p>\n", escape(&e.to_string())),
    };
    let name_col = t.header.iter().position(|h| h == "deployment").unwrap_or(0);
    let mut groups: Vec<(&str, Vec<(usize, String)>)> = Vec::new();
    let mut placed = vec![false; t.header.len()];
    placed[name_col] = true;
    for (group, columns) in SUMMARY_GROUPS {
        let rows: Vec<(usize, String)> = columns
            .iter()
            .filter_map(|(c, label)| {
                let i = t.header.iter().position(|h| h == c)?;
                placed[i] = true;
                Some((i, label.to_string()))
            })
            .collect();
        if !rows.is_empty() {
            groups.push((group, rows));
        }
    }
    let other: Vec<(usize, String)> = (0..t.header.len())
        .filter(|&i| !placed[i])
        .map(|i| (i, t.header[i].replace('_', " ")))
        .collect();
    if !other.is_empty() {
        groups.push(("Other", other));
    }
    if t.rows.is_empty() {
        return "<p>No deployments in <code>summary.csv</code>.</p>\n".into();
    }
    let mut h = String::new();
    for chunk in t.rows.chunks(SUMMARY_DEPLOYMENTS_PER_TABLE) {
        h.push_str("<table class=\"summary\">\n<thead><tr>");
        h.push_str("<th scope=\"col\">metric</th><th scope=\"col\">column</th>");
        for row in chunk {
            let name = row.get(name_col).map_or("", |s| unguard(s));
            h.push_str(&format!(
                "<th scope=\"col\" class=\"num name\">{}{}</th>",
                breakable(name),
                mark_html(expedited.iter().any(|e| e == name))
            ));
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        for (group, rows) in &groups {
            h.push_str(&format!(
                "<tr class=\"group\"><th colspan=\"{}\">{}</th></tr>\n",
                chunk.len() + 2,
                escape(group)
            ));
            for (i, label) in rows {
                let column = &t.header[*i];
                h.push_str(&format!(
                    "<tr><th scope=\"row\">{}</th><td class=\"csv\">{}</td>",
                    escape(label),
                    escape(column)
                ));
                let kind = kind_of(column);
                for row in chunk {
                    let cell = row.get(*i).map_or("", String::as_str);
                    // Every hours column of the summary counts from the scenario start.
                    h.push_str(&if kind == Kind::Hours {
                        td_hours(cell, start)
                    } else {
                        td(kind, cell, "")
                    });
                }
                h.push_str("</tr>\n");
            }
        }
        h.push_str("</tbody></table>\n");
    }
    h
}

/// The names of the deployments that `summary.json` marks `expedited` (none in a folder of a
/// version without the field).
fn expedited_names(json: &serde_json::Value) -> Vec<String> {
    json["deployments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["expedited"].as_bool() == Some(true))
        .filter_map(|d| d["name"].as_str().map(str::to_string))
        .collect()
}

/// The terminal's "(expedited)" after an expedited deployment's name, in a span that keeps it
/// on one line; empty for a regular deployment.
fn mark_html(expedited: bool) -> String {
    match crate::report::expedited_mark(expedited).trim() {
        "" => String::new(),
        m => format!(" <span class=\"mark\">{}</span>", escape(m)),
    }
}

/// A deployment of `summary.json` named in bold, with its mark when it is expedited.
fn name_html(d: &serde_json::Value) -> String {
    format!(
        "<b>{}</b>{}",
        escape(d["name"].as_str().unwrap_or_default()),
        mark_html(d["expedited"].as_bool() == Some(true))
    )
}

/// The columns of `variants.csv` that name a row rather than measure it.
const VARIANT_KEYS: [&str; 3] = ["variant", "deployment", "runs"];

/// A metric's name in a heading of the variants table (`hours_to_95` → "hours to 95 %").
fn metric_heading(metric: &str) -> String {
    if let Some(p) = metric.strip_prefix("hours_to_") {
        return format!("hours to {p} %");
    }
    match metric {
        "issue_hits" => "devices hit by issues".into(),
        "forced_restarts" => "forced restarts".into(),
        "restarts_in_active_hours" => "restarts in active hours".into(),
        "exposure_device_days" => "exposure (device-days)".into(),
        "share_compliant_at_exploit" => "share compliant at the exploit".into(),
        "share_compliant" => "compliant at the end".into(),
        "rule_fired_hours" => "rule fired at (hours)".into(),
        "issue_hits_at_rule" => "hit by then".into(),
        "exposure_after_exploit_device_days" => "exposure after the exploit (device-days)".into(),
        m => m.replace('_', " "),
    }
}

/// A heading of the variants table over its columns: (heading, [(column, subheading)]).
type ColumnGroup = (String, Vec<(usize, String)>);

/// One table of `variants.csv`'s measures: the key columns (`keys`: variant, deployment, runs),
/// then `groups`' columns under their headings, a row per variant and deployment.
fn variant_measures_html(
    t: &Table,
    keys: &[usize],
    groups: &[ColumnGroup],
    variant_col: Option<usize>,
) -> String {
    let mut h = String::from("<table class=\"variants\">\n<thead><tr>");
    let span = if groups.is_empty() {
        ""
    } else {
        " rowspan=\"2\""
    };
    for &i in keys {
        // A soft hyphen, where print breaks it: the table fits a printed page.
        let heading = t.header[i].replace("deployment", "deploy\u{ad}ment");
        h.push_str(&format!(
            "<th{span} scope=\"col\">{}</th>",
            escape(&heading)
        ));
    }
    for (heading, cols) in groups {
        h.push_str(&format!(
            "<th colspan=\"{}\" scope=\"colgroup\">{}</th>",
            cols.len(),
            escape(heading)
        ));
    }
    if !groups.is_empty() {
        h.push_str("</tr>\n<tr>");
        for (i, sub) in groups.iter().flat_map(|(_, c)| c) {
            // Headings of numbers sit over the numbers, right-aligned; yes/no stay left.
            let class = match kind_of(&t.header[*i]) {
                Kind::Flag => "",
                _ => " class=\"num\"",
            };
            h.push_str(&format!(
                "<th{class} scope=\"col\" title=\"{}\">{}</th>",
                escape(&t.header[*i]),
                escape(sub)
            ));
        }
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let measures: Vec<usize> = groups
        .iter()
        .flat_map(|(_, c)| c.iter().map(|(i, _)| *i))
        .collect();
    let cell = |row: &[String], i: usize| row.get(i).map_or("", String::as_str).to_string();
    for (r, row) in t.rows.iter().enumerate() {
        h.push_str("<tr>");
        for &i in keys {
            if Some(i) == variant_col {
                // A variant's rows (one per deployment) share its name.
                let same = |k: usize| t.rows[k].get(i) == row.get(i);
                if r > 0 && same(r - 1) {
                    continue;
                }
                let n = (r..t.rows.len()).take_while(|&k| same(k)).count();
                let extra = if n > 1 {
                    format!(" rowspan=\"{n}\"")
                } else {
                    String::new()
                };
                h.push_str(&td(Kind::Text, &cell(row, i), &extra));
            } else {
                h.push_str(&td(kind_of(&t.header[i]), &cell(row, i), ""));
            }
        }
        for &i in &measures {
            h.push_str(&td(kind_of(&t.header[i]), &cell(row, i), ""));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h
}

/// The most measure columns (quantiles, medians, Pareto flags) of `variants.csv` in one table
/// of the report: with the variant, deployment and runs columns, 14 fit a page 1280 px wide
/// (and a printed page); more continue in another table below, a metric's columns never split.
const VARIANT_MEASURES_PER_TABLE: usize = 14;

/// The measure columns of `variants.csv` in tables of at most [`VARIANT_MEASURES_PER_TABLE`]
/// columns, each whole metric (its p5, p50, p95) in one table: `groups` is (heading, [(column,
/// subheading)]) in file order, and a group wider than the limit has a table of its own.
fn variant_tables(groups: &[ColumnGroup]) -> Vec<&[ColumnGroup]> {
    let mut tables = Vec::new();
    let (mut from, mut width) = (0, 0);
    for (k, (_, cols)) in groups.iter().enumerate() {
        if k > from && width + cols.len() > VARIANT_MEASURES_PER_TABLE {
            tables.push(&groups[from..k]);
            (from, width) = (k, 0);
        }
        width += cols.len();
    }
    if from < groups.len() || groups.is_empty() {
        tables.push(&groups[from..]);
    }
    tables
}

/// `variants.csv` as tables that fit the page: a row per variant and deployment with the
/// quantile columns grouped under their metric (p5, p50, p95) and the Pareto flags, in as many
/// tables as [`variant_tables`] needs (the first has time, blast radius, restarts and the
/// fronts; the exposures continue below), and, when the sweep has parameters, what each
/// variant sets.
fn variants_html(bytes: &[u8]) -> String {
    let t = match Table::parse("variants.csv", bytes) {
        Ok(t) => t,
        Err(e) => return format!("<p>{}</p>\n", escape(&e.to_string())),
    };
    // Groups of adjacent measure columns: (heading, [(column, subheading)]).
    let mut keys: Vec<usize> = Vec::new();
    let mut groups: Vec<ColumnGroup> = Vec::new();
    let mut params: Vec<usize> = Vec::new();
    for (i, c) in t.header.iter().enumerate() {
        let (heading, sub) = if VARIANT_KEYS.contains(&c.as_str()) {
            keys.push(i);
            continue;
        } else if let (m, Some(q)) = metric_of(c) {
            let sub = format!("p{q}");
            (metric_heading(m), sub)
        } else if let Some(rest) = c.strip_prefix("pareto_") {
            let sub = match rest {
                "blast" => "blast radius".to_string(),
                // A soft hyphen, where print breaks it: the table fits a printed page.
                "disruption" => "disrup\u{ad}tion".to_string(),
                r => r.replace('_', " "),
            };
            ("on the Pareto front".to_string(), sub)
        } else if c == "rule_fired_runs" {
            // A count of runs, not a parameter, though not a quantile.
            ("rule fired".to_string(), "in runs".to_string())
        } else {
            params.push(i);
            continue;
        };
        match groups.last_mut() {
            Some((g, cols)) if *g == heading => cols.push((i, sub)),
            _ => groups.push((heading, vec![(i, sub)])),
        }
    }
    let variant_col = t.header.iter().position(|h| h == "variant");
    let mut h = String::new();
    for groups in variant_tables(&groups) {
        h.push_str(&variant_measures_html(&t, &keys, groups, variant_col));
    }
    if params.is_empty() {
        return h;
    }
    let cell = |row: &[String], i: usize| row.get(i).map_or("", String::as_str).to_string();
    // What each variant sets, once per variant.
    h.push_str("<p>What each variant sets:</p>\n<table class=\"variants\">\n<thead><tr>");
    if let Some(v) = variant_col {
        h.push_str(&format!("<th>{}</th>", escape(&t.header[v])));
    }
    for &i in &params {
        h.push_str(&format!(
            "<th>{}</th>",
            escape(&t.header[i]).replace('.', ".<wbr>")
        ));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let mut seen: Vec<&str> = Vec::new();
    for row in &t.rows {
        if let Some(v) = variant_col {
            let name = row.get(v).map_or("", String::as_str);
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
        }
        h.push_str("<tr>");
        for &i in variant_col.iter().chain(&params) {
            h.push_str(&td(Kind::Text, &cell(row, i), ""));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    h
}

/// The columns of `segments.csv` in the report's per-segment table, with their headings: the
/// few a ring plan is read from (the file has them all).
const SEGMENT_COLUMNS: [(&str, &str); 6] = [
    ("deployment", "deployment"),
    ("segment", "segment"),
    ("devices_targeted", "devices"),
    ("devices_compliant", "compliant"),
    ("hours_to_50", "hours to 50 %"),
    ("hours_to_95", "hours to 95 %"),
];

/// The restart columns of `segments.csv` shown after [`SEGMENT_COLUMNS`]: the disruptions a
/// site's users feel. Left out, not an error, when the file lacks them: folders of older
/// versions have none, and `rollsim plot` still redraws their report.
const SEGMENT_RESTART_COLUMNS: [(&str, &str); 2] = [
    ("forced_restarts", "forced restarts"),
    ("restarts_in_active_hours", "restarts in active hours"),
];

/// The per-segment table from `segments.csv`; `None` when it names a single segment, whose
/// rows would repeat the summary's.
fn segments_html(bytes: &[u8], start: Option<i64>) -> Option<String> {
    let t = match Table::parse("segments.csv", bytes) {
        Ok(t) => t,
        Err(e) => return Some(format!("<p>{}</p>\n", escape(&e.to_string()))),
    };
    let mut cols = Vec::new();
    for (name, _) in SEGMENT_COLUMNS {
        match t.header.iter().position(|h| h == name) {
            Some(i) => cols.push(i),
            None => {
                let m = format!("segments.csv: missing column `{name}`");
                return Some(format!("<p>{}</p>\n", escape(&m)));
            }
        }
    }
    let mut shown_columns: Vec<(&str, &str)> = SEGMENT_COLUMNS.to_vec();
    for (name, heading) in SEGMENT_RESTART_COLUMNS {
        if let Some(i) = t.header.iter().position(|h| h == name) {
            cols.push(i);
            shown_columns.push((name, heading));
        }
    }
    let mut names: Vec<&str> = t
        .rows
        .iter()
        .filter_map(|r| r.get(cols[1]))
        .map(|s| s.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.len() < 2 {
        return None;
    }
    let mut h = String::from("<table>\n<thead><tr>");
    for &(_, heading) in &shown_columns {
        h.push_str(&format!("<th>{}</th>", escape(heading)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        h.push_str("<tr>");
        for (&i, &(name, _)) in cols.iter().zip(&shown_columns) {
            let cell = r.get(i).map_or("", String::as_str);
            h.push_str(&match kind_of(name) {
                Kind::Hours => td_hours(cell, start),
                kind => td(kind, cell, ""),
            });
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
    Some(h)
}

/// An SVG from plotters ready to inline: the XML prolog dropped. `None` when it holds anything
/// that is not plotters' drawing vocabulary (so no user-controlled markup can get through).
fn inline_svg(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?;
    let s = match s.find("<svg") {
        Some(i) => &s[i..],
        None => return None,
    };
    const TAGS: [&str; 9] = [
        "svg", "text", "rect", "circle", "polyline", "polygon", "line", "path", "g",
    ];
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        let tag = rest[i + 1..].trim_start_matches('/');
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if !TAGS.contains(&name.as_str()) {
            return None;
        }
        rest = &rest[i + 1..];
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("<script") || has_on_attr(&lower) {
        return None;
    }
    Some(s.to_string())
}

/// Whether an element carries an event-handler attribute (` onload="`, ` onclick="`…).
fn has_on_attr(lower: &str) -> bool {
    lower.match_indices(" on").any(|(i, _)| {
        let rest = &lower[i + 3..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        !name.is_empty() && rest[name.len()..].starts_with("=\"") && is_inside_tag(lower, i)
    })
}

/// Whether byte offset `i` is inside a tag (after a `<` with no `>` in between).
fn is_inside_tag(s: &str, i: usize) -> bool {
    let before = &s[..i];
    match (before.rfind('<'), before.rfind('>')) {
        (Some(lt), Some(gt)) => lt > gt,
        (Some(_), None) => true,
        _ => false,
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// What the report's hours count from: the scenario start, named when known.
fn hours_note(start: Option<&str>) -> String {
    match start.and_then(|s| start_unix_of(s).map(|u| (s, u))) {
        Some((_, u)) => format!(
            "Hours are counted from the scenario start, {}, with one decimal; the UTC date and time each falls on is under it.",
            escape(&date_text(u, 0.0))
        ),
        None => "Hours are counted from the scenario start, with one decimal.".into(),
    }
}

/// How many replications `runs.csv` holds (distinct values of its `replication` column).
fn replications(files: &[(&str, Vec<u8>)]) -> Option<usize> {
    let b = find(files, "runs.csv")?;
    let mut r = csv::Reader::from_reader(b);
    let col = r.headers().ok()?.iter().position(|h| h == "replication")?;
    let mut seen: Vec<String> = r
        .records()
        .filter_map(|x| x.ok().and_then(|x| x.get(col).map(str::to_string)))
        .collect();
    seen.sort();
    seen.dedup();
    Some(seen.len())
}

/// Each deployment that does not offer at the end (paused, archived, faulted, still
/// scheduled), with its state in the terminal's words; `None` when all offer.
fn final_states_html(json: &serde_json::Value) -> Option<String> {
    let mut items = String::new();
    for d in json["deployments"].as_array()? {
        let changes: Vec<StateChangeOut> = d["state_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(StateChangeOut::from_json)
            .collect();
        if let Some(text) = final_state_text(&changes) {
            items.push_str(&format!("<li>{}: {}</li>\n", name_html(d), escape(&text)));
        }
    }
    (!items.is_empty()).then(|| format!("<ul class=\"end\">\n{items}</ul>\n"))
}

/// The hidden issues (`issues[]` of `summary.json`) in the terminal's words, each deployment's
/// devices held by likely-issue holds and those still held at the end by kind of hold; `None`
/// when there are none of these.
fn issues_html(json: &serde_json::Value) -> Option<String> {
    let issues: Vec<String> = json["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(IssueOut::from_json)
        .map(|i| format!("<li>{}</li>\n", escape(&i.text())))
        .collect();
    let held: Vec<String> = json["deployments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let text = HeldAtEndOut::from_json(&d["held_at_end"])?.text()?;
            Some(format!("<li>{}: {}</li>\n", name_html(d), escape(&text)))
        })
        .collect();
    let likely: Vec<String> = json["deployments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let text = LikelyHoldsOut::from_json(&d["likely_issue_holds"])?.text();
            Some(format!("<li>{}: {}</li>\n", name_html(d), escape(&text)))
        })
        .collect();
    if issues.is_empty() && held.is_empty() && likely.is_empty() {
        return None;
    }
    let mut h = String::new();
    if !issues.is_empty() {
        h.push_str(&format!(
            "<ul class=\"issues\">\n{}</ul>\n",
            issues.concat()
        ));
    }
    if !likely.is_empty() {
        h.push_str("<p>Devices the likely-issue model held (<code>likely_issue_holds</code> in <code>summary.json</code>): its precision and recall are assumptions, as Microsoft publishes none (README, Likely-issue safeguards).</p>\n");
        h.push_str(&format!(
            "<ul class=\"likely\">\n{}</ul>\n",
            likely.concat()
        ));
    }
    if !held.is_empty() {
        h.push_str("<p>Devices still held by a safeguard at the end (<code>held_at_end</code> in <code>summary.json</code>): a known issue's hold ends at its release, a likely-issue hold when its content's issues have all had their holds released (or at <code>[safety] likely_issues.release</code>, if set) or when the deployment turns likely-issue holds off.</p>\n");
        h.push_str(&format!("<ul class=\"held\">\n{}</ul>\n", held.concat()));
    }
    Some(h)
}

/// The "Across N replications" section from `runs.csv`: per deployment the terminal's line
/// and a table of the time to 50, 90 and 95 % (p5, median, p95, and in how many runs the share
/// was at or above it at the end), with dates when the start is known.
fn across_html(bytes: &[u8], start: Option<i64>, json: Option<&serde_json::Value>) -> String {
    let across = match AcrossOut::from_runs_csv(bytes) {
        Ok(a) => a,
        Err(e) => return format!("<p>{}</p>\n", escape(&e.to_string())),
    };
    // Replication 0's summary names the rules a deployment had (fired, or in force at the end
    // and not fired): such a deployment's line says when none fired in any run. Without a
    // rule named there it is not known (a rule PATCHed away unfired), so the line is silent.
    let has_rule = |name: &str| {
        json.and_then(|j| j["deployments"].as_array())
            .into_iter()
            .flatten()
            .filter(|d| d["name"].as_str() == Some(name))
            .any(|d| {
                ["rule_firings", "rules_not_fired"]
                    .iter()
                    .any(|k| d[*k].as_array().is_some_and(|a| !a.is_empty()))
            })
            .then_some(true)
    };
    let across: Vec<AcrossOut> = across
        .into_iter()
        .map(|a| {
            let m = has_rule(&a.deployment);
            a.with_monitored(m)
        })
        .collect();
    let hours = |x: Option<f64>| {
        x.map_or_else(
            || "<td class=\"num\">not by the end</td>".to_string(),
            |h| td_hours(&h.to_string(), start),
        )
    };
    let mut h = String::from("<ul class=\"across\">\n");
    for a in &across {
        h.push_str(&format!("<li>{}</li>\n", escape(&a.text())));
    }
    h.push_str("</ul>\n<table class=\"across\">\n<thead><tr><th>deployment</th><th>compliant</th><th class=\"num\">runs at it at the end</th><th class=\"num\">p5</th><th class=\"num\">median</th><th class=\"num\">p95</th></tr></thead>\n<tbody>\n");
    for a in &across {
        for (k, t) in a.times.iter().enumerate() {
            h.push_str("<tr>");
            if k == 0 {
                h.push_str(&format!(
                    "<th scope=\"row\" rowspan=\"{}\">{}</th>",
                    a.times.len(),
                    breakable(&a.deployment)
                ));
            }
            h.push_str(&format!(
                "<td>{} %</td><td class=\"num\">{} of {}</td>{}{}{}</tr>\n",
                t.pct,
                t.held,
                t.runs,
                hours(t.p5),
                hours(t.median),
                hours(t.p95)
            ));
        }
    }
    h.push_str("</tbody></table>\n");
    h
}

fn chart_caption(stem: &str) -> String {
    match stem {
        "compliance" => "Share of each deployment's audience compliant (ready, for a readiness test) over time; the dashed line is the 95 % target, dots and ticks mark deployment state changes.".into(),
        "restarts" => "Restarts by device-local hour and weekday: forced (left), automatic (middle) and by users (right), on one colour scale; the outline marks active hours. Forced and automatic restarts inside active hours disrupt users; restarts by users are their own and are not counted as disruptions.".into(),
        "bands" => "Median share compliant (ready, for a readiness test) per variant, with p25–p75 and p5–p95 bands across replications (by nearest rank: with 10 replications or fewer the outer band spans the lowest to the highest run; it shows the spread of runs, not a confidence interval).".into(),
        "time-to-95" => "Days to 95 % compliant per variant: dot at the median, whiskers from p5 to p95 of the runs (by nearest rank: with 10 replications or fewer, the fastest to the slowest run; the spread of runs, not a confidence interval).".into(),
        "pareto" => "Median time to 95 % against median devices hit by issues, one colour and marker per deployment; filled points joined by a dashed line form that deployment's Pareto front. When no variant's median run reached 95 %, the median share compliant at the end takes the time's place (the chart says so under it). Medians of few replications move with the seed: two variants minutes apart can swap places on the front.".into(),
        "pareto-disruption" => "Median time to 95 % against median restarts in active hours (forced and automatic), one colour and marker per deployment; filled points joined by a dashed line form that deployment's Pareto front.".into(),
        s if s.starts_with("states-") => "Share of the deployment's devices in each client state over time (stacked).".into(),
        s => s.to_string(),
    }
}

/// `report.html` for an output folder: `files` are its CSV/JSON/TOML inputs (name, bytes),
/// `charts` the rendered charts (file name, bytes) in display order.
/// The monitoring rules of each deployment in `summary.json` that has any, fired or not, as a
/// list in the terminal's words; `None` when no deployment has a rule.
fn rules_html(json: &serde_json::Value) -> Option<String> {
    use crate::report::{RuleFiringOut, RuleMissOut};
    let mut items = String::new();
    for d in json["deployments"].as_array()? {
        let fired = d["rule_firings"].as_array().into_iter().flatten();
        let missed = d["rules_not_fired"].as_array().into_iter().flatten();
        let lines: Vec<String> = fired
            .filter_map(|f| RuleFiringOut::from_json(f).map(|f| f.text()))
            .chain(missed.filter_map(|m| RuleMissOut::from_json(m).map(|m| m.text())))
            .collect();
        if lines.is_empty() {
            continue;
        }
        items.push_str(&format!("<li>{}<ul>", name_html(d)));
        for l in lines {
            items.push_str(&format!("<li>{}</li>", escape(&l)));
        }
        items.push_str("</ul></li>\n");
    }
    (!items.is_empty()).then(|| format!("<ul class=\"rules\">\n{items}</ul>\n"))
}

pub fn report_html(files: &[(&str, Vec<u8>)], charts: &[(String, Vec<u8>)]) -> String {
    let json: Option<serde_json::Value> =
        find(files, "summary.json").and_then(|b| serde_json::from_slice(b).ok());
    let toml_text = find(files, "scenario.toml").and_then(|b| std::str::from_utf8(b).ok());
    let toml_value: Option<toml::Table> = toml_text.and_then(|t| t.parse().ok());
    let from_toml = |key: &str| {
        toml_value
            .as_ref()
            .and_then(|t| t.get("simulation"))
            .and_then(|s| s.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let from_json = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    // A sweep (a batch's folder) names its base scenario, and its head names the sweep.
    let sweep = toml_value.as_ref().is_some_and(|t| t.contains_key("base"));
    let head = toml_text.filter(|_| sweep).map(sweep_head);
    let name = from_json("scenario")
        .or_else(|| from_toml("name"))
        .or_else(|| head.as_ref().map(SweepHead::title))
        .unwrap_or_else(|| "rollsim results".into());
    let description = from_json("description")
        .or_else(|| from_toml("description"))
        .or_else(|| head.and_then(|h| h.question));

    // Hours count from the scenario start; with it known, each time also shows as a date.
    let start_text = from_json("start");
    let start = start_text.as_deref().and_then(start_unix_of);

    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!(
        "<title>{} – rollsim report</title>\n",
        escape(&name)
    ));
    h.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n"));
    h.push_str(&format!("<h1>{}</h1>\n", escape(&name)));
    if let Some(d) = description {
        h.push_str(&format!("<p class=\"description\">{}</p>\n", escape(&d)));
    }
    if let Some(j) = &json {
        let field = |k: &str| {
            j.get(k)
                .map(|v| v.to_string().trim_matches('"').to_string())
        };
        let mut facts = Vec::new();
        if let Some(v) = field("devices") {
            facts.push(format!("{} devices", escape(&v)));
        }
        if let Some(v) = field("start") {
            facts.push(format!("start {}", escape(&v)));
        }
        if let Some(v) = j.get("horizon_hours").and_then(|v| v.as_f64()) {
            let secs = (v * crate::time::HOUR as f64).round() as crate::time::Time;
            facts.push(format!("horizon {}", escape(&crate::time::fmt_span(secs))));
        }
        if let Some(v) = field("seed") {
            facts.push(format!("seed {}", escape(&v)));
        }
        // `run --replications N`: the summary and charts but the bands are replication 0's.
        if let Some(n) = replications(files).filter(|&n| n > 1 && !sweep) {
            facts.push(format!(
                "replication 0 of {n} (the band chart, <code>runs.csv</code> and the section \"Across {n} replications\" cover all {n})"
            ));
        }
        if !facts.is_empty() {
            h.push_str(&format!("<p>{}</p>\n", facts.join(" · ")));
        }
    }
    if let Some(b) = find(files, "summary.csv") {
        h.push_str("<h2>Summary per deployment</h2>\n");
        h.push_str(&format!(
            "<p>One row per column of <code>summary.csv</code> (named in the second column), one column per deployment. {} Shares in percent; point at a rounded number for its exact value. A dash (–) is a time not reached, or not held at the end, or a rule that never fired. <code>hours_to_X</code> is the time from which the compliant share stayed at or above X % until the end of the run.</p>\n",
            hours_note(start_text.as_deref())
        ));
        let expedited = json.as_ref().map(expedited_names).unwrap_or_default();
        h.push_str(&summary_html(b, start, &expedited));
        if let Some(list) = json.as_ref().and_then(final_states_html) {
            h.push_str("<p>At the end of the run, not offering:</p>\n");
            h.push_str(&list);
        }
    }
    if let Some(b) = find(files, "runs.csv").filter(|_| !sweep)
        && let Some(n) = replications(files).filter(|&n| n > 1)
    {
        h.push_str(&format!("<h2>Across {n} replications</h2>\n"));
        h.push_str(&format!(
            "<p>The other sections show replication 0; these are all {n} runs (<code>runs.csv</code>), as the terminal printed them after the runs: per deployment the time to 95 % (median and p5–p95 by nearest rank; a run whose share was below 95 % at the end has no time and counts as latest, \"not by the end\"), the median forced restarts, restarts in active hours and devices hit by issues, and in how many runs a monitoring rule fired (or that none fired, for a deployment with rules). The table spreads the time to 50, 90 and 95 %. {}</p>\n",
            hours_note(start_text.as_deref())
        ));
        h.push_str(&across_html(b, start, json.as_ref()));
    }
    if let Some(list) = json.as_ref().and_then(rules_html) {
        h.push_str("<h2>Monitoring rules</h2>\n");
        h.push_str(
            "<p>Each deployment's rules as the service judged them: when one fired, and for a rule in force at the end that never fired, the highest share its signal reached at a moment it was judged (<code>rule_firings</code> and <code>rules_not_fired</code> in <code>summary.json</code>).</p>\n",
        );
        h.push_str(&list);
    }
    if let Some(issues) = json.as_ref().and_then(issues_html) {
        h.push_str("<h2>Issues and safeguard holds</h2>\n");
        h.push_str(
            "<p>Each hidden issue (<code>issues</code> in <code>summary.json</code>): the devices matching it and hit by it, and when its known-issue safeguard hold was placed and released (hours since the start).</p>\n",
        );
        h.push_str(&issues);
    }
    if let Some(table) = find(files, "segments.csv").and_then(|b| segments_html(b, start)) {
        h.push_str("<h2>Per segment</h2>\n");
        h.push_str(
            "<p>Each segment's devices in each deployment's audience at the end (all columns in <code>segments.csv</code>). The hours are those of the summary, on the segment's own devices: from when its compliant share stayed at or above 50 or 95 % until the end of the run. The restarts are the summary's too, of the segment's devices: forced after the deadline, and forced or automatic inside active hours (a segment whose devices restarted and then left the audience keeps its row, with 0 devices).</p>\n",
        );
        h.push_str(&table);
    }
    if !charts.is_empty() {
        h.push_str("<h2>Charts</h2>\n");
    }
    // One figure per chart: its SVG when there is one, else its PNG.
    let mut stems: Vec<&str> = Vec::new();
    for (n, _) in charts {
        if let Some((stem, _)) = n.rsplit_once('.')
            && !stems.contains(&stem)
        {
            stems.push(stem);
        }
    }
    for stem in stems {
        let svg = charts.iter().find(|(n, _)| *n == format!("{stem}.svg"));
        let png = charts.iter().find(|(n, _)| *n == format!("{stem}.png"));
        let body = match (svg.and_then(|(_, b)| inline_svg(b)), png) {
            (Some(s), _) => s,
            (None, Some((_, b))) => format!(
                "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
                escape(stem),
                base64(b)
            ),
            (None, None) => continue,
        };
        h.push_str(&format!(
            "<figure id=\"{}\">\n{}\n<figcaption>{} ({}.svg, {}.png)</figcaption>\n</figure>\n",
            escape(stem),
            body.trim_end(),
            escape(&chart_caption(stem)),
            escape(stem),
            escape(stem)
        ));
    }
    if let Some(b) = find(files, "expectations.csv") {
        h.push_str("<h2>Expectations</h2>\n");
        h.push_str(&expectations_html(b));
    }
    if let Some(b) = find(files, "variants.csv") {
        h.push_str("<h2>Variants</h2>\n");
        h.push_str(
            "<p>Per variant and deployment, across its runs: hours to 90 and 95 % compliant and devices hit by issues (p5, p50 = the median, p95), the median forced restarts and restarts in active hours, and whether the variant is on its deployment's Pareto front of median time to 95 % against devices hit (blast radius) or against restarts in active hours (disruption). The exposure in device-days (p5, p50, p95), with an exploit instant the median share compliant at it and the exposure after it, the hours to 99 % (p5, p50, p95), the median share compliant at the end, and, for a deployment with a monitoring rule, in how many runs a rule fired, and, over those runs, the median hours to its firing and devices hit by then, continue in a second table, so that each fits the page. Point at a heading for its column in <code>variants.csv</code>.</p>\n",
        );
        h.push_str(&variants_html(b));
    }
    h.push_str("<h2>Parameters</h2>\n");
    match (toml_text, &json) {
        (Some(t), _) if sweep => {
            h.push_str("<p>The sweep file that produced these results, as run:</p>\n");
            h.push_str(&format!("<pre>{}</pre>\n", escape(t)));
        }
        (Some(t), _) => {
            h.push_str("<p>The scenario file that produced these results:</p>\n");
            h.push_str(&format!("<pre>{}</pre>\n", escape(t)));
        }
        (None, Some(j)) => {
            h.push_str("<table>\n");
            for k in [
                "scenario",
                "description",
                "start",
                "horizon_hours",
                "seed",
                "replication",
                "devices",
            ] {
                if let Some(v) = j.get(k) {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    h.push_str(&format!(
                        "<tr><th>{}</th><td>{}</td></tr>\n",
                        escape(&k.replace('_', " ")),
                        escape(&v)
                    ));
                }
            }
            h.push_str("</table>\n");
        }
        (None, None) => h.push_str("<p>No parameters recorded in this folder.</p>\n"),
    }
    h.push_str("<p><small>Generated by rollsim from the CSV files in this folder.</small></p>\n");
    h.push_str("</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape("<img src=x onerror=alert(1)> & 'q' \"d\""),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39; &quot;d&quot;"
        );
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn an_svg_with_foreign_markup_is_not_inlined() {
        assert!(inline_svg(b"<svg><text>a</text></svg>").is_some());
        assert!(inline_svg(b"<svg><img src=x onerror=alert(1)></svg>").is_none());
        assert!(inline_svg(b"<svg><rect onload=\"x\"/></svg>").is_none());
        assert!(inline_svg(b"<?xml version=\"1.0\"?><svg></svg>").is_some());
    }

    #[test]
    fn a_run_with_replications_says_its_tables_are_replication_0_of_n() {
        let summary = br#"{"scenario": "s", "devices": 10, "seed": 1}"#.to_vec();
        let runs = "variant,replication,seed,deployment\nbase,0,1,q\nbase,1,1,q\nbase,2,1,q\n";
        let files = vec![
            ("summary.json", summary.clone()),
            ("runs.csv", runs.as_bytes().to_vec()),
        ];
        assert!(report_html(&files, &[]).contains("replication 0 of 3"));
        // A single run says nothing of replications.
        let h = report_html(&[("summary.json", summary)], &[]);
        assert!(!h.contains("replication 0 of"), "{h}");
    }

    #[test]
    fn a_hostile_deployment_name_shows_as_text() {
        let summary = "deployment,devices_targeted\n<img src=x onerror=alert(1)>,5\n";
        let files = vec![("summary.csv", summary.as_bytes().to_vec())];
        let h = report_html(&files, &[]);
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!h.contains("<img src=x"));
    }

    #[test]
    fn a_batch_report_is_titled_as_a_sweep_over_its_base_and_asks_the_sweeps_question() {
        let sweep = "# sweep: rollout <size>\n# base scenario: Ring <plan>\n# as run with --replications 5\n# Question: how big & how fast?\n#\n#   Ten runs each.\n\nbase = \"x.toml\"\nreplications = 5\n# not the question\n";
        let files = vec![("scenario.toml", sweep.as_bytes().to_vec())];
        let h = report_html(&files, &[]);
        assert!(
            h.contains("<h1>rollout &lt;size&gt;: sweep over Ring &lt;plan&gt;</h1>"),
            "{h}"
        );
        assert!(
            h.contains(
                "<title>rollout &lt;size&gt;: sweep over Ring &lt;plan&gt; – rollsim report</title>"
            ),
            "{h}"
        );
        assert!(
            h.contains(
                "<p class=\"description\">Question: how big &amp; how fast? Ten runs each.</p>"
            ),
            "{h}"
        );
        assert!(
            h.contains("The sweep file that produced these results, as run:"),
            "{h}"
        );
        assert!(h.contains("replications = 5"), "{h}");
        // A copy written before sweeps were named says what it can; one without a question has
        // no description.
        let old = "# base scenario: Ring\nbase = \"x.toml\"\n";
        let h = report_html(&[("scenario.toml", old.as_bytes().to_vec())], &[]);
        assert!(h.contains("<h1>sweep over Ring</h1>"), "{h}");
        assert!(!h.contains("class=\"description\""), "{h}");
        // A scenario whose comment looks the same is still named by its [simulation] name.
        let scenario = "# base scenario: not this\n[simulation]\nname = \"own\"\n";
        let h = report_html(&[("scenario.toml", scenario.as_bytes().to_vec())], &[]);
        assert!(h.contains("<h1>own</h1>"), "{h}");
    }

    /// `summary.csv` with `rows` (a deployment name and the values of [`crate::report::METRICS`]).
    fn summary_csv(rows: &[(&str, [&str; 20])]) -> Vec<u8> {
        let mut t = format!("deployment,{}\n", crate::report::METRICS.join(","));
        for (name, values) in rows {
            t.push_str(&format!("{name},{}\n", values.join(",")));
        }
        t.into_bytes()
    }

    const SAFETY_ROW: [&str; 20] = [
        "8736", "8830", "8680", "0.0862", "4.0953", "", "558.3097", "", "0", "6378", "2417", "3",
        "0", "100", "44", "1264", "0", "50.5547", "21", "72",
    ];

    #[test]
    fn every_summary_column_is_in_the_report_without_scrolling() {
        let files = vec![(
            "summary.csv",
            summary_csv(&[("24h2", SAFETY_ROW), ("<b>q</b>", SAFETY_ROW)]),
        )];
        let h = report_html(&files, &[]);
        for c in crate::report::METRICS {
            assert_eq!(
                h.matches(&format!("<td class=\"csv\">{c}</td>")).count(),
                1,
                "{c}: {h}"
            );
        }
        // The deployments head the columns; a row per metric holds both.
        assert!(h.contains(">24h2</th>"), "{h}");
        assert!(h.contains(">&lt;b&gt;q&lt;/b&gt;</th>"), "{h}");
        let row = h
            .lines()
            .find(|l| l.contains("<td class=\"csv\">paused_by_monitoring_hours</td>"))
            .expect("row");
        assert_eq!(row.matches("<td").count(), 3, "{row}");
        // Nothing needs a box that scrolls sideways.
        assert!(!h.contains("scroll"), "{h}");
    }

    #[test]
    fn more_deployments_than_fit_side_by_side_continue_in_another_table() {
        let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let rows: Vec<(&str, [&str; 20])> = names.iter().map(|n| (*n, SAFETY_ROW)).collect();
        let h = report_html(&[("summary.csv", summary_csv(&rows))], &[]);
        assert_eq!(h.matches("<table class=\"summary\">").count(), 2, "{h}");
        assert_eq!(h.matches("<td class=\"csv\">held</td>").count(), 2, "{h}");
        for n in names {
            assert_eq!(h.matches(&format!(">{n}</th>")).count(), 1, "{n}: {h}");
        }
    }

    #[test]
    fn a_share_renders_as_a_percent_with_one_decimal_and_keeps_its_exact_value() {
        let mut all = SAFETY_ROW;
        all[3] = "1";
        let mut nearly = SAFETY_ROW;
        nearly[3] = "0.99996";
        let rows = [("x", SAFETY_ROW), ("y", all), ("z", nearly)];
        let h = report_html(&[("summary.csv", summary_csv(&rows))], &[]);
        assert!(
            h.contains("<td class=\"num\" title=\"0.0862\">8.6 %</td>"),
            "{h}"
        );
        assert!(
            h.contains("<td class=\"num\" title=\"1\">100.0 %</td>"),
            "{h}"
        );
        // Not everyone: never rounded up to 100 %.
        assert!(
            h.contains("<td class=\"num\" title=\"0.99996\">&gt; 99.9 %</td>"),
            "{h}"
        );
        assert!(!h.contains(">0.0862<"), "{h}");
        assert_eq!(percent(0.0), "0.0 %");
        assert_eq!(percent(0.0004), "< 0.1 %");
        assert_eq!(percent(0.95), "95.0 %");
    }

    #[test]
    fn monitoring_rules_fired_or_not_are_listed_per_deployment_in_the_terminals_words() {
        let json = r#"{"scenario": "s", "deployments": [
            {"name": "a<b", "rule_firings": [{"hours": 27.94, "signal": "rollback", "threshold": 5,
              "action": "pauseDeployment", "signals": 6, "denominator": 120,
              "denominator_counts": "offered", "issue_hits": 6}],
             "rules_not_fired": [{"signal": "rollback", "threshold": 20, "action": "alertError",
              "peak_hours": 260.5, "peak_signals": 3, "peak_denominator": 55,
              "denominator_counts": "installed"},
              {"signal": "ineligible", "threshold": 1, "action": "offerFallback",
              "peak_hours": null, "peak_signals": null, "peak_denominator": null,
              "denominator_counts": "offered"}]},
            {"name": "quiet", "rule_firings": []}]}"#;
        let h = report_html(&[("summary.json", json.as_bytes().to_vec())], &[]);
        assert!(h.contains("<h2>Monitoring rules</h2>"), "{h}");
        assert!(h.contains("<li><b>a&lt;b</b><ul><li>rule rollback 5 % → pauseDeployment fired at 27.9 h (6 rollback reports of 120 devices offered); 6 devices hit by issues by then</li><li>rule rollback 20 % → alertError did not fire; highest 5.5 % at 260.5 h (3 rollback reports of 55 devices installed)</li><li>rule ineligible (threshold ignored) → offerFallback did not fire; never judged: no report, or too few devices counted</li></ul></li>"), "{h}");
        // A deployment without rules is not listed, and a folder without any has no section.
        assert!(!h.contains("<b>quiet</b>"), "{h}");
        let none = r#"{"scenario": "s", "deployments": [{"name": "quiet", "rule_firings": []}]}"#;
        let h = report_html(&[("summary.json", none.as_bytes().to_vec())], &[]);
        assert!(!h.contains("Monitoring rules"), "{h}");
    }

    #[test]
    fn the_report_tells_the_final_state_the_issues_and_the_devices_still_held() {
        let json = r#"{"scenario": "s", "start": "2026-03-02T00:00:00Z", "deployments": [
            {"name": "pilot<1>", "state_changes": [
               {"hours": 0.0, "state": "offering", "reason": "offeringByRequest"},
               {"hours": 104.0, "state": "paused", "reason": "pausedByMonitoring"}],
             "held_at_end": {"devices": 986, "known_issue": 0, "likely_issue": 986},
             "likely_issue_holds": {"devices": 986, "matching_issue": 0, "not_matching_issue": 986, "first_hours": 0.0}},
            {"name": "broad", "state_changes": [
               {"hours": 0.0, "state": "offering", "reason": "offeringByRequest"}],
             "held_at_end": {"devices": 0, "known_issue": 0, "likely_issue": 0}}],
          "issues": [{"name": "gfx <31>", "content": "c", "deployments": ["broad"],
             "devices_matching": 995, "devices_hit": 160, "failed": 0, "rolled_back": 160,
             "incidents": 0, "ineligible": 0, "reported": 160, "hold_hours": 221.4,
             "released_hours": 557.4}]}"#;
        let h = report_html(
            &[
                ("summary.json", json.as_bytes().to_vec()),
                ("summary.csv", summary_csv(&[("x", SAFETY_ROW)])),
            ],
            &[],
        );
        assert!(
            h.contains("<li><b>pilot&lt;1&gt;</b>: paused at the end since 104.0 h (pausedByMonitoring)</li>"),
            "{h}"
        );
        assert!(!h.contains("<b>broad</b>: offering"), "{h}");
        assert!(h.contains("<h2>Issues and safeguard holds</h2>"), "{h}");
        assert!(h.contains("<li>issue &quot;gfx &lt;31&gt;&quot;: 160 of 995 matching devices hit (0 failed installs, 160 rollbacks, 0 incidents); hold 221.4 h → 557.4 h</li>"), "{h}");
        assert!(
            h.contains("<li><b>pilot&lt;1&gt;</b>: still held at the end: 986 devices, by likely-issue safeguard holds</li>"),
            "{h}"
        );
        assert!(
            h.contains("<li><b>pilot&lt;1&gt;</b>: likely-issue holds: 986 devices held from the start (0 matching an issue, 986 not); an assumption: [safety] likely_issues</li>"),
            "{h}"
        );
        assert!(!h.contains("<b>broad</b>: likely-issue"), "{h}");
        // Hours count from the start, which the report names, and show their date.
        assert!(
            h.contains("Hours are counted from the scenario start, 2026-03-02 00:00 UTC"),
            "{h}"
        );
        assert!(
            h.contains(
                "title=\"4.0953\">4.1<br><small class=\"date\">2026-03-02 04:05 UTC</small></td>"
            ),
            "{h}"
        );
        // Without issues or held devices there is no such section.
        let quiet = r#"{"scenario": "s", "deployments": [{"name": "a"}], "issues": []}"#;
        let h = report_html(&[("summary.json", quiet.as_bytes().to_vec())], &[]);
        assert!(!h.contains("Issues and safeguard holds"), "{h}");
    }

    #[test]
    fn an_expedited_deployment_is_marked_beside_its_name_and_a_regular_or_older_one_is_not() {
        let json = r#"{"scenario": "s", "deployments": [
            {"name": "fix<1>", "expedited": true, "state_changes": [
               {"hours": 3.0, "state": "paused", "reason": "pausedByRequest"}]},
            {"name": "regular", "expedited": false, "state_changes": [
               {"hours": 3.0, "state": "paused", "reason": "pausedByRequest"}]}]}"#;
        let h = report_html(
            &[
                ("summary.json", json.as_bytes().to_vec()),
                (
                    "summary.csv",
                    summary_csv(&[("fix<1>", SAFETY_ROW), ("regular", SAFETY_ROW)]),
                ),
            ],
            &[],
        );
        let mark = "<span class=\"mark\">(expedited)</span>";
        // The summary's heading and the list of deployments not offering at the end.
        assert!(
            h.contains(&format!("class=\"num name\">fix&lt;1&gt; {mark}</th>")),
            "{h}"
        );
        assert!(
            h.contains(&format!(
                "<li><b>fix&lt;1&gt;</b> {mark}: paused at the end"
            )),
            "{h}"
        );
        assert!(h.contains("class=\"num name\">regular</th>"), "{h}");
        assert!(h.contains("<li><b>regular</b>: paused at the end"), "{h}");
        assert_eq!(h.matches(mark).count(), 2, "{h}");
        // A folder of an earlier version has no `expedited`: nothing is marked.
        let older = json.replace("\"expedited\": true, ", "");
        let h = report_html(
            &[
                ("summary.json", older.into_bytes()),
                ("summary.csv", summary_csv(&[("fix<1>", SAFETY_ROW)])),
            ],
            &[],
        );
        assert!(!h.contains("(expedited)"), "{h}");
    }

    #[test]
    fn a_replicated_run_reports_its_spread_across_replications_from_runs_csv() {
        let summary = br#"{"scenario": "s", "start": "2026-03-02T00:00:00Z"}"#.to_vec();
        let runs = "variant,replication,seed,deployment,hours_to_50,hours_to_90,hours_to_95,forced_restarts,restarts_in_active_hours,issue_hits,rule_fired_hours\nbase,0,1,q,1,2,,3,0,0,\nbase,1,1,q,1,2,24,3,0,0,\nbase,2,1,q,1,2,,3,0,0,\n";
        let files = vec![
            ("summary.json", summary),
            ("runs.csv", runs.as_bytes().to_vec()),
        ];
        let h = report_html(&files, &[]);
        assert!(h.contains("<h2>Across 3 replications</h2>"), "{h}");
        assert!(
            h.contains("<li>q: 95 % in 1 of 3 runs (at 24.0 h); forced restarts 3, restarts in active hours 0 (median)</li>"),
            "{h}"
        );
        assert!(
            h.contains("<td>95 %</td><td class=\"num\">1 of 3</td><td class=\"num\" title=\"24\">24.0<br><small class=\"date\">2026-03-03 00:00 UTC</small></td><td class=\"num\">not by the end</td>"),
            "{h}"
        );
        assert!(
            h.contains("2.0<br><small class=\"date\">2026-03-02 02:00 UTC</small>"),
            "{h}"
        );
        // A sweep's runs.csv is its variants table's business.
        let sweep = vec![
            ("scenario.toml", b"base = \"x.toml\"\n".to_vec()),
            ("runs.csv", runs.as_bytes().to_vec()),
        ];
        assert!(!report_html(&sweep, &[]).contains("Across"));
    }

    #[test]
    fn a_rule_read_back_from_summary_json_is_the_rule_written() {
        use crate::report::{RuleFiringOut, RuleMissOut};
        let f = RuleFiringOut {
            hours: 1.5,
            signal: "rollback".into(),
            threshold: 5,
            action: "pauseDeployment".into(),
            signals: 3,
            denominator: 40,
            counted: "installed",
            issue_hits: 2,
        };
        let v = serde_json::to_value(&f).expect("json");
        assert_eq!(RuleFiringOut::from_json(&v), Some(f));
        let m = RuleMissOut {
            signal: "rollback".into(),
            threshold: 20,
            action: "alertError".into(),
            peak_hours: Some(2.25),
            peak_signals: Some(1),
            peak_denominator: Some(9),
            counted: "offered",
        };
        let v = serde_json::to_value(&m).expect("json");
        assert_eq!(RuleMissOut::from_json(&v), Some(m));
    }

    #[test]
    fn hours_render_with_one_decimal_and_counts_as_whole_numbers() {
        let h = report_html(&[("summary.csv", summary_csv(&[("x", SAFETY_ROW)]))], &[]);
        let row = |c: &str| {
            h.lines()
                .find(|l| l.contains(&format!("<td class=\"csv\">{c}</td>")))
                .unwrap_or_else(|| panic!("{c}: {h}"))
                .to_string()
        };
        assert!(row("hours_to_50").ends_with("<td class=\"num\" title=\"4.0953\">4.1</td></tr>"));
        assert!(row("rule_fired_hours").ends_with("title=\"50.5547\">50.6</td></tr>"));
        assert!(row("paused_by_monitoring_hours").ends_with("title=\"72\">72.0</td></tr>"));
        // Not reached: a dash.
        assert!(row("hours_to_90").ends_with("<td class=\"num\">–</td></tr>"));
        // Counts stay whole, restarts in active hours included, and need no title.
        assert!(row("devices_targeted").ends_with("<td class=\"num\">8736</td></tr>"));
        assert!(row("restarts_in_active_hours").ends_with("<td class=\"num\">3</td></tr>"));
        assert!(row("issue_hits_at_rule").ends_with("<td class=\"num\">21</td></tr>"));
        assert_eq!(kind_of("hours_to_95_p50"), Kind::Hours);
        assert_eq!(kind_of("restarts_in_active_hours_p50"), Kind::Count);
        assert_eq!(shown(Kind::Count, "12.5"), "12.5");
        assert_eq!(shown(Kind::Count, "12"), "12");
    }

    #[test]
    fn the_variants_table_groups_quantiles_under_their_metric_and_lists_parameters_apart() {
        let v = "variant,deployment,runs,hours_to_95_p5,hours_to_95_p50,hours_to_95_p95,forced_restarts_p50,pareto_blast,pareto_disruption,deployments.a.settings.x,ring_days\n\"x=1,y=2\",a,20,48,52.25,,12,true,false,1,3\n\"x=1,y=2\",b,20,40,41,42,0.5,false,true,1,3\nslow,a,20,90,98,110,8,true,true,2,7\n";
        let h = report_html(&[("variants.csv", v.as_bytes().to_vec())], &[]);
        assert!(
            h.contains("<th colspan=\"3\" scope=\"colgroup\">hours to 95 %</th>"),
            "{h}"
        );
        assert!(
            h.contains("<th colspan=\"2\" scope=\"colgroup\">on the Pareto front</th>"),
            "{h}"
        );
        // Every measure column is named where its heading is.
        for c in [
            "hours_to_95_p5",
            "hours_to_95_p50",
            "hours_to_95_p95",
            "forced_restarts_p50",
            "pareto_blast",
            "pareto_disruption",
        ] {
            assert!(h.contains(&format!("title=\"{c}\"")), "{c}: {h}");
        }
        // A variant's rows share its name; its name may break after a comma.
        assert!(h.contains("<td rowspan=\"2\">x=1,<wbr>y=2</td>"), "{h}");
        assert!(h.contains("title=\"52.25\">52.2</td>"), "{h}");
        assert!(h.contains("<td>yes</td><td>no</td>"), "{h}");
        // A median of counts between two whole numbers keeps its half.
        assert!(h.contains("<td class=\"num\">0.5</td>"), "{h}");
        // Parameters are a table of their own, once per variant.
        let (main, params) = h.split_once("What each variant sets").expect("parameters");
        assert!(!main.contains("ring_days"), "{main}");
        assert!(
            params.contains("<th>deployments.<wbr>a.<wbr>settings.<wbr>x</th>"),
            "{params}"
        );
        assert!(params.contains("<th>ring_days</th>"), "{params}");
        assert_eq!(
            params.matches("<td>x=1,<wbr>y=2</td>").count(),
            1,
            "{params}"
        );
        assert!(!h.contains("scroll"), "{h}");
    }

    #[test]
    fn the_variants_measures_continue_in_another_table_so_that_each_fits_a_1280_px_page() {
        // variants.csv as a batch writes it today: 27 measure columns, then a parameter.
        let v = "variant,deployment,runs,hours_to_90_p5,hours_to_90_p50,hours_to_90_p95,hours_to_95_p5,hours_to_95_p50,hours_to_95_p95,issue_hits_p5,issue_hits_p50,issue_hits_p95,forced_restarts_p50,restarts_in_active_hours_p50,pareto_blast,pareto_disruption,exposure_device_days_p5,exposure_device_days_p50,exposure_device_days_p95,share_compliant_at_exploit_p50,exposure_after_exploit_device_days_p5,exposure_after_exploit_device_days_p50,exposure_after_exploit_device_days_p95,hours_to_99_p5,hours_to_99_p50,hours_to_99_p95,share_compliant_p50,rule_fired_runs,rule_fired_hours_p50,issue_hits_at_rule_p50,deployments.a.settings.x\nx=0,a,3,23.5994,24.225,24.2519,38.0522,39.2606,39.465,0,0,0,5000,3742,false,true,1499.546,1560.4977,1578.9296,0.25,1,2,3,50,60,70,1,2,30.5,4,0\nx=0,b,3,50.5278,50.9847,51.2139,52.1278,52.1786,60.5339,0,0,0,1,1,false,true,5844.4164,5869.4767,5895.1509,,,,,80,90,,0.98,,,,0\n";
        let h = report_html(&[("variants.csv", v.as_bytes().to_vec())], &[]);
        let tables: Vec<&str> = h
            .split("<table class=\"variants\">")
            .skip(1)
            .map(|t| &t[..t.find("</table>").expect("end of table")])
            .collect();
        // Two tables of measures and the parameters' table.
        assert_eq!(tables.len(), 3, "{h}");
        let measures = |t: &str| t.matches(" scope=\"col\" title=").count();
        assert_eq!(measures(tables[0]), 13, "{}", tables[0]);
        assert_eq!(measures(tables[1]), 14, "{}", tables[1]);
        for t in &tables[..2] {
            assert!(measures(t) <= VARIANT_MEASURES_PER_TABLE, "{t}");
            // Each names its rows: the variant (once for its deployments), deployment, runs.
            assert!(
                t.contains("<th rowspan=\"2\" scope=\"col\">variant</th>"),
                "{t}"
            );
            assert!(t.contains("<td rowspan=\"2\">x=0</td>"), "{t}");
            assert_eq!(t.matches("<tr>").count(), 2 + 2, "{t}");
        }
        // Time, blast radius, restarts and the fronts first; the exposures whole below.
        assert!(
            tables[0].contains("title=\"pareto_disruption\""),
            "{}",
            tables[0]
        );
        for c in ["_p5", "_p50", "_p95"] {
            let col = format!("title=\"exposure_device_days{c}\"");
            assert!(tables[1].contains(&col), "{c}: {}", tables[1]);
        }
        assert!(
            tables[1].contains("title=\"share_compliant_at_exploit_p50\""),
            "{}",
            tables[1]
        );
        // The count of runs a rule fired in is a measure, not a parameter of the variant.
        assert!(
            tables[1].contains("title=\"rule_fired_runs\">in runs</th>"),
            "{}",
            tables[1]
        );
        assert!(!tables[2].contains("rule_fired"), "{}", tables[2]);
        assert!(tables[2].contains("settings.<wbr>x"), "{}", tables[2]);
        // A metric wider than a table's room has one of its own; no table is empty.
        let group = |n: usize| ("m".to_string(), vec![(0, String::new()); n]);
        let widths = |gs: &[ColumnGroup]| -> Vec<usize> {
            variant_tables(gs)
                .iter()
                .map(|t| t.iter().map(|g| g.1.len()).sum())
                .collect()
        };
        assert_eq!(widths(&[group(3), group(20), group(2)]), [3, 20, 2]);
        assert_eq!(widths(&[group(7), group(7), group(1)]), [14, 1]);
        assert_eq!(widths(&[]), [0]);
    }

    #[test]
    fn the_report_prints_every_table_whole_and_wraps_the_parameters() {
        let h = report_html(&[("summary.csv", summary_csv(&[("x", SAFETY_ROW)]))], &[]);
        let print = &h[h.find("@media print").expect("print styles")..];
        assert!(print.contains("pre { white-space: pre-wrap;"), "{print}");
        assert!(
            print.contains("thead { display: table-header-group; }"),
            "{print}"
        );
        assert!(!h.contains("scroll"), "{h}");
    }

    #[test]
    fn expectations_are_marked_met_or_missed() {
        let e = "variant,deployment,metric,quantile,bound,limit,value,status\n,a,hours_to_95,0.5,at_most,200,150,met\n,a,forced_restarts,0.5,at_most,10,40,missed\n,<b>,hours_to_99,0.5,at_most,10,,missed\n";
        let files = vec![("expectations.csv", e.as_bytes().to_vec())];
        let h = report_html(&files, &[]);
        assert!(h.contains("<td class=\"met\">met</td>"));
        assert!(h.contains("<td class=\"missed\">missed</td>"));
        assert!(h.contains("<td>&lt;b&gt;</td>"), "{h}");
        // A value never reached says so; a run's rows have no variant column.
        assert!(h.contains("<td>never</td><td class=\"missed\">"), "{h}");
        assert!(!h.contains("<th>variant</th>"), "{h}");
        let batch = e.replace("\n,a,", "\nv1,a,");
        let h = report_html(&[("expectations.csv", batch.into_bytes())], &[]);
        assert!(h.contains("<th>variant</th>"), "{h}");
    }

    #[test]
    fn the_per_segment_table_shows_when_there_is_more_than_one_segment() {
        let header = "deployment,segment,devices_targeted,devices_compliant,share_compliant,hours_to_50,hours_to_90,hours_to_95,hours_to_99\n";
        let two = format!("{header}q,<ring>,10,10,1,1.5,2,2.26,3\nq,broad,90,80,0.888889,30,,,\n");
        let h = report_html(&[("segments.csv", two.into_bytes())], &[]);
        assert!(h.contains("<h2>Per segment</h2>"), "{h}");
        assert!(h.contains("<th>hours to 95 %</th>"), "{h}");
        assert!(h.contains("<td>&lt;ring&gt;</td>"), "{h}");
        // 50 % and 95 % only; a threshold not held at the end is a dash.
        assert!(
            h.contains("<td class=\"num\">1.5</td><td class=\"num\" title=\"2.26\">2.3</td>"),
            "{h}"
        );
        assert!(
            h.contains("<td class=\"num\" title=\"30\">30.0</td><td class=\"num\">–</td>"),
            "{h}"
        );
        assert!(!h.contains(">0.888889<"), "{h}");
        let one = format!("{header}q,fleet,10,10,1,1.5,2,2.25,3\nr,fleet,10,10,1,1,1,1,1\n");
        let h = report_html(&[("segments.csv", one.into_bytes())], &[]);
        assert!(!h.contains("Per segment"), "{h}");
        // An older file, without restart columns, has no restart headings either.
        assert!(!h.contains("<th>forced restarts</th>"), "{h}");
    }

    #[test]
    fn the_per_segment_table_shows_each_segments_forced_restarts_and_those_in_active_hours() {
        let csv = "deployment,segment,devices_targeted,devices_compliant,share_compliant,hours_to_50,hours_to_90,hours_to_95,hours_to_99,forced_restarts,auto_restarts,user_restarts,restarts_in_active_hours\n\
            q,london,10,10,1,1.5,2,2.26,3,7,1,2,5\n\
            q,paris,90,80,0.888889,30,,,,0,40,40,0\n";
        let h = report_html(&[("segments.csv", csv.as_bytes().to_vec())], &[]);
        assert!(
            h.contains("<th>hours to 95 %</th><th>forced restarts</th><th>restarts in active hours</th></tr>"),
            "{h}"
        );
        // After the hours: london's 7 forced, 5 in active hours; paris's none.
        assert!(
            h.contains("<td class=\"num\">7</td><td class=\"num\">5</td></tr>"),
            "{h}"
        );
        assert!(
            h.contains("<td class=\"num\">0</td><td class=\"num\">0</td></tr>"),
            "{h}"
        );
        // The automatic and users' restarts stay in the file.
        assert!(!h.contains(">40<"), "{h}");
    }
}
