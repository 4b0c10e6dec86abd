//! `recount import`: a country's precinct protocols in, a scenario of its real stations out.

use crate::cli::args::ImportArgs;
use crate::cli::terminal::emit;
use crate::error::{Error, Result};
use crate::export::words::group;
use crate::export::write::write_atomic;
use crate::model::import::{self, Names};
use crate::model::load::{self, Loaded};
use crate::model::protocols::{self, Mapping, Summary};
use std::path::Path;

/// Mapping files are small: anything larger is not one.
const MAX_MAPPING_BYTES: u64 = 1 << 20;

/// `recount import`.
pub fn import(args: &ImportArgs) -> Result<()> {
    let Some(map_path) = &args.map else {
        let header = protocols::read_header(&args.file, None)?;
        let (mapping, notes) = import::propose(&header);
        for n in &notes {
            eprintln!("note: {n}");
        }
        eprintln!(
            "note: save this proposal (`recount import {} > mapping.json`), edit it, then run `recount import {} --map mapping.json`",
            args.file.display(),
            args.file.display()
        );
        let mut text = serde_json::to_string_pretty(&mapping).expect("a mapping serialises");
        text.push('\n');
        return emit(&text);
    };
    let mapping = read_mapping(map_path)?;
    let problems = import::rules(&mapping);
    if !problems.is_empty() {
        return Err(Error::Scenario {
            file: map_path.display().to_string(),
            message: problems.join("\n  "),
        });
    }
    let name = match &args.name {
        Some(n) => n.clone(),
        None => args
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    load::check_name(&name).map_err(|why| {
        Error::Usage(format!(
            "--name {why}: the scenario's name becomes its file names and a folder under --out"
        ))
    })?;
    let stations = protocols::read(&args.file, &mapping, &map_path.display().to_string())?;
    let json_path = args.dir.join(format!("{name}.json"));
    let csv_name = format!("{name}.protocols.csv");
    let csv_path = args.dir.join(&csv_name);
    for p in [&json_path, &csv_path] {
        if p.exists() && !args.force {
            return Err(Error::Usage(format!(
                "{} exists; choose another --name or --dir, or pass --force to replace it",
                p.display()
            )));
        }
    }
    let bytes = stations.to_csv();
    write_atomic(&csv_path, &bytes)?;
    let sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let file_name = args
        .file
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source = mapping
        .source
        .clone()
        .unwrap_or_else(|| format!("precinct protocols in {file_name}"));
    let title = mapping.title.clone().unwrap_or_else(|| name.clone());
    let value = import::scenario(
        &stations,
        &mapping,
        &Names {
            title: &title,
            protocols_file: &csv_name,
            protocols_sha256: &sha,
            source: &source,
        },
    );
    let mut text = serde_json::to_string_pretty(&value).expect("JSON serialises");
    text.push('\n');
    // The scenario is checked as `recount run` will read it before it is written.
    let checked = load::parse(&text)
        .map_err(|message| Error::Scenario {
            file: json_path.display().to_string(),
            message,
        })
        .and_then(|s| Loaded::new(name.clone(), json_path.clone(), s));
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&csv_path);
        return Err(e);
    }
    write_atomic(&json_path, text.as_bytes())?;
    emit(&describe(
        &stations.summary(),
        &mapping,
        &json_path,
        &csv_path,
    ))
}

/// Reads a mapping file; errors give line:column and the field.
fn read_mapping(path: &Path) -> Result<Mapping> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() || meta.len() > MAX_MAPPING_BYTES {
        return Err(Error::Usage(format!(
            "{}: not a mapping file (a JSON file of at most 1 MiB is expected)",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        Error::Scenario {
            file: path.display().to_string(),
            message: format!(
                "{}:{}: field `{field}`: {msg}",
                inner.line(),
                inner.column()
            ),
        }
    })
}

/// The import's summary: sums, shares, anomalies and what to do next.
fn describe(s: &Summary, mapping: &Mapping, json: &Path, csv: &Path) -> String {
    let pct = |a: u64, b: u64| {
        if b > 0 {
            100.0 * a as f64 / b as f64
        } else {
            0.0
        }
    };
    let valid: u64 = s.votes.iter().sum();
    let mut out = format!(
        "Imported {} stations in {} regions: {} registered, {} ballots (turnout {:.2}%), {} invalid ({:.2}%), {} valid.\n\n",
        group(s.stations),
        s.regions,
        group(s.registered),
        group(s.ballots),
        pct(s.ballots, s.registered),
        group(s.invalid),
        pct(s.invalid, s.ballots),
        group(valid)
    );
    out.push_str(&format!(
        "{:<24} {:>14} {:>9} {:>9}\n",
        "party", "votes", "of valid", "of all"
    ));
    let mut order: Vec<usize> = (0..s.votes.len()).collect();
    order.sort_by_key(|&j| std::cmp::Reverse(s.votes[j]));
    for j in order {
        out.push_str(&format!(
            "{:<24} {:>14} {:>8.2}% {:>8.2}%\n",
            mapping.parties[j].id,
            group(s.votes[j]),
            pct(s.votes[j], valid),
            pct(s.votes[j], s.ballots)
        ));
    }
    let anomalies = [
        (s.zero_ballots, "with no ballots"),
        (s.zero_registered, "with no registered voters"),
        (s.full_turnout, "with a turnout of exactly 100%"),
        (
            s.unaccounted_ballots,
            "whose valid and invalid ballots add up to fewer than the ballots cast",
        ),
    ];
    out.push_str("\nUnusual but accepted: ");
    out.push_str(
        &anomalies
            .iter()
            .map(|(n, what)| format!("{} stations {what}", group(*n)))
            .collect::<Vec<_>>()
            .join("; "),
    );
    out.push_str(&format!(
        ".\n\nScenario written to {}\nStations written to {}\nNext: recount fingerprint {} ; recount run {} --sampler fast\n",
        json.display(),
        csv.display(),
        json.display(),
        json.display()
    ));
    out
}
