from core.models import Role
from core.navigation import NavItem, register

MENU = "备案"

register(
    NavItem(label="办理备案", url_name="filings:new", roles=(Role.CLERK, Role.HOSPITAL), menu=MENU, order=10,
            icon="journal-plus"),
    NavItem(label="备案查询", url_name="filings:list",
            roles=(Role.CLERK, Role.SUPERVISOR, Role.CLEARING_OFFICER, Role.ADMINISTRATOR, Role.HOSPITAL), menu=MENU,
            order=11, icon="journal-plus"),
    NavItem(label="线上申请审核", url_name="filings:review_queue", roles=(Role.CLERK, Role.SUPERVISOR), menu=MENU,
            order=12),
    NavItem(label="导入线上申请", url_name="filings:import", roles=(Role.CLERK, Role.SUPERVISOR), menu=MENU, order=13),
    NavItem(label="承诺材料补交", url_name="filings:commitments",
            roles=(Role.CLERK, Role.SUPERVISOR, Role.CLEARING_OFFICER, Role.ADMINISTRATOR), menu=MENU, order=14),
    NavItem(label="上传省平台", url_name="filings:upload", roles=(Role.CLERK, Role.SUPERVISOR), menu=MENU, order=15),
    NavItem(label="备案设置", url_name="filings:settings", roles=(Role.SUPERVISOR, Role.ADMINISTRATOR), menu=MENU,
            order=16),
)
