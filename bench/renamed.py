"""A renamed copy of the reference workload: every IRI of its vocabulary changed.

The engine must not be keyed to rule, predicate, class or file names, so the same work under
other names must run at the same speed with the same counts. The copy changes the three
namespaces, every property and class name, the entity prefixes (``party_``, ``transaction_``)
and the chain IRIs the rules mint; ``rdf:type``, ``rdfs:label`` and the XSD datatypes stay
(they are the standards the rules are written against).

>>> rename_iri_text('<http://oxfordsemantic.tech/transactions/properties#hasAmount> "1"')
'<https://bank.example/schema/attr/value> "1"'
>>> rename_rule_text("prop:hasAmount[?t, ?a] :- type:Transaction[?t] .")
'prop:value[?t, ?a] :- type:Kind_Transfer[?t] .'
"""

from __future__ import annotations

import re
from pathlib import Path

OLD = "http://oxfordsemantic.tech/transactions/"
NAMESPACES = {  # old namespace -> new namespace
    OLD + "entities#": "urn:x-bank:ledger/",
    OLD + "properties#": "https://bank.example/schema/attr/",
    OLD + "classes#": "https://bank.example/schema/",
}
PROPERTIES = {
    "hasOriginator": "payer", "hasBeneficiary": "payee", "hasAmount": "value",
    "hasDate": "bookedAt", "isSuspicious": "flagged", "isInternal": "inHouse",
    "isExited": "offboarded", "hasFullName": "legalName", "hasLength": "steps",
    "hasEndDate": "lastBooked", "hasStartingAmount": "firstValue",
    "hasFinalAmount": "lastValue", "derivedFrom": "extends",
    "containsTransaction": "includes",
}
CLASSES = {"Party": "Kind_Account", "Transaction": "Kind_Transfer", "PartialChain": "Kind_Trail",
           "SuspiciousChain": "Kind_FlaggedTrail", "HighValueChain": "Kind_LargeTrail"}
ENTITIES = {"party_": "acct-", "transaction_": "xfer-", "chain_": "trail-"}

_PREFIX_OF = {"prop": PROPERTIES, "type": CLASSES}


def _full_pairs() -> list[tuple[str, str]]:
    props, classes, ents = (OLD + "properties#", OLD + "classes#", OLD + "entities#")
    pairs = [(props + k, NAMESPACES[props] + v) for k, v in PROPERTIES.items()]
    pairs += [(classes + k + ">", NAMESPACES[classes] + v + ">") for k, v in CLASSES.items()]
    pairs += [(ents + k, NAMESPACES[ents] + v) for k, v in ENTITIES.items()]
    pairs += list(NAMESPACES.items())  # anything else in the namespaces
    # longest first, so hasFinalAmount is not caught by a shorter name
    return sorted(pairs, key=lambda kv: -len(kv[0]))


PAIRS = _full_pairs()
_IRI = re.compile("|".join(re.escape(old) for old, _ in PAIRS))
_NEW = dict(PAIRS)
_IRI_B = re.compile("|".join(re.escape(old) for old, _ in PAIRS).encode())
_NEW_B = {old.encode(): new.encode() for old, new in PAIRS}


def rename_iri_text(text: str) -> str:
    """Full IRIs (and IRI strings, such as the minted chain prefix) renamed."""
    return _IRI.sub(lambda m: _NEW[m.group(0)], text)


def rename_rule_text(text: str) -> str:
    """A .dlog or .rq text renamed: its prefix declarations, ``prop:``/``type:`` names, IRIs."""
    text = rename_iri_text(text)
    return re.sub(r"\b(prop|type):(\w+)",
                  lambda m: f"{m.group(1)}:{_PREFIX_OF[m.group(1)].get(m.group(2), m.group(2))}",
                  text)


def rename_file(src: Path, dest: Path, block: int = 1 << 24) -> None:
    """``src`` renamed into ``dest``, in blocks cut at line ends (bounded memory)."""
    tmp = dest.with_name(dest.name + ".tmp")
    with src.open("rb") as f, tmp.open("wb") as out:
        rest = b""
        while chunk := f.read(block):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            rest = chunk[cut:]
            out.write(_IRI_B.sub(lambda m: _NEW_B[m.group(0)], chunk[:cut]))
        out.write(_IRI_B.sub(lambda m: _NEW_B[m.group(0)], rest))
    tmp.rename(dest)


def renamed_copy(data: list[Path], rules: list[Path], queries: list[Path],
                 dest: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """The workload renamed under ``dest`` (data/, rules/, queries/); cached by file name."""
    out: list[list[Path]] = []
    for kind, files in (("data", data), ("rules", rules), ("queries", queries)):
        folder = dest / kind
        folder.mkdir(parents=True, exist_ok=True)
        copies = []
        for f in files:
            target = folder / ("renamed-" + f.name)
            if not target.exists():
                if kind == "data":
                    rename_file(f, target)
                else:
                    target.write_text(rename_rule_text(f.read_text(encoding="utf-8")),
                                      encoding="utf-8")
            copies.append(target)
        out.append(copies)
    return out[0], out[1], out[2]
