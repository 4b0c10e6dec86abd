//! The tabulation stage (`tabulation` in a scenario), validated: changes above the stations,
//! from the preliminary count (the stations' protocols added up) to the final result.
//!
//! Two parts, each a prior drawn once per election: `transfer`, a share of each `from` party's
//! preliminary votes moved to the beneficiary, and `added`, votes added to the beneficiary as a
//! share of the preliminary valid votes. How they act on the totals is `election::tabulation`.

use crate::model::prior::Dist;
use crate::model::problems::{FieldError, Problems};
use crate::model::scenario::Tabulation;

/// The tabulation stage, ready to draw and apply.
#[derive(Debug, Clone)]
pub struct TabulationModel {
    pub beneficiary: usize,
    /// Per party: whether `transfer` takes from it.
    pub from: Vec<bool>,
    pub transfer: Dist,
    pub added: Dist,
}

/// Checks a `tabulation` block; `find` resolves a party id (recording an unknown one).
pub(crate) fn build(
    t: &Tabulation,
    n_parties: usize,
    chk: &Problems,
    find: &dyn Fn(&str, &str) -> usize,
) -> Result<TabulationModel, String> {
    if t.transfer.is_none() && t.added.is_none() {
        return Err(
            "field `tabulation`: give `transfer`, `added` or both (what the tabulation changed)"
                .into(),
        );
    }
    // `find` records an unknown id and answers 0; the checks that compare parties skip it, so a
    // typo is reported once, not also as a repeat or as the beneficiary.
    let before = chk.count();
    let beneficiary = find("tabulation.beneficiary", &t.beneficiary);
    let known_beneficiary = chk.count() == before;
    let mut from = vec![false; n_parties];
    match &t.from {
        None => from.iter_mut().for_each(|f| *f = true),
        Some(list) => {
            if list.is_empty() {
                return Err("field `tabulation.from`: name at least one party, or leave it out for every party but the beneficiary".into());
            }
            for (k, id) in list.iter().enumerate() {
                let field = format!("tabulation.from[{k}]");
                let before = chk.count();
                let j = find(&field, id);
                if chk.count() > before {
                    continue;
                }
                if from[j] {
                    chk.push(FieldError::new(field, format!("\"{id}\" is listed twice")));
                }
                from[j] = true;
            }
            if t.transfer.is_none() {
                return Err("field `tabulation.from`: it names whom `transfer` takes from, and there is no `transfer`".into());
            }
        }
    }
    if t.from.is_some() && known_beneficiary && from[beneficiary] {
        chk.push(FieldError::new(
            "tabulation.from",
            format!(
                "names the beneficiary \"{}\": the tabulation moves votes to it, not from it",
                t.beneficiary
            ),
        ));
    }
    from[beneficiary] = false;
    let prior = |field: &str, p: &Option<crate::model::prior::Prior>| {
        p.as_ref()
            .map_or(Dist::Fixed(0.0), |p| chk.prior_in(field, p, (0.0, 1.0)))
    };
    Ok(TabulationModel {
        beneficiary,
        from,
        transfer: prior("tabulation.transfer", &t.transfer),
        added: prior("tabulation.added", &t.added),
    })
}
