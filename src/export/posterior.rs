//! The picture of the inverse question's answer: for each focus party, the posterior density of
//! its true share of valid votes, its prior beside it (faint), the threshold and the official
//! share marked, and P(truly >= threshold) written on it; with the same curves as CSV.
//!
//! The posterior is read off the run's weighted histogram of true shares (quantiles resolved to
//! 0.005 points, far finer than the figure's cells). The prior drawn is the prior of the party's
//! true national support, which the true share follows up to precinct-level noise of a few
//! hundredths of a point: where the two curves differ, the data taught something.

use crate::engine::summary::{Accumulator, Results};
use crate::export::plot::{PALETTE, PlotError, err, legend, short};
use crate::model::Model;
use crate::model::prior::Dist;
use crate::numeric::math;
use crate::numeric::stats::Estimate;
use crate::question::unknowns::log_density;
use plotters::prelude::*;

/// Cells of the share axis.
const CELLS: usize = 160;

/// One focus party's curves.
#[derive(Debug, Clone)]
pub struct PartyCurves {
    pub id: String,
    pub name: String,
    pub official: Option<f64>,
    pub p_cross: Estimate,
    /// Posterior density per cell (per unit of share).
    pub posterior: Vec<f64>,
    /// Prior density of the party's support per cell; None for a fixed or remainder support.
    pub prior: Option<Vec<f64>>,
}

/// Every focus party's curves on one share axis.
#[derive(Debug, Clone)]
pub struct Curves {
    pub threshold: f64,
    /// Cell edges: CELLS + 1 shares from 0.
    pub edges: Vec<f64>,
    pub parties: Vec<PartyCurves>,
}

/// The curves of a run's accumulated trials.
pub fn curves(model: &Model, acc: &Accumulator, results: &Results) -> Curves {
    let th = model.threshold;
    // The axis reaches past the threshold, the official shares, the posteriors' 95% quantiles
    // and the priors' 99% quantiles, so every curve and mark is in view.
    let mut hi = 1.6 * th;
    for &j in &model.focus {
        let r = &results.parties[j];
        hi = hi.max(1.3 * r.true_share.q95);
        if let Some(o) = r.official_share {
            hi = hi.max(1.3 * o);
        }
        if let Some(d) = model.support[j].filter(|d| !matches!(d, Dist::Fixed(_))) {
            hi = hi.max(d.quantile(0.99));
        }
    }
    let hi = hi.min(1.0);
    let edges: Vec<f64> = (0..=CELLS).map(|k| hi * k as f64 / CELLS as f64).collect();
    let width = hi / CELLS as f64;
    let parties = model
        .focus
        .iter()
        .map(|&j| {
            let r = &results.parties[j];
            let cdf: Vec<f64> = edges.iter().map(|&x| acc.true_share_cdf(j, x)).collect();
            let posterior = cdf.windows(2).map(|w| (w[1] - w[0]) / width).collect();
            let prior = model.support[j]
                .filter(|d| !matches!(d, Dist::Fixed(_)))
                .map(|d| {
                    edges
                        .windows(2)
                        .map(|w| math::exp(log_density(&d, 0.5 * (w[0] + w[1]))))
                        .collect()
                });
            PartyCurves {
                id: r.id.clone(),
                name: r.name.clone(),
                official: r.official_share,
                p_cross: r.p_true_cross,
                posterior,
                prior,
            }
        })
        .collect();
    Curves {
        threshold: th,
        edges,
        parties,
    }
}

/// The curves as CSV, one row per party and cell: `party_id,share_low,share_high,
/// posterior_density,prior_density` (densities per unit of share; prior empty where fixed).
pub fn to_csv(c: &Curves) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "party_id",
        "share_low",
        "share_high",
        "posterior_density",
        "prior_density",
    ])
    .expect("writing to memory cannot fail");
    for p in &c.parties {
        for (k, e) in c.edges.windows(2).enumerate() {
            w.write_record([
                p.id.clone(),
                e[0].to_string(),
                e[1].to_string(),
                p.posterior[k].to_string(),
                p.prior
                    .as_ref()
                    .map(|v| v[k].to_string())
                    .unwrap_or_default(),
            ])
            .expect("writing to memory cannot fail");
        }
    }
    String::from_utf8(w.into_inner().expect("flushing memory cannot fail")).expect("CSV is UTF-8")
}

/// The posterior as weighted draws, one row per trial: `trial`, `weight` (normalised to sum to
/// 1, so a weighted mean is a sum of weight x value), each unknown by name, and each party's
/// true share (`true_share_<id>`). Resampling rows by weight gives unweighted draws worth about
/// the run's ESS.
pub fn draws_csv(
    unknowns: &[String],
    party_ids: &[String],
    draws: &[crate::question::inverse::PosteriorDraw],
) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["trial".to_string(), "weight".to_string()];
    header.extend(unknowns.iter().cloned());
    header.extend(party_ids.iter().map(|id| format!("true_share_{id}")));
    w.write_record(&header)
        .expect("writing to memory cannot fail");
    let total: f64 = draws.iter().map(|d| d.weight).sum();
    for d in draws {
        let mut row = vec![d.trial.to_string(), (d.weight / total).to_string()];
        row.extend(d.unknowns.iter().map(f64::to_string));
        row.extend(d.true_share.iter().map(f64::to_string));
        w.write_record(&row).expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("flushing memory cannot fail")).expect("CSV is UTF-8")
}

fn pct(x: f64) -> String {
    let s = format!("{:.2}", 100.0 * x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// One panel per focus party, side by side, under `title`.
pub fn svg(c: &Curves, title: &str) -> Result<String, PlotError> {
    let n = c.parties.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (520 * n as u32, 470)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, ("sans-serif", 18)).map_err(err)?;
        let panels = root.split_evenly((1, n));
        for (k, (area, p)) in panels.iter().zip(&c.parties).enumerate() {
            panel(area, c, p, PALETTE[k % PALETTE.len()])?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    c: &Curves,
    p: &PartyCurves,
    color: RGBColor,
) -> Result<(), PlotError> {
    let top = p
        .posterior
        .iter()
        .chain(p.prior.iter().flatten())
        .copied()
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.25;
    let hi = *c.edges.last().expect("edges");
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{}: P(truly ≥ {}) = {:.3} [{:.3}, {:.3}]",
                short(&p.name),
                pct(c.threshold),
                p.p_cross.estimate,
                p.p_cross.ci95[0],
                p.p_cross.ci95[1]
            ),
            ("sans-serif", 16),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(20)
        .build_cartesian_2d(0f64..hi, 0f64..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("true share of valid votes")
        .y_desc("density")
        .x_label_formatter(&|x| pct(*x))
        .y_labels(0)
        .axis_desc_style(("sans-serif", 14))
        .label_style(("sans-serif", 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    let mids = c.edges.windows(2).map(|w| 0.5 * (w[0] + w[1]));
    if let Some(prior) = &p.prior {
        chart
            .draw_series(LineSeries::new(
                mids.clone().zip(prior.iter().copied()),
                BLACK.mix(0.35).stroke_width(2),
            ))
            .map_err(err)?
            .label("prior (before the evidence)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.35)));
    }
    let mut area_pts: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    area_pts.extend(mids.clone().zip(p.posterior.iter().copied()));
    area_pts.push((hi, 0.0));
    chart
        .draw_series(std::iter::once(Polygon::new(
            area_pts,
            color.mix(0.25).filled(),
        )))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            mids.zip(p.posterior.iter().copied()),
            color.stroke_width(2),
        ))
        .map_err(err)?
        .label("posterior (given the evidence)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    let red = RGBColor(200, 30, 30);
    chart
        .draw_series(LineSeries::new(
            vec![(c.threshold, 0.0), (c.threshold, top)],
            red.stroke_width(2),
        ))
        .map_err(err)?
        .label(format!("threshold {}", pct(c.threshold)))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(2)));
    if let Some(o) = p.official {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(o, 0.0), (o, top)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(err)?
            .label(format!("official {}", pct(o)))
            .legend(|(x, y)| {
                // Dashed, as the line it stands for.
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (7, 0)], BLACK)
                    + PathElement::new(vec![(12, 0), (20, 0)], BLACK)
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Plan;
    use crate::model::load;
    use crate::sample::kind::SamplerKind;

    #[test]
    fn posterior_and_prior_curves_each_integrate_to_one_on_the_axis() {
        let l = load::load("inverse-odihr").unwrap();
        let plan = Plan {
            trials: 256,
            seed: 3,
            threads: 2,
            sampler: SamplerKind::Pooled,
        };
        let (acc, _) = crate::question::inverse::run(&l.model, &plan, |_| {});
        let res = acc.results(&l.model);
        let c = curves(&l.model, &acc, &res);
        let width = c.edges[1] - c.edges[0];
        assert_eq!(c.parties.len(), 2);
        for p in &c.parties {
            // All the posterior lies on the axis, which reaches past every 95% quantile.
            let mass: f64 = p.posterior.iter().sum::<f64>() * width;
            assert!((mass - 1.0).abs() < 0.02, "{}: posterior mass {mass}", p.id);
            // The priors (uniform on [2%, 30%] and [1%, 20%]) lie on it too; read at cell
            // midpoints, a uniform's edges cost at most a cell each.
            let prior = p.prior.as_ref().unwrap();
            let top = prior.iter().copied().fold(0.0, f64::max);
            let mass: f64 = prior.iter().sum::<f64>() * width;
            assert!(
                (mass - 1.0).abs() <= 2.0 * width * top,
                "{}: prior mass {mass}",
                p.id
            );
        }
        let csv = to_csv(&c);
        assert_eq!(csv.lines().count(), 1 + 2 * CELLS);
        let svg = svg(&c, "test").unwrap();
        assert!(svg.contains("P(truly ≥ 7%)"), "{svg}");
    }
}
