from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from core import auth_views as two_step
from core import person_views, security_views, views
from core.passwords import PasswordChangeView

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico before they read the page's <link rel="icon">.
    # The login page asks for it too, so it is open to everyone (not a redirect to the login).
    path("favicon.ico", login_not_required(RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=True)),
         name="favicon"),
    path("login/", two_step.PasswordStepView.as_view(), name="login"),
    path("login/otp/", two_step.otp_step, name="login_otp"),
    path("account/recovery-codes/", two_step.recovery_codes, name="recovery_codes"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("documents/", views.document_list, name="document_list"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
    path("search/", person_views.search, name="search"),
    path("people/<int:pk>/", person_views.person_detail, name="person_detail"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/template.csv", views.calendar_template, name="calendar_template"),
    path("selftest/", views.selftest, name="selftest"),
    path("security/", security_views.security_overview, name="security_overview"),
]
