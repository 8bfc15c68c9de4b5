"""The provincial report on eliminating temporary and dilapidated houses, without Airflow.

Packages by stage of the data flow, each importing only those below it (`.importlinter`):

    pipeline   the steps the DAGs' tasks call
    deliver    the message, its transports, the send-once ledger
    render     the email, the workbook, the official document, the admins' page
    aggregate  the provincial summary, data quality across units, corrections, forecast
    archive    the report database and its migrations
    validate   values, parse, rules, history, outliers  |  setup: provisioning, blank template
    collect    the sources of the units' worksheets (local workbooks, Google Sheets)
    config     units.yaml and report.yaml, loaded and validated
    core       shared words: models, the summary, statuses, Vietnamese numbers and dates
"""
