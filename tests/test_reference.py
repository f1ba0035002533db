"""The judges themselves: torch and jax against closed forms, fd against calculus (that torch and
jax agree with each other on every spec is the agreement cells' job, tests/test_properties.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from layer_crosscheck.properties.engine.tolerances import exact_rtol, fd_rtol, rounding_rtol
from layer_crosscheck.reference import REFERENCE_NAMES, BackendUnavailable, Reference, get_reference
from layer_crosscheck.reference.finite_diff import Directional, FiniteDifferences
from layer_crosscheck.reference.jax_backend import JaxReference
from layer_crosscheck.reference.torch_backend import TorchReference
from tests.helpers import ROOT, reference_or_skip, subprocess_env

# ---- spec functions by framework (ns: torch and F for torch, jnp and nn for jax) -----------------


def cross_entropy_jax(ns: Any, x: Any, t: Any) -> Any:
    logp = ns.nn.log_softmax(x, axis=-1)
    return -ns.jnp.mean(ns.jnp.take_along_axis(logp, t[:, None], axis=1))


SPECS: dict[str, dict[str, Callable[..., Any]]] = {
    "softmax": {
        "torch": lambda ns, x: ns.F.softmax(x, dim=-1),
        "jax": lambda ns, x: ns.nn.softmax(x, axis=-1),
    },
    "linear": dict.fromkeys(["torch", "jax"], lambda ns, x, W, b: x.reshape(x.shape[0], -1) @ W + b),
    "cross_entropy": {"torch": lambda ns, x, t: ns.F.cross_entropy(x, t), "jax": cross_entropy_jax},
    "relu": {"torch": lambda ns, x: ns.F.relu(x), "jax": lambda ns, x: ns.nn.relu(x)},
    "double_x": dict.fromkeys(["torch", "jax"], lambda ns, x, y: 2.0 * x),
    # a constant made inside the spec function
    "tenth": {"torch": lambda ns, x: x * ns.torch.tensor(0.1), "jax": lambda ns, x: x * ns.jnp.asarray(0.1)},
}

# float64 closed forms vs float64 autodiff: a few ulps of rounding, nothing more.
TIGHT: dict[str, Any] = {"rtol": exact_rtol(np.float64), "atol": rounding_rtol(np.float64)}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


@pytest.fixture(params=["torch", "jax"])
def autodiff(request: pytest.FixtureRequest) -> Reference:
    return reference_or_skip(request.param)


def np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_softmax_jacobian(y: np.ndarray) -> np.ndarray:
    """d y[r, i] / d x[s, j]: diag(y[r]) - y[r] y[r]ᵀ where r == s, 0 between rows."""
    n, c = y.shape
    block = y[:, :, None] * (np.eye(c) - y[:, None, :])
    return np.einsum("rs,rij->risj", np.eye(n), block)


def readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


# ---- registry ------------------------------------------------------------------------------------


def test_registry_returns_cached_singletons_and_rejects_unknown_names() -> None:
    assert REFERENCE_NAMES == ("torch", "jax", "fd")
    for name in REFERENCE_NAMES:
        ref = get_reference(name)
        assert ref is get_reference(name)
        assert ref.name == name
    with pytest.raises(ValueError, match="torch, jax, fd"):
        get_reference("tensorflow")


# ---- autodiff references against closed forms ----------------------------------------------------


def test_softmax_value_vjp_and_jacobian(autodiff: Reference, rng: np.random.Generator) -> None:
    fn = SPECS["softmax"][autodiff.name]
    x = readonly(3 * rng.normal(size=(3, 4)))
    ct = rng.normal(size=(3, 4))
    y = np_softmax(x)

    value = autodiff.value(fn, {"x": x})
    np.testing.assert_allclose(value, y, **TIGHT)

    grad = autodiff.vjp(fn, {"x": x}, ["x"], ct)["x"]
    np.testing.assert_allclose(grad, y * (ct - (ct * y).sum(-1, keepdims=True)), **TIGHT)
    for r in (value, grad):  # of a read-only input: writable float64 copies
        assert r.dtype == np.float64 and r.flags.writeable

    jac, want = autodiff.jacobian(fn, {"x": x}, ["x"])["x"], np_softmax_jacobian(y)
    assert jac.shape == (3, 4, 3, 4)
    np.testing.assert_allclose(jac, want, **TIGHT)
    np.testing.assert_array_equal(jac[want == 0], 0)  # between rows: exactly 0


def test_linear_vjp_on_flattened_nd_input(autodiff: Reference, rng: np.random.Generator) -> None:
    fn = SPECS["linear"][autodiff.name]
    x, W, b = rng.normal(size=(5, 2, 3)), rng.normal(size=(6, 4)), rng.normal(size=4)
    ct = rng.normal(size=(5, 4))
    arrays = {"x": readonly(x), "W": readonly(W), "b": readonly(b)}

    np.testing.assert_allclose(autodiff.value(fn, arrays), x.reshape(5, 6) @ W + b, **TIGHT)
    grads = autodiff.vjp(fn, arrays, ["x", "W", "b"], ct)
    assert {k: g.shape for k, g in grads.items()} == {"x": x.shape, "W": W.shape, "b": b.shape}
    np.testing.assert_allclose(grads["x"], (ct @ W.T).reshape(x.shape), **TIGHT)
    np.testing.assert_allclose(grads["W"], x.reshape(5, 6).T @ ct, **TIGHT)
    np.testing.assert_allclose(grads["b"], ct.sum(axis=0), **TIGHT)

    jac_b = autodiff.jacobian(fn, arrays, ["b"])["b"]
    np.testing.assert_array_equal(jac_b, np.broadcast_to(np.eye(4), (5, 4, 4)))


def test_cross_entropy_with_integer_labels(autodiff: Reference, rng: np.random.Generator) -> None:
    fn = SPECS["cross_entropy"][autodiff.name]
    n, c = 6, 5
    x = rng.normal(size=(n, c))
    t = readonly(rng.integers(0, c, size=n).astype(np.int32))  # becomes int64 for torch's sake
    ct = np.array(rng.normal())  # a scalar output takes a 0-d cotangent
    p = np_softmax(x)
    onehot = np.eye(c)[t]

    loss = autodiff.value(fn, {"x": x, "t": t})
    assert loss.shape == ()
    np.testing.assert_allclose(loss, -np.mean(np.log(p[np.arange(n), t])), **TIGHT)
    grads = autodiff.vjp(fn, {"x": x, "t": t}, ["x"], ct)
    assert list(grads) == ["x"]
    np.testing.assert_allclose(grads["x"], ct * (p - onehot) / n, **TIGHT)
    with pytest.raises(TypeError, match=r"'t'.*not floating"):
        autodiff.vjp(fn, {"x": x, "t": t}, ["x", "t"], ct)


def test_relu_gradient_at_exactly_zero_is_zero(autodiff: Reference, rng: np.random.Generator) -> None:
    fn = SPECS["relu"][autodiff.name]
    x = np.array([-2.0, -0.0, 0.0, 0.0, 1e-300, 3.0])
    ct = rng.uniform(1, 2, size=x.shape)  # nonzero everywhere, so a zero gradient means something
    grad = autodiff.vjp(fn, {"x": x}, ["x"], ct)["x"]
    np.testing.assert_array_equal(grad, np.where(x > 0, ct, 0.0))


def test_an_input_the_output_ignores_gets_zeros(autodiff: Reference, rng: np.random.Generator) -> None:
    fn = SPECS["double_x"][autodiff.name]
    arrays = {"x": rng.normal(size=(2, 3)), "y": rng.normal(size=(4,))}
    ct = rng.normal(size=(2, 3))
    grads = autodiff.vjp(fn, arrays, ["x", "y"], ct)
    np.testing.assert_array_equal(grads["x"], 2 * ct)
    np.testing.assert_array_equal(grads["y"], np.zeros(4))
    assert np.all(autodiff.jacobian(fn, arrays, ["y"])["y"] == 0)


def test_float32_inputs_and_constants_are_computed_in_float64(
    autodiff: Reference, rng: np.random.Generator
) -> None:
    x32 = rng.normal(size=(3, 4)).astype(np.float32)
    value = autodiff.value(SPECS["softmax"][autodiff.name], {"x": x32})
    # float32 arithmetic would be ~1e-7 off; float64 on the float32 values is exact to ~1e-16.
    exact = {"rtol": rounding_rtol(np.float64), "atol": 0}
    np.testing.assert_allclose(value, np_softmax(x32.astype(np.float64)), **exact)
    tenth = autodiff.value(SPECS["tenth"][autodiff.name], {"x": x32})
    np.testing.assert_allclose(tenth, x32.astype(np.float64) * 0.1, **exact)


def test_torch_global_settings_are_restored_after_a_computation(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    before = (torch.get_default_dtype(), torch.get_num_threads())
    get_reference("torch").vjp(SPECS["tenth"]["torch"], {"x": rng.normal(size=3)}, ["x"], rng.normal(size=3))
    assert (torch.get_default_dtype(), torch.get_num_threads()) == before


def test_cotangent_of_the_wrong_shape_names_both_shapes(autodiff: Reference) -> None:
    fn = SPECS["softmax"][autodiff.name]
    with pytest.raises(ValueError, match=r"cotangent has shape \(2, 4\).*output has shape \(3, 4\)"):
        autodiff.vjp(fn, {"x": np.zeros((3, 4))}, ["x"], np.ones((2, 4)))


# ---- availability --------------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "cls"), [("torch", TorchReference), ("jax", JaxReference)])
def test_missing_framework_gives_a_reason_and_refuses_to_compute(
    module: str, cls: type[Reference], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` now fails
    ref = cls()  # a fresh instance: the cached singleton may have loaded the framework already
    reason = ref.unavailable()
    assert reason == f"{module} is not installed (pip install {module})"
    fn, x = SPECS["softmax"][module], {"x": np.ones(3)}
    for method, args in (("value", ()), ("vjp", (["x"], np.arange(3.0))), ("jacobian", (["x"],))):
        with pytest.raises(BackendUnavailable, match="not installed"):
            getattr(ref, method)(fn, x, *args)


def test_fd_is_always_available_and_is_not_an_autodiff_reference() -> None:
    fd = get_reference("fd")
    assert isinstance(fd, FiniteDifferences) and fd.unavailable() is None
    assert not isinstance(fd, Reference)  # no spec-function value or vjp to get wrong
    assert not hasattr(fd, "value") and not hasattr(fd, "vjp")


# ---- jax compiles once per (fn, kind, names, wrt) and shape ---------------------------------------


def test_jax_traces_once_per_shape(rng: np.random.Generator) -> None:
    reference_or_skip("jax")
    ref = JaxReference()
    traces: list[tuple[int, ...]] = []

    def spec(ns: Any, x: Any, y: Any) -> Any:
        traces.append(x.shape)  # runs while tracing only, not when the compiled code runs
        return ns.jnp.sin(x) * y

    def call(shape: tuple[int, ...], dtype: Any = np.float64, wrt: tuple[str, ...] = ("x",)) -> None:
        arrays = {"x": rng.normal(size=shape).astype(dtype), "y": rng.normal(size=shape)}
        got = ref.vjp(spec, arrays, wrt, ct := rng.normal(size=shape))
        np.testing.assert_allclose(got["x"], ct * np.cos(arrays["x"].astype(np.float64)) * arrays["y"])

    call((2, 3))
    call((2, 3))  # new values, same shape: no retrace
    call((2, 3), np.float32)  # float32 is computed in float64: same signature, no retrace
    assert len(traces) == 1
    call((4, 3))
    assert traces == [(2, 3), (4, 3)]
    call((4, 3), wrt=("x", "y"))  # another wrt is another function
    ref.value(spec, {"x": np.ones((4, 3)), "y": np.ones((4, 3))})  # and another kind
    assert len(traces) == 4


def test_persistent_cache_stores_compiled_programs(tmp_path: Path) -> None:
    reference_or_skip("jax")
    # In a fresh interpreter: the cache directory is process-wide jax configuration.
    code = f"""
import numpy as np
from layer_crosscheck.reference import get_reference
from layer_crosscheck.reference.jax_backend import enable_persistent_cache
enable_persistent_cache({str(tmp_path)!r})
get_reference("jax").vjp(lambda ns, x: ns.jnp.sin(x), {{"x": np.ones(3)}}, ["x"], np.arange(3.0))
"""
    # without the suite's own cache (tests/conftest.py sets it by environment variables)
    own = ("JAX_COMPILATION", "JAX_PERSISTENT")
    env = {k: v for k, v in subprocess_env().items() if not k.startswith(own)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert any(tmp_path.iterdir())


# ---- finite differences --------------------------------------------------------------------------

FD = get_reference("fd")  # always available


def fd_bound(dtype: Any, h: float, m0: float, m3: float, ulps: float) -> float:
    """Worst error of ``(f(x+hu) - f(x-hu)) / 2h`` against ``f'(x)u`` for ``|u| <= 1``.

    Truncation ``h²·M3/6`` (M3 bounds the third derivative) plus round-off: each evaluation is off
    by at most ``ulps·eps·M0`` (M0 bounds ``|f|``), the difference by twice that, divided by ``2h``.
    With ``h = eps^(1/3)`` both terms are of order ``eps^(2/3)``.
    """
    eps = float(np.finfo(dtype).eps)
    return h * h * m3 / 6 + ulps * eps * m0 / h


def x_sin_x(x: np.ndarray) -> np.ndarray:
    return np.sin(x) * x


def x_sin_x_prime(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return np.sin(x) + x * np.cos(x)


def test_step_is_cube_root_of_eps() -> None:
    # the values to the digits written here: not a tolerance
    assert f"{FD.step(np.float64):.6e}" == "6.055454e-06"
    assert f"{FD.step(np.float32):.6e}" == "4.921567e-03"
    assert FD.step("float16") == pytest.approx(float(np.finfo(np.float16).eps) ** (1 / 3))
    with pytest.raises(TypeError, match="floating"):
        FD.step(np.int64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_directional_x_sin_x(dtype: Any, rng: np.random.Generator) -> None:
    x = readonly(rng.uniform(-3, 3, size=50).astype(dtype))
    u = rng.uniform(-1, 1, size=50).astype(dtype)
    d = FD.directional(x_sin_x, {"x": x}, {"x": u})
    assert isinstance(d, Directional) and d.h == FD.step(dtype)
    assert d.difference.dtype == np.float64 and d.delta["x"].dtype == np.float64
    err = np.abs(d.difference - x_sin_x_prime(x) * d.delta["x"]) / (2 * d.h)
    # |f| <= |x| <= 3, |f'''| = |3 sin x + x cos x| <= 6; sin and a product: 4 ulps is generous.
    assert err.max() <= fd_bound(dtype, d.h, m0=3, m3=6, ulps=4)
    assert np.allclose(d.jvp, x_sin_x_prime(x) * u, rtol=0, atol=10 * fd_bound(dtype, d.h, 3, 6, 4))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_directional_softmax(dtype: Any, rng: np.random.Generator) -> None:
    x = rng.uniform(-3, 3, size=(3, 5)).astype(dtype)
    u = rng.uniform(-1, 1, size=(3, 5)).astype(dtype)
    d = FD.directional(np_softmax, {"x": x}, {"x": u})
    y, dx = np_softmax(x.astype(np.float64)), d.delta["x"]
    jvp = y * (dx - (y * dx).sum(axis=-1, keepdims=True))
    err = np.abs(d.difference - jvp) / (2 * d.h)
    # 0 < y <= 1; along u with |u| <= 1 the third derivative of y is y·(a cubic in u - <u>) <= 16;
    # exp of an argument up to 6 off by an ulp, a 5-term sum and a division: 16 ulps.
    assert err.max() <= fd_bound(dtype, d.h, m0=1, m3=16, ulps=16)


def test_exact_step_keeps_float64_accurate_at_large_x(rng: np.random.Generator) -> None:
    x = 1e4 + rng.uniform(-1, 1, size=64)
    u = rng.uniform(-1, 1, size=64)
    d = FD.directional(x_sin_x, {"x": x}, {"x": u})
    bound = fd_bound(np.float64, d.h, m0=1e4 + 1, m3=1e4 + 4, ulps=4)
    exact_err = np.abs(d.difference - x_sin_x_prime(x) * d.delta["x"]) / (2 * d.h)
    assert exact_err.max() <= bound
    # Dividing by the nominal 2h instead carries the rounding of x ± hu (ulp(1e4)/h ~ 3e-7 relative).
    naive_err = np.abs(d.jvp - x_sin_x_prime(x) * u)
    assert naive_err.max() > 10 * bound


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_directional_several_arrays_predicts_the_pairing(dtype: Any, rng: np.random.Generator) -> None:
    x, W = rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(3, 2)).astype(dtype)
    u = {"x": rng.uniform(-1, 1, size=x.shape).astype(dtype), "W": rng.uniform(-1, 1, size=W.shape)}
    v = rng.normal(size=(4, 2))
    d = FD.directional(lambda x, W: x @ W, {"x": x, "W": W}, u)
    grads = {"x": v @ W.T.astype(np.float64), "W": x.T.astype(np.float64) @ v}  # of <v, x @ W>
    # Bilinear: no truncation; each of the two products is off by <= 3 ulps of |x| @ |W|.
    eps = float(np.finfo(dtype).eps)
    roundoff = 2 * 3 * eps * float(np.sum(np.abs(v) * (np.abs(x) @ np.abs(W) + 1)))
    assert abs(float(np.sum(v * d.difference)) - d.predicted(grads)) <= roundoff


def test_directional_rejects_bad_directions() -> None:
    x = np.ones(3)
    with pytest.raises(ValueError, match="empty"):
        FD.directional(x_sin_x, {"x": x}, {})
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        FD.directional(x_sin_x, {"x": x}, {"x": np.ones(2)})
    with pytest.raises(ValueError, match="not among"):
        FD.directional(x_sin_x, {"x": x}, {"y": np.ones(3)})
    with pytest.raises(TypeError, match="not floating"):
        FD.directional(x_sin_x, {"x": np.arange(3)}, {"x": np.ones(3)})


def test_fd_never_touches_the_callers_arrays(rng: np.random.Generator) -> None:
    def scribbles(x: np.ndarray, W: np.ndarray) -> np.ndarray:
        out = x @ W
        x *= 2  # a buggy layer writing into its inputs
        W[...] = 0
        return out

    x, W = readonly(rng.normal(size=(2, 3))), readonly(rng.normal(size=(3, 2)))
    x0, W0 = x.copy(), W.copy()
    d = FD.directional(scribbles, {"x": x, "W": W}, {"x": rng.normal(size=x.shape)})
    np.testing.assert_allclose(d.difference, d.delta["x"] @ W, rtol=fd_rtol(np.float64))
    jac = FD.jacobian(scribbles, {"x": x, "W": W}, ["x", "W"])
    np.testing.assert_allclose(jac["W"][:, 0, :, 0], x, rtol=fd_rtol(np.float64))  # columns not corrupted
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(W, W0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fd_jacobian_with_skip(dtype: Any, rng: np.random.Generator) -> None:
    x = rng.uniform(-3, 3, size=(2, 3)).astype(dtype)
    skip = np.array([[True, False, False], [False, False, True]])
    jac = FD.jacobian(np_softmax, {"x": x}, ["x"], skip={"x": skip})["x"]
    assert jac.shape == (2, 3, 2, 3) and jac.dtype == np.float64
    assert np.all(np.isnan(jac[:, :, skip]))
    assert not np.any(np.isnan(jac[:, :, ~skip]))
    want = np_softmax_jacobian(np_softmax(x.astype(np.float64)))
    bound = fd_bound(dtype, FD.step(dtype), m0=1, m3=16, ulps=16)
    assert np.abs(jac - want)[:, :, ~skip].max() <= bound


def test_fd_jacobian_skips_a_kink_and_several_arrays(rng: np.random.Generator) -> None:
    x = np.array([-1.5, 0.0, 2e-6, 0.7])  # |x| within a step of the kink of |x| at 0
    W = rng.normal(size=(4, 2))
    h = FD.step(np.float64)
    kink = np.abs(x) < 2 * h
    jac = FD.jacobian(lambda x, W: np.abs(x) @ W, {"x": x, "W": W}, ["x", "W"], skip={"x": kink})
    assert np.all(np.isnan(jac["x"][:, kink]))
    # Piecewise linear away from the kink: no truncation, only the round-off of a 4-term product.
    atol = fd_bound(np.float64, h, m0=float((np.abs(x) @ np.abs(W)).max()), m3=0, ulps=4)
    np.testing.assert_allclose(jac["x"][:, ~kink], (np.sign(x)[:, None] * W)[~kink].T, rtol=0, atol=atol)
    np.testing.assert_allclose(jac["W"], np.einsum("i,kl->kil", np.abs(x), np.eye(2)), rtol=0, atol=atol)


def test_fd_jacobian_divides_by_the_step_actually_taken() -> None:
    x = np.array([1e4, -1e4 + 0.25, 12345.678], dtype=np.float32)  # ulp 1e-3 against h 5e-3
    jac = FD.jacobian(lambda x: 2 * x, {"x": x}, ["x"])["x"]
    np.testing.assert_array_equal(jac, 2 * np.eye(3))  # exact: 2*x is exact in float32
    h = np.float32(FD.step(np.float32))
    naive = (2 * (x + h) - 2 * (x - h)).astype(np.float64) / (2 * float(h))
    assert np.all(np.abs(naive - 2) > 1e-3)  # what dividing by 2h would have reported


def test_fd_jacobian_rejects_bad_skip_and_handles_all_skipped() -> None:
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match="bool mask of shape"):
        FD.jacobian(x_sin_x, {"x": x}, ["x"], skip={"x": np.zeros(3, bool)})
    with pytest.raises(ValueError, match="not in wrt"):
        FD.jacobian(x_sin_x, {"x": x, "y": x}, ["x"], skip={"y": np.zeros((2, 2), bool)})
    jac = FD.jacobian(x_sin_x, {"x": x}, ["x"], skip={"x": np.ones((2, 2), bool)})["x"]
    assert jac.shape == (2, 2, 2, 2) and np.all(np.isnan(jac))


def test_fd_keeps_0d_arrays_as_arrays() -> None:
    x = np.array(2.0, dtype=np.float32)
    d = FD.directional(lambda x: x * x, {"x": x}, {"x": np.array(1.0, dtype=np.float32)})
    assert isinstance(d.difference, np.ndarray) and d.difference.shape == ()
    assert isinstance(d.delta["x"], np.ndarray) and d.delta["x"].shape == ()
    assert d.difference == 4 * d.delta["x"]  # x² has no third derivative; all exact in float32
    assert FD.jacobian(lambda x: x * x, {"x": x}, ["x"])["x"] == 4


@pytest.mark.parametrize("spec", ["sigmoid_with_loss", "time_sigmoid_with_loss"])
def test_the_torch_binary_cross_entropy_is_exact_at_a_confident_right_answer(spec: str) -> None:
    """Found by Hypothesis: at x = -7.8, t = 0 torch's ``binary_cross_entropy_with_logits``
    is 5.2e-13 off (relative; it takes a ``log`` of ``1 + e**x``), which failed impl's correct
    SigmoidWithLoss against torch and the spec's torch math against its jax math. The specs' torch
    math is ``logaddexp(0, x) - t*x`` instead: within a few ulps of float64."""
    from layer_crosscheck.properties.engine.registry import SPECS

    torch = reference_or_skip("torch")
    for x, t in ((-7.807523415560166, 0), (7.807523415560166, 1), (30.0, 1), (-30.0, 0)):
        xs, ts = np.array([[x]]), np.array([[t]])
        arrays = {"xs": xs, "ts": ts} if spec.startswith("time") else {"x": xs[0], "t": ts[0]}
        got = torch.value(SPECS[spec].torch, arrays)
        want = np.logaddexp(0.0, x) - t * x  # NumPy's logaddexp: log1p(exp(-|x|)) + max
        np.testing.assert_allclose(got, want, rtol=rounding_rtol(np.float64))
