"""Several values after one list option: ``--rules rules/*.dlog`` as the shell expands it.

Click takes one value per option occurrence, so ``--rules a.dlog b.dlog`` used to fail with
"Got unexpected extra argument(s)". :class:`SpreadingGroup` rewrites a command's arguments
before Click parses them: words that follow a repeatable option's value, and that the command
has no positional slot left for, become further values of that option (``--rules a.dlog
--rules b.dlog``). An invocation that parsed before parses the same way; only what was an
"extra argument" error gains a meaning.

>>> import click
>>> @click.command()
... @click.argument("store")
... @click.option("--data", multiple=True)
... @click.option("--force", is_flag=True)
... def add(store, data, force): ...
>>> spread_args(add, ["--data", "a.nt", "b.nt", "s1", "--force"])
['--data', 'a.nt', '--data', 'b.nt', 's1', '--force']
>>> spread_args(add, ["s1", "--data", "a.nt", "b.nt", "c.nt"])
['s1', '--data', 'a.nt', '--data', 'b.nt', '--data', 'c.nt']
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


# Typer ships its own copy of Click, so parameters are told apart by ``param_type_name``
# (both copies have it) rather than by class.
def _options(cmd: Any) -> dict[str, Any]:
    return {name: p for p in cmd.params if p.param_type_name == "option"
            for name in (*p.opts, *p.secondary_opts)}


def _takes_value(opt: Any) -> bool:
    return opt is not None and not opt.is_flag and not opt.count


def spread_args(cmd: Any, args: list[str]) -> list[str]:
    """``args`` for ``cmd`` (a command or a group: then its subcommand's) with extra words
    after a ``multiple=True`` option's value turned into more values of it."""
    options = _options(cmd)
    if hasattr(cmd, "commands"):  # a group: find its subcommand
        i = 0
        while i < len(args):
            word = args[i]
            if word == "--" or not word.startswith("-"):
                sub = cmd.commands.get(word)
                if sub is None:
                    return args
                return args[:i + 1] + spread_args(sub, args[i + 1:])
            i += 2 if "=" not in word and _takes_value(options.get(word)) else 1
        return args
    arguments = [p for p in cmd.params if p.param_type_name == "argument"]
    if any(a.nargs < 0 for a in arguments):
        return args  # a variadic argument takes every free word already
    slots = sum(a.nargs for a in arguments)
    # words: ("opt", text) tokens kept as they are, ("free", text, owner) free words, where
    # owner is the repeatable option whose value run the word continues (or None)
    words: list[tuple[str, str, str | None]] = []
    owner: str | None = None
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            words += [("opt", w, None) for w in args[i:]]  # after "--" everything stays put
            break
        if word.startswith("-") and len(word) > 1:
            name = word.split("=", 1)[0]
            opt = options.get(name)
            words.append(("opt", word, None))
            if "=" not in word and _takes_value(opt) and i + 1 < len(args):
                words.append(("opt", args[i + 1], None))
                i += 1
            owner = name if opt is not None and opt.multiple and _takes_value(opt) else None
        else:
            words.append(("free", word, owner))
        i += 1
    free = [k for k, w in enumerate(words) if w[0] == "free"]
    extra = len(free) - slots
    if extra <= 0:
        return args
    # positional slots go first to words outside value runs, then to the runs' last words
    outside = [k for k in free if words[k][2] is None]
    in_runs = [k for k in free if words[k][2] is not None]
    left = max(slots - len(outside), 0)
    spread = set(in_runs[:len(in_runs) - left] if left else in_runs)
    out: list[str] = []
    for k, (_, text, own) in enumerate(words):
        if k in spread and own is not None:
            out += [own, text]
        else:
            out.append(text)
    return out


class SpreadingGroup(TyperGroup):
    """The CLI's group class: each subcommand's arguments go through :func:`spread_args`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        if cmd is not None:
            rest = spread_args(cmd, rest)
        return name, cmd, rest


__all__ = ["SpreadingGroup", "spread_args"]
