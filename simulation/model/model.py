"""FrictionModel: a Sales and Operations organisation, one step per working day.

Wiring and the daily schedule only; each mechanism is a pure function in its own module
(``incentives``, ``handover``, ``information``, ``comms``, ``queueing``, ``churn``,
``coaching``) and every KPI is defined once in ``metrics``. The model does no file I/O apart
from accepting a scenario path, which it hands to ``simulation.scenario.loader``.

Daily schedule (see docs/ODD.md, "Process overview and scheduling"):
 1. the payout period that ended yesterday is paid, under the plan and teams it ran under;
 2. roll-outs due today are applied (interventions);
 3. coaching sessions and the weekly review of plans;
 4. new leads arrive;
 5. handovers due today go through the gate and red-flag check into an ops queue (a deal won
    today is handed over tomorrow at the earliest, even with the CRM trigger);
 6. fixed overheads, then messages (chatter, questions, status chasers), take their hours;
 7. the remaining hours are split by each person's plan: selling and documenting move open
    deals to a decision; ops hours serve their queue first come first served;
 8. every waiting customer faces the churn hazard;
 9. hours, payouts and flows are booked; the DataCollector records the day.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from simulation.model import (
    churn,
    coaching,
    comms,
    handover,
    hours,
    information,
    metrics,
    queueing,
    selling,
    structure,
)
from simulation.model import incentives as inc
from simulation.model.agents import OpsStaff, SalesRep
from simulation.model.deals import HANDOVER, N_UNIFORMS, DealBook
from simulation.model.hours import HC, HOUR_CATEGORIES, LOSS_COLUMNS  # noqa: F401 (public names)
from simulation.model.streams import make_streams, root_entropy
from simulation.scenario.config import Scenario, with_changes

#: Daily series recorded by the DataCollector (attribute names on the model).
DAILY_SERIES = (
    "day",
    "open_opportunities",
    "handover_backlog",
    "onboarding_wip",
    "won_today",
    "lost_today",
    "activated_today",
    "churned_today",
    "loss_share_today",
    "interruptions_today",
    "help_share_today",
    "slack_share_today",
    "quality_share_today",
    "mean_promise",
    "ops_utilisation_today",
)


class DailyCollector(mesa.DataCollector):
    """Mesa DataCollector for scalar model attributes, without a deepcopy per value.

    Columns are the daily series plus every KPI; KPI columns are NaN until the horizon, when
    the model computes them, so ``batch_run``'s last row carries the run's KPIs.
    """

    def __init__(self, series: tuple[str, ...], kpis: tuple[str, ...]) -> None:
        super().__init__(model_reporters={name: name for name in series + kpis})
        self._series = series
        self._kpi_names = kpis
        self._columns = [self.model_vars[name] for name in series]
        self._kpi_columns = [self.model_vars[name] for name in kpis]

    def collect(self, model: FrictionModel) -> None:  # type: ignore[override]
        self._collection_steps.append(model.time)
        for col, name in zip(self._columns, self._series, strict=True):
            col.append(getattr(model, name))
        kpis = model.kpis
        for col, name in zip(self._kpi_columns, self._kpi_names, strict=True):
            col.append(kpis.get(name, math.nan))


class FrictionModel(mesa.Model):
    """Sales reps and ops staff turning leads into activated customers.

    Args:
        scenario: a validated ``Scenario``, a mapping, or a path to a scenario YAML file.
        rng: seed (int, SeedSequence or Generator). Every random draw comes from named streams
            derived from it (``simulation.model.streams``).
    """

    def __init__(
        self, scenario: Scenario | dict[str, Any] | str | Path | None = None, rng: Any = None
    ) -> None:
        self.entropy = root_entropy(rng)
        super().__init__(rng=self.entropy)
        self.s = s = _as_scenario(scenario)
        self.base_scenario = s  # as given; ``self.s`` follows the roll-outs
        self.streams = make_streams(self.entropy)
        self.R, self.O = s.org.sales_reps, s.org.ops_staff
        self.N = self.R + self.O
        self.total_days = s.warmup_days + s.horizon_days
        self.warmup = s.warmup_days
        SalesRep.create_agents(self, self.R, idx=list(range(self.R)))
        OpsStaff.create_agents(self, self.O, idx=list(range(self.R, self.N)))
        self.is_rep = np.arange(self.N) < self.R
        # each mechanism's state; the people stream draws norms, honesty, then skill
        self.plans = inc.new(self.streams["people"], s, self.is_rep, reference=Scenario())
        self.learning = coaching.new(self.streams["people"], s, self.N)
        self.info = information.Information(champion=np.zeros(self.N, dtype=bool))
        self._assign_champions(s.info.translation_champions)
        self.org = structure.build(s.structure, self.R, self.O)
        inc.measure(self.plans, s, self.org.team_size_of, self.org.cross_functional)
        inc.set_targets(self.plans, s)
        self.deals = DealBook(capacity=0)  # sized by the arrival schedule
        self._schedule_leads(from_day=0)
        self.queues = queueing.Queues()
        self.chat = comms.Comms()
        self.timesheet = hours.new(self.N, self.R, self.total_days)
        self.interventions = sorted(s.interventions, key=lambda iv: iv.day)
        self.applied_interventions: list[dict[str, Any]] = []  # roll-out days for charts
        self.kpis: dict[str, float] = {}
        self.kpis_after_rollout: dict[str, float] = {}  # the year after the first roll-out
        self.stages: dict[str, dict[str, float]] = {}
        self.day = -self.warmup
        for name in DAILY_SERIES[1:]:
            setattr(self, name, 0.0)
        self.datacollector = DailyCollector(DAILY_SERIES, tuple(metrics.KPIS))

    # read-only views of the mechanisms' state, by person (rows) where arrays
    shares = property(lambda self: self.plans.shares, doc="Time allocation (incentives.TASKS).")
    promise = property(lambda self: self.plans.promise, doc="Promise inflation per person.")
    beliefs = property(lambda self: self.plans.beliefs, doc="Believed value of each component.")
    kpi_kind = property(lambda self: self.plans.kpi_kind, doc="KPI each component measures.")
    payouts = property(lambda self: self.plans.payouts, doc="Bonus booked, by component.")
    hours = property(lambda self: self.timesheet.booked, doc="Measured hours by category.")
    interruptions_total = property(lambda self: self.timesheet.interruptions)
    norms = property(lambda self: self.plans.norms, doc="Intrinsic return of each task.")
    understanding = property(lambda self: self.learning.understanding)
    skill0 = property(lambda self: self.learning.skill0, doc="Initial handover skill.")
    team = property(lambda self: self.org.team)
    team_size_of = property(lambda self: self.org.team_size_of)
    ops_queue = property(lambda self: self.org.ops_queue)
    champion = property(lambda self: self.info.champion)
    champion_backlog = property(lambda self: self.info.champion_backlog)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """One working day: one line per submodel, numbered as in docs/ODD.md, section 3."""
        sim_day = self.steps - 1
        d = self.day = sim_day - self.warmup  # measured day (negative during warm-up)
        if inc.payout_due(self.plans, d, self.s.incentives.payout_period_days):
            self._payout(start=d - self.plans.period_days)  # 1 under the plan it ran under
        while self.interventions and self.interventions[0].day == d:
            self._apply(self.interventions.pop(0))  # 2
        s = self.s  # after today's roll-outs
        overhead = hours.start_day(self.timesheet)  # 3 deferred hours from yesterday
        coaching.coach(self.learning, s.coaching, d, overhead[:, HC["learning"]])  # 4
        self.info.asymmetry = information.person_asymmetry(
            s.info, s.structure, self.learning.understanding, self.org.cross_functional,
            self.org.team_age,
        )  # fmt: skip
        if sim_day % 5 == 0:
            self._weekly_review()  # 5
        self.deals.arrive(sim_day)  # 6
        messages = comms.chatter(self.streams["chatter"], s.comms.chatter_per_day, self.N)  # 7
        self._handovers(sim_day, overhead, messages)  # 8
        self._fixed_overheads(overhead)  # 9
        self._messages(messages, overhead)  # 10
        day_hours = hours.allocate(overhead, self.plans.shares)  # 11
        self.won_today, self.lost_today = selling.sell(  # 12
            self.deals, sim_day, day_hours, self.org, s, self.plans.promise, self.learning,
            self.plans.period_bookings,
        )  # fmt: skip
        self.activated_today, self.ops_utilisation_today = queueing.serve(  # 13
            self.queues, self.deals, sim_day, day_hours, self.org, s,
            self.plans.period_activated, self.plans.period_delivery,
        )  # fmt: skip
        self.churned_today = churn.churn_day(  # 14
            self.deals, self.queues.served_today, sim_day, s, self.org, self.learning,
            self.timesheet.pending_learning,
        )  # fmt: skip
        self._book(day_hours, measuring=d >= 0)  # 15
        self.org.team_age += 1.0  # 16
        self.plans.period_days += 1
        if self.steps >= self.total_days:  # 17
            self._payout(start=max(0, d + 1 - self.plans.period_days), last=True)
            self.running = False
            self.kpis = metrics.compute_kpis(self)
            self.kpis_after_rollout = metrics.after_rollout_kpis(self)
            self.stages = metrics.stage_table(self)
        self.datacollector.collect(self)  # 18

    def run(self) -> FrictionModel:
        """Run to the horizon; returns self so ``FrictionModel(...).run().kpis`` reads well."""
        remaining = self.total_days - self.steps
        if remaining > 0:
            self.run_for(remaining)
        return self

    # ------------------------------------------------------------------ wiring
    def _apply(self, iv: Any) -> None:
        """Roll out an intervention: the scenario changes, and the state that depends on it."""
        before = self.s
        self.s = s = with_changes(before, iv.set)
        self.applied_interventions.append({"day": iv.day, "label": iv.label, "set": dict(iv.set)})
        old, new = before.structure, s.structure
        if (old.kind, old.team_size) != (new.kind, new.team_size):
            self.org = structure.reorganise(self.org, new, self.O, self.deals)
        # authority, weights, owner, noise may change what each component measures
        inc.measure(self.plans, s, self.org.team_size_of, self.org.cross_functional)
        if before.incentives != s.incentives or before.market != s.market:
            inc.set_targets(self.plans, s)
        if _lead_keys(before.market) != _lead_keys(s.market):
            self._schedule_leads(from_day=self.steps - 1)
        if before.coaching != s.coaching:
            # a programme switched on (or re-dated) mid-run starts no earlier than today
            self.learning.start_day = max(s.coaching.start_day, iv.day)
        if before.info.translation_champions != s.info.translation_champions:
            self._assign_champions(s.info.translation_champions)

    def _assign_champions(self, k: int) -> None:
        """``k`` translation champions, alternating rep, ops, rep, ...; agents carry the role."""
        self.info.champion = information.assign_champions(self.R, self.N, k)
        for agent in self.agents:
            agent.is_champion = bool(self.info.champion[agent.idx])

    def rep_skill(self, who: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Handover skill of people ``who`` (``coaching.rep_skill``)."""
        return coaching.rep_skill(self.learning, who, self.s.behaviour.learning_exponent)

    def _payout(self, start: int, last: bool = False) -> None:
        """Pay the period that began on measured day ``start`` (``incentives.pay_period``),
        judged on the judging stream; it is booked when it began in the measured window (the
        last, partial period always is)."""
        z = self.streams["judging"].standard_normal(self.N)
        o = self.org
        booked = last or start >= 0
        inc.pay_period(self.plans, self.s, o.team, o.n_teams, o.cross_functional, z, booked, start)

    def _weekly_review(self) -> None:
        """Reps, then ops, revise their plans as AgentSets (``agents.Person.review``)."""
        for kind in (SalesRep, OpsStaff):
            kind.review(self.agents_by_type[kind], self.plans, self.org.team, self.org.n_teams,
                        self.s)  # fmt: skip

    def _schedule_leads(self, from_day: int) -> None:
        """Draw every lead arriving from ``from_day`` to the horizon, in arrival order.

        The draws are the same, in the same order, as drawing day by day, so the schedule is the
        market's, whatever the levers; a market change mid-run re-draws the rest of it.
        """
        m = self.s.market
        self.deals.drop_future()
        counts = self.streams["leads"].poisson(
            m.leads_per_rep_day, (self.total_days - from_day, self.R)
        )
        days, reps = np.nonzero(counts)
        k = counts[days, reps]
        days, reps = np.repeat(days + from_day, k), np.repeat(reps, k)
        u = self.streams["deals"].random((len(reps), N_UNIFORMS))
        self.deals.schedule(
            reps, days, u,
            value_mean=m.deal_value, value_cv=m.deal_value_cv,
            sell_hours=m.selling_hours, impl_hours=m.implementation_hours, work_cv=m.work_cv,
        )  # fmt: skip

    def _handovers(self, sim_day: int, overhead: np.ndarray, messages: np.ndarray) -> None:
        """Due handovers: gate and red flags (``handover.check_due``), then into the ops queue
        (``handover.enter_ops``); each is one more handover on the rep's learning curve."""
        d, coord = self.deals, overhead[:, HC["coordination"]]
        due = d.live[(d.stage[d.live] == HANDOVER) & (d.trigger[d.live] <= sim_day)]
        if len(due) == 0:
            return
        rework = self.timesheet.pending_rework
        go = handover.check_due(d, due, sim_day, self.s, self.org, self.learning, coord, rework)
        if len(go):
            handover.enter_ops(
                d, go, sim_day, self.s, self.org, self.info, self.chat.ops_interruptions,
                self.queues.next_seq, coord, messages,
            )  # fmt: skip
            self.queues.next_seq += len(go)
            coaching.count_handovers(self.learning, d.rep[go])

    def _fixed_overheads(self, overhead: np.ndarray) -> None:
        """Team coordination and reorganisation, tool upkeep, owner follow-up, champions,
        escalations and background search."""
        s, coord = self.s, overhead[:, HC["coordination"]]
        coord += structure.coordination_hours(
            self.org, s.structure
        ) + information.tool_upkeep_hours(s.info)
        if s.handover.owner:
            coord[: self.R] += handover.owner_hours(
                s.handover, self.deals.rep[self.deals.waiting()], self.R
            )
        information.serve_champions(self.info, s.info.champion_hours_per_day, coord)
        structure.drain_escalations(self.org, s.structure.escalations_per_day)
        archive = s.info.archive_search_cut if s.info.decision_archive else 0.0
        overhead[:, HC["search"]] += information.daily_search_hours(
            self.info.asymmetry, s.info.search_hours, archive
        )

    def _messages(self, messages: np.ndarray, overhead: np.ndarray) -> None:
        """Status requests about waiting customers join the day's messages, then all are
        handled (``comms``)."""
        d, cm = self.deals, self.s.comms
        waiting = d.waiting()
        comms.status_requests(
            messages, cm.status_request_rate, d.queue[waiting], d.rep[waiting], self.org
        )
        self.interruptions_today = comms.handle(
            self.chat, messages, cm, self.R, overhead[:, HC["interruptions"]]
        )

    def _book(self, day_hours: np.ndarray, measuring: bool) -> None:
        """Book the day: help for the tournament, practice, hours, the daily series."""
        self.plans.period_help += day_hours[:, HC["help"]]
        coaching.record_practice(
            self.learning, self.is_rep, day_hours[:, HC["quality"]], day_hours[:, HC["core"]]
        )
        hours.book(self.timesheet, day_hours, self.chat.total, measuring, self.steps - 1)
        (self.loss_share_today, self.help_share_today, self.slack_share_today,
         self.quality_share_today) = hours.shares_today(day_hours)  # fmt: skip
        self.mean_promise = float(self.plans.promise[: self.R].mean())
        self.open_opportunities, self.handover_backlog, self.onboarding_wip = self.deals.settle()


def _lead_keys(m: Any) -> tuple[float, ...]:
    """The market keys that shape the arrival schedule."""
    return (
        m.leads_per_rep_day,
        m.deal_value,
        m.deal_value_cv,
        m.selling_hours,
        m.implementation_hours,
        m.work_cv,
    )


def _as_scenario(scenario: Scenario | dict[str, Any] | str | Path | None) -> Scenario:
    if scenario is None:
        return Scenario()
    if isinstance(scenario, Scenario):
        return scenario
    from simulation.scenario.loader import (
        load_scenario,  # file and YAML handling live in the loader
    )

    return load_scenario(scenario)
