//! The command line: the arguments (`args`, the only module that knows clap), one module per
//! command (`run`, `merge`, `sweep`, `precincts`, `report`, `import`, `fingerprint`, and `scenarios` for `list`, `show`,
//! `validate`), saved results read back (`saved`), the options every command shares (`options`) and the
//! terminal (`terminal`). Each command
//! takes parsed arguments, does its work through the library and writes to stdout; errors come
//! back to `main`, which prints them and exits.
//!
//! May import: every other layer.

pub mod args;
pub(crate) mod fingerprint;
pub(crate) mod import;
pub(crate) mod merge;
pub(crate) mod options;
pub(crate) mod precincts;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod saved;
pub(crate) mod scenarios;
pub(crate) mod sweep;
pub(crate) mod terminal;

use crate::cli::args::{Cli, Command};
use crate::cli::terminal::emit;
use crate::error::Result;

/// Runs a parsed command line.
pub fn main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::List => scenarios::list(),
        Command::Show { scenario, json } => scenarios::show(&scenario, json),
        Command::Validate { scenarios: names } => scenarios::validate(&names),
        Command::Schema => emit(&crate::model::scenario::json_schema()),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Precincts(args) => precincts::precincts(&args),
        Command::Report(args) => report::report(&args),
        Command::Import(args) => import::import(&args),
        Command::Fingerprint(args) => fingerprint::fingerprint(&args),
    }
}
