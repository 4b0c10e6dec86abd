//! The picture of what the inverse answer rests on: for the unknowns whose prior halves give the
//! most different headlines, the headline probability across the unknown's prior (the run's
//! twenty bins of equal prior mass, `question::rests_on::Profile`), with its 95% band, the
//! posterior's 90% range shaded and the answer itself as a dashed line; and every unknown's bins
//! as CSV.
//!
//! Each bin is the answer the same evidence would give had the unknown been known to lie in it,
//! read off the run's own weighted trials: a sweep of the unknown, without rerunning.

use crate::export::plot::{PALETTE, PlotError, axis, err, legend, tick};
use crate::numeric::stats::Estimate;
use crate::question::inverse::{InverseSummary, ParamSummary};
use plotters::prelude::*;

/// Panels in the figure at most.
pub const PANELS: usize = 3;

/// The unknowns the figure draws: at most `PANELS`, those whose two halves' headlines differ
/// most (by more than the rule's 5 points), largest gap first; none where no unknown moves it.
pub fn influential(inv: &InverseSummary) -> Vec<&ParamSummary> {
    let gap = |p: &ParamSummary| match (p.dependence.headline_below, p.dependence.headline_above) {
        (Some(b), Some(a)) => (a.estimate - b.estimate).abs(),
        _ => 0.0,
    };
    let mut ps: Vec<&ParamSummary> = inv
        .parameters
        .iter()
        .filter(|p| gap(p) > crate::question::rests_on::GAP)
        .collect();
    ps.sort_by(|a, b| gap(b).total_cmp(&gap(a)));
    ps.truncate(PANELS);
    ps
}

/// Every unknown's bins as CSV: `unknown,from,to,ess,headline,ci95_low,ci95_high,mcse` (the
/// headline empty under 30 effective trials).
pub fn to_csv(inv: &InverseSummary) -> String {
    let mut out = String::from("unknown,from,to,ess,headline,ci95_low,ci95_high,mcse\n");
    for p in &inv.parameters {
        for b in &p.dependence.profile {
            let e = b.headline.map_or(",,,".to_string(), |e| {
                format!("{},{},{},{}", e.estimate, e.ci95[0], e.ci95[1], e.mcse)
            });
            out.push_str(&format!("{},{},{},{},{e}\n", p.name, b.from, b.to, b.ess));
        }
    }
    out
}

/// The figure: one panel per unknown of `influential`; `parties` are the scenario's party names
/// (for axes in words), `headline` names the probability ("P(NSDP or Ak Zhol truly ≥ 7%)"),
/// `answer` is the run's. None where no unknown moves it.
pub fn svg(
    inv: &InverseSummary,
    parties: &[String],
    headline: &str,
    answer: &Estimate,
    title: &str,
) -> Option<Result<String, PlotError>> {
    let ps = influential(inv);
    if ps.is_empty() {
        return None;
    }
    let draw = || {
        let mut svg = String::new();
        {
            let n = ps.len() as u32;
            let root = SVGBackend::with_string(&mut svg, (480 * n, 460)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let root = root.titled(title, ("sans-serif", 17)).map_err(err)?;
            for (k, (area, p)) in root.split_evenly((1, ps.len())).iter().zip(&ps).enumerate() {
                panel(
                    area,
                    p,
                    parties,
                    headline,
                    answer,
                    PALETTE[(k + 2) % PALETTE.len()],
                )?;
            }
            root.present().map_err(err)?;
        }
        Ok(svg)
    };
    Some(draw())
}

fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    p: &ParamSummary,
    parties: &[String],
    headline: &str,
    answer: &Estimate,
    color: RGBColor,
) -> Result<(), PlotError> {
    let bins = &p.dependence.profile;
    let (lo, hi) = (
        bins.first().map_or(0.0, |b| b.from),
        bins.last().map_or(1.0, |b| b.to),
    );
    let top = bins
        .iter()
        .filter_map(|b| b.headline.map(|e| e.ci95[1]))
        .fold(answer.estimate, f64::max)
        .clamp(0.05, 1.0)
        * 1.15;
    // An irregularity's number goes by its short path ("transfer.intensity"), which the axis
    // words know under "irregularities.".
    let path = &p.dependence.sweep_path;
    let x_axis = [path.clone(), format!("irregularities.{path}")]
        .iter()
        .map(|q| axis(q, parties, &[lo, hi]))
        .find(|a| a.label.contains(" ("))
        .unwrap_or_else(|| axis(path, parties, &[lo, hi]));
    // The caption names the unknown; the axis says what it is in words, without the path.
    let words = x_axis.label.split(" (").next().unwrap_or(&x_axis.label);
    let mut chart = ChartBuilder::on(area)
        .caption(p.name.clone(), ("sans-serif", 16))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d(lo..hi, 0f64..top.min(1.0))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(format!("{words}, prior {}", p.prior))
        .x_label_formatter(&|x| tick(*x, x_axis.percent))
        .y_desc(headline)
        .axis_desc_style(("sans-serif", 13))
        .label_style(("sans-serif", 12))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    // The posterior's 90% range: where the evidence puts the unknown.
    let (q05, q95) = (p.posterior.q05, p.posterior.q95);
    if q05.is_finite() && q95.is_finite() {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(q05.max(lo), 0.0), (q95.min(hi), top)],
                BLACK.mix(0.07).filled(),
            )))
            .map_err(err)?
            .label("posterior 90% range of the unknown")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLACK.mix(0.15).filled())
            });
    }
    let shown: Vec<(f64, Estimate)> = bins
        .iter()
        .filter_map(|b| b.headline.map(|e| (0.5 * (b.from + b.to), e)))
        .collect();
    let mut band: Vec<(f64, f64)> = shown.iter().map(|(x, e)| (*x, e.ci95[1])).collect();
    band.extend(shown.iter().rev().map(|(x, e)| (*x, e.ci95[0])));
    chart
        .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            shown.iter().map(|(x, e)| (*x, e.estimate)),
            color.stroke_width(2),
        ))
        .map_err(err)?
        .label("the answer with the unknown in this bin (95% band)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    chart
        .draw_series(
            shown
                .iter()
                .map(|(x, e)| Circle::new((*x, e.estimate), 3, color.filled())),
        )
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(lo, answer.estimate), (hi, answer.estimate)],
            6,
            4,
            BLACK.stroke_width(1),
        ))
        .map_err(err)?
        .label(format!("the answer, {:.3}", answer.estimate))
        .legend(|(x, y)| {
            // Dashed, as the line it stands for.
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (7, 0)], BLACK)
                + PathElement::new(vec![(12, 0), (20, 0)], BLACK)
        });
    legend(&mut chart, SeriesLabelPosition::UpperLeft, 11)
}
