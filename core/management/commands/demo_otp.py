from core.management.base import YidiCommand
from core.otp import DEMO_TOTP_SECRET, current_code


class Command(YidiCommand):
    help = "打印演示账号当前的动态口令（演示密钥 YIDIDEMOYIDIDEMOYIDIDEMO，每30秒变化）。"

    def add_arguments(self, parser):
        parser.add_argument("--plain", action="store_true", help="只打印6位数字")

    def handle(self, *args, plain=False, **options):
        code = current_code(DEMO_TOTP_SECRET)
        if plain:
            self.stdout.write(code)
        else:
            self.stdout.write(f"演示账号当前动态口令：{code}（每30秒变化；密钥 {DEMO_TOTP_SECRET}）")
