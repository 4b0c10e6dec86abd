//! The parallel Monte Carlo engine.
//!
//! Trials are cut into fixed-size batches whose count does not depend on the thread count; trial
//! `t` draws from its own stream `rng::stream(seed, t)` (`trial_rng`). Rayon simulates a chunk of
//! batches at a time and the records are folded into the accumulator, whose sums are exact, so
//! the same seed and trial count give byte-identical results on 1 thread or 64, and when the
//! batches are split into shards run on several machines and merged
//! (`question::answer::State::merge`). Memory is
//! bounded by one chunk.
//!
//! May import: `election`, `model`, `sample`, `numeric`.

pub mod summary;

use crate::election::country::Layout;
use crate::election::outcome::{self, Record};
use crate::election::sampler::Sampler;
use crate::engine::summary::Accumulator;
use crate::model::Model;
use crate::sample::kind::SamplerKind;
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
    let mut sim = Sampler::new(model, layout, kind);
    (0..count)
        .take_while(|i| !stopping_before(b * BATCH + i))
        .map(|i| {
            let mut rng = trial_rng(seed, b * BATCH + i);
            let draw = sim.draw(&mut rng);
            let totals = sim.run(&mut rng, &draw);
            outcome::record(model, layout.len(), &draw, &totals)
        })
        .collect()
}

/// Set by Ctrl-C: runs stop after the trial each thread is simulating, drop the unfinished
/// chunk and report what they have.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Stop as if interrupted when this trial starts (for testing stops in the middle of a batch;
/// u64::MAX = never).
pub static STOP_AT: AtomicU64 = AtomicU64::new(u64::MAX);

/// `stopping()`, before simulating trial `t` (which sets `STOP` if it is `STOP_AT`).
pub fn stopping_before(t: u64) -> bool {
    if t == STOP_AT.load(Ordering::Relaxed) {
        STOP.store(true, Ordering::SeqCst);
    }
    stopping()
}

/// Whether the run is being stopped: a batch's simulation checks it before each trial and ends
/// short, so a stop waits for one trial per thread, not for a chunk of batches (a trial of a
/// million precincts takes about a tenth of a second; a chunk, minutes).
pub fn stopping() -> bool {
    STOP.load(Ordering::Relaxed)
}
/// Stop once this many trials are done (for testing interrupted runs; u64::MAX = never).
pub static STOP_AFTER: AtomicU64 = AtomicU64::new(u64::MAX);

/// Precinct-trials per thread in a chunk: a chunk holds four batches per thread where that is
/// less (Kazakhstan's 9,728 precincts), one batch per thread (whatever its size) for countries of
/// more than about 80,000 precincts.
const CHUNK_WORK: u64 = 10_000_000;

/// Runs trials [start, end) in batches of `BATCH` on `threads` threads: `simulate(b, count)`
/// gives the items of batch `b` in trial order (fewer than `count` only when stopping), and
/// `fold` receives every item in trial order. `precincts` is a trial's size, which sets how many
/// batches a chunk holds. `start` must be a multiple of `BATCH`, and so must `end` unless it is
/// the run's last trial. `progress(done)` is called after each chunk. Stops early when `STOP` is
/// set (the chunk's batches before the first one cut short are kept, the rest dropped: the state
/// holds whole batches) or, between chunks, once `STOP_AFTER` trials are done; returns the trials
/// done.
pub fn run_batches<T: Send>(
    (threads, precincts): (usize, u64),
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
    // memory to one chunk of items; large countries take one batch per thread, so that a stop
    // drops little. The chunk depends on the country, never on the machine's speed, and never
    // changes a number (items are folded in trial order).
    let per_thread = (CHUNK_WORK / (BATCH * precincts.max(1))).clamp(1, 4);
    let chunk = threads as u64 * per_thread;
    let mut done = start;
    let mut b = start / BATCH;
    while b < batches {
        if stopping() || done >= STOP_AFTER.load(Ordering::SeqCst) {
            break;
        }
        // A chunk ends where `--stop-after` stops, so a stopped run holds the same trials on
        // any thread count.
        let stop_batch = STOP_AFTER.load(Ordering::SeqCst).div_ceil(BATCH).max(b + 1);
        let last = (b + chunk).min(batches).min(stop_batch);
        let items: Vec<Vec<T>> = pool.install(|| {
            (b..last)
                .into_par_iter()
                .map(|k| simulate(k, BATCH.min(end - k * BATCH)))
                .collect()
        });
        for (k, batch) in (b..last).zip(items) {
            if batch.len() as u64 != BATCH.min(end - k * BATCH) {
                // Cut short by a stop: this batch and the ones after it are dropped.
                progress(done);
                return done;
            }
            for item in batch {
                fold(item);
                done += 1;
            }
        }
        progress(done);
        b = last;
    }
    done
}

/// Runs the forward question for `plan` and returns the accumulator.
pub fn run(model: &Model, plan: &Plan, progress: impl FnMut(u64)) -> Accumulator {
    let mut acc = Accumulator::new(model);
    run_forward(model, plan, &mut acc, 0, plan.trials, progress);
    acc
}

/// Continues the forward question: folds trials [start, end) into `acc` (or until stopped) and
/// returns one past the last trial done.
pub fn run_forward(
    model: &Model,
    plan: &Plan,
    acc: &mut Accumulator,
    start: u64,
    end: u64,
    progress: impl FnMut(u64),
) -> u64 {
    let layout = Layout::draw(model, plan.seed);
    run_batches(
        (plan.threads, model.n_precincts()),
        start,
        end,
        |b, count| simulate_batch_with(model, &layout, plan.seed, b, count, plan.sampler),
        |r| acc.add(&r),
        progress,
    )
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
