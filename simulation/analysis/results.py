"""Reading a results folder back: what was run, its per-run values, summaries and daily series.

A results folder is written by :mod:`simulation.batch.store` (``friction compare``, ``friction
sweep`` and ``friction diagnose``). Reports, notebooks and the CLI read it through
:func:`load_results`, which checks the folder is complete and says what is wrong when it is not."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.analysis.compare import compare_values, paired_difference, rank_plans, relabel
from simulation.analysis.guardrails import (
    best_of_k,
    calibration,
    check_plans,
    few_replications,
    friction_over_payroll,
    picked_difference,
    sweep_firm_axes,
)
from simulation.analysis.words import (
    CHOICES,
    best_level_line,
    comparison_bottom_line,
    mix_text,
    money_in,
    point_label,
    settings_phrase,
)
from simulation.batch.design import WEIGHT_KEYS, SweepError, slug
from simulation.batch.store import (
    POINTS,
    RUNS,
    open_finished,
    read_checked,
    read_ledger,
    read_manifest,
    write_json,
)
from simulation.common.formats import as_float, format_value
from simulation.model.metrics import KPIS, MISSION
from simulation.scenario.config import (
    DEFAULT_CURRENCY,
    Scenario,
    get_dotted,
    plain_label,
    same_value,
    set_dotted,
)
from simulation.scenario.levers import DEFAULT_RANK

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RESULTS",
    "Results",
    "ResultsError",
    "comparison",
    "describe_point",
    "finish_comparison",
    "load_results",
    "mix_label",
    "paired_differences",
    "results_folder",
    "save_comparison",
    "sweep_choice",
    "today_point",
    "written_results",
]

RESULTS = Path("results")  # default parent of results folders


def results_folder(out: str | Path | None, name: str, max_len: int = 60) -> Path:
    """``out`` when given, else the default folder of every command: ``results/<slug of name>``.

    ``max_len`` bounds the folder name in bytes (see :func:`simulation.batch.design.slug`).
    """
    return Path(out) if out else RESULTS / slug(name, max_len)


class ResultsError(ValueError):
    """A results folder that cannot be read as asked (a user error: exit 2)."""


def describe_point(values: dict[str, Any]) -> str:
    """A design point in a few words: a bonus mix as 40/30/20/10, other levers as key=value."""
    parts = []
    if all(k in values for k in WEIGHT_KEYS):
        parts.append(f"mix {mix_label(values)}")
    parts += [
        f"{k.rsplit('.', 1)[-1]}={format_value(v)}"
        for k, v in values.items()
        if k not in WEIGHT_KEYS
    ]
    return ", ".join(parts)


def mix_label(values: dict[str, Any]) -> str:
    """A bonus mix as people write it, individual/team/company/silo-buster in %: 40/30/20/10."""
    return mix_text(values)


@dataclass
class Results:
    """A finished results folder: its manifest and tables, with the design's labels."""

    path: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame  # one row per run (run_id, point, replication, seed, axes, values)
    points: pd.DataFrame  # one row per design point: <value>_mean/_ci_low/_ci_high, n, axes
    checksums: dict[str, str] = field(default_factory=dict)  # the ledger's, of each table

    @property
    def kind(self) -> str:
        """``"compare"`` (scenarios on the same seeds) or ``"sweep"`` (a design over levers)."""
        return self.manifest["kind"]

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def axes(self) -> list[str]:
        """Axis columns of the design (``["scenario"]`` for a comparison)."""
        return list(self.manifest["design"]["columns"])

    @property
    def replications(self) -> int:
        return int(self.manifest["design"]["replications"])

    @property
    def seed(self) -> int:
        return int(self.manifest["seeds"]["root_entropy"])

    @property
    def n_points(self) -> int:
        return int(self.manifest["design"]["n_points"])

    @property
    def has_simplex(self) -> bool:
        """True when the design varies the bonus mix (all four weights are axes)."""
        return all(k in self.axes for k in WEIGHT_KEYS)

    @property
    def has_daily(self) -> bool:
        return (self.path / "daily.parquet").is_file()

    @cached_property
    def daily(self) -> pd.DataFrame | None:
        """Daily series of every run (``None`` when the sweep did not record them)."""
        if not self.has_daily:
            return None
        try:
            table = read_checked(self.path / "daily.parquet", self.checksums.get("daily.parquet"))
        except SweepError as exc:
            raise ResultsError(str(exc)) from None
        return table.to_pandas()

    @cached_property
    def by_point(self) -> pd.DataFrame:
        """``points`` indexed by design point."""
        return self.points.set_index("point")

    @cached_property
    def labels(self) -> list[str]:
        """One short name per design point, in point order: a comparison's scenario names (its
        ``scenario`` column), a sweep point's settings. For machines; people read
        :attr:`plan_labels`."""
        values = self.manifest["design"]["points"]
        if self.kind == "compare":
            return [str(v["scenario"]) for v in values]
        return [describe_point(v) for v in values]

    @cached_property
    def plan_labels(self) -> list[str]:
        """One plain-words label per design point, for people: a comparison's scenario labels
        (its names where two share a label), a sweep point's settings in words ('40/30/20/10,
        squads of 8')."""
        if self.kind == "compare":
            labels = [self.scenario_label(p) for p in range(self.n_points)]
            seen = [" ".join(x.split()).casefold() for x in labels]
            return [x if seen.count(k) == 1 else self.labels[p]
                    for p, (x, k) in enumerate(zip(labels, seen, strict=True))]  # fmt: skip
        labels = [
            point_label(self.point_values(p), self.scenario_config(p)) for p in range(self.n_points)
        ]
        counts: dict[str, int] = {}
        for x in labels:
            counts[x] = counts.get(x, 0) + 1
        return [x if counts[x] == 1 else f"{x} (design {p + 1})" for p, x in enumerate(labels)]

    def scenario_label(self, point: int) -> str:
        """The label of the scenario a design point ran (its name in plain words in a folder
        written before scenarios had labels); a comparison given its own names for the plans
        (``compare(labels=...)``) shows those."""
        s = self.scenario_config(point)
        name = str(s.get("name", "scenario"))
        if self.kind == "compare" and self.labels[point] != name:
            return self.labels[point]
        return str(s.get("label") or plain_label(name))

    @property
    def currency(self) -> str:
        """The ISO 4217 code of every money figure (one per folder: compare and sweep refuse
        plans in different currencies)."""
        return str(self.scenario_config(0).get("report", {}).get("currency", DEFAULT_CURRENCY))

    def point_values(self, point: int) -> dict[str, Any]:
        """The axis values of a design point."""
        return dict(self.manifest["design"]["points"][point])

    def scenario_config(self, point: int) -> dict[str, Any]:
        """The scenario a design point ran (as a plain dict): a compare's scenario, or a sweep's
        base scenario with the point's values set."""
        config = self.manifest["config"]
        if self.kind == "compare":
            return config["scenarios"][point]
        data = json.loads(json.dumps(config["base_scenario"]))
        for key, value in self.point_values(point).items():
            set_dotted(data, key, value)
        return data

    def rollouts(self, point: int) -> list[tuple[int, str]]:
        """Roll-out days of a design point (measured days): interventions and coaching start."""
        s = self.scenario_config(point)
        days = [(int(iv["day"]), str(iv.get("label") or settings_phrase(iv["set"])))
                for iv in s["interventions"]]  # fmt: skip
        coaching = s["coaching"]
        if coaching["program"] != "none" and coaching["start_day"] > 0:
            program = CHOICES.get(("coaching.program", coaching["program"]), "coaching")
            days.append((int(coaching["start_day"]), f"{program} starts"))
        return sorted(days)

    def values(self, name: str) -> pd.DataFrame:
        """A value by point and replication: rows are replications, columns are points."""
        return self.runs.pivot(index="replication", columns="point", values=name)


def load_results(path: str | Path) -> Results:
    """Open a finished results folder, once it is checked (see
    :func:`simulation.batch.store.open_finished`: checksums, the manifest against its config hash
    and its runs, and a run or two run again from the manifest).

    Raises:
        ResultsError: the folder is missing, is not a results folder, is not finished, or a
            file in it was changed since friction wrote it.
    """
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"results folder '{path}' not found (give the folder a compare or sweep "
                           "wrote, e.g. results/demo)")  # fmt: skip
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise ResultsError(
            f"'{path}' is not a results folder: it has no manifest.json (results folders are "
            "written by friction compare, sweep or diagnose)"
        )
    try:
        manifest, runs, points, checksums = open_finished(path)
    except SweepError as exc:
        raise ResultsError(str(exc)) from None
    return Results(path=path, manifest=manifest, runs=runs.to_pandas(), points=points.to_pandas(),
                   checksums=checksums)  # fmt: skip


def written_results(path: str | Path) -> Results:
    """A results folder this process has just finished writing, read back with its checksums
    checked but no run run again (:func:`load_results` does that once, for a reader that did
    not write the folder).

    Raises:
        ResultsError: a file of the folder is missing or not the one the ledger recorded.
    """
    path = Path(path)
    try:
        files = read_ledger(path).get("files") or {}
        manifest = read_manifest(path)
        runs = read_checked(path / RUNS, files.get(RUNS))
        points = read_checked(path / POINTS, files.get(POINTS))
    except SweepError as exc:
        raise ResultsError(str(exc)) from None
    return Results(path=path, manifest=manifest, runs=runs.to_pandas(), points=points.to_pandas(),
                   checksums=files)  # fmt: skip


def comparison(results: Results) -> dict[str, Any]:
    """Paired comparison of a compare folder against its first scenario (see
    :func:`simulation.analysis.compare.compare_values`); every replication of every scenario is
    needed."""
    if results.kind != "compare":
        raise ResultsError(f"{results.path}: a paired comparison needs a compare folder, "
                           f"this one holds a {results.kind}")  # fmt: skip
    labels = results.manifest["config"]["labels"]
    kpis = list(KPIS)
    runs = results.runs
    reps = sorted(runs["replication"].unique().tolist())
    values: dict[str, dict[str, list[float]]] = {}
    for label in labels:
        rows = runs[runs["scenario"] == label].set_index("replication")
        missing = [i for i in reps if i not in rows.index]
        if missing:
            raise ResultsError(
                f"{results.path}: scenario '{label}' has no result for replication(s) {missing} "
                "(failed runs); a paired comparison needs every replication of every scenario"
            )
        values[label] = {k: [as_float(rows.at[i, k]) for i in reps] for k in kpis}
    seeds = runs.drop_duplicates("replication").sort_values("replication")["seed"].tolist()
    shown = dict(zip(labels, results.plan_labels, strict=True))
    configs = {shown[label]: results.scenario_config(i) for i, label in enumerate(labels)}
    with money_in(results.currency):
        result = compare_values(values, labels, kpis, [int(s) for s in seeds], shown=shown)
        means = {k: as_float(result["summaries"][labels[0]][k]["mean"]) for k in kpis}
        result["guardrails"] = check_plans(configs, shown[labels[0]], means, len(seeds))
    result["currency"] = results.currency
    result["seed"] = results.seed
    result["results"] = str(results.path)
    return result


def paired_differences(
    results: Results,
    reference: int = 0,
    points: list[int] | None = None,
    kpis: list[str] | None = None,
    picked_of: int | None = None,
    prefix: str = "",
) -> pd.DataFrame:
    """Paired differences of design points from a reference point, one row per point and KPI.

    ``prefix`` reads another window of the runs (``"after_rollout_"``: the year after the first
    roll-out) for every KPI the runs measure there; the row's ``kpi`` stays the KPI's name.

    Replication ``r`` of every point ran on the same seed (common random numbers), so each
    point is compared with the reference replication by replication (see
    :func:`simulation.analysis.compare.paired_difference`). With ``picked_of``, each point is
    one picked as the best of that many designs, and its interval and chance are widened for
    the pick (:func:`simulation.analysis.guardrails.picked_difference`).

    Returns:
        Columns ``point, label, kpi, n, base_mean, mean, diff, ci_low, ci_high, relative,
        p_better`` (and ``picked_of``, ``confidence``, ``p_better_unadjusted`` when picked);
        the reference itself is left out.

    Raises:
        ResultsError: the runs do not share seeds across points, so pairing is meaningless.
    """
    import pandas as pd

    if not results.manifest["seeds"].get("common_random_numbers", True):
        raise ResultsError(f"{results.path}: the design points do not share seeds "
                           "(common_random_numbers: false), so they cannot be paired")  # fmt: skip
    kpis = list(kpis or KPIS)
    points = [p for p in (points if points is not None else range(results.n_points))
              if p != reference]  # fmt: skip
    rows = []
    for name in kpis:
        column = prefix + name
        measured = column in results.runs.columns and results.runs[column].notna().any()
        table = results.values(column if measured else name)
        base = table[reference]
        for p in points:
            better = KPIS[name].better
            if picked_of:
                d = picked_difference(base.to_numpy(), table[p].to_numpy(), better, picked_of)
            else:
                d = paired_difference(base.to_numpy(), table[p].to_numpy(), better)
            rows.append({"point": p, "label": results.labels[p], "kpi": name, **d})
    return pd.DataFrame(rows)


def today_point(results: Results) -> int | None:
    """The design point that is today's set-up: a compare's first scenario, or the sweep point
    whose values equal its base scenario's (``None`` if the sweep never ran the base)."""
    if results.kind == "compare":
        return 0
    base = Scenario.model_validate(results.manifest["config"]["base_scenario"])
    for p in range(results.n_points):
        if all(same_value(get_dotted(base, k), v) for k, v in results.point_values(p).items()):
            return p
    return None


def sweep_choice(
    results: Results,
    reference: int | None,
    labels: Mapping[int, str] | None = None,
    rank_by: str = DEFAULT_RANK,
) -> dict[str, Any] | None:
    """The design a sweep names first, and its bottom line and guardrails.

    Designs are ranked by ``rank_by`` with no design named before one that beats it on every
    mission KPI (:func:`simulation.analysis.compare.rank_plans`, every design on the same
    seeds). The first (or, when it is ``reference``, the best alternative) is compared with the
    reference as one picked from all the designs: its intervals are widened for the pick.

    Returns:
        ``None`` for a sweep of one design; else ``rank_by``, ``ranking`` (by label),
        ``reference`` (label or ``None``), ``picked_of``, ``differences`` (``{label: {kpi:
        paired difference}}`` of the design shown), ``bottom_line`` and ``guardrails``.
    """
    k = results.n_points
    if k < 2:
        return None
    names = dict(labels) if labels is not None else dict(enumerate(results.plan_labels))
    with money_in(results.currency):
        return _sweep_choice(results, reference, names, rank_by)


def _sweep_choice(
    results: Results, reference: int | None, names: Mapping[int, str], rank_by: str
) -> dict[str, Any]:
    k = results.n_points
    mission = [m for m in MISSION if m in KPIS]
    tables = {kpi: results.values(kpi) for kpi in dict.fromkeys((rank_by, *mission))}
    values = {p: {kpi: t[p].tolist() for kpi, t in tables.items()} for p in range(k)}
    ranking = rank_plans(values, rank_by, mission, limit=2)
    named = relabel(ranking, names)
    out: dict[str, Any] = {
        "rank_by": rank_by,
        "ranking": named,
        "picked_of": k,
        "differences": {},
        "guardrails": _sweep_guardrails(results, reference, names),
    }
    first = ranking["first"]
    if reference is None or first is None:
        out["reference"] = None
        row = results.by_point.loc[first] if first is not None else None
        out["bottom_line"] = best_level_line(names.get(first), row, rank_by, k)
        return out
    shown = first if first != reference else ranking["runner_up"]
    diffs = paired_differences(results, reference, [shown], list(KPIS), picked_of=k)
    out["reference"] = names[reference]
    out["differences"] = {names[shown]: {r["kpi"]: r for r in diffs.to_dict(orient="records")}}
    out["bottom_line"] = comparison_bottom_line(named, out["differences"], names[reference], k)
    return out


def _sweep_guardrails(
    results: Results, reference: int | None, names: Mapping[int, str]
) -> list[dict[str, Any]]:
    """A sweep's guardrails: axes that change the firm or market, the reference plan out of
    its bands or with friction above payroll, few replications, the best picked from many."""
    found = [sweep_firm_axes(results.axes)]
    if reference is not None:
        row = results.by_point.loc[reference]
        means = {kpi: as_float(row.get(f"{kpi}_mean")) for kpi in KPIS}
        label = names[reference]
        found += calibration(means, label)
        found.append(friction_over_payroll(means, results.scenario_config(reference), label))
    found.append(few_replications(results.replications))
    found.append(best_of_k(results.n_points, results.replications))
    return [g for g in found if g is not None]


def finish_comparison(folder: Path) -> dict[str, Any]:
    """Compute a finished compare folder's paired comparison and save ``comparison.json``."""
    return save_comparison(load_results(folder))


def save_comparison(results: Results) -> dict[str, Any]:
    """The paired comparison of an open compare folder, saved as its ``comparison.json``."""
    result = comparison(results)
    write_json(results.path / "comparison.json", result)
    return result
