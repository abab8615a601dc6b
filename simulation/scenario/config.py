"""Scenario schema: every input of the model, typed, bounded, with unit and source.

The schema is the public contract of a scenario file. Each field carries its unit and the
source of its default (``json_schema_extra``), so ``friction levers`` and ``docs/ASSUMPTIONS.md``
are generated from one place. Unknown keys are refused (``extra="forbid"``) and every check
reports the dotted path of the field it concerns.

This module does no I/O: reading YAML, ``extends:`` and ``--set`` live in ``simulation.scenario.loader``.
"""

from __future__ import annotations

import math
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from simulation.common.text import LAYOUT, excerpt, refuse_controls

WEIGHT_TOLERANCE = 1e-6

#: Largest amount of money any field takes: room for every currency (a salary of 1e12 yen is
#: still far above any real one), far below where float arithmetic loses cents or overflows.
MONEY_MAX = 1e12

#: Most problems one error message lists; the rest are counted.
MAX_PROBLEMS = 10


def _is_number(annotation: Any) -> bool:
    """True for ``int``, ``float`` and ``float | None`` fields (not ``bool``)."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return bool(args) and all(a in (int, float) for a in args)
    return False


#: Keys an intervention may not change: they size the run itself.
FIXED_AT_START = ("org", "horizon_days", "warmup_days", "name", "description")

#: Allowed team sizes per structure kind (inclusive). Silo team size is the size of a functional
#: team under one manager; the others are cross-functional units (design brief: pod 3-5, squad 6-10,
#: tribe 10-15).
TEAM_SIZE_RANGE: dict[str, tuple[int, int]] = {
    "silo": (3, 20),
    "pod": (3, 5),
    "squad": (6, 10),
    "tribe": (10, 15),
}

#: Default decision authority per kind: probability that an exception is settled inside the team
#: instead of escalating to a manager (design brief: pod limited, squad moderate, tribe high).
DEFAULT_AUTHORITY: dict[str, float] = {"silo": 0.2, "pod": 0.4, "squad": 0.6, "tribe": 0.8}


def P(default: Any, unit: str, source: str, description: str, **bounds: Any) -> Any:
    """A documented parameter: default, unit, source of the default and meaning."""
    return Field(
        default,
        description=description,
        json_schema_extra={"unit": unit, "source": source},
        **bounds,
    )


class NoBool:
    """Marks a number field that refuses ``true``/``false``; the check runs in pydantic's core.

    YAML reads ``true`` and ``yes`` as booleans, and pydantic would take them as 1 for a
    number. The field's schema becomes a chain: first "an int, a float, a text or null, as
    given" (strict, so a bool matches none of them), then the field's own lax number schema
    with its bounds, which reads ``40`` as ``40.0`` for a float, ``"40"`` as 40 and ``8.0`` as 8
    for an int, exactly as before. No Python runs per value, so validating a scenario stays
    cheap (sweeps validate thousands).
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        number = handler(source)
        as_given = core_schema.union_schema(
            [
                core_schema.int_schema(strict=True),
                # infinities pass here so the field's own schema reports them as such
                core_schema.float_schema(strict=True, allow_inf_nan=True),
                core_schema.str_schema(strict=True),
                core_schema.none_schema(),
            ],
            mode="left_to_right",
            custom_error_type="int_type" if source is int else "float_type",
        )
        return core_schema.chain_schema([as_given, number])

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The JSON schema of the number and its bounds (the guard adds nothing to show)."""
        return handler(schema["steps"][-1])


#: Number types of every schema field: ``x: Float = ...``; ``true``/``false`` are refused.
Float = Annotated[float, NoBool()]
Int = Annotated[int, NoBool()]
OptionalFloat = Annotated[float | None, NoBool()]


class StrictNumbers(BaseModel):
    """Numbers are finite numbers: not ``.inf``/``.nan`` and not ``true``/``false``.

    An infinite salary would run and silently produce no KPIs. Every ``int``/``float`` field of
    a subclass must be declared :data:`Int`, :data:`Float` or :data:`OptionalFloat` (checked
    when the class is defined), which refuse ``true``/``false`` at the field's own path.
    """

    model_config = ConfigDict(allow_inf_nan=False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            if _is_number(field.annotation) and not any(
                isinstance(m, NoBool) for m in field.metadata
            ):
                raise TypeError(
                    f"{cls.__name__}.{name}: declare numbers as Int, Float or OptionalFloat, "
                    "which refuse true/false"
                )


class Section(StrictNumbers):
    """Base for every scenario section: unknown keys are errors, values are validated on set."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Org(Section):
    sales_reps: Int = P(
        40, "people", "mid-market B2B firm; brief", "Number of sales reps.", ge=2, le=2000
    )
    ops_staff: Int = P(
        30,
        "people",
        "mid-market B2B firm; brief",
        "Number of operations (onboarding/implementation) staff.",
        ge=2,
        le=2000,
    )
    rep_salary: Float = P(
        85_000.0,
        "currency/year",
        "typical B2B account executive base",
        "Annual base salary of a rep.",
        gt=0,
        le=MONEY_MAX,
    )
    ops_salary: Float = P(
        70_000.0,
        "currency/year",
        "typical implementation specialist",
        "Annual base salary of an ops staff member.",
        gt=0,
        le=MONEY_MAX,
    )
    loaded_cost_factor: Float = P(
        1.3,
        "x salary",
        "employer on-costs ~30%",
        "Loaded cost per paid hour as a multiple of salary per hour.",
        ge=1,
        le=3,
    )


class Structure(Section):
    kind: Literal["silo", "pod", "squad", "tribe"] = P(
        "silo",
        "-",
        "brief",
        "silo: two functional departments with a pooled ops queue; pod/squad/tribe: cross-functional teams, each with its own ops queue.",
    )
    team_size: Int = P(
        8,
        "people",
        "span of control 6-10; design brief ranges",
        "People per team; checked against the kind's range (silo 3-20, pod 3-5, squad 6-10, tribe 10-15).",
        ge=2,
        le=50,
    )
    decision_authority: OptionalFloat = P(
        None,
        "probability",
        "design brief: pod limited, squad moderate, tribe high",
        "Share of exceptions settled inside the team; empty = the kind's default (silo 0.2, pod 0.4, squad 0.6, tribe 0.8).",
        ge=0,
        le=1,
    )
    escalation_days: Float = P(
        3.0,
        "days",
        "assumption: one manager review cycle",
        "Delay to settle an exception escalated to a manager, before any backlog.",
        ge=0,
        le=60,
    )
    escalations_per_day: Float = P(
        8.0,
        "exceptions/day",
        "assumption: two managers, ~4 decisions/day each",
        "Escalated exceptions managers can settle per day; beyond that a backlog builds.",
        gt=0,
        le=1000,
    )
    coordination_minutes_per_link: Float = P(
        2.5,
        "minutes/link/day",
        "Brooks 1975: n(n-1)/2 channels; assumption for size",
        "Daily coordination time each person spends per communication link in their team.",
        ge=0,
        le=60,
    )
    context_build_days: Float = P(
        60.0,
        "days",
        "Carlile 2004; assumption",
        "Time constant for a cross-functional team to build shared context.",
        gt=0,
        le=2000,
    )
    context_max_reduction: Float = P(
        0.6,
        "share",
        "assumption",
        "Largest share of information asymmetry that shared context removes.",
        ge=0,
        le=1,
    )
    transition_days: Int = P(
        20,
        "days",
        "assumption: reorganisation dip of about a month",
        "Length of the productivity dip after a change of structure.",
        ge=0,
        le=250,
    )
    transition_hours: Float = P(
        1.0,
        "hours/person/day",
        "assumption",
        "Extra coordination hours on the first day of a reorganisation, falling linearly to 0.",
        ge=0,
        le=8,
    )

    @model_validator(mode="after")
    def _team_size_in_kind_range(self) -> Structure:
        lo, hi = TEAM_SIZE_RANGE[self.kind]
        if not lo <= self.team_size <= hi:
            raise ValueError(
                f"team_size {self.team_size} is outside the range for kind '{self.kind}' "
                f"({lo}-{hi}); ranges: "
                + ", ".join(f"{k} {a}-{b}" for k, (a, b) in TEAM_SIZE_RANGE.items())
            )
        return self

    @property
    def authority(self) -> float:
        if self.decision_authority is not None:
            return self.decision_authority
        return DEFAULT_AUTHORITY[self.kind]


class Weights(Section):
    individual: Float = P(
        1.0,
        "share",
        "brief: today's plan is 100% individual",
        "Weight on the individual KPI (reps: own bookings, or activations with incentives.rep_measure; ops: own delivery hours).",
        ge=0,
        le=1,
    )
    team: Float = P(
        0.0,
        "share",
        "brief",
        "Weight on the team KPI (silo: functional team; cross-functional: team activated revenue).",
        ge=0,
        le=1,
    )
    company: Float = P(0.0, "share", "brief", "Weight on company activated revenue.", ge=0, le=1)
    silo_buster: Float = P(
        0.0,
        "share",
        "brief",
        "Weight on the discretionary award for observed cross-department help.",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _sum_to_one(self) -> Weights:
        total = self.individual + self.team + self.company + self.silo_buster
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise ValueError(
                f"weights must sum to 1; individual {self.individual:g} + team {self.team:g} + "
                f"company {self.company:g} + silo_buster {self.silo_buster:g} = {total:.10g}"
            )
        return self

    def as_array(self) -> list[float]:
        return [self.individual, self.team, self.company, self.silo_buster]


class Incentives(Section):
    weights: Weights = Field(
        default_factory=Weights, description="Bonus mix; fractions summing to 1."
    )
    rep_measure: Literal["bookings", "activation"] = P(
        "bookings",
        "-",
        "brief: reps are paid on closed deals today; design brief: owner accountable for activation",
        "What a rep's individual KPI counts: closed-won value (bookings) or value of customers activated (activation).",
    )
    bonus_pool: Float = P(
        0.20,
        "share of salary",
        "WorldatWork sales comp surveys: 15-30% variable",
        "Bonus paid at 100% of target, as a share of salary.",
        ge=0,
        le=2,
    )
    silo_buster_noise: Float = P(
        0.5,
        "sd ratio",
        "assumption; Lazear & Rosen 1981 tournaments",
        "Judging noise of the silo-buster award, relative to the spread of true help.",
        ge=0,
        le=10,
    )
    silo_buster_winners: Float = P(
        0.2,
        "share",
        "assumption",
        "Share of staff who receive the silo-buster award each payout period.",
        gt=0,
        le=1,
    )
    payout_cap: Float = P(
        2.0,
        "x target",
        "common plan design: cap at 200%",
        "Largest payout of one component as a multiple of its target.",
        ge=1,
        le=10,
    )
    payout_period_days: Int = P(
        21, "days", "monthly payout", "Working days between bonus payouts.", ge=5, le=250
    )


class Handover(Section):
    mvh: bool = P(
        False,
        "-",
        "brief",
        "Minimum Viable Handoff gate: a package below the threshold is returned to the rep.",
    )
    mvh_threshold: Float = P(
        0.7,
        "completeness",
        "assumption",
        "Completeness a package must reach to pass the gate.",
        ge=0,
        le=1,
    )
    compliance: Float = P(
        1.0,
        "probability",
        "Urbach et al. 2014: checklists are often box-ticked",
        "Probability the gate check is done for real; otherwise it passes with no better information.",
        ge=0,
        le=1,
    )
    red_flag: bool = P(
        False,
        "-",
        "brief",
        "Ops check each package at intake and return one below mvh_threshold to the rep instead of searching (always a real check).",
    )
    auto_trigger: bool = P(
        False, "-", "brief", "CRM triggers the handover at close: no manual queue delay."
    )
    owner: bool = P(
        False,
        "-",
        "brief",
        "A named handoff owner (the rep) follows each customer to activation: chases stalled answers and keeps contact, at owner_hours_per_week. Pay is unchanged; combine with incentives.rep_measure: activation to make the owner paid on activation.",
    )
    manual_trigger_days: Float = P(
        3.0,
        "days",
        "assumption",
        "Mean delay before a rep triggers a manual handover.",
        ge=0,
        le=60,
    )
    gate_minutes: Float = P(
        20.0,
        "minutes/handover",
        "assumption",
        "Rep time to fill in the gate checklist.",
        ge=0,
        le=480,
    )
    return_days: Float = P(
        2.0, "days", "assumption", "Delay added when a package is returned to the rep.", ge=0, le=60
    )
    fix_factor: Float = P(
        1.5,
        "x",
        "assumption: redoing a package after the fact is slower than writing it while selling",
        "Rep hours to fix a returned package, as a multiple of the documentation hours its completeness curve needs to reach the threshold.",
        ge=0,
        le=20,
    )
    red_flag_detection: Float = P(
        0.8,
        "probability",
        "assumption: ops spot most thin packages at intake, not all",
        "Chance that ops notice an incomplete package at intake and raise a red flag.",
        ge=0,
        le=1,
    )
    review_minutes: Float = P(
        10.0,
        "minutes/package",
        "assumption",
        "Ops time to review each incoming package for red flags.",
        ge=0,
        le=480,
    )
    owner_hours_per_week: Float = P(
        0.5,
        "hours/deal/week",
        "assumption",
        "Owner follow-up time per deal awaiting activation.",
        ge=0,
        le=40,
    )
    owner_answer_speedup: Float = P(
        0.5,
        "share",
        "assumption",
        "Share of answer delay removed when an owner chases a stalled question.",
        ge=0,
        le=1,
    )
    owner_contact_effect: Float = P(
        0.3,
        "share",
        "assumption; customer success practice",
        "Reduction of the waiting part of churn hazard when a named owner keeps contact.",
        ge=0,
        le=1,
    )


class Comms(Section):
    strategy: Literal["chat_first", "channel_sla"] = P(
        "chat_first",
        "-",
        "brief",
        "chat_first: every message interrupts; channel_sla: only urgent traffic on chat, the rest batched with answer SLAs.",
    )
    chatter_per_day: Float = P(
        4.0,
        "messages/person/day",
        "assumption; Mark et al. 2008",
        "Non-deal chat messages each person receives per day.",
        ge=0,
        le=200,
    )
    handling_minutes: Float = P(
        3.0, "minutes/message", "assumption", "Time to read and answer one message.", ge=0, le=120
    )
    resumption_minutes: Float = P(
        15.0,
        "minutes",
        "Mark, Gudith & Klocke 2008 (10-25 min)",
        "Time to get back into deep work after an interruption.",
        ge=0,
        le=120,
    )
    deep_work_share: Float = P(
        0.5,
        "share",
        "assumption",
        "Share of working time spent in deep work, where an interruption costs resumption time.",
        ge=0,
        le=1,
    )
    urgent_share: Float = P(
        0.2,
        "share",
        "assumption",
        "Share of traffic urgent enough to stay on chat under channel_sla.",
        ge=0,
        le=1,
    )
    sla_answer_days: Float = P(
        1.0,
        "days",
        "brief: project tool 24 h, email 24-48 h",
        "Mean wait for an answer sent through a batched channel.",
        ge=0,
        le=10,
    )
    batch_handling_factor: Float = P(
        0.8,
        "x",
        "assumption: batching is slightly cheaper",
        "Handling time of a batched message relative to a chat message.",
        ge=0,
        le=2,
    )
    stress_rework: Float = P(
        0.015,
        "per interruption/day",
        "Mark et al. 2008: interruptions raise stress and errors",
        "Extra rework, as a share of a deal's implementation work, per interruption an ops person took the day before.",
        ge=0,
        le=1,
    )
    status_request_rate: Float = P(
        0.15,
        "messages/customer/day",
        "assumption",
        "Status messages per waiting customer per day: to the ops queue serving it, plus half as many to its rep.",
        ge=0,
        le=5,
    )


class Info(Section):
    asymmetry: Float = P(
        0.5,
        "0..1",
        "Carlile 2004; assumption",
        "Information asymmetry between Sales and Ops in a functional organisation.",
        ge=0,
        le=1,
    )
    glossary: bool = P(False, "-", "brief", "Shared glossary of terms.")
    glossary_effect: Float = P(
        0.25, "share", "assumption", "Reduction of misunderstanding from the glossary.", ge=0, le=1
    )
    eli5: bool = P(
        False, "-", "brief", "Explain-like-I'm-five protocol for cross-department questions."
    )
    eli5_effect: Float = P(
        0.3, "share", "assumption", "Reduction of misunderstanding from ELI5 answers.", ge=0, le=1
    )
    eli5_minutes: Float = P(
        5.0, "minutes/question", "assumption", "Extra answer time for an ELI5 answer.", ge=0, le=120
    )
    translation_champions: Int = P(
        0,
        "people",
        "brief",
        "Reps/ops staff who translate cross-department questions (limited hours).",
        ge=0,
        le=200,
    )
    champion_hours_per_day: Float = P(
        1.5,
        "hours/day",
        "assumption",
        "Hours per day each champion can spend translating.",
        ge=0,
        le=8,
    )
    champion_minutes: Float = P(
        15.0,
        "minutes/question",
        "assumption",
        "Champion time to translate one question.",
        ge=0,
        le=240,
    )
    champion_effect: Float = P(
        0.6,
        "share",
        "assumption",
        "Reduction of misunderstanding on a translated question.",
        ge=0,
        le=1,
    )
    decision_archive: bool = P(
        False, "-", "brief", "Read-only archive of decisions: cuts search time."
    )
    archive_search_cut: Float = P(
        0.4,
        "share",
        "assumption",
        "Reduction of search time from the decision archive.",
        ge=0,
        le=1,
    )
    upkeep_minutes: Float = P(
        5.0,
        "minutes/person/day",
        "assumption",
        "Daily upkeep of each information tool (glossary, archive) per person.",
        ge=0,
        le=120,
    )
    search_hours: Float = P(
        1.0,
        "hours/person/day",
        "McKinsey 2012: 1.8 h/day (19%) searching, all causes; calibrated",
        "Search time per person per day at asymmetry 1.",
        ge=0,
        le=8,
    )
    questions_per_gap: Float = P(
        6.0,
        "questions/deal",
        "assumption",
        "Questions ops sends about a deal whose package is completeness 0 (pro rata).",
        ge=0,
        le=100,
    )
    misunderstanding_rework: Float = P(
        0.3,
        "x work",
        "assumption",
        "Rework, as a share of the implementation work, when requirements are misunderstood.",
        ge=0,
        le=5,
    )
    search_hours_per_gap: Float = P(
        6.0,
        "hours/deal",
        "assumption",
        "Ops search hours for a deal whose package is completeness 0 (pro rata, scaled by asymmetry).",
        ge=0,
        le=200,
    )


class Coaching(Section):
    program: Literal["none", "micro_4wk", "workshop"] = P(
        "none",
        "-",
        "brief",
        "micro_4wk: four weekly sessions (job swap, handoff review, call review, problem-solving pairs); workshop: the same hours in one day.",
    )
    start_day: Int = P(
        0, "day", "brief", "Measured day on which the programme starts.", ge=0, le=5000
    )
    hours: Float = P(
        6.0,
        "hours/person",
        "brief: four 1.5 h sessions",
        "Total coaching hours per person; the gain grows with hours (6 h earns the full gain when spaced) and a workshop must fit in one day.",
        ge=0,
        le=80,
    )
    gain: Float = P(
        0.35,
        "0..1",
        "assumption",
        "Largest gain in cross-functional understanding and handover skill from a spaced programme.",
        ge=0,
        le=1,
    )
    massed_retention: Float = P(
        0.5,
        "x",
        "Cepeda et al. 2006 spacing effect",
        "Effectiveness of one massed workshop relative to spaced sessions of equal hours.",
        ge=0,
        le=1,
    )
    decay_half_life_days: Float = P(
        90.0,
        "days",
        "Arthur et al. 1998 skill decay",
        "Half-life of coaching gains without practice.",
        gt=0,
        le=5000,
    )
    practice_protection: Float = P(
        0.7,
        "share",
        "assumption",
        "Share of decay prevented at full practice (hands-on handover or delivery work every day).",
        ge=0,
        le=1,
    )
    postmortems: bool = P(
        False,
        "-",
        "brief",
        "Blame-free post-mortem of each churned customer feeds lessons back to its rep.",
    )
    postmortem_hours: Float = P(
        1.0,
        "hours/person",
        "assumption",
        "Hours per participant (rep and one ops) per post-mortem.",
        ge=0,
        le=8,
    )
    postmortem_gain: Float = P(
        0.03, "skill", "assumption", "Handover skill a rep gains from one post-mortem.", ge=0, le=1
    )

    @model_validator(mode="after")
    def _hours_fit_the_sessions(self) -> Coaching:
        sessions = {"none": 0, "micro_4wk": 4, "workshop": 1}[self.program]
        if sessions and self.hours > 8.0 * sessions:
            raise ValueError(
                f"hours {self.hours:g} do not fit {self.program}: at most 8 hours a day over "
                f"{sessions} session day(s) = {8 * sessions} hours"
            )
        return self


class Market(Section):
    leads_per_rep_day: Float = P(
        0.25,
        "leads/rep/day",
        "assumption: ~60 qualified opportunities per rep per year",
        "Qualified leads arriving per rep per working day.",
        ge=0,
        le=50,
    )
    deal_value: Float = P(
        40_000.0,
        "currency/year",
        "mid-market ACV; assumption",
        "Mean annual contract value of a deal.",
        gt=0,
        le=MONEY_MAX,
    )
    deal_value_cv: Float = P(
        0.6, "cv", "assumption", "Coefficient of variation of deal value (lognormal).", ge=0, le=5
    )
    selling_hours: Float = P(
        20.0,
        "hours/deal",
        "assumption; calibrated: reps about 80% busy selling at baseline",
        "Rep selling hours to take an opportunity to a decision.",
        gt=0,
        le=500,
    )
    work_cv: Float = P(
        0.5,
        "cv",
        "assumption",
        "Coefficient of variation of selling and implementation work (lognormal).",
        ge=0,
        le=5,
    )
    win_base: Float = P(
        0.45,
        "probability",
        "design brief band 35-55%",
        "Win probability of an opportunity worked on time with an honest promise.",
        gt=0,
        lt=1,
    )
    stale_hazard: Float = P(
        0.01,
        "per day",
        "assumption; calibrated to win rate 35-55%",
        "Daily chance that an opportunity awaiting rep time goes to a competitor.",
        ge=0,
        le=1,
    )
    overpromise_win_lift: Float = P(
        0.8, "log-odds", "assumption", "Win log-odds gained by overselling a deal.", ge=0, le=5
    )
    implementation_hours: Float = P(
        26.0,
        "hours/deal",
        "assumption",
        "Ops hours to onboard and implement a deal with perfect information.",
        gt=0,
        le=2000,
    )
    max_selling_hours_per_deal_day: Float = P(
        4.0,
        "hours/day",
        "assumption: a buyer gives a few hours of meetings and calls a day",
        "Most selling hours one opportunity can absorb in a day; reps work their oldest opportunities first.",
        gt=0,
        le=1000,
    )
    max_hours_per_deal_day: Float = P(
        4.0,
        "hours/day",
        "assumption: customer-side pace of an implementation",
        "Most ops hours one deal can absorb in a day (so onboarding takes elapsed time).",
        gt=0,
        le=1000,
    )
    churn_base_hazard: Float = P(
        0.0003,
        "per day",
        "assumption; brief ~15% churn at handover",
        "Base daily hazard that a customer walks before activation.",
        ge=0,
        le=1,
    )
    churn_early_multiplier: Float = P(
        3.0,
        "x",
        "design brief: hazard front-loaded; calibrated",
        "Extra fragility right after close: every hazard term is multiplied by 1 + this, decaying with churn_early_days.",
        ge=0,
        le=100,
    )
    churn_early_days: Float = P(
        10.0, "days", "assumption", "Time constant of the early fragility.", gt=0, le=500
    )
    churn_wait_hazard: Float = P(
        0.003,
        "per day",
        "assumption",
        "Extra daily hazard while a customer waits with no progress (queue, stall, return).",
        ge=0,
        le=1,
    )
    churn_gap_hazard: Float = P(
        0.006,
        "per day",
        "assumption",
        "Extra daily hazard of an oversold customer (disappointment).",
        ge=0,
        le=1,
    )
    churn_info_hazard: Float = P(
        0.001,
        "per day",
        "assumption",
        "Extra daily hazard at completeness 0 (customer repeats themselves).",
        ge=0,
        le=1,
    )
    promise_rework: Float = P(
        0.4,
        "x work",
        "assumption",
        "Extra implementation work on an oversold deal (scope gap).",
        ge=0,
        le=5,
    )
    exceptions_per_deal: Float = P(
        0.6,
        "exceptions/deal",
        "assumption",
        "Mean exceptions (non-standard requests) per deal needing a decision at onboarding; more with overpromising.",
        ge=0,
        le=20,
    )
    gross_margin: Float = P(
        0.8,
        "share of contract value",
        "B2B subscription software keeps ~75-80% of revenue after the cost of serving it "
        "(public SaaS benchmarks); the staff modelled here are subtracted as payroll, so this "
        "covers only costs outside the model (hosting, licences, third-party support)",
        "Gross margin on a customer's annual contract value, before the payroll of the reps and "
        "ops staff modelled here (net value subtracts that separately).",
        ge=0,
        le=1,
    )


class Economics(Section):
    redeployable_share: Float = P(
        0.0,
        "share",
        "assumption: at fixed head-count, hours freed from friction or slack are paid anyway and "
        "only pay off through more output, which the model already counts",
        "Share of unproductive paid hours (friction and slack) whose loaded cost the firm could "
        "save or redeploy elsewhere; net value subtracts that share of their cost.",
        ge=0,
        le=1,
    )


class Behaviour(Section):
    choice_rule: Literal["logit", "budget"] = P(
        "logit",
        "-",
        "McFadden logit; Holmstrom & Milgrom 1991",
        "How people split their day. logit: shares follow the softmax of all tasks' returns (free riding shows as slack and less core work). budget: each task's effort follows its own return under an 8-hour budget (free riding also cuts documentation and help). Run both to test how much a conclusion rests on this assumption.",
    )
    effort_elasticity: Float = P(
        2.0,
        "1/return",
        "assumption",
        "budget rule only: how steeply each task's effort responds to its own return.",
        ge=0,
        le=100,
    )
    logit_beta: Float = P(
        3.0,
        "1/return",
        "assumption; McFadden logit",
        "Sharpness of the logit choice over perceived returns (0 = random, large = rational).",
        ge=0,
        le=100,
    )
    adapt_rate: Float = P(
        0.25,
        "per week",
        "assumption: a plan's effect appears over weeks",
        "Share of the gap to the preferred time allocation closed each weekly review.",
        gt=0,
        le=1,
    )
    belief_rate: Float = P(
        0.3,
        "per payout",
        "assumption",
        "Weight of the latest realised payout in the belief about each bonus component.",
        gt=0,
        le=1,
    )
    norm_core: Float = P(
        0.5,
        "return",
        "Baker 1992: base pay and supervision keep the core job done",
        "Value of core work (selling, delivering) from job expectations, whatever the bonus pays.",
        ge=0,
        le=5,
    )
    norm_quality: Float = P(
        0.15,
        "return",
        "assumption",
        "Mean intrinsic value of handover/collaboration work.",
        ge=0,
        le=5,
    )
    norm_help: Float = P(
        0.1,
        "return",
        "assumption",
        "Mean intrinsic value of helping the other department.",
        ge=0,
        le=5,
    )
    norm_sd: Float = P(
        0.05, "return", "assumption", "Spread of intrinsic norms across people.", ge=0, le=5
    )
    slack_value: Float = P(
        0.05,
        "return",
        "assumption",
        "Value of slack (non-work) time; free riding shows up as slack.",
        ge=0,
        le=5,
    )
    peer_monitoring: Float = P(
        0.6,
        "x",
        "Knez & Simester 2001",
        "Strength of mutual monitoring under team pay in a fully visible team.",
        ge=0,
        le=5,
    )
    visibility_size: Float = P(
        6.0,
        "people",
        "Ringelmann; assumption",
        "Team size at which peer visibility has halved.",
        gt=0,
        le=100,
    )
    conditional_cooperation: Float = P(
        0.6,
        "slope",
        "Fischbacher & Gachter 2010",
        "How strongly people match their teammates' cooperative effort.",
        ge=0,
        le=1,
    )
    overpromise_max: Float = P(
        0.5,
        "share of deals",
        "assumption",
        "Largest share of deals a rep may oversell; 0 switches overpromising off.",
        ge=0,
        le=1,
    )
    honesty_norm: Float = P(
        0.3,
        "return",
        "assumption; calibrated: reps still oversell when bookings pay, few do when they do not",
        "Intrinsic cost of overselling (the choice is a logit between honest and oversold, so 0 return means half of overpromise_max).",
        ge=0,
        le=5,
    )
    handover_skill: Float = P(
        0.6, "0..1", "assumption", "Initial handover skill of reps.", ge=0, le=1
    )
    learning_exponent: Float = P(
        0.15,
        "-",
        "Wright 1936 learning curve",
        "Learning-curve exponent for handover skill with cumulative handovers.",
        ge=0,
        le=1,
    )
    bonus_salience: Float = P(
        5.0,
        "return per bonus share",
        "assumption; calibrated",
        "Weight people put on bonus money relative to intrinsic norms (a 20% pool at full attribution gives a return of 1).",
        ge=0,
        le=100,
    )
    help_efficiency: Float = P(
        0.5,
        "x",
        "assumption: help is less skilled than own work",
        "Output of an hour of help relative to an hour of the other department's own work.",
        ge=0,
        le=1,
    )
    doc_hours_need: Float = P(
        1.0,
        "hours/deal",
        "assumption",
        "Documentation hours that bring a package to about 63% completeness at skill 1.",
        gt=0,
        le=100,
    )


class Intervention(Section):
    day: Int = Field(
        ...,
        ge=0,
        le=2500,  # the longest horizon
        description="Measured day (0 = first day after warm-up) on which the changes take effect.",
    )
    set: dict[str, Any] = Field(
        ..., description="Dotted keys and new values, e.g. {'incentives.weights.team': 0.3}."
    )
    label: str = Field("", max_length=120, description="Short label shown on charts.")

    @field_validator("set")
    @classmethod
    def _not_empty(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not v:
            raise ValueError("an intervention must set at least one key")
        return v

    @field_validator("label")
    @classmethod
    def _printable_label(cls, v: str) -> str:
        return refuse_controls(v)


class Scenario(Section):
    """A complete, validated scenario. Build through ``simulation.scenario.loader`` from YAML."""

    name: str = Field("scenario", max_length=120, description="Scenario name used in outputs.")
    description: str = Field(
        "", max_length=5000, description="What this scenario represents (line breaks allowed)."
    )
    horizon_days: Int = P(
        250,
        "working days",
        "design brief: one working year",
        "Days measured after the warm-up.",
        ge=20,
        le=2500,
    )
    warmup_days: Int = P(
        60,
        "working days",
        "assumption: pipelines fill in ~3 months",
        "Days simulated before measuring (excluded from KPIs).",
        ge=0,
        le=1000,
    )
    org: Org = Field(default_factory=Org)
    structure: Structure = Field(default_factory=Structure)
    incentives: Incentives = Field(default_factory=Incentives)
    handover: Handover = Field(default_factory=Handover)
    comms: Comms = Field(default_factory=Comms)
    info: Info = Field(default_factory=Info)
    coaching: Coaching = Field(default_factory=Coaching)
    market: Market = Field(default_factory=Market)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    economics: Economics = Field(default_factory=Economics)
    interventions: list[Intervention] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _printable_name(cls, v: str) -> str:
        return refuse_controls(v)

    @field_validator("description")
    @classmethod
    def _printable_description(cls, v: str) -> str:
        return refuse_controls(v, allowed=LAYOUT)

    @model_validator(mode="after")
    def _teams_feasible(self) -> Scenario:
        check_team_feasibility(self)
        return self

    @field_validator("name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        """A blank name would label results, tables and slides with nothing."""
        if not v.strip():
            raise ValueError("must not be blank; give the scenario a name people will recognise")
        return v

    @model_validator(mode="after")
    def _interventions_valid(self) -> Scenario:
        """Each roll-out step, applied cumulatively in day order, must give a valid scenario."""
        current = self
        for i, iv in sorted(enumerate(self.interventions), key=lambda t: t[1].day):
            if iv.day >= self.horizon_days:
                raise ValueError(
                    f"interventions[{i}].day {iv.day} is not inside the horizon "
                    f"(0 .. {self.horizon_days - 1} measured days)"
                )
            frozen = [excerpt(k) for k in iv.set if k.split(".")[0] in FIXED_AT_START]
            if frozen:
                raise ValueError(
                    f"interventions[{i}].set: {', '.join(frozen[:5])} cannot change during a run "
                    f"({', '.join(FIXED_AT_START)} are fixed at the start)"
                )
            try:
                current = with_changes(current, iv.set)
            except KeyError as exc:
                raise ValueError(f"interventions[{i}].set: {exc.args[0]}") from None
            except ValidationError as exc:
                raise ValueError(
                    f"interventions[{i}].set (day {iv.day}) gives an invalid scenario: "
                    + "; ".join(describe_errors(exc))
                ) from None
        return self


def describe_errors(
    exc: ValidationError,
    root: type[BaseModel] | None = None,
    prefix: str = "",
    limit: int = MAX_PROBLEMS,
) -> list[str]:
    """One readable line per pydantic error: ``dotted.path: rule``.

    Unknown keys list the valid keys at that level, so a typo is fixed without opening the docs.
    ``root`` is the model that was validated (default :class:`Scenario`); ``prefix`` is put in
    front of every path (``axes.team``). Keys typed by the user are shortened (``excerpt``) and
    at most ``limit`` errors are described, then one line counts the rest, so a file of a
    thousand typos still gives a short message.
    """
    errors = exc.errors()
    listed: set[str] = set()  # levels whose valid keys were listed already
    lines = [_describe_error(err, root, prefix, listed) for err in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"and {len(errors) - limit} more problem(s)")
    return lines


def _describe_error(
    err: Any, root: type[BaseModel] | None, prefix: str, listed: set[str] | None = None
) -> str:
    loc = err["loc"]
    path = prefix
    for part in loc:
        path += (
            f"[{part}]"
            if isinstance(part, int)
            else (f".{excerpt(part)}" if path else excerpt(part))
        )
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    if isinstance(value, bool) and err["type"] in ("float_type", "int_type"):
        msg = "expected a number, got true/false"
    elif err["type"] in ("float_parsing", "int_parsing") and isinstance(value, str):
        msg = f"expected a number, got the text '{excerpt(value)}'"
    elif err["type"] == "extra_forbidden":
        parent: Any = root or Scenario
        for part in loc[:-1]:
            if isinstance(part, int):
                parent = Intervention
                continue
            ann = parent.model_fields[part].annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                parent = ann
            elif part == "interventions":
                parent = Intervention
        listed = set() if listed is None else listed
        if parent.__name__ in listed:
            msg = "unknown key (valid keys listed above)"
        else:
            listed.add(parent.__name__)
            msg = f"unknown key; valid keys here: {', '.join(parent.model_fields)}"
    elif err["type"] in ("missing",):
        msg = "required key is missing"
    return f"{path or (root or Scenario).__name__.lower()}: {msg}"


def check_team_feasibility(s: Scenario) -> None:
    """Cross-functional teams need at least one rep and one ops person each."""
    if s.structure.kind == "silo":
        return
    n_people = s.org.sales_reps + s.org.ops_staff
    n_teams = max(1, round(n_people / s.structure.team_size))
    if n_teams > min(s.org.sales_reps, s.org.ops_staff):
        raise ValueError(
            f"structure.team_size {s.structure.team_size} gives {n_teams} teams, but each "
            f"cross-functional team needs at least one rep and one ops person "
            f"(org.sales_reps {s.org.sales_reps}, org.ops_staff {s.org.ops_staff})"
        )


# --------------------------------------------------------------------------------------------
# Dotted-key helpers (used by the loader, interventions and the levers table)
# --------------------------------------------------------------------------------------------


def _section_fields(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_fields


def lever_keys(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """All settable dotted keys (leaves), in schema order."""
    keys: list[str] = []
    for name, field in model.model_fields.items():
        if name in {"interventions", "name", "description"} and model is Scenario:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(lever_keys(ann, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def lever_table() -> list[dict[str, Any]]:
    """One row per public key: type, default, range, unit, meaning, source."""
    rows = []
    for key in lever_keys():
        model: type[BaseModel] = Scenario
        parts = key.split(".")
        for part in parts[:-1]:
            model = model.model_fields[part].annotation  # type: ignore[assignment]
        field = model.model_fields[parts[-1]]
        extra = field.json_schema_extra or {}
        lo = hi = None
        lo_open = hi_open = False
        for m in field.metadata:
            if getattr(m, "ge", None) is not None:
                lo = m.ge
            if getattr(m, "gt", None) is not None:
                lo, lo_open = m.gt, True
            if getattr(m, "le", None) is not None:
                hi = m.le
            if getattr(m, "lt", None) is not None:
                hi, hi_open = m.lt, True
        ann = field.annotation
        tname = getattr(ann, "__name__", str(ann)).replace("typing.", "")
        if getattr(ann, "__origin__", None) is Literal:
            tname = " | ".join(ann.__args__)
            rng = tname
        elif ann is bool:
            rng = "true | false"
        else:
            left = "(-inf" if lo is None else f"{'(' if lo_open else '['}{lo:g}"
            right = "inf)" if hi is None else f"{hi:g}{')' if hi_open else ']'}"
            rng = f"{left}, {right}"
        if key == "structure.team_size":
            rng = ", ".join(f"{k} {a}-{b}" for k, (a, b) in TEAM_SIZE_RANGE.items())
        rows.append(
            {
                "key": key,
                "type": tname,
                "default": field.default,
                "range": rng,
                "unit": extra.get("unit", ""),
                "meaning": field.description or "",
                "source": extra.get("source", ""),
            }
        )
    return rows


def get_dotted(s: BaseModel, key: str) -> Any:
    obj: Any = s
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def same_value(a: Any, b: Any) -> bool:
    """Equal as scenario values: numbers within rounding, true/false never equal to 1/0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def with_changes(s: Scenario, changes: dict[str, Any]) -> Scenario:
    """Return a validated copy of ``s`` with dotted-key changes applied (used for interventions)."""
    data = s.model_dump()
    data["interventions"] = []
    for key, value in changes.items():
        set_dotted(data, key, value)
    return Scenario.model_validate(data)


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``a.b.c`` in nested dicts; an unknown key raises KeyError naming the valid ones."""
    parts = key.split(".")
    node = data
    model: type[BaseModel] = Scenario
    for i, part in enumerate(parts):
        fields = model.model_fields
        if part not in fields or (model is Scenario and part == "interventions"):
            valid = sorted(k for k in fields if not (model is Scenario and k == "interventions"))
            where = ".".join(parts[:i]) or "top level"
            raise KeyError(
                f"unknown key '{excerpt(key)}': '{excerpt(part)}' is not a key of {where}; "
                f"valid keys there: {', '.join(valid)}"
            )
        ann = fields[part].annotation
        last = i == len(parts) - 1
        if last:
            node[part] = value
            return
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            raise KeyError(
                f"unknown key '{excerpt(key)}': '{'.'.join(parts[: i + 1])}' is a value, "
                "not a section"
            )
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise KeyError(f"'{'.'.join(parts[: i + 1])}' must be a mapping")
        model = ann
