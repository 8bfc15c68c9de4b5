"""Tools for developers and admins, outside the runtime package: the command line (`cli`), the
sample workbooks (`sample_data`) and the preview of a period's outputs (`preview`)."""
