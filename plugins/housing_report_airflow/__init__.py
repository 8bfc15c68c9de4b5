"""Airflow glue for the housing report: settings from Variables, hooks over Connections.

The business logic lives in `include/housing_report` and imports no Airflow; this
package turns Airflow's Variables and Connections into the plain objects it takes.
"""
