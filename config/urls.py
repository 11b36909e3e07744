from django.contrib import admin
from django.urls import include, path

# The admin modules are read here, not at start-up (core.admin_app).
admin.autodiscover()
admin.site.site_header = "异地就医经办服务平台 · 系统管理"
admin.site.site_title = "异地就医经办服务平台"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", include("core.urls")),
    path("filings/", include("filings.urls")),
    path("reimbursement/", include("reimbursement.urls")),
    path("clearing/", include("clearing.urls")),
    path("cooperation/", include("cooperation.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("admin/", admin.site.urls),
]
