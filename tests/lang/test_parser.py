"""Parser: hand-worked syntax cases, positions, errors with exact line:col."""

from __future__ import annotations

import pytest

from graphcrime.errors import RuleError
from graphcrime.lang.ast import (
    IRI,
    Aggregate,
    AggregateBind,
    Bind,
    BinOp,
    BNode,
    Call,
    Filter,
    Literal,
    Negation,
    TripleAtom,
    TupleAtom,
    UnaryOp,
    Var,
)
from graphcrime.lang.parser import parse_files, parse_program, parse_program_collect

E = "http://e/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
ENT = "http://oxfordsemantic.tech/transactions/entities#"
x, y, z = Var("x"), Var("y"), Var("z")


def one(text: str):
    prog = parse_program("@prefix : <http://e/> .\n" + text)
    assert len(prog.rules) == 1
    return prog.rules[0]


def err(text: str) -> RuleError:
    with pytest.raises(RuleError) as info:
        parse_program(text, "r.dlog")
    assert info.value.hint
    return info.value


def test_triple_class_property_and_tuple_atoms() -> None:
    r = one(":C[?x], :p[?x, ?y], [?x, a, :D], :T(?x, ?y), T2(?x), <http://f/T>(?y) .")
    assert r.is_fact
    assert r.head == (
        TripleAtom(x, IRI(RDF_TYPE), IRI(E + "C")),
        TripleAtom(x, IRI(E + "p"), y),
        TripleAtom(x, IRI(RDF_TYPE), IRI(E + "D")),
        TupleAtom(E + "T", (x, y)),
        TupleAtom("T2", (x,)),
        TupleAtom("http://f/T", (y,)),
    )


def test_prefix_forms_and_standard_prefixes() -> None:
    prog = parse_program("PREFIX p: <http://p/>\n@prefix q: <http://q/> .\n"
                         "p:a[q:b] :- [?x, rdf:type, xsd:int], gc:param(\"k\", ?v) .")
    r = prog.rules[0]
    assert r.head[0] == TripleAtom(IRI("http://q/b"), IRI(RDF_TYPE), IRI("http://p/a"))
    assert r.body[0].o == IRI(XSD + "int")
    assert r.body[1] == TupleAtom("https://w3id.org/graphcrime#param",
                                  (Literal("k"), Var("v")))
    assert prog.prefixes == (("p", "http://p/"), ("q", "http://q/"))


def test_base_resolves_relative_iris() -> None:
    prog = parse_program("BASE <http://b/dir/x>\n[<a>, <#f>, <../up>] .\n@base <http://c/> .\n"
                         "[<a>, <b>, <c>] .")
    assert prog.rules[0].head[0] == TripleAtom(IRI("http://b/dir/a"), IRI("http://b/dir/x#f"),
                                               IRI("http://b/up"))
    assert prog.rules[1].head[0].s == IRI("http://c/a")
    assert prog.base == "http://b/dir/x"


def test_literals() -> None:
    r = one('[:a, :p, "s\\t\\"q\\u00e9"], [:a, :p, \'x\'@en-GB], [:a, :p, "1"^^xsd:int], '
            '[:a, :p, 12], [:a, :p, -1.5], [:a, :p, +2e-3], [:a, :p, true], [:a, :p, false],'
            ' [_:b, :p, """long\n"x" """] .')
    objs = [a.o for a in r.head]
    assert objs == [
        Literal('s\t"qé'),
        Literal("x", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", "en-GB"),
        Literal("1", XSD + "int"),
        Literal("12", XSD + "integer"),
        Literal("-1.5", XSD + "decimal"),
        Literal("+2e-3", XSD + "double"),
        Literal("true", XSD + "boolean"),
        Literal("false", XSD + "boolean"),
        Literal('long\n"x" '),
    ]
    assert r.head[-1].s == BNode("b")


def test_comments_not_inside_iris_or_strings() -> None:
    r = one('[:a, <http://x/#frag>, "# not a comment"] . # comment [:b, :c, :d] .')
    assert r.head[0].p == IRI("http://x/#frag")
    assert r.head[0].o == Literal("# not a comment")


def test_body_literals() -> None:
    r = one(":H[?x] :- :A[?x], BIND(?x + 1 AS ?y), FILTER(?y > 2), NOT :B[?x], "
            "NOT EXISTS ?z IN :p[?x, ?z], NOT EXISTS ?z, ?w IN ([?x, :p, ?z], :q[?z, ?w]) .")
    a = r.body
    assert a[1] == Bind(BinOp("+", x, Literal("1", XSD + "integer")), y)
    assert a[2] == Filter(BinOp(">", y, Literal("2", XSD + "integer")))
    assert a[3] == Negation((TripleAtom(x, IRI(RDF_TYPE), IRI(E + "B")),))
    assert a[4] == Negation((TripleAtom(x, IRI(E + "p"), z),), (z,))
    assert a[5] == Negation(
        (TripleAtom(x, IRI(E + "p"), z), TripleAtom(z, IRI(E + "q"), Var("w"))), (z, Var("w"))
    )


def test_aggregate() -> None:
    r = one(":m[?c, ?m] :- AGGREGATE([?c, :amount, ?a], :B[?c] ON ?c "
            "BIND MIN(?a) AS ?m BIND count(DISTINCT ?a) AS ?n BIND COUNT(*) AS ?k) .")
    ag = r.body[0]
    assert isinstance(ag, Aggregate)
    assert ag.group_by == (Var("c"),)
    assert ag.binds == (
        AggregateBind("MIN", Var("a"), Var("m")),
        AggregateBind("COUNT", Var("a"), Var("n"), distinct=True),
        AggregateBind("COUNT", None, Var("k")),
    )
    assert len(ag.body) == 2


def test_expression_precedence_like_sparql() -> None:
    r = one("p(?x) :- q(?x, ?y), FILTER(?x || ?y && !?x = 1 + 2 * -?y - 3 / 4) .")
    one_ = Literal("1", XSD + "integer")
    two, three, four = (Literal(n, XSD + "integer") for n in "234")
    expected = BinOp(
        "||", x,
        BinOp("&&", y, BinOp(
            "=", UnaryOp("!", x),
            BinOp("-", BinOp("+", one_, BinOp("*", two, UnaryOp("-", y))),
                  BinOp("/", three, four)))))
    assert r.body[1].expr == expected


def test_left_associative_and_parentheses() -> None:
    r = one("p(?x) :- q(?x), FILTER(?x - 1 - 2 = ?x - (1 - 2)) .")
    one_, two = Literal("1", XSD + "integer"), Literal("2", XSD + "integer")
    assert r.body[1].expr == BinOp("=", BinOp("-", BinOp("-", x, one_), two),
                                   BinOp("-", x, BinOp("-", one_, two)))


def test_calls_names_upper_cased_and_casts() -> None:
    r = one('p(?y) :- q(?x), BIND(xsd:integer(strlen(concat(?x, "a"))) AS ?y) .')
    assert r.body[1].expr == Call(XSD + "integer", (
        Call("STRLEN", (Call("CONCAT", (x, Literal("a"))),)),))


def test_iri_call_gets_base_argument() -> None:
    prog = parse_program(f"BASE <{ENT}>\n"
                         "[?c, a, <C>] :- [?t, a, <T>], BIND(IRI(MD5(STR(?t))) AS ?c), "
                         "BIND(URI(?t) AS ?d) .")
    bind = prog.rules[0].body[1]
    assert bind.expr == Call("IRI", (Call("MD5", (Call("STR", (Var("t"),)),)), IRI(ENT)))
    assert prog.rules[0].body[2].expr == Call("IRI", (Var("t"), IRI(ENT)))
    nobase = parse_program("<http://a/c>(?c) :- <http://a/t>(?t), BIND(IRI(?t) AS ?c) .")
    assert nobase.rules[0].body[1].expr == Call("IRI", (Var("t"),))


def test_positions_are_where_nodes_start() -> None:
    prog = parse_program("@prefix : <http://e/> .\n  :H[?x] :-\n\t:A[?x],\n   FILTER(?x > 1) .",
                         "f.dlog")
    r = prog.rules[0]
    assert (r.pos.file, r.pos.line, r.pos.col) == ("f.dlog", 2, 3)
    assert (r.head[0].s.pos.line, r.head[0].s.pos.col) == (2, 6)
    assert (r.body[0].pos.line, r.body[0].pos.col) == (3, 2)
    f = r.body[1]
    assert (f.pos.line, f.pos.col) == (4, 4)
    assert (f.expr.pos.line, f.expr.pos.col) == (4, 11)
    assert (f.expr.right.pos.line, f.expr.right.pos.col) == (4, 16)


@pytest.mark.parametrize(
    "text, line, col, words",
    [
        ("[?x, a, :C] .", 1, 9, "unknown prefix ':'"),
        ("@prefix p: <http://p/> .\np:A[?x] :- p:B[?x]", 2, 19, "expected '.'"),
        ("@prefix p: <http://p/> .\np:A[?x] :- p:B[?x] ,, p:C[?x] .", 2, 21, "expected an atom"),
        ("[?x, a] .", 1, 7, "expected ','"),
        ("[?x, <rel>, ?y] .", 1, 6, "relative IRI"),
        ('[?x, <http://p>, "abc] .', 1, 18, "unexpected character"),
        ("p(?x) :- q(?x), FILTER(?x > ) .", 1, 29, "expected an expression"),
        ("p(?x) :- q(?x), BIND(?x ?y) .", 1, 25, "expected AS"),
        ("p(?x) :- AGGREGATE(q(?x) ON ?x BIND MEDIAN(?x) AS ?m) .", 1, 37,
         "aggregate function"),
        ("p(?x) :- AGGREGATE(q(?x) ON ?x) .", 1, 31, "BIND"),
        ("@prefix p <http://p/> .", 1, 9, "prefix name"),
        ("@prefox p: <http://p/> .", 1, 1, "unknown directive"),
        ("p(?x) :- q(?x), FILTER(foo) .", 1, 24, "unknown name 'foo'"),
        ("p(?x) :- q(?x) ; r(?x) .", 1, 16, "unexpected character ';'"),
        ('p("a\\q") .', 1, 3, "bad string"),
        ("C[?x] .", 1, 1, "shorthand needs an IRI"),
        ("<http://a/>[?x, ?y, ?z] .", 1, 1, "3 arguments"),
    ],
)
def test_syntax_errors_exact_position(text: str, line: int, col: int, words: str) -> None:
    e = err(text)
    assert (e.file, e.line, e.col) == ("r.dlog", line, col), str(e)
    assert words in e.message


def test_all_errors_collected_with_recovery() -> None:
    text = "[?x, a, q:C] .\n:A[?x :- :B[?x] .\np(?x) :- q(?x) .\n[?x, a, r:D] :- ."
    prog, errors = parse_program_collect(text, "r.dlog")
    assert [(e.line, e.col) for e in errors] == [(1, 9), (2, 1), (2, 7), (4, 9), (4, 17)]
    assert len(prog.rules) == 2  # the first fact and p(?x) :- q(?x)


def test_parse_files_merges(tmp_path) -> None:
    a = tmp_path / "a.dlog"
    b = tmp_path / "b.dlog"
    a.write_text("@prefix : <http://a/> .\n:x[:y] .\n")
    b.write_text("@prefix : <http://b/> .\n@prefix k: <http://k/> .\n:x[:y] .\n")
    prog = parse_files([a, b])
    assert [r.head[0].o.value for r in prog.rules] == ["http://a/x", "http://b/x"]
    assert prog.prefixes == (("", "http://a/"), ("k", "http://k/"))
    b.write_text(":x[:y] .")
    with pytest.raises(RuleError) as info:
        parse_files([a, b])
    assert info.value.file == str(b) and info.value.line == 1


def test_bad_characters_do_not_hide_later_errors() -> None:
    text = ('@prefix : <http://e/> .\n:A[?x] :- :B[?x], FILTER(?x = "abc) .\n'
            ":A[?x] :- :B[?x] ; :C[?x] .\n:A[?x] :- :B[?x], :C[?y .\n"
            ':A["a\\q"] .\n:Z[:z] .\n')
    _, errors = parse_program_collect(text, "r.dlog")
    assert [(e.line, e.col, e.message.split(":")[0]) for e in errors] == [
        (2, 31, "unexpected character '\"'"),
        (3, 18, "unexpected character ';'"),
        (4, 25, "expected ']', found '.'"),
        (5, 4, "bad string"),
    ]


def test_aggregate_bind_separators_are_optional() -> None:
    a = one("M(?c, ?lo, ?hi) :- AGGREGATE(:p[?c, ?a] ON ?c BIND MIN(?a) AS ?lo, "
            "BIND MAX(?a) AS ?hi) .")
    b = one("M(?c, ?lo, ?hi) :- AGGREGATE(:p[?c, ?a] ON ?c BIND MIN(?a) AS ?lo "
            "MAX(?a) AS ?hi) .")
    assert a == b and [x.func for x in a.body[0].binds] == ["MIN", "MAX"]


def test_in_and_not_in() -> None:
    r = one("p(?x) :- q(?x), FILTER(?x + 1 IN (1, 2) && ?x NOT IN ()) .")
    one_ = Literal("1", XSD + "integer")
    assert r.body[1].expr == BinOp(
        "&&", Call("IN", (BinOp("+", x, one_), one_, Literal("2", XSD + "integer"))),
        Call("NOTIN", (x,)))
    assert (r.body[1].expr.left.pos.line, r.body[1].expr.left.pos.col) == (2, 24)
