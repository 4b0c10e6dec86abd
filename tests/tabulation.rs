//! The tabulation stage (`tabulation`) and the preliminary count (`observations.preliminary`):
//! a stage that moves nothing changes nothing, the final count is the preliminary one moved by
//! the stage's rule in every trial and with every sampler, the inverse question's posterior of
//! the transfer is the one a brute-force weighting of prior draws gives, the preliminary count
//! is what tells the transfer from the support, and bad blocks exit 2 naming the field.

mod common;

use assert_cmd::Command;
use common::{num, uniform};
use libm::exp;
use recount::election::outcome::Record;
use serde_json::{Value, json};
use std::path::Path;
use tempfile::TempDir;

/// The JSON of `recount run SCENARIO --json --quiet --out OUT ARGS`, which must succeed.
fn run_json(scenario: &Path, out: &Path, args: &[&str]) -> Value {
    let o = Command::cargo_bin("recount")
        .unwrap()
        .arg("run")
        .arg(scenario)
        .args(["--json", "--quiet", "--out"])
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `common::all_mechanisms()` (every mechanism drawing) with a tabulation stage.
fn staged(tabulation: Value) -> Value {
    let mut v = common::all_mechanisms();
    v["tabulation"] = tabulation;
    v
}

/// No stage, no change: with both shares fixed at 0, every record is the record of the same
/// scenario without the block (fixed priors draw no random number), and the final count is the
/// preliminary one.
#[test]
fn a_stage_that_moves_nothing_changes_nothing() {
    let plain = common::all_mechanisms();
    let zero = staged(json!({ "beneficiary": "a", "transfer": num(0.0), "added": num(0.0) }));
    let a = common::records(&common::load(&plain), 300, 4);
    let b = common::records(&common::load(&zero), 300, 4);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.reported_share, y.reported_share);
        assert_eq!(x.true_share, y.true_share);
        assert_eq!(x.moved, y.moved);
        assert_eq!(y.preliminary_share, y.reported_share);
    }
}

/// The rule, trial by trial: with 10% of b's and c's votes moved to a and 1% of the valid votes
/// added to a (both fixed, so the same trials are drawn as without the stage), the preliminary
/// count is the record without the stage, b and c keep 90% of it, a gains the rest plus the
/// added votes, shares are of the larger total, and the true count is untouched. Whole votes
/// are moved, so the shares agree within a vote (under 1/2,000 of the valid votes here).
#[test]
fn the_final_count_is_the_preliminary_count_moved_by_the_rule() {
    let (t, added) = (0.1, 0.01);
    let plain = common::all_mechanisms();
    let v = staged(json!({
        "beneficiary": "a",
        "transfer": num(t),
        "from": ["b", "c"],
        "added": num(added),
    }));
    let without = common::records(&common::load(&plain), 300, 8);
    let with = common::records(&common::load(&v), 300, 8);
    for (x, y) in without.iter().zip(&with) {
        assert_eq!(y.true_share, x.true_share);
        assert_eq!(y.preliminary_share, x.reported_share);
        let p = &x.reported_share;
        let want = [
            (p[0] + t * (p[1] + p[2]) + added) / (1.0 + added),
            p[1] * (1.0 - t) / (1.0 + added),
            p[2] * (1.0 - t) / (1.0 + added),
        ];
        for (j, w) in want.iter().enumerate() {
            let got = y.reported_share[j];
            assert!(
                (got - w).abs() < 5e-4,
                "party {j}: final {got} where the rule gives {w}"
            );
        }
        // The votes moved include the stage's: a gains, b and c lose, more than without it.
        assert!(y.moved[0] > x.moved[0]);
        assert!(y.moved[1] < x.moved[1] && y.moved[2] < x.moved[2]);
    }
}

/// The forward run's figures, for each sampler: with all of c's votes moved to a, c's final
/// share is 0 in every trial and it never crosses 7% in the final count, while its true share
/// (about 10%) is untouched; b, not named in `from`, keeps its figures.
#[test]
fn every_sampler_applies_the_stage() {
    let dir = TempDir::new().unwrap();
    let mut v = common::base();
    v["tabulation"] = json!({ "beneficiary": "a", "transfer": num(1.0), "from": ["c"] });
    let path = common::write(dir.path(), "staged", &v);
    for sampler in ["exact", "fast", "pooled"] {
        let r = run_json(
            &path,
            &dir.path().join(sampler),
            &["--trials", "2000", "--sampler", sampler],
        );
        let parties = r["parties"].as_array().unwrap();
        let c = &parties[2];
        assert_eq!(c["reported_share"]["mean"], 0.0, "{sampler}");
        assert_eq!(c["p_reported_cross"]["estimate"], 0.0, "{sampler}");
        let true_c = c["true_share"]["mean"].as_f64().unwrap();
        assert!(
            (true_c - 0.1).abs() < 0.01,
            "{sampler}: true share {true_c}"
        );
        let b = &parties[1];
        assert_eq!(
            b["reported_share"]["mean"], b["true_share"]["mean"],
            "{sampler}"
        );
    }
}

/// Tolerance of the inverse test's kernel (a share, 0.5 points).
const TOL: f64 = 0.005;

/// An inverse question in a country of about 45,000 voters in 10 stations: b's true support uniform on
/// [15%, 25%], c's fixed at 10%; the final count gives b 18% and c 10%; the tabulation moves a
/// share uniform on [0, 0.4] of b's votes to a. With `preliminary`, the preliminary count (b
/// 20%) is observed too. Gaussian kernel of `TOL`, every unknown drawn from its prior.
fn inverse(preliminary: bool) -> Value {
    let mut v = common::base();
    v["regions"][0]["registered"] = json!(40_000);
    v["regions"][1]["registered"] = json!(30_000);
    v["parties"][1]["support"] = uniform(0.15, 0.25);
    // Stations alike, so the national shares vary by about 0.2 points from trial to trial (the
    // ballots' own noise), under half the tolerance.
    v["behaviour"] = json!({ "turnout_concentration": num(1e4), "share_concentration": num(1e4) });
    common::official_votes(&mut v, &[7_200.0, 1_800.0, 1_000.0]);
    v["tabulation"] = json!({ "beneficiary": "a", "transfer": uniform(0.0, 0.4), "from": ["b"] });
    v["observations"] = json!({});
    if preliminary {
        v["observations"]["preliminary"] = json!({ "votes": {
            "a": num(7_000.0), "b": num(2_000.0), "c": num(1_000.0),
        } });
    }
    v["inference"] =
        json!({ "kernel": "gaussian", "tolerance": num(100.0 * TOL), "proposal": "prior" });
    v
}

/// The transfer a record's counts imply: b keeps 1 - t of its preliminary votes and nothing is
/// added, so the valid total is unchanged and t = 1 - final/preliminary share of b (each move
/// rounded to a whole vote: off by under 1/9,000, a tenth of the test's standard error).
fn implied_transfer(r: &Record) -> f64 {
    1.0 - r.reported_share[1] / r.preliminary_share[1]
}

/// Weighted mean, sd and Kish effective sample size.
fn weighted(xs: &[f64], ws: &[f64]) -> (f64, f64, f64) {
    let sw: f64 = ws.iter().sum();
    let sw2: f64 = ws.iter().map(|w| w * w).sum();
    let m = xs.iter().zip(ws).map(|(x, w)| w * x).sum::<f64>() / sw;
    let v = xs
        .iter()
        .zip(ws)
        .map(|(x, w)| w * (x - m).powi(2))
        .sum::<f64>()
        / sw;
    (m, v.sqrt(), sw * sw / sw2)
}

/// Brute force: prior draws (the forward run of the same scenario) weighed by a Gaussian kernel
/// on the final shares of b and c (18%, 10%) and, with `preliminary`, b's and c's preliminary
/// shares (20%, 10%), written here apart from the engine's kernel. The posterior mean, sd and
/// ESS of the transfer.
fn brute_force(records: &[Record], preliminary: bool) -> (f64, f64, f64) {
    let t: Vec<f64> = records.iter().map(implied_transfer).collect();
    let w: Vec<f64> = records
        .iter()
        .map(|r| {
            let mut z2 = ((r.reported_share[1] - 0.18) / TOL).powi(2)
                + ((r.reported_share[2] - 0.10) / TOL).powi(2);
            if preliminary {
                z2 += ((r.preliminary_share[1] - 0.20) / TOL).powi(2)
                    + ((r.preliminary_share[2] - 0.10) / TOL).powi(2);
            }
            exp(-0.5 * z2)
        })
        .collect();
    weighted(&t, &w)
}

/// The inverse question's posterior mean of `tabulation.transfer` is the brute-force one within
/// 4 combined standard errors, with the guided proposal (the default) as with the priors, and
/// the guided proposal has over twice the effective sample size. The
/// preliminary count is what pins the transfer down: with it the posterior sd is under half of
/// what the final count alone leaves (b's support and the transfer trade off), and the mean
/// (about 0.1) is more than 3 sd from the prior's 0.2.
#[test]
fn the_transfer_posterior_is_the_one_prior_draws_give() {
    let dir = TempDir::new().unwrap();
    let v = inverse(true);
    let records = common::records(&common::load(&v), 60_000, 21);
    let (mean, sd, ess) = brute_force(&records, true);
    let (_, sd_final_only, _) = brute_force(&records, false);
    assert!(ess > 500.0, "brute force ESS {ess:.0}");
    assert!(
        sd < 0.5 * sd_final_only,
        "sd {sd} with, {sd_final_only} without"
    );
    assert!(
        (mean - 0.2).abs() > 3.0 * sd,
        "posterior mean {mean}, sd {sd}"
    );
    let mut ess_of = Vec::new();
    for proposal in ["prior", "guided"] {
        let mut v = v.clone();
        v["inference"]["proposal"] = json!(proposal);
        let path = common::write(dir.path(), proposal, &v);
        let r = run_json(
            &path,
            &dir.path().join(proposal),
            &["--trials", "30000", "--seed", "3"],
        );
        let inv = &r["inverse"];
        let p = inv["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "tabulation.transfer")
            .unwrap_or_else(|| panic!("no tabulation.transfer among {}", inv["parameters"]));
        let got = p["posterior"]["mean"].as_f64().unwrap();
        let run_ess = inv["ess"].as_f64().unwrap();
        let se = sd * (1.0 / ess + 1.0 / run_ess).sqrt();
        println!(
            "{proposal}: posterior mean {got:.4} (ESS {run_ess:.0} of 30,000); brute force {mean:.4}, sd {sd:.4} (ESS {ess:.0} of 60,000); sd from the final count alone {sd_final_only:.4}"
        );
        assert!(
            (got - mean).abs() < 4.0 * se,
            "{proposal}: posterior mean {got}, brute force {mean} (s.e. {se}, ESS {run_ess:.0} and {ess:.0})"
        );
        assert_eq!(inv["preliminary"][0]["party"], "b");
        assert_eq!(inv["preliminary"][0]["share"], 0.2);
        ess_of.push(run_ess);
    }
    // The guided proposal aims b's support at its preliminary share, which the stations must
    // explain; drawn from the prior, most trials miss it.
    assert!(
        ess_of[1] > 2.0 * ess_of[0],
        "ESS guided {:.0}, from the priors {:.0}",
        ess_of[1],
        ess_of[0]
    );
}

/// A change to a scenario.
type Edit = dyn Fn(&mut Value);

/// A bad block exits 2, names the field and writes nothing.
#[test]
fn bad_tabulation_blocks_exit_2_naming_the_field() {
    // (what, the edit, text stderr must contain)
    let cases: [(&str, &Edit, &str); 8] = [
        (
            "neither part",
            &|v| v["tabulation"] = json!({ "beneficiary": "a" }),
            "`tabulation`",
        ),
        (
            "unknown beneficiary",
            &|v| v["tabulation"]["beneficiary"] = json!("z"),
            "tabulation.beneficiary",
        ),
        (
            "a party twice",
            &|v| v["tabulation"]["from"] = json!(["b", "b"]),
            "tabulation.from[1]",
        ),
        (
            "the beneficiary among the losers",
            &|v| v["tabulation"]["from"] = json!(["a", "b"]),
            "field `tabulation.from`: names the beneficiary \"a\"",
        ),
        (
            "two unknown losers",
            &|v| v["tabulation"]["from"] = json!(["y", "z"]),
            "field `tabulation.from[1]`: no party \"z\"",
        ),
        (
            "a share over 1",
            &|v| v["tabulation"]["transfer"] = uniform(0.0, 1.5),
            "tabulation.transfer",
        ),
        (
            "a party's preliminary votes missing",
            &|v| common::remove(v, "/observations/preliminary/votes/c"),
            "observations.preliminary.votes",
        ),
        (
            "a preliminary count without a stage",
            &|v| common::remove(v, "/tabulation"),
            "observations.preliminary",
        ),
    ];
    for (what, edit, field) in cases {
        let dir = TempDir::new().unwrap();
        let mut v = inverse(true);
        edit(&mut v);
        let path = common::write(dir.path(), "bad", &v);
        let out_dir = dir.path().join("out");
        let out = Command::cargo_bin("recount")
            .unwrap()
            .args(["run", path.to_str().unwrap(), "--quiet", "--out"])
            .arg(&out_dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(field), "{what}: no {field} in {err}");
        // An unknown id is reported once, not also as a repeat of the party `find` stood in.
        if what != "a party twice" {
            assert!(!err.contains("listed twice"), "{what}: {err}");
        }
        assert!(!out_dir.exists(), "{what}: something was written");
    }
}
