"""Book 2's recurrent cells, one time step each: ``rnn``, ``lstm`` (two outputs), ``gru``.

Each spec follows the book's own layout, so the book's class passes the spec named after it; the
torch references are torch's own cells (``torch.nn.RNNCell``/``LSTMCell``/``GRUCell`` through
``torch.func.functional_call``) with the book's weights mapped into torch's layout. Where torch's
layout differs, torch's is a named alternative (``lstm_ifgo``: torch's gate order; ``gru_torch``:
torch's GRU formula in the book's bias-free interface), never a failure. The book's GRU formula
(the reset gate applied before the matmul) has no torch module: its torch reference is the
formula in torch ops, through autograd. The jax references use ``jax.nn``.

Draws keep every pre-activation within ±3 (weights scaled by ``3 / (D + H + 1)``, inputs and
states within ±1): tanh' and σ' stay above 0.01 there, where the book's gates are meant to work;
saturation is tanh's and sigmoid's own spec's business.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from layer_crosscheck.impl import (
    GRU,
    LSTM,
    RNN,
    TimeBiLSTM,
    TimeGRU,
    TimeLSTM,
    TimeLSTMFromH0,
    TimeRNN,
    TimeRNNFromH0,
    TorchGRU,
)
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.sequence import SequenceSpec
from layer_crosscheck.properties.engine.spec import (
    Alternative,
    Arrays,
    BadInput,
    Construction,
    Conventions,
    Draw,
    Edges,
    LayerSpec,
    Numerics,
    Sizes,
    revise,
)
from layer_crosscheck.properties.specs.seed import dout_scale, unit_scale

#: the book packs an LSTM's gates [f, g, i, o]; torch [i, f, g, o]: torch's block k is the book's
BOOK_TO_TORCH_LSTM = (2, 0, 1, 3)
CELL_SHAPES = ({"N": 2, "D": 3, "H": 2}, {"N": 1, "D": 2, "H": 3}, {"N": 3, "D": 1, "H": 1})
PRE_ACTIVATION = 3.0


def weights(draw: Draw, dtype: np.dtype, s: Sizes, gates: int, biases: int = 1, suffix: str = "") -> Arrays:
    """``Wx`` (D, gates*H), ``Wh`` (H, gates*H) and ``biases`` bias vectors (``b``; ``bx``, ``bh``),
    scaled so that no pre-activation exceeds ``PRE_ACTIVATION`` for inputs within ±1."""
    D, H = s["D"], s["H"]
    k = gates * H
    scale = PRE_ACTIVATION / (D + H + biases)
    names = {0: (), 1: ("b",), 2: ("bx", "bh")}[biases]
    shapes = {"Wx": (D, k), "Wh": (H, k), **dict.fromkeys(names, (k,))}
    return {
        n + suffix: (draw(S.array(dtype, sh, extreme=1.0, moderate=1.0)) * scale).astype(dtype)
        for n, sh in shapes.items()
    }


def unit(draw: Draw, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """An input or a state within ±1."""
    return draw(S.array(dtype, shape, extreme=1.0, moderate=1.0))


def _cell_draw(gates: int, states: tuple[str, ...], biases: int = 1) -> Any:
    def draw_case(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        N, H = s["N"], s["H"]
        case = {"x": unit(draw, dtype, (N, s["D"])), **{n: unit(draw, dtype, (N, H)) for n in states}}
        return {**case, **weights(draw, dtype, s, gates, biases)}

    return draw_case


@functools.cache
def torch_module(torch: Any, kind: str, D: int, H: int, **kw: Any) -> Any:
    """A torch module with no weights of its own (device ``meta``): ``functional_call`` maps
    the layer's in. Cached per size: such a module holds nothing else."""
    return getattr(torch.nn, kind)(D, H, device="meta", **kw)


def torch_run(
    T: Any, kind: str, Wx: Any, Wh: Any, bx: Any, bh: Any, *args: Any, suffix: str = "", **kw: Any
) -> Any:
    """torch's module ``kind`` run on ``args`` with ``Wx`` (D, kH), ``Wh`` (H, kH) and the biases,
    already in torch's gate order, mapped in (``bh`` None: torch's second bias is 0; ``bx`` None
    too: a module built with ``bias=False``)."""
    module = torch_module(T.torch, kind, Wx.shape[0], Wh.shape[0], **kw)
    names = {"weight_ih": Wx.T, "weight_hh": Wh.T}
    if bx is not None:
        names |= {"bias_ih": bx, "bias_hh": T.torch.zeros_like(bx) if bh is None else bh}
    return T.torch.func.functional_call(module, {k + suffix: v for k, v in names.items()}, args)


def book_lstm_to_torch(T: Any, W: Any, order: str = "fgio") -> Any:
    """The column blocks of ``W`` (..., 4H), gates packed in ``order`` (the book's ``[f, g, i, o]``),
    in torch's ``[i, f, g, o]`` order."""
    H = W.shape[-1] // 4
    blocks = BOOK_TO_TORCH_LSTM if order == "fgio" else tuple(order.index(k) for k in "ifgo")
    return T.torch.cat([W[..., k * H : (k + 1) * H] for k in blocks], dim=-1)


def lstm_jax(
    J: Any, x: Any, h: Any, c: Any, Wx: Any, Wh: Any, b: Any, order: str = "fgio"
) -> tuple[Any, Any]:
    """One LSTM step in jax, gates packed in ``order``."""
    A = x @ Wx + h @ Wh + b
    gate = dict(zip(order, J.jnp.split(A, 4, axis=-1), strict=True))
    f, i, o = (J.nn.sigmoid(gate[k]) for k in "fio")
    c_next = f * c + J.jnp.tanh(gate["g"]) * i
    return o * J.jnp.tanh(c_next), c_next


def book_gru(sigmoid: Any, tanh: Any, x: Any, h: Any, Wx: Any, Wh: Any) -> Any:
    """The book's GRU step (no bias, ``r`` before the matmul, ``z`` weighting ``h_hat``), with
    either framework's ``sigmoid`` and ``tanh``."""
    H = Wh.shape[0]
    z = sigmoid(x @ Wx[:, :H] + h @ Wh[:, :H])
    r = sigmoid(x @ Wx[:, H : 2 * H] + h @ Wh[:, H : 2 * H])
    h_hat = tanh(x @ Wx[:, 2 * H :] + (r * h) @ Wh[:, 2 * H :])
    return (1 - z) * h + z * h_hat


def gru_torch_jax(J: Any, x: Any, h_prev: Any, Wx: Any, Wh: Any) -> Any:
    """torch's GRU step (no bias) in jax: gates ``[r, z, n]``, ``n = tanh(x Wn + r*(h Whn))``,
    ``h' = (1-z)*n + z*h``."""
    gx, gh = x @ Wx, h_prev @ Wh
    (xr, xz, xn), (hr, hz, hn) = J.jnp.split(gx, 3, axis=-1), J.jnp.split(gh, 3, axis=-1)
    r, z = J.nn.sigmoid(xr + hr), J.nn.sigmoid(xz + hz)
    n = J.jnp.tanh(xn + r * hn)
    return (1 - z) * n + z * h_prev


def _bad_weights(a: Arrays) -> Arrays:
    return {**a, "Wh": np.ones((a["Wh"].shape[0] + 1, a["Wh"].shape[1]))}


def _bad_state(a: Arrays) -> Arrays:
    return {**a, "h_prev": np.ones((a["h_prev"].shape[0], a["h_prev"].shape[1] + 1))}


_CELL_BAD = (
    BadInput("Wh with a row too many", _bad_weights),
    BadInput("h_prev that does not fit Wh", _bad_state),
    BadInput(
        "Wx with a column too many", lambda a: {**a, "Wx": np.ones((a["Wx"].shape[0], a["Wx"].shape[1] + 1))}
    ),
    BadInput(
        "x with a feature too many for Wx",
        lambda a: {**a, "x": np.ones((a["x"].shape[0], a["x"].shape[1] + 1))},
    ),
    BadInput("complex h_prev", lambda a: {**a, "h_prev": a["h_prev"] + 0j}, TypeError),
)
#: a cell with a bias also refuses a bias that does not fit
_BIASED_CELL_BAD = (
    *_CELL_BAD,
    BadInput("b with an entry too many", lambda a: {**a, "b": np.zeros(a["b"].shape[0] + 1)}),
)
_CELL: dict[str, Any] = {
    "shapes": CELL_SHAPES,
    "numerics": Numerics(derive_scales=True),
    "row_wise": True,
    "edges": Edges(bad_inputs=_CELL_BAD),
}

register(
    LayerSpec(
        name="rnn",
        layer=RNN,
        summary="book 2's RNN step: h_next = tanh(h_prev @ Wh + x @ Wx + b); backward -> (dx, dh_prev)",
        inputs=("x", "h_prev"),
        params=("Wx", "Wh", "b"),
        draw=_cell_draw(1, ("h_prev",)),
        torch=lambda T, x, h_prev, Wx, Wh, b: torch_run(T, "RNNCell", Wx, Wh, b, None, x, h_prev),
        jax=lambda J, x, h_prev, Wx, Wh, b: J.jnp.tanh(h_prev @ Wh + x @ Wx + b),
        **{**_CELL, "edges": Edges(bad_inputs=_BIASED_CELL_BAD)},
    )
)


def _lstm_torch_book(
    T: Any, x: Any, h_prev: Any, c_prev: Any, Wx: Any, Wh: Any, b: Any, order: str = "fgio"
) -> Any:
    Wx, Wh, b = (book_lstm_to_torch(T, w, order) for w in (Wx, Wh, b))
    return torch_run(T, "LSTMCell", Wx, Wh, b, None, x, (h_prev, c_prev))


def _lstm_torch_ifgo(T: Any, x: Any, h_prev: Any, c_prev: Any, Wx: Any, Wh: Any, b: Any) -> Any:
    return torch_run(T, "LSTMCell", Wx, Wh, b, None, x, (h_prev, c_prev))


_LSTM = LayerSpec(
    name="lstm",
    layer=LSTM,
    summary="book 2's LSTM step, gates packed [f, g, i, o]: forward(x, h_prev, c_prev) -> (h_next, c_next), "
    "backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev)",
    inputs=("x", "h_prev", "c_prev"),
    outputs=("h_next", "c_next"),
    params=("Wx", "Wh", "b"),
    draw=_cell_draw(4, ("h_prev", "c_prev")),
    torch=_lstm_torch_book,
    jax=lambda J, x, h_prev, c_prev, Wx, Wh, b: lstm_jax(J, x, h_prev, c_prev, Wx, Wh, b),
    conventions=Conventions(alternatives=(Alternative("lstm_ifgo"), Alternative("lstm_ifog"))),
    **{**_CELL, "edges": Edges(bad_inputs=_BIASED_CELL_BAD)},
)
register(_LSTM)
register(
    revise(
        _LSTM,
        name="lstm_ifgo",
        summary="an LSTM step with torch's gate order [i, f, g, o] (one bias)",
        torch=_lstm_torch_ifgo,
        jax=lambda J, x, h_prev, c_prev, Wx, Wh, b: lstm_jax(J, x, h_prev, c_prev, Wx, Wh, b, order="ifgo"),
        conventions={"alternatives": (), "name": "torch's LSTM gate order [i, f, g, o]"},
        construction={"layer_kwargs": {"order": "ifgo"}},
    )
)
register(
    revise(
        _LSTM,
        name="lstm_ifog",
        summary="an LSTM step with CS231n's gate order [i, f, o, g] (one bias)",
        torch=functools.partial(_lstm_torch_book, order="ifog"),
        jax=lambda J, x, h_prev, c_prev, Wx, Wh, b: lstm_jax(J, x, h_prev, c_prev, Wx, Wh, b, order="ifog"),
        conventions={
            "alternatives": (Alternative("lstm"), Alternative("lstm_ifgo")),
            "name": "CS231n's LSTM gate order [i, f, o, g]",
        },
        construction={"layer_kwargs": {"order": "ifog"}},
    )
)
register(
    LayerSpec(
        name="gru",
        layer=GRU,
        summary="book 2's GRU step (no bias, packed [z, r, h]): h_hat = tanh(x @ Wxh + (r*h_prev) @ Whh), "
        "h_next = (1-z)*h_prev + z*h_hat",
        inputs=("x", "h_prev"),
        params=("Wx", "Wh"),
        draw=_cell_draw(3, ("h_prev",), biases=0),
        torch=lambda T, x, h_prev, Wx, Wh: book_gru(T.torch.sigmoid, T.torch.tanh, x, h_prev, Wx, Wh),
        jax=lambda J, x, h_prev, Wx, Wh: book_gru(J.nn.sigmoid, J.jnp.tanh, x, h_prev, Wx, Wh),
        conventions=Conventions(alternatives=(Alternative("gru_torch"),)),
        **_CELL,
    )
)
register(
    LayerSpec(
        name="gru_torch",
        layer=TorchGRU,
        summary="torch's GRU formula in the book's GRU(Wx, Wh): gates [r, z, n], "
        "n = tanh(x @ Wxn + r*(h @ Whn)), h' = (1-z)*n + z*h; vs torch.nn.GRUCell(bias=False)",
        inputs=("x", "h_prev"),
        params=("Wx", "Wh"),
        draw=_cell_draw(3, ("h_prev",), biases=0),
        torch=lambda T, x, h_prev, Wx, Wh: torch_run(T, "GRUCell", Wx, Wh, None, None, x, h_prev, bias=False),
        jax=gru_torch_jax,
        conventions=Conventions(name="torch's GRU formula (r after the matmul, z keeping h)"),
        **_CELL,
    )
)


# ---- sequence layers: the cells over the time axis of xs (N, T, D), batch-major ----------------

SEQUENCE_SHAPES = (
    {"N": 2, "T": 3, "D": 2, "H": 2},
    {"N": 1, "T": 4, "D": 3, "H": 1},
    {"N": 3, "T": 2, "D": 1, "H": 2},
)


def _sequence_draw(gates: int, biases: int = 1, directions: tuple[str, ...] = ("",)) -> Any:
    def draw_case(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        case = {"xs": unit(draw, dtype, (s["N"], s["T"], s["D"]))}
        for suffix in directions:
            case |= weights(draw, dtype, s, gates, biases, suffix)
        return case

    return draw_case


def _zeros_like_state(ns_zeros: Any, xs: Any, Wh: Any, h0: Any) -> Any:
    return ns_zeros((xs.shape[0], Wh.shape[0]), dtype=xs.dtype) if h0 is None else h0


def _torch_sequence(kind: str, book_lstm: bool = False, final: bool = False, order: str = "fgio") -> Any:
    """torch's ``kind`` (``RNN``, ``LSTM``) with ``batch_first=True``: ``hs``, or the final state."""

    def run(T: Any, xs: Any, Wx: Any, Wh: Any, b: Any, h0: Any = None, c0: Any = None) -> Any:
        h0 = _zeros_like_state(T.torch.zeros, xs, Wh, h0)
        if book_lstm:
            Wx, Wh, b = (book_lstm_to_torch(T, w, order) for w in (Wx, Wh, b))
        state = h0[None] if kind == "RNN" else (h0[None], _zeros_like_state(T.torch.zeros, xs, Wh, c0)[None])
        hs, last = torch_run(T, kind, Wx, Wh, b, None, xs, state, suffix="_l0", batch_first=True)
        if not final:
            return hs
        return last[0] if kind == "RNN" else T.torch.stack((last[0][0], last[1][0]), dim=-1)

    return run


def _jax_scan(J: Any, step: Any, xs: Any, carry: Any) -> tuple[Any, Any]:
    """``lax.scan`` of ``step(carry, x_t) -> (carry, h_t)`` over the time axis; (final carry, hs)."""
    last, hs = J.lax.scan(step, carry, J.jnp.swapaxes(xs, 0, 1))
    return last, J.jnp.swapaxes(hs, 0, 1)


def _jax_rnn(final: bool = False) -> Any:
    def run(J: Any, xs: Any, Wx: Any, Wh: Any, b: Any, h0: Any = None) -> Any:
        def step(h: Any, x: Any) -> tuple[Any, Any]:
            h = J.jnp.tanh(h @ Wh + x @ Wx + b)
            return h, h

        last, hs = _jax_scan(J, step, xs, _zeros_like_state(J.jnp.zeros, xs, Wh, h0))
        return last if final else hs

    return run


def _jax_lstm(final: bool = False, order: str = "fgio") -> Any:
    def run(J: Any, xs: Any, Wx: Any, Wh: Any, b: Any, h0: Any = None, c0: Any = None) -> Any:
        def step(hc: Any, x: Any) -> tuple[Any, Any]:
            h, c = lstm_jax(J, x, hc[0], hc[1], Wx, Wh, b, order)
            return (h, c), h

        start = (_zeros_like_state(J.jnp.zeros, xs, Wh, h0), _zeros_like_state(J.jnp.zeros, xs, Wh, c0))
        (h, c), hs = _jax_scan(J, step, xs, start)
        return J.jnp.stack((h, c), axis=-1) if final else hs

    return run


def _torch_gru(final: bool = False) -> Any:
    """The book's GRU over time in torch ops (torch's ``nn.GRU`` computes another formula)."""

    def run(T: Any, xs: Any, Wx: Any, Wh: Any, h0: Any = None) -> Any:
        h = _zeros_like_state(T.torch.zeros, xs, Wh, h0)
        hs = []
        for t in range(xs.shape[1]):
            h = book_gru(T.torch.sigmoid, T.torch.tanh, xs[:, t], h, Wx, Wh)
            hs.append(h)
        return h if final else T.torch.stack(hs, dim=1)

    return run


def _jax_gru(final: bool = False) -> Any:
    def run(J: Any, xs: Any, Wx: Any, Wh: Any, h0: Any = None) -> Any:
        def step(h: Any, x: Any) -> tuple[Any, Any]:
            h = book_gru(J.nn.sigmoid, J.jnp.tanh, x, h, Wx, Wh)
            return h, h

        last, hs = _jax_scan(J, step, xs, _zeros_like_state(J.jnp.zeros, xs, Wh, h0))
        return last if final else hs

    return run


def _bad_xs(a: Arrays) -> Arrays:
    return {**a, "xs": np.ones((*a["xs"].shape[:2], a["xs"].shape[2] + 1))}


_SEQUENCE: dict[str, Any] = {
    "inputs": ("xs",),
    "shapes": SEQUENCE_SHAPES,
    "numerics": Numerics(grad_scale=dout_scale, value_scale=unit_scale),
    "row_wise": True,
    "edges": Edges(bad_inputs=(BadInput("xs with a feature too many for Wx", _bad_xs),)),
}

register(
    SequenceSpec(
        name="time_rnn",
        layer=TimeRNN,
        summary="book 2's TimeRNN(Wx, Wh, b, stateful): RNN over xs (N, T, D) -> hs (N, T, H); "
        "vs torch.nn.RNN(batch_first=True)",
        params=("Wx", "Wh", "b"),
        draw=_sequence_draw(1),
        torch=_torch_sequence("RNN"),
        jax=_jax_rnn(),
        torch_final=_torch_sequence("RNN", final=True),
        jax_final=_jax_rnn(final=True),
        conventions=Conventions(alternatives=(Alternative("time_rnn_time_major"),)),
        **_SEQUENCE,
    )
)


def _with_h0(draw_case: Any) -> Any:
    def draw_with_h0(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        return {**draw_case(draw, dtype, s), "h0": unit(draw, dtype, (s["N"], s["H"]))}

    return draw_with_h0


register(
    LayerSpec(
        name="time_rnn_h0",
        layer=TimeRNNFromH0,
        summary="CS231n's rnn_forward(x, h0, Wx, Wh, b): the RNN over xs (N, T, D) from a given h0, "
        "-> hs; backward -> (dxs, dh0); vs torch.nn.RNN(batch_first=True) with h0",
        params=("Wx", "Wh", "b"),
        draw=_with_h0(_sequence_draw(1)),
        torch=lambda T, xs, h0, Wx, Wh, b: _torch_sequence("RNN")(T, xs, Wx, Wh, b, h0),
        jax=lambda J, xs, h0, Wx, Wh, b: _jax_rnn()(J, xs, Wx, Wh, b, h0),
        **{**_SEQUENCE, "inputs": ("xs", "h0")},
    )
)

register(
    LayerSpec(
        name="time_lstm_ifog_h0",
        layer=TimeLSTMFromH0,
        summary="CS231n's lstm_forward(x, h0, Wx, Wh, b): the LSTM (gates [i, f, o, g]) over xs (N, T, D) "
        "from a given h0 and c0 = 0 -> hs; backward -> (dxs, dh0); vs torch.nn.LSTM with h0",
        params=("Wx", "Wh", "b"),
        draw=_with_h0(_sequence_draw(4)),
        torch=lambda T, xs, h0, Wx, Wh, b: _torch_sequence("LSTM", book_lstm=True, order="ifog")(
            T, xs, Wx, Wh, b, h0
        ),
        jax=lambda J, xs, h0, Wx, Wh, b: _jax_lstm(order="ifog")(J, xs, Wx, Wh, b, h0),
        construction=Construction(layer_kwargs={"order": "ifog"}),
        **{**_SEQUENCE, "inputs": ("xs", "h0")},
    )
)
register(
    SequenceSpec(
        name="time_lstm",
        layer=TimeLSTM,
        summary="book 2's TimeLSTM(Wx, Wh, b, stateful): LSTM ([f, g, i, o]) over xs (N, T, D) -> hs; "
        "vs torch.nn.LSTM(batch_first=True) with the gates reordered",
        params=("Wx", "Wh", "b"),
        states=("h0", "c0"),
        draw=_sequence_draw(4),
        torch=_torch_sequence("LSTM", book_lstm=True),
        jax=_jax_lstm(),
        torch_final=_torch_sequence("LSTM", book_lstm=True, final=True),
        jax_final=_jax_lstm(final=True),
        conventions=Conventions(alternatives=(Alternative("time_lstm_time_major"),)),
        **_SEQUENCE,
    )
)
register(
    SequenceSpec(
        name="time_gru",
        layer=TimeGRU,
        summary="book 2's TimeGRU(Wx, Wh, stateful): the book's GRU over xs (N, T, D) -> hs",
        params=("Wx", "Wh"),
        draw=_sequence_draw(3, biases=0),
        torch=_torch_gru(),
        jax=_jax_gru(),
        torch_final=_torch_gru(final=True),
        jax_final=_jax_gru(final=True),
        **_SEQUENCE,
    )
)


def _torch_bi_lstm(T: Any, xs: Any, Wx1: Any, Wh1: Any, b1: Any, Wx2: Any, Wh2: Any, b2: Any) -> Any:
    """torch.nn.LSTM(bidirectional=True): the forward direction's weights, then ``_reverse``."""
    module = torch_module(T.torch, "LSTM", Wx1.shape[0], Wh1.shape[0], batch_first=True, bidirectional=True)
    names: dict[str, Any] = {}
    for suffix, (Wx, Wh, b) in (("_l0", (Wx1, Wh1, b1)), ("_l0_reverse", (Wx2, Wh2, b2))):
        Wx, Wh, b = (book_lstm_to_torch(T, w) for w in (Wx, Wh, b))
        mapped = {"weight_ih": Wx.T, "weight_hh": Wh.T, "bias_ih": b, "bias_hh": T.torch.zeros_like(b)}
        names |= {k + suffix: v for k, v in mapped.items()}
    return T.torch.func.functional_call(module, names, (xs,))[0]


def _jax_bi_lstm(J: Any, xs: Any, Wx1: Any, Wh1: Any, b1: Any, Wx2: Any, Wh2: Any, b2: Any) -> Any:
    run = _jax_lstm()
    backward = J.jnp.flip(run(J, J.jnp.flip(xs, axis=1), Wx2, Wh2, b2), axis=1)
    return J.jnp.concatenate((run(J, xs, Wx1, Wh1, b1), backward), axis=-1)


register(
    LayerSpec(
        name="time_bi_lstm",
        layer=TimeBiLSTM,
        summary="book 2's TimeBiLSTM(Wx1, Wh1, b1, Wx2, Wh2, b2): TimeLSTM over xs and over xs reversed, "
        "hs joined (N, T, 2H); vs torch.nn.LSTM(bidirectional=True)",
        params=("Wx1", "Wh1", "b1", "Wx2", "Wh2", "b2"),
        draw=_sequence_draw(4, directions=("1", "2")),
        torch=_torch_bi_lstm,
        jax=_jax_bi_lstm,
        **{**_SEQUENCE, "edges": Edges()},  # no bad input of its own
    )
)


def _time_major(batch_major: Any) -> Any:
    """The batch-major math on xs (T, N, D): torch's default layout (``batch_first=False``)."""

    def torch(T: Any, xs: Any, **weights: Any) -> Any:
        return T.torch.swapaxes(batch_major[0](T, T.torch.swapaxes(xs, 0, 1), **weights), 0, 1)

    def jax(J: Any, xs: Any, **weights: Any) -> Any:
        return J.jnp.swapaxes(batch_major[1](J, J.jnp.swapaxes(xs, 0, 1), **weights), 0, 1)

    return torch, jax


def _time_major_draw(gates: int) -> Any:
    batch_major = _sequence_draw(gates)

    def draw_case(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        case = batch_major(draw, dtype, s)
        return {**case, "xs": np.ascontiguousarray(np.swapaxes(case["xs"], 0, 1))}

    return draw_case


for _name, _layer, _kind, _gates, _math in (
    ("time_rnn", TimeRNN, "RNN", 1, (_torch_sequence("RNN"), _jax_rnn())),
    ("time_lstm", TimeLSTM, "LSTM", 4, (_torch_sequence("LSTM", book_lstm=True), _jax_lstm())),
):
    _torch, _jax = _time_major(_math)
    register(
        LayerSpec(
            name=f"{_name}_time_major",
            layer=_layer,
            summary=f"{_name} on torch's default layout: xs (T, N, D) -> hs (T, N, H)",
            inputs=("xs",),
            params=("Wx", "Wh", "b"),
            shapes=SEQUENCE_SHAPES,
            draw=_time_major_draw(_gates),
            torch=_torch,
            jax=_jax,
            numerics=Numerics(grad_scale=dout_scale, value_scale=unit_scale),
            construction=Construction(layer_kwargs={"time_major": True}),
            conventions=Conventions(name=f"torch's time-major {_kind} layout (batch_first=False)"),
        )
    )
