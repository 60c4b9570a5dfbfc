"""graphcrime.oracle: the naive evaluator the engine's answers are checked against in tests.

Deliberately simple and independent of ``graphcrime.engine`` (which never imports it):
:func:`graphcrime.oracle.naive.evaluate` recomputes every rule each round, on nt strings.
"""
