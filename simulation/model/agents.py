"""SalesRep and OpsStaff: the people, and how they decide where their hours go.

Each agent is a Mesa ``Agent``; its state (time allocation, beliefs about the bonus plan, norms,
skills) lives in the per-person arrays of the mechanisms' states (``incentives.Incentives``,
``coaching.Learning``, ``structure.Structure``) at row ``agent.idx`` so that the daily flow of
thousands of deals stays vectorised. Decisions are made at a weekly review: every agent of a
type revises its plan with the same boundedly rational rule, evaluated for the whole
``AgentSet`` at once (``review``). Roles such as translation champion are attributes.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from simulation.model import incentives as inc


class Person(mesa.Agent):
    """Common view of a person's state in the model arrays."""

    elasticity: np.ndarray = inc.ELASTICITY_REP

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx
        self.is_champion = False

    @property
    def shares(self) -> dict[str, float]:
        """Current time allocation over tasks (core, quality, help, slack)."""
        return dict(zip(inc.TASKS, self.model.plans.shares[self.idx].tolist(), strict=True))

    @property
    def beliefs(self) -> dict[str, float]:
        """Perceived value of each bonus component, learnt from realised payouts."""
        return dict(zip(inc.COMPONENTS, self.model.plans.beliefs[self.idx].tolist(), strict=True))

    @property
    def team(self) -> int:
        return int(self.model.org.team[self.idx])

    @property
    def payout_total(self) -> float:
        """Bonus received so far in the measured window."""
        return float(self.model.plans.payouts[self.idx].sum())

    @classmethod
    def review(cls, agents: mesa.agent.AgentSet, plans: inc.Incentives, team: np.ndarray,
               n_teams: int, s: Any) -> None:  # fmt: skip
        """Weekly review for every agent in ``agents`` (an AgentSet of this type).

        Preferred allocation = the scenario's choice rule (``behaviour.choice_rule``) over
        perceived marginal returns (bonus pull + norms), pulled towards teammates' cooperative
        effort; each agent closes ``adapt_rate`` of the
        gap between its current and preferred allocation. The rule is the same for each agent
        and evaluated for the whole set at once, on the plans in ``plans`` (scenario ``s``).
        """
        idx = np.fromiter(agents.get("idx"), dtype=np.int64, count=len(agents))
        b = s.behaviour
        ret = inc.marginal_returns(
            plans.beliefs[idx],
            plans.attrib[idx],
            plans.kpi_kind[idx],
            cls.elasticity,
            plans.norms[idx],
            inc.bonus_scale(s),
        )
        if b.choice_rule == "logit":
            pref = inc.logit_shares(ret, b.logit_beta)
        else:
            pref = inc.budget_shares(ret, b.effort_elasticity, plans.reference_returns)
        pref = _cooperate(plans, idx, pref, team, n_teams, b.conditional_cooperation)
        plans.shares[idx] += b.adapt_rate * (pref - plans.shares[idx])
        cls._review_extra(plans, idx, s)

    @classmethod
    def _review_extra(cls, plans: inc.Incentives, idx: np.ndarray, s: Any) -> None:
        """Role-specific decisions beyond the time allocation."""


def _cooperate(plans: inc.Incentives, idx: np.ndarray, pref: np.ndarray, team: np.ndarray,
               n_teams: int, slope: float) -> np.ndarray:  # fmt: skip
    """Conditional cooperation against the current effort of everyone in the same team."""
    full = plans.shares.copy()
    full[idx] = pref
    out = inc.conditional_cooperation(full, plans.shares, team, n_teams, slope)
    return out[idx]


class SalesRep(Person):
    """Sells, documents the handover, helps ops; chooses how far to oversell."""

    elasticity = inc.ELASTICITY_REP

    @property
    def promise(self) -> float:
        """Promise inflation (0 = honest scope)."""
        return float(self.model.plans.promise[self.idx])

    @property
    def handover_skill(self) -> float:
        return float(self.model.rep_skill(np.array([self.idx]))[0])

    @classmethod
    def _review_extra(cls, plans: inc.Incentives, idx: np.ndarray, s: Any) -> None:
        b = s.behaviour
        if b.overpromise_max <= 0.0:
            plans.promise[idx] = 0.0
            return
        ret = inc.promise_return(
            plans.beliefs[idx],
            plans.attrib[idx],
            plans.kpi_kind[idx],
            inc.bonus_scale(s),
            plans.honesty[idx],
        )
        pref = b.overpromise_max / (1.0 + np.exp(-b.logit_beta * ret))
        plans.promise[idx] += b.adapt_rate * (pref - plans.promise[idx])


class OpsStaff(Person):
    """Delivers onboarding work from a queue, reviews scoping with sales, helps sales."""

    elasticity = inc.ELASTICITY_OPS
