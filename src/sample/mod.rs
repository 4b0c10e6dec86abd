//! Random numbers and the laws drawn from them: the named generator and its per-trial streams
//! (`rng`), the exact samplers (`exact`), the approximate ones behind `--sampler fast` and
//! `pooled` (`approx`), and their tables (`ziggurat`, `alias`).
//!
//! May import: `numeric`.

pub mod alias;
pub mod approx;
pub mod exact;
pub mod kind;
pub mod rng;
pub mod ziggurat;
