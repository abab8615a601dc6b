"""Sweep files and experimental designs: which scenarios a sweep runs, and with which seeds.

A sweep file names a base scenario and a set of *axes*; the axes are crossed with each other and
every combination (a *design point*) is run ``replications`` times. Four kinds of axis:

``key: [v1, v2, ...]``
    a grid over one public lever (``structure.team_size: [4, 8, 12]``).
``incentives.weights: {simplex: 0.1}``
    every bonus mix on a lattice of the weight simplex (286 mixes at 0.1); ``keep: faces`` keeps
    the mixes with at least one weight at zero, ``keep: interior`` the others, and ``fix`` pins
    components (``fix: {silo_buster: 0}``).
``label: {sample: lhs | sobol, n: N, ranges: {key: [low, high], ...}}``
    a space-filling sample over ranges of several levers at once (uncertain behaviour
    parameters): scrambled Sobol points or a Latin hypercube, seeded from the sweep seed.
``label: {points: [{key: value, ...}, ...]}``
    explicit linked settings (``structure.kind`` and ``structure.team_size`` together, because a
    pod of 12 is not a pod).

Everything is validated before any run: a malformed file, an unknown key, a value out of range
or a design point the scenario schema rejects raises :class:`SweepError` naming the field.

Seeds. Replication ``r`` of every design point uses the same seed,
``SeedSequence(entropy=seed, spawn_key=(r,))``: design points are compared on common random
numbers (a smoother map, sharper differences), and the seed of replication ``r`` equals the seed
``friction run --seed S`` gives its replication ``r``, so any single run can be rerun alone.
``common_random_numbers: false`` gives every run its own stream instead
(``spawn_key=(run_id,)``).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, field_validator

from simulation.batch.seeds import spawned_seed
from simulation.common.text import excerpt, refuse_controls
from simulation.scenario.config import (
    Float,
    Int,
    Scenario,
    StrictNumbers,
    describe_errors,
    lever_keys,
    set_dotted,
)
from simulation.scenario.loader import (
    ScenarioError,
    canonical_hash,
    load_scenario,
    locate,
    read_yaml,
    scenario_hash,
)

__all__ = [
    "WEIGHT_KEYS",
    "Design",
    "LazyPoints",
    "Point",
    "SweepAborted",
    "SweepError",
    "SweepSpec",
    "build_design",
    "check_one_currency",
    "count_points",
    "design_from_config",
    "design_point",
    "load_sweep",
    "run_seed",
    "simplex_mixes",
    "slug",
]

WEIGHTS = "incentives.weights"
WEIGHT_PARTS = ("individual", "team", "company", "silo_buster")
WEIGHT_KEYS = tuple(f"{WEIGHTS}.{p}" for p in WEIGHT_PARTS)
CURRENCY_KEY = "report.currency"  # one currency per comparison or sweep
MAX_RUNS = 1_000_000  # default run limit: a design this big is almost certainly a typo
DESIGN_SAMPLER_TAG = 0x5EED  # spawn key of the sampler's stream, apart from every run's seeds


class SweepError(ScenarioError):
    """A user error in a sweep file or sweep options (exit 2)."""


class SweepAborted(RuntimeError):
    """A sweep stopped before the end (a worker died); finished runs are saved (exit 1)."""


def _name_char(c: str) -> bool:
    return c in "-_" or unicodedata.category(c)[0] in "LNM"  # letters, digits, accents


def slug(text: str, max_len: int = 60) -> str:
    """A safe folder or file name: lower-case letters of any script, digits, ``-`` and ``_``.

    "Évaluation équipe" gives "évaluation-équipe" and "营销" stays "营销"; every run of other
    characters (path separators, dots, spaces, control characters) becomes one ``-``. Text is
    normalised (NFC) so a name typed on macOS and on Linux gives the same folder, and
    ``max_len`` counts UTF-8 bytes because file systems limit names in bytes. A name with no
    letter or digit ("🚀🔥", "---") gives ``unnamed-`` and a hash of it (the hash alone if
    ``max_len`` is under 16), so two such names do not share a folder.
    """
    text = unicodedata.normalize("NFC", text.lower())
    s = "".join(
        "".join(run) if keep else "-" for keep, run in itertools.groupby(text, key=_name_char)
    )
    s = s.strip("-_").encode("utf-8")[:max_len].decode("utf-8", errors="ignore")
    s = s.strip("-_")
    if s:
        return s
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"unnamed-{digest}" if max_len >= 16 else digest[:max_len]


# --------------------------------------------------------------------------------------------
# The sweep file
# --------------------------------------------------------------------------------------------


class _Strict(StrictNumbers):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimplexAxis(_Strict):
    simplex: Float = Field(gt=0, le=0.5, description="lattice step; 1/step must be a whole number")
    keep: Literal["all", "faces", "interior"] = "all"
    fix: dict[Literal["individual", "team", "company", "silo_buster"], Float] = Field(
        default_factory=dict
    )

    @field_validator("simplex")
    @classmethod
    def _divides_one(cls, step: float) -> float:
        n = round(1 / step)
        if abs(n * step - 1) > 1e-9:
            raise ValueError(f"1/step must be a whole number (0.1, 0.05, 0.25), got {step:g}")
        return step


class SampleAxis(_Strict):
    sample: Literal["lhs", "sobol"]
    n: Int = Field(ge=2, le=100_000)
    ranges: dict[str, tuple[Float, Float]] = Field(min_length=1)

    @field_validator("ranges")
    @classmethod
    def _ordered(cls, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for key, (lo, hi) in ranges.items():
            if not lo < hi:
                raise ValueError(
                    f"range of '{excerpt(key)}' must have low < high, got [{lo:g}, {hi:g}]"
                )
        return ranges


class PointsAxis(_Strict):
    points: list[dict[str, Any]] = Field(min_length=1)


class SweepSpec(_Strict):
    """A sweep file, validated (paths still relative to the file)."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    base: str = Field(min_length=1, description="scenario file, relative to the sweep file")
    replications: Int = Field(ge=1, le=10_000)
    seed: Int = Field(ge=0, lt=2**63)
    axes: dict[str, Any] = Field(min_length=1)
    daily: bool = False
    common_random_numbers: bool = True

    @field_validator("name")
    @classmethod
    def _printable_name(cls, v: str) -> str:
        return refuse_controls(v)


# --------------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One design point: the values it sets (dotted keys) and the scenario they give."""

    index: int
    values: dict[str, Any]
    scenario: Scenario


@dataclass
class Design:
    """A validated sweep: its points, seeds and the config that defines it."""

    name: str
    kind: Literal["sweep", "compare"]
    points: Sequence[Point]  # a list, or LazyPoints for a design rebuilt from a manifest
    replications: int
    seed: int
    columns: list[str]  # one column per axis key, in order
    config: dict[str, Any]  # everything that defines the runs (hashed for resume)
    daily: bool = False
    common_random_numbers: bool = True
    sources: dict[str, str] = field(default_factory=dict)  # files read, for the manifest

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replications

    @property
    def config_hash(self) -> str:
        return canonical_hash(self.config)

    def point_of(self, run_id: int) -> tuple[int, int]:
        """``(point index, replication)`` of a run id (runs are numbered point by point)."""
        return divmod(run_id, self.replications)

    def seed_of(self, run_id: int) -> int:
        _, rep = self.point_of(run_id)
        return run_seed(self.seed, run_id, rep, self.common_random_numbers)

    def values_of(self, point: int) -> dict[str, Any]:
        """The settings of a design point, without building its scenario when it is lazy."""
        if isinstance(self.points, LazyPoints):
            return self.points.values_of(point)
        return self.points[point].values


def run_seed(root: int, run_id: int, replication: int, common: bool = True) -> int:
    """The seed of one run: from the replication (common random numbers) or the run id."""
    return spawned_seed(root, replication if common else run_id)


def simplex_mixes(
    step: float, keep: str = "all", fix: Mapping[str, float] | None = None
) -> list[dict[str, float]]:
    """Every mix of the four weights on a lattice of ``step`` (exact fractions, then floats).

    ``step=0.1`` gives C(13, 3) = 286 mixes. Values are rounded from exact fractions, so each mix
    sums to 1 within float precision and 0.3 is 0.3, not 0.30000000000000004.
    """
    n = round(1 / step)
    fix = dict(fix or {})
    mixes = []
    for a in range(n, -1, -1):  # today's plan (all individual) first
        for b in range(n + 1 - a):
            for c in range(n + 1 - a - b):
                parts = (a, b, c, n - a - b - c)
                mix = {
                    name: float(round(Fraction(k, n), 12))
                    for name, k in zip(WEIGHT_PARTS, parts, strict=True)
                }
                zeros = sum(k == 0 for k in parts)
                if keep == "faces" and zeros == 0:
                    continue
                if keep == "interior" and zeros > 0:
                    continue
                if any(abs(mix[k] - v) > 1e-9 for k, v in fix.items()):
                    continue
                mixes.append(mix)
    return mixes


def _sample(axis: SampleAxis, seed: int, label: str) -> list[dict[str, float]]:
    from scipy.stats import qmc

    keys = list(axis.ranges)
    rng = np.random.default_rng(
        np.random.SeedSequence(entropy=seed, spawn_key=(DESIGN_SAMPLER_TAG,))
    )
    if axis.sample == "sobol":
        m = math.log2(axis.n)
        if m != int(m):
            raise SweepError(
                f"axes.{label}.n: a Sobol sample needs a power of two (16, 32, 64, ...) to keep "
                f"its balance, got {axis.n}; use sample: lhs for other sizes"
            )
        unit = qmc.Sobol(d=len(keys), scramble=True, rng=rng).random_base2(int(m))
    else:
        unit = qmc.LatinHypercube(d=len(keys), rng=rng).random(axis.n)
    lo = np.array([axis.ranges[k][0] for k in keys])
    hi = np.array([axis.ranges[k][1] for k in keys])
    scaled = qmc.scale(unit, lo, hi)
    return [{k: float(v) for k, v in zip(keys, row, strict=True)} for row in scaled]


def _check_keys(keys: list[str], where: str) -> None:
    public = set(lever_keys())
    for key in keys:
        if key not in public:
            close = sorted(k for k in public if k.split(".")[-1] == key.split(".")[-1])
            hint = (
                f"; did you mean {', '.join(close)}?"
                if close
                else ("; run 'friction levers' for the list")
            )
            raise SweepError(f"{where}: '{excerpt(key)}' is not a lever{hint}")


def _integer_keys() -> set[str]:
    from simulation.scenario.config import lever_table

    return {r["key"] for r in lever_table() if r["type"] == "int"}


def _axis_settings(
    label: str, axis: Any, seed: int, max_runs: int = MAX_RUNS
) -> list[dict[str, Any]]:
    """The settings (dotted key -> value) one axis takes, in order."""
    where = f"axes.{excerpt(label)}"
    if isinstance(axis, list):
        _check_keys([label], where)
        if not axis:
            raise SweepError(f"{where}: give at least one value")
        return [{label: v} for v in axis]
    if isinstance(axis, SimplexAxis):
        if label != WEIGHTS:
            raise SweepError(
                f"{where}: a simplex axis is only for '{WEIGHTS}' (the four bonus weights)"
            )
        n = round(1 / axis.simplex)
        if math.comb(n + 3, 3) > max_runs:
            raise SweepError(
                f"{where}.simplex: a step of {axis.simplex:g} gives {math.comb(n + 3, 3)} mixes, "
                f"more than the limit of {max_runs:,} runs; use a step of 0.01 or more"
            )
        mixes = simplex_mixes(axis.simplex, axis.keep, axis.fix)
        if not mixes:
            raise SweepError(f"{where}: keep/fix leave no mix on the simplex")
        return [{f"{WEIGHTS}.{k}": v for k, v in mix.items()} for mix in mixes]
    if isinstance(axis, SampleAxis):
        _check_keys(list(axis.ranges), f"{where}.ranges")
        ints = _integer_keys()
        rows = _sample(axis, seed, label)
        return [{k: (round(v) if k in ints else v) for k, v in row.items()} for row in rows]
    assert isinstance(axis, PointsAxis)
    keys = list(dict.fromkeys(k for p in axis.points for k in p))
    _check_keys(keys, f"{where}.points")
    for i, p in enumerate(axis.points):
        missing = [k for k in keys if k not in p]
        if missing:
            raise SweepError(
                f"{where}.points[{i}]: every point must set the same keys; missing "
                f"{excerpt(', '.join(missing[:5]))}"
            )
    return [dict(p) for p in axis.points]


AXIS_KINDS: dict[str, type[_Strict]] = {
    "simplex": SimplexAxis,
    "sample": SampleAxis,
    "points": PointsAxis,
}


def parse_axis(label: str, raw: Any) -> list[Any] | SimplexAxis | SampleAxis | PointsAxis:
    """One axis of a sweep file: a list of values, or a mapping naming its kind."""
    where = f"axes.{excerpt(label)}"
    if isinstance(raw, list):
        return raw
    if isinstance(raw, dict):
        kinds = [k for k in AXIS_KINDS if k in raw]
        if len(kinds) == 1:
            model = AXIS_KINDS[kinds[0]]
            try:
                return model.model_validate(raw)
            except ValidationError as exc:
                raise SweepError("; ".join(describe_errors(exc, model, where))) from None
    raise SweepError(
        f"{where}: expected a list of values ([4, 8, 12]) or a mapping with exactly one of "
        f"simplex:, sample: or points:, got {excerpt(raw)}"
    )


def _point_error(where: str, exc: Exception) -> SweepError:
    if isinstance(exc, ValidationError):
        detail = "; ".join(describe_errors(exc))
    else:
        detail = str(exc.args[0]) if exc.args else str(exc)
    return SweepError(f"{where}: {detail}")


def _simplex_count(axis: SimplexAxis) -> int:
    """How many mixes :func:`simplex_mixes` gives, by counting compositions (nothing built).

    The ``n = 1/step`` lattice units are shared by the weights; ``fix`` pins some of them, the
    ``m`` free weights share the ``r`` units left: C(r+m-1, m-1) ways with zeros allowed,
    C(r-1, m-1) with every weight positive (interior).
    """
    n = round(1 / axis.simplex)
    pinned = []
    for value in axis.fix.values():
        k = round(value * n)
        if abs(k / n - value) > 1e-9 or k < 0:
            return 0  # not on the lattice: simplex_mixes keeps nothing
        pinned.append(k)
    m, r = len(WEIGHT_PARTS) - len(pinned), n - sum(pinned)
    if r < 0 or (m == 0 and r > 0):
        return 0
    with_zeros = math.comb(r + m - 1, m - 1) if m else 1
    positive = (math.comb(r - 1, m - 1) if r >= m else 0) if m else 1
    if 0 in pinned:  # every mix already has a zero weight
        positive = 0
    if axis.keep == "interior":
        return positive
    if axis.keep == "faces":
        return with_zeros - positive
    return with_zeros


def count_points(spec: SweepSpec) -> int:
    """Design points of a sweep, counted from its axes without building any scenario.

    The product of the axes' lengths: a list's values, a sample's ``n``, the points listed,
    the simplex mixes. Cheap for any size, so a huge design is refused before it is built.
    """
    sizes = []
    for label, raw in spec.axes.items():
        axis = parse_axis(label, raw)
        if isinstance(axis, list):
            sizes.append(len(axis))
        elif isinstance(axis, SimplexAxis):
            sizes.append(_simplex_count(axis))
        elif isinstance(axis, SampleAxis):
            sizes.append(axis.n)
        else:
            sizes.append(len(axis.points))
    return math.prod(sizes)


def build_design(
    spec: SweepSpec,
    base: Scenario,
    sources: dict[str, str] | None = None,
    max_runs: int = MAX_RUNS,
    lazy: bool = False,
) -> Design:
    """Cross the axes and validate every design point against the scenario schema.

    Args:
        lazy: build each point only when it is asked for (a design rebuilt to check a folder).
    """
    n_points = count_points(spec)
    if n_points * spec.replications > max_runs:
        raise SweepError(
            f"axes: {n_points} design points x {spec.replications} replications = "
            f"{n_points * spec.replications:,} runs, more than the limit of {max_runs:,} runs; "
            "use a coarser grid or a sampled design"
        )
    per_axis, columns = sweep_axes(spec, max_runs)
    points: Sequence[Point]
    if lazy:
        points = LazyPoints(base, per_axis)
    else:
        points = []
        for index, combo in enumerate(itertools.product(*per_axis)):
            values: dict[str, Any] = {}
            for setting in combo:
                values.update(setting)
            points.append(_build_point(base, index, values))
    config = {
        "kind": "sweep",
        "name": spec.name,
        "spec": spec.model_dump(mode="json"),
        "base_scenario": base.model_dump(mode="json"),
        "base_hash": scenario_hash(base),
    }
    return Design(
        name=spec.name,
        kind="sweep",
        points=points,
        replications=spec.replications,
        seed=spec.seed,
        columns=columns,
        config=config,
        daily=spec.daily,
        common_random_numbers=spec.common_random_numbers,
        sources=dict(sources or {}),
    )


def sweep_axes(
    spec: SweepSpec, max_runs: int = MAX_RUNS
) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """The settings each axis of a sweep takes, in order, and the design's columns (one per
    key), once a lever set on two axes is refused."""
    per_axis = [
        _axis_settings(label, parse_axis(label, axis), spec.seed, max_runs)
        for label, axis in spec.axes.items()
    ]
    keys_by_axis = [list(dict.fromkeys(k for s in a for k in s)) for a in per_axis]
    for label, axis in zip(spec.axes, per_axis, strict=True):
        codes = {str(s[CURRENCY_KEY]).upper(): str(s[CURRENCY_KEY]) for s in axis
                 if CURRENCY_KEY in s}  # fmt: skip
        if len(codes) > 1:
            raise SweepError(
                f"axes.{excerpt(label)}: {CURRENCY_KEY} takes {len(codes)} values "
                f"({', '.join(excerpt(c, 12) for c in codes.values())}); the points of a sweep "
                "are compared with each other, so they must share one currency"
            )
    seen: dict[str, str] = {}
    for label, keys in zip(spec.axes, keys_by_axis, strict=True):
        for k in keys:
            if k in seen:
                raise SweepError(
                    f"axes.{excerpt(label)}: '{k}' is already set by axes.{excerpt(seen[k])}; "
                    "a lever can be on one axis only"
                )
            seen[k] = label
    return per_axis, [k for keys in keys_by_axis for k in keys]


def point_values(per_axis: Sequence[Sequence[dict[str, Any]]], index: int) -> dict[str, Any]:
    """The settings of design point ``index``, found by index arithmetic: the points are the
    axes crossed in ``itertools.product`` order (the last axis varies fastest)."""
    picks = []
    for settings in reversed(per_axis):
        index, i = divmod(index, len(settings))
        picks.append(settings[i])
    values: dict[str, Any] = {}
    for setting in reversed(picks):
        values.update(setting)
    return values


def _build_point(base: Scenario, index: int, values: dict[str, Any]) -> Point:
    """One design point: the base scenario with ``values`` set, validated."""
    data = base.model_dump()
    try:
        for key, value in values.items():
            set_dotted(data, key, value)
        scenario = Scenario.model_validate(data)
    except (ValidationError, KeyError, ValueError) as exc:
        shown = excerpt(", ".join(f"{k}={excerpt(v, 40)}" for k, v in values.items()), 200)
        raise _point_error(f"design point {index} ({shown})", exc) from None
    return Point(index=index, values=values, scenario=scenario)


class LazyPoints(Sequence[Point]):
    """The points of a sweep, each built when first asked for: checking a results folder
    needs one or two of them, not every one (a big sweep has hundreds of thousands)."""

    def __init__(self, base: Scenario, per_axis: list[list[dict[str, Any]]]) -> None:
        self.base = base
        self.per_axis = per_axis
        self._built: dict[int, Point] = {}

    def __len__(self) -> int:
        return math.prod(len(a) for a in self.per_axis)

    def values_of(self, index: int) -> dict[str, Any]:
        return point_values(self.per_axis, index)

    def __getitem__(self, index: int) -> Point:  # type: ignore[override]
        if not isinstance(index, int):
            raise TypeError("design points are looked up one at a time")
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index not in self._built:
            if len(self._built) >= 64:
                self._built.clear()
            self._built[index] = _build_point(self.base, index, self.values_of(index))
        return self._built[index]


def load_sweep(
    path: str | Path,
    replications: int | None = None,
    seed: int | None = None,
    daily: bool | None = None,
    max_runs: int = MAX_RUNS,
    check: Callable[[SweepSpec, Scenario], None] | None = None,
) -> Design:
    """Read, validate and expand a sweep file; options given here override the file's values.

    Args:
        max_runs: refuse a design of more runs than this.
        check: called with the validated file and base scenario before any design point is
            built (the command line refuses a request too big for this machine there).
    """
    path = Path(path)
    raw = read_yaml(path, kind="sweep", example="name: team size")
    if not any(str(key) in SweepSpec.model_fields for key in raw):
        # Probably another kind of file: never echo what it holds.
        raise SweepError(
            f"{path} is not a sweep file (expected a YAML mapping with the keys name, base, "
            "replications, seed and axes)"
        )
    for key, value in (("replications", replications), ("seed", seed), ("daily", daily)):
        if value is not None:
            raw[key] = value
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(describe_errors(exc, SweepSpec))
        raise SweepError(f"{path}: invalid sweep file: {detail}") from None
    try:
        base_path = locate(spec.base, path.parent, str(path), "base").resolve()
    except ScenarioError as exc:
        raise SweepError(str(exc)) from None
    base = load_scenario(base_path)
    try:
        if check is not None:
            check(spec, base)
        sources = {"sweep": str(path), "base": str(base_path)}
        return build_design(spec, base, sources=sources, max_runs=max_runs)
    except SweepError as exc:
        raise SweepError(f"{path}: {exc}") from None


def check_one_currency(currencies: Mapping[str, str]) -> None:
    """Plans compared with each other must state money in one currency.

    Raises:
        SweepError: naming ``report.currency`` and what each plan has.
    """
    if len({c.upper() for c in currencies.values()}) > 1:
        each = ", ".join(f"{excerpt(n, 40)} {c}" for n, c in currencies.items())
        raise SweepError(
            f"report.currency: the plans are in different currencies ({each}); plans compared "
            "with each other must share one currency, so set report.currency alike in each"
        )


def compare_design(
    scenarios: list[Scenario],
    replications: int,
    seed: int,
    labels: list[str] | None = None,
    sources: dict[str, str] | None = None,
) -> Design:
    """A comparison as a design: one point per scenario, all on the same seeds, daily series on."""
    named = labels is None
    labels = labels or [s.name for s in scenarios]
    # names that differ only in spaces read the same in every table and slide
    if len({" ".join(label.split()) for label in labels}) != len(labels):
        raise SweepError(
            f"scenarios: the names must differ to tell the results apart, got {', '.join(labels)}; "
            "give each scenario file its own name: key"
        )
    shown = [" ".join(s.label.split()).casefold() for s in scenarios]
    if named and len(set(shown)) != len(shown):
        raise SweepError(
            f"scenarios: the labels must differ to tell the plans apart on charts and slides, "
            f"got {', '.join(excerpt(s.label, 40) for s in scenarios)}; give each scenario file "
            "its own label: key"
        )
    check_one_currency({s.name: s.report.currency for s in scenarios})
    points = [
        Point(index=i, values={"scenario": label}, scenario=s)
        for i, (label, s) in enumerate(zip(labels, scenarios, strict=True))
    ]
    config = {
        "kind": "compare",
        "name": "compare",
        "scenarios": [s.model_dump(mode="json") for s in scenarios],
        "labels": labels,
        "replications": replications,
        "seed": seed,
    }
    return Design(
        name="-vs-".join(slug(x, 24) for x in labels),
        kind="compare",
        points=points,
        replications=replications,
        seed=seed,
        columns=["scenario"],
        config=config,
        daily=True,
        sources=dict(sources or {}),
    )


def design_from_config(config: dict[str, Any], n_runs: int | None = None) -> Design:
    """Rebuild a design from the config it recorded (``Design.config``, as a manifest holds it).

    The same code path as ``friction sweep`` and ``friction compare``, so the rebuilt design
    gives the same points and seeds and any recorded run can be run again from it. A sweep's
    points are built only when asked for (:class:`LazyPoints`).

    Args:
        n_runs: the runs the design is known to have (a manifest's): a config that gives
            another number is refused before anything is built, however big it claims to be.

    Raises:
        SweepError: the config does not describe a design (of ``n_runs`` runs).
    """
    try:
        if config["kind"] == "sweep":
            spec = SweepSpec.model_validate(config["spec"])
            counts = (count_points(spec), spec.replications)
        else:
            counts = (len(config["scenarios"]), int(config["replications"]))
        if n_runs is not None and counts[0] * counts[1] != n_runs:
            raise SweepError(
                f"it gives {counts[0]} design points x {counts[1]} replications, not the "
                f"{n_runs} runs recorded"
            )
        if config["kind"] == "sweep":
            # recorded designs were accepted under the limit in force then
            base = Scenario.model_validate(config["base_scenario"])
            design = build_design(spec, base, max_runs=sys.maxsize, lazy=True)
        else:
            scenarios = [Scenario.model_validate(s) for s in config["scenarios"]]
            design = compare_design(scenarios, int(config["replications"]), int(config["seed"]),
                                    labels=list(config["labels"]))  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:  # ValidationError is a ValueError
        detail = "; ".join(describe_errors(exc)) if isinstance(exc, ValidationError) else exc
        raise SweepError(f"the config does not describe a design ({detail})") from None
    return design


def design_point(config: dict[str, Any], index: int) -> Point:
    """One design point of a recorded config, built without building the others.

    Raises:
        SweepError: the config does not describe a design.
        IndexError: the design has no point ``index``.
    """
    return design_from_config(config).points[index]
