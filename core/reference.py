"""Reference facts: GB/T 2260 region codes (domain.md §6) and the State Council
holiday schedules the `chinese-calendar` package knows.

Loaded into the Region and calendar tables by migration core.0002 (which is
why this module holds plain data and pure functions only, no models); the
tables are what the application reads and what administrators edit.
"""

from datetime import date

from django.conf import settings

HOME_PROVINCE = "320000"  # 江苏: the default jurisdiction of the product


def home_province_code() -> str:
    """The province this deployment serves (``YIDI_HOME_PROVINCE``, default 江苏 320000)."""
    return settings.YIDI_HOME_PROVINCE

# (code, full name, short name as the official forms print it)
PROVINCES: list[tuple[str, str, str]] = [
    ("110000", "北京市", "北京"),
    ("120000", "天津市", "天津"),
    ("130000", "河北省", "河北"),
    ("140000", "山西省", "山西"),
    ("150000", "内蒙古自治区", "内蒙古"),
    ("210000", "辽宁省", "辽宁"),
    ("220000", "吉林省", "吉林"),
    ("230000", "黑龙江省", "黑龙江"),
    ("310000", "上海市", "上海"),
    ("320000", "江苏省", "江苏"),
    ("330000", "浙江省", "浙江"),
    ("340000", "安徽省", "安徽"),
    ("350000", "福建省", "福建"),
    ("360000", "江西省", "江西"),
    ("370000", "山东省", "山东"),
    ("410000", "河南省", "河南"),
    ("420000", "湖北省", "湖北"),
    ("430000", "湖南省", "湖南"),
    ("440000", "广东省", "广东"),
    ("450000", "广西壮族自治区", "广西"),
    ("460000", "海南省", "海南"),
    ("500000", "重庆市", "重庆"),
    ("510000", "四川省", "四川"),
    ("520000", "贵州省", "贵州"),
    ("530000", "云南省", "云南"),
    ("540000", "西藏自治区", "西藏"),
    ("610000", "陕西省", "陕西"),
    ("620000", "甘肃省", "甘肃"),
    ("630000", "青海省", "青海"),
    ("640000", "宁夏回族自治区", "宁夏"),
    ("650000", "新疆维吾尔自治区", "新疆"),
]

# The 13 cities of the home province, in the order the official forms list them.
HOME_CITIES: list[tuple[str, str, str]] = [
    ("320100", "南京市", "南京"),
    ("320200", "无锡市", "无锡"),
    ("320300", "徐州市", "徐州"),
    ("320400", "常州市", "常州"),
    ("320500", "苏州市", "苏州"),
    ("320600", "南通市", "南通"),
    ("320700", "连云港市", "连云港"),
    ("320800", "淮安市", "淮安"),
    ("320900", "盐城市", "盐城"),
    ("321000", "扬州市", "扬州"),
    ("321100", "镇江市", "镇江"),
    ("321200", "泰州市", "泰州"),
    ("321300", "宿迁市", "宿迁"),
]

# Cities of other provinces that filings commonly name as destinations.
OTHER_CITIES: list[tuple[str, str, str]] = [
    ("130100", "石家庄市", "石家庄"),
    ("210100", "沈阳市", "沈阳"),
    ("330100", "杭州市", "杭州"),
    ("330200", "宁波市", "宁波"),
    ("340100", "合肥市", "合肥"),
    ("350100", "福州市", "福州"),
    ("350200", "厦门市", "厦门"),
    ("360100", "南昌市", "南昌"),
    ("360700", "赣州市", "赣州"),
    ("370100", "济南市", "济南"),
    ("370200", "青岛市", "青岛"),
    ("410100", "郑州市", "郑州"),
    ("420100", "武汉市", "武汉"),
    ("430100", "长沙市", "长沙"),
    ("440100", "广州市", "广州"),
    ("440300", "深圳市", "深圳"),
    ("460200", "三亚市", "三亚"),
    ("510100", "成都市", "成都"),
    ("530100", "昆明市", "昆明"),
    ("610100", "西安市", "西安"),
    ("650100", "乌鲁木齐市", "乌鲁木齐"),
]


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def package_calendar_years() -> list[int]:
    """The years whose schedule `chinese-calendar` knows."""
    from chinese_calendar import constants

    return sorted({day.year for day in constants.holidays} | {day.year for day in constants.workdays})


def package_calendar_exceptions(year: int) -> list[tuple[date, bool, str]]:
    """(day, is working day, name) for each day of `year` that breaks the Mon-Fri rule:
    holidays on weekdays and make-up working days (调休上班) on weekends."""
    from chinese_calendar import constants

    days = [
        (day, False, _HOLIDAY_NAMES.get(name, name)[:36])
        for day, name in constants.holidays.items()
        if day.year == year and day.weekday() < 5
    ]
    days += [
        (day, True, f"{_HOLIDAY_NAMES.get(name, name)[:34]}调休上班")
        for day, name in constants.workdays.items()
        if day.year == year and day.weekday() >= 5
    ]
    return sorted(days)
