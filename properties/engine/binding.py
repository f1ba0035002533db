"""How the harness's keywords meet a class's own parameter names.

A spec calls ``Pooling(pool_h=2, pool_w=2, stride=2, pad=0)`` and ``forward(x, train_flg=True)``;
learners write ``Pooling(pool_height, pool_width, stride, pad)`` and ``forward(x, train=True)`` or
``forward(x, is_train)``. A keyword the signature does not take is renamed, in this order: to a
known alias of it (``ALIASES``), else to the parameter at the position the book gives it (its
*slot*), if that parameter is not one the spec names itself and its default, if any, is of the
value's kind. A keyword that still does not fit is left for ``Signature.bind`` to refuse, and
``tried`` says what was tried, so the refusal names it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

__all__ = ["ALIASES", "bind_names", "tried"]

#: other names learners give a spec's keyword (the training flag of batch norm and dropout)
ALIASES: Mapping[str, tuple[str, ...]] = {
    "train_flg": ("train_flag", "train", "is_train", "training", "is_training", "train_mode"),
}

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _fits(param: inspect.Parameter, value: Any) -> bool:
    """Whether ``value`` may go to ``param`` by position: no default, a None default, or a default
    of the same kind (a flag to a flag, a number to a number), so a slot never takes a stranger."""
    default = param.default
    if default is param.empty or default is None:
        return True
    if isinstance(value, bool) or isinstance(default, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    return isinstance(value, (int, float)) and isinstance(default, (int, float))


def bind_names(
    sig: inspect.Signature, given: int, kwargs: Mapping[str, Any], slots: Mapping[str, int]
) -> dict[str, Any]:
    """``kwargs`` with every keyword ``sig`` does not take renamed to an alias or to its slot
    (``slots[name]``: its index among the positional parameters, ``given`` of them passed by
    position already). Keywords that fit are kept, and so is one with neither an alias nor a slot
    in ``sig`` (a ``**kwargs`` signature takes it, and has no slots; any other refuses it)."""
    params = sig.parameters
    # a ``**kwargs`` signature takes the spec's keyword itself: a slot would be a guess
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in params.values())
    positional = [] if var_keyword else [p for p in params.values() if p.kind in _POSITIONAL]
    taken = set(kwargs) | {p.name for p in positional[:given]}
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        target = name
        if name not in params or params[name].kind is inspect.Parameter.POSITIONAL_ONLY:
            target = next((a for a in ALIASES.get(name, ()) if a in params and a not in taken), name)
            slot = slots.get(name)
            if target == name and slot is not None and given <= slot < len(positional):
                param = positional[slot]
                usable = param.kind is param.POSITIONAL_OR_KEYWORD and param.name not in taken
                if usable and _fits(param, value):
                    target = param.name
            taken.add(target)
        out[target] = value
    return out


def tried(name: str, slot: str | None) -> str:
    """What was tried for keyword ``name`` before it was refused (``slot``: its place, in words),
    for the refusal's message."""
    ways = [f"{a}=" for a in ALIASES.get(name, ())]
    if slot is not None:
        ways.append(f"nor {slot}" if ways else slot)
    return f" (nor {', '.join(ways)})" if ways else ""
