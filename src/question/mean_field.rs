//! Expected national shares of a draw, without simulating precincts ("mean field").
//!
//! Every mechanism acts linearly on a precinct's expected counts, and acts independently of the
//! others, so the expected reported votes per registered voter of each kind of precinct (region x
//! urban x e-voting) follow in closed form. The national shares computed from them differ from a
//! simulated election's only by precinct-level noise (a few hundredths of a point), and the
//! tabulation stage acts on them as on simulated totals. The inverse
//! question uses this to aim its proposals (see `inverse`); a test checks it against simulation.

use crate::election::country::Layout;
use crate::election::draw::Draw;
use crate::election::trial::regional_means;
use crate::model::{MAX_CATEGORIES, MAX_PARTIES, Model};

/// Registered voters per region and precinct kind (index urban * 2 + evoting).
pub struct Groups {
    registered: Vec<[f64; 4]>,
}

impl Groups {
    pub fn new(model: &Model, layout: &Layout) -> Groups {
        let mut registered = vec![[0.0; 4]; model.regions.len()];
        for i in 0..layout.len() {
            let g = layout.urban[i] as usize * 2 + layout.evoting[i] as usize;
            registered[layout.region[i] as usize][g] += layout.registered[i] as f64;
        }
        Groups { registered }
    }
}

/// Expected reported shares of valid votes for `d`: the final result.
pub fn reported_shares(model: &Model, groups: &Groups, d: &Draw) -> [f64; MAX_PARTIES] {
    shares(model, groups, d, true)
}

/// Expected shares of the preliminary count for `d`: the stations' protocols added up, before
/// the tabulation stage.
pub fn preliminary_shares(model: &Model, groups: &Groups, d: &Draw) -> [f64; MAX_PARTIES] {
    shares(model, groups, d, false)
}

fn shares(model: &Model, groups: &Groups, d: &Draw, tabulate: bool) -> [f64; MAX_PARTIES] {
    let np = model.n_parties();
    let n_cat = np + 1;
    let ir = &model.irregular;
    let b = ir.beneficiary;
    let mut means = vec![[0.0; MAX_CATEGORIES]; model.regions.len()];
    regional_means(model, d, &mut means);
    let targets = |m: &Option<crate::model::MechanismModel>| m.as_ref().map(|x| x.targets.clone());
    let (tr_t, inv_t) = (targets(&ir.transfer), targets(&ir.invalidation));
    let regular_mc = ir.miscount.as_ref().map_or(0.0, |m| m.regular_probability);
    let rewrite = ir
        .rewrite
        .as_ref()
        .map(|r| (r.turnout.mean(), r.share.mean()));
    let mut total = [0.0; MAX_CATEGORIES];
    for (r, reg) in model.regions.iter().enumerate() {
        // Expected true ballots per registered voter, per category.
        let mut base = [0.0; MAX_CATEGORIES];
        for k in 0..n_cat {
            base[k] = reg.turnout * means[r][k];
        }
        for g in 0..4 {
            let w = groups.registered[r][g];
            if w == 0.0 {
                continue;
            }
            // Group g: urban for g >= 2, e-voting for odd g (`Groups`).
            let p_irr = ir
                .irregular_probability(d.prevalence, g >= 2, g % 2 == 1)
                .min(1.0);
            // Regular counts: only honest miscounts at their regular rate.
            let mut regular = base;
            miscount(&mut regular, np, regular_mc * d.miscount[1]);
            // Irregular counts: invalidation, transfer, stuffing, miscount in that order.
            let mut irr = base;
            if let Some(t) = &inv_t {
                let x = d.invalidation[0] * d.invalidation[1];
                for j in 0..np {
                    if t[j] {
                        irr[np] += x * irr[j];
                        irr[j] -= x * irr[j];
                    }
                }
            }
            if let Some(t) = &tr_t {
                let x = d.transfer[0] * d.transfer[1];
                for j in 0..np {
                    if t[j] {
                        irr[b] += x * irr[j];
                        irr[j] -= x * irr[j];
                    }
                }
            }
            if ir.stuffing.is_some() {
                let cast: f64 = irr[..n_cat].iter().sum();
                irr[b] += d.stuffing[0] * d.stuffing[1] * (1.0 - cast).max(0.0);
            }
            miscount(&mut irr, np, d.miscount[0] * d.miscount[1]);
            if let Some((t_rw, s_rw)) = rewrite {
                // A rewritten protocol: cast = t x registered, beneficiary s of it, the rest in
                // proportion to the true counts of the other categories.
                let others: f64 = (0..n_cat).filter(|&k| k != b).map(|k| base[k]).sum();
                let mut rw = [0.0; MAX_CATEGORIES];
                rw[b] = t_rw * s_rw;
                for k in (0..n_cat).filter(|&k| k != b) {
                    rw[k] = if others > 0.0 {
                        t_rw * (1.0 - s_rw) * base[k] / others
                    } else {
                        0.0
                    };
                }
                for k in 0..n_cat {
                    irr[k] = d.rewrite * rw[k] + (1.0 - d.rewrite) * irr[k];
                }
            }
            for k in 0..n_cat {
                total[k] += w * (p_irr * irr[k] + (1.0 - p_irr) * regular[k]);
            }
        }
    }
    // The tabulation stage acts on the national totals (it is linear in them, so on expected
    // totals it gives the expected final ones).
    if let Some(t) = model.tabulation.as_ref().filter(|_| tabulate) {
        crate::election::tabulation::apply_expected(t, d.tabulation, np, &mut total[..n_cat]);
    }
    let valid: f64 = total[..np].iter().sum();
    let mut out = [0.0; MAX_PARTIES];
    for j in 0..np {
        out[j] = if valid > 0.0 { total[j] / valid } else { 0.0 };
    }
    out
}

/// Expected effect of undirected miscounts at `rate`: each valid ballot leaves its party with
/// probability `rate` for one of the other parties, uniformly.
fn miscount(v: &mut [f64; MAX_CATEGORIES], np: usize, rate: f64) {
    if rate <= 0.0 || np < 2 {
        return;
    }
    let valid: f64 = v[..np].iter().sum();
    for x in v.iter_mut().take(np) {
        *x += rate * ((valid - *x) / (np - 1) as f64 - *x);
    }
}
