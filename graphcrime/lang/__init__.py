"""The RDFox Datalog dialect: syntax tree, parser and printer.

>>> prog = parse_program("@prefix : <http://e/> . :B[?x] :- :A[?x] .")
>>> print(format_program(prog), end="")
@prefix : <http://e/> .
<BLANKLINE>
[?x, a, :B] :-
    [?x, a, :A] .
"""

from graphcrime.lang.parser import parse_files, parse_program, parse_program_collect
from graphcrime.lang.printer import format_program, format_rule

__all__ = ["format_program", "format_rule", "parse_files", "parse_program",
           "parse_program_collect"]
