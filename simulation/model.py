"""FrictionModel: a Sales and Operations organisation, one step per working day.

Wiring and the daily schedule only; each mechanism is a pure function in its own module
(``incentives``, ``handover``, ``information``, ``comms``, ``queueing``, ``churn``,
``coaching``) and every KPI is defined once in ``metrics``. The model does no file I/O apart
from accepting a scenario path, which it hands to ``simulation.loader``.

Daily schedule (see docs/ODD.md, "Process overview and scheduling"):
 1. roll-outs due today are applied (interventions);
 2. coaching sessions, payouts (every payout period) and the weekly review of plans;
 3. new leads arrive;
 4. handovers due today go through the gate and red-flag check into an ops queue (a deal won
    today is handed over tomorrow at the earliest, even with the CRM trigger);
 5. fixed overheads, then messages (chatter, questions, status chasers), take their hours;
 6. the remaining hours are split by each person's plan: selling and documenting move open
    deals to a decision; ops hours serve their queue first come first served;
 7. every waiting customer faces the churn hazard;
 8. hours, payouts and flows are booked; the DataCollector records the day.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from simulation import churn, coaching, comms, handover, information, metrics
from simulation import incentives as inc
from simulation.agents import OpsStaff, SalesRep
from simulation.config import Scenario, with_changes
from simulation.deals import (
    ACTIVATED,
    CHURNED,
    HANDOVER,
    LOST,
    N_UNIFORMS,
    ONBOARDING,
    OPEN,
    DealBook,
)
from simulation.hours import DAYS_PER_YEAR, HC, HOUR_CATEGORIES, HOURS_PER_DAY, LOSS_COLUMNS
from simulation.queueing import fifo_serve
from simulation.streams import make_streams, root_entropy

PRACTICE_HOURS_REP = 0.25  # documentation hours in a day that count as handover practice
PRACTICE_HOURS_OPS = 4.0  # delivery hours in a day that count as practice
PRACTICE_RATE = 0.05  # weight of today in the practice average (~20-day memory)

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
            derived from it (``simulation.streams``).
    """

    def __init__(
        self, scenario: Scenario | dict[str, Any] | str | Path | None = None, rng: Any = None
    ) -> None:
        self.entropy = root_entropy(rng)
        super().__init__(rng=self.entropy)
        self.s = _as_scenario(scenario)
        self.base_scenario = self.s  # as given; ``self.s`` follows the roll-outs
        self.streams = make_streams(self.entropy)
        s = self.s
        self.R, self.O = s.org.sales_reps, s.org.ops_staff
        self.N = self.R + self.O
        self.total_days = s.warmup_days + s.horizon_days
        self.warmup = s.warmup_days

        SalesRep.create_agents(self, self.R, idx=list(range(self.R)))
        OpsStaff.create_agents(self, self.O, idx=list(range(self.R, self.N)))
        self.is_rep = np.arange(self.N) < self.R

        self._init_people()
        self._build_teams(reorganisation=False)
        self._init_incentives()

        self.deals = DealBook(capacity=0)  # sized by the arrival schedule
        self._schedule_leads(from_day=0)
        self.live = np.zeros(0, dtype=np.int64)  # deals not yet lost, activated or churned
        self.seq_counter = 0
        self.champion_backlog = 0.0
        self.escalation_backlog = 0.0
        self.pending_overhead = np.zeros(self.N)
        self.pending_rework = np.zeros(self.N)
        self.ops_interrupts_per_person = 0.0

        # measured-window accumulators
        self.hours = np.zeros((self.N, len(HOUR_CATEGORIES)))
        self.payouts = np.zeros((self.N, 4))
        self.interruptions_total = 0.0
        self.transition_left = 0
        self.interventions = sorted(s.interventions, key=lambda iv: iv.day)
        self.applied_interventions: list[dict[str, Any]] = []  # roll-out days for charts
        self.kpis: dict[str, float] = {}
        self.stages: dict[str, dict[str, float]] = {}
        self.day = -self.warmup
        for name in DAILY_SERIES[1:]:
            setattr(self, name, 0.0)
        self.datacollector = DailyCollector(DAILY_SERIES, tuple(metrics.KPIS))

    # ------------------------------------------------------------------ set-up
    def _init_people(self) -> None:
        s, b = self.s, self.s.behaviour
        r = self.streams["people"]
        self.norms = np.zeros((self.N, 4))
        self.norms[:, inc.CORE] = b.norm_core
        self.norms[:, inc.QUALITY] = np.maximum(0.0, r.normal(b.norm_quality, b.norm_sd, self.N))
        self.norms[:, inc.HELP] = np.maximum(0.0, r.normal(b.norm_help, b.norm_sd, self.N))
        self.norms[:, inc.SLACK] = b.slack_value
        self.honesty = np.maximum(0.0, r.normal(b.honesty_norm, b.norm_sd, self.N))
        self.skill0 = np.clip(r.normal(b.handover_skill, 0.1, self.N), 0.05, 1.0)
        self.understanding = np.zeros(self.N)
        self.skill_lessons = np.zeros(self.N)
        self.handovers_done = np.zeros(self.N)
        self.practice = np.zeros(self.N)
        self.promise = np.zeros(self.N)
        # Start from the allocation people hold under today's plan (preferred plan, no lag).
        self.shares = np.tile([0.85, 0.06, 0.04, 0.05], (self.N, 1))
        self._assign_champions(s.info.translation_champions)
        self.coaching_start = s.coaching.start_day
        # returns under the reference plan (100% individual pay, default pool): the anchor of
        # the budget choice rule, the same for every scenario
        ref = Scenario()
        pull = inc.bonus_scale(ref)
        rb = ref.behaviour
        self.reference_returns = np.array([rb.norm_core + pull, rb.norm_quality, rb.norm_help, 0.0])

    def _assign_champions(self, k: int) -> None:
        """Champions alternate between the departments: they translate in both directions."""
        reps, ops = list(range(self.R)), list(range(self.R, self.N))
        order = [p for pair in zip(reps, ops, strict=False) for p in pair]
        order += reps[len(ops) :] + ops[len(reps) :]
        self.champion = np.zeros(self.N, dtype=bool)
        self.champion[order[: min(k, self.N)]] = True
        for agent in self.agents:
            agent.is_champion = bool(self.champion[agent.idx])

    def _build_teams(self, reorganisation: bool) -> None:
        st = self.s.structure
        ts = st.team_size
        reps, ops = np.arange(self.R), np.arange(self.O)
        if st.kind == "silo":
            n_rep_teams = math.ceil(self.R / ts)
            team = np.r_[reps // ts, n_rep_teams + ops // ts]
            self.n_teams = n_rep_teams + math.ceil(self.O / ts)
            self.n_queues = 1
            self.queue_of_rep = np.zeros(self.R, dtype=np.int64)
            self.ops_queue = np.zeros(self.O, dtype=np.int64)
        else:
            self.n_teams = max(1, round(self.N / ts))
            team = np.r_[reps % self.n_teams, ops % self.n_teams]
            self.n_queues = self.n_teams
            self.queue_of_rep = team[: self.R].copy()
            self.ops_queue = team[self.R :].copy()
        self.team = team.astype(np.int64)
        self.team_size_of = np.bincount(self.team, minlength=self.n_teams)[self.team].astype(float)
        self.cross_functional = st.kind != "silo"
        self.team_age = 0.0
        self.ops_per_queue = np.bincount(self.ops_queue, minlength=self.n_queues).astype(float)
        if reorganisation:
            self.transition_left = st.transition_days
            d = self.deals
            waiting = (d.stage == HANDOVER) | (d.stage == ONBOARDING)
            d.queue[waiting] = self.queue_of_rep[d.rep[waiting]]
        self._refresh_incentive_structure()

    def _init_incentives(self) -> None:
        s = self.s
        w = np.array(s.incentives.weights.as_array())
        self.beliefs = np.tile(w, (self.N, 1))
        self._set_targets()
        self.period = {
            "bookings": np.zeros(self.R),
            "activated": np.zeros(self.R),
            "delivery": np.zeros(self.O),
            "help": np.zeros(self.N),
        }
        self.period_days = 0

    def _set_targets(self) -> None:
        """Plan targets per working day, from the plan's nominal expectations (ODD.md)."""
        s = self.s
        m = s.market
        self.target_bookings = m.leads_per_rep_day * m.win_base * m.deal_value
        self.target_activated = self.target_bookings * (1.0 - inc.NOMINAL_CHURN)
        deals_per_day = self.R * self.target_activated / m.deal_value
        self.target_delivery = deals_per_day * m.implementation_hours / self.O
        salary = np.where(self.is_rep, s.org.rep_salary, s.org.ops_salary)
        self.target_bonus = s.incentives.bonus_pool * salary / DAYS_PER_YEAR

    def _refresh_incentive_structure(self) -> None:
        """What each component measures for each person and how much they can move it."""
        s = self.s
        kind = np.empty((self.N, 4), dtype=np.int64)
        ind_rep = (
            inc.KPI_ACTIVATED if s.incentives.rep_measure == "activation" else inc.KPI_BOOKINGS
        )
        kind[:, inc.IND] = np.where(self.is_rep, ind_rep, inc.KPI_DELIVERY)
        if self.cross_functional:
            kind[:, inc.TEAM] = inc.KPI_ACTIVATED
        else:
            kind[:, inc.TEAM] = np.where(self.is_rep, inc.KPI_BOOKINGS, inc.KPI_DELIVERY)
        kind[:, inc.COMP] = inc.KPI_ACTIVATED
        kind[:, inc.SB] = inc.KPI_HELP
        self.kpi_kind = kind
        b = s.behaviour
        self.attrib = inc.attribution(
            self.team_size_of,
            self.N,
            s.incentives.silo_buster_noise,
            b.peer_monitoring,
            b.visibility_size,
        )

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        d = self.steps - 1 - self.warmup  # measured day (negative during warm-up)
        self.day = d
        sim_day = self.steps - 1
        measuring = d >= 0
        s = self.s
        while self.interventions and self.interventions[0].day == d:
            self._apply(self.interventions.pop(0))
        overhead = np.zeros((self.N, len(HOUR_CATEGORIES)))
        overhead[:, HC["learning"]] = self.pending_overhead
        overhead[:, HC["rework"]] = self.pending_rework
        self.pending_overhead[:] = 0.0
        self.pending_rework[:] = 0.0
        self._coaching(d, overhead)
        self.asym_people = self._asymmetry()
        if self.period_days and d % s.incentives.payout_period_days == 0:
            self._payout(booked=d - self.period_days >= 0)
        if sim_day % 5 == 0:
            SalesRep.review(self, self.agents_by_type[SalesRep])
            OpsStaff.review(self, self.agents_by_type[OpsStaff])
        self._new_leads(sim_day)
        messages = self.streams["chatter"].poisson(s.comms.chatter_per_day, self.N).astype(float)
        self._handovers(sim_day, overhead, messages)
        self._fixed_overheads(overhead)
        self._messages(messages, overhead)
        hours = self._allocate(overhead)
        self._sell(sim_day, hours)
        self._serve(sim_day, hours)
        self._churn(sim_day)
        self._book(hours, measuring)
        self.team_age += 1.0
        self.period_days += 1
        if self.steps >= self.total_days:
            self._payout(booked=True)  # the last, partial period
            self.running = False
            self.kpis = metrics.compute_kpis(self)
            self.stages = metrics.stage_table(self)
        self.datacollector.collect(self)

    def run(self) -> FrictionModel:
        """Run to the horizon; returns self so ``FrictionModel(...).run().kpis`` reads well."""
        remaining = self.total_days - self.steps
        if remaining > 0:
            self.run_for(remaining)
        return self

    # ------------------------------------------------------------------ mechanisms wired
    def _apply(self, iv: Any) -> None:
        before = self.s
        self.s = with_changes(self.s, iv.set)
        self.applied_interventions.append({"day": iv.day, "label": iv.label, "set": dict(iv.set)})
        old, new = before.structure, self.s.structure
        if (old.kind, old.team_size) != (new.kind, new.team_size):
            self._build_teams(reorganisation=True)
        else:
            self._refresh_incentive_structure()  # authority, weights, owner, noise may change
        if before.incentives != self.s.incentives or before.market != self.s.market:
            self._set_targets()
        if _lead_keys(before.market) != _lead_keys(self.s.market):
            self._schedule_leads(from_day=self.steps - 1)
        if before.coaching != self.s.coaching:
            # a programme switched on (or re-dated) mid-run starts no earlier than today
            self.coaching_start = max(self.s.coaching.start_day, iv.day)
        if before.info.translation_champions != self.s.info.translation_champions:
            self._assign_champions(self.s.info.translation_champions)

    def _coaching(self, d: int, overhead: np.ndarray) -> None:
        c = self.s.coaching
        if d >= self.coaching_start and coaching.session_today(c.program, d - self.coaching_start):
            n = len(coaching.SESSION_OFFSETS[c.program])
            overhead[:, HC["learning"]] += c.hours / n
            g = coaching.session_gain(c.program, c.gain, c.massed_retention, c.hours)
            self.understanding += g * (1.0 - self.understanding)
        if self.understanding.any():
            self.understanding *= coaching.decay_factor(
                c.decay_half_life_days, self.practice, c.practice_protection
            )

    def rep_skill(self, who: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Handover skill of people ``who``: learning curve, plus coaching and lessons."""
        b = self.s.behaviour
        learnt = 1.0 - (1.0 + self.handovers_done[who]) ** (-b.learning_exponent)
        skill0 = self.skill0[who]
        skill = skill0 + (1.0 - skill0) * learnt * 0.5
        skill = skill + 0.5 * self.understanding[who] + self.skill_lessons[who]
        return np.minimum(np.maximum(skill, 0.05), 1.5)

    def _asymmetry(self) -> np.ndarray:
        """Information asymmetry each person faces across the Sales/Ops boundary."""
        st, info = self.s.structure, self.s.info
        a = info.asymmetry * (1.0 - 0.5 * self.understanding)
        if self.cross_functional:
            a = a * information.shared_context_factor(
                self.team_age, st.context_build_days, st.context_max_reduction
            )
        return a

    def _payout(self, booked: bool) -> None:
        """Pay the period just ended (payout clock aligned so warm-up periods are never booked).

        Targets scale with the days in the period, so the last, partial period is paid pro rata.
        A KPI whose target is 0 (no leads, no bonus) attains 0.
        """
        s, p = self.s, self.period
        days = float(self.period_days)
        w = np.array(s.incentives.weights.as_array())
        R, team = self.R, self.team
        t_book = self.target_bookings * days
        t_act = self.target_activated * days
        t_deliv = self.target_delivery * days
        target_bonus = self.target_bonus * days
        on_activation = s.incentives.rep_measure == "activation"
        att = np.zeros((self.N, 3))
        att[:R, inc.IND] = _attain(
            p["activated"] if on_activation else p["bookings"], t_act if on_activation else t_book
        )
        att[R:, inc.IND] = _attain(p["delivery"], t_deliv)
        reps_team = np.bincount(team[:R], minlength=self.n_teams).astype(float)
        if self.cross_functional:
            act_team = np.bincount(team[:R], weights=p["activated"], minlength=self.n_teams)
            att[:, inc.TEAM] = _attain(act_team[team], reps_team[team] * t_act)
        else:
            book_team = np.bincount(team[:R], weights=p["bookings"], minlength=self.n_teams)
            deliv_team = np.bincount(team[R:], weights=p["delivery"], minlength=self.n_teams)
            ops_team = np.bincount(team[R:], minlength=self.n_teams).astype(float)
            att[:R, inc.TEAM] = _attain(book_team[team[:R]], reps_team[team[:R]] * t_book)
            att[R:, inc.TEAM] = _attain(deliv_team[team[R:]], ops_team[team[R:]] * t_deliv)
        att[:, inc.COMP] = _attain(
            np.full(self.N, p["activated"].sum()), np.full(self.N, R * t_act)
        )
        pay = np.zeros((self.N, 4))
        pay[:, :3] = inc.component_payouts(w, target_bonus, att, s.incentives.payout_cap)
        z = self.streams["judging"].standard_normal(self.N)
        pool = w[inc.SB] * target_bonus.sum()
        pay[:, inc.SB] = inc.tournament_awards(
            p["help"], s.incentives.silo_buster_noise, s.incentives.silo_buster_winners, pool, z
        )
        # beliefs: realised value of each component relative to the at-target bonus
        realised = _attain(pay, np.broadcast_to(target_bonus[:, None], pay.shape))
        br = s.behaviour.belief_rate
        self.beliefs += br * (realised - self.beliefs)
        if booked:
            self.payouts += pay
        self.period_days = 0
        for v in p.values():
            v[:] = 0.0

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

    def _new_leads(self, sim_day: int) -> None:
        new = self.deals.release(sim_day)
        if len(new):
            self.live = np.concatenate((self.live, new))

    def _handovers(self, sim_day: int, overhead: np.ndarray, messages: np.ndarray) -> None:
        """Due handovers: gate, red flags, then into the ops queue with their work content."""
        d, s = self.deals, self.s
        hv = s.handover
        live = self.live
        due = live[(d.stage[live] == HANDOVER) & (d.trigger[live] <= sim_day)]
        if len(due) == 0:
            return
        c = d.c_close[due]
        back = np.zeros(len(due), dtype=bool)
        rep_hours = np.zeros(self.N)
        if hv.mvh:
            first = ~d.gated[due]
            np.add.at(rep_hours, d.rep[due[first]], hv.gate_minutes / 60.0)
            d.handover_hours[due[first]] += hv.gate_minutes / 60.0
            real = d.u_comply[due] < hv.compliance
            back |= first & handover.gate_returns(c, hv.mvh_threshold, real)
            d.gated[due] = True
        if hv.red_flag:
            # ops review each incoming package once and flag a thin one with some chance
            review = ~back & ~d.flagged[due]
            ops_hours = np.bincount(d.queue[due[review]], minlength=self.n_queues)
            ops_hours = ops_hours * hv.review_minutes / 60.0 / np.maximum(self.ops_per_queue, 1.0)
            overhead[self.R :, HC["coordination"]] += ops_hours[self.ops_queue]
            spotted = d.u_flag[due] < hv.red_flag_detection
            flag = review & spotted & (c < hv.mvh_threshold)
            d.flagged[due[review]] = True
            back |= flag
        if back.any():
            b = due[back]
            fix = handover.fix_hours(
                c[back], hv.mvh_threshold, self.rep_skill(d.rep[b]),
                s.behaviour.doc_hours_need, d.complexity[b], hv.fix_factor,
            )  # fmt: skip
            np.add.at(self.pending_rework, d.rep[b], fix)
            d.handover_hours[b] += fix
            d.c_close[b] = np.maximum(c[back], hv.mvh_threshold)
            d.returned[b] = True
            d.trigger[b] = sim_day + max(1, round(hv.return_days))
        overhead[:, HC["coordination"]] += rep_hours
        go = due[~back]
        if len(go):
            self._enter_ops(go, sim_day, overhead, messages)

    def _enter_ops(
        self, idx: np.ndarray, sim_day: int, overhead: np.ndarray, messages: np.ndarray
    ) -> None:
        d, s = self.deals, self.s
        info, cm, m, st = s.info, s.comms, s.market, s.structure
        k = len(idx)
        c = d.c_close[idx]
        reps = d.rep[idx]
        asym_people = self.asym_people
        q_ops_asym = np.bincount(
            self.ops_queue, weights=asym_people[self.R :], minlength=self.n_queues
        )
        q_ops_asym /= np.maximum(self.ops_per_queue, 1.0)
        asym = 0.5 * asym_people[reps] + 0.5 * q_ops_asym[d.queue[idx]]
        questions = information.questions_per_deal(c, asym, info.questions_per_gap)
        # translation champions: limited hours, a queue when demand outruns them
        translated = np.zeros(k)
        wait = np.zeros(k)
        cap = self.champion.sum() * info.champion_hours_per_day
        if cap > 0:
            # deals join the champions' queue while it stays within CHAMPION_BYPASS_DAYS of
            # their capacity; the rest go untranslated rather than wait longer
            demand = questions * info.champion_minutes / 60.0
            ahead = self.champion_backlog + np.cumsum(demand) - demand
            joins = ahead + demand <= information.CHAMPION_BYPASS_DAYS * cap
            translated[joins] = 1.0
            wait[joins] = ahead[joins] / cap
            self.champion_backlog += float(demand[joins].sum())
        p_mis = information.misunderstanding_probability(
            asym,
            info.glossary_effect if info.glossary else 0.0,
            info.eli5_effect if info.eli5 else 0.0,
            translated,
            info.champion_effect,
        )
        misread = d.u_misread[idx] < p_mis
        promise = d.promise[idx]
        base = d.impl_base[idx]
        rework = base * (
            info.misunderstanding_rework * misread
            + m.promise_rework * promise
            + cm.stress_rework * self.ops_interrupts_per_person
        )
        search = information.deal_search_hours(
            c,
            asym,
            info.search_hours_per_gap,
            info.archive_search_cut if info.decision_archive else 0.0,
        )
        # exceptions: settled in the team (half a day) or escalated to a manager (with backlog)
        mean_exc = m.exceptions_per_deal * (1.0 + 2.0 * promise)
        n_exc = _poisson_inverse(d.u_exc[idx], mean_exc)
        authority = st.authority
        in_team = d.u_auth[idx] < authority**n_exc
        escalated = (n_exc > 0) & ~in_team
        esc_latency = st.escalation_days + self.escalation_backlog / st.escalations_per_day
        # exceptions of an escalated deal that go up: E[escalated | at least one] = n(1-a)/(1-a^n)
        n_up = n_exc[escalated] * (1.0 - authority) / (1.0 - authority ** n_exc[escalated])
        self.escalation_backlog += float(n_up.sum())
        exc_latency = np.where(n_exc == 0, 0.0, np.where(in_team, 0.5, esc_latency))
        answer = comms.answer_wait_days(
            questions, cm.strategy == "chat_first", cm.sla_answer_days, cm.urgent_share
        )
        if s.handover.owner:
            answer *= 1.0 - s.handover.owner_answer_speedup
        stall = answer + exc_latency + wait
        # messages: ops questions land on the rep; exceptions cost the rep an hour of talk
        np.add.at(messages, reps, questions)
        if info.eli5:
            np.add.at(overhead[:, HC["coordination"]], reps, questions * info.eli5_minutes / 60.0)
        np.add.at(overhead[:, HC["coordination"]], reps, n_exc * 1.0)
        d.stage[idx] = ONBOARDING
        d.ops_entry[idx] = sim_day
        d.c_ops[idx] = c
        d.questions[idx] = questions
        d.misread[idx] = misread
        d.translated[idx] = translated > 0
        d.n_exc[idx] = n_exc
        d.exc_latency[idx] = exc_latency
        d.rework_h[idx] = rework
        d.search_h[idx] = search
        d.work_total[idx] = base + rework + search
        d.remaining[idx] = d.work_total[idx]
        d.ready[idx] = sim_day + np.ceil(stall).astype(np.int64)
        d.seq[idx] = self.seq_counter + np.arange(k)
        self.seq_counter += k
        np.add.at(self.handovers_done, reps, 1.0)

    def _waiting(self) -> np.ndarray:
        """Closed-won customers not yet activated (in handover or onboarding)."""
        st = self.deals.stage[self.live]
        return self.live[(st == HANDOVER) | (st == ONBOARDING)]

    def _fixed_overheads(self, overhead: np.ndarray) -> None:
        s = self.s
        st, info, hv = s.structure, s.info, s.handover
        coord = st.coordination_minutes_per_link * (self.team_size_of - 1.0) / 60.0
        if self.transition_left > 0:
            coord = coord + st.transition_hours * self.transition_left / max(st.transition_days, 1)
            self.transition_left -= 1
        tools = (int(info.glossary) + int(info.decision_archive)) * info.upkeep_minutes / 60.0
        overhead[:, HC["coordination"]] += coord + tools
        if hv.owner:
            waiting = self._waiting()
            per_rep = np.bincount(self.deals.rep[waiting], minlength=self.R)
            per_rep = per_rep * hv.owner_hours_per_week / 5.0
            overhead[: self.R, HC["coordination"]] += per_rep
        n_champions = int(self.champion.sum())
        if self.champion_backlog > 0 and n_champions == 0:
            self.champion_backlog = 0.0  # champions stood down: their queue is dropped
        elif self.champion_backlog > 0:
            served = min(self.champion_backlog, info.champion_hours_per_day * n_champions)
            overhead[self.champion, HC["coordination"]] += served / n_champions
            self.champion_backlog -= served
        if self.escalation_backlog > 0:
            self.escalation_backlog = max(0.0, self.escalation_backlog - st.escalations_per_day)
        archive = info.archive_search_cut if info.decision_archive else 0.0
        overhead[:, HC["search"]] += information.daily_search_hours(
            self.asym_people, info.search_hours, archive
        )

    def _messages(self, messages: np.ndarray, overhead: np.ndarray) -> None:
        cm, d = self.s.comms, self.deals
        waiting = self._waiting()
        if len(waiting) and cm.status_request_rate > 0:
            per_queue = (
                np.bincount(d.queue[waiting], minlength=self.n_queues) * cm.status_request_rate
            )
            messages[self.R :] += per_queue[self.ops_queue] / np.maximum(
                self.ops_per_queue[self.ops_queue], 1.0
            )
            messages[: self.R] += (
                np.bincount(d.rep[waiting], minlength=self.R) * cm.status_request_rate * 0.5
            )
        inter, handling, resumption = comms.message_load(
            messages, cm.strategy == "chat_first", cm.handling_minutes, cm.resumption_minutes,
            cm.deep_work_share, cm.urgent_share, cm.batch_handling_factor,
        )  # fmt: skip
        overhead[:, HC["interruptions"]] += handling + resumption
        self.interruptions_today = float(inter.sum()) / self.N
        self.ops_interrupts_per_person = float(inter[self.R :].mean())
        self._inter_sum = float(inter.sum())

    def _allocate(self, overhead: np.ndarray) -> np.ndarray:
        """Split the paid day: overheads first, then each person's plan over the rest."""
        day = HOURS_PER_DAY
        total = overhead.sum(axis=1)
        scale = np.where(total > day, day / np.maximum(total, 1e-12), 1.0)
        hours = overhead * scale[:, None]
        free = day - hours.sum(axis=1)
        hours[:, HC["core"]] = free * self.shares[:, inc.CORE]
        hours[:, HC["quality"]] = free * self.shares[:, inc.QUALITY]
        hours[:, HC["help"]] = free * self.shares[:, inc.HELP]
        hours[:, HC["slack"]] = free * self.shares[:, inc.SLACK]
        return hours

    def _sell(self, sim_day: int, hours: np.ndarray) -> None:
        """Selling and documenting move open deals; decisions at the end of the selling work."""
        d, s, R = self.deals, self.s, self.R
        m, b = s.market, s.behaviour
        open_ = self.live[d.stage[self.live] == OPEN]
        self.won_today = self.lost_today = 0.0
        if len(open_) == 0:
            hours[:R, HC["idle"]] = hours[:R, HC["core"]]  # nothing to sell
            hours[:R, HC["core"]] = 0.0
            return
        reps = d.rep[open_]
        n_open = np.bincount(reps, minlength=R).astype(float)
        help_q = np.bincount(self.ops_queue, weights=hours[R:, HC["help"]], minlength=self.n_queues)
        collab_q = np.bincount(
            self.ops_queue, weights=hours[R:, HC["quality"]], minlength=self.n_queues
        )
        rep_group = self.queue_of_rep if self.cross_functional else np.zeros(R, dtype=np.int64)
        open_per_group = np.bincount(rep_group[reps], minlength=self.n_queues).astype(float)
        help_per_deal = help_q * b.help_efficiency / np.maximum(open_per_group, 1.0)
        per_deal_collab = (collab_q / np.maximum(open_per_group, 1.0))[rep_group[reps]]
        # selling: each rep works their oldest opportunities first (a buyer absorbs a few hours a
        # day); ops' pre-sales help joins the rep's hours; hours with no deal to work are idle
        sell_cap = hours[:R, HC["core"]].copy()
        help_rep = help_per_deal[rep_group] * n_open  # ops pre-sales help reaching each rep
        served = fifo_serve(
            reps, open_, d.sell_need[open_] - d.sell_done[open_], sell_cap + help_rep,
            m.max_selling_hours_per_deal_day,
        )  # fmt: skip
        d.sell_done[open_] += served
        used = np.minimum(np.bincount(reps, weights=served, minlength=R), sell_cap)
        hours[:R, HC["idle"]] = sell_cap - used
        hours[:R, HC["core"]] = used
        # documentation and ops' scoping review spread over the pipeline (realistic scoping)
        doc = hours[:R, HC["quality"]] / np.maximum(n_open, 1.0)
        d.doc_hours[open_] += doc[reps] + per_deal_collab
        age = sim_day - d.created[open_] + 1
        stale = age * m.stale_hazard > d.stale_budget[open_]
        decided = ~stale & (d.sell_done[open_] >= d.sell_need[open_])
        lost_idx = open_[stale]
        dec = open_[decided]
        if len(dec):
            # a rep oversells a share ``promise`` of their deals; an oversold deal wins more often
            promise = (d.u_oversell[dec] < self.promise[d.rep[dec]]).astype(float)
            logit = math.log(m.win_base / (1.0 - m.win_base)) + m.overpromise_win_lift * promise
            p_win = 1.0 / (1.0 + np.exp(-logit))
            win = d.u_win[dec] < p_win
            won = dec[win]
            lost_idx = np.concatenate((lost_idx, dec[~win]))
            if len(won):
                wr = d.rep[won]
                d.stage[won] = HANDOVER
                d.closed[won] = sim_day
                d.promise[won] = promise[win]
                d.queue[won] = self.queue_of_rep[wr]
                d.c_close[won] = handover.completeness(
                    d.doc_hours[won], self.rep_skill(wr), b.doc_hours_need, d.complexity[won]
                )
                if s.handover.auto_trigger:
                    delay = np.zeros(len(won), dtype=np.int64)
                else:
                    delay = np.round(
                        -np.log1p(-d.u_trigger[won]) * s.handover.manual_trigger_days
                    ).astype(np.int64)
                d.trigger[won] = sim_day + delay
                np.add.at(self.period["bookings"], wr, d.value[won])
                self.won_today = float(len(won))
        if len(lost_idx):
            d.stage[lost_idx] = LOST
            d.closed[lost_idx] = sim_day
            self.lost_today = float(len(lost_idx))

    def _serve(self, sim_day: int, hours: np.ndarray) -> None:
        """Ops hours (plus reps' help) serve each queue first come first served."""
        d, R = self.deals, self.R
        b = self.s.behaviour
        deliver = hours[R:, HC["core"]]
        cap_ops = np.bincount(self.ops_queue, weights=deliver, minlength=self.n_queues)
        rep_help = (
            np.bincount(self.queue_of_rep, weights=hours[:R, HC["help"]], minlength=self.n_queues)
            * b.help_efficiency
        )
        capacity = cap_ops + rep_help
        live = self.live
        elig = live[(d.stage[live] == ONBOARDING) & (d.ready[live] <= sim_day)]
        self.activated_today = 0.0
        self._served_today = np.zeros(0, dtype=np.int64)
        used_q = np.zeros(self.n_queues)
        rework_q = np.zeros(self.n_queues)
        search_q = np.zeros(self.n_queues)
        if len(elig):
            served = fifo_serve(
                d.queue[elig],
                d.seq[elig],
                d.remaining[elig],
                capacity,
                self.s.market.max_hours_per_deal_day,
            )
            q = d.queue[elig]
            total = d.work_total[elig]
            used_q = np.bincount(q, weights=served, minlength=self.n_queues)
            rework_q = np.bincount(
                q, weights=served * d.rework_h[elig] / total, minlength=self.n_queues
            )
            search_q = np.bincount(
                q, weights=served * d.search_h[elig] / total, minlength=self.n_queues
            )
            d.remaining[elig] -= served
            self._served_today = elig[served > 0]
            done = elig[d.remaining[elig] <= 1e-9]
            if len(done):
                d.stage[done] = ACTIVATED
                d.done[done] = sim_day
                np.add.at(self.period["activated"], d.rep[done], d.value[done])
                self.activated_today = float(len(done))
        # book queue hours back to people: ops first, reps' help after
        ops_share = np.where(
            capacity > 0, np.minimum(used_q, cap_ops) / np.maximum(cap_ops, 1e-12), 0.0
        )
        frac_rework = np.where(used_q > 0, rework_q / np.maximum(used_q, 1e-12), 0.0)
        frac_search = np.where(used_q > 0, search_q / np.maximum(used_q, 1e-12), 0.0)
        oq = self.ops_queue
        used = deliver * ops_share[oq]
        hours[R:, HC["idle"]] = deliver - used
        hours[R:, HC["rework"]] += used * frac_rework[oq]
        hours[R:, HC["search"]] += used * frac_search[oq]
        hours[R:, HC["core"]] = used * (1.0 - frac_rework[oq] - frac_search[oq])
        self.period["delivery"] += hours[R:, HC["core"]]
        self.ops_utilisation_today = float(used_q.sum() / max(capacity.sum(), 1e-12))

    def _churn(self, sim_day: int) -> None:
        d, s = self.deals, self.s
        m, hv = s.market, s.handover
        act = self._waiting()
        self.churned_today = 0.0
        if len(act) == 0:
            return
        onboarding = d.stage[act] == ONBOARDING
        served = np.zeros(len(d.stage), dtype=bool)
        served[self._served_today] = True
        waiting = ~served[act]
        c = np.where(onboarding, d.c_ops[act], 1.0)
        h = churn.daily_hazard(
            (sim_day - d.closed[act]).astype(float), waiting.astype(float), d.promise[act], c,
            onboarding.astype(float),
            base=m.churn_base_hazard, early=m.churn_early_multiplier, early_days=m.churn_early_days,
            wait=m.churn_wait_hazard, owner_contact=hv.owner_contact_effect if hv.owner else 0.0,
            gap=m.churn_gap_hazard, info=m.churn_info_hazard,
        )  # fmt: skip
        d.cum_hazard[act] += h
        gone = act[d.cum_hazard[act] > d.patience[act]]
        if len(gone):
            d.stage[gone] = CHURNED
            d.done[gone] = sim_day
            self.churned_today = float(len(gone))
            if s.coaching.postmortems:
                reps = d.rep[gone]
                np.add.at(self.pending_overhead, reps, s.coaching.postmortem_hours)
                np.add.at(self.pending_overhead, self._ops_for(gone), s.coaching.postmortem_hours)
                np.add.at(self.skill_lessons, reps, s.coaching.postmortem_gain)

    def _ops_for(self, deals: np.ndarray) -> np.ndarray:
        """One ops person of each deal's queue, rotating through the queue by deal id."""
        q = self.deals.queue[deals]
        order = np.argsort(self.ops_queue, kind="stable")  # ops rows grouped by queue
        start = np.concatenate(([0], np.cumsum(self.ops_per_queue.astype(np.int64))[:-1]))
        count = np.maximum(self.ops_per_queue.astype(np.int64), 1)
        return self.R + order[start[q] + deals % count[q]]

    def _book(self, hours: np.ndarray, measuring: bool) -> None:
        d = self.deals
        self.period["help"] += hours[:, HC["help"]]
        # practice: share of recent days with hands-on cross-functional work (keeps coaching
        # gains alive): reps documenting handovers, ops delivering onboarding work
        did = np.where(
            self.is_rep,
            hours[:, HC["quality"]] >= PRACTICE_HOURS_REP,
            hours[:, HC["core"]] >= PRACTICE_HOURS_OPS,
        )
        self.practice += PRACTICE_RATE * (did - self.practice)
        if measuring:
            self.hours += hours
            self.interruptions_total += self._inter_sum
        by_cat = (hours.sum(axis=0) / (self.N * HOURS_PER_DAY)).tolist()
        self.loss_share_today = sum(by_cat[i] for i in LOSS_COLUMNS)
        self.help_share_today = by_cat[HC["help"]]
        self.slack_share_today = by_cat[HC["slack"]]
        self.quality_share_today = by_cat[HC["quality"]]
        self.mean_promise = float(self.promise[: self.R].mean())
        # drop deals that reached a final stage today from the live set
        st = d.stage[self.live]
        keep = (st == OPEN) | (st == HANDOVER) | (st == ONBOARDING)
        self.live = self.live[keep]
        counts = np.bincount(st[keep], minlength=ONBOARDING + 1)
        self.open_opportunities = float(counts[OPEN])
        self.handover_backlog = float(counts[HANDOVER])
        self.onboarding_wip = float(counts[ONBOARDING])


def _attain(actual: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Actual over target, 0 where there is no target."""
    t = np.asarray(target, dtype=float)
    return np.divide(actual, t, out=np.zeros(np.shape(actual)), where=t > 0)


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
    from simulation.loader import load_scenario  # file and YAML handling live in the loader

    return load_scenario(scenario)


def _poisson_inverse(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson counts by inverse transform of pre-drawn uniforms (keeps draws per deal fixed).

    The support is cut where the upper tail is negligible (mean + 10 sd + 10).
    """
    if len(mean) == 0:
        return np.zeros(0, dtype=np.int64)
    top = float(mean.max())
    kmax = int(top + 10.0 * math.sqrt(top) + 10.0)
    k = np.arange(kmax)
    lgamma = _lgamma_table(kmax)
    logpmf = k[None, :] * np.log(np.maximum(mean, 1e-300))[:, None] - mean[:, None] - lgamma
    cdf = np.cumsum(np.exp(logpmf), axis=1)
    return (u[:, None] > cdf).sum(axis=1)


@functools.cache
def _lgamma_table(kmax: int) -> np.ndarray:
    return np.array([math.lgamma(k + 1) for k in range(kmax)])[None, :]
