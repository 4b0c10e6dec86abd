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
use crate::export::precincts::{Election, Precinct};
use crate::model::protocols::Stations;

/// A fingerprint in four numbers, so real and simulated can be compared at a glance: each from
/// the stations where someone voted, unweighted (a station is a point of the picture).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features {
    /// Stations counted.
    pub stations: u64,
    /// Mean station turnout.
    pub mean_turnout: f64,
    /// Share of stations with a turnout of 80% or more.
    pub high_turnout: f64,
    /// Share of stations with both turnout and the party's share at 80% or more: the corner
    /// where invented protocols pile up (Klimek et al.'s "extreme fraud").
    pub corner: f64,
    /// Pearson correlation of station turnout and the party's share: near 0 in clean elections,
    /// clearly positive where ballots are added or moved for the party.
    pub correlation: f64,
}

impl Features {
    /// From (turnout, share) points.
    pub fn of(points: impl Iterator<Item = (f64, f64)>) -> Features {
        let (mut n, mut st, mut ss, mut stt, mut sss, mut sts, mut high, mut corner) =
            (0u64, 0.0, 0.0, 0.0, 0.0, 0.0, 0u64, 0u64);
        for (t, s) in points {
            n += 1;
            st += t;
            ss += s;
            stt += t * t;
            sss += s * s;
            sts += t * s;
            high += (t >= 0.8) as u64;
            corner += (t >= 0.8 && s >= 0.8) as u64;
        }
        let m = n.max(1) as f64;
        let (mt, ms) = (st / m, ss / m);
        let cov = sts / m - mt * ms;
        let (vt, vs) = (stt / m - mt * mt, sss / m - ms * ms);
        Features {
            stations: n,
            mean_turnout: mt,
            high_turnout: high as f64 / m,
            corner: corner as f64 / m,
            correlation: if vt > 0.0 && vs > 0.0 { cov / (vt * vs).sqrt() } else { 0.0 },
        }
    }

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
        out.push_str(&row("mean station turnout", real.mean_turnout, sim.mean_turnout, true));
        out.push_str(&row("stations with turnout >= 80%", real.high_turnout, sim.high_turnout, true));
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
}

/// The (turnout, share of party `j`) points of the protocols' stations where someone voted.
pub fn real_points(s: &Stations, j: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
    (0..s.len())
        .filter(|&i| s.ballots[i] > 0 && s.registered[i] > 0)
        .map(move |i| (s.turnout(i), s.share(i, j)))
}

/// The same points of a simulated election's reported count.
pub fn simulated_points(e: &Election, j: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
    e.precincts
        .iter()
        .filter(|p| p.reported_votes.iter().sum::<u64>() > 0 && p.registered > 0)
        .map(move |p| {
            (
                Precinct::turnout(&p.reported_votes, p.registered),
                Precinct::share(&p.reported_votes, j),
            )
        })
}

/// The protocols' fingerprint for party `j`: stations where someone voted.
pub fn real(s: &Stations, j: usize, bins: usize) -> Histogram2d {
    Histogram2d::new(bins, real_points(s, j))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_known_points() {
        let f = Features::of([(0.5, 0.2), (0.9, 0.9), (0.85, 0.5), (0.3, 0.1)].into_iter());
        assert_eq!(f.stations, 4);
        assert!((f.mean_turnout - 0.6375).abs() < 1e-12);
        assert_eq!(f.high_turnout, 0.5);
        assert_eq!(f.corner, 0.25);
        assert!(f.correlation > 0.8 && f.correlation < 1.0, "{}", f.correlation);
        let flat = Features::of([(0.5, 0.5), (0.6, 0.5)].into_iter());
        assert_eq!(flat.correlation, 0.0);
    }
}
