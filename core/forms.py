from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone


class CalendarImportForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, initial=lambda: timezone.localdate().year + 1)
    notice = forms.CharField(label="依据文件", max_length=200, required=False, help_text="如：国务院办公厅关于2027年部分节假日安排的通知")
    file = forms.FileField(
        label="节假日安排文件",
        help_text="CSV 或 XLSX，列：日期（YYYY-MM-DD）、类型（休息/上班）、名称。只需列出放假的工作日和调休上班的周末。",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        return clean_table_upload(self.cleaned_data["file"])


def clean_table_upload(upload, *, limits=None, extensions: tuple[str, ...] = (".csv", ".xlsx")):
    """The checks every small table upload gets before it is read: file type and size."""
    from django.core.exceptions import ValidationError

    from core import safe_files

    if not upload.name.lower().endswith(extensions):
        raise ValidationError("只能上传 CSV 或 XLSX 文件。", code="file_type")
    safe_files.check_upload_size(upload, limits or safe_files.SMALL_TABLE)
    return upload


class LoginForm(AuthenticationForm):
    username = forms.CharField(label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    error_messages = {
        "invalid_login": "用户名或密码不正确。连续输错5次，账号将被锁定30分钟。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }
