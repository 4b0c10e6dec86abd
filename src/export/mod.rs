//! What a run leaves behind: the run's table, JSON and CSV (`run`), sweep curves (`curve`) and
//! their figures (`plot`), one simulated election precinct by precinct (`precincts`), the HTML
//! report (`html`), saved partial results and shards read back (`files`) and files written without overwriting (`write`).
//!
//! May import: `question`, `engine`, `election`, `model`, `sample`, `numeric`, `error`.

pub mod curve;
pub mod files;
pub mod html;
pub mod plot;
pub mod precincts;
pub mod run;
pub mod write;
