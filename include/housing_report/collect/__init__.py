"""Collect: where the units' worksheets come from. `ReportSource` (`base`) is implemented over a
folder of .xlsx workbooks (`local`, the demo's) and over Google Sheets (`google`, through the
gspread client of `google_client`); both give each unit's worksheet as a `core.models.Grid`."""
