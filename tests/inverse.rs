//! The inverse question: the guided proposal gives the same posterior as plain ABC from the
//! prior, and simulation-based calibration (SBC) on a small synthetic country: the true share of
//! a party, drawn from the prior and pushed through the whole model, is a uniform draw from the
//! posterior that recount computes from the resulting observations.

mod common;

use common::{beta, num, region, uniform};
use recount::election::country::Layout;
use recount::election::outcome;
use recount::election::trial::Simulator;
use recount::engine::Plan;
use recount::model::load::Loaded;
use recount::question::observe::Observer;
use recount::sample::exact;
use recount::sample::rng;
use serde_json::{Value, json};

/// A two-region country of 160 precincts: "a" (remainder, beneficiary), "b" (support uniform on
/// [2%, 25%], the party asked about), "c" (fixed 10%). Irregular counts move b's ballots to a.
fn scenario(official: [f64; 3], negative_share: f64, proposal: &str) -> Value {
    let total = 10_000_000.0;
    json!({
        "title": "Synthetic inverse test",
        "question": "Did b truly cross 7%?",
        "description": "Small country for inverse tests.",
        "parties": [
            { "id": "a", "name": "A", "remainder": true, "official_votes": num((official[0] * total).round()) },
            { "id": "b", "name": "B", "support": uniform(0.02, 0.25), "official_votes": num((official[1] * total).round()) },
            { "id": "c", "name": "C", "support": num(0.1), "official_votes": num((official[2] * total).round()) },
        ],
        "focus": ["b"],
        "spoiled": num(0.02),
        "threshold": num(0.07),
        "seats": num(10.0),
        "precinct_sizes": { "shape": num(4.0), "minimum": num(50.0) },
        "behaviour": { "turnout_concentration": num(20.0), "share_concentration": num(50.0) },
        "regions": [region("North", 100, 60_000, 0.5, 10, 0.6), region("South", 60, 40_000, 0.2, 0, 0.7)],
        "irregularities": {
            "prevalence": uniform(0.0, 1.0),
            "urban_multiplier": num(1.0),
            "evoting_multiplier": num(0.5),
            "beneficiary": "a",
            "transfer": { "probability": num(1.0), "intensity": uniform(0.0, 0.8), "dispersion": num(5.0), "targets": ["b"] },
        },
        "observations": { "observers": {
            "counts_observed": num(40.0),
            "negative_share": num(negative_share),
            "p_negative_if_irregular": beta(8.0, 2.0),
            "p_negative_if_regular": beta(2.0, 8.0),
        }},
        "inference": { "tolerance": num(TOLERANCE_PP), "proposal": proposal },
        "run": { "trials": 1000, "seed": 1 },
    })
}

const TOLERANCE_PP: f64 = 0.5;

fn load(v: &Value) -> Loaded {
    common::load(v)
}

/// Runs the inverse question on 2 threads; returns the summary of the unknown `name` and the
/// whole summary.
fn unknown(
    v: &Value,
    trials: u64,
    seed: u64,
    name: &str,
) -> (
    recount::question::inverse::ParamSummary,
    recount::question::inverse::InverseSummary,
) {
    let l = load(v);
    let (_, summary) =
        recount::question::inverse::run(&l.model, &two_threads(trials, seed), |_| {});
    let p = summary
        .parameters
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} is not unknown"))
        .clone();
    (p, summary)
}

/// A plan of `trials` exact trials on 2 threads.
fn two_threads(trials: u64, seed: u64) -> Plan {
    Plan {
        trials,
        seed,
        threads: 2,
        sampler: Default::default(),
    }
}

/// Runs the inverse question; returns the accumulator.
fn infer(v: &Value, trials: u64, seed: u64) -> recount::engine::summary::Accumulator {
    let l = load(v);
    recount::question::inverse::run(&l.model, &two_threads(trials, seed), |_| {}).0
}

#[test]
fn guided_proposal_matches_plain_abc_from_the_prior() {
    // Official result: b at 5%, c at 9.8%, observers faulted 40% of counts.
    let official = [0.852, 0.05, 0.098];
    let guided = load(&scenario(official, 0.4, "guided"));
    let prior = load(&scenario(official, 0.4, "prior"));
    let g = recount::question::inverse::run(
        &guided.model,
        &Plan {
            trials: 6_000,
            seed: 11,
            threads: 2,
            sampler: Default::default(),
        },
        |_| {},
    );
    let p = recount::question::inverse::run(
        &prior.model,
        &Plan {
            trials: 60_000,
            seed: 12,
            threads: 2,
            sampler: Default::default(),
        },
        |_| {},
    );
    let (gr, pr) = (g.0.results(&guided.model), p.0.results(&prior.model));
    let (ge, pe) = (gr.parties[1].p_true_cross, pr.parties[1].p_true_cross);
    // The guided proposal must be far more efficient per trial, or it is pointless.
    assert!(
        g.1.ess / 6_000.0 > 5.0 * p.1.ess / 60_000.0,
        "ESS guided {} prior {}",
        g.1.ess,
        p.1.ess
    );
    assert!(
        p.1.ess > 200.0,
        "prior ESS {} too small for the comparison",
        p.1.ess
    );
    let se = (ge.mcse.powi(2) + pe.mcse.powi(2)).sqrt();
    eprintln!(
        "guided: P = {:.4} +- {:.4} (ESS {:.0} of 6000); prior: P = {:.4} +- {:.4} (ESS {:.0} of 60000)",
        ge.estimate, ge.mcse, g.1.ess, pe.estimate, pe.mcse, p.1.ess
    );
    assert!(
        (ge.estimate - pe.estimate).abs() < 4.0 * se,
        "P(b truly >= 7%): guided {} +- {}, prior {} +- {}",
        ge.estimate,
        ge.mcse,
        pe.estimate,
        pe.mcse
    );
    // Posterior means of b's true share agree too, within 4 standard errors of the difference:
    // each mean's error is the posterior sd (from its 5-95% range, 3.29 sd for a normal) over
    // the square root of its ESS.
    let (gs, ps) = (gr.parties[1].true_share, pr.parties[1].true_share);
    let sd = |q: &recount::numeric::stats::Summary| (q.q95 - q.q05) / 3.29;
    let se_mean = (sd(&gs).powi(2) / g.1.ess + sd(&ps).powi(2) / p.1.ess).sqrt();
    assert!(
        (gs.mean - ps.mean).abs() < 4.0 * se_mean,
        "mean true share of b: guided {}, prior {} (se {se_mean})",
        gs.mean,
        ps.mean
    );
}

#[test]
fn simulation_based_calibration_of_the_true_share() {
    // R replications: draw the truth from the prior, simulate the election and the observers'
    // visit, add the kernel's noise to the reported shares (the ABC posterior is exact for
    // that observation model), infer, and record the posterior CDF at the truth.
    // RECOUNT_SBC_REPLICATIONS scales the study up (docs/validation.md records a larger run).
    let replications: u64 = std::env::var("RECOUNT_SBC_REPLICATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    // RECOUNT_SBC_FIRST starts at another replication, for a study independent of earlier ones.
    let first: u64 = std::env::var("RECOUNT_SBC_FIRST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let r_total = replications;
    const BINS: usize = 10;
    let placeholder = scenario([0.85, 0.05, 0.1], 0.4, "guided");
    let mut counts = [0u64; BINS];
    // The same histogram for the replications with an ESS of at least 100 (ESS depends only on
    // the observations and the inference's own draws, so selecting on it keeps the ranks
    // uniform for a correct posterior, while a weighted sample of a few particles does not).
    let mut counts_ess100 = [0u64; BINS];
    let mut covered = 0;
    let mut ess = Vec::new();
    let mut skipped = 0u64;
    for r in 0..r_total {
        let seed = 1_000 + first + r;
        let model_l = load(&placeholder);
        let m = &model_l.model;
        let inv = m.inverse.as_ref().unwrap();
        let layout = Layout::draw(m, seed);
        let mut sim = Simulator::new(m, &layout);
        let mut rng = rng::stream(seed, 1 << 50);
        let draw = sim.draw(&mut rng);
        let sens = inv.sensitivity.sample(&mut rng);
        let fp = inv.false_positive.sample(&mut rng);
        let totals = sim.run(&mut rng, &draw);
        let rec = outcome::record(m, layout.len(), &draw, &totals);
        let mut observer = Observer::new(inv, &layout);
        let irr = observer.irregular_in_sample(&mut rng, &sim.irregular);
        let k = exact::binomial(&mut rng, irr as u64, sens)
            + exact::binomial(&mut rng, (inv.observed - irr) as u64, fp);
        let noise = |rng: &mut rng::Rng| {
            use rand::RngExt;
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            z * TOLERANCE_PP / 100.0
        };
        let b = rec.reported_share[1] + noise(&mut rng);
        let c = rec.reported_share[2] + noise(&mut rng);
        if b < 0.0 || c < 0.0 {
            // The kernel's noise took an observed share below zero, which no official count can
            // be: set the replication aside (rare: b truly near 2% and most of it moved away).
            skipped += 1;
            continue;
        }
        let observed = scenario(
            [1.0 - b - c, b, c],
            k as f64 / inv.observed as f64,
            "guided",
        );
        let acc = infer(&observed, 1_500, seed);
        // Precinct noise can put b's true and observed share past its prior's upper bound (25%):
        // no proposal then lands within the tolerance (ESS 0) and the rank is undefined. Such
        // replications are set aside (a few percent at most).
        if acc.weights.ess() == 0.0 && rec.true_share[1] > 0.25 {
            skipped += 1;
            continue;
        }
        // Where the truth sits near a prior's edge (b near 25%, prevalence near 0 or 1) the ESS
        // drops to a few; the rank stays unbiased, only noisier. The median is checked below.
        ess.push(acc.weights.ess());
        let u = acc.true_share_cdf(1, rec.true_share[1]);
        let bin = ((u * BINS as f64) as usize).min(BINS - 1);
        counts[bin] += 1;
        if acc.weights.ess() >= 100.0 {
            counts_ess100[bin] += 1;
        }
        covered += (0.05..=0.95).contains(&u) as u64;
    }
    assert!(
        skipped * 50 <= r_total,
        "{skipped} of {r_total} replications set aside"
    );
    let r_total = r_total - skipped;
    ess.sort_by(f64::total_cmp);
    assert!(
        ess[ess.len() / 2] > 100.0,
        "median ESS {} of 1500 trials",
        ess[ess.len() / 2]
    );
    eprintln!(
        "median ESS {:.0}; with ESS >= 100: {counts_ess100:?}",
        ess[ess.len() / 2]
    );
    common::assert_calibrated("the true share of b", &counts, covered, r_total);
}

#[test]
fn inverse_results_do_not_depend_on_threads() {
    let v = scenario([0.852, 0.05, 0.098], 0.4, "guided");
    let l = load(&v);
    let run = |threads| {
        let plan = Plan {
            trials: 300,
            seed: 5,
            threads,
            sampler: Default::default(),
        };
        let (acc, summary) = recount::question::inverse::run(&l.model, &plan, |_| {});
        let json = serde_json::to_string(&acc.results(&l.model)).unwrap();
        (json, serde_json::to_string(&summary).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    let other = recount::question::inverse::run(
        &l.model,
        &Plan {
            trials: 300,
            seed: 6,
            threads: 2,
            sampler: Default::default(),
        },
        |_| {},
    );
    assert_ne!(
        one.0,
        serde_json::to_string(&other.0.results(&l.model)).unwrap()
    );
}

/// The recount binary in a temporary directory holding the inverse test scenario `inv.json`:
/// `recount <command> <args> --quiet --json --out <dir>/out` gives (exit code, stdout).
struct Cli {
    tmp: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let tmp = tempfile::TempDir::new().unwrap();
        let v = scenario([0.852, 0.05, 0.098], 0.4, "guided");
        std::fs::write(tmp.path().join("inv.json"), v.to_string()).unwrap();
        Cli { tmp }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.tmp.path().join(rel)
    }

    fn cmd(&self, command: &str, args: &[&str]) -> (Option<i32>, String) {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_recount"))
            .arg(command)
            .args(args)
            .args(["--json", "--out"])
            .arg(self.path("out"))
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8(o.stdout).unwrap())
    }

    /// `recount run inv.json --trials 640 --quiet <args>`.
    fn run(&self, args: &[&str]) -> (Option<i32>, String) {
        let scenario = self.path("inv.json");
        let mut all = vec![scenario.to_str().unwrap(), "--trials", "640", "--quiet"];
        all.extend(args);
        self.cmd("run", &all)
    }
}

#[test]
fn interrupted_inverse_runs_resume_exactly() {
    let cli = Cli::new();
    let (code, whole) = cli.run(&["--force"]);
    assert_eq!(code, Some(0));
    let (code, _) = cli.run(&["--stop-after", "200", "--threads", "2"]);
    assert_eq!(code, Some(130));
    let file = cli.path("out/inv/run-1-640.partial.json");
    let (code, resumed) = cli.run(&["--resume", file.to_str().unwrap(), "--threads", "1"]);
    assert_eq!(code, Some(0));
    assert_eq!(resumed, whole);
    assert!(whole.contains("\"ess\""));
}

#[test]
fn sharded_inverse_runs_merge_exactly() {
    let cli = Cli::new();
    let (code, whole) = cli.run(&[]);
    assert_eq!(code, Some(0));
    let mut shards = Vec::new();
    for i in 1..=3 {
        assert_eq!(cli.run(&["--shard", &format!("{i}/3")]).0, Some(0));
        let file = cli.path(&format!("out/inv/run-1-640.shard-{i}-of-3.json"));
        shards.push(file.to_str().unwrap().to_string());
    }
    let files: Vec<&str> = shards.iter().map(String::as_str).collect();
    let (code, merged) = cli.cmd("merge", &files);
    assert_eq!(code, Some(0));
    // Posteriors, ESS and acceptance rate included.
    assert_eq!(merged, whole);
    assert!(whole.contains("\"acceptance_rate\""));
}

#[test]
fn mean_field_matches_simulated_reported_shares() {
    // The guided proposal aims with expect::reported_shares; check it against the average of
    // simulated elections for the same unknowns, in scenarios that exercise every mechanism.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut cases: Vec<Loaded> = ["odihr-43", "stuffing", "honest-errors", "inverse-odihr"]
        .iter()
        .map(|n| {
            recount::model::load::load(dir.join(format!("{n}.json")).to_str().unwrap()).unwrap()
        })
        .collect();
    cases.push(common::load(&common::all_mechanisms()));
    for l in &cases {
        let m = &l.model;
        let layout = Layout::draw(m, 3);
        let groups = recount::question::mean_field::Groups::new(m, &layout);
        let mut sim = Simulator::new(m, &layout);
        for t in 0..3 {
            let mut rng = rng::stream(3, t);
            let draw = sim.draw(&mut rng);
            let expected = recount::question::mean_field::reported_shares(m, &groups, &draw);
            const K: usize = 6;
            let runs: Vec<_> = (0..K)
                .map(|_| {
                    let totals = sim.run(&mut rng, &draw);
                    outcome::record(m, layout.len(), &draw, &totals).reported_share
                })
                .collect();
            for j in 0..m.n_parties() {
                let xs: Vec<f64> = runs.iter().map(|r| r[j]).collect();
                let mean = xs.iter().sum::<f64>() / K as f64;
                let sd =
                    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (K - 1) as f64).sqrt();
                // 5 standard errors of the simulated mean, plus 0.02 points for the mean field's
                // own approximations (ratio of expectations, rounding of voters).
                let tol = 5.0 * sd / (K as f64).sqrt() + 2e-4;
                assert!(
                    (mean - expected[j]).abs() < tol,
                    "{} draw {t} party {j}: simulated {mean:.5} vs expected {:.5} (tol {tol:.5})",
                    l.name,
                    expected[j]
                );
            }
        }
    }
}

/// The official turnout is evidence: ballot stuffing raises the reported turnout, so an official
/// turnout near the honest one (64% in this country) pulls the stuffing intensity's posterior
/// down and a higher one (67%) pulls it up, where the shares alone leave it near its prior.
#[test]
fn the_official_turnout_informs_the_stuffing_intensity() {
    let stuffing = |turnout: Option<f64>| {
        let mut v = scenario([0.852, 0.05, 0.098], 0.4, "guided");
        v["irregularities"]["stuffing"] = json!({
            "probability": num(1.0), "intensity": uniform(0.0, 0.3), "dispersion": num(20.0)
        });
        if let Some(t) = turnout {
            v["observations"]["turnout"] = num(t);
        }
        let (p, summary) = unknown(&v, 3_000, 11, "stuffing.intensity");
        eprintln!(
            "turnout {turnout:?}: stuffing {:?}, ESS {:.0}",
            p.posterior, summary.ess
        );
        assert!(summary.ess > 50.0, "ESS {}", summary.ess);
        p.posterior
    };
    let (none, low, high) = (stuffing(None), stuffing(Some(0.64)), stuffing(Some(0.67)));
    assert!(
        low.mean < none.mean && none.mean < high.mean,
        "{low:?} {none:?} {high:?}"
    );
    assert!(high.mean - low.mean > 0.05, "{low:?} {high:?}");
}

/// What the answer rests on. The official count fixes b's reported share near 5%, which a high
/// true support with a strong transfer explains as well as a low one with a weak transfer: the
/// evidence barely narrows the transfer intensity, yet b is truly over 7% mostly where it is
/// strong. The summary flags the intensity as a prior the answer rests on, with the headline far
/// lower below the prior's median than above it. With the intensity's prior a narrow band, its
/// two halves give the same headline and nothing is flagged.
#[test]
fn the_summary_says_which_priors_the_answer_rests_on() {
    let dependence = |v: &Value| {
        let (p, summary) = unknown(v, 4_000, 3, "transfer.intensity");
        eprintln!("{:?}, ESS {:.0}", p.dependence, summary.ess);
        p.dependence
    };
    let wide = scenario([0.852, 0.05, 0.098], 0.4, "guided");
    let d = dependence(&wide);
    assert!(d.rests_on_prior, "{d:?}");
    assert!(d.narrowed.is_some_and(|n| n < 0.2), "{d:?}");
    assert_eq!(d.split_at, 0.4);
    assert_eq!(d.sweep_path, "transfer.intensity");
    let (below, above) = (d.headline_below.unwrap(), d.headline_above.unwrap());
    let se = (below.mcse.powi(2) + above.mcse.powi(2)).sqrt();
    assert!(above.estimate - below.estimate > 8.0 * se, "{d:?}");

    let mut narrow = wide.clone();
    narrow["irregularities"]["transfer"]["intensity"] = uniform(0.39, 0.41);
    let d = dependence(&narrow);
    assert!(!d.rests_on_prior, "{d:?}");
    let (below, above) = (d.headline_below.unwrap(), d.headline_above.unwrap());
    let se = (below.mcse.powi(2) + above.mcse.powi(2)).sqrt();
    assert!(
        (above.estimate - below.estimate).abs() < 4.0 * se.max(0.01),
        "{d:?}"
    );
}

/// `run --draws` writes the posterior as weighted draws: one row per trial, weights summing to
/// 1, whose weighted share of trials with b truly over 7% is the published headline; the same
/// file on 1 and 2 threads. A forward scenario, or a shard, is refused.
#[test]
fn posterior_draws_are_the_runs_trials_and_weights() {
    let tmp = tempfile::TempDir::new().unwrap();
    let path = common::write(
        tmp.path(),
        "draws",
        &scenario([0.852, 0.05, 0.098], 0.4, "guided"),
    );
    let run = |threads: &str, out: &str, extra: &[&str]| {
        let args = [
            &[
                "--trials",
                "512",
                "--quiet",
                "--draws",
                "--threads",
                threads,
            ],
            extra,
        ]
        .concat();
        run_cli(&path, &args, &tmp.path().join(out))
    };
    let out = run("1", "one", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Posterior draws written to"));
    let csv_at = |dir: &str| tmp.path().join(dir).join("draws/run-1-512.draws.csv");
    let csv = std::fs::read_to_string(csv_at("one")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..2], ["trial", "weight"]);
    assert!(header.contains(&"prevalence") && header.contains(&"transfer.intensity"));
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    // The figures, then the provenance columns every CSV ends with.
    let figures = col("scenario");
    assert_eq!(&header[figures..], common::STAMP);
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            // Scenario, (hash), seed and trials of this run on every row.
            assert_eq!(
                [cells[figures], cells[figures + 2], cells[figures + 3]],
                ["draws", "1", "512"]
            );
            cells[..figures]
                .iter()
                .map(|x| x.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 512);
    assert!(
        rows.iter().enumerate().all(|(t, r)| r[0] == t as f64),
        "trial order"
    );
    let total: f64 = rows.iter().map(|r| r[1]).sum();
    assert!((total - 1.0).abs() < 1e-12, "weights sum to {total}");
    let hit: f64 = rows
        .iter()
        .filter(|r| r[col("true_share_b")] >= 0.07)
        .map(|r| r[1])
        .sum();
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("one/draws/run-1-512.json")).unwrap(),
    )
    .unwrap();
    let published = json["p_any_true_cross"]["estimate"].as_f64().unwrap();
    assert!(
        (hit - published).abs() < 1e-12,
        "draws give {hit}, the run {published}"
    );

    // What the answer rests on, bin by bin: each bin's headline is the weighted share of the
    // draws with the unknown in that bin (the outer bins reach past their printed ends).
    let profile =
        std::fs::read_to_string(tmp.path().join("one/draws/run-1-512.profile.csv")).unwrap();
    let mut r = csv::Reader::from_reader(profile.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &head[..8],
        [
            "unknown",
            "from",
            "to",
            "ess",
            "headline",
            "ci95_low",
            "ci95_high",
            "mcse"
        ]
    );
    let bins: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let n_unknowns = json["inverse"]["parameters"].as_array().unwrap().len();
    assert_eq!(bins.len(), 20 * n_unknowns);
    let mut checked = 0;
    for (k, bin) in bins.iter().enumerate() {
        let (from, to): (f64, f64) = (bin[1].parse().unwrap(), bin[2].parse().unwrap());
        let c = col(&bin[0]);
        let inside = |x: f64| (k % 20 == 0 || x >= from) && (k % 20 == 19 || x < to);
        let (w, w2, w_hit) =
            rows.iter()
                .filter(|r| inside(r[c]))
                .fold((0.0, 0.0, 0.0), |(w, w2, h), r| {
                    let hit = if r[col("true_share_b")] >= 0.07 {
                        r[1]
                    } else {
                        0.0
                    };
                    (w + r[1], w2 + r[1] * r[1], h + hit)
                });
        let ess: f64 = bin[3].parse().unwrap();
        let drawn = if w2 > 0.0 { w * w / w2 } else { 0.0 };
        assert!(
            (ess - drawn).abs() <= 1e-9 * drawn,
            "{} bin {k}: ESS {ess} against {drawn}",
            &bin[0]
        );
        if let Ok(headline) = bin[4].parse::<f64>() {
            assert!(
                (headline - w_hit / w).abs() < 1e-9,
                "{} in [{from}, {to}): {headline} against the draws' {}",
                &bin[0],
                w_hit / w
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} bins had a headline");

    // The headline under the scenario's priors (no alternatives here), with the prior pass's
    // Bayes factor, as the JSON has them.
    let headline =
        std::fs::read_to_string(tmp.path().join("one/draws/run-1-512.headline.csv")).unwrap();
    let mut r = csv::Reader::from_reader(headline.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let at = |h: &str| head.iter().position(|x| x == h).unwrap();
    assert_eq!(&rows[0][0], "the scenario's priors");
    assert_eq!(rows[0][at("headline")].parse::<f64>().unwrap(), published);
    assert_eq!(
        rows[0][at("bayes_factor")].parse::<f64>().unwrap(),
        json["inverse"]["odds"]["bayes_factor"].as_f64().unwrap()
    );

    // The table of unknowns as CSV: one row per unknown, as the JSON has them.
    let unknowns =
        std::fs::read_to_string(tmp.path().join("one/draws/run-1-512.unknowns.csv")).unwrap();
    let mut r = csv::Reader::from_reader(unknowns.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&head[..2], ["unknown", "prior"]);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let params = json["inverse"]["parameters"].as_array().unwrap();
    assert_eq!(rows.len(), params.len());
    let at = |h: &str| head.iter().position(|x| x == h).unwrap();
    for (row, p) in rows.iter().zip(params) {
        assert_eq!(&row[0], p["name"].as_str().unwrap());
        let mean: f64 = row[at("posterior_mean")].parse().unwrap();
        assert!((mean - p["posterior"]["mean"].as_f64().unwrap()).abs() < 1e-12);
        assert_eq!(
            &row[at("sweep_path")],
            p["dependence"]["sweep_path"].as_str().unwrap()
        );
        assert_eq!(&row[at("scenario")], "draws");
    }

    assert!(run("2", "two", &[]).status.success());
    assert_eq!(
        csv,
        std::fs::read_to_string(csv_at("two")).unwrap(),
        "threads"
    );

    let shard = run("1", "shard", &["--shard", "1/2"]);
    assert_eq!(shard.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&shard.stderr).contains("--shard"));
    let forward = cli(
        "run",
        "odihr-43",
        &["--trials", "8", "--quiet", "--draws"],
        &tmp.path().join("fwd"),
    );
    assert_eq!(forward.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&forward.stderr).contains("is a forward one"));
    assert!(!tmp.path().join("fwd").exists(), "nothing written");
}

/// The weights' tail is diagnosed with every answer (Pareto k-hat, `numeric::tail`), apart from
/// the ESS: the guided proposal gives light-tailed weights (k-hat about 0.32) and no warning; the
/// prior as proposal has a low ESS (about 60 of 2,000) but a light tail (about 0.50: more trials
/// fix it), so only the ESS is warned of; with a kernel a fifth as wide a handful of trials
/// carries the answer (k-hat far above 1) and the summary says more trials barely help.
#[test]
fn a_heavy_tail_of_weights_is_diagnosed_apart_from_the_ess() {
    let run = |proposal: &str, tolerance: f64| {
        let mut v = scenario([0.852, 0.05, 0.098], 0.4, proposal);
        common::set(&mut v, "/inference/tolerance", num(tolerance));
        unknown(&v, 2000, 3, "prevalence").1
    };
    let heavy = |s: &recount::question::inverse::InverseSummary| {
        s.warning.as_deref().unwrap_or("").contains("heavy tail")
    };
    let guided = run("guided", TOLERANCE_PP);
    assert!(
        guided.pareto_k.unwrap() < guided.pareto_k_limit - 0.2,
        "{guided:?}"
    );
    assert!(!heavy(&guided) && guided.ess > 500.0);
    let prior = run("prior", TOLERANCE_PP);
    assert!(prior.ess < 200.0 && prior.pareto_k.unwrap() < prior.pareto_k_limit);
    assert!(
        prior
            .warning
            .as_deref()
            .unwrap()
            .contains("effective sample size")
    );
    assert!(!heavy(&prior), "{:?}", prior.warning);
    let narrow = run("prior", TOLERANCE_PP / 5.0);
    assert!(
        narrow.pareto_k.unwrap() > 1.0 && heavy(&narrow),
        "{narrow:?}"
    );
    // `recount run` writes that answer in full and exits with 3, saying why; the light-tailed
    // guided one exits with 0.
    let tmp = tempfile::TempDir::new().unwrap();
    let cli = |proposal: &str, tolerance: f64| {
        let mut v = scenario([0.852, 0.05, 0.098], 0.4, proposal);
        common::set(&mut v, "/inference/tolerance", num(tolerance));
        let path = common::write(tmp.path(), proposal, &v);
        run_cli(
            &path,
            &["--trials", "2000", "--seed", "3", "--quiet"],
            &tmp.path().join("out"),
        )
    };
    let out = cli("prior", TOLERANCE_PP / 5.0);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the answer was written, but it is not to be trusted"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("WARNING: "));
    assert!(tmp.path().join("out/prior/run-3-2000.json").is_file());
    assert!(tmp.path().join("out/prior/run-3-2000.csv").is_file());
    assert_eq!(cli("guided", TOLERANCE_PP).status.code(), Some(0));
}

#[test]
fn the_prior_pass_gives_the_priors_own_probability_and_the_bayes_factor_the_odds_ratio() {
    // Stations this alike make b's true national share its drawn support to within about 0.07
    // points; a uniform prior is flat at 7%, so that noise leaves P(b >= 7%) under the priors at
    // (25 - 7) / (25 - 2) exactly.
    let mut v = scenario([0.85, 0.05, 0.10], 0.45, "guided");
    v["behaviour"]["share_concentration"] = num(1e5);
    let l = load(&v);
    let plan = two_threads(4096, 3);
    let (prior, n) =
        recount::question::odds::prior_probability(&l.model, &plan, |_| {}).expect("not stopped");
    assert_eq!(n, recount::question::odds::PRIOR_TRIALS);
    let exact = 18.0 / 23.0;
    let se = (exact * (1.0 - exact) / n as f64).sqrt();
    assert!(
        (prior.estimate - exact).abs() < 4.0 * se,
        "prior pass {} against {exact} (s.e. {se})",
        prior.estimate
    );
    // Its own trials, whatever the thread count.
    let one = Plan { threads: 1, ..plan };
    let (again, _) = recount::question::odds::prior_probability(&l.model, &one, |_| {}).unwrap();
    assert_eq!(again, prior);
    // The official 5% makes b's crossing far less likely than the priors alone did.
    let (acc, _) = recount::question::inverse::run(&l.model, &plan, |_| {});
    let post = acc.results(&l.model).p_any_true_cross;
    let o = recount::question::odds::odds(&post, &prior, n).expect("neither is 0 or 1");
    let odds_of = |p: f64| p / (1.0 - p);
    let ratio = odds_of(post.estimate) / odds_of(prior.estimate);
    assert!((o.bayes_factor - ratio).abs() < 1e-9 * ratio, "{o:?}");
    assert!(o.bayes_factor_ci95[1] < 1.0, "{o:?}");
}

/// `inference.alternatives`: the answer under another prior is the same trials reweighted. The
/// lower half of the transfer intensity's prior, given as an alternative, is the half the
/// unknowns' table already reports, to rounding; a prior beyond the scenario's, a fixed value
/// and an unknown the scenario does not have are refused naming the field.
#[test]
fn an_alternative_prior_is_the_same_trials_reweighted() {
    let mut v = scenario([0.852, 0.05, 0.098], 0.4, "guided");
    let alt = |name: &str, unknown: &str, prior: Value| json!({ "name": name, "priors": { unknown: prior } });
    v["inference"]["alternatives"] = json!([
        alt("milder", "transfer.intensity", uniform(0.0, 0.4)),
        alt("b capped", "support.b", uniform(0.02, 0.1)),
    ]);
    let (p, summary) = unknown(&v, 2000, 5, "transfer.intensity");
    let [milder, capped] = &summary.alternatives[..] else {
        panic!("{:?}", summary.alternatives)
    };
    assert_eq!(milder.name, "milder");
    assert_eq!(milder.priors, ["transfer.intensity Uniform(0, 0.4)"]);
    let (half, reweighted) = (
        p.dependence.headline_below.unwrap(),
        milder.headline.unwrap(),
    );
    assert!(
        (half.estimate - reweighted.estimate).abs() < 1e-12,
        "{half:?} {reweighted:?}"
    );
    assert!((p.dependence.ess_halves[0] - milder.ess).abs() < 1e-9 * milder.ess);
    // Capping b's support at 10% can only lower P(b truly >= 7%).
    assert!(capped.headline.unwrap().estimate <= summary_headline(&v, 2000, 5) + 1e-12);

    let tmp = tempfile::TempDir::new().unwrap();
    for (k, (prior, unknown, message)) in [
        (
            uniform(0.0, 0.9),
            "transfer.intensity",
            "reaches beyond the scenario's prior Uniform(0, 0.8)",
        ),
        (num(0.3), "transfer.intensity", "has no density to reweight"),
        (
            uniform(0.3, 0.3),
            "transfer.intensity",
            "a uniform of no width",
        ),
        (
            uniform(0.0, 0.4),
            "transfer.intnsity",
            "\"transfer.intnsity\" is not one of this scenario's unknowns (support.b, ",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut w = scenario([0.852, 0.05, 0.098], 0.4, "guided");
        w["inference"]["alternatives"] = json!([alt("x", unknown, prior)]);
        let path = common::write(tmp.path(), &format!("alt-{k}"), &w);
        let out = assert_cmd::Command::cargo_bin("recount")
            .unwrap()
            .args(["validate", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let field = format!("field `inference.alternatives[0].priors.{unknown}`");
        assert!(
            stderr.contains(&field) && stderr.contains(message),
            "{stderr}"
        );
    }
}

/// P(some focus party truly over the threshold) of the inverse run of `v`.
fn summary_headline(v: &Value, trials: u64, seed: u64) -> f64 {
    let l = load(v);
    infer(v, trials, seed)
        .results(&l.model)
        .p_any_true_cross
        .estimate
}

/// `recount run <path> <args> --out <out>`: its exit status and output.
fn run_cli(path: &std::path::Path, args: &[&str], out: &std::path::Path) -> std::process::Output {
    cli("run", path.to_str().unwrap(), args, out)
}

/// `recount <command> <scenario> <args> --out <out>`: its exit status and output.
fn cli(
    command: &str,
    scenario: &str,
    args: &[&str],
    out: &std::path::Path,
) -> std::process::Output {
    assert_cmd::Command::cargo_bin("recount")
        .unwrap()
        .args([command, scenario])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// `recount check`: simulation-based calibration of a user's own scenario. The small country at
/// its own tolerance is calibrated (exit 0, the verdict in words, a row per replication); at a
/// tolerance a hundredth as wide, far below the simulation's own noise, a handful of trials
/// carry each answer and the check says it is not calibrated and why (exit 3); a forward
/// scenario is refused (exit 2).
#[test]
fn check_calibrates_a_users_scenario_and_flags_an_unreliable_one() {
    let tmp = tempfile::TempDir::new().unwrap();
    let check = |name: &str, tolerance: f64| {
        let mut v = scenario([0.852, 0.05, 0.098], 0.4, "guided");
        common::set(&mut v, "/inference/tolerance", num(tolerance));
        let path = common::write(tmp.path(), name, &v);
        let args = ["-r", "60", "-n", "600", "--sampler", "exact", "--quiet"];
        cli(
            "check",
            path.to_str().unwrap(),
            &args,
            &tmp.path().join("out"),
        )
    };
    let good = check("good", TOLERANCE_PP);
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert_eq!(
        good.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(stdout.contains("Verdict: calibrated."), "{stdout}");
    let csv =
        std::fs::read_to_string(tmp.path().join("out/good/check-1-60x600-exact.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("replication,replication_seed,set_aside,true_share_b,rank_b,headline,truly,ess,pareto_k,"), "{header}");
    assert_eq!(lines.count(), 60);
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/good/check-1-60x600-exact.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["verdict"]["calibrated"], true);
    let ranks: u64 = json["verdict"]["parties"][0]["ranks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(ranks + json["verdict"]["set_aside"].as_u64().unwrap(), 60);
    // The report says what the check found, for this very scenario content.
    let report = cli(
        "report",
        tmp.path().join("good.json").to_str().unwrap(),
        &["--sampler", "pooled", "--trials", "256", "--quiet"],
        &tmp.path().join("out"),
    );
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let html = std::fs::read_to_string(tmp.path().join("out/good/report.html")).unwrap();
    assert!(
        html.contains("<h3 id=\"check\">Is the answer calibrated?</h3>")
            && html.contains("asked this scenario's inverse question of 60 simulated elections")
            && html.contains("<strong>Calibrated</strong>"),
        "{html}"
    );

    let bad = check("bad", TOLERANCE_PP / 100.0);
    assert_eq!(bad.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(stdout.contains("Verdict: NOT calibrated: "), "{stdout}");
    assert!(
        stdout.contains("a handful of trials carry each answer"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad is not calibrated"));

    let forward = cli("check", "odihr-43", &["--quiet"], &tmp.path().join("out"));
    assert_eq!(forward.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&forward.stderr).contains("a forward scenario"));
}
