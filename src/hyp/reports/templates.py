"""Rendering report templates, the lab's own included, without letting a template run code.

A lab is shared like code is (cloned, pulled), but a template is data: it is rendered in Jinja2's
sandbox (no attribute tricks reaching Python internals), it may include only files inside the
folder it came from (a symlink pointing outside is refused), and a mistake in it is bad input
naming file:line, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from hyp.errors import BadInput

SHIPPED = Path(__file__).resolve().parent / "templates"


def render(lab_templates: Path, name: str, context: dict) -> str:
    from jinja2 import ChoiceLoader, TemplateError, TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment, SecurityError

    env = SandboxedEnvironment(loader=ChoiceLoader([_ConfinedLoader(lab_templates), _ConfinedLoader(SHIPPED)]),
                               autoescape=False, keep_trailing_newline=True)
    try:
        return env.get_template(name).render(**context)
    except TemplateSyntaxError as e:
        raise BadInput(f"{_where(e.filename, lab_templates)}:{e.lineno}: template: {e.message}") from None
    except SecurityError as e:
        where = _where(_origin(e), lab_templates)
        raise BadInput(f"{where}: template: not allowed in a report template: {e}") from None
    except BadInput:
        raise
    except TemplateError as e:
        line = _line_of(e)
        raise BadInput(f"{_where(_origin(e), lab_templates)}{f':{line}' if line else ''}: template: {e}") from None
    except (ArithmeticError, LookupError, RecursionError, TypeError, ValueError, AttributeError) as e:
        # `{{ 1/0 }}`, a template extending itself: the lab's template's mistake, not hyp's. Anything
        # raised from the shipped template stays an internal error: that one is a bug to report.
        origin = _origin(e)
        if origin is None or not Path(origin).resolve().is_relative_to(Path(lab_templates).resolve()):
            raise
        line = _line_of(e)
        hint = " (does it extend or include itself?)" if isinstance(e, RecursionError) else ""
        raise BadInput(f"{_where(origin, lab_templates)}{f':{line}' if line else ''}: template: "
                       f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}{hint}") from None


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
        if not real.is_relative_to(root) or not real.is_file():
            where = _where(str(candidate), self.folder) if self.folder != SHIPPED else template
            raise BadInput(f"{where}: template: {template!r} leads outside the templates folder "
                           f"(to {real}); a report template may include only files beside it")
        return self._inner.get_source(environment, template)
