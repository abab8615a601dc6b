"""Scenario loading: every user mistake gives a message naming file, key and rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulation.scenario.config import WEIGHT_TOLERANCE, Scenario, lever_keys
from simulation.scenario.loader import ScenarioError, load_scenario, parse_set_option, scenario_hash


def error_of(source, overrides=None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    message = str(info.value)
    assert "\n" not in message, "an error is one paragraph"
    return message


# ------------------------------------------------------------------------------------------
# Reading YAML
# ------------------------------------------------------------------------------------------


def test_minimal_file_takes_defaults_and_name_from_stem(write_yaml):
    s = load_scenario(write_yaml("my_plan.yaml", "horizon_days: 40\n"))
    assert s.name == "my_plan"
    assert s.horizon_days == 40
    assert s.org == Scenario().org


def test_explicit_name_wins_over_stem(write_yaml):
    assert load_scenario(write_yaml("x.yaml", "name: Team pay\n")).name == "Team pay"


def test_yaml_syntax_error_names_file_and_line(write_yaml):
    path = write_yaml("bad.yaml", "horizon_days: 40\norg:\n  sales_reps: [1, 2\n")
    message = error_of(path)
    assert "bad.yaml" in message
    assert "YAML syntax error" in message
    assert re.search(r"line \d+", message)


def test_yaml_syntax_error_line_is_the_offending_line(write_yaml):
    message = error_of(write_yaml("bad.yaml", "horizon_days: 40\nwarmup_days: 1: 2\n"))
    assert "line 2" in message


def test_duplicate_top_level_key_is_refused(write_yaml):
    path = write_yaml("dup.yaml", "horizon_days: 40\nwarmup_days: 5\nhorizon_days: 50\n")
    message = error_of(path)
    assert "duplicate key 'horizon_days'" in message
    assert "dup.yaml" in message
    assert "line 3" in message and "first defined at line 1" in message


def test_duplicate_nested_key_is_refused(write_yaml):
    path = write_yaml("dup.yaml", "org:\n  sales_reps: 10\n  ops_staff: 8\n  sales_reps: 12\n")
    message = error_of(path)
    assert "duplicate key 'sales_reps'" in message and "line 4" in message


def test_yaml_merge_keys_are_not_duplicates(write_yaml):
    text = "org: &o\n  sales_reps: 10\n  <<: {ops_staff: 9}\n"
    s = load_scenario(write_yaml("merge.yaml", text))
    assert (s.org.sales_reps, s.org.ops_staff) == (10, 9)


@pytest.mark.parametrize(
    ("text", "found"),
    [("- horizon_days: 40\n", "list"), ("just a string\n", "string"), ("42\n", "int")],
)
def test_top_level_must_be_a_mapping(write_yaml, text, found):
    message = error_of(write_yaml("top.yaml", text))
    assert "top level must be a mapping" in message and f"not a {found}" in message
    assert "top.yaml" in message


def test_empty_file_is_refused_with_a_hint(write_yaml):
    message = error_of(write_yaml("empty.yaml", "# nothing here\n"))
    assert "empty" in message and "{}" in message


def test_empty_mapping_means_all_defaults(write_yaml):
    s = load_scenario(write_yaml("defaults.yaml", "{}\n"))
    assert s.model_dump(exclude={"name", "label"}) == Scenario().model_dump(
        exclude={"name", "label"}
    )


def test_missing_file_names_the_path(tmp_path):
    message = error_of(tmp_path / "nope.yaml")
    assert "not found" in message and "nope.yaml" in message


def test_directory_is_not_a_scenario(tmp_path):
    assert "directory" in error_of(tmp_path)


def test_exponent_without_dot_is_a_number(write_yaml):
    s = load_scenario(write_yaml("e.yaml", "market:\n  churn_base_hazard: 5e-4\n"))
    assert s.market.churn_base_hazard == pytest.approx(5e-4)


# ------------------------------------------------------------------------------------------
# Validation messages
# ------------------------------------------------------------------------------------------


def test_unknown_key_lists_valid_keys(write_yaml):
    message = error_of(write_yaml("typo.yaml", "org:\n  sales_rep: 10\n"))
    assert "typo.yaml" in message
    assert "org.sales_rep" in message and "unknown key" in message
    assert "sales_reps" in message and "ops_staff" in message


def test_out_of_range_value_names_key_and_bound(write_yaml):
    message = error_of(write_yaml("range.yaml", "structure:\n  escalation_days: -1\n"))
    assert "structure.escalation_days" in message
    assert "greater than or equal to 0" in message


def test_exclusive_bound_is_named(write_yaml):
    message = error_of(write_yaml("range.yaml", "market:\n  win_base: 1.0\n"))
    assert "market.win_base" in message and "less than 1" in message


def test_weights_not_summing_to_one_show_the_sum(write_yaml):
    text = "incentives:\n  weights: {individual: 0.5, team: 0.3, company: 0.1}\n"
    message = error_of(write_yaml("w.yaml", text))
    assert "incentives.weights" in message
    assert "sum to 1" in message and "= 0.9" in message


def test_team_size_outside_kind_range(write_yaml):
    message = error_of(write_yaml("pod.yaml", "structure:\n  kind: pod\n  team_size: 8\n"))
    assert "structure" in message and "team_size 8" in message
    assert "'pod' (3-5)" in message


def test_invalid_intervention_key(write_yaml):
    text = """
        interventions:
          - day: 10
            set: {incentives.weights.teem: 0.3}
    """
    message = error_of(write_yaml("iv.yaml", text))
    assert "interventions[0].set" in message
    assert "teem" in message and "team" in message  # names the bad part and the valid keys


def test_intervention_that_breaks_a_rule(write_yaml):
    text = """
        interventions:
          - day: 10
            set: {incentives.weights.team: 0.3}
    """
    message = error_of(write_yaml("iv.yaml", text))
    assert "interventions[0]" in message and "sum to 1" in message


def test_all_errors_reported_at_once(write_yaml):
    text = "horizon_days: 5\norg:\n  sales_rep: 1\n"
    message = error_of(write_yaml("many.yaml", text))
    assert "horizon_days" in message and "org.sales_rep" in message


# ------------------------------------------------------------------------------------------
# extends
# ------------------------------------------------------------------------------------------

PARENT = """
    name: parent
    description: the base
    horizon_days: 120
    structure:
      kind: squad
      team_size: 8
      escalation_days: 4
    incentives:
      weights: {individual: 0.5, team: 0.5}
    interventions:
      - {day: 5, set: {handover.mvh: true}}
      - {day: 6, set: {handover.red_flag: true}}
"""


def test_extends_child_overrides_one_nested_key(write_yaml):
    write_yaml("base/parent.yaml", PARENT)
    child = write_yaml("child.yaml", "extends: base/parent.yaml\nstructure:\n  team_size: 10\n")
    s = load_scenario(child)
    assert s.structure.team_size == 10  # child wins
    assert s.structure.kind == "squad" and s.structure.escalation_days == 4  # siblings kept
    assert s.horizon_days == 120 and s.incentives.weights.team == 0.5  # other sections kept
    assert s.description == "the base"
    assert s.name == "child"  # a child is named after its own file, not its parent


def test_extends_replaces_lists(write_yaml):
    write_yaml("parent.yaml", PARENT)
    child = write_yaml(
        "child.yaml",
        "extends: parent.yaml\ninterventions:\n  - {day: 9, set: {comms.strategy: channel_sla}}\n",
    )
    s = load_scenario(child)
    assert [iv.day for iv in s.interventions] == [9]


def test_extends_chains_relative_to_each_file(write_yaml):
    write_yaml("a/grand.yaml", "warmup_days: 7\nhorizon_days: 30\n")
    write_yaml("a/b/parent.yaml", "extends: ../grand.yaml\nhorizon_days: 40\n")
    child = write_yaml("child.yaml", "extends: a/b/parent.yaml\nname: kid\n")
    s = load_scenario(child)
    assert (s.warmup_days, s.horizon_days, s.name) == (7, 40, "kid")


def test_extends_cycle_is_reported(write_yaml):
    write_yaml("a.yaml", "extends: b.yaml\n")
    write_yaml("b.yaml", "extends: c.yaml\n")
    c = write_yaml("c.yaml", "extends: a.yaml\n")
    message = error_of(c)
    assert "extends cycle" in message
    assert all(n in message for n in ("a.yaml", "b.yaml", "c.yaml"))


def test_extending_itself_is_a_cycle(write_yaml):
    assert "extends cycle" in error_of(write_yaml("me.yaml", "extends: me.yaml\n"))


def test_extends_missing_file(write_yaml):
    message = error_of(write_yaml("child.yaml", "extends: ghost.yaml\n"))
    assert "child.yaml" in message and "ghost.yaml" in message and "not found" in message


def test_extends_must_be_a_path(write_yaml):
    message = error_of(write_yaml("child.yaml", "extends: [a.yaml, b.yaml]\n"))
    assert "extends must be the path of one scenario file" in message


def test_error_in_parent_names_the_parent(write_yaml):
    write_yaml("parent.yaml", "structure:\n  escalation_days: 99\n")
    message = error_of(write_yaml("child.yaml", "extends: parent.yaml\n"))
    assert "structure.escalation_days" in message and "value from" in message
    assert "parent.yaml" in message


def test_extends_in_a_mapping_is_relative_to_cwd(write_yaml, monkeypatch, tmp_path):
    write_yaml("parent.yaml", "horizon_days: 33\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario({"extends": "parent.yaml"}).horizon_days == 33


# ------------------------------------------------------------------------------------------
# Overrides and --set parsing
# ------------------------------------------------------------------------------------------


def test_overrides_apply_after_extends_and_before_validation(write_yaml):
    write_yaml("parent.yaml", PARENT)
    child = write_yaml("child.yaml", "extends: parent.yaml\n")
    # On its own each override breaks the weights rule; together they are valid.
    s = load_scenario(child, {"incentives.weights.individual": 0.2, "incentives.weights.team": 0.8})
    assert (s.incentives.weights.individual, s.incentives.weights.team) == (0.2, 0.8)
    assert s.structure.kind == "squad"


def test_override_unknown_key_lists_valid_keys(write_yaml):
    message = error_of(write_yaml("x.yaml", "{}\n"), {"handover.mhv": True})
    assert "x.yaml" in message and "handover.mhv" in message
    assert "mvh" in message and "red_flag" in message


def test_override_cannot_set_interventions(write_yaml):
    assert "interventions" in error_of(write_yaml("x.yaml", "{}\n"), {"interventions": []})


def test_invalid_override_value_is_attributed_to_the_override(write_yaml):
    message = error_of(write_yaml("x.yaml", "{}\n"), {"comms.strategy": "email_first"})
    assert "comms.strategy" in message and "override" in message


@pytest.mark.parametrize(
    ("option", "key", "value"),
    [
        ("handover.mvh=true", "handover.mvh", True),
        ("incentives.weights.team=0.3", "incentives.weights.team", 0.3),
        ("comms.strategy=chat_first", "comms.strategy", "chat_first"),
        ("org.sales_reps=12", "org.sales_reps", 12),
        ("market.churn_base_hazard=1e-3", "market.churn_base_hazard", 1e-3),
        ("structure.decision_authority=null", "structure.decision_authority", None),
        ("description=a=b", "description", "a=b"),
        (" horizon_days = 40", "horizon_days", 40),
    ],
)
def test_parse_set_option_types_values_as_yaml(option, key, value):
    parsed = parse_set_option(option)
    assert parsed == (key, value)
    assert type(parsed[1]) is type(value)


@pytest.mark.parametrize("option", ["handover.mvh", "=3", "a b=3", ""])
def test_parse_set_option_rejects_malformed(option):
    with pytest.raises(ScenarioError, match=re.escape("expected dotted.key=value")):
        parse_set_option(option)


@pytest.mark.parametrize("option", ["org=[1, 2]", "org={sales_reps: 3}"])
def test_parse_set_option_rejects_collections(option):
    with pytest.raises(ScenarioError, match="single number"):
        parse_set_option(option)


def test_parse_set_option_bad_yaml_value():
    with pytest.raises(ScenarioError, match="--set"):
        parse_set_option("description='unterminated")


def test_set_values_typed_end_to_end(write_yaml):
    overrides = dict(
        map(parse_set_option, ["handover.mvh=true", "comms.strategy=channel_sla", "info.eli5=on"])
    )
    s = load_scenario(write_yaml("x.yaml", "{}\n"), overrides)
    assert s.handover.mvh is True and s.comms.strategy == "channel_sla" and s.info.eli5 is True


# ------------------------------------------------------------------------------------------
# Other sources, hash
# ------------------------------------------------------------------------------------------


def test_mapping_source_is_not_mutated():
    data = {"incentives": {"weights": {"individual": 1.0}}}
    load_scenario(data, {"incentives.weights.individual": 0.5, "incentives.weights.team": 0.5})
    assert data == {"incentives": {"weights": {"individual": 1.0}}}


def test_scenario_source_with_overrides_keeps_interventions(write_yaml):
    s = load_scenario(write_yaml("p.yaml", PARENT))
    changed = load_scenario(s, {"horizon_days": 200})
    assert changed.horizon_days == 200 and len(changed.interventions) == 2
    assert s.horizon_days == 120


def test_unsupported_source_type():
    with pytest.raises(TypeError):
        load_scenario(42)  # type: ignore[arg-type]


def test_scenario_hash_is_stable_and_sensitive(write_yaml):
    from_file = load_scenario(write_yaml("h.yaml", "name: h\nhandover: {mvh: true}\n"))
    from_dict = load_scenario({"name": "h", "handover": {"mvh": True}})
    digest = scenario_hash(from_file)
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert digest == scenario_hash(from_dict)
    assert digest != scenario_hash(load_scenario(from_file, {"handover.mvh_threshold": 0.8}))


def test_every_lever_can_be_overridden_with_its_default():
    defaults = Scenario()
    from simulation.scenario.config import get_dotted

    overrides = {key: get_dotted(defaults, key) for key in lever_keys()}
    assert load_scenario({}, overrides).model_dump() == defaults.model_dump()


# ------------------------------------------------------------------------------------------
# The weights rule, property-based
# ------------------------------------------------------------------------------------------

unit = st.floats(min_value=0, max_value=1, allow_nan=False)
raw_weights = st.tuples(unit, unit, unit, unit)
normalised_weights = raw_weights.filter(lambda w: sum(w) > 0).map(
    lambda w: tuple(x / sum(w) for x in w)
)


@st.composite
def near_boundary(draw):
    """Weights whose sum lands within a few tolerances of 1, to probe the boundary."""
    a, b, c = (draw(st.floats(0, 0.33)) for _ in range(3))
    d = 1 - a - b - c + draw(st.floats(-3 * WEIGHT_TOLERANCE, 3 * WEIGHT_TOLERANCE))
    return (a, b, c, min(1.0, max(0.0, d)))


@given(st.one_of(raw_weights, normalised_weights, near_boundary()))
def test_weights_accepted_iff_they_sum_to_one(weights):
    individual, team, company, silo_buster = weights
    total = individual + team + company + silo_buster  # same order as the schema sums
    data = {
        "incentives": {
            "weights": {
                "individual": individual,
                "team": team,
                "company": company,
                "silo_buster": silo_buster,
            }
        }
    }
    if abs(total - 1) <= WEIGHT_TOLERANCE:
        assert load_scenario(data).incentives.weights.as_array() == list(weights)
    else:
        with pytest.raises(ScenarioError, match=re.escape(f"= {total:.10g}")):
            load_scenario(data)


def test_path_given_as_string(write_yaml):
    path = write_yaml("s.yaml", "{}\n")
    assert load_scenario(str(path)).name == load_scenario(Path(path)).name == "s"
