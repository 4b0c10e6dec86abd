//! Every named scenario in scenarios/ validates, describes the 2007 country, and runs: its
//! simulated elections are consistent, match the priors they were drawn from, and show the
//! effect its irregularities must have.
//!
//! The country has 9,728 precincts, which the unoptimised test profile simulates at roughly
//! 250,000 precinct-trials per second per core, so in that profile each scenario runs one batch
//! of 64 trials (about 2.5 s each); `cargo test --release` runs 384. All scenarios are run forward (the
//! inverse scenarios' observations are not used here).

mod common;

use recount::election::country::Layout;
use recount::election::outcome::Record;
use recount::engine::summary::{Accumulator, Results};
use recount::model::load::{self, Loaded};
use std::sync::OnceLock;

/// Trials per scenario.
const TRIALS: u64 = 256;

/// The seed every scenario runs with here.
const SEED: u64 = 2007;

/// The 2007 country every scenario models (seed 000: CEC figures).
const PRECINCTS: u64 = 9_728;
const REGISTERED: u64 = 8_891_561;
/// Sum of the official votes of the seven parties: the valid votes.
const OFFICIAL_VALID: f64 = 5_935_625.0;

/// The shipped scenarios, loaded by name, with their records: simulated once, shared by the tests.
fn all() -> &'static [(Loaded, Vec<Record>)] {
    static ALL: OnceLock<Vec<(Loaded, Vec<Record>)>> = OnceLock::new();
    ALL.get_or_init(run_all)
}

/// The published results of a scenario's records (what `engine::run` folds them into).
fn results(l: &Loaded, recs: &[Record]) -> Results {
    let mut acc = Accumulator::new(&l.model);
    recs.iter().for_each(|r| acc.add(r));
    acc.results(&l.model)
}

fn run_all() -> Vec<(Loaded, Vec<Record>)> {
    let names = load::list_names().expect("the scenario directory is readable");
    for expected in [
        "official",
        "odihr-43",
        "odihr-28",
        "honest-errors",
        "stuffing",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "scenario {expected} is missing: {names:?}"
        );
    }
    let loaded: Vec<Loaded> = names
        .iter()
        .map(|n| load::load(n).unwrap_or_else(|e| panic!("scenario {n} does not validate: {e}")))
        .collect();
    // Split the scenarios over the cores: each runs single-threaded, as in simulate_batch.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = loaded.len().div_ceil(cores);
    std::thread::scope(|s| {
        let handles: Vec<_> = loaded
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|l| common::records(l, TRIALS, SEED))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let recs = handles
            .into_iter()
            .flat_map(|h| h.join().expect("a scenario run panicked"));
        loaded
            .clone()
            .into_iter()
            .zip(recs.collect::<Vec<_>>())
            .collect()
    })
}

fn mean(xs: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let v: Vec<f64> = xs.collect();
    let n = v.len();
    let m = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    (m, (var / n as f64).sqrt(), n)
}

#[test]
fn named_scenarios_validate_and_run() {
    for (l, recs) in all() {
        let name = &l.name;
        let m = &l.model;
        let np = m.n_parties();
        assert_eq!(m.n_precincts(), PRECINCTS, "{name}: precincts");
        assert_eq!(
            m.regions.iter().map(|r| r.registered).sum::<u64>(),
            REGISTERED,
            "{name}: registered"
        );
        let official: f64 = m.parties.iter().filter_map(|p| p.official_votes).sum();
        assert_eq!(official, OFFICIAL_VALID, "{name}: official valid votes");
        assert_eq!(recs.len() as u64, TRIALS);

        // Consistency of every election.
        for r in recs {
            for s in [&r.true_share, &r.reported_share] {
                assert!(
                    (s[..np].iter().sum::<f64>() - 1.0).abs() < 1e-9,
                    "{name}: shares"
                );
            }
            assert!(r.true_turnout > 0.0 && r.true_turnout <= 1.0);
            assert!(r.reported_turnout > 0.0 && r.reported_turnout <= 1.0);
            assert_eq!(
                r.reported_seats[..np].iter().sum::<u32>(),
                m.seats,
                "{name}: seats"
            );
        }

        // True shares follow the support drawn for the trial: the regional factors are
        // re-balanced so that the national mean share is the drawn support. The per-trial
        // difference averages to zero within 4 standard errors, plus 1% of the share as a margin
        // for the ratio-estimator bias of a national share (O(1/precincts), far smaller) and
        // for the seed: an un-rebalanced factor would be off by 10-25% for NSDP and Ak Zhol.
        for j in 0..np {
            let (d, se, _) = mean(recs.iter().map(|r| r.true_share[j] - r.draw.support[j]));
            let scale = recs.iter().map(|r| r.draw.support[j]).sum::<f64>() / recs.len() as f64;
            assert!(
                d.abs() <= 4.0 * se + 0.01 * scale,
                "{name}: party {j} true share off its support by {d} (se {se})"
            );
        }

        // The irregular fraction follows the drawn prevalence and the multipliers, precinct by
        // precinct.
        let layout = Layout::draw(m, SEED);
        let ir = &m.irregular;
        let (mut dev, mut var) = (0.0, 0.0);
        let n = layout.len() as f64;
        for r in recs {
            let (mut expect, mut v) = (0.0, 0.0);
            for i in 0..layout.len() {
                let mut q = r.draw.prevalence;
                if layout.urban[i] {
                    q *= ir.urban_multiplier;
                }
                if layout.evoting[i] {
                    q *= ir.evoting_multiplier;
                }
                let q = q.min(1.0);
                expect += q / n;
                v += q * (1.0 - q) / (n * n);
            }
            dev += r.irregular_fraction - expect;
            var += v;
        }
        assert!(
            dev.abs() <= 4.0 * var.sqrt() + 1e-12,
            "{name}: irregular fraction off by {dev}"
        );

        // The published figures are consistent with each other.
        let res = results(l, recs);
        for p in &res.parties {
            for e in [&p.p_true_cross, &p.p_reported_cross, &p.p_flipped] {
                assert!(
                    e.estimate.is_finite() && e.ci95[0] <= e.estimate && e.estimate <= e.ci95[1]
                );
            }
            assert!(p.p_flipped.estimate <= p.p_true_cross.estimate);
        }
        assert!(res.p_all_true_cross.estimate <= res.p_any_true_cross.estimate);
        assert!(res.p_any_flipped.estimate <= res.p_any_true_cross.estimate);
        let seats: f64 = res.parties.iter().map(|p| p.expected_seats_reported).sum();
        assert!(
            (seats - m.seats as f64).abs() < 1e-9,
            "{name}: expected seats sum to {seats}"
        );
    }
}

/// What each scenario's irregularities must do, trial by trial or on average.
#[test]
fn named_scenarios_show_their_mechanisms() {
    let get = |name: &str| {
        all()
            .iter()
            .find(|(l, _)| l.name == name)
            .map(|(l, r)| (l, r))
    };
    let nsdp = 1;

    // The official count taken at face value: nothing is irregular.
    let (l, recs) = get("official").unwrap();
    for r in recs.iter() {
        assert_eq!(r.reported_share, r.true_share);
        assert_eq!(r.reported_turnout, r.true_turnout);
        assert_eq!(r.irregular_fraction, 0.0);
    }
    let res = results(l, recs);
    assert_eq!(
        res.p_any_true_cross.estimate, 0.0,
        "NSDP and Ak Zhol far below 7% in the official count"
    );
    assert_eq!(
        res.parties[0].expected_seats_true, 98.0,
        "Nur Otan alone crosses 7%"
    );

    // Stuffing only adds ballots for Nur Otan: every other party's share can only fall, and
    // reported turnout can only rise.
    let (_, recs) = get("stuffing").unwrap();
    for r in recs.iter() {
        assert!(r.reported_turnout >= r.true_turnout);
        for j in 1..7 {
            assert!(r.reported_share[j] <= r.true_share[j]);
        }
    }
    assert!(recs.iter().any(|r| r.reported_turnout > r.true_turnout));

    // Honest miscounts move ballots between parties but never add or remove any.
    let (_, recs) = get("honest-errors").unwrap();
    for r in recs.iter() {
        assert_eq!(r.reported_turnout, r.true_turnout);
    }
    assert!(recs.iter().all(|r| r.reported_share != r.true_share));

    // Where ballots are moved to Nur Otan, NSDP's reported share is below its true share on
    // average, by far more than the Monte Carlo error.
    for name in [
        "odihr-43",
        "odihr-28",
        "exit-poll",
        "opposition-claims",
        "five-percent",
    ] {
        let Some((_, recs)) = get(name) else { continue };
        let (d, se, _) = mean(
            recs.iter()
                .map(|r| r.true_share[nsdp] - r.reported_share[nsdp]),
        );
        assert!(d > 4.0 * se, "{name}: NSDP loses {d} on average (se {se})");
    }
    // More irregular counts at 43% than at 28%. (NSDP's loss grows with them too, but with the
    // per-election uncertainty of the transfer intensity a difference in loss needs a few
    // hundred trials to show reliably; the single-precinct tests in engine.rs pin the
    // per-ballot effect of each mechanism instead.) Both ran the same seed, so compare trial by
    // trial (trials are independent of each other either way).
    let (_, r43) = get("odihr-43").unwrap();
    let (_, r28) = get("odihr-28").unwrap();
    let (d, se, _) = mean(
        r43.iter()
            .zip(r28.iter())
            .map(|(a, b)| a.irregular_fraction - b.irregular_fraction),
    );
    assert!(
        d > 0.1 && d > 4.0 * se,
        "odihr-43 has {d} more irregular precincts than odihr-28 (se {se})"
    );
}
