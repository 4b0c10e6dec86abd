//! The `recount` binary: parse arguments, run, print errors with exit code 2 (bad input) or 1
//! (failure at run time).

use clap::Parser;

fn main() {
    let cli = recount::cli::args::Cli::parse();
    if let Err(e) = recount::cli::main(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
