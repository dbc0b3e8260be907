"""Per-message language identification for short social text (tweets, Weibo posts, comments).

No model and no dependency: the writing system decides first (Han, kana, Hangul, Cyrillic, Arabic, ...);
Latin-script text is then told apart by function words and letters that English does not use. English is
the default for Latin-script text without evidence for another language, since a short tweet ("LOL same")
rarely carries any. Mentions, URLs and e-mail addresses are ignored; hashtags count as words.
"""

from __future__ import annotations

import re

UNDETERMINED = "und"

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|@[\w\-.]+|&\w+;"
    r"|\\u[0-9a-fA-F]{4}|\[[^\[\]\s]{1,10}\]"
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

# (first, last, script) code point ranges, checked in order; Latin is handled separately.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x4E00, 0x9FFF, "han"),
    (0x3400, 0x4DBF, "han"),
    (0xF900, 0xFAFF, "han"),
    (0x20000, 0x2EBEF, "han"),
    (0x3040, 0x30FF, "kana"),
    (0x31F0, 0x31FF, "kana"),
    (0xFF66, 0xFF9F, "kana"),
    (0xAC00, 0xD7AF, "hangul"),
    (0x1100, 0x11FF, "hangul"),
    (0x3130, 0x318F, "hangul"),
    (0x0400, 0x04FF, "cyrillic"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0370, 0x03FF, "greek"),
    (0x0E00, 0x0E7F, "thai"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0B80, 0x0BFF, "tamil"),
    (0x10A0, 0x10FF, "georgian"),
    (0x0530, 0x058F, "armenian"),
)
_SCRIPT_LANGUAGE = {
    "hebrew": "he",
    "greek": "el",
    "thai": "th",
    "devanagari": "hi",
    "bengali": "bn",
    "tamil": "ta",
    "georgian": "ka",
    "armenian": "hy",
    "hangul": "ko",
}
# One Hangul syllable carries about as much as one Latin word (~4 letters); Han and kana count double,
# since English words inside Chinese posts are common and Han characters inside English posts are not.
_CHARS_PER_UNIT = {"han": 0.5, "kana": 0.5, "hangul": 1}
_LETTERS_PER_WORD = 4


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function and everyday words per language. A word may belong to several languages; words that are also
# common English ("a", "no", "me", "die", "son", "come", "as") are left out of the other languages.
_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """the and is are was were to of you your it this that with for have has be not my i i'm just what
        on at they we he she will can do don't so but if about all from get like love good it's been would
        there their how why when who an or out up new day one today tomorrow time know now see go going think
        am our us more yes them his her had did got really thanks thank great happy please best people
        can't won't didn't doesn't isn't wasn't aren't i've i'll you're that's what's let's here than then
        these those which very much some any make made want need still only even also back after before
        should could well way over never ever always every into because night week year tonight u lol omg
        via watch game show"""
    ),
    "fr": _words(
        """le la les des est une et je tu vous nous pas pour dans avec sur qui que ce cette mais très c'est
        j'ai du au aux mon ma mes ton ta tes sont être avoir fait tout tous bien merci bonjour aujourd'hui
        oui non il elle ils elles ça leur été suis sommes êtes avez avons peu beaucoup rien jamais toujours
        n'est qu'il d'un d'une quand où comment pourquoi parce vraiment trop encore demain hier
        soir"""
    ),
    "es": _words(
        """el los las es está una que de por para con pero muy como más yo mi su del al lo gracias hola hoy
        bueno buena nada también esto esta este estoy soy tengo hay sí ya qué porque cuando donde siempre
        nunca todo todos mucho poco ahora mañana ayer noche bien mal eres somos están tiene"""
    ),
    "de": _words(
        """der das ist und nicht ich du wir sie ein eine mit auf für den dem des zu auch noch sehr aber wie
        heute danke schön gut bin hast haben sind wird mein dein kein keine nur schon mal jetzt ja nein
        oder wenn weil dass immer nichts alles morgen gestern abend hier mich dich uns euch"""
    ),
    "it": _words(
        """il lo la gli le di che è sono per non una con del della questo questa molto anche ma io grazie
        ciao oggi sempre tutto più perché sei siamo hanno abbiamo mi ti ci cosa quando dove bene male
        domani ieri sera niente nella nel alla dei delle"""
    ),
    "pt": _words(
        """os é não um uma com para por que do da dos das em eu você muito mais obrigado obrigada hoje isso
        esse essa está são tem bom boa mas meu minha seu sua ele ela eles nós quando onde sempre nunca
        tudo agora amanhã ontem noite bem mal também aqui"""
    ),
    "nl": _words(
        """de het een en niet ik je jij wij zijn met voor op van dat dit maar ook heel nog dank bedankt
        vandaag goed wel geen is naar wat hebben heb mijn jouw ons deze altijd nooit morgen
        gisteren"""
    ),
    "id": _words(
        """yang dan di ini itu tidak aku saya kamu dengan untuk ada dari akan sudah juga bisa terima kasih
        hari sangat baik belum lagi mau sama apa kita mereka karena tapi"""
    ),
    "tr": _words(
        """ve bir bu da de için çok ne ben sen değil var yok teşekkürler merhaba gibi ama daha şey neden
        çünkü bugün"""
    ),
    "vi": _words(
        """tôi là của và có không người một những được cho này với các đã rất bạn chào cảm ơn chúng
        anh em chị"""
    ),
}
# Letters English does not use, and the language each points to.
_LETTERS = {
    "ñ": "es",
    "¿": "es",
    "¡": "es",
    "ß": "de",
    "ä": "de",
    "ö": "de",
    "ü": "de",
    "ç": "fr",
    "è": "fr",
    "ê": "fr",
    "à": "fr",
    "œ": "fr",
    "ã": "pt",
    "õ": "pt",
    "ğ": "tr",
    "ş": "tr",
    "\u0131": "tr",  # dotless i
    "ò": "it",
    "ù": "it",
    "ì": "it",
}
_LETTERS.update(dict.fromkeys("ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ", "vi"))
_ELISIONS = ("l'", "d'", "j'", "qu'", "c'", "n'", "s'", "m'", "t'")


def _script(char: str) -> str | None:
    code = ord(char)
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return "latin" if char.isalpha() else None
    for first, last, script in _RANGES:
        if first <= code <= last:
            return script
    return None


def _script_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for char in text:
        script = _script(char)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    return counts


def _latin_language(text: str) -> str:
    lowered = text.lower().replace("\u2019", "'")
    words = _WORD.findall(lowered)
    hits = dict.fromkeys(_WORDS, 0.0)
    for word in words:
        for language, vocabulary in _WORDS.items():
            if word in vocabulary:
                hits[language] += 1
        if word.startswith(_ELISIONS) and len(word) > 3:
            hits["fr"] += 1
    for char in lowered:
        hinted = _LETTERS.get(char)
        if hinted is not None:
            hits[hinted] = hits.get(hinted, 0.0) + 0.5
    english = hits.pop("en")
    other, other_hits = max(hits.items(), key=lambda item: item[1])
    if other_hits > english and (other_hits >= 2 or (english == 0 and other_hits >= 1 and len(words) <= 3)):
        return other
    return "en"


def detect_language(text: str) -> str:
    """The ISO 639-1 code of ``text``'s language ("en", "zh", "ja", "fr", ...), or "und" if it has no
    letters (emoji, numbers, links and mentions only)."""
    cleaned = _NOISE.sub(" ", text)
    counts = _script_counts(cleaned)
    if not counts:
        return UNDETERMINED
    weights = {
        script: count / _CHARS_PER_UNIT.get(script, _LETTERS_PER_WORD) for script, count in counts.items()
    }
    cjk = counts.get("han", 0) + counts.get("kana", 0)
    if cjk:
        weights["cjk"] = weights.pop("han", 0.0) + weights.pop("kana", 0.0)
    script = max(weights, key=lambda name: (weights[name], name == "latin"))
    if script == "latin":
        return _latin_language(cleaned)
    if script == "cjk":
        kana = counts.get("kana", 0)
        return "ja" if kana and (kana >= 2 or not counts.get("han")) and kana >= 0.15 * cjk else "zh"
    if script == "cyrillic":
        return "uk" if any(char in "іїєґІЇЄҐ" for char in cleaned) else "ru"
    if script == "arabic":
        return "fa" if any(char in "پچژگ" for char in cleaned) else "ar"
    return _SCRIPT_LANGUAGE.get(script, UNDETERMINED)


def confident_language(text: str) -> str | None:
    """:func:`detect_language`'s answer when the text shows it (a writing system that decides, another
    language's words or letters, or at least two English function words); ``None`` when "en" would only
    be the default for Latin-script text without evidence, or nothing could be told."""
    language = detect_language(text)
    if language == UNDETERMINED:
        return None
    if language != "en":
        return language
    words = _WORD.findall(_NOISE.sub(" ", text).lower().replace("\u2019", "'"))
    return language if sum(word in _WORDS["en"] for word in words) >= 2 else None
