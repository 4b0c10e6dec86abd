//! Criterion benches of the simulation engine: per-stage costs, whole trials, whole-run
//! throughput on 1 and 2 threads, scaling with the number of precincts, and real protocols
//! (import, and the inverse question on real stations).
//!
//! Run: `cargo bench --bench engine` (see docs/performance.md). Throughput is reported in
//! precincts (criterion's "elements"), so "elem/s" reads as precinct-trials per second.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use recount::election::country::Layout;
use recount::election::mechanism;
use recount::engine::{self, Plan};
use recount::model::load::{self, Loaded};
use recount::sample::exact::{self, Beta, Gamma};
use recount::sample::kind::SamplerKind;
use recount::sample::rng::stream;
use std::hint::black_box;
use std::time::Duration;

fn odihr() -> Loaded {
    load::load("odihr-43").expect("the named scenario odihr-43 loads")
}

/// odihr-43 with `factor` times as many precincts (and registered voters) per region.
fn scaled(factor: f64) -> Loaded {
    let l = odihr();
    let mut s = l.scenario.clone();
    for r in s.regions.iter_mut() {
        r.precincts *= factor;
        r.registered *= factor;
        r.evoting_precincts *= factor;
    }
    if let Some(c) = s.country.as_mut() {
        c.precincts *= factor;
        c.registered *= factor;
    }
    Loaded::new(l.name.clone(), l.path.clone(), s).expect("the scaled scenario validates")
}

/// Dirichlet parameters and draw order like odihr-43's (7 parties + spoiled, concentration 50).
const ALPHA: [f64; 8] = [40.0, 3.2, 2.6, 0.74, 0.63, 0.38, 0.18, 1.2];
const ORDER: [usize; 8] = [6, 5, 4, 3, 7, 2, 1, 0];

fn stages(c: &mut Criterion) {
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(1000));
    let gammas: Vec<Gamma> = ALPHA.iter().map(|&a| Gamma::new(a)).collect();
    let turnout = Beta::with_mean(0.684, 20.0);
    g.bench_function("true_votes_1000_precincts", |b| {
        let mut rng = stream(1, 0);
        let (mut w, mut votes) = ([0.0; 8], [0u64; 8]);
        b.iter(|| {
            let mut sum = 0;
            for _ in 0..1000 {
                let t = turnout.sample(&mut rng);
                let voters = (900.0 * t).round() as u64;
                exact::dirichlet_weights(&mut rng, &gammas, &mut w);
                exact::multinomial(&mut rng, voters, &w, &ORDER, &mut votes);
                sum += votes[1];
            }
            black_box(sum)
        })
    });
    let targets = [false, true, true, true, true, true, true, false];
    g.bench_function("irregularities_1000_precincts", |b| {
        let mut rng = stream(2, 0);
        let base = [480u64, 40, 30, 9, 8, 5, 2, 15];
        b.iter(|| {
            let mut sum = 0;
            for _ in 0..1000 {
                let mut v = base;
                mechanism::invalidate(&mut rng, &mut v, &targets, 0.1);
                mechanism::transfer(&mut rng, &mut v, &targets, 0, 0.29);
                mechanism::stuff(&mut rng, &mut v, 0, 900, 0.05);
                mechanism::miscount(&mut rng, &mut v, 0.01);
                sum += v[0];
            }
            black_box(sum)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("sampler");
    g.throughput(Throughput::Elements(1000));
    for (n, p) in [
        (600u64, 0.0037),
        (600, 0.012),
        (600, 0.07),
        (40, 0.3),
        (5, 0.1),
    ] {
        g.bench_with_input(
            BenchmarkId::new("binomial", format!("{n}_{p}")),
            &(n, p),
            |b, &(n, p)| {
                let mut rng = stream(3, 0);
                b.iter(|| {
                    (0..1000)
                        .map(|_| exact::binomial(&mut rng, n, p))
                        .sum::<u64>()
                })
            },
        );
    }
    for shape in [0.3, 2.0, 40.0] {
        let gm = Gamma::new(shape);
        g.bench_with_input(BenchmarkId::new("gamma", shape), &gm, |b, gm| {
            let mut rng = stream(4, 0);
            b.iter(|| (0..1000).map(|_| gm.sample(&mut rng)).sum::<f64>())
        });
    }
    g.finish();
}

fn whole_trial(c: &mut Criterion) {
    let mut g = c.benchmark_group("trial");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for factor in [1.0, 10.0] {
        let l = if factor == 1.0 {
            odihr()
        } else {
            scaled(factor)
        };
        let layout = Layout::draw(&l.model, 1);
        g.throughput(Throughput::Elements(layout.len() as u64));
        // Exact (the default) and pooled (the fastest): cost linear in the precincts for both.
        for sampler in [SamplerKind::Exact, SamplerKind::Pooled] {
            let name = match sampler {
                SamplerKind::Exact => "odihr-43_precincts_x".to_string(),
                s => format!("{}_odihr-43_precincts_x", s.name()),
            };
            g.bench_function(BenchmarkId::new(name, factor), |b| {
                let mut rng = stream(5, 0);
                let mut sim = recount::election::sampler::Sampler::new(&l.model, &layout, sampler);
                b.iter(|| {
                    let d = sim.draw(&mut rng);
                    black_box(sim.run(&mut rng, &d).reported_votes[0])
                })
            });
        }
    }
    g.finish();
}

fn throughput(c: &mut Criterion) {
    let l = odihr();
    let layout = Layout::draw(&l.model, 1);
    // 512 trials are 8 batches, one chunk of a long run on two threads (`engine::run_batches`),
    // so an iteration measures what a million-trial run sustains: rayon balances the eight
    // batches between the threads. With 128 trials (one batch per thread) an iteration waits
    // for the slower thread, and on a shared machine it read 20-25% below the long runs.
    let trials = 512u64;
    let mut g = c.benchmark_group("run");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(trials * layout.len() as u64));
    for sampler in [SamplerKind::Exact, SamplerKind::Fast, SamplerKind::Pooled] {
        for threads in [1usize, 2] {
            g.bench_function(
                BenchmarkId::new(
                    format!("odihr-43_{trials}_trials_{}_threads", sampler.name()),
                    threads,
                ),
                |b| {
                    let plan = Plan {
                        trials,
                        seed: 1,
                        threads,
                        sampler,
                    };
                    b.iter(|| black_box(engine::run(&l.model, &plan, |_| {})))
                },
            );
        }
    }
    g.finish();
}

/// The two-region sample of examples/ru-duma-2007 repeated `copies` times (each copy's
/// precinct ids made unique), as a CSV in `dir`: ~100,000 rows for 357 copies.
fn replicated_protocols(dir: &std::path::Path, copies: usize) -> std::path::PathBuf {
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ru-duma-2007");
    let text = std::fs::read_to_string(ex.join("two-regions.csv")).expect("the sample is there");
    let mut lines = text.lines();
    let mut out = String::from(lines.next().expect("a header"));
    out.push('\n');
    let rows: Vec<&str> = lines.collect();
    for k in 0..copies {
        for row in &rows {
            // Column 3 is the precinct number: suffix the copy.
            let cells: Vec<&str> = row.splitn(5, ',').collect();
            out.push_str(&format!(
                "{},{},{},{}-{k},{}\n",
                cells[0], cells[1], cells[2], cells[3], cells[4]
            ));
        }
    }
    let path = dir.join("replicated.csv");
    std::fs::write(&path, out).expect("a temporary file can be written");
    path
}

/// The example mapping without its national totals.
fn sample_mapping() -> recount::model::protocols::Mapping {
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ru-duma-2007");
    let text = std::fs::read_to_string(ex.join("mapping.json")).expect("the mapping is there");
    let mut m: recount::model::protocols::Mapping =
        serde_json::from_str(&text).expect("the mapping parses");
    m.totals = None;
    m
}

/// Real protocols: importing ~100,000 rows, and the inverse question on ~100,000 real stations
/// with and without the fingerprint weighed, beside odihr-43 (a reference measured in the same
/// run; machines differ).
fn protocols(c: &mut Criterion) {
    use recount::model::{import, protocols};
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let csv = replicated_protocols(tmp.path(), 357);
    let mapping = sample_mapping();
    let stations = protocols::read(&csv, &mapping, "mapping").expect("the rows import");
    let rows = stations.len() as u64;
    let mut g = c.benchmark_group("protocols");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(rows));
    g.bench_function(BenchmarkId::new("import_rows", rows), |b| {
        b.iter(|| black_box(protocols::read(&csv, &mapping, "mapping").expect("imports")))
    });
    // The imported scenario, as `recount import` writes it.
    let bytes = stations.to_csv();
    std::fs::write(tmp.path().join("r.protocols.csv"), &bytes).expect("written");
    let sha = protocols::sha256_file(&tmp.path().join("r.protocols.csv")).expect("hashed");
    let names = import::Names {
        title: "replicated sample",
        protocols_file: "r.protocols.csv",
        protocols_sha256: &sha,
        source: "bench",
    };
    let json = import::scenario(&stations, &mapping, &names).to_string();
    std::fs::write(tmp.path().join("r.json"), json).expect("written");
    let with = load::load(tmp.path().join("r.json").to_str().expect("UTF-8 path"))
        .expect("the imported scenario loads");
    let mut without = with.model.clone();
    without.inverse.as_mut().expect("inverse").fingerprint = None;
    let trials = 128u64;
    g.throughput(Throughput::Elements(trials * rows));
    let plan = Plan {
        trials,
        seed: 1,
        threads: 2,
        sampler: SamplerKind::Fast,
    };
    g.bench_function(
        BenchmarkId::new("inverse_fast_2_threads", "fingerprint"),
        |b| b.iter(|| black_box(recount::question::inverse::run(&with.model, &plan, |_| {}))),
    );
    g.bench_function(
        BenchmarkId::new("inverse_fast_2_threads", "totals_only"),
        |b| b.iter(|| black_box(recount::question::inverse::run(&without, &plan, |_| {}))),
    );
    let reference = load::load("inverse-odihr").expect("the named scenario loads");
    let per_trial = Layout::draw(&reference.model, 1).len() as u64;
    g.throughput(Throughput::Elements(1024 * per_trial));
    g.bench_function(
        BenchmarkId::new("inverse_fast_2_threads", "inverse-odihr"),
        |b| {
            let plan = Plan {
                trials: 1024,
                ..plan
            };
            b.iter(|| {
                black_box(recount::question::inverse::run(
                    &reference.model,
                    &plan,
                    |_| {},
                ))
            })
        },
    );
    g.finish();
}

criterion_group!(benches, stages, whole_trial, throughput, protocols);
criterion_main!(benches);
