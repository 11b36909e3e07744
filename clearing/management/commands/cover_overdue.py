from clearing.services import advances_cover_overdue
from core.management.base import YidiCommand


class Command(YidiCommand):
    help = "逾期未到账的清算费用先行使用预付金支付（第三十条(二)、第三十一条(三)）；收到款项后登记到账即自动补足。"

    def handle(self, *args, **options):
        count = advances_cover_overdue()
        self.stdout.write(f"已为 {count} 笔逾期款项使用预付金先行支付。")
