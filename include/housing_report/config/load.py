"""Load and validate the project's config: `units.yaml` and `report.yaml`.

Both files are validated as a whole when loaded; the first problem raises
`ConfigError` naming the file, the key (as a path like `units[3].kind`) and what
is wrong, in Vietnamese, for the admin who edits them.

Each file is read with PyYAML (its C parser when built) and validated in one pydantic call
against the model of the file (`ReportFile`, `UnitsFile`), whose parts are the config's model
(`config.model`, `config.template`). The call's context is what the checks share: the template
and constants once valid (for the cross-references), the codes seen in a list (for duplicates).

Loading is cheap after the first time, as every task instance loads the config (3 321 units
at national scale: ~0.3 s of YAML, nearly all in PyYAML's Python constructor, C parser or not):

- in a process, `load_config` keeps the last configs it validated, keyed by the directory and
  the two files' bytes (read and hashed each call, ~1 ms): a file changed is loaded again;
- across processes (each task instance is one), what a file's YAML parsed to is kept as
  msgpack in a private cache folder (`HOUSING_REPORT_CACHE_DIR`, else `~/.cache/housing-report`),
  keyed by the file's path and checked against its bytes' SHA-256, and validated as if just
  parsed: only plain data (no dates) is kept, and a cache that cannot be read or written is
  passed over (the YAML is parsed, as without it).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import yaml
from pydantic import (
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass

from housing_report.config.checks import (
    Check,
    Scoped,
    constant_name,
    ignore_other_keys,
    items,
    items_or_empty,
    mapping,
    number,
)
from housing_report.config.errors import first_problem
from housing_report.config.model import (
    DEFAULT_CONFIG_DIR,
    ApprovalPolicy,
    Config,
    ConfigError,
    Contact,
    FundsApart,
    Issuer,
    Office,
    Precheck,
    Programme,
    Progress,
    Recommendations,
    ReportConfig,
    Schedule,
    Unit,
    no_approval,
)
from housing_report.config.rules import Outliers, Rule
from housing_report.config.template import STRICT, Template

# libyaml's parser when PyYAML was built with it: several times faster at national scale.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_T = TypeVar("_T")

Contacts = Annotated[tuple[Contact, ...], Check(items)]


@dataclass(frozen=True, config=ConfigDict(extra="ignore"))
class Recipients:
    to: Contacts
    cc: Annotated[tuple[Contact, ...], Check(items_or_empty)] = ()

    _ignore_other_keys = model_validator(mode="before")(ignore_other_keys)


@dataclass(frozen=True, config=STRICT, kw_only=True)
class ReportFile:
    """`report.yaml` as written; its parts are the `ReportConfig`'s. The fields in the order of
    the file's checks, which is also that of their references (the rules read the template and
    the constants)."""

    programme: Programme
    issuer: Issuer
    recipients: Recipients
    admins: Contacts
    schedule: Schedule
    template: Template
    constants: Annotated[
        dict[Annotated[str, Check(constant_name)], Annotated[float, Check(number)]],
        Check(lambda v: {} if v is None else mapping(v)),
    ] = Field(default_factory=dict, validate_default=True)  # validated: the rules read them
    rules: Annotated[tuple[Rule, ...], Check(lambda v: [] if v is None else items_or_empty(v))] = ()
    progress: Progress
    outliers: Annotated[Outliers, Check(lambda v: Outliers() if v is None else v)] = field(
        default_factory=Outliers
    )
    approval: Annotated[ApprovalPolicy | None, Check(no_approval)] = None
    office: Office | None = None
    recommendations: Annotated[Recommendations, Check(lambda v: Recommendations() if v is None else v)] = (
        field(default_factory=Recommendations)
    )
    funds_apart: Annotated[FundsApart, Check(lambda v: FundsApart() if v is None else v)] = field(
        default_factory=FundsApart
    )
    precheck: Annotated[Precheck, Check(lambda v: Precheck() if v is None else v)] = field(
        default_factory=Precheck
    )

    @field_validator("template", "constants")
    @classmethod
    def _shared(cls, value: Any, info: ValidationInfo) -> Any:
        """What the rules, the progress and the outliers refer to, once valid."""
        if info.context is not None:
            info.context[info.field_name] = value
        return value

    def report_config(self) -> ReportConfig:
        return ReportConfig(
            programme=self.programme,
            issuer=self.issuer,
            to=self.recipients.to,
            cc=self.recipients.cc,
            admins=self.admins,
            schedule=self.schedule,
            template=self.template,
            rules=self.rules,
            progress=self.progress,
            constants=self.constants,
            outliers=self.outliers,
            approval=self.approval,
            office=self.office,
            recommendations=self.recommendations,
            funds_apart=self.funds_apart,
            precheck=self.precheck,
        )


@dataclass(frozen=True, config=STRICT)
class UnitsFile:
    """`units.yaml` as written."""

    units: Annotated[tuple[Unit, ...], Check(items), Scoped()]


_ADAPTERS: dict[type, TypeAdapter[Any]] = {
    ReportFile: TypeAdapter(ReportFile),
    UnitsFile: TypeAdapter(UnitsFile),
}


CACHE_ENV = "HOUSING_REPORT_CACHE_DIR"
# Bumped when what is kept changes.
_CACHE_FORMAT = 1
# Validated configs kept in this process (a few: tests load several folders).
_KEPT = 8


def _bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ConfigError(path, "(tệp)", "không tìm thấy tệp cấu hình")
    return path.read_bytes()


def cache_dir() -> Path:
    """The folder of what is kept across processes: the parsed files (see the module's docstring)
    and, in its `templates/`, the compiled templates (`render.environment`)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "housing-report"


def _cache_file(path: Path) -> Path:
    name = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:32]
    return cache_dir() / f"config-{name}.msgpack"


class _Parsed(msgspec.Struct, array_like=True):
    format: int
    sha256: str
    data: Any


def _cached(path: Path, digest: str) -> Any:
    """What the file of `digest` parsed to, if kept; `_MISSING` otherwise."""
    try:
        kept = msgspec.msgpack.decode(_cache_file(path).read_bytes(), type=_Parsed)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return _MISSING
    if kept.format != _CACHE_FORMAT or kept.sha256 != digest:
        return _MISSING
    return kept.data


def _keep(path: Path, digest: str, data: Any) -> None:
    """Keep what the file parsed to, if it is plain data that msgpack gives back as it is."""
    try:
        encoded = msgspec.msgpack.encode(_Parsed(_CACHE_FORMAT, digest, data))
        if msgspec.msgpack.decode(encoded, type=_Parsed).data != data:
            return  # dates, or anything else msgpack would give back otherwise
        target = _cache_file(path)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(encoded)
        tmp.replace(target)
    except (OSError, TypeError, ValueError, msgspec.MsgspecError):
        return


_MISSING = object()


def _read(path: Path, raw: bytes | None = None) -> Any:
    raw = _bytes(path) if raw is None else raw
    digest = hashlib.sha256(raw).hexdigest()
    data = _cached(path, digest)
    if data is not _MISSING:
        return data
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"dòng {mark.line + 1}, cột {mark.column + 1}" if mark else "(cú pháp)"
        raise ConfigError(path, where, f"không đọc được YAML: {getattr(exc, 'problem', exc)}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(tệp)", "tệp không phải văn bản UTF-8") from exc
    _keep(path, digest, data)
    return data


def _validate(model: type[_T], path: Path, context: dict[str, Any], raw: bytes | None = None) -> _T:
    data = _read(path, raw)
    try:
        return _ADAPTERS[model].validate_python(data, context=context)
    except ValidationError as exc:
        key, problem = first_problem(exc, model, data)
    raise ConfigError(path, key, problem)  # outside the except: no English of pydantic's chained


def load_report_config(path: Path, raw: bytes | None = None) -> ReportConfig:
    return _validate(ReportFile, path, {}, raw).report_config()


def load_units(path: Path, template: Template, raw: bytes | None = None) -> tuple[Unit, ...]:
    return _validate(UnitsFile, path, {"template": template}, raw).units


_loaded: dict[tuple[Path, bytes, bytes], Config] = {}
_lock = threading.Lock()


def load_config(directory: str | Path | None = None) -> Config:
    """Load `report.yaml` and `units.yaml` from `directory` (default: include/config); the same
    `Config` again while neither file has changed (see the module's docstring)."""
    directory = Path(directory) if directory else DEFAULT_CONFIG_DIR
    report_raw = _bytes(directory / "report.yaml")
    try:
        units_raw = _bytes(directory / "units.yaml")
    except ConfigError:
        load_report_config(directory / "report.yaml", report_raw)  # its own error first, if any
        raise
    key = (directory, hashlib.sha256(report_raw).digest(), hashlib.sha256(units_raw).digest())
    with _lock:
        config = _loaded.get(key)
    if config is not None:
        return config
    report = load_report_config(directory / "report.yaml", report_raw)
    units = load_units(directory / "units.yaml", report.template, units_raw)
    config = Config(report=report, units=units, directory=directory)
    with _lock:
        while len(_loaded) >= _KEPT:
            del _loaded[next(iter(_loaded))]
        _loaded[key] = config
    return config


def forget_loaded() -> None:
    """Forget the configs this process has validated (the next `load_config` validates again)."""
    with _lock:
        _loaded.clear()
