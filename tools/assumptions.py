"""Generate ``docs/ASSUMPTIONS.md``: every default, constant and calibration choice, with sources.

The levers come from the scenario schema (``config.lever_table()``), the fixed constants from
the modules that define them, so the document is rebuilt from the code rather than edited by
hand. ``tests/test_docs.py`` fails when the committed file differs from ``render_assumptions()``.

Numbers written inline in the model code cannot be imported; each one is listed here with a
short piece of its source text (``Constant.snippet``), and the test checks that the piece is
still in the named file, so a changed literal cannot leave a stale row behind.

Usage (from anywhere in a checkout)::

    python tools/assumptions.py            # write docs/ASSUMPTIONS.md
    python tools/assumptions.py --check    # exit 1 if docs/ASSUMPTIONS.md is stale
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulation.common.formats import format_value
from simulation.model import coaching, hours, incentives, information, metrics
from simulation.scenario import config

__all__ = [
    "CALIBRATED",
    "CONSTANTS",
    "DEFAULT_PATH",
    "Calibration",
    "Constant",
    "main",
    "render_assumptions",
]

#: Where the document lives in a checkout (``docs/`` next to the ``simulation`` package).
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "docs" / "ASSUMPTIONS.md"

#: Section titles and what each group of levers covers, in schema order.
SECTIONS: dict[str, tuple[str, str]] = {
    "run": ("Run length", "How long a run is and how much of it the KPIs ignore."),
    "org": ("Organisation", "Head-count and pay; fixed for the whole run."),
    "structure": (
        "Structure",
        "Functional silos or cross-functional teams, decision authority and coordination cost.",
    ),
    "incentives": ("Incentives", "The bonus plan: mix of components, pool, award and payout."),
    "handover": ("Handover", "Minimum Viable Handoff gate, red flags, trigger and owner."),
    "comms": ("Communication", "Chat-first interruptions versus batched channels with SLAs."),
    "info": (
        "Information",
        "Asymmetry between Sales and Ops and the tools against it (glossary, ELI5, champions,"
        " archive).",
    ),
    "coaching": ("Coaching", "Micro-coaching, workshop and post-mortems; gains and decay."),
    "market": ("Market and value stream", "Leads, deals, work content and churn hazard."),
    "behaviour": (
        "Behaviour",
        "How people choose where their hours go, their norms, skills and learning.",
    ),
    "economics": (
        "Economics",
        "How lost hours turn into money in net value.",
    ),
}


@dataclass(frozen=True)
class Calibration:
    """A default tuned by hand so the baseline lands in the design brief's bands."""

    key: str
    skeleton: str  # default in the schema skeleton (commit aa86d08), "new" if the key was added
    target: str  # the band or behaviour the value was set for


#: Defaults tuned jointly against the baseline bands. Evidence: the default changed between the
#: schema skeleton (aa86d08) and the first running model (0b16435), or the key was added then,
#: or its source says "calibrated". Nothing is fitted automatically.
CALIBRATED: tuple[Calibration, ...] = (
    Calibration(
        "market.churn_base_hazard",
        "0.0004",
        "churn at handover 10-20%; floor of the zero-friction world",
    ),
    Calibration("market.churn_wait_hazard", "0.003", "churn at handover 10-20%"),
    Calibration("market.churn_gap_hazard", "0.006", "churn at handover 10-20%"),
    Calibration("market.churn_info_hazard", "0.002", "churn at handover 10-20%"),
    Calibration(
        "market.churn_early_multiplier",
        "4",
        "churn hazard front-loaded: ~1.1%/day in the first 20 days vs ~0.6%/day later",
    ),
    Calibration("market.churn_early_days", "15", "churn hazard front-loaded"),
    Calibration(
        "market.implementation_hours",
        "40",
        "baseline ops capacity keeps up with 40 reps' wins (stable queue, lead time of weeks)",
    ),
    Calibration(
        "market.max_hours_per_deal_day",
        "new",
        "onboarding takes elapsed days, not hours (lead time)",
    ),
    Calibration(
        "market.leads_per_rep_day", "0.3", "win rate 35-55% (rep load against the stale hazard)"
    ),
    Calibration("market.exceptions_per_deal", "1", "productivity loss 15-35% (coordination share)"),
    Calibration("market.selling_hours", "14", "reps about 80% busy selling at baseline"),
    Calibration("market.stale_hazard", "0.02", "win rate 35-55%"),
    Calibration("market.promise_rework", "new", "productivity loss 15-35% (rework share)"),
    Calibration(
        "info.search_hours",
        "2.4",
        "productivity loss 15-35%; McKinsey's 1.8 h/day counts all causes",
    ),
    Calibration("info.misunderstanding_rework", "0.5", "productivity loss 15-35% (rework share)"),
    Calibration("comms.chatter_per_day", "5", "productivity loss 15-35% (interruption share)"),
    Calibration("comms.handling_minutes", "4", "productivity loss 15-35% (interruption share)"),
    Calibration("comms.deep_work_share", "0.6", "productivity loss 15-35% (interruption share)"),
    Calibration("comms.stress_rework", "0.02", "productivity loss 15-35% (rework share)"),
    Calibration("behaviour.logit_beta", "4", "baseline allocation: mostly core work, little slack"),
    Calibration(
        "behaviour.norm_core", "new", "baseline allocation: core work done whatever the bonus pays"
    ),
    Calibration(
        "behaviour.bonus_salience",
        "new",
        "bonus pull comparable to norms (a 20% pool at full attribution = 1)",
    ),
    Calibration("behaviour.doc_hours_need", "3", "handover quality and churn at handover"),
    Calibration(
        "behaviour.honesty_norm",
        "0.1",
        "reps oversell about a third of deals under bookings pay, far fewer under company pay",
    ),
)


@dataclass(frozen=True)
class Constant:
    """A number the model uses that a scenario cannot change."""

    name: str
    where: str  # file, relative to the repository root
    value: str
    why: str
    snippet: str = ""  # source text that must appear in ``where`` (whitespace ignored)


def _g(x: float) -> str:
    return f"{x:g}"


def _module_constants() -> tuple[Constant, ...]:
    """Named constants, read from their modules so the values cannot drift."""
    authority = ", ".join(f"{k} {v:g}" for k, v in config.DEFAULT_AUTHORITY.items())
    sizes = ", ".join(f"{k} {a}-{b}" for k, (a, b) in config.TEAM_SIZE_RANGE.items())
    offsets = "; ".join(
        f"{k}: {', '.join(map(str, v)) or '-'}" for k, v in coaching.SESSION_OFFSETS.items()
    )
    return (
        Constant(
            "hours.HOURS_PER_DAY",
            "simulation/model/hours.py",
            _g(hours.HOURS_PER_DAY),
            "Paid hours per person per working day; one step is one working day (design brief).",
        ),
        Constant(
            "hours.DAYS_PER_YEAR",
            "simulation/model/hours.py",
            _g(hours.DAYS_PER_YEAR),
            "Working days per year: turns salaries into hourly cost and KPIs into per-year values.",
        ),
        Constant(
            "hours.DAYS_PER_MONTH",
            "simulation/model/hours.py",
            _g(hours.DAYS_PER_MONTH),
            "DAYS_PER_YEAR / 12: the month of the throughput KPI.",
        ),
        Constant(
            "incentives.NOMINAL_CHURN",
            "simulation/model/incentives.py",
            _g(incentives.NOMINAL_CHURN),
            "Churn the bonus targets assume (the brief's ~15%): activation target = bookings "
            "target x (1 - 0.15). A planning assumption, not a model outcome.",
        ),
        Constant(
            "information.CHAMPION_BYPASS_DAYS",
            "simulation/model/information.py",
            _g(information.CHAMPION_BYPASS_DAYS),
            "A deal's questions go untranslated when joining the champions' queue would make it"
            " longer than this many days of their capacity (people stop waiting for a busy"
            " translator). Assumption.",
        ),
        Constant(
            "metrics.CA_COMPLETENESS",
            "simulation/model/metrics.py",
            _g(metrics.CA_COMPLETENESS),
            "A handover package counts as complete & accurate (%C&A of the value-stream map) at "
            "or above this completeness; equals the default gate threshold.",
        ),
        Constant(
            "incentives.REFERENCE_ALLOCATION",
            "simulation/model/incentives.py",
            " / ".join(_g(x) for x in incentives.REFERENCE_ALLOCATION),
            "Core / quality / help shares the budget choice rule gives under the reference plan"
            " (100% individual pay, default pool); close to the logit rule's baseline, so both"
            " rules start from the same organisation.",
        ),
        Constant(
            "incentives.COOPERATIVE_CAP",
            "simulation/model/incentives.py",
            _g(incentives.COOPERATIVE_CAP),
            "Budget choice rule: the largest share of a day anyone gives to documentation or to"
            " help. Assumption.",
        ),
        Constant(
            "config.DEFAULT_AUTHORITY",
            "simulation/scenario/config.py",
            authority,
            "Share of exceptions settled in the team when structure.decision_authority is empty "
            "(design brief: pod limited, squad moderate, tribe high).",
        ),
        Constant(
            "config.TEAM_SIZE_RANGE",
            "simulation/scenario/config.py",
            sizes,
            "Allowed structure.team_size per kind (design brief: pod 3-5, squad 6-10, tribe 10-15; "
            "silo: span of control).",
        ),
        Constant(
            "config.WEIGHT_TOLERANCE",
            "simulation/scenario/config.py",
            _g(config.WEIGHT_TOLERANCE),
            "How far the four bonus weights may sum from 1 (rounding in YAML).",
        ),
        Constant(
            "coaching.PRACTICE_HOURS_REP",
            "simulation/model/coaching.py",
            f"{_g(coaching.PRACTICE_HOURS_REP)} h",
            "A rep's day counts as handover practice (keeps coaching gains alive) with at least "
            "this many documentation (quality) hours. Assumption.",
        ),
        Constant(
            "coaching.PRACTICE_HOURS_OPS",
            "simulation/model/coaching.py",
            f"{_g(coaching.PRACTICE_HOURS_OPS)} h",
            "An ops day counts as practice with at least this many delivery hours (half the "
            "day). Assumption.",
        ),
        Constant(
            "coaching.PRACTICE_RATE",
            "simulation/model/coaching.py",
            _g(coaching.PRACTICE_RATE),
            "Weight of today in the practice moving average (a memory of about 20 working "
            "days). Assumption.",
        ),
        Constant(
            "coaching.SESSION_OFFSETS",
            "simulation/model/coaching.py",
            offsets,
            "Days after coaching.start_day with a session: micro_4wk is weekly (5 working days "
            "apart), a workshop is one day (design brief).",
        ),
    )


#: Numbers written inline in the code, with the text that pins each to its line.
INLINE_CONSTANTS: tuple[Constant, ...] = (
    Constant(
        "initial time allocation",
        "simulation/model/incentives.py",
        "core 0.85, quality 0.06, help 0.04, slack 0.05",
        "Where everyone starts before the first weekly review; close to the allocation under 100% "
        "individual pay, and the warm-up absorbs the difference. Assumption.",
        "INITIAL_SHARES = (0.85, 0.06, 0.04, 0.05)",
    ),
    Constant(
        "spread of initial handover skill",
        "simulation/model/coaching.py",
        "sd 0.1, clipped to 0.05-1",
        "Reps differ in handover skill around behaviour.handover_skill. Assumption.",
        "rng.normal(b.handover_skill, 0.1, N), 0.05, 1.0",
    ),
    Constant(
        "learning weight in rep_skill",
        "simulation/model/coaching.py",
        "0.5",
        "Experience closes at most half of the gap between a rep's initial skill and 1. "
        "Assumption.",
        "learnt * 0.5",
    ),
    Constant(
        "understanding weight in rep_skill",
        "simulation/model/coaching.py",
        "0.5",
        "Full cross-functional understanding (coaching) adds 0.5 to handover skill. Assumption.",
        "0.5 * state.understanding",
    ),
    Constant(
        "bounds of rep_skill",
        "simulation/model/coaching.py",
        "0.05-1.5",
        "Skill above 1 is possible with coaching and lessons; the floor keeps completeness above "
        "0. Assumption.",
        "np.maximum(skill, 0.05), 1.5)",
    ),
    Constant(
        "understanding cut of asymmetry",
        "simulation/model/information.py",
        "0.5",
        "Full cross-functional understanding halves the information asymmetry a person faces "
        "(Carlile 2004). Assumption.",
        "info.asymmetry * (1.0 - 0.5 * understanding)",
    ),
    Constant(
        "deal asymmetry blend",
        "simulation/model/handover.py",
        "0.5 rep + 0.5 ops queue",
        "A deal's asymmetry is the mean of its rep's and its ops queue's (both sides of the "
        "boundary count equally). Assumption.",
        "0.5 * asym_people[reps] + 0.5 * q_ops_asym",
    ),
    Constant(
        "exceptions of an oversold deal",
        "simulation/model/handover.py",
        "x 3 (1 + 2 x promise)",
        "An oversold deal brings three times the mean exceptions (non-standard scope). Assumption.",
        "m.exceptions_per_deal * (1.0 + 2.0 * promise)",
    ),
    Constant(
        "in-team settlement time",
        "simulation/model/structure.py",
        "0.5 day",
        "A deal whose exceptions are all settled in the team waits half a day. Assumption.",
        "np.where(in_team, 0.5, esc_latency)",
    ),
    Constant(
        "rep time per exception",
        "simulation/model/handover.py",
        "1 h",
        "Each exception costs the deal's rep an hour of talk (coordination). Assumption.",
        "reps, n_exc * 1.0)",
    ),
    Constant(
        "escalated exceptions added to the backlog",
        "simulation/model/structure.py",
        "n (1 - a) / (1 - a^n) per escalated deal",
        "Managers' backlog grows by the expected number of a deal's exceptions that escalate,"
        " given that at least one does (each settles in the team with probability a).",
        "(1.0 - authority) / (1.0 - authority ** n_exc[escalated])",
    ),
    Constant(
        "status requests to the rep",
        "simulation/model/comms.py",
        "0.5 x comms.status_request_rate per waiting deal",
        "The rep of a waiting customer receives chasers at half the rate ops does (the customer "
        "chases the rep too). Assumption.",
        "rate * 0.5",
    ),
    Constant(
        "owner follow-up per day",
        "simulation/model/handover.py",
        "handover.owner_hours_per_week / 5",
        "Five working days per week.",
        "hv.owner_hours_per_week / 5.0",
    ),
    Constant(
        "shortest return delay",
        "simulation/model/handover.py",
        "1 day",
        "A returned package comes back no earlier than the next day, whatever "
        "handover.return_days.",
        "max(1, round(hv.return_days))",
    ),
    Constant(
        "weekly review",
        "simulation/model/model.py",
        "every 5 days",
        "People revise their time allocation and promise once per working week (design brief: "
        "effects over weeks).",
        "sim_day % 5 == 0",
    ),
    Constant(
        "exceptions count truncation",
        "simulation/model/deals.py",
        "support up to mean + 10 sd + 10",
        "Poisson inverse transform of each deal's own uniform; the cut-off leaves a negligible"
        " tail (the sampler equals scipy's Poisson ppf in tests/test_sampling.py).",
        "top + 10.0 * math.sqrt(top) + 10.0",
    ),
    Constant(
        "questions per answer round",
        "simulation/model/comms.py",
        "3",
        "Under channel_sla, batched questions go out in rounds of about three; each round waits "
        "one SLA. Assumption.",
        "/ 3.0)",
    ),
    Constant(
        "floor of questions and search",
        "simulation/model/information.py",
        "0.5 + asymmetry",
        "A thin package costs questions and search even with no asymmetry (half of it at "
        "asymmetry 0). Assumption.",
        "(0.5 + asymmetry)",
    ),
    Constant(
        "cap on cooperative effort",
        "simulation/model/incentives.py",
        "0.95 of the day",
        "However much teammates cooperate, core work and slack keep about 5% of free hours "
        "(before renormalising). Numerical guard.",
        "np.minimum(coop, 0.95)",
    ),
    Constant(
        "pull of a noisy tournament",
        "simulation/model/incentives.py",
        "1 / sqrt(1 + noise^2)",
        "Attribution of the silo-buster award falls with judging noise as signal over total "
        "spread (Lazear & Rosen 1981).",
        "1.0 / np.sqrt(1.0 + noise**2)",
    ),
    Constant(
        "deal complexity",
        "simulation/model/deals.py",
        "lognormal, mean 1, cv market.work_cv",
        "Scales the documentation a deal needs; shares the work spread. Assumption.",
        "np.array([value_mean, sell_hours, impl_hours, 1.0])",
    ),
    Constant(
        "customer patience and stale budget",
        "simulation/model/deals.py",
        "Exp(1)",
        "Each customer churns when its cumulative hazard passes an Exp(1) draw, and an "
        "opportunity goes stale when age x stale_hazard passes another; equivalent to the daily "
        "hazards, but fixed per deal for common random numbers.",
        "-np.log1p(-u[:, 6])  # Exp(1)",
    ),
)

#: Every constant listed in the document.
CONSTANTS: tuple[Constant, ...] = _module_constants() + INLINE_CONSTANTS


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, no line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _section_of(key: str) -> str:
    return key.split(".")[0] if "." in key else "run"


def _elasticity_rows() -> list[list[str]]:
    kinds = ("bookings", "delivery hours", "activated revenue", "observed help")
    rows = []
    for i, kind in enumerate(kinds):
        for role, matrix in (
            ("rep", incentives.ELASTICITY_REP),
            ("ops", incentives.ELASTICITY_OPS),
        ):
            rows.append(
                [
                    kind,
                    role,
                    *(_g(x) for x in matrix[i]),
                    _g(incentives.PROMISE_ELASTICITY[i]) if role == "rep" else "",
                ]
            )
    return rows


def render_assumptions() -> str:
    """The Markdown text of ``docs/ASSUMPTIONS.md``."""
    table = config.lever_table()
    calibrated = {c.key for c in CALIBRATED}
    out = [
        "# Assumptions",
        "",
        "<!-- Generated by `python tools/assumptions.py` from the code; do not edit by hand."
        " tests/test_docs.py fails when this file is stale. -->",
        "",
        "Every number the model uses, where it comes from and how sure we are of it. Scenario"
        " keys (levers) come first, one table per section of a scenario file, straight from the"
        " schema in `simulation/scenario/config.py` (the same data as `friction levers`). Then the"
        " constants a scenario cannot change, and which defaults were calibrated against the"
        " bands in design brief.",
        "",
        "How to read the *source* column: a citation is where the value or its range comes"
        " from; *brief* is the product brief; *assumption* is a modelling choice with no data"
        " behind it, a candidate for sensitivity analysis and for calibration to your own"
        " organisation; *calibrated* marks defaults tuned by hand so the baseline lands in the"
        " bands (see [Calibration](#calibration)). Ranges are the bounds the schema enforces.",
        "",
        "## Scenario keys",
        "",
        f"{len(table)} keys. Dotted keys are written as nested mappings in a scenario file"
        " (`incentives.weights.team` is `incentives: {weights: {team: ...}}`), in an"
        " intervention's `set:` as written, and on the command line as `--set key=value`.",
        "",
    ]
    for section, (title, blurb) in SECTIONS.items():
        rows = []
        for r in table:
            if _section_of(r["key"]) != section:
                continue
            source = r["source"]
            if r["key"] in calibrated and "calibrated" not in source:
                source += "; calibrated"
            rows.append(
                [
                    f"`{r['key']}`",
                    format_value(r["default"]),
                    r["unit"],
                    r["range"],
                    r["meaning"],
                    source,
                ]
            )
        if not rows:
            continue
        out += [f"### {title}", "", blurb, ""]
        out += _table(("key", "default", "unit", "range", "meaning", "source"), rows)
        out.append("")
    unplaced = sorted({_section_of(r["key"]) for r in table} - set(SECTIONS))
    if unplaced:  # a new schema section must get a title here, not silently vanish
        raise ValueError(f"schema sections without a title in SECTIONS: {', '.join(unplaced)}")

    out += [
        "## Model constants",
        "",
        "Numbers that are not scenario keys: changing one is a code change (and a *Model output"
        " change* in CHANGELOG.md). Promote one to a scenario key when it turns out to matter.",
        "",
        "### Named constants",
        "",
    ]
    out += _table(
        ("constant", "file", "value", "why / source"),
        [[f"`{c.name}`", f"`{c.where}`", c.value, c.why] for c in _module_constants()],
    )
    out += [
        "",
        "### Agents' beliefs about the production function",
        "",
        "`incentives.ELASTICITY_REP`, `incentives.ELASTICITY_OPS` and"
        " `incentives.PROMISE_ELASTICITY` (`simulation/model/incentives.py`): the effect people"
        " *believe* an hour on each task (or overselling a deal) has on each KPI a bonus"
        " component can measure, relative to an hour of core work on the KPI built for it. They"
        " shape the choice of hours only; whether quality work really lowers churn is decided by"
        " the simulated value stream. Assumption (Holmstrom & Milgrom 1991: measured tasks pull"
        " effort, unmeasured ones are crowded out).",
        "",
    ]
    out += _table(
        ("KPI a component measures", "role", *incentives.TASKS, "promise (reps)"),
        _elasticity_rows(),
    )
    out += [
        "",
        "### Numbers inside the code",
        "",
        "Literals in the daily schedule and the mechanism modules. tests/test_docs.py checks that"
        " each is still in the named file.",
        "",
    ]
    out += _table(
        ("what", "file", "value", "why / source"),
        [[c.name, f"`{c.where}`", c.value, c.why] for c in INLINE_CONSTANTS],
    )

    defaults = {r["key"]: r["default"] for r in table}
    out += [
        "",
        "## Calibration",
        "",
        "The design brief sets starting bands for the default baseline (siloed, 100% individual"
        " pay, chat-first, no gate); they come from surveys and the brief, not from one firm's"
        " data:",
        "",
        "- churn at handover 10-20% of closed-won customers (the brief quotes about 15%);",
        "- productivity loss 15-35% of paid hours;",
        "- win rate 35-55% of decided opportunities;",
        "- churn hazard front-loaded: highest in the first weeks after close.",
        "",
        "The defaults below were tuned by hand, jointly, until `scenarios/baseline.yaml` landed"
        " in these bands; nothing is fitted automatically. Evidence: the default changed between"
        " the schema skeleton (commit aa86d08) and the first running model (0b16435), or the key"
        " was added then. Being tuned to a band is not evidence that a value is right: these are"
        " the first keys to re-calibrate to your own organisation and to vary in a sensitivity"
        " analysis. Check the bands with `friction run scenarios/baseline.yaml --reps 20`.",
        "",
    ]
    out += _table(
        ("key", "default", "skeleton default", "tuned for"),
        [[f"`{c.key}`", format_value(defaults[c.key]), c.skeleton, c.target] for c in CALIBRATED],
    )
    out += [
        "",
        "The front-loading is a functional form: every churn hazard term is multiplied by"
        " `1 + churn_early_multiplier * exp(-age / churn_early_days)`, so a customer is most"
        " fragile in the first weeks after close (see docs/ODD.md, *Churn*); its two"
        " parameters were tuned with the others above.",
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Write the document, or with ``--check`` report whether it is stale (exit 1)."""
    parser = argparse.ArgumentParser(
        prog="python tools/assumptions.py",
        description="Generate docs/ASSUMPTIONS.md from the scenario schema and model constants.",
    )
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the file is out of date"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_PATH, help=f"default {DEFAULT_PATH}")
    args = parser.parse_args(argv)
    text = render_assumptions()
    path: Path = args.output
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            print(f"{path} is up to date")
            return 0
        diff = difflib.unified_diff(
            current.splitlines(), text.splitlines(), str(path), "render_assumptions()", lineterm=""
        )
        shown = list(diff)[:40]
        print(
            f"{path} is stale{'' if path.exists() else ' (missing)'}; regenerate it with "
            "'python tools/assumptions.py'",
            file=sys.stderr,
        )
        print("\n".join(shown), file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
