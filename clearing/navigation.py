from core.models import Role
from core.navigation import NavItem, register

STAFF = (Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR, Role.ADMINISTRATOR)

register(
    NavItem(label="月度清算", url_name="clearing:period_list", roles=STAFF, menu="清算", order=30, icon="calculator"),
    NavItem(label="结算明细导入", url_name="clearing:import_list", roles=(Role.CLEARING_OFFICER,), menu="清算", order=31),
    NavItem(label="付款跟踪", url_name="clearing:payment_list", roles=STAFF, menu="清算", order=32),
    NavItem(label="预付金", url_name="clearing:advance_index", roles=STAFF, menu="清算", order=33),
    NavItem(label="退费与违规扣款", url_name="clearing:adjustment_list", roles=STAFF, menu="清算", order=34),
    NavItem(label="三方对账", url_name="clearing:reconciliation", roles=STAFF, menu="清算", order=35),
)
