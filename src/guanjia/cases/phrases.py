"""Standard phrases for follow-up calls (回访标准服务用语), read out by the agent on the call page.

Adapted from the customer-service department's phone etiquette (seed 004): greet and identify,
ask whether it is a good time (agree a time if not), state the request, ask about satisfaction,
close politely and hang up after the customer. These are Chinese texts spoken to customers, kept
as data rather than interface strings. Placeholders: {customer} (称呼), {company}, {agent},
{received} (date the request came in), {subject} (what it was about).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Phrase:
    key: str
    title: str
    text: str
    # Shown in the main script (in call order) or under "when …" for the situations that may come up.
    situation: bool = False


PHRASES: tuple[Phrase, ...] = (
    Phrase(
        "greeting",
        "招呼语",
        "您好，请问是{customer}吗？{customer}您好，我是{company}客服人员{agent}，请问您现在方便接听电话吗？",
    ),
    Phrase(
        "not_now",
        "客户没有时间",
        "不好意思打扰您了，请问您什么时候方便？我想就您反映的问题做一下回访。（与客户约好时间并记录）",
    ),
    Phrase(
        "state_case",
        "说明来意",
        "您在{received}向我们反映过{subject}的问题，我们已经安排处理完毕，今天给您做一下回访。",
    ),
    Phrase(
        "satisfaction",
        "询问结果与满意度",
        "请问问题现在解决了吗？您对这次的处理结果和服务是否满意？您还有什么意见或建议吗？",
    ),
    Phrase(
        "closing",
        "结束语",
        "谢谢您对我们工作的支持，如有需要请随时与我们联系，再见！（等客户挂机后再挂电话）",
    ),
    Phrase(
        "silent",
        "无声电话或听不清",
        "您好！我是{company}客服人员，请问您能听到吗？——无回答时再重复两次：“您好（稍停）您好，"
        "对不起，您的电话没有声音／听不清楚，我稍后再给您打过来，再见！”",
        situation=True,
    ),
    Phrase(
        "second_call",
        "第二次拨打",
        "您好，实在抱歉，刚才电话听不清您的声音，您现在方便吗？我想就您反映的问题做一下回访。",
        situation=True,
    ),
    Phrase(
        "angry",
        "客户发脾气或抱怨",
        "对不起，请您慢慢说好吗？我一定会帮您解决的。——给您造成不便，敬请原谅。（不争辩，记录客户原话）",
        situation=True,
    ),
    Phrase(
        "too_slow",
        "客户责备处理慢",
        "对不起，让您久等了，我们会尽快帮您解决的。",
        situation=True,
    ),
    Phrase(
        "beyond_authority",
        "超出权限或不能马上答复",
        "对不起，您提出的情况我们暂时无法马上答复您。我已经把您的问题记录下来了，您的意思是……（简短重复客户的问题）"
        "我会尽快与您联系，请问今天都可以用这个电话联系到您吗？",
        situation=True,
    ),
    Phrase(
        "ask_leader",
        "客户要求找领导",
        "请您放心，我们会按公司的制度处理，您的问题属于我的职责范围，请交给我为您处理好吗？"
        "（超出权限时如实记录并上报）",
        situation=True,
    ),
    Phrase(
        "hold",
        "请客户稍等",
        "{customer}，麻烦您稍等一下，我帮您查一查。——对不起，让您久等了。",
        situation=True,
    ),
)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "××"


def render_phrases(**values: str) -> list[dict]:
    """The phrases with the placeholders filled in (unknown or empty ones become ××)."""
    filled = _Blank({k: v for k, v in values.items() if v})
    return [
        {"key": p.key, "title": p.title, "text": p.text.format_map(filled), "situation": p.situation} for p in PHRASES
    ]
