from django.urls import path

from cooperation import views

app_name = "cooperation"

urlpatterns = [
    path("assists/", views.assist_list, name="assist_list"),
    path("assists/export.xlsx", views.assist_export, name="assist_export"),
    path("assists/national-export.xlsx", views.assist_national_export, name="assist_national_export"),
    path("assists/source/", views.assist_source, name="assist_source"),
    path("assists/new/", views.assist_new, name="assist_new"),
    path("assists/import/", views.assist_import, name="assist_import"),
    path("assists/import/confirm/", views.assist_import_confirm, name="assist_import_confirm"),
    path("assists/<int:pk>/", views.assist_detail, name="assist_detail"),
    path("assists/<int:pk>/answer/", views.assist_answer, name="assist_answer"),
    path("assists/<int:pk>/delay/", views.assist_delay, name="assist_delay"),
    path("assists/<int:pk>/confirm/", views.assist_confirm, name="assist_confirm"),
    path("assists/<int:pk>/dispute/", views.assist_dispute, name="assist_dispute"),
    path("assists/<int:pk>/attachments/", views.assist_attach, name="assist_attach"),
    path("assists/<int:pk>/deduction/", views.assist_deduct, name="assist_deduct"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("coordinations/", views.coordination_list, name="coordination_list"),
    path("coordinations/export.xlsx", views.coordination_export, name="coordination_export"),
    path("coordinations/new/", views.coordination_new, name="coordination_new"),
    path("coordinations/<int:pk>/", views.coordination_detail, name="coordination_detail"),
    path("coordinations/<int:pk>/note/", views.coordination_note, name="coordination_note"),
    path("coordinations/<int:pk>/attachments/", views.coordination_attach, name="coordination_attach"),
    path("coordinations/<int:pk>/helper/", views.coordination_helper, name="coordination_helper"),
    path("coordinations/<int:pk>/extend/", views.coordination_extend, name="coordination_extend"),
    path("coordinations/<int:pk>/kind/", views.coordination_reclassify, name="coordination_reclassify"),
    path("coordinations/<int:pk>/reply/", views.coordination_reply, name="coordination_reply"),
    path("coordinations/<int:pk>/confirm/", views.coordination_confirm, name="coordination_confirm"),
    path("coordinations/<int:pk>/dispute/", views.coordination_dispute, name="coordination_dispute"),
    path("coordinations/<int:pk>/escalate/", views.coordination_escalate, name="coordination_escalate"),
]
