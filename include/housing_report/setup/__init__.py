"""Setup: the units' sheets before any report. `template_workbook` generates the blank unit
workbook from the config's template; `provision` creates, shares and protects the units'
Google spreadsheets."""
