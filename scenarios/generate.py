#!/usr/bin/env python3
"""Generate the named scenarios in this folder (scenarios/*.json) from one place.

The named scenarios share their regions, parties and mechanisms; writing them by hand would let
one file's figure drift from another's. This script is where every figure and its source is
written once. Run it after changing a figure, then review the diff of the JSON files:

    python3 scenarios/generate.py           # rewrite scenarios/*.json
    python3 scenarios/generate.py --check   # exit 1 if any committed file differs from its output

The sources cited ("seed 000", "seed 004", kz2007.md) are ../shared/seeds and ../shared/data/kz2007.md.
Only the Python standard library is needed.
"""
import argparse, os, sys, tempfile
import json, copy, math
REG_SRC = ("assumption: no official 2007 per-region electorate or precinct count is public (kz2007.md); "
  "electorate split in proportion to approximate 2007 population estimates, totals fixed to 8,891,561 registered "
  "and 9,728 stations (seed 000); rural precincts assumed smaller than urban ones (500 vs 800 voters); "
  "urban fraction from approximate urban population shares; the 1,512 Saylau e-voting stations (seed 000) "
  "split in proportion to urban precincts")
regions = [  # name, population (k), urban fraction, turnout 2012 (vesti.kz), 2007 turnout if known
 ("Akmola oblast", 747, .45, 78.01, None),
 ("Aktobe oblast", 678, .57, 78.4, None),
 ("Almaty oblast", 1633, .23, 92.6, (90.12, "seed 000 and seed 004: final turnout 90.12%")),
 ("Atyrau oblast", 491, .47, 83.55, None),
 ("East Kazakhstan oblast", 1431, .58, 80.21, None),
 ("Zhambyl oblast", 1011, .40, 80.8, None),
 ("West Kazakhstan oblast", 610, .40, 71.9, None),
 ("Karaganda oblast", 1335, .83, 75.2, None),
 ("Kostanay oblast", 893, .50, 84.83, None),
 ("Kyzylorda oblast", 626, .42, 81.95, None),
 ("Mangistau oblast", 411, .62, 74.2, None),
 ("Pavlodar oblast", 744, .68, 71.0, None),
 ("North Kazakhstan oblast", 660, .37, 80.0, (75.03, "seed 000 and seed 004: final turnout 75.03%")),
 ("South Kazakhstan oblast", 2340, .39, 78.76, None),
 ("Astana city", 603, 1.0, 53.23, None),
 ("Almaty city", 1324, 1.0, 41.38, (22.51, "seed 000 and seed 004: final turnout 22.51%, the lowest")),
]
REG_TOTAL, PREC_TOTAL, EV_TOTAL = 8891561, 9728, 1512
NATIONAL_TURNOUT = 6082430 / 8891561
def split(total, weights):
    s = sum(weights); ex = [total*w/s for w in weights]; fl = [math.floor(x) for x in ex]
    short = total - sum(fl)
    for i in sorted(range(len(ex)), key=lambda i: -(ex[i]-fl[i]))[:short]: fl[i] += 1
    return fl
reg = split(REG_TOTAL, [r[1] for r in regions])
prec = split(PREC_TOTAL, [r[1]*(r[2]/800 + (1-r[2])/500) for r in regions])
ev = split(EV_TOTAL, [p*r[2] for p, r in zip(prec, regions)])
# Turnout: known 2007 figures as published; the rest follow the 2012 regional pattern, scaled so
# the electorate-weighted national mean equals 6,082,430 / 8,891,561.
known = sum(reg[i]*r[4][0]/100 for i, r in enumerate(regions) if r[4])
rest = sum(reg[i]*r[3]/100 for i, r in enumerate(regions) if not r[4])
k = (NATIONAL_TURNOUT*REG_TOTAL - known) / rest
factors = {"Almaty city": {"nsdp": (4.0, "seed 004 para 17: by its own admission NSDP got 22% in its stronghold Almaty city, about 4 times its national share"),
                           "ak_zhol": (2.0, "assumption: Ak Zhol's urban, business base; twice its national share in Almaty city")},
           "Astana city": {"nsdp": (2.0, "assumption: opposition support higher in the two big cities"),
                           "ak_zhol": (1.5, "assumption: opposition support higher in the two big cities")}}
R = []
for i, r in enumerate(regions):
    if r[4]: t = {"value": round(r[4][0]/100, 4), "source": r[4][1]}
    else: t = {"value": round(k*r[3]/100, 4), "source": f"assumption: 2012 preliminary regional turnout {r[3]}% (vesti.kz, kz2007.md) scaled by {k:.3f} so the national mean matches 68.4% (seed 000)"}
    d = {"name": r[0], "precincts": prec[i], "registered": reg[i], "urban_fraction": r[2], "evoting_precincts": ev[i], "source": REG_SRC, "turnout": t}
    if r[0] in factors: d["support_factors"] = {p: {"value": v, "source": s} for p, (v, s) in factors[r[0]].items()}
    R.append(d)
OFF = [("nur_otan","Nur Otan",5247720),("nsdp","NSDP (National Social-Democratic Party)",269310),("ak_zhol","Ak Zhol",183346),("auyl","Auyl",89855),("cppk","CPPK (Communist People's Party)",76799),("patriots","Party of Patriots",46436),("rukhaniyat","Rukhaniyat",22159)]
VALID = 5935625
def parties(overrides={}):
    out = []
    for pid, name, v in OFF:
        p = {"id": pid, "name": name, "official_votes": {"value": v, "source": "seed 000: CEC final result"}}
        if pid == "nur_otan": p["remainder"] = True
        elif pid in overrides: p["support"] = overrides[pid]
        else: p["support"] = {"value": round(v/VALID, 5), "source": f"seed 000: official share {v:,} / {VALID:,} valid votes, taken as the truth (assumption: small parties' counts not altered)"}
        out.append(p)
    return out
base = {
 "parties": parties(),
 "focus": ["nsdp", "ak_zhol"],
 "spoiled": {"value": 0.02414, "source": "kz2007.md: 146,805 invalid of 6,082,430 ballots (inferred from the CEC totals)"},
 "threshold": {"value": 0.07, "source": "seed 000 and seed 004: 7% threshold for party-list seats"},
 "seats": {"value": 98, "source": "seed 004: 98 seats by party list"},
 "allocation": "hare",
 "precinct_sizes": {"shape": {"value": 4.0, "source": "assumption: precinct sizes vary with a coefficient of variation of 0.5 within a region"},
                    "minimum": {"value": 50, "source": "assumption: even remote stations serve at least 50 voters"}},
 "behaviour": {"turnout_concentration": {"value": 20.0, "source": "assumption: Beta turnout with a + b = 20 (precinct turnout sd about 0.1), as in post-Soviet precinct data (Klimek et al., PNAS 2012)"},
               "share_concentration": {"value": 50.0, "source": "assumption: Dirichlet concentration 50: precinct shares far more dispersed than binomial noise (MODEL.md)"}},
 "country": {"precincts": PREC_TOTAL, "registered": REG_TOTAL,
             "source": "seed 000 (kz2007.md, Structure): 9,728 polling stations opened; 8,891,561 citizens on the voter lists"},
 "regions": R,
}
NONE_IRR = {"prevalence": {"value": 0.0, "source": "assumption: the scenario's question takes the count at face value"},
            "urban_multiplier": {"value": 1.0, "source": "assumption: no urban/rural difference"},
            "evoting_multiplier": {"value": 1.0, "source": "assumption: no e-voting difference"},
            "beneficiary": "nur_otan"}
def odihr(k, n, src):
    return {"prevalence": {"observed": {"negative": k, "of": n}, "source": src},
     "urban_multiplier": {"value": 1.0, "source": "assumption: no urban/rural difference in how often counts are irregular"},
     "evoting_multiplier": {"value": 0.5, "source": "assumption: Saylau electronic counts are half as often altered as manual ones"},
     "beneficiary": "nur_otan",
     "transfer": {"probability": {"value": 0.7, "source": "assumption: the mechanism ODIHR named, 'counting for Nur Otan votes cast for a different party' (seed 004 para 9), acts in most irregular counts"},
                  "intensity": {"beta": [2, 5], "source": "assumption: a mean of 29% of other parties' ballots moved where it acts, widely uncertain"},
                  "dispersion": {"value": 7, "source": "assumption: intensity varies strongly between precincts"}},
     "invalidation": {"probability": {"value": 0.2, "source": "assumption: a minority of irregular counts declare opposition ballots spoiled"},
                      "intensity": {"beta": [1, 9], "source": "assumption: about 10% of targeted ballots invalidated where it acts"},
                      "dispersion": {"value": 10, "source": "assumption"}},
     "stuffing": {"probability": {"value": 0.2, "source": "assumption: NSDP alleged ballot-box stuffing and multiple voting (seed 004 para 4); domestic monitors saw artificially high turnout"},
                  "intensity": {"beta": [1, 20], "source": "assumption: about 5% of registered non-voters stuffed where it acts"},
                  "dispersion": {"value": 20, "source": "assumption"}},
     "miscount": {"probability": {"value": 0.3, "source": "assumption: procedural failures in counting (seed 004 para 9) produce honest errors too"},
                  "regular_probability": {"value": 0.05, "source": "assumption: rare honest errors in regular counts"},
                  "intensity": {"value": 0.01, "source": "assumption: 1% of valid ballots misplaced where it happens"}}}
ODIHR_SRC = "seed 004 para 7-10: count assessed negatively in 43% of stations observed; the number observed is not public, assumed 150 (a mission of 449 short-term observers typically observes 100-200 counts): 65 of 150"
ODIHR28_SRC = "kz2007.md: count assessed negatively in 28% of stations observed in the 2004 and 2005 elections; 150 counts assumed: 42 of 150"
WIDE = {"nsdp": {"uniform": [0.04, 0.09], "source": "assumption: anywhere from the official 4.54% (seed 000) to above the exit polls' 'at or slightly below 7%' (seed 004)"},
        "ak_zhol": {"uniform": [0.025, 0.08], "source": "assumption: anywhere from the official 3.09% (seed 000) to above the exit polls' 'at or slightly below 7%' (seed 004)"}}
def scen(title, q, desc, parties_over, irr, trials=20000, **extra):
    s = {"title": title, "question": q, "description": desc}
    b = copy.deepcopy(base); b["parties"] = parties(parties_over)
    s.update(b); s["irregularities"] = irr; s["run"] = {"trials": trials, "seed": 20070818}
    s.update(extra)
    return s
S = {}
S["official"] = scen("The official result at face value",
  "If the CEC count was exactly right, how sure is it that NSDP and Ak Zhol fell short of 7%?",
  "Every party's true support is its official share and no count is irregular. Only precinct-level chance remains, so this is the baseline every other scenario is compared with: NSDP and Ak Zhol should essentially never reach 7%.",
  {}, NONE_IRR)
S["odihr-43"] = scen("Irregular counts at the level ODIHR observed (43%)",
  "If NSDP and Ak Zhol truly had anywhere between their official share and about 8-9%, and counts were irregular as often as ODIHR's observers saw, how often were they truly over 7% and reported under it?",
  "About 43% of counts are irregular (65 of an assumed 150 observed counts were assessed negatively, with the sampling uncertainty that implies). Irregular counts mostly move opposition ballots to Nur Otan, which ODIHR saw happen; some also invalidate opposition ballots, stuff ballots for Nur Otan or miscount honestly. NSDP's true support is anywhere from 4% to 9% and Ak Zhol's from 2.5% to 8%, all equally likely.",
  WIDE, odihr(65, 150, ODIHR_SRC))
S["odihr-28"] = scen("Irregular counts at the 2004/2005 level (28%)",
  "If counts were irregular as often as in 2004 and 2005 (28% negative), how often were NSDP or Ak Zhol truly over 7% but reported under it?",
  "The same as odihr-43 but with irregular counts as frequent as ODIHR found in the 2004 parliamentary and 2005 presidential elections (28% of observed counts), a lower bound on what 2007 may have been.",
  WIDE, odihr(42, 150, ODIHR28_SRC))
hon = {k: v for k, v in NONE_IRR.items()}
hon = {"prevalence": {"observed": {"negative": 65, "of": 150}, "source": ODIHR_SRC},
       "urban_multiplier": NONE_IRR["urban_multiplier"], "evoting_multiplier": NONE_IRR["evoting_multiplier"], "beneficiary": "nur_otan",
       "miscount": {"probability": {"value": 1.0, "source": "assumption: every negatively assessed count had honest errors and nothing else"},
                    "regular_probability": {"value": 0.05, "source": "assumption: rare honest errors in regular counts"},
                    "intensity": {"uniform": [0.005, 0.05], "source": "assumption: 0.5% to 5% of valid ballots misplaced, in no particular direction"}}}
S["honest-errors"] = scen("Only honest mistakes, at the 43% level",
  "If the 43% of bad counts were honest, undirected mistakes, could they alone have kept NSDP or Ak Zhol under 7%?",
  "Counts are as often faulty as ODIHR saw (43%), but the faults are honest: ballots land on a wrong party at random, in any direction, and nobody benefits on purpose. True support is as wide as in odihr-43. This shows how much of the answer comes from the direction of the errors, not their number.",
  WIDE, hon)
EXIT = {"nsdp": {"beta": [43.0, 589.8], "source": "seed 004: exit polls put NSDP 'at or slightly below 7%'; Beta with mean 6.8% and sd 1 point (assumption on the polls' error)"},
        "ak_zhol": {"beta": [43.0, 589.8], "source": "seed 004: exit polls put Ak Zhol 'at or slightly below 7%'; Beta with mean 6.8% and sd 1 point (assumption on the polls' error)"}}
S["exit-poll"] = scen("True support as the exit polls said",
  "If the exit polls were right (NSDP and Ak Zhol near 7%, Nur Otan about 80%), how often would ODIHR-level irregularities have pushed a party that truly crossed 7% below it?",
  "NSDP and Ak Zhol truly had about 6.8% each (the exit polls said 'at or slightly below 7%', taken with a one-point error); Nur Otan takes the rest, about 82%, close to the exit polls' 80%. Counts are irregular as often as ODIHR saw (43%), with the same mechanisms as odihr-43.",
  EXIT, odihr(65, 150, ODIHR_SRC))
CLAIM = {"nsdp": {"uniform": [0.20, 0.30], "source": "seed 004 para 5 and seed 000: NSDP expected 20-30% ('up to 30%', 'no less than 20%')"},
         "ak_zhol": {"uniform": [0.05, 0.09], "source": "assumption: Ak Zhol around the exit polls' 7% (seed 004)"}}
S["opposition-claims"] = scen("True support as the opposition claimed",
  "If NSDP truly had 20-30% as it claimed, would ODIHR-level irregularities be enough to bring it down to the official 4.5%?",
  "NSDP truly had 20-30% of the vote, as its leaders said; Ak Zhol about 5-9%. Counts are irregular as ODIHR saw (43%) with odihr-43's mechanisms. Compare the reported shares with the official 4.54%: if they stay far above it, the claim needs far more fraud than observers saw.",
  CLAIM, odihr(65, 150, ODIHR_SRC))
stf = {"prevalence": {"observed": {"negative": 65, "of": 150}, "source": ODIHR_SRC},
       "urban_multiplier": NONE_IRR["urban_multiplier"], "evoting_multiplier": {"value": 0.5, "source": "assumption: Saylau stations harder to stuff"}, "beneficiary": "nur_otan",
       "stuffing": {"probability": {"value": 1.0, "source": "assumption: every irregular count had ballots stuffed, as NSDP alleged (seed 004 para 4)"},
                    "intensity": {"beta": [2, 8], "source": "assumption: on average 20% of registered non-voters stuffed where it happened; domestic monitors reported artificially high turnout (seed 004)"},
                    "dispersion": {"value": 10, "source": "assumption"}}}
S["stuffing"] = scen("Turnout inflation, as the NSDP alleged",
  "If irregular counts only added ballots for Nur Otan out of the registered non-voters, could that alone have pushed NSDP or Ak Zhol under 7%?",
  "43% of counts are irregular, and each irregular count adds ballots for Nur Otan on behalf of voters who did not come (ballot-box stuffing, multiple voting, inflated turnout, as the NSDP alleged). No ballot is taken away from anyone: the opposition's share falls only because the total grows. Reported turnout rises above the true one.",
  WIDE, stf)
five = copy.deepcopy(S["odihr-43"])
five["title"] = "ODIHR-level irregularities with a 5% threshold"
five["question"] = "With a 5% threshold instead of 7%, how likely would NSDP or Ak Zhol have won seats, truly and as reported?"
five["description"] = "odihr-43 with the threshold lowered to 5%. The US embassy remarked that even at 5% no other party would have won seats (seed 004); this scenario asks how robust that remark is to the counting problems."
five["threshold"] = {"value": 0.05, "source": "assumption: counterfactual 5% threshold (seed 004 discusses it)"}
S["five-percent"] = five

# ---------------- inverse scenarios ----------------
def inv_parties():
    o = {}
    o.update({"nsdp": {"uniform": [0.02, 0.30], "source": "assumption: flat from below the official 4.54% (seed 000) to NSDP's own claim of up to 30% (seed 000, seed 004 para 5)"},
         "ak_zhol": {"uniform": [0.01, 0.20], "source": "assumption: flat from below the official 3.09% (seed 000) to 20%, the low end of what NSDP and Ak Zhol expected (seed 004 para 5)"}})
    return o
def inv_irr(honest=False, transfer_only=False):
    ir = {"prevalence": {"uniform": [0.0, 1.0], "source": "assumption: flat; the observers' sample (observations) is what informs it"},
          "urban_multiplier": {"value": 1.0, "source": "assumption: no urban/rural difference in how often counts are irregular"},
          "evoting_multiplier": {"value": 0.5, "source": "assumption: Saylau electronic counts are half as often altered as manual ones"},
          "beneficiary": "nur_otan"}
    if honest:
        ir["miscount"] = {"probability": {"value": 1.0, "source": "assumption: every irregular count has honest errors and nothing else"},
                          "regular_probability": {"value": 0.05, "source": "assumption: rare honest errors in regular counts"},
                          "intensity": {"uniform": [0.0, 0.2], "source": "assumption: up to 20% of valid ballots misplaced, in no particular direction"}}
        return ir
    ir["transfer"] = {"probability": {"value": 1.0, "source": "assumption: every irregular count moves some opposition ballots to Nur Otan, as ODIHR saw (seed 004 para 9); how many is the intensity"},
                      "intensity": {"uniform": [0.0, 0.8], "source": "assumption: flat from none to 80% of NSDP's and Ak Zhol's ballots moved, on average, in an irregular count"},
                      "dispersion": {"value": 5, "source": "assumption: intensity varies strongly between precincts"},
                      "targets": ["nsdp", "ak_zhol"]}
    ir["invalidation"] = {"probability": {"value": 0.2, "source": "assumption: a minority of irregular counts declare opposition ballots spoiled"},
                          "intensity": {"uniform": [0.0, 0.3], "source": "assumption: flat, up to 30% of targeted ballots invalidated where it acts"},
                          "dispersion": {"value": 10, "source": "assumption"},
                          "targets": ["nsdp", "ak_zhol"]}
    ir["stuffing"] = {"probability": {"value": 0.2, "source": "assumption: NSDP alleged ballot-box stuffing and multiple voting (seed 004 para 4)"},
                      "intensity": {"uniform": [0.0, 0.2], "source": "assumption: flat, up to 20% of registered non-voters stuffed where it acts"},
                      "dispersion": {"value": 20, "source": "assumption"}}
    ir["miscount"] = odihr(65, 150, ODIHR_SRC)["miscount"]
    return ir
def observers(selection="uniform"):
    o = {"counts_observed": {"value": 150, "source": "assumption: the number of counts ODIHR observed is not public (kz2007.md); a mission of 449 short-term observers typically observes 100-200"},
         "negative_share": {"value": 0.43, "source": "seed 004 para 7-10: the count was assessed negatively in 43% of stations observed"},
         "selection": selection,
         "p_negative_if_irregular": {"beta": [8, 2], "source": "assumption: observers present at an altered count usually notice and assess it negatively (mean 80%)"},
         "p_negative_if_regular": {"beta": [2, 8], "source": "assumption: procedural faults without altered figures were assessed negatively too (seed 004 para 9): mean 20%"}}
    if selection == "urban":
        o["urban_weight"] = {"value": 3.0, "source": "assumption: observers visit an urban station three times as readily as a rural one (MODEL.md: they favour towns)"}
    return o
INFERENCE = {"kernel": "gaussian", "tolerance": {"value": 0.1, "source": "assumption: simulated shares within about 0.1 percentage points of the official ones count as matching (docs/validation.md shows how the answer moves with it)"},
             "parties": ["nsdp", "ak_zhol"],
             "proposal": "guided"}
def inv_scen(title, q, desc, irr, obs, trials=10000):
    s = scen(title, q, desc, inv_parties(), irr, trials)
    s["observations"] = obs
    s["inference"] = copy.deepcopy(INFERENCE)
    return s
I = {}
I["inverse-odihr"] = inv_scen("What really happened, given the official result and ODIHR's observations",
  "Given the official result and that observers assessed 43% of the counts they saw negatively, how likely is it that NSDP or Ak Zhol truly had 7% or more?",
  "We do not assume the true support: NSDP's could be anywhere from 2% to 30% and Ak Zhol's from 1% to 20%. We do not assume how many counts were tampered with either. Each simulated election is kept in proportion to how well it reproduces what was actually seen: the official party shares, and observers finding fault with 43% of about 150 counts (an observer notices most altered counts, and also finds fault with some honest counts that broke procedure). Irregular counts mostly move opposition ballots to Nur Otan; some also invalidate opposition ballots or stuff ballots. The answer is the share of the kept elections in which NSDP or Ak Zhol truly crossed 7%.",
  inv_irr(), {"observers": observers()})
# The answer under other priors, from the same trials reweighted: one that the headline leans on
# (the transfer intensity) and one it does not (the support priors' upper ends).
I["inverse-odihr"]["inference"]["alternatives"] = [
  {"name": "a milder transfer, at most 40% of opposition ballots moved",
   "priors": {"transfer.intensity": {"uniform": [0.0, 0.4], "source": "assumption: the lower half of the flat prior above, for a reader who doubts that irregular counts moved most opposition ballots"}}},
  {"name": "neither party's true support above 15%",
   "priors": {"support.nsdp": {"uniform": [0.02, 0.15], "source": "assumption: NSDP's flat prior above, capped at 15% for a reader who finds its claim of up to 30% implausible"},
              "support.ak_zhol": {"uniform": [0.01, 0.15], "source": "assumption: Ak Zhol's flat prior above, capped at 15% like NSDP's"}}}]
ep = {"observers": observers(), "exit_poll": {
   "shares": {"nsdp": {"value": 0.068, "source": "seed 004: exit polls put NSDP 'at or slightly below 7%'"},
              "ak_zhol": {"value": 0.068, "source": "seed 004: exit polls put Ak Zhol 'at or slightly below 7%'"},
              "nur_otan": {"value": 0.80, "source": "seed 004: exit polls gave Nur Otan about 80%"}},
   "standard_error": {"value": 0.01, "source": "assumption: one percentage point of sampling error per poll share"},
   "bias": {"uniform": [-0.02, 0.02], "source": "assumption: the polls may have been off by up to 2 points in either direction for every party alike"}}}
I["inverse-exit-poll"] = inv_scen("What really happened, adding the exit polls",
  "Given the official result, the observers' 43%, and exit polls that put NSDP and Ak Zhol at about 7% and Nur Otan at 80%, how likely is it that NSDP or Ak Zhol truly had 7% or more?",
  "As inverse-odihr, but the exit polls count as evidence too: they said NSDP and Ak Zhol were 'at or slightly below 7%' and Nur Otan about 80%. We allow each poll figure one point of random error and a common error of up to two points in either direction. Simulated elections whose true shares sit close to the polls are kept more.",
  inv_irr(), ep)
I["inverse-honest"] = inv_scen("What really happened, if the bad counts were honest mistakes",
  "If every count ODIHR faulted had only honest, undirected mistakes, how likely is it that NSDP or Ak Zhol truly had 7% or more?",
  "As inverse-odihr, but irregular counts can only contain honest mistakes: ballots land on a wrong party at random, in any direction, and nobody gains on purpose. If undirected errors cannot explain the official result with a truly higher opposition, the probability stays low: it tells how much the answer rests on the errors having a direction.",
  inv_irr(honest=True), {"observers": observers()})
I["inverse-urban-observers"] = inv_scen("What really happened, if observers favoured towns",
  "If observers mostly watched urban counts, how likely is it that NSDP or Ak Zhol truly had 7% or more?",
  "As inverse-odihr, but observers visited an urban polling station three times as readily as a rural one, and counts in towns are assumed twice as likely to be irregular as counts in villages... (see urban_multiplier). The 43% then says more about towns than about the country, where most voters live in this model's rural precincts.",
  inv_irr(), {"observers": observers("urban")})
I["inverse-urban-observers"]["irregularities"]["urban_multiplier"] = {"value": 1.0, "source": "assumption: counts equally often irregular in towns and villages; only the observers' choice differs"}
I["inverse-urban-observers"]["description"] = "As inverse-odihr, but observers visited an urban polling station three times as readily as a rural one. Counts are equally often irregular in towns and villages here, so the choice of stations changes nothing on average; what changes is how much the 43% varies from one sample of stations to another in this model. Compare it with inverse-odihr to see how much the observers' choice of stations matters."

PRELIM_SRC = "kz2007.md: preliminary result of 19 August (CEC via the Kazakh embassy's release; seed 004 gives the same shares)"
prelim_votes = {"nur_otan": 5174169, "nsdp": 271525, "ak_zhol": 192155, "auyl": 93023, "cppk": 77274, "patriots": 44175, "rukhaniyat": 24308}
tab = inv_scen("What really happened, with the step from the preliminary to the final count",
  "Given the official result, the observers' 43%, and a preliminary count in which NSDP and Ak Zhol had more than in the final one, how likely is it that NSDP or Ak Zhol truly had 7% or more?",
  "As inverse-odihr, but the count is followed to its last step. The preliminary result published the day after the vote gave NSDP 4.62% and Ak Zhol 3.27%; the final one 4.54% and 3.09%, while Nur Otan gained 73,551 votes. Here the stations' protocols add up to the preliminary count, and a tabulation stage above the stations may then move a share of every other party's votes to Nur Otan and add votes to it. Simulated elections are kept in proportion to how well they reproduce both the preliminary and the final figures, so the stations only have to explain the preliminary count.",
  inv_irr(), {"observers": observers(), "preliminary": {"votes": {p: {"value": v, "source": PRELIM_SRC} for p, v in prelim_votes.items()}}})
tab["tabulation"] = {
  "beneficiary": "nur_otan",
  "transfer": {"uniform": [0.0, 0.1], "source": "assumption: from the preliminary to the final count Nur Otan gained 73,551 votes and every opposition party but the Patriots lost votes (kz2007.md, by subtraction); flat, up to 10% of each other party's preliminary votes moved to Nur Otan"},
  "added": {"uniform": [0.0, 0.03], "source": "assumption: the final count has 58,996 more valid votes than the preliminary one (kz2007.md, by subtraction); flat, up to 3% of the preliminary valid votes added to Nur Otan (late or altered tallies)"}}
# Keep the file's key order: the tabulation stage sits before the run defaults, as in the format.
I["inverse-tabulation"] = {k: tab[k] for k in list(tab) if k not in ("run", "observations", "inference")}
I["inverse-tabulation"]["tabulation"] = tab["tabulation"]
for k in ("run", "observations", "inference"):
    I["inverse-tabulation"][k] = tab[k]


def render(scenario):
    return json.dumps(scenario, indent=2, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    assert sum(reg) == REG_TOTAL and sum(prec) == PREC_TOTAL and sum(ev) == EV_TOTAL
    differ = []
    for name, scenario in {**S, **I}.items():
        path = os.path.join(here, f"{name}.json")
        text = render(scenario)
        if args.check:
            try:
                same = open(path, encoding="utf-8").read() == text
            except FileNotFoundError:
                same = False
            if not same:
                differ.append(path)
            continue
        # Write beside the target and rename, so an interrupted run leaves no half-written file.
        fd, tmp = tempfile.mkstemp(dir=here, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    if differ:
        print("differs from the generator's output:", *differ, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"{len(S) + len(I)} scenarios {'checked' if args.check else 'written'} in {here}")


if __name__ == "__main__":
    main()
