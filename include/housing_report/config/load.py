"""Load and validate the project's config: `units.yaml` and `report.yaml`.

Both files are validated as a whole when loaded; the first problem raises
`ConfigError` naming the file, the key (as a path like `units[3].kind`) and what
is wrong, in Vietnamese, for the admin who edits them.

Each file is read with PyYAML (its C parser when built) and validated in one pydantic call
against the model of the file (`ReportFile`, `UnitsFile`), whose parts are the config's model
(`config.model`, `config.template`). The call's context is what the checks share: the template
and constants once valid (for the cross-references), the codes seen in a list (for duplicates).
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, TypeVar

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
    Issuer,
    Office,
    Programme,
    Progress,
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
        )


@dataclass(frozen=True, config=STRICT)
class UnitsFile:
    """`units.yaml` as written."""

    units: Annotated[tuple[Unit, ...], Check(items), Scoped()]


_ADAPTERS: dict[type, TypeAdapter[Any]] = {
    ReportFile: TypeAdapter(ReportFile),
    UnitsFile: TypeAdapter(UnitsFile),
}


def _read(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(path, "(tệp)", "không tìm thấy tệp cấu hình")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"dòng {mark.line + 1}, cột {mark.column + 1}" if mark else "(cú pháp)"
        raise ConfigError(path, where, f"không đọc được YAML: {getattr(exc, 'problem', exc)}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(tệp)", "tệp không phải văn bản UTF-8") from exc


def _validate(model: type[_T], path: Path, context: dict[str, Any]) -> _T:
    data = _read(path)
    try:
        return _ADAPTERS[model].validate_python(data, context=context)
    except ValidationError as exc:
        key, problem = first_problem(exc, model, data)
    raise ConfigError(path, key, problem)  # outside the except: no English of pydantic's chained


def load_report_config(path: Path) -> ReportConfig:
    return _validate(ReportFile, path, {}).report_config()


def load_units(path: Path, template: Template) -> tuple[Unit, ...]:
    return _validate(UnitsFile, path, {"template": template}).units


def load_config(directory: str | Path | None = None) -> Config:
    """Load `report.yaml` and `units.yaml` from `directory` (default: include/config)."""
    directory = Path(directory) if directory else DEFAULT_CONFIG_DIR
    report = load_report_config(directory / "report.yaml")
    units = load_units(directory / "units.yaml", report.template)
    return Config(report=report, units=units, directory=directory)
