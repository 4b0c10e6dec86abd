//! The numbers a seed produces, pinned in `tests/snapshots/pinned__*.snap`.
//!
//! recount promises byte-identical results for the same scenario, seed and trial count on every
//! machine and thread count, and new numbers only with a new SAMPLER_VERSION (src/lib.rs). This
//! test holds both promises: it prints every run's figures with full precision (Rust's shortest
//! round-trip form of each f64) for the exact, fast and pooled samplers, forward and inverse,
//! and compares them with the committed snapshot.
//!
//! - It fails on a machine where the code is unchanged: a reproducibility bug (a platform
//!   function, an unspecified order), to be fixed rather than re-pinned.
//! - It fails after a change meant to alter the numbers: bump SAMPLER_VERSION, say why in
//!   CHANGELOG.md, and accept the new snapshot (`INSTA_UPDATE=always cargo test --test pinned`,
//!   or `cargo insta review`). The snapshot names the version, so the bump shows in its diff.

use recount::engine::summary::Results;
use recount::engine::{self, Plan};
use recount::model::load;
use recount::numeric::stats::Estimate;
use recount::sample::kind::SamplerKind;
use std::fmt::Write;

const TRIALS: u64 = 128;
const SEED: u64 = 1;

fn estimate(e: &Estimate) -> String {
    format!("{:?} [{:?}, {:?}]", e.estimate, e.ci95[0], e.ci95[1])
}

/// Every published figure of `r`, one line each, with full precision.
fn figures(r: &Results) -> String {
    let mut s = String::new();
    for p in &r.parties {
        let (t, rep) = (&p.true_share, &p.reported_share);
        writeln!(
            s,
            "{}: true share {:?} [{:?}, {:?}, {:?}], reported {:?} [{:?}, {:?}, {:?}]",
            p.id, t.mean, t.q05, t.q50, t.q95, rep.mean, rep.q05, rep.q50, rep.q95
        )
        .unwrap();
        writeln!(
            s,
            "{}: P(true over) {}, P(reported over) {}, P(flipped) {}, seats {:?} / {:?}",
            p.id,
            estimate(&p.p_true_cross),
            estimate(&p.p_reported_cross),
            estimate(&p.p_flipped),
            p.expected_seats_true,
            p.expected_seats_reported
        )
        .unwrap();
        let m = &p.votes_moved;
        writeln!(
            s,
            "{}: votes moved {:?} [{:?}, {:?}, {:?}], official deficit {:?}",
            p.id, m.mean, m.q05, m.q50, m.q95, p.official_deficit
        )
        .unwrap();
    }
    writeln!(
        s,
        "any true {}, all true {}, any reported {}, any flipped {}",
        estimate(&r.p_any_true_cross),
        estimate(&r.p_all_true_cross),
        estimate(&r.p_any_reported_cross),
        estimate(&r.p_any_flipped)
    )
    .unwrap();
    writeln!(
        s,
        "turnout true {:?}, reported {:?}; irregular {:?}",
        r.true_turnout.mean, r.reported_turnout.mean, r.irregular_fraction.mean
    )
    .unwrap();
    s
}

fn plan(sampler: SamplerKind) -> Plan {
    Plan {
        trials: TRIALS,
        seed: SEED,
        threads: 2,
        sampler,
    }
}

#[test]
fn the_numbers_a_seed_produces() {
    let mut out = format!(
        "SAMPLER_VERSION {}; {TRIALS} trials, seed {SEED}\n",
        recount::SAMPLER_VERSION
    );
    for (name, sampler) in [
        ("odihr-43", SamplerKind::Exact),
        ("odihr-43", SamplerKind::Fast),
        ("odihr-43", SamplerKind::Pooled),
        ("honest-errors", SamplerKind::Fast),
        ("stuffing", SamplerKind::Exact),
    ] {
        let l = load::load(name).unwrap();
        let r = engine::run(&l.model, &plan(sampler), |_| {}).results(&l.model);
        write!(out, "\n# {name}, {}\n{}", sampler.name(), figures(&r)).unwrap();
    }
    for sampler in [SamplerKind::Exact, SamplerKind::Fast, SamplerKind::Pooled] {
        let l = load::load("inverse-odihr").unwrap();
        let (acc, summary) = recount::question::inverse::run(&l.model, &plan(sampler), |_| {});
        write!(
            out,
            "\n# inverse-odihr, {}\nESS {:?}, acceptance {:?}\n{}",
            sampler.name(),
            summary.ess,
            summary.acceptance_rate,
            figures(&acc.results(&l.model))
        )
        .unwrap();
        for p in &summary.parameters {
            let q = &p.posterior;
            writeln!(
                out,
                "{}: posterior {:?} [{:?}, {:?}]",
                p.name, q.mean, q.q05, q.q95
            )
            .unwrap();
        }
    }
    insta::assert_snapshot!(out);
}
