//! One simulated election precinct by precinct: `recount precincts`.
//!
//! Trial `k` of a run is replayed from its own stream (`engine::trial_rng(seed, k)`) with the
//! run's layout, so the table is exactly the election the run simulated as its k-th trial. The
//! per-precinct counts come from `Simulator::run_observed`; nothing of the trial is
//! re-implemented here. The fingerprint is the turnout x winner-share 2-D histogram election
//! analysts use to spot irregular counts (Klimek, Yegorov, Hanel and Thurner, PNAS 2012).

use crate::election::country::Layout;
use crate::election::draw::Draw;
use crate::election::trial::Simulator;
use crate::engine;
use crate::export::plot::{self, Histogram2d, PlotError};
use crate::model::Model;
use crate::sample::kind::SamplerKind;

/// One precinct of one simulated election. Vote vectors hold the parties then spoiled ballots.
#[derive(Debug, Clone, PartialEq)]
pub struct Precinct {
    pub region: usize,
    pub registered: u64,
    pub urban: bool,
    pub evoting: bool,
    pub irregular: bool,
    pub true_votes: Vec<u64>,
    pub reported_votes: Vec<u64>,
}

impl Precinct {
    /// Ballots cast over registered voters.
    pub fn turnout(votes: &[u64], registered: u64) -> f64 {
        if registered == 0 {
            0.0
        } else {
            votes.iter().sum::<u64>() as f64 / registered as f64
        }
    }

    /// Party `j`'s share of valid votes (`votes` ends with the spoiled category).
    pub fn share(votes: &[u64], j: usize) -> f64 {
        let valid: u64 = votes[..votes.len() - 1].iter().sum();
        if valid == 0 {
            0.0
        } else {
            votes[j] as f64 / valid as f64
        }
    }
}

/// One simulated election.
#[derive(Debug, Clone)]
pub struct Election {
    pub seed: u64,
    pub trial: u64,
    pub draw: Draw,
    pub precincts: Vec<Precinct>,
}

/// Replays trial `trial` of a run of `model` with master seed `seed`. O(precincts).
/// `SamplerKind::Pooled` draws no precinct counts: not for it (`recount precincts` refuses it).
pub fn replay(model: &Model, seed: u64, trial: u64, sampler: SamplerKind) -> Election {
    assert!(
        sampler != SamplerKind::Pooled,
        "pooled draws no precinct counts"
    );
    let layout = Layout::draw(model, seed);
    let mut rng = engine::trial_rng(seed, trial);
    let mut sim = Simulator::new(model, &layout).with_sampler(sampler);
    // An inverse run draws its unknowns from the guided proposal: replay exactly that.
    let draw = match model.inverse {
        Some(_) => crate::question::inverse::trial_draw(model, &layout, &sim, &mut rng),
        None => sim.draw(&mut rng),
    };
    let mut counts: Vec<(Vec<u64>, Vec<u64>)> = vec![(Vec::new(), Vec::new()); layout.len()];
    sim.run_observed(&mut rng, &draw, |i, t, r| {
        counts[i] = (t.to_vec(), r.to_vec())
    });
    let precincts = counts
        .into_iter()
        .enumerate()
        .map(|(i, (true_votes, reported_votes))| Precinct {
            region: layout.region[i] as usize,
            registered: layout.registered[i] as u64,
            urban: layout.urban[i],
            evoting: layout.evoting[i],
            irregular: sim.irregular[i],
            true_votes,
            reported_votes,
        })
        .collect();
    Election {
        seed,
        trial,
        draw,
        precincts,
    }
}

/// The precinct table as CSV: identity, then true and reported counts per category, then the
/// turnout and the beneficiary's share of valid votes, true and reported.
pub fn to_csv(model: &Model, e: &Election) -> String {
    let ids: Vec<&str> = model
        .parties
        .iter()
        .map(|p| p.id.as_str())
        .chain(["spoiled"])
        .collect();
    let ben = model.irregular.beneficiary;
    let ben_id = &model.parties[ben].id;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "precinct",
        "region",
        "registered",
        "urban",
        "evoting",
        "irregular",
    ]
    .map(String::from)
    .to_vec();
    header.extend(ids.iter().map(|id| format!("true_{id}")));
    header.extend(ids.iter().map(|id| format!("reported_{id}")));
    header.extend([
        "true_turnout".to_string(),
        "reported_turnout".to_string(),
        format!("true_{ben_id}_share"),
        format!("reported_{ben_id}_share"),
    ]);
    w.write_record(&header)
        .expect("writing to memory cannot fail");
    for (i, p) in e.precincts.iter().enumerate() {
        let mut row = vec![
            i.to_string(),
            model.regions[p.region].name.clone(),
            p.registered.to_string(),
            p.urban.to_string(),
            p.evoting.to_string(),
            p.irregular.to_string(),
        ];
        row.extend(
            p.true_votes
                .iter()
                .chain(&p.reported_votes)
                .map(u64::to_string),
        );
        row.extend(
            [
                Precinct::turnout(&p.true_votes, p.registered),
                Precinct::turnout(&p.reported_votes, p.registered),
                Precinct::share(&p.true_votes, ben),
                Precinct::share(&p.reported_votes, ben),
            ]
            .map(|x| x.to_string()),
        );
        w.write_record(&row).expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("flushing memory cannot fail")).expect("CSV is UTF-8")
}

/// The fingerprints of the true and the reported count, side by side.
pub fn fingerprint(
    model: &Model,
    scenario: &str,
    e: &Election,
    bins: usize,
) -> Result<String, PlotError> {
    let ben = model.irregular.beneficiary;
    let name = model.parties[ben]
        .name
        .split(" (")
        .next()
        .unwrap_or("")
        .to_string();
    let hist = |reported: bool| {
        Histogram2d::new(
            bins,
            e.precincts.iter().map(|p| {
                let v = if reported {
                    &p.reported_votes
                } else {
                    &p.true_votes
                };
                (Precinct::turnout(v, p.registered), Precinct::share(v, ben))
            }),
        )
    };
    let (t, r) = (hist(false), hist(true));
    let irregular = e.precincts.iter().filter(|p| p.irregular).count();
    let title = format!(
        "{scenario}: trial {} of seed {}, {} precincts ({} irregular): turnout x {name} share (cf. Klimek et al., PNAS 2012)",
        e.trial,
        e.seed,
        e.precincts.len(),
        irregular
    );
    plot::fingerprint(
        &title,
        &format!("{name} share of valid votes"),
        [("True count", &t), ("Reported count", &r)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> crate::model::load::Loaded {
        crate::model::load::load(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tiny.json"))
            .unwrap()
    }

    #[test]
    fn replay_is_the_runs_trial() {
        let l = tiny();
        let m = &l.model;
        let seed = 3;
        let layout = Layout::draw(m, seed);
        for (k, sampler) in [
            (0u64, SamplerKind::Exact),
            (5, SamplerKind::Exact),
            (70, SamplerKind::Exact),
            (5, SamplerKind::Fast),
            (70, SamplerKind::Fast),
        ] {
            let e = replay(m, seed, k, sampler);
            let records = engine::simulate_batch_with(
                m,
                &layout,
                seed,
                k / engine::BATCH,
                k % engine::BATCH + 1,
                sampler,
            );
            let rec = records.last().unwrap();
            let np = m.n_parties();
            let mut true_tot = vec![0u64; np + 1];
            let mut rep_tot = vec![0u64; np + 1];
            for p in &e.precincts {
                for c in 0..=np {
                    true_tot[c] += p.true_votes[c];
                    rep_tot[c] += p.reported_votes[c];
                }
            }
            let mut share = [0.0; crate::model::MAX_PARTIES];
            crate::election::outcome::valid_shares(&true_tot, np, &mut share);
            assert_eq!(share, rec.true_share, "trial {k}");
            crate::election::outcome::valid_shares(&rep_tot, np, &mut share);
            assert_eq!(share, rec.reported_share, "trial {k}");
            let irr = e.precincts.iter().filter(|p| p.irregular).count() as f64
                / e.precincts.len() as f64;
            assert_eq!(irr, rec.irregular_fraction);
        }
    }

    #[test]
    fn table_has_a_row_per_precinct() {
        let l = tiny();
        let e = replay(&l.model, 1, 0, SamplerKind::Exact);
        let csv = to_csv(&l.model, &e);
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        assert!(
            r.headers()
                .unwrap()
                .iter()
                .any(|h| h == "reported_nur_otan_share")
        );
        assert_eq!(r.records().count(), l.model.n_precincts() as usize);
        let svg = fingerprint(&l.model, "tiny", &e, 20).unwrap();
        assert!(svg.contains("Reported count") && svg.contains("True count"));
    }
}
