"""The SparkSession the backend runs on: one per process, configured for the engine.

``local[2]`` by default; ``spark.sql.shuffle.partitions`` is kept small in local mode (the
default 200 makes every round of a small job pay for 200 empty tasks). pyspark is imported
here and only here, lazily, so the embedded engine never pays for it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from graphcrime.errors import GraphcrimeError

DEFAULT_MASTER = "local[2]"
REORDER_JOIN = "org.apache.spark.sql.catalyst.optimizer.ReorderJoin"


def require_pyspark() -> Any:
    """The pyspark module, or a clear error saying how to install it."""
    try:
        import pyspark
    except ImportError:
        raise GraphcrimeError("the Spark engine needs pyspark",
                              hint="pip install 'graphcrime[spark]' (pyspark>=4.0, Java 17)"
                              ) from None
    return pyspark


def shuffle_partitions(master: str) -> int:
    """A sensible ``spark.sql.shuffle.partitions``: 2 per local core, 200 on a cluster.

    >>> shuffle_partitions("local[2]"), shuffle_partitions("local"), shuffle_partitions("k8s://x")
    (4, 2, 200)
    """
    if master.startswith("local"):
        inner = master[master.find("[") + 1:master.find("]")] if "[" in master else "1"
        cores = (os.cpu_count() or 2) if inner.strip() == "*" else int(inner.split(",")[0])
        return max(2 * cores, 2)
    return 200


def configure(spark: Any) -> Any:
    """Set the SQL options the engine's queries need on ``spark`` (a running session too).

    * UTC session time zone, ANSI mode off (a failed cast is NULL, as in the plan's SQL);
    * constraint propagation off: inferring filters from the constraints of a rule body's
      15-way join took seconds of planning per rule and round;
    * Spark's greedy ``ReorderJoin`` off: tables are joined in the order
      :mod:`graphcrime.spark.dialect` writes (each tied to an earlier one by an equality);
      the greedy rule takes the first table sharing *any* condition and joined typed-value
      lookups compared with ``<`` as cartesian products with the whole dictionary.
    """
    spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
    # the embedded engine's semantics: UTC timestamps, NULL (not an error) on a bad cast
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.ansi.enabled", "false")
    rules = [r for r in (spark.conf.get("spark.sql.optimizer.excludedRules", "") or ""
                         ).split(",") if r.strip()]
    if REORDER_JOIN not in rules:
        spark.conf.set("spark.sql.optimizer.excludedRules", ",".join([*rules, REORDER_JOIN]))
    return spark


def get_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """The active SparkSession (created on first use with ``master``, default local[2]).

    An already running session is reused as it is (``spark-submit`` sets the master).
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return configure(active)
    master = master or DEFAULT_MASTER
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName("graphcrime")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
               .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC"))
    defaults = {"spark.sql.shuffle.partitions": str(shuffle_partitions(master)),
                "spark.sql.adaptive.enabled": "true"}
    if master.startswith("local"):
        builder = builder.config("spark.driver.memory", os.environ.get("GC_SPARK_MEMORY", "2g"))
        # local chunks are checkpoints of unknown size: shuffle joins, no broadcast jobs
        defaults["spark.sql.autoBroadcastJoinThreshold"] = "-1"
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = configure(builder.getOrCreate())
    # SQL defaults, unless ``conf``, spark-submit or spark-defaults.conf set them
    given = spark.sparkContext.getConf()
    for key, value in defaults.items():
        if not given.contains(key):
            spark.conf.set(key, value)
    spark.sparkContext.setLogLevel("ERROR")
    if not spark.sparkContext.getCheckpointDir():
        spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="gc-spark-ckpt-"))
    if not master.startswith("local"):
        ship_package(spark)
    return spark


def ship_package(spark: Any) -> str:
    """Zip the running ``graphcrime`` package and add it to ``spark``'s Python path
    (``addPyFile``), so executors import the driver's code (the N-Triples parser and the
    dictionary typing run in Python tasks). Their Python still needs duckdb and pyarrow.
    Returns the zip's path.

    >>> # doctest: +SKIP
    >>> ship_package(get_session("spark://head:7077"))
    '/tmp/gc-pkg-.../graphcrime.zip'
    """
    import zipfile
    from pathlib import Path

    import graphcrime

    root = Path(graphcrime.__file__).parent
    path = Path(tempfile.mkdtemp(prefix="gc-pkg-")) / "graphcrime.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(root.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                zf.write(f, Path("graphcrime") / f.relative_to(root))
    spark.sparkContext.addPyFile(str(path))
    return str(path)
