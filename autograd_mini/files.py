"""Writing files so that a failure never destroys the file that was there.

Every file the package writes (a model, a picture, a page, a plot) goes through
:func:`write_atomic`: the bytes go to a temporary file in the same folder, which is flushed
and synced to disk and then moved over the target with :func:`os.replace`, a single atomic
step on POSIX and Windows. A full disk, a kill or an interrupt part-way leaves the old file
byte for byte as it was, and no temporary file behind.

This module imports only the standard library.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str | Callable[[BinaryIO], None],
                 *, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``data`` (bytes, text in ``encoding``, or a function that writes
    to a binary file), all at once or not at all.

    Errors name the file: an :class:`OSError` keeps its errno, and its message says which path
    could not be written and why.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "first").read_text()
    'first'
    >>> def fail(f):
    ...     f.write(b"half")
    ...     raise RuntimeError("the writer broke")
    >>> try:
    ...     write_atomic(folder / "a.txt", fail)
    ... except RuntimeError:
    ...     pass
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('first', ['a.txt'])
    """
    # NOTE: through a symbolic link, the file it points to is replaced, not the link itself
    target = Path(os.path.realpath(path))
    folder = target.parent
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"cannot write {target}: it is a directory")
    if target.exists() and not target.is_file():  # a device or a FIFO: never replace it
        raise OSError(errno.EINVAL, f"cannot write {target}: it is not a regular file")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise _named(error, target) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode(encoding) if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        _keep_mode(target, temporary)
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _named(error, target) from None
        raise
    return target


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread runs
    umask = os.umask(0)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _keep_mode(target: Path, temporary: str) -> None:
    """Give the new file the old one's permissions, or the usual ones (mkstemp makes 0600)."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_UMASK
    os.chmod(temporary, mode)


def _named(error: OSError, target: Path) -> OSError:
    """The same kind of OSError, with a message that names the file."""
    reason = error.strerror or str(error)
    return type(error)(error.errno, f"cannot write {target}: {reason}")
