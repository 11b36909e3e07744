from django.urls import path

from filings import views

app_name = "filings"

urlpatterns = [
    path("", views.filing_list, name="list"),
    path("export.xlsx", views.filing_export, name="export"),
    path("new/", views.filing_new, name="new"),
    path("new/person/", views.person_lookup, name="person_lookup"),
    path("new/checklist/", views.checklist_partial, name="checklist"),
    path("review/", views.review_queue, name="review_queue"),
    path("commitments/", views.commitment_list, name="commitments"),
    path("import/", views.import_applications, name="import"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("upload/", views.upload, name="upload"),
    path("upload/result/", views.upload_result, name="upload_result"),
    path("settings/", views.region_settings, name="settings"),
    path("<int:pk>/", views.filing_detail, name="detail"),
    path("<int:pk>/edit/", views.filing_edit, name="edit"),
    path("<int:pk>/activate/", views.filing_activate, name="activate"),
    path("<int:pk>/delete/", views.filing_delete, name="delete"),
    path("<int:pk>/change/", views.filing_change, name="change"),
    path("<int:pk>/cancel/", views.filing_cancel, name="cancel"),
    path("<int:pk>/materials/", views.filing_materials, name="materials"),
    path("<int:pk>/review/", views.filing_review, name="review"),
    path("<int:pk>/receipt/", views.filing_receipt, name="receipt"),
    path("<int:pk>/print/<str:form_code>/", views.filing_print, name="print"),
]
