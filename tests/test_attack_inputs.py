"""Hostile and odd inputs: every one is refused with one bounded line and exit code 2.

Cases that could exhaust memory or recurse without end (alias bombs, deep nesting, long
``extends`` chains) run in a child process under a memory cap and a timeout (``sandbox``), so a
regression fails one test instead of taking the machine down.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox import run_limited

from simulation.batch.design import (
    SweepError,
    SweepSpec,
    build_design,
    load_sweep,
    parse_axis,
    slug,
)
from simulation.cli import main as cli
from simulation.scenario.config import Scenario, get_dotted, lever_table
from simulation.scenario.loader import ScenarioError, load_scenario, parse_set_option

MAX_ERROR = 2000  # characters: far more than any honest message, far less than an echoed file
NUMBER_KEYS = [r["key"] for r in lever_table() if r["type"] in ("int", "float", "float | None")]
MONEY_KEYS = ["org.rep_salary", "org.ops_salary", "market.deal_value"]


def error_of(source, overrides=None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    message = str(info.value)
    assert "\n" not in message
    assert len(message) < MAX_ERROR, f"unbounded message ({len(message)} chars)"
    return message


def assert_one_line_exit_2(outcome) -> None:
    """The CLI refused the input as a user error: exit 2, one short ``error:`` line."""
    assert not outcome.timed_out, "timed out"
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert outcome.returncode == 2, (outcome.returncode, outcome.stderr[-2000:])
    assert outcome.stderr.startswith("error: ")
    assert outcome.stderr.count("\n") == 1, outcome.stderr[:2000]
    assert len(outcome.stderr) < MAX_ERROR


def cli_error(args: list[str], capsys) -> str:
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert len(err) < MAX_ERROR
    return err


# ------------------------------------------------------------------------------------------
# 1. Every number is finite and bounded
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", MONEY_KEYS)
@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e308", "1.0e13"])
def test_money_fields_refuse_infinite_and_huge_values(write_yaml, key, value):
    section, field = key.split(".")
    message = error_of(write_yaml("money.yaml", f"{section}:\n  {field}: {value}\n"))
    assert key in message


@pytest.mark.parametrize("key", MONEY_KEYS)
def test_money_fields_take_any_currency_up_to_a_trillion(key):
    assert math.isclose(get_dotted(load_scenario({}, {key: 1e12}), key), 1e12)


def test_every_number_lever_has_finite_bounds_shown_in_levers():
    rows = [r for r in lever_table() if r["key"] in NUMBER_KEYS]
    assert len(rows) > 100
    for r in rows:
        if r["key"] == "structure.team_size":
            continue  # shown as the per-kind ranges
        assert "inf" not in r["range"], r
    money = {r["key"]: r["range"] for r in rows if r["key"] in MONEY_KEYS}
    assert money == dict.fromkeys(MONEY_KEYS, "(0, 1e+12]")


def test_validate_refuses_infinite_salary(write_yaml, capsys):
    err = cli_error(["validate", str(write_yaml("s.yaml", "org:\n  rep_salary: .inf\n"))], capsys)
    assert "org.rep_salary" in err


@settings(max_examples=60, deadline=None)
@given(
    key=st.sampled_from(NUMBER_KEYS),
    value=st.sampled_from([math.inf, -math.inf, math.nan, True, False]),
)
def test_no_number_lever_accepts_inf_nan_or_bool(key, value):
    message = error_of({}, {key: value})
    assert key in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("handover:\n  mvh_threshold: true\n", "handover.mvh_threshold"),
        ("org:\n  sales_reps: yes\n", "org.sales_reps"),
        ("interventions:\n  - day: true\n    set: {info.glossary: true}\n", "interventions[0].day"),
    ],
)
def test_true_is_not_a_number(write_yaml, text, key):
    message = error_of(write_yaml("b.yaml", text))
    assert key in message and "true/false" in message


def test_true_stays_valid_for_switches(write_yaml):
    assert load_scenario(write_yaml("ok.yaml", "handover:\n  mvh: true\n")).handover.mvh is True


@pytest.mark.parametrize(
    ("label", "raw", "where"),
    [
        ("incentives.weights", {"simplex": 0.1, "fix": {"team": True}}, "fix.team"),
        ("x", {"sample": "lhs", "n": 4, "ranges": {"market.deal_value": [True, 5]}}, "ranges"),
        ("x", {"sample": "lhs", "n": 4, "ranges": {"market.deal_value": [1, False]}}, "ranges"),
    ],
)
def test_true_is_not_a_number_inside_sweep_axes(label, raw, where):
    with pytest.raises(SweepError) as info:
        parse_axis(label, raw)
    message = str(info.value)
    assert f"axes.{label}.{where}" in message and "true/false" in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("org.rep_salary", 90_000, 90_000.0),  # a YAML int for a float field
        ("org.rep_salary", "90000", 90_000.0),  # a quoted number
        ("org.sales_reps", "12", 12),
        ("org.sales_reps", 12.0, 12),  # a whole float for an int field
        ("structure.decision_authority", 1, 1.0),
    ],
)
def test_numbers_accepted_before_are_still_accepted(key, value, expected):
    got = get_dotted(load_scenario({}, {key: value}), key)
    assert got == expected and type(got) is type(expected)


# ------------------------------------------------------------------------------------------
# 4. Sexagesimal numbers: 30:00 is text, not 1800
# ------------------------------------------------------------------------------------------


def test_colon_number_is_text_not_base_60(write_yaml):
    message = error_of(write_yaml("t.yaml", "comms:\n  handling_minutes: 30:00\n"))
    assert "comms.handling_minutes" in message
    assert "30:00" in message and "number" in message
    assert "less than or equal" not in message  # it was read as 1800 before


def test_set_option_keeps_colon_numbers_as_text():
    assert parse_set_option("comms.handling_minutes=30:00") == ("comms.handling_minutes", "30:00")
    assert parse_set_option("market.deal_value=1:30.5")[1] == "1:30.5"


def test_set_colon_number_is_refused(write_yaml, capsys):
    err = cli_error(
        ["validate", str(write_yaml("s.yaml", "{}\n")), "--set", "comms.handling_minutes=30:00"],
        capsys,
    )
    assert "comms.handling_minutes" in err and "30:00" in err


# ------------------------------------------------------------------------------------------
# 2. Alias bombs, deep nesting, huge files: refused before anything is built
# ------------------------------------------------------------------------------------------


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = [f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_scenario_alias_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(
        "bombs:\n" + _bomb() + "interventions:\n  - day: 1\n    set: {info.glossary: *l8}\n"
    )
    assert path.stat().st_size < 1000
    outcome = run_limited(["-m", "simulation", "validate", str(path)], cwd=tmp_path, timeout=60)
    assert_one_line_exit_2(outcome)
    assert "alias" in outcome.stderr


def test_sweep_alias_bomb_is_refused(tmp_path):
    (tmp_path / "base.yaml").write_text("{}\n")
    path = tmp_path / "sweep.yaml"
    bomb = "\n".join("  " + line for line in _bomb().splitlines())
    path.write_text(
        "name: s\nbase: base.yaml\nreplications: 1\nseed: 0\naxes:\n  x:\n" + bomb + "\n"
    )
    out = tmp_path / "out"
    outcome = run_limited(
        ["-m", "simulation", "sweep", str(path), "--out", str(out)], cwd=tmp_path, timeout=60
    )
    assert_one_line_exit_2(outcome)
    assert not out.exists()


def test_set_option_alias_bomb_is_refused(tmp_path):
    (tmp_path / "s.yaml").write_text("{}\n")
    levels = [f"&l0 [{', '.join(['lol'] * 9)}]"]
    levels += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    option = f"info.glossary=[{', '.join(levels)}]"  # one line of flow YAML is still a bomb
    outcome = run_limited(
        ["-m", "simulation", "validate", "s.yaml", "--set", option], cwd=tmp_path, timeout=60
    )
    assert_one_line_exit_2(outcome)


@pytest.mark.parametrize("depth", [60, 600, 5000])
def test_deep_nesting_is_refused(tmp_path, depth):
    path = tmp_path / "n.yaml"
    path.write_text("org: " + "[" * depth + "]" * depth + "\n")
    outcome = run_limited(["-m", "simulation", "validate", str(path)], cwd=tmp_path, timeout=60)
    assert_one_line_exit_2(outcome)
    assert "deep" in outcome.stderr or "nest" in outcome.stderr


def test_deep_nesting_in_set_is_refused(tmp_path):
    (tmp_path / "s.yaml").write_text("{}\n")
    option = "org.sales_reps=" + "[" * 2000 + "]" * 2000
    outcome = run_limited(
        ["-m", "simulation", "validate", "s.yaml", "--set", option], cwd=tmp_path, timeout=60
    )
    assert_one_line_exit_2(outcome)


def test_nesting_through_aliases_counts_as_deep(write_yaml):
    levels = "\n".join(f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 80))
    message = error_of(write_yaml("n.yaml", "l0: &l0 [1]\n" + levels + "\n"))
    assert "deep" in message or "nest" in message


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("description: '" + "x" * 2_000_000 + "'\n")
    message = error_of(path)
    assert "huge.yaml" in message and "MB" in message


def test_sweep_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: s\ndescription: '" + "x" * 2_000_000 + "'\n")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert len(str(info.value)) < MAX_ERROR


def test_sane_anchors_and_merges_still_work(write_yaml):
    text = (
        "org: &o {sales_reps: 10, ops_staff: 9}\n"
        "interventions:\n"
        "  - {day: 1, set: &s {info.glossary: true}}\n"
        "  - {day: 2, set: *s}\n"
    )
    s = load_scenario(write_yaml("ok.yaml", text))
    assert s.org.sales_reps == 10 and len(s.interventions) == 2


# ------------------------------------------------------------------------------------------
# 2. Error messages echo at most a bounded excerpt of user input
# ------------------------------------------------------------------------------------------


def test_long_unknown_key_is_not_echoed_in_full(write_yaml):
    message = error_of(write_yaml("k.yaml", "? " + "k" * 50_000 + "\n: 1\nhorizon_days: 40\n"))
    assert "kkkk" in message and "k" * 200 not in message


def test_many_unknown_keys_give_a_bounded_message(write_yaml):
    text = "horizon_days: 40\n" + "".join(f"typo{i}: 1\n" for i in range(3000))
    message = error_of(write_yaml("many.yaml", text))
    assert "typo0" in message and "more" in message


def test_long_string_value_is_not_echoed(write_yaml):
    message = error_of(
        write_yaml("v.yaml", "org:\n  sales_reps: '" + "9" * 20 + "x" * 50_000 + "'\n")
    )
    assert "org.sales_reps" in message


def test_long_extends_value_is_not_echoed(write_yaml):
    message = error_of(write_yaml("e.yaml", "extends: " + "p" * 50_000 + ".yaml\n"))
    assert "extends" in message and "p" * 200 not in message


def test_long_set_option_is_not_echoed(write_yaml, capsys):
    err = cli_error(
        [
            "validate",
            str(write_yaml("s.yaml", "{}\n")),
            "--set",
            "org.sales_reps=" + "[1, " * 20_000 + "]",
        ],
        capsys,
    )
    assert "org.sales_reps" in err


def test_long_intervention_key_is_not_echoed(write_yaml):
    text = "interventions:\n  - day: 1\n    set: {? " + "z" * 50_000 + " : 1}\n"
    message = error_of(write_yaml("i.yaml", text))
    assert "interventions[0]" in message and "z" * 200 not in message


SWEEP = "name: s\nbase: base.yaml\nreplications: 1\nseed: 0\n"


@pytest.mark.parametrize(
    "axes",
    [
        "axes: {x: {grid: [" + "1, " * 20_000 + "]}}\n",
        "axes: {? " + "q" * 20_000 + " : [1, 2]}\n",
        "axes: {structure.team_size: ['" + "w" * 20_000 + "']}\n",
        "axes: {b: {sample: lhs, n: 4, ranges: {? " + "r" * 20_000 + " : [2, 1]}}}\n",
        "axes: {b: {points: [{structure.team_size: 4}, {? " + "m" * 20_000 + " : 1}]}}\n",
    ],
)
def test_sweep_axis_errors_are_bounded(write_yaml, capsys, axes):
    write_yaml("base.yaml", "{}\n")
    path = write_yaml("sweep.yaml", SWEEP + axes)
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    assert len(str(info.value)) < MAX_ERROR
    cli_error(["sweep", str(path), "--out", str(path.parent / "out")], capsys)


def test_sweep_base_value_is_not_echoed_in_full(write_yaml):
    path = write_yaml("sweep.yaml", SWEEP.replace("base.yaml", "b" * 50_000) + "axes: {x: [1]}\n")
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    assert "base" in str(info.value) and len(str(info.value)) < MAX_ERROR


# ------------------------------------------------------------------------------------------
# 3. extends / base pointed at a file that is not a scenario: contents never echoed
# ------------------------------------------------------------------------------------------

PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "alice:x:1000:1000:Alice, Room: 12:/home/alice:/bin/bash\n"
)
SECRETS = "password: hunter2\napi_token: s3cr3t-t0ken\n"
SECRET_WORDS = ("root", "bash", "alice", "Room", "hunter2", "s3cr3t", "password", "api_token")


@pytest.mark.parametrize("content", [PASSWD, SECRETS, "- a\n- b\n", "just words\n"])
def test_extends_of_a_non_scenario_file_does_not_echo_it(write_yaml, tmp_path, content):
    write_yaml("passwd", content)
    message = error_of(write_yaml("child.yaml", "extends: passwd\n")).replace(str(tmp_path), "")
    if "YAML syntax error" not in message:
        assert "passwd is not a scenario file" in message
        assert "horizon_days: 250" in message
    assert not any(s in message for s in SECRET_WORDS), message


@pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="no /etc/passwd here")
def test_extends_etc_passwd(write_yaml, tmp_path, capsys):
    child = write_yaml("child.yaml", "extends: /etc/passwd\n")
    err = cli_error(["validate", str(child)], capsys).replace(str(tmp_path), "")
    assert "/etc/passwd" in err and "root" not in err and "/bin" not in err


@pytest.mark.parametrize("content", [PASSWD, SECRETS])
def test_sweep_base_of_a_non_scenario_file_does_not_echo_it(write_yaml, tmp_path, content):
    write_yaml("passwd", content)
    path = write_yaml("sweep.yaml", SWEEP.replace("base.yaml", "passwd") + "axes: {x: [1]}\n")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    message = str(info.value).replace(str(tmp_path), "")
    assert "not a scenario file" in message or "YAML syntax error" in message
    assert not any(s in message for s in SECRET_WORDS), message


@pytest.mark.parametrize("content", [PASSWD, SECRETS])
def test_sweep_file_that_is_not_a_sweep_does_not_echo_it(write_yaml, tmp_path, content):
    path = write_yaml("passwd", content)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    message = str(info.value).replace(str(tmp_path), "")
    assert "not a sweep file" in message or "YAML syntax error" in message
    assert not any(s in message for s in SECRET_WORDS), message


def test_scenario_with_a_typo_still_names_the_key(write_yaml):
    message = error_of(write_yaml("typo.yaml", "horizon_days: 40\nwarmup_dayz: 3\n"))
    assert "warmup_dayz: unknown key" in message


# ------------------------------------------------------------------------------------------
# 4. Long extends chains and symlink loops
# ------------------------------------------------------------------------------------------


def test_extends_chain_of_2000_files_is_refused(tmp_path):
    for i in range(2000):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i + 1}.yaml\n" if i < 1999 else "{}\n")
    outcome = run_limited(["-m", "simulation", "validate", "s0.yaml"], cwd=tmp_path, timeout=60)
    assert_one_line_exit_2(outcome)
    assert "50" in outcome.stderr and "extends" in outcome.stderr


def test_extends_chain_of_50_files_is_fine(tmp_path):
    for i in range(50):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i + 1}.yaml\n" if i < 49 else "{}\n")
    assert load_scenario(tmp_path / "s0.yaml").name == "s0"


@pytest.fixture
def symlink_loop(tmp_path) -> Path:
    os.symlink(tmp_path / "loop_b.yaml", tmp_path / "loop_a.yaml")
    os.symlink(tmp_path / "loop_a.yaml", tmp_path / "loop_b.yaml")
    return tmp_path / "loop_a.yaml"


def test_scenario_path_that_is_a_symlink_loop(symlink_loop, capsys):
    err = cli_error(["validate", str(symlink_loop)], capsys)
    assert "loop_a.yaml" in err and "link" in err


def test_extends_through_a_symlink_loop(symlink_loop, write_yaml, capsys):
    child = write_yaml("child.yaml", "extends: loop_a.yaml\n")
    err = cli_error(["validate", str(child)], capsys)
    assert "loop_a.yaml" in err and "link" in err


def test_sweep_base_that_is_a_symlink_loop(symlink_loop, write_yaml, capsys):
    path = write_yaml("sweep.yaml", SWEEP.replace("base.yaml", "loop_a.yaml") + "axes: {x: [1]}\n")
    err = cli_error(["sweep", str(path), "--out", str(path.parent / "out")], capsys)
    assert "loop_a.yaml" in err


def test_sweep_file_that_is_a_symlink_loop(symlink_loop, capsys):
    err = cli_error(["sweep", str(symlink_loop)], capsys)
    assert "loop_a.yaml" in err and "link" in err


@pytest.mark.parametrize("ref", ["a\x00b.yaml", "n" * 5000 + ".yaml"])
def test_extends_path_the_os_refuses(write_yaml, ref):
    message = error_of({"extends": ref})
    assert "extends" in message and "\x00" not in message


# ------------------------------------------------------------------------------------------
# 4. Folder names of sweeps keep Unicode
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Évaluation équipe", "évaluation-équipe"),
        ("营销", "营销"),
        ("Bonus mix: 40/30/20/10!", "bonus-mix-40-30-20-10"),
        ("../../etc/passwd", "etc-passwd"),
        ("a\x00b\nc\x1bd", "a-b-c-d"),
        ("हिन्दी टीम", "हिन्दी-टीम"),
        ("///", "unnamed-732c4e97"),
    ],
)
def test_slug_keeps_unicode_letters(name, expected):
    assert slug(name) == expected


def test_slug_of_decomposed_and_composed_accents_agree():
    assert slug("E\u0301quipe") == slug("\u00c9quipe") == "équipe"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=8, max_value=120))
def test_slug_is_always_a_safe_file_name(text, max_len):
    s = slug(text, max_len)
    assert s and s not in (".", "..")
    assert "/" not in s and "\\" not in s and "\x00" not in s
    assert all(c.isprintable() for c in s)
    assert len(s.encode("utf-8")) <= max_len


# ------------------------------------------------------------------------------------------
# 5. Control characters in names and labels
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('name: "Team\\e[31m pay"\n', "name"),
        ('name: "two\\nlines"\n', "name"),
        ('name: "bell\\a"\n', "name"),
        ('name: "c1\\x85"\n', "name"),
        ('description: "ok\\nbut \\x1b no"\n', "description"),
        (
            'interventions:\n  - {day: 1, set: {info.glossary: true}, label: "a\\x07b"}\n',
            "interventions[0].label",
        ),
    ],
)
def test_control_characters_in_names_are_refused(write_yaml, text, key):
    message = error_of(write_yaml("c.yaml", text))
    assert key in message and "control character" in message
    assert "\x1b" not in message and "\x07" not in message


def test_description_may_span_lines(write_yaml):
    s = load_scenario(write_yaml("d.yaml", "description: |\n  line one\n  line two\n"))
    assert s.description == "line one\nline two\n"


def test_unicode_names_are_fine(write_yaml):
    assert load_scenario(write_yaml("u.yaml", "name: Évaluation 营销\n")).name == "Évaluation 营销"


def test_sweep_name_with_control_characters_is_refused(write_yaml):
    write_yaml("base.yaml", "{}\n")
    path = write_yaml(
        "sweep.yaml", SWEEP.replace("name: s", 'name: "s\\e[2J"') + "axes: {x: [1]}\n"
    )
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    assert "name" in str(info.value) and "control character" in str(info.value)


#: Unicode bidirectional controls: they reorder what the reader sees ("pay\u202egnp.exe" is
#: shown as "payexe.png").
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]  # fmt: skip


@pytest.mark.parametrize("char", BIDI)
@pytest.mark.parametrize("key", ["name", "description", "interventions[0].label"])
def test_bidi_controls_in_names_are_refused(char, key):
    text = f"pay{char}gnp.exe"
    if key == "interventions[0].label":
        data = {"interventions": [{"day": 1, "set": {"info.glossary": True}, "label": text}]}
    else:
        data = {key: text}
    message = error_of(data)
    assert key in message and "control character" in message
    assert f"U+{ord(char):04X}" in message and char not in message


def test_one_definition_of_a_control_character():
    """The pattern every check uses is exactly Unicode's Cc, Zl and Zp, and the bidi controls."""
    import sys
    import unicodedata

    from simulation.common.text import CONTROL

    for i in range(sys.maxunicode + 1):
        c = chr(i)
        expected = unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in BIDI
        assert (CONTROL.fullmatch(c) is not None) == expected, f"U+{i:04X}"


def test_sweep_name_with_a_bidi_control_is_refused():
    with pytest.raises(ValueError, match="control character"):
        SweepSpec(name="pay\u202egnp", base="b.yaml", replications=1, seed=0, axes={"x": [1]})


def test_error_messages_show_bidi_controls_escaped():
    message = error_of({"org": {"sales\u202ereps": 3}})
    assert "\u202e" not in message and "\\u202e" in message


def test_library_refusals_do_not_name_command_line_flags():
    """The library says "the limit"; the command line names its flag (--max-runs)."""
    spec = SweepSpec(name="s", base="b.yaml", replications=2, seed=0,
                     axes={"org.sales_reps": [2, 3, 4]})  # fmt: skip
    with pytest.raises(SweepError) as info:
        build_design(spec, Scenario(), max_runs=5)
    assert "the limit of 5 runs" in str(info.value) and "--" not in str(info.value)
