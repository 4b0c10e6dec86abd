//! From a country's precinct protocols to a scenario: `recount import`.
//!
//! Two steps. `propose` reads a header (in any language) and guesses which column holds what,
//! for the user to check and complete (the threshold and seats are law, not data). `scenario`
//! turns checked `Stations` into a scenario whose country is the real stations: their regions and
//! registered voters replace drawn precinct sizes, every party's official votes are the sums, and
//! the honest behaviour is set from the protocols by statistics that a minority of altered
//! stations cannot move much (medians, and spreads read off the lower half of each region's distribution), each with its source.

use crate::model::protocols::{Column, Columns, Mapping, PartyColumn, Stations};
use serde_json::{Value, json};

/// A guessed mapping for `header`, and notes on what could not be guessed.
pub fn propose(header: &[String]) -> (Mapping, Vec<String>) {
    let lower: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
    let find = |keys: &[&str], not: &[&str]| -> Option<usize> {
        lower
            .iter()
            .position(|h| keys.iter().any(|k| h.contains(k)) && !not.iter().any(|k| h.contains(k)))
    };
    let col = |i: usize| Column::Header(header[i].clone());
    let mut notes = Vec::new();
    let region = find(
        &[
            "region",
            "регион",
            "oblast",
            "област",
            "province",
            "state",
            "subject",
        ],
        &[],
    );
    let precinct = find(
        &[
            "precinct",
            "uik",
            "уик",
            "station",
            "участ",
            "polling",
            "bureau",
            "bureau de vote",
        ],
        &[],
    );
    let registered = find(
        &[
            "registered",
            "внесенных в списк",
            "electorate",
            "eligible",
            "inscrits",
            "voters on",
        ],
        &[],
    );
    // Russian protocols give ballots found in mobile and in stationary boxes separately.
    let boxes: Vec<usize> = lower
        .iter()
        .enumerate()
        .filter(|(_, h)| h.contains("в переносных ящиках") || h.contains("в стационарных ящиках"))
        .map(|(i, _)| i)
        .collect();
    let ballots = if boxes.len() == 2 {
        Some(Columns::Sum(boxes.iter().map(|&i| col(i)).collect()))
    } else {
        find(
            &["ballots cast", "votants", "voted", "turnout", "cast"],
            &["invalid", "valid"],
        )
        .map(|i| Columns::One(col(i)))
    };
    let invalid = find(
        &["invalid", "недействительн", "spoiled", "nuls", "rejected"],
        &[],
    );
    let valid = find(
        &["valid", "действительн", "exprimés", "exprimes"],
        &["invalid", "недействительн"],
    );
    let used: Vec<usize> = [region, precinct, registered, invalid, valid]
        .into_iter()
        .flatten()
        .chain(boxes.iter().copied())
        .collect();
    // Parties: columns headed by a ballot number ("7.Party ...") or naming a party.
    let parties: Vec<PartyColumn> = header
        .iter()
        .enumerate()
        .filter(|(i, h)| {
            !used.contains(i) && {
                let l = h.to_lowercase();
                let numbered = h
                    .split_once('.')
                    .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
                numbered
                    || ["party", "партия", "parti", "partei", "bloc"]
                        .iter()
                        .any(|k| l.contains(k))
            }
        })
        .enumerate()
        .map(|(k, (_, h))| PartyColumn {
            id: slug(h).unwrap_or_else(|| format!("party_{}", k + 1)),
            name: display_name(h),
            column: Column::Header(h.clone()),
        })
        .collect();
    let mut missing = |what: &str, found: bool| {
        if !found {
            notes.push(format!(
                "no column looked like `{what}`: set it in the mapping"
            ));
        }
    };
    missing("precinct", precinct.is_some());
    missing("registered", registered.is_some());
    missing("ballots", ballots.is_some());
    missing("invalid", invalid.is_some());
    missing("parties", !parties.is_empty());
    if region.is_none() {
        notes.push(
            "no region column: the country is one region (add `region` if there is one)".into(),
        );
    }
    notes.push(
        "set `threshold` (a fraction of valid votes, e.g. 0.07) and `seats`: they are law, not data".into(),
    );
    notes.push("check each party's `id` (used in outputs) and `name`".into());
    let placeholder = |i: Option<usize>, name: &str| {
        i.map(col)
            .unwrap_or_else(|| Column::Header(format!("<the column of {name}>")))
    };
    let mapping = Mapping {
        delimiter: None,
        region: region.map(col),
        precinct: placeholder(precinct, "the precinct number"),
        registered: placeholder(registered, "registered voters"),
        ballots: ballots.unwrap_or(Columns::One(Column::Header(
            "<the column of ballots cast>".into(),
        ))),
        invalid: placeholder(invalid, "invalid ballots"),
        valid: valid.map(col),
        parties,
        ..Mapping::normalised(&[])
    };
    (mapping, notes)
}

/// A header's text without its ballot number and quotes.
fn display_name(h: &str) -> String {
    let rest = match h.split_once('.') {
        Some((n, rest)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => h,
    };
    rest.trim().to_string()
}

/// An ASCII id from a header's Latin letters, if it has enough of them.
fn slug(h: &str) -> Option<String> {
    let s: String = display_name(h)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join("_");
    (s.len() >= 2 && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())).then_some(s)
}

/// What `scenario` needs besides the stations.
pub struct Names<'a> {
    /// The scenario's title.
    pub title: &'a str,
    /// The protocols file as the scenario names it (relative to the scenario's folder).
    pub protocols_file: &'a str,
    pub protocols_sha256: &'a str,
    /// Where the data come from (cited for every number taken from them).
    pub source: &'a str,
}

/// Checks the mapping's election rules: the problems, each naming the field.
pub fn rules(mapping: &Mapping) -> Vec<String> {
    let mut p = Vec::new();
    match mapping.threshold {
        None => p.push("field `threshold`: missing; the legal threshold as a fraction of valid votes, e.g. 0.07 (0 for none)".to_string()),
        Some(t) if !(0.0..1.0).contains(&t) => p.push(if (1.0..100.0).contains(&t) {
            format!("field `threshold`: {t} is outside [0, 1); shares are fractions: {}?", t / 100.0)
        } else {
            format!(
                "field `threshold`: {} is outside [0, 1)",
                crate::model::prior::show(t)
            )
        }),
        _ => {}
    }
    match mapping.seats {
        None => p.push("field `seats`: missing; the seats allocated by party list".to_string()),
        Some(s) if !(1..=10_000).contains(&s) => {
            p.push(format!("field `seats`: {s} is outside 1 to 10000"))
        }
        _ => {}
    }
    let ids: Vec<&str> = mapping.parties.iter().map(|p| p.id.as_str()).collect();
    let known = |field: &str, id: &str, p: &mut Vec<String>| {
        if !ids.contains(&id) {
            p.push(format!(
                "field `{field}`: no party \"{id}\"; valid options: {}",
                ids.join(", ")
            ));
        }
    };
    if let Some(b) = &mapping.beneficiary {
        known("beneficiary", b, &mut p);
    }
    for f in mapping.focus.iter().flatten() {
        known("focus", f, &mut p);
    }
    p
}

/// The median of `v` (sorted in place); 0 for none.
fn median(v: &mut [f64]) -> f64 {
    quantile(v, 0.5)
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let x = q * (v.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x - x.floor());
    if i + 1 < v.len() {
        v[i] * (1.0 - f) + v[i + 1] * f
    } else {
        v[i]
    }
}

/// A Beta concentration (a + b) from a mean and a robust spread. Irregularities favouring a
/// party push turnout and its share up, so the spread is read off the lower half of each
/// region's values, the half they touch least: (median - lower quartile) / 0.6745 (a normal's
/// in standard deviations), pooled over regions of at least 8 stations.
fn concentration(groups: &mut [Vec<f64>], mean: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for g in groups.iter_mut().filter(|g| g.len() >= 8) {
        let sd = (quantile(g, 0.5) - quantile(g, 0.25)) / 0.6745;
        num += sd * sd * g.len() as f64;
        den += g.len() as f64;
    }
    let var = if den > 0.0 { num / den } else { 0.0 };
    if var <= 0.0 {
        return 1000.0;
    }
    (mean * (1.0 - mean) / var - 1.0).clamp(2.0, 10_000.0)
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The scenario of the election in `s`, as JSON, with `mapping`'s rules (checked by `rules`).
/// Its country is the stations themselves; the question is the inverse one, conditioned on the
/// official totals the stations add up to.
pub fn scenario(s: &Stations, mapping: &Mapping, names: &Names) -> Value {
    let sum = s.summary();
    let np = s.parties.len();
    let valid: u64 = sum.votes.iter().sum();
    let share = |j: usize| {
        if valid > 0 {
            sum.votes[j] as f64 / valid as f64
        } else {
            0.0
        }
    };
    let threshold = mapping.threshold.unwrap_or(0.0);
    let leader = (0..np)
        .max_by_key(|&j| (sum.votes[j], std::cmp::Reverse(j)))
        .unwrap_or(0);
    let beneficiary = mapping
        .beneficiary
        .as_ref()
        .and_then(|b| s.parties.iter().position(|p| p == b))
        .unwrap_or(leader);
    let focus: Vec<String> = match &mapping.focus {
        Some(f) => f.clone(),
        None => {
            // The party closest under the threshold; with none under it, the closest over.
            let under = (0..np)
                .filter(|&j| j != beneficiary && share(j) < threshold)
                .max_by(|&a, &b| share(a).total_cmp(&share(b)));
            let over = (0..np)
                .filter(|&j| j != beneficiary)
                .min_by(|&a, &b| share(a).total_cmp(&share(b)));
            vec![s.parties[under.or(over).unwrap_or(0)].clone()]
        }
    };
    let src = names.source;
    let ranges = s.region_ranges();
    // Honest behaviour from the protocols, robustly: per-region medians, pooled IQRs.
    let mut turnouts: Vec<Vec<f64>> = Vec::new();
    let mut shares: Vec<Vec<f64>> = Vec::new();
    for r in &ranges {
        let (t, sh): (Vec<f64>, Vec<f64>) = r
            .clone()
            .filter_map(|i| s.point_of(i, beneficiary))
            .map(|(t, sh)| (t.min(1.0), sh))
            .unzip();
        turnouts.push(t);
        shares.push(sh);
    }
    let mut all_t: Vec<f64> = turnouts.iter().flatten().copied().collect();
    let mut all_s: Vec<f64> = shares.iter().flatten().copied().collect();
    let turnout_conc = concentration(&mut turnouts.clone(), median(&mut all_t).clamp(0.01, 0.99));
    let share_conc = concentration(&mut shares.clone(), median(&mut all_s).clamp(0.01, 0.99));
    let regions: Vec<Value> = ranges
        .iter()
        .enumerate()
        .map(|(r, range)| {
            let registered: u64 = range.clone().map(|i| s.registered[i] as u64).sum();
            let mut votes = vec![0u64; np];
            for i in range.clone() {
                for (t, &v) in votes.iter_mut().zip(s.votes_of(i)) {
                    *t += v as u64;
                }
            }
            let rv: u64 = votes.iter().sum();
            let factors: serde_json::Map<String, Value> = (0..np)
                .filter(|&j| share(j) > 0.0 && rv > 0)
                .map(|j| {
                    let f = round4((votes[j] as f64 / rv as f64) / share(j)).min(1e3);
                    (s.parties[j].clone(), json!({"value": f, "source": format!("the party's share of valid votes in the region over its national share, in the protocols ({src})")}))
                })
                .filter(|(_, v)| v["value"].as_f64() != Some(1.0))
                .collect();
            let turnout = round4(median(&mut turnouts[r].clone()).clamp(0.01, 0.99));
            json!({
                "name": s.regions[r],
                "precincts": range.len(),
                "registered": registered,
                "urban_fraction": 0.0,
                "evoting_precincts": 0,
                "source": format!("the region's stations in the protocols ({src}); urban and e-voting stations not distinguished"),
                "turnout": {"value": turnout, "source": format!("median station turnout of the region in the protocols ({src}), taken as the honest mean: a minority of altered stations hardly moves a median (assumption)")},
                "support_factors": factors,
            })
        })
        .collect();
    let parties: Vec<Value> = (0..np)
        .map(|j| {
            let name = mapping
                .parties
                .iter()
                .find(|p| p.id == s.parties[j])
                .map(|p| p.name.clone())
                .unwrap_or_else(|| s.parties[j].clone());
            let mut p = json!({
                "id": s.parties[j],
                "name": name,
                "official_votes": {"value": sum.votes[j], "source": format!("sum over the {} stations' protocols ({src})", sum.stations)},
            });
            if j == beneficiary {
                p["remainder"] = json!(true);
            } else {
                let hi = round4((2.0 * share(j)).max(share(j) + 0.05).min(1.0));
                p["support"] = json!({"uniform": [0.0, hi], "source": format!("assumption: flat from 0 to {:.1}%, twice the official share or 5 points above it; the inverse question weighs it against the protocols", hi * 100.0)});
            }
            p
        })
        .collect();
    let invalid_rate = if sum.ballots > 0 {
        sum.invalid as f64 / sum.ballots as f64
    } else {
        0.0
    };
    let ben_id = &s.parties[beneficiary];
    let focus_names = focus.join(" or ");
    json!({
        "title": names.title,
        "question": format!("Given the official protocols, how likely is it that {focus_names} truly reached the {:.0}% threshold?", threshold * 100.0),
        "description": format!(
            "The country is the {} polling stations of the protocols, with their regions and registered voters. \
    Each region's honest turnout is its median station turnout and its parties' strength their regional shares; \
    irregular counts, favouring {ben_id}, move other parties' ballots to it and stuff ballots for it. \
    The inverse question weighs each simulated election by how closely its reported totals reproduce the official ones and its fingerprint the protocols'.",
            sum.stations
        ),
        "parties": parties,
        "focus": focus,
        "spoiled": {"uniform": [round4(0.5 * invalid_rate), round4((1.5 * invalid_rate).max(0.0001))], "source": format!("assumption: the true invalid rate within half of the protocols' {:.2}% either way ({src})", invalid_rate * 100.0)},
        "threshold": {"value": threshold, "source": "the election law (mapping)"},
        "seats": {"value": mapping.seats.unwrap_or(1), "source": "the election law (mapping)"},
        "behaviour": {
            "turnout_concentration": {"value": round4(turnout_conc), "source": format!("from the spread of station turnouts within regions in the protocols (the lower half of each region's distribution, which irregularities favouring a party touch least; pooled) ({src})")},
            "share_concentration": {"value": round4(share_conc), "source": format!("from the spread of {ben_id}'s station shares within regions in the protocols (the lower half of each region's distribution, pooled) ({src})")},
        },
        "country": {"precincts": sum.stations, "registered": sum.registered, "source": format!("sums over the protocols ({src})")},
        "protocols": {"file": names.protocols_file, "sha256": names.protocols_sha256, "source": src},
        "regions": regions,
        "irregularities": {
            "prevalence": {"uniform": [0.0, 1.0], "source": "assumption: flat; nothing but the official totals informs it"},
            "urban_multiplier": {"value": 1.0, "source": "assumption: urban stations not distinguished"},
            "evoting_multiplier": {"value": 1.0, "source": "assumption: e-voting stations not distinguished"},
            "beneficiary": ben_id,
            "transfer": {
                "probability": {"value": 1.0, "source": "assumption: every irregular count moves some ballots to the beneficiary; how many is the intensity"},
                "intensity": {"uniform": [0.0, 0.5], "source": "assumption: flat from none to half of the other parties' ballots moved, on average, in an irregular count"},
                "dispersion": {"value": 5, "source": "assumption: intensity varies strongly between stations"},
            },
            "stuffing": {
                "probability": {"value": 0.5, "source": "assumption: half of the irregular counts add ballots"},
                "intensity": {"uniform": [0.0, 0.5], "source": "assumption: flat from none to half of the registered non-voters given a ballot for the beneficiary"},
                "dispersion": {"value": 5, "source": "assumption: intensity varies strongly between stations"},
            },
        },
        "run": {"trials": 20000, "seed": 1},
        "observations": {},
        "inference": {
            "tolerance": {"value": 0.1, "source": "assumption: simulated reported shares within about 0.1 points of the official ones"},
            "protocols": {"tolerance": {"value": 2.0, "source": "assumption: simulated fingerprint features within about 2 points of the protocols' (the correlation within 0.02), or twice a feature's sampling spread over the stations where that is wider"}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposes_the_russian_header() {
        let header: Vec<String> = [
            "region",
            "uik",
            "Число избирателей, внесенных в списки избирателей",
            "Число избирательных бюллетеней в переносных ящиках для голосования",
            "Число избирательных бюллетеней в стационарных ящиках для голосования",
            "Число недействительных избирательных бюллетеней",
            "Число действительных избирательных бюллетеней",
            "1.Политическая партия «Аграрная партия России»",
            "2.Yabloko",
            "url",
        ]
        .map(String::from)
        .to_vec();
        let (m, _) = propose(&header);
        let h = |i: usize| Column::Header(header[i].clone());
        assert_eq!(m.region, Some(h(0)));
        assert_eq!(m.precinct, h(1));
        assert_eq!(m.registered, h(2));
        assert_eq!(m.ballots, Columns::Sum(vec![h(3), h(4)]));
        assert_eq!(m.invalid, h(5));
        assert_eq!(m.valid, Some(h(6)));
        assert_eq!(m.parties.len(), 2);
        assert_eq!(m.parties[0].id, "party_1");
        assert_eq!(m.parties[1].id, "yabloko");
        assert_eq!(
            m.parties[0].name,
            "Политическая партия «Аграрная партия России»"
        );
    }

    #[test]
    fn thresholds_given_in_percent_get_a_hint() {
        let (mut m, _) = propose(&["a".to_string()]);
        m.threshold = Some(7.0);
        m.seats = Some(450);
        let p = rules(&m);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("0.07?"), "{p:?}");
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(quantile(&mut [0.0, 1.0], 0.25), 0.25);
    }
}
