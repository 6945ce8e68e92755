"""The one name each option is shown by, on screen and in figure captions.

A setting's value is an identifier (``scaled_dot``); people read a name (``scaled dot``). The
controls' combo boxes, the computation panel's title and every figure caption take the name from
here, so a caption never says what the screen does not. The combo boxes may add a hint after the
name (``scaled dot  q·k/√d_k``), never a different name.
"""

from __future__ import annotations

__all__ = ["OPTION_NAMES", "option_name"]

OPTION_NAMES: dict[str, str] = {
    # head projections
    "identity": "identity", "split": "split dimensions", "random": "random",
    "pca": "PCA slices", "axes": "word axes", "file": "from .npz file",
    # scoring
    "dot": "dot", "scaled_dot": "scaled dot", "cosine": "cosine", "general": "general",
    "additive": "additive",
    # normalisation
    "softmax": "softmax", "relu": "ReLU", "sparsemax": "sparsemax",
}


def option_name(value: str) -> str:
    """The name ``value`` (a setting's identifier) is shown by; an identifier this table does not
    know yet is shown with spaces for underscores rather than as code."""
    return OPTION_NAMES.get(value, value.replace("_", " "))
