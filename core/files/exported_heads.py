"""How many heads a data export's ``.npz`` holds, so it is read back as those heads.

A heads file's matrices (``w_q`` of shape (d, h*d_k)) do not say how their columns split into
heads: 4 heads x d_k=24 and 2 heads x d_k=48 are the same array. A data export says it: its
``weights`` are (h, r, n). Read back with another head count, its heads would be silently
regrouped (two of its heads glued into one), so the command line asks for the file's own count.

Only the ``.npy`` header of ``weights`` is read (a few hundred bytes); anything unexpected
answers None and leaves the checks to :func:`core.maths.head_files.read_head_arrays`.
"""

from __future__ import annotations

import os
import zipfile

from numpy.lib import format as npy_format

__all__ = ["exported_head_count"]

_MEMBER = "weights.npy"  # (h, r, n) in every data export (core.files.export_data)


def exported_head_count(path: str | os.PathLike[str]) -> int | None:
    """The head count of the data export at ``path`` (its ``weights``' first axis), or None
    when ``path`` is no readable data export (a plain heads file has no ``weights``)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(_MEMBER) as member:
            version = npy_format.read_magic(member)
            if version == (1, 0):
                shape, _, _ = npy_format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, _, _ = npy_format.read_array_header_2_0(member)
            else:
                return None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    return int(shape[0]) if len(shape) == 3 and shape[0] > 0 else None
