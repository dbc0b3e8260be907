"""Per-platform validation of a post, counted the way each platform counts.

``validate(platform, text, media, link, thread, first_comment)`` returns every rule the post breaks on
that platform (an empty list means it can be published). Each ``Violation`` names the rule and the field
("text", "media[1]", "thread[2]", "first_comment", "link") so the API can answer 422 naming the account
and the rule.

Thread parts and the first comment are checked by the same text rules as the post itself:

- threads (replies to the first part) are supported on X, Bluesky, Mastodon and Threads;
- a first comment is supported everywhere except TikTok (on X, Bluesky, Mastodon and Threads it is a
  reply by the account itself; on Facebook, Instagram, LinkedIn and YouTube a comment).

``link`` is a separate attachment on Facebook (link preview) and Bluesky (external card) when the post
has no media; otherwise, and on every other platform, the publisher appends it to the text
(``text.compose_text``), so it is counted as part of the text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from chorus.errors import ValidationFailed
from chorus.posts import text as textlib

MB = 1024 * 1024


class MediaKind(StrEnum):
    IMAGE = "image"
    GIF = "gif"
    VIDEO = "video"


#: MIME types Chorus accepts at all, and what kind of media each is.
MIME_KINDS: Mapping[str, MediaKind] = {
    "image/jpeg": MediaKind.IMAGE,
    "image/png": MediaKind.IMAGE,
    "image/webp": MediaKind.IMAGE,
    "image/gif": MediaKind.GIF,
    "video/mp4": MediaKind.VIDEO,
    "video/quicktime": MediaKind.VIDEO,  # .mov
}


@dataclass(frozen=True)
class MediaSpec:
    """What validation needs to know about one attachment."""

    mime_type: str
    size: int | None = None  # bytes, when known
    width: int | None = None  # pixels as displayed, when known (the media library reads them)
    height: int | None = None
    duration_s: float | None = None  # a video's length, when known

    @property
    def kind(self) -> MediaKind | None:
        return MIME_KINDS.get(self.mime_type.lower())

    @property
    def aspect(self) -> float | None:
        """Width over height, when both are known."""
        return self.width / self.height if self.width and self.height else None


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    field: str


class LinkMode(StrEnum):
    TEXT = "text"  # appended to the text (counted)
    CARD = (
        "card"  # a preview/card unless there is media (Facebook, Bluesky, Threads), else appended to the text
    )
    FIELD = "field"  # a field of its own, never in the text (Pinterest's destination link)


@dataclass(frozen=True)
class MediaRules:
    """Which attachments a platform takes. ``max_size`` per MIME type, in bytes (None: no check)."""

    types: frozenset[str]
    max_size: Mapping[str, int] = field(default_factory=dict)
    max_images: int = 4  # images per post (GIFs count as images where ``gif_alone`` is False)
    max_videos: int = 1
    gif_alone: bool = False  # a GIF must be the only attachment (X)
    video_alone: bool = True  # a video cannot be mixed with other media
    requires: str | None = None  # None | "any" | "video"
    min_items_if_many: int = 1  # Instagram carousel: 2..10
    max_items: int = 4
    video_seconds: tuple[float, float] | None = None  # a video's shortest and longest length
    image_aspect: tuple[float, float] | None = None  # narrowest and widest width/height of an image
    video_aspect: tuple[float, float] | None = None  # the same for a video


@dataclass(frozen=True)
class PlatformRules:
    name: str
    max_length: int
    count: Callable[[str], int]
    length_unit: str
    media: MediaRules
    max_bytes: int | None = None
    max_hashtags: int | None = None
    max_mentions: int | None = None
    supports_thread: bool = False
    supports_first_comment: bool = True
    link_mode: LinkMode = LinkMode.TEXT
    max_title: int | None = None  # a title of its own (counted by ``count``); None: no title field
    title_from_text: bool = False  # no title given: the text's first line is the title (WeChat articles)
    text_rule: Callable[[str], str | None] | None = None  # a platform's own rule: why it refuses a text
    # a platform's own rule on the post as a whole (its media, title and options): what it refuses
    post_rule: Callable[[Sequence[MediaSpec], str | None, Mapping[str, str]], list[Violation]] | None = None


def weibo_share_rule(text: str) -> str | None:
    """Weibo's ``statuses/share`` link rule with the deployment's safe domain (``CHORUS_WEIBO_SAFE_DOMAIN``)."""
    from chorus.accounts.apps import get_apps

    return textlib.weibo_share_problem(text, get_apps().weibo_safe_domain)


TIKTOK_VIDEO_ONLY = ("allow_duet", "allow_stitch", "cover_ms")
TIKTOK_PHOTO_ONLY = ("photo_cover_index", "auto_add_music")
TIKTOK_DIRECT_ONLY = (
    "privacy_level",
    "allow_comment",
    "allow_duet",
    "allow_stitch",
    "cover_ms",
    "auto_add_music",
)
"""What a draft cannot carry: the creator sets it in the TikTok app (TikTok takes no post settings there)."""


def _tiktok_post(
    media: Sequence[MediaSpec], title: str | None, options: Mapping[str, str]
) -> list[Violation]:
    """A TikTok photo post (images only) has a title and a cover among its photos, no duets, stitches or
    cover frame; a video has no title (its caption is the text) and no photo options; a draft carries no
    post settings (the creator chooses them in the app)."""
    photo = bool(media) and all(m.kind is MediaKind.IMAGE for m in media)
    found: list[Violation] = []
    if options.get("mode") == "draft":
        found += [Violation("options.unsupported", f"{name}: a TikTok draft's settings are chosen in the TikTok app",
                            f"options.tiktok.{name}") for name in TIKTOK_DIRECT_ONLY if options.get(name)]  # fmt: skip
    if title and media and not photo:
        found.append(
            Violation("title.unsupported", "a TikTok video has no title: its caption is the text", "title")
        )
    for name in TIKTOK_VIDEO_ONLY if photo else TIKTOK_PHOTO_ONLY if media else ():
        if options.get(name) and not (options.get("mode") == "draft" and name in TIKTOK_DIRECT_ONLY):
            kind = "video" if photo else "photo post"
            found.append(Violation("options.unsupported", f"{name} is for a TikTok {kind} only",
                                   f"options.tiktok.{name}"))  # fmt: skip
    cover = options.get("photo_cover_index") or ""
    if photo and cover.isdigit() and int(cover) >= len(media):
        found.append(Violation("options.invalid", f"the post has {len(media)} photos: 0 to {len(media) - 1}",
                               "options.tiktok.photo_cover_index"))  # fmt: skip
    return found


_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})
_VIDEOS = frozenset({"video/mp4", "video/quicktime"})


def _sizes(image: int | None, gif: int | None, video: int | None) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for mime, kind in MIME_KINDS.items():
        limit = {MediaKind.IMAGE: image, MediaKind.GIF: gif, MediaKind.VIDEO: video}[kind]
        if limit is not None:
            sizes[mime] = limit
    return sizes


PLATFORM_RULES: Mapping[str, PlatformRules] = {
    # developer.x.com: 4 photos, or 1 GIF, or 1 video; images 5 MB, GIFs 15 MB, videos 512 MB.
    "x": PlatformRules(
        name="X",
        max_length=textlib.X_MAX_WEIGHTED_LENGTH,
        count=textlib.x_weighted_length,
        length_unit="weighted characters",
        media=MediaRules(
            types=_IMAGES | {"image/gif"} | _VIDEOS,
            max_size=_sizes(5 * MB, 15 * MB, 512 * MB),
            gif_alone=True,
            video_seconds=(0.5, 140),  # media best practices: 0.5 s to 2 min 20 s, 1:3 to 3:1
            video_aspect=(1 / 3, 3),
        ),
        supports_thread=True,
    ),
    # app.bsky.embed.images: up to 4 images, each <= 1,000,000 bytes; app.bsky.embed.video: 1 video,
    # <= 100,000,000 bytes.
    "bluesky": PlatformRules(
        name="Bluesky",
        max_length=300,
        count=textlib.grapheme_length,
        length_unit="graphemes",
        max_bytes=3000,
        media=MediaRules(
            types=_IMAGES | {"image/gif"} | _VIDEOS,
            max_size=_sizes(1_000_000, 1_000_000, 100_000_000),
            video_seconds=(0, 180),  # videos up to 3 minutes
        ),
        supports_thread=True,
        link_mode=LinkMode.CARD,
    ),
    # Mastodon defaults (4.x): 4 attachments, images 16 MB, videos 99 MB, a video alone.
    "mastodon": PlatformRules(
        name="Mastodon",
        max_length=500,
        count=textlib.mastodon_length,
        length_unit="characters (URLs count 23)",
        media=MediaRules(
            types=_IMAGES | {"image/gif"} | _VIDEOS,
            max_size=_sizes(16 * MB, 16 * MB, 99 * MB),
        ),
        supports_thread=True,
    ),
    # The local sandbox platform (demo and tests): Mastodon's rules.
    "sandbox": PlatformRules(
        name="Sandbox",
        max_length=500,
        count=textlib.mastodon_length,
        length_unit="characters (URLs count 23)",
        media=MediaRules(types=_IMAGES | {"image/gif"} | _VIDEOS, max_size=_sizes(16 * MB, 16 * MB, 99 * MB)),
        supports_thread=True,
    ),
    # Instagram content publishing: JPEG images <= 8 MB, MP4/MOV videos (reels) <= 300 MB; a single
    # image/video or a carousel of 2..10 items (images and videos may mix).
    "instagram": PlatformRules(
        name="Instagram",
        max_length=2200,
        count=textlib.codepoint_length,
        length_unit="characters",
        max_hashtags=30,
        max_mentions=20,
        media=MediaRules(
            types=frozenset({"image/jpeg"}) | _VIDEOS,
            max_size=_sizes(8 * MB, None, 300 * MB),
            max_images=10,
            max_videos=10,
            video_alone=False,
            requires="any",
            min_items_if_many=2,
            max_items=10,
            # Content publishing: images 4:5 to 1.91:1; reels 3 s to 15 min, 0.01:1 to 10:1.
            image_aspect=(0.8, 1.91),
            video_seconds=(3, 900),
            video_aspect=(0.01, 10),
        ),
    ),
    # Facebook Page posts: 63,206 characters; photos <= 10 MB (JPEG/PNG/GIF/WebP); one video.
    "facebook": PlatformRules(
        name="Facebook",
        max_length=63_206,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=_IMAGES | {"image/gif"} | _VIDEOS,
            max_size=_sizes(10 * MB, 10 * MB, 10 * 1024 * MB),
            max_images=10,
            max_items=10,
            video_seconds=(1, 240 * 60),  # Page videos up to 240 minutes
        ),
        link_mode=LinkMode.CARD,
    ),
    # Threads: 500 characters; JPEG/PNG <= 8 MB, MP4/MOV <= 1 GB; carousel up to 20 (api_reference.json:
    # "up to 20 images, videos, or a mix"); a text post's link is its link_attachment.
    "threads": PlatformRules(
        name="Threads",
        max_length=500,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=frozenset({"image/jpeg", "image/png"}) | _VIDEOS,
            max_size=_sizes(8 * MB, None, 1024 * MB),
            max_images=20,
            max_videos=20,
            video_alone=False,
            min_items_if_many=2,
            max_items=20,
            # Threads media specs: images up to 10:1; videos up to 5 minutes, 0.01:1 to 10:1.
            image_aspect=(0.01, 10),
            video_seconds=(0, 300),
            video_aspect=(0.01, 10),
        ),
        supports_thread=True,
        link_mode=LinkMode.CARD,
    ),
    # Pinterest v5 pins (pinterest/api-description PinCreate: description <= 800, title <= 100, link
    # <= 2048): one image (JPEG/PNG, <= 20 MB: help.pinterest.com "Pin specs") or one video (MP4/MOV,
    # <= 2 GB, through POST /v5/media); a pin to a board, so no thread and no first comment.
    "pinterest": PlatformRules(
        name="Pinterest",
        max_length=800,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=frozenset({"image/jpeg", "image/png"}) | _VIDEOS,
            max_size=_sizes(20 * MB, None, 2 * 1024 * MB),
            max_images=1,
            requires="any",
            max_items=1,
            video_seconds=(4, 15 * 60),  # Pin specs: videos 4 s to 15 minutes
        ),
        supports_first_comment=False,
        link_mode=LinkMode.FIELD,
    ),
    # LinkedIn posts (Posts API): commentary <= 3,000 characters; one image (content.media) or 2-20
    # (content.multiImage), JPEG/PNG/GIF through the Images API; or one video alone (Videos API). A link
    # without media is the post's article card (content.article), with media it is appended to the text.
    # Chorus publishes no first comment on LinkedIn (the adapter makes the post only).
    "linkedin": PlatformRules(
        name="LinkedIn",
        max_length=3000,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=frozenset({"image/jpeg", "image/png", "image/gif"}) | _VIDEOS,
            max_size=_sizes(None, None, 5 * 1024 * MB),
            max_images=20,
            max_items=20,
            video_seconds=(3, 30 * 60),  # Videos API: 3 s to 30 minutes, 1:2.4 to 2.4:1
            video_aspect=(1 / 2.4, 2.4),
        ),
        supports_first_comment=False,
        link_mode=LinkMode.CARD,
    ),
    # YouTube: one video is the post; the text is its description (5,000 characters).
    "youtube": PlatformRules(
        name="YouTube",
        max_length=5000,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=_VIDEOS | {"image/jpeg", "image/png"},
            max_size=_sizes(2 * MB, None, 256 * 1024 * MB),
            max_images=1,
            video_alone=False,
            requires="video",
            max_items=2,
            video_seconds=(0, 12 * 3600),
        ),
        supports_first_comment=False,
    ),
    # TikTok Content Posting API: one video (MP4/MOV/WebM, <= 4 GB), or a photo post of 1 to 35 JPEG/WebP
    # images (<= 20 MB each: content_posting_reference.json's image_restrictions) with a title of its own
    # (90 characters: content/init's post_info.title); the caption (a video's title, a photo post's
    # description) is held to the video caption's 2,200 characters for both.
    "tiktok": PlatformRules(
        name="TikTok",
        max_length=2200,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=_VIDEOS | {"image/jpeg", "image/webp"},
            max_size=_sizes(20 * MB, None, 4 * 1024 * MB),
            max_images=35,
            requires="any",
            max_items=35,
            # creator_info's max_video_post_duration_sec bounds it per creator (300 s in the sample);
            # 3 s to 10 minutes is the most any creator gets.
            video_seconds=(3, 600),
        ),
        supports_first_comment=False,
        max_title=90,
        post_rule=_tiktok_post,
    ),
    # Douyin create_video: one video (MP4/MOV; parts above 50 MB, <= 4 GB: douyin/_endpoints.json); the
    # caption is its `text` (topics, @users). The open platform states no caption limit: the Douyin app's
    # own, 1,000 characters, each 汉字, emoji or Latin letter one. No text-only post (video only).
    "douyin": PlatformRules(
        name="Douyin",
        max_length=1000,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=_VIDEOS,
            max_size=_sizes(None, None, 4 * 1024 * MB),
            max_images=0,
            requires="video",
            max_items=1,
        ),
        supports_first_comment=False,
    ),
    # Kuaishou photo/publish: one video, its `caption`, and an image beside it as its `cover` (optional).
    # Kuaishou documents no caption limit for apps: the Kuaishou app's own, 500 characters, each 汉字,
    # emoji or Latin letter one. A video is required (no text-only post).
    "kuaishou": PlatformRules(
        name="Kuaishou",
        max_length=500,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=_VIDEOS | _IMAGES, max_images=1, video_alone=False, requires="video", max_items=2
        ),
        supports_first_comment=False,
    ),
    # Xiaohongshu notes (reminder publishing: no publishing API, see docs/platforms.md): the note editor
    # takes a title of up to 20 characters and a body of up to 1,000, a 汉字 or an emoji one and two
    # Latin letters or digits one; a note is 1 to 18 images or one video.
    "xiaohongshu": PlatformRules(
        name="Xiaohongshu",
        max_length=1000,
        count=textlib.half_width_length,
        length_unit="characters (two Latin letters or digits count as one)",
        media=MediaRules(types=_IMAGES | _VIDEOS, max_images=18, requires="any", max_items=18),
        supports_first_comment=False,
        max_title=20,
    ),
    # Zhihu articles (reminder publishing: no publishing API). Zhihu documents no limits for apps; the
    # bounds are Chorus's own, reasoned in docs/platforms.md: a title of up to 100 characters, a body of
    # up to 100,000 code points, up to 50 images or one video.
    "zhihu": PlatformRules(
        name="Zhihu",
        max_length=100_000,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(types=_IMAGES | {"image/gif"} | _VIDEOS, max_images=50, max_items=50),
        supports_first_comment=False,
        max_title=100,
    ),
    # Weibo statuses/share (fixtures/platform_api/china/weibo): <= 140 Chinese characters (two Latin
    # letters one, a link 10: textlib.weibo_length), a link under the app's safe domain and no #话题#
    # (10017 otherwise), at most one JPEG/GIF/PNG picture < 5 MB; no video, thread or first comment.
    "weibo": PlatformRules(
        name="Weibo",
        max_length=140,
        count=textlib.weibo_length,
        length_unit="characters (a Chinese character one, two Latin letters one, a link 10)",
        media=MediaRules(
            types=frozenset({"image/jpeg", "image/png", "image/gif"}),
            max_size=_sizes(5 * MB, 5 * MB, None),
            max_images=1,
            max_videos=0,
            max_items=1,
        ),
        supports_first_comment=False,
        text_rule=weibo_share_rule,
    ),
    # WeChat Official Account articles (fixtures/platform_api/china/wechat: draft/add): a title of at most
    # 32 characters (the post's title, else the text's first line), content under 20,000 characters;
    # permanent image materials (add_material: bmp/png/jpeg/gif, <= 10 MB), the first the cover, which
    # the article requires; the link is its "read more" (content_source_url), not in the text.
    "wechat": PlatformRules(
        name="WeChat",
        max_length=20_000,
        count=textlib.codepoint_length,
        length_unit="characters",
        media=MediaRules(
            types=frozenset({"image/jpeg", "image/png", "image/gif"}),
            max_size=_sizes(10 * MB, 10 * MB, None),
            max_images=20,
            max_videos=0,
            requires="any",
            max_items=20,
        ),
        supports_first_comment=False,
        link_mode=LinkMode.FIELD,
        max_title=32,
        title_from_text=True,
    ),
}


def effective_text(platform: str, text: str, link: str | None, has_media: bool) -> str:
    """The text as it will be published: with ``link`` appended where the platform needs it there."""
    rules = PLATFORM_RULES[platform]
    if rules.link_mode is LinkMode.FIELD or (rules.link_mode is LinkMode.CARD and not has_media):
        return text
    return textlib.compose_text(text, link)


def _check_text(rules: PlatformRules, value: str, where: str) -> list[Violation]:
    found: list[Violation] = []
    refused = rules.text_rule(value) if rules.text_rule is not None else None
    if refused:
        found.append(Violation("text.platform_rule", refused, where))
    length = rules.count(value)
    if length > rules.max_length:
        found.append(
            Violation(
                "text.too_long",
                f"{rules.name} allows {rules.max_length} {rules.length_unit}; this has {length}",
                where,
            )
        )
    if rules.max_bytes is not None and textlib.utf8_length(value) > rules.max_bytes:
        found.append(
            Violation(
                "text.too_many_bytes",
                f"{rules.name} allows {rules.max_bytes} UTF-8 bytes; this has {textlib.utf8_length(value)}",
                where,
            )
        )
    if rules.max_hashtags is not None and len(textlib.hashtags(value)) > rules.max_hashtags:
        found.append(
            Violation(
                "text.too_many_hashtags",
                f"{rules.name} allows {rules.max_hashtags} hashtags; this has {len(textlib.hashtags(value))}",
                where,
            )
        )
    if rules.max_mentions is not None and len(textlib.mentions(value)) > rules.max_mentions:
        found.append(
            Violation(
                "text.too_many_mentions",
                f"{rules.name} allows {rules.max_mentions} mentions; this has {len(textlib.mentions(value))}",
                where,
            )
        )
    return found


def title_and_body(text: str, title: str | None) -> tuple[str, str]:
    """(title, body) of an article on a platform whose title may come from the text (``title_from_text``):
    the post's title and its whole text, else the text's first line and the rest (the title alone when
    nothing follows it)."""
    if title and title.strip():
        return title.strip(), text.strip()
    first, _, rest = text.strip().partition("\n")
    return first.strip(), rest.strip() or first.strip()


def _check_title(rules: PlatformRules, title: str | None, text: str = "") -> list[Violation]:
    """A title is checked where the platform has one, and refused where it has none. Where the title
    may come from the text (``title_from_text``), the text's first line is checked when no title is given."""
    where = "title"
    if not title and rules.title_from_text and text.strip():
        title, where = title_and_body(text, None)[0], "text"
    if not title:
        return []
    if rules.max_title is None:
        return [Violation("title.unsupported", f"{rules.name} posts have no title", "title")]
    length = rules.count(title)
    if length > rules.max_title:
        named = "a title" if where == "title" else "a title (the text's first line)"
        message = f"{rules.name} allows {named} of {rules.max_title} {rules.length_unit}; this has {length}"
        return [Violation("title.too_long", message, where)]
    return []


def _check_media(rules: PlatformRules, media: Sequence[MediaSpec]) -> list[Violation]:
    limits = rules.media
    found: list[Violation] = []
    kinds: list[MediaKind] = []
    for index, item in enumerate(media):
        where = f"media[{index}]"
        mime = item.mime_type.lower()
        kind = item.kind
        if kind is None or mime not in limits.types:
            allowed = ", ".join(sorted(limits.types))
            found.append(
                Violation(
                    "media.unsupported_type", f"{rules.name} does not take {mime} (takes {allowed})", where
                )
            )
            continue
        kinds.append(kind)
        found += _check_shape(rules, item, where)
        limit = limits.max_size.get(mime)
        if limit is not None and item.size is not None and item.size > limit:
            found.append(
                Violation(
                    "media.too_large",
                    f"{rules.name} allows {mime} up to {limit} bytes; this is {item.size}",
                    where,
                )
            )
    count = len(media)
    videos = kinds.count(MediaKind.VIDEO)
    gifs = kinds.count(MediaKind.GIF)
    images = kinds.count(MediaKind.IMAGE) + (0 if limits.gif_alone else gifs)
    if limits.requires == "any" and count == 0:
        found.append(Violation("media.required", f"{rules.name} needs an image or a video", "media"))
    if limits.requires == "video" and videos == 0:
        found.append(Violation("media.video_required", f"{rules.name} needs a video", "media"))
    if count > limits.max_items:
        found.append(
            Violation(
                "media.too_many",
                f"{rules.name} allows {limits.max_items} attachments; this has {count}",
                "media",
            )
        )
    elif 1 < count < limits.min_items_if_many:
        found.append(
            Violation(
                "media.too_few",
                f"{rules.name} needs 1 item or {limits.min_items_if_many}..{limits.max_items} in a carousel",
                "media",
            )
        )
    if images > limits.max_images and count <= limits.max_items:
        found.append(
            Violation("media.too_many_images", f"{rules.name} allows {limits.max_images} images", "media")
        )
    if videos > limits.max_videos:
        found.append(
            Violation("media.too_many_videos", f"{rules.name} allows {limits.max_videos} video", "media")
        )
    if (limits.video_alone and videos and count > 1) or (limits.gif_alone and gifs and count > 1):
        found.append(
            Violation(
                "media.mixed",
                f"{rules.name} takes up to {limits.max_images} images, or one video or GIF on its own",
                "media",
            )
        )
    return found


def _check_shape(rules: PlatformRules, item: MediaSpec, where: str) -> list[Violation]:
    """A video's length and an attachment's aspect ratio, when the platform bounds them and they are
    known (the media library reads them from the file; a post's own media list does not carry them)."""
    limits, found = rules.media, []
    video = item.kind is MediaKind.VIDEO
    if video and limits.video_seconds and item.duration_s is not None:
        shortest, longest = limits.video_seconds
        if not shortest <= item.duration_s <= longest:
            found.append(
                Violation(
                    "media.duration",
                    f"{rules.name} takes videos of {shortest:g} to {longest:g} seconds; "
                    f"this is {item.duration_s:.1f}",
                    where,
                )
            )
    bounds = limits.video_aspect if video else limits.image_aspect
    aspect = item.aspect
    if bounds and aspect is not None and not bounds[0] <= round(aspect, 3) <= bounds[1]:
        found.append(
            Violation(
                "media.aspect_ratio",
                f"{rules.name} takes aspect ratios (width/height) of {bounds[0]:.2f} to {bounds[1]:.2f}; "
                f"this is {aspect:.2f}",
                where,
            )
        )
    return found


def media_fitness(platform: str, item: MediaSpec) -> list[Violation]:
    """Every rule ``platform`` would reject ``item`` for as a post's only attachment: its type and size,
    a video's length and the aspect ratio (empty: it fits). The media library shows this per file."""
    return _check_media(PLATFORM_RULES[platform], [item])


def text_fitness(platform: str, text: str) -> list[Violation]:
    """The text rules ``platform`` would reject ``text`` for as a post's text (its length as the platform
    counts it, bytes, hashtags, mentions): the content library shows this for templates and hashtag
    groups."""
    return _check_text(PLATFORM_RULES[platform], text, "text")


def _choice(*allowed: str) -> Callable[[str], str | None]:
    return lambda value: None if value in allowed else f"must be one of {', '.join(allowed)}"


def _boolean(value: str) -> str | None:
    return None if value in ("true", "false") else "must be true or false"


def _digits(value: str) -> str | None:
    return None if value.isascii() and value.isdigit() and len(value) <= 9 else "must be a whole number"


def _youtube_title(value: str) -> str | None:
    if "<" in value or ">" in value:
        return "YouTube refuses < and > in a title"
    return None if 0 < len(value) <= 100 else "must be 1 to 100 characters"


def _youtube_tags(value: str) -> str | None:
    return None if len(value) <= 500 else "YouTube allows 500 characters of tags"


def _instant(value: str) -> str | None:
    from datetime import datetime

    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "must be an ISO 8601 date and time with its offset (2026-12-24T18:00:00Z)"
    return None if when.tzinfo is not None else "must carry its UTC offset (Z or +01:00)"


def _characters(limit: int) -> Callable[[str], str | None]:
    return lambda value: None if 0 < len(value) <= limit else f"must be 1 to {limit} characters"


TIKTOK_PRIVACY = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PLATFORM_OPTIONS: Mapping[str, Mapping[str, Callable[[str], str | None]]] = {
    # videos.insert's snippet and status (chorus.platforms.youtube.publish)
    "youtube": {
        "title": _youtube_title,
        "tags": _youtube_tags,
        "category_id": _digits,
        "privacy": _choice("public", "unlisted", "private"),
        "publish_at": _instant,
        "made_for_kids": _boolean,
        "notify_subscribers": _boolean,
    },
    # Direct Post's post_info (chorus.platforms.tiktok.publish); the creator's own options are checked
    # against creator info before the post is sent
    "tiktok": {
        "mode": _choice("direct", "draft"),  # draft: sent to the creator's TikTok inbox to finish there
        "privacy_level": _choice(*TIKTOK_PRIVACY),
        "allow_comment": _boolean,
        "allow_duet": _boolean,
        "allow_stitch": _boolean,
        "cover_ms": _digits,
        "photo_cover_index": _digits,  # a photo post's cover, from 0
        "auto_add_music": _boolean,  # a photo post's music
    },
    # draft/add's article fields (chorus.platforms.wechat.publish): the summary shown under the title
    # in shares (WeChat takes the content's first 54 characters without one), the author, comments
    "wechat": {
        "digest": _characters(128),
        "author": _characters(16),
        "open_comment": _boolean,
        "fans_only_comment": _boolean,
    },
    # the board the pin goes to (chorus.platforms.pinterest.publish); else the account's chosen board
    "pinterest": {"board_id": _characters(64)},
}
"""The options a post may give a platform (``Content.options[platform]``), each with its check."""
REQUIRED_OPTIONS: Mapping[str, Callable[[Mapping[str, str]], tuple[str, ...]]] = {
    "tiktok": lambda own: () if own.get("mode") == "draft" else ("privacy_level",),
}
"""Options a post must give, given its options: TikTok asks that the creator choose the privacy of each
post it publishes (a draft's privacy is chosen in the TikTok app)."""


def check_options(platform: str, options: Mapping[str, Mapping[str, str]]) -> list[Violation]:
    """The post's options for ``platform`` (``options[platform]``): names it knows, values it takes,
    the ones it needs. Options for other platforms are theirs (checked with their targets)."""
    found: list[Violation] = []
    known = PLATFORM_OPTIONS.get(platform, {})
    own = options.get(platform) or {}
    for name, value in own.items():
        check = known.get(name)
        if check is None:
            allowed = ", ".join(known) or "none"
            found.append(Violation("options.unknown", f"no option {name!r} (options: {allowed})",
                                   f"options.{platform}.{name}"))  # fmt: skip
        elif (problem := check(value)) is not None:
            found.append(Violation("options.invalid", problem, f"options.{platform}.{name}"))
    required = REQUIRED_OPTIONS.get(platform)
    for name in required(own) if required else ():
        if not own.get(name):
            found.append(Violation("options.required", f"choose {name} for {PLATFORM_RULES[platform].name}",
                                   f"options.{platform}.{name}"))  # fmt: skip
    return found


def _tiktok_creator(options: Mapping[str, str], extra: Mapping[str, str]) -> list[Violation]:
    """TikTok's creator info kept on the account at connect: the privacy levels it may post with, and
    the interactions it turned off (read again from TikTok before the post is sent)."""
    import json

    found: list[Violation] = []
    allowed = [p for p in (extra.get("privacy_level_options") or "").split(",") if p]
    chosen = options.get("privacy_level")
    if chosen and allowed and chosen not in allowed:
        found.append(Violation("options.creator", f"this creator may post with {', '.join(allowed)} only",
                               "options.tiktok.privacy_level"))  # fmt: skip
    try:
        creator = json.loads(extra.get("creator_info") or "{}")
    except ValueError:
        creator = {}
    for name, off in (("allow_comment", "comment_disabled"), ("allow_duet", "duet_disabled"),
                      ("allow_stitch", "stitch_disabled")):  # fmt: skip
        if options.get(name) == "true" and creator.get(off) is True:
            found.append(Violation("options.creator", f"the creator turned {off.removesuffix('_disabled')}s off",
                                   f"options.tiktok.{name}"))  # fmt: skip
    return found


def _pinterest_board(options: Mapping[str, str], extra: Mapping[str, str]) -> list[Violation]:
    """The board a pin names must be one of the account's boards, as listed at connect."""
    import json

    chosen = options.get("board_id")
    if not chosen:
        return []
    try:
        listed = json.loads(extra.get("boards") or "[]")
    except ValueError:
        listed = []
    boards = {str(b.get("id")): str(b.get("name") or "") for b in listed if isinstance(b, dict)}
    if chosen in boards:
        return []
    names = ", ".join(f"{name or '?'} ({board})" for board, name in boards.items()) or "none listed"
    return [Violation("options.board", f"not one of this account's boards: {names}",
                      "options.pinterest.board_id")]  # fmt: skip


ACCOUNT_OPTIONS: Mapping[str, Callable[[Mapping[str, str], Mapping[str, str]], list[Violation]]] = {
    "tiktok": _tiktok_creator,
    "pinterest": _pinterest_board,
}
"""Platforms whose options depend on the account (what it was allowed at connect, kept in its extra)."""


def check_account_options(
    platform: str, options: Mapping[str, Mapping[str, str]], extra: Mapping[str, str]
) -> list[Violation]:
    """The post's options for ``platform`` against what the account may do (``ACCOUNT_OPTIONS``)."""
    check = ACCOUNT_OPTIONS.get(platform)
    return check(options.get(platform) or {}, extra) if check else []


def validate(
    platform: str,
    text: str,
    media: Sequence[MediaSpec] = (),
    link: str | None = None,
    thread: Sequence[str] = (),
    first_comment: str | None = None,
    title: str | None = None,
    options: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Violation]:
    """Every rule ``platform`` would reject this post for (empty: publishable)."""
    rules = PLATFORM_RULES.get(platform)
    if rules is None:
        return [Violation("platform.unknown", f"unknown platform {platform!r}", "platform")]
    found = _check_text(rules, effective_text(platform, text, link, bool(media)), "text")
    found += check_options(platform, options or {})
    found += _check_title(rules, title, text)
    found += _check_media(rules, media)
    if rules.post_rule is not None:
        found += rules.post_rule(media, title, (options or {}).get(platform) or {})
    if thread and not rules.supports_thread:
        found.append(Violation("thread.unsupported", f"{rules.name} does not support threads", "thread"))
    elif thread:
        for index, part in enumerate(thread):
            where = f"thread[{index}]"
            if not part.strip():
                found.append(Violation("text.empty", "a thread part cannot be empty", where))
            found += _check_text(rules, part, where)
    if first_comment is not None:
        if not rules.supports_first_comment:
            found.append(
                Violation(
                    "first_comment.unsupported",
                    f"{rules.name} does not support a first comment",
                    "first_comment",
                )
            )
        else:
            found += _check_text(rules, first_comment, "first_comment")
    if not text.strip() and not media and not link:
        found.append(Violation("text.empty", "a post needs text, media or a link", "text"))
    return found


def csv_text(raw: bytes) -> str:
    """An uploaded CSV file as text: UTF-8 (a byte-order mark is dropped), no NUL byte. Anything else is
    refused naming the body and where it went wrong (a spreadsheet's Latin-1 export, a binary file)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.on(
            "body", f"the CSV is not UTF-8 (byte {exc.start}); export it as CSV UTF-8", "encoding"
        ) from exc
    nul = text.find("\x00")
    if nul >= 0:
        raise ValidationFailed.on("body", f"the CSV holds a NUL character (at {nul}): not a text file", "nul")
    return text
