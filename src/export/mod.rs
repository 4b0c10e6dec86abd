//! What a run leaves behind: the run's table, JSON and CSV (`run`), sweep curves (`curve`) and
//! their figures (`plot`), the inverse answer's posterior figure (`posterior`) and what it rests
//! on (`profile`), one simulated election precinct by precinct (`precincts`), real protocols' fingerprint beside a
//! simulated one (`fingerprint`), the HTML
//! report (`html`), figures, names and the answer in words (`words`), PNG copies of the SVG figures (`raster`), saved partial results and shards read back (`files`) and files written without overwriting (`write`).
//!
//! May import: `question`, `engine`, `election`, `model`, `sample`, `numeric`, `error`.

pub(crate) mod curve;
pub(crate) mod files;
pub(crate) mod fingerprint;
pub(crate) mod html;
pub(crate) mod plot;
pub(crate) mod posterior;
pub(crate) mod precincts;
pub(crate) mod profile;
pub(crate) mod raster;
pub(crate) mod run;
pub(crate) mod words;
pub(crate) mod write;
