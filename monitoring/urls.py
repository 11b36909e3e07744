from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export.xlsx", views.export, name="export"),
    path("thresholds/", views.thresholds, name="thresholds"),
    path("thresholds/<int:pk>/delete/", views.threshold_delete, name="threshold_delete"),
    path("balances/", views.balances, name="balances"),
    path("reports/", views.reports, name="reports"),
]
