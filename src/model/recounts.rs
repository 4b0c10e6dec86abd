//! Recounts as evidence (`observations.recounts`): stations counted again, read from a CSV and
//! turned into a likelihood for the unknowns of `count_errors`.
//!
//! A recount is taken as the station's true count, and its reported figures as that count after
//! the scenario's counting errors, in the order `election::count_errors` applies them: a slip,
//! then a swap, then a zeroed figure. When the file is read, each station's reported figures are
//! explained by a short list of terms (which errors happened, how many ballots slipped, and the
//! weight of the choices: which pile, which target, which pair, which party), so that a trial
//! only sums those terms at its drawn prevalences and slip means. A station no term explains is
//! refused. Irregularities play no part: a recount is assumed to see honest errors only.
//!
//! Random and stratified selection do not depend on the errors, so they leave the likelihood as
//! it is. Targeted selection (a wrong count `enrichment` times likelier to be recounted) divides
//! each station's likelihood by its chance of being chosen: rho - (rho - 1) P(count right).

use crate::model::count_errors::{CountErrorsModel, CountLawModel};
use crate::model::problems::FieldError;
use crate::model::protocols::{self, Stations};
use crate::model::scenario::{RecountSelection, RecountsFile, SlipTarget};
use crate::numeric::math;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The most problems one error message lists.
const MAX_LISTED: usize = 10;
/// The most ballots one figure of a recount may hold (far above any polling station).
const MAX_FIGURE: u64 = 10_000_000;
/// The largest enrichment a targeted selection may give.
const MAX_ENRICHMENT: f64 = 1e6;

/// What a slip did in one explanation of a station's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slip {
    /// No ballot moved: no slip, a slip of 0 ballots, or (`empty_pile`) a slip with no pile to
    /// take from.
    Nothing { empty_pile: bool },
    /// k >= 1 ballots moved; `whole_pile` when k is the whole pile (the law's tail, as k is
    /// capped at the pile).
    Ballots { k: u64, whole_pile: bool },
}

/// One explanation of a station's reported figures: what each kind of error did, and the
/// probability of the choices made within the errors that happened.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Term {
    slip: Slip,
    swapped: bool,
    zeroed: bool,
    weight: f64,
}

/// Stations whose terms are the same, counted once.
#[derive(Debug, Clone)]
struct Group {
    urban: bool,
    stations: u32,
    /// The terms of the reported figures.
    observed: Vec<Term>,
    /// With targeted selection: the terms of a station reporting its recount exactly.
    right: Vec<Term>,
}

/// What the recounts were, as a run reports them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecountsInfo {
    pub file: String,
    pub source: String,
    pub selection: RecountSelection,
    /// How much likelier a wrong count was to be recounted (1 unless targeted).
    pub enrichment: f64,
    pub stations: usize,
    /// Stations whose recount differs from their reported figures.
    pub differing: usize,
}

/// The recounts, ready to weigh a trial (`log_likelihood`).
#[derive(Debug, Clone)]
pub struct RecountsFit {
    pub info: RecountsInfo,
    groups: Vec<Group>,
}

impl RecountsFit {
    /// ln P(the recounts' reported figures | their recounted ones, the selection) at an
    /// election's counting-error unknowns: the slips', zeroed figures' and swaps' prevalences
    /// and the slips' law means. -inf when the unknowns cannot explain a station.
    pub fn log_likelihood(
        &self,
        model: &CountErrorsModel,
        slips: f64,
        means: &[f64],
        zeroed: f64,
        swapped: f64,
    ) -> f64 {
        let nothing = model
            .slips
            .as_ref()
            .map_or(1.0, |s| s.size.probability(means, 0, false));
        let mut total = 0.0;
        for g in &self.groups {
            let rate = |f: Option<&crate::model::count_errors::Frequency>, p: f64| {
                f.map_or(0.0, |f| f.probability(p, g.urban).min(1.0))
            };
            let a = rate(model.slips.as_ref().map(|s| &s.frequency), slips);
            let b = rate(model.swapped.as_ref().map(|s| &s.frequency), swapped);
            let c = rate(model.zeroed.as_ref().map(|z| &z.frequency), zeroed);
            let law = model.slips.as_ref().map(|s| &s.size);
            let l = likelihood(&g.observed, law, means, nothing, [a, b, c]);
            let mut ll = math::ln(l);
            if self.info.selection == RecountSelection::Targeted {
                let right = likelihood(&g.right, law, means, nothing, [a, b, c]);
                let rho = self.info.enrichment;
                ll -= math::ln(rho - (rho - 1.0) * right);
            }
            total += g.stations as f64 * ll;
        }
        total
    }
}

/// A station's likelihood: its terms summed at the probabilities `[slip, swap, zero]` of each
/// kind of error there, `nothing` being P(a slip moves 0 ballots).
fn likelihood(
    terms: &[Term],
    law: Option<&CountLawModel>,
    means: &[f64],
    nothing: f64,
    [a, b, c]: [f64; 3],
) -> f64 {
    terms
        .iter()
        .map(|t| {
            let slip = match t.slip {
                Slip::Nothing { empty_pile: true } => 1.0,
                Slip::Nothing { empty_pile: false } => 1.0 - a + a * nothing,
                Slip::Ballots { k, whole_pile } => {
                    a * law.map_or(0.0, |l| l.probability(means, k, whole_pile))
                }
            };
            let swap = if t.swapped { b } else { 1.0 - b };
            let zero = if t.zeroed { c } else { 1.0 - c };
            t.weight * slip * swap * zero
        })
        .sum()
}

/// P(a slip from party `i`'s pile lands on category `t`), with `parties` parties (category
/// `parties` is invalid).
fn target_probability(to: SlipTarget, parties: usize, i: usize, t: usize) -> f64 {
    match to {
        SlipTarget::Invalid => (t == parties) as u8 as f64,
        SlipTarget::Other if t < parties && t != i => 1.0 / (parties - 1) as f64,
        SlipTarget::Other => 0.0,
        SlipTarget::Neighbour if t >= parties => 0.0,
        SlipTarget::Neighbour if i == 0 => (t == 1) as u8 as f64,
        SlipTarget::Neighbour if i == parties - 1 => (t + 2 == parties) as u8 as f64,
        SlipTarget::Neighbour => 0.5 * (t + 1 == i || t == i + 1) as u8 as f64,
    }
}

/// Every way the errors of `m` turn a station's `recounted` figures into its `reported` ones
/// (parties, then invalid), merged by what each kind of error did. Empty when none does.
fn explain(m: &CountErrorsModel, reported: &[u64], recounted: &[u64]) -> Vec<Term> {
    let n = reported.len();
    let parties = n - 1;
    let mut swaps: Vec<(Option<(usize, usize)>, f64)> = vec![(None, 1.0)];
    if let Some(s) = &m.swapped {
        let w = 1.0 / s.pairs.len() as f64;
        swaps.extend(s.pairs.iter().map(|&p| (Some(p), w)));
    }
    let mut zeros: Vec<(Option<usize>, f64)> = vec![(None, 1.0)];
    if let Some(z) = &m.zeroed {
        let w = 1.0 / z.parties.len() as f64;
        // Only a party reported as 0 can have been zeroed.
        zeros.extend(
            z.parties
                .iter()
                .filter(|&&j| reported[j] == 0)
                .map(|&j| (Some(j), w)),
        );
    }
    let pile: u64 = m.slips.as_ref().map_or(0, |s| {
        (0..parties)
            .filter(|&j| s.from[j])
            .map(|j| recounted[j])
            .sum()
    });
    let mut merged: BTreeMap<(Slip, bool, bool), f64> = BTreeMap::new();
    for &(swap, ws) in &swaps {
        // The swap exchanges categories a and b; it is its own inverse.
        let exchanged = |x: usize| match swap {
            Some((a, b)) if x == a => b,
            Some((a, b)) if x == b => a,
            _ => x,
        };
        for &(zero, wz) in &zeros {
            // Before the swap and the zero, category x held reported[exchanged(x)], except the
            // one the zero later hit, which could have held anything.
            let free = zero.map(exchanged);
            let mut differ: Vec<(usize, i64)> = Vec::with_capacity(3);
            for x in (0..n).filter(|&x| Some(x) != free) {
                let before = reported[exchanged(x)];
                if before != recounted[x] {
                    differ.push((x, before as i64 - recounted[x] as i64));
                    if differ.len() > 2 {
                        break;
                    }
                }
            }
            // (from, to, k) of the slip that must have happened, if one must have.
            let moved: Option<(usize, usize, u64)> = match (differ.as_slice(), free) {
                ([], _) => None,
                ([(x, d)], Some(f)) if *d < 0 => Some((*x, f, d.unsigned_abs())),
                ([(x, d)], Some(f)) => Some((f, *x, d.unsigned_abs())),
                ([(x, dx), (y, dy)], _) if dx + dy == 0 => {
                    if *dx < 0 {
                        Some((*x, *y, dx.unsigned_abs()))
                    } else {
                        Some((*y, *x, dy.unsigned_abs()))
                    }
                }
                _ => continue,
            };
            let (slip, w) = match moved {
                None => (
                    Slip::Nothing {
                        empty_pile: m.slips.is_some() && pile == 0,
                    },
                    1.0,
                ),
                Some((i, t, k)) => {
                    let Some(s) = &m.slips else { continue };
                    if i >= parties || !s.from[i] || k > recounted[i] {
                        continue;
                    }
                    let q = target_probability(s.to, parties, i, t);
                    if q == 0.0 {
                        continue;
                    }
                    let whole_pile = k == recounted[i];
                    let pick = recounted[i] as f64 / pile as f64;
                    (Slip::Ballots { k, whole_pile }, pick * q)
                }
            };
            *merged
                .entry((slip, swap.is_some(), zero.is_some()))
                .or_default() += ws * wz * w;
        }
    }
    merged
        .into_iter()
        .map(|((slip, swapped, zeroed), weight)| Term {
            slip,
            swapped,
            zeroed,
            weight,
        })
        .collect()
}

/// One row of a recounts file.
#[derive(Debug, Clone)]
struct Row {
    line: u64,
    station: String,
    /// The `region` column, where the file has one.
    region: Option<String>,
    urban: bool,
    /// Whether the file gives invalid ballots (else they are 0 on both sides).
    has_invalid: bool,
    /// Parties, then invalid.
    reported: Vec<u64>,
    recounted: Vec<u64>,
}

/// Reads, checks and explains the recounts a scenario names (relative to its folder). Every
/// problem is a field error on `observations.recounts` naming the file, line and column.
pub(crate) fn attach(
    scenario_path: &Path,
    r: &RecountsFile,
    party_ids: &[String],
    model: Option<&CountErrorsModel>,
    stations: Option<&Stations>,
) -> Result<RecountsFit, Vec<FieldError>> {
    let one = |field: &str, m: String| vec![FieldError::new(field, m)];
    let Some(m) = model else {
        return Err(one(
            "observations.recounts",
            "needs a `count_errors` block: recounts are evidence on the counting errors, and the scenario has none".into(),
        ));
    };
    let enrichment = match (r.selection, &r.enrichment) {
        (RecountSelection::Targeted, None) => {
            return Err(one(
                "observations.recounts.enrichment",
                "missing; `selection: \"targeted\"` needs it (how many times likelier a wrong count was to be recounted, 1 or more)".into(),
            ));
        }
        (RecountSelection::Targeted, Some(e)) => {
            if !(1.0..=MAX_ENRICHMENT).contains(&e.value) {
                return Err(one(
                    "observations.recounts.enrichment.value",
                    format!(
                        "{} is out of range; allowed 1 to {MAX_ENRICHMENT} (1: targeting found wrong counts no more often than chance)",
                        e.value
                    ),
                ));
            }
            e.value
        }
        (_, Some(_)) => {
            return Err(one(
                "observations.recounts.enrichment",
                "only used with `selection: \"targeted\"`; remove it, or say the stations were targeted".into(),
            ));
        }
        (_, None) => 1.0,
    };
    let dir = scenario_path.parent().unwrap_or(Path::new("."));
    let file = dir.join(&r.file);
    let sha = protocols::sha256_file(&file)
        .map_err(|e| one("observations.recounts.file", e.to_string()))?;
    match &r.sha256 {
        None => {
            return Err(one(
                "observations.recounts.sha256",
                format!(
                    "missing; add `\"sha256\": \"{sha}\"` (the SHA-256 of {}), so that a changed file is refused",
                    file.display()
                ),
            ));
        }
        Some(given) if *given != sha => {
            return Err(one(
                "observations.recounts.sha256",
                format!(
                    "{} has changed since the scenario was made (its SHA-256 is {sha}); set `sha256` to that value if the change is meant",
                    file.display()
                ),
            ));
        }
        Some(_) => {}
    }
    let frequencies = [
        m.slips.as_ref().map(|s| s.frequency),
        m.zeroed.as_ref().map(|z| z.frequency),
        m.swapped.as_ref().map(|s| s.frequency),
    ];
    let needs_urban = frequencies
        .iter()
        .flatten()
        .any(|f| f.urban_multiplier != 1.0);
    let needs_invalid = m
        .slips
        .as_ref()
        .is_some_and(|s| s.to == SlipTarget::Invalid);
    let fail = |e: String| {
        one(
            "observations.recounts.file",
            format!("{}: {e}", file.display()),
        )
    };
    let rows = read(&file, party_ids, needs_urban, needs_invalid).map_err(fail)?;
    if let Some(st) = stations {
        check_protocols(st, &rows, party_ids.len()).map_err(fail)?;
    }
    let (groups, differing) = weigh(m, &rows, r.selection).map_err(fail)?;
    Ok(RecountsFit {
        info: RecountsInfo {
            file: r.file.clone(),
            source: r.source.clone(),
            selection: r.selection,
            enrichment,
            stations: rows.len(),
            differing,
        },
        groups,
    })
}

/// Each row's terms, stations alike counted once, and how many rows differ; or the rows no
/// error of `m` explains.
fn weigh(
    m: &CountErrorsModel,
    rows: &[Row],
    selection: RecountSelection,
) -> Result<(Vec<Group>, usize), String> {
    let mut groups: BTreeMap<(bool, String), Group> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut differing = 0;
    for row in rows {
        let observed = explain(m, &row.reported, &row.recounted);
        if observed.is_empty() {
            unexplained.push(format!(
                "line {} (station \"{}\"): no slip, swap or zeroed figure of the scenario's `count_errors` turns the recounted figures into the reported ones",
                row.line, row.station
            ));
            continue;
        }
        differing += (row.reported != row.recounted) as usize;
        let right = if selection == RecountSelection::Targeted {
            explain(m, &row.recounted, &row.recounted)
        } else {
            Vec::new()
        };
        // Stations alike (most recounts change nothing) are weighed once, times their number.
        let key = format!("{observed:?}{right:?}");
        groups
            .entry((row.urban, key))
            .or_insert(Group {
                urban: row.urban,
                stations: 0,
                observed,
                right,
            })
            .stations += 1;
    }
    if !unexplained.is_empty() {
        let n = unexplained.len();
        unexplained.truncate(MAX_LISTED);
        return Err(format!(
            "{n} station(s) the counting errors cannot explain (a recount is read as the true count, and the difference as honest errors only):\n  {}",
            unexplained.join("\n  ")
        ));
    }
    Ok((groups.into_values().collect(), differing))
}

/// With real stations (`protocols`): every recounted station is one of them (by `region` and
/// `station`, or `station` alone where it names one station), its reported figures are the
/// protocol's, and its recount finds no more ballots than it has registered voters.
fn check_protocols(st: &Stations, rows: &[Row], parties: usize) -> Result<(), String> {
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in st.precinct.iter().enumerate() {
        index.entry(p.as_str()).or_default().push(i);
    }
    let mut problems = Vec::new();
    for row in rows {
        let at = format!("line {} (station \"{}\")", row.line, row.station);
        let found: Vec<usize> = index
            .get(row.station.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| {
                row.region
                    .as_ref()
                    .is_none_or(|r| st.regions[st.region[i] as usize] == *r)
            })
            .collect();
        let i = match found.as_slice() {
            [i] => *i,
            [] => {
                let region = row
                    .region
                    .as_ref()
                    .map_or(String::new(), |r| format!(" in region \"{r}\""));
                problems.push(format!(
                    "{at}: no such station{region} among the protocols' {} stations",
                    st.len()
                ));
                continue;
            }
            many => {
                let regions: Vec<&str> = many
                    .iter()
                    .map(|&i| st.regions[st.region[i] as usize].as_str())
                    .collect();
                problems.push(format!(
                    "{at}: a station of that name is in {} regions ({}); add a `region` column",
                    many.len(),
                    regions.join(", ")
                ));
                continue;
            }
        };
        let protocol: Vec<u64> = st.votes_of(i).iter().map(|&v| v as u64).collect();
        let mut differ: Vec<String> = (0..parties)
            .filter(|&j| row.reported[j] != protocol[j])
            .map(|j| {
                format!(
                    "{} {} against {}",
                    st.parties[j], row.reported[j], protocol[j]
                )
            })
            .collect();
        if row.has_invalid && row.reported[parties] != st.invalid[i] as u64 {
            differ.push(format!(
                "invalid {} against {}",
                row.reported[parties], st.invalid[i]
            ));
        }
        if !differ.is_empty() {
            problems.push(format!(
                "{at}: the reported figures are not the protocol's ({}); give the protocol's figures as reported",
                differ.join(", ")
            ));
        }
        let invalid = if row.has_invalid {
            row.recounted[parties]
        } else {
            st.invalid[i] as u64
        };
        let ballots: u64 = row.recounted[..parties].iter().sum::<u64>() + invalid;
        if ballots > st.registered[i] as u64 {
            problems.push(format!(
                "{at}: the recount finds {ballots} ballots, more than the station's {} registered voters",
                st.registered[i]
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    problems.truncate(MAX_LISTED);
    Err(format!(
        "{n} recounted station(s) do not match the protocols:\n  {}",
        problems.join("\n  ")
    ))
}

/// Reads a recounts CSV: a `station` column, `urban` (0/1, required when `needs_urban`),
/// `<party>_reported` and `<party>_recounted` for every party, and `invalid_reported` with
/// `invalid_recounted` (required when `needs_invalid`, else both or neither).
fn read(
    path: &Path,
    ids: &[String],
    needs_urban: bool,
    needs_invalid: bool,
) -> Result<Vec<Row>, String> {
    let header = protocols::read_header(path, Some(',')).map_err(|e| e.to_string())?;
    let position = |name: &str| header.iter().position(|h| h.trim() == name);
    let mut expected: Vec<String> = vec!["station".into(), "region".into(), "urban".into()];
    for id in ids.iter().map(String::as_str).chain(["invalid"]) {
        expected.push(format!("{id}_reported"));
        expected.push(format!("{id}_recounted"));
    }
    if let Some(h) = header
        .iter()
        .find(|h| !expected.contains(&h.trim().to_string()))
    {
        return Err(format!(
            "line 1: unknown column \"{h}\"; the columns are {}",
            expected.join(", ")
        ));
    }
    let mut seen_header = HashSet::new();
    if let Some(h) = header.iter().find(|h| !seen_header.insert(h.trim())) {
        return Err(format!("line 1: column \"{h}\" appears twice"));
    }
    let missing = |name: &str, why: &str| format!("line 1: no column \"{name}\"; {why}");
    let station =
        position("station").ok_or_else(|| missing("station", "each row names its station"))?;
    let urban = position("urban");
    let region = position("region");
    if needs_urban && urban.is_none() {
        return Err(missing(
            "urban",
            "the scenario's counting errors have an urban multiplier, so each station says whether it is urban (1) or rural (0)",
        ));
    }
    let mut columns: Vec<[usize; 2]> = Vec::new();
    for id in ids {
        let find = |suffix: &str| {
            let name = format!("{id}_{suffix}");
            position(&name)
                .ok_or_else(|| missing(&name, "every party has a reported and a recounted figure"))
        };
        columns.push([find("reported")?, find("recounted")?]);
    }
    let invalid = match (position("invalid_reported"), position("invalid_recounted")) {
        (Some(a), Some(b)) => Some([a, b]),
        (None, None) if needs_invalid => {
            return Err(missing(
                "invalid_reported",
                "the scenario's slips land as invalid ballots, so each station gives its invalid ballots reported and recounted",
            ));
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(missing(
                "invalid_recounted",
                "it goes with invalid_reported",
            ));
        }
        (None, Some(_)) => {
            return Err(missing(
                "invalid_reported",
                "it goes with invalid_recounted",
            ));
        }
    };
    let mut reader =
        csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(std::io::BufReader::new(
                protocols::open(path).map_err(|e| e.to_string())?,
            ));
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut stations = HashSet::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(protocols::csv_message(e)),
        }
        let line = rec.position().map_or(0, |p| p.line());
        let cell = |i: usize| rec.get(i).unwrap_or("").trim();
        let mut problem = |column: usize, what: &str| {
            problems.push(format!(
                "line {line}, column {} (\"{}\"): \"{}\" {what}",
                column + 1,
                header[column].trim(),
                cell(column)
            ))
        };
        let name = cell(station).to_string();
        if name.is_empty() {
            problem(station, "is empty; each row names its station");
        } else if !stations.insert(name.clone()) {
            problem(
                station,
                "appears on an earlier row; recount each station once",
            );
        }
        let is_urban = match urban.map(|u| (u, cell(u))) {
            None => false,
            Some((_, "1" | "true")) => true,
            Some((_, "0" | "false")) => false,
            Some((u, _)) => {
                problem(u, "is not 1 (urban) or 0 (rural)");
                false
            }
        };
        let mut figure = |i: usize| match cell(i).parse::<u64>() {
            Ok(v) if v <= MAX_FIGURE => v,
            _ => {
                problem(i, &format!("is not a whole number from 0 to {MAX_FIGURE}"));
                0
            }
        };
        let mut reported = Vec::with_capacity(ids.len() + 1);
        let mut recounted = Vec::with_capacity(ids.len() + 1);
        for [a, b] in columns.iter().copied().chain(invalid) {
            reported.push(figure(a));
            recounted.push(figure(b));
        }
        if invalid.is_none() {
            reported.push(0);
            recounted.push(0);
        }
        rows.push(Row {
            line,
            station: name,
            region: region.map(|r| cell(r).to_string()),
            urban: is_urban,
            has_invalid: invalid.is_some(),
            reported,
            recounted,
        });
        if problems.len() >= MAX_LISTED {
            break;
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "{} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ));
    }
    if rows.is_empty() {
        return Err("no stations; the file has a header and no rows".into());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election::count_errors::CountErrors;
    use crate::election::draw::CountDraw;
    use crate::model::count_errors::{Frequency, SlipsModel, SwappedModel, ZeroedModel};
    use crate::model::prior::Dist;
    use crate::sample::rng::stream;
    use std::collections::HashMap;

    fn frequency(p: f64) -> Frequency {
        Frequency {
            prevalence: Dist::Fixed(p),
            urban_multiplier: 1.0,
        }
    }

    /// Three parties, every kind of error in a station at once with high probabilities.
    fn model(to: SlipTarget, size: CountLawModel, from: Vec<bool>) -> CountErrorsModel {
        CountErrorsModel {
            slips: Some(SlipsModel {
                frequency: frequency(0.6),
                size,
                from,
                to,
            }),
            zeroed: Some(ZeroedModel {
                frequency: frequency(0.3),
                parties: vec![0, 2],
            }),
            swapped: Some(SwappedModel {
                frequency: frequency(0.4),
                pairs: vec![(0, 1), (1, 2)],
            }),
        }
    }

    /// The likelihood of every reported outcome matches how often the forward errors give it:
    /// each outcome's frequency over 200,000 stations within 4.5 binomial standard errors, no
    /// outcome seen that the likelihood calls impossible, and the outcomes seen carry the whole
    /// mass. A small station (piles of 4, 2 and 0 ballots) makes the cap at the pile, the empty
    /// party and the equal figures all matter.
    #[test]
    fn the_likelihood_is_the_forward_errors_frequency() {
        let cases = [
            (
                SlipTarget::Neighbour,
                CountLawModel::Poisson(Dist::Fixed(1.5)),
                vec![true; 3],
                [1.5, 0.0],
            ),
            (
                SlipTarget::Other,
                CountLawModel::NegativeBinomial(Dist::Fixed(2.0), 0.7),
                vec![true; 3],
                [2.0, 0.0],
            ),
            (
                SlipTarget::Invalid,
                CountLawModel::Mixture(vec![(0.8, Dist::Fixed(0.5)), (0.2, Dist::Fixed(6.0))]),
                vec![true, false, true],
                [0.5, 6.0],
            ),
        ];
        let recounted = [4u64, 2, 0, 1];
        const N: u64 = 200_000;
        for (case, (to, size, from, means)) in cases.into_iter().enumerate() {
            let m = model(to, size, from);
            let mut d = CountDraw {
                slips: 0.6,
                zeroed: 0.3,
                swapped: 0.4,
                ..CountDraw::default()
            };
            d.slip_means[..2].copy_from_slice(&means);
            let mut rng = stream(91, case as u64);
            let mut seen: HashMap<Vec<u64>, u64> = HashMap::new();
            for _ in 0..N {
                let mut votes = recounted.to_vec();
                CountErrors::new(&m, &d, &mut rng).apply(&mut rng, false, &mut votes);
                *seen.entry(votes).or_default() += 1;
            }
            let law = m.slips.as_ref().map(|s| &s.size);
            let nothing = law.map_or(1.0, |l| l.probability(&d.slip_means, 0, false));
            let mut mass = 0.0;
            for (reported, &count) in &seen {
                let terms = explain(&m, reported, &recounted);
                let l = likelihood(&terms, law, &d.slip_means, nothing, [0.6, 0.4, 0.3]);
                assert!(
                    l > 0.0,
                    "case {case}: {reported:?} seen {count} times, likelihood 0"
                );
                let f = count as f64 / N as f64;
                let se = (l * (1.0 - l) / N as f64).sqrt();
                assert!(
                    (f - l).abs() <= 4.5 * se + 1e-12,
                    "case {case}: {reported:?} frequency {f}, likelihood {l} (s.e. {se})"
                );
                mass += l;
            }
            // What was never seen has little mass: at most a few times 1/N.
            assert!(
                mass > 1.0 - 1e-3 && mass < 1.0 + 1e-9,
                "case {case}: mass {mass}"
            );
        }
    }

    /// A figure that no error of the scenario can give is not explained.
    #[test]
    fn a_difference_no_error_gives_has_no_explanation() {
        let m = model(
            SlipTarget::Neighbour,
            CountLawModel::Poisson(Dist::Fixed(2.0)),
            vec![true; 3],
        );
        // Party 0 lost 3 and party 2 (not its neighbour) gained 3.
        assert!(explain(&m, &[7, 5, 3, 0], &[10, 5, 0, 0]).is_empty());
        // Ballots appeared from nowhere.
        assert!(explain(&m, &[11, 5, 0, 0], &[10, 5, 0, 0]).is_empty());
        // To the neighbour is explained.
        assert!(!explain(&m, &[7, 8, 0, 0], &[10, 5, 0, 0]).is_empty());
    }

    /// Writes `csv` beside a scenario path in `dir` and attaches it.
    fn attach_csv(
        dir: &Path,
        csv: &str,
        selection: RecountSelection,
        enrichment: Option<f64>,
        m: &CountErrorsModel,
    ) -> Result<RecountsFit, Vec<FieldError>> {
        let file = dir.join("recounts.csv");
        std::fs::write(&file, csv).unwrap();
        let r = RecountsFile {
            file: "recounts.csv".into(),
            sha256: Some(protocols::sha256_file(&file).unwrap()),
            source: "test".into(),
            selection,
            enrichment: enrichment.map(|v| crate::model::prior::Number {
                value: v,
                source: "test".into(),
            }),
        };
        let ids = ["a".to_string(), "b".to_string()];
        attach(&dir.join("s.json"), &r, &ids, Some(m), None)
    }

    /// Zeroed figures alone have a closed form: of n stations, m reported one of the two
    /// parties as 0 where the recount found votes (each with probability c / 2) and the rest
    /// were right (1 - c), so ln L = m ln(c / 2) + (n - m) ln(1 - c); targeted selection
    /// subtracts n ln(rho - (rho - 1)(1 - c)).
    #[test]
    fn zeroed_figures_have_the_closed_form_likelihood() {
        let m = CountErrorsModel {
            slips: None,
            zeroed: Some(ZeroedModel {
                frequency: frequency(0.1),
                parties: vec![0, 1],
            }),
            swapped: None,
        };
        let mut csv = String::from("station,a_reported,a_recounted,b_reported,b_recounted\n");
        let (n, zeroed) = (40u32, 3u32);
        for s in 0..n {
            let a = if s < zeroed { 0 } else { 100 + s };
            csv.push_str(&format!("s{s},{a},{},50,50\n", 100 + s));
        }
        let dir = tempfile::tempdir().unwrap();
        for (selection, rho) in [
            (RecountSelection::Random, None),
            (RecountSelection::Stratified, None),
            (RecountSelection::Targeted, Some(4.0)),
        ] {
            let fit = attach_csv(dir.path(), &csv, selection, rho, &m).unwrap();
            assert_eq!(
                (fit.info.stations, fit.info.differing),
                (n as usize, zeroed as usize)
            );
            for c in [0.01, 0.07, 0.3] {
                let (mf, nf) = (zeroed as f64, n as f64);
                let mut expected = mf * math::ln(c / 2.0) + (nf - mf) * math::ln(1.0 - c);
                if let Some(rho) = rho {
                    expected -= nf * math::ln(rho - (rho - 1.0) * (1.0 - c));
                }
                let got = fit.log_likelihood(&m, 0.0, &[0.0; 4], c, 0.0);
                assert!(
                    (got - expected).abs() < 1e-9 * expected.abs(),
                    "{selection:?} c = {c}: {got} against {expected}"
                );
            }
        }
    }

    /// Bad recounts name the file's line and column, and what is allowed.
    #[test]
    fn bad_recount_files_name_the_line_and_column() {
        let m = CountErrorsModel {
            slips: Some(SlipsModel {
                frequency: frequency(0.1),
                size: CountLawModel::Poisson(Dist::Fixed(2.0)),
                from: vec![true, true],
                to: SlipTarget::Neighbour,
            }),
            zeroed: None,
            swapped: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let header = "station,a_reported,a_recounted,b_reported,b_recounted\n";
        let cases = [
            (
                format!("{header}s1,10,10,x,5\n"),
                "line 2, column 4 (\"b_reported\"): \"x\" is not a whole number",
            ),
            (
                format!("{header}s1,10,10,5,5\ns1,3,3,4,4\n"),
                "line 3, column 1 (\"station\"): \"s1\" appears on an earlier row",
            ),
            (
                "station,a_reported,a_recounted,b_reported\ns1,1,1,1\n".to_string(),
                "no column \"b_recounted\"",
            ),
            (header.to_string(), "no stations"),
            (
                "station,a_reported,a_recounted,b_reported,b_recounted,c_reported\n".to_string(),
                "unknown column \"c_reported\"",
            ),
            (
                format!("{header}s1,10,10,5,5\ns2,10,12,5,5\n"),
                "line 3 (station \"s2\"): no slip, swap or zeroed figure",
            ),
        ];
        for (csv, says) in cases {
            let e = attach_csv(dir.path(), &csv, RecountSelection::Random, None, &m).unwrap_err();
            let text = e[0].to_string();
            assert!(
                text.contains("observations.recounts.file") && text.contains(says),
                "{text}"
            );
        }
        let csv = format!("{header}s1,10,10,5,5\n");
        let e = attach_csv(dir.path(), &csv, RecountSelection::Targeted, None, &m).unwrap_err();
        assert_eq!(e[0].path, "observations.recounts.enrichment");
        let e = attach_csv(dir.path(), &csv, RecountSelection::Random, Some(2.0), &m).unwrap_err();
        assert_eq!(e[0].path, "observations.recounts.enrichment");
        let e =
            attach_csv(dir.path(), &csv, RecountSelection::Targeted, Some(0.5), &m).unwrap_err();
        assert!(e[0].to_string().contains("allowed 1 to"), "{}", e[0]);
    }

    /// Simulation-based calibration of the counting errors' posterior from recounts. Each of
    /// 120 replications draws the slips' prevalence and mean and the zeroed figures' prevalence
    /// from their priors, runs the forward errors over 150 stations, and recounts (a) the first
    /// 50 (a random sample) and (b) every wrong station and a fifth of the right ones (targeted,
    /// enrichment 5). The posterior from 1,000 prior draws weighed by the likelihood puts the
    /// truth's rank uniform over 10 bins (chi-square below its 0.999 quantile, 27.9) with 90%
    /// coverage within 4 binomial sd, for every unknown and both selections; (c) reading the
    /// targeted sample as random fails it for the slips' prevalence.
    #[test]
    fn recount_posteriors_are_calibrated_for_random_and_targeted_selection() {
        use crate::election::count_errors::draw;
        use crate::sample::exact::uniform;
        let m = CountErrorsModel {
            slips: Some(SlipsModel {
                frequency: Frequency {
                    prevalence: Dist::Uniform(0.0, 0.4),
                    urban_multiplier: 1.0,
                },
                size: CountLawModel::Poisson(Dist::Uniform(0.5, 6.0)),
                from: vec![true; 3],
                to: SlipTarget::Neighbour,
            }),
            zeroed: Some(ZeroedModel {
                frequency: Frequency {
                    prevalence: Dist::Uniform(0.0, 0.1),
                    urban_multiplier: 1.0,
                },
                parties: vec![0, 1, 2],
            }),
            swapped: None,
        };
        const R: u64 = 120;
        const POOL: u64 = 1000;
        const BINS: usize = 10;
        let rho = 5.0;
        let unknowns = |d: &CountDraw| [d.slips, d.slip_means[0], d.zeroed];
        // [selection][unknown]: the rank bins and the replications whose 90% interval covers.
        let mut ranks = [[[0u64; BINS]; 3]; 3];
        let mut covered = [[0u64; 3]; 3];
        for r in 0..R {
            let mut rng = stream(404, r);
            let truth = draw(&m, &mut rng);
            let mut errors = CountErrors::new(&m, &truth, &mut rng);
            let (mut random, mut targeted) = (Vec::new(), Vec::new());
            for s in 0..150u64 {
                let mut figure = |lo: f64, span: f64| (lo + span * uniform(&mut rng)) as u64;
                let recounted = vec![figure(20.0, 60.0), figure(10.0, 30.0), figure(5.0, 10.0), 3];
                let mut reported = recounted.clone();
                errors.apply(&mut rng, false, &mut reported);
                let wrong = reported != recounted;
                let row = Row {
                    line: s + 2,
                    station: format!("s{s}"),
                    region: None,
                    urban: false,
                    has_invalid: true,
                    reported,
                    recounted,
                };
                if wrong || uniform(&mut rng) * rho < 1.0 {
                    targeted.push(row.clone());
                }
                if s < 50 {
                    random.push(row);
                }
            }
            let fits = [
                (RecountSelection::Random, &random),
                (RecountSelection::Targeted, &targeted),
                (RecountSelection::Random, &targeted),
            ]
            .map(|(selection, rows)| {
                let (groups, differing) = weigh(&m, rows, selection).expect("forward rows");
                RecountsFit {
                    info: RecountsInfo {
                        file: String::new(),
                        source: String::new(),
                        selection,
                        enrichment: rho,
                        stations: rows.len(),
                        differing,
                    },
                    groups,
                }
            });
            let mut prior = stream(405, r);
            let pool: Vec<CountDraw> = (0..POOL).map(|_| draw(&m, &mut prior)).collect();
            for (case, fit) in fits.iter().enumerate() {
                let ll: Vec<f64> = pool
                    .iter()
                    .map(|d| fit.log_likelihood(&m, d.slips, &d.slip_means, d.zeroed, d.swapped))
                    .collect();
                let top = ll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let w: Vec<f64> = ll.iter().map(|l| math::exp(l - top)).collect();
                let total: f64 = w.iter().sum();
                for u in 0..3 {
                    let t = unknowns(&truth)[u];
                    let below: f64 = pool
                        .iter()
                        .zip(&w)
                        .filter(|(d, _)| unknowns(d)[u] < t)
                        .map(|(_, w)| w)
                        .sum();
                    let cdf = below / total;
                    ranks[case][u][((cdf * BINS as f64) as usize).min(BINS - 1)] += 1;
                    covered[case][u] += (0.05..=0.95).contains(&cdf) as u64;
                }
            }
        }
        let expected = R as f64 / BINS as f64;
        let chi2 = |bins: &[u64; BINS]| -> f64 {
            bins.iter()
                .map(|&b| (b as f64 - expected).powi(2) / expected)
                .sum()
        };
        let sd = (R as f64 * 0.09).sqrt();
        for case in 0..2 {
            for u in 0..3 {
                let c = chi2(&ranks[case][u]);
                assert!(
                    c < 27.88,
                    "selection {case}, unknown {u}: chi-square {c}, ranks {:?}",
                    ranks[case][u]
                );
                let cover = covered[case][u] as f64;
                assert!(
                    (cover - 0.9 * R as f64).abs() <= 4.0 * sd,
                    "selection {case}, unknown {u}: 90% intervals cover {cover} of {R}"
                );
            }
        }
        let c = chi2(&ranks[2][0]);
        assert!(
            c > 27.88,
            "a targeted sample read as random should be miscalibrated: {c}"
        );
    }
}
