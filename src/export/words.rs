//! Figures and names as readers read them, and the answer in one sentence.
//!
//! Whole numbers with thousands separated ("9,728"), parties by the short name a newspaper
//! would use ("NSDP", not "nsdp" or "NSDP (National Social-Democratic Party)"), and the run's
//! answer: the chance that a focus party truly reached the threshold, with its interval, what
//! the inverse question was given, and which run made it. The sentence is written here once:
//! the terminal prints it, the JSON carries it (`answer`), the HTML report opens with it.

use crate::engine::summary::Results;
use crate::model::recounts::RecountsInfo;
use crate::model::scenario::RecountSelection;
use crate::numeric::stats::Estimate;
use crate::question::alternatives::AlternativeAnswer;
use crate::question::inverse::InverseSummary;
use crate::question::odds::Odds;
use crate::question::sweep::fmt_num;
use serde::Serialize;

/// 1234567 as "1,234,567".
pub(crate) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A party as readers know it: its name up to any bracket ("NSDP (National Social-Democratic
/// Party)" is "NSDP").
pub(crate) fn short_name(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name)
}

/// The short names of `ids` among `results`' parties (an id with no party stays as it is).
pub(crate) fn party_names(results: &Results, ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            results
                .parties
                .iter()
                .find(|p| &p.id == id)
                .map_or(id.as_str(), |p| short_name(&p.name))
                .to_string()
        })
        .collect()
}

/// The focus parties of `model` by their short names, in focus order.
pub(crate) fn focus_names(model: &crate::model::Model) -> Vec<String> {
    model
        .focus
        .iter()
        .map(|&j| short_name(&model.parties[j].name).to_string())
        .collect()
}

/// The headline probability as figures and tables name it: "P(NSDP or Ak Zhol truly ≥ 7%)".
pub(crate) fn headline(names: &[String], threshold: f64) -> String {
    format!("P({} truly ≥ {})", names.join(" or "), percent(threshold))
}

/// A threshold or share as a percentage in as few digits as it needs ("7%", "4.54%").
pub(crate) fn percent(x: f64) -> String {
    format!("{}%", fmt_num(100.0 * x))
}

/// The run's answer in words (plain text; the report escapes it).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Answer {
    /// The whole sentence.
    pub sentence: String,
    /// The headline figure as the sentence writes it ("17.9% (16.2-19.6%)"), for emphasis.
    pub figure: String,
    /// Inverse runs: what the trials were weighed against, as a phrase ("the official result and
    /// the observers' verdicts (65 of 150 observed counts negative)").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Inverse runs: how far the evidence moved the odds (`odds`), once the prior pass has run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub odds: Option<String>,
}

/// Which run made the answer.
pub struct Made<'a> {
    pub threshold: f64,
    pub sampler: &'a str,
    pub seed: u64,
    pub trials: u64,
}

/// A probability as a percentage to a tenth of a point, with its 95% interval.
fn figure(e: &Estimate) -> String {
    let p = |x: f64| fmt_num((1000.0 * x).round() / 10.0);
    format!("{}% ({}-{}%)", p(e.estimate), p(e.ci95[0]), p(e.ci95[1]))
}

/// The answer of a run: `results` and, for the inverse question, what it was given.
pub fn answer(made: &Made, results: &Results, inverse: Option<&InverseSummary>) -> Answer {
    let th = percent(made.threshold);
    let focus = party_names(results, &results.focus);
    let any = focus.join(" or ");
    let fig = figure(&results.p_any_true_cross);
    let (n, how) = (
        group(made.trials),
        format!("{} sampler, seed {}", made.sampler, made.seed),
    );
    match inverse {
        Some(inv) => {
            let given = evidence(inv, |id| party_names(results, &[id.to_string()]).remove(0));
            Answer {
                sentence: format!(
                    "Given {given}, the chance that {any} truly reached {th} is {fig}, from {n} simulated elections ({how}; effective sample size {:.0}).",
                    inv.ess
                ),
                figure: fig,
                evidence: Some(given),
                odds: inv.odds.as_ref().map(|o| odds(o, &any, &th)),
            }
        }
        None => {
            let who = if focus.len() > 1 {
                "one of them was"
            } else {
                "the party was"
            };
            Answer {
                sentence: format!(
                    "If this scenario's assumptions hold, {any} truly reached {th} in {fig} of {n} simulated elections ({how}); the count reported it in {}, and in {} {who} truly over but reported under.",
                    figure(&results.p_any_reported_cross),
                    figure(&results.p_any_flipped),
                ),
                figure: fig,
                evidence: None,
                odds: None,
            }
        }
    }
}

/// What the inverse question was given: the official result and every piece of evidence the run
/// weighed, as one phrase; `name` names a party by its id.
fn evidence(inv: &InverseSummary, name: impl Fn(&str) -> String) -> String {
    let mut given = if inv.observed_counts > 0 {
        format!(
            "the official result and the observers' verdicts ({} of {} observed counts negative)",
            inv.observed_negative, inv.observed_counts
        )
    } else {
        "the official result (no observers' sample)".to_string()
    };
    if let Some(f) = &inv.fingerprint {
        let b: Vec<String> = f.bandwidths_pp.iter().map(|x| format!("{x:.2}")).collect();
        given.push_str(&format!(
            " and the protocols' fingerprint (mean turnout, turnout >= 80%, the 80%/80% corner and the turnout-share correlation, within {} points)",
            b.join(", ")
        ));
    }
    if !inv.preliminary.is_empty() {
        let shares: Vec<String> = inv
            .preliminary
            .iter()
            .map(|p| format!("{} {:.2}%", name(&p.party), 100.0 * p.share))
            .collect();
        given.push_str(&format!(
            ", and the preliminary count before the tabulation stage ({})",
            shares.join(", ")
        ));
    }
    if let Some(r) = &inv.recounts {
        let how = selection(r);
        given.push_str(&format!(
            ", and the recounts of {} stations ({how}; {} differ from their protocols; source: {})",
            r.stations, r.differing, r.source
        ));
    }
    given
}

/// The weights' tail diagnostic in words ("the weights' tail: Pareto k-hat 0.31, reliable below
/// 0.70"), from an inverse summary's `pareto_k` and `pareto_k_limit`.
pub(crate) fn tail(pareto_k: Option<f64>, limit: f64) -> String {
    match pareto_k {
        Some(k) if k > limit => {
            format!(
                "the weights' tail: Pareto k-hat {k:.2}, too heavy: reliable only below {limit:.2}"
            )
        }
        Some(k) => format!("the weights' tail: Pareto k-hat {k:.2}, reliable below {limit:.2}"),
        // No tail to fit: fewer than five weights stand above the rest, or the largest are all
        // equal (a uniform kernel with the prior as proposal: the ideal case, not a failure).
        None => {
            "the weights' tail: not fitted (fewer than 5 weights above the rest, or the largest all equal)"
                .to_string()
        }
    }
}

/// How far the evidence moved the odds that `any` (the focus parties, "NSDP or Ak Zhol") truly
/// reached `th`, in one sentence: the prior probability, the Bayes factor and the probability at
/// even prior odds.
pub(crate) fn odds(o: &Odds, any: &str, th: &str) -> String {
    let pct = |x: f64| fmt_num((1000.0 * x).round() / 10.0);
    // Two significant digits: 79, 4.0, 0.25, 0.013.
    let bf = |x: f64| {
        if x >= 100.0 {
            format!("{x:.0}")
        } else if x >= 0.001 {
            let digits = (1.0 - crate::numeric::math::log10(x).floor()).max(0.0) as usize;
            format!("{x:.digits$}")
        } else {
            format!("{x:.1e}")
        }
    };
    let (lo, hi) = (o.bayes_factor_ci95[0], o.bayes_factor_ci95[1]);
    let moved = if o.bayes_factor < 1.0 {
        format!("divided its odds by {}", bf(1.0 / o.bayes_factor))
    } else {
        format!("multiplied its odds by {}", bf(o.bayes_factor))
    };
    format!(
        "Before the evidence, the priors alone gave {any} truly reaching {th} a chance of {}% ({} elections drawn from them); the evidence {moved} (Bayes factor {}, 95% {} to {}), so, starting from even odds (50%) instead of the priors', the chance would be {}%.",
        pct(o.prior.estimate),
        group(o.prior_trials),
        bf(o.bayes_factor),
        bf(lo),
        bf(hi),
        pct(o.at_even_odds)
    )
}

/// The answer under another prior in one line ("a milder transfer (transfer.intensity
/// Uniform(0, 0.4)): 0.002 [0.001, 0.004], effective sample size 1820").
pub(crate) fn alternative(a: &AlternativeAnswer) -> String {
    let figure = a.headline.map_or_else(
        || "too few trials left to say".to_string(),
        |e| format!("{:.3} [{:.3}, {:.3}]", e.estimate, e.ci95[0], e.ci95[1]),
    );
    format!(
        "{} ({}): {figure}, effective sample size {:.0}",
        a.name,
        a.priors.join("; "),
        a.ess
    )
}

/// How the recounted stations were chosen ("chosen at random", "targeted: a wrong count 3 times
/// likelier to be recounted").
pub(crate) fn selection(r: &RecountsInfo) -> String {
    match r.selection {
        RecountSelection::Random => "chosen at random".to_string(),
        RecountSelection::Stratified => "chosen at random within strata".to_string(),
        RecountSelection::Targeted => format!(
            "targeted: a wrong count {} times likelier to be recounted",
            fmt_num(r.enrichment)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::question::inverse::PublishedShare;

    fn summary() -> InverseSummary {
        InverseSummary {
            ess: 5000.0,
            pareto_k: Some(0.2),
            pareto_k_limit: 0.7,
            acceptance_rate: 0.4,
            tolerance_pp: 0.1,
            proposal: Default::default(),
            observed_counts: 0,
            observed_negative: 0,
            parameters: vec![],
            fingerprint: None,
            recounts: None,
            preliminary: vec![],
            alternatives: vec![],
            odds: None,
            warning: None,
        }
    }

    #[test]
    fn the_evidence_names_observers_recounts_and_the_preliminary_count() {
        let name = |id: &str| {
            if id == "nsdp" {
                "NSDP".to_string()
            } else {
                id.to_string()
            }
        };
        let mut inv = summary();
        assert_eq!(
            evidence(&inv, name),
            "the official result (no observers' sample)"
        );
        inv.observed_counts = 150;
        inv.observed_negative = 65;
        inv.preliminary = vec![
            PublishedShare {
                party: "nsdp".into(),
                share: 0.0462,
            },
            PublishedShare {
                party: "x".into(),
                share: 0.01,
            },
        ];
        inv.recounts = Some(RecountsInfo {
            file: "r.csv".into(),
            source: "CEC decisions".into(),
            selection: RecountSelection::Targeted,
            enrichment: 5.0,
            stations: 120,
            differing: 17,
        });
        assert_eq!(
            evidence(&inv, name),
            "the official result and the observers' verdicts (65 of 150 observed counts negative), \
             and the preliminary count before the tabulation stage (NSDP 4.62%, x 1.00%), \
             and the recounts of 120 stations (targeted: a wrong count 5 times likelier to be \
             recounted; 17 differ from their protocols; source: CEC decisions)"
        );
    }

    #[test]
    fn names_and_numbers_as_readers_read_them() {
        assert_eq!(group(9728), "9,728");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(group(999), "999");
        assert_eq!(
            short_name("NSDP (National Social-Democratic Party)"),
            "NSDP"
        );
        assert_eq!(short_name("Ak Zhol"), "Ak Zhol");
        assert_eq!(percent(0.07), "7%");
        assert_eq!(percent(0.0454), "4.54%");
        assert_eq!(
            headline(&["NSDP".into(), "Ak Zhol".into()], 0.07),
            "P(NSDP or Ak Zhol truly ≥ 7%)"
        );
    }

    #[test]
    fn the_odds_sentence_says_which_way_the_evidence_moved_them() {
        let prior = Estimate {
            estimate: 0.5,
            ci95: [0.48, 0.52],
            mcse: 0.01,
        };
        let o = crate::question::odds::Odds {
            prior,
            prior_trials: 2048,
            bayes_factor: 0.25,
            bayes_factor_ci95: [0.2, 0.31],
            at_even_odds: 0.2,
        };
        assert_eq!(
            odds(&o, "NSDP or Ak Zhol", "7%"),
            "Before the evidence, the priors alone gave NSDP or Ak Zhol truly reaching 7% a chance of 50% (2,048 elections drawn from them); the evidence divided its odds by 4.0 (Bayes factor 0.25, 95% 0.20 to 0.31), so, starting from even odds (50%) instead of the priors', the chance would be 20%."
        );
        let up = crate::question::odds::Odds {
            bayes_factor: 3.0,
            ..o
        };
        assert!(odds(&up, "NSDP", "7%").contains("multiplied its odds by 3.0 (Bayes factor 3.0,"));
    }
}
