"""Aggregate: the provincial summary of a period from the units' reads (`summary`), data
quality across units (`quality`: outliers among peers, reporting rates), what changed since a
delivered version (`corrections`) and when each place finishes at its pace (`forecast`)."""
