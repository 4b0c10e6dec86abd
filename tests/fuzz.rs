//! Hostile input: every named scenario, mutated at random (numbers replaced by extreme or
//! nonsensical values, keys dropped or misspelt, strings swapped, arrays emptied), must give
//! either a valid model or a clean error naming the field: never a panic. A valid mutant is also
//! laid out, has its unknowns drawn and its expected result computed, and is run for a few
//! trials with every sampler it allows (pooled only where it needs no station counts): the
//! probabilities come out in [0, 1] (or undefined, for an inverse run no trial reproduces).
//!
//! CI runs RECOUNT_FUZZ_CASES (default 1,500) mutants; docs/validation.md records a run of 10^5.

use proptest::prelude::*;
use recount::election::country::Layout;
use recount::engine::Plan;
use recount::model::load::{self, Loaded};
use recount::sample::kind::SamplerKind;
use recount::sample::rng;
use serde_json::Value;
use std::path::PathBuf;

const NASTY: [f64; 14] = [
    -1.0, 0.0, 0.5, 1.0, 1.5, 2.0, -1e308, 1e308, 1e10, 4.2e9, 1e-300, 7.0, 98.0, 0.07,
];

fn scenarios() -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// Every path to a leaf or container, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| pointers(c, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
}

fn mutate(v: &mut Value, choice: u64, pick: u64) {
    let mut ptrs = Vec::new();
    pointers(v, String::new(), &mut ptrs);
    let target = ptrs[(pick % ptrs.len() as u64) as usize].clone();
    let Some(node) = v.pointer_mut(&target) else {
        return;
    };
    match choice % 6 {
        0 | 1 => {
            if node.is_number() || node.is_object() {
                *node = serde_json::json!(NASTY[(pick / 7 % NASTY.len() as u64) as usize]);
            }
        }
        2 => {
            if let Value::Object(m) = node
                && let Some(k) = m.keys().nth((pick / 3) as usize % m.len().max(1)).cloned()
            {
                m.remove(&k);
            }
        }
        3 => {
            if let Value::Object(m) = node {
                m.insert("typo_field".into(), Value::Bool(true));
            }
        }
        4 => {
            if node.is_string() {
                *node = Value::String(
                    ["nsdp", "nobody", "", "hare", "urban"][(pick % 5) as usize].into(),
                );
            }
        }
        _ => {
            if let Value::Array(a) = node {
                if pick.is_multiple_of(2) {
                    a.clear();
                } else if let Some(first) = a.first().cloned() {
                    a.push(first);
                }
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("RECOUNT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_never_panic(which in 0usize..64, edits in prop::collection::vec((any::<u64>(), any::<u64>()), 1..4)) {
        let all = scenarios();
        let mut v = all[which % all.len()].clone();
        for (choice, pick) in edits {
            mutate(&mut v, choice, pick);
        }
        let text = serde_json::to_string_pretty(&v).unwrap();
        match load::parse(&text) {
            Err(msg) => prop_assert!(msg.contains(':'), "parse error without position: {msg}"),
            Ok(scenario) => match Loaded::new("fuzz".into(), "fuzz.json".into(), scenario) {
                Err(e) => prop_assert!(e.to_string().contains("field `"), "error without field: {e}"),
                Ok(l) => {
                    let layout = Layout::draw(&l.model, 1);
                    prop_assert_eq!(layout.len() as u64, l.model.n_precincts());
                    let sim = recount::election::trial::Simulator::new(&l.model, &layout);
                    let draw = sim.draw(&mut rng::stream(1, 0));
                    let groups = recount::question::mean_field::Groups::new(&l.model, &layout);
                    let shares = recount::question::mean_field::reported_shares(&l.model, &groups, &draw);
                    prop_assert!(shares.iter().all(|s| s.is_finite()));
                    for sampler in [SamplerKind::Exact, SamplerKind::Fast, SamplerKind::Pooled] {
                        if sampler == SamplerKind::Pooled && l.model.needs_station_counts().is_some() {
                            continue;
                        }
                        let plan = Plan { trials: 3, seed: 1, threads: 1, sampler };
                        let acc = match l.model.inverse {
                            None => recount::engine::run(&l.model, &plan, |_| {}),
                            Some(_) => recount::question::inverse::run(&l.model, &plan, |_| {}).0,
                        };
                        let r = acc.results(&l.model);
                        for p in [r.p_any_true_cross, r.p_any_reported_cross, r.p_any_flipped] {
                            let defined = (0.0..=1.0).contains(&p.estimate);
                            let undefined = l.model.inverse.is_some() && p.estimate.is_nan();
                            prop_assert!(defined || undefined, "{}: {:?}", sampler.name(), p);
                        }
                    }
                }
            },
        }
    }
}
