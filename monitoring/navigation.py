from core.models import Role
from core.navigation import NavItem, register

VIEWERS = (Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR, Role.ADMINISTRATOR)

register(
    NavItem(label="运行监测", url_name="monitoring:overview", roles=VIEWERS, menu="监测", order=40, icon="graph-up"),
    NavItem(label="运行分析报告", url_name="monitoring:reports", roles=VIEWERS, menu="监测", order=41),
    NavItem(label="监测预警值", url_name="monitoring:thresholds", roles=VIEWERS, menu="监测", order=42),
    NavItem(label="基金累计结余", url_name="monitoring:balances", roles=VIEWERS, menu="监测", order=43),
)
