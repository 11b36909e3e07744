from core.models import Role
from core.navigation import NavItem, register

MENU = "零星报销"

register(
    NavItem("报销受理", "reimbursement:intake", (Role.CLERK,), menu=MENU, order=20, icon="receipt"),
    NavItem("报销申请", "reimbursement:claim_list", (Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.ADMINISTRATOR), menu=MENU, order=21, icon="receipt"),
    NavItem("批量审批", "reimbursement:approvals", (Role.SUPERVISOR,), menu=MENU, order=21, icon="receipt"),
    NavItem("期限提醒", "reimbursement:deadlines", (Role.CLERK, Role.SUPERVISOR, Role.ADMINISTRATOR), menu=MENU, order=22, icon="receipt"),
    NavItem("待遇试算", "reimbursement:trial", (Role.CLERK, Role.SUPERVISOR, Role.ADMINISTRATOR), menu=MENU, order=23, icon="receipt"),
    NavItem("付款管理", "reimbursement:payments", (Role.FINANCE,), menu=MENU, order=24, icon="receipt"),
    NavItem(
        "待遇政策",
        "reimbursement:policy_list",
        (Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.ADMINISTRATOR, Role.CLEARING_OFFICER),
        menu=MENU,
        order=25,
        icon="receipt",
    ),
)
