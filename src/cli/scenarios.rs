//! `recount list`, `show` and `validate`: the named scenarios and users' own files.

use crate::cli::terminal::emit;
use crate::error::{Error, Result};
use crate::model::load::{self};

pub(crate) fn list() -> Result<()> {
    let mut text = String::new();
    let names = load::list_names()?;
    // The questions start in one column, after the longest name.
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for name in names {
        match crate::cli::options::load(&name) {
            Ok(l) => text.push_str(&format!("{name:<width$}  {}\n", l.scenario.question)),
            Err(e) => text.push_str(&format!("{name:<width$}  INVALID: {e}\n")),
        }
    }
    emit(&text)
}

/// Checks every file it is given: a line for each valid one on stdout, every problem of each
/// invalid one on stderr; exit code 2 if any is invalid.
pub(crate) fn validate(names: &[String]) -> Result<()> {
    let mut text = String::new();
    let mut invalid = 0;
    for name in names {
        match crate::cli::options::load(name) {
            Ok(l) => text.push_str(&format!(
                "{}: valid ({} parties, {} regions, {} precincts, hash {})\n",
                l.path.display(),
                l.model.n_parties(),
                l.model.regions.len(),
                l.model.n_precincts(),
                l.hash
            )),
            Err(e) if names.len() == 1 => return Err(e),
            Err(e) => {
                invalid += 1;
                eprintln!("error: {e}");
            }
        }
    }
    emit(&text)?;
    match invalid {
        0 => Ok(()),
        n => Err(Error::Usage(format!(
            "{n} of {} scenario files are invalid",
            names.len()
        ))),
    }
}

pub(crate) fn show(name: &str, json: bool) -> Result<()> {
    let l = crate::cli::options::load(name)?;
    if json {
        let mut s = serde_json::to_string_pretty(&l.scenario).expect("serialises");
        s.push('\n');
        return emit(&s);
    }
    let mut text = format!(
        "{} — {}\nfile: {}{}  hash: {}\n\n{}\n\n{}\n\nEvery number, with its path (for `recount sweep --param`) and its source [n] (listed at the end):\n",
        l.name,
        l.scenario.title,
        l.path.display(),
        if l.path.is_file() {
            ""
        } else {
            " (built into recount)"
        },
        l.hash,
        l.scenario.question,
        l.scenario.description
    );
    let value = serde_json::to_value(&l.scenario).expect("serialises");
    text.push_str(&numbers_text(&value));
    emit(&text)
}

/// The sections of a scenario, with their headings, in the order `show` prints them; a section
/// not named here comes after them, under its own key.
const SECTIONS: [(&str, &str); 16] = [
    ("country", "Country"),
    ("threshold", "Threshold and seats"),
    ("seats", "Threshold and seats"),
    ("spoiled", "Parties"),
    ("parties", "Parties"),
    ("regions", "Regions"),
    ("precinct_sizes", "Precincts and voters"),
    ("behaviour", "Precincts and voters"),
    ("protocols", "Precinct protocols"),
    ("irregularities", "Irregularities"),
    ("count_errors", "Counting errors"),
    ("tabulation", "Tabulation"),
    (
        "observations",
        "Observations (the inverse question's evidence)",
    ),
    ("inference", "Inference"),
    ("allocation", "Seat allocation"),
    ("run", "Run defaults (not claims about the election)"),
];

/// Every number of a scenario under its section's heading, a party's or region's numbers under
/// its name, each with its path (what `recount sweep --param` takes) and a reference to its
/// source, and each source once, at the end.
fn numbers_text(value: &serde_json::Value) -> String {
    let mut rows = crate::model::scenario::sourced_numbers(value);
    let key = |path: &str| path.split(['.', '[']).next().unwrap_or(path).to_string();
    let heading = |k: &str| {
        SECTIONS
            .iter()
            .position(|(s, _)| *s == k)
            .map_or((SECTIONS.len(), k.to_string()), |i| {
                (i, SECTIONS[i].1.to_string())
            })
    };
    rows.sort_by_key(|r| heading(&key(&r[0])).0); // stable: the file's order within a section
    let width = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .map(|r| r[1].chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    let mut sources: Vec<&str> = Vec::new();
    let mut text = String::new();
    let (mut section, mut item) = (String::new(), String::new());
    for [path, what, source] in &rows {
        let title = heading(&key(path)).1;
        if title != section {
            text.push_str(&format!("\n{title}\n"));
            section = title;
            item.clear();
        }
        // A party's or a region's numbers come under its name.
        let this_item = path.split('.').next().unwrap_or("");
        if this_item != item && this_item.ends_with(']') {
            let name = this_item
                .trim_end_matches(']')
                .split_once('[')
                .and_then(|(list, i)| value[list][i.parse::<usize>().ok()?]["name"].as_str());
            if let Some(name) = name {
                text.push_str(&format!("  {name}\n"));
            }
        }
        item = this_item.to_string();
        let reference = if source.is_empty() {
            String::new()
        } else {
            let k = sources.iter().position(|s| s == source).unwrap_or_else(|| {
                sources.push(source);
                sources.len() - 1
            });
            format!("[{}]", k + 1)
        };
        let line = format!("    {path:<width$}  {what:<value_width$}  {reference}");
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.push_str("\nSources\n");
    for (k, s) in sources.iter().enumerate() {
        text.push_str(&format!("  [{}] {s}\n", k + 1));
    }
    text
}
