"""The lab: a directory with hyp.toml, hypotheses/, data/, evals/, reports/ and .hyp/ state."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path

from hyp.errors import BadInput
from hyp.files import input_problem, read_cache, read_input
from hyp.hypotheses.judging import judge_lock_content
from hyp.hypotheses.metric_names import typo_of
from hyp.hypotheses.options import change_problems
from hyp.hypotheses.schema import ID_RE, EvalSuite, Hypothesis
from hyp.hypotheses.settings import CONFIG, read_settings, store_uri
from hyp.hypotheses.validation import validate
from hyp.hypotheses.yamlfile import MAX_YAML_BYTES, Document, dotted, read_yaml

# A pin file line naming a finished result: `<sha>  H003  locked with the first results (run ID)` or
# `<sha>  H003  result (run ID)`; an amendment's line (`amended TIME: reason`) never matches, whatever its reason.
_PINNED_RUN = re.compile(r"^\S+\s+\S+\s+(?:locked with the first results|result) \(run ([0-9A-Za-z_-]+)\)$")
# The first line of a report from the shipped template (reports/templates/report.md.j2): `# H004 · title`.
_REPORT_HEADER = re.compile(rb"# H\d{3,32} \xc2\xb7 \S")


class Lab:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.settings = read_settings(self.root / CONFIG)

    @classmethod
    def find(cls, start: Path | None = None, explicit: Path | None = None) -> Lab:
        if explicit is not None:
            if not (Path(explicit) / CONFIG).is_file():
                raise BadInput(f"{explicit}: no {CONFIG} here (not a hyp lab; create one with `hyp init`)")
            return cls(Path(explicit))
        here = Path(start or Path.cwd()).resolve()
        for d in (here, *here.parents):
            if (d / CONFIG).is_file():
                return cls(d)
        raise BadInput(f"no {CONFIG} in {here} or any parent (create a lab with `hyp init DIR`, or pass --lab)")

    # --- places ---
    @property
    def hypotheses_dir(self) -> Path:
        return self.root / "hypotheses"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def state_dir(self) -> Path:
        return self.root / ".hyp"

    @property
    def tracking_uri(self) -> str:
        return self._store("HYP_TRACKING_URI", self.settings.tracking_uri, "[tracking] uri")

    @property
    def sweep_storage(self) -> str:
        return self._store("HYP_SWEEP_STORAGE", self.settings.sweep_storage, "[sweeps] storage")

    def _store(self, variable: str, configured: str, key: str) -> str:
        """The environment's store over hyp.toml's, checked and named by where it came from."""
        given = os.environ.get(variable)
        return store_uri(given or configured, self.root, variable if given else f"{CONFIG}: {key}")

    def hypothesis_path(self, hid: str) -> Path:
        check_id(hid)
        return self.hypotheses_dir / f"{hid}.yaml"

    def ids(self) -> list[str]:
        if not self.hypotheses_dir.is_dir():
            return []
        ids = [p.stem for p in self.hypotheses_dir.glob("*.yaml") if ID_RE.fullmatch(p.stem)]
        return sorted(ids, key=lambda s: (len(s), s))

    # --- files ---
    def read(self, hid: str) -> tuple[Hypothesis, Document]:
        path = self.hypothesis_path(hid)
        if not os.path.lexists(path):
            raise BadInput(f"{self._rel(path)}: no such hypothesis (files are hypotheses/H###.yaml)")
        doc = read_yaml(self._rel(path))  # a FIFO, a folder or a device there is named as `validate` names it
        hyp = validate(Hypothesis, doc)
        if hyp.id != hid:
            raise BadInput(f"{doc.where(('id',))}: id: {hyp.id!r} does not match the file name {hid!r}")
        self._check_paths(hyp, doc)
        self._check_metrics(hyp, doc)
        return hyp, doc

    def load(self, hid: str) -> Hypothesis:
        """The validated hypothesis; served from a parse cache while the file is unchanged."""
        path = self.hypothesis_path(hid)
        cache = self._parsed()
        try:
            # Keyed by content: an mtime can miss a same-size edit within one clock tick.
            st = hashlib.sha256(read_input(path, limit=MAX_YAML_BYTES)).hexdigest()
        except BadInput:
            st = None  # `read` says what is wrong with the file
        entry = cache.get(hid)
        if (st is not None and isinstance(entry, dict) and entry.get("stat") == st
                and entry.get("digest") == _parsed_digest(st, entry.get("data"))):
            try:
                hyp = Hypothesis.model_validate(entry["data"])
                doc = Document(path=self._rel(path), data=entry["data"])
                self._check_paths(hyp, doc)
                self._check_metrics(hyp, doc)
            except (BadInput, ValueError, KeyError):  # a pydantic ValidationError is a ValueError
                return self.read(hid)[0]  # re-read for the error's exact line (or past a damaged cache)
            return hyp
        hyp, _ = self.read(hid)
        if st is not None:
            data = hyp.model_dump(mode="json")
            cache[hid] = {"stat": st, "digest": _parsed_digest(st, data), "data": data}
            self._parsed_dirty = True
        return hyp

    # YAML parsing costs ~5 ms a file in pure Python; `hyp list` on a big lab would spend its
    # whole budget there. The cache holds validated data keyed by the SHA-256 of the file's bytes, with
    # a digest of both: data edited by hand in .hyp/parsed.json no longer matches and the file is read.
    _parsed_cache: dict | None = None
    _parsed_dirty = False

    def _parsed(self) -> dict:
        if self._parsed_cache is None:

            data = read_cache(self.state_dir / "parsed.json")
            self._parsed_cache = data if data.get("version") == _PARSED_VERSION else {}
            self._parsed_cache.pop("version", None)
        return self._parsed_cache

    def save_parsed(self) -> None:
        if not self._parsed_dirty or not self.state_dir.is_dir():
            return
        import json

        from hyp.files import write_cache

        write_cache(self.state_dir / "parsed.json", json.dumps({"version": _PARSED_VERSION, **self._parsed()}))
        self._parsed_dirty = False

    def problems(self, hid: str) -> list[str]:
        """Every problem in one hypothesis file, one line each (empty when valid)."""
        try:
            path = self.hypothesis_path(hid)
            doc = read_yaml(self._rel(path))
            hyp = validate(Hypothesis, doc, first_only=False)
            if hyp.id != hid:
                return [f"{doc.where(('id',))}: id: {hyp.id!r} does not match the file name {hid!r}"]
            self._check_paths(hyp, doc)
            self._check_model(hyp, doc, complete=True)
            self.load_suite(hyp.experiment.eval.suite)
            self._check_metrics(hyp, doc)
        except BadInput as e:
            return e.message.splitlines()
        return change_problems(doc)

    def _check_paths(self, hyp: Hypothesis, doc: Document) -> None:
        ds = hyp.experiment.dataset
        checks = [(("experiment", "dataset", "curated", "path"), ds.curated.path),
                  (("experiment", "eval", "suite"), hyp.experiment.eval.suite)]
        if ds.synthetic:
            checks.append((("experiment", "dataset", "synthetic", "path"), ds.synthetic.path))
        if ds.heldout:
            checks.append((("experiment", "dataset", "heldout", "path"), ds.heldout.path))
        for loc, rel in checks:
            # A FIFO or a device would hang or never end the first read: named here, before any work.
            problem = input_problem(self.root / rel)
            if problem == "no such file":
                problem = "does not exist in the lab"
            if problem:
                raise BadInput(f"{doc.where(loc)}: {'.'.join(loc)}: file {rel!r} {problem}")
        # A model directory that is not there, or has no readable config.json, fails here, not minutes into
        # a run (hub ids are checked by `hyp run`). Its tokenizer and weights are checked by `validate` and
        # before a run (`hyp estimate` needs the config alone).
        self._check_model(hyp, doc, complete=False)

    def _check_model(self, hyp: Hypothesis, doc: Document, *, complete: bool) -> None:
        problem = model_problem(hyp.experiment.model.name, self.root, complete=complete)
        if problem:
            loc = ("experiment", "model", "name")
            raise BadInput(f"{doc.where(loc)}: {'.'.join(loc)}: {problem}")

    def output_path(self, path: Path | str) -> Path:
        """`path` when a file may be written there at the user's word (`hyp report -o`): never over the
        settings, hypotheses, data, suites, templates or state of this lab or of any other lab the path is
        in (found by walking up from its folder to a hyp.toml), nor a device, FIFO, directory or system
        file (see hyp.files.output_problem), nor over any other file hyp did not write; else BadInput
        naming it. A path ending in `/` names a folder, which is refused as an existing folder is: the
        report is one file, named by the user."""
        from hyp.files import check_output

        text = os.fspath(path)
        if text.endswith(("/", os.sep, "/.", "/..")) or Path(text).name in ("", ".", ".."):
            raise BadInput(f"{text}: names a folder; give the report's file name (e.g. {Path(text) / 'report.md'})")
        for other in _labs_above(Path(text)):
            if other == self.root:
                continue
            try:
                protected = Lab(other)._protected()
            except BadInput:  # its hyp.toml is broken: its folders are still its own
                protected = _lab_places(other)
            protected.append(other / "reports")  # its reports: `H003.md` there is its H003's, not ours
            if any(_under(Path(text), p) for p in protected):
                raise BadInput(f"{text}: is one of the files of the lab at {other} (hypotheses, data, suites, "
                               "reports, settings, state); write elsewhere")
        return check_output(text, self._protected(), may_replace=self._a_report)

    def _protected(self) -> list[Path]:
        """The lab's own files no output may replace: its settings, folders of inputs and state, and every
        input its hypotheses name elsewhere in the lab."""
        protected = _lab_places(self.root)
        for hid in self.ids():  # inputs kept elsewhere in the lab too
            try:
                hyp = self.load(hid)
            except BadInput:
                continue
            ds = hyp.experiment.dataset
            protected += [self.root / rel for rel in (ds.curated.path, hyp.experiment.eval.suite,
                                                      *(s.path for s in (ds.synthetic, ds.heldout) if s))]
        return protected

    def _a_report(self, real: Path) -> bool:
        """Whether an existing file may be replaced by a report. A path the user typed can name any of
        their files (README.md, .gitignore, notes), so the rule is a whitelist: only a Markdown file in the
        lab's reports/ folder (hyp's own output, regenerated at will) or a file that begins as every report
        from the shipped template does (`# H004 · ` and a title: a report written with -o before). Anything
        else stays; the user removes it first if they mean to replace it."""
        if real.suffix == ".md" and real.parent == Path(os.path.realpath(self.reports_dir)):
            return True
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK)  # a regular file: output_problem checked
        except OSError:
            return False
        with os.fdopen(fd, "rb") as f:
            head = f.read(64)
        return _REPORT_HEADER.match(head) is not None

    def _check_metrics(self, hyp: Hypothesis, doc: Document) -> None:
        """A criterion, prediction or sweep objective on a metric that is a typo of one hyp logs would
        stay PENDING forever: named here with "did you mean". Other unknown names are custom metrics
        (`hyp record --metric bleu=0.3`) and pass."""
        try:
            suite = _suite_content(self, hyp.experiment.eval.suite, _stat_key(self.root / hyp.experiment.eval.suite))
        except BadInput:
            return  # the suite's own error is reported where the suite is loaded
        questions = [q["id"] for q in suite["questions"]]
        conditions = [(("success_criteria", level, "metric"), c.metric) for level, c in hyp.success_criteria.levels()]
        conditions += [(("predictions", i, "metric"), p.metric) for i, p in enumerate(hyp.predictions)]
        if hyp.sweep is not None:
            conditions.append((("sweep", "objective", "metric"), hyp.sweep.objective.metric))
        for loc, metric in conditions:
            close = typo_of(metric, questions)
            if close:
                raise BadInput(f"{doc.where(loc)}: {dotted(loc)}: no evaluation logs a metric {metric!r} "
                               f"(did you mean {close!r}?)")

    def load_suite(self, rel: str) -> EvalSuite:
        return validate(EvalSuite, read_yaml(self._rel(self.root / rel)))

    # --- what the lock covers beyond the file (SPEC §3) ---
    def lock_inputs(self, hyp: Hypothesis) -> dict:
        """The evaluation suite's content, the digests of the dataset files and the judge's model and
        prompts, as the lock holds them."""
        ds = hyp.experiment.dataset
        paths = [ds.curated.path, *(s.path for s in (ds.synthetic, ds.heldout) if s is not None)]
        suite_path = self.root / hyp.experiment.eval.suite
        try:
            suite = _suite_content(self, hyp.experiment.eval.suite, _stat_key(suite_path))
        except BadInput:
            suite = {"sha256": _file_digest(suite_path, _stat_key(suite_path))}  # unreadable: still locked
        inputs = {"suite": suite, "data": {rel: _file_digest(self.root / rel, _stat_key(self.root / rel))
                                           for rel in paths}}
        if self.settings.judge is not None:  # only then: a lab without a judge keeps the hash it had
            inputs["judge"] = judge_lock_content(self.settings.judge)
        return inputs

    def pinned_lock_path(self, hid: str) -> Path:
        return self.hypotheses_dir / ".locks" / f"{check_id(hid)}.sha256"

    def pinned_lock(self, hid: str) -> str | None:
        """The lock hash written into the lab with the first results (committed with it, so a lock
        rewritten in the store shows in `git diff` too); None when there is none."""
        try:
            first = self.pinned_lock_path(hid).read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError):
            return None
        return first[0] if first else None

    def pinned_runs(self, hid: str) -> list[str]:
        """The result runs the lab's pin file lists (one line each, appended as each result finished): the
        store must still hold every one of them as a finished result, or results were deleted there."""
        try:
            lines = self.pinned_lock_path(hid).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        return [m[1] for line in lines if (m := _PINNED_RUN.match(line))]

    def pin_lock(self, hid: str, sha: str, note: str = "") -> None:
        from hyp.files import write_atomic

        path = self.pinned_lock_path(hid)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        write_atomic(path, text + f"{sha}  {hid}{f'  {note}' if note else ''}\n")

    def _rel(self, path: Path) -> Path:
        try:
            return Path(path).resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return Path(path)


_PARSED_VERSION = 3  # 3: each entry carries the digest of its file's hash and its data


def _parsed_digest(stat: str, data) -> str:
    """The hash of a parse-cache entry as written (see results/index.py `_digest`): a hand edit of the
    cached data no longer matches (not a defence against someone who recomputes it; the lock hashes the
    file itself)."""
    import json

    body = json.dumps([stat, data], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _lab_places(root: Path) -> list[Path]:
    return [root / CONFIG, root / "hypotheses", root / "data", root / "evals", root / "templates", root / ".hyp"]


def _labs_above(path: Path) -> list[Path]:
    """The roots of the labs `path` is in: each folder above it, as written and with links resolved, that
    holds a hyp.toml (a lab inside another's folder: both)."""
    found: list[Path] = []
    for start in (Path(os.path.abspath(path)).parent, Path(os.path.realpath(path)).parent):
        for folder in (start, *start.parents):
            try:
                is_lab = (folder / CONFIG).is_file()
            except OSError:
                is_lab = False
            if is_lab and Path(os.path.realpath(folder)) not in found:
                found.append(Path(os.path.realpath(folder)))
    return found


def _under(path: Path, place: Path) -> bool:
    here, real, place = Path(os.path.abspath(path)), Path(os.path.realpath(path)), Path(os.path.realpath(place))
    return any(p == place or p.is_relative_to(place) for p in (here, real))


def _stat_key(path: Path) -> tuple:
    try:
        st = path.stat()
        return (str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        return (str(path), None, None)


@functools.lru_cache(maxsize=256)
def _file_digest(path: Path, key: tuple) -> str | None:
    # Keyed by (path, mtime, size): `hyp list` over many hypotheses sharing one dataset hashes it once.
    try:
        return hashlib.sha256(read_input(Path(path))).hexdigest()
    except BadInput:
        return None  # missing, a FIFO, a device or too large: nothing a run could have read either


@functools.lru_cache(maxsize=64)
def _suite_content(lab: Lab, rel: str, key: tuple) -> dict:
    return lab.load_suite(rel).model_dump(mode="json")


def model_directory(name: str, root: Path) -> Path | None:
    """The directory a `model.name` means when it names one on disk, relative names taken from the lab's
    root; None for a Hugging Face hub id (`name` or `owner/name`) or `builtin:tiny`. A name is a path when
    it starts with `.`, `/` or `~`, has more than one `/`, or starts with a directory the lab has."""
    path = Path(name).expanduser()
    if not (name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name
            or (root / name).exists() or ("/" in name and (root / name.split("/")[0]).is_dir())):
        return None
    return path if path.is_absolute() else root / path


# What transformers loads a tokenizer from (a fast tokenizer's JSON, a SentencePiece model, BPE or WordPiece
# vocabularies) and a model's weights from. A folder with none of them fails deep inside transformers
# ("Couldn't instantiate the backend tokenizer"), minutes into a run.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "vocab.json",
                   "vocab.txt", "tokenizer.tiktoken")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack")
MAX_MODEL_CONFIG_BYTES = 10_000_000  # a model's config.json is a few kilobytes


def model_problem(name: str, root: Path, *, complete: bool = True) -> str | None:
    """What is wrong with the local model directory `name` means (see `model_directory`), or None (also for
    a hub id or `builtin:tiny`): it must exist and hold a config.json that is a JSON object and, when
    `complete`, a tokenizer and weights."""
    from hyp.files import input_problem, read_json

    path = model_directory(name, root)
    if path is None:
        return None
    if not path.is_dir():
        if path.exists():
            return f"{name!r} is not a directory (a local model is a folder with config.json, tokenizer and weights)"
        return f"directory {name!r} does not exist"
    config = path / "config.json"
    problem = input_problem(config, MAX_MODEL_CONFIG_BYTES)
    if problem == "no such file":
        return f"{name!r}: no config.json in this directory (is it a model folder?)"
    if problem:
        return f"{name}/config.json {problem}"
    try:
        data = read_json(config, limit=MAX_MODEL_CONFIG_BYTES, name=f"{name.rstrip('/')}/config.json")
    except BadInput as e:
        return e.message
    if not isinstance(data, dict):
        return f"{name.rstrip('/')}/config.json: not a model config (expected a JSON object)"
    if not complete:
        return None
    try:
        files = {p.name: p for p in path.iterdir()}
    except OSError as e:
        return f"{name!r}: cannot be read: {e.strerror}"
    if not any(f in files and files[f].is_file() for f in TOKENIZER_FILES):
        return (f"{name!r}: no tokenizer in this directory (tokenizer.json, tokenizer.model or vocab.json); "
                "save the tokenizer with the model")
    if not any(p.suffix in WEIGHT_SUFFIXES and p.is_file() for p in files.values()):
        return f"{name!r}: no weights in this directory (model.safetensors or pytorch_model.bin)"
    return None


MAX_ID_LENGTH = 32  # an id names files (H004.yaml, H004.md, locks): far below any file system's limit


def check_id(hid: str) -> str:
    if not isinstance(hid, str) or not ID_RE.fullmatch(hid):
        raise BadInput(f"{hid!r}: not a hypothesis id (expected H followed by three or more digits, e.g. H004)")
    if len(hid) > MAX_ID_LENGTH:
        raise BadInput(f"{hid[:12]}...: not a hypothesis id ({len(hid)} characters; at most {MAX_ID_LENGTH})")
    return hid
