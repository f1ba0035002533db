"""The bias gradient of a batch is a sum: db = Σ_n dout[n].

out = x @ W + b broadcasts b over the batch, so its gradient collects every example's upstream
gradient; for a batch of one it is that example's dout, exactly. The affine cells of
tests/test_properties.py compare every gradient with torch's and jax's autodiff (image-shaped
batches included) and judge the batch property (each row alone as in the batch, dW and db the sums
of the per-row ones).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layer_crosscheck import impl
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.compare import compare
from layer_crosscheck.properties.engine.tolerances import exact_rtol

DTYPES = [np.float64, np.float32]
#: (x shape, M): 2-D and image-shaped batches
SHAPES = (((3, 4), 2), ((4, 3), 1), ((2, 2, 3, 2), 4))
ONE = (((1, 5), 3), ((1, 2, 2, 2), 2))


@pytest.mark.parametrize("shapes", [SHAPES, ONE], ids=["batch", "batch-of-one"])
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_db_is_the_sum_of_dout_over_the_batch(
    dtype: Any, shapes: tuple[Any, ...], data: st.DataObject
) -> None:
    x_shape, m = data.draw(st.sampled_from(shapes))
    x = data.draw(S.array(dtype, x_shape))
    W = data.draw(S.array(dtype, (math.prod(x_shape[1:]), m)))
    b = data.draw(S.array(dtype, (m,)))
    dout = data.draw(S.cotangent(dtype, (x_shape[0], m)))
    layer = impl.Affine(W, b)
    layer.forward(x)
    layer.backward(dout)
    db = layer.db

    assert db.dtype == dtype
    terms = float(np.abs(dout.astype(np.float64)).sum(axis=0).max())  # db rounds relative to these
    compare(
        db,
        dout.astype(np.float64).sum(axis=0),
        exact_rtol(dtype),
        scale=terms,
        dtype=dtype,
        what="db vs Σ dout",
    )
    if x.shape[0] == 1:
        assert np.array_equal(db, dout[0])  # a sum of one term: exact
