"""Default category tree and SLA policies for developers and property companies (editable data)."""

from django.db import migrations

CATEGORIES = {
    "工程质量": {
        "渗漏": ["卫生间渗漏", "外墙渗漏", "屋面渗漏", "窗户渗漏", "地下室渗漏", "管道漏水"],
        "水电": ["给排水", "电路", "燃气", "供暖"],
        "墙地面": ["墙面开裂", "空鼓", "地面起砂"],
        "门窗": ["门窗变形", "门窗密封", "五金配件"],
    },
    "物业服务": {"保洁": [], "绿化": [], "安保": [], "停车": [], "维修服务": [], "服务态度": []},
    "公共设施": {"电梯": [], "门禁": [], "消防设施": [], "照明": [], "健身娱乐设施": []},
    "销售服务": {"销售承诺": [], "合同": [], "价格优惠": []},
    "产权办理": {"房产证": [], "按揭": [], "合同备案": []},
    "设计": {"户型设计": [], "景观设计": [], "配套设计": []},
    "公共秩序": {"噪音": [], "装修管理": [], "违章搭建": [], "宠物": []},
    "邻里纠纷": {},
    "费用": {"物业费": [], "水电费": [], "停车费": [], "供暖费": []},
    "交房": {"交房延期": [], "验房问题": []},
    "其他": {},
}

# (name, sort, conditions, targets in minutes); targets not listed keep the model defaults
# (response 12 min, plan 24 h, resolution 72 h, reply 48 h, follow-up 12 h, notice 8 h, internal 3 working days).
POLICIES = [
    ("渗漏 4 小时", 10, {"category_keyword": "漏"}, {"plan_minutes": 60, "resolution_minutes": 4 * 60}),
    ("投诉 24 小时", 20, {"case_type": "complaint"}, {"plan_minutes": 8 * 60, "resolution_minutes": 24 * 60}),
    ("默认", 1000, {}, {}),
]


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    SlaPolicy = apps.get_model("cases", "SlaPolicy")
    for i, (root_name, children) in enumerate(CATEGORIES.items()):
        root = Category.objects.create(name=root_name, sort=i * 10)
        for j, (child_name, leaves) in enumerate(children.items()):
            child = Category.objects.create(name=child_name, parent=root, sort=j * 10)
            for k, leaf in enumerate(leaves):
                Category.objects.create(name=leaf, parent=child, sort=k * 10)
    for name, sort, conditions, targets in POLICIES:
        SlaPolicy.objects.create(name=name, sort=sort, **conditions, **targets)


def unseed(apps, schema_editor):
    apps.get_model("cases", "SlaPolicy").objects.filter(name__in=[p[0] for p in POLICIES]).delete()
    Category = apps.get_model("cases", "Category")
    for depth in range(3):
        Category.objects.filter(children__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
