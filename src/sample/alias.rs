//! Walker's alias method for small discrete laws, drawn from 32 random bits without a branch.
//!
//! `--sampler pooled` draws a precinct's joint pattern of small decisions at once: which of up
//! to five two-point shares are hit (32 patterns), and whether its count is irregular and which
//! mechanisms act there (up to 19 outcomes). Drawing each decision on its own costs a random
//! number, a comparison and a mispredicted branch or a masked select apiece; the alias table
//! costs one lookup and one integer comparison for all of them.
//!
//! A table has `SLOTS` equal slots; slot i keeps its own outcome with probability
//! `threshold[i]` / 2^27 and gives `alias[i]` otherwise. The thresholds are rounded to 27 bits,
//! so an outcome's probability is the exact one to within 2^-32 per slot that holds it
//! (`Alias::probability` gives the table's own law, which the tests compare).

/// Slots of an alias table (and the most outcomes it holds).
pub const SLOTS: usize = 32;

/// Bits of a slot's threshold: 32 random bits are 5 for the slot and 27 for the threshold.
const THRESHOLD_BITS: u32 = 27;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alias {
    threshold: [u32; SLOTS],
    alias: [u8; SLOTS],
}

impl Default for Alias {
    /// The law that always gives outcome 0 (no slot keeps its own, every alias is 0).
    fn default() -> Alias {
        Alias {
            threshold: [0; SLOTS],
            alias: [0; SLOTS],
        }
    }
}

impl Alias {
    /// The table for outcome i with probability proportional to `weights[i]` (at most `SLOTS`
    /// of them, non-negative, not all zero), by Vose's construction.
    pub fn new(weights: &[f64]) -> Alias {
        assert!(weights.len() <= SLOTS, "{} outcomes", weights.len());
        let total: f64 = weights.iter().sum();
        assert!(
            total > 0.0 && weights.iter().all(|w| *w >= 0.0),
            "{weights:?}"
        );
        // Each slot's share in units of one slot (SLOTS of them in all).
        let mut scaled = [0.0f64; SLOTS];
        for (s, &w) in scaled.iter_mut().zip(weights) {
            *s = w / total * SLOTS as f64;
        }
        let mut table = Alias {
            threshold: [0; SLOTS],
            alias: [0; SLOTS],
        };
        // Two stacks of slots (built every trial: fixed arrays, no allocation).
        let (mut small, mut large) = ([0usize; SLOTS], [0usize; SLOTS]);
        let (mut n_small, mut n_large) = (0, 0);
        for (i, &s) in scaled.iter().enumerate() {
            if s < 1.0 {
                small[n_small] = i;
                n_small += 1;
            } else {
                large[n_large] = i;
                n_large += 1;
            }
        }
        while n_small > 0 && n_large > 0 {
            n_small -= 1;
            let (s, g) = (small[n_small], large[n_large - 1]);
            table.threshold[s] = to_threshold(scaled[s]);
            table.alias[s] = g as u8;
            // The large outcome gives the small slot what it lacks.
            scaled[g] -= 1.0 - scaled[s];
            if scaled[g] < 1.0 {
                n_large -= 1;
                small[n_small] = g;
                n_small += 1;
            }
        }
        // What is left holds (up to rounding) exactly one slot's share each.
        for &i in small[..n_small].iter().chain(&large[..n_large]) {
            table.threshold[i] = 1 << THRESHOLD_BITS;
            table.alias[i] = i as u8;
        }
        table
    }

    /// One draw from 32 random bits.
    #[inline(always)]
    pub fn sample(&self, bits: u32) -> usize {
        let slot = (bits >> THRESHOLD_BITS) as usize;
        let own = bits & ((1 << THRESHOLD_BITS) - 1) < self.threshold[slot];
        // An integer select (a conditional move): the outcome is a coin flip for the predictor.
        std::hint::select_unpredictable(own, slot, usize::from(self.alias[slot]))
    }

    /// The table's own probability of outcome `i` (what `sample` gives, exactly).
    #[cfg(test)]
    pub fn probability(&self, i: usize) -> f64 {
        let unit = (1u64 << THRESHOLD_BITS) as f64;
        let mut p = 0.0;
        for slot in 0..SLOTS {
            let own = f64::from(self.threshold[slot]) / unit;
            if slot == i {
                p += own;
            }
            if usize::from(self.alias[slot]) == i {
                p += 1.0 - own;
            }
        }
        p / SLOTS as f64
    }
}

/// A slot's share (in [0, 1]) as a threshold in units of 2^-27.
fn to_threshold(share: f64) -> u32 {
    (share.clamp(0.0, 1.0) * (1u64 << THRESHOLD_BITS) as f64).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::rng::stream;
    use rand::Rng as _;

    /// The table's law is the requested one to within 2^-32 per slot (32 slots: 2^-27), and
    /// 1,000,000 draws follow it (chi-square over the outcomes below its 0.999 quantile).
    #[test]
    fn alias_gives_the_requested_law() {
        let laws: [&[f64]; 4] = [
            &[0.57, 0.03, 0.1, 0.2, 0.1],
            &[1.0],
            &[0.0, 0.25, 0.0, 0.75],
            &[0.3; 32],
        ];
        let mut rng = stream(31, 0);
        for weights in laws {
            let t = Alias::new(weights);
            let total: f64 = weights.iter().sum();
            for (i, &w) in weights.iter().enumerate() {
                assert!(
                    (t.probability(i) - w / total).abs() < 1.0 / (1u64 << 27) as f64,
                    "{weights:?} outcome {i}: {}",
                    t.probability(i)
                );
            }
            let draws = 1_000_000;
            let mut counts = vec![0u64; SLOTS];
            for _ in 0..draws {
                counts[t.sample(rng.next_u64() as u32)] += 1;
            }
            let mut chi2 = 0.0;
            let mut cells = 0;
            for (i, &w) in weights.iter().enumerate() {
                let e = w / total * draws as f64;
                if e > 0.0 {
                    chi2 += (counts[i] as f64 - e).powi(2) / e;
                    cells += 1;
                } else {
                    assert_eq!(counts[i], 0, "{weights:?}: impossible outcome {i} drawn");
                }
            }
            // 0.999 quantiles of chi-square with cells - 1 degrees of freedom.
            let limit = match cells - 1 {
                0 => 0.0,
                1 => 10.83,
                4 => 18.47,
                31 => 61.10,
                df => panic!("no quantile for {df}"),
            };
            assert!(chi2 <= limit, "{weights:?}: chi2 {chi2}, counts {counts:?}");
            assert!(counts[weights.len()..].iter().all(|&c| c == 0));
        }
        assert_eq!(Alias::default().sample(u32::MAX), 0);
    }
}
