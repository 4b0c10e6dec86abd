//! What a run answers: the scenario's question (the inverse one if it has observations, else
//! the forward one), and everything it has accumulated (`State`), enough to report it or to
//! continue exactly where it stopped (`--resume`, shards and `merge`).

use crate::engine::summary::Accumulator;
use crate::engine::{self, Plan};
use crate::model::Model;
use crate::question::inverse::{self, InverseState, InverseSummary};
use serde::{Deserialize, Serialize};

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
    pub inverse: Option<InverseState>,
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
        if let (Some(a), Some(b)) = (&self.inverse, &next.inverse)
            && !a.compatible(b)
        {
            return Err("the inverse question's sums cover different unknowns".into());
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

/// Answers the scenario's question: the inverse one if it has observations, else the forward
/// one. Starts from `resume` (a saved `State`) if given. `progress(done)` counts trials.
pub fn estimate(
    model: &Model,
    plan: &Plan,
    resume: Option<State>,
    progress: impl FnMut(u64),
) -> State {
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
) -> State {
    match &model.inverse {
        None => {
            state.done = engine::run_forward(model, plan, &mut state.acc, state.done, end, progress)
        }
        Some(_) => {
            let inv = state
                .inverse
                .get_or_insert_with(|| InverseState::for_model(model));
            state.done =
                inverse::run_from(model, plan, &mut state.acc, inv, state.done, end, progress)
        }
    }
    state
}

/// The inverse question's posteriors and diagnostics for the trials in `state` (None for a
/// forward scenario).
pub fn summarize(model: &Model, state: &State) -> Option<InverseSummary> {
    model
        .inverse
        .as_ref()
        .map(|_| inverse::summarize(model, &state.acc, state.inverse.as_ref()))
}
