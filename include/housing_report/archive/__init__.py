"""Archive: the report database (SQLite or PostgreSQL), where tasks hand each other data.
`store.ReportStore` is the reads (`reads`), the summaries (`summaries`) and the delivery log
(`deliveries`) over one engine; `schema` holds the tables and `migrations/` their history."""
