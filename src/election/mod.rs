//! One simulated election: the country's layout (`country`), a trial's draws and its precinct
//! loop (`trial`, with the pooled sampler in `trial::pooled`), the irregularity mechanisms
//! (`mechanism`), the national outcome (`outcome`) and seats (`seats`).
//!
//! May import: `model`, `sample`, `numeric`.

pub mod country;
pub mod mechanism;
pub mod outcome;
pub mod seats;
pub mod trial;
