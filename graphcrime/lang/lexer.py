"""Tokens of the RDFox Datalog dialect, each with its 1-based line and column.

>>> " ".join(t.kind for t in tokenize('[?x, a, :C] :- p:q(?x, "s"@en) .'))
'[ VAR , NAME , PNAME ] :- PNAME ( VAR , STRING LANGTAG ) . EOF'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from graphcrime.errors import RuleError

_PN_CHARS_BASE = (
    r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D"
    r"\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
)
_PN_CHARS = _PN_CHARS_BASE + r"_0-9\-\u00B7\u0300-\u036F\u203F-\u2040"
_ESC = r"\\[_~.\-!$&'()*+,;=/?#@%]"
_PLX = rf"(?:%[0-9A-Fa-f]{{2}}|{_ESC})"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = (
    rf"(?:[{_PN_CHARS_BASE}_:0-9]|{_PLX})"
    rf"(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)
_VARNAME = rf"[{_PN_CHARS_BASE}_0-9][{_PN_CHARS_BASE}_0-9\u00B7\u0300-\u036F\u203F-\u2040]*"

_SPEC = [
    ("WS", r"[ \t\r\n]+|#[^\n]*"),
    ("IRI", r"<[^<>\"{}|^`\\\x00-\x20]*>"),
    ("STRING", r'"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
     r'|"(?:[^"\\\n\r]|\\.)*"' r"|'(?:[^'\\\n\r]|\\.)*'"),
    ("LANGTAG", r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*"),
    ("VAR", rf"[?$]{_VARNAME}"),
    ("BNODE", rf"_:[{_PN_CHARS_BASE}_0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"),
    ("DOUBLE", r"(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    ("DECIMAL", r"[0-9]*\.[0-9]+"),
    ("INTEGER", r"[0-9]+"),
    (":-", r":-"),
    ("PNAME", rf"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?"),
    ("NAME", rf"[{_PN_CHARS_BASE}_][{_PN_CHARS_BASE}_0-9]*"),
    ("OP", r"\^\^|\|\||&&|!=|<=|>=|[\[\](),.=<>+\-*/!]"),
]
_MASTER = re.compile("|".join(f"(?P<{k if k != ':-' else 'ARROW'}>{p})" for k, p in _SPEC))
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_STR_ESC = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_LOCAL_ESC = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is a punctuation/operator text or a class name (IRI, PNAME, ...)."""

    kind: str
    text: str
    value: object
    line: int
    col: int
    offset: int


def unescape_string(body: str) -> str:
    """Decode the escapes of a string literal's body.

    >>> unescape_string(r'a\\tb\\u0041')
    'a\\tbA'
    """

    def repl(m: re.Match[str]) -> str:
        if m.group(1) or m.group(2):
            return chr(int(m.group(1) or m.group(2), 16))
        c = m.group(3)
        if c not in _ESCAPES:
            raise ValueError(f"unknown escape \\{c}")
        return _ESCAPES[c]

    return _STR_ESC.sub(repl, body)


def tokenize(text: str, file: str | None = None,
             errors: list[RuleError] | None = None) -> list[Token]:
    """Split ``text`` into tokens (comments and blanks dropped); ends with an EOF token.

    A character that starts no token raises RuleError with file:line:col, or, when an
    ``errors`` list is given, is recorded there and skipped (a stray quote or ``<`` skips
    its line up to the line's last ``.``).
    """
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    out: list[Token] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _MASTER.match(text, pos)
        if m is None:
            line, col = where(pos)
            ch = text[pos]
            hint = "close the IRI with '>' or the string with its quote"
            if ch not in "<\"'":
                hint = "remove it, or quote it inside a string"
            e = RuleError(f"unexpected character {ch!r}", file=file, line=line, col=col,
                          hint=hint)
            if errors is None:
                raise e
            errors.append(e)
            end = pos + 1
            if ch in "\"'<":  # unterminated: skip the line up to its last '.', kept as the end
                eol = text.find("\n", pos)
                eol = n if eol < 0 else eol
                dot = text.rfind(".", pos, eol)
                end = dot if dot > pos else eol
            pos = end
            continue
        kind = m.lastgroup or ""
        tok = m.group()
        if kind != "WS":
            line, col = where(pos)
            value: object = tok
            if kind == "OP":
                kind = tok
            elif kind == "ARROW":
                kind = ":-"
            elif kind == "IRI":
                value = tok[1:-1]
            elif kind == "VAR":
                value = tok[1:]
            elif kind == "BNODE":
                value = tok[2:]
            elif kind == "LANGTAG":
                value = tok[1:]
            elif kind == "PNAME":
                prefix, _, local = tok.partition(":")
                value = (prefix, _LOCAL_ESC.sub(r"\1", local))
            elif kind == "STRING":
                q = 3 if tok[:3] in ('"""', "'''") else 1
                try:
                    value = unescape_string(tok[q:-q])
                except ValueError as exc:
                    bad = RuleError(f"bad string: {exc}", file=file, line=line, col=col,
                                    hint=r"use \t \n \r \b \f \" \' \\ \uXXXX")
                    if errors is None:
                        raise bad from None
                    errors.append(bad)
                    value = tok[q:-q]
            out.append(Token(kind, tok, value, line, col, pos))
        pos = m.end()
    line, col = where(n)
    out.append(Token("EOF", "", None, line, col, n))
    return out
