"""Word tables behind the demo's sales and service records (hand-written, no external source).

Texts come as (Chinese, English) pairs: a record of an English-speaking customer is written in
English. The product catalogue's categories are :data:`crm_core.demo.data.PRODUCTS`' Chinese
names, so what a customer prefers is what it is offered and buys.
"""

from __future__ import annotations

from typing import NamedTuple

from crm_core.demo.data import PRODUCTS, TAGS

Pair = tuple[str, str]


class CatalogueLine(NamedTuple):
    category: str  # 汉字, as in data.PRODUCTS
    code: str  # SKU stem
    unit: str
    price_range: tuple[int, int]  # yuan
    margin: tuple[float, float]  # cost = price × (1 − margin)
    models: tuple[str, ...]  # six names per category


# Ten categories × six products = the ~60-product catalogue.
CATALOGUE: tuple[CatalogueLine, ...] = (
    CatalogueLine(PRODUCTS[0][0], "LOCK", "套", (899, 4_800), (0.3, 0.45), (
        "指纹智能门锁 S1", "人脸识别门锁 F3", "酒店刷卡锁 H2", "公寓密码锁 A5",
        "智能门锁 Pro 7", "防盗指纹锁 X9")),
    CatalogueLine(PRODUCTS[1][0], "LED", "只", (35, 1_600), (0.35, 0.55), (
        "LED平板灯 600×600", "LED筒灯 12W", "LED投光灯 200W", "LED工矿灯 150W",
        "LED路灯 120W", "智能调光灯带 5m")),
    CatalogueLine(PRODUCTS[2][0], "WATER", "台", (1_280, 26_000), (0.3, 0.5), (
        "商用净水器 RO-400G", "直饮水机 W2", "中央净水系统 C8", "软水机 S10",
        "前置过滤器 P1", "校园饮水站 E6")),
    CatalogueLine(PRODUCTS[3][0], "CAM", "台", (260, 5_800), (0.3, 0.5), (
        "网络摄像机 4MP", "球形云台摄像机 PTZ-23", "人脸抓拍机 FD-2", "硬盘录像机 16路",
        "热成像摄像机 T1", "门禁一体机 AC-5")),
    CatalogueLine(PRODUCTS[4][0], "FURN", "套", (680, 18_000), (0.25, 0.4), (
        "人体工学椅 E3", "升降办公桌 L140", "会议桌 3.6m", "文件柜 四门",
        "工位组合 六人位", "前台接待台 R2")),
    CatalogueLine(PRODUCTS[5][0], "AIR", "台", (1_599, 12_800), (0.3, 0.5), (
        "空气净化器 KJ500", "新风系统 XF-350", "除甲醛净化器 M8", "商用净化器 KJ1200",
        "车载净化器 C1", "医用级净化器 H13")),
    CatalogueLine(PRODUCTS[6][0], "PACK", "批", (2_000, 60_000), (0.2, 0.35), (
        "彩印礼盒 定制", "瓦楞纸箱 五层", "食品级包装袋", "环保纸袋 定制",
        "防静电包装 ESD", "珍珠棉内衬 定制")),
    CatalogueLine(PRODUCTS[7][0], "SENS", "个", (120, 9_800), (0.4, 0.6), (
        "温湿度传感器 TH-10", "压力变送器 PT-300", "光电传感器 OS-5", "振动监测传感器 VB-2",
        "气体检测仪 GD-4", "工业物联网网关 G7")),
    CatalogueLine(PRODUCTS[8][0], "SVC", "年", (3_000, 80_000), (0.45, 0.65), (
        "基础维保 年度", "金牌维保 年度", "驻场运维 月度", "设备巡检 季度",
        "延保服务 两年", "紧急响应 7×24")),
    CatalogueLine(PRODUCTS[9][0], "CLOUD", "年", (1_200, 48_000), (0.55, 0.75), (
        "云存储 1TB", "云存储 10TB", "视频云存储 30天", "企业网盘 50人",
        "异地备份 专业版", "对象存储 100TB")),
)  # fmt: skip

# What people call a deal: {p} is the product category, {c} the customer's short name.
OPPORTUNITY_NAMES: tuple[Pair, ...] = (
    ("{c}{p}采购项目", "{c} {p} purchase"),
    ("{c}新厂区{p}项目", "{c} new site: {p}"),
    ("{p}升级改造", "{p} upgrade"),
    ("{c}年度{p}框架协议", "{c} annual {p} framework"),
    ("{p}试点项目", "{p} pilot"),
    ("{c}办公室{p}更换", "{c} office {p} replacement"),
)
NEEDS: tuple[Pair, ...] = (
    ("希望三个月内完成安装，预算有限。", "Installation within three months on a tight budget."),
    ("需要与现有系统对接，支持远程管理。", "Must integrate with their current system remotely."),
    ("关注售后响应速度，要求4小时到场。", "Cares about after-sales response: 4 hours on site."),
    ("要求提供样品测试后再决定。", "Wants samples to test before deciding."),
    ("替换老旧设备，降低能耗。", "Replacing old equipment to cut energy costs."),
    ("分批交付，先试用一个部门。", "Staged delivery, one department first."),
)
PROGRESS: tuple[Pair, ...] = (
    ("已发送报价单，等待客户内部审批。", "Quote sent, waiting for internal approval."),
    ("完成现场勘察，方案修改中。", "Site survey done, revising the proposal."),
    ("客户比较了三家供应商，我们价格略高。", "Compared three vendors; we are a bit pricier."),
    ("技术交流顺利，下周演示。", "Good technical call; demo next week."),
)
WON_REASONS: tuple[Pair, ...] = (
    ("方案贴合需求，售后有保障。", "Best fit and reliable after-sales service."),
    ("价格有竞争力，交期短。", "Competitive price and short lead time."),
    ("老客户推荐，信任度高。", "Referred by a long-standing customer."),
)
LOST_REASONS: tuple[Pair, ...] = (
    ("价格高于竞争对手。", "Price above competitors."),
    ("客户预算取消。", "Customer's budget was cancelled."),
    ("选择了原有供应商。", "Stayed with their incumbent vendor."),
    ("交期无法满足。", "Could not meet the delivery date."),
)
REQUIREMENTS: tuple[tuple[Pair, Pair, Pair], ...] = (  # summary, features, proposed solution
    (("门店安防整体升级", "Security upgrade for all stores"),
     ("高清监控、人脸识别、远程查看", "HD cameras, face recognition, remote viewing"),
     ("分三期部署摄像机与录像机，统一接入云平台", "Three phases of cameras and NVRs on one cloud")),
    (("办公区照明节能改造", "Energy-saving office lighting"),
     ("LED替换、分区调光、能耗统计", "LED retrofit, zoned dimming, energy reports"),
     ("LED平板灯替换并加装智能调光", "LED panels with smart dimming")),
    (("员工饮水安全", "Safe drinking water for staff"),
     ("直饮、定期换芯提醒、水质检测", "Direct drinking, filter reminders, water tests"),
     ("每层安装直饮水机，签订年度维保", "A drinking station per floor with annual service")),
    (("新办公室家具配置", "Furniture for the new office"),
     ("工位、会议室、前台、储物", "Workstations, meeting rooms, reception, storage"),
     ("按平面图配置工位组合与会议桌", "Workstations and tables laid out to the floor plan")),
    (("产线环境监测", "Production line monitoring"),
     ("温湿度、振动、气体报警，数据上云", "Temperature, vibration, gas alarms, cloud data"),
     ("部署传感器与物联网网关，接入监控平台", "Sensors and an IoT gateway into their dashboard")),
    (("视频资料存储扩容", "More storage for video"),
     ("30天留存、异地备份、权限管理", "30-day retention, off-site backup, access control"),
     ("视频云存储与异地备份专业版", "Video cloud storage with off-site backup")),
)  # fmt: skip
SERVICE_CONTENT: tuple[Pair, ...] = (
    ("上门安装调试与操作培训", "On-site installation and training"),
    ("年度维保与季度巡检", "Annual maintenance with quarterly checks"),
    ("7×24小时远程支持", "24/7 remote support"),
)
EFFECTS: tuple[Pair, ...] = (
    ("能耗下降约30%，客户满意。", "Energy use down about 30%; customer pleased."),
    ("上线后故障率明显降低。", "Far fewer faults since go-live."),
    ("员工反馈良好，计划推广到分公司。", "Staff like it; rolling out to branches."),
)
CONTRACT_TERMS: tuple[Pair, ...] = (
    ("预付30%，到货验收后付60%，质保金10%一年后支付。",
     "30% upfront, 60% on acceptance, 10% retention after one year."),
    ("货到验收合格后30日内付清。", "Payment in full within 30 days of acceptance."),
    ("按季度结算，质保期两年。", "Billed quarterly; two-year warranty."),
)  # fmt: skip
DELIVERIES: tuple[Pair, ...] = (
    ("首批设备到货", "First shipment"),
    ("安装调试完成", "Installation and commissioning"),
    ("第二批设备到货", "Second shipment"),
    ("培训与资料移交", "Training and handover"),
    ("项目终验", "Final acceptance"),
)
ACCEPTANCE_NOTES: tuple[Pair, ...] = (
    ("数量与型号核对无误。", "Quantities and models checked."),
    ("运行正常，客户签字确认。", "Running fine; signed off by the customer."),
)
REJECTION_NOTES: tuple[Pair, ...] = (
    ("部分设备外包装破损，需补发。", "Some units damaged in transit; replacements due."),
)
ORDER_NOTES: tuple[Pair, ...] = (
    ("请开具增值税专用发票。", "Please invoice with the PO number."),
    ("送货前电话联系仓库。", "Call the warehouse before delivery."),
    ("加急订单。", "Rush order."),
)
REFUND_REASONS: tuple[Pair, ...] = (
    ("部分商品退货。", "Part of the goods returned."),
    ("价格调整返还差价。", "Price adjustment."),
    ("运输破损，协商退款。", "Damaged in transit; agreed refund."),
)
TICKET_PROBLEMS: tuple[tuple[Pair, Pair, Pair], ...] = (  # problem, measures, result
    (("设备无法开机，指示灯不亮。", "Unit will not power on; no lights."),
     ("上门检测，更换电源模块。", "On-site check; power module replaced."),
     ("设备恢复正常运行。", "Unit working again.")),
    (("远程查看画面卡顿。", "Remote view keeps freezing."),
     ("调整码流并升级固件。", "Lowered bitrate and updated firmware."),
     ("画面流畅，客户确认。", "Smooth again; confirmed by customer.")),
    (("滤芯到期提醒后仍显示报警。", "Filter alarm stays on after replacement."),
     ("重置滤芯计数器，指导操作。", "Reset the filter counter and showed how."),
     ("报警消除。", "Alarm cleared.")),
    (("部分灯具频闪。", "Some lights flicker."),
     ("更换驱动电源。", "Drivers replaced."),
     ("已全部修复。", "All fixed.")),
    (("传感器数据上传中断。", "Sensor data stopped uploading."),
     ("检查网关配置，重新绑定设备。", "Gateway reconfigured and devices re-paired."),
     ("数据恢复上传。", "Data flowing again.")),
)  # fmt: skip
EXPECTATIONS: tuple[Pair, ...] = (
    ("希望尽快上门处理。", "Wants someone on site soon."),
    ("要求更换新机。", "Asks for a replacement unit."),
    ("希望远程指导解决。", "Prefers remote help."),
)
COMPLAINTS: tuple[tuple[str, Pair, Pair], ...] = (  # kind, description, expectation
    ("complaint", ("送货延迟一周，影响开业。", "Delivery a week late, delayed the opening."),
     ("赔偿损失并保证后续交期。", "Compensation and firm dates from now on.")),
    ("complaint", ("安装师傅态度不好。", "The installer was rude."),
     ("更换安装人员。", "A different installer.")),
    ("complaint", ("发票开错抬头。", "Invoice issued to the wrong company name."),
     ("重新开票。", "A corrected invoice.")),
    ("suggestion", ("希望增加微信报修入口。", "Would like to report faults by WeChat."),
     ("增加线上报修。", "An online fault form.")),
    ("praise", ("售后工程师响应很快，点赞。", "The engineer came quickly; great service."),
     ("无。", "None.")),
    ("inquiry", ("咨询延保服务价格。", "Asking the price of extended warranty."),
     ("提供报价。", "A quote.")),
)  # fmt: skip
COMPLAINT_MEASURES: tuple[Pair, ...] = (
    ("致电客户道歉并说明原因。", "Called to apologise and explain."),
    ("安排主管上门沟通。", "A supervisor visited the customer."),
    ("内部复盘并调整流程。", "Internal review; process changed."),
)
COMPLAINT_RESOLUTIONS: tuple[Pair, ...] = (
    ("给予下单9折优惠，客户接受。", "10% off the next order; accepted."),
    ("已重新开票并快递。", "Corrected invoice sent."),
    ("已更换人员，客户满意。", "New installer assigned; customer satisfied."),
)
INTERACTION_SUBJECTS: tuple[Pair, ...] = (
    ("产品介绍", "Product introduction"),
    ("报价沟通", "Quote discussion"),
    ("需求确认", "Requirements check"),
    ("回访", "Check-in call"),
    ("合同条款沟通", "Contract terms"),
    ("售后回访", "After-sales follow-up"),
    ("节日问候", "Holiday greetings"),
    ("付款提醒", "Payment reminder"),
)
INTERACTION_CONTENT: tuple[Pair, ...] = (
    ("介绍了新品功能，客户有兴趣。", "Walked through the new models; interested."),
    ("客户要求再降5%。", "Customer asked for another 5% off."),
    ("确认了安装时间和现场条件。", "Agreed the installation date and site access."),
    ("客户反馈使用良好。", "Customer says everything works well."),
    ("客户暂时没有采购计划。", "No purchase planned for now."),
    ("发送了资料和案例。", "Sent brochures and case studies."),
)
INTERACTION_RESULTS: tuple[Pair, ...] = (
    ("下周再联系。", "Call again next week."),
    ("等待客户回复。", "Waiting for their answer."),
    ("已约拜访。", "Visit booked."),
    ("无明确结果。", "Nothing decided."),
)
FOLLOW_UPS: tuple[Pair, ...] = (
    ("跟进报价审批进度", "Chase the quote approval"),
    ("确认样品测试结果", "Ask about the sample test"),
    ("邀请参加新品发布会", "Invite to the product launch"),
    ("催收尾款", "Collect the final payment"),
    ("安排技术交流", "Set up a technical session"),
    ("续约沟通", "Discuss the renewal"),
)
FOLLOW_UP_FEEDBACK: tuple[Pair, ...] = (
    ("客户表示月底前给答复。", "They will answer by month end."),
    ("客户对方案基本认可。", "They broadly accept the proposal."),
    ("客户希望再优惠一些。", "They want a better price."),
)
VISIT_PURPOSES: tuple[Pair, ...] = (
    ("拜访采购负责人，了解年度计划", "Meet procurement about the annual plan"),
    ("现场勘察", "Site survey"),
    ("新品演示", "Product demo"),
    ("售后回访", "After-sales visit"),
    ("商务洽谈", "Commercial negotiation"),
)
VISIT_CONTENT: tuple[Pair, ...] = (
    ("与采购经理交流了明年的预算安排。", "Discussed next year's budget with procurement."),
    ("查看了安装现场，记录了尺寸。", "Checked the site and took measurements."),
    ("演示了新品，客户提出几个技术问题。", "Demoed new models; a few technical questions."),
    ("了解设备使用情况，收集改进意见。", "Reviewed usage and collected feedback."),
)
VISIT_SOLVED: tuple[Pair, ...] = (
    ("解答了安装条件的疑问。", "Answered installation questions."),
    ("澄清了付款方式。", "Clarified payment terms."),
)
VISIT_WATCH: tuple[Pair, ...] = (
    ("关注竞争对手报价。", "Watch the competitor's quote."),
    ("下次带上技术工程师。", "Bring an engineer next time."),
    ("决策人下月出差回来。", "Decision maker back next month."),
)
ACTIVITIES: tuple[tuple[str, Pair, Pair], ...] = (  # kind, name, location
    ("exhibition", ("中国国际安防博览会", "China Security Expo"), ("深圳会展中心", "Shenzhen")),
    ("webinar", ("智慧办公解决方案线上分享", "Smart office webinar"), ("线上", "Online")),
    ("meeting", ("年度客户答谢会", "Annual customer evening"), ("上海静安香格里拉", "Shanghai")),
    ("training", ("净水设备维护培训", "Water purifier maintenance training"),
     ("公司培训中心", "Training centre")),
    ("promotion", ("618采购节优惠活动", "Mid-year purchase promotion"), ("线上", "Online")),
    ("exhibition", ("广交会", "Canton Fair"), ("广州琶洲展馆", "Guangzhou")),
    ("meeting", ("新品发布会", "Product launch"), ("杭州国际博览中心", "Hangzhou")),
)  # fmt: skip
ATTENDEE_NOTES: tuple[str, ...] = ("需要停车位", "带两位同事", "素食", "可能迟到")
# Relationship criteria: name, weight, description.
CRITERIA: tuple[tuple[str, str, str], ...] = (
    ("合作意愿", "25", "客户与我们合作的意愿和积极性"),
    ("采购规模", "25", "年采购金额与增长"),
    ("付款信用", "20", "按时付款情况"),
    ("发展潜力", "20", "行业前景与扩张计划"),
    ("关系紧密度", "10", "与决策人的关系"),
)
EVALUATION_NOTES: tuple[Pair, ...] = (
    ("重点维护，争取年度框架协议。", "Keep close; aim for an annual framework."),
    ("付款偏慢，注意账期。", "Pays slowly; watch the terms."),
    ("潜力较大，值得投入。", "Good potential; worth the effort."),
)
TAG_COLORS: tuple[str, ...] = (
    "#E53935", "#FB8C00", "#8E24AA", "#1E88E5", "#43A047",
    "#00897B", "#6D4C41", "#3949AB", "#F4511E", "#546E7A",
)  # fmt: skip
# Category of each data.TAGS entry, in its order: (zh, en).
TAG_CATEGORIES: tuple[Pair, ...] = (
    ("价值", "value"), ("价值", "value"), ("关系", "relationship"), ("价值", "value"),
    ("特征", "trait"), ("财务", "finance"), ("关系", "relationship"), ("业务", "business"),
    ("业务", "business"), ("渠道", "channel"),
)  # fmt: skip
assert len(TAG_CATEGORIES) == len(TAGS) == len(TAG_COLORS)
# Saved customer filters: name, description, filter spec (as the customers list takes it).
SEGMENTS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("A/B级客户", "等级为A或B的客户", {"grade": {"in": ["A", "B"]}}),
    ("华东地区", "上海、江苏、浙江的客户", {"province": {"in": ["上海市", "江苏省", "浙江省"]}}),
    ("流失预警", "处于流失风险的客户", {"lifecycle_stage": {"in": ["at_risk"]}}),
    ("VIP", "带VIP标签的客户", {"tags": {"has": "VIP"}}),
    ("软件行业企业客户", "软件和信息技术服务业的公司",
     {"and": [{"kind": {"eq": "company"}}, {"industry": {"eq": "软件和信息技术服务"}}]}),
)  # fmt: skip
LEAD_NOTES: tuple[Pair, ...] = (
    ("展会上留下名片。", "Left a card at the fair."),
    ("官网留言咨询价格。", "Asked for prices on the website."),
    ("朋友介绍。", "Introduced by a friend."),
)
# Survey templates: name, kind, trigger, period days, language, active, questions.
SURVEYS: tuple[tuple[str, str, str, int | None, str, bool, tuple[dict[str, object], ...]], ...] = (
    ("售后服务满意度", "csat", "ticket_resolved", None, "zh", True, (
        {"key": "overall", "kind": "csat", "text": "您对本次服务是否满意？"},
        {"key": "speed", "kind": "single_choice", "text": "响应速度如何？",
         "options": ["很快", "一般", "较慢"]},
        {"key": "comment", "kind": "text", "text": "其他意见", "required": False})),
    ("投诉处理满意度", "csat", "complaint_closed", None, "zh", True, (
        {"key": "overall", "kind": "csat", "text": "您对投诉的处理结果是否满意？"},
        {"key": "comment", "kind": "text", "text": "还有什么需要改进？", "required": False})),
    ("季度客户推荐度", "nps", "periodic", 90, "zh", True, (
        {"key": "nps", "kind": "nps", "text": "您有多大可能把我们推荐给朋友或同事？"},
        {"key": "why", "kind": "text", "text": "主要原因是什么？", "required": False})),
    ("Customer feedback", "mixed", "manual", None, "en", True, (
        {"key": "csat", "kind": "csat", "text": "How satisfied are you with us overall?"},
        {"key": "nps", "kind": "nps", "text": "How likely are you to recommend us?"},
        {"key": "comment", "kind": "text", "text": "Anything else?", "required": False})),
)  # fmt: skip
