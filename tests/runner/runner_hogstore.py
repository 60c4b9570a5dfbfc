"""The pyoxigraph Store double, plus ``HOG <MiB>`` in a rules file: allocate and touch that
much memory in Python (outside any DuckDB limit), then sleep 60 s (to be killed)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from runner_oxistore import OxiStore


class HogStore(OxiStore):
    def reason(self, rule_paths, params=None, max_derived_facts=None, timeout_seconds=None):
        for p in rule_paths:
            if m := re.search(r"HOG (\d+)", Path(p).read_text()):
                hog = b"\x01" * (int(m.group(1)) << 20)  # written, so resident
                time.sleep(60)
                del hog
        return super().reason(rule_paths, params, max_derived_facts, timeout_seconds)
