"""Rendering report templates, the lab's own included, without letting a template run code.

A lab is shared like code is (cloned, pulled), but a template is data: it is rendered in Jinja2's
sandbox (no attribute tricks reaching Python internals), it may include only files inside the
folder it came from (a symlink pointing outside is refused), it may not make values, output or work
without bound (`'x' * 10**10`, nested `range` loops), and a mistake in it is bad input naming
file:line, never a traceback or a hang.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
from pathlib import Path

from hyp.errors import BadInput
from hyp.files import input_problem, read_input

SHIPPED = Path(__file__).resolve().parent / "templates"

# A report is a few hundred lines: far past these, a template is a mistake or a bomb.
MAX_TEMPLATE_BYTES = 1_000_000  # a template file
MAX_VALUE = 1_000_000  # characters (or items) one operator may make, and digits (in bits) of a number
MAX_OUTPUT = 20_000_000  # characters of rendered text
MAX_ITERATIONS = 1_000_000  # items over every `range` one render makes (nested loops multiply)
RENDER_SECONDS = 30  # a backstop for any other endless loop (a string iterated inside itself...)


class _TooMuch(Exception):
    """A template went past one of the limits above; the message says which."""

    filename: str | None = None  # the template, when no frame of it is on the traceback


def render(lab_templates: Path, name: str, context: dict) -> str:
    from jinja2 import ChoiceLoader, TemplateError, TemplateSyntaxError
    from jinja2.sandbox import SecurityError

    env = _sandbox(ChoiceLoader([_ConfinedLoader(lab_templates), _ConfinedLoader(SHIPPED)]))
    try:
        with _deadline(RENDER_SECONDS):
            try:
                template = env.get_template(name)
            except (SyntaxError, RecursionError, MemoryError) as e:
                # Python's compiler refuses the code 200 nested `if`s become (IndentationError); deep
                # nesting overflows Jinja's parser: the template's shape, not hyp's bug.
                raise BadInput(f"{_compiled(e, lab_templates, name)}: template: nested too deeply to compile "
                               f"({_first_line(e)})") from None
            return _bounded(template, context)
    except TemplateSyntaxError as e:
        raise BadInput(f"{_where(e.filename, lab_templates)}:{e.lineno}: template: {e.message}") from None
    except SecurityError as e:
        where = _where(_origin(e), lab_templates)
        raise BadInput(f"{where}: template: not allowed in a report template: {e}") from None
    except BadInput:
        raise
    except _TooMuch as e:
        line = _line_of(e)
        where = _where(_origin(e) or e.filename, lab_templates)
        raise BadInput(f"{where}{f':{line}' if line else ''}: template: {e}") from None
    except SyntaxError as e:  # an included template that cannot compile, met while rendering
        raise BadInput(f"{_where(e.filename, lab_templates)}: template: nested too deeply to compile "
                       f"({_first_line(e)})") from None
    except TemplateError as e:
        line = _line_of(e)
        raise BadInput(f"{_where(_origin(e), lab_templates)}{f':{line}' if line else ''}: template: {e}") from None
    except (ArithmeticError, LookupError, RecursionError, TypeError, ValueError, AttributeError, MemoryError) as e:
        # `{{ 1/0 }}`, a template extending itself: the lab's template's mistake, not hyp's. Anything
        # raised from the shipped template stays an internal error: that one is a bug to report.
        origin = _origin(e)
        if origin is None or not Path(origin).resolve().is_relative_to(Path(lab_templates).resolve()):
            raise
        line = _line_of(e)
        hint = " (does it extend or include itself?)" if isinstance(e, RecursionError) else ""
        raise BadInput(f"{_where(origin, lab_templates)}{f':{line}' if line else ''}: template: "
                       f"{type(e).__name__}: {_first_line(e)}{hint}") from None


def _first_line(e: BaseException) -> str:
    text = getattr(e, "msg", None) if isinstance(e, SyntaxError) else str(e)
    return (text or "").splitlines()[0] if text else ""


def _compiled(e: BaseException, lab_templates: Path, name: str) -> str:
    filename = getattr(e, "filename", None)
    if filename and not str(filename).startswith("<"):
        return _where(filename, lab_templates)
    own = Path(lab_templates) / name
    return _where(str(own), lab_templates) if os.path.lexists(own) else name


def _bounded(template, context: dict) -> str:
    """The rendered text, streamed so that output without end stops at MAX_OUTPUT."""
    parts, size = [], 0
    for chunk in template.generate(**context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            e = _TooMuch(f"renders more than {MAX_OUTPUT:,} characters; a report is far shorter")
            e.filename = template.filename
            raise e
        parts.append(chunk)
    return "".join(parts)


@contextlib.contextmanager
def _deadline(seconds: float):
    """Stop a render that runs past `seconds` (a loop no other limit sees). Only where a timer can be had:
    the main thread, with no timer of the caller's already set."""
    if threading.current_thread() is not threading.main_thread() or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return

    def expire(signum, frame):
        raise _TooMuch(f"took more than {seconds:g} s to render; a report takes well under one")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _sandbox(loader):
    """Jinja2's sandbox, with bounds on what one operator, one `~` and all `range`s together may make."""
    from jinja2.compiler import CodeGenerator
    from jinja2.sandbox import SandboxedEnvironment

    class Generator(CodeGenerator):
        def visit_Concat(self, node, frame):
            # `a ~ b` joins strings without any operator the sandbox sees: routed through the same check.
            self.write("environment.call_binop(context, '~', (")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("), None)")

    class Sandbox(SandboxedEnvironment):
        code_generator_class = Generator
        intercepted_binops = frozenset({"*", "**", "+"})

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.iterations = 0
            self.globals["range"] = self.range

        def range(self, *args):
            r = range(*args)
            self.iterations += len(r)
            if self.iterations > MAX_ITERATIONS:
                raise _TooMuch(f"loops over more than {MAX_ITERATIONS:,} numbers (range); a report needs far fewer")
            return r

        def call_binop(self, context, operator, left, right):
            if operator == "~":
                from jinja2.runtime import markup_join, str_join

                _check_size(sum(len(str(v)) for v in left))
                return (markup_join if context.eval_ctx.volatile or context.eval_ctx.autoescape else str_join)(left)
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

    return Sandbox(loader=loader, autoescape=False, keep_trailing_newline=True)


def _check_size(size: int, unit: str = "characters or items") -> None:
    if size > MAX_VALUE:
        raise _TooMuch(f"makes a value of {size:,} {unit}, more than the {MAX_VALUE:,} a report template may")


def _check_binop(operator: str, left, right) -> None:
    """Refuse, before computing it, a result past MAX_VALUE: `'x' * 10**10` would take 10 GB, `10**10**10`
    hours."""
    sized = (str, bytes, list, tuple)
    whole = (int,)
    if operator == "*":
        if isinstance(left, sized) and isinstance(right, whole) and not isinstance(right, bool):
            _check_size(len(left) * max(right, 0))
        elif isinstance(right, sized) and isinstance(left, whole) and not isinstance(left, bool):
            _check_size(len(right) * max(left, 0))
        elif isinstance(left, int) and isinstance(right, int):
            _check_size(left.bit_length() + right.bit_length(), "bits")
    elif operator == "+":
        if isinstance(left, sized) and isinstance(right, sized):
            _check_size(len(left) + len(right))
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
        _check_size(math.ceil(right * math.log2(abs(left))), "bits")


def _origin(error: Exception) -> str | None:
    # Jinja2 rewrites tracebacks so that template frames carry the template's file name and line.
    tb = error.__traceback__
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or "/templates/" in filename:
            found = filename
        tb = tb.tb_next
    return found


def _line_of(error: Exception) -> int | None:
    tb, line = error.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _where(filename: str | None, lab_templates: Path) -> str:
    if not filename:
        return "templates"
    path = Path(filename)
    try:
        return str(Path("templates") / path.resolve().relative_to(lab_templates.resolve()))
    except ValueError:
        return path.name


class _ConfinedLoader:
    """A FileSystemLoader that serves only regular files whose real path stays inside its folder."""

    def __init__(self, folder: Path):
        from jinja2 import FileSystemLoader

        self.folder = Path(folder)
        self._inner = FileSystemLoader(str(folder))

    def __getattr__(self, name):  # BaseLoader's other methods (list_templates, load)
        return getattr(self._inner, name)

    def load(self, environment, name, globals=None):
        from jinja2.loaders import BaseLoader

        return BaseLoader.load(self, environment, name, globals)

    def get_source(self, environment, template):
        from jinja2 import TemplateNotFound

        root = self.folder.resolve()
        candidate = self.folder / template
        if not candidate.exists() and not candidate.is_symlink():
            raise TemplateNotFound(template)
        real = Path(os.path.realpath(candidate))
        where = _where(str(candidate), self.folder) if self.folder != SHIPPED else template
        if not real.is_relative_to(root):
            raise BadInput(f"{where}: template: {template!r} leads outside the templates folder "
                           f"(to {real}); a report template may include only files beside it")
        # A regular file of a sane size, read without blocking: a FIFO would hang the report.
        problem = input_problem(real, MAX_TEMPLATE_BYTES)
        if problem:
            raise BadInput(f"{where}: template: {problem}")
        raw = read_input(real, limit=MAX_TEMPLATE_BYTES, name=f"{where}: template")
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            raise BadInput(f"{where}:{line}: template: not valid UTF-8 (byte 0x{raw[e.start]:02x})") from None
        mtime = os.stat(real).st_mtime_ns

        def uptodate() -> bool:
            try:
                return os.stat(real).st_mtime_ns == mtime
            except OSError:
                return False

        return source, os.path.normpath(candidate), uptodate
