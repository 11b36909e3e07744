from core.models import Role
from core.navigation import NavItem, register

MENU = "业务协同"
WORKERS = (Role.CLERK, Role.SUPERVISOR, Role.CLEARING_OFFICER)

register(
    NavItem("发起费用协查", "cooperation:assist_source", WORKERS, menu=MENU, order=40, icon="search"),
    NavItem("费用协查", "cooperation:assist_list", (*WORKERS, Role.ADMINISTRATOR), menu=MENU, order=41, icon="search"),
    NavItem("导入外省协查结果", "cooperation:assist_import", WORKERS, menu=MENU, order=42, icon="search"),
    NavItem("发起问题协同", "cooperation:coordination_new", WORKERS, menu=MENU, order=43, icon="chat-dots"),
    NavItem("问题协同", "cooperation:coordination_list", (*WORKERS, Role.ADMINISTRATOR), menu=MENU, order=44,
            icon="chat-dots"),
)
