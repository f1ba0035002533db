"""The bias gradient of a batch is a sum: db = Σ_n dout[n].

out = x @ W + b broadcasts b over the batch, so its gradient collects every example's upstream
gradient. Checked against a plain loop, the sum of per-example gradients (``vmap(grad(...))``) and
a batch of one. The affine cells of tests/test_properties.py compare every gradient with torch's
and jax's autodiff (image-shaped batches included) and judge the batch property (each row alone
as in the batch, db the sum of the per-row ones).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import impl
from properties.engine import strategies as S
from properties.engine.compare import compare
from properties.engine.tolerances import exact_rtol
from reference.jax_backend import x64
from tests.helpers import reference_or_skip

DTYPES = [np.float64, np.float32]
#: (x shape, M): 2-D and image-shaped batches, few enough that JAX compiles each once
SHAPES = (((3, 4), 2), ((4, 3), 1), ((2, 2, 3, 2), 4))
ONE = (((1, 5), 3), ((1, 2, 2, 2), 2))

Case = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@st.composite
def cases(draw: st.DrawFn, dtype: Any, shapes: tuple[Any, ...] = SHAPES) -> Case:
    """x, W, b and an upstream gradient dout of the output's shape (N, M)."""
    x_shape, m = draw(st.sampled_from(shapes))
    d = math.prod(x_shape[1:])
    x = draw(S.array(dtype, x_shape))
    W = draw(S.array(dtype, (d, m)))
    b = draw(S.array(dtype, (m,)))
    return x, W, b, draw(S.cotangent(dtype, (x_shape[0], m)))


def affine_grads(x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray) -> dict[str, np.ndarray]:
    """impl.Affine's dW and db (copies: the layer reuses its gradient arrays)."""
    layer = impl.Affine(W, b)
    layer.forward(x)
    layer.backward(dout)
    return {"W": layer.dW.copy(), "b": layer.db.copy()}


def term_sizes(x: np.ndarray, dout: np.ndarray) -> dict[str, float]:
    """How large the terms summed into dW and db are (their rounding is relative to this)."""
    ax, ad = (np.abs(a.astype(np.float64)) for a in (x.reshape(x.shape[0], -1), dout))
    return {"W": float((ax.T @ ad).max()), "b": float(ad.sum(axis=0).max())}


# ---- per-example gradients: vmap(grad(<dout_i, x_i @ W + b>)) ------------------------------------


@functools.cache
def jax_per_example() -> Any:
    """Per-example (dW_i, db_i), jitted once (one compile per shape)."""
    reference_or_skip("jax")
    import jax

    jnp = jax.numpy

    def loss(W: Any, b: Any, x_i: Any, dout_i: Any) -> Any:
        return jnp.vdot(dout_i, x_i.reshape(-1) @ W + b)

    per_example = jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1)), in_axes=(None, None, 0, 0)))

    def run(W: np.ndarray, b: np.ndarray, x: np.ndarray, dout: np.ndarray) -> Any:
        with x64(jax):  # the reference scopes float64 to its own calls; so must this
            return [np.asarray(g) for g in per_example(W, b, x, dout)]

    return run


@functools.cache
def torch_per_example() -> Any:
    reference_or_skip("torch")
    import torch

    def loss(W: Any, b: Any, x_i: Any, dout_i: Any) -> Any:
        return torch.dot(dout_i, x_i.reshape(-1) @ W + b)

    per_example = torch.func.vmap(torch.func.grad(loss, argnums=(0, 1)), in_dims=(None, None, 0, 0))

    def run(W: np.ndarray, b: np.ndarray, x: np.ndarray, dout: np.ndarray) -> Any:
        return per_example(*(torch.from_numpy(a) for a in (W, b, x, dout)))

    return run


@pytest.fixture(scope="module", params=["torch", "jax"])
def per_example(request: pytest.FixtureRequest) -> Any:
    """``f(W, b, x, dout) -> (dW_i, db_i)`` stacked over the batch, computed in float64."""
    return {"torch": torch_per_example, "jax": jax_per_example}[request.param]()


# ---- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shapes", [SHAPES, ONE], ids=["batch", "batch-of-one"])
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_db_is_the_sum_of_dout_over_the_batch(
    dtype: Any, shapes: tuple[Any, ...], data: st.DataObject
) -> None:
    x, W, b, dout = data.draw(cases(dtype, shapes))
    db = affine_grads(x, W, b, dout)["b"]

    want = np.zeros(b.shape)
    for row in dout.astype(np.float64):
        want += row

    assert db.dtype == dtype
    compare(db, want, exact_rtol(dtype), scale=term_sizes(x, dout)["b"], dtype=dtype, what="db vs Σ dout")
    if x.shape[0] == 1:
        assert np.array_equal(db, dout[0])  # a sum of one term: exact


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_db_is_the_sum_of_per_example_gradients(per_example: Any, dtype: Any, data: st.DataObject) -> None:
    x, W, b, dout = data.draw(cases(dtype))
    got = affine_grads(x, W, b, dout)

    as64 = (np.array(a, np.float64) for a in (W, b, x, dout))  # fresh, writable, the reference's precision
    dW_i, db_i = (np.asarray(g, np.float64) for g in per_example(*as64))

    n = x.shape[0]
    assert db_i.shape == (n, *b.shape) and dW_i.shape == (n, *W.shape)
    terms = term_sizes(x, dout)
    rtol = exact_rtol(dtype)
    compare(got["b"], db_i.sum(axis=0), rtol, scale=terms["b"], dtype=dtype, what="db vs Σ db_i")
    compare(got["W"], dW_i.sum(axis=0), rtol, scale=terms["W"], dtype=dtype, what="dW vs Σ dW_i")
