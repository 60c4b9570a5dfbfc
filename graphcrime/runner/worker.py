"""One job in its own process, started by the watcher: ``python -m graphcrime.runner.worker``.

It runs :func:`graphcrime.runner.pipeline.run_job` and writes the outcome as JSON to
``--result`` (atomically), so the watcher can tell a finished job from a killed one.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from pathlib import Path


def _load(ref: str):
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="graphcrime-worker")
    ap.add_argument("spec")
    ap.add_argument("--output-root", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--serve-root")
    ap.add_argument("--base", help="folder the spec's relative paths start from")
    ap.add_argument("--notify", default="{}", help="Notifier fields as JSON")
    ap.add_argument("--store-factory", help="module:attr of a Store-like factory")
    ap.add_argument("--threads", type=int, help="cores the job may use (default: its spec's)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    from graphcrime.runner.notify import Notifier
    from graphcrime.runner.pipeline import run_job

    outcome = run_job(
        args.spec, args.output_root, serve_root=args.serve_root, base=args.base,
        notifier=Notifier(**json.loads(args.notify)),
        store_factory=_load(args.store_factory) if args.store_factory else None,
        threads=args.threads)
    doc = {"job_id": outcome.job_id, "folder": str(outcome.folder),
           "exit_code": outcome.exit_code, "status": outcome.status}
    part = Path(args.result).with_suffix(".part")
    part.write_text(json.dumps(doc, default=str), encoding="utf-8")
    os.replace(part, args.result)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
