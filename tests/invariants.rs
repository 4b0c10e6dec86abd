//! Property tests: what must hold for every input, not just the scenarios we thought of.
//!
//! The mechanisms in `recount::election::mechanism` act on a precinct protocol (counts per party, spoiled
//! ballots last). Tests run in the unoptimised profile, where a u64 underflow panics, so "no count
//! ever goes negative" is checked on every path these properties drive, including intensities of
//! exactly 0 and 1. Generators come from `recount::sample::rng::stream(seed, index)` like the engine's.

mod common;

use common::{load, num, records, set};
use proptest::prelude::*;
use recount::election::mechanism::{invalidate, miscount, rewrite, stuff, transfer};
use recount::sample::rng::stream;
use serde_json::json;

/// A protocol: 1 to 15 parties plus spoiled ballots, counts from empty to a large precinct.
fn protocol() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(prop_oneof![Just(0u64), 0u64..50, 0u64..5_000], 2..=16)
}

/// A probability, with the edges 0 and 1 drawn often.
fn probability() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64, 0.0..0.01f64]
}

/// A protocol, a beneficiary party and target flags (never the beneficiary, as the model
/// enforces), one flag per category.
fn protocol_with_targets() -> impl Strategy<Value = (Vec<u64>, usize, Vec<bool>)> {
    protocol().prop_flat_map(|votes| {
        let parties = votes.len() - 1;
        let n = votes.len();
        (
            Just(votes),
            0..parties,
            prop::collection::vec(any::<bool>(), n),
        )
            .prop_map(|(v, b, mut t)| {
                t[b] = false;
                (v, b, t)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Transfer moves ballots from targets to the beneficiary and nowhere else.
    #[test]
    fn transfer_conserves_ballots(
        (votes, b, targets) in protocol_with_targets(),
        phi in probability(),
        seed in any::<u64>(),
        idx in any::<u64>(),
    ) {
        let mut after = votes.clone();
        transfer(&mut stream(seed, idx), &mut after, &targets, b, phi);
        let spoiled = votes.len() - 1;
        prop_assert_eq!(after.iter().sum::<u64>(), votes.iter().sum::<u64>());
        prop_assert_eq!(after[spoiled], votes[spoiled]);
        let mut lost = 0;
        for j in 0..spoiled {
            if j == b {
                continue;
            }
            if targets[j] {
                prop_assert!(after[j] <= votes[j]);
                lost += votes[j] - after[j];
                if phi == 1.0 {
                    prop_assert_eq!(after[j], 0);
                }
            } else {
                prop_assert_eq!(after[j], votes[j]);
            }
        }
        prop_assert_eq!(after[b] - votes[b], lost);
        if phi == 0.0 {
            prop_assert_eq!(&after, &votes);
        }
    }

    /// Invalidation moves ballots from targets to spoiled and nowhere else.
    #[test]
    fn invalidation_conserves_ballots(
        (votes, b, targets) in protocol_with_targets(),
        iota in probability(),
        seed in any::<u64>(),
        idx in any::<u64>(),
    ) {
        let mut after = votes.clone();
        invalidate(&mut stream(seed, idx), &mut after, &targets, iota);
        let spoiled = votes.len() - 1;
        prop_assert_eq!(after.iter().sum::<u64>(), votes.iter().sum::<u64>());
        let mut lost = 0;
        for j in 0..spoiled {
            if targets[j] {
                prop_assert!(after[j] <= votes[j]);
                lost += votes[j] - after[j];
                if iota == 1.0 {
                    prop_assert_eq!(after[j], 0);
                }
            } else {
                prop_assert_eq!(after[j], votes[j], "party {} is not a target (beneficiary {})", j, b);
            }
        }
        prop_assert_eq!(after[spoiled] - votes[spoiled], lost);
        if iota == 0.0 {
            prop_assert_eq!(&after, &votes);
        }
    }

    /// Stuffing adds ballots for the beneficiary only, never more than the registered voters
    /// who did not vote (none if the count already exceeds the register).
    #[test]
    fn stuffing_never_exceeds_non_voters(
        (votes, b, _) in protocol_with_targets(),
        extra in prop_oneof![Just(0i64), -100i64..0, 0i64..10_000],
        sigma in probability(),
        seed in any::<u64>(),
        idx in any::<u64>(),
    ) {
        let cast: u64 = votes.iter().sum();
        let registered = (cast as i64 + extra).max(0) as u64;
        let mut after = votes.clone();
        stuff(&mut stream(seed, idx), &mut after, b, registered, sigma);
        let added = after[b] - votes[b];
        prop_assert!(added <= registered.saturating_sub(cast));
        for j in 0..votes.len() {
            if j != b {
                prop_assert_eq!(after[j], votes[j]);
            }
        }
        let now: u64 = after.iter().sum();
        if registered >= cast {
            prop_assert!(now <= registered);
        }
        if sigma == 1.0 {
            prop_assert_eq!(now, cast.max(registered));
        }
        if sigma == 0.0 {
            prop_assert_eq!(added, 0);
        }
    }

    /// Undirected miscounts move valid ballots between parties: valid and spoiled totals are
    /// conserved.
    #[test]
    fn miscount_conserves_ballots(
        votes in protocol(),
        rate in probability(),
        seed in any::<u64>(),
        idx in any::<u64>(),
    ) {
        let mut after = votes.clone();
        miscount(&mut stream(seed, idx), &mut after, rate);
        let spoiled = votes.len() - 1;
        prop_assert_eq!(after[..spoiled].iter().sum::<u64>(), votes[..spoiled].iter().sum::<u64>());
        prop_assert_eq!(after[spoiled], votes[spoiled]);
        if rate == 0.0 || spoiled == 1 {
            prop_assert_eq!(&after, &votes);
        }
    }

    /// A rewritten protocol has round(registered x turnout) ballots, round(cast x share) of them
    /// for the beneficiary; the other categories keep their proportions (floored), and the
    /// ballots lost to flooring, fewer than the number of those categories, go to spoiled.
    #[test]
    fn rewrite_invents_the_stated_totals(
        (votes, b, _) in protocol_with_targets(),
        registered in prop_oneof![Just(0u64), 0u64..100_000],
        turnout in probability(),
        share in probability(),
    ) {
        let mut after = votes.clone();
        rewrite(&mut after, b, registered, turnout, share);
        let spoiled = votes.len() - 1;
        let cast = (registered as f64 * turnout).round() as u64;
        let to_b = (cast as f64 * share).round() as u64;
        let rest = cast - to_b;
        prop_assert_eq!(after.iter().sum::<u64>(), cast);
        prop_assert!(cast <= registered);
        prop_assert_eq!(after[b], to_b);
        let others: u64 = (0..votes.len()).filter(|&k| k != b).map(|k| votes[k]).sum();
        if others == 0 {
            // Nothing to split in proportion: the rest are all spoiled ballots.
            prop_assert_eq!(after[spoiled], rest);
            return Ok(());
        }
        let mut given = 0;
        for k in (0..votes.len()).filter(|&k| k != b) {
            let fair = votes[k] * rest / others;
            given += fair;
            if k != spoiled {
                prop_assert_eq!(after[k], fair);
            }
        }
        let leftover = after[spoiled] - votes[spoiled] * rest / others;
        prop_assert_eq!(leftover, rest - given);
        prop_assert!(leftover < (votes.len() - 1) as u64);
    }
}

/// Random small scenarios with every mechanism: what every simulated election must satisfy.
fn random_scenario() -> impl Strategy<Value = serde_json::Value> {
    (
        (
            probability(),
            0.0..4.0f64,
            0.0..2.0f64,
            0.5..100.0f64,
            1.0..1e4f64,
        ),
        (probability(), probability(), probability(), probability()),
        (probability(), probability(), probability(), probability()),
        (
            1u32..30,
            0.0..=1.0f64,
            0.05..0.95f64,
            0.0..0.5f64,
            0.0..=0.3f64,
        ),
    )
        .prop_map(|(global, probs, intens, shape)| {
            let (prevalence, urban_m, evoting_m, turnout_c, share_c) = global;
            let (precincts, urban, turnout, spoiled, threshold) = shape;
            let mut v = common::base();
            set(&mut v, "/irregularities/prevalence", num(prevalence));
            set(&mut v, "/irregularities/urban_multiplier", num(urban_m));
            set(&mut v, "/irregularities/evoting_multiplier", num(evoting_m));
            set(&mut v, "/behaviour/turnout_concentration", num(turnout_c));
            set(&mut v, "/behaviour/share_concentration", num(share_c));
            set(&mut v, "/spoiled", num(spoiled));
            set(&mut v, "/threshold", num(threshold));
            set(&mut v, "/regions/0/precincts", json!(precincts));
            set(&mut v, "/regions/0/urban_fraction", json!(urban));
            set(&mut v, "/regions/0/evoting_precincts", json!(precincts / 2));
            set(&mut v, "/regions/0/turnout", num(turnout));
            set(&mut v, "/regions/0/registered", json!(precincts * 600));
            let ir = &mut v["irregularities"];
            ir["transfer"] = json!({
                "probability": num(probs.0), "intensity": num(intens.0), "dispersion": num(5.0)
            });
            ir["invalidation"] = json!({
                "probability": num(probs.1), "intensity": num(intens.1), "targets": ["c"]
            });
            ir["stuffing"] = json!({ "probability": num(probs.2), "intensity": num(intens.2) });
            ir["rewrite"] = json!({
                "probability": num(probs.3 * 0.2), "turnout": common::uniform(0.5, 1.0),
                "share": num(intens.3)
            });
            ir["miscount"] = json!({
                "probability": num(0.5), "regular_probability": num(0.1), "intensity": num(0.05)
            });
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Shares are proportions summing to 1, turnouts never exceed 100% (stuffing is capped by the
    /// register and a rewrite invents at most 100%), and seats are all given out to parties over
    /// the threshold, or to nobody.
    #[test]
    fn every_simulated_election_is_consistent(v in random_scenario(), seed in any::<u64>()) {
        let loaded = load(&v);
        let m = &loaded.model;
        let np = m.n_parties();
        for r in records(&loaded, 64, seed) {
            // A tiny turnout concentration can leave every precinct empty: turnout 0 is possible.
            prop_assert!(r.true_turnout >= 0.0 && r.true_turnout <= 1.0);
            prop_assert!(r.reported_turnout >= 0.0 && r.reported_turnout <= 1.0, "reported turnout {}", r.reported_turnout);
            prop_assert!((0.0..=1.0).contains(&r.irregular_fraction));
            for (shares, seats) in [(&r.true_share, &r.true_seats), (&r.reported_share, &r.reported_seats)] {
                let s = &shares[..np];
                prop_assert!(s.iter().all(|x| (0.0..=1.0).contains(x)));
                let total: f64 = s.iter().sum();
                prop_assert!(total == 0.0 || (total - 1.0).abs() < 1e-9, "shares sum to {}", total);
                let over = s.iter().any(|&x| x >= m.threshold);
                let given: u32 = seats[..np].iter().sum();
                prop_assert_eq!(given, if over && total > 0.0 { m.seats } else { 0 });
                for j in 0..np {
                    if s[j] < m.threshold {
                        prop_assert_eq!(seats[j], 0);
                    }
                }
            }
            if m.irregular.prevalence.mean() == 0.0 && r.irregular_fraction == 0.0 {
                prop_assert_eq!(r.reported_turnout, r.true_turnout);
            }
        }
    }
}
