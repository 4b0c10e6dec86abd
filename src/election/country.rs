//! The country's fixed precinct layout: how many voters each precinct has, and which precincts
//! are urban or use electronic voting.
//!
//! The layout is drawn once per run from its own stream (`rng::LAYOUT_STREAM`) and shared by all
//! trials: precinct sizes are structure, not an unknown the question is about.

use crate::model::Model;
use crate::sample::exact;
use crate::sample::rng;

/// Structure-of-arrays precinct table, sorted by region.
#[derive(Debug, Clone)]
pub struct Layout {
    pub registered: Vec<u32>,
    pub region: Vec<u16>,
    pub urban: Vec<bool>,
    pub evoting: Vec<bool>,
    /// Index range of each region's precincts.
    pub region_range: Vec<std::ops::Range<usize>>,
}

impl Layout {
    /// Draws the layout for `model` from master seed `seed`.
    /// A country of real stations (`model.stations`) has their layout, whatever the seed.
    pub fn draw(model: &Model, seed: u64) -> Layout {
        if let Some(st) = &model.stations {
            return Layout {
                registered: st.registered.clone(),
                region: st.region.clone(),
                urban: vec![false; st.len()],
                evoting: vec![false; st.len()],
                region_range: st.region_ranges(),
            };
        }
        let mut rng = rng::stream(seed, rng::LAYOUT_STREAM);
        let mut l = Layout {
            registered: Vec::new(),
            region: Vec::new(),
            urban: Vec::new(),
            evoting: Vec::new(),
            region_range: Vec::new(),
        };
        for (r, reg) in model.regions.iter().enumerate() {
            let n = reg.precincts as usize;
            let start = l.registered.len();
            let sizes = split_sizes(
                &mut rng,
                reg.registered,
                n,
                model.size_minimum,
                model.size_shape,
            );
            let urban_n = (reg.urban_fraction * n as f64).round() as usize;
            for (i, size) in sizes.into_iter().enumerate() {
                l.registered.push(size as u32);
                l.region.push(r as u16);
                // Urban precincts first; e-voting precincts are spread evenly across the region
                // (Saylau was used in towns and villages alike).
                l.urban.push(i < urban_n);
                l.evoting.push(
                    (i * reg.evoting_precincts as usize) / n
                        != ((i + 1) * reg.evoting_precincts as usize) / n,
                );
            }
            l.region_range.push(start..l.registered.len());
        }
        l
    }

    /// Number of precincts.
    pub fn len(&self) -> usize {
        self.registered.len()
    }

    /// Whether there are no precincts.
    pub fn is_empty(&self) -> bool {
        self.registered.is_empty()
    }
}

/// Splits `total` voters into `n` precincts of at least `minimum`, the rest in proportion to
/// Gamma(shape) weights, rounded by largest remainder so the sizes sum exactly to `total`.
fn split_sizes(rng: &mut rng::Rng, total: u64, n: usize, minimum: u64, shape: f64) -> Vec<u64> {
    let spare = total - minimum * n as u64;
    let weights: Vec<f64> = (0..n).map(|_| exact::gamma(rng, shape)).collect();
    let wsum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| {
            if wsum > 0.0 {
                spare as f64 * w / wsum
            } else {
                spare as f64 / n as f64
            }
        })
        .collect();
    let mut sizes: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut short = spare - sizes.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if short == 0 {
            break;
        }
        sizes[i] += 1;
        short -= 1;
    }
    sizes.iter_mut().for_each(|s| *s += minimum);
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_sum_exactly_and_respect_minimum() {
        let mut rng = rng::stream(1, 0);
        for (total, n, min) in [(1000u64, 3usize, 100u64), (850_000, 612, 50), (10, 10, 1)] {
            let s = split_sizes(&mut rng, total, n, min, 4.0);
            assert_eq!(s.len(), n);
            assert_eq!(s.iter().sum::<u64>(), total);
            assert!(s.iter().all(|&x| x >= min));
        }
    }
}
