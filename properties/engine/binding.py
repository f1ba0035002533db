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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from layer_crosscheck.properties.engine.spec import LayerSpec

__all__ = ["ALIASES", "bind_names", "calling_forms", "tried"]

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


def _keywords(names: Any, value: str = "...") -> list[str]:
    return [f"{n}={value}" for n in names]


def calling_forms(spec: LayerSpec) -> list[str]:
    """Every way the harness calls a class for ``spec``, one line each (``crosscheck list``); the
    one place the drivers' accepted forms are written down for a reader."""
    cls = getattr(spec.layer, "__name__", "Layer")
    if spec.kind == "optimizer":
        taken = f" (and {', '.join(_keywords(spec.settings))} if it takes it)" if spec.settings else ""
        return [
            f"{cls}({', '.join(_keywords(spec.hyper))}){taken}",
            "update(params, grads), step by step: params updated in place, grads only read",
            "params and grads as dicts by name (book 1), or as lists in the parameters' order when the "
            "first update raises on dicts as positional indexing does (KeyError of an int, IndexError, "
            "TypeError; book 2)",
        ]
    if spec.kind == "net":
        inputs = ", ".join(spec.inputs)
        return [
            f"{cls}(<sizes from the case>); its params dict holds {', '.join(spec.params)}, written in place",
            f"loss({inputs}) -> a number; gradient({inputs}) -> a dict by parameter name",
        ]
    order = ", ".join((*spec.params, *spec.hyper))
    forms = [f"{cls}({', '.join([*spec.params, *_keywords(spec.hyper), *_keywords(spec.init_arrays)])})"]
    if spec.hyper:
        forms.append(f"a keyword the constructor lacks: the positional parameter in its place in ({order})")
    positional = [i for i in spec.inputs if i not in spec.keyword_inputs]
    flags = [f"{k}={v!r}" for k, v in spec.forward_kwargs.items()]
    forms.append(f"forward({', '.join([*positional, *_keywords(spec.keyword_inputs), *flags])})")
    for k in spec.forward_kwargs:
        also = ", ".join(f"{a}=" for a in ALIASES.get(k, ()))
        forms.append(f"{k} also as {also} or a positional parameter after {', '.join(positional)}")
    if spec.adapt is not None:
        without = ", ".join(_keywords(spec.keyword_inputs, ""))
        forms.append(f"a forward without {without}: accepted, driven another way that the check's note names")
    wanted = [f"d{i}" for i in spec.inputs if i not in spec.constants]
    if spec.backward:
        returns = wanted[0] if len(wanted) == 1 else f"({', '.join(wanted)})"
        forms.append(
            f"backward(dout) -> {returns}" if wanted else "backward(dout) (what it returns is unused)"
        )
    if spec.params and spec.backward:
        forms.append(
            f"parameter gradients: a non-empty grads list in the order {', '.join(spec.params)} (book 2), "
            f"else attributes {', '.join('d' + p for p in spec.params)} (book 1)"
        )
    return forms
