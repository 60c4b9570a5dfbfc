"""graphcrime: financial-crime graph reasoning over RDF.

RDFox-dialect Datalog rules materialised on a columnar (DuckDB) engine, SPARQL queries, a
job runner with a watched folder, and outputs ready for bulk load into a graph database.

>>> import graphcrime as gc
>>> gc.Store  # doctest: +ELLIPSIS
<class 'graphcrime.api.Store'>
"""

from typing import Any

__version__ = "0.1.0"

_LAZY = {"Store": "graphcrime.api", "reason": "graphcrime.api", "open": "graphcrime.results"}


def __getattr__(name: str) -> Any:  # imports on first use keep `graphcrime --help` fast
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = ["Store", "__version__", "open", "reason"]
