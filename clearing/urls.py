from django.urls import path

from clearing import adjustment_views, foreign_advance_views, reconciliation_views, views

app_name = "clearing"

urlpatterns = [
    path("", views.period_list, name="period_list"),
    path("periods/new/", views.period_create, name="period_create"),
    path("periods/<str:period>/", views.period_detail, name="period_detail"),
    path("periods/<str:period>/cross/", views.period_cross, name="period_cross"),
    path("periods/<str:period>/settlements/", views.settlement_list, name="settlement_list"),
    path("periods/<str:period>/notices.zip", views.period_notices_zip, name="period_notices_zip"),
    path("periods/<str:period>/settlements/export.xlsx", views.settlement_export, name="settlement_export"),
    path("periods/<str:period>/emergency/", views.emergency_create, name="emergency_create"),
    path("periods/<str:period>/<str:action>/", views.period_action, name="period_action"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
    path("adjustments/", adjustment_views.adjustment_list, name="adjustment_list"),
    path("adjustments/import/", adjustment_views.adjustment_import, name="adjustment_import"),
    path("adjustments/refund/", adjustment_views.adjustment_refund, name="adjustment_refund"),
    path("adjustments/deduction/", adjustment_views.adjustment_deduction, name="adjustment_deduction"),
    path("reconciliation/", reconciliation_views.reconciliation_overview, name="reconciliation"),
    path("reconciliation/import/", reconciliation_views.reconciliation_import, name="reconciliation_import"),
    path("reconciliation/<int:pk>/correct/", reconciliation_views.reconciliation_correct, name="reconciliation_correct"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("advances/", views.advance_index, name="advance_index"),
    path("advances/<int:year>/", views.advance_year, name="advance_year"),
    path("advances/<int:year>/ledger/export.xlsx", views.advance_ledger_export, name="advance_ledger_export"),
    path("advances/<int:year>/allotments/", views.allotments, name="allotments"),
    path("advances/<int:year>/ledger/city/<str:code>/", views.ledger_city, name="ledger_city"),
    path("advances/<int:year>/ledger/province/<str:code>/", views.ledger_province, name="ledger_province"),
    path("advances/<int:year>/foreign/", foreign_advance_views.foreign_advances, name="foreign_advances"),
    path("advances/<int:year>/foreign/receive/", foreign_advance_views.foreign_advance_receive, name="foreign_advance_receive"),
    path("advances/<int:year>/foreign/clearing/", foreign_advance_views.foreign_clearing_receive, name="foreign_clearing_receive"),
    path("advances/<int:year>/<str:action>/", views.advance_action, name="advance_action"),
]
