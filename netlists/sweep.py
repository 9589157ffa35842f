"""Sweeps at scale: grids and Monte Carlo over any ``concurrent.futures.Executor``.

>>> from netlists import get_technology
>>> from netlists.sweep import grid, mos_op_circuit, sweep
>>> circuit = mos_op_circuit(get_technology("sky130"))                 # doctest: +SKIP
>>> result = sweep(circuit, grid(w_m=[1e-6, 4e-6], vg=[0.2, 0.3]))    # doctest: +SKIP
>>> result["vam_m1#branch"]            # one row per point, in order   # doctest: +SKIP

A :class:`SweepCircuit` is netlist text with named knobs: ``params`` (``.param`` values the
text uses as ``{name}``, changed with ``alterparam`` + ``reset``), ``sources`` (independent
sources whose ``dc`` value is changed with ``alter``) and two reserved point keys,
``temp_c`` (°C, ``option temp``) and ``mc_seed`` (``setseed`` + ``reset``: a Monte Carlo
sample of the PDK's mismatch/process variation). Corners and other changes of the text go
through ``structure``: ``circuit`` is then a function of those keys returning a circuit.

Each executor worker keeps one ngspice (a :class:`~netlists.runner.Simulator` child per
worker thread) with the circuit loaded once; points are sorted so that the costly ``reset``
happens only when a ``.param`` changes, and sent in chunks (about :data:`CHUNKS_PER_SWEEP` of
them, so that workers that start or run at different speeds still finish together). Results
come back in the order of ``points``; a failed point is a :class:`PointError` in ``result.errors`` (its rows are
NaN), never a lost sweep. Finished points go to a :class:`~netlists.cache.SweepCache`
chunk by chunk, so a rerun costs no simulation and an interrupted sweep resumes.
The default executor is an :class:`~netlists._engine_pool.EnginePool`: threads of the calling
process, each driving its own ngspice worker process, all started at once (in parallel with the
sweep's own preparation when the cache is off). No ``multiprocessing`` is involved, so a script
calling :func:`sweep` needs no ``if __name__ == "__main__":`` guard (a process pool passed as
``executor`` still does).
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .cache import SweepCache, circuit_key, default_cache_dir, ngspice_identity, point_key
from .errors import NetlistError, ParameterError, SimulationError
from .netlist import Netlist, ammeter_name
from .params import SimParams
from .runner import guard_netlist_text
from .values import check_identifier, parse_number, spice_number
from ._engine_pool import EnginePool
from ._sweep_worker import run_chunk

__all__ = ["SweepCircuit", "SweepResult", "PointError", "sweep", "grid", "mc_samples", "mos_op_circuit", "sweep_executor"]

RESERVED = ("temp_c", "mc_seed")
_PROBE = re.compile(r"@[a-z][a-z0-9_]{0,80}\[(v|i)\]")
#: error kinds that a rerun would reproduce (cached); timeouts, crashes and lost workers are retried
DETERMINISTIC_KINDS = ("netlist", "simulation")
#: the default chunking cuts a sweep into about this many chunks (fewer for small sweeps) …
CHUNKS_PER_SWEEP = 32
#: … of at most this many points (a chunk is one request to a worker and one cache write)
MAX_CHUNK_POINTS = 256


@dataclass(frozen=True)
class SweepCircuit:
    """Netlist text with the knobs a sweep turns.

    Attributes
    ----------
    text : str
        Complete netlist (title line first, analyses, ``.end``); uses each param as ``{name}``.
    params : mapping name → default
        ``.param`` values (SI numbers); a ``.param`` line is inserted after the title.
    sources : mapping name → default dc value (V or A)
        Independent sources of ``text`` set per point with ``alter NAME dc=value``.
    init_commands : ngspice commands sent before loading (``Technology.init_commands()``).
    model_files : files the text includes (their bytes are part of the cache key).
    temp_c : default temperature, °C.
    keep : vector names to keep (lower case); None keeps all.
    timeout_s : wall-clock limit of one point, s.
    fresh_per_point : reload the circuit before every point, so that a point does not depend on the
        points the worker ran before (a transient's solver starts from the previous solution); costs a
        load per point (tens of ms with the cut sky130 models). The learner's mismatch dies use it.
    halts_s, probes : halt the transient at these times (s) and read these special vectors there
        (:meth:`netlists.runner.Simulator.run`); a record's ``samples`` holds them.
    """

    text: str
    params: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, float] = field(default_factory=dict)
    init_commands: tuple[str, ...] = ()
    model_files: tuple[Path, ...] = ()
    temp_c: float = 27.0
    keep: tuple[str, ...] | None = None
    timeout_s: float = 120.0
    fresh_per_point: bool = False
    halts_s: tuple[float, ...] = ()
    probes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        guard_netlist_text(self.text)
        object.__setattr__(self, "halts_s", tuple(parse_number(t, "SweepCircuit.halts_s") for t in self.halts_s))
        for name in self.probes:
            if not isinstance(name, str) or _PROBE.fullmatch(name) is None:
                raise ParameterError(f"SweepCircuit.probes must be special vectors @name[v] or @name[i], got {name!r}")
        object.__setattr__(self, "probes", tuple(self.probes))
        params = {check_identifier(k, "sweep param name"): parse_number(v, f"sweep param {k}") for k, v in dict(self.params).items()}
        sources = {check_identifier(k, "sweep source name"): parse_number(v, f"sweep source {k}") for k, v in dict(self.sources).items()}
        clash = (set(params) & set(sources)) | ((set(params) | set(sources)) & set(RESERVED))
        if clash:
            raise ParameterError(f"sweep names must be unique and not {RESERVED}; clash: {sorted(clash)}")
        lines = [line.split()[0].lower() for line in self.text.splitlines()[1:] if line.split()]
        for name in sources:
            if name.lower() not in lines or name[0].lower() not in "vi":
                raise ParameterError(f"sweep source {name!r} is not an independent source (V…/I…) of the netlist")
        for name in params:
            if not re.search(r"\{[^}]*\b" + name + r"\b", self.text):
                raise ParameterError(f"sweep param {name!r} is not used as {{{name}}} in the netlist text")
        for command in self.init_commands:
            if "\n" in command or not command.isascii() or re.search(r"\b(shell|source|exec)\b", command):
                raise ParameterError(f"init command not allowed: {command!r}")
        if self.keep is not None:
            object.__setattr__(self, "keep", tuple(str(k).lower() for k in self.keep))
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "init_commands", tuple(self.init_commands))
        object.__setattr__(self, "model_files", tuple(Path(p) for p in self.model_files))
        object.__setattr__(self, "temp_c", parse_number(self.temp_c, "SweepCircuit.temp_c"))
        object.__setattr__(self, "timeout_s", parse_number(self.timeout_s, "SweepCircuit.timeout_s"))

    @property
    def netlist_text(self) -> str:
        """The text loaded into ngspice (with the ``.param`` line of the defaults)."""
        first, _, rest = self.text.partition("\n")
        if not self.params:
            return self.text
        card = ".param " + " ".join(f"{k}={spice_number(v)}" for k, v in self.params.items())
        return f"{first}\n{card}\n{rest}"

    @classmethod
    def from_netlist(
        cls,
        netlist: Netlist,
        sim: SimParams | None = None,
        *,
        sources: Sequence[str] = (),
        sizes: Mapping[str, tuple[str, str]] | None = None,
        keep: Sequence[str] | None = None,
    ) -> "SweepCircuit":
        """Sweepable circuit from a generated :class:`Netlist`.

        ``sources`` names independent sources to set per point (defaults read off the
        netlist); ``sizes`` maps a MOS device to the names of its width and length params
        (m), e.g. ``{"m1": ("w_m", "l_m")}`` — the technology's own scaling (sky130 writes
        µm) is kept by rewriting ``w=``/``l=`` as expressions of the params, and a device's junction
        geometry (``ad``/``as``/``pd``/``ps``) as expressions of its width param.
        """
        sim = sim or SimParams()
        text = netlist.text(sim)
        params: dict[str, float] = {}
        lines = text.splitlines()
        for device in netlist.devices:
            if not sizes or device.name not in sizes:
                continue
            w_name, l_name = (check_identifier(n, "size param name") for n in sizes[device.name])
            tech_ = netlist.technology
            line = tech_.instance_line(device.name, device.polarity, f"dm_{device.name}".lower(), device.g, device.s, device.b,
                                       device.w_m, device.l_m) + tech_.junction_text(device.w_m)  # fmt: skip
            if line not in lines:
                raise NetlistError(f"instance line of {device.name} not found in the netlist")
            new = line
            for key, pname, value in (("w", w_name, device.w_m), ("l", l_name, device.l_m)):
                written = re.search(rf"\b{key}=(\S+)", new)
                if written is None:
                    raise NetlistError(f"instance line of {device.name} has no {key}=")
                scale = float(written.group(1)) / value
                new = new[: written.start(1)] + f"{{{pname}*{spice_number(scale)}}}" + new[written.end(1):]
                params[pname] = value
            if tech_.junction_geometry(device.w_m) is not None:
                # junction geometry follows the swept width: AD = AS = W·E, PD = PS = 2·(W + E), in the
                # technology's geometry unit u (:meth:`Technology.junction_text`)
                e, u = tech_.diffusion_extension_m, tech_.geometry_unit_m
                area = f"{{{w_name}*{spice_number(e / (u * u))}}}"
                perimeter = f"{{({w_name}+{spice_number(e)})*{spice_number(2.0 / u)}}}"
                for key, expr in (("ad", area), ("as", area), ("pd", perimeter), ("ps", perimeter)):
                    new = re.sub(rf"\b{key}=\S+", lambda _m, k=key, x=expr: f"{k}={x}", new)
            lines[lines.index(line)] = new
        defaults: dict[str, float] = {}
        for name in sources:
            match = re.search(rf"^{re.escape(name)}\s+\S+\s+\S+\s+dc\s+(\S+)", text, re.MULTILINE | re.IGNORECASE)
            if match is None:
                raise ParameterError(f"sweep source {name!r} is not a dc source of the netlist")
            defaults[name] = float(match.group(1))
        tech = netlist.technology
        return cls("\n".join(lines) + "\n", params, defaults, tuple(tech.init_commands()), tuple(tech.model_files()),
                   sim.temp_c, None if keep is None else tuple(keep), sim.timeout_s)


def mos_op_circuit(tech, polarity: str = "n", *, w_m: float = 2e-6, l_m: float = 1e-6, vgs_v: float = 0.4,
                   vds_v: float = 0.5, sim: SimParams | None = None) -> SweepCircuit:
    """One transistor ``m1`` at an operating point: params ``w_m``, ``l_m`` (m), sources ``vg``, ``vd``
    (V, signed: negative for a pMOS); keeps the drain current ``vam_m1#branch`` (A)."""
    from .netlist import Analysis, NetlistBuilder

    sign = 1.0 if polarity == "n" else -1.0
    nb = NetlistBuilder(f"{polarity}mos_op", tech)
    nb.vsource("vd", "d", "0", sign * vds_v)
    nb.vsource("vg", "g", "0", sign * vgs_v)
    nb.mos("m1", polarity, "d", "g", "0", "0", w_m=w_m, l_m=l_m)
    nb.analysis(Analysis("op"))
    return SweepCircuit.from_netlist(nb.build(), sim, sources=("vd", "vg"), sizes={"m1": ("w_m", "l_m")},
                                     keep=(f"{ammeter_name('m1')}#branch",))


def grid(**axes: Iterable[Any]) -> list[dict[str, Any]]:
    """Cartesian product of the axes as a list of points (the last axis varies fastest)."""
    names = list(axes)
    values = [list(v) for v in axes.values()]
    for name, vals in zip(names, values):
        if not vals:
            raise ParameterError(f"grid axis {name!r} is empty")
    return [dict(zip(names, combo)) for combo in product(*values)]


def mc_samples(n: int, *, first_seed: int = 1, **fixed: Any) -> list[dict[str, Any]]:
    """``n`` Monte Carlo points ``{"mc_seed": first_seed + i, **fixed}`` (seeds are reproducible)."""
    if not isinstance(n, int) or n < 1:
        raise ParameterError(f"mc_samples n must be a positive integer, got {n!r}")
    return [{**fixed, "mc_seed": first_seed + i} for i in range(n)]


def sweep_executor(workers: int | None = None) -> EnginePool:
    """The executor :func:`sweep` uses by default; keep it to reuse warm workers across sweeps.

    ``workers`` threads of this process (default: CPU count), each driving one ngspice worker
    process, started at once (:class:`~netlists._engine_pool.EnginePool`). The ngspice workers end
    with this process, even when it is killed (:func:`netlists._lifeline.die_with_parent`).
    """
    return EnginePool(workers)


def _own_workers(workers: int | None, n_points: int, chunk_size: int | None) -> int:
    """Workers of the pool a sweep makes itself: ``workers`` (default CPU count), at most one per chunk."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"sweep workers must be a positive integer, got {workers!r}")
    n_chunks = math.ceil(n_points / (chunk_size or default_chunk_size(n_points)))
    return max(1, min(workers or os.cpu_count() or 1, n_chunks))


def default_chunk_size(n_points: int) -> int:
    """Points per chunk when :func:`sweep` is not given ``chunk_size``: about :data:`CHUNKS_PER_SWEEP`
    chunks of at most :data:`MAX_CHUNK_POINTS` points. A function of the number of points only, so
    which points share a worker's ngspice does not depend on the number of workers."""
    return max(1, min(MAX_CHUNK_POINTS, math.ceil(n_points / CHUNKS_PER_SWEEP)))


@dataclass
class PointError:
    """A point that produced no result: ``kind`` is netlist, simulation, timeout, crash or worker_lost."""

    index: int
    point: dict[str, Any]
    kind: str
    message: str
    log: str = field(default="", repr=False)


@dataclass
class SweepResult:
    """Results of :func:`sweep`, in the order of the points given."""

    points: list[dict[str, Any]]
    records: list[dict[str, Any]] = field(repr=False)
    n_cached: int = 0
    n_computed: int = 0
    n_corrupt: int = 0
    elapsed_s: float = 0.0

    def __len__(self) -> int:
        return len(self.points)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the points that produced results."""
        return np.array([r.get("status") == "ok" for r in self.records], dtype=bool)

    @property
    def errors(self) -> list[PointError]:
        return [PointError(i, self.points[i], r.get("kind", "simulation"), r.get("message", ""), r.get("log", ""))
                for i, r in enumerate(self.records) if r.get("status") != "ok"]

    def vectors(self, index: int) -> dict[str, np.ndarray]:
        """All vectors of one point (empty for an error)."""
        return dict(self.records[index].get("vectors") or {})

    def __getitem__(self, name: str) -> np.ndarray:
        """One vector over all points: shape (n_points,) for one value per point, else
        (n_points, length); rows of failed points are NaN."""
        key = name.lower()
        rows = [r.get("vectors", {}).get(key) if r.get("status") == "ok" else None for r in self.records]
        lengths = {len(v) for v in rows if v is not None}
        if not lengths:
            if any(r.get("status") == "ok" for r in self.records):
                have = sorted(next(r for r in self.records if r.get("status") == "ok")["vectors"])
                raise KeyError(f"no vector {name!r}; have {have[:20]}")
            return np.full(len(rows), np.nan)
        if len(lengths) > 1:
            raise ValueError(f"vector {name!r} has different lengths across points ({sorted(lengths)}); use .vectors(i)")
        length = lengths.pop()
        dtype = np.result_type(*[v for v in rows if v is not None])
        out = np.full((len(rows), length), np.nan, dtype=dtype)
        for i, v in enumerate(rows):
            if v is not None:
                out[i] = v
        return out[:, 0] if length == 1 else out

    def param(self, name: str) -> np.ndarray:
        """The values of one point key over all points."""
        return np.array([p[name] for p in self.points])

    def raise_errors(self) -> "SweepResult":
        """Raise :class:`SimulationError` listing the failed points, if any; else return self."""
        errors = self.errors
        if errors:
            lines = [f"point {e.index} {e.point}: {e.kind}: {e.message}" for e in errors[:10]]
            raise SimulationError(f"{len(errors)} of {len(self)} sweep points failed:\n" + "\n".join(lines), log=errors[0].log)
        return self


# -- driver (caller side) ----------------------------------------------------------------------------
def _normalize(raw: Mapping[str, Any], index: int, circuit: SweepCircuit, structure: Sequence[str]) -> dict[str, Any]:
    where = f"sweep point {index}"
    if not isinstance(raw, Mapping):
        raise ParameterError(f"{where} must be a mapping of name to value, got {type(raw).__name__}")
    allowed = [*circuit.params, *circuit.sources, *RESERVED, *structure]
    point: dict[str, Any] = {}
    for name, value in raw.items():
        check_identifier(name, f"{where}: parameter name")
        if name in structure:
            continue
        if name not in allowed:
            raise ParameterError(f"{where}: unknown parameter {name!r}; allowed: {', '.join(allowed)}")
        if name == "mc_seed":
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) < 2**31:
                raise ParameterError(f"{where}: mc_seed must be an integer in [0, 2^31), got {value!r}")
            point[name] = int(value)
        else:
            point[name] = parse_number(value, f"{where}: {name}")
    full = {**circuit.params, **circuit.sources, "temp_c": circuit.temp_c, "mc_seed": 0}
    full.update(point)
    return full


def _request(point: dict[str, Any], circuit: SweepCircuit) -> dict:
    return {"params": {k: point[k] for k in circuit.params}, "sources": {k: point[k] for k in circuit.sources},
            "temp": point["temp_c"], "seed": point["mc_seed"], "keep": None if circuit.keep is None else list(circuit.keep),
            "fresh": bool(circuit.fresh_per_point), "halts": list(circuit.halts_s), "probes": list(circuit.probes)}


def _structural_value(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return check_identifier(value, f"structure key {name}")
    if isinstance(value, bool) or value is None:
        return value
    return parse_number(value, f"structure key {name}")


def sweep(
    circuit: SweepCircuit | Callable[..., SweepCircuit],
    points: Iterable[Mapping[str, Any]],
    *,
    structure: Sequence[str] = (),
    executor: Executor | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    quiet: bool = False,
    callback: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Simulate ``circuit`` at every point; results in order, failures as error records.

    Parameters
    ----------
    circuit : SweepCircuit or callable
        The circuit, or (with ``structure``) a function of the structure keys returning one.
    points : iterable of mappings
        Values by name: params (SI), sources (V or A), ``temp_c`` (°C), ``mc_seed`` (int) and
        the ``structure`` keys; missing names take the circuit's defaults.
    structure : names of point keys that change the netlist text (corner, technology…).
    executor : any ``concurrent.futures.Executor`` (e.g. ``dask.distributed.Client(...).get_executor()``
        or a kept :func:`sweep_executor`); default: :func:`sweep_executor` with ``workers`` workers
        (at most one per chunk), ended with the sweep.
    workers : int, optional
        Workers of the default executor (default: CPU count); ignored with ``executor``.
    chunk_size : points per task (default :func:`default_chunk_size`, from the number of points
        only, so results do not depend on the number of workers).
    cache_dir, use_cache : on-disk cache folder (default :func:`~netlists.cache.default_cache_dir`).
    quiet : no progress bar (otherwise tqdm on stderr once the sweep has run for 1 s).
    callback : ``callback(done, total)`` after every finished chunk.
    """
    started = time.perf_counter()
    structure = tuple(check_identifier(k, "structure key") for k in structure)
    if structure and isinstance(circuit, SweepCircuit):
        raise ParameterError("structure keys need `circuit` to be a function of them returning a SweepCircuit")
    raw = list(points)
    pool = executor
    own = executor is None
    if own and not use_cache and raw:
        # nothing can come from the cache: start the ngspice workers now, so that their start-up
        # overlaps the preparation below (with a cache, only once the points left to run are known)
        pool = sweep_executor(_own_workers(workers, len(raw), chunk_size))
    cache = None
    finished = False
    bar = None
    try:
        circuits: dict[tuple, SweepCircuit] = {}
        groups: list[tuple] = []
        normalized: list[dict[str, Any]] = []
        for index, point in enumerate(raw):
            skey = tuple((k, _structural_value(point[k], k)) if k in point else (k, None) for k in structure)
            missing = [k for k, v in skey if v is None and k not in point]
            if missing:
                raise ParameterError(f"sweep point {index}: missing structure key(s) {missing}")
            if skey not in circuits:
                made = circuit(**dict(skey)) if structure else circuit
                if not isinstance(made, SweepCircuit):
                    raise ParameterError(f"circuit must be a SweepCircuit (or return one), got {type(made).__name__}")
                circuits[skey] = made
            full = _normalize(point, index, circuits[skey], structure)
            normalized.append({**full, **dict(skey)})
            groups.append(skey)
        records: list[dict | None] = [None] * len(raw)
        if use_cache:
            cache = SweepCache(cache_dir if cache_dir is not None else default_cache_dir())
        identity = ngspice_identity(cache.directory if cache else None) if cache else "uncached"
        specs: dict[tuple, dict] = {}
        for skey, made in circuits.items():
            text = made.netlist_text
            key = circuit_key(text, made.init_commands, made.model_files, made.keep, identity, (made.halts_s, made.probes))
            specs[skey] = {"key": key, "text": text, "init": list(made.init_commands), "timeout": made.timeout_s}
        # point keys only serve the cache (hashing every point is not free on a large sweep)
        pkeys = [point_key(specs[g]["key"], p) for g, p in zip(groups, normalized)] if cache is not None else []
        n_cached = 0
        if cache is not None:
            for skey, spec in specs.items():
                mine = [i for i, g in enumerate(groups) if g == skey]
                found = cache.get_many(spec["key"], [pkeys[i] for i in mine])
                for i in mine:
                    if pkeys[i] in found:
                        records[i] = found[pkeys[i]]
                        n_cached += 1
        todo = [i for i, r in enumerate(records) if r is None]
        rank = {skey: k for k, skey in enumerate(specs)}
        order = sorted(todo, key=lambda i: (rank[groups[i]],
                                            tuple(sorted((k, v) for k, v in normalized[i].items() if k in circuits[groups[i]].params)),
                                            normalized[i]["mc_seed"], normalized[i]["temp_c"], i))
        size = chunk_size or default_chunk_size(len(todo))
        chunks: list[list[int]] = []
        for i in order:
            if chunks and len(chunks[-1]) < size and groups[chunks[-1][0]] == groups[i]:
                chunks[-1].append(i)
            else:
                chunks.append([i])
        from tqdm import tqdm

        bar = tqdm(total=len(raw), initial=n_cached, delay=1.0, disable=quiet, file=sys.stderr, unit="pt", desc="sweep")
        done = n_cached
        if chunks and pool is None:
            pool = sweep_executor(min(_own_workers(workers, len(todo), chunk_size), len(chunks)))
        futures = {}
        for c, chunk in enumerate(chunks):
            g = groups[chunk[0]]
            futures[pool.submit(run_chunk, specs[g], [_request(normalized[i], circuits[g]) for i in chunk])] = c
        for future in as_completed(futures):
            c = futures[future]
            try:
                results = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost (remote) worker is an error record
                results = [{"status": "error", "kind": "worker_lost", "message": f"{type(exc).__name__}: {exc}"}] * len(chunks[c])
            store = []
            for i, record in zip(chunks[c], results):
                records[i] = record
                if cache is not None and (record.get("status") == "ok" or record.get("kind") in DETERMINISTIC_KINDS):
                    store.append((pkeys[i], record))
            if store:
                cache.put_many(specs[groups[chunks[c][0]]]["key"], store)
            done += len(chunks[c])
            bar.update(len(chunks[c]))
            if callback is not None:
                callback(done, len(raw))
        finished = True
    finally:
        if bar is not None:
            bar.close()
        if own and pool is not None:
            if finished:
                pool.shutdown(wait=True)
            else:  # interrupted (Ctrl-C, a deadline, bad input): do not wait for the chunks still running
                pool.terminate()
        n_corrupt = cache.corrupt if cache is not None else 0
        if cache is not None:
            cache.close()
    final = [r if r is not None else {"status": "error", "kind": "worker_lost", "message": "not run"} for r in records]
    return SweepResult(normalized, final, n_cached, len(todo), n_corrupt, time.perf_counter() - started)
