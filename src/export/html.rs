//! `recount report`: one self-contained HTML page per scenario.
//!
//! Pure: a scenario, a run's JSON and figures (SVG text) in, HTML out. The page needs no network
//! and no script: styles and SVG figures are inline. The run is read back as JSON (not as
//! `RunReport`) so pages can be made from result files of other recount versions and modes.

use crate::model::load::Loaded;
use serde_json::Value;

/// A figure to show: an SVG document and what it shows.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Anchor id in the page.
    pub id: String,
    pub title: String,
    /// A sentence or two under the figure (plain text).
    pub caption: String,
    pub svg: String,
}

/// Everything on the page.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    pub loaded: &'a Loaded,
    /// A run's JSON (`recount run` output) and the file it came from.
    pub run: &'a Value,
    pub run_file: String,
    /// The inverse answer's figures, where the run has them: the posterior, and what it rests
    /// on.
    pub posterior: Vec<Figure>,
    /// Sweep curves and heat maps.
    pub sweeps: Vec<Figure>,
    /// Precinct fingerprints.
    pub fingerprints: Vec<Figure>,
    /// The newest `recount check` of this scenario's content (its JSON and file), if any.
    pub check: Option<(Value, String)>,
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document ready to inline: without an XML declaration or doctype.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => "",
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;font-size:.9em;margin:1em 0}th,td{padding:.25em .6em;border-bottom:1px solid #eee;text-align:right;vertical-align:top}\
th{background:#f5f5f5}td.l,th.l{text-align:left}td.src{text-align:left;color:#555;font-size:.92em}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;font-size:.92em}\
.answer{font-size:1.1em;background:#f4f8fc;border-left:4px solid #0072b2;padding:.5em .8em}.headline{font-size:1.05em}.headline td{font-weight:600}.wide{overflow-x:auto}.wide td{white-space:nowrap}.meta{color:#666;font-size:.88em}code{background:#f3f3f3;padding:0 .2em}";

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn pct(v: &Value) -> String {
    num(v).map_or_else(String::new, |x| format!("{:.2}%", 100.0 * x))
}

/// "0.512 [0.451, 0.572]" from an Estimate's JSON.
fn est(v: &Value) -> String {
    match (num(&v["estimate"]), num(&v["ci95"][0]), num(&v["ci95"][1])) {
        (Some(e), Some(lo), Some(hi)) => format!("{e:.3} [{lo:.3}, {hi:.3}]"),
        _ => String::new(),
    }
}

/// "4.54% [3.10%, 8.20%]" from a Summary's JSON.
fn summary(v: &Value) -> String {
    format!(
        "{} [{}, {}]",
        pct(&v["mean"]),
        pct(&v["q05"]),
        pct(&v["q95"])
    )
}

/// "+12,345 [+1,234, +23,456]" from a Summary of votes moved.
fn votes(v: &Value) -> String {
    let f = |k: &str| crate::export::run::signed_votes(num(&v[k]).unwrap_or(f64::NAN));
    format!("{} [{}, {}]", f("mean"), f("q05"), f("q95"))
}

fn run_table(run: &Value, run_file: &str) -> String {
    let th = threshold_text(run);
    let mut s = format!(
        "<p class=\"meta\">From <code>{}</code>: {} trials x {} precincts, seed {}, mode {}, {} samplers, recount {}, scenario hash {}. \
         Probabilities: estimate [95% interval of the simulation error, as wide as its Monte Carlo s.e. says]; shares and votes moved (reported minus true): mean [5%, 95%].</p>\n",
        escape(run_file),
        run["trials"],
        run["precincts"],
        run["seed"],
        escape(run["mode"].as_str().unwrap_or("")),
        match run["sampler"].as_str() {
            Some("exact") | None => "exact".to_string(),
            Some(other) => format!("{} (approximate)", escape(other)),
        },
        escape(run["recount_version"].as_str().unwrap_or("")),
        escape(run["scenario"]["hash"].as_str().unwrap_or("")),
    );
    let focus = focus_names(run);
    let (any, all) = (focus.join(" or "), focus.join(" and "));
    s.push_str("<table id=\"focus-table\" class=\"headline\"><tbody>\n");
    for (label, key) in [
        (format!("P({any} truly &gt;= {th})"), "p_any_true_cross"),
        (format!("P({all} truly &gt;= {th})"), "p_all_true_cross"),
        (
            format!("P({any} reported &gt;= {th})"),
            "p_any_reported_cross",
        ),
        (
            format!("P({any} truly over, reported under)"),
            "p_any_flipped",
        ),
        (
            format!("P(the votes moved cover what {any} officially lacked)"),
            "p_any_deficit_closed",
        ),
    ] {
        if run[key].is_null() {
            continue;
        }
        s.push_str(&format!(
            "<tr><td class=\"l\">{label}</td><td>{}</td></tr>\n",
            est(&run[key])
        ));
    }
    s.push_str("</tbody></table>\n");
    s.push_str(&format!(
        "<div class=\"wide\"><table id=\"run-table\"><thead><tr><th class=\"l\">party</th><th>official</th><th>true share</th><th>reported share</th>\
         <th>P(true &gt;= {th})</th><th>P(reported &gt;= {th})</th><th>P(flipped)</th><th>seats true/reported</th><th>votes moved</th><th>official short of {th}</th><th>P(moved cover it)</th></tr></thead><tbody>\n"
    ));
    for p in run["parties"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} / {:.1}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(p["name"].as_str().unwrap_or("")),
            pct(&p["official_share"]),
            summary(&p["true_share"]),
            summary(&p["reported_share"]),
            est(&p["p_true_cross"]),
            est(&p["p_reported_cross"]),
            est(&p["p_flipped"]),
            num(&p["expected_seats_true"]).unwrap_or(f64::NAN),
            num(&p["expected_seats_reported"]).unwrap_or(f64::NAN),
            votes(&p["votes_moved"]),
            match num(&p["official_deficit"]) {
                Some(d) if d > 0.0 => crate::export::words::group(d as u64),
                Some(_) => "reached".to_string(),
                None => String::new(),
            },
            if p["p_deficit_closed"].is_null() {
                String::new()
            } else {
                est(&p["p_deficit_closed"])
            },
        ));
    }
    s.push_str("</tbody></table></div>\n");
    if run["inverse"].is_object() {
        let headline = format!("P({any} truly &gt;= {th})");
        let given = run["answer"]["evidence"].as_str().map_or(
            "the official result and the evidence in the run's file".into(),
            escape,
        );
        s.push_str(&inverse_table(&run["inverse"], &given, &headline));
    }
    s
}

/// What `recount check` found (`question::calibration::Verdict`, in the check's JSON): the
/// verdict in words and, per focus party, where the truths fell and how often the ranges
/// covered them.
fn calibration(check: &Value, file: &str) -> String {
    let v = &check["verdict"];
    let int = |x: &Value| x.as_u64().unwrap_or(0);
    let first = int(&check["seed"]);
    let mut s = format!(
        "<h3 id=\"check\">Is the answer calibrated?</h3>\n<p><code>recount check</code> asked this scenario's inverse question of {} simulated elections whose truth was known ({} trials each, {} sampler, seeds {} to {}; {} set aside). ",
        int(&v["replications"]),
        crate::export::words::group(int(&check["trials"])),
        escape(check["sampler"].as_str().unwrap_or("")),
        first,
        first + int(&v["replications"]).max(1) - 1,
        int(&v["set_aside"]),
    );
    if v["calibrated"].as_bool() == Some(true) {
        s.push_str("<strong>Calibrated</strong>: where the scenario's own assumptions hold, its posteriors cover the truth as often as they say.");
    } else {
        let reasons: Vec<String> = v["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
            .map(escape)
            .collect();
        s.push_str(&format!(
            "<strong>Not calibrated</strong>: {}.",
            reasons.join("; ")
        ));
    }
    s.push_str(&format!(" ({})</p>\n", escape(file)));
    s.push_str("<table id=\"check-table\"><thead><tr><th class=\"l\">true share of</th><th>where the truth fell in its posterior, by tenth</th><th>central 50% covered</th><th>central 90% covered</th></tr></thead><tbody>\n");
    for p in v["parties"].as_array().into_iter().flatten() {
        let ranks: Vec<String> = p["ranks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| int(c).to_string())
            .collect();
        let pct = |x: &Value| num(x).map_or_else(String::new, |x| format!("{:.1}%", 100.0 * x));
        s.push_str(&format!(
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(p["party"].as_str().unwrap_or("")),
            ranks.join(" "),
            pct(&p["covered_50"]),
            pct(&p["covered_90"]),
        ));
    }
    s.push_str("</tbody></table>\n");
    s
}

/// The answer in one plain sentence, first on the page (`words::answer`, carried in the run's
/// JSON), its figure in bold.
fn answer(run: &Value) -> String {
    let text = match (
        run["answer"]["sentence"].as_str(),
        run["answer"]["figure"].as_str(),
    ) {
        (Some(sentence), Some(figure)) => escape(sentence).replacen(
            &escape(figure),
            &format!("<strong>{}</strong>", escape(figure)),
            1,
        ),
        _ => format!(
            "This run was made by recount {}, which did not write the answer in words; the run's table below has its figures.",
            escape(
                run["recount_version"]
                    .as_str()
                    .unwrap_or("(unknown version)")
            )
        ),
    };
    let odds = run["answer"]["odds"].as_str().map_or(String::new(), |o| {
        format!("<p id=\"odds\">{}</p>\n", escape(o))
    });
    format!("<p id=\"answer\" class=\"answer\"><strong>The answer.</strong> {text}</p>\n{odds}")
}

/// The run's threshold as a percentage ("7%").
fn threshold_text(run: &Value) -> String {
    num(&run["threshold"]).map_or("the threshold".into(), crate::export::words::percent)
}

/// The run's focus parties as readers know them (HTML-escaped).
fn focus_names(run: &Value) -> Vec<String> {
    run["focus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|id| escape(&short_name(&run["parties"], id)))
        .collect()
}

/// A party as readers know it (`words::short_name`), or its id.
fn short_name(parties: &Value, id: &str) -> String {
    parties
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"].as_str() == Some(id))
        .and_then(|p| p["name"].as_str())
        .map_or(id, crate::export::words::short_name)
        .to_string()
}

/// The inverse question's evidence sentence and each unknown's posterior beside its prior;
/// `given` is what the trials were weighed against, `headline` the headline probability (HTML).
fn inverse_table(inv: &Value, given: &str, headline: &str) -> String {
    let mut s = format!(
        "<p class=\"meta\" id=\"inverse\">Posterior given {given}; tolerance {} points; effective sample size {:.0}; \
         {:.1}% of trials within the tolerance{}.</p>\n",
        num(&inv["tolerance_pp"]).unwrap_or(f64::NAN),
        num(&inv["ess"]).unwrap_or(f64::NAN),
        100.0 * num(&inv["acceptance_rate"]).unwrap_or(f64::NAN),
        // Result files from before the tail diagnostic have no limit.
        num(&inv["pareto_k_limit"]).map_or(String::new(), |limit| format!(
            "; {}",
            crate::export::words::tail(num(&inv["pareto_k"]), limit)
        ))
    );
    if let Some(w) = inv["warning"].as_str() {
        s.push_str(&format!("<p><strong>Warning:</strong> {}</p>\n", escape(w)));
    }
    s.push_str(&format!(
        "<div class=\"wide\"><table id=\"posterior-table\"><thead><tr><th class=\"l\">unknown</th><th class=\"l\">prior</th>\
         <th>prior mean [5%, 95%]</th><th>posterior mean [5%, 95%]</th><th>narrowed by the evidence</th>\
         <th>{headline} if below / above the prior's median</th></tr></thead><tbody>\n",
    ));
    let params: Vec<&Value> = inv["parameters"].as_array().into_iter().flatten().collect();
    let half =
        |e: &Value| num(&e["estimate"]).map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
    for p in &params {
        let f = |v: &Value| num(v).map_or_else(String::new, |x| format!("{x:.4}"));
        let d = &p["dependence"];
        s.push_str(&format!(
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{} [{}, {}]</td><td>{} [{}, {}]</td><td>{}</td><td>{} / {}</td></tr>\n",
            escape(p["name"].as_str().unwrap_or("")),
            escape(p["prior"].as_str().unwrap_or("")),
            f(&p["prior_mean"]),
            f(&p["prior_q05"]),
            f(&p["prior_q95"]),
            f(&p["posterior"]["mean"]),
            f(&p["posterior"]["q05"]),
            f(&p["posterior"]["q95"]),
            num(&d["narrowed"]).map_or_else(String::new, |x| format!("{:.0}%", 100.0 * x)),
            half(&d["headline_below"]),
            half(&d["headline_above"]),
        ));
    }
    s.push_str("</tbody></table></div>\n");
    let resting: Vec<String> = params
        .iter()
        .filter(|p| p["dependence"]["rests_on_prior"].as_bool() == Some(true))
        .map(|p| {
            let d = &p["dependence"];
            format!(
                "<strong>{}</strong> (narrowed by {:.0}%; {headline} is {} where it is below {:.4} and {} where above; <code>recount sweep --param {}</code>)",
                escape(p["name"].as_str().unwrap_or("")),
                100.0 * num(&d["narrowed"]).unwrap_or(f64::NAN),
                half(&d["headline_below"]),
                num(&d["split_at"]).unwrap_or(f64::NAN),
                half(&d["headline_above"]),
                escape(d["sweep_path"].as_str().unwrap_or("")),
            )
        })
        .collect();
    if !resting.is_empty() {
        s.push_str(&format!(
            "<p id=\"rests-on\"><strong>What the answer rests on.</strong> The evidence barely narrowed these unknowns, yet {headline} differs between the two halves of their priors, so the answer depends on the priors chosen for them: {}.</p>\n",
            resting.join("; ")
        ));
    }
    let alternatives: Vec<crate::question::alternatives::AlternativeAnswer> =
        serde_json::from_value(inv["alternatives"].clone()).unwrap_or_default();
    if !alternatives.is_empty() {
        s.push_str(&format!(
            "<p id=\"alternatives\"><strong>Under other priors</strong> (the scenario's <code>inference.alternatives</code>; the same trials, reweighted), {headline} is:</p>\n<ul>\n{}</ul>\n",
            alternatives
                .iter()
                .map(|a| format!("<li>{}</li>\n", escape(&crate::export::words::alternative(a))))
                .collect::<String>()
        ));
    }
    s
}

fn figures(figs: &[Figure], empty: &str) -> String {
    if figs.is_empty() {
        return format!("<p>{empty}</p>\n");
    }
    let mut s = String::new();
    for f in figs {
        s.push_str(&format!(
            "<figure id=\"{}\" class=\"figure\">\n<h3>{}</h3>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(&f.id),
            escape(&f.title),
            inline_svg(&f.svg),
            escape(&f.caption)
        ));
    }
    s
}

/// The whole page.
pub fn render(page: &Page) -> String {
    let l = page.loaded;
    let sc = &l.scenario;
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>recount report: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p class=\"meta\">Scenario <code>{name}</code> ({file}, hash {hash}); recount {version}.</p>\n\
         <p><strong>{question}</strong></p>\n{answer}<p>{description}</p>\n\
         <nav><a href=\"#run\">Run</a> · <a href=\"#sweeps\">Sensitivity</a> · <a href=\"#precincts\">Precincts</a> · <a href=\"#assumptions\">Assumptions and sources</a></nav>\n",
        name = escape(&l.name),
        title = escape(&sc.title),
        file = escape(&l.path.display().to_string()),
        hash = escape(&l.hash),
        version = crate::VERSION,
        question = escape(&sc.question),
        answer = answer(page.run),
        description = escape(&sc.description),
    );
    s.push_str("<h2 id=\"run\">Run</h2>\n");
    s.push_str(&run_table(page.run, &page.run_file));
    s.push_str(&figures(&page.posterior, ""));
    if let Some((check, file)) = &page.check {
        s.push_str(&calibration(check, file));
    }
    s.push_str("<h2 id=\"sweeps\">Sensitivity: sweeps</h2>\n<p>Each curve is the scenario run at many values of one number, every point with the same seed (common random numbers), so the differences between points come from the number, not from Monte Carlo noise. Bands are 95% intervals.</p>\n");
    s.push_str(&figures(
        &page.sweeps,
        &format!("No sweeps of this scenario yet: make one with <code>recount sweep {} --param prevalence --from 0 --to 0.6 --steps 6</code>.", escape(&l.name)),
    ));
    s.push_str("<h2 id=\"precincts\">Precinct fingerprints</h2>\n");
    let hint = if l.model.stations.is_some() {
        format!(
            "No fingerprint of these protocols yet: draw one with <code>recount fingerprint {}</code>.",
            escape(&l.path.display().to_string())
        )
    } else {
        format!(
            "No precinct tables of this scenario yet: make one with <code>recount precincts {} --trial 0</code>.",
            escape(&l.name)
        )
    };
    s.push_str(&figures(&page.fingerprints, &hint));
    s.push_str("<h2 id=\"assumptions\">Assumptions and sources</h2>\n<table id=\"assumptions-table\"><thead><tr><th class=\"l\">field</th><th class=\"l\">value</th><th class=\"l\">source</th></tr></thead><tbody>\n");
    let value = serde_json::to_value(sc).expect("a scenario serialises");
    for [path, v, src] in crate::model::scenario::sourced_numbers(&value) {
        s.push_str(&format!(
            "<tr><td class=\"l\"><code>{}</code></td><td class=\"l\">{}</td><td class=\"src\">{}</td></tr>\n",
            escape(&path),
            escape(&v),
            escape(&src)
        ));
    }
    s.push_str("</tbody></table>\n</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(
            inline_svg("<?xml version=\"1.0\"?>\n<svg x=\"1\"/>"),
            "<svg x=\"1\"/>"
        );
    }

    #[test]
    fn inverse_runs_show_posteriors_beside_priors_and_warnings() {
        let inv = serde_json::json!({
            "observed_negative": 65, "observed_counts": 150, "tolerance_pp": 0.1, "ess": 812.0,
            "acceptance_rate": 0.4, "warning": "effective sample size 812 is below 1000",
            "parameters": [{"name": "prevalence", "prior": "Uniform(0, 1)", "prior_mean": 0.5,
                "prior_q05": 0.05, "prior_q95": 0.95,
                "posterior": {"mean": 0.48, "q05": 0.15, "q50": 0.47, "q95": 0.86},
                "dependence": {"narrowed": 0.12, "split_at": 0.5, "rests_on_prior": true,
                    "headline_below": {"estimate": 0.01}, "headline_above": {"estimate": 0.3},
                    "sweep_path": "prevalence"}}]
        });
        let html = inverse_table(&inv, "the official result", "P(b truly &gt;= 7%)");
        assert!(
            html.contains("Posterior given the official result;"),
            "{html}"
        );
        assert!(html.contains("<td class=\"l\">prevalence</td><td class=\"l\">Uniform(0, 1)</td><td>0.5000 [0.0500, 0.9500]</td><td>0.4800 [0.1500, 0.8600]</td><td>12%</td><td>0.010 / 0.300</td>"), "{html}");
        assert!(html.contains("<strong>prevalence</strong> (narrowed by 12%; P(b truly &gt;= 7%) is 0.010 where it is below 0.5000 and 0.300 where above; <code>recount sweep --param prevalence</code>)"), "{html}");
        assert!(html.contains("Warning"));
    }
}
