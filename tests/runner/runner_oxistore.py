"""A test double of ``graphcrime.api.Store`` on pyoxigraph, for runner/watcher plumbing tests.

``reason`` derives nothing, except: a rules file containing ``BROKEN`` raises a RuleError at
that line/column, one containing ``SLEEP <s>`` sleeps (to be killed), and a crash token kills the
process with SIGKILL (a worker crash): ``CRASHALWAYS`` every time, ``CRASHONCE`` the first
time only (a marker file beside the rules remembers).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import time
from pathlib import Path

import pyoxigraph as ox

from graphcrime.errors import RuleError


class Result:
    def __init__(self, res) -> None:
        if isinstance(res, ox.QueryBoolean):
            self.kind, self.value, self.variables = "ask", bool(res), []
        elif isinstance(res, ox.QuerySolutions):
            self.kind = "select"
            self.variables = [v.value for v in res.variables]
            self.rows = [[s[v] for v in self.variables] for s in res]
        else:
            self.kind, self.triples, self.variables = "graph", list(res), []

    def write(self, path: Path) -> None:
        path = Path(path)
        if self.kind == "graph":
            path.write_text("".join(f"{t} .\n" for t in self.triples), encoding="utf-8")
        elif path.suffix == ".nt":
            path.write_text("".join(f"{s} {p} {o} .\n" for s, p, o in self.rows), "utf-8")
        else:
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                if self.kind == "ask":
                    w.writerows([["result"], ["true" if self.value else "false"]])
                    return
                w.writerow(self.variables)
                w.writerows([[t.value if t is not None else "" for t in r] for r in self.rows])


class OxiStore:
    def __init__(self, memory_limit=None, threads=None, temp_dir=None, progress=False) -> None:
        self.store, self.n = ox.Store(), 0

    def load(self, *paths):
        for p in paths:
            self.store.bulk_load(path=str(p), format=ox.RdfFormat.N_TRIPLES)
        self.n = len(self.store)
        return {"triples": self.n}

    def reason(self, rule_paths, params=None, max_derived_facts=None, timeout_seconds=None):
        for p in rule_paths:
            for i, line in enumerate(Path(p).read_text().splitlines(), 1):
                if "BROKEN" in line:
                    raise RuleError("syntax error", file=str(p), line=i,
                                    col=line.index("BROKEN") + 1, hint="fix the rule")
                if m := re.search(r"SLEEP (\d+(?:\.\d+)?)", line):
                    time.sleep(float(m.group(1)))
                marker = Path(f"{p}.crashed")
                if "CRASHONCE" in line and not marker.exists():
                    marker.write_text("")
                    os.kill(os.getpid(), signal.SIGKILL)
                if "CRASHALWAYS" in line:
                    os.kill(os.getpid(), signal.SIGKILL)
        return {"derived_facts": 0, "params": dict(params or {})}

    def query(self, sparql: str) -> Result:
        return Result(self.store.query(sparql))

    def stats(self) -> dict:
        return {"facts": self.n}

    def close(self) -> None:
        pass
