"""Reading topology and drill files safely, with errors that point at the line.

YAML is parsed with the safe loader into a node tree first, so every value
keeps its line and column. Duplicate keys are refused (YAML would silently keep
the last one), as are files too large or too deeply aliased to be honest input.
Validation errors from pydantic and from the cross-checks are mapped back to
the YAML node they concern.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from .errors import InputError, Problem
from .model import Drill, Topology
from .model.checks import check_drill, check_topology

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
DEFAULT_TOPOLOGY = "ehr-hybrid"


class _Located:
    """A loaded document: plain Python data plus the line and column of each path."""

    def __init__(self, data, marks: dict[tuple, tuple[int, int]]):
        self.data = data
        self.marks = marks

    def locate(self, path: tuple) -> tuple[int | None, int | None]:
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (None, None))


# YAML 1.1 turns these bare words into booleans; a duration or name never means that.
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false"}


def _construct(node, path, marks, problems, counter):
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _TooBig()
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                problems.append(Problem("mapping keys must be plain names", path, knode.start_mark.line + 1))
                continue
            key = knode.value
            if key in out:
                problems.append(
                    Problem(
                        f"duplicate key {key!r} (first given on line {marks[(*path, key)][0]}); "
                        "YAML would silently keep only the last",
                        (*path, key),
                        knode.start_mark.line + 1,
                        knode.start_mark.column + 1,
                    )
                )
                continue
            if key == "<<":
                problems.append(Problem("merge keys ('<<') are not supported", path, knode.start_mark.line + 1))
                continue
            out[key] = _construct(vnode, (*path, key), marks, problems, counter)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), marks, problems, counter) for i, v in enumerate(node.value)]
    # Scalars: resolve with the safe loader's rules, but keep YAML 1.1 surprises visible.
    tag = node.tag
    if tag == "tag:yaml.org,2002:str" or node.style in ("'", '"', "|", ">"):
        return node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        if node.value.lower() in ("true", "false"):
            return node.value.lower() == "true"
        return _Surprise(node.value, "bool")
    if tag == "tag:yaml.org,2002:int":
        if ":" in node.value:
            return _Surprise(node.value, "sexagesimal")
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return _Surprise(node.value, "int")
    if tag == "tag:yaml.org,2002:float":
        if ":" in node.value:
            return _Surprise(node.value, "sexagesimal")
        v = node.value.lower().replace("_", "")
        return float("nan") if v == ".nan" else float(v.replace(".inf", "inf"))
    if tag == "tag:yaml.org,2002:timestamp":
        return node.value
    return node.value


class _Surprise(str):
    """A bare scalar YAML 1.1 would have read as something it probably is not."""

    def __new__(cls, text, kind):
        obj = super().__new__(cls, text)
        obj.kind = kind
        return obj


class _TooBig(Exception):
    pass


def _surprises(data, path=()):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _surprises(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _surprises(v, (*path, i))
    elif isinstance(data, _Surprise):
        yield path, data


def parse_yaml(text: str | bytes, source: str) -> _Located:
    """Parse YAML text into data with line marks, or raise :class:`InputError`."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise InputError(source, [Problem(f"file is larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?")])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(source, [Problem(f"file is not UTF-8 text (byte {exc.start})")]) from None
    if len(text) > MAX_FILE_BYTES:
        raise InputError(source, [Problem(f"file is larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?")])
    if "\x00" in text:
        raise InputError(source, [Problem("file contains NUL bytes; expected YAML text")])
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        ctx = getattr(exc, "context", None)
        msg = f"not valid YAML: {what}" + (f" ({ctx})" if ctx else "")
        raise InputError(
            source, [Problem(msg, (), mark.line + 1 if mark else None, mark.column + 1 if mark else None)]
        ) from None
    if not nodes or nodes[0] is None:
        raise InputError(source, [Problem("file is empty; expected a YAML mapping")])
    if len(nodes) > 1:
        raise InputError(source, [Problem("file holds several YAML documents; expected one", (), nodes[1].start_mark.line + 1)])
    marks: dict = {}
    problems: list[Problem] = []
    try:
        data = _construct(nodes[0], (), marks, problems, [0])
    except _TooBig:
        raise InputError(source, [Problem(f"file expands to more than {MAX_NODES} values (aliases?)")]) from None
    except RecursionError:
        raise InputError(source, [Problem("file nests too deeply or aliases itself")]) from None
    if problems:
        raise InputError(source, problems)
    if not isinstance(data, dict):
        raise InputError(source, [Problem(f"expected a YAML mapping at the top, found {type(data).__name__}", (), 1, 1)])
    return _Located(data, marks)


def _expected_for(err: dict) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t == "extra_forbidden":
        return "unknown field"
    if t == "missing":
        return "required field is missing"
    if t == "literal_error":
        return f"expected one of {ctx.get('expected')}, found {err.get('input')!r}"
    if t in ("string_type",):
        return f"expected text, found {type(err.get('input')).__name__} {err.get('input')!r}"
    return err["msg"].removeprefix("Value error, ") + (
        "" if t == "value_error" else f", found {err.get('input')!r}" if not isinstance(err.get("input"), dict | list) else ""
    )


def _pydantic_problems(exc: ValidationError, doc: _Located, model_cls) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        msg = _expected_for(err)
        if err["type"] == "extra_forbidden":
            keys = _keys_at(model_cls, loc, doc.data)
            close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
            msg = f"unknown field {loc[-1]!r}" + (f"; did you mean {close[0]!r}?" if close else "") + (
                f" (expected one of: {', '.join(keys)})" if keys else ""
            )
            if any(ch in str(loc[-1]) for ch in "=)]"):
                msg = (
                    f"unknown field {loc[-1]!r}: a distribution with commas inside a flow mapping "
                    "{...} or list [...] must be quoted, e.g. \"lognormal(p50=3m, p95=8m)\""
                )
        found = _lookup(doc.data, loc)
        if isinstance(found, _Surprise):
            msg = _surprise_message(found) + f"; {msg}"
        line, col = doc.locate(loc)
        out.append(Problem(msg, loc, line, col))
    return out


def _keys_at(model_cls, loc, data) -> list[str]:
    """The valid keys of the mapping a misspelt key sits in, by walking the model."""
    from pydantic import BaseModel

    cls = model_cls
    for part in loc[:-1]:
        if isinstance(part, int):
            cls = _inner(cls, list)
            continue
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            f = next((f for n, f in cls.model_fields.items() if (f.alias or n) == part), None)
            cls = _unwrap(f.annotation) if f else None
        elif isinstance(cls, tuple) and cls[0] is dict:
            cls = cls[1]
        else:
            return []
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return [f.alias or n for n, f in cls.model_fields.items()]
    return []


def _unwrap(ann):
    from typing import Union, get_args, get_origin
    import types

    origin = get_origin(ann)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(ann) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else None
    if origin is list:
        return (list, _unwrap(get_args(ann)[0]))
    if origin is dict:
        return (dict, _unwrap(get_args(ann)[1]))
    return ann


def _inner(cls, kind):
    if isinstance(cls, tuple) and cls[0] is kind:
        return cls[1]
    return None


def _lookup(data, loc):
    cur = data
    for p in loc:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _surprise_message(s: _Surprise) -> str:
    if s.kind == "sexagesimal":
        return f"{str(s)!r} is read by YAML 1.1 as a base-60 number; write durations with units ('1h30m') and quote clock times ('01:30')"
    if s.kind == "bool":
        return f"bare {str(s)!r} is read by YAML 1.1 as a boolean; quote it if you mean text, or write true/false"
    return f"{str(s)!r} is an ambiguous number"


def _validate(doc: _Located, model_cls, source: str):
    # surprises left where a string is accepted would otherwise pass silently as text
    problems = []
    for path, s in _surprises(doc.data):
        line, col = doc.locate(path)
        problems.append(Problem(_surprise_message(s), path, line, col))
    try:
        obj = model_cls.model_validate(_plain(doc.data))
    except ValidationError as exc:
        problems += _pydantic_problems(exc, doc, model_cls)
        raise InputError(source, _dedupe(problems)) from None
    if problems:
        raise InputError(source, problems)
    return obj


def _dedupe(problems):
    seen, out = set(), []
    for p in problems:
        k = (p.path, p.message)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


def _plain(data):
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, _Surprise):
        return str(data)
    return data


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(str(path), [Problem("no such file")]) from None
    except OSError as exc:
        raise InputError(str(path), [Problem(f"cannot read: {exc.strerror}")]) from None
    if path.is_dir():
        raise InputError(str(path), [Problem("is a directory; expected a YAML file")])
    if size > MAX_FILE_BYTES:
        raise InputError(str(path), [Problem(f"file is larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?")])
    return path.read_bytes()


def topology_from_text(text: str | bytes, source: str = "<topology>") -> Topology:
    """A validated topology from YAML text."""
    doc = parse_yaml(text, source)
    topo = _validate(doc, Topology, source)
    probs = check_topology(topo)
    if probs:
        raise InputError(source, [Problem(m, p, *doc.locate(p)) for p, m in probs])
    return topo


def drill_from_text(text: str | bytes, topology: Topology, source: str = "<drill>") -> Drill:
    """A validated drill (checked against ``topology``) from YAML text."""
    doc = parse_yaml(text, source)
    drill = _validate(doc, Drill, source)
    probs = check_drill(drill, topology)
    if probs:
        raise InputError(source, [Problem(m, p, *doc.locate(p)) for p, m in probs])
    return drill


# ---------------------------------------------------------------- bundled files


def bundled_dir(kind: str) -> Path:
    """The folder of bundled ``topologies`` or ``drills``."""
    return Path(str(resources.files("drsim") / "data" / kind))


def bundled_names(kind: str) -> list[str]:
    d = bundled_dir(kind)
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def resolve(name_or_path: str, kind: str) -> Path:
    """A file path for a bundled name (``region-loss``) or a path given by the user."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists() or "/" in name_or_path:
        return p
    candidate = bundled_dir(kind) / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    names = bundled_names(kind)
    close = difflib.get_close_matches(name_or_path, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InputError(
        name_or_path,
        [Problem(f"no bundled {kind[:-1]} or file by that name{hint} (bundled: {', '.join(names)})")],
    )


def load_topology(name_or_path: str | Path | None = None) -> Topology:
    """Load a topology by bundled name or path (default: the reference EHR estate)."""
    path = resolve(str(name_or_path or DEFAULT_TOPOLOGY), "topologies")
    return topology_from_text(_read(path), str(path))


def load_drill(name_or_path: str | Path, topology: Topology) -> Drill:
    """Load a drill by bundled name or path, checked against ``topology``."""
    path = resolve(str(name_or_path), "drills")
    return drill_from_text(_read(path), topology, str(path))


def describe_file(path: Path) -> str:
    """The first comment line of a bundled file: what it is for."""
    for line in path.read_text().splitlines():
        s = line.strip()
        if s.startswith("#"):
            return s.lstrip("#").strip()
        if s:
            break
    return ""
