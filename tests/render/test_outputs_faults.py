"""Outputs into a folder the system cannot write: one line naming the folder (`NotWritable`, an
error no retry can fix), not a traceback from deep in the rendering."""

from __future__ import annotations

import pytest

from housing_report.core.errors import NotWritable, Permanent
from housing_report.render.outputs import write_outputs
from tests.support.summary_fixture import make_summary


def test_a_read_only_output_folder_names_the_folder(config, read_only_dir):
    with pytest.raises(NotWritable) as caught:
        write_outputs(config, make_summary(), read_only_dir / "2025-03-12")
    assert str(caught.value).startswith(f"Không có quyền ghi vào thư mục {read_only_dir} ")
    assert isinstance(caught.value, Permanent)


def test_a_read_only_period_folder_is_refused_at_the_first_file(config, tmp_path):
    from tests.support.unwritable import locked

    folder = tmp_path / "2025-03-12"
    folder.mkdir()
    with locked(folder), pytest.raises(NotWritable, match=f"^Không có quyền ghi vào thư mục {folder} "):
        write_outputs(config, make_summary(), folder)
