//! Random numbers and the laws drawn from them: the named generator and its per-trial streams
//! (`rng`), the exact samplers (`exact`), the approximate ones behind `--sampler fast` and
//! `pooled` (`approx`), the laws of counts (`count`), the truncated normal of the guided
//! proposals (`truncated`), and their tables (`ziggurat`, `alias`).
//!
//! May import: `numeric`.

pub(crate) mod alias;
pub(crate) mod approx;
pub mod count;
pub mod exact;
pub mod kind;
pub mod rng;
pub mod truncated;
pub(crate) mod ziggurat;
