//! Command-line arguments (clap derive). Only parsing and flag-level checks live here; `app`
//! turns them into runs.

use crate::sample::kind::SamplerKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// The shell completion script for `shell`, generated from these definitions.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "recount", &mut script);
    script
}

/// The manual page (roff) of recount or of one of its commands, generated from these
/// definitions; None for a command recount does not have.
pub fn man_page(command: Option<&str>) -> Option<std::io::Result<Vec<u8>>> {
    let cli = Cli::command();
    let cmd = match command {
        None => cli,
        Some(name) => {
            let sub = cli.find_subcommand(name)?.clone();
            // Named as man(1) expects a subcommand's page: recount-sweep(1).
            let full = format!("recount-{}", sub.get_name());
            sub.name(full.clone())
                .bin_name(full.replace('-', " "))
                .version(crate::VERSION)
        }
    };
    let mut page = Vec::new();
    Some(clap_mangen::Man::new(cmd).render(&mut page).map(|()| page))
}

/// The commands recount has, for messages.
pub fn command_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect()
}

/// The scenario `recount run` uses when none is named.
pub const DEFAULT_SCENARIO: &str = "inverse-odihr";

#[derive(Debug, Parser)]
#[command(
    name = "recount",
    version,
    about = "Estimates, by Monte Carlo simulation, how vote-counting irregularities could have changed an election's outcome.",
    long_about = "Estimates, by Monte Carlo simulation, how vote-counting irregularities could have changed an \
election's outcome. Scenarios (JSON files in scenarios/) describe the country precinct by precinct and the \
irregularities, each number with its source.",
    after_help = "Examples:\n  recount list\n  recount run                       # the main question: inverse-odihr\n  recount run odihr-43\n  recount run exit-poll --trials 200000 --seed 7 --threads 2 --json\n  recount show odihr-43\n  recount validate my-scenario.json\n  recount schema > scenario.schema.json\n  recount import protocols.csv > mapping.json            # your own election's precinct protocols\n  recount import protocols.csv --map mapping.json --name mine && recount fingerprint mine.json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only add noise
pub enum Command {
    /// Simulate a scenario and report who truly and reportedly crossed the threshold.
    #[command(
        after_help = "Examples:\n  recount run                       # the default scenario, inverse-odihr\n  recount run --sampler fast        # the same question in a third of the time, approximate samplers\n  recount run --sampler pooled      # faster still: ballot noise pooled over the country\n  recount run official --trials 5000\n  recount run odihr-43 --trials 200000 --seed 7 --threads 2 --json\n  recount run path/to/my.json --out results/\n  recount run odihr-43 --trials 1000000 --shard 3/8   # one machine's share; then `recount merge`"
    )]
    Run(RunArgs),
    /// Combine the shard files of one run (`recount run --shard i/n`) into its result.
    #[command(
        long_about = "Combine the shard files of one run (`recount run ... --shard i/n`) into its result.\n\n\
The files must come from the same scenario content, seed, trial count, sampler and recount version, and together \
cover every trial exactly once. The result is the one `recount run` gives on one machine, to the byte (only the \
timing block differs), reported and written the same way.",
        after_help = "Examples:\n  recount run odihr-43 --trials 100000 --shard 1/2 --quiet   # on machine 1\n  recount run odihr-43 --trials 100000 --shard 2/2 --quiet   # on machine 2\n  recount merge out/odihr-43/run-20070818-100000.shard-*-of-2.json\n\nSee docs/scaling.md for GNU parallel and Slurm."
    )]
    Merge(MergeArgs),
    /// List the named scenarios, one line each with its question.
    List,
    /// Show a scenario with every number and its source.
    Show {
        /// Scenario name (in scenarios/) or path to a JSON file.
        scenario: String,
        /// Print the scenario as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Check scenario files; exit 0 if all are valid, 2 with the file, field and allowed range if not.
    Validate {
        /// Scenario names or paths.
        #[arg(required = true)]
        scenarios: Vec<String>,
    },
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Run a scenario at many values of one (or two) of its numbers and export probability
    /// curves (CSV, JSON, SVG).
    #[command(
        long_about = "Run a scenario at many values of one (or two) of its numbers and export probability curves.\n\n\
Every point uses the same seed: common random numbers. Trial t of every point draws from the same random stream \
(and the precinct layout is the same), so differences between points come from the parameter, not from fresh \
Monte Carlo noise, and curves are smooth. A one-point sweep gives exactly what `recount run` gives with the \
scenario changed at that value. See docs/sweeps.md.",
        after_help = "Parameters are dotted paths into the scenario JSON (see `recount show NAME --json`); a path naming a prior \
(uniform, beta, observed) fixes it at each value; `irregularities.` or `count_errors.` may be left out. Friendly names: prevalence, \
threshold, observers (the observers' sample size at the same observed rate).\n\n\
Examples:\n  recount sweep odihr-43 --param prevalence --from 0 --to 0.6 --steps 6 --trials 2000\n  \
recount sweep odihr-43 --param transfer.intensity --values 0.1,0.2,0.4 --trials 2000 --tipping\n  \
recount sweep odihr-43 --param prevalence --from 0 --to 0.8 --steps 8 --trials 2000 --measure reported --levels 0.4,0.25\n  \
recount sweep odihr-43 --param prevalence --from 0 --to 0.8 --steps 8 --param2 transfer.intensity --from2 0 --to2 0.5 --steps2 5 --trials 500\n  \
recount sweep odihr-43 --param observers --values 50,150,450 --trials 1000\n\n\
Outputs: <out>/<scenario>/sweep-<param>[-<param2>]/curve.csv, curve.json, curve.svg."
    )]
    Sweep(SweepArgs),
    /// One simulated election's precinct table (CSV) and its turnout x beneficiary's share
    /// fingerprint (SVG), true and reported side by side.
    #[command(
        after_help = "Examples:\n  recount precincts odihr-43 --trial 0\n  recount precincts odihr-43 --trial 17 --seed 7 --out results/\n\n\
Outputs: <out>/<scenario>/precincts-<seed>-<trial>.csv and .svg. Trial k of seed s is the same election \
`recount run --seed s` simulated as its k-th trial (with --sampler fast, that of `recount run --seed s --sampler fast`)."
    )]
    Precincts(PrecinctsArgs),
    /// One self-contained HTML page with a scenario's run table, the curves already in <out>, its
    /// assumptions and sources.
    #[command(
        after_help = "Examples:\n  recount report odihr-43\n  recount report odihr-43 --out results/ --trials 2000\n\n\
Uses the newest run-*.json in <out>/<scenario>/ (running the scenario first if there is none) and every \
sweep-*/curve.svg there. Writes <out>/<scenario>/report.html; it needs no network."
    )]
    Report(ReportArgs),
    /// Check that an inverse scenario's answer is calibrated: ask it of simulated elections whose
    /// truth is known and see whether its posteriors cover the truth as often as they say.
    #[command(
        long_about = "Check that an inverse scenario's answer is calibrated (simulation-based calibration).

Each replication draws an election from the scenario's priors, publishes what its evidence would show (the compared parties' shares with the kernel's noise, the observers' verdicts), asks the inverse question of it with the scenario's own settings, and records where the true shares fell in their posteriors. A calibrated answer puts the truth uniformly in its posterior, covers it in 50% and 90% of replications with its central 50% and 90% ranges, and its headline probability is right on average. Exit code 0 if calibrated, 3 if not (with the reasons), 2 for a scenario whose evidence the check cannot publish yet (exit polls, a preliminary count, recounts, real stations).",
        after_help = "Examples:
  recount check inverse-odihr                       # 100 replications of 2,000 pooled trials
  recount check my-election.json --replications 400 --trials 4000

Outputs: <out>/<scenario>/check-<seed>-<replications>x<trials>-<sampler>.csv (one row per replication) and .json (the verdict)."
    )]
    Check(CheckArgs),
    /// Import a country's precinct protocols (CSV or TSV, headers in any language) as a
    /// scenario of its real stations.
    #[command(
        long_about = "Import a country's precinct protocols (CSV or TSV, headers in any language, any column order) \
as a scenario of its real polling stations.\n\n\
Without --map, recount reads the header and prints a proposed mapping (which column holds the region, the \
precinct number, registered voters, ballots, invalid ballots and each party's votes) to stdout, with notes on \
what to check on stderr. Edit it (set `threshold` and `seats`, check the party ids), then import with --map. \
Every row is checked (whole numbers, votes over ballots, ballots over registered, duplicate precinct ids within \
a region, stated totals); any problem is reported with its line, column and header, and nothing is written.",
        after_help = "Examples:\n  recount import protocols.csv > mapping.json          # propose a mapping, then edit it\n  \
recount import protocols.csv --map mapping.json --name ru2007 --dir elections/\n  \
recount fingerprint elections/ru2007.json\n  recount run elections/ru2007.json --sampler fast\n\n\
Writes <dir>/<name>.json (the scenario, every number with its source) and <dir>/<name>.protocols.csv (the \
stations, normalised). See docs/protocols.md."
    )]
    Import(ImportArgs),
    /// The election fingerprint of a scenario of real stations: turnout x a party's share, the
    /// protocols beside an election simulated on the same stations (SVG and CSV).
    #[command(
        after_help = "Examples:\n  recount fingerprint elections/ru2007.json\n  recount fingerprint elections/ru2007.json --party kprf --bins 100\n\n\
Outputs: <out>/<scenario>/fingerprint-<party>-<seed>-<trial>.svg and .csv. For an inverse scenario the simulated \
panel is a draw from the posterior: one of the first --draws trials of seed --seed (fast samplers), picked with \
probability proportional to its weight; --trial shows a given trial instead, the election `recount precincts \
--sampler fast --trial k` shows."
    )]
    Fingerprint(FingerprintArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell) on stdout.
    #[command(
        after_help = "Examples:\n  recount completions bash > ~/.local/share/bash-completion/completions/recount\n  recount completions zsh > ~/.zfunc/_recount        # with fpath+=~/.zfunc before compinit\n  recount completions fish > ~/.config/fish/completions/recount.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of recount, or of one of its commands, on stdout.
    #[command(
        after_help = "Examples:\n  recount man | man -l -\n  recount man sweep | man -l -\n  recount man > ~/.local/share/man/man1/recount.1\n  for c in run sweep report; do recount man $c > ~/.local/share/man/man1/recount-$c.1; done"
    )]
    Man {
        /// A command (run, sweep, ...): its page, recount-<command>(1).
        command: Option<String>,
    },
}

/// Flags of `recount import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The protocols: a CSV or TSV file with a header row, one row per polling station.
    pub file: PathBuf,
    /// The mapping (JSON) of columns to meanings; without it a proposal is printed.
    #[arg(long, short = 'm')]
    pub map: Option<PathBuf>,
    /// The scenario's name (default: the file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Where <name>.json and <name>.protocols.csv are written.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Replace existing files of that name.
    #[arg(long)]
    pub force: bool,
}

/// Flags of `recount fingerprint`.
#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// A scenario with `protocols` (made by `recount import`).
    pub scenario: String,
    /// The party whose share is the vertical axis (default: the beneficiary of irregularities).
    #[arg(long)]
    pub party: Option<String>,
    /// Bins per axis.
    #[arg(long, default_value_t = 50)]
    pub bins: usize,
    /// Master seed of the simulated election (default: the scenario's run.seed).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Which trial of that seed to simulate (0-based); default: for an inverse scenario, a
    /// posterior draw among --draws trials, else trial 0.
    #[arg(long, short = 'k')]
    pub trial: Option<u64>,
    /// Trials weighed to draw the simulated election from the posterior (inverse scenarios).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub draws: u64,
    /// Where result files go: <out>/<scenario>/fingerprint-<party>-<seed>-<trial>.{svg,csv}.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Replace an existing result of the same name made differently (otherwise the new one gets
    /// a `.2`, `.3`, ... suffix; the same result made again replaces itself).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario name (in scenarios/) or path to a JSON file.
    #[arg(default_value = DEFAULT_SCENARIO)]
    pub scenario: String,
    /// Number of simulated elections (default: the scenario's run.trials).
    #[arg(long, short = 'n')]
    pub trials: Option<u64>,
    /// Master seed (default: the scenario's run.seed).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); --threads 1 disables parallelism. Results do not
    /// depend on it.
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Print the result as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Samplers: `exact` (default) draws every distribution exactly; `fast` (approximate) draws
    /// binomials with variance n p (1 - p) >= 9 from a rounded normal and smaller ones from a
    /// dithered uniform, small categories' shares and the mechanisms' intensities from two-point
    /// laws with the same means and variances, and the turnout and the large categories' shares
    /// from quantile tables of their Betas: about 3x faster than exact; `pooled` (approximate)
    /// draws every precinct's turnout, shares and irregularities as fast does but not its ballot
    /// counts: it adds their expectations and draws the ballots' noise around them for 1
    /// precinct in 64, scaled up (no precinct counts, so not for `recount precincts`): about 5x
    /// faster than fast. With either, every named scenario's probabilities and every inverse
    /// scenario's posteriors are the same within Monte Carlo error (tests/fast_sampler.rs,
    /// docs/performance.md). Recorded in the output (`sampler`) and its file name
    /// (run-<seed>-<trials>-fast, -pooled).
    #[arg(long, value_enum, default_value_t = Sampler::Exact)]
    pub sampler: Sampler,
    /// Where result files go: <out>/<scenario>/run-<seed>-<trials>.{json,csv}.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Overwrite an existing result file even if it came from a different scenario content or
    /// recount version (otherwise the new result gets a `.2`, `.3`, ... suffix).
    #[arg(long)]
    pub force: bool,
    /// Continue a run stopped by Ctrl-C (or SIGTERM) from its partial result
    /// (<out>/<scenario>/run-<seed>-<trials>.partial.json); the result is identical to an
    /// uninterrupted run with the same seed.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Run only shard i of n (1 <= i <= n): its share of the trial batches, for spreading one run
    /// over several machines. Writes <out>/<scenario>/run-<seed>-<trials>.shard-<i>-of-<n>.json;
    /// `recount merge` combines the n files into exactly the result of the whole run
    /// (docs/scaling.md).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::engine::Shard>,
    /// Also write the posterior as weighted draws, one row per trial (its weight, unknowns and
    /// every party's true share), to <out>/<scenario>/run-<seed>-<trials>.draws.csv, for your own
    /// plots and summaries (inverse scenarios; the trials are simulated a second time).
    #[arg(long, conflicts_with = "shard")]
    pub draws: bool,
    /// Stop after this many trials as if interrupted (for testing interrupted runs).
    #[arg(long, hide = true)]
    pub stop_after: Option<u64>,
    /// Stop as if interrupted when this trial starts, in the middle of its batch (for testing).
    #[arg(long, hide = true)]
    pub stop_at_trial: Option<u64>,
}

/// Flags of `recount merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard files (run-<seed>-<trials>.shard-<i>-of-<n>.json), in any order.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Print the result as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Where result files go: <out>/<scenario>/run-<seed>-<trials>.{json,csv}.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Overwrite an existing result file even if it came from a different scenario content or
    /// recount version.
    #[arg(long)]
    pub force: bool,
}

/// Flags of `recount sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Scenario name (in scenarios/) or path to a JSON file.
    pub scenario: String,
    /// The number to sweep: a dotted path such as `irregularities.prevalence`,
    /// `transfer.intensity.beta[0]`, `regions[15].turnout`, or `prevalence`, `threshold`,
    /// `observers`.
    #[arg(long)]
    pub param: String,
    #[command(flatten)]
    pub axis: AxisArgs,
    /// A second number to sweep: a 2-D grid (heat map).
    #[arg(long, requires = "param2_values")]
    pub param2: Option<String>,
    #[command(flatten)]
    pub axis2: Axis2Args,
    /// Simulated elections per point (default: the scenario's run.trials).
    #[arg(long, short = 'n')]
    pub trials: Option<u64>,
    /// Master seed, shared by every point (default: the scenario's run.seed).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); --threads 1 disables parallelism. Results do not
    /// depend on it.
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Also report where the --measure probability of the focus parties together (by default
    /// P(truly >= threshold)) reaches each of --levels, and mark it on curve.svg.
    #[arg(long)]
    pub tipping: bool,
    /// The probabilities --tipping looks for, comma-separated, each in (0, 1) (implies
    /// --tipping) [default: 0.05,0.5,0.95].
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub levels: Option<Vec<f64>>,
    /// The probability --tipping follows.
    #[arg(long, value_enum, default_value = "true")]
    pub measure: MeasureArg,
    /// Print curve.json on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Samplers, as for `recount run` (fast: results go to sweep-<param>[-<param2>]-fast/).
    #[arg(long, value_enum, default_value_t = Sampler::Exact)]
    pub sampler: Sampler,
    /// Where result files go: <out>/<scenario>/sweep-<param>[-<param2>]/.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Replace an existing result of the same name made differently (otherwise the new one gets
    /// a `.2`, `.3`, ... suffix; the same result made again replaces itself).
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The values of the first swept number.
#[derive(Debug, Args)]
#[group(id = "param_values", required = true, multiple = true)]
pub struct AxisArgs {
    /// First value of the range.
    #[arg(long, allow_negative_numbers = true, requires = "to")]
    pub from: Option<f64>,
    /// Last value of the range (included).
    #[arg(long, allow_negative_numbers = true, requires = "from")]
    pub to: Option<f64>,
    /// Number of equal steps from --from to --to (steps + 1 points).
    #[arg(long, conflicts_with_all = ["step", "values"])]
    pub steps: Option<u64>,
    /// Step size from --from to --to (alternative to --steps).
    #[arg(long, allow_negative_numbers = true, conflicts_with = "values")]
    pub step: Option<f64>,
    /// Explicit values, comma-separated (instead of a range).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, conflicts_with_all = ["from", "to"])]
    pub values: Option<Vec<f64>>,
}

/// The values of the second swept number.
#[derive(Debug, Args)]
#[group(id = "param2_values", multiple = true, requires = "param2")]
pub struct Axis2Args {
    /// First value of the second range.
    #[arg(long, allow_negative_numbers = true, requires = "to2")]
    pub from2: Option<f64>,
    /// Last value of the second range (included).
    #[arg(long, allow_negative_numbers = true, requires = "from2")]
    pub to2: Option<f64>,
    /// Number of equal steps from --from2 to --to2.
    #[arg(long, conflicts_with_all = ["step2", "values2"])]
    pub steps2: Option<u64>,
    /// Step size from --from2 to --to2.
    #[arg(long, allow_negative_numbers = true, conflicts_with = "values2")]
    pub step2: Option<f64>,
    /// Explicit values of the second number, comma-separated.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, conflicts_with_all = ["from2", "to2"])]
    pub values2: Option<Vec<f64>>,
}

/// Flags of `recount precincts`.
#[derive(Debug, Args)]
pub struct PrecinctsArgs {
    /// Scenario name (in scenarios/) or path to a JSON file.
    pub scenario: String,
    /// Which trial of the run to show (0-based).
    #[arg(long, short = 'k', default_value_t = 0)]
    pub trial: u64,
    /// Master seed (default: the scenario's run.seed).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Bins per axis of the fingerprint histogram.
    #[arg(long, default_value_t = 50)]
    pub bins: usize,
    /// Samplers, as for `recount run`: replays the trial a run with the same samplers simulated
    /// (files precincts-<seed>-<trial>-fast.{csv,svg} with fast). Exact or fast only: pooled
    /// draws no precinct counts.
    #[arg(long, value_enum, default_value_t = Sampler::Exact)]
    pub sampler: Sampler,
    /// Where result files go: <out>/<scenario>/precincts-<seed>-<trial>[-fast].{csv,svg}.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Replace an existing result of the same name made differently (otherwise the new one gets
    /// a `.2`, `.3`, ... suffix; the same result made again replaces itself).
    #[arg(long)]
    pub force: bool,
}

/// Flags of `recount report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Scenario name (in scenarios/) or path to a JSON file.
    pub scenario: String,
    /// Where runs and sweeps were written, and where report.html goes.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Trials of the run made when <out> holds none (default: the scenario's run.trials).
    #[arg(long, short = 'n')]
    pub trials: Option<u64>,
    /// Worker threads for that run.
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Samplers of that run, as for `recount run` (its file is named as `run` names it).
    #[arg(long, value_enum, default_value_t = Sampler::Exact)]
    pub sampler: Sampler,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Flags of `recount check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario name (in scenarios/) or path to a JSON file (an inverse scenario).
    pub scenario: String,
    /// Simulated elections to ask the question of.
    #[arg(long, short = 'r', default_value_t = 100)]
    pub replications: u64,
    /// Trials of each replication's inverse question.
    #[arg(long, short = 'n', default_value_t = 2000)]
    pub trials: u64,
    /// Seed of the first replication (replication i uses seed + i).
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    /// Worker threads.
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Samplers of each inference (pooled by default: a check asks the question many times).
    #[arg(long, value_enum, default_value_t = Sampler::Pooled)]
    pub sampler: Sampler,
    /// Where the check's files go: <out>/<scenario>/check-....{csv,json}.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Replace an existing result of the same name made differently (otherwise the new one gets
    /// a `.2`, `.3`, ... suffix; the same result made again replaces itself).
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--sampler`: the three samplers as the command line names them (the library's
/// `SamplerKind` knows nothing of clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sampler {
    Exact,
    Fast,
    Pooled,
}

impl From<Sampler> for SamplerKind {
    fn from(s: Sampler) -> SamplerKind {
        match s {
            Sampler::Exact => SamplerKind::Exact,
            Sampler::Fast => SamplerKind::Fast,
            Sampler::Pooled => SamplerKind::Pooled,
        }
    }
}

/// `--measure`: the probability `--tipping` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MeasureArg {
    /// P(true share >= threshold).
    True,
    /// P(reported share >= threshold).
    Reported,
    /// P(truly over the threshold and reported under it).
    Flipped,
    /// P(the votes moved took at least the official shortfall from the party).
    DeficitClosed,
}

impl From<MeasureArg> for crate::question::sweep::Measure {
    fn from(m: MeasureArg) -> Self {
        use crate::question::sweep::Measure;
        match m {
            MeasureArg::True => Measure::True,
            MeasureArg::Reported => Measure::Reported,
            MeasureArg::Flipped => Measure::Flipped,
            MeasureArg::DeficitClosed => Measure::DeficitClosed,
        }
    }
}
