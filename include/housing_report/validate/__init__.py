"""Validate: a unit's worksheet read against the template. `values` reads one cell the
Vietnamese way, `parse` reads a sheet into figures and findings, `rules` evaluates report.yaml's
rules across units with pandas, `history` compares with a unit's last accepted figures,
`outliers` finds unusual increases among peers, `freshness` reads the period a sheet names.
No database: what earlier periods said is handed in by the caller."""
