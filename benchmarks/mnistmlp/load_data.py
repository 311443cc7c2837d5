"""MNIST for the mnistmlp benchmark: a fixed train/validation split of the 60,000 training images.

The file ``mnist.npz`` (Keras' layout) is looked for in ``$HPS_DATA_DIR``, then
in Keras' cache ``~/.keras/datasets/``, then Keras downloads it. Validation is
the last 6,000 training images; the test set is never used. The arrays are
loaded once per process and cached. ``HPS_MNIST_SUBSET=N`` (or ``N,M``) keeps
the first N training and first M (default N // 5) validation images, for tests.

TensorFlow is imported only if the file must be downloaded, with its start-up
lines kept off the terminal (:func:`quiet_native_output`).
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

N_VAL = 6000
FILENAME = "mnist.npz"

_cache: dict = {}


class DataUnavailable(RuntimeError):
    """MNIST is neither on disk nor downloadable; the message (one line) says where to put it."""


def candidates() -> list[Path]:
    """Where ``mnist.npz`` is looked for, in order."""
    out = []
    if os.environ.get("HPS_DATA_DIR"):
        out.append(Path(os.environ["HPS_DATA_DIR"]).expanduser() / FILENAME)
    out.append(Path.home() / ".keras" / "datasets" / FILENAME)
    return out


@contextlib.contextmanager
def quiet_native_output(replay: bool = True) -> Iterator[None]:
    """Keep what native code prints (TensorFlow's C++ start-up lines) off file descriptors 1 and 2.

    ``TF_CPP_MIN_LOG_LEVEL`` hides most of it, but not every line of every
    TensorFlow build (absl's ``WARNING: All log messages before
    absl::InitializeLog()...``, oneDNN's notice). The output is shown only if
    the block raises and ``replay`` is set, so a failed import still explains itself.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with tempfile.TemporaryFile() as sink:
        saved = (os.dup(1), os.dup(2))
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            if failed and replay:
                sink.seek(0)
                os.write(2, sink.read()[-4000:])


def _download() -> Path:
    """Ask Keras to download MNIST into its cache; returns the file."""
    with quiet_native_output(replay=False):  # the exception says why; Keras' progress lines are noise
        import keras

        keras.datasets.mnist.load_data()
    return Path.home() / ".keras" / "datasets" / FILENAME


def locate() -> Path:
    """The ``mnist.npz`` to use, downloading it if needed.

    Raises:
        DataUnavailable: not found and the download failed.
    """
    for path in candidates():
        if path.is_file():
            return path
    try:
        path = _download()
    except Exception as exc:  # noqa: BLE001 - offline, proxy, TLS...: all say where to put the file
        places = " or ".join(str(p.parent) for p in candidates())
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataUnavailable(f"MNIST not found: put {FILENAME} (Keras' format) in {places}, or set "
                              f"HPS_DATA_DIR to its folder (download failed: {reason[:200]})") from None
    if not path.is_file():
        raise DataUnavailable(f"MNIST not found: the download did not create {path}")
    return path


def subset_sizes() -> tuple[int, int] | None:
    """``HPS_MNIST_SUBSET`` as (train, validation) sizes, or None for the full split."""
    text = os.environ.get("HPS_MNIST_SUBSET", "").strip()
    if not text:
        return None
    try:
        parts = [int(p) for p in text.replace(" ", "").split(",")]
        n_train, n_val = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], max(parts[0] // 5, 1))
        if len(parts) > 2 or n_train < 1 or n_val < 1:
            raise ValueError
    except ValueError:
        raise ValueError(f"HPS_MNIST_SUBSET must be N or N,M (training and validation sizes >= 1), "
                         f"got {text!r}") from None
    return min(n_train, 60000 - N_VAL), min(n_val, N_VAL)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_val, y_val)``: float32 pixels in [0, 1] flattened to 784, int labels."""
    sizes = subset_sizes()
    if sizes in _cache:
        return _cache[sizes]
    path = locate()
    with np.load(path) as f:
        x, y = f["x_train"], f["y_train"]
    x = x.reshape(len(x), -1).astype("float32") / 255.0
    y = y.astype("int64")
    split = len(x) - N_VAL
    train, val = (x[:split], y[:split]), (x[split:], y[split:])
    if sizes is not None:
        train = (train[0][:sizes[0]], train[1][:sizes[0]])
        val = (val[0][:sizes[1]], val[1][:sizes[1]])
    _cache.clear()  # one split in memory at a time
    _cache[sizes] = (train, val)
    return _cache[sizes]
