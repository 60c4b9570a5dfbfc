"""graphcrime: financial-crime graph reasoning over RDF.

RDFox-dialect Datalog rules materialised on a columnar (DuckDB) engine, SPARQL queries, a
job runner with a watched folder, and outputs ready for bulk load into a graph database.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
