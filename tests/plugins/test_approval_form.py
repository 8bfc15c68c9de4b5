"""The approval form as Airflow's UI draws it: a field whose JSON-schema type does not admit
null is required, and while a required field is empty both buttons (approve, reject) stay
disabled. So every field either comes pre-filled from report.yaml or may be left empty: the
number is needed only to approve, the reason only to reject (checked by
housing_report.deliver.approval, not by the form). tests/ui/test_admin_in_browser.py answers it
in a browser."""

from __future__ import annotations

from housing_report.config import load_config
from housing_report.deliver.approval import NUMBER, REASON, form_defaults
from housing_report_airflow.approval import FORM


def required_by_the_ui(schema: dict) -> bool:
    kind = schema.get("type")
    return bool(kind) and not (isinstance(kind, list) and "null" in kind)


def test_every_field_the_ui_requires_is_pre_filled():
    defaults = form_defaults(load_config())
    assert set(defaults) == set(FORM)
    required = {name for name, param in FORM.items() if required_by_the_ui(param.schema)}
    assert required, "the texts of the report are required (pre-filled)"
    assert {name for name in required if not defaults[name].strip()} == set()


def test_the_number_and_the_reason_may_be_left_empty():
    assert not required_by_the_ui(FORM[NUMBER].schema)
    assert not required_by_the_ui(FORM[REASON].schema)
