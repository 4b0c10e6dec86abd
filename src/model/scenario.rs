//! The scenario file format: what a user writes in scenarios/<name>.json.
//!
//! These types mirror the JSON one to one and only parse; `model::Model::build` checks every
//! number and turns a scenario into something the engine can run. Unknown fields are errors
//! everywhere, so a typo never silently becomes a default.

use crate::model::prior::{Number, Prior};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A complete scenario: the country, true behaviour, irregularities and run defaults.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short title.
    pub title: String,
    /// The question this scenario answers, in one sentence.
    pub question: String,
    /// One paragraph on what the scenario assumes, for a general reader.
    pub description: String,
    /// The parties on the ballot, in ballot order.
    pub parties: Vec<Party>,
    /// The parties whose fate the scenario asks about (e.g. ["nsdp", "ak_zhol"]): the result
    /// reports P(any of them crosses) and P(all of them cross).
    pub focus: Vec<String>,
    /// Share of ballots cast that are truly spoiled (invalid).
    pub spoiled: Prior,
    /// Share of valid votes a party needs to win seats (0.07 in Kazakhstan 2007).
    pub threshold: Number,
    /// Seats allocated by party list (98 in 2007).
    pub seats: Number,
    /// Seat allocation method among parties over the threshold.
    #[serde(default)]
    pub allocation: Allocation,
    /// The distribution of precinct sizes within a region (drawn countries; a country of real
    /// stations, `protocols`, has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precinct_sizes: Option<PrecinctSizes>,
    /// Precinct-level heterogeneity of behaviour.
    pub behaviour: Behaviour,
    /// National totals the regions must add up to (optional): a check on hand-edited regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// The real polling stations (written by `recount import`): they replace drawn precinct
    /// sizes, and the regions must match them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocols: Option<ProtocolsFile>,
    /// The regions: 14 oblasts and the cities of Astana and Almaty.
    pub regions: Vec<Region>,
    /// How often counts are irregular and what irregular counts do (absent: every count is
    /// regular).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub irregularities: Option<Irregularities>,
    /// Honest counting errors measured in ballots, in any station (`count_errors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_errors: Option<CountErrors>,
    /// Changes above the stations, from the preliminary count (the stations' protocols added
    /// up) to the final result (`tabulation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tabulation: Option<Tabulation>,
    /// Defaults for `recount run`.
    pub run: RunDefaults,
    /// What was observed; when present, `recount run` answers the inverse question
    /// ("given what was observed, how likely is it that ... truly crossed?").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observations: Option<Observations>,
    /// How simulated elections are weighted against the observations (inverse question only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<Inference>,
}

/// A party on the ballot.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Stable identifier used in outputs (e.g. "nsdp").
    pub id: String,
    /// Display name.
    pub name: String,
    /// The official (reported) vote count, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_votes: Option<Number>,
    /// Prior on the party's true national share of valid votes. Exactly one party omits it and
    /// sets `remainder: true` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<Prior>,
    /// This party's true share is whatever the others leave (1 - their sum).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remainder: bool,
}

/// Seat allocation method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Largest remainder with the Hare quota (Kazakhstan's method).
    #[default]
    Hare,
    /// D'Hondt highest averages.
    Dhondt,
    /// Sainte-Laguë highest averages.
    SainteLague,
}

/// Precinct sizes: registered voters split across a region's precincts in proportion to
/// Gamma(shape) weights on top of a minimum, summing exactly to the region's electorate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrecinctSizes {
    /// Gamma shape of the size weights: the coefficient of variation is 1/sqrt(shape).
    pub shape: Number,
    /// Smallest precinct (registered voters).
    pub minimum: Number,
}

/// Precinct-level heterogeneity.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// Concentration (a + b) of the Beta of precinct turnout around its regional mean.
    pub turnout_concentration: Number,
    /// Concentration of the Dirichlet of precinct vote shares around the regional means.
    pub share_concentration: Number,
}

/// The country's published totals: the regions' precincts and registered voters must sum to them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Country {
    /// Polling stations in the whole country.
    pub precincts: f64,
    /// Registered voters in the whole country.
    pub registered: f64,
    /// Source of both totals.
    pub source: String,
}

/// A country's real precinct protocols, in recount's normalised CSV
/// (`region,precinct,registered,ballots,invalid,<party ids>`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolsFile {
    /// Path of the CSV, relative to the scenario file's folder.
    pub file: String,
    /// SHA-256 of the file: a changed file is refused, and the scenario's hash covers it.
    pub sha256: String,
    /// Where the protocols come from.
    pub source: String,
}

/// One region.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Region name.
    pub name: String,
    /// Number of polling stations.
    pub precincts: f64,
    /// Registered voters.
    pub registered: f64,
    /// Fraction of the region's precincts that are urban (1 for Astana and Almaty city).
    pub urban_fraction: f64,
    /// Precincts using the Saylau electronic voting system.
    pub evoting_precincts: f64,
    /// Source of `precincts`, `registered`, `urban_fraction` and `evoting_precincts`.
    pub source: String,
    /// Mean true turnout.
    pub turnout: Number,
    /// Multipliers on a party's national share in this region (party id -> factor); parties not
    /// named have factor 1. National means are re-balanced so they still match the prior.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub support_factors: BTreeMap<String, Number>,
}

/// Irregular counts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Irregularities {
    /// Probability that a precinct's count is irregular (drawn once per simulated election).
    pub prevalence: Prior,
    /// Multiplier on the prevalence in urban precincts (result capped at 1).
    pub urban_multiplier: Number,
    /// Multiplier on the prevalence in electronic-voting precincts (result capped at 1).
    pub evoting_multiplier: Number,
    /// The party irregular counts favour.
    pub beneficiary: String,
    /// Ballots for target parties counted for the beneficiary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Mechanism>,
    /// Ballots added for the beneficiary out of the registered non-voters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuffing: Option<Mechanism>,
    /// Valid ballots of target parties declared spoiled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidation: Option<Mechanism>,
    /// The protocol replaced by invented figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<Rewrite>,
    /// Honest, undirected error: ballots land on a wrong party at random.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miscount: Option<Miscount>,
}

/// A directed mechanism (transfer, stuffing, invalidation).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mechanism {
    /// Probability that the mechanism acts in an irregular precinct (drawn once per election).
    pub probability: Prior,
    /// Mean intensity (drawn once per election): the probability that each affected ballot is
    /// moved (transfer), invalidated (invalidation), or that each registered non-voter gets a
    /// ballot stuffed (stuffing).
    pub intensity: Prior,
    /// Concentration of the Beta of a precinct's intensity around the election's mean; absent
    /// means every acting precinct uses the mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispersion: Option<Number>,
    /// Parties whose ballots are affected (transfer, invalidation); default: every party but the
    /// beneficiary. Not used by stuffing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
}

/// The protocol replaced by invented figures.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rewrite {
    /// Probability that the protocol is rewritten in an irregular precinct.
    pub probability: Prior,
    /// Invented turnout, drawn per rewritten precinct.
    pub turnout: Prior,
    /// Invented beneficiary share of ballots, drawn per rewritten precinct.
    pub share: Prior,
}

/// Undirected counting error.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Miscount {
    /// Probability that an irregular precinct's count has undirected errors.
    pub probability: Prior,
    /// Probability that a regular precinct's count has them too.
    pub regular_probability: Number,
    /// Fraction of valid ballots landing on a wrong party, per affected precinct (mean, drawn
    /// once per election).
    pub intensity: Prior,
}

/// Honest counting errors measured in ballots, acting in every station, irregular or not, after
/// the irregularities: a slip of k ballots, a party's figure entered as 0, two columns exchanged.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountErrors {
    /// Ballots put on the wrong pile (or declared invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slips: Option<Slips>,
    /// A party's figure entered as 0: its votes vanish from the reported count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zeroed: Option<Zeroed>,
    /// Two parties' figures exchanged (by default, parties adjacent on the ballot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swapped: Option<Swapped>,
}

/// Ballots put on the wrong pile: in a station with a slip, k ballots leave one party's pile.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slips {
    /// Probability that a station's count has a slip (drawn once per election).
    pub prevalence: Prior,
    /// Multiplier on the prevalence in urban stations (result capped at 1); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban_multiplier: Option<Number>,
    /// How many ballots one slip moves (at most the pile it leaves).
    pub size: CountLaw,
    /// Parties whose piles ballots slip from, a pile chosen in proportion to its ballots;
    /// default: every party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<String>>,
    /// Where the ballots land.
    pub to: SlipTarget,
}

/// Where slipped ballots land.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlipTarget {
    /// A party next to it on the ballot (either side, equally likely; the only one at an end).
    Neighbour,
    /// Any other party, equally likely.
    Other,
    /// Declared invalid.
    Invalid,
}

/// The law of a count of ballots: Poisson, negative binomial, or a mixture of Poissons (many
/// small slips and rare large ones).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "law", rename_all = "snake_case", deny_unknown_fields)]
pub enum CountLaw {
    /// Poisson with mean `mean`.
    Poisson {
        /// Mean ballots (drawn once per election).
        mean: Prior,
    },
    /// Negative binomial: Poisson with a Gamma mean of shape `shape` (variance mean + mean^2 /
    /// shape).
    NegativeBinomial {
        /// Mean ballots (drawn once per election).
        mean: Prior,
        /// Gamma shape: smaller is more dispersed.
        shape: Number,
    },
    /// A mixture of Poissons, each with its weight (the weights sum to 1).
    Mixture {
        /// Up to four components.
        components: Vec<CountComponent>,
    },
}

/// One Poisson of a mixture.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountComponent {
    /// Its probability.
    pub weight: Number,
    /// Its mean ballots (drawn once per election).
    pub mean: Prior,
}

/// A party's figure entered as 0.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Zeroed {
    /// Probability that a station's protocol has a figure entered as 0 (drawn once per election).
    pub prevalence: Prior,
    /// Multiplier on the prevalence in urban stations (result capped at 1); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban_multiplier: Option<Number>,
    /// The parties whose figure can be lost, one chosen uniformly; default: every party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parties: Option<Vec<String>>,
}

/// Two parties' figures exchanged.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Swapped {
    /// Probability that a station's protocol has two figures exchanged (drawn once per election).
    pub prevalence: Prior,
    /// Multiplier on the prevalence in urban stations (result capped at 1); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban_multiplier: Option<Number>,
    /// The pairs that can be exchanged, one chosen uniformly; default: each two parties adjacent
    /// on the ballot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs: Option<Vec<[String; 2]>>,
}

/// Defaults for `recount run`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    /// Simulated elections.
    pub trials: u64,
    /// Master seed.
    pub seed: u64,
}

/// The tabulation stage: from the preliminary count, the sum of the stations' protocols, to the
/// final result, a share of some parties' votes moves to the beneficiary and votes may be added
/// to it. Applied to the national totals, after every station-level error.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tabulation {
    /// The party the tabulation favours (a party id).
    pub beneficiary: String,
    /// Share of each `from` party's preliminary votes moved to the beneficiary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Prior>,
    /// The parties `transfer` takes from (default: every party but the beneficiary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<String>>,
    /// Votes added to the beneficiary, as a share of the preliminary valid votes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<Prior>,
}

/// A published preliminary count: every party's votes, compared (for the inference's parties)
/// with the simulated count before the tabulation stage.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Preliminary {
    /// Preliminary votes per party id; every party must be given.
    pub votes: BTreeMap<String, Number>,
}

/// What was observed (the official totals are the parties' `official_votes`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observations {
    /// The observers' sample of counts, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observers: Option<Observers>,
    /// Exit polls, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_poll: Option<ExitPoll>,
    /// The official turnout (ballots cast over registered voters), compared like the shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turnout: Option<Number>,
    /// The official share of invalid ballots among ballots cast, compared like the shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<Number>,
    /// The preliminary count, where it was published: evidence on the `tabulation` stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preliminary: Option<Preliminary>,
    /// Stations recounted: each one's reported and recounted figures, evidence on `count_errors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recounts: Option<RecountsFile>,
}

/// A CSV of recounted stations (`station`, optional `urban`, `<party>_reported` and
/// `<party>_recounted` for every party, optionally `invalid_reported` and `invalid_recounted`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecountsFile {
    /// Path of the CSV, relative to the scenario file's folder.
    pub file: String,
    /// SHA-256 of the file: a changed file is refused, and the scenario's hash covers it. When
    /// missing, the error gives the value to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Where the recounts come from.
    pub source: String,
    /// How the recounted stations were chosen.
    pub selection: RecountSelection,
    /// With `selection: "targeted"`: how many times likelier a station whose count was wrong
    /// was to be recounted than one whose count was right (1 or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Number>,
}

/// How recounted stations were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecountSelection {
    /// Every station equally likely (a random audit).
    Random,
    /// At random within groups chosen beforehand (regions, urban or rural), not by the results.
    Stratified,
    /// Chosen because they looked wrong (complaints, requests): a wrong count is `enrichment`
    /// times likelier to be recounted.
    Targeted,
}

/// How observers chose precincts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Every precinct equally likely.
    #[default]
    Uniform,
    /// Urban precincts `urban_weight` times as likely as rural ones.
    Urban,
}

/// The observers' sample: n counts observed, a share of them assessed negatively.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observers {
    /// Number of counts observed (n).
    pub counts_observed: Number,
    /// Share of observed counts assessed negatively (k = round(share x n)).
    pub negative_share: Number,
    /// How observers chose precincts.
    #[serde(default)]
    pub selection: Selection,
    /// With `selection: "urban"`: how many times likelier an urban precinct is to be observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urban_weight: Option<Number>,
    /// P(assessed negatively | the count was irregular): the assessment's sensitivity.
    pub p_negative_if_irregular: Prior,
    /// P(assessed negatively | the count was regular): procedural faults without altered
    /// figures were assessed negatively too.
    pub p_negative_if_regular: Prior,
}

/// Exit polls: shares per party, with a standard error and a common bias.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitPoll {
    /// Poll share of valid votes per party id.
    pub shares: BTreeMap<String, Number>,
    /// Standard error of each poll share (as a share, e.g. 0.01 = one point).
    pub standard_error: Number,
    /// Common bias of the polls (poll = truth + bias + error), drawn per simulated election.
    pub bias: Prior,
}

/// Kernel used on the distance between simulated and official shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// exp(-d^2 / 2) with d the distance in tolerances.
    #[default]
    Gaussian,
    /// 1 if every party is within the tolerance, else 0 (plain rejection ABC).
    Uniform,
}

/// Approximate Bayesian computation settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inference {
    /// Kernel on the distance to the official shares.
    #[serde(default)]
    pub kernel: Kernel,
    /// Tolerance (kernel bandwidth) in percentage points of share, per party.
    pub tolerance: Number,
    /// Parties whose reported shares are compared with the official ones (default: all but the
    /// remainder party, whose share the others imply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parties: Option<Vec<String>>,
    /// With real stations (`protocols`): also weigh each simulated election by how closely its
    /// fingerprint features match the protocols'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocols: Option<ProtocolFit>,
    /// How the unknowns are proposed: "guided" (default) centres the true support of compared
    /// parties on the values that reproduce the official result on average; "prior" draws
    /// everything from the priors (plain ABC importance sampling, slower, for checking).
    #[serde(default)]
    pub proposal: ProposalKind,
    /// Other priors to state the answer under beside the scenario's own, computed by
    /// reweighting the same trials: each names the unknowns it changes (as the unknowns' table
    /// names them, "transfer.intensity", "support.nsdp") and their prior there, which must lie
    /// within the scenario's own prior.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
}

/// The answer under another prior (`inference.alternatives`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    /// What it assumes, in words ("a milder transfer").
    pub name: String,
    /// The unknowns it changes and their prior here, by the unknown's name.
    pub priors: BTreeMap<String, Prior>,
}

/// The fingerprint features the inverse question compares with the protocols': mean station
/// turnout, the share of stations with turnout of 80% or more, the share with turnout and the
/// beneficiary's share both at 80% or more, and the correlation of turnout and that share.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolFit {
    /// Kernel bandwidth on each feature, in percentage points (the correlation in hundredths).
    pub tolerance: Number,
}

/// How the inverse question proposes unknowns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// Guided by the expected effect of the irregularities (see `inverse`).
    #[default]
    Guided,
    /// The priors themselves.
    Prior,
}

/// Every number of a scenario's JSON as (path, value, source) rows: quantities with their own
/// `source`, and plain numbers with the nearest enclosing one (a region's, say).
pub fn sourced_numbers(value: &serde_json::Value) -> Vec<[String; 3]> {
    fn walk(
        v: &serde_json::Value,
        path: String,
        inherited: Option<&str>,
        out: &mut Vec<[String; 3]>,
    ) {
        match v {
            serde_json::Value::Object(map) => {
                let source = map.get("source").and_then(serde_json::Value::as_str);
                let quantity = source.is_some()
                    && ["value", "uniform", "beta", "observed"]
                        .iter()
                        .any(|k| map.contains_key(*k));
                if quantity {
                    let what: Vec<String> = map
                        .iter()
                        .filter(|(k, _)| *k != "source")
                        .map(|(k, v)| quantity_text(k, v))
                        .collect();
                    out.push([path, what.join(", "), source.unwrap_or("").to_string()]);
                    return;
                }
                for (k, child) in map {
                    if k == "source" {
                        continue;
                    }
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(child, p, source.or(inherited), out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{path}[{i}]"), inherited, out);
                }
            }
            serde_json::Value::Number(n) => {
                // A seed is a name, not a quantity: no thousands separators.
                let text = if path.ends_with("seed") {
                    n.to_string()
                } else {
                    number_text(v)
                };
                out.push([path, text, inherited.unwrap_or("").to_string()])
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), None, &mut out);
    out
}

/// A number as people write it: whole numbers without a decimal point and with thousands
/// separators (9,728; 8,891,561), others as JSON writes them (0.07).
pub fn number_text(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
            let digits = format!("{}", x.abs() as u64);
            let mut grouped = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            if x < 0.0 {
                format!("-{grouped}")
            } else {
                grouped
            }
        }
        _ => v.to_string(),
    }
}

/// One part of a sourced quantity in words: `value` as its number, priors as their law
/// ("Uniform(0.04, 0.09)", "Beta(1, 9)", "observed: 65 of 150"), anything else as "key value".
fn quantity_text(key: &str, v: &serde_json::Value) -> String {
    let pair = |name: &str| match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => format!("{name}({}, {})", number_text(a), number_text(b)),
        _ => format!("{key} {v}"),
    };
    match key {
        "value" => number_text(v),
        "uniform" => pair("Uniform"),
        "beta" => pair("Beta"),
        "observed" => match (v.get("negative"), v.get("of")) {
            (Some(n), Some(of)) => format!("observed: {} of {}", number_text(n), number_text(of)),
            _ => format!("observed {v}"),
        },
        _ => format!("{key} {v}"),
    }
}

/// The JSON Schema of scenario files, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Scenario);
    serde_json::to_string_pretty(&schema).expect("a schema always serialises")
}
