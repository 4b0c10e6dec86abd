//! The parallel Monte Carlo engine.
//!
//! Trials are cut into fixed-size batches whose count does not depend on the thread count; trial
//! `t` draws from its own stream `rng::stream(seed, t)` (`trial_rng`). Rayon simulates a chunk of
//! batches at a time and the records are folded into the accumulator, whose sums are exact, so
//! the same seed and trial count give byte-identical results on 1 thread or 64, and when the
//! batches are split into shards run on several machines and merged (`State::merge`). Memory is
//! bounded by one chunk.
//!
//! May import: `election`, `model`, `sample`, `numeric`.

pub mod summary;

use crate::election::country::Layout;
use crate::election::outcome::{self, Record};
use crate::election::trial::Simulator;
use crate::engine::summary::Accumulator;
use crate::model::Model;
use crate::sample::exact::SamplerKind;
use crate::sample::rng;
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
    /// Exact (the default) or approximate samplers, for the forward and the inverse question.
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
    /// The first trial folded in (0, except in a shard of a run).
    #[serde(default)]
    pub first: u64,
    /// One past the last trial folded in: the state holds trials [first, done), whole batches.
    pub done: u64,
    pub acc: Accumulator,
    /// The inverse question's extra running sums.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse: Option<crate::question::inverse::InverseState>,
}

impl State {
    /// No trials yet, starting at trial `first`.
    pub fn new(model: &Model, first: u64) -> State {
        State {
            first,
            done: first,
            acc: Accumulator::new(model),
            inverse: None,
        }
    }

    /// Adds the trials of `next`, which must start where these end. Sums are exact, so the
    /// result is the state of one run over both ranges, to the bit.
    pub fn merge(&mut self, next: &State) -> Result<(), String> {
        if next.first != self.done {
            return Err(format!(
                "trials [{}, {}) do not continue trials [{}, {})",
                next.first, next.done, self.first, self.done
            ));
        }
        if !self.acc.compatible(&next.acc) {
            return Err("the accumulated quantities differ (parties, focus or threshold)".into());
        }
        self.acc.merge(&next.acc);
        match (&mut self.inverse, &next.inverse) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, Some(b)) if self.first == self.done => *a = Some(b.clone()),
            (_, None) if next.first == next.done => {}
            (None, None) => {}
            _ => return Err("one part is an inverse run, the other a forward run".into()),
        }
        self.done = next.done;
        Ok(())
    }
}

/// Runs trials [start, end) in batches of `BATCH` on `threads` threads: `simulate(b, count)`
/// gives the items of batch `b` in trial order, and `fold` receives every item in trial order.
/// `start` must be a multiple of `BATCH`, and so must `end` unless it is the run's last trial.
/// `progress(done)` is called after each chunk. Stops early, between chunks, when `STOP` is set
/// or `STOP_AFTER` trials are done; returns the trials done.
pub fn run_batches<T: Send>(
    threads: usize,
    start: u64,
    end: u64,
    simulate: impl Fn(u64, u64) -> Vec<T> + Sync,
    mut fold: impl FnMut(T),
    mut progress: impl FnMut(u64),
) -> u64 {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool can be built");
    let batches = end.div_ceil(BATCH);
    // A few batches per thread per chunk keeps threads busy and progress fresh while bounding
    // memory to one chunk of items.
    let chunk = threads as u64 * 4;
    let mut done = start;
    let mut b = start / BATCH;
    while b < batches {
        if STOP.load(Ordering::SeqCst) || done >= STOP_AFTER.load(Ordering::SeqCst) {
            break;
        }
        let last = (b + chunk).min(batches);
        let items: Vec<Vec<T>> = pool.install(|| {
            (b..last)
                .into_par_iter()
                .map(|k| simulate(k, BATCH.min(end - k * BATCH)))
                .collect()
        });
        for item in items.into_iter().flatten() {
            fold(item);
            done += 1;
        }
        progress(done);
        b = last;
    }
    done
}

/// Runs the forward question for `plan` and returns the accumulator.
pub fn run(model: &Model, plan: &Plan, progress: impl FnMut(u64)) -> Accumulator {
    let mut state = State::new(model, 0);
    run_forward(model, plan, &mut state, plan.trials, progress);
    state.acc
}

/// Continues the forward question from `state` up to trial `end` (or until stopped).
fn run_forward(model: &Model, plan: &Plan, state: &mut State, end: u64, progress: impl FnMut(u64)) {
    let layout = Layout::draw(model, plan.seed);
    let acc = &mut state.acc;
    state.done = run_batches(
        plan.threads,
        state.done,
        end,
        |b, count| simulate_batch_with(model, &layout, plan.seed, b, count, plan.sampler),
        |r| acc.add(&r),
        progress,
    );
}

/// What a run estimated: the per-party results, for the inverse question the posterior of the
/// unknowns and its diagnostics, and the state to resume from if it stopped early.
pub struct Estimated {
    pub inverse: Option<crate::question::inverse::InverseSummary>,
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
    let state = resume.unwrap_or_else(|| State::new(model, 0));
    estimate_until(model, plan, state, plan.trials, progress)
}

/// `estimate` for the trials from `state.done` up to `end` only (a shard of the run).
pub fn estimate_until(
    model: &Model,
    plan: &Plan,
    mut state: State,
    end: u64,
    progress: impl FnMut(u64),
) -> Estimated {
    match &model.inverse {
        None => run_forward(model, plan, &mut state, end, progress),
        Some(_) => crate::question::inverse::run_from(model, plan, &mut state, end, progress),
    }
    Estimated {
        inverse: summarize(model, &state),
        state,
    }
}

/// The inverse question's posteriors and diagnostics for the trials in `state` (None for a
/// forward scenario).
pub fn summarize(model: &Model, state: &State) -> Option<crate::question::inverse::InverseSummary> {
    model
        .inverse
        .as_ref()
        .map(|_| crate::question::inverse::summarize(model, state))
}

/// Shard `index` of `count` (1-based, as `--shard 2/8` writes it): one machine's share of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write i/n with 1 <= i <= n, e.g. 3/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Its trials in a run of `trials`: whole batches, split as evenly as possible, in order.
    /// None if the run has fewer batches than shards.
    pub fn range(&self, trials: u64) -> Option<std::ops::Range<u64>> {
        let batches = trials.div_ceil(BATCH);
        if batches < self.count {
            return None;
        }
        // In u128, batches * index cannot overflow.
        let at = |i: u64| {
            ((batches as u128 * i as u128 / self.count as u128) as u64 * BATCH).min(trials)
        };
        Some(at(self.index - 1)..at(self.index))
    }
}
