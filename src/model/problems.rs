//! What is wrong with a scenario, field by field: `FieldError` (a path and a problem) and
//! `Problems`, which the range checks of `Model::build` fill so that one pass reports every
//! out-of-range number of a file.

use crate::model::prior::{self, Dist, Number, Prior};

/// A problem with one field of a scenario: its path as in the JSON (`regions[3].turnout.value`)
/// and what is wrong, with the allowed range where there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub path: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// From a message written as "field `path`: problem" (the structural checks of
    /// `Model::build`); a message without that form has an empty path.
    pub(crate) fn from_message(message: String) -> FieldError {
        let parsed = message.strip_prefix("field `").and_then(|rest| {
            let (path, problem) = rest.split_once("`: ")?;
            Some(FieldError::new(path, problem))
        });
        parsed.unwrap_or_else(|| FieldError::new("", message))
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "field `{}`: {}", self.path, self.problem)
        }
    }
}

/// The problems found so far. The range checks record theirs here and go on with a stand-in
/// value inside the range, so one pass over a file reports every out-of-range number in it.
#[derive(Default)]
pub struct Problems(std::cell::RefCell<Vec<FieldError>>);

impl Problems {
    pub(crate) fn push(&self, e: FieldError) {
        self.0.borrow_mut().push(e);
    }

    /// A fixed number in [lo, hi] with a source.
    pub fn number_in(&self, field: &str, n: &Number, (lo, hi): (f64, f64)) -> f64 {
        if n.source.trim().is_empty() {
            self.push(FieldError::new(
                format!("{field}.source"),
                "empty; cite a source or write \"assumption: why\"",
            ));
        }
        if !n.value.is_finite() || n.value < lo || n.value > hi {
            self.push(FieldError::new(
                format!("{field}.value"),
                prior::out_of_range(n.value, lo, hi),
            ));
            // Mid-range, so checks further on see a value like any valid one.
            return lo + (hi - lo) / 2.0;
        }
        n.value
    }

    /// A prior whose every value lies in [lo, hi].
    pub fn prior_in(&self, field: &str, p: &Prior, range: (f64, f64)) -> Dist {
        p.resolve(range).unwrap_or_else(|e| {
            self.push(FieldError::new(field, e));
            Dist::Fixed(range.0)
        })
    }

    /// A whole count in [lo, hi].
    pub(crate) fn count_in(&self, field: &str, v: f64, lo: f64, hi: f64) -> u64 {
        if !v.is_finite() || v.fract() != 0.0 || v < lo || v > hi {
            self.push(FieldError::new(
                field,
                format!(
                    "{} must be a whole number in the allowed range [{}, {}]",
                    prior::show(v),
                    prior::show(lo),
                    prior::show(hi)
                ),
            ));
            return (lo + (hi - lo) / 2.0).floor() as u64;
        }
        v as u64
    }

    /// How many problems so far.
    pub(crate) fn count(&self) -> usize {
        self.0.borrow().len()
    }

    pub(crate) fn into_vec(self) -> Vec<FieldError> {
        self.0.into_inner()
    }
}
