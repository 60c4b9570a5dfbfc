"""SPARQL over the engine's fact store: DuckDB translation with a pyoxigraph fallback.

>>> from graphcrime.sparql import run_query, QueryResult
>>> QueryResult.__name__
'QueryResult'
"""

from graphcrime.sparql.query import run_query
from graphcrime.sparql.result import QueryResult

__all__ = ["QueryResult", "run_query"]
