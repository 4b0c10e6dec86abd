//! Seat allocation among the parties over the threshold.
//!
//! Largest remainder with the Hare quota (Kazakhstan's method), D'Hondt and Sainte-Laguë.
//! Ties go to the party listed first, so results are deterministic.

use crate::model::scenario::Allocation;

/// Seats per party for `votes`, among parties whose flag in `eligible` is set. Parties below the
/// threshold get 0; if no party is eligible nobody gets seats.
pub fn allocate(method: Allocation, seats: u32, votes: &[u64], eligible: &[bool], out: &mut [u32]) {
    out.iter_mut().for_each(|s| *s = 0);
    let total: u64 = votes
        .iter()
        .zip(eligible)
        .filter(|(_, e)| **e)
        .map(|(v, _)| v)
        .sum();
    if total == 0 {
        return;
    }
    match method {
        Allocation::Hare => {
            let quota = total as f64 / seats as f64;
            let mut given = 0;
            let mut remainders: Vec<(f64, usize)> = Vec::with_capacity(votes.len());
            for (i, (&v, &e)) in votes.iter().zip(eligible).enumerate() {
                if e {
                    // Integer arithmetic for the whole part keeps exact quotas exact.
                    let whole = (v * seats as u64 / total) as u32;
                    out[i] = whole;
                    given += whole;
                    remainders.push((v as f64 / quota - whole as f64, i));
                }
            }
            remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for &(_, i) in remainders.iter().cycle().take((seats - given) as usize) {
                out[i] += 1;
            }
        }
        Allocation::Dhondt | Allocation::SainteLague => {
            let divisor = |s: u32| match method {
                Allocation::Dhondt => s as f64 + 1.0,
                _ => 2.0 * s as f64 + 1.0,
            };
            for _ in 0..seats {
                let mut best: Option<(f64, usize)> = None;
                for (i, (&v, &e)) in votes.iter().zip(eligible).enumerate() {
                    if !e {
                        continue;
                    }
                    let q = v as f64 / divisor(out[i]);
                    if best.is_none_or(|(bq, _)| q > bq) {
                        best = Some((q, i));
                    }
                }
                if let Some((_, i)) = best {
                    out[i] += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(method: Allocation, seats: u32, votes: &[u64]) -> Vec<u32> {
        let mut out = vec![0; votes.len()];
        allocate(method, seats, votes, &vec![true; votes.len()], &mut out);
        out
    }

    #[test]
    fn textbook_examples() {
        // The standard worked example (votes 100k/80k/30k/20k, 8 seats).
        let v = [100_000, 80_000, 30_000, 20_000];
        assert_eq!(run(Allocation::Dhondt, 8, &v), vec![4, 3, 1, 0]);
        assert_eq!(run(Allocation::SainteLague, 8, &v), vec![3, 3, 1, 1]);
        assert_eq!(run(Allocation::Hare, 8, &v), vec![3, 3, 1, 1]);
        // Hare favours small parties where D'Hondt does not.
        let v = [47_000, 16_000, 15_800, 12_000, 6_100, 3_100];
        assert_eq!(run(Allocation::Hare, 10, &v), vec![5, 2, 1, 1, 1, 0]);
        assert_eq!(run(Allocation::Dhondt, 10, &v), vec![5, 2, 2, 1, 0, 0]);
    }

    #[test]
    fn only_eligible_parties_get_seats_and_all_seats_go() {
        let votes = [5_247_720, 269_310, 183_346];
        let mut out = [0; 3];
        allocate(
            Allocation::Hare,
            98,
            &votes,
            &[true, false, false],
            &mut out,
        );
        assert_eq!(out, [98, 0, 0]);
        allocate(Allocation::Hare, 98, &votes, &[true, true, true], &mut out);
        assert_eq!(out.iter().sum::<u32>(), 98);
        allocate(
            Allocation::Hare,
            98,
            &votes,
            &[false, false, false],
            &mut out,
        );
        assert_eq!(out, [0, 0, 0]);
    }
}
