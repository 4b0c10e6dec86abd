//! A validated, compiled scenario: the numbers the engine runs on.
//!
//! `Model::build` checks every field of a `Scenario` against its allowed range and reports the
//! first problem as "field `path`: what is wrong (allowed range)". After that the engine never
//! re-checks anything.
//!
//! The `model` layer also holds the scenario format (`scenario`), priors (`prior`), loading with
//! line:column locations (`load`, `locate`), what is wrong field by field (`problems`), honest
//! counting errors in ballots (`count_errors`), the tabulation stage (`tabulation`), real
//! precinct protocols (`protocols`) and the
//! scenario an import makes of them (`import`). May import: `sample`, `numeric`, `error`.

pub mod count_errors;
pub mod import;
pub mod limits;
pub mod load;
pub(crate) mod locate;
pub mod prior;
pub mod problems;
pub mod protocols;
pub mod recounts;
pub mod scenario;
pub mod tabulation;

use crate::model::prior::Dist;
use crate::model::scenario::{Allocation, Kernel, Mechanism, ProposalKind, Scenario, Selection};

pub use limits::{MAX_CATEGORIES, MAX_PARTIES, MAX_PRECINCTS, MAX_REGIONS};
pub use problems::{FieldError, Problems};

/// A party as the engine and reports see it.
#[derive(Debug, Clone)]
pub struct PartyInfo {
    pub id: String,
    pub name: String,
    pub official_votes: Option<f64>,
}

/// One region, validated.
#[derive(Debug, Clone)]
pub struct RegionModel {
    pub name: String,
    pub precincts: u32,
    pub registered: u64,
    pub urban_fraction: f64,
    pub evoting_precincts: u32,
    pub turnout: f64,
    /// Support multiplier per party (1 where the scenario names none).
    pub factors: Vec<f64>,
}

/// A directed mechanism, validated.
#[derive(Debug, Clone)]
pub struct MechanismModel {
    pub probability: Dist,
    pub intensity: Dist,
    /// Beta concentration of the per-precinct intensity; None = no spread.
    pub dispersion: Option<f64>,
    /// Whether each party is affected.
    pub targets: Vec<bool>,
}

/// Rewritten protocols, validated.
#[derive(Debug, Clone)]
pub struct RewriteModel {
    pub probability: Dist,
    pub turnout: Dist,
    pub share: Dist,
}

/// Undirected miscounts, validated.
#[derive(Debug, Clone)]
pub struct MiscountModel {
    pub probability: Dist,
    pub regular_probability: f64,
    pub intensity: Dist,
}

/// Irregularities, validated.
#[derive(Debug, Clone)]
pub struct IrregularModel {
    pub prevalence: Dist,
    pub urban_multiplier: f64,
    pub evoting_multiplier: f64,
    pub beneficiary: usize,
    pub transfer: Option<MechanismModel>,
    pub stuffing: Option<MechanismModel>,
    pub invalidation: Option<MechanismModel>,
    pub rewrite: Option<RewriteModel>,
    pub miscount: Option<MiscountModel>,
}

impl IrregularModel {
    /// The probability that a precinct's count is irregular, given the trial's prevalence and
    /// the precinct's kind: the prevalence times the urban and the e-voting multipliers (in that
    /// order: every sampler and the inverse question's guides compute it here, so to the bit
    /// alike). Not capped at 1: callers compare a uniform with it or cap it themselves.
    #[inline]
    pub fn irregular_probability(&self, prevalence: f64, urban: bool, evoting: bool) -> f64 {
        let mut p = prevalence;
        if urban {
            p *= self.urban_multiplier;
        }
        if evoting {
            p *= self.evoting_multiplier;
        }
        p
    }
}

/// Exit polls, validated.
#[derive(Debug, Clone)]
pub struct ExitPollModel {
    /// (party index, poll share).
    pub shares: Vec<(usize, f64)>,
    pub standard_error: f64,
    pub bias: Dist,
}

/// What was observed and how trials are weighted against it (the inverse question).
#[derive(Debug, Clone)]
pub struct InverseModel {
    /// Counts observed (n) and assessed negatively (k).
    pub observed: u32,
    pub negative: u32,
    pub selection: Selection,
    pub urban_weight: f64,
    pub sensitivity: Dist,
    pub false_positive: Dist,
    pub exit_poll: Option<ExitPollModel>,
    pub kernel: Kernel,
    /// Kernel bandwidth as a share (the file gives percentage points).
    pub tolerance: f64,
    /// (party index, official share of valid votes) compared with the reported shares.
    pub compare: Vec<(usize, f64)>,
    /// With real stations: the fingerprint features' kernel.
    pub fingerprint: Option<FingerprintFit>,
    pub proposal: ProposalKind,
    /// Official turnout and invalid share, compared with the reported ones like the shares.
    pub turnout: Option<f64>,
    pub invalid: Option<f64>,
    /// (party index, preliminary share of valid votes) compared with the simulated count before
    /// the tabulation stage, for the same parties as `compare`.
    pub preliminary: Vec<(usize, f64)>,
    /// Recounted stations, evidence on the counting errors (set by `load` with the file).
    pub recounts: Option<recounts::RecountsFit>,
    /// Other priors to state the answer under (`inference.alternatives`): a name, and the
    /// unknowns changed (by name, with the field their prior came from).
    pub alternatives: Vec<AlternativePriors>,
}

/// One of `inference.alternatives`, validated as priors; the unknowns' names are checked against
/// the model's unknowns by the inverse question (`question::alternatives`).
#[derive(Debug, Clone)]
pub struct AlternativePriors {
    pub name: String,
    /// (unknown's name, its prior here, the field it was given in).
    pub priors: Vec<(String, Dist, String)>,
}

/// The inverse question's kernel on the fingerprint features (`inference.protocols`).
#[derive(Debug, Clone)]
pub struct FingerprintFit {
    /// Bandwidth as a share (the file gives points).
    pub tolerance: f64,
    /// The protocols' features for the beneficiary (set by `load` with the stations).
    pub observed: Option<protocols::Features>,
}

impl FingerprintFit {
    /// The kernel's bandwidth on each feature (`Features::bandwidths`).
    pub fn bandwidths(&self) -> [f64; 4] {
        self.observed
            .map_or([self.tolerance; 4], |o| o.bandwidths(self.tolerance))
    }
}

/// Everything the engine needs.
#[derive(Debug, Clone)]
pub struct Model {
    pub parties: Vec<PartyInfo>,
    /// Prior on each party's true national share of valid votes; None for the remainder party.
    pub support: Vec<Option<Dist>>,
    pub remainder: usize,
    pub focus: Vec<usize>,
    pub spoiled: Dist,
    pub threshold: f64,
    pub seats: u32,
    pub allocation: Allocation,
    pub size_shape: f64,
    pub size_minimum: u64,
    /// The real stations, for a scenario with `protocols` (attached by `load`, which reads and
    /// checks the file); the layout is then theirs instead of drawn.
    pub stations: Option<std::sync::Arc<protocols::Stations>>,
    pub turnout_concentration: f64,
    pub share_concentration: f64,
    pub regions: Vec<RegionModel>,
    pub irregular: IrregularModel,
    /// Honest counting errors in ballots, in every station (`count_errors`).
    pub count_errors: Option<count_errors::CountErrorsModel>,
    /// Changes from the preliminary count to the final result (`tabulation`).
    pub tabulation: Option<tabulation::TabulationModel>,
    /// Present when the scenario asks the inverse question.
    pub inverse: Option<InverseModel>,
    pub trials: u64,
    pub seed: u64,
}

impl Model {
    /// Number of parties.
    pub fn n_parties(&self) -> usize {
        self.parties.len()
    }

    /// Total precincts.
    /// Why this model needs every station's counts drawn (so not `--sampler pooled`, which
    /// pools the ballots' noise over the country), if it does.
    pub fn needs_station_counts(&self) -> Option<&'static str> {
        if self
            .inverse
            .as_ref()
            .is_some_and(|i| i.fingerprint.is_some())
        {
            return Some(
                "`inference.protocols` weighs each simulated election's fingerprint, which needs every station's counts",
            );
        }
        if self.count_errors.is_some() {
            return Some("`count_errors` act on each station's counts, ballot by ballot");
        }
        None
    }

    pub fn n_precincts(&self) -> u64 {
        self.regions.iter().map(|r| r.precincts as u64).sum()
    }

    /// Index of a party id.
    pub fn party_index(&self, id: &str) -> Option<usize> {
        self.parties.iter().position(|p| p.id == id)
    }

    /// Validates a scenario: every out-of-range number it has, or else the first structural
    /// problem (a structural check after an out-of-range number could be its consequence).
    pub fn build(s: &Scenario) -> Result<Model, Vec<FieldError>> {
        let p = Problems::default();
        let built = Model::build_with(s, &p);
        let mut problems = p.into_vec();
        match built {
            Ok(model) if problems.is_empty() => Ok(model),
            Ok(_) => Err(problems),
            Err(fatal) => {
                if problems.is_empty() {
                    problems.push(FieldError::from_message(fatal));
                }
                Err(problems)
            }
        }
    }

    fn build_with(s: &Scenario, chk: &Problems) -> Result<Model, String> {
        let ids: Vec<&str> = s.parties.iter().map(|p| p.id.as_str()).collect();
        if s.parties.is_empty() || s.parties.len() > MAX_PARTIES {
            return Err(format!(
                "field `parties`: {} parties given, allowed 1 to {MAX_PARTIES}",
                s.parties.len()
            ));
        }
        for (i, id) in ids.iter().enumerate() {
            if id.is_empty() || ids[..i].contains(id) {
                return Err(format!(
                    "field `parties[{i}].id`: \"{id}\" is empty or repeated; ids must be unique"
                ));
            }
        }
        // Ids become file names (`fingerprint-<id>-...`), CSV columns and flag values: a short
        // word, never a path or a formula.
        for (i, id) in ids.iter().enumerate() {
            let first_ok = id
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let rest_ok = id.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
            if !(first_ok && rest_ok && id.len() <= 64) {
                chk.push(FieldError::new(
                    format!("parties[{i}].id"),
                    format!(
                        "\"{}\" is not an id: use letters, digits, '_', '-' and '.', starting with a letter, a digit or '_', at most 64 bytes (ids name files and CSV columns)",
                        id.escape_debug()
                    ),
                ));
            }
        }
        // Names reach terminals, spreadsheets and file names: no control characters (an escape
        // sequence in a party name would rewrite the terminal it is printed on).
        let texts = s
            .parties
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                [
                    (format!("parties[{i}].id"), p.id.as_str()),
                    (format!("parties[{i}].name"), p.name.as_str()),
                ]
            })
            .chain(
                s.regions
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("regions[{i}].name"), r.name.as_str())),
            )
            .chain([("title".to_string(), s.title.as_str())]);
        for (field, text) in texts {
            if let Some(c) = text.chars().find(|c| c.is_control()) {
                chk.push(FieldError::new(
                    field,
                    format!(
                        "contains the control character {:?}; names are printed and written to files, so use printable text",
                        c
                    ),
                ));
            }
        }
        let find = |field: &str, id: &str| -> usize {
            ids.iter().position(|q| *q == id).unwrap_or_else(|| {
                chk.push(FieldError::new(
                    field,
                    format!("no party \"{id}\"; valid options: {}", ids.join(", ")),
                ));
                0
            })
        };

        let (support, remainder, focus) = build_parties(s, chk, &find)?;
        let (regions, size_shape, size_minimum) = build_regions(s, chk, &find)?;
        let irregular = build_irregular(s, chk, &find)?;
        let count_errors = s
            .count_errors
            .as_ref()
            .map(|c| count_errors::build(c, s.parties.len(), chk, &find))
            .transpose()?;
        let tabulation = s
            .tabulation
            .as_ref()
            .map(|t| tabulation::build(t, s.parties.len(), chk, &find))
            .transpose()?;
        let seats = chk.number_in("seats", &s.seats, (1.0, 10_000.0));
        if seats.fract() != 0.0 {
            chk.push(FieldError::from_message(format!(
                "field `seats.value`: {seats} is not a whole number"
            )));
        }
        let inverse = build_inverse(s, chk, &find)?;
        let precincts: u64 = regions.iter().map(|r| r.precincts as u64).sum();
        if let Some(inv) = &inverse
            && inv.observed as u64 > precincts
        {
            chk.push(FieldError::from_message(format!(
                "field `observations.observers.counts_observed.value`: {} is more than the {precincts} precincts",
                inv.observed
            )));
        }
        if s.run.trials == 0 {
            chk.push(FieldError::from_message(
                "field `run.trials`: must be at least 1".into(),
            ));
        }
        Ok(Model {
            parties: s
                .parties
                .iter()
                .map(|p| PartyInfo {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    official_votes: p.official_votes.as_ref().map(|v| v.value),
                })
                .collect(),
            support,
            remainder,
            focus,
            spoiled: chk.prior_in("spoiled", &s.spoiled, (0.0, 0.5)),
            threshold: chk.number_in("threshold", &s.threshold, (0.0, 1.0)),
            seats: seats as u32,
            allocation: s.allocation,
            size_shape,
            size_minimum,
            stations: None,
            turnout_concentration: chk.number_in(
                "behaviour.turnout_concentration",
                &s.behaviour.turnout_concentration,
                (0.1, 1e6),
            ),
            share_concentration: chk.number_in(
                "behaviour.share_concentration",
                &s.behaviour.share_concentration,
                (0.1, 1e6),
            ),
            regions,
            irregular,
            count_errors,
            tabulation,
            inverse,
            trials: s.run.trials,
            seed: s.run.seed,
        })
    }
}

/// The parties' support priors, the remainder party and the focus parties.
type Parties = (Vec<Option<Dist>>, usize, Vec<usize>);

fn build_parties(
    s: &Scenario,
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<Parties, String> {
    let mut support = Vec::new();
    let mut remainder = None;
    for (i, p) in s.parties.iter().enumerate() {
        match (&p.support, p.remainder) {
            (None, true) => {
                if remainder.is_some() {
                    return Err(format!(
                        "field `parties[{i}].remainder`: only one party may be the remainder"
                    ));
                }
                remainder = Some(i);
                support.push(None);
            }
            (Some(prior), false) => {
                support.push(Some(chk.prior_in(
                    &format!("parties[{i}].support"),
                    prior,
                    (0.0, 1.0),
                )));
            }
            _ => {
                return Err(format!(
                    "field `parties[{i}]`: give either `support` (a prior) or `remainder: true`, not both or neither"
                ));
            }
        }
        if let Some(v) = &p.official_votes {
            chk.number_in(&format!("parties[{i}].official_votes"), v, (0.0, 1e10));
        }
    }
    // Official shares and deficits are shares of the official votes' sum, which a missing party
    // would make wrong without a word.
    let given = s
        .parties
        .iter()
        .filter(|p| p.official_votes.is_some())
        .count();
    if given > 0 && given < s.parties.len() {
        let i = s
            .parties
            .iter()
            .position(|p| p.official_votes.is_none())
            .unwrap_or(0);
        chk.push(FieldError::new(
            format!("parties[{i}].official_votes"),
            format!(
                "missing, while {given} of the {} parties give theirs; give every party's official votes or none (official shares are shares of their sum)",
                s.parties.len()
            ),
        ));
    }
    let remainder = remainder.ok_or(
        "field `parties`: exactly one party needs `remainder: true` (its share is 1 minus the others')",
    )?;
    let min_others: f64 = support.iter().flatten().map(|d| d.support().0).sum();
    if min_others >= 1.0 {
        chk.push(FieldError::from_message(format!(
            "field `parties`: the other parties' smallest possible shares already sum to {min_others} (must be < 1)"
        )));
    }

    if s.focus.is_empty() {
        return Err("field `focus`: name at least one party".into());
    }
    let focus = s
        .focus
        .iter()
        .enumerate()
        .map(|(i, id)| find(&format!("focus[{i}]"), id))
        .collect();
    Ok((support, remainder, focus))
}

/// The regions (checked against the country's totals) and the precinct sizes' shape and minimum.
fn build_regions(
    s: &Scenario,
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<(Vec<RegionModel>, f64, u64), String> {
    let n_parties = s.parties.len();
    let problems_before = chk.count();
    let regions = s
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let f = |name: &str| format!("regions[{i}].{name}");
            let precincts = chk.count_in(&f("precincts"), r.precincts, 1.0, 1e6);
            // Precinct sizes are stored as u32: a region of at most 4e9 voters keeps every precinct,
            // however unequal, within range.
            let registered = chk.count_in(&f("registered"), r.registered, 0.0, 4e9);
            let evoting = chk.count_in(
                &f("evoting_precincts"),
                r.evoting_precincts,
                0.0,
                precincts as f64,
            );
            if !(0.0..=1.0).contains(&r.urban_fraction) {
                chk.push(FieldError::new(
                    f("urban_fraction"),
                    prior::out_of_range(r.urban_fraction, 0.0, 1.0),
                ));
            }
            let turnout = chk.number_in(&f("turnout"), &r.turnout, (0.0, 1.0));
            if turnout <= 0.0 || turnout >= 1.0 {
                chk.push(FieldError::from_message(format!(
                    "field `{}.value`: {turnout} must lie strictly between 0 and 1",
                    f("turnout")
                )));
            }
            let mut factors = vec![1.0; n_parties];
            for (id, n) in &r.support_factors {
                let field = f(&format!("support_factors.{id}"));
                let j = find(&field, id);
                factors[j] = chk.number_in(&field, n, (0.0, 1e3));
            }
            Ok(RegionModel {
                name: r.name.clone(),
                precincts: precincts as u32,
                registered,
                urban_fraction: r.urban_fraction,
                evoting_precincts: evoting as u32,
                turnout,
                factors,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if regions.is_empty() {
        return Err("field `regions`: at least one region is needed".into());
    }
    if regions.len() > MAX_REGIONS {
        return Err(format!(
            "field `regions`: {} regions given, allowed 1 to {MAX_REGIONS}",
            regions.len()
        ));
    }
    // Totals and sizes are checked only against regions that are valid: an out-of-range
    // region number stands in mid-range, and a mismatch it caused would only repeat that problem.
    let regions_valid = chk.count() == problems_before;
    if let Some(c) = &s.country
        && regions_valid
    {
        check_country_totals(chk, c, &regions);
    }
    let all: u64 = regions.iter().map(|r| r.precincts as u64).sum();
    if all > MAX_PRECINCTS {
        return Err(format!(
            "field `regions`: {all} precincts in all, allowed at most {MAX_PRECINCTS} (every trial simulates each one)"
        ));
    }

    // A country of real stations (`protocols`) has its sizes; a drawn one needs their law.
    let Some(sizes) = &s.precinct_sizes else {
        if s.protocols.is_none() {
            return Err("field `precinct_sizes`: missing; a country without `protocols` (real stations) needs the law its precinct sizes are drawn from".into());
        }
        return Ok((regions, 1.0, 0));
    };
    if s.protocols.is_some() {
        return Err("field `precinct_sizes`: a country of real stations (`protocols`) has their sizes; remove `precinct_sizes`".into());
    }
    let size_shape = chk.number_in("precinct_sizes.shape", &sizes.shape, (0.01, 1e4));
    let size_minimum = chk.number_in("precinct_sizes.minimum", &sizes.minimum, (0.0, 1e6));
    if size_minimum.fract() != 0.0 {
        chk.push(FieldError::from_message(format!(
            "field `precinct_sizes.minimum.value`: {size_minimum} is not a whole number of voters"
        )));
    }
    let size_minimum = size_minimum as u64;
    for (i, r) in regions.iter().enumerate() {
        if regions_valid && r.registered < size_minimum * r.precincts as u64 {
            chk.push(FieldError::from_message(format!(
                "field `regions[{i}].registered`: {} voters cannot fill {} precincts of at least {size_minimum} (precinct_sizes.minimum)",
                r.registered, r.precincts
            )));
        }
    }
    Ok((regions, size_shape, size_minimum))
}

/// The irregularities: prevalence, multipliers, beneficiary and each mechanism.
fn build_irregular(
    s: &Scenario,
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<IrregularModel, String> {
    let n_parties = s.parties.len();
    let Some(ir) = &s.irregularities else {
        // Every count regular: no prevalence, nobody favoured.
        return Ok(IrregularModel {
            prevalence: Dist::Fixed(0.0),
            urban_multiplier: 1.0,
            evoting_multiplier: 1.0,
            beneficiary: 0,
            transfer: None,
            stuffing: None,
            invalidation: None,
            rewrite: None,
            miscount: None,
        });
    };
    let beneficiary = find("irregularities.beneficiary", &ir.beneficiary);
    let mech = |name: &str, m: &Option<Mechanism>| -> Result<Option<MechanismModel>, String> {
        let Some(m) = m else { return Ok(None) };
        let f = |field: &str| format!("irregularities.{name}.{field}");
        let targets = match &m.targets {
            None => (0..n_parties).map(|j| j != beneficiary).collect(),
            Some(_) if name == "stuffing" => {
                return Err(format!(
                    "field `{}`: stuffing adds ballots for the beneficiary and takes none away; remove `targets`",
                    f("targets")
                ));
            }
            Some(list) if list.is_empty() => {
                return Err(format!(
                    "field `{}`: empty; name at least one party, or omit it to target every party but the beneficiary",
                    f("targets")
                ));
            }
            Some(list) => {
                let mut t = vec![false; n_parties];
                for (k, id) in list.iter().enumerate() {
                    let j = find(&f(&format!("targets[{k}]")), id);
                    if j == beneficiary {
                        return Err(format!(
                            "field `{}`: the beneficiary \"{id}\" cannot be a target",
                            f(&format!("targets[{k}]"))
                        ));
                    }
                    t[j] = true;
                }
                t
            }
        };
        Ok(Some(MechanismModel {
            probability: chk.prior_in(&f("probability"), &m.probability, (0.0, 1.0)),
            intensity: chk.prior_in(&f("intensity"), &m.intensity, (0.0, 1.0)),
            dispersion: m
                .dispersion
                .as_ref()
                .map(|d| chk.number_in(&f("dispersion"), d, (0.01, 1e6))),
            targets,
        }))
    };
    let irregular = IrregularModel {
        prevalence: chk.prior_in("irregularities.prevalence", &ir.prevalence, (0.0, 1.0)),
        urban_multiplier: chk.number_in(
            "irregularities.urban_multiplier",
            &ir.urban_multiplier,
            (0.0, 100.0),
        ),
        evoting_multiplier: chk.number_in(
            "irregularities.evoting_multiplier",
            &ir.evoting_multiplier,
            (0.0, 100.0),
        ),
        beneficiary,
        transfer: mech("transfer", &ir.transfer)?,
        stuffing: mech("stuffing", &ir.stuffing)?,
        invalidation: mech("invalidation", &ir.invalidation)?,
        rewrite: ir
            .rewrite
            .as_ref()
            .map(|r| {
                Ok::<_, String>(RewriteModel {
                    probability: chk.prior_in(
                        "irregularities.rewrite.probability",
                        &r.probability,
                        (0.0, 1.0),
                    ),
                    turnout: chk.prior_in("irregularities.rewrite.turnout", &r.turnout, (0.0, 1.0)),
                    share: chk.prior_in("irregularities.rewrite.share", &r.share, (0.0, 1.0)),
                })
            })
            .transpose()?,
        miscount: ir
            .miscount
            .as_ref()
            .map(|m| {
                Ok::<_, String>(MiscountModel {
                    probability: chk.prior_in(
                        "irregularities.miscount.probability",
                        &m.probability,
                        (0.0, 1.0),
                    ),
                    regular_probability: chk.number_in(
                        "irregularities.miscount.regular_probability",
                        &m.regular_probability,
                        (0.0, 1.0),
                    ),
                    intensity: chk.prior_in(
                        "irregularities.miscount.intensity",
                        &m.intensity,
                        (0.0, 1.0),
                    ),
                })
            })
            .transpose()?,
    };
    Ok(irregular)
}

/// Validates `observations` and `inference` (both or neither).
fn build_inverse(
    s: &Scenario,
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<Option<InverseModel>, String> {
    let (obs, inf) = match (&s.observations, &s.inference) {
        (None, None) => return Ok(None),
        (Some(o), Some(i)) => (o, i),
        (Some(_), None) => {
            return Err("field `inference`: missing; a scenario with `observations` needs `inference` (kernel and tolerance)".into());
        }
        (None, Some(_)) => {
            return Err(
                "field `observations`: missing; `inference` is only used with `observations`"
                    .into(),
            );
        }
    };
    let total: f64 = s
        .parties
        .iter()
        .filter_map(|p| p.official_votes.as_ref())
        .map(|v| v.value)
        .sum();
    if let Some(i) = s.parties.iter().position(|p| p.official_votes.is_none()) {
        return Err(format!(
            "field `parties[{i}].official_votes`: missing; the inverse question compares every party with its official votes"
        ));
    }
    if total <= 0.0 {
        return Err("field `parties[].official_votes`: the official votes sum to 0".into());
    }
    // Without an observers' sample the verdicts' likelihood is 1 (no counts, none negative).
    let (n, share, selection, urban_weight, sensitivity, false_positive) = match &obs.observers {
        None => (
            0.0,
            0.0,
            Selection::Uniform,
            1.0,
            Dist::Fixed(1.0),
            Dist::Fixed(0.0),
        ),
        Some(o) => {
            let before = chk.count();
            let n = chk.number_in(
                "observations.observers.counts_observed",
                &o.counts_observed,
                (1.0, 1e5),
            );
            // After a problem, one count: a stand-in the later checks (a whole number, no more
            // than the precincts) pass, so the one problem is reported once.
            let counts_ok = chk.count() == before && n.fract() == 0.0;
            let n = if chk.count() > before { 1.0 } else { n };
            if n.fract() != 0.0 {
                chk.push(FieldError::from_message(format!(
                    "field `observations.observers.counts_observed.value`: {n} is not a whole number"
                )));
            }
            let before = chk.count();
            let share = chk.number_in(
                "observations.observers.negative_share",
                &o.negative_share,
                (0.0, 1.0),
            );
            if chk.count() == before
                && counts_ok
                && let Some(problem) = impossible_share(o.negative_share.value, n)
            {
                chk.push(FieldError::new(
                    "observations.observers.negative_share.value",
                    problem,
                ));
            }
            let urban_weight = match (o.selection, &o.urban_weight) {
                (Selection::Urban, Some(w)) => {
                    chk.number_in("observations.observers.urban_weight", w, (0.0, 1e3))
                }
                (Selection::Urban, None) => {
                    return Err("field `observations.observers.urban_weight`: missing; `selection: \"urban\"` needs it (how many times likelier an urban precinct is observed)".into());
                }
                (Selection::Uniform, _) => 1.0,
            };
            let sensitivity = chk.prior_in(
                "observations.observers.p_negative_if_irregular",
                &o.p_negative_if_irregular,
                (0.0, 1.0),
            );
            let false_positive = chk.prior_in(
                "observations.observers.p_negative_if_regular",
                &o.p_negative_if_regular,
                (0.0, 1.0),
            );
            (
                n,
                share,
                o.selection,
                urban_weight,
                sensitivity,
                false_positive,
            )
        }
    };
    let exit_poll = obs
        .exit_poll
        .as_ref()
        .map(|e| build_exit_poll(e, chk, find))
        .transpose()?;
    let compare_ids: Vec<String> = match &inf.parties {
        Some(list) => list.clone(),
        // The remainder's share is implied by the others': comparing it too would count the
        // same discrepancy twice.
        None => s
            .parties
            .iter()
            .filter(|p| !p.remainder)
            .map(|p| p.id.clone())
            .collect(),
    };
    if compare_ids.is_empty() {
        return Err("field `inference.parties`: name at least one party".into());
    }
    let compare = compare_ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let j = find(&format!("inference.parties[{k}]"), id);
            let votes = s.parties[j]
                .official_votes
                .as_ref()
                .map_or(0.0, |v| v.value);
            Ok((j, votes / total))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let preliminary = match &obs.preliminary {
        None => Vec::new(),
        Some(p) => build_preliminary(s, p, &compare, chk, find)?,
    };
    let tolerance = chk.number_in("inference.tolerance", &inf.tolerance, (1e-4, 100.0)) / 100.0;
    let fingerprint = match (&inf.protocols, &s.protocols) {
        (None, _) => None,
        (Some(_), None) => {
            return Err("field `inference.protocols`: the fingerprint is compared with real stations; the scenario has no `protocols`".into());
        }
        (Some(p), Some(_)) => Some(FingerprintFit {
            tolerance: chk.number_in("inference.protocols.tolerance", &p.tolerance, (1e-3, 100.0))
                / 100.0,
            observed: None,
        }),
    };
    Ok(Some(InverseModel {
        observed: n as u32,
        negative: (share * n).round() as u32,
        selection,
        urban_weight,
        sensitivity,
        false_positive,
        exit_poll,
        kernel: inf.kernel,
        tolerance,
        compare,
        fingerprint,
        proposal: inf.proposal,
        turnout: obs
            .turnout
            .as_ref()
            .map(|t| chk.number_in("observations.turnout", t, (0.0, 1.0))),
        invalid: obs
            .invalid
            .as_ref()
            .map(|t| chk.number_in("observations.invalid", t, (0.0, 1.0))),
        preliminary,
        recounts: None,
        alternatives: build_alternatives(&inf.alternatives, chk),
    }))
}

/// `inference.alternatives`: each named, changing at least one unknown, each prior valid.
fn build_alternatives(
    alternatives: &[scenario::Alternative],
    chk: &Problems,
) -> Vec<AlternativePriors> {
    alternatives
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let field = format!("inference.alternatives[{k}]");
            if a.name.trim().is_empty() {
                chk.push(FieldError::new(
                    format!("{field}.name"),
                    "say in words what this alternative assumes".to_string(),
                ));
            }
            if a.priors.is_empty() {
                chk.push(FieldError::new(
                    format!("{field}.priors"),
                    "name at least one unknown and its prior here".to_string(),
                ));
            }
            AlternativePriors {
                name: a.name.clone(),
                priors: a
                    .priors
                    .iter()
                    .map(|(unknown, p)| {
                        let at = format!("{field}.priors.{unknown}");
                        let d = chk.prior_in(&at, p, (f64::NEG_INFINITY, f64::INFINITY));
                        (unknown.clone(), d, at)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The preliminary shares of the compared parties (`observations.preliminary`): every party's
/// votes must be given, and the scenario needs a `tabulation` stage to tell them from the final.
fn build_preliminary(
    s: &Scenario,
    p: &scenario::Preliminary,
    compare: &[(usize, f64)],
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<Vec<(usize, f64)>, String> {
    if s.tabulation.is_none() {
        return Err("field `observations.preliminary`: needs a `tabulation` block; without one the preliminary count is the final result".into());
    }
    let mut votes = vec![None; s.parties.len()];
    for (id, n) in &p.votes {
        let before = chk.count();
        let j = find(&format!("observations.preliminary.votes.{id}"), id);
        if chk.count() > before {
            continue; // an unknown id (recorded), not the first party's votes
        }
        votes[j] = Some(chk.number_in(
            &format!("observations.preliminary.votes.{id}"),
            n,
            (0.0, 1e10),
        ));
    }
    if let Some(j) = votes.iter().position(Option::is_none) {
        return Err(format!(
            "field `observations.preliminary.votes`: no votes for \"{}\"; give every party's preliminary votes (its shares are of their sum)",
            s.parties[j].id
        ));
    }
    let total: f64 = votes.iter().flatten().sum();
    if total <= 0.0 {
        return Err("field `observations.preliminary.votes`: the votes sum to 0".into());
    }
    Ok(compare
        .iter()
        .map(|&(j, _)| (j, votes[j].unwrap_or(0.0) / total))
        .collect())
}

/// Why `share` of `n` observed counts cannot be what observers reported, if it cannot: no whole
/// number of negative counts out of `n` rounds to the share as written (to its last digit, as
/// published figures are rounded). 43% of 150 is 64.5, and 65 of 150 (43.3%) rounds to 43%;
/// 43% of 3 is 1.29, and neither 1 of 3 (33.3%) nor 2 of 3 (66.7%) does.
fn impossible_share(share: f64, n: f64) -> Option<String> {
    // Half a unit in the share's last written digit ("0.43": 0.005), at most 6 digits.
    let written = format!("{share}");
    let digits = written.split('.').nth(1).map_or(0, str::len).min(6) as i32;
    let half_unit = 0.5 * 10f64.powi(-digits) + 1e-12;
    let k = (share * n).round();
    if (k / n - share).abs() <= half_unit {
        return None;
    }
    let (lo, hi) = ((share * n).floor(), (share * n).ceil());
    Some(format!(
        "{share} of {n} observed counts is {:.2} counts, and no whole number of counts gives it: \
         {lo} of {n} is {:.1}%, {hi} of {n} is {:.1}%. Give the share as observers counted it \
         (for {lo} of {n}: {:.4}), or the number of counts that share was of",
        share * n,
        100.0 * lo / n,
        100.0 * hi / n,
        lo / n
    ))
}

/// An exit poll: its shares by party (summing to at most 1), standard error and bias prior.
fn build_exit_poll(
    e: &crate::model::scenario::ExitPoll,
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<ExitPollModel, String> {
    let shares = e
        .shares
        .iter()
        .map(|(id, v)| {
            let field = format!("observations.exit_poll.shares.{id}");
            Ok((find(&field, id), chk.number_in(&field, v, (0.0, 1.0))))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let total: f64 = shares.iter().map(|(_, v)| v).sum();
    if total > 1.0 + 1e-6 {
        return Err(format!(
            "field `observations.exit_poll.shares`: the poll shares sum to {total}, more than 1 (they are shares of the same valid votes)"
        ));
    }
    let se = chk.number_in(
        "observations.exit_poll.standard_error",
        &e.standard_error,
        (1e-6, 1.0),
    );
    Ok::<_, String>(ExitPollModel {
        shares,
        standard_error: se,
        bias: chk.prior_in("observations.exit_poll.bias", &e.bias, (-0.5, 0.5)),
    })
}

/// The regions' precincts and registered voters must add up to the country's totals.
fn check_country_totals(
    chk: &Problems,
    c: &crate::model::scenario::Country,
    regions: &[RegionModel],
) {
    let precincts = chk.count_in("country.precincts", c.precincts, 1.0, MAX_PRECINCTS as f64);
    let registered = chk.count_in("country.registered", c.registered, 0.0, 4e13);
    let sum_p: u64 = regions.iter().map(|r| r.precincts as u64).sum();
    let sum_r: u64 = regions.iter().map(|r| r.registered).sum();
    if sum_p != precincts {
        chk.push(FieldError::new(
            "country.precincts",
            format!("{precincts} precincts in the country, but the regions' precincts sum to {sum_p}; make them agree"),
        ));
    }
    if sum_r != registered {
        chk.push(FieldError::new(
            "country.registered",
            format!(
                "{registered} registered voters in the country, but the regions' registered sum to {sum_r} ({} off); make them agree",
                sum_r as i128 - registered as i128
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::impossible_share;

    #[test]
    fn an_observers_share_must_be_some_whole_number_of_counts() {
        // ODIHR's 43% of 150 counts: 65 of 150 is 43.3%, which rounds to 43%.
        assert_eq!(impossible_share(0.43, 150.0), None);
        assert_eq!(impossible_share(0.3333, 3.0), None);
        assert_eq!(impossible_share(0.0, 5.0), None);
        assert_eq!(impossible_share(1.0, 7.0), None);
        // 43% of 3 counts: 1 of 3 is 33.3%, 2 of 3 is 66.7%.
        let why = impossible_share(0.43, 3.0).unwrap();
        assert!(why.contains("1 of 3 is 33.3%, 2 of 3 is 66.7%"), "{why}");
        // More digits are a finer claim: 0.433 of 150 needs 64.95 counts; 65 is 0.43333.
        assert_eq!(impossible_share(0.433, 150.0), None);
        assert!(impossible_share(0.4301, 150.0).is_some());
    }
}
