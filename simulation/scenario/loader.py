"""Read scenarios: YAML files, ``extends:`` chains and dotted-key overrides.

All scenario file I/O lives here so ``simulation.scenario.config`` stays a pure schema. Every
mistake a user can make in a scenario file or a ``--set`` option raises :class:`ScenarioError` with
one paragraph naming the file, the dotted key and the rule that was broken, because a strategist
editing YAML should be able to fix the file from the message alone."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError

from simulation.common.text import excerpt
from simulation.scenario.config import Scenario, describe_errors, set_dotted

__all__ = [
    "ScenarioError",
    "load_scenario",
    "locate",
    "parse_set_option",
    "read_yaml",
    "scenario_hash",
]

#: Where a value came from when it was not set by a file.
OVERRIDE = "override"

# Limits that keep hostile or broken input from exhausting memory or the stack. Each is far
# above any real scenario or sweep (the bundled ones are under 2 kB, 5 levels and 100 values).
MAX_FILE_BYTES = 1_000_000  #: a scenario or sweep file
MAX_DEPTH = 50  #: nested lists/mappings, counting what aliases (``*name``) bring in
MAX_NODES = 100_000  #: values in a file with every alias expanded (stops "billion laughs")
MAX_EXTENDS = 50  #: files in one ``extends:`` chain

#: Keys that mark a YAML mapping as a scenario file.
SCENARIO_KEYS = frozenset(Scenario.model_fields) | {"extends"}

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

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        # YAML 1.1 reads 30:00 as the base-60 number 1800; a user means a time, so it stays
        # text and a number field refuses it by name instead of taking 1800.
        if kind is yaml.ScalarNode and implicit[0] and _SEXAGESIMAL.match(value):
            return self.DEFAULT_SCALAR_TAG
        return super().resolve(kind, value, implicit)


_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")

# YAML 1.1 reads `1e-3` (no dot) as a string; a user writing a rate that way means a number.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _real(path: Path) -> Path:
    """``path.resolve()``, or a :class:`ScenarioError` for a loop of symbolic links."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # Python 3.12 raises RuntimeError for a symlink loop
        raise ScenarioError(
            f"{path}: cannot follow the path: symbolic link loop (a link that leads back to itself)"
        ) from None


def _shown(path: Path) -> str:
    """A path as the user best recognises it: relative to the working directory when inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


def _yaml_error(where: str, exc: yaml.YAMLError) -> ScenarioError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        kind = "" if isinstance(exc, ConstructorError) else "YAML syntax error: "
        problem = excerpt(exc.problem or "", 160)
        msg = f"{where}, line {mark.line + 1}, column {mark.column + 1}: {kind}{problem}"
        if exc.context and exc.context_mark is not None:
            msg += f" ({excerpt(exc.context)} at line {exc.context_mark.line + 1})"
        return ScenarioError(msg)
    return ScenarioError(f"{where}: YAML error: {excerpt(' '.join(str(exc).split()), 160)}")


def _check_shape(text: str, where: str) -> None:
    """Refuse YAML that nests too deep or expands too far, before building any value.

    Walks the parser's events (no recursion, nothing constructed) and counts the values each
    anchor stands for, so ``*alias`` references that multiply (a "billion laughs" file of a
    few hundred bytes) are refused after a few hundred events instead of exhausting memory in
    whatever touches the value next.
    """
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, nesting levels) it expands to
    open_: list[list[Any]] = []  # per open list/mapping: [anchor, values, deepest child]
    for event in yaml.parse(text, Loader=_StrictLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise ScenarioError(
                    f"{where}, line {event.start_mark.line + 1}: lists and mappings nest more "
                    f"than {MAX_DEPTH} levels deep (refused to protect the stack)"
                )
            open_.append([event.anchor, 1, 0])
            continue
        if isinstance(event, yaml.ScalarEvent):
            anchor, size, height = event.anchor, 1, 0
        elif isinstance(event, yaml.AliasEvent):
            anchor = None
            size, height = sizes.get(event.anchor or "", (1, 0))
            if len(open_) + height > MAX_DEPTH:
                raise ScenarioError(
                    f"{where}, line {event.start_mark.line + 1}: the alias "
                    f"*{excerpt(event.anchor, 40)} nests lists and mappings more than "
                    f"{MAX_DEPTH} levels deep"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size, child = open_.pop()
            height = child + 1
        else:
            continue
        if anchor is not None:
            sizes[anchor] = (size, height)
        if open_:
            open_[-1][1] += size
            open_[-1][2] = max(open_[-1][2], height)
            size = open_[-1][1]  # the enclosing list or mapping so far
        if size > MAX_NODES:
            raise ScenarioError(
                f"{where}, line {event.start_mark.line + 1}: more than {MAX_NODES:,} values "
                "once the aliases (*name) are filled in (refused to protect memory)"
            )


def _load_yaml(text: str, where: str) -> Any:
    """Parse YAML text with the strict loader after checking its depth and alias expansion."""
    try:
        _check_shape(text, where)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(where, exc) from None


def read_yaml(
    path: str | os.PathLike[str], kind: str = "scenario", example: str = "horizon_days: 250"
) -> dict[str, Any]:
    """Read one YAML file whose top level must be a mapping (no ``extends`` processing).

    ``kind`` and ``example`` name what the file should be in messages ("scenario" file of keys
    such as "horizon_days: 250"). The file's content is never echoed, only its line numbers.
    """
    path = Path(path)
    where = _shown(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"{kind} file not found: {path} (looked for {_real(path)})") from None
    except IsADirectoryError:
        raise ScenarioError(f"{where} is a directory, not a {kind} file") from None
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot read the file: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{where} is larger than {MAX_FILE_BYTES / 1e6:g} MB; a {kind} file is a few kB "
            "(is this the right file?)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{where}: not a UTF-8 text file ({exc.reason})") from None
    data = _load_yaml(text, where)
    if data is None:
        hint = " (write '{}' to use every default)" if kind == "scenario" else ""
        raise ScenarioError(
            f"{where} is empty; a {kind} file is a mapping of keys such as '{example}'{hint}"
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{where} is not a {kind} file: the top level must be a mapping of keys such as "
            f"'{example}', not a {_yaml_type(data)}"
        )
    return data


def locate(ref: Any, base_dir: Path, where: str, key: str) -> Path:
    """The scenario file a reference (``extends:``, a sweep's ``base:``) points at.

    Relative paths are relative to ``base_dir`` (the folder of the file that holds the
    reference). Raises :class:`ScenarioError` naming ``where`` and ``key`` when the reference
    is not a path, or no readable file is there.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError(
            f"{where}: {key} must be the path of one scenario file (relative to this file), "
            f"not {excerpt(ref)}"
        )
    shown = excerpt(ref)
    try:
        path = base_dir / Path(ref).expanduser()
        real = _real(path)
        found = path.is_file()
    except ScenarioError:
        raise ScenarioError(
            f"{where}: {key}: '{shown}' cannot be followed: symbolic link loop (a link that "
            "leads back to itself)"
        ) from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "invalid path"
        raise ScenarioError(f"{where}: {key}: '{shown}' is not a usable path ({reason})") from None
    if not found:
        raise ScenarioError(
            f"{where}: {key}: scenario file '{shown}' not found (looked for "
            f"{excerpt(str(real), 300)}; the path is relative to this file)"
        )
    return path


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
    parent = locate(parent_ref, base_dir, where, "extends")
    if _real(parent) in chain:
        loop = [_shown(p) for p in chain[chain.index(_real(parent)) :]]
        raise ScenarioError(
            f"extends cycle: {' -> '.join([*loop, _shown(parent)])}; a scenario cannot extend "
            "itself, directly or through other files"
        )
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            f"{where}: extends: more than {MAX_EXTENDS} files in one extends chain; "
            "a scenario needs a base and a few variants"
        )
    parent_data, parent_origins = _read_chain(parent, chain)
    return _deep_merge(parent_data, data), {**parent_origins, **origins}


def _read_chain(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    data = read_yaml(path)
    if data and not any(str(key) in SCENARIO_KEYS for key in data):
        # Probably another kind of file (extends: /etc/passwd): never echo what it holds.
        raise ScenarioError(
            f"{_shown(path)} is not a scenario file (expected a YAML mapping of keys such as "
            "'horizon_days: 250'; none of its keys is a scenario key, see 'friction levers')"
        )
    # Each file names and labels itself by default, so a child of baseline.yaml is not
    # reported as baseline (a blank label is the name in plain words).
    data.setdefault("name", path.stem)
    data.setdefault("label", "")
    real = _real(path)
    return _resolve(data, _shown(path), real.parent, (*chain, real))


def _validation_message(where: str, exc: ValidationError, origins: dict[KeyPath, str]) -> str:
    parts = []
    for err, line in itertools.zip_longest(exc.errors(), describe_errors(exc)):
        if line is None:
            break
        if err is None or line.startswith("and "):  # the count of problems left out
            parts.append(line)
            continue
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
            such as ``interventions`` are replaced whole. ``name`` defaults to the file stem
            and ``label`` to the name in plain words (neither is taken from the parent).
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
            raise ScenarioError(f"{where}: override '{excerpt(key)}': {exc.args[0]}") from None
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
    where = f"--set '{excerpt(option)}'"
    if not sep or not key or any(c.isspace() for c in key):
        raise ScenarioError(
            f"{where}: expected dotted.key=value, for example --set incentives.weights.team=0.3"
        )
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{where}: the value is longer than {MAX_FILE_BYTES:,} characters")
    value = _load_yaml(raw, where)
    if isinstance(value, dict | list):
        raise ScenarioError(
            f"{where}: the value must be a single number, true/false, null or word, "
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
