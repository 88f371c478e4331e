//! Charts of a run or batch folder, rendered with plotters from the folder's CSV files.
//!
//! Charts are drawn from the CSV bytes, never from in-memory results, so a fresh run and a later
//! `rollsim plot DIR` on its folder produce byte-identical files. Each chart is written as PNG
//! and/or SVG (see [`ChartOptions`]); a chart is skipped when its input file is absent.
//!
//! - `compliance.{png,svg}` (from `timeseries.csv` and `events.csv`): the share of each
//!   deployment's audience in its goal state (y, 0–100 %) against days since the start (x), one
//!   line per deployment, with a dashed line at the 95 % target. The goal state is `compliant`,
//!   or `ready` for a readiness test (a deployment with `ready` devices in some sample; its
//!   legend name says "(ready)"), as the summary counts it. Deployment state changes
//!   (`event = state_change`: scheduled, offering, paused…) are marked by a dot on the curve and
//!   a tick in the deployment's colour with the new state's name in a lane above the plot;
//!   changes without room for a label keep an unlabelled tick in a strip under the labels.
//!   Offer waves (`event = wave`) are unlabelled ticks in a thin row at the top of that lane.
//!   Other events are ignored. Identical curves (`curve_groups`) are drawn once and named
//!   together, `pilot = broad`, as identical bands are.
//! - `states-<deployment>.{png,svg}` (from `timeseries.csv`): for one deployment, a stacked area of
//!   the share of its devices in each client state (the goal state at the bottom) over days. The
//!   file name keeps only `[A-Za-z0-9-_]` of the deployment name (others become `-`), deduplicated.
//! - `restarts.{png,svg}` (from `restarts.csv` and `summary.json`): three heatmaps of restarts
//!   by device-local hour of day (x) and weekday (y), summed over deployments and segments (a
//!   `restarts.csv` of older versions has no `segment` column, and reads the same): forced (after the
//!   deadline), automatic and by users, on one shared colour scale so the panels compare. An
//!   outline marks the active hours of the most devices (`summary.json`'s `active_hours`; the
//!   key names the others'). Dark cells of the forced and automatic panels inside it are
//!   disrupted users; restarts by users are their own and kept apart.
//! - `bands.{png,svg}` (from a batch's `bands.csv`): per variant and deployment, the median share
//!   in the goal state over days, with shaded p25–p75 and p5–p95 bands across replications,
//!   overlaid. Identical bands are drawn once (`band_groups`): a deployment the sweep does not
//!   touch as "pilot (the same in every variant)", variants that coincide as `1 = 2 · broad`
//!   (a legend label wraps between names, never cutting one). Medians are drawn over all the
//!   bands, those a few pixels apart in turns (`median_turns`); fills lighten past three series.
//! - `time-to-95.{png,svg}` (from a batch's `variants.csv`): one row per variant and deployment, a
//!   dot at the median days to 95 % compliant and a whisker from p5 to p95 (an open-ended whisker
//!   when some runs did not hold 95 % at the end, up to the horizon); a median run short of 95 %
//!   is named with its share at the end (`share_compliant_p50`, when the file has it).
//! - `pareto.{png,svg}` (from `variants.csv`): median days to 95 % (x) against median devices hit
//!   by issues (y), one labelled point per variant, a colour and marker per deployment; variants
//!   on their deployment's Pareto front (`pareto_blast = true`) are filled and joined. Points on
//!   one spot share a label (`2 = 5`, or `2 · expedited = 2 · regular` across deployments, whose
//!   markers nest); a label with no free place around its point is left out.
//!   Drawn only when some variant's median hits someone: with every median at 0 its front would
//!   be "fastest wins".
//! - `pareto-disruption.{png,svg}`: the same against median restarts in active hours
//!   (`pareto_disruption`). Drawn only when some variant's median disrupts someone.
//!
//! The x axis of the time-based charts (compliance, states, bands) ends where [`Days`] says:
//! by default a little after the last change of any curve, band, state change or offer wave
//! (+ 10 %, at least a day) when that saves at least a fifth of the horizon, the axis title
//! then saying so ("first 8 of 21; flat after day 6.6"); `rollsim plot --days N|all` overrides it.
//!
//! Variant labels of grid sweeps drop the parameter names shared by all variants and name them
//! once (see `variant_labels`). Style: the Okabe–Ito colour-blind-safe palette (yellow
//! darkened), repeated with dash patterns past 8 series, labelled axes with units, legends in a
//! panel to the right of the plot (never over the curves; its keys, such as the band key, always
//! shown, series left out first with "… N more"; its labels wrap over lines), text at ≥ 14 px
//! for a 1200 × 700 chart, titles and other labels shortened with `…` to their room, and charts smaller than `MIN_LAYOUT`
//! drawn at that size and scaled down (a thumbnail).
//! Text uses DejaVu Sans, embedded in the binary (`assets/fonts/`, Bitstream Vera licence), so no
//! system font is needed; it has no CJK glyphs, which PNGs show as boxes (SVGs use the viewer's
//! fonts). Output is deterministic: no timestamps, ordered collections only.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, InputError, Problem};

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/LICENSE`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// The CSV and JSON files charts and the report are made from.
pub const INPUT_FILES: [&str; 11] = [
    "timeseries.csv",
    "events.csv",
    "restarts.csv",
    "summary.csv",
    "segments.csv",
    "summary.json",
    "bands.csv",
    "variants.csv",
    "expectations.csv",
    // Read back only by report.html (its "Across N replications" section): no chart uses it.
    "runs.csv",
    "scenario.toml",
];

/// An image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Portable Network Graphics (raster, RGB).
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// Size, formats and title of the charts.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Formats to write, each chart once per format.
    pub formats: Vec<Format>,
    /// Title put before each chart's caption [default: the scenario name from `summary.json`].
    pub title: Option<String>,
    /// How far the x axis of the time-based charts (compliance, states, bands) reaches.
    pub days: Days,
}

/// The end of the x axis of the time-based charts (compliance, states, bands).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Days {
    /// A little after the last change: when every curve, band and event is over well before
    /// the horizon, the axis ends at the last change + 10 % (at least 1 day); else the horizon.
    Auto,
    /// The whole horizon.
    All,
    /// The first N days (at most the horizon).
    First(f64),
}

impl std::str::FromStr for Days {
    type Err = String;
    /// `auto`, `all`, or a number of days above 0 (`5`, `2.5`).
    fn from_str(s: &str) -> Result<Days, String> {
        match s.trim() {
            "auto" => Ok(Days::Auto),
            "all" => Ok(Days::All),
            t => match t.parse::<f64>() {
                Ok(n) if n.is_finite() && n > 0.0 && n <= 100_000.0 => Ok(Days::First(n)),
                _ => Err(format!(
                    "must be a number of days above 0 (such as 5 or 2.5), `auto` or `all`, found \"{s}\""
                )),
            },
        }
    }
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            width: 1200,
            height: 700,
            formats: vec![Format::Png, Format::Svg],
            title: None,
            days: Days::Auto,
        }
    }
}

/// Reads the input files present in `dir` and renders their charts (see [`render_files`]).
pub fn render_dir(dir: &Path, opts: &ChartOptions) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let files = read_inputs(dir)?;
    let refs: Vec<(&str, Vec<u8>)> = files.into_iter().collect();
    render_files(&refs, opts)
}

/// The input files (see [`INPUT_FILES`]) present in `dir`, as (name, bytes).
pub fn read_inputs(dir: &Path) -> Result<Vec<(&'static str, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    for name in INPUT_FILES {
        let p = dir.join(name);
        if p.is_file() {
            let bytes = std::fs::read(&p).map_err(|source| Error::Read { path: p, source })?;
            out.push((name, bytes));
        }
    }
    Ok(out)
}

/// Renders every chart whose inputs are among `files` (name, CSV/JSON bytes); returns (file
/// name, bytes) per chart and format, in a fixed order.
pub fn render_files(
    files: &[(&str, Vec<u8>)],
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    ensure_font()?;
    let inputs = Inputs::parse(files)?;
    let title = opts.title.clone().or_else(|| inputs.scenario.clone());
    let mut st = Style::new(opts, title);
    st.x = Some(x_axis(&inputs, opts.days));
    let mut charts: Vec<(String, Chart)> = Vec::new();
    if !inputs.series.is_empty() {
        charts.push(("compliance".into(), Chart::Compliance));
        let mut used = Vec::new();
        for (i, s) in inputs.series.iter().enumerate() {
            let name = unique_name(&format!("states-{}", sanitize(&s.name)), &mut used);
            charts.push((name, Chart::States(i)));
        }
    }
    if inputs.restarts.is_some() {
        charts.push(("restarts".into(), Chart::Restarts));
    }
    if !inputs.bands.is_empty() {
        charts.push(("bands".into(), Chart::Bands));
    }
    if !inputs.variants.is_empty() {
        charts.push(("time-to-95".into(), Chart::TimeTo95));
        // The blast-radius trade-off only where issues hit someone: with every median at 0 its
        // front is "fastest wins" and calls the other variants dominated, whatever they cost in
        // disrupted users, which the disruption chart shows.
        // And only with a point to draw: an empty plot answers nothing.
        if inputs
            .variants
            .iter()
            .any(|v| v.hits_p50.is_some_and(|h| h > 0.0))
            && ParetoX::of(&inputs.variants, Tradeoff::Blast).is_some()
        {
            charts.push(("pareto".into(), Chart::Pareto(Tradeoff::Blast)));
        }
        // Likewise the disruption trade-off only where some variant disrupts users.
        if inputs
            .variants
            .iter()
            .any(|v| v.disrupted_p50.is_some_and(|h| h > 0.0))
            && ParetoX::of(&inputs.variants, Tradeoff::Disruption).is_some()
        {
            charts.push((
                "pareto-disruption".into(),
                Chart::Pareto(Tradeoff::Disruption),
            ));
        }
    }
    let mut out = Vec::new();
    for (name, chart) in &charts {
        for &f in &opts.formats {
            let file = format!("{name}.{}", f.ext());
            let bytes = render(*chart, f, &inputs, &st).map_err(|message| Error::Write {
                path: file.clone().into(),
                message,
            })?;
            out.push((file, bytes));
        }
    }
    Ok(out)
}

/// `name` with every character outside `[A-Za-z0-9-_]` replaced by `-` (`deployment` if empty),
/// cut to the longest deployment name a scenario allows (a series named in a CSV file given to
/// `rollsim plot` may be longer), so that the file name stays within what file systems take.
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .take(crate::scenario::deployment::MAX_DEPLOYMENT_NAME)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "deployment".into() } else { s }
}

fn unique_name(base: &str, used: &mut Vec<String>) -> String {
    let mut name = base.to_string();
    let mut k = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
        name = format!("{base}-{k}");
        k += 1;
    }
    used.push(name.clone());
    name
}

/// Removes the apostrophe the CSV writers put before `=`, `+`, `-` or `@` (formula guard).
pub fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => s,
    }
}

fn ensure_font() -> Result<(), Error> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::Write {
            path: "assets/fonts/DejaVuSans.ttf".into(),
            message: "the embedded font cannot be loaded".into(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// One deployment's state shares over time, from `timeseries.csv`.
struct Series {
    name: String,
    hours: Vec<f64>,
    /// State names in order of first appearance.
    states: Vec<String>,
    /// `shares[state][sample]`, 0–1.
    shares: Vec<Vec<f64>>,
    /// Share in the deployment's goal state per sample: `compliant` plus `ready` (a deployment
    /// only ever has devices in one of them), as the summary counts it.
    goal: Vec<f64>,
    /// A readiness test (`isReadinessTest`): some sample has devices `ready`. `timeseries.csv`
    /// lists every state for every deployment, so the state's presence alone tells nothing.
    readiness: bool,
}

impl Series {
    fn share(&self, state: &str) -> Option<&[f64]> {
        let i = self.states.iter().position(|s| s == state)?;
        Some(&self.shares[i])
    }
}

struct Event {
    hours: f64,
    deployment: String,
    state: String,
}

/// Restarts by weekday (0 = Monday) and hour, by who restarted the device.
struct Restarts {
    forced: [[u64; 24]; 7],
    auto: [[u64; 24]; 7],
    user: [[u64; 24]; 7],
}

/// A window of active hours from `summary.json`: device-local start and end in hours (the end
/// before the start when it wraps past midnight) and the devices whose policy has it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ActiveHours {
    start: f64,
    end: f64,
    devices: u64,
}

struct Band {
    variant: String,
    deployment: String,
    hours: Vec<f64>,
    /// p5, p25, p50, p75, p95 per sample (0–1) of the goal share (`compliant` + `ready`).
    q: [Vec<f64>; 5],
    /// A readiness test: some `ready` quantile is above 0.
    readiness: bool,
}

struct Variant {
    variant: String,
    deployment: String,
    h95: [Option<f64>; 3],
    hits_p50: Option<f64>,
    front: bool,
    /// Median restarts in active hours (`None` in `variants.csv` files of older versions).
    disrupted_p50: Option<f64>,
    front_disruption: bool,
    /// Median share compliant at the end (`None` in `variants.csv` files of older versions).
    share_end_p50: Option<f64>,
}

/// What a Pareto chart trades time to 95 % against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tradeoff {
    /// Devices hit by issues (`pareto_blast`).
    Blast,
    /// Restarts in active hours (`pareto_disruption`).
    Disruption,
}

/// What a Pareto chart puts on x: the median time to 95 %, or, when no variant's median run
/// got there (a safety sweep whose rule pauses every rollout), the median share compliant at
/// the end, so that the chart still shows how far each variant got for its cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ParetoX {
    DaysTo95,
    ShareAtEnd,
}

impl ParetoX {
    /// The x axis for `variants`' `trade`, `None` when no variant would have a point.
    fn of(variants: &[Variant], trade: Tradeoff) -> Option<Self> {
        let drawn = |x: fn(&Variant) -> Option<f64>| {
            variants
                .iter()
                .any(|v| x(v).is_some() && v.tradeoff(trade).0.is_some())
        };
        if drawn(|v| v.h95[1]) {
            Some(ParetoX::DaysTo95)
        } else if drawn(|v| v.share_end_p50) {
            Some(ParetoX::ShareAtEnd)
        } else {
            None
        }
    }

    /// Variant `v`'s x value.
    fn x(self, v: &Variant) -> Option<f64> {
        match self {
            ParetoX::DaysTo95 => v.h95[1].map(|h| h / 24.0),
            ParetoX::ShareAtEnd => v.share_end_p50.map(|s| s * 100.0),
        }
    }
}

impl Variant {
    /// The chart's y value and whether the variant is on that chart's front.
    fn tradeoff(&self, t: Tradeoff) -> (Option<f64>, bool) {
        match t {
            Tradeoff::Blast => (self.hits_p50, self.front),
            Tradeoff::Disruption => (self.disrupted_p50, self.front_disruption),
        }
    }
}

struct Inputs {
    scenario: Option<String>,
    horizon_hours: Option<f64>,
    series: Vec<Series>,
    events: Vec<Event>,
    /// Offer waves (`event = wave`): (hours, deployment).
    waves: Vec<(f64, String)>,
    restarts: Option<Restarts>,
    /// The policies' active hours, most devices first (empty in folders of older versions).
    active_hours: Vec<ActiveHours>,
    bands: Vec<Band>,
    variants: Vec<Variant>,
}

fn bad(file: &str, line: usize, message: impl Into<String>) -> Error {
    Error::Input(InputError {
        file: file.to_string(),
        problems: vec![Problem {
            line,
            column: usize::from(line > 0),
            path: String::new(),
            message: message.into(),
        }],
    })
}

/// A parsed CSV file: header and records.
pub(crate) struct Table {
    pub(crate) file: String,
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
    /// The file line of each row, when rows were left out ([`Table::parse_where`]); else row
    /// `i` is on line `i + 2`.
    lines: Option<Vec<usize>>,
}

impl Table {
    pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<Table, Error> {
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let header = r
            .headers()
            .map_err(|e| bad(file, 1, e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| bad(file, i + 2, e.to_string()))?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(Table {
            file: file.to_string(),
            header,
            rows,
            lines: None,
        })
    }

    /// The file line of row `i`.
    fn line(&self, i: usize) -> usize {
        self.lines
            .as_ref()
            .and_then(|l| l.get(i).copied())
            .unwrap_or(i + 2)
    }

    /// [`Table::parse`], keeping only the rows whose `column` satisfies `keep` (all rows when
    /// the file has no such column: [`Table::col`] then tells what is missing).
    pub(crate) fn parse_where(
        file: &str,
        bytes: &[u8],
        column: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Table, Error> {
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let header: Vec<String> = r
            .headers()
            .map_err(|e| bad(file, 1, e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let c = header.iter().position(|h| h == column);
        let (mut rows, mut lines) = (Vec::new(), Vec::new());
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| bad(file, i + 2, e.to_string()))?;
            if c.is_none_or(|c| keep(unguard(rec.get(c).unwrap_or("")))) {
                rows.push(rec.iter().map(str::to_string).collect());
                lines.push(i + 2);
            }
        }
        Ok(Table {
            file: file.to_string(),
            header,
            rows,
            lines: Some(lines),
        })
    }

    fn col(&self, name: &str) -> Result<usize, Error> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(&self.file, 1, format!("missing column `{name}`")))
    }

    fn text<'a>(&self, row: &'a [String], c: usize) -> &'a str {
        row.get(c).map_or("", |s| unguard(s))
    }

    /// A number; `None` for an empty cell.
    fn num(&self, row: &[String], c: usize, line: usize) -> Result<Option<f64>, Error> {
        let s = row.get(c).map_or("", |s| s.trim());
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| {
                bad(
                    &self.file,
                    line,
                    format!("column `{}`: `{s}` is not a number", self.header[c]),
                )
            })
    }

    fn req(&self, row: &[String], c: usize, line: usize) -> Result<f64, Error> {
        self.num(row, c, line)?.ok_or_else(|| {
            bad(
                &self.file,
                line,
                format!("column `{}` is empty", self.header[c]),
            )
        })
    }
}

fn find<'a>(files: &'a [(&str, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    files
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b.as_slice())
}

/// An entry of `summary.json`'s `active_hours` (`{"start": "08:00", "end": "17:00",
/// "devices": 10}`); `None` when it is not one.
fn active_hours_of(v: &serde_json::Value) -> Option<ActiveHours> {
    let hours = |k: &str| {
        let (h, m) = v[k].as_str()?.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60).then(|| f64::from(h) + f64::from(m) / 60.0)
    };
    Some(ActiveHours {
        start: hours("start")?,
        end: hours("end")?,
        devices: v["devices"].as_u64()?,
    })
}

fn weekday(s: &str) -> Option<usize> {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| d.eq_ignore_ascii_case(s))
}

impl Inputs {
    fn parse(files: &[(&str, Vec<u8>)]) -> Result<Inputs, Error> {
        let mut inputs = Inputs {
            scenario: None,
            horizon_hours: None,
            series: Vec::new(),
            events: Vec::new(),
            waves: Vec::new(),
            restarts: None,
            active_hours: Vec::new(),
            bands: Vec::new(),
            variants: Vec::new(),
        };
        if let Some(b) = find(files, "summary.json") {
            let v: serde_json::Value = serde_json::from_slice(b)
                .map_err(|e| bad("summary.json", e.line(), e.to_string()))?;
            inputs.scenario = v["scenario"].as_str().map(str::to_string);
            inputs.horizon_hours = v["horizon_hours"].as_f64();
            inputs.active_hours = v["active_hours"]
                .as_array()
                .map(|a| a.iter().filter_map(active_hours_of).collect())
                .unwrap_or_default();
        }
        // A batch's folder has no summary.json: its charts are named by the sweep, as a run's
        // are by the scenario, so that charts pasted into a document can be told apart.
        if inputs.scenario.is_none() {
            inputs.scenario = find(files, "scenario.toml")
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(crate::report::html::sweep_name);
        }
        if let Some(b) = find(files, "timeseries.csv") {
            inputs.series = parse_timeseries(b)?;
        }
        if let Some(b) = find(files, "events.csv") {
            let t = Table::parse("events.csv", b)?;
            let (h, d, e, s) = (
                t.col("hours")?,
                t.col("deployment")?,
                t.col("event")?,
                t.col("state")?,
            );
            for (i, row) in t.rows.iter().enumerate() {
                match t.text(row, e) {
                    "state_change" => {}
                    "wave" => {
                        let hours = t.req(row, h, i + 2)?;
                        inputs.waves.push((hours, t.text(row, d).to_string()));
                        continue;
                    }
                    _ => continue,
                }
                inputs.events.push(Event {
                    hours: t.req(row, h, i + 2)?,
                    deployment: t.text(row, d).to_string(),
                    state: t.text(row, s).to_string(),
                });
            }
        }
        if let Some(b) = find(files, "restarts.csv") {
            let t = Table::parse("restarts.csv", b)?;
            let (w, h, k, n) = (
                t.col("weekday")?,
                t.col("hour")?,
                t.col("kind")?,
                t.col("restarts")?,
            );
            let mut r = Restarts {
                forced: [[0; 24]; 7],
                auto: [[0; 24]; 7],
                user: [[0; 24]; 7],
            };
            for (i, row) in t.rows.iter().enumerate() {
                let line = i + 2;
                let wd = weekday(t.text(row, w))
                    .ok_or_else(|| bad(&t.file, line, "weekday must be one of mon..sun"))?;
                let hour = t.req(row, h, line)?;
                if !(0.0..24.0).contains(&hour) {
                    return Err(bad(&t.file, line, "hour must be 0–23"));
                }
                let count = t.req(row, n, line)?.max(0.0) as u64;
                let grid = match t.text(row, k) {
                    "forced" => &mut r.forced,
                    "auto" => &mut r.auto,
                    "user" => &mut r.user,
                    _ => return Err(bad(&t.file, line, "kind must be forced, auto or user")),
                };
                let cell = &mut grid[wd][hour as usize];
                *cell += count;
            }
            inputs.restarts = Some(r);
        }
        if let Some(b) = find(files, "bands.csv") {
            // Only the goal states are drawn: a sweep's bands.csv holds a row per variant,
            // sample and state (300 MB for 300 variants of 30 days), and a table of every row
            // as text would take three times that.
            let goal = |state: &str| state == "compliant" || state == "ready";
            inputs.bands = parse_bands(&Table::parse_where("bands.csv", b, "state", goal)?)?;
        }
        if let Some(b) = find(files, "variants.csv") {
            inputs.variants = parse_variants(&Table::parse("variants.csv", b)?)?;
        }
        Ok(inputs)
    }

    fn x_max_days(&self) -> f64 {
        let data_max = self
            .series
            .iter()
            .flat_map(|s| s.hours.last().copied())
            .chain(self.bands.iter().flat_map(|b| b.hours.last().copied()))
            .fold(0.0f64, f64::max);
        let h = self.horizon_hours.unwrap_or(data_max).max(data_max);
        (h / 24.0).max(1.0 / 24.0)
    }
}

/// The x axis of the time-based charts (compliance, states, bands): where it ends and the
/// axis title, which says when it ends before the horizon.
#[derive(Clone, Debug, PartialEq)]
struct XAxis {
    /// Days.
    end: f64,
    desc: String,
}

/// The time (hours) from which `v`, sampled at `hours`, keeps its last value: the first
/// sample's time when it never changes, `None` when there are no samples.
fn settled_at(hours: &[f64], v: &[f64]) -> Option<f64> {
    let n = hours.len().min(v.len());
    let last = *v.get(n.checked_sub(1)?)?;
    let k = (0..n).rev().find(|&k| v[k] != last);
    Some(match k {
        Some(k) => hours[(k + 1).min(n - 1)],
        None => hours[0],
    })
}

/// When the last thing charted over time happens (hours): the last change of any curve or band
/// (every state share of every deployment, every quantile of every band), or the last state
/// change or offer wave. `None` when nothing changes after the first sample.
fn last_change(d: &Inputs) -> Option<f64> {
    let curves = d
        .series
        .iter()
        .flat_map(|s| {
            s.shares
                .iter()
                .chain(std::iter::once(&s.goal))
                .map(|v| (s.hours.as_slice(), v.as_slice()))
        })
        .chain(
            d.bands
                .iter()
                .flat_map(|b| b.q.iter().map(|v| (b.hours.as_slice(), v.as_slice()))),
        );
    let first = d
        .series
        .iter()
        .flat_map(|s| s.hours.first())
        .chain(d.bands.iter().flat_map(|b| b.hours.first()))
        .fold(f64::INFINITY, |a, &b| a.min(b));
    let last = curves
        .filter_map(|(h, v)| settled_at(h, v))
        .chain(d.events.iter().map(|e| e.hours))
        .chain(d.waves.iter().map(|w| w.0))
        .fold(f64::NEG_INFINITY, f64::max);
    (last > first && last.is_finite()).then_some(last)
}

/// The end of an automatic x axis (days) for a last change at `last` hours on an axis of
/// `full` days: the last change + 10 %, at least 1 day, rounded up to a whole day (a quarter
/// of a day up to 2 days); `None` (keep the whole axis) unless that saves a fifth of it.
fn auto_end(last: Option<f64>, full: f64) -> Option<f64> {
    let days = (last? / 24.0 * 1.1).max(1.0);
    let end = if days <= 2.0 {
        (days * 4.0).ceil() / 4.0
    } else {
        days.ceil()
    };
    (end <= 0.8 * full).then_some(end)
}

/// A number of days with at most two decimals, without trailing zeros (`21`, `1.25`, `2.5`).
fn days_text(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The x axis of the time-based charts for `days`.
fn x_axis(d: &Inputs, days: Days) -> XAxis {
    let full = d.x_max_days();
    let whole = XAxis {
        end: full,
        desc: "Days since start".into(),
    };
    match days {
        Days::All => whole,
        Days::First(n) if n < full => XAxis {
            end: n,
            desc: format!(
                "Days since start (first {} of {})",
                days_text(n),
                days_text(full)
            ),
        },
        Days::First(_) => whole,
        Days::Auto => {
            let last = last_change(d);
            match (auto_end(last, full), last) {
                (Some(end), Some(last)) => XAxis {
                    end,
                    desc: format!(
                        "Days since start (first {} of {}; flat after day {:.1})",
                        days_text(end),
                        days_text(full),
                        last / 24.0
                    ),
                },
                _ => whole,
            }
        }
    }
}

///
/// Read a record at a time rather than as a [`Table`]: a file of a short `sample_interval` has
/// millions of rows, and a table keeps each cell as a string of its own (about 430 bytes a row,
/// gigabytes for a week sampled every second), where the series keep 8 bytes a row.
fn parse_timeseries(bytes: &[u8]) -> Result<Vec<Series>, Error> {
    const FILE: &str = "timeseries.csv";
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(FILE, 1, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|x| x == name)
            .ok_or_else(|| bad(FILE, 1, format!("missing column `{name}`")))
    };
    let (h, d, s, sh) = (
        col("hours")?,
        col("deployment")?,
        col("state")?,
        col("share")?,
    );
    // As [`Table::req`] reads a cell, with its messages.
    let req = |rec: &csv::StringRecord, c: usize, line: usize| -> Result<f64, Error> {
        let v = rec.get(c).map_or("", str::trim);
        if v.is_empty() {
            return Err(bad(FILE, line, format!("column `{}` is empty", header[c])));
        }
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                bad(
                    FILE,
                    line,
                    format!("column `{}`: `{v}` is not a number", header[c]),
                )
            })
    };
    let mut out: Vec<Series> = Vec::new();
    let mut row = csv::StringRecord::new();
    for i in 0.. {
        let line = i + 2;
        match r.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(bad(FILE, line, e.to_string())),
        }
        let hours = req(&row, h, line)?;
        let share = req(&row, sh, line)?;
        let name = unguard(row.get(d).unwrap_or(""));
        let k = match out.iter().position(|x| x.name == name) {
            Some(k) => k,
            None => {
                out.push(Series {
                    name: name.to_string(),
                    hours: Vec::new(),
                    states: Vec::new(),
                    shares: Vec::new(),
                    goal: Vec::new(),
                    readiness: false,
                });
                out.len() - 1
            }
        };
        let ser = &mut out[k];
        match ser.hours.last() {
            Some(&last) if hours < last => {
                // rollsim writes a deployment's rows in time order; out of order (a file
                // edited or put together by hand) the curves would zig-zag.
                return Err(bad(
                    FILE,
                    line,
                    format!(
                        "column `hours`: {hours} comes after {last} for deployment `{name}`; a deployment's rows must be in time order (sort the file by deployment, then hours)"
                    ),
                ));
            }
            Some(&last) if hours == last => {}
            _ => ser.hours.push(hours),
        }
        let idx = ser.hours.len() - 1;
        let state = unguard(row.get(s).unwrap_or(""));
        let si = match ser.states.iter().position(|x| x == state) {
            Some(si) => si,
            None => {
                ser.states.push(state.to_string());
                ser.shares.push(Vec::new());
                ser.states.len() - 1
            }
        };
        let v = &mut ser.shares[si];
        v.resize(idx, 0.0);
        v.push(share);
    }
    for ser in &mut out {
        let n = ser.hours.len();
        for v in &mut ser.shares {
            v.resize(n, 0.0);
        }
        let zeros = vec![0.0; n];
        let compliant = ser.share("compliant").unwrap_or(&zeros);
        let ready = ser.share("ready").unwrap_or(&zeros);
        let goal = compliant.iter().zip(ready).map(|(c, r)| c + r).collect();
        ser.readiness = ready.iter().any(|&v| v > 0.0);
        ser.goal = goal;
    }
    Ok(out)
}

/// The `key=value` parameters of a sweep's variant name (`threshold=5,devicesPerOffer=250`);
/// `None` for a name that is not such a list (a named variant such as `rings-3-days`).
fn parameters(variant: &str) -> Option<Vec<(&str, &str)>> {
    variant
        .split(',')
        .map(|part| {
            let (k, v) = part.split_once('=')?;
            let ok = !k.is_empty()
                && k.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
            ok.then_some((k, v))
        })
        .collect()
}

/// Short labels for (variant, deployment) pairs that keep what tells them apart, and the key
/// naming what they show (`None` when the labels are the names themselves).
///
/// When every variant is a `key=value` list with the same keys (a `[grid]` sweep), the keys are
/// dropped from the labels (`5, 250`) and named once in the key (`threshold, devicesPerOffer`).
/// The deployment is added (`5, 250 · 24h2`) when `with_deployment` and there is more than one.
fn variant_labels(pairs: &[(&str, &str)], with_deployment: bool) -> (Vec<String>, Option<String>) {
    fn keys_of(v: &str) -> Option<Vec<&str>> {
        parameters(v).map(|p| p.iter().map(|(k, _)| *k).collect())
    }
    // `run --replications` is a batch of one variant, named `base` by rollsim, not by the
    // user: its series are the deployments, named alone.
    if pairs
        .iter()
        .all(|(v, _)| Some(v) == pairs.first().map(|p| &p.0))
    {
        return (pairs.iter().map(|(_, d)| d.to_string()).collect(), None);
    }
    let first_keys = pairs.first().and_then(|(v, _)| keys_of(v));
    let grid = first_keys.is_some() && pairs.iter().all(|(v, _)| keys_of(v) == first_keys);
    let many_deps = with_deployment
        && pairs
            .iter()
            .any(|(_, d)| Some(d) != pairs.first().map(|p| &p.1));
    let labels = pairs
        .iter()
        .map(|(v, d)| {
            let v = match parameters(v) {
                Some(p) if grid => p.iter().map(|(_, x)| *x).collect::<Vec<_>>().join(", "),
                _ => v.to_string(),
            };
            if many_deps { format!("{v} · {d}") } else { v }
        })
        .collect();
    let key = first_keys.filter(|_| grid).map(|k| {
        let k = k.join(", ");
        if many_deps {
            format!("{k} · deployment")
        } else {
            k
        }
    });
    (labels, key)
}

fn parse_bands(t: &Table) -> Result<Vec<Band>, Error> {
    let (v, h, d, s) = (
        t.col("variant")?,
        t.col("hours")?,
        t.col("deployment")?,
        t.col("state")?,
    );
    let qc = [
        t.col("p5")?,
        t.col("p25")?,
        t.col("p50")?,
        t.col("p75")?,
        t.col("p95")?,
    ];
    let mut out: Vec<Band> = Vec::new();
    for (i, row) in t.rows.iter().enumerate() {
        // The goal state: `compliant`, or `ready` for a readiness test. A deployment has devices
        // in only one of them in every run, so the quantiles of their sum are sums of quantiles.
        let state = t.text(row, s);
        if state != "compliant" && state != "ready" {
            continue;
        }
        let line = t.line(i);
        let (variant, deployment) = (t.text(row, v), t.text(row, d));
        // Rows come grouped by variant and deployment: the last band first, then a search.
        let same = |b: &Band| b.variant == variant && b.deployment == deployment;
        let k = match out
            .last()
            .filter(|b| same(b))
            .map(|_| out.len() - 1)
            .or_else(|| out.iter().position(same))
        {
            Some(k) => k,
            None => {
                out.push(Band {
                    variant: variant.to_string(),
                    deployment: deployment.to_string(),
                    hours: Vec::new(),
                    q: Default::default(),
                    readiness: false,
                });
                out.len() - 1
            }
        };
        let b = &mut out[k];
        let hours = t.req(row, h, line)?;
        let mut q = [0.0; 5];
        for (j, &c) in qc.iter().enumerate() {
            q[j] = t.req(row, c, line)?;
        }
        if state == "ready" && q.iter().any(|&x| x > 0.0) {
            b.readiness = true;
        }
        if b.hours.last() == Some(&hours) {
            for (j, x) in q.iter().enumerate() {
                if let Some(last) = b.q[j].last_mut() {
                    *last += x;
                }
            }
        } else {
            b.hours.push(hours);
            for (j, x) in q.iter().enumerate() {
                b.q[j].push(*x);
            }
        }
    }
    Ok(out)
}

fn parse_variants(t: &Table) -> Result<Vec<Variant>, Error> {
    let (v, d) = (t.col("variant")?, t.col("deployment")?);
    let h = [
        t.col("hours_to_95_p5")?,
        t.col("hours_to_95_p50")?,
        t.col("hours_to_95_p95")?,
    ];
    let hits = t.col("issue_hits_p50")?;
    let front = t.col("pareto_blast").ok();
    let disrupted = t.col("restarts_in_active_hours_p50").ok();
    let front_disruption = t.col("pareto_disruption").ok();
    let share_end = t.col("share_compliant_p50").ok();
    let mut out = Vec::new();
    for (i, row) in t.rows.iter().enumerate() {
        let line = i + 2;
        out.push(Variant {
            variant: t.text(row, v).to_string(),
            deployment: t.text(row, d).to_string(),
            h95: [
                t.num(row, h[0], line)?,
                t.num(row, h[1], line)?,
                t.num(row, h[2], line)?,
            ],
            hits_p50: t.num(row, hits, line)?,
            front: front.is_some_and(|c| t.text(row, c).eq_ignore_ascii_case("true")),
            disrupted_p50: match disrupted {
                Some(c) => t.num(row, c, line)?,
                None => None,
            },
            front_disruption: front_disruption
                .is_some_and(|c| t.text(row, c).eq_ignore_ascii_case("true")),
            share_end_p50: match share_end {
                Some(c) => t.num(row, c, line)?,
                None => None,
            },
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Style

/// Okabe–Ito, in the order series take them. Its yellow (#F0E442, 1.3:1 on white) is darkened
/// to #A89500 (3.0:1, the WCAG minimum for graphics) and comes last.
const SERIES: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xA8, 0x95, 0x00),
];
/// Line patterns (dash and gap in px at 1200 px wide; `None`: solid) of series 1–8, 9–16, 17–24
/// and 25–32: past 8 series the colours repeat with another pattern.
const PATTERNS: [Option<(f64, f64)>; 4] =
    [None, Some((14.0, 6.0)), Some((3.0, 5.0)), Some((30.0, 8.0))];
/// The 95 % target line's pattern, unlike any series'.
const TARGET_DASH: (f64, f64) = (10.0, 7.0);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const MUTED: RGBColor = RGBColor(0x88, 0x88, 0x88);

fn series_colour(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// The line pattern of series `i` (see [`PATTERNS`]).
fn series_dash(i: usize) -> Option<(f64, f64)> {
    PATTERNS[(i / SERIES.len()) % PATTERNS.len()]
}

/// Stacking order (bottom first) and colour of the known client states: the goal states first
/// (`compliant`, or `ready` for a readiness test).
const STATES: [(&str, RGBColor); 12] = [
    ("compliant", RGBColor(0x00, 0x9E, 0x73)),
    ("ready", RGBColor(0x00, 0x5F, 0x46)),
    ("pending_restart", RGBColor(0xE6, 0x9F, 0x00)),
    ("installing", RGBColor(0x00, 0x72, 0xB2)),
    ("downloaded", RGBColor(0x3A, 0x93, 0xC3)),
    ("downloading", RGBColor(0x56, 0xB4, 0xE9)),
    ("offered", RGBColor(0xF0, 0xE4, 0x42)),
    ("held", RGBColor(0x55, 0x55, 0x55)),
    ("not_offered", RGBColor(0xD4, 0xD4, 0xD4)),
    ("failed", RGBColor(0xD5, 0x5E, 0x00)),
    ("rolled_back", RGBColor(0xCC, 0x79, 0xA7)),
    ("ineligible", RGBColor(0x7F, 0x3C, 0x8D)),
];
const OTHER_STATES: [RGBColor; 3] = [
    RGBColor(0x99, 0x99, 0x99),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x8C, 0x6D, 0x31),
];

/// Marker shapes, one per deployment in the Pareto chart.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

const SHAPES: [Shape; 4] = [
    Shape::Circle,
    Shape::Square,
    Shape::Triangle,
    Shape::Diamond,
];

/// What the charts call the goal state, from which deployments are readiness tests.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Goal {
    Compliant,
    Ready,
    Both,
}

impl Goal {
    fn of(readiness: impl IntoIterator<Item = bool>) -> Goal {
        let (mut any, mut all) = (false, true);
        for r in readiness {
            any |= r;
            all &= r;
        }
        match (any, all) {
            (false, _) => Goal::Compliant,
            (true, true) => Goal::Ready,
            (true, false) => Goal::Both,
        }
    }
    /// The adjective: `compliant`, `ready` or `compliant or ready`.
    fn word(self) -> &'static str {
        match self {
            Goal::Compliant => "compliant",
            Goal::Ready => "ready",
            Goal::Both => "compliant or ready",
        }
    }
    fn y_desc(self) -> String {
        format!("Devices {} (% of audience)", self.word())
    }
}

/// A series' legend name: ` (ready)` added for a readiness test.
fn goal_name(name: &str, readiness: bool) -> String {
    if readiness {
        format!("{name} (ready)")
    } else {
        name.to_string()
    }
}

/// The smallest size the layout fits (text at half its size at 1200 × 700): a smaller chart is
/// drawn at a size this big or more, with its aspect ratio, and scaled down (a thumbnail), so its
/// text gets small but never overlaps.
const MIN_LAYOUT: (u32, u32) = (480, 300);

struct Style {
    /// Size drawn at.
    w: u32,
    h: u32,
    /// Size of the file written: the drawing scaled down when smaller than [`MIN_LAYOUT`].
    out_w: u32,
    out_h: u32,
    /// Text and line scale: 1 at 1200 × 700, following the tighter of width and height.
    s: f64,
    title: Option<String>,
    /// The x axis of the time-based charts [default: the whole horizon].
    x: Option<XAxis>,
}

impl Style {
    fn new(o: &ChartOptions, title: Option<String>) -> Style {
        let (out_w, out_h) = (o.width.max(200), o.height.max(150));
        let k = (MIN_LAYOUT.0 as f64 / out_w as f64)
            .max(MIN_LAYOUT.1 as f64 / out_h as f64)
            .max(1.0);
        let (w, h) = (
            (out_w as f64 * k).round() as u32,
            (out_h as f64 * k).round() as u32,
        );
        Style {
            w,
            h,
            out_w,
            out_h,
            s: (w as f64 / 1200.0).min(h as f64 / 700.0).clamp(0.5, 4.0),
            title,
            x: None,
        }
    }
    fn px(&self, v: f64) -> i32 {
        (v * self.s).round() as i32
    }
    fn font(&self, size: f64) -> TextStyle<'static> {
        (FAMILY, size * self.s).into_font().color(&INK)
    }
    fn title_font(&self) -> TextStyle<'static> {
        self.font(26.0)
    }
    fn label_font(&self) -> TextStyle<'static> {
        self.font(20.0)
    }
    fn tick_font(&self) -> TextStyle<'static> {
        self.font(18.0)
    }
    fn small_font(&self) -> TextStyle<'static> {
        self.font(17.5)
    }
    fn stroke(&self, v: f64) -> u32 {
        self.px(v).max(1) as u32
    }
    /// A dash pattern in pixels.
    fn dash(&self, (on, off): (f64, f64)) -> (i32, i32) {
        (self.px(on).max(1), self.px(off).max(1))
    }
    /// Width in pixels of `text` in `font` (measured with the embedded font).
    fn measure(&self, font: &TextStyle, text: &str) -> f64 {
        match font.font.box_size(text) {
            Ok((w, _)) => w as f64,
            Err(_) => text.chars().count() as f64 * font.font.get_size() * 0.6,
        }
    }
    /// `text` cut by `cut` (keeping as many characters as fit) to at most `max_px` wide.
    fn fit(
        &self,
        font: &TextStyle,
        text: &str,
        max_px: f64,
        cut: fn(&str, usize) -> String,
    ) -> String {
        if self.measure(font, text) <= max_px {
            return text.to_string();
        }
        let (mut lo, mut hi) = (1, text.chars().count().saturating_sub(1).max(1));
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.measure(font, &cut(text, mid)) <= max_px {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        cut(text, lo)
    }
    /// The chart's caption (`title: what`) at most `max_px` wide: the title is shortened first,
    /// then, if `what` alone is too long, the whole caption loses its middle.
    fn caption(&self, what: &str, max_px: f64) -> String {
        let f = self.title_font();
        let title = match &self.title {
            Some(t) if !t.is_empty() => t,
            _ => return self.fit(&f, what, max_px, elide_middle),
        };
        let full = format!("{title}: {what}");
        if self.measure(&f, &full) <= max_px {
            return full;
        }
        let rest = format!(": {what}");
        let room = max_px - self.measure(&f, &rest);
        if room >= self.measure(&f, "mmmmmmmm") {
            return format!("{}{rest}", self.fit(&f, title, room, elide_end));
        }
        self.fit(&f, &full, max_px, elide_middle)
    }
    /// `text` broken into lines at most `max_px` wide at spaces; a word longer than a line loses
    /// its middle.
    fn wrap(&self, font: &TextStyle, text: &str, max_px: f64) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for word in text.split(' ') {
            match lines.last_mut() {
                Some(l) if self.measure(font, &format!("{l} {word}")) <= max_px => {
                    l.push(' ');
                    l.push_str(word);
                }
                _ => lines.push(self.fit(font, word, max_px, elide_middle)),
            }
        }
        lines
    }
    /// A legend label broken into lines at most `max_px` wide, never inside a name: at its
    /// " = " (names of identical series, each next one starting a line with "= "), then at
    /// spaces; only a word longer than a line loses its middle. Past `max_lines`, the last line
    /// counts the names left out ("= 4 more"), again never cutting one.
    fn wrap_label(
        &self,
        font: &TextStyle,
        text: &str,
        max_px: f64,
        max_lines: usize,
    ) -> Vec<String> {
        // Each line with the first and last of the names on it.
        let mut lines: Vec<(String, usize, usize)> = Vec::new();
        let names: Vec<&str> = text.split(" = ").collect();
        for (i, name) in names.iter().enumerate() {
            let part = if i == 0 {
                name.to_string()
            } else {
                format!("= {name}")
            };
            match lines.last_mut() {
                Some(l) if i > 0 && self.measure(font, &format!("{} {part}", l.0)) <= max_px => {
                    l.0.push(' ');
                    l.0.push_str(&part);
                    l.2 = i;
                }
                _ => lines.extend(
                    self.wrap(font, &part, max_px)
                        .into_iter()
                        .map(|l| (l, i, i)),
                ),
            }
        }
        if lines.len() > max_lines.max(1) {
            let max_lines = max_lines.max(1);
            let rest = lines.split_off(max_lines - 1);
            if names.len() == 1 {
                let last = format!("{}…", rest[0].0);
                lines.push((self.fit(font, &last, max_px, elide_end), 0, 0));
            } else {
                // Names that go on past the lines kept are left out whole.
                // A name wrapped over lines starts a line of its own.
                let first_left_out = rest[0].1;
                while lines.last().is_some_and(|l| l.2 == first_left_out) {
                    lines.pop();
                }
                lines.push((format!("= {} more", names.len() - first_left_out), 0, 0));
            }
        }
        lines.into_iter().map(|l| l.0).collect()
    }
}

type Area<DB> = DrawingArea<DB, Shift>;
type Cart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// `s` with its end cut to at most `max` characters, `…` marking the cut.
fn elide_end(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// `s` with its middle cut to at most `max` characters, `…` marking the cut: the start and the
/// end stay, where names of variants and deployments usually differ.
fn elide_middle(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let tail = keep / 2;
    let head = keep - tail;
    let mut t: String = chars[..head].iter().collect();
    t.push('…');
    t.extend(&chars[chars.len() - tail..]);
    t
}

/// A straight or broken line in pixels, solid or dashed.
fn pixel_line<DB: DrawingBackend>(
    area: &Area<DB>,
    pts: Vec<(i32, i32)>,
    style: ShapeStyle,
    dash: Option<(i32, i32)>,
) -> Result<(), String> {
    match dash {
        None => area.draw(&PathElement::new(pts, style)),
        Some((on, off)) => area.draw(&DashedPathElement::new(pts, on, off, style)),
    }
    .map_err(err)
}

/// A line in chart coordinates, solid or dashed.
fn chart_line<DB: DrawingBackend>(
    c: &mut Cart<'_, DB>,
    pts: Vec<(f64, f64)>,
    style: ShapeStyle,
    dash: Option<(i32, i32)>,
) -> Result<(), String> {
    match dash {
        None => c.draw_series(LineSeries::new(pts, style)).map(|_| ()),
        Some((on, off)) => c
            .draw_series(DashedLineSeries::new(pts, on, off, style))
            .map(|_| ()),
    }
    .map_err(err)
}

/// A marker of radius `r` centred on `(x, y)` (pixels in `area`): filled, or an outline over
/// white.
fn marker<DB: DrawingBackend>(
    area: &Area<DB>,
    (x, y): (i32, i32),
    shape: Shape,
    r: i32,
    col: RGBColor,
    filled: bool,
    st: &Style,
) -> Result<(), String> {
    let outline = |c: &RGBColor| ShapeStyle::from(c).stroke_width(st.stroke(2.0));
    let corners: Vec<(i32, i32)> = match shape {
        Shape::Circle => Vec::new(),
        Shape::Square => {
            let h = r * 7 / 8;
            vec![
                (x - h, y - h),
                (x + h, y - h),
                (x + h, y + h),
                (x - h, y + h),
            ]
        }
        Shape::Triangle => vec![
            (x, y - r - r / 8),
            (x + r, y + r * 3 / 4),
            (x - r, y + r * 3 / 4),
        ],
        Shape::Diamond => {
            let d = r + r / 8;
            vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)]
        }
    };
    let layers: Vec<(RGBColor, bool)> = if filled {
        vec![(col, true)]
    } else {
        vec![(WHITE, true), (col, false)]
    };
    for (c, fill) in layers {
        if corners.is_empty() {
            let style = if fill { c.filled() } else { outline(&c) };
            area.draw(&Circle::new((x, y), r, style)).map_err(err)?;
        } else if fill {
            area.draw(&Polygon::new(corners.clone(), c.filled()))
                .map_err(err)?;
        } else {
            let mut closed = corners.clone();
            closed.push(corners[0]);
            area.draw(&PathElement::new(closed, outline(&c)))
                .map_err(err)?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Swatch {
    /// No swatch: the text starts where swatches do.
    None,
    /// A series' line, with its pattern.
    Line(Option<(f64, f64)>),
    /// The 95 % target line.
    Target,
    /// A median line over its bands, with the line's pattern.
    Band(Option<(f64, f64)>),
    Fill,
    /// A marker, filled or outlined.
    Marker(Shape, bool),
    Ticks,
}

type Entry = (String, RGBColor, Swatch);

/// Splits off a legend panel on the right sized for `header` (a line or more of text above the
/// entries) and `entries`, draws it, returns the plot area. Labels too long for the panel
/// (at most 35 % of the width) wrap over lines ([`Style::wrap_label`]).
fn with_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    st: &Style,
    header: Option<&str>,
    entries: &[Entry],
) -> Result<Area<DB>, String> {
    legend_panel(area, st, header, entries, &[])
}

/// How many entries fit in `room` pixels, and the row height: `entries` and `keys` are each
/// entry's height in rows (1.0 for a label of one line, more for a label wrapped over several:
/// [`legend_height`]), `keys` always shown. Rows close up (down to `min_row`) before entries are
/// left out, and a row "… N more" takes the place of the last one shown when some are.
fn legend_rows(entries: &[f64], keys: &[f64], room: i32, row: i32, min_row: i32) -> (usize, i32) {
    let total: f64 = entries.iter().chain(keys).sum();
    let fits = |rows: f64, row: i32| rows * row as f64 <= room as f64 + 1e-9;
    if total == 0.0 || fits(total, row) {
        return (entries.len(), row);
    }
    let row = ((room as f64 / total) as i32).max(min_row).min(row);
    if fits(total, row) {
        return (entries.len(), row);
    }
    // One row for "… N more", the keys' rows, the rest for entries.
    let mut used = 1.0 + keys.iter().sum::<f64>();
    let mut shown = 0;
    for e in entries {
        if !fits(used + e, row) {
            break;
        }
        used += e;
        shown += 1;
    }
    (shown, row)
}

/// The height in rows of a legend entry of `lines` lines: the lines after the first are closer
/// than rows.
fn legend_height(lines: usize) -> f64 {
    1.0 + LEGEND_LINE * lines.saturating_sub(1) as f64
}

/// The spacing of the lines of a wrapped legend label, in rows.
const LEGEND_LINE: f64 = 0.75;
/// The most lines a legend label wraps over; names past them are counted ("= 4 more").
const LEGEND_MAX_LINES: usize = 5;

/// [`with_legend`] with `keys` (the target line, the band key…) after the entries, always shown:
/// when not every entry fits, entries are left out ("… N more"), never keys.
fn legend_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    st: &Style,
    header: Option<&str>,
    entries: &[Entry],
    keys: &[Entry],
) -> Result<Area<DB>, String> {
    let (w, _) = area.dim_in_pixel();
    let font = st.small_font();
    let (x0, sw_w, gap) = (st.px(10.0), st.px(34.0), st.px(10.0));
    let text_x = x0 + sw_w + gap;
    let longest = entries
        .iter()
        .chain(keys)
        .map(|(l, _, _)| st.measure(&font, l) + text_x as f64)
        .chain(header.map(|h| st.measure(&font, h) + x0 as f64))
        .fold(0.0, f64::max);
    let lw = (longest + st.px(16.0) as f64).clamp(st.px(140.0) as f64, w as f64 * 0.35) as u32;
    let (plot, legend) = area.split_horizontally(w.saturating_sub(lw));
    let max_px = lw as f64 - text_x as f64 - st.px(6.0) as f64;
    let row = st.px(30.0);
    let mut y = st.px(40.0);
    let (_, lh) = legend.dim_in_pixel();
    let bottom = lh as i32 - st.px(10.0);
    if let Some(h) = header {
        for line in st.wrap(&font, h, lw as f64 - x0 as f64 - st.px(6.0) as f64) {
            if y + row > bottom {
                break;
            }
            legend
                .draw(&Text::new(
                    line,
                    (x0, y + row / 2),
                    font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
            y += row;
        }
    }
    // Labels too long for the panel wrap over lines (never cutting a name in a list of
    // identical series' names), the text starting where swatches do when there is no swatch.
    let text_at = |sw: &Swatch| {
        if matches!(sw, Swatch::None) {
            x0
        } else {
            text_x
        }
    };
    let wrapped = |(label, _, sw): &Entry| {
        let room = max_px + (text_x - text_at(sw)) as f64;
        st.wrap_label(&font, label, room, LEGEND_MAX_LINES)
    };
    let entry_lines: Vec<Vec<String>> = entries.iter().map(wrapped).collect();
    let key_lines: Vec<Vec<String>> = keys.iter().map(wrapped).collect();
    let heights = |l: &[Vec<String>]| l.iter().map(|l| legend_height(l.len())).collect::<Vec<_>>();
    let (shown, row) = legend_rows(
        &heights(&entry_lines),
        &heights(&key_lines),
        bottom - y,
        row,
        st.px(24.0).max(1),
    );
    let more = (shown < entries.len()).then(|| {
        (
            format!("… {} more", entries.len() - shown),
            MUTED,
            Swatch::None,
        )
    });
    let more_lines = more.iter().map(|(l, _, _)| vec![l.clone()]);
    let rows = entries[..shown]
        .iter()
        .zip(entry_lines)
        .chain(more.iter().zip(more_lines))
        .chain(keys.iter().zip(key_lines));
    let line_h = (row as f64 * LEGEND_LINE).round() as i32;
    for ((_, c, sw), lines) in rows {
        let height = row + line_h * lines.len().saturating_sub(1) as i32;
        if y + height > bottom {
            break;
        }
        let (sx, sy) = (x0, y + row / 2);
        let line = |dash: Option<(f64, f64)>, width: f64| {
            pixel_line(
                &legend,
                vec![(sx, sy), (sx + sw_w, sy)],
                ShapeStyle::from(c).stroke_width(st.stroke(width)),
                dash.map(|d| st.dash(d)),
            )
        };
        match sw {
            Swatch::None => {}
            Swatch::Line(dash) => line(*dash, 3.0)?,
            Swatch::Target => line(Some(TARGET_DASH), 2.0)?,
            Swatch::Band(dash) => {
                let hh = st.px(9.0);
                legend
                    .draw(&Rectangle::new(
                        [(sx, sy - hh), (sx + sw_w, sy + hh)],
                        c.mix(0.15).filled(),
                    ))
                    .map_err(err)?;
                legend
                    .draw(&Rectangle::new(
                        [(sx, sy - hh / 2), (sx + sw_w, sy + hh / 2)],
                        c.mix(0.3).filled(),
                    ))
                    .map_err(err)?;
                line(*dash, 3.0)?;
            }
            Swatch::Fill => {
                let hh = st.px(9.0);
                legend
                    .draw(&Rectangle::new(
                        [(sx, sy - hh), (sx + sw_w, sy + hh)],
                        c.filled(),
                    ))
                    .map_err(err)?;
                legend
                    .draw(&Rectangle::new(
                        [(sx, sy - hh), (sx + sw_w, sy + hh)],
                        ShapeStyle::from(&MUTED),
                    ))
                    .map_err(err)?;
            }
            Swatch::Marker(shape, filled) => {
                marker(
                    &legend,
                    (sx + sw_w / 2, sy),
                    *shape,
                    st.px(7.0),
                    *c,
                    *filled,
                    st,
                )?;
            }
            Swatch::Ticks => {
                for k in 0..3 {
                    let x = sx + st.px(4.0) + k * st.px(12.0);
                    legend
                        .draw(&PathElement::new(
                            vec![(x, sy - st.px(8.0)), (x, sy + st.px(8.0))],
                            ShapeStyle::from(c).stroke_width(st.stroke(2.0)),
                        ))
                        .map_err(err)?;
                }
            }
        }
        for (k, line) in lines.into_iter().enumerate() {
            legend
                .draw(&Text::new(
                    line,
                    (text_at(sw), sy + line_h * k as i32),
                    font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
        }
        y += height;
    }
    Ok(plot)
}

// ---------------------------------------------------------------------------------------------
// Rendering

#[derive(Clone, Copy, Debug)]
enum Chart {
    Compliance,
    States(usize),
    Restarts,
    Bands,
    TimeTo95,
    Pareto(Tradeoff),
}

fn render(chart: Chart, f: Format, d: &Inputs, st: &Style) -> Result<Vec<u8>, String> {
    let (w, h) = (st.w, st.h);
    match f {
        Format::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
                draw(chart, &root, d, st)?;
                root.present().map_err(err)?;
            }
            // A thumbnail: the viewBox keeps the drawing's size, the image gets the size asked.
            let drawn = format!("<svg width=\"{w}\" height=\"{h}\" ");
            let shown = format!("<svg width=\"{}\" height=\"{}\" ", st.out_w, st.out_h);
            Ok(s.replacen(&drawn, &shown, 1).into_bytes())
        }
        Format::Png => {
            let mut buf = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                draw(chart, &root, d, st)?;
                root.present().map_err(err)?;
            }
            let (ow, oh) = (st.out_w, st.out_h);
            if (ow, oh) == (w, h) {
                encode_png(&buf, w, h)
            } else {
                encode_png(&shrink(&buf, (w, h), (ow, oh)), ow, oh)
            }
        }
    }
}

/// An RGB image of size `from` scaled down to `to`: each pixel the mean of the pixels whose
/// centres fall in it.
fn shrink(rgb: &[u8], from: (u32, u32), to: (u32, u32)) -> Vec<u8> {
    let span = |o: u32, n_from: u32, n_to: u32| {
        let k = n_from as f64 / n_to as f64;
        let a = ((o as f64 * k - 0.5).ceil().max(0.0) as usize).min(n_from as usize - 1);
        let b = (((o + 1) as f64 * k - 0.5).ceil() as usize).clamp(a + 1, n_from as usize);
        a..b
    };
    let mut out = Vec::with_capacity(to.0 as usize * to.1 as usize * 3);
    for oy in 0..to.1 {
        let ys = span(oy, from.1, to.1);
        for ox in 0..to.0 {
            let xs = span(ox, from.0, to.0);
            let mut sum = [0u64; 3];
            for y in ys.clone() {
                for x in xs.clone() {
                    let i = (y * from.0 as usize + x) * 3;
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += u64::from(rgb[i + c]);
                    }
                }
            }
            let n = (ys.len() * xs.len()) as u64;
            out.extend(sum.iter().map(|s| ((s + n / 2) / n) as u8));
        }
    }
    out
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut wr = enc.write_header().map_err(err)?;
        wr.write_image_data(rgb).map_err(err)?;
        wr.finish().map_err(err)?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    chart: Chart,
    root: &Area<DB>,
    d: &Inputs,
    st: &Style,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    match chart {
        Chart::Compliance => compliance(root, d, st),
        Chart::States(i) => states(root, d, i, st),
        Chart::Restarts => restarts(root, d, st),
        Chart::Bands => bands(root, d, st),
        Chart::TimeTo95 => time_to_95(root, d, st),
        Chart::Pareto(t) => pareto(root, d, st, t),
    }
}

fn titled<DB: DrawingBackend>(root: &Area<DB>, st: &Style, what: &str) -> Result<Area<DB>, String> {
    let (w, _) = root.dim_in_pixel();
    let (head, body) = root.split_vertically(st.px(54.0).max(1) as u32);
    let room = w as f64 - 2.0 * st.px(12.0) as f64;
    head.draw(&Text::new(
        st.caption(what, room),
        ((w / 2) as i32, st.px(30.0)),
        st.title_font().pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(err)?;
    Ok(body)
}

/// The coordinates of a chart with days on x and 0–100 % on y (nothing drawn yet). Its x
/// mapping depends only on the area's width, not on its height.
fn days_percent_coords<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    st: &Style,
    xmax: f64,
) -> Result<Cart<'a, DB>, String> {
    ChartBuilder::on(area)
        .margin(st.px(12.0))
        .margin_right(st.px(24.0))
        .x_label_area_size(st.px(64.0))
        .y_label_area_size(st.px(84.0))
        .build_cartesian_2d(0f64..xmax, 0f64..100f64)
        .map_err(err)
}

/// A chart with days on x and 0–100 % on y, axes and grid drawn.
fn days_percent_chart<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    st: &Style,
    x: &XAxis,
    y_desc: &str,
) -> Result<Cart<'a, DB>, String> {
    let mut c = days_percent_coords(area, st, x.end)?;
    c.configure_mesh()
        .x_desc(x.desc.as_str())
        .y_desc(y_desc)
        .x_label_formatter(&tick)
        .y_label_formatter(&|v| format!("{v:.0} %"))
        .label_style(st.tick_font())
        .axis_desc_style(st.label_font())
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    Ok(c)
}

/// The x axis of the time-based charts: as [`render_files`] set it, else the whole horizon.
fn x_axis_of(st: &Style, d: &Inputs) -> XAxis {
    st.x.clone().unwrap_or_else(|| x_axis(d, Days::All))
}

/// The points of a line (x ascending) up to `xmax`, the last one where it crosses `xmax`.
fn clip(pts: Vec<(f64, f64)>, xmax: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
    for (x, y) in pts {
        if x <= xmax {
            out.push((x, y));
            continue;
        }
        if let Some(&(x0, y0)) = out.last()
            && x0 < xmax
        {
            out.push((xmax, y0 + (y - y0) * (xmax - x0) / (x - x0)));
        }
        break;
    }
    out
}

/// A band between two lines over the same x (ascending), clipped at `xmax`: the upper line
/// forward, then the lower one back.
fn band_polygon(x: &[f64], upper: &[f64], lower: &[f64], xmax: f64) -> Vec<(f64, f64)> {
    let line = |v: &[f64]| clip(x.iter().zip(v).map(|(h, y)| (h / 24.0, *y)).collect(), xmax);
    let mut pts = line(upper);
    pts.extend(line(lower).into_iter().rev());
    pts
}

fn target_line<DB: DrawingBackend>(
    c: &mut Cart<'_, DB>,
    st: &Style,
    xmax: f64,
) -> Result<(), String> {
    chart_line(
        c,
        vec![(0.0, 95.0), (xmax, 95.0)],
        ShapeStyle::from(&INK).stroke_width(st.stroke(2.0)),
        Some(st.dash(TARGET_DASH)),
    )
}

fn compliance<DB: DrawingBackend>(root: &Area<DB>, d: &Inputs, st: &Style) -> Result<(), String> {
    let goal = Goal::of(d.series.iter().map(|s| s.readiness));
    let area = titled(root, st, &format!("share of devices {}", goal.word()))?;
    let x = x_axis_of(st, d);
    let xmax = x.end;
    // Identical curves (two deployments of one update to one audience report the same
    // compliance) are drawn once, or the last would hide the others, and named together in the
    // legend, as identical bands are: `pilot = broad`. `of[i]`: deployment `i`'s curve, whose
    // colour its dots and ticks take.
    let curves = curve_groups(d, xmax);
    let mut of = vec![0; d.series.len()];
    for (g, (members, _)) in curves.iter().enumerate() {
        for &i in members {
            of[i] = g;
        }
    }
    let entries: Vec<Entry> = curves
        .iter()
        .enumerate()
        .map(|(g, (members, _))| {
            let names: Vec<&str> = members.iter().map(|&i| d.series[i].name.as_str()).collect();
            let name = goal_name(&names.join(" = "), d.series[members[0]].readiness);
            (name, series_colour(g), Swatch::Line(series_dash(g)))
        })
        .collect();
    let mut keys: Vec<Entry> = vec![("95 % target".into(), INK, Swatch::Target)];
    // Only what happens on the axis (`--days` may end it before the last change).
    let on_axis = |h: f64| h / 24.0 <= xmax;
    let mut marks = event_marks(d);
    marks.retain(|m| on_axis(m.hours));
    let waves: Vec<(f64, usize)> = d
        .waves
        .iter()
        .filter(|(h, _)| on_axis(*h))
        .filter_map(|(h, dep)| Some((*h, of[d.series.iter().position(|s| s.name == *dep)?])))
        .collect();
    if !waves.is_empty() {
        keys.push(("offer waves (ticks above)".into(), MUTED, Swatch::Ticks));
    }
    let plot = legend_panel(&area, st, None, &entries, &keys)?;
    // Event lane above the plot: rows of coloured ticks (one per deployment) with the new
    // state's name. The plot's x mapping does not depend on the lane's height, so the lane is
    // laid out first, with the final x positions.
    let (plot_x0, _) = plot.get_base_pixel();
    let xs: Vec<f64> = {
        let probe = days_percent_coords(&plot, st, xmax)?;
        marks
            .iter()
            .map(|m| (probe.backend_coord(&(m.hours / 24.0, 0.0)).0 - plot_x0) as f64)
            .collect()
    };
    // Offer waves get a thin row of their own at the top of the lane, unlabelled.
    let wave_h = if waves.is_empty() { 0 } else { st.px(20.0) };
    let layout = lane_layout(&marks, &xs, wave_h, st);
    let lane_h = if marks.is_empty() {
        wave_h + if waves.is_empty() { 0 } else { st.px(6.0) }
    } else {
        layout.height + st.px(8.0)
    };
    let (lane, main) = plot.split_vertically(lane_h.max(0) as u32);
    let mut c = days_percent_chart(&main, st, &x, &goal.y_desc())?;
    target_line(&mut c, st, xmax)?;
    for (g, (_, pts)) in curves.into_iter().enumerate() {
        chart_line(
            &mut c,
            pts,
            ShapeStyle::from(&series_colour(g)).stroke_width(st.stroke(3.0)),
            series_dash(g).map(|p| st.dash(p)),
        )?;
    }
    // A tick per deployment, dashed like its line when the colours repeat.
    let tick = |x: i32, y0: i32, y1: i32, i: usize, width: f64| {
        pixel_line(
            &lane,
            vec![(x, y0), (x, y1)],
            ShapeStyle::from(&series_colour(i)).stroke_width(st.stroke(width)),
            series_dash(i).map(|(on, off)| st.dash((on / 3.0, off / 3.0))),
        )
    };
    for &(h, i) in &waves {
        let px = c.backend_coord(&(h / 24.0, 0.0)).0 - plot_x0;
        tick(px, st.px(4.0), wave_h, i, 2.0)?;
    }
    // A dot on each curve at each change.
    for m in &marks {
        for &i in &m.deps {
            let s = &d.series[i];
            let y = interpolate(&s.hours, &s.goal, m.hours) * 100.0;
            c.draw_series(std::iter::once(Circle::new(
                (m.hours / 24.0, y),
                st.px(6.0),
                ShapeStyle::from(&series_colour(of[i])).filled(),
            )))
            .map_err(err)?;
            c.draw_series(std::iter::once(Circle::new(
                (m.hours / 24.0, y),
                st.px(6.0),
                ShapeStyle::from(&WHITE).stroke_width(st.stroke(1.5)),
            )))
            .map_err(err)?;
        }
    }
    for &(x, y0, y1, i) in &layout.ticks {
        tick(x, y0, y1, of[i], 3.0)?;
    }
    for (x, y, text) in &layout.labels {
        lane.draw(&Text::new(
            text.clone(),
            (*x, *y),
            st.small_font().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// A curve of the compliance chart: the deployments (indexes into the series) drawn as it, and
/// its points (days, percent).
type Curve = (Vec<usize>, Vec<(f64, f64)>);

/// The compliance chart's curves, each drawn once: the deployments whose goal share is the same
/// at every point drawn (up to `xmax` days) and who count the same goal state, in file order,
/// with those points (days, percent).
fn curve_groups(d: &Inputs, xmax: f64) -> Vec<Curve> {
    let mut groups: Vec<Curve> = Vec::new();
    for (i, s) in d.series.iter().enumerate() {
        let pts = clip(
            s.hours
                .iter()
                .zip(&s.goal)
                .map(|(h, y)| (h / 24.0, y * 100.0))
                .collect(),
            xmax,
        );
        let ready = s.readiness;
        match groups
            .iter_mut()
            .find(|(m, p)| *p == pts && d.series[m[0]].readiness == ready)
        {
            Some((m, _)) => m.push(i),
            None => groups.push((vec![i], pts)),
        }
    }
    groups
}

/// The event lane in pixels: x from the plot's left edge, y from the lane's top.
struct Lane {
    /// Bottom of the last row.
    height: i32,
    /// (x, y0, y1, deployment) per tick.
    ticks: Vec<(i32, i32, i32, usize)>,
    /// (x, vertical centre, text) per label, left-aligned.
    labels: Vec<(i32, i32, String)>,
}

/// Lays out the lane's ticks and labels below `top` (the waves' row): groups of changes
/// ([`lane_groups`]) in up to 5 labelled rows ([`lane_rows`]); the ticks of groups without room
/// for a label go, unlabelled, into a thin strip under the rows, never over a label.
fn lane_layout(marks: &[Mark], xs: &[f64], top: i32, st: &Style) -> Lane {
    let font = st.small_font();
    let groups = lane_groups(marks, xs, st.px(6.0) as f64, st.px(12.0) as f64);
    let text_dx = st.px(8.0);
    let spans: Vec<(f64, f64)> = groups
        .iter()
        .map(|g| {
            let last = g.ticks.last().map_or(0.0, |t| t.0);
            let end = last + text_dx as f64 + st.measure(&font, &g.state) + st.px(10.0) as f64;
            (g.x0(), end)
        })
        .collect();
    let placed = lane_rows(&spans, 5);
    let rows = placed.iter().flatten().max().map_or(0, |&r| r + 1) as i32;
    let row_h = st.px(26.0);
    let strip_h = if placed.iter().any(Option::is_none) {
        st.px(16.0)
    } else {
        0
    };
    let mut lane = Lane {
        height: top + rows * row_h + strip_h,
        ticks: Vec::new(),
        labels: Vec::new(),
    };
    for (g, row) in groups.iter().zip(&placed) {
        let (y0, y1) = match row {
            Some(r) => {
                let y0 = top + *r as i32 * row_h + st.px(4.0);
                (y0, y0 + row_h - st.px(4.0))
            }
            None => {
                let y0 = top + rows * row_h + st.px(4.0);
                (y0, y0 + strip_h - st.px(4.0))
            }
        };
        for &(x, i) in &g.ticks {
            lane.ticks.push((x.round() as i32, y0, y1, i));
        }
        if row.is_some() {
            let last = g.ticks.last().map_or(0.0, |t| t.0).round() as i32;
            lane.labels
                .push((last + text_dx, (y0 + y1) / 2, g.state.clone()));
        }
    }
    lane
}

/// Deployment state changes at one time to one state, for one or more deployments.
struct Mark {
    hours: f64,
    state: String,
    /// Indexes into the series (deployments).
    deps: Vec<usize>,
}

/// The state changes of charted deployments, merged by (time, state), in time order.
fn event_marks(d: &Inputs) -> Vec<Mark> {
    let mut marks: Vec<Mark> = Vec::new();
    for e in &d.events {
        let Some(i) = d.series.iter().position(|s| s.name == e.deployment) else {
            continue;
        };
        match marks
            .iter_mut()
            .find(|m| m.hours == e.hours && m.state == e.state)
        {
            Some(m) if !m.deps.contains(&i) => m.deps.push(i),
            Some(_) => {}
            None => marks.push(Mark {
                hours: e.hours,
                state: e.state.clone(),
                deps: vec![i],
            }),
        }
    }
    marks.sort_by(|a, b| a.hours.total_cmp(&b.hours));
    marks
}

/// Marks that share one label in the event lane: changes to the same state close together.
#[derive(Debug, PartialEq)]
struct LaneGroup {
    state: String,
    /// (x in pixels, deployment) of each tick, left to right.
    ticks: Vec<(f64, usize)>,
}

impl LaneGroup {
    fn x0(&self) -> f64 {
        self.ticks.first().map_or(0.0, |t| t.0)
    }
}

/// Groups consecutive marks (`xs`: each mark's x in pixels) to the same state whose ticks would
/// come within `join` pixels of each other; ticks are at least `gap` pixels apart (a tick moves
/// right when it would touch the previous one).
fn lane_groups(marks: &[Mark], xs: &[f64], gap: f64, join: f64) -> Vec<LaneGroup> {
    let mut out: Vec<LaneGroup> = Vec::new();
    for (m, &x) in marks.iter().zip(xs) {
        let joins = out
            .last()
            .is_some_and(|g| g.state == m.state && g.ticks.last().is_some_and(|t| x <= t.0 + join));
        if !joins {
            out.push(LaneGroup {
                state: m.state.clone(),
                ticks: Vec::new(),
            });
        }
        let g = out.last_mut().expect("a group");
        for &i in &m.deps {
            let x = g.ticks.last().map_or(x, |t| x.max(t.0 + gap));
            g.ticks.push((x, i));
        }
    }
    out
}

/// Greedy row layout of lane labels (`spans`: each one's pixels from its first tick to the end
/// of its label, in x order): each goes in the first row whose previous span ended left of it;
/// `None` when all `max_rows` rows are taken there.
fn lane_rows(spans: &[(f64, f64)], max_rows: usize) -> Vec<Option<usize>> {
    let mut ends: Vec<f64> = Vec::new();
    spans
        .iter()
        .map(|&(x0, end)| match ends.iter().position(|&e| e < x0) {
            Some(r) => {
                ends[r] = end;
                Some(r)
            }
            None if ends.len() < max_rows => {
                ends.push(end);
                Some(ends.len() - 1)
            }
            None => None,
        })
        .collect()
}

/// Linear interpolation of `v` over `xs` at `x`.
fn interpolate(xs: &[f64], v: &[f64], x: f64) -> f64 {
    let k = xs.partition_point(|&t| t <= x);
    match k {
        0 => v.first().copied().unwrap_or(0.0),
        k if k >= xs.len() => v.last().copied().unwrap_or(0.0),
        k => {
            let (x0, x1, y0, y1) = (xs[k - 1], xs[k], v[k - 1], v[k]);
            if x1 > x0 {
                y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            } else {
                y1
            }
        }
    }
}

/// State names of `s` in stacking order with their colours: known states first in
/// [`STATES`] order, then unknown ones in file order.
fn stack_order(s: &Series) -> Vec<(usize, RGBColor)> {
    let mut out = Vec::new();
    for (name, col) in STATES {
        if let Some(i) = s.states.iter().position(|x| x == name) {
            out.push((i, col));
        }
    }
    let mut k = 0;
    for (i, name) in s.states.iter().enumerate() {
        if !STATES.iter().any(|(n, _)| n == name) {
            out.push((i, OTHER_STATES[k % OTHER_STATES.len()]));
            k += 1;
        }
    }
    out
}

/// Legend entries of the states chart, top layer first: every state of `s` but the goal state
/// the deployment does not use (`ready` unless it is a readiness test, `compliant` if it is
/// one and has none).
fn state_entries(s: &Series) -> Vec<(String, RGBColor, Swatch)> {
    stack_order(s)
        .iter()
        .rev()
        .filter(|&&(k, _)| {
            let unused = |name: &str| s.states[k] == name && s.shares[k].iter().all(|&v| v == 0.0);
            !(unused("ready") && !s.readiness || unused("compliant") && s.readiness)
        })
        .map(|&(k, c)| (s.states[k].replace('_', " "), c, Swatch::Fill))
        .collect()
}

fn states<DB: DrawingBackend>(
    root: &Area<DB>,
    d: &Inputs,
    i: usize,
    st: &Style,
) -> Result<(), String> {
    let s = &d.series[i];
    let area = titled(
        root,
        st,
        &format!("device states of {}", elide_middle(&s.name, 60)),
    )?;
    let order = stack_order(s);
    let plot = with_legend(&area, st, None, &state_entries(s))?;
    let x = x_axis_of(st, d);
    let mut c = days_percent_chart(&plot, st, &x, "Devices (% of audience)")?;
    let n = s.hours.len();
    let mut lower = vec![0.0f64; n];
    for &(k, col) in &order {
        let upper: Vec<f64> = lower
            .iter()
            .zip(&s.shares[k])
            .map(|(a, b)| (a + b * 100.0).min(100.0))
            .collect();
        if s.shares[k].iter().any(|&v| v > 0.0) {
            let pts = band_polygon(&s.hours, &upper, &lower, x.end);
            c.draw_series(std::iter::once(Polygon::new(pts, col.filled())))
                .map_err(err)?;
        }
        lower = upper;
    }
    Ok(())
}

fn heat_colour(v: u64, max: u64) -> RGBColor {
    if v == 0 {
        return RGBColor(0xF4, 0xF4, 0xF4);
    }
    // From light to dark blue (sequential, readable without colour vision).
    let t = (v as f64 / max.max(1) as f64).clamp(0.0, 1.0).sqrt();
    let lo = (0xDE, 0xEB, 0xF7);
    let hi = (0x08, 0x30, 0x6B);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    RGBColor(mix(lo.0, hi.0), mix(lo.1, hi.1), mix(lo.2, hi.2))
}

/// Okabe–Ito vermillion: the outline of active hours on the restarts chart, apart from the
/// blues of its cells.
const ACTIVE_HOURS_INK: RGBColor = RGBColor(0xD5, 0x5E, 0x00);

/// `08:00` for 8.0 hours.
fn hhmm(hours: f64) -> String {
    let minutes = (hours * 60.0).round() as u32;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The outline of active hours `a` on a heatmap of 24 hours (x) by 7 days (y): a box from start
/// to end or, when the hours wrap past midnight, its two parts, open at the day's edges.
fn active_hours_outline(a: &ActiveHours) -> Vec<Vec<(f64, f64)>> {
    if a.start < a.end {
        vec![vec![
            (a.start, 0.0),
            (a.start, 7.0),
            (a.end, 7.0),
            (a.end, 0.0),
            (a.start, 0.0),
        ]]
    } else {
        vec![
            vec![(24.0, 7.0), (a.start, 7.0), (a.start, 0.0), (24.0, 0.0)],
            vec![(0.0, 7.0), (a.end, 7.0), (a.end, 0.0), (0.0, 0.0)],
        ]
    }
}

/// What the outline on the restarts chart marks: the active hours of the most devices, and
/// whether every device has them (else the others', up to two).
fn active_hours_key(windows: &[ActiveHours]) -> Option<String> {
    let span = |a: &ActiveHours| format!("{}–{}", hhmm(a.start), hhmm(a.end));
    let a = windows.first()?;
    if windows.len() == 1 {
        return Some(format!("Active hours {} (every policy)", span(a)));
    }
    let total: u64 = windows.iter().map(|w| w.devices).sum();
    let mut others: Vec<String> = windows[1..].iter().take(2).map(span).collect();
    if windows.len() > 3 {
        others.push("…".into());
    }
    Some(format!(
        "Active hours {}, the policy of {} of {total} devices (others: {})",
        span(a),
        a.devices,
        others.join(", ")
    ))
}

fn restarts<DB: DrawingBackend>(root: &Area<DB>, d: &Inputs, st: &Style) -> Result<(), String> {
    let Some(r) = &d.restarts else {
        return Ok(());
    };
    let area = titled(root, st, "restarts by device-local hour and weekday")?;
    let (_, ah) = area.dim_in_pixel();
    let bar_h = st.px(112.0) as u32;
    let (panels, bar) = area.split_vertically(ah.saturating_sub(bar_h));
    let grids = [
        (&r.forced, "Forced restarts"),
        (&r.auto, "Automatic restarts"),
        (&r.user, "Restarts by users"),
    ];
    let max = grids
        .iter()
        .flat_map(|(g, _)| g.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0);
    let total = |g: &[[u64; 24]; 7]| g.iter().flatten().sum::<u64>();
    let outline = d.active_hours.first().map(active_hours_outline);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    for (panel, (grid, name)) in panels.split_evenly((1, 3)).iter().zip(grids) {
        let mut c = ChartBuilder::on(panel)
            .margin(st.px(10.0))
            .caption(format!("{name}: {}", total(grid)), st.label_font())
            .x_label_area_size(st.px(60.0))
            .y_label_area_size(st.px(50.0))
            .build_cartesian_2d(0f64..24f64, 0f64..7f64)
            .map_err(err)?;
        c.configure_mesh()
            .disable_mesh()
            .x_desc("Hour (device local time)")
            .x_labels(13)
            .x_label_formatter(&|v| {
                if (v / 4.0).fract().abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|_| String::new())
            .label_style(st.tick_font())
            .axis_desc_style(st.label_font())
            .draw()
            .map_err(err)?;
        for (wd, hours) in grid.iter().enumerate() {
            let y1 = 7.0 - wd as f64;
            c.draw_series(hours.iter().enumerate().map(|(h, &v)| {
                Rectangle::new(
                    [(h as f64, y1 - 1.0), (h as f64 + 1.0, y1)],
                    heat_colour(v, max).filled(),
                )
            }))
            .map_err(err)?;
        }
        for part in outline.iter().flatten() {
            chart_line(
                &mut c,
                part.clone(),
                ShapeStyle::from(&ACTIVE_HOURS_INK).stroke_width(st.stroke(3.0)),
                None,
            )?;
        }
        let (bx, by) = panel.get_base_pixel();
        for (wd, day) in DAYS.iter().enumerate() {
            let (px, py) = c.backend_coord(&(0.0, 6.5 - wd as f64));
            panel
                .draw(&Text::new(
                    *day,
                    (px - bx - st.px(8.0), py - by),
                    st.tick_font().pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(err)?;
        }
    }
    // The key: the active hours' outline, and what cells inside it mean.
    let (bw, _) = bar.dim_in_pixel();
    let (key_y, line) = (st.px(72.0), st.px(24.0));
    let key_x = match active_hours_key(&d.active_hours) {
        Some(key) => {
            let (x, hh) = (st.px(12.0), st.px(8.0));
            pixel_line(
                &bar,
                vec![
                    (x, key_y - hh),
                    (x + st.px(34.0), key_y - hh),
                    (x + st.px(34.0), key_y + hh),
                    (x, key_y + hh),
                    (x, key_y - hh),
                ],
                ShapeStyle::from(&ACTIVE_HOURS_INK).stroke_width(st.stroke(3.0)),
                None,
            )?;
            let key_x = st.px(56.0);
            let room = bw as f64 - key_x as f64 - st.px(12.0) as f64;
            bar.draw(&Text::new(
                st.fit(&st.small_font(), &key, room, elide_middle),
                (key_x, key_y),
                st.small_font().pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
            key_x
        }
        None => st.px(12.0),
    };
    let note = "Forced and automatic restarts inside active hours disrupt users; restarts by users are their own.";
    let room = bw as f64 - key_x as f64 - st.px(12.0) as f64;
    bar.draw(&Text::new(
        st.fit(&st.small_font(), note, room, elide_middle),
        (key_x, key_y + line),
        st.small_font().pos(Pos::new(HPos::Left, VPos::Center)),
    ))
    .map_err(err)?;
    if max == 0 {
        bar.draw(&Text::new(
            "No restarts recorded",
            (st.px(12.0), st.px(20.0)),
            st.small_font(),
        ))
        .map_err(err)?;
        return Ok(());
    }
    // Colour bar.
    let x0 = (bw as f64 * 0.45) as i32;
    let x1 = (bw as f64 * 0.9) as i32;
    let y0 = st.px(10.0);
    let y1 = st.px(30.0);
    let steps = 60;
    for k in 0..steps {
        let a = x0 + (x1 - x0) * k / steps;
        let b = x0 + (x1 - x0) * (k + 1) / steps;
        let t = (k as f64 + 0.5) / steps as f64;
        let v = (max as f64 * t * t).ceil() as u64;
        bar.draw(&Rectangle::new(
            [(a, y0), (b, y1)],
            heat_colour(v.max(1), max).filled(),
        ))
        .map_err(err)?;
    }
    let f = st.tick_font();
    bar.draw(&Text::new(
        "1".to_string(),
        (x0, y1 + st.px(4.0)),
        f.pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(err)?;
    bar.draw(&Text::new(
        max.to_string(),
        (x1, y1 + st.px(4.0)),
        f.clone().pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(err)?;
    if max >= 8 {
        let quarter = max / 4;
        let xq = x0 + ((x1 - x0) as f64 * (quarter as f64 / max as f64).sqrt()) as i32;
        bar.draw(&Text::new(
            quarter.to_string(),
            (xq, y1 + st.px(4.0)),
            f.pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(err)?;
    }
    bar.draw(&Text::new(
        "Restarts per cell, square-root scale (grey: none)",
        (x0 - st.px(12.0), (y0 + y1) / 2),
        st.small_font().pos(Pos::new(HPos::Right, VPos::Center)),
    ))
    .map_err(err)?;
    Ok(())
}

/// The bands with the same data (times, quantiles and goal state), each drawn once: indexes
/// into `bands` by group, groups and members in file order. A deployment a sweep does not
/// touch has the same bands in every variant; variants that change nothing for a deployment
/// (a threshold never reached) coincide.
fn band_groups(bands: &[Band]) -> Vec<Vec<usize>> {
    let same = |a: &Band, b: &Band| a.hours == b.hours && a.q == b.q && a.readiness == b.readiness;
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, b) in bands.iter().enumerate() {
        match groups.iter_mut().find(|g| same(&bands[g[0]], b)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// The legend label of a group of identical bands ([`band_groups`]): `full` and `short` are
/// the labels of every band with and without their deployment ([`variant_labels`]). A
/// deployment whose bands are the same in every variant (of several) is named once, "pilot
/// (the same in every variant)"; other identical bands are joined by " = " (`1000, 2 = 1000,
/// 5 · broad`).
fn band_group_label(group: &[usize], bands: &[Band], full: &[String], short: &[String]) -> String {
    let Some(&first) = group.first() else {
        return String::new();
    };
    let dep = &bands[first].deployment;
    let one_dep = group.iter().all(|&i| bands[i].deployment == *dep);
    let mut variants: Vec<&str> = bands.iter().map(|b| b.variant.as_str()).collect();
    variants.sort_unstable();
    variants.dedup();
    let label = if group.len() == 1 {
        full[first].clone()
    } else if one_dep
        && variants.len() > 1
        && group.len() == bands.iter().filter(|b| b.deployment == *dep).count()
    {
        format!("{dep} (the same in every variant)")
    } else if one_dep && full[first] != short[first] {
        let v: Vec<&str> = group.iter().map(|&i| short[i].as_str()).collect();
        format!("{} · {dep}", v.join(" = "))
    } else {
        let v: Vec<&str> = group.iter().map(|&i| full[i].as_str()).collect();
        v.join(" = ")
    };
    goal_name(&label, bands[first].readiness)
}

/// The opacity of the p5–p95 and p25–p75 fills when `n` bands are drawn: lighter past three,
/// so that overlaid fills do not add up to a block hiding the plot (down to a quarter of a
/// band's own at twelve bands).
fn band_alpha(n: usize) -> (f64, f64) {
    let k = (3.0 / n.max(1) as f64).clamp(0.25, 1.0);
    (0.12 * k, 0.25 * k)
}

/// The height of a polyline (`pts`, x never decreasing) at `x`: after a step at `x`, its top;
/// `None` outside it.
fn y_at(pts: &[(f64, f64)], x: f64) -> Option<f64> {
    let (first, last) = (pts.first()?, pts.last()?);
    if x < first.0 || x > last.0 {
        return None;
    }
    let k = pts.partition_point(|p| p.0 <= x);
    if k >= pts.len() {
        return Some(last.1);
    }
    let (p, q) = (pts[k - 1], pts[k]);
    Some(p.1 + (q.1 - p.1) * (x - p.0) / (q.0 - p.0))
}

/// Where each of `lines` (pixel polylines, x never decreasing) is drawn, per `cell` pixels of
/// x: lines that run within `near` pixels of each other through a cell take turns, one cell
/// each in line order, so that a line coinciding with others shows as alternating dashes of
/// their colours instead of being hidden by the last one drawn; a line apart from the others
/// is drawn in every cell it crosses. Also whether any cell was shared.
fn median_turns(lines: &[Vec<(f64, f64)>], cell: f64, near: f64) -> (Vec<Vec<bool>>, bool) {
    let end = lines
        .iter()
        .flat_map(|l| l.last())
        .fold(0.0f64, |a, p| a.max(p.0));
    let cells = (end / cell).floor() as usize + 1;
    let mut own = vec![vec![false; cells]; lines.len()];
    let mut shared = false;
    const SAMPLES: usize = 4;
    for k in 0..cells {
        let ys: Vec<Vec<Option<f64>>> = lines
            .iter()
            .map(|l| {
                (0..=SAMPLES)
                    .map(|s| y_at(l, (k as f64 + s as f64 / SAMPLES as f64) * cell))
                    .collect()
            })
            .collect();
        let close = |i: usize, j: usize| {
            ys[i].iter().zip(&ys[j]).all(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= near,
                (None, None) => true,
                _ => false,
            })
        };
        let present: Vec<usize> = (0..lines.len())
            .filter(|&i| ys[i].iter().any(Option::is_some))
            .collect();
        // Groups of lines close to each other (a chain of close pairs), by their first line.
        let mut group: Vec<usize> = (0..lines.len()).collect();
        for (a, &i) in present.iter().enumerate() {
            for &j in &present[a + 1..] {
                if group[j] != group[i] && close(i, j) {
                    let (from, to) = (group[j].max(group[i]), group[j].min(group[i]));
                    for g in group.iter_mut().filter(|g| **g == from) {
                        *g = to;
                    }
                }
            }
        }
        for &i in &present {
            if group[i] != i {
                continue;
            }
            let members: Vec<usize> = present.iter().copied().filter(|&j| group[j] == i).collect();
            shared |= members.len() > 1;
            own[members[k % members.len()]][k] = true;
        }
    }
    (own, shared)
}

/// The part of a polyline (x never decreasing) with `x0 <= x < x1`, cut where it crosses them;
/// a step (vertical segment) at x belongs to the cell holding x.
fn clip_x(pts: &[(f64, f64)], x0: f64, x1: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut push = |p: (f64, f64)| {
        if out.last() != Some(&p) {
            out.push(p);
        }
    };
    let at =
        |p: (f64, f64), q: (f64, f64), x: f64| (x, p.1 + (q.1 - p.1) * (x - p.0) / (q.0 - p.0));
    for w in pts.windows(2) {
        let (p, q) = (w[0], w[1]);
        if p.0 == q.0 {
            if p.0 >= x0 && p.0 < x1 {
                push(p);
                push(q);
            }
            continue;
        }
        if q.0 <= x0 || p.0 >= x1 {
            continue;
        }
        push(if p.0 < x0 { at(p, q, x0) } else { p });
        push(if q.0 > x1 { at(p, q, x1) } else { q });
    }
    if let [p] = pts
        && p.0 >= x0
        && p.0 < x1
    {
        push(*p);
    }
    out
}

/// The stretches of a line to draw: runs of the cells it owns ([`median_turns`]), each cut
/// from `line`; the last cell reaches the end.
fn owned_stretches(line: &[(f64, f64)], own: &[bool], cell: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < own.len() {
        if !own[k] {
            k += 1;
            continue;
        }
        let start = k;
        while k < own.len() && own[k] {
            k += 1;
        }
        let x1 = if k == own.len() {
            f64::INFINITY
        } else {
            k as f64 * cell
        };
        let piece = clip_x(line, start as f64 * cell, x1);
        if piece.len() > 1 {
            out.push(piece);
        }
    }
    out
}

fn bands<DB: DrawingBackend>(root: &Area<DB>, d: &Inputs, st: &Style) -> Result<(), String> {
    let goal = Goal::of(d.bands.iter().map(|b| b.readiness));
    let area = titled(
        root,
        st,
        &format!("share {} across replications", goal.word()),
    )?;
    let pairs: Vec<(&str, &str)> = d
        .bands
        .iter()
        .map(|b| (b.variant.as_str(), b.deployment.as_str()))
        .collect();
    let (full, key) = variant_labels(&pairs, true);
    let (short, _) = variant_labels(&pairs, false);
    // Identical bands are drawn once: stacked, their translucent fills would add up to an
    // opaque block, and a curve drawn over another would hide it.
    let groups = band_groups(&d.bands);
    let entries: Vec<Entry> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let label = band_group_label(g, &d.bands, &full, &short);
            (label, series_colour(i), Swatch::Band(series_dash(i)))
        })
        .collect();
    // The keys, always shown however many variants there are.
    let keys: Vec<Entry> = vec![
        ("95 % target".into(), INK, Swatch::Target),
        ("line: median".into(), MUTED, Swatch::Line(None)),
        ("bands: p25–p75, p5–p95".into(), MUTED, Swatch::Band(None)),
    ];
    // Medians that run together take turns in short dashes: the chart is drawn once to find
    // them (where the pixels are), then with its legend saying so.
    let x = x_axis_of(st, d);
    let (_, _, shared) = bands_plot(
        &area,
        d,
        st,
        &entries,
        &keys,
        key.as_deref(),
        &x,
        goal,
        true,
    )?;
    let mut keys = keys;
    if shared {
        keys[1].0 = "line: median (coinciding ones alternate)".into();
    }
    bands_plot(
        &area,
        d,
        st,
        &entries,
        &keys,
        key.as_deref(),
        &x,
        goal,
        false,
    )?;
    Ok(())
}

/// The median line of each group of bands up to `xmax` days, in pixels from `base`.
fn median_pixels<DB: DrawingBackend>(
    c: &Cart<'_, DB>,
    d: &Inputs,
    groups: &[Vec<usize>],
    xmax: f64,
    base: (i32, i32),
) -> Vec<Vec<(f64, f64)>> {
    groups
        .iter()
        .map(|g| {
            let b = &d.bands[g[0]];
            let pts = b
                .hours
                .iter()
                .zip(&b.q[2])
                .map(|(h, y)| (h / 24.0, y * 100.0));
            clip(pts.collect(), xmax)
                .into_iter()
                .map(|p| {
                    let (px, py) = c.backend_coord(&p);
                    ((px - base.0) as f64, (py - base.1) as f64)
                })
                .collect()
        })
        .collect()
}

/// The legend and plot of the bands chart: the fills, the target line, then the medians over
/// them all, turn by turn where they coincide ([`median_turns`]). With `dry`, only the layout
/// is worked out, in a throwaway area. Returns the plot area's size, and whether medians
/// coincide anywhere.
#[allow(clippy::too_many_arguments)]
fn bands_plot<DB: DrawingBackend>(
    area: &Area<DB>,
    d: &Inputs,
    st: &Style,
    entries: &[Entry],
    keys: &[Entry],
    header: Option<&str>,
    x: &XAxis,
    goal: Goal,
    dry: bool,
) -> Result<(u32, u32, bool), String> {
    let xmax = x.end;
    let groups = band_groups(&d.bands);
    let cell = st.px(12.0).max(2) as f64;
    let near = st.px(3.0).max(1) as f64;
    if dry {
        // The same layout on a blank canvas: the legend's rows do not change the plot's width.
        let (w, h) = area.dim_in_pixel();
        let mut blank = String::new();
        let shared = {
            let root = SVGBackend::with_string(&mut blank, (w, h)).into_drawing_area();
            let plot = legend_panel(&root, st, header, entries, keys)?;
            let c = days_percent_chart(&plot, st, x, &goal.y_desc())?;
            let inner = c.plotting_area().strip_coord_spec();
            let lines = median_pixels(&c, d, &groups, xmax, inner.get_base_pixel());
            let (w, h) = inner.dim_in_pixel();
            (w, h, median_turns(&lines, cell, near).1)
        };
        return Ok(shared);
    }
    let plot = legend_panel(area, st, header, entries, keys)?;
    let mut c = days_percent_chart(&plot, st, x, &goal.y_desc())?;
    let percent = |v: &[f64]| v.iter().map(|y| y * 100.0).collect::<Vec<f64>>();
    let (outer, inner_alpha) = band_alpha(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let b = &d.bands[g[0]];
        let col = series_colour(i);
        let q: Vec<Vec<f64>> = b.q.iter().map(|v| percent(v)).collect();
        c.draw_series(std::iter::once(Polygon::new(
            band_polygon(&b.hours, &q[4], &q[0], xmax),
            col.mix(outer).filled(),
        )))
        .map_err(err)?;
        c.draw_series(std::iter::once(Polygon::new(
            band_polygon(&b.hours, &q[3], &q[1], xmax),
            col.mix(inner_alpha).filled(),
        )))
        .map_err(err)?;
    }
    target_line(&mut c, st, xmax)?;
    let inner = c.plotting_area().strip_coord_spec();
    let lines = median_pixels(&c, d, &groups, xmax, inner.get_base_pixel());
    let (own, shared) = median_turns(&lines, cell, near);
    for (i, (line, own)) in lines.iter().zip(&own).enumerate() {
        for piece in owned_stretches(line, own, cell) {
            let pts: Vec<(i32, i32)> = piece
                .iter()
                .map(|p| (p.0.round() as i32, p.1.round() as i32))
                .collect();
            pixel_line(
                &inner,
                pts,
                ShapeStyle::from(&series_colour(i)).stroke_width(st.stroke(3.0)),
                series_dash(i).map(|p| st.dash(p)),
            )?;
        }
    }
    let (w, h) = inner.dim_in_pixel();
    Ok((w, h, shared))
}

fn time_to_95<DB: DrawingBackend>(root: &Area<DB>, d: &Inputs, st: &Style) -> Result<(), String> {
    let area = titled(root, st, "days to 95 % compliant per variant")?;
    let n = d.variants.len();
    let days = |h: Option<f64>| h.map(|v| v / 24.0);
    let data_max = d
        .variants
        .iter()
        .flat_map(|v| v.h95.iter().flatten())
        .fold(0.0f64, |a, &b| a.max(b / 24.0));
    let open_ended = d.variants.iter().any(|v| v.h95[2].is_none());
    // A batch's folder has no summary.json: its bands end at the horizon.
    let horizon = d.horizon_hours.or_else(|| {
        d.bands
            .iter()
            .filter_map(|b| b.hours.last().copied())
            .reduce(f64::max)
    });
    let xmax = if open_ended {
        horizon
            .map_or(data_max * 1.15, |h| h / 24.0)
            .max(data_max * 1.05)
    } else {
        data_max * 1.1
    }
    .max(1.0);
    let pairs: Vec<(&str, &str)> = d
        .variants
        .iter()
        .map(|v| (v.variant.as_str(), v.deployment.as_str()))
        .collect();
    let (labels, key) = variant_labels(&pairs, true);
    let entries = vec![
        (
            "median".to_string(),
            SERIES[0],
            Swatch::Marker(Shape::Circle, true),
        ),
        ("p5–p95 of runs".to_string(), SERIES[0], Swatch::Line(None)),
    ];
    let plot = with_legend(&area, st, None, &entries)?;
    // The label column: as wide as the longest label, up to 40 % of the plot's width; the key
    // (the parameters the labels show) is the axis description beside it.
    let (pw, _) = plot.dim_in_pixel();
    let font = st.tick_font();
    let desc_w = if key.is_some() { st.px(34.0) } else { 0 } as f64;
    let longest = labels
        .iter()
        .map(|l| st.measure(&font, l))
        .fold(st.measure(&font, "0000"), f64::max);
    let gap = st.px(10.0) as f64;
    let label_w = (longest + desc_w + 2.0 * gap).min(pw as f64 * 0.4);
    let label_room = label_w - desc_w - 2.0 * gap;
    let mut c = ChartBuilder::on(&plot)
        .margin(st.px(12.0))
        .margin_right(st.px(24.0))
        .x_label_area_size(st.px(64.0))
        .y_label_area_size(label_w as i32)
        .build_cartesian_2d(0f64..xmax, 0f64..n.max(1) as f64)
        .map_err(err)?;
    let mut mesh = c.configure_mesh();
    if let Some(k) = &key {
        mesh.y_desc(k);
    }
    mesh.disable_y_mesh()
        .x_desc("Days from start to 95 % of the audience compliant")
        .x_label_formatter(&tick)
        .y_label_formatter(&|_| String::new())
        .y_labels(n.max(1) + 1)
        .label_style(st.tick_font())
        .axis_desc_style(st.label_font())
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    let (bx, by) = plot.get_base_pixel();
    let stroke = st.stroke(3.0);
    let cap = 0.18;
    for (i, (v, label)) in d.variants.iter().zip(&labels).enumerate() {
        let y = n as f64 - i as f64 - 0.5;
        let col = series_colour(0);
        let lo = days(v.h95[0]);
        let mid = days(v.h95[1]);
        let hi = days(v.h95[2]);
        if let Some(lo) = lo {
            let end = hi.unwrap_or(xmax);
            c.draw_series(std::iter::once(PathElement::new(
                vec![(lo, y), (end, y)],
                ShapeStyle::from(&col).stroke_width(stroke),
            )))
            .map_err(err)?;
            c.draw_series(std::iter::once(PathElement::new(
                vec![(lo, y - cap), (lo, y + cap)],
                ShapeStyle::from(&col).stroke_width(stroke),
            )))
            .map_err(err)?;
            if let Some(hi) = hi {
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(hi, y - cap), (hi, y + cap)],
                    ShapeStyle::from(&col).stroke_width(stroke),
                )))
                .map_err(err)?;
            } else {
                let (px, py) = c.backend_coord(&(xmax, y));
                plot.draw(&Text::new(
                    // Below 95 % at the end: never there, or there and lost (runs.csv
                    // does not tell which), so neither "never" nor "not held".
                    "p95 not by the end →",
                    (px - bx - st.px(4.0), py - by - st.px(6.0)),
                    st.small_font().pos(Pos::new(HPos::Right, VPos::Bottom)),
                ))
                .map_err(err)?;
            }
        }
        match mid {
            Some(m) => {
                c.draw_series(std::iter::once(Circle::new(
                    (m, y),
                    st.px(8.0),
                    ShapeStyle::from(&col).filled(),
                )))
                .map_err(err)?;
            }
            None => {
                // How far the median run got (`share_compliant_p50`; not in files of older
                // versions), so that a sweep where no median run gets there still compares.
                let text = match v.share_end_p50 {
                    Some(share) => format!(
                        "median run: 95 % not by the end ({} at the end)",
                        percent_below(share)
                    ),
                    None => "median run: 95 % not by the end".to_string(),
                };
                let (px, py) = c.backend_coord(&(0.0, y));
                let small = st.small_font();
                let (tx, ty) = (px - bx + st.px(8.0), py - by);
                // Under the row's whisker (and its cap) when it would run into it.
                let whisker = lo.map(|lo| c.backend_coord(&(lo, y - cap)));
                let wide = tx as f64 + st.measure(&small, &text);
                let pos = match whisker {
                    Some((wx, wy)) if wide + st.px(6.0) as f64 > (wx - bx) as f64 => {
                        ((tx, wy - by + st.px(5.0)), VPos::Top)
                    }
                    _ => ((tx, ty), VPos::Center),
                };
                plot.draw(&Text::new(
                    text,
                    pos.0,
                    small.pos(Pos::new(HPos::Left, pos.1)),
                ))
                .map_err(err)?;
            }
        }
        let (px, py) = c.backend_coord(&(0.0, y));
        plot.draw(&Text::new(
            st.fit(&font, label, label_room, elide_middle),
            (px - bx - gap as i32, py - by),
            font.clone().pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// A share (0–1) as a percentage with one decimal, rounded down, so that a share short of a
/// target never reads as the target: 0.9499 is "94.9 %".
fn percent_below(share: f64) -> String {
    format!("{:.1} %", (share * 1000.0 + 1e-9).floor() / 10.0)
}

/// Where the labels of points go (`points`: pixel centre, marker radius and the label's width
/// and height, in priority order): to the first of right-above, right-below, left-above,
/// left-below, right and left of its point that stays inside `bounds` (x0, y0, x1, y1) and
/// overlaps no marker and no label placed before it; `None` (left out) when none is free.
fn place_labels(
    points: &[((f64, f64), f64, f64, f64)],
    bounds: (f64, f64, f64, f64),
    pad: f64,
) -> Vec<Option<(f64, f64)>> {
    type Rect = (f64, f64, f64, f64);
    let overlaps = |a: &Rect, b: &Rect| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
    let mut taken: Vec<Rect> = points
        .iter()
        .map(|&((x, y), r, _, _)| (x - r, y - r, x + r, y + r))
        .collect();
    points
        .iter()
        .map(|&((x, y), r, w, h)| {
            let (right, left) = (x + r + pad, x - r - pad - w);
            let (above, below) = (y - r / 2.0 - h, y + r / 2.0);
            let spots = [
                (right, above),
                (right, below),
                (left, above),
                (left, below),
                (right, y - h / 2.0),
                (left, y - h / 2.0),
            ];
            let free = spots
                .into_iter()
                .map(|(x0, y0)| (x0, y0, x0 + w, y0 + h))
                .find(|b| {
                    b.0 >= bounds.0
                        && b.1 >= bounds.1
                        && b.2 <= bounds.2
                        && b.3 <= bounds.3
                        && !taken.iter().any(|t| overlaps(t, b))
                });
            free.map(|b| {
                taken.push(b);
                (b.0, b.1)
            })
        })
        .collect()
}

/// Per deployment (`pts`: variant, deployment, x, y), its points on the Pareto front in x order,
/// each spot once: `pareto_blast` is computed per deployment, so each has a front of its own.
fn front_lines(
    pts: &[(usize, usize, f64, f64)],
    front: impl Fn(usize) -> bool,
    deployments: usize,
) -> Vec<Vec<(f64, f64)>> {
    (0..deployments)
        .map(|k| {
            let mut line: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.1 == k && front(p.0))
                .map(|p| (p.2, p.3))
                .collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            line.dedup();
            line
        })
        .collect()
}

/// Variants of a Pareto chart drawn on one spot (pixels): one marker per deployment there and
/// one label for them all.
struct Spot {
    at: (i32, i32),
    /// (variant index, deployment) of each variant there, in file order.
    variants: Vec<(usize, usize)>,
}

impl Spot {
    /// The deployments with a variant here, in legend order.
    fn deployments(&self) -> Vec<usize> {
        let mut deps: Vec<usize> = self.variants.iter().map(|&(_, k)| k).collect();
        deps.sort_unstable();
        deps.dedup();
        deps
    }

    /// The spot's label, as the bands name identical bands: its variants joined by " = " by
    /// their labels without the deployment (`short`), whose marker tells it (`2 = 5`); on a
    /// spot of several deployments, each deployment's variants so joined and followed by its
    /// name (`deps`), in legend order: `2 · expedited = 0 = 1 = 2 · regular`.
    fn label(&self, short: &[String], deps: &[&str]) -> String {
        let by_dep: Vec<String> = self
            .deployments()
            .into_iter()
            .map(|k| {
                let v: Vec<&str> = self
                    .variants
                    .iter()
                    .filter(|&&(_, x)| x == k)
                    .map(|&(v, _)| short[v].as_str())
                    .collect();
                v.join(" = ")
            })
            .collect();
        match by_dep.as_slice() {
            [one] => one.clone(),
            _ => {
                let named: Vec<String> = self
                    .deployments()
                    .into_iter()
                    .zip(&by_dep)
                    .map(|(k, v)| match deps.get(k) {
                        // A batch of one variant labels its points by deployment alone.
                        Some(d) if v != d => format!("{v} · {d}"),
                        _ => v.clone(),
                    })
                    .collect();
                named.join(" = ")
            }
        }
    }
}

fn pareto<DB: DrawingBackend>(
    root: &Area<DB>,
    d: &Inputs,
    st: &Style,
    trade: Tradeoff,
) -> Result<(), String> {
    let axis = ParetoX::of(&d.variants, trade).unwrap_or(ParetoX::DaysTo95);
    let by_share = axis == ParetoX::ShareAtEnd;
    let (title, y_desc) = match (trade, by_share) {
        (Tradeoff::Blast, false) => (
            "time to 95 % vs devices hit by issues",
            "Median devices hit by issues",
        ),
        (Tradeoff::Blast, true) => (
            "share compliant at the end vs devices hit by issues",
            "Median devices hit by issues",
        ),
        (Tradeoff::Disruption, false) => (
            "time to 95 % vs restarts in active hours",
            "Median restarts in active hours",
        ),
        (Tradeoff::Disruption, true) => (
            "share compliant at the end vs restarts in active hours",
            "Median restarts in active hours",
        ),
    };
    let area = titled(root, st, title)?;
    // One colour and marker per deployment: fronts are computed per deployment.
    let mut deps: Vec<&str> = Vec::new();
    for v in &d.variants {
        if !deps.contains(&v.deployment.as_str()) {
            deps.push(&v.deployment);
        }
    }
    let dep_of = |v: &Variant| deps.iter().position(|x| *x == v.deployment).unwrap_or(0);
    let pairs: Vec<(&str, &str)> = d
        .variants
        .iter()
        .map(|v| (v.variant.as_str(), v.deployment.as_str()))
        .collect();
    let (labels, key) = variant_labels(&pairs, false);
    let many = deps.len() > 1;
    // (variant index, deployment, x, y)
    let pts: Vec<(usize, usize, f64, f64)> = d
        .variants
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, dep_of(v), axis.x(v)?, v.tradeoff(trade).0?)))
        .collect();
    // By the share at the end, the front is this chart's own: variants.csv's flags rank the
    // time to 95 %, which none reached (they would all tie at "never").
    let share_front: Vec<bool> = (0..d.variants.len())
        .map(|i| {
            let Some(&(_, k, x, y)) = pts.iter().find(|p| p.0 == i) else {
                return false;
            };
            !pts.iter()
                .any(|&(_, k2, x2, y2)| k2 == k && x2 >= x && y2 <= y && (x2 > x || y2 < y))
        })
        .collect();
    let front = |v: usize| match by_share {
        true => share_front[v],
        false => d.variants[v].tradeoff(trade).1,
    };
    let mut entries: Vec<(String, RGBColor, Swatch)> = Vec::new();
    if many {
        // A deployment none of whose variants has a point gets no marker in the legend (the
        // note under the plot names its variants); the others keep their colours.
        for (k, dep) in deps
            .iter()
            .enumerate()
            .filter(|(k, _)| pts.iter().any(|p| p.1 == *k))
        {
            let swatch = Swatch::Marker(SHAPES[k % SHAPES.len()], true);
            entries.push((dep.to_string(), series_colour(k), swatch));
        }
    }
    let key_col = if many { INK } else { series_colour(0) };
    entries.push((
        "Pareto front".into(),
        key_col,
        Swatch::Marker(Shape::Circle, true),
    ));
    entries.push((
        "other variants".into(),
        key_col,
        Swatch::Marker(Shape::Circle, false),
    ));
    let header = key.map(|k| format!("labels: {k}"));
    let plot = with_legend(&area, st, header.as_deref(), &entries)?;
    // The note has room for the variants' names as they are.
    // A variant variants.csv puts on the front although its median run never got to 95 % (the
    // fewest devices hit, at the worst time) is said to be there, as the table says "yes".
    let missing: Vec<String> = d
        .variants
        .iter()
        .filter(|v| axis.x(v).is_none() || v.tradeoff(trade).0.is_none())
        .map(|v| {
            let name = if many {
                format!("{} · {}", v.variant, v.deployment)
            } else {
                v.variant.clone()
            };
            if v.tradeoff(trade).1 && !by_share {
                format!("{name} (on the front)")
            } else {
                name
            }
        })
        .collect();
    let mut notes: Vec<String> = Vec::new();
    if by_share {
        notes.push("No variant's median run reached 95 % by the end: x is the median share compliant at the end, and the front (filled) is drawn on it.".to_string());
    }
    if !missing.is_empty() {
        let why = match by_share {
            true => "no share at the end",
            false => "median run not at 95 % by the end",
        };
        notes.push(format!("Not shown ({why}): {}", missing.join(", ")));
    }
    let font = st.small_font();
    // The note under the plot in as many lines as it needs, up to four (variants.csv names
    // every variant), so that a long list of variants is not cut mid-name.
    let (pw, ph) = plot.dim_in_pixel();
    let room = pw as f64 - st.px(24.0) as f64;
    let mut lines: Vec<String> = notes.iter().flat_map(|n| st.wrap(&font, n, room)).collect();
    const NOTE_LINES: usize = 4;
    if lines.len() > NOTE_LINES {
        lines.truncate(NOTE_LINES);
        if let Some(last) = lines.last_mut() {
            *last = st.fit(
                &font,
                &format!("{last} … (all in variants.csv)"),
                room,
                elide_middle,
            );
        }
    }
    let line_h = font.font.get_size() * 1.3;
    // Shares to 100 %, from a round ten below the lowest, so that variants that all got about
    // as far are told apart; times from 0.
    let (xmin, xmax) = match by_share {
        true => {
            let low = pts.iter().map(|p| p.2).fold(100.0f64, f64::min);
            (((low / 10.0).floor() * 10.0 - 10.0).clamp(0.0, 90.0), 100.0)
        }
        false => (
            0.0,
            (pts.iter().map(|p| p.2).fold(0.0f64, f64::max) * 1.15).max(1.0),
        ),
    };
    let ymax = pts.iter().map(|p| p.3).fold(0.0f64, f64::max) * 1.15;
    // Device counts: whole numbers on the axis when every value is one.
    let whole = pts.iter().all(|p| p.3.fract() == 0.0);
    let ymax = if whole {
        ymax.ceil().max(1.0)
    } else {
        ymax.max(1.0)
    };
    let note_h = if lines.is_empty() {
        0
    } else {
        (lines.len() as f64 * line_h).ceil() as i32 + st.px(14.0)
    };
    let (main, note) = plot.split_vertically(ph.saturating_sub(note_h as u32));
    let mut c = ChartBuilder::on(&main)
        .margin(st.px(12.0))
        .margin_right(st.px(24.0))
        .x_label_area_size(st.px(64.0))
        .y_label_area_size(st.px(84.0))
        .build_cartesian_2d(xmin..xmax, 0f64..ymax)
        .map_err(err)?;
    let y_labels = if whole {
        (ymax as usize + 1).min(11)
    } else {
        10
    };
    c.configure_mesh()
        .x_desc(match by_share {
            true => "Median share compliant at the end (%)",
            false => "Median days to 95 % compliant",
        })
        .y_desc(y_desc)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .y_labels(y_labels)
        .label_style(st.tick_font())
        .axis_desc_style(st.label_font())
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    for (k, line) in front_lines(&pts, front, deps.len()).into_iter().enumerate() {
        if line.len() > 1 {
            chart_line(
                &mut c,
                line,
                ShapeStyle::from(&series_colour(k)).stroke_width(st.stroke(2.0)),
                Some(st.dash((8.0, 6.0))),
            )?;
        }
    }
    let (bx, by) = main.get_base_pixel();
    let at = |x: f64, y: f64| {
        let (px, py) = c.backend_coord(&(x, y));
        (px - bx, py - by)
    };
    let r = st.px(8.0);
    // One marker and one label per place: variants drawn on the same spot (the same medians,
    // or within 2 pixels) share them, whatever their deployment, so that none hides another.
    let mut spots: Vec<Spot> = Vec::new();
    for &(v, k, x, y) in &pts {
        let p = at(x, y);
        let near = |s: &&mut Spot| (s.at.0 - p.0).abs() <= 2 && (s.at.1 - p.1).abs() <= 2;
        match spots.iter_mut().find(near) {
            Some(s) => s.variants.push((v, k)),
            None => spots.push(Spot {
                at: p,
                variants: vec![(v, k)],
            }),
        }
    }
    // Other variants under the front's; a spot of several deployments nests their markers,
    // the first deployment's outermost, each smaller one drawn over it.
    let on_front = |s: &Spot| s.variants.iter().any(|&(v, _)| front(v));
    for pass in [false, true] {
        for s in spots.iter().filter(|s| on_front(s) == pass) {
            let deps = s.deployments();
            for (j, &k) in deps.iter().enumerate() {
                let filled = s.variants.iter().any(|&(v, x)| x == k && front(v));
                let rj = (r * (deps.len() - j) as i32 / deps.len() as i32).max(st.px(3.0));
                let shape = SHAPES[k % SHAPES.len()];
                marker(&main, s.at, shape, rj, series_colour(k), filled, st)?;
            }
        }
    }
    // Front points are labelled first, then left to right.
    spots.sort_by_key(|s| (!on_front(s), s.at.0, s.at.1));
    let (x_range, y_range) = c.plotting_area().get_pixel_range();
    let bounds = (
        (x_range.start - bx) as f64,
        (y_range.start - by) as f64,
        main.dim_in_pixel().0 as f64,
        (y_range.end - by) as f64,
    );
    let max_w = (bounds.2 - bounds.0) * 0.45;
    let h = font.font.get_size();
    let texts: Vec<String> = spots
        .iter()
        .map(|s| st.fit(&font, &s.label(&labels, &deps), max_w, elide_end))
        .collect();
    let boxes: Vec<((f64, f64), f64, f64, f64)> = spots
        .iter()
        .zip(&texts)
        .map(|(s, t)| {
            let c = (s.at.0 as f64, s.at.1 as f64);
            (c, r as f64, st.measure(&font, t), h)
        })
        .collect();
    for (t, spot) in texts
        .iter()
        .zip(place_labels(&boxes, bounds, st.px(4.0) as f64))
    {
        if let Some((x0, y0)) = spot {
            main.draw(&Text::new(
                t.clone(),
                (x0.round() as i32, y0.round() as i32),
                font.clone().pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(err)?;
        }
    }
    for (i, line) in lines.iter().enumerate() {
        note.draw(&Text::new(
            line.clone(),
            (st.px(12.0), st.px(8.0) + (i as f64 * line_h).round() as i32),
            font.clone(),
        ))
        .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TS: &str = "hours,time,deployment,state,devices,share
0,t,a,not_offered,10,1.000000
0,t,a,compliant,0,0.000000
1,t,a,not_offered,5,0.500000
1,t,a,compliant,5,0.500000
";

    fn files(extra: &[(&'static str, &str)]) -> Vec<(&'static str, Vec<u8>)> {
        let mut f = vec![("timeseries.csv", TS.as_bytes().to_vec())];
        for (n, t) in extra {
            f.push((n, t.as_bytes().to_vec()));
        }
        f
    }

    fn small() -> ChartOptions {
        ChartOptions {
            width: 400,
            height: 300,
            ..ChartOptions::default()
        }
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(sanitize("pilot ring/1"), "pilot-ring-1");
        assert_eq!(sanitize("<img>"), "-img-");
        assert_eq!(sanitize(""), "deployment");
        // A series named in a CSV given to `plot` is cut to the longest deployment name.
        assert_eq!(sanitize(&"é".repeat(300)), "-".repeat(200));
        let mut used = Vec::new();
        assert_eq!(unique_name("states-a-b", &mut used), "states-a-b");
        assert_eq!(unique_name("states-a-b", &mut used), "states-a-b-2");
    }

    #[test]
    fn the_formula_guard_is_removed_only_before_formula_characters() {
        assert_eq!(unguard("'=x"), "=x");
        assert_eq!(unguard("'-ring"), "-ring");
        assert_eq!(unguard("'quoted"), "'quoted");
        assert_eq!(unguard("plain"), "plain");
    }

    #[test]
    fn a_timeseries_is_grouped_by_deployment_and_state() {
        let s = parse_timeseries(TS.as_bytes()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].hours, vec![0.0, 1.0]);
        assert_eq!(s[0].share("compliant").unwrap(), &[0.0, 0.5]);
    }

    #[test]
    fn a_timeseries_whose_rows_go_back_in_time_is_refused_at_the_row_not_drawn_as_a_zig_zag() {
        let ts = format!("{TS}0.5,t,a,compliant,2,0.200000\n");
        let Err(e) = parse_timeseries(ts.as_bytes()) else {
            panic!("rows back in time were accepted");
        };
        let e = e.to_string();
        assert!(e.contains("timeseries.csv:6"), "{e}");
        assert!(e.contains("0.5 comes after 1 for deployment `a`"), "{e}");
        // Another deployment's rows may start again from 0.
        let ts = format!("{TS}0,t,b,compliant,0,0.000000\n");
        assert_eq!(parse_timeseries(ts.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn a_state_unknown_today_gets_its_own_layer() {
        let ts = format!("{TS}2,t,a,held,1,0.100000\n");
        let s = parse_timeseries(ts.as_bytes()).unwrap();
        assert_eq!(s[0].share("held").unwrap(), &[0.0, 0.0, 0.1]);
        let ts = format!("{TS}2,t,a,quarantined,1,0.100000\n");
        let s = parse_timeseries(ts.as_bytes()).unwrap();
        assert_eq!(stack_order(&s[0]).len(), 3);
    }

    #[test]
    fn rendering_twice_gives_identical_bytes() {
        let f = files(&[]);
        let a = render_files(&f, &small()).unwrap();
        let b = render_files(&f, &small()).unwrap();
        assert_eq!(a, b);
        let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "compliance.png",
                "compliance.svg",
                "states-a.png",
                "states-a.svg"
            ]
        );
    }

    const RESTARTS: &str = "deployment,weekday,hour,kind,restarts
a,mon,9,forced,2
a,tue,18,auto,3
a,wed,10,user,50
";

    /// `summary.json` with `active_hours` entries `windows` (start, end, devices).
    fn with_active_hours(windows: &[(&str, &str, u64)]) -> String {
        let entries: Vec<String> = windows
            .iter()
            .map(|(s, e, n)| {
                format!(r#"{{"start": "{s}", "end": "{e}", "devices": {n}, "policies": ["p"]}}"#)
            })
            .collect();
        format!(
            r#"{{"scenario": "s", "active_hours": [{}]}}"#,
            entries.join(", ")
        )
    }

    /// The outlines (vermillion polylines) of a restarts chart: one per panel and part of the
    /// active hours, plus the key's.
    fn outlines(svg: &[u8]) -> usize {
        let text = std::str::from_utf8(svg).expect("UTF-8");
        text.matches("<polyline fill=\"none\" opacity=\"1\" stroke=\"#D55E00\"")
            .count()
    }

    #[test]
    fn restarts_by_users_have_a_panel_of_their_own_apart_from_forced_and_automatic_ones() {
        let f = files(&[("restarts.csv", RESTARTS)]);
        let labels = labels_of(&svg_of(&f, "restarts.svg", &ChartOptions::default()));
        for l in [
            "Forced restarts: 2",
            "Automatic restarts: 3",
            "Restarts by users: 50",
            "Forced and automatic restarts inside active hours disrupt users; restarts by users are their own.",
        ] {
            assert!(labels.iter().any(|x| x == l), "{l}: {labels:?}");
        }
        assert!(!labels.iter().any(|x| x.contains("User and automatic")));
        // A kind of restart rollsim does not write is an error, not a disruption.
        let odd = "deployment,weekday,hour,kind,restarts\na,mon,9,other,1\n";
        let e = render_files(&files(&[("restarts.csv", odd)]), &small()).unwrap_err();
        assert!(
            e.to_string().contains("kind must be forced, auto or user"),
            "{e}"
        );
    }

    #[test]
    fn a_restarts_csv_cut_by_segment_draws_the_chart_of_its_sums_as_one_without_segments_does() {
        // RESTARTS is the older file, without a segment column; the newer one cuts its cells
        // by segment (mon 9 h forced: 2 = 1 + 1), or leaves the segment empty.
        let by_segment = "deployment,weekday,hour,kind,restarts,segment
a,mon,9,forced,1,london
a,mon,9,forced,1,paris
a,tue,18,auto,3,paris
a,wed,10,user,50,
";
        let old = svg_of(
            &files(&[("restarts.csv", RESTARTS)]),
            "restarts.svg",
            &small(),
        );
        let new = svg_of(
            &files(&[("restarts.csv", by_segment)]),
            "restarts.svg",
            &small(),
        );
        assert!(labels_of(&old).iter().any(|l| l == "Forced restarts: 2"));
        assert_eq!(old, new);
    }

    #[test]
    fn the_restarts_chart_outlines_the_active_hours_of_the_most_devices_and_names_the_others() {
        let chart = |summary: Option<String>| {
            let mut f = files(&[("restarts.csv", RESTARTS)]);
            if let Some(s) = summary {
                f.push(("summary.json", s.into_bytes()));
            }
            svg_of(&f, "restarts.svg", &ChartOptions::default())
        };
        let one = chart(Some(with_active_hours(&[("08:00", "17:00", 10)])));
        assert!(
            labels_of(&one)
                .iter()
                .any(|l| l == "Active hours 08:00–17:00 (every policy)"),
            "{:?}",
            labels_of(&one)
        );
        assert_eq!(outlines(&one), 3 + 1);
        // Several windows: the most devices' is marked, the others named; one wrapping past
        // midnight is marked in two parts.
        let two = chart(Some(with_active_hours(&[
            ("22:00", "06:00", 7),
            ("08:00", "17:00", 3),
        ])));
        let labels = labels_of(&two);
        assert!(
            labels.iter().any(|l| l
                == "Active hours 22:00–06:00, the policy of 7 of 10 devices (others: 08:00–17:00)"),
            "{labels:?}"
        );
        assert_eq!(outlines(&two), 3 * 2 + 1);
        // A folder of an older version, without active hours: nothing marked.
        assert_eq!(outlines(&chart(Some(r#"{"scenario": "s"}"#.into()))), 0);
        assert_eq!(outlines(&chart(None)), 0);
        // Deterministic, like every chart.
        let again = chart(Some(with_active_hours(&[("08:00", "17:00", 10)])));
        assert_eq!(one, again);
    }

    #[test]
    fn only_the_requested_formats_are_rendered() {
        let opts = ChartOptions {
            formats: vec![Format::Svg],
            ..small()
        };
        let out = render_files(&files(&[]), &opts).unwrap();
        assert!(out.iter().all(|(n, _)| n.ends_with(".svg")));
    }

    #[test]
    fn a_missing_column_is_reported_with_the_file_name() {
        let f = vec![(
            "timeseries.csv",
            b"hours,deployment,state\n0,a,compliant\n".to_vec(),
        )];
        let e = render_files(&f, &small()).unwrap_err().to_string();
        assert!(e.contains("timeseries.csv") && e.contains("share"), "{e}");
    }

    #[test]
    fn user_names_are_escaped_in_svg_text() {
        let ts = TS.replace(",a,", ",<b>&x,");
        let f = vec![("timeseries.csv", ts.into_bytes())];
        let out = render_files(&f, &small()).unwrap();
        let svg = String::from_utf8(out[1].1.clone()).unwrap();
        assert!(svg.contains("&lt;b&gt;&amp;x"));
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn interpolation_is_linear_between_samples_and_flat_outside() {
        let xs = [0.0, 10.0];
        let v = [0.0, 1.0];
        assert_eq!(interpolate(&xs, &v, 5.0), 0.5);
        assert_eq!(interpolate(&xs, &v, -1.0), 0.0);
        assert_eq!(interpolate(&xs, &v, 20.0), 1.0);
    }

    #[test]
    fn state_changes_at_the_same_time_and_state_share_one_label_and_waves_are_kept_apart() {
        let f = files(&[(
            "events.csv",
            "hours,time,deployment,event,state,reason,detail
5,t,a,state_change,paused,r,
0,t,a,state_change,offering,r,
0,t,a,note,offering,r,
0,t,ghost,state_change,offering,r,
24,t,a,wave,,,wave 2: 10 devices offered
",
        )]);
        let d = Inputs::parse(&f).unwrap();
        assert_eq!(d.waves, [(24.0, "a".to_string())]);
        let marks = event_marks(&d);
        let got: Vec<(f64, &str, usize)> = marks
            .iter()
            .map(|m| (m.hours, m.state.as_str(), m.deps.len()))
            .collect();
        assert_eq!(got, [(0.0, "offering", 1), (5.0, "paused", 1)]);
    }

    #[test]
    fn events_with_the_numeric_columns_read_as_the_same_marks_as_events_without_them() {
        let old = "hours,time,deployment,event,state,reason,detail
0,t,a,state_change,offering,r,
0,t,a,wave,,,wave 1: 10 devices offered
24,t,a,wave,,,wave 2: 10 devices offered
30,t,a,rule_fired,,,rollback 1/5 ≥ 5% → pauseDeployment; 2 devices hit by issues so far
30,t,a,state_change,paused,pausedByMonitoring,
";
        let new = "hours,time,deployment,event,state,reason,detail,wave,devices,devices_removed,signals,denominator,threshold,issue_hits
0,t,a,state_change,offering,r,,,,,,,,
0,t,a,wave,,,wave 1: 10 devices offered,1,10,,,,,
24,t,a,wave,,,wave 2: 10 devices offered,2,10,,,,,
30,t,a,rule_fired,,,rollback 1/5 ≥ 5% → pauseDeployment; 2 devices hit by issues so far,,,,1,5,5,2
30,t,a,state_change,paused,pausedByMonitoring,,,,,,,,
";
        let read = |text: &str| {
            let d = Inputs::parse(&files(&[("events.csv", text)])).unwrap();
            let marks: Vec<(f64, String)> = event_marks(&d)
                .into_iter()
                .map(|m| (m.hours, m.state))
                .collect();
            (d.waves, marks)
        };
        assert_eq!(read(new), read(old));
        assert_eq!(read(new).0.len(), 2);
    }

    #[test]
    fn event_labels_take_the_first_free_row_and_give_up_when_rows_run_out() {
        let spans = [(0.0, 30.0), (10.0, 40.0), (20.0, 50.0), (50.0, 80.0)];
        let rows = lane_rows(&spans, 2);
        assert_eq!(rows, [Some(0), Some(1), None, Some(0)]);
    }

    /// Text content of every `<text>` element of an SVG, with its `text-anchor`.
    fn svg_texts(svg: &[u8]) -> Vec<(String, String)> {
        let text = std::str::from_utf8(svg).expect("UTF-8");
        let doc = roxmltree::Document::parse(text).expect("XML");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| {
                let t = n.text()?.trim().to_string();
                Some((t, n.attribute("text-anchor").unwrap_or("").to_string()))
            })
            .collect()
    }

    fn svg_of(files: &[(&'static str, Vec<u8>)], name: &str, opts: &ChartOptions) -> Vec<u8> {
        let opts = ChartOptions {
            formats: vec![Format::Svg],
            ..opts.clone()
        };
        let out = render_files(files, &opts).expect("charts render");
        out.into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not rendered"))
            .1
    }

    fn labels_of(svg: &[u8]) -> Vec<String> {
        svg_texts(svg).into_iter().map(|(t, _)| t).collect()
    }

    /// A timeseries of a deployment `a` that installs and a readiness test `r`, as `rollsim run`
    /// writes them: every state listed for both.
    const TS_READY: &str = "hours,time,deployment,state,devices,share
0,t,a,not_offered,10,1.000000
0,t,a,compliant,0,0.000000
0,t,a,ready,0,0.000000
0,t,r,not_offered,10,1.000000
0,t,r,compliant,0,0.000000
0,t,r,ready,0,0.000000
24,t,a,not_offered,5,0.500000
24,t,a,compliant,5,0.500000
24,t,a,ready,0,0.000000
24,t,r,not_offered,0,0.000000
24,t,r,compliant,0,0.000000
24,t,r,ready,10,1.000000
";

    #[test]
    fn identical_compliance_curves_are_drawn_once_and_named_together_in_the_legend() {
        // "pilot" and "broad" (one update, one audience) report the same share; "late" not.
        let mut ts = String::from("hours,time,deployment,state,devices,share\n");
        for (dep, shares) in [
            ("pilot", [0.0, 0.5, 1.0]),
            ("late", [0.0, 0.0, 0.4]),
            ("broad", [0.0, 0.5, 1.0]),
        ] {
            for (h, y) in shares.iter().enumerate() {
                let n = (y * 10.0) as u32;
                ts.push_str(&format!("{h},t,{dep},compliant,{n},{y}\n"));
                ts.push_str(&format!("{h},t,{dep},offered,{},{}\n", 10 - n, 1.0 - y));
            }
        }
        let ev = "hours,time,deployment,event,state,reason,detail\n0,t,pilot,state_change,offering,r,\n1,t,broad,state_change,offering,r,\n1,t,late,state_change,offering,r,\n";
        let f = vec![
            ("timeseries.csv", ts.into_bytes()),
            ("events.csv", ev.as_bytes().to_vec()),
        ];
        let svg = svg_of(&f, "compliance.svg", &ChartOptions::default());
        let labels = labels_of(&svg);
        assert!(labels.iter().any(|l| l == "pilot = broad"), "{labels:?}");
        assert!(labels.iter().any(|l| l == "late"), "{labels:?}");
        assert!(
            !labels.iter().any(|l| l == "pilot" || l == "broad"),
            "{labels:?}"
        );
        // Two curves, in the first two colours: broad's line, dots and ticks take pilot's
        // colour, so that no colour in the chart is missing from its legend.
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        let text = std::str::from_utf8(&svg).expect("UTF-8");
        assert!(text.contains(&hex(series_colour(0))), "{text}");
        assert!(text.contains(&hex(series_colour(1))), "{text}");
        assert!(!text.contains(&hex(series_colour(2))), "{text}");
        let d = Inputs::parse(&f).unwrap();
        let groups: Vec<Vec<usize>> = curve_groups(&d, 10.0).into_iter().map(|g| g.0).collect();
        assert_eq!(groups, [vec![0, 2], vec![1]]);
        // Curves that differ only past the end of the axis (`--days`) coincide on it.
        let first: Vec<Vec<usize>> = curve_groups(&d, 0.0).into_iter().map(|g| g.0).collect();
        assert_eq!(first, [vec![0, 1, 2]]);
    }

    #[test]
    fn a_readiness_test_is_charted_by_its_ready_devices_and_named_so() {
        let s = parse_timeseries(TS_READY.as_bytes()).unwrap();
        assert_eq!(
            (s[0].readiness, s[0].goal.as_slice()),
            (false, &[0.0, 0.5][..])
        );
        assert_eq!(
            (s[1].readiness, s[1].goal.as_slice()),
            (true, &[0.0, 1.0][..])
        );
        let f = vec![("timeseries.csv", TS_READY.as_bytes().to_vec())];
        let labels = labels_of(&svg_of(&f, "compliance.svg", &small()));
        for l in [
            "a",
            "r (ready)",
            "Devices compliant or ready (% of audience)",
        ] {
            assert!(labels.iter().any(|x| x == l), "{l} missing: {labels:?}");
        }
        // The states legend names the goal state the deployment uses, and only that one.
        let r = labels_of(&svg_of(&f, "states-r.svg", &small()));
        assert!(r.iter().any(|x| x == "ready") && !r.iter().any(|x| x == "compliant"));
        let a = labels_of(&svg_of(&f, "states-a.svg", &small()));
        assert!(a.iter().any(|x| x == "compliant") && !a.iter().any(|x| x == "ready"));
        // Only readiness tests: the chart says ready throughout.
        let only_r = TS_READY
            .lines()
            .filter(|l| !l.contains(",a,"))
            .collect::<Vec<_>>();
        let f = vec![("timeseries.csv", only_r.join("\n").into_bytes())];
        let labels = labels_of(&svg_of(&f, "compliance.svg", &small()));
        assert!(labels.iter().any(|x| x == "Devices ready (% of audience)"));
        assert!(labels.iter().any(|x| x.ends_with("share of devices ready")));
    }

    #[test]
    fn a_batchs_charts_are_titled_with_the_sweeps_name() {
        let csv = "variant,hours,time,deployment,state,p5,p25,p50,p75,p95,mean
a=1,0,t,r,compliant,0,0,0,0,0,0
a=1,1,t,r,compliant,0.8,0.85,0.9,0.92,0.95,0.9
a=2,0,t,r,compliant,0,0,0,0,0,0
a=2,1,t,r,compliant,0.8,0.85,0.9,0.92,0.95,0.9
";
        let sweep = "# sweep: waves\n# base scenario: plan\nbase = \"base/plan.toml\"\n";
        let f = vec![
            ("bands.csv", csv.as_bytes().to_vec()),
            ("scenario.toml", sweep.as_bytes().to_vec()),
        ];
        let labels = labels_of(&svg_of(&f, "bands.svg", &small()));
        assert!(
            labels.iter().any(|x| x.starts_with("waves: ")),
            "{labels:?}"
        );
        // A scenario's copy names nothing: its name comes from summary.json.
        let f = vec![
            ("bands.csv", csv.as_bytes().to_vec()),
            ("scenario.toml", b"[simulation]\nname = \"x\"\n".to_vec()),
        ];
        let labels = labels_of(&svg_of(&f, "bands.svg", &small()));
        assert!(!labels.iter().any(|x| x.starts_with("x: ")), "{labels:?}");
    }

    #[test]
    fn bands_of_a_readiness_test_follow_its_ready_devices() {
        let csv = "variant,hours,time,deployment,state,p5,p25,p50,p75,p95,mean
base,0,t,r,not_offered,1,1,1,1,1,1
base,0,t,r,compliant,0,0,0,0,0,0
base,0,t,r,ready,0,0,0,0,0,0
base,1,t,r,not_offered,0.1,0.1,0.1,0.1,0.1,0.1
base,1,t,r,compliant,0,0,0,0,0,0
base,1,t,r,ready,0.8,0.85,0.9,0.92,0.95,0.9
";
        let b = parse_bands(&Table::parse("bands.csv", csv.as_bytes()).unwrap()).unwrap();
        assert_eq!(b.len(), 1);
        assert!(b[0].readiness);
        assert_eq!(b[0].hours, [0.0, 1.0]);
        assert_eq!(b[0].q[2], [0.0, 0.9]);
        assert_eq!(b[0].q[4], [0.0, 0.95]);
        let f = vec![("bands.csv", csv.as_bytes().to_vec())];
        let labels = labels_of(&svg_of(&f, "bands.svg", &small()));
        // One variant (`run --replications`): the series is the deployment, not rollsim's
        // `base`.
        assert!(labels.iter().any(|x| x == "r (ready)"), "{labels:?}");
        assert!(!labels.iter().any(|x| x.contains("base")), "{labels:?}");
        assert!(labels.iter().any(|x| x == "Devices ready (% of audience)"));
    }

    #[test]
    fn ready_is_stacked_at_the_bottom_with_a_colour_of_its_own() {
        let s = parse_timeseries(TS_READY.as_bytes()).unwrap();
        let order: Vec<&str> = stack_order(&s[1])
            .iter()
            .map(|&(k, _)| s[1].states[k].as_str())
            .collect();
        assert_eq!(order, ["compliant", "ready", "not_offered"]);
        let ready = STATES.iter().find(|(n, _)| *n == "ready").unwrap().1;
        let others = STATES.iter().filter(|(n, _)| *n != "ready").map(|x| x.1);
        assert!(others.chain(OTHER_STATES).all(|c| c != ready));
    }

    /// (variant, deployment) of every run of a shipped sweep, from the sweep file itself.
    fn shipped_sweep(file: &str) -> Vec<(String, String)> {
        let sweep = crate::batch::sweep::Sweep::load(Path::new(file)).expect("shipped sweep");
        sweep
            .variants
            .iter()
            .flat_map(|v| {
                v.scenario
                    .deployments
                    .iter()
                    .map(|d| (v.name.clone(), d.name.clone()))
            })
            .collect()
    }

    #[test]
    fn the_shipped_sweeps_variant_labels_keep_the_values_that_tell_them_apart() {
        let cases = [
            (
                "scenarios/sweeps/rollout-size.toml",
                "devicesPerOffer, threshold",
                vec![
                    "250, 5", "250, 10", "500, 5", "500, 10", "1000, 5", "1000, 10",
                ],
            ),
            (
                "scenarios/sweeps/forced-reboot.toml",
                "daysUntilForcedReboot · deployment",
                vec![
                    "0 · expedited",
                    "0 · regular",
                    "1 · expedited",
                    "1 · regular",
                    "2 · expedited",
                    "2 · regular",
                ],
            ),
        ];
        for (file, key, want) in cases {
            let runs = shipped_sweep(file);
            let pairs: Vec<(&str, &str)> =
                runs.iter().map(|(v, d)| (v.as_str(), d.as_str())).collect();
            let (labels, k) = variant_labels(&pairs, true);
            assert_eq!(labels, want, "{file}");
            assert_eq!(k.as_deref(), Some(key), "{file}");
            // Drawn in full, the key beside them, in the time-to-95 chart and the bands legend.
            let mut csv = String::from(
                "variant,deployment,runs,hours_to_95_p5,hours_to_95_p50,hours_to_95_p95,issue_hits_p50,pareto_blast\n",
            );
            for (i, (v, d)) in runs.iter().enumerate() {
                csv.push_str(&format!(
                    "\"{v}\",{d},5,{},{},{},{i},true\n",
                    30 + i,
                    40 + i,
                    50 + i
                ));
            }
            let f = vec![("variants.csv", csv.into_bytes())];
            let drawn = labels_of(&svg_of(&f, "time-to-95.svg", &ChartOptions::default()));
            for l in want.iter().chain([&key]) {
                assert!(
                    drawn.iter().any(|x| x == l),
                    "{file}: {l} not drawn: {drawn:?}"
                );
            }
        }
    }

    #[test]
    fn named_variants_keep_their_names_and_a_label_cut_for_room_keeps_its_start_and_end() {
        let pairs = [("rings-3-days", "d"), ("all-at-once", "d")];
        let (labels, key) = variant_labels(&pairs, true);
        assert_eq!(
            (labels, key),
            (vec!["rings-3-days".into(), "all-at-once".into()], None)
        );
        // Values with commas of their own are not a parameter list: the names stay whole.
        let pairs = [("rings=[1, 2]", "d"), ("rings=[3, 4]", "d")];
        assert_eq!(variant_labels(&pairs, false).0[0], "rings=[1, 2]");
        assert_eq!(
            elide_middle("threshold=10,devicesPerOffer=1000", 15),
            "thresho…er=1000"
        );
        assert_eq!(elide_middle("short", 15), "short");
        assert_eq!(elide_end("threshold=10", 6), "thres…");
    }

    /// A `variants.csv` of the forced-reboot sweep: the regular deployment's three variants on
    /// one spot, all hits zero; every variant on its disruption front.
    const FORCED: &str = "variant,deployment,runs,hours_to_95_p5,hours_to_95_p50,hours_to_95_p95,issue_hits_p50,pareto_blast,restarts_in_active_hours_p50,pareto_disruption
daysUntilForcedReboot=0,expedited,5,38,38.3753,39.0272,0,true,3733,true
daysUntilForcedReboot=0,regular,5,52,60.835,62.0153,0,true,12,true
daysUntilForcedReboot=1,expedited,5,45,45.6478,46.0461,0,false,428,true
daysUntilForcedReboot=1,regular,5,52,60.835,62.0153,0,true,12,true
daysUntilForcedReboot=2,expedited,5,47,47.2667,48.3956,0,false,77,true
daysUntilForcedReboot=2,regular,5,52,60.835,62.0153,0,true,12,true
";

    #[test]
    fn without_issue_hits_the_sweep_is_charted_against_disruption_not_blast_radius() {
        let f = vec![("variants.csv", FORCED.as_bytes().to_vec())];
        let opts = ChartOptions {
            formats: vec![Format::Svg],
            ..ChartOptions::default()
        };
        let names: Vec<String> = render_files(&f, &opts)
            .expect("charts render")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(!names.iter().any(|n| n == "pareto.svg"), "{names:?}");
        assert!(
            names.iter().any(|n| n == "pareto-disruption.svg"),
            "{names:?}"
        );
        // With a hit somewhere, both trade-offs are drawn.
        let hit = FORCED.replacen(",0,false,428", ",3,false,428", 1);
        let f = vec![("variants.csv", hit.into_bytes())];
        let names: Vec<String> = render_files(&f, &opts)
            .expect("charts render")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(names.iter().any(|n| n == "pareto.svg"), "{names:?}");
        assert!(
            names.iter().any(|n| n == "pareto-disruption.svg"),
            "{names:?}"
        );
        // Nobody disrupted and nobody hit: neither trade-off, time to 95 % alone decides.
        let calm = FORCED
            .lines()
            .map(|l| {
                let mut cells: Vec<&str> = l.split(',').collect();
                if !l.starts_with("variant,") {
                    cells[8] = "0";
                }
                cells.join(",")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let f = vec![("variants.csv", calm.into_bytes())];
        let names: Vec<String> = render_files(&f, &opts)
            .expect("charts render")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(!names.iter().any(|n| n.starts_with("pareto")), "{names:?}");
        assert!(names.iter().any(|n| n == "time-to-95.svg"), "{names:?}");
    }

    #[test]
    fn the_pareto_chart_keeps_deployments_apart_and_counts_in_whole_numbers() {
        let f = vec![("variants.csv", FORCED.as_bytes().to_vec())];
        let texts = svg_texts(&svg_of(
            &f,
            "pareto-disruption.svg",
            &ChartOptions::default(),
        ));
        let has = |l: &str| texts.iter().any(|(t, _)| t == l);
        for l in [
            "expedited",
            "regular",
            "Pareto front",
            "other variants",
            "Median restarts in active hours",
        ] {
            assert!(has(l), "legend lacks {l}: {texts:?}");
        }
        assert!(has("labels: daysUntilForcedReboot"));
        // The regular deployment's three coincident points share one label.
        assert!(has("0 = 1 = 2"), "{texts:?}");
        // The y axis (right-aligned tick labels) shows no fraction of a restart.
        let y_ticks: Vec<&str> = texts
            .iter()
            .filter(|(_, a)| a == "end")
            .map(|(t, _)| t.as_str())
            .collect();
        assert!(!y_ticks.is_empty());
        assert!(
            y_ticks.iter().all(|t| t.parse::<u64>().is_ok()),
            "{y_ticks:?}"
        );
        // One front per deployment, never joining points of two deployments.
        let d = Inputs::parse(&f).unwrap();
        let pts = [
            (0, 0, 1.6, 0.0),
            (1, 1, 2.5, 0.0),
            (3, 1, 2.5, 0.0),
            (5, 1, 2.5, 0.0),
        ];
        let lines = front_lines(&pts, |v| d.variants[v].front, 2);
        assert_eq!(lines, [vec![(1.6, 0.0)], vec![(2.5, 0.0)]]);
    }

    #[test]
    fn a_table_of_some_rows_keeps_their_lines_so_that_a_bad_value_is_told_where_it_is() {
        let csv = "variant,deployment,hours,state,p5,p25,p50,p75,p95\n\
                   a,d,0,not_offered,1,1,1,1,1\n\
                   a,d,0,compliant,0,0,0,0,0\n\
                   a,d,1,not_offered,0,0,0,0,0\n\
                   a,d,1,compliant,0.5,x,0.5,0.5,0.5\n";
        let t = Table::parse_where("bands.csv", csv.as_bytes(), "state", |s| s == "compliant")
            .expect("parses");
        assert_eq!(t.rows.len(), 2);
        assert_eq!((t.line(0), t.line(1)), (3, 5));
        let Err(e) = parse_bands(&t) else {
            panic!("a bad number parsed");
        };
        let e = e.to_string();
        assert!(e.contains("bands.csv:5:"), "{e}");
    }

    #[test]
    fn a_variant_left_out_of_the_pareto_chart_but_on_its_front_is_said_to_be_on_it() {
        // Expedited with a 2-day grace never gets to 95 % in its median run but disrupts
        // least, so variants.csv puts it on the disruption front.
        let csv = FORCED.replace(
            "daysUntilForcedReboot=2,expedited,5,47,47.2667,48.3956,0,false,77,true",
            "daysUntilForcedReboot=2,expedited,5,47,,,0,false,1,true",
        );
        let f = vec![("variants.csv", csv.into_bytes())];
        let svg = svg_of(&f, "pareto-disruption.svg", &ChartOptions::default());
        let texts = labels_of(&svg);
        assert!(
            texts.iter().any(|t| t
                == "Not shown (median run not at 95 % by the end): daysUntilForcedReboot=2 · expedited (on the front)"),
            "{texts:?}"
        );
    }

    /// A safety sweep's `variants.csv` in which no variant's median run reaches 95 %: the
    /// rule pauses `slow` at 60 % with 3 devices hit, `wide` reaches 90 % with 40 hit, and
    /// `careful` stops at 50 % with 5 hit (dominated by `slow`).
    const PAUSED: &str = "variant,deployment,runs,hours_to_95_p5,hours_to_95_p50,hours_to_95_p95,issue_hits_p50,pareto_blast,restarts_in_active_hours_p50,pareto_disruption,share_compliant_p50
slow,d,5,,,,3,true,0,false,0.6
wide,d,5,,,,40,false,0,false,0.9
careful,d,5,,,,5,false,0,false,0.5
";

    #[test]
    fn a_sweep_whose_runs_never_reach_95_percent_draws_its_blast_radius_against_the_share_at_the_end()
     {
        let f = vec![("variants.csv", PAUSED.as_bytes().to_vec())];
        let svg = svg_of(&f, "pareto.svg", &ChartOptions::default());
        let texts = labels_of(&svg);
        let has = |l: &str| texts.iter().any(|t| t == l);
        assert!(has("Median share compliant at the end (%)"), "{texts:?}");
        assert!(!has("Median days to 95 % compliant"), "{texts:?}");
        for v in ["slow", "wide", "careful"] {
            assert!(has(v), "{v} is drawn: {texts:?}");
        }
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("No variant's median run reached 95 %")),
            "{texts:?}"
        );
        // The chart's own front: `slow` and `wide` are undominated, `careful` is not.
        let pts = |csv: &str| {
            let t = Table::parse("variants.csv", csv.as_bytes()).expect("table");
            parse_variants(&t).expect("variants")
        };
        let vs = pts(PAUSED);
        assert_eq!(ParetoX::of(&vs, Tradeoff::Blast), Some(ParetoX::ShareAtEnd));
        assert_eq!(ParetoX::x(ParetoX::ShareAtEnd, &vs[1]), Some(90.0));
        // A file of an older version, without the share, has nothing to draw: no chart.
        let old = PAUSED
            .replace(",share_compliant_p50", "")
            .replace(",0.6\n", "\n")
            .replace(",0.9\n", "\n")
            .replace(",0.5\n", "\n");
        assert_eq!(ParetoX::of(&pts(&old), Tradeoff::Blast), None);
        let out = render_files(
            &[("variants.csv", old.into_bytes())],
            &ChartOptions {
                formats: vec![Format::Svg],
                ..ChartOptions::default()
            },
        )
        .expect("charts render");
        assert!(out.iter().all(|(n, _)| n != "pareto.svg"), "no empty chart");
        assert!(out.iter().any(|(n, _)| n == "time-to-95.svg"));
    }

    #[test]
    fn a_median_run_short_of_95_percent_shows_how_far_it_got_and_old_files_render_as_before() {
        let f = vec![("variants.csv", PAUSED.as_bytes().to_vec())];
        let texts = labels_of(&svg_of(&f, "time-to-95.svg", &ChartOptions::default()));
        for share in ["60.0", "90.0", "50.0"] {
            let row = format!("median run: 95 % not by the end ({share} % at the end)");
            assert!(texts.contains(&row), "{row}: {texts:?}");
        }
        // A file of an older version, without the share: the row says what it said before.
        let old = PAUSED
            .replace(",share_compliant_p50", "")
            .replace(",0.6\n", "\n")
            .replace(",0.9\n", "\n")
            .replace(",0.5\n", "\n");
        let f = vec![("variants.csv", old.into_bytes())];
        let texts = labels_of(&svg_of(&f, "time-to-95.svg", &ChartOptions::default()));
        let rows = texts
            .iter()
            .filter(|t| *t == "median run: 95 % not by the end")
            .count();
        assert_eq!(rows, 3, "{texts:?}");
        // A share just short of the target never reads as the target.
        assert_eq!(percent_below(0.9499), "94.9 %");
        assert_eq!(percent_below(0.926), "92.6 %");
        assert_eq!(percent_below(1.0), "100.0 %");
    }

    #[test]
    fn an_open_whisker_of_a_batch_runs_to_the_end_of_its_bands() {
        // p95 not at 95 % by the end; the bands (so the runs) end at day 10.
        let variants = "variant,deployment,runs,hours_to_95_p5,hours_to_95_p50,hours_to_95_p95,issue_hits_p50,pareto_blast
a,d,5,24,48,
";
        let bands = "variant,hours,time,deployment,state,p5,p25,p50,p75,p95,mean
a,0,t,d,compliant,0,0,0,0,0,0
a,240,t,d,compliant,0.9,0.95,0.96,0.97,0.99,0.96
";
        let f = vec![
            ("variants.csv", variants.as_bytes().to_vec()),
            ("bands.csv", bands.as_bytes().to_vec()),
        ];
        let texts = labels_of(&svg_of(&f, "time-to-95.svg", &ChartOptions::default()));
        assert!(
            texts.iter().any(|t| t == "10"),
            "the axis reaches day 10: {texts:?}"
        );
        assert!(
            texts.iter().any(|t| t == "p95 not by the end →"),
            "{texts:?}"
        );
        // Without bands, the axis ends a little after the last day known.
        let texts = labels_of(&svg_of(&f[..1], "time-to-95.svg", &ChartOptions::default()));
        assert!(!texts.iter().any(|t| t == "10"), "{texts:?}");
    }

    #[test]
    fn a_long_list_of_variants_left_out_of_a_pareto_chart_wraps_instead_of_being_cut() {
        let note = |n: usize| -> Vec<String> {
            let mut csv = FORCED.to_string();
            for i in 0..n {
                csv.push_str(&format!(
                    "a-rather-long-variant-name-{i},regular,5,52,,,0,false,12,false\n"
                ));
            }
            let f = vec![("variants.csv", csv.into_bytes())];
            let svg = svg_of(&f, "pareto-disruption.svg", &ChartOptions::default());
            labels_of(&svg)
                .into_iter()
                .skip_while(|t| !t.starts_with("Not shown"))
                .collect()
        };
        let lines = note(8);
        assert!(lines.len() > 1, "the note takes several lines: {lines:?}");
        let all = lines.join(" ");
        for i in 0..8 {
            assert!(
                all.contains(&format!("a-rather-long-variant-name-{i} · regular")),
                "{i}: {all}"
            );
        }
        // Past four lines the list ends by pointing at the file that has them all.
        let lines = note(40);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[3].ends_with("… (all in variants.csv)"), "{lines:?}");
    }

    #[test]
    fn variants_of_two_deployments_on_one_spot_nest_their_markers_and_share_one_label() {
        // Expedited with a 2-day grace lands where every regular variant is.
        let csv = FORCED.replace(
            "daysUntilForcedReboot=2,expedited,5,47,47.2667,48.3956,0,false,77,true",
            "daysUntilForcedReboot=2,expedited,5,52,60.835,62.0153,0,false,12,true",
        );
        let f = vec![("variants.csv", csv.into_bytes())];
        let svg = svg_of(&f, "pareto-disruption.svg", &ChartOptions::default());
        let texts = svg_texts(&svg);
        let has = |l: &str| texts.iter().any(|(t, _)| t == l);
        // One label for the four, by deployment, as identical bands are named.
        assert!(has("2 · expedited = 0 = 1 = 2 · regular"), "{texts:?}");
        assert!(!has("0 = 1 = 2"), "{texts:?}");
        // A batch of one variant names its points by deployment alone, and so the spot.
        let one = Spot {
            at: (0, 0),
            variants: vec![(1, 1), (0, 0)],
        };
        let names = ["pilot".to_string(), "broad".to_string()];
        assert_eq!(one.label(&names, &["pilot", "broad"]), "pilot = broad");
        // The expedited circle outside (outlined: off its front), the regular square (filled,
        // on its front) smaller, inside it, on the same centre: both show.
        let text = std::str::from_utf8(&svg).expect("UTF-8");
        let doc = roxmltree::Document::parse(text).expect("XML");
        let num = |n: &roxmltree::Node, a: &str| -> f64 {
            n.attribute(a)
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN)
        };
        let circles: Vec<(f64, f64, f64)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .map(|n| (num(&n, "cx"), num(&n, "cy"), num(&n, "r")))
            .collect();
        let squares: Vec<Vec<(f64, f64)>> = doc
            .descendants()
            .filter(|n| n.has_tag_name("polygon"))
            .map(|n| {
                n.attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .filter_map(|p| {
                        let (x, y) = p.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect()
            })
            .filter(|p: &Vec<(f64, f64)>| p.len() == 4)
            .collect();
        let nested = squares.iter().any(|sq| {
            let cx = sq.iter().map(|p| p.0).sum::<f64>() / 4.0;
            let cy = sq.iter().map(|p| p.1).sum::<f64>() / 4.0;
            let half = sq.iter().map(|p| (p.0 - cx).abs()).fold(0.0, f64::max);
            circles
                .iter()
                .any(|&(x, y, r)| (x - cx).abs() < 1.0 && (y - cy).abs() < 1.0 && half < r * 0.75)
        });
        assert!(nested, "circles {circles:?}, squares {squares:?}");
    }

    #[test]
    fn labels_of_crowded_points_never_overlap_each_other_or_a_point() {
        // Twenty points on a tight diagonal, labels 60 × 16 px.
        let points: Vec<_> = (0..20)
            .map(|i| {
                (
                    (100.0 + 7.0 * i as f64, 300.0 - 5.0 * i as f64),
                    8.0,
                    60.0,
                    16.0,
                )
            })
            .collect();
        let bounds = (0.0, 0.0, 600.0, 400.0);
        let placed = place_labels(&points, bounds, 4.0);
        let boxes: Vec<(f64, f64, f64, f64)> = placed
            .iter()
            .zip(&points)
            .filter_map(|(p, pt)| p.map(|(x, y)| (x, y, x + pt.2, y + pt.3)))
            .collect();
        assert!(boxes.len() >= 5, "only {} labels placed", boxes.len());
        let overlap = |a: &(f64, f64, f64, f64), b: &(f64, f64, f64, f64)| {
            a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
        };
        for (i, a) in boxes.iter().enumerate() {
            assert!(a.0 >= 0.0 && a.2 <= 600.0 && a.1 >= 0.0 && a.3 <= 400.0);
            assert!(boxes[i + 1..].iter().all(|b| !overlap(a, b)));
            for ((x, y), r, _, _) in &points {
                assert!(!overlap(a, &(x - r, y - r, x + r, y + r)));
            }
        }
    }

    #[test]
    fn close_changes_to_one_state_share_a_label_and_their_ticks_stay_apart() {
        let m = |h: f64, s: &str, d: usize| Mark {
            hours: h,
            state: s.into(),
            deps: vec![d],
        };
        // Four deployments paused 3 px apart, then offering again far to the right.
        let marks = [
            m(6.0, "paused", 0),
            m(9.0, "paused", 1),
            m(12.0, "paused", 2),
            m(40.0, "offering", 0),
        ];
        let xs = [100.0, 103.0, 106.0, 300.0];
        let g = lane_groups(&marks, &xs, 6.0, 12.0);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].ticks, [(100.0, 0), (106.0, 1), (112.0, 2)]);
        assert_eq!(g[1].ticks, [(300.0, 0)]);
    }

    #[test]
    fn ticks_without_room_for_a_label_never_cross_a_label() {
        ensure_font().unwrap();
        let st = Style::new(&ChartOptions::default(), None);
        // Alternating states every 10 px across 4 deployments: far more labels than 5 rows hold.
        let states = ["paused", "offering"];
        let marks: Vec<Mark> = (0..60)
            .map(|k| Mark {
                hours: k as f64,
                state: states[k % 2].into(),
                deps: vec![k % 4],
            })
            .collect();
        let xs: Vec<f64> = (0..60).map(|k| 10.0 * k as f64).collect();
        let lane = lane_layout(&marks, &xs, 20, &st);
        let font = st.small_font();
        let h = font.font.get_size();
        let label_boxes: Vec<(f64, f64, f64, f64)> = lane
            .labels
            .iter()
            .map(|(x, y, t)| {
                let (x, y) = (*x as f64, *y as f64);
                (x, y - h / 2.0, x + st.measure(&font, t), y + h / 2.0)
            })
            .collect();
        assert!(label_boxes.len() < marks.len(), "the case should overflow");
        assert_eq!(lane.ticks.len(), marks.len(), "every change keeps its tick");
        for &(x, y0, y1, _) in &lane.ticks {
            let (x, y0, y1) = (x as f64, y0 as f64, y1 as f64);
            for b in &label_boxes {
                let crosses = x + 1.5 > b.0 && x - 1.5 < b.2 && y1 > b.1 && y0 < b.3;
                assert!(!crosses, "tick at {x} ({y0}–{y1}) crosses label box {b:?}");
            }
            assert!(y1 as i32 <= lane.height);
        }
        for (i, a) in label_boxes.iter().enumerate() {
            for b in &label_boxes[i + 1..] {
                assert!(
                    !(a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    /// WCAG contrast ratio of `c` on white.
    fn contrast_on_white(c: RGBColor) -> f64 {
        let lin = |v: u8| {
            let v = v as f64 / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2);
        1.05 / (l + 0.05)
    }

    #[test]
    fn series_past_eight_differ_by_pattern_and_the_yellow_stands_out_on_white() {
        let styles: Vec<(RGBColor, Option<(f64, f64)>)> = (0..32)
            .map(|i| (series_colour(i), series_dash(i)))
            .collect();
        for (i, a) in styles.iter().enumerate() {
            assert!(!styles[i + 1..].contains(a), "series {i} repeats");
            assert_ne!(a.1, Some(TARGET_DASH), "series {i} looks like the target");
        }
        let yellow = SERIES[7];
        assert!(
            contrast_on_white(yellow) >= 3.0,
            "{}",
            contrast_on_white(yellow)
        );
        assert!(SERIES.iter().all(|&c| contrast_on_white(c) >= 2.0));
    }

    #[test]
    fn a_long_title_is_shortened_to_the_chart_width() {
        ensure_font().unwrap();
        let title = "a-very-long-scenario-name-for-the-emea-security-rollout-of-january".repeat(2);
        let st = Style::new(&ChartOptions::default(), Some(title.clone()));
        let room = 1200.0 - 24.0;
        let what = "device states of ring 1";
        let c = st.caption(what, room);
        assert!(st.measure(&st.title_font(), &c) <= room);
        assert!(
            c.starts_with("a-very-long") && c.ends_with(&format!("…: {what}")),
            "{c}"
        );
        // A caption that fits is left alone; one whose own part is too long loses its middle.
        let short = Style::new(&ChartOptions::default(), Some("fleet".into()));
        assert_eq!(short.caption(what, room), format!("fleet: {what}"));
        let huge = "w".repeat(300);
        let c = short.caption(&huge, room);
        assert!(st.measure(&st.title_font(), &c) <= room && c.contains('…'));
    }

    #[test]
    fn a_chart_smaller_than_its_layout_is_drawn_whole_and_scaled_down() {
        let tiny = ChartOptions {
            width: 200,
            height: 150,
            ..ChartOptions::default()
        };
        let out = render_files(&files(&[]), &tiny).unwrap();
        let png = &out.iter().find(|(n, _)| n == "compliance.png").unwrap().1;
        let mut reader = png::Decoder::new(png.as_slice()).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (200, 150));
        // The SVG is the 480 × 360 drawing, shown at 200 × 150.
        let svg = String::from_utf8(out[1].1.clone()).unwrap();
        assert!(svg.starts_with("<svg width=\"200\" height=\"150\" viewBox=\"0 0 480 360\""));
        let big = ChartOptions {
            width: 480,
            height: 360,
            ..ChartOptions::default()
        };
        let same =
            String::from_utf8(render_files(&files(&[]), &big).unwrap()[1].1.clone()).unwrap();
        let body = |s: &str| s[s.find('>').unwrap()..].to_string();
        assert_eq!(body(&svg), body(&same));
    }

    /// `bands.csv` of a sweep over `n` values of `t` with deployments `pilot` (untouched: the
    /// same bands in every variant) and `broad` (`t=1` and `t=2` the same, the others apart).
    fn sweep_bands(n: usize) -> String {
        let mut csv = String::from("variant,hours,time,deployment,state,p5,p25,p50,p75,p95,mean\n");
        for k in 1..=n {
            let broad = if k <= 2 { 0.5 } else { 0.5 + k as f64 / 100.0 };
            for (h, pilot, broad) in [(0, 0.0, 0.0), (24, 0.9, broad), (48, 0.9, broad)] {
                for (dep, y) in [("pilot", pilot), ("broad", broad)] {
                    csv.push_str(&format!(
                        "t={k},{h},x,{dep},compliant,{y},{y},{y},{y},{y},{y}\n"
                    ));
                }
            }
        }
        csv
    }

    #[test]
    fn identical_bands_are_grouped_to_be_drawn_once() {
        let csv = sweep_bands(4);
        let b = parse_bands(&Table::parse("bands.csv", csv.as_bytes()).unwrap()).unwrap();
        // File order: t=1 pilot, t=1 broad, t=2 pilot, t=2 broad, …
        assert_eq!(
            band_groups(&b),
            [vec![0, 2, 4, 6], vec![1, 3], vec![5], vec![7]]
        );
        let pairs: Vec<(&str, &str)> = b
            .iter()
            .map(|b| (b.variant.as_str(), b.deployment.as_str()))
            .collect();
        let (full, _) = variant_labels(&pairs, true);
        let (short, _) = variant_labels(&pairs, false);
        let labels: Vec<String> = band_groups(&b)
            .iter()
            .map(|g| band_group_label(g, &b, &full, &short))
            .collect();
        assert_eq!(
            labels,
            [
                "pilot (the same in every variant)",
                "1 = 2 · broad",
                "3 · broad",
                "4 · broad"
            ]
        );
        // Bands that differ anywhere, even in one quantile, are apart.
        let mut b2 = parse_bands(&Table::parse("bands.csv", csv.as_bytes()).unwrap()).unwrap();
        b2[2].q[4][1] += 0.01;
        assert_eq!(band_groups(&b2)[0], [0, 4, 6]);
    }

    #[test]
    fn a_single_variants_bands_are_never_called_the_same_in_every_variant() {
        let csv = "variant,hours,time,deployment,state,p5,p25,p50,p75,p95,mean
base,0,t,a,compliant,0,0,0,0,0,0
base,1,t,a,compliant,0.5,0.5,0.5,0.5,0.5,0.5
base,0,t,b,compliant,0,0,0,0,0,0
base,1,t,b,compliant,0.5,0.5,0.5,0.5,0.5,0.5
";
        let b = parse_bands(&Table::parse("bands.csv", csv.as_bytes()).unwrap()).unwrap();
        let pairs: Vec<(&str, &str)> = b
            .iter()
            .map(|b| (b.variant.as_str(), b.deployment.as_str()))
            .collect();
        let (full, _) = variant_labels(&pairs, true);
        let (short, _) = variant_labels(&pairs, false);
        assert_eq!(band_groups(&b), [vec![0, 1]]);
        assert_eq!(band_group_label(&[0, 1], &b, &full, &short), "a = b");
    }

    #[test]
    fn the_bands_legend_names_each_drawn_series_once_and_always_shows_the_band_key() {
        // 30 variants: more than the legend has room for.
        let f = vec![("bands.csv", sweep_bands(30).into_bytes())];
        for opts in [small(), ChartOptions::default()] {
            let labels = labels_of(&svg_of(&f, "bands.svg", &opts));
            let count = |l: &str| labels.iter().filter(|x| *x == l).count();
            assert_eq!(count("pilot (the same in every variant)"), 1, "{labels:?}");
            assert_eq!(count("1 = 2 · broad"), 1, "{labels:?}");
            for key in ["95 % target", "bands: p25–p75, p5–p95"] {
                assert_eq!(count(key), 1, "{key}: {labels:?}");
            }
            // Its broad medians a pixel or so apart take turns, and the key says so.
            let median = labels.iter().filter(|l| l.starts_with("line: median"));
            assert_eq!(median.count(), 1, "{labels:?}");
            assert!(
                labels
                    .iter()
                    .any(|l| l.starts_with("… ") && l.ends_with(" more")),
                "{labels:?}"
            );
        }
    }

    #[test]
    fn legend_rows_close_up_before_entries_are_left_out_and_keys_always_stay() {
        let keys = [1.0; 3];
        // Everything fits at full height.
        assert_eq!(legend_rows(&[1.0; 10], &keys, 600, 30, 24), (10, 30));
        // 25 rows in 600 px: closer rows, nothing left out.
        assert_eq!(legend_rows(&[1.0; 22], &keys, 600, 30, 24), (22, 24));
        // 40 rows: at the closest, 25 rows fit: 3 keys, "… N more", 21 entries.
        assert_eq!(legend_rows(&[1.0; 37], &keys, 600, 30, 24), (21, 24));
        // No room at all: no entries.
        assert_eq!(legend_rows(&[1.0; 5], &keys, 30, 30, 24), (0, 24));
        assert_eq!(legend_rows(&[], &[], 0, 30, 24), (0, 30));
        // An entry wrapped over two lines takes 1.75 rows: 20 + 1.75 + 3 rows fit in 750 px.
        let mut wrapped = vec![1.0; 20];
        wrapped.insert(0, legend_height(2));
        assert_eq!(legend_rows(&wrapped, &keys, 750, 30, 24), (21, 30));
        // In 600 px, rows close up to 24 px: all 24.75 rows fit.
        assert_eq!(legend_rows(&wrapped, &keys, 600, 30, 24), (21, 24));
        // In 500 px, 20.8 rows: the keys, "… N more", the wrapped entry and 15 more.
        assert_eq!(legend_rows(&wrapped, &keys, 500, 30, 24), (16, 24));
    }

    #[test]
    fn a_legend_label_of_identical_series_wraps_between_names_and_counts_those_past_its_lines() {
        let st = Style::new(&ChartOptions::default(), None);
        let font = st.small_font();
        let label = "diverse-offered = random-offered = no-rule · pilot-24h2";
        let room = st.measure(&font, "diverse-offered = random-offered");
        assert_eq!(
            st.wrap_label(&font, label, room, 5),
            ["diverse-offered = random-offered", "= no-rule · pilot-24h2"]
        );
        // Too narrow for two names on a line: one a line, a name's own spaces last.
        let room = st.measure(&font, "= random-offered");
        assert_eq!(
            st.wrap_label(&font, label, room, 5),
            [
                "diverse-offered",
                "= random-offered",
                "= no-rule ·",
                "pilot-24h2"
            ]
        );
        // Past the last line, the names left out are counted, whole.
        assert_eq!(
            st.wrap_label(&font, label, room, 3),
            ["diverse-offered", "= random-offered", "= 1 more"]
        );
        let many: Vec<String> = (1..=9).map(|k| format!("variant-{k}")).collect();
        let lines = st.wrap_label(&font, &many.join(" = "), room, 4);
        assert_eq!(
            lines,
            ["variant-1", "= variant-2", "= variant-3", "= 6 more"]
        );
        // A label that fits stays one line.
        assert_eq!(st.wrap_label(&font, "a = b", 1000.0, 5), ["a = b"]);
    }

    #[test]
    fn the_bands_legend_never_cuts_the_name_of_a_variant_in_a_merged_entry() {
        // Three variants with long names whose pilot bands are the same (the fourth differs,
        // so they are not "the same in every variant"), and their broad bands apart.
        let names = [
            "diverse-offered-and-a-long-name",
            "random-offered-and-a-long-name",
            "no-rule-and-a-long-name",
            "diverse-installed",
        ];
        let mut csv = String::from("variant,hours,time,deployment,state,p5,p25,p50,p75,p95,mean\n");
        for (k, v) in names.iter().enumerate() {
            let pilot = if k == 3 { 0.8 } else { 0.9 };
            let broad = 0.5 + k as f64 / 10.0;
            for h in [0, 24, 48] {
                let f = if h == 0 { 0.0 } else { 1.0 };
                for (dep, y) in [("pilot", pilot * f), ("broad", broad * f)] {
                    csv.push_str(&format!(
                        "{v},{h},t,{dep},compliant,{y},{y},{y},{y},{y},{y}\n"
                    ));
                }
            }
        }
        let f = vec![("bands.csv", csv.into_bytes())];
        for opts in [small(), ChartOptions::default()] {
            let labels = labels_of(&svg_of(&f, "bands.svg", &opts));
            let legend = labels.join(" ");
            assert!(!legend.contains('…'), "{labels:?}");
            for v in &names[..3] {
                assert!(legend.contains(v), "{v}: {labels:?}");
            }
            assert!(
                labels.iter().filter(|l| l.starts_with("= ")).count() >= 1,
                "the merged entry wraps: {labels:?}"
            );
        }
    }

    #[test]
    fn band_fills_lighten_past_three_bands() {
        assert_eq!(band_alpha(1), (0.12, 0.25));
        assert_eq!(band_alpha(3), (0.12, 0.25));
        assert_eq!(band_alpha(6), (0.06, 0.125));
        assert_eq!(band_alpha(12), (0.03, 0.0625));
        assert_eq!(band_alpha(300), (0.03, 0.0625));
    }

    #[test]
    fn medians_that_coincide_take_turns_and_a_median_apart_is_drawn_whole() {
        let flat = |y: f64| vec![(0.0, y), (100.0, y)];
        // 0 and 1 are a pixel apart, 2 is far away; 10 cells of 10 px.
        let lines = [flat(50.0), flat(51.0), flat(10.0)];
        let (own, shared) = median_turns(&lines, 10.0, 3.0);
        assert!(shared);
        assert!(own[2].iter().all(|&o| o), "{own:?}");
        for k in 0..own[0].len() {
            assert!(
                own[0][k] != own[1][k],
                "cell {k}: one of them, in turn: {own:?}"
            );
        }
        assert!(own[0][0] && own[1][1] && own[0][2]);
        // Lines that meet only for a while share those cells alone.
        let rise = vec![(0.0, 50.0), (50.0, 50.0), (50.0, 90.0), (100.0, 90.0)];
        let (own, _) = median_turns(&[flat(50.0), rise], 10.0, 3.0);
        // (the step at x = 50 is in the cell from 40 to 50, whose right edge sees its top).
        assert!(
            own[0][4..].iter().all(|&o| o) && own[1][4..].iter().all(|&o| o),
            "{own:?}"
        );
        assert!(
            own[0][..4].iter().zip(&own[1][..4]).all(|(a, b)| a != b),
            "{own:?}"
        );
        // Apart everywhere: nothing shared.
        let (own, shared) = median_turns(&[flat(10.0), flat(90.0)], 10.0, 3.0);
        assert!(!shared && own.iter().flatten().all(|&o| o));
    }

    #[test]
    fn a_line_is_cut_to_a_stretch_of_x_with_its_steps_in_the_cell_that_holds_them() {
        let step = [(0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (20.0, 5.0)];
        assert_eq!(clip_x(&step, 0.0, 10.0), [(0.0, 0.0), (10.0, 0.0)]);
        assert_eq!(
            clip_x(&step, 10.0, 15.0),
            [(10.0, 0.0), (10.0, 5.0), (15.0, 5.0)]
        );
        let slope = [(0.0, 0.0), (10.0, 10.0)];
        assert_eq!(clip_x(&slope, 2.0, 4.0), [(2.0, 2.0), (4.0, 4.0)]);
        assert_eq!(
            owned_stretches(&slope, &[true, false, true], 4.0),
            [vec![(0.0, 0.0), (4.0, 4.0)], vec![(8.0, 8.0), (10.0, 10.0)]]
        );
    }

    #[test]
    fn the_bands_legend_says_when_medians_that_coincide_alternate() {
        // Two variants a pixel apart (not identical, so not merged).
        let mut csv = String::from("variant,hours,time,deployment,state,p5,p25,p50,p75,p95,mean\n");
        for (v, y) in [("a", 0.5), ("b", 0.501)] {
            for h in [0, 24, 48] {
                let y = if h == 0 { 0.0 } else { y };
                csv.push_str(&format!("{v},{h},t,d,compliant,{y},{y},{y},{y},{y},{y}\n"));
            }
        }
        let f = vec![("bands.csv", csv.into_bytes())];
        let svg = svg_of(&f, "bands.svg", &ChartOptions::default());
        let labels = labels_of(&svg);
        assert!(
            labels
                .iter()
                .any(|l| l.starts_with("line: median (coinciding")),
            "{labels:?}"
        );
        // Both colours are drawn as lines, neither hidden under the other.
        let hex = |c: RGBColor| format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        let text = std::str::from_utf8(&svg).expect("UTF-8");
        for i in 0..2 {
            let lines = text
                .lines()
                .filter(|l| l.contains("<polyline") && l.contains(&hex(series_colour(i))))
                .count();
            assert!(lines > 3, "series {i} drawn in turns: {lines}");
        }
        // Apart: the key says only what the line is.
        let apart = String::from_utf8(f[0].1.clone())
            .unwrap()
            .replace("0.501", "0.9");
        let labels = labels_of(&svg_of(
            &[("bands.csv", apart.into_bytes())],
            "bands.svg",
            &small(),
        ));
        assert!(labels.iter().any(|l| l == "line: median"), "{labels:?}");
    }

    #[test]
    fn a_curve_settles_at_its_last_change() {
        let h = [0.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(settled_at(&h, &[0.0, 0.5, 0.9, 0.9, 0.9]), Some(2.0));
        assert_eq!(settled_at(&h, &[0.0, 0.5, 0.9, 0.9, 1.0]), Some(4.0));
        // A dip and back counts: it is a change.
        assert_eq!(settled_at(&h, &[0.0, 0.9, 0.8, 0.9, 0.9]), Some(3.0));
        assert_eq!(settled_at(&h, &[0.3; 5]), Some(0.0));
        assert_eq!(settled_at(&[], &[]), None);
    }

    #[test]
    fn the_automatic_x_axis_ends_a_little_after_the_last_change() {
        // Last change at day 6.6 of 21: + 10 % = 7.26, a whole day up: 8.
        assert_eq!(auto_end(Some(6.6 * 24.0), 21.0), Some(8.0));
        // Never less than a day; up to 2 days in quarters of a day.
        assert_eq!(auto_end(Some(3.0), 21.0), Some(1.0));
        assert_eq!(auto_end(Some(1.5 * 24.0), 21.0), Some(1.75));
        // Nothing changes, or the cut would save less than a fifth: the whole axis.
        assert_eq!(auto_end(None, 21.0), None);
        assert_eq!(auto_end(Some(16.0 * 24.0), 21.0), None);
        assert_eq!(auto_end(Some(14.0 * 24.0), 21.0), Some(16.0));
    }

    /// A run of `days` days whose deployment `a` is at 90 % from hour 24 on, with a state
    /// change at `event` hours.
    fn flat_after_a_day(days: u32, event: f64) -> Vec<(&'static str, Vec<u8>)> {
        let mut ts = String::from("hours,time,deployment,state,devices,share\n");
        for h in (0..=days * 24).step_by(12) {
            let y = if h == 0 {
                0.0
            } else if h < 24 {
                0.5
            } else {
                0.9
            };
            ts.push_str(&format!("{h},t,a,compliant,0,{y}\n"));
            ts.push_str(&format!("{h},t,a,offered,0,{}\n", 1.0 - y));
        }
        let events = format!(
            "hours,time,deployment,event,state\n0,t,a,state_change,offering\n{event},t,a,state_change,paused\n"
        );
        let summary = format!("{{\"scenario\":\"s\",\"horizon_hours\":{}}}", days * 24);
        vec![
            ("timeseries.csv", ts.into_bytes()),
            ("events.csv", events.into_bytes()),
            ("summary.json", summary.into_bytes()),
        ]
    }

    #[test]
    fn the_x_axis_is_cut_automatically_by_days_or_not_at_all_as_asked() {
        let f = flat_after_a_day(21, 0.0);
        let d = Inputs::parse(&f).unwrap();
        assert_eq!(d.x_max_days(), 21.0);
        let auto = x_axis(&d, Days::Auto);
        assert_eq!(auto.end, 1.25);
        assert_eq!(
            auto.desc,
            "Days since start (first 1.25 of 21; flat after day 1.0)"
        );
        assert_eq!(x_axis(&d, Days::All).end, 21.0);
        assert_eq!(x_axis(&d, Days::All).desc, "Days since start");
        let five = x_axis(&d, Days::First(5.0));
        assert_eq!(
            (five.end, five.desc.as_str()),
            (5.0, "Days since start (first 5 of 21)")
        );
        // More days than the horizon: the horizon.
        assert_eq!(x_axis(&d, Days::First(30.0)).end, 21.0);
        // A state change later than every curve's last change keeps the axis going.
        let d = Inputs::parse(&flat_after_a_day(21, 240.0)).unwrap();
        assert_eq!(x_axis(&d, Days::Auto).end, 11.0);
        // The charts say so under their x axis.
        for chart in ["compliance.svg", "states-a.svg"] {
            let labels = labels_of(&svg_of(&f, chart, &small()));
            assert!(
                labels
                    .iter()
                    .any(|l| l.starts_with("Days since start (first 1.25 of 21")),
                "{chart}: {labels:?}"
            );
        }
    }

    #[test]
    fn a_line_is_clipped_where_it_crosses_the_end_of_the_axis() {
        let pts = vec![(0.0, 0.0), (1.0, 10.0), (3.0, 30.0), (4.0, 40.0)];
        assert_eq!(
            clip(pts.clone(), 2.0),
            [(0.0, 0.0), (1.0, 10.0), (2.0, 20.0)]
        );
        assert_eq!(
            clip(pts.clone(), 3.0),
            [(0.0, 0.0), (1.0, 10.0), (3.0, 30.0)]
        );
        assert_eq!(clip(pts.clone(), 9.0), pts);
        let poly = band_polygon(&[0.0, 48.0], &[10.0, 30.0], &[0.0, 20.0], 1.0);
        assert_eq!(poly, [(0.0, 10.0), (1.0, 20.0), (1.0, 10.0), (0.0, 0.0)]);
    }

    #[test]
    fn days_are_a_positive_number_auto_or_all() {
        assert_eq!("auto".parse::<Days>(), Ok(Days::Auto));
        assert_eq!("all".parse::<Days>(), Ok(Days::All));
        assert_eq!("2.5".parse::<Days>(), Ok(Days::First(2.5)));
        for bad in ["0", "-1", "NaN", "inf", "P5D", "", "5 days"] {
            let e = bad.parse::<Days>().unwrap_err();
            assert!(e.contains("number of days above 0"), "{bad}: {e}");
        }
    }
}
