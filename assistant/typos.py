"""Homophone slips of pinyin input that recur in site reports (瓦丝 for 瓦斯, 防暴 for 防爆).

Written by the team from how such reports are typed, not from any evaluation set. Applied to
descriptions before they are matched against criteria; official texts are never rewritten.
"""

from __future__ import annotations

import re

# slip → intended word; a lookahead keeps real words apart (连锁店 is a chain store).
_SLIPS = (
    (r"瓦丝|瓦司", "瓦斯"),
    (r"防暴(?=[电灯型的开风泵设照插])", "防爆"),
    (r"泄暴", "泄爆"),
    (r"抑暴", "抑爆"),
    (r"隔暴", "隔爆"),
    (r"失暴", "失爆"),
    (r"塔掉", "塔吊"),
    (r"脚手价", "脚手架"),
    (r"连锁(?![店超市经营企业门酒餐药品牌加])", "联锁"),
    (r"有线空间", "有限空间"),
    (r"安全代(?![表理])", "安全带"),
    (r"(安全|截止|切断|闸|蝶|止回|减压)伐", r"\1阀"),
    (r"安全冒", "安全帽"),
    (r"尾沙", "尾砂"),
)
_COMPILED = tuple((re.compile(pattern), word) for pattern, word in _SLIPS)


def fix_slips(text: str) -> str:
    for pattern, word in _COMPILED:
        text = pattern.sub(word, text)
    return text
