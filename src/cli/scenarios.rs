//! `recount list`, `show` and `validate`: the named scenarios and users' own files.

use crate::cli::terminal::emit;
use crate::error::{Error, Result};
use crate::model::load::{self};

pub(crate) fn list() -> Result<()> {
    let mut text = String::new();
    for name in load::list_names()? {
        match load::load(&name) {
            Ok(l) => text.push_str(&format!("{name:<18} {}\n", l.scenario.question)),
            Err(e) => text.push_str(&format!("{name:<18} INVALID: {e}\n")),
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
        match load::load(name) {
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
    let l = load::load(name)?;
    if json {
        let mut s = serde_json::to_string_pretty(&l.scenario).expect("serialises");
        s.push('\n');
        return emit(&s);
    }
    let mut text = format!(
        "{} — {}\nfile: {}{}  hash: {}\n\n{}\n\n{}\n\nEvery number and its source:\n",
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
    for [path, what, source] in crate::model::scenario::sourced_numbers(&value) {
        text.push_str(&format!("  {path}: {what}\n"));
        if !source.is_empty() {
            text.push_str(&format!("      source: {source}\n"));
        }
    }
    emit(&text)
}
