//! Exact sums of floating-point numbers, so that results do not depend on the order of trials.
//!
//! Every running sum a run publishes (weights, hits, shares, histogram bins) is an `ExactSum`:
//! Shewchuk's non-overlapping partials ("Adaptive Precision Floating-Point Arithmetic", 1997),
//! read out with CPython's correctly rounded final step (`math.fsum`). The rounded value depends
//! only on the mathematical sum, not on the order of the additions, so a run split into shards
//! on several machines and merged gives the very same bytes as the run on one machine, and
//! threads may fold their trials in any order. Hand-written (about 60 lines) rather than taken
//! from a crate because partial-result files must save and restore the exact state.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The exact sum of the `f64` values added so far (finite ones; a non-finite value makes the
/// sum non-finite, as in ordinary arithmetic).
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    /// Non-overlapping, increasing in magnitude; their exact sum is the value.
    partials: Vec<f64>,
    /// The sum of non-finite values added (0 while every value is finite).
    special: f64,
}

impl ExactSum {
    /// Adds `x` exactly.
    pub fn add(&mut self, mut x: f64) {
        if !x.is_finite() {
            self.special += x;
            return;
        }
        let mut i = 0;
        for k in 0..self.partials.len() {
            let mut y = self.partials[k];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        if x != 0.0 {
            self.partials.push(x);
        }
    }

    /// Adds another exact sum, exactly.
    pub fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.special += other.special;
    }

    /// The sum, correctly rounded to the nearest `f64` (ties to even).
    pub fn value(&self) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        // Round half to even across partials: if the rest has the sign of `lo`, the exact sum
        // is past the half-way point that `hi + lo` rounded to even.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }

    /// The canonical form of the exact value: its rounded value, then the rounded remainder,
    /// and so on (usually one or two numbers). Equal sums give equal forms.
    fn canonical(&self) -> Vec<f64> {
        if self.special != 0.0 || self.special.is_nan() {
            return vec![self.special];
        }
        let mut rest = self.clone();
        let mut out = Vec::new();
        loop {
            let v = rest.value();
            if v == 0.0 {
                return out;
            }
            out.push(v);
            rest.add(-v);
        }
    }
}

impl From<f64> for ExactSum {
    fn from(x: f64) -> ExactSum {
        let mut s = ExactSum::default();
        s.add(x);
        s
    }
}

/// Saved as a number when one `f64` holds the sum exactly (the usual case), else as the list
/// of its canonical parts.
impl Serialize for ExactSum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.canonical().as_slice() {
            [] => 0.0.serialize(s),
            [x] => x.serialize(s),
            parts => parts.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ExactSum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ExactSum, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(f64),
            Parts(Vec<f64>),
        }
        let mut s = ExactSum::default();
        match Form::deserialize(d)? {
            Form::One(x) => s.add(x),
            Form::Parts(xs) => xs.into_iter().for_each(|x| s.add(x)),
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::rng::{Rng, stream};
    use rand::Rng as _;

    /// A uniform integer in [lo, hi).
    fn int(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
        lo + (rng.next_u64() % (hi - lo) as u64) as i64
    }

    fn sum(xs: &[f64]) -> ExactSum {
        let mut s = ExactSum::default();
        xs.iter().for_each(|&x| s.add(x));
        s
    }

    #[test]
    fn cancellation_and_tiny_terms_are_kept() {
        assert_eq!(sum(&[1e100, 1.0, -1e100]).value(), 1.0);
        assert_eq!(sum(&[0.1; 10]).value(), 1.0);
        // CPython's half-way case across partials.
        assert_eq!(sum(&[1e-16, 1.0, 1e16]).value(), 1.000_000_000_000_000_2e16);
        assert_eq!(ExactSum::default().value(), 0.0);
    }

    #[test]
    fn the_value_does_not_depend_on_order_or_grouping() {
        let mut rng = stream(3, 0);
        for _ in 0..200 {
            let n = int(&mut rng, 1, 200) as usize;
            let mut xs: Vec<f64> = (0..n)
                .map(|_| {
                    let e = int(&mut rng, -60, 60) as i32;
                    (crate::sample::exact::uniform(&mut rng) * 2.0 - 1.0) * 2f64.powi(e)
                })
                .collect();
            let a = sum(&xs);
            // Reverse, then rotate: another order of the same terms.
            xs.reverse();
            let r = int(&mut rng, 0, n as i64) as usize;
            xs.rotate_left(r);
            let split = int(&mut rng, 0, n as i64 + 1) as usize;
            let mut b = sum(&xs[..split]);
            b.merge(&sum(&xs[split..]));
            assert_eq!(a.value().to_bits(), b.value().to_bits());
            assert_eq!(a.canonical(), b.canonical());
        }
    }

    #[test]
    fn the_value_is_the_correctly_rounded_sum() {
        // Integers times a power of two: the exact sum is an i128 away from rounding.
        let mut rng = stream(5, 0);
        for _ in 0..500 {
            let xs: Vec<f64> = (0..50)
                .map(|_| int(&mut rng, -(1i64 << 60), 1i64 << 60) as f64)
                .collect();
            // The inputs are integers, so their exact sum is an i128, and `as f64` rounds it to
            // nearest, ties to even.
            let exact: i128 = xs.iter().map(|&x| x as i128).sum();
            assert_eq!(sum(&xs).value(), exact as f64, "sum {exact}");
        }
    }

    #[test]
    fn save_and_restore_keep_the_exact_value() {
        let s = sum(&[1.0, 1e-30, -3e-50, 7.0]);
        let text = serde_json::to_string(&s).unwrap();
        let back: ExactSum = serde_json::from_str(&text).unwrap();
        assert_eq!(back.canonical(), s.canonical());
        assert_eq!(
            serde_json::to_string(&ExactSum::from(0.25)).unwrap(),
            "0.25"
        );
        let mut inf = ExactSum::from(1.0);
        inf.add(f64::INFINITY);
        assert_eq!(inf.value(), f64::INFINITY);
    }
}
