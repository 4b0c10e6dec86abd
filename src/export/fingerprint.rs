//! The election fingerprint of real protocols beside a simulated election on the same stations:
//! `recount fingerprint`.
//!
//! The fingerprint (Klimek, Yegorov, Hanel and Thurner, PNAS 2012) is the 2-D histogram of
//! station turnout against a party's share of valid votes. Honest counts make one compact cloud
//! per region; ballots stuffed or moved for a party smear it towards the upper right, and
//! invented protocols pile up at 100% turnout and 100% share. Beside the protocols' picture, the
//! same picture of an election the scenario simulates on the same stations shows whether the
//! model can reproduce the data.

use crate::export::plot::{self, Histogram2d, PlotError};
use crate::export::precincts::Election;
use crate::model::protocols::{self, Features, Stations};

/// Real beside simulated, one line each, for the terminal.
pub fn table(real: &Features, sim: &Features, party: &str) -> String {
    let row = |name: &str, a: f64, b: f64, pct: bool| {
        if pct {
            format!("{name:<44} {:>9.2}% {:>9.2}%\n", 100.0 * a, 100.0 * b)
        } else {
            format!("{name:<44} {a:>10.3} {b:>10.3}\n")
        }
    };
    let mut out = format!("{:<44} {:>10} {:>10}\n", "", "protocols", "simulated");
    out.push_str(&row(
        "mean station turnout",
        real.mean_turnout,
        sim.mean_turnout,
        true,
    ));
    out.push_str(&row(
        "stations with turnout >= 80%",
        real.high_turnout,
        sim.high_turnout,
        true,
    ));
    out.push_str(&row(
        &format!("... and {party} share >= 80%"),
        real.corner,
        sim.corner,
        true,
    ));
    out.push_str(&row(
        &format!("correlation of turnout and {party} share"),
        real.correlation,
        sim.correlation,
        false,
    ));
    out
}

/// The same points of a simulated election's reported count.
pub fn simulated_points(e: &Election, j: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
    e.precincts
        .iter()
        .filter_map(move |p| protocols::point(p.registered, &p.reported_votes, j))
}

/// The protocols' fingerprint for party `j`: stations where someone voted.
pub fn real(s: &Stations, j: usize, bins: usize) -> Histogram2d {
    Histogram2d::new(bins, s.points(j))
}

/// The reported count's fingerprint of a simulated election for party `j`.
pub fn simulated(e: &Election, j: usize, bins: usize) -> Histogram2d {
    Histogram2d::new(bins, simulated_points(e, j))
}

/// Both histograms as one table, a row per cell (bin edges as fractions), for a spreadsheet
/// or pandas: `turnout_from,turnout_to,share_from,share_to,protocols,simulated`.
pub fn to_csv(real: &Histogram2d, sim: &Histogram2d) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "turnout_from",
        "turnout_to",
        "share_from",
        "share_to",
        "protocols",
        "simulated",
    ])
    .expect("writing to memory cannot fail");
    let b = real.bins;
    let edge = |k: usize| format!("{}", k as f64 / b as f64);
    for iy in 0..b {
        for ix in 0..b {
            w.write_record([
                edge(ix),
                edge(ix + 1),
                edge(iy),
                edge(iy + 1),
                real.counts[iy][ix].to_string(),
                sim.counts[iy][ix].to_string(),
            ])
            .expect("writing to memory cannot fail");
        }
    }
    String::from_utf8(w.into_inner().expect("flushing memory cannot fail")).expect("CSV is UTF-8")
}

/// The two fingerprints side by side, on one shading scale.
pub fn svg(
    title: &str,
    party: &str,
    real: &Histogram2d,
    sim: &Histogram2d,
    sim_caption: &str,
) -> Result<String, PlotError> {
    plot::fingerprint(
        title,
        &format!("{party}: share of valid votes"),
        [("Official protocols", real), (sim_caption, sim)],
    )
}
