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
use crate::sampler::SamplerKind;
use crate::summary::Accumulator;
use crate::trial::Simulator;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Trials per batch (part of the reproducibility contract: changing it changes the numbers).
pub const BATCH: u64 = 64;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub trials: u64,
    pub seed: u64,
    /// Worker threads; 1 disables parallelism.
    pub threads: usize,
    /// Exact (the default) or approximate samplers; the inverse question always runs exact.
    pub sampler: SamplerKind,
}

/// The generator of trial `t`: every trial has its own stream, so trial t of two runs with the
/// same seed starts from the same random numbers even when the scenarios differ (common random
/// numbers for sweeps: how many numbers trial t - 1 consumed does not shift trial t).
pub fn trial_rng(seed: u64, t: u64) -> rng::Rng {
    rng::stream(seed, t)
}

/// Simulates trials [first, first + count) of batch `b`: the records in trial order.
pub fn simulate_batch(
    model: &Model,
    layout: &Layout,
    seed: u64,
    b: u64,
    count: u64,
) -> Vec<Record> {
    simulate_batch_with(model, layout, seed, b, count, SamplerKind::Exact)
}

/// `simulate_batch` with the given samplers.
pub fn simulate_batch_with(
    model: &Model,
    layout: &Layout,
    seed: u64,
    b: u64,
    count: u64,
    kind: SamplerKind,
) -> Vec<Record> {
    let mut sim = Simulator::new(model, layout).with_sampler(kind);
    (0..count)
        .map(|i| {
            let mut rng = trial_rng(seed, b * BATCH + i);
            let draw = sim.draw(&mut rng);
            let totals = sim.run(&mut rng, &draw);
            outcome::record(model, layout.len(), &draw, &totals)
        })
        .collect()
}

/// Set by Ctrl-C: runs stop at the next chunk boundary and report what they have.
pub static STOP: AtomicBool = AtomicBool::new(false);
/// Stop once this many trials are done (for testing interrupted runs; u64::MAX = never).
pub static STOP_AFTER: AtomicU64 = AtomicU64::new(u64::MAX);

/// Everything a run has accumulated: enough to report, or to continue exactly where it stopped.
/// Trials are folded in trial order, so restoring this and carrying on performs the very same
/// arithmetic as an uninterrupted run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// Trials folded in so far (whole batches, in trial order).
    pub done: u64,
    pub acc: Accumulator,
    /// The inverse question's extra running sums.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse: Option<crate::inverse::InverseState>,
}

/// Runs trials [start, trials) in batches of `BATCH` on `threads` threads: `simulate(b, count)`
/// gives the items of batch `b` in trial order, and `fold` receives every item in trial order,
/// so the result never depends on the thread count. `start` must be a multiple of `BATCH`.
/// `progress(done)` is called after each chunk. Stops early, between chunks, when `STOP` is set
/// or `STOP_AFTER` trials are done; returns the trials done.
pub fn run_batches<T: Send>(
    threads: usize,
    start: u64,
    trials: u64,
    simulate: impl Fn(u64, u64) -> Vec<T> + Sync,
    mut fold: impl FnMut(T),
    mut progress: impl FnMut(u64),
) -> u64 {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool can be built");
    let batches = trials.div_ceil(BATCH);
    // A few batches per thread per chunk keeps threads busy and progress fresh while bounding
    // memory to one chunk of items.
    let chunk = threads as u64 * 4;
    let mut done = start;
    let mut b = start / BATCH;
    while b < batches {
        if STOP.load(Ordering::SeqCst) || done >= STOP_AFTER.load(Ordering::SeqCst) {
            break;
        }
        let end = (b + chunk).min(batches);
        let items: Vec<Vec<T>> = pool.install(|| {
            (b..end)
                .into_par_iter()
                .map(|k| simulate(k, BATCH.min(trials - k * BATCH)))
                .collect()
        });
        for item in items.into_iter().flatten() {
            fold(item);
            done += 1;
        }
        progress(done);
        b = end;
    }
    done
}

/// Runs the forward question for `plan` and returns the accumulator.
pub fn run(model: &Model, plan: &Plan, progress: impl FnMut(u64)) -> Accumulator {
    let mut state = State {
        done: 0,
        acc: Accumulator::new(model),
        inverse: None,
    };
    run_forward(model, plan, &mut state, progress);
    state.acc
}

/// Continues the forward question from `state` up to `plan.trials` (or until stopped).
fn run_forward(model: &Model, plan: &Plan, state: &mut State, progress: impl FnMut(u64)) {
    let layout = Layout::draw(model, plan.seed);
    let acc = &mut state.acc;
    state.done = run_batches(
        plan.threads,
        state.done,
        plan.trials,
        |b, count| simulate_batch_with(model, &layout, plan.seed, b, count, plan.sampler),
        |r| acc.add(&r),
        progress,
    );
}

/// What a run estimated: the per-party results, for the inverse question the posterior of the
/// unknowns and its diagnostics, and the state to resume from if it stopped early.
pub struct Estimated {
    pub inverse: Option<crate::inverse::InverseSummary>,
    pub state: State,
}

/// Answers the scenario's question: the inverse one if it has observations, else the forward
/// one. Starts from `resume` (a saved `State`) if given. `progress(done)` counts trials.
pub fn estimate(
    model: &Model,
    plan: &Plan,
    resume: Option<State>,
    progress: impl FnMut(u64),
) -> Estimated {
    let mut state = resume.unwrap_or_else(|| State {
        done: 0,
        acc: Accumulator::new(model),
        inverse: None,
    });
    let inverse = match &model.inverse {
        None => {
            run_forward(model, plan, &mut state, progress);
            None
        }
        Some(_) => Some(crate::inverse::run_from(model, plan, &mut state, progress)),
    };
    Estimated { inverse, state }
}
