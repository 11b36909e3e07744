from import_export import fields, resources, widgets

from core.models import Institution, Region


class InstitutionResource(resources.ModelResource):
    region = fields.Field(attribute="region", column_name="region", widget=widgets.ForeignKeyWidget(Region, "code"))

    class Meta:
        model = Institution
        import_id_fields = ["code"]
        fields = ["code", "name", "region", "kind", "level", "designated", "networked", "can_refer"]
        skip_unchanged = True
        report_skipped = False
