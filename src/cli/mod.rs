//! The command line: the arguments (`args`, the only place that knows clap), the `run` command
//! (`app`) and the other commands (`commands`).
//!
//! May import: every other layer.

pub mod app;
pub mod args;
pub mod commands;
