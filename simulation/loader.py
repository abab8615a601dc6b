"""Read scenarios: YAML files, ``extends:`` chains and dotted-key overrides.

All scenario file I/O lives here so ``simulation.config`` stays a pure schema. Every mistake a
user can make in a scenario file or a ``--set`` option raises :class:`ScenarioError` with one
paragraph naming the file, the dotted key and the rule that was broken, because a strategist
editing YAML should be able to fix the file from the message alone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError

from simulation.config import Scenario, describe_errors, set_dotted

__all__ = [
    "ScenarioError",
    "load_scenario",
    "parse_set_option",
    "read_yaml",
    "scenario_hash",
]

#: Where a value came from when it was not set by a file.
OVERRIDE = "override"

KeyPath = tuple[str, ...]


class ScenarioError(ValueError):
    """A user error in a scenario or an override; the message is meant to be shown as is."""


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses duplicate keys.

    PyYAML silently keeps the last of two equal keys, so a lever set twice in one file would
    quietly ignore the first value; here it is an error naming the key and both lines.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *anchor` merges are allowed to be overridden
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # unhashable key: SafeLoader reports it below
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key '{key}' (first defined at line {first})",
                        key_node.start_mark,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads `1e-3` (no dot) as a string; a user writing a rate that way means a number.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _shown(path: Path) -> str:
    """A path as the user best recognises it: relative to the working directory when inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _yaml_error(where: str, exc: yaml.YAMLError) -> ScenarioError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        kind = "" if isinstance(exc, ConstructorError) else "YAML syntax error: "
        msg = f"{where}, line {mark.line + 1}, column {mark.column + 1}: {kind}{exc.problem}"
        if exc.context and exc.context_mark is not None:
            msg += f" ({exc.context} at line {exc.context_mark.line + 1})"
        return ScenarioError(msg)
    return ScenarioError(f"{where}: YAML error: {' '.join(str(exc).split())}")


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read one YAML file whose top level must be a mapping (no ``extends`` processing)."""
    path = Path(path)
    where = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            f"scenario file not found: {path} (looked for {path.resolve()})"
        ) from None
    except IsADirectoryError:
        raise ScenarioError(f"{where} is a directory, not a scenario file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{where}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot read the file: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(where, exc) from None
    if data is None:
        raise ScenarioError(
            f"{where} is empty; a scenario file is a mapping of keys such as "
            "'horizon_days: 250' (write '{}' to use every default)"
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{where}: the top level must be a mapping of keys such as 'horizon_days: 250', "
            f"not a {_yaml_type(data)}"
        )
    return data


def _yaml_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _leaf_paths(data: Mapping[str, Any], prefix: KeyPath = ()) -> list[KeyPath]:
    paths: list[KeyPath] = []
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            paths.extend(_leaf_paths(value, path))
        else:
            paths.append(path)
    return paths


def _deep_merge(base: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Child wins; mappings merge key by key; lists and scalars are replaced whole."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _resolve(
    data: dict[str, Any], where: str, base_dir: Path, chain: tuple[Path, ...]
) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    """Apply ``extends:`` recursively; return merged data and the origin of every leaf value."""
    data = dict(data)
    parent_ref = data.pop("extends", None)
    origins = dict.fromkeys(_leaf_paths(data), where)
    if parent_ref is None:
        return data, origins
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise ScenarioError(
            f"{where}: extends must be the path of one scenario file (relative to this file), "
            f"not {parent_ref!r}"
        )
    parent = base_dir / Path(parent_ref).expanduser()
    if parent.resolve() in chain:
        loop = [_shown(p) for p in chain[chain.index(parent.resolve()) :]]
        raise ScenarioError(
            f"extends cycle: {' -> '.join([*loop, _shown(parent)])}; a scenario cannot extend "
            "itself, directly or through other files"
        )
    if not parent.is_file():
        raise ScenarioError(
            f"{where}: extends: file not found: {parent_ref} (looked for {parent.resolve()})"
        )
    parent_data, parent_origins = _read_chain(parent, chain)
    return _deep_merge(parent_data, data), {**parent_origins, **origins}


def _read_chain(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    data = read_yaml(path)
    # Each file names itself by default, so a child of baseline.yaml is not reported as baseline.
    data.setdefault("name", path.stem)
    return _resolve(data, _shown(path), path.resolve().parent, (*chain, path.resolve()))


def _validation_message(where: str, exc: ValidationError, origins: dict[KeyPath, str]) -> str:
    parts = []
    for err, line in zip(exc.errors(), describe_errors(exc), strict=True):
        loc = tuple(str(p) for p in err["loc"])
        # A section-level rule (weights sum, team size range) concerns every key below it.
        sources = sorted(
            {
                src
                for path, src in origins.items()
                if loc and (path[: len(loc)] == loc or loc[: len(path)] == path)
            }
        )
        if sources and sources != [where]:
            line += f" (value from {', '.join(sources)})"
        parts.append(line)
    return f"{where}: invalid scenario: " + "; ".join(parts)


def load_scenario(
    source: Scenario | Mapping[str, Any] | str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """Build a validated :class:`Scenario`.

    Args:
        source: a YAML file path, a mapping with the same content, or a Scenario. A file (or
            mapping) may say ``extends: other.yaml`` (relative to the file; chains allowed):
            the other file is the base and this one's keys win, mapping by mapping; lists
            such as ``interventions`` are replaced whole. ``name`` defaults to the file stem.
        overrides: dotted keys and values (``{"incentives.weights.team": 0.3}``) applied after
            ``extends`` and before validation, so an override can fix an invalid base value.

    Raises:
        ScenarioError: on any user error, with a message naming file, dotted key and rule.
    """
    if isinstance(source, Scenario):
        where = f"scenario '{source.name}'"
        data, origins = source.model_dump(), {}
    elif isinstance(source, Mapping):
        where = "scenario mapping"
        data, origins = _resolve(copy.deepcopy(dict(source)), where, Path.cwd(), ())
    elif isinstance(source, str | os.PathLike):
        where = _shown(Path(source))
        data, origins = _read_chain(Path(source), ())
    else:
        raise TypeError(f"cannot load a scenario from {type(source).__name__}")
    for key, value in (overrides or {}).items():
        try:
            set_dotted(data, key, value)
        except KeyError as exc:
            raise ScenarioError(f"{where}: override '{key}': {exc.args[0]}") from None
        origins[tuple(key.split("."))] = OVERRIDE
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_validation_message(where, exc, origins)) from None


def parse_set_option(option: str) -> tuple[str, Any]:
    """Split ``dotted.key=value`` and read the value as a YAML scalar.

    YAML typing means ``true``, ``0.3``, ``1e-3``, ``null`` and ``chat_first`` arrive as the
    bool, float, None and string the schema expects, exactly as if written in the file.
    """
    key, sep, raw = option.partition("=")
    key = key.strip()
    if not sep or not key or any(c.isspace() for c in key):
        raise ScenarioError(
            f"--set {option!r}: expected dotted.key=value, for example "
            "--set incentives.weights.team=0.3"
        )
    try:
        value = yaml.load(raw, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(f"--set {option!r}", exc) from None
    if isinstance(value, dict | list):
        raise ScenarioError(
            f"--set {option!r}: the value must be a single number, true/false, null or word, "
            f"not a {_yaml_type(value)}; set nested keys one by one with dotted keys"
        )
    return key, value


def canonical_hash(value: Any) -> str:
    """Short fingerprint of a JSON-like value (key order does not matter)."""
    canonical = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def scenario_hash(s: Scenario) -> str:
    """Short fingerprint of every scenario value, so a results manifest names its exact inputs."""
    return canonical_hash(s.model_dump(mode="json"))
