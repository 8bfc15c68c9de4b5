"""The project's config: what units exist and what they report (`units.yaml`), and the
programme, issuer, recipients, template, rules and schedule (`report.yaml`).

`load_config(directory)` reads and validates both files (`config.load`); the loaded objects
are the immutable model of `config.model`. `config.expressions` is the small language of a
rule's sides.
"""

from __future__ import annotations

from housing_report.config.load import load_config
from housing_report.config.model import (
    DEFAULT_CONFIG_DIR,
    OPERATOR_WORDS,
    Config,
    ConfigError,
    Contact,
    Issuer,
    Item,
    Outliers,
    Programme,
    Progress,
    ReportConfig,
    Requirement,
    Rule,
    Schedule,
    Section,
    Signature,
    Template,
    Unit,
    UnitKind,
    select_keys,
    total_keys,
)

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "OPERATOR_WORDS",
    "Config",
    "ConfigError",
    "Contact",
    "Issuer",
    "Item",
    "Outliers",
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
