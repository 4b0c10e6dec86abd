//! One simulated election: the country's layout (`country`), a trial's draws and its precinct
//! loop (`trial`; the pooled sampler in `pooled`; `sampler` chooses between them), the irregularity mechanisms
//! (`mechanism`), honest counting errors in ballots (`count_errors`), the tabulation stage above
//! the stations (`tabulation`), the national outcome (`outcome`) and seats (`seats`).
//!
//! May import: `model`, `sample`, `numeric`.

pub mod count_errors;
pub mod country;
pub mod draw;
pub mod mechanism;
pub mod outcome;
pub(crate) mod pooled;
pub mod sampler;
pub(crate) mod seats;
pub mod tabulation;
pub mod trial;
