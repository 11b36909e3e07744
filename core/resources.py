from import_export import fields, resources, widgets
from import_export.formats import base_formats

from core import safe_files
from core.errors import DomainError
from core.models import Institution, Region


class SafeCSV(base_formats.CSV):
    """The admin's CSV import, within the small-table limits (core.safe_files)."""

    def create_dataset(self, in_stream, **kwargs):
        size = len(in_stream.encode() if isinstance(in_stream, str) else in_stream)
        message = safe_files.upload_size_error(size, safe_files.SMALL_TABLE)
        if message:
            raise DomainError(message, code="too_large")
        return super().create_dataset(in_stream, **kwargs)


class SafeXLSX(base_formats.XLSX):
    """The admin's XLSX import: the archive is checked (zip bombs, extent) before openpyxl opens it."""

    def create_dataset(self, in_stream):
        message = safe_files.upload_size_error(len(in_stream), safe_files.SMALL_TABLE)
        if message:
            raise DomainError(message, code="too_large")
        safe_files.inspect_xlsx(in_stream, safe_files.SMALL_TABLE)
        return super().create_dataset(in_stream)


#: What the admin's import buttons accept.
IMPORT_FORMATS = [SafeCSV, SafeXLSX]


class InstitutionResource(resources.ModelResource):
    region = fields.Field(attribute="region", column_name="region", widget=widgets.ForeignKeyWidget(Region, "code"))

    class Meta:
        model = Institution
        import_id_fields = ["code"]
        fields = ["code", "name", "region", "kind", "level", "designated", "networked", "can_refer"]
        skip_unchanged = True
        report_skipped = False
