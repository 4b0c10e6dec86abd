//! The questions a run answers: the inverse question by approximate Bayesian computation
//! (`inverse`, with the observers in `observe`, the unknowns in `unknowns` and the expected
//! reported shares in `mean_field`) and sweeps of a parameter (`sweep`).
//!
//! May import: `engine`, `election`, `model`, `sample`, `numeric`, `error`.

pub(crate) mod answer;
pub mod inverse;
pub mod mean_field;
pub mod observe;
pub(crate) mod sweep;
pub(crate) mod unknowns;
