"""Creating labs and hypothesis files: `hyp init` and `hyp new`."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

from hyp.errors import BadInput
from hyp.files import output_problem, write_atomic
from hyp.hypotheses.lab import CONFIG, Lab, check_id
from hyp.hypotheses.options import PLANS, option_problems, set_dotted
from hyp.hypotheses.schema import Hypothesis
from hyp.hypotheses.validation import validate
from hyp.hypotheses.yamlfile import Document, parse_yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TEMPLATE = Path(__file__).resolve().parent / "templates" / "hypothesis.yaml"

DEFAULT_TOML = """[lab]
experiment = "{name}"          # MLflow experiment name
audience = "the team"          # who the "Report to ..." section addresses

[tracking]
uri = "sqlite:///.hyp/mlflow.db"   # or postgresql://..., or http://mlflow-server:5000

[sweeps]
storage = "sqlite:///.hyp/optuna.db"

[resources]
vram_limit_gb = 4.0
"""


def init_lab(directory: Path, example: str | None = None) -> Path:
    """Create a lab in `directory` (new, or a folder of one's own): every place it writes is checked
    before anything is created, so a refusal changes nothing."""
    directory = Path(directory)
    if os.path.lexists(directory) and not directory.is_dir():
        problem = "is not a folder"
    else:
        problem = output_problem(directory / CONFIG) or lab_root_problem(directory)  # never under /proc, /sys or /dev
    if problem:
        where = "" if problem.startswith("is not") or "too long" in problem else \
            f"; make the lab in a folder of its own, e.g. {Path(os.path.expanduser('~')) / 'labs' / 'my-lab'}"
        raise BadInput(f"{directory}: {problem.split(';')[0]}{where}")
    if os.path.lexists(directory / CONFIG):
        raise BadInput(f"{directory / CONFIG}: a lab already exists here")
    source = None
    if example:
        source = EXAMPLES / example
        if not (source / CONFIG).is_file():
            known = sorted(p.name for p in EXAMPLES.iterdir() if (p / CONFIG).is_file())
            raise BadInput(f"--example {example}: no such example (known: {', '.join(known)})")
    files = _example_files(source) if source else []
    folders = {"hypotheses", "data", "evals", "reports"} | {str(p) for f in files for p in f.parents
                                                           if p != Path(".")}
    clashes = _clashes(directory, files, sorted(folders))
    if clashes:
        where, problem = clashes[0]
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        raise BadInput(f"{where}: {problem}{more}; `hyp init` never overwrites or writes through one "
                       "(pick an empty or new folder)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(f"{directory}: cannot create the lab here: {e.strerror}") from None
    for folder in sorted(folders):
        (directory / folder).mkdir(parents=True, exist_ok=True)  # the umask applies, as to any new folder
    # Written, not copied: a copy keeps the installed file's mode; a new file gets 0666 less the umask.
    for rel in files:
        write_atomic(directory / rel, (source / rel).read_bytes())
    if source is None:
        write_atomic(directory / CONFIG, DEFAULT_TOML.format(name=directory.resolve().name or "hyp"))
    gitignore = directory / ".gitignore"
    if not os.path.lexists(gitignore):  # one of the user's own (even a link) is left as it is
        write_atomic(gitignore, ".hyp/\n")
    return directory


# The operating system's own folders (Linux and macOS): a lab is never made in one or under it.
SYSTEM_FOLDERS = tuple(Path(p) for p in (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys",
    "/usr", "/var", "/snap", "/lost+found", "/System", "/Library", "/Applications", "/private", "/cores"))
# Under those, the scratch folders where a lab may go (macOS's temporary folders live in /private/var/folders).
SCRATCH_UNDER_SYSTEM = tuple(Path(p) for p in (
    "/var/tmp", "/var/folders", "/var/home", "/private/tmp", "/private/var/tmp", "/private/var/folders"))
# Folders that hold other people's or other programs' folders: a lab may go inside, never in the folder itself
# (every `hyp` command below it would find that lab's hyp.toml, as `hyp` finds a lab from any subfolder).
SHARED_FOLDERS = tuple(Path(p) for p in (
    "/home", "/Users", "/root", "/tmp", "/opt", "/mnt", "/media", "/srv", "/Volumes", *map(str, SCRATCH_UNDER_SYSTEM)))
HOME_PARENTS = (Path("/home"), Path("/Users"), Path("/var/home"))  # /home/ada itself is Ada's home


def lab_root_problem(directory: Path) -> str | None:
    """Why `directory` cannot hold a lab, or None: the file system's root, a system folder or anything under
    one (/etc, /usr, /var/lib ...) but a scratch or home folder there, a folder shared by many (/home, /tmp,
    /mnt) or a home folder itself. The path as written and with its links resolved are both judged (/bin is
    a link to /usr/bin on many systems)."""
    home = Path(os.path.realpath(os.path.expanduser("~")))
    for place in (Path(os.path.abspath(directory)), Path(os.path.realpath(directory))):
        if place == Path("/"):
            return "is the file system's root"
        if place == home or place.parent in HOME_PARENTS or place == Path("/root"):
            return "is a home folder itself"
        if place in SHARED_FOLDERS:
            return "is a folder many folders share"
        if place.is_relative_to(home) and home != Path("/"):
            continue  # a folder of one's own (a CI user's home may be /var/lib/jenkins)
        if any(place.is_relative_to(d) for d in SYSTEM_FOLDERS) and \
                not any(place.is_relative_to(d) for d in SCRATCH_UNDER_SYSTEM):
            return "is a system folder"
    return None


def _example_files(source: Path) -> list[Path]:
    return [f.relative_to(source) for f in sorted(source.rglob("*"))
            if f.is_file() and not _ignored(f.relative_to(source))]


def _ignored(rel: Path) -> bool:
    return any(part in (".hyp", "reports", "__pycache__") for part in rel.parts)


def _clashes(directory: Path, files: list[Path], folders: list[str]) -> list[tuple[Path, str]]:
    """(path, why) for each place `hyp init` would write that is taken: a file of one's own, a file where
    a folder goes, or a symbolic link (even a dangling one: writing would go through it, elsewhere)."""
    found = []
    for rel in sorted([*(Path(f) for f in folders), *files], key=str):
        path = directory / rel
        if not os.path.lexists(path):
            continue
        if path.is_symlink():
            found.append((path, f"is a symbolic link (to {os.readlink(path)})"))
        elif rel in files:
            found.append((path, "already exists"))
        elif not path.is_dir():
            found.append((path, "is a file where the lab needs a folder"))
    return found


def _roundtrip():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 100
    return y


def new_hypothesis(lab: Lab, hid: str, *, parent: str | None = None, option: str | None = None,
                   changes: dict[str, Any] | None = None, note: str | None = None) -> Path:
    """Write hypotheses/{hid}.yaml from the template or from a parent (keeping its comments).

    `option` applies one of the parent's on_failure/on_success options; `changes` applies dotted
    keys directly (a sweep trial's parameters).
    """
    check_id(hid)
    target = lab.hypothesis_path(hid)
    if target.exists() or target.is_symlink():  # a link to nothing is someone's too
        raise BadInput(f"{target}: already exists")
    y = _roundtrip()
    if parent is None:
        data = y.load(TEMPLATE.read_text(encoding="utf-8"))
        data["id"] = hid
        data["created"] = dt.date.today()
    else:
        parent_hyp, parent_doc = lab.read(parent)
        data = y.load(lab.hypothesis_path(parent).read_text(encoding="utf-8"))
        data["id"] = hid
        data["parent"] = parent
        data["created"] = dt.date.today()
        applied: dict[str, Any] = {}
        if option is not None:
            found = [(plan, i, o) for plan in PLANS for i, o in enumerate(getattr(parent_hyp, plan))
                     if o.option == option]
            if not found:
                known = [o.option for o in [*parent_hyp.on_failure, *parent_hyp.on_success]]
                raise BadInput(f"--option {option}: {parent} has no such option (it has: {', '.join(known) or 'none'})")
            plan, index, chosen = found[0]
            # A bad change is the parent's mistake: named at its line there, not in a file never written.
            problems = option_problems(parent_doc, plan, index)
            if problems:
                raise BadInput(problems[0])
            applied.update(chosen.changes)
            data["title"] = f"{parent_hyp.title} — option {chosen.option}: {chosen.title}"
            if chosen.expected is not None:
                _expect_score(data, chosen.expected)
            why = f"{parent} option {chosen.option}: {chosen.title}"
        else:
            why = note or f"changed from {parent}"
        applied.update(changes or {})
        rationale = data.get("rationale") or {}
        from ruamel.yaml.comments import CommentedMap

        for key, value in applied.items():
            # A sampler's 0.0017762736670118092 is written as 0.00177627: what a person would write.
            set_dotted(data, key, float(f"{value:.6g}") if isinstance(value, float) else value, new=CommentedMap)
            rationale[key.removeprefix("experiment.")] = why
        if applied:
            data["rationale"] = rationale
        # The parent's plans were for the parent's outcome; this one needs its own.
        for plan in ("on_failure", "on_success"):
            if plan in data:
                del data[plan]
        # A new version, and a statement flagged as the parent's: the claim is what a person must rewrite.
        data["version"] = _next_version(parent_hyp.version, hid, _versions(lab))
        data.yaml_set_comment_before_after_key(
            "statement", before=f"copied from {parent}: rewrite it to say what {hid} claims, before results lock it")
    buf = io.StringIO()
    y.dump(data, buf)
    text = "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())
    doc = parse_yaml(text, target)
    _check(doc)
    write_atomic(target, text)
    return target


def _next_version(version: str | None, hid: str, taken: frozenset[str] = frozenset()) -> str:
    """v2.3 -> v2.4, or the next number no other hypothesis of the lab has (a second child of H003
    after H004's v2.4 is v2.5, not a second v2.4); a label without a trailing number gets the new id."""
    import re

    if not version:
        return f"v-{hid}"
    m = re.search(r"(\d+)$", version)
    if not m:
        return f"{version}-{hid}"
    n = int(m.group(1)) + 1
    while f"{version[: m.start()]}{n}" in taken:
        n += 1
    return f"{version[: m.start()]}{n}"


def _versions(lab: Lab) -> frozenset[str]:
    found = set()
    for other in lab.ids():
        try:
            found.add(lab.load(other).version)
        except BadInput:
            continue  # a broken sibling is named by `hyp validate`, not here
    return frozenset(v for v in found if v)


def _expect_score(data, expected) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    value = list(expected) if isinstance(expected, tuple | list) else [expected, expected]
    flow = CommentedSeq(value)
    flow.fa.set_flow_style()
    preds = data.get("predictions") or CommentedSeq()
    for p in preds:
        if p.get("metric") == "score":
            p["op"], p["value"] = "between", flow
            break
    else:
        item = CommentedMap(label="Overall score", metric="score", op="between", value=flow)
        item.fa.set_flow_style()
        preds.append(item)
    data["predictions"] = preds


def _check(doc: Document) -> Hypothesis:
    return validate(Hypothesis, doc)
