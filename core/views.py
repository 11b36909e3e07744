from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.dashboard import panels_for
from core.decorators import role_required
from core.documents import download_response, kind_labels
from core.errors import DomainError
from core.forms import CalendarImportForm
from core.middleware import passive
from core.models import CalendarDay, CalendarYear, Document, Job, Role
from core.pagination import CappedPaginator
from core.scoping import get_object_for_user
from core.services import calendar_import_year, parse_calendar_rows
from core.tabular import read_table


@require_GET
def home(request):
    return render(request, "core/home.html", {"panels": panels_for(request.user)})


@login_not_required
@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def job_list(request):
    jobs = Job.objects.for_user(request.user).select_related("created_by", "region")
    page = CappedPaginator(jobs, 25).get_page(request.GET.get("page"))
    has_unfinished = any(not job.is_finished for job in page)
    return render(request, "core/job_list.html", {"page": page, "has_unfinished": has_unfinished})


@require_GET
def job_detail(request, pk: int):
    job = get_object_for_user(request.user, Job, pk=pk)
    documents = Document.objects.for_user(request.user).filter(job=job).select_related("region")
    return render(request, "core/job_detail.html", {"job": job, "documents": documents})


@passive
@require_GET
def job_progress(request, pk: int):
    """htmx polling target: the progress bar, which stops polling once the job ends."""
    job = get_object_for_user(request.user, Job, pk=pk)
    response = render(request, "core/_job_progress.html", {"job": job})
    if job.is_finished and request.GET.get("reload"):
        response["HX-Refresh"] = "true"
    return response


@require_GET
def document_list(request):
    documents = Document.objects.for_user(request.user).select_related("region", "created_by")
    kind = request.GET.get("kind", "")
    period = request.GET.get("period", "")
    show_all = request.GET.get("all") == "1"
    if kind:
        documents = documents.filter(kind=kind)
    if period:
        documents = documents.filter(period=period)
    if not show_all:
        documents = documents.filter(is_latest=True)
    page = CappedPaginator(documents, 30).get_page(request.GET.get("page"))
    present = Document.objects.for_user(request.user).order_by().values_list("kind", flat=True).distinct()
    labels = kind_labels()
    kinds = sorted(((code, labels.get(code, code)) for code in present), key=lambda item: (item[0].split(".")[0], item[1]))
    return render(
        request,
        "core/document_list.html",
        {"page": page, "kind": kind, "period": period, "show_all": show_all, "kinds": kinds},
    )


@require_GET
def document_download(request, pk: int):
    document = get_object_for_user(request.user, Document, pk=pk)
    return download_response(document, user=request.user, request=request)


@role_required(Role.ADMINISTRATOR, Role.CLEARING_OFFICER, Role.SUPERVISOR, Role.CLERK, Role.FINANCE)
@require_http_methods(["GET", "POST"])
def calendar_view(request):
    years = CalendarYear.objects.order_by("-year")
    year = _year_param(request.GET.get("year")) or (years.first().year if years.exists() else None)
    days = CalendarDay.objects.filter(date__year=year) if year else CalendarDay.objects.none()
    can_import = request.user.has_role(Role.ADMINISTRATOR)
    form = CalendarImportForm()
    if request.method == "POST":
        if not can_import:
            messages.error(request, "只有系统管理员可以导入节假日安排。")
            return redirect("calendar")
        form = CalendarImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                raw_rows = read_table(form.cleaned_data["file"])
                rows = parse_calendar_rows(raw_rows, year=form.cleaned_data["year"])
                calendar_import_year(
                    year=form.cleaned_data["year"], rows=rows, notice=form.cleaned_data["notice"], by=request.user
                )
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(request, f"{form.cleaned_data['year']}年节假日安排已导入并标记为已确认。")
                return redirect(f"{request.path}?year={form.cleaned_data['year']}")
    return render(
        request,
        "core/calendar.html",
        {"years": years, "year": year, "days": days, "form": form, "can_import": can_import},
    )


def _year_param(value: str | None) -> int | None:
    try:
        year = int(value or 0)
    except ValueError:
        return None
    return year if 2000 <= year <= 2100 else None


@role_required(Role.ADMINISTRATOR)
@require_GET
def calendar_template(request):
    """A sample import file: one line per holiday or make-up working day."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["日期", "类型", "名称"])
    writer.writerow(["2027-01-01", "休息", "元旦"])
    writer.writerow(["2027-02-06", "上班", "春节调休上班"])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="calendar-template.csv"'
    return response


@role_required(Role.ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def selftest(request):
    """系统自检: the machine checks the PDFs need, and a sample form rendered in the background."""
    from core.checks import check_pdf_toolchain
    from core.jobs import start_job
    from core.selftest import KIND
    from core.staticfinders import VendorFinder

    if request.method == "POST":
        job = start_job(kind=KIND, title="打印自检样表", by=request.user)
        messages.success(request, "已提交后台生成样表，完成后可在本页下载。")
        return redirect("job_detail", pk=job.pk)
    problems = [*check_pdf_toolchain(), *VendorFinder().check()]
    recent = Job.objects.filter(kind=KIND).select_related("created_by")[:5]
    return render(request, "core/selftest.html", {"problems": problems, "recent": recent})


def csrf_failure(request, reason=""):
    """A Chinese page for an expired or missing CSRF token (a form left open too long)."""
    return render(request, "403_csrf.html", status=403)
