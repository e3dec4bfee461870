"""Reading topology and drill files safely, with errors that point at the line.

A hand-written YAML file can be misread in ways that give a confident wrong
answer: a duplicate key silently overwrites the first, ``1:30`` is the number 90
in YAML 1.1, a bare ``no`` is the boolean false, a misspelt key is dropped. This
module refuses all of those instead of guessing.

YAML is composed with the safe loader into a node tree first, so every value
keeps its line and column. Duplicate keys, merge keys, unknown tags, YAML 1.1
surprises (bare ``yes/no/on/off``, base-60 and octal numbers), files too
large, too deeply nested or too aliased ("billion laughs") to be honest input
are refused. Validation errors from pydantic and from the cross-checks are
mapped back to the YAML node they concern and rewritten as one sentence each:
what was found, what was expected, and the closest valid key for a typo.

The loader reads and checks; it does not compile. A few problems show only when
a drill is compiled into a plan against its topology (nobody on duty for a role
the response needs). Whoever compiles a drill read from a file keeps the
:class:`DrillFile` and reports those problems with :meth:`DrillFile.locate`,
so they name the file and line just as the loader's own do.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import select
import stat
import types
import typing
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..collection import collection_paused
from ..errors import InputError, InputWarning, Problem
from . import Drill, Topology
from .calendar import CalendarRules, check_calendar
from .checks import check_drill, check_topology, did_you_mean, name_warnings
from .cutover import CutoverPlan, Evidence, check_cutover, check_evidence
from .evidence_csv import evidence_from_csv, read_table

#: Larger files are refused: a hospital's estate is a few hundred lines, and an estate of
#: 5,000 services (benchmarks/estates.py) about 5 MiB; beyond that it is not an estate.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: Values a file may expand to, counting each use of an alias in full (the 5,000-service
#: estate has about 355,000): enough for any real estate, far too few for an alias bomb to matter.
MAX_NODES = 2_000_000
#: Mappings and lists nested deeper than this are refused (real files nest < 10).
MAX_DEPTH = 64
DEFAULT_TOPOLOGY = "ehr-hybrid"

#: Top-level keys that only a topology, or only a drill, has.
TOPOLOGY_KEYS = ("regions", "tiers", "staff", "services", "queues", "workflows", "externals", "profiles")
DRILL_KEYS = ("start", "faults", "detection", "response", "rollback", "injects", "questions", "gates", "objectives")
#: Keys only a cutover plan has at the top; either one makes a file a cutover plan.
CUTOVER_KEYS = ("freeze", "waves", "entities", "triggers")
#: Top-level keys of an exercise calendar's rules.
CALENDAR_KEYS = ("exercises", "rules", "blackouts", "unavailable")

_YAML_TAG = "tag:yaml.org,2002:"
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_TAGS = {_YAML_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")} | {"!"}


class LocatedDocument:
    """A loaded YAML document: its data, and where in the file each value was written.

    A path is the tuple of keys and list indices leading to a value, as a
    :class:`~drsim.errors.Problem` names it (``("services", "ehr-db", "tier")``);
    ``marks`` holds the line and column of each value, ``key_marks`` those of
    each mapping key, and ``surprises`` the bare scalars YAML 1.1 would misread,
    kept as the text the user wrote.
    """

    def __init__(
        self,
        data: dict,
        marks: dict[tuple, tuple[int, int]],
        key_marks: dict[tuple, tuple[int, int]],
        surprises: dict[tuple, _Surprise],
    ) -> None:
        self.data = data
        self.marks: dict[tuple, tuple[int, int]] = marks
        self.key_marks: dict[tuple, tuple[int, int]] = key_marks
        self.surprises: dict[tuple, _Surprise] = surprises

    def locate_key(self, path: tuple) -> tuple[int | None, int | None]:
        """Line and column of the key naming ``path`` (for unknown or missing fields)."""
        return self.key_marks.get(tuple(path)) or self.locate(path)

    def locate(self, path: tuple) -> tuple[int | None, int | None]:
        """Line and column of ``path``, or of the nearest enclosing value that has one."""
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (None, None))


class _Surprise(str):
    """A bare scalar that YAML 1.1 reads as something it probably is not.

    It is kept as the text the user wrote (so nothing is misread), and reported:
    ``kind`` is ``bool`` (``yes``), ``sexagesimal`` (``1:30`` = 90), ``octal``
    (``010`` = 8), ``overflow`` (``1.0e+400`` = infinity) or ``huge`` (an integer
    of hundreds of digits); ``value`` is what YAML 1.1 would have made of it.
    """

    kind: str
    value: object

    def __new__(cls, text: str, kind: str, value: object):
        obj = super().__new__(cls, text)
        obj.kind = kind
        obj.value = value
        return obj


class _Refused(Exception):
    """The file cannot be read at all; carries the one problem to report."""

    def __init__(self, problem: Problem):
        self.problem = problem


class _DepthGuard:
    """Refuses nesting beyond :data:`MAX_DEPTH` while a loader composes.

    PyYAML composes recursively; without a bound a file of ten thousand ``[``
    exhausts Python's stack.
    """

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(
                    Problem(
                        f"values nest more than {MAX_DEPTH} levels deep; expected a topology or drill",
                        (),
                        mark.line + 1,
                        mark.column + 1,
                    )
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Loader(_DepthGuard, yaml.SafeLoader):
    """The safe loader (pure Python), nesting bounded: its messages are the ones users see."""


try:  # libyaml's scanner and parser, when PyYAML was built with it
    from yaml._yaml import CParser

    HAS_LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML without libyaml
    HAS_LIBYAML = False

if HAS_LIBYAML:

    class _FastLoader(
        _DepthGuard, yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):
        """libyaml's parser under the same composer and nesting bound: the same node tree as
        :class:`_Loader` (checked on every bundled and corpus file) in an eighth of the time."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)


def _sexagesimal(text: str) -> float:
    sign = -1 if text.startswith("-") else 1
    total = 0.0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        total = total * 60 + float(part)
    total *= sign
    return int(total) if total == int(total) else total


class _Composer:
    """Turns a YAML node tree into plain data, recording marks and refusing traps."""

    def __init__(self):
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.key_marks: dict[tuple, tuple[int, int]] = {}
        self.surprises: dict[tuple, _Surprise] = {}
        self.problems: list[Problem] = []
        self.count = 0

    @staticmethod
    def _at(node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def build(self, node, path: tuple, stack: tuple) -> object:
        self.count += 1
        if self.count > MAX_NODES:
            line, col = self._at(node)
            raise _Refused(
                Problem(
                    f"file expands to more than {MAX_NODES:,} values (aliases '*name' repeated inside each "
                    "other?); expected a plain topology or drill",
                    (),
                    line,
                    col,
                )
            )
        if len(stack) > MAX_DEPTH:
            line, col = self._at(node)
            raise _Refused(Problem(f"values nest more than {MAX_DEPTH} levels deep through aliases", path, line, col))
        if any(node is s for s in stack):
            line, col = self._at(node)
            raise _Refused(Problem("an alias refers to the value that contains it (an endless loop)", path, line, col))
        self.marks[path] = self._at(node)
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace(_YAML_TAG, "!!")
            self.problems.append(
                Problem(f"YAML tag {tag!r} is not supported; write a plain value", path, *self._at(node))
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, (*stack, node))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, (*path, i), (*stack, node)) for i, v in enumerate(node.value)]
        if _SURROGATE.search(node.value):
            self.problems.append(
                Problem(
                    "a \\u escape names half a character (a lone surrogate); write the character itself",
                    path,
                    *self._at(node),
                )
            )
            return None
        value = self._scalar(node)
        if isinstance(value, _Surprise):
            self.surprises[path] = value
        return value

    def _mapping(self, node, path, stack) -> dict:
        out: dict = {}
        first_line: dict[str, int] = {}
        for knode, vnode in node.value:
            line, col = self._at(knode)
            if not isinstance(knode, yaml.ScalarNode):
                self.problems.append(
                    Problem("expected a plain name as a key, found a list or mapping", path, line, col)
                )
                continue
            key = knode.value
            if _SURROGATE.search(key):
                self.problems.append(
                    Problem(
                        "a \\u escape names half a character (a lone surrogate); write the character itself",
                        path,
                        line,
                        col,
                    )
                )
                continue
            if knode.tag == _YAML_TAG + "merge" or (key == "<<" and not knode.style):
                self.problems.append(
                    Problem("merge keys ('<<') are not supported; write each field out", (*path, key), line, col)
                )
                continue
            if key in out or key in first_line:
                self.problems.append(
                    Problem(
                        f"duplicate key {key!r} (first given on line {first_line[key]}); "
                        "YAML would silently keep only the last",
                        (*path, key),
                        line,
                        col,
                    )
                )
                continue
            first_line[key] = line
            self.key_marks[(*path, key)] = (line, col)
            out[key] = self.build(vnode, (*path, key), stack)
        return out

    @staticmethod
    def _scalar(node):
        """A scalar resolved by the safe loader's rules, with YAML 1.1 surprises kept visible."""
        tag, text = node.tag, node.value
        if tag in (_YAML_TAG + "str", "!") or node.style in ("'", '"', "|", ">"):
            return text
        if tag == _YAML_TAG + "null":
            return None
        if tag == _YAML_TAG + "bool":
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            return _Surprise(text, "bool", text.lower() in ("yes", "on"))
        if tag == _YAML_TAG + "int":
            if ":" in text:
                return _Surprise(text, "sexagesimal", _sexagesimal(text))
            digits = text.replace("_", "")
            if len(digits) > 300:  # beyond any float, and too long for Python to convert
                return _Surprise(text, "huge", None)
            try:
                return int(digits, 0)
            except ValueError:
                try:
                    return _Surprise(text, "octal", int(digits, 8))
                except ValueError:
                    return text
        if tag == _YAML_TAG + "float":
            if ":" in text:
                return _Surprise(text, "sexagesimal", _sexagesimal(text))
            v = text.lower().replace("_", "")
            if v in (".nan",):
                return float("nan")
            if v in (".inf", "+.inf", "-.inf"):
                return float(v.replace(".inf", "inf"))
            f = float(v)
            return _Surprise(text, "overflow", f) if math.isinf(f) else f
        return text  # timestamps stay as written; the models parse clock times themselves


def _where(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (from 1) of byte ``offset`` in ``raw``."""
    line = raw.count(b"\n", 0, offset) + 1
    return line, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


def _decode(raw: bytes, source: str, kind: str = "YAML") -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(source, [Problem(f"file is larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?")])
    for bom, name in (
        (b"\xff\xfe\x00\x00", "UTF-32"),
        (b"\x00\x00\xfe\xff", "UTF-32"),
        (b"\xff\xfe", "UTF-16"),
        (b"\xfe\xff", "UTF-16"),
    ):
        if raw.startswith(bom):
            raise InputError(source, [Problem(f"file is {name} text; save it as UTF-8")])
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputError(
            source, [Problem(f"file holds binary data (a NUL byte); expected {kind} text", (), *_where(raw, nul))]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            source,
            [
                Problem(
                    f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot start or continue a "
                    "character); save it as UTF-8",
                    (),
                    *_where(raw, exc.start),
                )
            ],
        ) from None


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    """One problem for a YAML syntax error, with a plain-words hint for the common ones."""
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    ctx = getattr(exc, "context", None)
    ctx_mark = getattr(exc, "context_mark", None)
    if ctx and ctx_mark is not None and mark is not None and ctx_mark.line != mark.line:
        ctx += f" that began on line {ctx_mark.line + 1}"
    if "'\\t'" in what:
        msg = "not valid YAML: a tab character where indentation or a value was expected; indent with spaces"
    else:
        msg = f"not valid YAML: {what}" + (f" ({ctx})" if ctx else "")
    return Problem(msg, (), mark.line + 1 if mark else None, mark.column + 1 if mark else None)


def _first_two(loader) -> list:
    """The node trees of the first two documents a loader composes (a second one is an error)."""
    nodes: list[yaml.Node] = []
    while loader.check_node() and len(nodes) < 2:
        nodes.append(loader.get_node())
    return nodes


def _fast_nodes(text: str) -> list | None:
    """The node trees of (at most two of) the text's documents, composed from libyaml's events;
    None without libyaml or when anything about the text is refused — the pure loader then parses
    it again and says why, in the words the error corpus pins down."""
    if not HAS_LIBYAML:
        return None
    loader = None
    try:
        loader = _FastLoader(text)
        return _first_two(loader)
    except Exception:
        return None
    finally:
        if loader is not None:
            loader.dispose()


def _nodes(text: str, source: str) -> list:
    """The node trees of (at most two of) the text's documents, by the pure loader, or :class:`InputError`."""
    loader = None
    try:
        loader = _Loader(text)
        return _first_two(loader)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise InputError(
            source,
            [Problem(f"not valid YAML: control character {char!r} is not allowed in YAML text", (), line, col)],
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(source, [_yaml_problem(exc)]) from None
    except _Refused as exc:
        raise InputError(source, [exc.problem]) from None
    except RecursionError:
        raise InputError(source, [Problem(f"values nest more than {MAX_DEPTH} levels deep")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def parse_yaml(text: str | bytes, source: str) -> LocatedDocument:
    """Parse YAML text into data with line marks, or raise :class:`InputError`."""
    if isinstance(text, bytes):
        text = _decode(text, source)
    elif len(text) > MAX_FILE_BYTES:
        raise InputError(source, [Problem(f"file is larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?")])
    elif "\x00" in text:
        raise InputError(source, [Problem("file holds binary data (a NUL byte); expected YAML text")])
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is harmless; columns count from after it
    nodes = _fast_nodes(text)
    if nodes is None:
        nodes = _nodes(text, source)
    if not nodes:
        raise InputError(source, [Problem("file is empty; expected a YAML mapping such as 'name: ...'")])
    if len(nodes) > 1:
        line = nodes[1].start_mark.line + 1
        raise InputError(source, [Problem("file holds several YAML documents (---); expected one", (), line, 1)])
    comp = _Composer()
    try:
        data = comp.build(nodes[0], (), ())
    except _Refused as exc:
        raise InputError(source, [exc.problem]) from None
    except RecursionError:
        raise InputError(source, [Problem(f"values nest more than {MAX_DEPTH} levels deep")]) from None
    if comp.problems:
        raise InputError(source, _sorted(comp.problems))
    if not isinstance(data, dict):
        line, col = comp.marks[()]
        raise InputError(
            source, [Problem(f"expected a YAML mapping at the top (name: ...), found {_found(data)}", (), line, col)]
        )
    return LocatedDocument(data, comp.marks, comp.key_marks, comp.surprises)


def kind_of(data) -> str | None:
    """``"topology"``, ``"drill"``, ``"cutover"``, ``"evidence"`` or ``"calendar"``, judged by the top-level keys
    of a loaded file; None if unclear.

    ``freeze`` or ``waves`` belong to cutover plans alone, ``measured`` to a
    rehearsal's evidence for one, ``exercises`` or ``blackouts`` to an exercise
    calendar's rules; otherwise the file is
    whichever of a topology or a drill has more of its keys at the top.
    """
    if not isinstance(data, dict):
        return None
    if "freeze" in data or "waves" in data:
        return "cutover"
    if "measured" in data:
        return "evidence"
    if "exercises" in data or "blackouts" in data:
        return "calendar"
    t = sum(k in data for k in TOPOLOGY_KEYS)
    d = sum(k in data for k in DRILL_KEYS)
    return "topology" if t > d else "drill" if d > t else None


# ---------------------------------------------------------------- pydantic errors in plain words


def _found(v, limit: int = 60) -> str:
    """A value as found in the file, in words: ``the number 12``, ``'text'``, ``a list``."""
    if isinstance(v, _Surprise):
        return f"bare {v!s}"
    if v is None:
        return "nothing (an empty value)"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            return ".nan (not a number)" if math.isnan(v) else f"{'-' if v < 0 else ''}.inf (infinity)"
        s = repr(v)
        if len(s) > limit:
            s = f"{s[:12]}...{s[-4:]} ({len(s)} digits)"
        return f"the number {s}"
    if isinstance(v, str):
        s = repr(v)
        return s if len(s) <= limit else repr(v[: limit - 10]) + f"... ({len(v)} characters)"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return type(v).__name__


def _model_at(model_cls, loc) -> object:
    """The model class (or ``(list|dict, inner)``) that the value at ``loc`` is validated as."""
    cls = model_cls
    for part in loc:
        if isinstance(cls, tuple):
            cls = cls[1]
            continue
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            f = next((f for n, f in cls.model_fields.items() if (f.alias or n) == part), None)
            cls = _unwrap(f.annotation) if f else None
        else:
            return None
    return cls


def _fields(cls) -> list[str]:
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return [f.alias or n for n, f in cls.model_fields.items()]
    return []


def _unwrap(ann):
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else None
    if origin is list:
        return (list, _unwrap(typing.get_args(ann)[0]))
    if origin is dict:
        return (dict, _unwrap(typing.get_args(ann)[1]))
    return ann


def _lookup(data, loc):
    cur = data
    for p in loc:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


_OPS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _describe(err: ErrorDetails, model_cls, value) -> str:
    """One pydantic error as a sentence: what was expected, what was found."""
    t, ctx, loc = err["type"], err.get("ctx") or {}, tuple(err["loc"])
    found = _found(value)
    if t == "extra_forbidden":
        keys = _fields(_model_at(model_cls, loc[:-1]))
        name = str(loc[-1])
        if any(ch in name for ch in "=)]"):
            return (
                f"unknown field {name!r}: a distribution with commas inside a flow mapping "
                '{...} or list [...] must be quoted, e.g. "lognormal(p50=3m, p95=8m)"'
            )
        return f"unknown field {name!r}{did_you_mean(name, keys)}" + (
            f" (expected one of: {', '.join(keys)})" if keys else ""
        )
    if t == "missing":
        return f"missing required field {loc[-1]!r}"
    if t == "literal_error":
        choices = [c.strip("'") for c in ctx.get("expected", "").replace(" or ", ", ").split(", ")]
        return f"expected one of {', '.join(choices)}, found {found}" + (
            did_you_mean(value, choices) if isinstance(value, str) else ""
        )
    if t == "string_type":
        hint = (
            f"; quote it if it is a name: '{value}'"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else ""
        )
        return f"expected text, found {found}{hint}"
    if t in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, found {found}"
    if t in ("float_type", "float_parsing", "finite_number"):
        return f"expected a number, found {found}"
    if t == "bool_type":
        return f"expected true or false, found {found}"
    if t == "list_type":
        return f"expected a list, found {found}"
    if t == "dict_type":
        return f"expected a mapping of names to entries, found {found}"
    if t in ("model_type", "model_attributes_type"):
        keys = _fields(_model_at(model_cls, loc))
        return f"expected a mapping with fields ({', '.join(keys)}), found {found}"
    if t in ("too_short", "too_long"):
        n, actual = ctx.get("min_length", ctx.get("max_length")), ctx.get("actual_length")
        bound = "at least" if t == "too_short" else "at most"
        return f"expected {bound} {n} entr{'y' if n == 1 else 'ies'}, found {actual or 'none'}"
    if t in _OPS:
        if isinstance(value, float) and math.isnan(value):
            return f"expected a number, found {found}"
        bound = next(iter(ctx.values()))
        shown = f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"
        return f"expected a number {_OPS[t]} {shown}, found {found}"
    if t == "value_error":
        msg = err["msg"].removeprefix("Value error, ")
        if isinstance(value, int | float) and not isinstance(value, bool) and "duration" in msg:
            return f"expected a duration with units (ms, s, m, h, d, w), found {found}: is it '{value}s' or '{value}m'?"
        negative = re.search(r"found ('-[^']*')", msg)
        if negative and "duration" in msg:
            return f"a duration cannot be negative, found {negative.group(1)}"
        return msg
    return f"{err['msg']}, found {found}"


def _surprise_message(s: _Surprise, expected: str | None) -> str:
    """Why a YAML 1.1 surprise is refused, and what to write instead.

    ``expected`` is None where the field accepted the text as written, ``"bool"``
    where it wants true/false, and otherwise the sentence describing what it wants.
    """
    text = str(s)
    if s.kind == "sexagesimal":
        head = f"unquoted {text} is the base-60 number {s.value} in YAML 1.1"
        if expected is None:
            return f"{head}; quote it: '{text}'"
        return f"{head}; write a duration with units ('1h30m' or '1m30s')"
    if s.kind == "bool":
        head = f"bare {text} is the boolean {str(s.value).lower()} in YAML 1.1"
        if expected is None:
            return f"{head}; quote it if you mean the text: '{text}'"
        if expected == "bool":
            return f"{head}; write {str(s.value).lower()}"
        return f"{head}, not a valid value here: {expected}"
    if s.kind == "octal":
        plain = int(text.replace("_", ""))
        return f"unquoted {text} is the octal number {s.value} in YAML 1.1 (leading zero); write {plain} or quote it"
    if s.kind == "huge":
        return f"the number {text[:12]}...{text[-4:]} ({len(text)} digits) is far too large; is it a typo?"
    return f"the number {text} is too large to represent (it becomes infinity); is it a typo?"


_SPLIT = (
    "a distribution was split at its comma: inside a flow mapping {...} or list [...], quote it, "
    'e.g. "lognormal(p50=3m, p95=8m)"'
)


def _split_open(v) -> bool:
    return isinstance(v, str) and (v.count("(") > v.count(")") or v.count("[") > v.count("]"))


def _split_close(v) -> bool:
    return isinstance(v, str) and (v.count(")") > v.count("(") or v.count("]") > v.count("[") or "=" in v)


def _data_loc(loc: tuple, data) -> tuple[tuple, bool]:
    """An error's location as a path in the file, and whether it is about a mapping key.

    Pydantic adds a segment naming the member of a union it tried (``str``,
    ``DependencyGroup``) and ``[key]`` after a mapping key it refused; a path in
    the file has neither.
    """
    out: list = []
    cur = data
    for i, part in enumerate(loc):
        if part == "[key]" and i == len(loc) - 1:
            return tuple(out), True
        in_file = isinstance(cur, dict) and part in cur
        in_file = in_file or (isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur))
        if in_file:
            cur = cur[part]  # type: ignore[index]
        elif isinstance(part, str) and _UNION_MEMBER.fullmatch(part):
            continue  # the union member tried, not a key of the file
        else:
            cur = None
        out.append(part)
    return tuple(out), False


#: How pydantic names the member of a union it tried (field names are lower case).
_UNION_MEMBER = re.compile(r"[A-Z]\w*|str|int|float|bool|none|(function|literal)[-\w]*\[.*\]", re.S)
_MAPPING_ERRORS = ("model_type", "model_attributes_type", "dict_type")


def _one_per_place(errors: list[ErrorDetails], data) -> list[ErrorDetails]:
    """Each union's errors reduced to the member's that fits the value's shape: a mapping's for a mapping."""
    kept: dict[tuple, ErrorDetails] = {}
    for err in errors:
        loc, is_key = _data_loc(tuple(err["loc"]), data)
        fixed: ErrorDetails = {**err, "loc": (*loc, "[key]") if is_key else loc}
        first = kept.get(fixed["loc"])
        if first is None or (first["type"] in _MAPPING_ERRORS) != isinstance(_lookup(data, loc), dict):
            kept[fixed["loc"]] = fixed
    # a mapping given where a union takes a name or a mapping: its fields' errors, not "expected text"
    return [
        e
        for loc, e in kept.items()
        if not (
            isinstance(_lookup(data, loc), dict)
            and e["type"] not in _MAPPING_ERRORS
            and any(len(o) > len(loc) and o[: len(loc)] == loc for o in kept)
        )
    ]


def _pydantic_problems(exc: ValidationError, doc: LocatedDocument, model_cls) -> list[Problem]:
    errors = _one_per_place(exc.errors(include_url=False), doc.data)
    out: dict[tuple, Problem] = {}
    extras = [tuple(e["loc"]) for e in errors if e["type"] == "extra_forbidden"]
    # an unquoted distribution in a flow collection splits at its comma: report the first piece only
    split = {tuple(e["loc"][:-1]) for e in errors if _split_open(_lookup(doc.data, tuple(e["loc"])))}
    split |= {loc[:-1] for loc in extras if _split_close(str(loc[-1]))}
    for err in errors:
        loc = tuple(err["loc"])
        value = doc.surprises.get(loc, _lookup(doc.data, loc))
        if loc[:-1] in split:
            if _split_open(value):
                out[loc] = Problem(f"{_SPLIT}; found {_found(value)}", loc, *doc.locate(loc))
                continue
            if _split_close(value) or (err["type"] == "extra_forbidden" and value is None):
                continue
        if err["type"] == "missing":
            # a required field misspelt is reported once, as the unknown key with its suggestion
            siblings = [x[-1] for x in extras if x[:-1] == loc[:-1]]
            if difflib.get_close_matches(str(loc[-1]), [str(s) for s in siblings], n=1, cutoff=0.6):
                continue
            out[loc] = Problem(_describe(err, model_cls, value), loc[:-1], *doc.locate_key(loc[:-1]))
            continue
        if loc in doc.surprises:
            expected = "bool" if err["type"] == "bool_type" else _describe(err, model_cls, str(value))
            out[loc] = Problem(_surprise_message(doc.surprises[loc], expected), loc, *doc.locate(loc))
            continue
        if loc[-1:] == ("[key]",):  # a mapping key refused (a name with a hidden character)
            out[loc] = Problem(_describe(err, model_cls, loc[-2]), loc[:-1], *doc.locate_key(loc[:-1]))
            continue
        at = doc.locate_key(loc) if err["type"] == "extra_forbidden" else doc.locate(loc)
        out[loc] = Problem(_describe(err, model_cls, value), loc, *at)
    # the first piece may be a valid value of a text field (a step's name): then report the split
    # at the piece that became a key, or the file would be refused with nothing to say why
    for loc in extras:
        if loc[:-1] in split and not any(k[:-1] == loc[:-1] for k in out):
            out[loc] = Problem(f"{_SPLIT}; found the key {_found(str(loc[-1]))}", loc, *doc.locate_key(loc))
    return list(out.values())


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0, repr(p.path)))


def _validate(doc: LocatedDocument, model_cls, source: str):
    problems: list[Problem] = []
    try:
        obj = model_cls.model_validate(plain_data(doc.data))
    except ValidationError as exc:
        obj = None
        problems = _pydantic_problems(exc, doc, model_cls)
    # a surprise where text is accepted would pass silently: report it too
    reported = {p.path for p in problems}
    unknown = [p.path for p in problems if p.message.startswith("unknown field")]
    for path, s in doc.surprises.items():
        if path in reported or any(path[: len(u)] == u for u in unknown):
            continue
        problems.append(Problem(_surprise_message(s, None), path, *doc.locate(path)))
    if problems:
        raise InputError(source, _sorted(problems))
    return obj


def plain_data(data: object) -> object:
    """A loaded document's data as the user wrote it, for validation or for editing.

    A bare scalar that YAML 1.1 would misread (``yes``, ``1:30``, ``010``) is
    held in the document as a marked string; here it becomes plain text, so a
    model validating it sees exactly what was written.
    """
    if isinstance(data, dict):
        return {k: plain_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain_data(v) for v in data]
    if isinstance(data, _Surprise):
        return str(data)
    return data


def _file_kind(mode: int) -> str:
    """Words for what a path is when it is not a regular file."""
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


#: How long a named pipe may stay silent before drsim stops waiting for it.
PIPE_SILENCE_SECONDS = 10.0


def _read_pipe(path: Path) -> bytes:
    """The bytes written into a pipe, read without blocking on a pipe nobody writes to.

    Opening a named pipe for reading blocks until a writer opens it; opened
    non-blocking it returns at once, a pipe with no writer reads as empty, and a
    writer that stays silent for :data:`PIPE_SILENCE_SECONDS` is given up on.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list[bytes] = []
    size = 0
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        while size <= MAX_FILE_BYTES:
            if not poller.poll(PIPE_SILENCE_SECONDS * 1000):
                raise InputError(
                    str(path), [Problem(f"is a named pipe with nothing written to it for {PIPE_SILENCE_SECONDS:g} s")]
                )
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_user_file(path: str | Path) -> bytes:
    """The bytes of a file the user named, or an :class:`InputError` saying why not.

    The read is bounded by :data:`MAX_FILE_BYTES`, so naming a device or a huge
    file is refused instead of filling memory; a directory, a missing file or
    one that cannot be opened is reported in words, labelled with the path.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode  # follows links: a link to a regular file is read as that file
        if stat.S_ISDIR(mode):
            raise InputError(str(path), [Problem("is a directory; expected a YAML file")])
        if stat.S_ISFIFO(mode):
            raw = _read_pipe(path)  # process substitution, <(...): read it, but never wait forever
        elif not stat.S_ISREG(mode):
            raise InputError(str(path), [Problem(f"is a {_file_kind(mode)}, not a regular file; expected a YAML file")])
        else:
            with path.open("rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)  # bounded: never slurp a huge file
    except FileNotFoundError:
        raise InputError(str(path), [Problem("no such file")]) from None
    except OSError as exc:
        raise InputError(str(path), [Problem(f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(
            str(path), [Problem(f"file is larger than {MAX_FILE_BYTES // 1024} KiB; is it the right file?")]
        )
    return raw


_A_KIND = {"cutover": "a cutover plan", "evidence": "an evidence file", "calendar": "an exercise calendar"}


def _wrong_kind(doc: LocatedDocument, source: str, expected: str) -> None:
    found = kind_of(doc.data)
    if found is None or found == expected:
        return
    keys_of = {
        "drill": DRILL_KEYS,
        "topology": TOPOLOGY_KEYS,
        "cutover": CUTOVER_KEYS,
        "evidence": ("measured",),
        "calendar": CALENDAR_KEYS,
    }
    keys = [k for k in keys_of[found] if k in doc.data]
    want = ", ".join(keys_of[expected][:4])
    raise InputError(
        source,
        [
            Problem(
                f"expected {_A_KIND.get(expected, 'a ' + expected)} ({want}, ...), but this file is "
                f"{_A_KIND.get(found, 'a ' + found)} (it has {', '.join(keys)})",
                (),
                *doc.locate((keys[0],)),
            )
        ],
    )


@collection_paused
def topology_from_text(text: str | bytes, source: str = "<topology>") -> Topology:
    """A validated topology from YAML text."""
    doc = parse_yaml(text, source)
    _wrong_kind(doc, source, "topology")
    topo = _validate(doc, Topology, source)
    probs = check_topology(topo)
    if probs:
        raise InputError(source, _sorted([Problem(m, p, *doc.locate(p)) for p, m in probs]))
    for p, m in name_warnings(topo):
        warnings.warn(InputWarning(source, Problem(m, p, *doc.locate_key(p))), stacklevel=2)
    return topo


@dataclass(frozen=True)
class DrillFile:
    """A drill as read from a file: the validated model, the file's label, and where each field sits.

    The loader checks a drill's fields and its references into the topology.
    Some problems show only when the drill is compiled into a plan (nobody on
    duty for a role the response needs); whoever compiles it reports those
    against the file with :meth:`locate`, exactly as the loader reports its own.
    """

    #: The validated drill.
    drill: Drill
    #: The file's label in messages: its path as the user gave it.
    source: str
    #: The parsed file, which knows the line and column of every field.
    document: LocatedDocument

    def locate(self, error: InputError) -> InputError:
        """``error``'s problems, reported against this file at the lines of the fields they name."""
        return InputError(
            self.source,
            _sorted([Problem(p.message, p.path, *self.document.locate(p.path)) for p in error.problems]),
        )


def drill_file_from_text(text: str | bytes, topology: Topology, source: str = "<drill>") -> DrillFile:
    """A drill from YAML text, validated and checked against ``topology``, with its line marks."""
    doc = parse_yaml(text, source)
    _wrong_kind(doc, source, "drill")
    drill = _validate(doc, Drill, source)
    probs = check_drill(drill, topology)
    if probs:
        raise InputError(source, _sorted([Problem(m, p, *doc.locate(p)) for p, m in probs]))
    return DrillFile(drill, source, doc)


@collection_paused
def drill_from_text(text: str | bytes, topology: Topology, source: str = "<drill>") -> Drill:
    """A drill from YAML text, validated and checked against ``topology``.

    What only compiling reveals is not checked here: compile the drill (as
    :func:`drsim.api.prepare` does) to be sure it can be replayed.
    """
    return drill_file_from_text(text, topology, source).drill


def cutover_from_text(text: str | bytes, topology: Topology, source: str = "<cutover>") -> CutoverPlan:
    """A cutover plan from YAML text, validated and checked against ``topology``."""
    doc = parse_yaml(text, source)
    _wrong_kind(doc, source, "cutover")
    plan = _validate(doc, CutoverPlan, source)
    probs = check_cutover(plan, topology)
    if probs:
        raise InputError(source, _sorted([Problem(m, p, *doc.locate(p)) for p, m in probs]))
    return plan


def evidence_from_text(text: str | bytes, plan: CutoverPlan, source: str = "<evidence>") -> Evidence:
    """A rehearsal's evidence for ``plan``'s gates from YAML or JSON text, every measure one a gate names."""
    doc = parse_yaml(text, source)
    _wrong_kind(doc, source, "evidence")
    evidence = _validate(doc, Evidence, source)
    probs = check_evidence(evidence, plan)
    if probs:
        raise InputError(source, _sorted([Problem(m, p, *doc.locate_key(p)) for p, m in probs]))
    return evidence


@dataclass(frozen=True)
class CalendarFile:
    """Exercise-calendar rules as read from a file, with each exercise's drill loaded against the estate."""

    rules: CalendarRules
    #: Each exercise's drill, in the order of ``rules.exercises``.
    drills: tuple[Drill, ...]
    #: The file's label in messages: its path as the user gave it.
    source: str


def calendar_from_text(
    text: str | bytes, topology: Topology, source: str = "<calendar>", folder: str | Path = "."
) -> CalendarFile:
    """Exercise-calendar rules from YAML text, checked against ``topology``, each exercise's drill loaded
    (a bundled name, or a file relative to ``folder``). A drill that cannot be found is reported at its
    ``exercises[i].drill``; a drill file with mistakes is reported against that file."""
    doc = parse_yaml(text, source)
    _wrong_kind(doc, source, "calendar")
    rules = _validate(doc, CalendarRules, source)
    probs = check_calendar(rules, topology)
    paths: list[Path | None] = []
    for i, ex in enumerate(rules.exercises):
        given = Path(ex.drill)
        if not given.is_absolute() and (given.suffix in (".yaml", ".yml") or "/" in ex.drill):
            given = Path(folder) / given
        try:
            path = resolve(str(given), "drills")
            if not path.exists():
                raise InputError(ex.drill, [Problem(f"no drill file {str(path)!r}")])
            paths.append(path)
        except InputError as exc:
            paths.append(None)
            probs.append((("exercises", i, "drill"), exc.problems[0].message))
    if probs:
        raise InputError(source, _sorted([Problem(m, p, *doc.locate(p)) for p, m in probs]))
    drills = tuple(drill_from_text(read_user_file(p), topology, str(p)) for p in paths if p is not None)
    return CalendarFile(rules, drills, source)


def load_calendar(name_or_path: str | Path, topology: Topology) -> CalendarFile:
    """Load exercise-calendar rules by bundled name (``calendars/``) or path, checked against ``topology``."""
    path = resolve(str(name_or_path), "calendars")
    return calendar_from_text(read_user_file(path), topology, str(path), path.parent)


def is_table(path: str | Path) -> bool:
    """Whether a file is read as a CSV table (its name ends ``.csv``)."""
    return str(path).lower().endswith(".csv")


def evidence_table(raw: bytes, source: str) -> Evidence:
    """A CSV evidence table's bytes read on their own (measures not checked against any plan)."""
    return read_table(_decode(raw, source, "CSV"), source)[0]


def load_evidence(name_or_path: str | Path, plan: CutoverPlan) -> Evidence:
    """Load an evidence file by bundled name (``cutovers/evidence/``) or path, checked against ``plan``:
    YAML or JSON (``measured: {...}``), or a CSV table (``.csv``: :mod:`drsim.model.evidence_csv`)."""
    if is_table(name_or_path):
        path = Path(name_or_path)
        return evidence_from_csv(_decode(read_user_file(path), str(path), "CSV"), plan, str(path))
    path = resolve(str(name_or_path), "cutovers/evidence")
    return evidence_from_text(read_user_file(path), plan, str(path))


# ---------------------------------------------------------------- bundled files


def bundled_dir(kind: str) -> Path:
    """The folder of bundled ``topologies``, ``drills`` or ``cutovers``."""
    return Path(str(resources.files("drsim") / "data" / kind))


def bundled_names(kind: str) -> list[str]:
    """The names of the bundled ``topologies`` or ``drills`` (file names without ``.yaml``), sorted."""
    d = bundled_dir(kind)
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


_LABEL = {"cutovers": "cutover plan", "cutovers/evidence": "evidence file", "calendars": "exercise calendar"}


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
        [Problem(f"no bundled {_LABEL.get(kind, kind[:-1])} or file by that name{hint} (bundled: {', '.join(names)})")],
    )


def load_topology(name_or_path: str | Path | None = None) -> Topology:
    """Load a topology by bundled name or path (default: the reference EHR estate)."""
    path = resolve(str(name_or_path or DEFAULT_TOPOLOGY), "topologies")
    return topology_from_text(read_user_file(path), str(path))


def load_cutover(name_or_path: str | Path, topology: Topology) -> CutoverPlan:
    """Load a cutover plan by bundled name or path, checked against ``topology``."""
    path = resolve(str(name_or_path), "cutovers")
    return cutover_from_text(read_user_file(path), topology, str(path))


def load_drill_file(name_or_path: str | Path, topology: Topology) -> DrillFile:
    """Load a drill by bundled name or path, checked against ``topology``, keeping its line marks."""
    path = resolve(str(name_or_path), "drills")
    return drill_file_from_text(read_user_file(path), topology, str(path))


def load_drill(name_or_path: str | Path, topology: Topology) -> Drill:
    """Load a drill by bundled name or path, checked against ``topology`` (see :func:`drill_from_text`)."""
    return load_drill_file(name_or_path, topology).drill


def describe_file(path: Path) -> str:
    """The first comment line of a bundled file: what it is for."""
    for line in path.read_text().splitlines():
        s = line.strip()
        if s.startswith("#"):
            return s.lstrip("#").strip()
        if s:
            break
    return ""


def model_from_text(text: str | bytes, model_cls: type[BaseModel], source: str) -> BaseModel:
    """Any frozen input model (an overlay, a calibration mapping) validated from YAML text.

    The same refusals and plain-word messages as a topology or a drill: every
    problem names the file, line, column and field path.
    """
    return _validate(parse_yaml(text, source), model_cls, source)
