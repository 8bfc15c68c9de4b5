"""The units' pre-check before a collection day (issue 21): the sheets changed since their last
check are read and validated as the provincial run does, and each unit sees the result in its
own spreadsheet (worksheet `KiemTra`), or in a workbook of the same sheet on the local source."""
