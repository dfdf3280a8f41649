"""Reading and writing files safely: inputs only from regular files of a sane size, outputs whole or not
at all, never onto a device, a FIFO, a directory or a system file, and caches that may fail to write."""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hyp import faults
from hyp.errors import BadInput

STALE_AFTER_S = 600  # far longer than any one write takes: an older temporary file's writer died
MAX_INPUT_BYTES = 100 * 1024 * 1024  # a data file, suite or score sheet larger than this is a mistake
MAX_JSON_DEPTH = 100  # hyp's own JSON nests under 15 levels; deeper input is a mistake or an attack
SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in a user's words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _os_problem(e: OSError, doing: str = "read") -> str:
    if e.errno == errno.ENOENT:
        return "no such file"
    if e.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return f"cannot be {doing}: {e.strerror or e}"


def input_problem(path: Path, limit: int = MAX_INPUT_BYTES) -> str | None:
    """Why `path` cannot be read as an input file, or None: it must be a regular file (not a directory,
    FIFO or device, which would hang or never end) of at most `limit` bytes. Opens nothing."""
    try:
        st = os.stat(path)
    except OSError as e:
        return _os_problem(e)
    kind = _kind(st.st_mode)
    if kind:
        return kind
    if st.st_size > limit:
        return f"is {st.st_size / 1e6:,.0f} MB, more than the {limit / 1e6:,.0f} MB an input file may be"
    return None


def read_input(path: Path, *, limit: int = MAX_INPUT_BYTES, name: str | None = None) -> bytes:
    """The bytes of a file the user named, or BadInput naming it (`name`, default the path) and why.

    Opened without blocking and checked again once open, so a FIFO swapped in after a check cannot
    hang the read; a file that grows past `limit` (a /proc file reports size 0) is cut off and refused."""
    shown = name or str(path)
    problem = input_problem(path, limit)
    if problem:
        raise BadInput(f"{shown}: {problem}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise BadInput(f"{shown}: {_os_problem(e)}") from None
    with os.fdopen(fd, "rb") as f:
        kind = _kind(os.fstat(fd).st_mode)
        if kind:
            raise BadInput(f"{shown}: {kind}")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise BadInput(f"{shown}: more than the {limit / 1e6:,.0f} MB an input file may be")
    return data


def output_problem(path: Path, protected: Iterable[Path] = (),
                   may_replace: Callable[[Path], bool] | None = None) -> str | None:
    """Why hyp must not write a file at `path`, or None. Never onto a directory, device, FIFO or socket
    (replacing one would destroy it), under /proc, /sys or /dev, or onto `protected` files and the files
    under `protected` folders (a lab's own hypotheses, data and suites). With `may_replace`, an existing
    file is replaced only when it says yes (given the file's real path): a path the user typed may name
    any file they own, and only a new file or one hyp wrote itself is safe to replace."""
    path = Path(path)
    if len(path.name.encode()) > 230:  # with the temporary's prefix and suffix, past 255 bytes
        return "the file name is too long"
    here, real = Path(os.path.abspath(path)), Path(os.path.realpath(path))
    if any(p.is_relative_to(d) for p in (here, real) for d in SYSTEM_DIRS):
        return "is a system file; write the file somewhere else"
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        return _os_problem(e, "written")
    if st is not None and (kind := _kind(st.st_mode)):
        return f"{kind}; give a file name"
    if st is None and may_replace is not None and os.path.islink(path):
        # A link to nothing is still the user's: writing would replace the link, not make its target.
        return "is a link to nothing; hyp does not replace a link (remove it first or give a new file name)"
    for p in protected:
        p = Path(os.path.realpath(p))
        if real == p or here == p or real.is_relative_to(p) or here.is_relative_to(p):
            return "is one of the lab's own files (hypotheses, data, suites, settings, state); write elsewhere"
    if st is not None and may_replace is not None and not may_replace(real):
        return "already exists and is not a file hyp wrote; remove it first or give a new file name"
    return None


def check_output(path: Path, protected: Iterable[Path] = (),
                 may_replace: Callable[[Path], bool] | None = None) -> Path:
    """`path` when hyp may write there (see `output_problem`), else BadInput naming it and why."""
    problem = output_problem(path, protected, may_replace)
    if problem:
        raise BadInput(f"{path}: {problem}")
    return Path(path)


def _umask() -> int:
    # Read, not set: setting the mask to learn it would race with threads creating files meanwhile.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a file created now gets: 0666 less the umask (0644 usually, 0600 under umask 077)."""
    return 0o666 & ~_umask()


def give_new_file_modes(directory: Path) -> None:
    """The regular files under `directory` get `new_file_mode()`: for files a library writes private (safetensors
    writes 0600 whatever the umask), which a team sharing the lab, or a copy made from them, must read as
    it reads any other file hyp writes. Links are left alone."""
    mode = new_file_mode()
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
                    os.chmod(path, mode)
            except FileNotFoundError:
                continue


def _kept_mode(path: Path) -> int | None:
    """The permission bits of the regular file at `path` (its target, through a link), or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode) & 0o777 if stat.S_ISREG(st.st_mode) else None


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace `path` with `text` in one step: readers see the old file or the new one, never part.

    A file replaced keeps its permissions (a report made 0600 stays private; setuid and the like are not
    carried over); a new file gets the mode any new file gets (0666 less the umask: 0644 usually), not the
    private 0600 of a temporary file. A writer killed mid-write leaves only its hidden temporary file; the
    next write of the same file removes those left that long ago."""
    path = check_output(path)
    mode = _kept_mode(path)
    if mode is None:
        mode = new_file_mode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        _naming(e, path)
        raise
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        faults.reached("write")
        os.replace(tmp, path)
        _remove_stale(path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):
            _naming(e, path)
        raise


def _naming(e: OSError, path: Path) -> None:
    # A full disk or a read-only folder is reported against the file the user knows, not hyp's hidden
    # temporary (or no name at all, as a failed write() gives): the CLI names it in its one line.
    if e.filename is None or Path(os.fsdecode(e.filename)).name.endswith(".tmp"):
        e.filename = str(path)


def parse_json(text: str | bytes, name: str) -> object:
    """JSON decoded, or BadInput naming `name` when it nests more than MAX_JSON_DEPTH levels: Python's
    decoder recurses (1000 `[` are a RecursionError), and so would everything that walks the value after.
    A syntax error is left to the caller (json.JSONDecodeError), which knows how to name its line."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadInput(f"{name}: nested more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as e:  # an integer of more than 4,300 digits: Python's limit on int(str)
        raise BadInput(f"{name}: {e}") from None
    stack = [(data, 1)]
    while stack:  # a loop, not recursion: a value just short of the decoder's limit must not overflow here
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_JSON_DEPTH:
                    raise BadInput(f"{name}: nested more than {MAX_JSON_DEPTH} levels deep")
                stack.append((child, depth + 1))
    return data


def read_json(path: Path, *, limit: int = MAX_INPUT_BYTES, name: str | None = None) -> object:
    """A JSON file the user gave (see `read_input`), decoded; BadInput naming it when it is not
    UTF-8, not JSON or nested too deep."""
    shown = name or str(path)
    try:
        return parse_json(read_input(path, limit=limit, name=shown).decode("utf-8"), shown)
    except UnicodeDecodeError:
        raise BadInput(f"{shown}: not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise BadInput(f"{shown}:{e.lineno}: not JSON: {e.msg}") from None


def json_or(text: str | None, default):
    """`text` decoded as JSON, or `default` when it is absent, not JSON, nested too deep or of another
    type than `default`: for values hyp wrote itself and reads back (run tags), which a hand may have edited."""
    if text is None:
        return default
    try:
        value = parse_json(text, "value")
    except (ValueError, BadInput):
        return default
    return value if isinstance(value, type(default)) else default


def read_cache(path: Path) -> dict:
    """A JSON cache hyp keeps for itself; {} when it is absent, unreadable or not an object (a cache of
    the wrong shape, `null` or `[]`, nested too deep, or a FIFO or a directory in its place, is treated as
    absent, never trusted; `read_input` never blocks on a FIFO)."""
    try:
        data = read_json(path)
    except BadInput:
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(path: Path, text: str) -> bool:
    """Keep a cache if the lab can be written; False when it cannot (a read-only checkout, a mounted
    share, a full disk, or a FIFO, directory or device where the cache goes, which is left as it is):
    reading must work without writing, and a cache is only ever a shortcut."""
    if output_problem(path) is not None:
        return False
    try:
        write_atomic(path, text)
    except (OSError, BadInput):
        return False
    return True


def _remove_stale(path: Path) -> None:
    cutoff = time.time() - STALE_AFTER_S
    for left in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if left.stat().st_mtime < cutoff:
                left.unlink()
        except FileNotFoundError:
            pass


class Busy(Exception):
    """Another process holds the lock; the message is what it wrote there (its pid)."""


class exclusive:
    """An advisory lock on `path` for the life of a `with` block: the kernel drops it when the process
    dies, SIGKILL included, so a crash never leaves a stale lock to clean up by hand.

    Taken at once or not at all (Busy) unless `wait`; `note` (what holds it) is written after the pid."""

    def __init__(self, path: Path, *, wait: bool = False, note: str = ""):
        self.path = Path(path)
        self.wait, self.note = wait, note
        self._file = None

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+")  # noqa: SIM115  (held open for the lock's lifetime)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip()
            self._file.close()
            raise Busy(holder) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()} {self.note}".strip())
        self._file.flush()
        return self

    def __exit__(self, *exc):
        self._file.close()  # closing releases the lock
