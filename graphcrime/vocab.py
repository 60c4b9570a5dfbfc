"""The namespaces shared by rules, queries, the generator and the runner.

>>> PROP + "hasAmount"
'http://oxfordsemantic.tech/transactions/properties#hasAmount'
"""

from __future__ import annotations

ENT = "http://oxfordsemantic.tech/transactions/entities#"
PROP = "http://oxfordsemantic.tech/transactions/properties#"
TYPE = "http://oxfordsemantic.tech/transactions/classes#"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
#: graphcrime's own namespace (job parameters, explanations).
GC = "https://w3id.org/graphcrime#"

RDF_TYPE = RDF + "type"
RDF_LANGSTRING = RDF + "langString"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DECIMAL = XSD + "decimal"
XSD_DOUBLE = XSD + "double"
XSD_FLOAT = XSD + "float"
XSD_DATETIME = XSD + "dateTime"
XSD_DATE = XSD + "date"

#: Numeric datatypes with SPARQL's numeric comparison semantics.
XSD_NUMERIC = frozenset(
    XSD + t
    for t in (
        "integer decimal double float long int short byte nonNegativeInteger "
        "nonPositiveInteger negativeInteger positiveInteger unsignedLong unsignedInt "
        "unsignedShort unsignedByte"
    ).split()
)

#: The tuple table that carries job parameters into rules: ``gc:param("min_amount", ?m)``.
PARAM_TABLE = GC + "param"

#: Prefixes every rule file and query may use without declaring them.
STANDARD_PREFIXES = {
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "gc": GC,
}

#: The data model's prefixes, as used by the published rules and queries.
MODEL_PREFIXES = {"": ENT, "prop": PROP, "type": TYPE}
