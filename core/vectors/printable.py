"""Text that every later write can take: one line of valid Unicode.

Used for what the loaders put into messages, warnings and the vectors' names.
"""

from __future__ import annotations

__all__ = ["is_valid_unicode", "readable"]


def is_valid_unicode(text: str) -> bool:
    """True when ``text`` can be written as UTF-8: it holds no lone surrogate (as a file name
    that is not UTF-8 brings, "caf\\udce9.txt")."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def readable(text: str) -> str:
    """``text`` as one line of valid Unicode, for messages and names shown or written.

    A file name that is not UTF-8 reaches Python with lone surrogates ("caf\\udce9.txt"); written
    into a message they break every later UTF-8 write (a JSON export, the terminal). Each such
    byte is shown as ``\\xNN`` instead, and line breaks as ``\\n``, so a message stays one line.
    """
    if not is_valid_unicode(text):
        try:  # the bytes the surrogates stand for, each undecodable one as \xNN
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that stands for no byte
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\r", "\\r").replace("\n", "\\n")
