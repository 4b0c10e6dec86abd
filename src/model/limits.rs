//! The limits every part of a scenario shares: how many parties, regions and precincts.
//!
//! Apart from `model/mod.rs` so that readers of real protocols (`protocols`) can check them
//! without importing the whole model.

/// Most parties a scenario may have (keeps per-precinct vectors on the stack).
pub const MAX_PARTIES: usize = 15;
/// Parties plus the spoiled-ballot category.
pub const MAX_CATEGORIES: usize = MAX_PARTIES + 1;
/// Regions a scenario may have (the layout stores a region index in 16 bits).
pub const MAX_REGIONS: usize = 10_000;
/// Precincts a scenario may have in all: 10,000 times Kazakhstan's, about 1 GiB of layout.
pub const MAX_PRECINCTS: u64 = 100_000_000;
/// Largest scenario file read (the named scenarios are about 20 KB; an imported one lists its
/// regions, a few MB for 10,000): a larger file is refused before it is read.
pub const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;
