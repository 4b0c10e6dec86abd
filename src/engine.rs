//! The parallel Monte Carlo engine.
//!
//! Trials are cut into fixed-size batches whose count does not depend on the thread count; trial
//! `t` draws from its own stream `rng::stream(seed, t)` (`trial_rng`). Rayon simulates a chunk of batches at a
//! time and the records are folded into the accumulator in batch order, so the same seed and
//! trial count give byte-identical results on 1 thread or 64. Memory is bounded by one chunk.

use crate::country::Layout;
use crate::model::Model;
use crate::outcome::{self, Record};
use crate::rng;
use crate::summary::Accumulator;
use crate::trial::Simulator;
use rayon::prelude::*;

/// Trials per batch (part of the reproducibility contract: changing it changes the numbers).
pub const BATCH: u64 = 64;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub trials: u64,
    pub seed: u64,
    /// Worker threads; 1 disables parallelism.
    pub threads: usize,
}

/// The generator of trial `t`: every trial has its own stream, so trial t of two runs with the
/// same seed starts from the same random numbers even when the scenarios differ (common random
/// numbers for sweeps: how many numbers trial t - 1 consumed does not shift trial t).
pub fn trial_rng(seed: u64, t: u64) -> rng::Rng {
    rng::stream(seed, t)
}

/// Simulates trials [first, first + count) of batch `b`: the records in trial order.
pub fn simulate_batch(model: &Model, layout: &Layout, seed: u64, b: u64, count: u64) -> Vec<Record> {
    let mut sim = Simulator::new(model, layout);
    (0..count)
        .map(|i| {
            let mut rng = trial_rng(seed, b * BATCH + i);
            let draw = sim.draw(&mut rng);
            let totals = sim.run(&mut rng, &draw);
            outcome::record(model, layout.len(), &draw, &totals)
        })
        .collect()
}

/// Runs `plan`, calling `progress(trials_done)` after each chunk, and returns the accumulator.
pub fn run(model: &Model, plan: &Plan, mut progress: impl FnMut(u64)) -> Accumulator {
    let layout = Layout::draw(model, plan.seed);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.threads.max(1))
        .build()
        .expect("a thread pool can be built");
    let mut acc = Accumulator::new(model);
    let batches = plan.trials.div_ceil(BATCH);
    // A few batches per thread per chunk keeps threads busy and progress fresh.
    let chunk = (plan.threads.max(1) as u64) * 4;
    let mut done = 0;
    let mut b = 0;
    while b < batches {
        let end = (b + chunk).min(batches);
        let records: Vec<Vec<Record>> = pool.install(|| {
            (b..end)
                .into_par_iter()
                .map(|k| {
                    let count = BATCH.min(plan.trials - k * BATCH);
                    simulate_batch(model, &layout, plan.seed, k, count)
                })
                .collect()
        });
        for r in records.iter().flatten() {
            acc.add(r);
            done += 1;
        }
        progress(done);
        b = end;
    }
    acc
}
