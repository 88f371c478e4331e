//! `report.html`: one self-contained page per output folder, for people who would rather look
//! than read CSV.
//!
//! The page holds, in order: the scenario name and description, the per-deployment summary
//! table (`summary.csv`, rendered generically from its header), the per-segment table (a few
//! columns of `segments.csv`, when it has more than one segment), the charts (SVGs inlined;
//! PNG-only charts embedded as `data:` URIs), the expectations met or missed
//! (`expectations.csv`, when present), the batch variants table (`variants.csv`, when present),
//! and the parameters (the folder's `scenario.toml` when present, else the header fields of
//! `summary.json`). A batch's folder holds its sweep file as run, headed by the base scenario's
//! name, which titles the page.
//!
//! It needs no network and no JavaScript: CSS is inline, images are inline. Every piece of text
//! that comes from the inputs is HTML-escaped (`& < > " '`), and so is the text inside the SVGs
//! (plotters escapes it; [`report_html`] re-checks it and drops any SVG that would contain markup
//! other than plotters' own elements).

use crate::report::charts::{Table, unguard};

/// How the copy of a sweep in a batch's output folder (`scenario.toml`) starts: this, then the
/// base scenario's name, the report's title (a sweep file has no name of its own).
pub const SWEEP_BASE_LINE: &str = "# base scenario: ";

/// The base scenario's name at the head of a sweep copy (see [`SWEEP_BASE_LINE`]).
fn sweep_base_name(text: &str) -> Option<String> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix(SWEEP_BASE_LINE))
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
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
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.met { color: #006b4f; font-weight: bold; }
td.missed { color: #b34700; font-weight: bold; }
.scroll { overflow-x: auto; }
figure { margin: 1.2rem 0; }
figure svg, figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.8rem; overflow-x: auto; }
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

/// A CSV file as an HTML table; `status` names a column whose `met`/`missed` cells get a class.
fn table_html(file: &str, bytes: &[u8], status: Option<&str>) -> String {
    let t = match Table::parse(file, bytes) {
        Ok(t) => t,
        Err(e) => return format!("<p>{}</p>\n", escape(&e.to_string())),
    };
    let status_col = status.and_then(|s| t.header.iter().position(|h| h == s));
    let header: Vec<String> = t.header.iter().map(|c| c.replace('_', " ")).collect();
    rows_html(&header, &t.rows, status_col)
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

/// The per-segment table from `segments.csv`; `None` when it names a single segment, whose
/// rows would repeat the summary's.
fn segments_html(bytes: &[u8]) -> Option<String> {
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
    let header: Vec<String> = SEGMENT_COLUMNS.iter().map(|(_, h)| h.to_string()).collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|&i| r.get(i).cloned().unwrap_or_default())
                .collect()
        })
        .collect();
    Some(rows_html(&header, &rows, None))
}

/// An HTML table of `rows` under `header` (already worded for people); cells of column
/// `status_col` that say `met` or `missed` get a class.
fn rows_html(header: &[String], rows: &[Vec<String>], status_col: Option<usize>) -> String {
    let mut h = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
    for c in header {
        h.push_str(&format!("<th>{}</th>", escape(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let v = unguard(cell);
            let class = if Some(i) == status_col {
                match v {
                    "met" => " class=\"met\"",
                    "missed" => " class=\"missed\"",
                    _ => "",
                }
            } else if is_number(v) {
                " class=\"num\""
            } else {
                ""
            };
            let shown = if v.is_empty() { "–" } else { v };
            h.push_str(&format!("<td{class}>{}</td>", escape(shown)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
    h
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

fn chart_caption(stem: &str) -> String {
    match stem {
        "compliance" => "Share of each deployment's audience compliant (ready, for a readiness test) over time; the dashed line is the 95 % target, dots and ticks mark deployment state changes.".into(),
        "restarts" => "Restarts by device-local hour and weekday: forced (left), automatic (middle) and by users (right), on one colour scale; the outline marks active hours. Forced and automatic restarts inside active hours disrupt users; restarts by users are their own and are not counted as disruptions.".into(),
        "bands" => "Median share compliant (ready, for a readiness test) per variant, with p25–p75 and p5–p95 bands across replications.".into(),
        "time-to-95" => "Days to 95 % compliant per variant: dot at the median, whiskers from p5 to p95.".into(),
        "pareto" => "Median time to 95 % against median devices hit by issues, one colour and marker per deployment; filled points joined by a dashed line form that deployment's Pareto front.".into(),
        "pareto-disruption" => "Median time to 95 % against median restarts in active hours (forced and automatic), one colour and marker per deployment; filled points joined by a dashed line form that deployment's Pareto front.".into(),
        s if s.starts_with("states-") => "Share of the deployment's devices in each client state over time (stacked).".into(),
        s => s.to_string(),
    }
}

/// `report.html` for an output folder: `files` are its CSV/JSON/TOML inputs (name, bytes),
/// `charts` the rendered charts (file name, bytes) in display order.
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
    // A sweep (a batch's folder) names its base scenario.
    let sweep = toml_value.as_ref().is_some_and(|t| t.contains_key("base"));
    let name = from_json("scenario")
        .or_else(|| from_toml("name"))
        .or_else(|| toml_text.filter(|_| sweep).and_then(sweep_base_name))
        .unwrap_or_else(|| "rollsim results".into());
    let description = from_json("description").or_else(|| from_toml("description"));

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
                "replication 0 of {n} (the band chart and <code>runs.csv</code> cover all {n})"
            ));
        }
        if !facts.is_empty() {
            h.push_str(&format!("<p>{}</p>\n", facts.join(" · ")));
        }
    }
    if let Some(b) = find(files, "summary.csv") {
        h.push_str("<h2>Summary per deployment</h2>\n");
        h.push_str(
            "<p>Hours are since the start; an empty cell (–) means not reached, or not held at the end. <code>hours_to_X</code> is the time from which the compliant share stayed at or above X % until the end of the run: empty when it is below X % at the end.</p>\n",
        );
        h.push_str(&table_html("summary.csv", b, None));
    }
    if let Some(table) = find(files, "segments.csv").and_then(segments_html) {
        h.push_str("<h2>Per segment</h2>\n");
        h.push_str(
            "<p>Each segment's devices in each deployment's audience at the end (all columns in <code>segments.csv</code>). The hours are those of the summary, on the segment's own devices: from when its compliant share stayed at or above 50 or 95 % until the end of the run.</p>\n",
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
        h.push_str(&table_html("expectations.csv", b, Some("status")));
    }
    if let Some(b) = find(files, "variants.csv") {
        h.push_str("<h2>Variants</h2>\n");
        h.push_str(&table_html("variants.csv", b, None));
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
    fn a_batch_report_is_titled_with_the_base_scenario_of_its_sweep() {
        let sweep = "# base scenario: Ring <plan>\n# as run with --replications 5\nbase = \"x.toml\"\nreplications = 5\n";
        let files = vec![("scenario.toml", sweep.as_bytes().to_vec())];
        let h = report_html(&files, &[]);
        assert!(h.contains("<h1>Ring &lt;plan&gt;</h1>"), "{h}");
        assert!(
            h.contains("The sweep file that produced these results, as run:"),
            "{h}"
        );
        assert!(h.contains("replications = 5"), "{h}");
        // A scenario whose comment looks the same is still named by its [simulation] name.
        let scenario = "# base scenario: not this\n[simulation]\nname = \"own\"\n";
        let h = report_html(&[("scenario.toml", scenario.as_bytes().to_vec())], &[]);
        assert!(h.contains("<h1>own</h1>"), "{h}");
    }

    #[test]
    fn expectations_are_marked_met_or_missed() {
        let e = "deployment,metric,quantile,bound,value,status\na,hours_to_95,p50,<= 200,150,met\na,forced_restarts,p50,<= 10,40,missed\n";
        let files = vec![("expectations.csv", e.as_bytes().to_vec())];
        let h = report_html(&files, &[]);
        assert!(h.contains("<td class=\"met\">met</td>"));
        assert!(h.contains("<td class=\"missed\">missed</td>"));
        assert!(h.contains("&lt;= 200"));
    }

    #[test]
    fn the_per_segment_table_shows_when_there_is_more_than_one_segment() {
        let header = "deployment,segment,devices_targeted,devices_compliant,share_compliant,hours_to_50,hours_to_90,hours_to_95,hours_to_99\n";
        let two = format!("{header}q,<ring>,10,10,1,1.5,2,2.25,3\nq,broad,90,80,0.888889,30,,,\n");
        let h = report_html(&[("segments.csv", two.into_bytes())], &[]);
        assert!(h.contains("<h2>Per segment</h2>"), "{h}");
        assert!(h.contains("<th>hours to 95 %</th>"), "{h}");
        assert!(h.contains("<td>&lt;ring&gt;</td>"), "{h}");
        // 50 % and 95 % only; a threshold not held at the end is a dash.
        assert!(
            h.contains("<td class=\"num\">1.5</td><td class=\"num\">2.25</td>"),
            "{h}"
        );
        assert!(h.contains("<td class=\"num\">30</td><td>–</td>"), "{h}");
        assert!(!h.contains(">0.888889<"), "{h}");
        let one = format!("{header}q,fleet,10,10,1,1.5,2,2.25,3\nr,fleet,10,10,1,1,1,1,1\n");
        let h = report_html(&[("segments.csv", one.into_bytes())], &[]);
        assert!(!h.contains("Per segment"), "{h}");
    }
}
