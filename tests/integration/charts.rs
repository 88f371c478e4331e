//! Charts and report.html: produced by every run, re-rendered identically by `rollsim plot`,
//! valid PNG/SVG, and safe against hostile names.

use std::path::{Path, PathBuf};

use crate::common::*;

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("PNG header decodes");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG image decodes");
    (info.width, info.height)
}

fn svg_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("svg is UTF-8");
    roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    text
}

/// Text content of every `<text>` element of an SVG.
fn svg_labels(path: &Path) -> Vec<String> {
    let text = svg_text(path);
    let doc = roxmltree::Document::parse(&text).expect("xml");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect()
}

fn chart_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "png" || x == "svg" || x == "html")
        })
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

fn shipped() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

fn copy_fixture(name: &str, to: &Path) -> PathBuf {
    let from = Path::new("tests/fixtures").join(name);
    let dir = to.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    for e in std::fs::read_dir(&from).expect("fixture") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
    }
    dir
}

#[test]
fn charts_are_produced_for_every_shipped_scenario_with_the_expected_size_and_series_names() {
    let scenarios = shipped();
    assert!(!scenarios.is_empty());
    for sc in scenarios {
        // Run in place: scenarios may refer to files next to them (Graph JSON bodies).
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        rollsim()
            .arg("run")
            .arg(&sc)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .assert()
            .success();
        let s = summary(&out);
        let names: Vec<String> = s["deployments"]
            .as_array()
            .expect("deployments")
            .iter()
            .map(|d| d["name"].as_str().expect("name").to_string())
            .collect();
        let mut stems = vec!["compliance".to_string(), "restarts".to_string()];
        stems.extend(names.iter().map(|n| {
            let safe: String = n
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            format!("states-{safe}")
        }));
        for stem in &stems {
            let png = std::fs::read(out.join(format!("{stem}.png")))
                .unwrap_or_else(|_| panic!("{}: {stem}.png missing", sc.display()));
            assert_eq!(png_size(&png), (1200, 700), "{stem}.png");
            svg_text(&out.join(format!("{stem}.svg")));
        }
        let labels = svg_labels(&out.join("compliance.svg"));
        for n in &names {
            assert!(
                labels.contains(n),
                "compliance.svg lacks series {n}: {labels:?}"
            );
        }
        assert!(labels.iter().any(|l| l == "95 % target"));
        assert!(labels.iter().any(|l| l.starts_with("Days since start")));
        let states = svg_labels(&out.join(format!("{}.svg", stems[2])));
        for st in ["compliant", "pending restart", "not offered"] {
            assert!(states.iter().any(|l| l == st), "states chart lacks {st}");
        }
        let restarts = svg_labels(&out.join("restarts.svg"));
        assert!(restarts.iter().any(|l| l.starts_with("Forced restarts")));
        assert!(restarts.iter().any(|l| l.starts_with("Restarts by users")));
        assert!(restarts.iter().any(|l| l.starts_with("Active hours ")));
        assert!(restarts.iter().any(|l| l == "Mon"));
        let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
        assert!(html.contains("<h2>Summary per deployment</h2>"));
        // Every column of summary.csv is named in the report's summary, a row each: nothing
        // hides past a sideways scroll.
        let columns = std::fs::read_to_string(out.join("summary.csv")).expect("summary.csv");
        for c in columns.lines().next().expect("header").split(',').skip(1) {
            assert!(
                html.contains(&format!("<td class=\"csv\">{c}</td>")),
                "{}: {c}",
                sc.display()
            );
        }
        assert!(!html.contains("class=\"scroll\""));
        // The scenario is copied into the folder and shown, with its description.
        assert_eq!(
            std::fs::read(out.join("scenario.toml")).expect("scenario copy"),
            std::fs::read(&sc).expect("scenario")
        );
        assert!(html.contains("<h2>Parameters</h2>\n<p>The scenario file"));
        if let Some(desc) = std::fs::read_to_string(&sc)
            .expect("scenario")
            .lines()
            .find_map(|l| l.strip_prefix("description = \""))
        {
            let first_words: String = desc.chars().take(20).collect();
            assert!(
                html.contains(&first_words),
                "description missing: {first_words}"
            );
        }
        assert_eq!(html.matches("<svg").count(), stems.len());
    }
}

#[test]
fn rollsim_plot_on_a_finished_run_regenerates_byte_identical_charts_and_report() {
    let case = Case::new(
        &std::fs::read_to_string("scenarios/quality-update-office-fleet.toml")
            .expect("shipped scenario"),
    );
    let out = case.run("out", &[]);
    let before = chart_files(&out);
    assert!(
        before.len() >= 7,
        "{:?}",
        before.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (name, _) in &before {
        std::fs::remove_file(out.join(name)).expect("remove");
    }
    rollsim().arg("plot").arg(&out).assert().success();
    let after = chart_files(&out);
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a.0, b.0);
        assert!(a.1 == b.1, "{} differs after rollsim plot", a.0);
    }
    // No temporary files are left behind.
    let hidden = std::fs::read_dir(&out)
        .expect("folder")
        .filter(|e| {
            e.as_ref()
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(hidden, 0);
}

#[test]
fn rollsim_plot_draws_an_older_restarts_csv_without_a_segment_column_as_it_draws_the_newer_one() {
    let case = Case::new(
        &std::fs::read_to_string("scenarios/autopatch-rings.toml").expect("shipped scenario"),
    );
    let out = case.run("out", &[]);
    let newer = std::fs::read_to_string(out.join("restarts.csv")).expect("restarts.csv");
    assert!(
        newer.starts_with("deployment,weekday,hour,kind,restarts,segment\n"),
        "{newer}"
    );
    let chart = std::fs::read(out.join("restarts.svg")).expect("restarts.svg");
    // The file as versions before the segment column wrote it: one row per deployment and
    // cell, the segments' rows summed, in the same order.
    let mut cells: Vec<(String, u64)> = Vec::new();
    for line in newer.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 6, "{line}");
        let key = fields[..4].join(",");
        let n: u64 = fields[4].parse().expect("a count");
        match cells.iter_mut().find(|c| c.0 == key) {
            Some(c) => c.1 += n,
            None => cells.push((key, n)),
        }
    }
    assert!(
        cells.len() < newer.lines().count() - 1,
        "some cells span segments"
    );
    let mut older = String::from("deployment,weekday,hour,kind,restarts\n");
    for (key, n) in &cells {
        older.push_str(&format!("{key},{n}\n"));
    }
    std::fs::write(out.join("restarts.csv"), older).expect("write");
    std::fs::remove_file(out.join("restarts.svg")).expect("remove");
    rollsim().arg("plot").arg(&out).assert().success();
    let redrawn = std::fs::read(out.join("restarts.svg")).expect("restarts.svg redrawn");
    assert!(redrawn == chart, "restarts.svg differs from the older file");
}

#[test]
fn rollsim_plot_honours_size_format_and_title() {
    let case = Case::new(&scenario(50, "", ""));
    let out = case.run("out", &[]);
    for (name, _) in chart_files(&out) {
        std::fs::remove_file(out.join(name)).expect("remove");
    }
    rollsim()
        .arg("plot")
        .arg(&out)
        .args(["--width", "800", "--height", "500", "--format", "png"])
        .args(["--title", "Board & review"])
        .assert()
        .success();
    let files = chart_files(&out);
    assert!(files.iter().all(|(n, _)| !n.ends_with(".svg")));
    let png = std::fs::read(out.join("compliance.png")).expect("png");
    assert_eq!(png_size(&png), (800, 500));
    // PNG-only charts are embedded in the report as data URIs.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(html.contains("data:image/png;base64,"));
    rollsim()
        .arg("plot")
        .arg(&out)
        .args(["--format", "svg", "--title", "Board & review"])
        .assert()
        .success();
    let labels = svg_labels(&out.join("compliance.svg"));
    assert!(
        labels.iter().any(|l| l.starts_with("Board & review:")),
        "{labels:?}"
    );
}

#[test]
fn rollsim_plot_days_limits_the_x_axis_of_the_time_based_charts_and_rejects_a_bad_value() {
    let case = Case::new(&scenario(50, "", ""));
    let out = case.run("out", &[]);
    let x_title = |chart: &str| {
        svg_labels(&out.join(chart))
            .into_iter()
            .find(|l| l.starts_with("Days since start"))
            .unwrap_or_else(|| panic!("{chart} has no x axis title"))
    };
    rollsim()
        .arg("plot")
        .arg(&out)
        .args(["--days", "2.5"])
        .assert()
        .success();
    for chart in ["compliance.svg", "states-q.svg"] {
        assert_eq!(
            x_title(chart),
            "Days since start (first 2.5 of 30)",
            "{chart}"
        );
    }
    assert!(out.join("compliance.png").is_file());
    rollsim()
        .arg("plot")
        .arg(&out)
        .args(["--days", "all"])
        .assert()
        .success();
    assert_eq!(x_title("compliance.svg"), "Days since start");
    for bad in ["0", "-3", "P5D", "soon"] {
        let run = rollsim()
            .arg("plot")
            .arg(&out)
            .args(["--days", bad])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(
            stderr.contains("'--days <N|auto|all>'") && stderr.contains("number of days above 0"),
            "{bad}: {stderr}"
        );
        assert!(stderr.contains(&format!("\"{bad}\"")), "{bad}: {stderr}");
    }
}

#[test]
fn rollsim_plot_on_a_missing_folder_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tmp");
    rollsim()
        .arg("plot")
        .arg(dir.path().join("nope"))
        .assert()
        .code(2);
}

#[test]
fn batch_files_give_band_time_to_95_and_pareto_charts_and_an_expectations_table() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = copy_fixture("batch", tmp.path());
    rollsim().arg("plot").arg(&dir).assert().success();
    for stem in ["bands", "time-to-95", "pareto"] {
        let png = std::fs::read(dir.join(format!("{stem}.png"))).expect("png");
        assert_eq!(png_size(&png), (1200, 700), "{stem}");
        let labels = svg_labels(&dir.join(format!("{stem}.svg")));
        for v in ["all-at-once", "rings-3-days", "rings-7-days", "slow-pilot"] {
            assert!(labels.iter().any(|l| l == v), "{stem}.svg lacks {v}");
        }
    }
    assert!(
        svg_labels(&dir.join("pareto.svg"))
            .iter()
            .any(|l| l == "Pareto front")
    );
    assert!(!dir.join("compliance.png").exists());
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report");
    assert!(html.contains("<td class=\"met\">met</td>"));
    assert!(html.contains("<td class=\"missed\">missed</td>"));
    assert!(html.contains("Fixture: four ring plans compared"));
    assert!(html.contains("<h2>Variants</h2>"));
}

#[test]
fn a_hostile_deployment_name_is_escaped_in_the_report_and_the_inlined_svg() {
    let text = scenario(50, "", "").replace("name = \"q\"", &format!("name = \"{HOSTILE}\""));
    assert!(text.contains(HOSTILE));
    let case = Case::new(&text);
    let out = case.run("out", &[]);
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(!html.contains("<img"), "raw markup in report.html");
    assert!(!html.contains("onerror=alert(1)>"));
    let escaped = "&lt;img src=x onerror=alert(1)&gt;";
    // Summary table, compliance legend, states caption and states legend at least.
    assert!(html.matches(escaped).count() >= 3, "escaped name missing");
    let svg = std::fs::read_to_string(out.join("compliance.svg")).expect("svg");
    assert!(svg.contains(escaped));
    assert!(!svg.contains("<img"));
    // The text reads back as the name itself.
    assert!(svg_labels(&out.join("compliance.svg")).contains(&HOSTILE.to_string()));
    assert!(
        out.join("states--img-src-x-onerror-alert-1--.png")
            .is_file()
    );
}

#[test]
fn the_report_opens_in_headless_chromium_without_console_errors() {
    // Skips (with a message, exit 0) when no Chromium is installed.
    let out = std::process::Command::new("sh")
        .arg("tests/chromium_report.sh")
        .env("ROLLSIM", env!("CARGO_BIN_EXE_rollsim"))
        .output()
        .expect("run tests/chromium_report.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ok:") || stdout.contains("SKIP:"),
        "{stdout}"
    );
}

#[test]
fn rollsim_plot_on_a_folder_without_outputs_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = rollsim().arg("plot").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("no rollsim output here"), "{stderr}");
}

#[test]
fn a_readiness_test_is_charted_ready_as_the_summary_counts_it() {
    let shipped = std::fs::read_to_string("scenarios/quality-update-office-fleet.toml")
        .expect("shipped scenario");
    let settings = "settings = { expedite = { isExpedited = true, isReadinessTest = true } }\n";
    let at = shipped.find("[[deployments]]").expect("a deployment");
    let end = shipped[at..]
        .find("\n\n")
        .map_or(shipped.len(), |i| at + i + 1);
    let text = format!("{}{settings}{}", &shipped[..end], &shipped[end..]);
    let case = Case::new(&text);
    let out = case.run("out", &["--devices", "500"]);
    let s = summary(&out);
    let dep = &s["deployments"][0];
    assert_eq!(dep["share_compliant"].as_f64(), Some(1.0), "{dep}");
    let name = dep["name"].as_str().expect("name");
    let compliance = svg_labels(&out.join("compliance.svg"));
    assert!(
        compliance.contains(&format!("{name} (ready)")),
        "{compliance:?}"
    );
    assert!(
        compliance
            .iter()
            .any(|l| l == "Devices ready (% of audience)")
    );
    let states = svg_labels(&out.join(format!("states-{name}.svg")));
    assert!(states.iter().any(|l| l == "ready"), "{states:?}");
    assert!(!states.iter().any(|l| l == "compliant"), "{states:?}");
    // The line (not the lane's two-point ticks) reaches the top: its highest point is at the
    // plot's 100 % tick.
    let svg = std::fs::read_to_string(out.join("compliance.svg")).expect("svg");
    let doc = roxmltree::Document::parse(&svg).expect("xml");
    let top_of = |colour: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(colour))
            .map(|n| {
                n.attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .filter_map(|p| p.split(',').nth(1)?.parse::<f64>().ok())
                    .collect::<Vec<_>>()
            })
            .filter(|ys| ys.len() > 2)
            .flatten()
            .fold(f64::INFINITY, f64::min)
    };
    let hundred = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some("100 %"))
        .filter_map(|n| n.attribute("y")?.parse::<f64>().ok())
        .next()
        .expect("a 100 % tick");
    let top = top_of("#0072B2");
    assert!(
        (top - hundred).abs() <= 2.0,
        "line tops at y {top}, 100 % at {hundred}"
    );
}
