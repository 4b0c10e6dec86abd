//! Numeric foundations: exact (order-independent) summation, statistics (estimates, intervals,
//! quantiles, special functions), the importance weights' tail (`tail`, Pareto k-hat) and portable maths (ln and exp from `libm`, so every machine
//! gives the same bits).
//!
//! May import: nothing of recount's (the bottom layer; unit tests may draw from `sample`).

pub(crate) mod math;
pub mod stats;
pub(crate) mod sum;
pub mod tail;
