"""Files a command writes: one helper for all of them (pack -o, export -o FILE.zip, plan --out, simulate --out).

:func:`write_output` writes to a temporary file beside the target, flushes it
to disk and renames it into place, so a full disk, a crash or ``kill -9``
leaves the old file or the new one, never a zero-byte or partial file. It
never writes through what is not a regular file: a directory, FIFO, device,
socket or symbolic link at the path is refused (PK417) even with ``--force``,
so ``-o /dev/sda`` or ``-o link-to-elsewhere`` cannot replace anything else.
An existing regular file is replaced only with ``force`` (else PK416), unless
it already holds exactly the bytes to be written (reproducible archives: packing
twice is not an overwrite).

A file system that refuses (full disk, file size limit, no permission, read-only,
I/O error) is PK418 through :func:`refused_write`, which the writers of folders
use too (``export -o DIR``, ``unpack``, ``pull -o DIR``, ``new``: each stages the
folder beside its target and renames it into place). Apart on purpose: the
embedded workspace (SQLite's own journal; PK415), the Marketo journal
(``workspaces/marketo/common.write_json``), crash reports and simulate's scratch
files in the temporary folder.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Union

from .errors import BadInput, file_type, require_folder_of
from .findings import Severity, make, register_code

PathLike = Union[str, "os.PathLike[str]"]

register_code("PK416", "output-exists", Severity.ERROR,
              "The file a command would write already exists (with other content); it is replaced only with "
              "--force (exit 2).",
              hint="Give another output path, or add --force to replace the file.",
              example="error: olm.zip exists; not replaced without --force", group="input")
register_code("PK417", "output-not-a-file", Severity.ERROR,
              "The output path names a directory, FIFO, device, socket or symbolic link: programkit writes only "
              "regular files and never replaces anything else, even with --force (exit 2).",
              hint="Give the path of a regular file (or a new one).",
              example="error: -o /dev/null is a character device, not a regular file; nothing was written",
              group="input")
register_code("PK418", "output-refused", Severity.ERROR,
              "The file system refused to write an output file or folder: no permission, a full disk or quota, a "
              "file larger than allowed, a read-only file system, or an I/O error. Nothing was written and no "
              "temporary file is left behind (exit 2).",
              hint="Free disk space, or write to a folder you can write to, and run the command again.",
              example="error: -o olm.zip: cannot write: no space left on device (ENOSPC); nothing was written",
              group="input")

#: what to do about each way a file system refuses a write (the hint of PK418)
_REFUSAL_HINTS = {
    errno.ENOSPC: "The disk is full: free space, or write somewhere else, and run the command again.",
    errno.EDQUOT: "Your disk quota is used up: free space, or write somewhere else, and run the command again.",
    errno.EFBIG: "The file is larger than this system lets the process write (file size limit, `ulimit -f`): "
                 "raise the limit or write somewhere else.",
    errno.EACCES: "You may not write there: choose a folder you can write to, or change its permissions.",
    errno.EPERM: "The file system does not allow this write (an immutable or append-only file or folder?): "
                 "choose another path.",
    errno.EROFS: "That file system is mounted read-only: write somewhere else.",
    errno.EIO: "The disk reported an I/O error: check it (dmesg), or write somewhere else.",
}


#: the errors of a file system that refuses a write, as against a bug or a file that vanished
REFUSED_WRITES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS,
                            errno.EIO})


def errno_words(err: OSError) -> str:
    """An OSError in words, with its errno's name: 'no space left on device (ENOSPC)'."""
    name = errno.errorcode.get(err.errno or 0, "")
    words = (err.strerror or os.strerror(err.errno)) if err.errno else (str(err) or type(err).__name__)
    if words[1:2].islower():  # "No space left on device" reads as "no space…" mid-sentence; "I/O…" stays
        words = words[0].lower() + words[1:]
    return f"{words} ({name})" if name else words


def refused_write(path: PathLike, err: OSError, option: str = "-o", hint: str = "") -> BadInput:
    """The error (exit 2, PK418) for an output the file system refused: the path, the errno in words, a hint.

    Every writer of files calls this for an OSError, so a full disk, a read-only folder or an I/O error is
    one finding code with one wording, never a traceback (exit 3)."""
    display = os.fspath(path)
    said = errno_words(err)
    prefix = f"{option} {display}" if option else display
    message = f"{prefix}: cannot write: {said}; nothing was written"
    hint = " ".join(h for h in (_REFUSAL_HINTS.get(err.errno or 0, "Check the folder is writable and the disk has "
                                                               "room."), hint) if h)
    return BadInput(message, [make("PK418", message, file=display, hint=hint)], hint=hint)


def check_output(path: PathLike, option: str, force: bool = False) -> bool:
    """Raise BadInput unless ``path`` can be written as a regular file; True if a regular file is there already.

    Refused: a missing parent folder (PK413), anything at ``path`` that is not a regular file (PK417), and an
    existing file without ``force`` (PK416; :func:`write_output` lets identical content through).
    """
    display = os.fspath(path)
    require_folder_of(display, option)
    try:
        st = os.lstat(display)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode):
        label = f"{option} {display}" if option else display
        message = f"{label} is {file_type(st.st_mode)}, not a regular file; nothing was written"
        raise BadInput(message, [make("PK417", message, file=display)],
                       hint=f"{option} names the file to write; programkit never writes through a directory, "
                            "FIFO, device or link, even with --force.")
    return True


def _same_bytes(a: PathLike, b: PathLike) -> bool:
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def _link_new(tmp: str, target: Path) -> None:
    """Put ``tmp`` at ``target`` only if nothing is there: a hard link fails if something appeared meanwhile
    (never a silent overwrite); a file system without hard links gets a checked rename."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def write_output(path: PathLike, write: Callable[[BinaryIO], None] | bytes, *, option: str = "-o",
                 force: bool = False, mode: int | None = None) -> Path:
    """Write ``path`` atomically: ``write(fh)`` (or the bytes) into a temporary file beside it, fsync, rename.

    See the module docstring for what is refused. ``mode`` defaults to what a plain ``open`` would give.
    Raises BadInput (exit 2, PK418) when the file system refuses (full disk, read-only, I/O error): nothing is
    left behind.
    """
    from .archive import usual_mode

    target = Path(os.fspath(path))
    exists = check_output(target, option, force)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            if isinstance(write, (bytes, bytearray)):
                fh.write(write)
            else:
                write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, usual_mode() if mode is None else mode)
        if exists and not force:
            if not _same_bytes(tmp, target):
                message = f"{option} {target} exists; not replaced without --force"
                raise BadInput(message, [make("PK416", message, file=os.fspath(target))],
                               hint="Give another output path, or add --force to replace the file.")
        check_output(target, option, force=True)  # still a regular file (or none): never rename over anything else
        if not exists and not force:
            _link_new(tmp, target)
        else:
            os.replace(tmp, target)
        tmp = None
    except FileExistsError:
        message = f"{option} {target} appeared while writing; not replaced without --force"
        raise BadInput(message, [make("PK416", message, file=os.fspath(target))],
                       hint="Give another output path, or add --force to replace the file.") from None
    except OSError as e:
        if e.filename is not None and os.path.dirname(os.path.abspath(e.filename)) != str(target.absolute().parent):
            raise  # ``write`` failed to read one of its own inputs (elsewhere): the caller says what that was
        raise refused_write(target, e, option) from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
    return target
