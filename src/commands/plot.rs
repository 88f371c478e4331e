//! `rollsim plot`: the charts and report.html of a finished run or batch folder drawn again from
//! its CSV files, at another size, format, title or time range. Each file is written to a
//! temporary name and renamed into place, so the folder always holds complete files.
//!
//! In the library so that a program embedding rollsim redraws a folder's charts without the
//! command line.

use std::path::PathBuf;

use super::output::write_file_atomic;
use super::{Exit, problem};
use crate::{Error, report};

/// Which folder to draw and how: `rollsim plot`'s options.
#[derive(Clone, Debug)]
pub struct PlotOptions {
    /// The output folder of a run or batch.
    pub dir: PathBuf,
    /// Size, formats, title and time range of the charts.
    pub charts: report::charts::ChartOptions,
}

/// Re-renders the charts and report.html of `opts.dir`, printing each file's path as it is
/// written.
pub fn plot(opts: &PlotOptions) -> Result<Exit, Error> {
    let (dir, opts) = (opts.dir.as_path(), &opts.charts);
    if !dir.is_dir() {
        // A file (`rollsim plot out/report.html`) is there, but is not what plot reads.
        let source = if dir.exists() {
            std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a folder: give the output folder of a run or batch",
            )
        } else {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder")
        };
        return Err(Error::Read {
            path: dir.to_path_buf(),
            source,
        });
    }
    let inputs = report::charts::read_inputs(dir)?;
    if !inputs.iter().any(|(n, _)| n.ends_with(".csv")) {
        return Err(problem(
            dir.display(),
            "",
            "no rollsim output here (timeseries.csv, restarts.csv, bands.csv, variants.csv…)",
        ));
    }
    let charts = report::charts::render_files(&inputs, opts)?;
    let html = report::html::report_html(&inputs, &charts);
    let mut outputs: Vec<(&str, &[u8])> = charts
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    outputs.push(("report.html", html.as_bytes()));
    for (name, bytes) in outputs {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        write_file_atomic(&path, &tmp, bytes)?;
        println!("{}", path.display());
    }
    Ok(Exit::Ok)
}
