"""Datasets: where MNIST and Fashion-MNIST come from, verified before any run sees them.

A local folder comes first (``--data-dir`` or ``$DLGRADE_DATA``): each file is checked
against its known SHA-256 and refused when it differs. With no folder configured,
Keras' own download fills a cache (``~/.cache/dlgrade/data``) where a network
exists; that copy is checked for the documented shapes and dtypes, since its bytes
need not match the folder's. Offline with neither → :class:`DataUnavailable`, whose
message says how to provide the files.

Runs have no network: the pipeline mounts the verified file read-only into the
sandbox and the preamble (:func:`serve_source`) points the student's own
``keras.datasets.<name>.load_data()`` calls at it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AssignmentError
from .intake import sha256_of

ENV = "DLGRADE_DATA"
CACHE = Path.home() / ".cache" / "dlgrade" / "data"
SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28),
          "y_test": (10000,)}


@dataclass(frozen=True)
class Dataset:
    name: str
    """The Keras module name (``keras.datasets.<name>``)."""
    file: str
    sha256: str


DATASETS = {
    d.name: d for d in (
        Dataset("mnist", "mnist.npz",
                "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"),
        Dataset("fashion_mnist", "fashion-mnist.npz",
                "9544d30bf10807f78b51f4745cdbf7a40d35d484de81131ca9f890b984c8dcde"),
    )
}


class DataUnavailable(AssignmentError):
    """A dataset an assignment needs is missing, corrupt, or cannot be downloaded here.

    Like any other missing piece of an assignment, the instructor must provide it; a
    batch stops with this one message instead of failing every submission alike.
    """


def configured_dir() -> Path | None:
    """The local data folder, from ``$DLGRADE_DATA`` (the CLI's ``--data-dir`` sets it)."""
    value = os.environ.get(ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


_verified: dict[tuple[str, int, int], str] = {}


def _digest_cached(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime): a batch hashes each file once."""
    info = path.stat()
    key = (str(path), info.st_size, info.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_of(path)
    return _verified[key]


def _how_to(dataset: Dataset) -> str:
    return (f"Put {dataset.file} (see shared/data/README.md for its SHA-256) in a folder and "
            f"pass --data-dir FOLDER or set {ENV}=FOLDER; or grade on a machine with internet "
            "access so Keras can download it.")


def check_arrays(path: Path) -> None:
    """Refuse an archive without the four uint8 arrays of the documented shapes."""
    with np.load(path, allow_pickle=False) as data:
        for key, shape in SHAPES.items():
            if key not in data.files or data[key].shape != shape or data[key].dtype != np.uint8:
                raise DataUnavailable(f"{path}: '{key}' is missing or not uint8 {shape}")


def _download(dataset: Dataset) -> Path:
    """Keras' own download, saved as one archive in the cache; shapes checked, not bytes."""
    target = CACHE / dataset.file
    if target.is_file():
        check_arrays(target)
        return target
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, dataset.name).load_data()
    except Exception as exc:  # offline, proxy, TLS: all the same to the user
        raise DataUnavailable(
            f"{dataset.file} is not available: no local data folder is configured and the "
            f"download failed ({type(exc).__name__}). {_how_to(dataset)}"
        ) from exc
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.npz")
    np.savez(tmp, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    check_arrays(tmp)
    tmp.replace(target)
    return target


def locate(name: str, download: bool = True) -> Path:
    """The verified archive of dataset ``name`` (``mnist``, ``fashion_mnist``)."""
    dataset = DATASETS[name]
    folder = configured_dir()
    if folder is None:
        if not download:
            raise DataUnavailable(f"{dataset.file}: no data folder configured. {_how_to(dataset)}")
        return _download(dataset)
    path = folder / dataset.file
    if not path.is_file():
        raise DataUnavailable(f"{dataset.file} is not in {folder}. {_how_to(dataset)}")
    found = _digest_cached(path)
    if found != dataset.sha256:
        raise DataUnavailable(
            f"{path} has SHA-256 {found[:16]}…, expected {dataset.sha256[:16]}…: the file is "
            f"damaged or a different version. Replace it. {_how_to(dataset)}"
        )
    return path


def load(name: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` exactly as Keras returns them."""
    with np.load(locate(name), allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def status() -> list[tuple[str, str, str]]:
    """(dataset, state, where) for each dataset, without downloading anything."""
    rows = []
    folder = configured_dir()
    for dataset in DATASETS.values():
        if folder is not None:
            try:
                rows.append((dataset.name, "ok (sha256 verified)", str(locate(dataset.name))))
            except DataUnavailable as exc:
                rows.append((dataset.name, "unavailable", str(exc)))
            continue
        cached = CACHE / dataset.file
        if cached.is_file():
            rows.append((dataset.name, "ok (downloaded by Keras)", str(cached)))
        else:
            rows.append((dataset.name, "not present (Keras will download it when online)",
                         f"set {ENV} or --data-dir to use a local copy"))
    return rows


def serve_source(paths: dict[str, Path]) -> str:
    """Preamble lines that make ``keras.datasets.<name>.load_data()`` read the given archives.

    Keras re-exports ``load_data`` in several modules (``keras.datasets.mnist``, the
    ``tf.keras`` alias, ``keras.src``); each binding is replaced, so every spelling a
    student may use reads the local copy.
    """
    lines = [
        "def _dlg_serve(_path):",
        "    def load_data(path=None, **_kw):",
        "        import numpy as _n",
        "        with _n.load(_path, allow_pickle=False) as _d:",
        "            return (_d['x_train'], _d['y_train']), (_d['x_test'], _d['y_test'])",
        "    return load_data",
        "import importlib as _il",
    ]
    for name, path in sorted(paths.items()):
        lines += [
            f"for _mod in ('keras.datasets.{name}', 'keras.src.datasets.{name}',",
            f"             'keras._tf_keras.keras.datasets.{name}'):",
            "    try:",
            f"        _il.import_module(_mod).load_data = _dlg_serve({str(path)!r})",
            "    except ImportError:",
            "        pass",
        ]
    lines.append("del _dlg_serve, _il")
    return "\n".join(lines)
