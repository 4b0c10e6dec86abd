//! The HTML report rendered in a real browser: headless Chromium loads out/<scenario>/report.html
//! from disk, with networking off, and the test checks that the run table and every figure are in
//! the rendered page.
//!
//! Needs `chromium` on PATH (or `RECOUNT_CHROMIUM=/path/to/chrome`); install it with
//! `.ci/browser-deps`. The test fails, rather than skips, without it: a skipped browser test
//! checks nothing. Run it alone with `cargo test --test browser`.

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny.json")
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("RECOUNT_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!(
        "headless Chromium not found: install it with .ci/browser-deps (Debian packages chromium and chromium-driver) \
         or set RECOUNT_CHROMIUM to a Chrome/Chromium binary"
    );
}

/// Runs Chromium headless on `url` with `extra` flags; returns stdout. Kills it after 120 s.
fn headless(url: &str, extra: &[&str], profile: &Path) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    // Read stdout while Chromium runs: a DOM larger than the pipe buffer would block it.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
        out
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium exited with {status}");
            return reader.join().unwrap();
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn recount(out: &Path, args: &[&str]) {
    let mut cmd = cargo_bin_cmd!("recount");
    cmd.args(args).args(["--out"]).arg(out);
    cmd.assert().success();
}

#[test]
fn report_renders_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let t = tiny().display().to_string();
    recount(
        &out,
        &["run", &t, "--trials", "64", "--threads", "1", "--quiet"],
    );
    recount(
        &out,
        &[
            "sweep",
            &t,
            "--param",
            "prevalence",
            "--from",
            "0",
            "--to",
            "1",
            "--steps",
            "4",
            "--trials",
            "32",
            "--threads",
            "1",
            "--quiet",
            "--tipping",
        ],
    );
    recount(&out, &["precincts", &t, "--trial", "3"]);
    recount(&out, &["report", &t, "--quiet"]);
    let page = out.join("tiny/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no scripts, stylesheets, images or anything else fetched.
    for banned in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(!html.contains(banned), "report.html contains {banned}");
    }

    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let dom = headless(&url, &["--dump-dom"], &tmp.path().join("profile"));
    assert!(dom.contains("<table id=\"run-table\""), "run table missing");
    assert!(dom.contains("NSDP (National Social-Democratic Party)"));
    assert!(dom.contains("<table id=\"assumptions-table\""));
    assert!(dom.contains("seed 004 para 7-10"), "sources are listed");
    for id in ["sweep-irregularities.prevalence", "precincts-11-3"] {
        let at = dom
            .find(&format!("<figure id=\"{id}\""))
            .unwrap_or_else(|| panic!("figure {id} missing"));
        let figure = &dom[at..at + dom[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg"), "figure {id} has no SVG");
        assert!(
            figure.contains("<figcaption>"),
            "figure {id} has no caption"
        );
        assert!(
            figure.contains("<polyline") || figure.contains("<rect"),
            "figure {id} draws nothing"
        );
    }
    assert!(
        dom.contains("tiny: sweep of irregularities.prevalence (32 trials per point"),
        "sweep figure title"
    );
    assert!(dom.contains("P = 0.5"));
    assert!(
        dom.contains("True count") && dom.contains("Reported count"),
        "fingerprint panels"
    );
    assert_eq!(dom.matches("<svg").count(), 2, "one inline SVG per figure");

    // And it paints: a full-page screenshot is written.
    let shot = tmp.path().join("report.png");
    headless(
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,4000",
        ],
        &tmp.path().join("profile2"),
    );
    let size = std::fs::metadata(&shot).expect("a screenshot").len();
    assert!(size > 20_000, "screenshot is only {size} bytes");
}
