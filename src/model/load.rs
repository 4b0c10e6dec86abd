//! Finding, reading and validating scenario files.
//!
//! A scenario argument is either a path to a JSON file or a name: looked up in
//! `$RECOUNT_SCENARIOS` when that is set, else among the named scenarios built into the binary
//! (the `scenarios/` folder of the source tree it was built from, embedded by `build.rs`), so an
//! installed `recount` needs no source checkout.

use crate::error::{Error, Result};
use crate::model::locate::locate;
use crate::model::protocols::{self, Mapping, Stations};
use crate::model::recounts;
use crate::model::scenario::{ProtocolsFile, Scenario};
use crate::model::{FieldError, Model};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A scenario read from disk and validated.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The scenario's name (file stem).
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    pub scenario: Scenario,
    pub model: Model,
    /// SHA-256 of the scenario's canonical JSON (first 16 hex digits): formatting changes do not
    /// alter it, any change of content does.
    pub hash: String,
}

/// The named scenarios built into the binary: (name, JSON text), sorted by name.
mod builtin {
    include!(concat!(env!("OUT_DIR"), "/named.rs"));
}

/// Where a scenario's text comes from.
enum Source {
    File(PathBuf),
    BuiltIn(&'static str),
}

/// The folder named scenarios are looked up in instead of the built-in ones, if set.
fn scenario_dir() -> Option<PathBuf> {
    std::env::var_os("RECOUNT_SCENARIOS").map(PathBuf::from)
}

/// The named scenarios, sorted by name.
pub fn list_names() -> Result<Vec<String>> {
    let Some(dir) = scenario_dir() else {
        return Ok(builtin::NAMED.iter().map(|(n, _)| n.to_string()).collect());
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// Resolves a name or path to a file or a built-in scenario.
fn resolve(arg: &str) -> Result<Source> {
    let as_path = PathBuf::from(arg);
    if as_path.is_file() {
        return Ok(Source::File(as_path));
    }
    match scenario_dir() {
        Some(dir) => {
            let named = dir.join(format!("{arg}.json"));
            if named.is_file() {
                return Ok(Source::File(named));
            }
        }
        None => {
            if let Some((_, text)) = builtin::NAMED.iter().find(|(n, _)| *n == arg) {
                return Ok(Source::BuiltIn(text));
            }
        }
    }
    let known = list_names().unwrap_or_default();
    Err(Error::Usage(format!(
        "no scenario file or named scenario \"{arg}\"; named scenarios: {} (see `recount list`)",
        if known.is_empty() {
            "none found".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// Reads, parses and validates a scenario by name or path.
pub fn load(arg: &str) -> Result<Loaded> {
    let (path, text) = match resolve(arg)? {
        Source::File(path) => {
            let text = read_text(&path)?;
            (path, text)
        }
        // Named as in the source tree, where a user finds it to copy.
        Source::BuiltIn(text) => (PathBuf::from(format!("scenarios/{arg}.json")), text.into()),
    };
    let scenario = parse(&text).map_err(|message| Error::Scenario {
        file: path.display().to_string(),
        message,
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| arg.to_string());
    Loaded::build(name, path.clone(), scenario)
        .map_err(|problems| scenario_error(&path, Some(&text), &problems))
}

/// A scenario's name becomes a folder under `--out` (and import's file names): it must be one
/// path component, so it cannot climb out of the folder or land anywhere else. Ok, or why not.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    let bad = if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('.') {
        Some("starts with '.'")
    } else if name.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.len() > 200 {
        Some("is longer than 200 bytes")
    } else {
        None
    };
    match bad {
        Some(why) => Err(format!("\"{}\" {why}", name.escape_debug())),
        None => Ok(()),
    }
}

/// A scenario file's text: at most `MAX_SCENARIO_BYTES`, UTF-8 (a UTF-8 byte-order mark, which
/// some Windows editors write, is dropped; UTF-16 and invalid bytes are refused with where and
/// how to convert).
fn read_text(path: &Path) -> Result<String> {
    let refuse = |message: String| Error::Scenario {
        file: path.display().to_string(),
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if size > crate::model::limits::MAX_SCENARIO_BYTES {
        return Err(refuse(format!(
            "{size} bytes: a scenario file may have at most {} MiB",
            crate::model::limits::MAX_SCENARIO_BYTES >> 20
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(refuse(
            "1:1: the file is UTF-16; save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)".into(),
        ));
    }
    let bom = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    String::from_utf8(bytes[bom..].to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        // Valid UTF-8 up to `at`: line and column in characters, like every other message.
        let before = std::str::from_utf8(&bytes[bom..bom + at]).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
        refuse(format!(
            "{line}:{col}: byte {} is not UTF-8; save the file as UTF-8 (e.g. `iconv -f WINDOWS-1251 -t UTF-8`)",
            bom + at
        ))
    })
}

/// One error naming every problem of a file, each led by its line:column where the field can
/// be found in `text`.
fn scenario_error(path: &Path, text: Option<&str>, problems: &[FieldError]) -> Error {
    let mut located: Vec<(Option<(usize, usize)>, String)> = problems
        .iter()
        .map(|e| {
            let at = text.and_then(|t| locate(t, e.path.trim_end_matches("[]")));
            match at {
                Some((line, col)) => (at, format!("{line}:{col}: {e}")),
                None => (None, e.to_string()),
            }
        })
        .collect();
    // In the order of the file, those without a place last.
    located.sort_by_key(|(at, _)| at.unwrap_or((usize::MAX, 0)));
    let located: Vec<String> = located.into_iter().map(|(_, m)| m).collect();
    let message = match located.as_slice() {
        [one] => one.clone(),
        many => format!("{} problems:\n  {}", many.len(), many.join("\n  ")),
    };
    Error::Scenario {
        file: path.display().to_string(),
        message,
    }
}

impl Loaded {
    /// Validates an already parsed (possibly modified, e.g. by a sweep) scenario.
    pub fn new(name: String, path: PathBuf, scenario: Scenario) -> Result<Loaded> {
        Loaded::build(name, path.clone(), scenario)
            .map_err(|problems| scenario_error(&path, None, &problems))
    }

    fn build(
        name: String,
        path: PathBuf,
        scenario: Scenario,
    ) -> std::result::Result<Loaded, Vec<FieldError>> {
        if let Err(why) = check_name(&name) {
            return Err(vec![FieldError::new(
                "name",
                format!(
                    "the scenario's name {why}; it comes from the file name (or, in a saved result, its `name`): rename the file"
                ),
            )]);
        }
        let mut model = Model::build(&scenario)?;
        if let Some(p) = &scenario.protocols {
            let stations = attach_protocols(&path, p, &scenario)?;
            let beneficiary = model.irregular.beneficiary;
            if let Some(fit) = model.inverse.as_mut().and_then(|i| i.fingerprint.as_mut()) {
                fit.observed = Some(protocols::Features::of(stations.points(beneficiary)));
            }
            model.stations = Some(stations);
        }
        if let Some(r) = scenario
            .observations
            .as_ref()
            .and_then(|o| o.recounts.as_ref())
        {
            let ids: Vec<String> = scenario.parties.iter().map(|p| p.id.clone()).collect();
            let fit = recounts::attach(
                &path,
                r,
                &ids,
                model.count_errors.as_ref(),
                model.stations.as_deref(),
            )?;
            if let Some(inv) = model.inverse.as_mut() {
                inv.recounts = Some(fit);
            }
        }
        let canonical = serde_json::to_vec(&scenario).expect("a parsed scenario serialises");
        let digest = Sha256::digest(without_negative_zeros(&canonical));
        let hash = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(Loaded {
            name,
            path,
            scenario,
            model,
            hash,
        })
    }
}

/// Stations already read, by file and content hash: a sweep rebuilds its model at every point.
static READ: std::sync::Mutex<Vec<(PathBuf, String, Arc<Stations>)>> =
    std::sync::Mutex::new(Vec::new());

/// Reads the protocols a scenario names (relative to its folder), checks their hash and that
/// the regions describe them, and returns the stations.
fn attach_protocols(
    scenario_path: &Path,
    p: &ProtocolsFile,
    s: &Scenario,
) -> std::result::Result<Arc<Stations>, Vec<FieldError>> {
    let dir = scenario_path.parent().unwrap_or(Path::new("."));
    let file = dir.join(&p.file);
    let fail = |m: String| vec![FieldError::new("protocols.file", m)];
    let cached = READ
        .lock()
        .expect("the cache is never poisoned")
        .iter()
        .find(|(f, h, _)| *f == file && *h == p.sha256)
        .map(|(_, _, st)| st.clone());
    let stations = match cached {
        Some(st) => st,
        None => {
            let sha = protocols::sha256_file(&file).map_err(|e| fail(e.to_string()))?;
            if sha != p.sha256 {
                return Err(vec![FieldError::new(
                    "protocols.sha256",
                    format!(
                        "{} has changed since the scenario was made (its SHA-256 is {sha}); import it again, or set `sha256` to that value if the change is meant",
                        file.display()
                    ),
                )]);
            }
            let ids: Vec<String> = s.parties.iter().map(|p| p.id.clone()).collect();
            let st = protocols::read(
                &file,
                &Mapping::normalised(&ids),
                "the normalised protocols",
            )
            .map_err(|e| fail(e.to_string()))?;
            let st = Arc::new(st);
            READ.lock()
                .expect("the cache is never poisoned")
                .push((file.clone(), sha, st.clone()));
            st
        }
    };
    let mut problems = Vec::new();
    if stations.regions.len() != s.regions.len() {
        problems.push(FieldError::new(
            "regions",
            format!(
                "{} regions, but the protocols have {}",
                s.regions.len(),
                stations.regions.len()
            ),
        ));
        return Err(problems);
    }
    for (i, (r, range)) in s.regions.iter().zip(stations.region_ranges()).enumerate() {
        let name = &stations.regions[i];
        if &r.name != name {
            problems.push(FieldError::new(
                format!("regions[{i}].name"),
                format!(
                    "\"{}\", but region {i} of the protocols is \"{name}\"",
                    r.name
                ),
            ));
            continue;
        }
        let registered: u64 = range.clone().map(|k| stations.registered[k] as u64).sum();
        if r.precincts != range.len() as f64 {
            problems.push(FieldError::new(
                format!("regions[{i}].precincts"),
                format!(
                    "{}, but the protocols have {} stations in {name}",
                    r.precincts,
                    range.len()
                ),
            ));
        }
        if r.registered != registered as f64 {
            problems.push(FieldError::new(
                format!("regions[{i}].registered"),
                format!(
                    "{}, but the protocols have {registered} in {name}",
                    r.registered
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(stations)
    } else {
        Err(problems)
    }
}

/// Parses scenario JSON; errors give line:column and the field path.
///
/// Strict: content after the document (a second document, a merge-conflict block) and a key
/// repeated within an object (serde_json keeps the last of a map's) are errors too.
pub fn parse(text: &str) -> std::result::Result<Scenario, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let scenario: Scenario = parse_with(de)?;
    if let Err(e) = de.end() {
        return Err(format!(
            "{}:{}: content after the end of the scenario's JSON document (a second document or a merge-conflict marker?); a scenario file holds one object",
            e.line(),
            e.column()
        ));
    }
    if let Some((path, (line, col))) = crate::model::locate::duplicate_key(text) {
        return Err(format!(
            "{line}:{col}: field `{path}` appears twice in the same object; keep one"
        ));
    }
    Ok(scenario)
}

fn parse_with(
    de: &mut serde_json::Deserializer<serde_json::de::StrRead<'_>>,
) -> std::result::Result<Scenario, String> {
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (line, col) = (inner.line(), inner.column());
        // serde_json appends " at line L column C"; we lead with it instead.
        let msg = inner.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        if path == "." || path.is_empty() {
            format!("{line}:{col}: {msg}")
        } else {
            format!("{line}:{col}: field `{path}`: {msg}")
        }
    })
}

/// Compact JSON with every number `-0.0` written `0.0`: the two are the same number to every
/// check and every draw, so a scenario's hash does not tell them apart. Strings are left as they
/// are (a `-0.0` in a source note is text).
fn without_negative_zeros(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < json.len() {
        let c = json[i];
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if c == b'"' {
            in_string = true;
            out.push(c);
        } else if json[i..].starts_with(b"-0.0")
            && json
                .get(i + 4)
                .is_none_or(|d| matches!(d, b',' | b'}' | b']'))
        {
            out.extend_from_slice(b"0.0");
            i += 4;
            continue;
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::without_negative_zeros;

    #[test]
    fn negative_zeros_are_written_as_zeros_outside_strings() {
        let json = br#"{"a":-0.0,"b":"-0.0 \"-0.0\"","c":[-0.0,1.5],"d":-0.05,"e":[1,-0.0]}"#;
        let want = br#"{"a":0.0,"b":"-0.0 \"-0.0\"","c":[0.0,1.5],"d":-0.05,"e":[1,0.0]}"#;
        assert_eq!(
            String::from_utf8(without_negative_zeros(json)).unwrap(),
            String::from_utf8(want.to_vec()).unwrap()
        );
    }
}
