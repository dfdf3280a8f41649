"""The hypothesis and evaluation-suite file formats (SPEC §3, §4), as pydantic models.

Unknown keys are errors everywhere: a typo must never silently fall back to a default.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hyp.hypotheses.metric_names import key_problem, question_id_problem

ID_PATTERN = r"^H[0-9]{3,}$"
ID_RE = re.compile(ID_PATTERN)
Op = Literal[">=", "<=", ">", "<", "==", "between"]


_NUMERIC: dict[tuple[type, str], bool] = {}


def _numeric_field(model: type[BaseModel], name: str) -> bool:
    """Whether a field takes numbers and not booleans; worked out once per field (every file of a
    big lab runs this validator for every field)."""
    key = (model, name)
    if key not in _NUMERIC:
        annotation = model.model_fields[name].annotation
        types = set(get_args(annotation) or (annotation,))
        for t in list(types):
            types |= set(get_args(t))  # tuple[float, float] inside a union
        _NUMERIC[key] = bool not in types and (int in types or float in types)
    return _NUMERIC[key]


class AtField(ValueError):
    """A model-wide check's error that belongs to one field (`loc`, from the model being validated): named
    at that field's line (hypotheses/validation.py), not at the document's."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = tuple(loc)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value, info):
        # Pydantic's lax mode reads `epochs: true` as 1; a boolean where a number belongs is a mistake.
        if not _numeric_field(cls, info.field_name):
            return value
        items = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, bool) for v in items):
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value


def _loggable(name: str) -> str:
    # A metric MLflow cannot take could never be observed: refused where it is written, not at logging.
    problem = key_problem(name)
    if problem:
        raise ValueError(f"{name[:60]!r}{'...' if len(name) > 60 else ''} {problem}")
    return name


class Condition(Strict):
    metric: str = Field(min_length=1)
    op: Op
    value: float | tuple[float, float]

    @field_validator("metric")
    @classmethod
    def _metric_is_loggable(cls, v):
        return _loggable(v)

    @model_validator(mode="after")
    def _value_fits_op(self):
        values = self.value if isinstance(self.value, tuple) else (self.value,)
        if not all(math.isfinite(v) for v in values):
            raise ValueError("value must be a finite number")
        if self.op == "between":
            if not isinstance(self.value, tuple):
                raise ValueError("'between' needs two values: [low, high]")
            if self.value[0] > self.value[1]:
                raise ValueError("'between' needs [low, high] with low <= high")
        elif isinstance(self.value, tuple):
            raise ValueError(f"op {self.op!r} needs one number, not a list")
        return self


class Prediction(Condition):
    label: str = Field(min_length=1)


class SuccessCriteria(Strict):
    primary: Condition
    secondary: Condition | None = None
    tertiary: Condition | None = None

    def levels(self) -> list[tuple[str, Condition]]:
        return [(name, c) for name in ("primary", "secondary", "tertiary") if (c := getattr(self, name))]


class Model(Strict):
    name: str = Field(min_length=1)
    quantization: Literal["none", "4bit"] = "none"


class CuratedSource(Strict):
    path: str = Field(min_length=1)
    select_top: int | None = Field(default=None, gt=0)


class SyntheticSource(Strict):
    path: str = Field(min_length=1)
    ratio: float = Field(ge=0.0, lt=1.0)  # synthetic's share of the final mix: see synthetic_needed


def synthetic_needed(curated_count: int, ratio: float) -> int:
    """How many synthetic examples make them `ratio` of the final set (100 curated at 0.33 → 49)."""
    if ratio <= 0:
        return 0
    return math.floor(curated_count * ratio / (1 - ratio) + 0.5)


class Scoring(Strict):
    message_count: float = 2.0
    length_per_100: float = 1.0
    personality: float = 3.0
    questions: float = 0.5
    agent_penalty: float = 10.0


class HeldoutSource(Strict):
    """Conversations never trained on: their loss is logged per epoch as `eval_loss` (and pruned on)."""

    path: str = Field(min_length=1)


class Dataset(Strict):
    curated: CuratedSource
    synthetic: SyntheticSource | None = None
    heldout: HeldoutSource | None = None
    scoring: Scoring = Scoring()


class Training(Strict):
    epochs: int = Field(default=6, ge=1, le=1000)
    batch_size: int = Field(default=2, ge=1)
    grad_accum: int = Field(default=4, ge=1)
    learning_rate: float = Field(default=2.0e-4, gt=0)
    lora_r: int = Field(default=16, ge=1)
    lora_alpha: int = Field(default=32, ge=1)
    max_seq_length: int = Field(default=512, ge=8)
    seed: int = 0


class Eval(Strict):
    suite: str = Field(min_length=1)
    max_new_tokens: int = Field(default=384, ge=1)
    temperature: float = Field(default=0.7, ge=0.0)
    top_p: float = Field(default=0.9, gt=0.0, le=1.0)
    samples: int = Field(default=1, ge=1)


class Experiment(Strict):
    model: Model
    dataset: Dataset
    training: Training = Training()
    eval: Eval
    replicates: int = Field(default=1, ge=1, le=100)


class Option(Strict):
    option: str = Field(min_length=1)
    title: str = Field(min_length=1)
    changes: dict[str, Any] = {}
    expected: float | tuple[float, float] | None = None
    effort: str | None = None
    risk: str | None = None


class SearchParam(Strict):
    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _bounds(self):
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical parameter needs 'choices'")
        elif self.low is None or self.high is None or self.low > self.high:
            raise ValueError(f"a {self.type} parameter needs 'low' <= 'high'")
        return self


class Objective(Strict):
    metric: str = "score"
    direction: Literal["maximize", "minimize"] = "maximize"

    @field_validator("metric")
    @classmethod
    def _metric_is_loggable(cls, v):
        return _loggable(v)


class Sweep(Strict):
    trials: int = Field(default=20, ge=1)
    objective: Objective = Objective()
    space: dict[str, SearchParam]
    pruner: Literal["hyperband", "median", "none"] = "hyperband"


class Hypothesis(Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    version: str | None = None
    parent: str | None = Field(default=None, pattern=ID_PATTERN)
    author: str | None = None
    created: dt.date | None = None
    rationale: dict[str, str] = {}
    experiment: Experiment
    predictions: list[Prediction] = []
    success_criteria: SuccessCriteria
    on_failure: list[Option] = []
    on_success: list[Option] = []
    sweep: Sweep | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_label(cls, v):
        # `version: 2.3` is a label, not a number.
        return str(v) if isinstance(v, int | float) else v


# --- evaluation suite (SPEC §4) ---


class Persona(Strict):
    name: str = Field(min_length=1)
    markers: list[str] = []
    wrong_identities: list[str] = []


class Question(Strict):
    id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    facts: list[list[str]] = []
    forbidden: list[str] = []
    reference: str | None = None  # a model answer; its overlap with each answer is logged (ROUGE-L)

    @field_validator("id")
    @classmethod
    def _id_names_metrics(cls, v):
        problem = question_id_problem(v)
        if problem:
            raise ValueError(f"{v[:60]!r} {problem}")
        return v

    @field_validator("reference")
    @classmethod
    def _reference_has_text(cls, v):
        # An empty model answer overlaps nothing: every answer would log ROUGE-L 0, a measurement of nothing.
        if v is not None and not v.strip():
            raise ValueError("empty: write the model answer, or leave `reference` out")
        return v

    @field_validator("facts", mode="before")
    @classmethod
    def _groups(cls, v):
        # A bare word is a group of one: `facts: [Softtor, [founder, CEO]]`.
        if isinstance(v, list):
            return [g if isinstance(g, list) else [g] for g in v]
        return v


class EvalSuite(Strict):
    name: str = Field(min_length=1)
    persona: Persona
    agent_patterns: list[str] = []
    template_markers: list[str] = []
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self):
        seen: dict[str, int] = {}
        for i, q in enumerate(self.questions):
            if q.id in seen:
                raise AtField(("questions", i, "id"), f"question id {q.id!r} appears twice "
                                                      f"(first at questions[{seen[q.id]}])")
            seen[q.id] = i
        return self

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)
