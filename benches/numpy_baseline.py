#!/usr/bin/env python3
"""Vectorised NumPy implementation of the canonical forward model of
/work/shared/data/perf-baselines.md, as a reference point for recount's engine.

9,728 precincts of 600-1,200 registered voters; turnout ~ Beta(13.6, 6.4); shares ~ Dirichlet(50 mu)
over 8 categories (7 parties + spoiled); votes ~ Multinomial; 43% of precincts irregular, where each
opposition ballot moves to the beneficiary with probability phi ~ Beta(2, 5) and sigma ~ Beta(1, 20)
of the non-voters are stuffed in.

Usage: python3 benches/numpy_baseline.py [--trials N] [--ours PRECINCT_TRIALS_PER_S]
Prints precinct-trials/s on one core and, given recount's figure, the ratio recount / NumPy.
"""
import argparse
import time

import numpy as np

MU = np.array([0.78, 0.065, 0.05, 0.015, 0.013, 0.008, 0.004, 0.065])  # nur_otan first, spoiled last
MU = MU / MU.sum()
PRECINCTS = 9728


def trial(rng, registered):
    n = registered.size
    turnout = rng.beta(13.6, 6.4, size=n)
    voters = np.rint(registered * turnout).astype(np.int64)
    shares = rng.dirichlet(50.0 * MU, size=n)
    votes = rng.multinomial(voters, shares)  # (n, 8)
    irregular = rng.random(n) < 0.43
    phi = rng.beta(2.0, 5.0, size=n)
    sigma = rng.beta(1.0, 20.0, size=n)
    opp = votes[:, 1:7]
    moved = rng.binomial(opp, phi[:, None]) * irregular[:, None]
    reported = votes.copy()
    reported[:, 1:7] -= moved
    reported[:, 0] += moved.sum(axis=1)
    nonvoters = registered - voters
    stuffed = rng.binomial(nonvoters, sigma) * irregular
    reported[:, 0] += stuffed
    return votes.sum(axis=0), reported.sum(axis=0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--ours", type=float, default=None, help="recount's precinct-trials/s")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    registered = rng.integers(600, 1201, size=PRECINCTS)
    trial(rng, registered)  # warm-up
    t0 = time.perf_counter()
    for _ in range(args.trials):
        trial(rng, registered)
    dt = time.perf_counter() - t0
    rate = args.trials * PRECINCTS / dt
    print(f"numpy {np.__version__}: {dt / args.trials * 1e3:.1f} ms per trial, {rate:.3g} precinct-trials/s (one core)")
    if args.ours:
        print(f"recount {args.ours:.3g} precinct-trials/s: {args.ours / rate:.1f} x NumPy")


if __name__ == "__main__":
    main()
