from django.urls import path

from reimbursement import bank_views, payment_views, views

app_name = "reimbursement"

urlpatterns = [
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/export.xlsx", views.claim_export, name="claim_export"),
    path("claims/new/", views.intake, name="intake"),
    path("approvals/", views.approvals, name="approvals"),
    path("claims/new/panel/", views.intake_panel, name="intake_panel"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/edit/", views.claim_edit, name="claim_edit"),
    path("claims/<int:pk>/materials/", views.claim_materials, name="claim_materials"),
    path("claims/<int:pk>/calculate/", views.claim_calculate, name="claim_calculate"),
    path("claims/<int:pk>/submit/", views.claim_submit, name="claim_submit"),
    path("claims/<int:pk>/approve/", views.claim_approve, name="claim_approve"),
    path("claims/<int:pk>/reject/", views.claim_reject, name="claim_reject"),
    path("claims/<int:pk>/return/", views.claim_return, name="claim_return"),
    path("claims/<int:pk>/special/", views.claim_special, name="claim_special"),
    path("claims/<int:pk>/cancel/", views.claim_cancel, name="claim_cancel"),
    path("claims/<int:pk>/delay-notice/", views.claim_delay_notice, name="claim_delay_notice"),
    path("claims/<int:pk>/print/<str:form>/", views.claim_print, name="claim_print"),
    path("claims/<int:pk>/pay/", views.claim_pay, name="claim_pay"),
    path("claims/<int:pk>/payment-return/", views.claim_payment_return, name="claim_payment_return"),
    path("claims/<int:pk>/payee/", views.claim_correct_payee, name="claim_correct_payee"),
    path("claims/<int:pk>/payee/verify/", views.claim_verify_payee, name="claim_verify_payee"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("trial/", views.trial, name="trial"),
    path("payments/", payment_views.payments, name="payments"),
    path("payments/export.xlsx", payment_views.payments_export, name="payments_export"),
    path("payments/<int:pk>/", payment_views.batch_detail, name="batch_detail"),
    path("payments/<int:pk>/pay/", payment_views.batch_pay, name="batch_pay"),
    path("payments/<int:pk>/regenerate/", payment_views.batch_regenerate, name="batch_regenerate"),
    path("payments/<int:pk>/bank-file.<str:fmt>", bank_views.batch_bank_file, name="batch_bank_file"),
    path("payments/<int:pk>/bank-result/", bank_views.batch_bank_result, name="batch_bank_result"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
]
