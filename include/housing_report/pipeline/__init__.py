"""Pipeline: the steps the DAGs' tasks call, as plain functions over the stages below:
`report` (collect a batch, summarise, replay) and `reminders` (which units have updated)."""
