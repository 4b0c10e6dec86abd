//! The questions a run answers: the inverse question by approximate Bayesian computation
//! (`inverse`, with the observers in `observe`, the unknowns in `unknowns`, the expected
//! reported shares in `mean_field`, the counting errors' proposal in `count_proposal` and what
//! the answer rests on in `rests_on`, how far the evidence moved its odds in `odds`, the answer under other priors in
//! `alternatives`, simulation-based calibration in `calibration`) and sweeps of a parameter (`sweep`).
//!
//! May import: `engine`, `election`, `model`, `sample`, `numeric`, `error`.

pub mod alternatives;
pub(crate) mod answer;
pub mod calibration;
pub(crate) mod count_proposal;
pub mod inverse;
pub mod mean_field;
pub mod observe;
pub mod odds;
pub mod rests_on;
pub(crate) mod sweep;
pub(crate) mod unknowns;
