"""Word lists and place tables behind the demo generator (hand-written, no external source)."""

from __future__ import annotations

from typing import NamedTuple


class CnCity(NamedTuple):
    province: str
    city: str  # full name, "深圳市"
    short: str  # as used in company names, "深圳"
    districts: tuple[str, ...]
    area_code: str  # trunk "0" included
    local_len: int  # digits of a fixed-line subscriber number
    postal_prefix: str  # first three digits


class WestCity(NamedTuple):
    country: str  # ISO 3166-1 alpha-2
    city: str
    region: str | None  # US state; None elsewhere
    postal: tuple[str, ...]  # US ZIP prefixes / GB outward codes / SG sectors
    area: str  # US area code, GB drama-range prefix ("20 7946 0"), "" for SG


class Industry(NamedTuple):
    zh: str
    en: str
    zh_words: tuple[tuple[str, str, str], ...]  # (汉字, pinyin, short latin for domains)
    en_words: tuple[str, ...]


def words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((w.split(":")[0], w.split(":")[1]) for w in text.split())


def _triple(word: str) -> tuple[str, str, str]:
    hanzi, pinyin, short = word.split(":")
    return hanzi, pinyin, short


# Most common surnames, most frequent first (the generator weighs them by rank).
SURNAMES: tuple[tuple[str, str], ...] = _pairs(
    "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou "
    "徐:xu 孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 林:lin 高:gao 罗:luo 郑:zheng "
    "梁:liang 谢:xie 宋:song 唐:tang 许:xu 韩:han 冯:feng 邓:deng 曹:cao 彭:peng "
    "曾:zeng 肖:xiao 田:tian 董:dong 袁:yuan 潘:pan 蒋:jiang 蔡:cai 余:yu 杜:du "
    "叶:ye 程:cheng 魏:wei 苏:su 丁:ding 沈:shen 姚:yao 卢:lu 欧阳:ouyang"
)

MALE_GIVEN: tuple[tuple[str, str], ...] = _pairs(
    "伟:wei 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 杰:jie 涛:tao 明:ming 超:chao "
    "斌:bin 鹏:peng 建华:jianhua 建国:jianguo 志强:zhiqiang 俊杰:junjie 浩然:haoran "
    "子轩:zixuan 宇航:yuhang 文博:wenbo 海涛:haitao 国栋:guodong 晓东:xiaodong "
    "鹏飞:pengfei 家豪:jiahao 振宇:zhenyu 思远:siyuan 博文:bowen 天宇:tianyu "
    "志伟:zhiwei 立新:lixin 永刚:yonggang 春生:chunsheng 明轩:mingxuan"
)

FEMALE_GIVEN: tuple[tuple[str, str], ...] = _pairs(
    "芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 丹:dan 颖:ying 倩:qian "
    "秀英:xiuying 桂英:guiying 婷婷:tingting 雪梅:xuemei 丽华:lihua 晓燕:xiaoyan "
    "欣怡:xinyi 梓涵:zihan 雨桐:yutong 诗琪:shiqi 佳怡:jiayi 思雨:siyu 慧敏:huimin "
    "玉兰:yulan 美玲:meiling 海燕:haiyan 春梅:chunmei 文静:wenjing 晓丽:xiaoli 若曦:ruoxi"
)

EN_MALE: tuple[str, ...] = words(
    "James John Robert Michael David William Richard Thomas Daniel Matthew Andrew Ryan "
    "Jason Kevin Brian Oliver Harry George Samuel Benjamin Lucas Ethan Nathan Marcus"
)
EN_FEMALE: tuple[str, ...] = words(
    "Emily Sarah Jessica Emma Olivia Sophie Charlotte Hannah Laura Rachel Megan Amy "
    "Grace Chloe Lucy Natalie Rebecca Victoria Claire Amelia Isabella Zoe Priya Mei"
)
EN_LAST: tuple[str, ...] = words(
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
    "Martin Jackson Thompson White Harris Clark Lewis Walker Hall Young Allen King Wright "
    "Carter Mitchell Turner Parker Evans Edwards Collins Stewart Morris Hughes Cooper "
    "Ward Bennett Tan Lim Ng Wong"
)

_CN_CITY_TABLE = """
北京市 北京市 北京 010 8 100 东城区 西城区 朝阳区 海淀区 丰台区 通州区
上海市 上海市 上海 021 8 200 黄浦区 徐汇区 静安区 浦东新区 闵行区 长宁区
天津市 天津市 天津 022 8 300 和平区 河西区 南开区 滨海新区
重庆市 重庆市 重庆 023 8 400 渝中区 江北区 南岸区 渝北区
广东省 广州市 广州 020 8 510 天河区 越秀区 海珠区 番禺区 白云区
广东省 深圳市 深圳 0755 8 518 南山区 福田区 罗湖区 宝安区 龙岗区
广东省 佛山市 佛山 0757 8 528 禅城区 南海区 顺德区
浙江省 杭州市 杭州 0571 8 310 西湖区 上城区 拱墅区 滨江区 余杭区
浙江省 宁波市 宁波 0574 8 315 海曙区 江北区 鄞州区 北仑区
浙江省 温州市 温州 0577 8 325 鹿城区 龙湾区 瓯海区
江苏省 南京市 南京 025 8 210 玄武区 秦淮区 鼓楼区 建邺区 江宁区
江苏省 苏州市 苏州 0512 8 215 姑苏区 吴中区 相城区 虎丘区
江苏省 无锡市 无锡 0510 8 214 梁溪区 滨湖区 新吴区
四川省 成都市 成都 028 8 610 锦江区 青羊区 金牛区 武侯区 成华区
湖北省 武汉市 武汉 027 8 430 江岸区 江汉区 武昌区 洪山区 汉阳区
湖南省 长沙市 长沙 0731 8 410 芙蓉区 天心区 岳麓区 开福区 雨花区
陕西省 西安市 西安 029 8 710 新城区 碑林区 莲湖区 雁塔区 未央区
山东省 济南市 济南 0531 8 250 历下区 市中区 槐荫区 天桥区 历城区
山东省 青岛市 青岛 0532 8 266 市南区 市北区 黄岛区 崂山区 李沧区
福建省 福州市 福州 0591 8 350 鼓楼区 台江区 仓山区 晋安区
福建省 厦门市 厦门 0592 7 361 思明区 湖里区 集美区 海沧区
河南省 郑州市 郑州 0371 8 450 中原区 二七区 金水区 管城回族区
河北省 石家庄市 石家庄 0311 8 050 长安区 桥西区 新华区 裕华区
辽宁省 沈阳市 沈阳 024 8 110 和平区 沈河区 皇姑区 铁西区
辽宁省 大连市 大连 0411 8 116 中山区 西岗区 沙河口区 甘井子区
吉林省 长春市 长春 0431 8 130 南关区 朝阳区 绿园区 二道区
黑龙江省 哈尔滨市 哈尔滨 0451 8 150 道里区 南岗区 道外区 香坊区
安徽省 合肥市 合肥 0551 8 230 瑶海区 庐阳区 蜀山区 包河区
江西省 南昌市 南昌 0791 8 330 东湖区 西湖区 青山湖区 红谷滩区
云南省 昆明市 昆明 0871 8 650 五华区 盘龙区 官渡区 西山区
广西壮族自治区 南宁市 南宁 0771 7 530 兴宁区 青秀区 江南区 西乡塘区
山西省 太原市 太原 0351 7 030 小店区 迎泽区 杏花岭区 万柏林区
海南省 海口市 海口 0898 8 570 秀英区 龙华区 琼山区 美兰区
"""  # province city short area-code local-length postal-prefix districts...
CN_CITIES: tuple[CnCity, ...] = tuple(
    CnCity(f[0], f[1], f[2], tuple(f[6:]), f[3], int(f[4]), f[5])
    for f in (line.split() for line in _CN_CITY_TABLE.strip().splitlines())
)

# 13x/15x/18x/19x mobile prefixes under which phonenumbers accepts every number.
CN_MOBILE_PREFIXES: tuple[str, ...] = tuple(
    str(p) for p in (*range(130, 140), *range(150, 160), *range(180, 200)) if p not in (154, 194)
)

CN_ROADS: tuple[str, ...] = words(
    "人民路 中山路 解放路 建设路 和平路 新华路 文化路 胜利路 长江路 黄河路 友谊路 青年路 "
    "东风路 光明路 学府路 工业大道 科技路 创业路 滨江大道 世纪大道 科技园南路 软件园路 "
    "商务大道 迎宾大道 北京路 南京路 环城东路 高新大道"
)
CN_BUILDINGS: tuple[str, ...] = words(
    "国际大厦 科技大厦 商务中心 金融中心 创新大厦 时代广场 财富中心 置地广场 创业园"
)

WEST_CITIES: tuple[WestCity, ...] = (
    WestCity("US", "San Francisco", "CA", ("941",), "415"),
    WestCity("US", "New York", "NY", ("100",), "212"),
    WestCity("US", "Seattle", "WA", ("981",), "206"),
    WestCity("US", "Austin", "TX", ("787",), "512"),
    WestCity("US", "Chicago", "IL", ("606",), "312"),
    WestCity("US", "Boston", "MA", ("021",), "617"),
    WestCity("US", "Los Angeles", "CA", ("900",), "213"),
    WestCity("US", "Denver", "CO", ("802",), "303"),
    WestCity("GB", "London", None, ("EC1A", "EC2V", "W1D", "SE1", "N1", "E14"), "20 7946 0"),
    WestCity("GB", "Manchester", None, ("M1", "M2", "M3", "M4"), "161 496 0"),
    WestCity("GB", "Birmingham", None, ("B1", "B2", "B3"), "121 496 0"),
    WestCity("GB", "Edinburgh", None, ("EH1", "EH2", "EH3"), "131 496 0"),
    WestCity("GB", "Leeds", None, ("LS1", "LS2"), "113 496 0"),
    WestCity("SG", "Singapore", None, ("01", "04", "06", "07", "23", "31", "60", "52"), ""),
)
US_STREETS: tuple[str, ...] = words(
    "Market St|Main St|Oak Ave|Maple Ave|Cedar Rd|Park Ave|Elm St|Washington Blvd|"
    "Lincoln Ave|Jefferson St|Pine St|Highland Ave|Center St|Franklin Blvd",
    "|",
)
GB_STREETS: tuple[str, ...] = words(
    "High Street|King Street|Queen Street|Victoria Road|Church Lane|Station Road|"
    "Mill Lane|Bridge Street|George Street|Park Row",
    "|",
)
SG_STREETS: tuple[str, ...] = words(
    "Anson Road|Robinson Road|Cecil Street|Shenton Way|Orchard Road|Beach Road|"
    "Tanjong Pagar Road|Jurong East Street 21|Ang Mo Kio Avenue 3",
    "|",
)
COUNTRY_NAMES: dict[str, str] = {"US": "USA", "GB": "UK", "SG": "Singapore"}
COMPANY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "US": ("Inc.", "LLC", "Corp.", "Co."),
    "GB": ("Ltd", "Limited", "PLC"),
    "SG": ("Pte. Ltd.", "Pte Ltd"),
}
WEB_TLDS: dict[str, tuple[str, ...]] = {
    "CN": ("com", "com", "cn", "com.cn"),
    "US": ("com", "com", "io", "net"),
    "GB": ("co.uk", "co.uk", "com"),
    "SG": ("com.sg", "sg", "com"),
}
FREE_MAIL: dict[str, tuple[str, ...]] = {
    "CN": ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com", "outlook.com"),
    "US": ("gmail.com", "outlook.com", "yahoo.com", "icloud.com"),
    "GB": ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"),
    "SG": ("gmail.com", "outlook.com", "singnet.com.sg", "yahoo.com.sg"),
}


# zh | en | zh words as 汉字:pinyin:latin-short | en words
_INDUSTRY_TABLE = """
软件和信息技术服务|Information Technology|科技:keji:tech 信息技术:xinxi:it 软件:ruanjian:soft
|Technologies Software Systems
批发零售|Wholesale & Retail|贸易:maoyi:trade 商贸:shangmao:trading 百货:baihuo:retail
|Trading Retail Supplies
机械制造|Manufacturing|机械:jixie:machinery 精密制造:jingmi:precision 实业:shiye:industry
|Manufacturing Industries Machinery
物流运输|Logistics|物流:wuliu:logistics 供应链:gongyinglian:scm 国际货运:huoyun:freight
|Logistics Freight Shipping
建筑工程|Construction|建设工程:jianshe:build 建筑:jianzhu:arch 装饰工程:zhuangshi:deco
|Construction Builders
医疗健康|Healthcare|医疗器械:yiliao:med 生物科技:shengwu:bio 健康管理:jiankang:health
|Healthcare Medical Biotech
食品饮料|Food & Beverage|食品:shipin:food 饮品:yinpin:drinks 农业发展:nongye:agri
|Foods Beverages Farms
教育培训|Education|教育科技:jiaoyu:edu 文化传播:wenhua:culture 培训:peixun:training
|Education Learning
金融服务|Financial Services|投资管理:touzi:capital 融资租赁:zulin:leasing
|Capital Financial Partners
房地产|Real Estate|置业:zhiye:land 房地产开发:fangchan:property 物业管理:wuye:pm
|Properties Realty Estates
能源环保|Energy & Environment|新能源:xinnengyuan:energy 环保科技:huanbao:eco 光伏:guangfu:solar
|Energy Solar Environmental
汽车及零部件|Automotive|汽车零部件:qipei:auto 汽车销售服务:qiche:motors
|Automotive Motors
纺织服装|Textiles & Apparel|服饰:fushi:fashion 纺织:fangzhi:textile 鞋业:xieye:shoes
|Apparel Textiles
化工新材料|Chemicals & Materials|化工:huagong:chem 新材料:xincailiao:materials
|Chemicals Materials
餐饮酒店|Hospitality|餐饮管理:canyin:dining 酒店管理:jiudian:hotels
|Hospitality Hotels Restaurants
电子元器件|Electronics|电子:dianzi:elec 电子科技:dianzikeji:electronics 智能科技:zhineng:smart
|Electronics Components Devices
"""
INDUSTRIES: tuple[Industry, ...] = tuple(
    Industry(f[0], f[1], tuple(_triple(w) for w in f[2].split()), tuple(f[3].split()))
    for f in (rec.split("|") for rec in _INDUSTRY_TABLE.strip().replace("\n|", "|").splitlines())
)

CN_BRANDS: tuple[tuple[str, str], ...] = _pairs(
    "华腾:huateng 鑫源:xinyuan 恒达:hengda 宏图:hongtu 金盛:jinsheng 联创:lianchuang "
    "天瑞:tianrui 博远:boyuan 瑞丰:ruifeng 汇通:huitong 新锐:xinrui 永盛:yongsheng "
    "佳美:jiamei 众合:zhonghe 安泰:antai 和信:hexin 德隆:delong 海纳:haina 星辰:xingchen "
    "远航:yuanhang 盛世:shengshi 美嘉:meijia 锦华:jinhua 通达:tongda 凯瑞:kairui "
    "明辉:minghui 嘉禾:jiahe 国瑞:guorui 普华:puhua 同创:tongchuang 卓越:zhuoyue "
    "长青:changqing 优品:youpin 立诚:licheng 万象:wanxiang 宏远:hongyuan 润达:runda "
    "华信:huaxin 聚能:juneng 东方红日:dongfanghongri"
)
EN_BRANDS: tuple[str, ...] = words(
    "Northwind Bluewater Summit Redwood Silverline Harbor Pinecrest Ironbridge Brightpath "
    "Oakridge Crescent Evergreen Granite Lakeside Meridian Horizon Keystone Westfield "
    "Sterling Falcon Atlas Beacon Cobalt Riverbend Stonegate Clearwater Kingsway Aurora "
    "Vertex Lionsgate"
)
COMPANY_MAIL_USERS: tuple[str, ...] = ("sales", "info", "contact", "service", "purchase", "admin")

TAGS: tuple[tuple[str, str], ...] = (
    ("重点客户", "key account"),
    ("VIP", "VIP"),
    ("老客户", "long-standing"),
    ("潜在大客户", "high potential"),
    ("价格敏感", "price sensitive"),
    ("需要发票", "needs invoice"),
    ("战略合作", "strategic"),
    ("出口业务", "export"),
    ("招投标", "tender"),
    ("经销商", "distributor"),
)
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("智能门锁", "Smart Lock"),
    ("LED照明", "LED Lighting"),
    ("净水设备", "Water Purifier"),
    ("安防摄像头", "Security Camera"),
    ("办公家具", "Office Furniture"),
    ("空气净化器", "Air Purifier"),
    ("定制包装", "Custom Packaging"),
    ("工业传感器", "Industrial Sensors"),
    ("维保服务", "Maintenance Plan"),
    ("云存储套餐", "Cloud Storage Plan"),
)
FREQUENCIES: tuple[tuple[str, str], ...] = (
    ("每周", "weekly"),
    ("每月", "monthly"),
    ("每季度", "quarterly"),
    ("每半年", "twice a year"),
    ("每年", "yearly"),
    ("不定期", "irregular"),
)
TITLES: tuple[tuple[str, str, str, str], ...] = (
    ("采购经理", "采购部", "Procurement Manager", "Procurement"),
    ("总经理", "总经办", "Managing Director", "Management"),
    ("财务总监", "财务部", "Finance Director", "Finance"),
    ("销售总监", "销售部", "Head of Sales", "Sales"),
    ("IT主管", "信息部", "IT Manager", "IT"),
    ("行政主管", "行政部", "Office Manager", "Administration"),
    ("技术总监", "技术部", "CTO", "Engineering"),
    ("运营经理", "运营部", "Operations Manager", "Operations"),
    ("采购专员", "采购部", "Buyer", "Procurement"),
    ("董事长", "董事会", "Chairman", "Board"),
)
PREFERRED_TIMES: tuple[tuple[str, str], ...] = (
    ("工作日 9:00-11:00", "Weekdays 9am-11am"),
    ("工作日 14:00-17:00", "Weekday afternoons"),
    ("周一至周五上午", "Tue/Thu mornings"),
    ("下午三点以后", "After 3pm"),
    ("随时可联系", "Any time"),
)
# (zh label, en label, first year, last year), companies then individuals.
COMPANY_DATES: tuple[tuple[str, str, int, int], ...] = (
    ("成立日期", "Founded", 1995, 2022),
    ("合同到期", "Contract renewal", 2025, 2027),
    ("年度采购会", "Annual review", 2025, 2026),
)
PERSON_DATES: tuple[tuple[str, str, int, int], ...] = (
    ("结婚纪念日", "Wedding anniversary", 1985, 2023),
    ("会员到期", "Membership renewal", 2025, 2027),
    ("首次购买", "First purchase", 2015, 2025),
)
# (weekday 1=Mon..7 or None, start, end, zh note, en note)
DO_NOT_VISIT: tuple[tuple[int | None, str, str, str, str], ...] = (
    (None, "12:00", "14:00", "午休", "Lunch break"),
    (1, "09:00", "10:30", "周一例会", "Monday stand-up"),
    (5, "15:00", "18:00", "周五下午不接待", "No visits Friday afternoon"),
    (None, "17:30", "20:00", "下班后勿扰", "After hours"),
    (3, "14:00", "16:00", "周三财务结算", "Finance close"),
)
CUSTOMER_NOTES: tuple[tuple[str, str], ...] = (
    ("年底有扩产计划，关注设备采购。", "Plans to expand capacity next year."),
    ("对价格比较敏感，需提前报价。", "Price sensitive; send quotes early."),
    ("要求开具增值税专用发票。", "Requires a PO before any delivery."),
    ("去年合作顺利，计划续签年度合同。", "Renewal due in Q3, relationship is good."),
    ("需要上门安装和培训。", "Needs on-site installation and training."),
    ("付款流程较长，通常月结60天。", "Pays on net 60 terms."),
    ("展会上认识，对新品感兴趣。", "Met at the Canton Fair, keen on new models."),
    ("由老客户转介绍。", "Referred by an existing customer."),
    ("偏好微信沟通，不喜欢电话推销。", "Prefers email over phone calls."),
)
CONTACT_NOTES: tuple[tuple[str, str], ...] = (
    ("关键决策人", "Decision maker"),
    ("对技术细节很了解", "Knows the technical details"),
    ("新上任，需要重新建立关系", "New in role"),
    ("负责付款审批", "Approves payments"),
    ("喜欢喝茶，可带茶叶拜访", "Likes tea; bring some when visiting"),
)

# Raw phone spellings, as people type them. CN mobile: {p} prefix, {a} {b} 4 digits each;
# CN fixed line: {ac} area code with trunk 0, {n} national code without it, {l} subscriber
# number, {h} {t} its head and its last four; US: {ac} area code, {x} the 01xx line (555-01xx
# is reserved for fiction); GB: {s} national number spaced, {c} compact (Ofcom drama ranges);
# SG: {h} {t} halves of the 8 digits.
CN_MOBILE_FORMATS = words(
    "{p}{a}{b}|{p} {a} {b}|{p}-{a}-{b}|+86 {p} {a} {b}|+86-{p}-{a}-{b}|+86{p}{a}{b}|"
    "0086 {p}{a}{b}|(+86) {p} {a} {b}|{p}{a}{b}|{p} {a} {b}",
    "|",
)
CN_LANDLINE_FORMATS = words(
    "{ac}-{l}|({ac}) {h} {t}|{ac} {h} {t}|+86 {n} {h} {t}|+86-{n}-{l}|{ac}{l}|{ac}-{h}-{t}", "|"
)
WEST_PHONE_FORMATS: dict[str, tuple[str, ...]] = {
    "US": words("+1 {ac}-555-{x}|+1 ({ac}) 555-{x}|+1{ac}555{x}|+1.{ac}.555.{x}", "|"),
    "GB": words("+44 {s}|+44 (0){s}|+44{c}", "|"),
    "SG": words("+65 {h} {t}|+65 {h}-{t}|+65{h}{t}", "|"),
}
BAD_PHONES = words("暂无 无 n/a - 000000 待补充 0 ?")
# E-mail local parts: {f} family name, {g} given name, {i} its initial, {n} 1-99, {y} 60-99.
MAIL_LOCALS = words("{g}.{f} {f}{g} {f}.{g} {f}{g}{n} {i}{f} {f}_{g}{y}")
# Unusable e-mails ({l} local part, {d} domain, {s} domain up to its first dot, {c} comma'd).
BAD_EMAILS = words("{l}@@{d} {l}@{s} {l}{d} {l}@{c}")
# Repairable ones: stray spaces (full-width is made in code).
NOISY_EMAILS = words(" {l}@{d}|{l}@{d} |{l} @{d}|{l}@ {d}|\t{l}@{d}", "|")
# Stray whitespace around a value: normal, ideographic, tab, no-break.
PADDINGS = words(" {} |{}  |\u3000{}|\t{}|{}\u00a0", "|")
WEBSITE_FORMATS = words("www.{} https://www.{} http://{} {} https://{}/")
