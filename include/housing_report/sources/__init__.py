"""Where the units' worksheets come from: local workbooks or Google Sheets."""
