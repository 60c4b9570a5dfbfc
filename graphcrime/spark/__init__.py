"""The Spark backend: the same parsed, stratified program and semi-naive loop, Spark joins.

pyspark is imported lazily (only when a SparkStore is made), so ``import graphcrime`` never
pays for it. See docs/scale-out.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SparkStore", "get_session"]


def __getattr__(name: str) -> Any:
    if name == "SparkStore":
        from graphcrime.spark.api import SparkStore
        return SparkStore
    if name == "get_session":
        from graphcrime.spark.session import get_session
        return get_session
    raise AttributeError(name)
