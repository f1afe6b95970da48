"""A conversation turn: decide what a message is, given the session's previous turns, and reply.

`route` is the whole decision, in this order (each step says why in `Route.reason`):

1. Out-of-domain chatter (greetings, weather, sports, shopping …) with no safety word → refusal.
2. A reply to the assistant's pending follow-up question (the previous assistant turn was a
   classification with label insufficient and questions): a short statement ("砖混结构，不是框架",
   "是", "30人"), not a question → merged with the pending situation and classified again. A bare
   yes/no is first turned into a statement using the question ("是否为框架结构？" + "不是" →
   "不是框架结构").
3. A further fact after a classification ("是水泥厂", "也没配气体检测仪", "风力有七八级"): a short
   statement, not a question → appended to the previous situation and classified again, unless it
   is a complete major hazard of its own with no additive cue (also/still …): then it stands alone.
4. A follow-up ("还有别的吗？", "那如果是单层钢结构厂房呢？") → rewritten with the session's
   context (the previous question or situation) before retrieval or classification; a new
   condition on a situation is classified again, a question is answered from the clauses. An
   elliptical question ("罚多少？", "瞒报了怎么罚？": almost nothing left once the question and
   filler words are removed) is asked about the previous topic.
5. A determination question about a situation ("…算不算重大隐患？") → classification.
6. A question (吗/呢/？/怎么/如何/是否/哪些/多少/什么/要不要/能不能/罚/规定/依据/第N条) → grounded answer.
7. A description of a state (没有/未/坏/过期/发现/现场/车间/还在/把/被 …) that the classifier does not
   call out_of_scope, or any statement the classifier finds major or insufficient → classification.
8. Anything else → grounded answer (which turns into a refusal or a request to rephrase when
   nothing relevant is retrieved).

`route` is pure: the classifier's label reaches it through a callable. `Dialogue.reply` carries
the route out with the injected retriever and classifier; persistence is the caller's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .answer import DEFAULT_RELEVANCE, Relevance, compose_answer, referenced_clauses
from .classifier import (HAZARD_CUES, INSUFFICIENT, LABEL_ZH, MAJOR, OUT_OF_SCOPE, Classifier, Decision, InputError,
                         Profile)
from .model import Citation
from .normalize import clean_input
from .retrieval import Retriever
from .store import ClauseStore

ANSWER, CLASSIFICATION, CLARIFICATION, REFUSAL = "answer", "classification", "clarification", "refusal"
KINDS = (ANSWER, CLASSIFICATION, CLARIFICATION, REFUSAL)
# What a route asks for; CLASSIFY and ANSWER lead to kinds "classification" and "answer".
CLASSIFY, RETRIEVE, REFUSE, CLARIFY = "classify", "retrieve", "refuse", "clarify"
MAX_MESSAGE = 4000
SITUATION, QUESTION_THREAD = "situation", "question"

# -- cues -------------------------------------------------------------------------------------
QUESTION = re.compile(r"[吗呢？?]|怎么|怎样|如何|是否|哪些|哪个|哪里|多少|多久|什么|要不要|能不能|可不可以|"
                      r"有没有|是不是|谁|几[个天日年次条项]|罚|规定|依据|第[一二三四五六七八九十百零〇\d]+条")
DETERMINATION = ("算不算", "算重大", "算是重大", "是不是重大", "属不属于", "属于重大", "属于什么隐患", "是重大隐患",
                 "是重大事故隐患", "构成重大", "能定重大", "定重大", "判定为", "是什么隐患", "哪种隐患", "是否属于")
STATE = ("没有", "没", "未", "无", "不", "坏", "损", "过期", "失效", "发现", "现场", "车间", "工地", "仓库", "库房",
         "厂房", "井下", "作业", "堆", "漏", "超", "缺", "正在", "在做", "使用", "打磨", "焊", "存放", "设置",
         "放在", "安装", "锈", "裂", "积", "占用", "堵", "拆", "停用", "用的", "私", "乱", "直接", "还在", "把", "被",
         "只有", "关掉", "关了", "关闭", "短接", "屏蔽", "范围外")
# Topics the assistant does not cover; refused unless the message also names a safety matter.
OFF_TOPIC = ("天气", "气温", "下雨", "下雪", "晴天", "你好", "您好", "哈喽", "嗨", "hello", "早上好", "晚上好", "谢谢",
             "再见", "你是谁", "笑话", "电影", "电视剧", "综艺", "音乐", "歌曲", "唱歌", "明星", "游戏", "比赛", "球赛",
             "足球", "篮球", "世界杯", "奥运", "NBA", "湖人", "梅西", "股票", "基金", "彩票", "购物", "网购", "淘宝",
             "京东", "拼多多", "优惠券", "打折", "外卖", "餐厅", "菜谱", "吃什么", "好吃", "旅游", "景点", "机票",
             "高铁票", "酒店", "减肥", "星座", "写诗", "作文", "翻译")
DOMAIN = tuple(HAZARD_CUES) + ("法律", "法规", "安全法", "防治法", "法第", "依法", "条例", "规定", "规章", "标准",
                               "条款", "罚", "责任", "企业", "单位", "隐患", "应急", "监管", "整改", "报告", "许可",
                               "培训", "从业人员", "负责人", "生产经营", "叉车", "起重", "锅炉", "气瓶", "电梯", "爆炸",
                               "火灾", "着火", "燃烧", "中毒", "触电", "电缆", "电气", "工人", "员工")
# Short replies to a pending question; any short non-question also counts (see `is_reply`).
REPLY = re.compile(r"^(?:是的?|不是|对|不对|有|没有|无|否|没|已|未|框架|砖混|钢结构|干式|湿式|"
                   r"\d+\s*[人个台米吨]|[一二三四五六七八九十百两]+[人个台米吨])")
YES = re.compile(r"^(?:是的?|对|有的?|嗯|已经?\S{0,4}了?|设置了|装了|有设置)[。！!，,]?$")
NO = re.compile(r"^(?:不是|不对|没有|无|否|没|未\S{0,4}|没装|没设置|不设)[。！!，,]?$")
# A follow-up leans on the previous turn: "还有别的吗？", "那如果是单层钢结构厂房呢？", "电力企业呢？".
CONTINUE = re.compile(r"^(?:还有|还有没有|有没有|另外|其他|其它|别的|再|更多|继续|接着|那|那么|呢|吗|嘛|的|说说|讲讲|"
                      r"条款|规定|相关|内容|呀|啊|了|？|\?|。|！|!|，|,|\s)+$")
WHAT_IF_HEAD = re.compile(r"^(?:那么|那|如果|要是|假如|假设|换成|改成|若|可是|但|但是)+(?:说|是|为|换成|改成)?")
WHAT_IF_TAIL = re.compile(r"(?:的话|呢|怎么样|会怎样|怎么算|怎么办|又如何|如何|吗|嘛|？|\?|。|！|!|，|,|\s)+$")
MAX_FOLLOW_UP = 24  # a follow-up is short; longer messages stand on their own
# A further fact about the situation just classified: short, and often opening with "also/still/it is".
ADDITIVE = re.compile(r"^(?:也|还|并且|而且|另外|同时|此外|就是|是|属于|都|只有|其实|但是?|不过)")
MAX_ADDED_FACT = 30
# What an elliptical question consists of besides its topic: question, penalty and filler words.
ELLIPTICAL_FILLER = re.compile(r"那么|那|如果|的话|企业|单位|要|会|被|该|应该|应当|怎么|怎样|如何|多少钱?|什么|哪些|"
                               r"几[个次天年]|有没有|是不是|要不要|罚款?|处罚|范围|金额|标准|具体|指|是|了|吗|呢|啊|"
                               r"[？?。，,！!\s]")
MAX_ELLIPTICAL_CONTENT = 3  # "什么是框架结构？" keeps its four characters and stands alone
MAX_ELLIPTICAL_PENALTY = 4  # "没做预案怎么处罚？": a penalty question names the breach, rarely the duty

REFUSAL_TEXT = ("抱歉，这个问题超出了我的范围。我是安全生产事故隐患判定助手，只能回答安全生产法律法规和重大事故隐患判定标准"
                "方面的问题，或帮您判定现场情形是否属于重大事故隐患。您可以这样问：“生产经营单位发现重大事故隐患要向谁报告？”，"
                "或描述现场情况，如“有限空间作业没有监护人”。")
NO_CONTEXT_TEXT = ("请把问题说完整一些：这是一次新的对话，我还不知道您指的是哪个问题或现场情形。可以直接提问法规（如“发现重大事故"
                   "隐患要向谁报告？”），或描述现场发现的问题（如“车间二楼做木制品打磨”）。")
NO_MORE_TEXT = "在收录的法规标准中没有检索到更多与“{query}”相关的条款了。可以换个角度提问，或补充行业、设备、场所等细节。"


@dataclass(frozen=True)
class Turn:
    """One message of the session, as `route` needs it."""

    role: str  # user | assistant
    text: str
    kind: str | None = None  # assistant: answer | classification | clarification | refusal
    query: str = ""  # assistant: the (rewritten) text it searched or classified
    topic: str = ""  # assistant: the question or situation the thread started from
    thread: str = ""  # assistant: "situation" or "question", what the topic is
    label: str = ""  # assistant classification: major | general | insufficient | out_of_scope
    questions: tuple[str, ...] = ()  # assistant classification: pending follow-up questions
    clause_ids: tuple[str, ...] = ()  # assistant: what it cited


@dataclass(frozen=True)
class Route:
    action: str  # classify | retrieve | refuse | clarify
    query: str  # what to classify or search: the message, or its rewrite with the context
    reason: str  # why, in one line (shown in logs and tests)
    topic: str = ""  # the question or situation this thread is about
    thread: str = ""  # "situation" or "question": what the topic is
    exclude: tuple[str, ...] = ()  # clause IDs already shown ("还有别的吗？")
    prefer: tuple[str, ...] = ()  # documents (slugs) the conversation is about, for a short question


# -- cue tests ----------------------------------------------------------------------------------
def is_question(text: str) -> bool:
    return bool(QUESTION.search(text))


def is_determination(text: str) -> bool:
    return any(cue in text for cue in DETERMINATION)


def describes_state(text: str) -> bool:
    return any(cue in text for cue in STATE)


def has_domain_cue(text: str) -> bool:
    return any(cue in text for cue in DOMAIN)


def is_off_topic(text: str) -> bool:
    lowered = text.lower()
    return any(cue.lower() in lowered for cue in OFF_TOPIC) and not has_domain_cue(text)


def _content_bigrams(text: str) -> set[str]:
    chars = re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", text)
    stop = set("是否的了吗呢有没不请说明该为还")
    return {a + b for a, b in zip(chars, chars[1:]) if a not in stop and b not in stop}


def last_reply(history: Sequence[Turn]) -> Turn | None:
    """The assistant's last turn, if any."""
    return next((t for t in reversed(history) if t.role == "assistant"), None)


def pending_follow_up(history: Sequence[Turn]) -> Turn | None:
    """The last assistant turn, when it is a classification still waiting for answers."""
    last = last_reply(history)
    if last and last.kind == CLASSIFICATION and last.label == INSUFFICIENT and last.questions:
        return last
    return None


def is_reply(text: str, pending: Turn) -> bool:
    """A statement answering the pending questions: short, or starting like an answer, or using
    their words ("框架", "干式") — never a question of its own."""
    if is_question(text) or len(text) > 60:
        return False
    return len(text) <= 20 or bool(REPLY.match(text)) or \
        bool(_content_bigrams(text) & _content_bigrams(" ".join(pending.questions)))


def as_statement(reply: str, question: str) -> str:
    """A bare yes/no becomes a statement built from the question it answers:
    "该建筑是否为框架结构？" + "不是" → "该建筑不是框架结构"; other replies stay as they are."""
    yes, no = bool(YES.match(reply)), bool(NO.match(reply))
    q = question.strip().rstrip("？?。")
    if not (yes or no) or "是否" not in q:
        return reply.strip().rstrip("。")
    head, tail = q.split("是否", 1)
    head = head.removeprefix("请问").removeprefix("请说明")
    if tail.startswith("为"):
        return f"{head}{'是' if yes else '不是'}{tail[1:]}"
    if tail.startswith("有"):
        return f"{head}{'有' if yes else '没有'}{tail[1:]}"
    tail = tail.replace("了", "")
    return f"{head}{'已' if yes else '未'}{tail}"


def merge_reply(situation: str, reply: str, questions: Sequence[str]) -> str:
    """The pending situation with the reply appended (a comma, never "；", which would split
    the text into separate findings)."""
    statement = as_statement(reply, questions[0]) if questions else reply.strip()
    statement = re.sub(r"[；;\n]+", "，", statement).strip("，, 。")
    return f"{situation.rstrip('。；;，, ')}，{statement}"


def follow_up_content(text: str) -> str | None:
    """None when `text` is no follow-up; "" for a bare continuation ("还有别的吗？"); else what
    the follow-up adds ("那如果是单层钢结构厂房呢？" → "单层钢结构厂房")."""
    t = text.strip()
    if len(t) > MAX_FOLLOW_UP:
        return None
    if CONTINUE.match(t):
        return ""
    head = WHAT_IF_HEAD.match(t)
    tail = WHAT_IF_TAIL.search(t)
    if not head and not (tail and ("呢" in tail.group(0) or "的话" in tail.group(0))):
        return None
    content = t[head.end() if head else 0: tail.start() if tail else len(t)].strip(" ，,")
    if not head and (len(content) > 12 or is_question(content)):
        return None  # "…要向谁报告呢？" is a question of its own
    if len(content) >= 10 and is_question(content):
        return None  # "如果有限空间作业没有监护人怎么处罚？" stands on its own
    return content


def last_situation(history: Sequence[Turn]) -> Turn | None:
    """The last assistant turn, when it classified a situation (of any hazard label)."""
    last = last_reply(history)
    if last and last.kind == CLASSIFICATION and last.thread == SITUATION and last.query and last.label != OUT_OF_SCOPE:
        return last
    return None


def is_elliptical_question(text: str) -> bool:
    """A short question that names nothing of its own ("罚多少？", "不买罚多少？", "瞒报了怎么罚？")."""
    if not is_question(text) or len(text) > MAX_FOLLOW_UP:
        return False
    limit = MAX_ELLIPTICAL_PENALTY if "罚" in text else MAX_ELLIPTICAL_CONTENT
    return len(ELLIPTICAL_FILLER.sub("", text)) <= limit


def conversation_documents(history: Sequence[Turn]) -> tuple[str, ...]:
    """The documents the last answer cited (slugs, in order), for a short question that follows it."""
    last = last_reply(history)
    if last is None or last.kind != ANSWER:
        return ()
    return tuple(dict.fromkeys(cid.split(":")[0] for cid in last.clause_ids))


def last_context(history: Sequence[Turn]) -> Turn | None:
    """The assistant's last substantive turn (an answer or a classification)."""
    return next((t for t in reversed(history) if t.role == "assistant" and t.kind in (ANSWER, CLASSIFICATION)
                 and t.query), None)


def rewrite(context: Turn, content: str) -> str:
    """A follow-up rewritten with its context: a situation gets the new fact appended, a question
    gets it in brackets ("…要向谁报告（电力企业）")."""
    base = context.topic or context.query
    if context.thread == SITUATION:
        return f"{base.rstrip('。；;，, ')}，{content}"
    stem = base.rstrip("？?。 ")
    return f"{stem}（{content}）"


# -- routing ------------------------------------------------------------------------------------
def route(message: str, history: Sequence[Turn], situation_label: Callable[[str], str]) -> Route:
    """What to do with `message` given the session's `history` (oldest first).
    `situation_label(text)` is the classifier's label for a text; it is called only when needed."""
    text = clean_input(message or "")
    if not text:
        raise InputError("消息为空 / empty message")
    if is_off_topic(text):
        return Route(REFUSE, text, "与安全生产无关的话题")
    pending = pending_follow_up(history)
    if pending is not None and is_reply(text, pending):
        merged = merge_reply(pending.query, text, pending.questions)
        return Route(CLASSIFY, merged, "回答追问：与待补充的情形合并后重新判定", topic=pending.topic or pending.query,
                     thread=SITUATION)
    situation = last_situation(history)
    if situation is not None and not is_question(text) and len(text) <= MAX_ADDED_FACT:
        merged = f"{situation.query.rstrip('。；;，, ')}，{re.sub(r'[；;]+', '，', text).strip('，, 。')}"
        alone_major = not ADDITIVE.match(text) and describes_state(text) and situation_label(text) == MAJOR
        if not alone_major:
            return Route(CLASSIFY, merged, "补充事实：并入上一轮情形后重新判定", topic=situation.topic or situation.query,
                         thread=SITUATION)
    content = follow_up_content(text)
    if content is None and is_elliptical_question(text):
        content = text
    context = last_context(history) if content is not None else None
    if content == "" and context is None:
        return Route(CLARIFY, text, "追问，但会话中没有可承接的问题或情形")
    if content is not None and context is not None:
        topic, thread = context.topic or context.query, context.thread or QUESTION_THREAD
        if content == "":
            return Route(RETRIEVE, context.query, "继续：沿用上一轮的检索内容，跳过已给出的条款", topic=topic,
                         thread=thread, exclude=context.clause_ids)
        if is_question(content):
            return Route(RETRIEVE, f"{topic.rstrip('？?。；;，, ')}，{content}", "追问：就上一轮的问题或情形再问，改写后检索",
                         topic=topic, thread=thread)
        query = rewrite(context, content)
        if thread == SITUATION:
            return Route(CLASSIFY, query, "追问：在上一轮情形上换入新条件后重新判定", topic=topic, thread=thread)
        return Route(RETRIEVE, query, "追问：结合上一轮的问题改写后检索", topic=topic, thread=thread)
    if is_determination(text) and situation_label(text) != OUT_OF_SCOPE:
        return Route(CLASSIFY, text, "问是否构成重大隐患：按情形判定", topic=text, thread=SITUATION)
    if is_question(text):
        return Route(RETRIEVE, text, "法规问题：检索条款作答", topic=text, thread=QUESTION_THREAD,
                     prefer=conversation_documents(history) if len(text) <= MAX_FOLLOW_UP else ())
    if describes_state(text) and situation_label(text) != OUT_OF_SCOPE:
        return Route(CLASSIFY, text, "情形描述：判定是否属于重大事故隐患", topic=text, thread=SITUATION)
    if situation_label(text) in (MAJOR, INSUFFICIENT):
        return Route(CLASSIFY, text, "情形描述：与重大事故隐患判定情形相符或接近", topic=text, thread=SITUATION)
    return Route(RETRIEVE, text, "既非明确问题也非情形描述：检索相关条款", topic=text, thread=QUESTION_THREAD)


# -- carrying a route out -------------------------------------------------------------------------
@dataclass
class Reply:
    kind: str
    text: str
    searched_query: str
    route: Route
    citations: list[Citation] = field(default_factory=list)
    decision: Decision | None = None
    follow_up_questions: list[str] = field(default_factory=list)

    def turn(self) -> Turn:
        """This reply as a history turn for the next `route`."""
        return Turn("assistant", self.text, self.kind, query=self.searched_query, topic=self.route.topic,
                    thread=self.route.thread, label=self.decision.label if self.decision else "",
                    questions=tuple(self.follow_up_questions),
                    clause_ids=tuple(c.clause_id for c in self.citations))


class Dialogue:
    """Routes a message and produces the reply: classification through the classifier, answers
    through the retriever and `compose_answer`. Citations always come from `store.citation`."""

    def __init__(self, store: ClauseStore, retriever: Retriever, classifier: Classifier,
                 relevance: Relevance = DEFAULT_RELEVANCE, synthesizer: Callable | None = None):
        self.store = store
        self.retriever = retriever
        self.classifier = classifier
        self.relevance = relevance
        # Optional LLM synthesis (assistant/synthesis.py): (question, hits, answer, store=…) →
        # SynthesisResult | None; None keeps the deterministic answer.
        self.synthesizer = synthesizer

    def reply(self, message: str, history: Sequence[Turn] = (), profile: Profile | None = None) -> Reply:
        if message is not None and len(message) > MAX_MESSAGE:
            raise InputError(f"消息过长（{len(message)}字，上限{MAX_MESSAGE}字）/ message too long")
        profile = profile or Profile()
        decisions: dict[str, Decision] = {}

        def classify(text: str) -> Decision:
            if text not in decisions:
                decisions[text] = self.classifier.classify(text, profile)
            return decisions[text]

        r = route(message, history, lambda text: classify(text).label)
        if r.action == CLASSIFY:
            return self._classification(r, classify(r.query))
        if r.action == REFUSE:
            return Reply(REFUSAL, REFUSAL_TEXT, r.query, r)
        if r.action == CLARIFY:
            return Reply(CLARIFICATION, NO_CONTEXT_TEXT, r.query, r)
        return self._answer(r)

    def _classification(self, r: Route, decision: Decision) -> Reply:
        ids: list[str] = []
        for role in ("matched", "nearest"):
            for f in decision.findings:
                for m in (f.matched if role == "matched" else f.nearest):
                    if m.criterion.clause_id not in ids:
                        ids.append(m.criterion.clause_id)
        citations = [self.store.citation(cid) for cid in ids]
        # A single finding's explanation may open with the same verdict ("判定为重大事故隐患。").
        verdict = LABEL_ZH[decision.label]
        lines = [f"判定：{verdict}。", decision.explanation.removeprefix(f"判定为{verdict}。")]
        if decision.questions and not all(q in decision.explanation for q in decision.questions):
            lines.append("请补充以下信息，我再帮您判定：")
            lines += [f"{i}. {q}" for i, q in enumerate(decision.questions, 1)]
        return Reply(CLASSIFICATION, "\n".join(lines), r.query, r, citations, decision, list(decision.questions))

    def _preferred(self, r: Route) -> tuple[str, ...]:
        """The conversation's documents, unless the question names an industry of its own."""
        if not r.prefer or self.retriever.named_industries(r.query):
            return ()
        return r.prefer

    def _answer(self, r: Route) -> Reply:
        hits = self.retriever.search(r.query, k=10 + len(r.exclude), prefer=self._preferred(r))
        hits = [h for h in hits if h.clause.clause_id not in r.exclude]
        pinned = [cid for cid in referenced_clauses(r.query, self.store) if cid not in r.exclude]
        answer = compose_answer(r.query, hits, self.store.citation, dense_available=self.retriever.dense is not None,
                                relevance=self.relevance, pinned=pinned)
        if answer.found:
            text = answer.text
            if self.synthesizer is not None:
                try:
                    synthesis = self.synthesizer(r.query, hits, answer, store=self.store)
                except Exception:  # the deterministic answer is the fallback
                    synthesis = None
                if synthesis is not None:
                    text = synthesis.text
            return Reply(ANSWER, text, r.query, r, answer.citations)
        if r.exclude:
            shown = r.query if len(r.query) <= 40 else r.query[:40] + "…"
            return Reply(CLARIFICATION, NO_MORE_TEXT.format(query=shown), r.query, r)
        if r.topic != r.query or has_domain_cue(r.query):
            return Reply(CLARIFICATION, answer.text, r.query, r)
        return Reply(REFUSAL, REFUSAL_TEXT, r.query, r)
