//! SVG figures drawn with plotters (SVG backend only): sweep curves, sweep heat maps and the
//! precinct turnout x share fingerprint.
//!
//! Pure: data in, SVG text out. Drawing errors are propagated as `PlotError`, never unwrapped.

use crate::export::curve::SweepReport;
pub(crate) use crate::export::run::short;
use crate::numeric::math;
use crate::question::sweep::Measure;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// A drawing error (plotters' own errors are not `Send`/`'static`, so they are kept as text).
#[derive(Debug, thiserror::Error)]
#[error("drawing a figure failed: {0}")]
pub struct PlotError(String);

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError(format!("{e:?}"))
}

type PlotResult<T> = Result<T, PlotError>;

const FONT: &str = "sans-serif";

/// Colour-blind-safe palette (Okabe-Ito), cycled.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

/// The series' legend of a figure's panel, boxed on a see-through white ground.
pub(crate) fn legend<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    position: SeriesLabelPosition,
    font: u32,
) -> PlotResult<()> {
    chart
        .configure_series_labels()
        .position(position)
        .margin(8)
        .label_font((FONT, font))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(err)
}

/// Padding around an axis range (a flat range still gets a visible width).
fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    if hi > lo {
        lo..hi
    } else {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - d)..(hi + d)
    }
}

/// Title line shared by the sweep figures.
fn sweep_title(r: &SweepReport) -> String {
    format!(
        "{}: sweep of {}{} ({} trials per point, seed {}, common random numbers)",
        r.provenance.scenario.name,
        r.param.path,
        r.param2
            .as_ref()
            .map(|p| format!(" x {}", p.path))
            .unwrap_or_default(),
        r.provenance.trials,
        r.provenance.seed
    )
}

/// The font size (at most 20) at which `title` fits in `width` pixels: a sans-serif character
/// is about 0.55 of the font size wide on average, and a 5% margin is kept.
pub(crate) fn title_size(title: &str, width: u32) -> u32 {
    let chars = title.chars().count().max(1) as f64;
    ((0.95 * width as f64 / (0.55 * chars)).floor() as u32).clamp(10, 20)
}

/// A swept number as an axis shows it: in words, with the scenario path it was given as (what
/// `--param` takes), and whether it is a share (ticks in percent).
pub(crate) struct Axis {
    pub label: String,
    pub percent: bool,
}

/// The axis of the swept number `path` (`parties` names the scenario's parties, for
/// `parties[1].support`); `values` are the swept values (a share must lie in [0, 1]).
pub(crate) fn axis(path: &str, parties: &[String], values: &[f64]) -> Axis {
    let party = |text: &str| {
        let i = text
            .strip_prefix("parties[")?
            .split(']')
            .next()?
            .parse::<usize>()
            .ok()?;
        parties.get(i).map(|n| short(n).to_string())
    };
    let segs: Vec<&str> = path.split('.').collect();
    let (words, share) = match segs.as_slice() {
        ["irregularities", "prevalence", ..] => {
            ("share of counts that were irregular".into(), true)
        }
        ["irregularities", mechanism, "intensity", ..] => (
            format!("{mechanism} intensity (share of the votes it acts on)"),
            true,
        ),
        ["threshold", ..] => ("threshold".into(), true),
        ["observers"] => (
            "counts the observers saw (same negative share)".into(),
            false,
        ),
        ["count_errors", kind, "prevalence", ..] => {
            (format!("share of stations with {kind}"), true)
        }
        ["tabulation", "transfer", ..] => ("share moved in the tabulation".into(), true),
        ["tabulation", "added", ..] => ("votes added in the tabulation (share)".into(), true),
        [first, "support", ..] if party(first).is_some() => (
            format!("support of {}", party(first).unwrap_or_default()),
            true,
        ),
        [region, "turnout", ..] if region.starts_with("regions[") => ("turnout".into(), true),
        _ => (String::new(), false),
    };
    let percent = share && values.iter().all(|v| (0.0..=1.0).contains(v));
    let label = if words.is_empty() {
        path.to_string()
    } else {
        format!("{words} ({path})")
    };
    Axis { label, percent }
}

/// A tick of an axis: a percentage for a share ("43%", "2.5%"), else the number.
pub(crate) fn tick(x: f64, percent: bool) -> String {
    if percent {
        format!("{}%", crate::question::sweep::fmt_num(100.0 * x))
    } else {
        crate::question::sweep::fmt_num(x)
    }
}

fn party_names(r: &SweepReport) -> Vec<String> {
    r.points.first().map_or_else(Vec::new, |p| {
        p.results.parties.iter().map(|q| q.name.clone()).collect()
    })
}

/// The series a curve figure shows: the focus parties one by one, then together.
fn plotted_series(r: &SweepReport) -> Vec<(Option<usize>, String)> {
    let Some(first) = r.points.first() else {
        return Vec::new();
    };
    let res = &first.results;
    let ids: Vec<usize> = res
        .focus
        .iter()
        .filter_map(|id| res.parties.iter().position(|p| &p.id == id))
        .collect();
    let mut s: Vec<(Option<usize>, String)> = ids
        .iter()
        .map(|&j| (Some(j), short(&res.parties[j].name).to_string()))
        .collect();
    let together: Vec<&str> = ids.iter().map(|&j| short(&res.parties[j].name)).collect();
    s.push((None, together.join(" or ")));
    s
}

/// 1-D sweep: one panel per measure, probability against the parameter, a 95% band and a line
/// per series (the focus parties and the focus parties together), and a line at 0.5.
pub fn sweep_curves(r: &SweepReport) -> PlotResult<String> {
    let mut svg = String::new();
    {
        let measures = panel_measures(r);
        let height = 360 * measures.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (960, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let title = sweep_title(r);
        let root = root
            .titled(&title, (FONT, title_size(&title, 960)))
            .map_err(err)?;
        let panels = root.split_evenly((measures.len(), 1));
        for (area, &m) in panels.iter().zip(&measures) {
            curve_panel(area, r, m)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The measures a sweep figure shows, one panel each: P(truly), P(reported) and P(flipped), or
/// in an inverse sweep P(truly) alone (its reported count is the official one, so P(reported)
/// is constant and P(flipped) repeats P(truly)); then the measure --tipping followed where it
/// is not among them.
fn panel_measures(r: &SweepReport) -> Vec<Measure> {
    let mut measures = if r.provenance.mode == "inverse" {
        vec![Measure::True]
    } else {
        Measure::PANELS.to_vec()
    };
    if let Some(m) = r
        .tipping
        .as_ref()
        .and_then(|t| t.first())
        .map(|t| t.measure)
        && !measures.contains(&m)
    {
        measures.push(m);
    }
    measures
}

fn curve_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    r: &SweepReport,
    m: Measure,
) -> PlotResult<()> {
    let xs: Vec<f64> = r.points.iter().map(|p| p.value).collect();
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("P({})", m.phrase(r.provenance.threshold)),
            (FONT, 17),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(padded(x0, x1), 0f64..1f64)
        .map_err(err)?;
    let ax = axis(&r.param.path, &party_names(r), &xs);
    let x_tick = |x: &f64| tick(*x, ax.percent);
    chart
        .configure_mesh()
        .x_desc(ax.label.as_str())
        .x_label_formatter(&x_tick)
        .y_desc("probability")
        .axis_desc_style((FONT, 15))
        .label_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    for (k, (party, label)) in plotted_series(r).into_iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        // A party without the measure (deficit closed, for one that officially reached the
        // threshold) has no curve on this panel.
        let Some(est) = r
            .points
            .iter()
            .map(|p| m.of(&p.results, party))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let mut band: Vec<(f64, f64)> = xs.iter().zip(&est).map(|(&x, e)| (x, e.ci95[1])).collect();
        band.extend(xs.iter().zip(&est).rev().map(|(&x, e)| (x, e.ci95[0])));
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                color.mix(0.18).filled(),
            )))
            .map_err(err)?;
        let line: Vec<(f64, f64)> = xs.iter().zip(&est).map(|(&x, e)| (x, e.estimate)).collect();
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    let (lo, hi) = (padded(x0, x1).start, padded(x0, x1).end);
    chart
        .draw_series(LineSeries::new(
            vec![(lo, 0.5), (hi, 0.5)],
            BLACK.mix(0.6).stroke_width(1),
        ))
        .map_err(err)?
        .label("P = 0.5")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.6)));
    // The scenario's own value of the swept number, where the sweep's range holds it.
    if let Some(v) = r.param.scenario_value.filter(|v| (lo..=hi).contains(v)) {
        let grey = RGBColor(110, 110, 110);
        chart
            .draw_series(dashed(v, 0.0, 1.0, grey))
            .map_err(err)?
            .label(format!("in the scenario: {}", tick(v, ax.percent)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    }
    // Where the focus parties together reach --tipping's levels on this panel's measure.
    let tips = r.tipping.iter().flatten().filter(|t| t.measure == m);
    let mut marked = false;
    for t in tips {
        for c in &t.crossings {
            let Some(v) = c.value else { continue };
            let red = RGBColor(170, 0, 0);
            chart
                .draw_series(dashed(v, 0.0, c.level, red))
                .map_err(err)?;
            let series = chart
                .draw_series([EmptyElement::at((v, c.level))
                    + TriangleMarker::new((0, 0), 6, red.filled())
                    + Text::new(
                        format!("{} at {}", c.level, tick(v, ax.percent)),
                        (8, -16),
                        (FONT, 13).into_font().color(&red),
                    )])
                .map_err(err)?;
            if !marked {
                series
                    .label("tipping point (--tipping)")
                    .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, red.filled()));
                marked = true;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// A vertical dashed line at x from y0 to y1.
fn dashed(x: f64, y0: f64, y1: f64, color: RGBColor) -> Vec<PathElement<(f64, f64)>> {
    let n = 24;
    (0..n)
        .filter(|i| i % 2 == 0)
        .map(|i| {
            let (a, b) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
            PathElement::new(
                vec![(x, y0 + a * (y1 - y0)), (x, y0 + b * (y1 - y0))],
                color.stroke_width(2),
            )
        })
        .collect()
}

/// Blue (0) to white (0.5) to red (1).
pub fn diverging(p: f64) -> RGBColor {
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let lerp = |a: u8, b: u8, t: f64| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    let (blue, white, red) = ((33, 102, 172), (247, 247, 247), (178, 24, 43));
    let (from, to, t) = if p < 0.5 {
        (blue, white, p / 0.5)
    } else {
        (white, red, (p - 0.5) / 0.5)
    };
    RGBColor(
        lerp(from.0, to.0, t),
        lerp(from.1, to.1, t),
        lerp(from.2, to.2, t),
    )
}

/// Cell edges of a grid of (possibly unevenly spaced) centres: halfway between neighbours.
fn edges(c: &[f64]) -> Vec<f64> {
    if c.len() == 1 {
        let d = if c[0] == 0.0 { 0.5 } else { c[0].abs() * 0.05 };
        return vec![c[0] - d, c[0] + d];
    }
    let mut e = vec![c[0] - (c[1] - c[0]) / 2.0];
    e.extend(c.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    e.push(c[c.len() - 1] + (c[c.len() - 1] - c[c.len() - 2]) / 2.0);
    e
}

/// Line segments of the `level` contour of z (z[iy][ix] at (xs[ix], ys[iy]), with Monte Carlo
/// standard error se[iy][ix]), by marching squares with linear interpolation on each cell's
/// edges. An edge is cut only where its two ends differ by more than 2 standard errors of their
/// difference: where the surface is flat within its noise, a contour would trace the noise.
pub fn contour(
    xs: &[f64],
    ys: &[f64],
    z: &[Vec<f64>],
    se: &[Vec<f64>],
    level: f64,
) -> Vec<[(f64, f64); 2]> {
    let mut segs = Vec::new();
    for iy in 0..ys.len().saturating_sub(1) {
        for ix in 0..xs.len().saturating_sub(1) {
            // Corners counter-clockwise from bottom-left: (x, y, z, se).
            let c = [
                (xs[ix], ys[iy], z[iy][ix], se[iy][ix]),
                (xs[ix + 1], ys[iy], z[iy][ix + 1], se[iy][ix + 1]),
                (
                    xs[ix + 1],
                    ys[iy + 1],
                    z[iy + 1][ix + 1],
                    se[iy + 1][ix + 1],
                ),
                (xs[ix], ys[iy + 1], z[iy + 1][ix], se[iy + 1][ix]),
            ];
            let mut cuts = Vec::new();
            for k in 0..4 {
                let (a, b) = (c[k], c[(k + 1) % 4]);
                let (da, db) = (a.2 - level, b.2 - level);
                let beyond_noise = (a.2 - b.2).abs() > 2.0 * (a.3 * a.3 + b.3 * b.3).sqrt();
                if (da < 0.0) != (db < 0.0) && beyond_noise {
                    let t = da / (da - db);
                    cuts.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
                }
            }
            match cuts.len() {
                2 => segs.push([cuts[0], cuts[1]]),
                // Saddle: pair the cuts by the cell's mean.
                4 => {
                    let mean = c.iter().map(|p| p.2).sum::<f64>() / 4.0;
                    if (mean < level) == (c[0].2 < level) {
                        segs.push([cuts[0], cuts[1]]);
                        segs.push([cuts[2], cuts[3]]);
                    } else {
                        segs.push([cuts[0], cuts[3]]);
                        segs.push([cuts[1], cuts[2]]);
                    }
                }
                _ => {}
            }
        }
    }
    segs
}

/// 2-D sweep: one heat map per measure of the focus parties together, each with its 0.5
/// contour, and a colour scale.
pub fn sweep_heatmaps(r: &SweepReport) -> PlotResult<String> {
    let p2 = r
        .param2
        .as_ref()
        .ok_or_else(|| PlotError("a heat map needs --param2".into()))?;
    let (xs, ys) = (&r.param.values, &p2.values);
    let series = plotted_series(r).pop().map(|s| s.1).unwrap_or_default();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1500, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let title = sweep_title(r);
        let root = root
            .titled(&title, (FONT, title_size(&title, 1500)))
            .map_err(err)?;
        let measures = panel_measures(r);
        let (maps, scale) = root.split_horizontally(1380);
        let panels = maps.split_evenly((1, measures.len()));
        let (ex, ey) = (edges(xs), edges(ys));
        let names = party_names(r);
        let (ax, ay) = (axis(&r.param.path, &names, xs), axis(&p2.path, &names, ys));
        for (area, &m) in panels.iter().zip(&measures) {
            // Estimate and standard error on the grid; a point without the measure is drawn
            // white (0.5's colour) and cuts no contour.
            let grid = |f: fn(&crate::numeric::stats::Estimate) -> f64| -> Vec<Vec<f64>> {
                (0..ys.len())
                    .map(|iy| {
                        (0..xs.len())
                            .map(|ix| {
                                m.of(&r.points[iy * xs.len() + ix].results, None)
                                    .map_or(f64::NAN, |e| f(&e))
                            })
                            .collect()
                    })
                    .collect()
            };
            let (z, se) = (grid(|e| e.estimate), grid(|e| e.mcse));
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!("P({series} {})", m.phrase(r.provenance.threshold)),
                    (FONT, 15),
                )
                .margin(10)
                .x_label_area_size(42)
                .y_label_area_size(56)
                .build_cartesian_2d(ex[0]..ex[ex.len() - 1], ey[0]..ey[ey.len() - 1])
                .map_err(err)?;
            // Cells reach half a step beyond the swept values: no tick out there (a share
            // of -10%).
            let within = |v: f64, vs: &[f64]| {
                let pad = 1e-9 * (vs[vs.len() - 1] - vs[0]).abs().max(1.0);
                v >= vs[0] - pad && v <= vs[vs.len() - 1] + pad
            };
            let x_tick = |x: &f64| {
                if within(*x, xs) {
                    tick(*x, ax.percent)
                } else {
                    String::new()
                }
            };
            let y_tick = |y: &f64| {
                if within(*y, ys) {
                    tick(*y, ay.percent)
                } else {
                    String::new()
                }
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(ax.label.as_str())
                .y_desc(ay.label.as_str())
                .x_label_formatter(&x_tick)
                .y_label_formatter(&y_tick)
                .axis_desc_style((FONT, 14))
                .label_style((FONT, 12))
                .draw()
                .map_err(err)?;
            chart
                .draw_series(z.iter().enumerate().flat_map(|(iy, row)| {
                    let (ex, ey) = (&ex, &ey);
                    row.iter().enumerate().map(move |(ix, &v)| {
                        Rectangle::new(
                            [(ex[ix], ey[iy]), (ex[ix + 1], ey[iy + 1])],
                            diverging(v).filled(),
                        )
                    })
                }))
                .map_err(err)?;
            let segs = contour(xs, ys, &z, &se, 0.5);
            for s in &segs {
                chart
                    .draw_series(LineSeries::new(s.to_vec(), BLACK.stroke_width(2)))
                    .map_err(err)?;
            }
            if !segs.is_empty() {
                chart
                    .draw_series(std::iter::once(Text::new(
                        "0.5",
                        segs[segs.len() / 2][0],
                        (FONT, 13).into_font().color(&BLACK),
                    )))
                    .map_err(err)?;
            }
        }
        colour_scale(&scale)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn colour_scale(area: &DrawingArea<SVGBackend, Shift>) -> PlotResult<()> {
    let mut chart = ChartBuilder::on(area)
        .caption("P", (FONT, 14))
        .margin_top(40)
        .margin_bottom(52)
        .margin_right(10)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    chart
        .draw_series((0..100).map(|i| {
            let (a, b) = (i as f64 / 100.0, (i + 1) as f64 / 100.0);
            Rectangle::new([(0.0, a), (1.0, b)], diverging((a + b) / 2.0).filled())
        }))
        .map_err(err)?;
    Ok(())
}

/// The figure of a sweep: curves for 1-D, heat maps for 2-D.
pub fn sweep_figure(r: &SweepReport) -> PlotResult<String> {
    if r.param2.is_some() {
        sweep_heatmaps(r)
    } else {
        sweep_curves(r)
    }
}

/// A 2-D histogram of precincts: counts per (turnout bin, share bin).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram2d {
    /// Bins per axis; both axes span [0, 1].
    pub bins: usize,
    /// counts[iy][ix]: precincts with share in bin iy and turnout in bin ix.
    pub counts: Vec<Vec<u64>>,
}

impl Histogram2d {
    /// Bins (turnout, share) pairs in [0, 1]^2 into `bins` x `bins` cells. O(n).
    pub fn new(bins: usize, points: impl Iterator<Item = (f64, f64)>) -> Histogram2d {
        let mut counts = vec![vec![0; bins]; bins];
        let bin = |v: f64| ((v.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        for (t, s) in points {
            if t.is_finite() && s.is_finite() {
                counts[bin(s)][bin(t)] += 1;
            }
        }
        Histogram2d { bins, counts }
    }

    pub fn max(&self) -> u64 {
        self.counts.iter().flatten().copied().max().unwrap_or(0)
    }
}

/// The shade of a fingerprint cell holding `c` precincts, the fullest holding `max`: a log
/// scale, one precinct light grey, the fullest cell black.
fn grey(c: f64, max: u64) -> RGBColor {
    let t = (math::ln_1p(c) / math::ln_1p(max as f64)).clamp(0.0, 1.0);
    let g = (225.0 * (1.0 - t)).round() as u8;
    RGBColor(g, g, g)
}

/// The fingerprint's shading scale: precincts per cell, 1 to `max`, on the log scale `grey`
/// draws, labelled at 1, 10, 100, ... and `max`.
fn count_scale(area: &DrawingArea<SVGBackend, Shift>, max: u64) -> PlotResult<()> {
    let top = math::ln_1p(max as f64);
    let mut chart = ChartBuilder::on(area)
        .caption("precincts", (FONT, 13))
        .margin_top(48)
        .margin_bottom(60)
        .margin_right(8)
        .y_label_area_size(4)
        .build_cartesian_2d(0f64..1f64, math::ln_1p(1.0)..top.max(1.0))
        .map_err(err)?;
    // Powers of ten, but none so near the top that its label would overlap max's.
    let mut marks: Vec<u64> = std::iter::successors(Some(1u64), |x| x.checked_mul(10))
        .take_while(|&x| x < max && math::ln_1p(x as f64) < 0.92 * top)
        .collect();
    marks.push(max);
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(0)
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    let steps = 100;
    chart
        .draw_series((0..steps).map(|i| {
            let lo = math::ln_1p(1.0) + (top - math::ln_1p(1.0)) * i as f64 / steps as f64;
            let hi = math::ln_1p(1.0) + (top - math::ln_1p(1.0)) * (i + 1) as f64 / steps as f64;
            // The count whose shade this band shows.
            let c = math::exp((lo + hi) / 2.0) - 1.0;
            Rectangle::new([(0.0, lo), (0.4, hi)], grey(c, max).filled())
        }))
        .map_err(err)?;
    chart
        .draw_series(marks.iter().map(|&m| {
            Text::new(
                crate::export::words::group(m),
                (0.5, math::ln_1p(m as f64)),
                (FONT, 12).into_font().color(&BLACK),
            )
        }))
        .map_err(err)?;
    Ok(())
}

/// Turnout x share fingerprint (Klimek et al., PNAS 2012): side-by-side 2-D histograms, the
/// true count on the left, the reported one on the right, darker = more precincts (log scale).
pub fn fingerprint(
    title: &str,
    share_label: &str,
    panels: [(&str, &Histogram2d); 2],
) -> PlotResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1290, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(title, (FONT, title_size(title, 1290).min(19)))
            .map_err(err)?;
        let max = panels
            .iter()
            .map(|(_, h)| h.max())
            .max()
            .unwrap_or(0)
            .max(1);
        let (maps, scale) = root.split_horizontally(1200);
        count_scale(&scale, max)?;
        for (area, (caption, h)) in maps.split_evenly((1, 2)).iter().zip(panels) {
            let mut chart = ChartBuilder::on(area)
                .caption(caption, (FONT, 16))
                .margin(12)
                .x_label_area_size(42)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..1f64, 0f64..1f64)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("turnout")
                .y_desc(share_label)
                .x_label_formatter(&|x| tick(*x, true))
                .y_label_formatter(&|y| tick(*y, true))
                .axis_desc_style((FONT, 14))
                .label_style((FONT, 12))
                .draw()
                .map_err(err)?;
            let w = 1.0 / h.bins as f64;
            chart
                .draw_series(h.counts.iter().enumerate().flat_map(|(iy, row)| {
                    row.iter()
                        .enumerate()
                        .filter(|(_, c)| **c > 0)
                        .map(move |(ix, &c)| {
                            Rectangle::new(
                                [
                                    (ix as f64 * w, iy as f64 * w),
                                    ((ix + 1) as f64 * w, (iy + 1) as f64 * w),
                                ],
                                grey(c as f64, max).filled(),
                            )
                        })
                }))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// z = x on [0, 1]^2: the 0.5 contour is the line x = 0.5, one segment per row of cells,
    /// when the surface's change across a cell (0.5) is beyond its noise; with standard errors
    /// of 0.2 (2 s.e. of a difference: 0.57) it is noise, and nothing is drawn.
    #[test]
    fn the_contour_is_drawn_only_beyond_the_noise() {
        let (xs, ys) = ([0.0, 0.5, 1.0], [0.0, 0.5, 1.0]);
        let z: Vec<Vec<f64>> = ys.iter().map(|_| xs.to_vec()).collect();
        let z: Vec<Vec<f64>> = z
            .iter()
            .map(|row| row.iter().map(|x| x * 0.9 + 0.05).collect())
            .collect();
        let quiet = vec![vec![0.01; 3]; 3];
        let segs = contour(&xs, &ys, &z, &quiet, 0.5);
        assert_eq!(segs.len(), 2, "{segs:?}");
        for s in &segs {
            assert!(s.iter().all(|p| (p.0 - 0.5).abs() < 1e-12), "{s:?}");
        }
        let noisy = vec![vec![0.2; 3]; 3];
        assert!(contour(&xs, &ys, &z, &noisy, 0.5).is_empty());
    }

    /// The fingerprint carries its shading scale: precincts per cell from 1 to the fullest
    /// cell's count, labelled at the powers of ten below it.
    #[test]
    fn the_fingerprint_has_a_scale_of_precincts_per_cell() {
        let points = (0..250).map(|i| (0.7, if i < 240 { 0.8 } else { 0.2 }));
        let h = Histogram2d::new(10, points);
        assert_eq!(h.max(), 240);
        let svg = fingerprint("t", "share", [("a", &h), ("b", &h)]).unwrap();
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        for label in ["precincts", "1", "10", "100", "240"] {
            assert!(texts.contains(&label), "{label} in {texts:?}");
        }
    }

    #[test]
    fn axes_are_named_in_words_with_their_path() {
        let parties = ["Nur Otan".to_string(), "NSDP (National ...)".to_string()];
        let a = axis("irregularities.prevalence", &parties, &[0.0, 0.5]);
        assert_eq!(
            a.label,
            "share of counts that were irregular (irregularities.prevalence)"
        );
        assert!(a.percent);
        let s = axis("parties[1].support", &parties, &[0.04, 0.09]);
        assert_eq!(s.label, "support of NSDP (parties[1].support)");
        // Not a share: observers' counts keep their numbers.
        assert!(!axis("observers", &parties, &[50.0, 450.0]).percent);
        // An unknown path is shown as it is.
        assert_eq!(axis("run.trials", &parties, &[1.0]).label, "run.trials");
        assert_eq!(tick(0.4351, true), "43.51%");
        // A long title gets a smaller font, a short one 20.
        assert_eq!(title_size("short", 960), 20);
        let long = "x".repeat(120);
        assert!(title_size(&long, 960) as f64 * 0.55 * 120.0 <= 960.0);
        assert_eq!(tick(150.0, false), "150");
    }
}
