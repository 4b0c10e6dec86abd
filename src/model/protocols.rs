//! Real precinct protocols: one row per polling station, read from a CSV or TSV file of any
//! header language and column order through a `Mapping` (which column holds what).
//!
//! The same reader serves a user's raw file (`recount import`) and the normalised file an
//! imported scenario points to (`protocols.file`), whose mapping is fixed (`Mapping::normalised`).
//! Rows are streamed, never loaded whole; every cell is checked and the first problems are
//! reported with their line, column and header. What is odd but real (a station with no ballots,
//! a turnout of 100%) is counted in the summary, not refused.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Files larger than this are refused: 1 GiB is ten times a country of 100,000 stations.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Problems listed in one error before the rest are only counted.
const MAX_LISTED: usize = 20;

/// A column of the input, by its header (in any language) or by its 0-based position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Index(usize),
    Header(String),
}

/// One column, or several summed (ballots found in stationary and in mobile boxes, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(Column),
    Sum(Vec<Column>),
}

impl Columns {
    fn list(&self) -> Vec<&Column> {
        match self {
            Columns::One(c) => vec![c],
            Columns::Sum(v) => v.iter().collect(),
        }
    }
}

/// A party's column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyColumn {
    /// Identifier used in outputs and in the scenario (lowercase, no spaces), e.g. "kprf".
    pub id: String,
    /// Display name.
    pub name: String,
    /// The column of its votes.
    pub column: Column,
}

/// National totals the user states (from the commission's summary protocol): the import checks
/// the rows add up to them, to the vote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatedTotals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stations: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballots: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<u64>,
    /// Votes per party id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub votes: BTreeMap<String, u64>,
}

/// Which column of the input holds what, and the election's rules the file cannot tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Field separator; default: tab for `.tsv` files, else whichever of `,` `;` tab the header
    /// line has most of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// The station's region; absent: the whole country is one region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Column>,
    /// The station's number or code (unique within its region).
    pub precinct: Column,
    /// Voters on the lists.
    pub registered: Column,
    /// Ballots cast (found in the boxes, or issued): one column or a list summed.
    pub ballots: Columns,
    /// Invalid ballots.
    pub invalid: Column,
    /// Valid ballots, if the protocol states them: checked against the parties' sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<Column>,
    /// The parties, in ballot order.
    pub parties: Vec<PartyColumn>,
    /// Totals the rows must add up to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<StatedTotals>,
    /// Short title of the election, e.g. "Russia, State Duma 2007".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where the file comes from (cited for every number taken from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Share of all ballots a party needs for seats, e.g. 0.07.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Seats allocated by party list.
    #[serde(default)]
    pub seats: Option<u64>,
    /// The party irregular counts are suspected to favour; default: the leading party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<String>,
    /// The parties the question is about; default: the one closest under the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Vec<String>>,
}

/// The header of the normalised protocols file, before the party ids.
pub const NORMALISED: [&str; 5] = ["region", "precinct", "registered", "ballots", "invalid"];

impl Mapping {
    /// The mapping of recount's own normalised file (`Stations::to_csv`).
    pub fn normalised(party_ids: &[String]) -> Mapping {
        let h = |s: &str| Column::Header(s.to_string());
        Mapping {
            delimiter: Some(','),
            region: Some(h("region")),
            precinct: h("precinct"),
            registered: h("registered"),
            ballots: Columns::One(h("ballots")),
            invalid: h("invalid"),
            valid: None,
            parties: party_ids
                .iter()
                .map(|id| PartyColumn {
                    id: id.clone(),
                    name: id.clone(),
                    column: h(id),
                })
                .collect(),
            totals: None,
            title: None,
            source: None,
            threshold: None,
            seats: None,
            beneficiary: None,
            focus: None,
        }
    }
}

/// The stations of a country, sorted by region (stable: file order within a region).
#[derive(Debug, Clone, PartialEq)]
pub struct Stations {
    /// Party ids, in ballot order.
    pub parties: Vec<String>,
    /// Region names, in order of first appearance in the file.
    pub regions: Vec<String>,
    pub region: Vec<u16>,
    pub precinct: Vec<String>,
    pub registered: Vec<u32>,
    pub ballots: Vec<u32>,
    pub invalid: Vec<u32>,
    /// Votes, station by station: `votes[i * parties.len() + j]`.
    pub votes: Vec<u32>,
}

impl Stations {
    pub fn len(&self) -> usize {
        self.registered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.registered.is_empty()
    }

    /// Station `i`'s votes per party.
    pub fn votes_of(&self, i: usize) -> &[u32] {
        let p = self.parties.len();
        &self.votes[i * p..(i + 1) * p]
    }

    /// Station `i`'s (turnout, share of party `j`) by `point`, from its votes and invalid
    /// ballots; None where nobody voted.
    pub fn point_of(&self, i: usize, j: usize) -> Option<(f64, f64)> {
        let mut counts = [0u64; crate::model::limits::MAX_CATEGORIES];
        let v = self.votes_of(i);
        for (c, &x) in counts.iter_mut().zip(v) {
            *c = x as u64;
        }
        counts[v.len()] = self.invalid[i] as u64;
        point(self.registered[i] as u64, &counts[..=v.len()], j)
    }

    /// The (turnout, share of party `j`) points of the stations where someone voted (`point`).
    pub fn points(&self, j: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
        (0..self.len()).filter_map(move |i| self.point_of(i, j))
    }

    /// Index range of each region's stations.
    pub fn region_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::with_capacity(self.regions.len());
        let mut start = 0;
        for r in 0..self.regions.len() {
            let mut end = start;
            while end < self.len() && self.region[end] as usize == r {
                end += 1;
            }
            out.push(start..end);
            start = end;
        }
        out
    }

    /// The normalised file: `region,precinct,registered,ballots,invalid,<party ids>`.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = NORMALISED
            .iter()
            .copied()
            .chain(self.parties.iter().map(String::as_str))
            .collect();
        w.write_record(&header)
            .expect("writing to memory cannot fail");
        let mut row: Vec<String> = Vec::with_capacity(header.len());
        for i in 0..self.len() {
            row.clear();
            row.push(self.regions[self.region[i] as usize].clone());
            row.push(self.precinct[i].clone());
            row.push(self.registered[i].to_string());
            row.push(self.ballots[i].to_string());
            row.push(self.invalid[i].to_string());
            row.extend(self.votes_of(i).iter().map(u32::to_string));
            w.write_record(&row).expect("writing to memory cannot fail");
        }
        w.into_inner().expect("flushing memory cannot fail")
    }

    /// National and per-region sums, and the anomalies worth knowing about.
    pub fn summary(&self) -> Summary {
        let p = self.parties.len();
        let mut s = Summary {
            stations: self.len() as u64,
            regions: self.regions.len() as u64,
            registered: 0,
            ballots: 0,
            invalid: 0,
            votes: vec![0; p],
            zero_ballots: 0,
            zero_registered: 0,
            full_turnout: 0,
            unaccounted_ballots: 0,
        };
        for i in 0..self.len() {
            s.registered += self.registered[i] as u64;
            s.ballots += self.ballots[i] as u64;
            s.invalid += self.invalid[i] as u64;
            let v = self.votes_of(i);
            let valid: u64 = v.iter().map(|&x| x as u64).sum();
            for (t, &x) in s.votes.iter_mut().zip(v) {
                *t += x as u64;
            }
            s.zero_ballots += (self.ballots[i] == 0) as u64;
            s.zero_registered += (self.registered[i] == 0) as u64;
            s.full_turnout +=
                (self.registered[i] > 0 && self.ballots[i] == self.registered[i]) as u64;
            s.unaccounted_ballots +=
                (valid + (self.invalid[i] as u64) < self.ballots[i] as u64) as u64;
        }
        s
    }
}

/// An election fingerprint in four numbers, so real and simulated can be compared (and the
/// inverse question weigh one against the other): each from
/// the stations where someone voted, unweighted (a station is a point of the picture).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Features {
    /// Stations counted.
    pub stations: u64,
    /// Mean station turnout.
    pub mean_turnout: f64,
    /// Share of stations with a turnout of 80% or more.
    pub high_turnout: f64,
    /// Share of stations with both turnout and the party's share at 80% or more: the corner
    /// where invented protocols pile up (Klimek et al.'s "extreme fraud").
    pub corner: f64,
    /// Pearson correlation of station turnout and the party's share: near 0 in clean elections,
    /// clearly positive where ballots are added or moved for the party.
    pub correlation: f64,
    /// Standard deviation of station turnout (for the features' sampling spread).
    pub turnout_sd: f64,
}

impl Features {
    /// From (turnout, share) points.
    pub fn of(points: impl Iterator<Item = (f64, f64)>) -> Features {
        let mut sums = FeatureSums::default();
        points.for_each(|(t, s)| sums.add(t, s));
        sums.finish()
    }

    /// Each feature minus the other's, on one scale: the shares as fractions, the correlation
    /// as it is, so that a hundredth of correlation weighs like a point of share.
    pub fn deviations(&self, other: &Features) -> [f64; 4] {
        [
            self.mean_turnout - other.mean_turnout,
            self.high_turnout - other.high_turnout,
            self.corner - other.corner,
            self.correlation - other.correlation,
        ]
    }

    /// How much each feature of `stations` such stations varies between elections drawn alike
    /// (its sampling standard deviation, in `deviations`' units): a mean's sd over sqrt(n), a
    /// proportion's sqrt(p (1 - p) / n) (p at least 1/n, so an empty corner still has a spread),
    /// a correlation's (1 - r^2) / sqrt(n).
    pub fn sampling_sd(&self) -> [f64; 4] {
        let n = self.stations.max(1) as f64;
        let prop = |p: f64| (p.max(1.0 / n) * (1.0 - p).max(1.0 / n) / n).sqrt();
        [
            self.turnout_sd / n.sqrt(),
            prop(self.high_turnout),
            prop(self.corner),
            (1.0 - self.correlation * self.correlation) / n.sqrt(),
        ]
    }

    /// The kernel's bandwidth on each feature: `tolerance`, or twice the feature's sampling
    /// spread where that is wider, so that a kernel never weighs what chance alone moves (on
    /// 280 stations a correlation varies by 0.06 between elections drawn alike).
    pub fn bandwidths(&self, tolerance: f64) -> [f64; 4] {
        self.sampling_sd().map(|sd| tolerance.max(2.0 * sd))
    }

    /// The deviations over their bandwidths, squared and summed.
    pub fn distance2(&self, other: &Features, bandwidths: &[f64; 4]) -> f64 {
        self.deviations(other)
            .iter()
            .zip(bandwidths)
            .map(|(d, b)| (d / b) * (d / b))
            .sum()
    }
}

/// Running sums of (turnout, share) points, for `Features`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeatureSums {
    n: u64,
    t: f64,
    s: f64,
    tt: f64,
    ss: f64,
    ts: f64,
    high: u64,
    corner: u64,
}

impl FeatureSums {
    pub fn add(&mut self, t: f64, s: f64) {
        self.n += 1;
        self.t += t;
        self.s += s;
        self.tt += t * t;
        self.ss += s * s;
        self.ts += t * s;
        self.high += (t >= 0.8) as u64;
        self.corner += (t >= 0.8 && s >= 0.8) as u64;
    }

    pub fn finish(&self) -> Features {
        let m = self.n.max(1) as f64;
        let (mt, ms) = (self.t / m, self.s / m);
        let cov = self.ts / m - mt * ms;
        let (vt, vs) = (self.tt / m - mt * mt, self.ss / m - ms * ms);
        Features {
            stations: self.n,
            mean_turnout: mt,
            high_turnout: self.high as f64 / m,
            corner: self.corner as f64 / m,
            correlation: if vt > 0.0 && vs > 0.0 {
                cov / (vt * vs).sqrt()
            } else {
                0.0
            },
            turnout_sd: vt.max(0.0).sqrt(),
        }
    }
}

/// A station's turnout (ballots over registered) and party `j`'s share of its valid votes, from
/// its reported counts (the parties, then invalid ballots); None where nobody voted. The one
/// definition real and simulated stations are compared by.
pub fn point(registered: u64, counts: &[u64], j: usize) -> Option<(f64, f64)> {
    let ballots: u64 = counts.iter().sum();
    if ballots == 0 || registered == 0 {
        return None;
    }
    let valid = ballots - counts[counts.len() - 1];
    Some((ratio(ballots, registered), ratio(counts[j], valid)))
}

/// What an import found: sums, and counts of real but unusual stations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub stations: u64,
    pub regions: u64,
    pub registered: u64,
    pub ballots: u64,
    pub invalid: u64,
    /// Votes per party, in ballot order.
    pub votes: Vec<u64>,
    /// Stations where nobody voted.
    pub zero_ballots: u64,
    /// Stations with no registered voters (some countries list voters at the station only).
    pub zero_registered: u64,
    /// Stations where every registered voter cast a ballot.
    pub full_turnout: u64,
    /// Stations whose valid and invalid ballots add up to fewer than the ballots cast.
    pub unaccounted_ballots: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The field separator of a file: the mapping's, else tab for `.tsv`, else the likeliest.
fn delimiter(path: &Path, mapping: &Mapping, first_line: &str) -> u8 {
    if let Some(c) = mapping.delimiter {
        return c as u8;
    }
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        return b'\t';
    }
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| first_line.bytes().filter(|&b| b == d).count())
        .unwrap_or(b',')
}

/// Opens `path` for streaming, refusing what is not a regular file or is too large.
pub(crate) fn open(path: &Path) -> Result<std::fs::File> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{}: not a regular file (a CSV or TSV of precinct protocols is expected)",
            path.display()
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::Usage(format!(
            "{}: {} bytes, more than the {MAX_FILE_BYTES} recount reads (ten times the protocols of a country of 100,000 stations); split the file by region",
            path.display(),
            meta.len()
        )));
    }
    std::fs::File::open(path).map_err(|e| Error::io(path, e))
}

/// The header row of `path`, for proposing a mapping.
pub fn read_header(path: &Path, delimiter_hint: Option<char>) -> Result<Vec<String>> {
    let mut file = open(path)?;
    let mut first = Vec::new();
    {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(&mut file);
        r.read_until(b'\n', &mut first)
            .map_err(|e| Error::io(path, e))?;
    }
    let line = std::str::from_utf8(&first).map_err(|_| not_utf8(path, 1))?;
    let mut m = Mapping::normalised(&[]);
    m.delimiter = delimiter_hint;
    let d = delimiter(path, &m, line);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(d)
        .has_headers(false)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    r.read_record(&mut rec).map_err(|e| csv_error(path, e))?;
    Ok(rec
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect())
}

fn not_utf8(path: &Path, line: u64) -> Error {
    Error::Scenario {
        file: path.display().to_string(),
        message: not_utf8_message(line),
    }
}

fn not_utf8_message(line: u64) -> String {
    format!(
        "line {line}: not UTF-8 text; convert the file first (for example `iconv -f WINDOWS-1251 -t UTF-8`)"
    )
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Scenario {
        file: path.display().to_string(),
        message: csv_message(e),
    }
}

/// What is wrong at a CSV reader's error, with its line.
pub(crate) fn csv_message(e: csv::Error) -> String {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => not_utf8_message(line),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("line {line}: {len} fields where the header has {expected_len}"),
        _ => format!("line {line}: {e}"),
    }
}

/// Resolved column positions of a mapping against a header.
struct Positions {
    region: Option<usize>,
    precinct: usize,
    registered: usize,
    ballots: Vec<usize>,
    invalid: usize,
    valid: Option<usize>,
    parties: Vec<usize>,
}

fn resolve(
    header: &[String],
    mapping: &Mapping,
    mapping_name: &str,
) -> std::result::Result<Positions, String> {
    let find = |field: &str, c: &Column| -> std::result::Result<usize, String> {
        match c {
            Column::Index(i) if *i < header.len() => Ok(*i),
            Column::Index(i) => Err(format!(
                "{mapping_name}: field `{field}`: column {i} does not exist (the header has {} columns, numbered from 0)",
                header.len()
            )),
            Column::Header(h) => header.iter().position(|x| x.trim() == h.trim()).ok_or_else(|| {
                format!(
                    "{mapping_name}: field `{field}`: no column headed \"{h}\"; the header has: {}",
                    header
                        .iter()
                        .enumerate()
                        .map(|(i, h)| format!("{i} \"{h}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        }
    };
    let mut ids: Vec<&str> = Vec::new();
    for (i, p) in mapping.parties.iter().enumerate() {
        if p.id.is_empty() || ids.contains(&p.id.as_str()) {
            return Err(format!(
                "{mapping_name}: field `parties[{i}].id`: \"{}\" is empty or repeated; ids must be unique",
                p.id
            ));
        }
        ids.push(&p.id);
    }
    if mapping.parties.is_empty() || mapping.parties.len() > crate::model::limits::MAX_PARTIES {
        return Err(format!(
            "{mapping_name}: field `parties`: {} parties, allowed 1 to {}",
            mapping.parties.len(),
            crate::model::limits::MAX_PARTIES
        ));
    }
    Ok(Positions {
        region: mapping
            .region
            .as_ref()
            .map(|c| find("region", c))
            .transpose()?,
        precinct: find("precinct", &mapping.precinct)?,
        registered: find("registered", &mapping.registered)?,
        ballots: mapping
            .ballots
            .list()
            .into_iter()
            .map(|c| find("ballots", c))
            .collect::<std::result::Result<_, _>>()?,
        invalid: find("invalid", &mapping.invalid)?,
        valid: mapping
            .valid
            .as_ref()
            .map(|c| find("valid", c))
            .transpose()?,
        parties: mapping
            .parties
            .iter()
            .enumerate()
            .map(|(i, p)| find(&format!("parties[{i}].column"), &p.column))
            .collect::<std::result::Result<_, _>>()?,
    })
}

/// Reads and checks the protocols in `path` through `mapping` (named `mapping_name` in errors).
/// Any problem is an `Error::Scenario` naming the file, line, column and header; up to 20 are
/// listed. O(rows), streaming: memory holds the stations, not the file.
pub fn read(path: &Path, mapping: &Mapping, mapping_name: &str) -> Result<Stations> {
    let header = read_header(path, mapping.delimiter)?;
    let pos = resolve(&header, mapping, mapping_name).map_err(Error::Usage)?;
    let first_line = header.join(",");
    let d = delimiter(path, mapping, &first_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(d)
        .has_headers(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, open(path)?));
    let np = mapping.parties.len();
    let mut problems: Vec<String> = Vec::new();
    let mut more = 0u64;
    let mut problem = |msg: String| {
        if problems.len() < MAX_LISTED {
            problems.push(msg);
        } else {
            more += 1;
        }
    };
    let mut region_index: HashMap<String, u16> = HashMap::new();
    let mut regions: Vec<String> = Vec::new();
    let mut seen: HashMap<(u16, String), u64> = HashMap::new();
    let mut rows: Vec<(u16, String, u32, u32, u32, Vec<u32>)> = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let cell = |i: usize| rec.get(i).unwrap_or("").trim();
        let mut count = |i: usize, what: &str| -> u32 {
            let text = cell(i);
            match text.parse::<u32>() {
                Ok(v) => v,
                Err(_) => {
                    problem(format!(
                        "line {line}, column {i} (\"{}\", {what}): \"{text}\" is not a whole number from 0 to {}",
                        header[i],
                        u32::MAX
                    ));
                    0
                }
            }
        };
        let registered = count(pos.registered, "registered");
        let mut ballots: u64 = 0;
        for &b in &pos.ballots {
            ballots += count(b, "ballots") as u64;
        }
        let invalid = count(pos.invalid, "invalid");
        let votes: Vec<u32> = pos
            .parties
            .iter()
            .zip(&mapping.parties)
            .map(|(&c, p)| count(c, &format!("votes for {}", p.id)))
            .collect();
        let valid_sum: u64 = votes.iter().map(|&v| v as u64).sum();
        if let Some(c) = pos.valid {
            let valid = count(c, "valid") as u64;
            if valid != valid_sum {
                problem(format!(
                    "line {line}: the parties' votes add up to {valid_sum}, but column {c} (\"{}\", valid) says {valid}",
                    header[c]
                ));
            }
        }
        let ballots = u32::try_from(ballots).unwrap_or(u32::MAX);
        if valid_sum + invalid as u64 > ballots as u64 {
            problem(format!(
                "line {line}: votes over ballots: {valid_sum} valid votes and {invalid} invalid ballots, but {ballots} ballots cast"
            ));
        }
        if ballots > registered {
            problem(format!(
                "line {line}: ballots over registered: {ballots} ballots cast but {registered} voters registered (column {}, \"{}\")",
                pos.registered, header[pos.registered]
            ));
        }
        let region_name = pos.region.map(cell).unwrap_or("all").to_string();
        let r = match region_index.get(&region_name) {
            Some(&r) => r,
            None => {
                if regions.len() >= crate::model::limits::MAX_REGIONS {
                    return Err(Error::Usage(format!(
                        "{}: more than {} regions",
                        path.display(),
                        crate::model::limits::MAX_REGIONS
                    )));
                }
                let r = regions.len() as u16;
                region_index.insert(region_name.clone(), r);
                regions.push(region_name.clone());
                r
            }
        };
        let id = cell(pos.precinct).to_string();
        if let Some(first) = seen.insert((r, id.clone()), line) {
            problem(format!(
                "line {line}: precinct \"{id}\" of region \"{region_name}\" also on line {first} (column {}, \"{}\"): ids must be unique within a region",
                pos.precinct, header[pos.precinct]
            ));
        }
        if rows.len() as u64 >= crate::model::limits::MAX_PRECINCTS {
            return Err(Error::Usage(format!(
                "{}: more than {} stations",
                path.display(),
                crate::model::limits::MAX_PRECINCTS
            )));
        }
        rows.push((r, id, registered, ballots, invalid, votes));
    }
    if rows.is_empty() {
        problem("no rows after the header".to_string());
    }
    if !problems.is_empty() {
        let mut message = format!(
            "{} problems:\n  {}",
            problems.len() as u64 + more,
            problems.join("\n  ")
        );
        if more > 0 {
            message.push_str(&format!("\n  ... and {more} more"));
        }
        return Err(Error::Scenario {
            file: path.display().to_string(),
            message,
        });
    }
    // Stable sort by region: the layout keeps each region's stations together.
    rows.sort_by_key(|r| r.0);
    let mut s = Stations {
        parties: mapping.parties.iter().map(|p| p.id.clone()).collect(),
        regions,
        region: Vec::with_capacity(rows.len()),
        precinct: Vec::with_capacity(rows.len()),
        registered: Vec::with_capacity(rows.len()),
        ballots: Vec::with_capacity(rows.len()),
        invalid: Vec::with_capacity(rows.len()),
        votes: Vec::with_capacity(rows.len() * np),
    };
    for (r, id, reg, bal, inv, votes) in rows {
        s.region.push(r);
        s.precinct.push(id);
        s.registered.push(reg);
        s.ballots.push(bal);
        s.invalid.push(inv);
        s.votes.extend(votes);
    }
    if let Some(t) = &mapping.totals {
        check_totals(path, mapping, &s.summary(), t)?;
    }
    Ok(s)
}

/// The rows' sums against the totals the user states.
fn check_totals(path: &Path, mapping: &Mapping, sum: &Summary, t: &StatedTotals) -> Result<()> {
    let mut wrong = Vec::new();
    let mut cmp = |what: String, stated: Option<u64>, got: u64| {
        if let Some(x) = stated
            && x != got
        {
            wrong.push(format!(
                "{what}: the rows add up to {got}, the stated total is {x} (difference {})",
                got as i128 - x as i128
            ));
        }
    };
    cmp("stations".into(), t.stations, sum.stations);
    cmp("registered".into(), t.registered, sum.registered);
    cmp("ballots".into(), t.ballots, sum.ballots);
    cmp("invalid".into(), t.invalid, sum.invalid);
    let mut unknown = Vec::new();
    for (id, &x) in &t.votes {
        match mapping.parties.iter().position(|p| &p.id == id) {
            Some(j) => cmp(format!("votes for {id}"), Some(x), sum.votes[j]),
            None => unknown.push(format!(
                "totals.votes.{id}: no party \"{id}\" in the mapping"
            )),
        }
    }
    wrong.extend(unknown);
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Error::Scenario {
        file: path.display().to_string(),
        message: format!(
            "totals disagree with the stated ones:\n  {}",
            wrong.join("\n  ")
        ),
    })
}

/// SHA-256 of a file's bytes, in hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_known_points() {
        let f = Features::of([(0.5, 0.2), (0.9, 0.9), (0.85, 0.5), (0.3, 0.1)].into_iter());
        assert_eq!(f.stations, 4);
        assert!((f.mean_turnout - 0.6375).abs() < 1e-12);
        assert_eq!(f.high_turnout, 0.5);
        assert_eq!(f.corner, 0.25);
        assert!(
            f.correlation > 0.8 && f.correlation < 1.0,
            "{}",
            f.correlation
        );
        let flat = Features::of([(0.5, 0.5), (0.6, 0.5)].into_iter());
        assert_eq!(flat.correlation, 0.0);
        // One point of mean turnout at a tolerance of one point: distance 1.
        let mut g = f;
        g.mean_turnout += 0.01;
        assert!((f.distance2(&g, &[0.01; 4]) - 1.0).abs() < 1e-9);
        // A hundredth of correlation weighs like a point.
        g.correlation += 0.01;
        assert!((f.distance2(&g, &[0.01; 4]) - 2.0).abs() < 1e-9);
        // Four stations: every feature's sampling spread is far above a point.
        let b = f.bandwidths(0.01);
        assert!(b.iter().all(|&x| x > 0.05), "{b:?}");
        assert!((b[1] - 2.0 * (0.5f64 * 0.5 / 4.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_point_is_turnout_and_share_of_valid_votes() {
        assert_eq!(point(100, &[30, 10, 10], 0), Some((0.5, 0.75)));
        assert_eq!(point(100, &[0, 0, 0], 0), None);
        assert_eq!(point(0, &[1, 0, 0], 0), None);
    }
}
