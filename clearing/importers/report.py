"""The import report: what a file held, every bad row by its row number, what
was written; printed by the command and stored on the upload's batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: How many row errors a report keeps (the count is always exact).
MAX_REPORTED_ERRORS = 100_000


@dataclass
class RowError:
    row: int
    message: str

    def as_json(self) -> list:
        return [self.row, self.message]


@dataclass
class ImportReport:
    filename: str
    encoding: str = ""
    file_format: str = ""
    rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    inserted: int = 0
    skipped: int = 0
    periods: dict[str, dict[str, Any]] = field(default_factory=dict)
    preview: list[list[str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    #: lines about what the import did besides inserting (demo data a real file replaced)
    notes: list[str] = field(default_factory=list)
    path: str = ""
    seconds: float = 0.0
    committed: bool = False
    dry_run: bool = False
    skip_invalid: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_error and (self.error_count == 0 or self.skip_invalid)

    @property
    def refused(self) -> bool:
        return not self.ok

    def add_error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, message))

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda error: error.row)

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def summary_line(self) -> str:
        name = self.filename
        if self.file_error:
            return f"{name}：未导入。{self.file_error}"
        if self.refused:
            return f"{name}：未导入（本文件的数据均未写入）。共 {self.rows} 行数据，其中 {self.error_count} 行有错误："
        verb = "校验通过，可以导入" if self.dry_run else "已导入"
        parts = [f"{name}：{verb} {self.rows} 行"]
        if self.dry_run:
            parts.append(f"（将新增 {self.inserted} 行，已存在 {self.skipped} 行）")
        else:
            parts.append(f"（新增 {self.inserted} 行，已存在未重复导入 {self.skipped} 行）")
        if self.skip_invalid and self.error_count:
            parts.append(f"；按要求跳过有错误的 {self.error_count} 行")
        parts.append(f"；编码 {self.encoding}；用时 {self.seconds:.2f} 秒")
        return "".join(parts)

    def text(self) -> str:
        """The row-numbered report the command prints."""
        lines = [self.summary_line()]
        if self.error_count:
            lines += [f"  第 {error.row} 行：{error.message}" for error in self.sorted_errors()]
            if self.errors_truncated:
                lines.append(f"  ……另有 {self.error_count - len(self.errors)} 行错误未逐条列出。")
        if self.ignored_columns:
            lines.append(f"  （已忽略不认识的列：{'、'.join(self.ignored_columns)}）")
        if self.committed or (self.dry_run and self.ok):
            lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def summary_json(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "format": self.file_format,
            "path": self.path,
            "periods": self.periods,
            "ignored_columns": self.ignored_columns,
            "notes": self.notes,
            "dry_run": self.dry_run,
        }
