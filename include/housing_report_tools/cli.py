"""Command line for admins: `python -m housing_report_tools.cli template PATH [--unit CODE]` (the
blank unit workbook), `... contract [PATH]` (the units' template contract, by default
docs/vi/mau-bao-cao.md) and `... check-config`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from housing_report.config import ConfigError, load_config
from housing_report.setup.template_workbook import write_template
from housing_report_tools.contract import DEFAULT_PATH, write_contract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="housing_report_tools.cli")
    parser.add_argument("--config", help="config folder (default: include/config)")
    sub = parser.add_subparsers(dest="command", required=True)
    tpl = sub.add_parser("template", help="write the blank unit workbook (.xlsx)")
    tpl.add_argument("path", type=Path)
    tpl.add_argument("--unit", help="prefill for this unit code (its name and worksheet)")
    sub.add_parser("check-config", help="load and validate the config")
    con = sub.add_parser("contract", help="write the units' template contract, in Vietnamese (Markdown)")
    con.add_argument(
        "path", nargs="?", type=Path, default=DEFAULT_PATH, help="default: docs/vi/mau-bao-cao.md"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"Lỗi cấu hình: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(f"Cấu hình hợp lệ: {len(config.units)} đơn vị, {len(config.template.sections)} mục.")
        return 0
    if args.command == "contract":
        path = write_contract(config, args.path)
        print(f"Đã ghi quy ước mẫu báo cáo: {path.resolve()}")
        return 0
    unit = config.unit(args.unit) if args.unit else None
    args.path.parent.mkdir(parents=True, exist_ok=True)
    write_template(config, args.path, unit=unit)
    print(f"Đã ghi mẫu báo cáo: {args.path.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
