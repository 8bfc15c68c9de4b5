"""The project's config: what units exist and what they report (`units.yaml`), and the
programme, issuer, recipients, template, rules and schedule (`report.yaml`).

`load_config(directory)` reads and validates both files (`config.load`); the loaded objects
are the immutable model of `config.model` and `config.template`, pydantic dataclasses that
also carry the files' checks (`config.checks`; `config.errors` says pydantic's errors in
Vietnamese). `config.expressions` is the small language of a rule's sides.
"""

from __future__ import annotations

from housing_report.config.load import load_config
from housing_report.config.model import (
    DEFAULT_CONFIG_DIR,
    ApprovalPolicy,
    Approver,
    Config,
    ConfigError,
    Contact,
    Issuer,
    Office,
    Precheck,
    Programme,
    Progress,
    ReportConfig,
    Schedule,
    Signature,
    Unit,
)
from housing_report.config.rules import OPERATOR_WORDS, Outliers, Rule
from housing_report.config.template import (
    Item,
    Requirement,
    Section,
    Template,
    UnitKind,
    select_keys,
    total_keys,
)

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "OPERATOR_WORDS",
    "ApprovalPolicy",
    "Approver",
    "Config",
    "ConfigError",
    "Contact",
    "Issuer",
    "Item",
    "Office",
    "Outliers",
    "Precheck",
    "Programme",
    "Progress",
    "ReportConfig",
    "Requirement",
    "Rule",
    "Schedule",
    "Section",
    "Signature",
    "Template",
    "Unit",
    "UnitKind",
    "load_config",
    "select_keys",
    "total_keys",
]
