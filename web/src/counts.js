// Live counts as each platform counts, the same as the server's (shared/chorus/posts/text.py and
// validation.py); web/test/count_cases.json is checked by both test suites so the two agree.
import twitterText from 'twitter-text'
import RULES from './rules.json' with { type: 'json' }

export { RULES }

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
const MASTODON_URL_LENGTH = 23
const W = '[\\p{L}\\p{M}\\p{N}_]' // Python's \w on str
const SCHEME_URL = /(?<![\p{L}\p{M}\p{N}_@.])https?:\/\/[^\s<>"]+/giu
const REMOTE_MENTION = new RegExp(`(?<![\\p{L}\\p{M}\\p{N}_/])@(${W}+)@[\\p{L}\\p{M}\\p{N}_.-]+${W}`, 'gu')
const HASHTAG = /(?<![\p{L}\p{M}\p{N}_&])[#\uFF03]([\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*)/gu
const MENTION = /(?<![\p{L}\p{M}\p{N}_@])@([A-Za-z0-9._]+)/gu
const TRAILING = ".,;:!?'\"\u00bb\u201d\u2019"

export const graphemes = (text) => {
  let n = 0
  for (const _ of segmenter.segment(text)) n++
  return n
}
export const codepoints = (text) => [...text].length
export const utf8Bytes = (text) => new TextEncoder().encode(text).length
export const x = (text) => twitterText.parseTweet(text).weightedLength

function trim(url) {
  while (url) {
    const last = url[url.length - 1]
    const open = (url.match(/\(/g) || []).length
    const close = (url.match(/\)/g) || []).length
    if (TRAILING.includes(last) || (last === ')' && open < close)) url = url.slice(0, -1)
    else break
  }
  return url
}

export function mastodon(text) {
  text = text.replace(REMOTE_MENTION, (_, user) => '@' + user)
  let total = 0
  let at = 0
  for (const m of text.matchAll(SCHEME_URL)) {
    const url = trim(m[0])
    if (!url || !url.includes('.') || m.index < at) continue
    total += graphemes(text.slice(at, m.index)) + MASTODON_URL_LENGTH
    at = m.index + url.length
  }
  return total + graphemes(text.slice(at))
}

// Chinese editors' count (Xiaohongshu, Weibo): a wide character or an emoji is one, anything else half
// (shared/chorus/posts/text.py half_width_length, the same WIDE_RANGES).
const WIDE = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf],
  [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x20000, 0x3fffd],
]
const EMOJI = /\p{Emoji_Presentation}|\p{Regional_Indicator}|\uFE0F|\u20E3/u
const WEIBO_URL_LENGTH = 20

export function halfWidth(text) {
  let halves = 0
  for (const { segment } of segmenter.segment(text.normalize('NFC'))) {
    const cp = segment.codePointAt(0)
    halves += EMOJI.test(segment) || WIDE.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1
  }
  return Math.floor((halves + 1) / 2)
}

// Weibo: as halfWidth, every http(s) link counted as WEIBO_URL_LENGTH half-width characters.
export function weibo(text) {
  let out = ''
  let at = 0
  for (const m of text.matchAll(SCHEME_URL)) {
    const url = trim(m[0])
    if (!url || !url.includes('.') || m.index < at) continue
    out += text.slice(at, m.index) + 'x'.repeat(WEIBO_URL_LENGTH)
    at = m.index + url.length
  }
  return halfWidth(out + text.slice(at))
}

export const hashtags = (text) => [...text.matchAll(HASHTAG)].map((m) => m[1])
export const mentions = (text) => [...text.matchAll(MENTION)].map((m) => m[1].replace(/\.+$/, ''))

export const COUNTERS = { x, graphemes, mastodon, codepoints, half_width: halfWidth, weibo }

// What the platform says of `text`: its count and limit, and each rule broken (as the server names it).
export function check(platform, text) {
  const rules = RULES[platform]
  if (!rules) return { length: codepoints(text), max: null, unit: 'characters', broken: [] }
  const length = COUNTERS[rules.counter](text)
  const broken = []
  if (length > rules.max_length)
    broken.push({ rule: 'text.too_long', message: `${rules.name} allows ${rules.max_length} ${rules.unit}; this has ${length}` })
  if (rules.max_bytes != null && utf8Bytes(text) > rules.max_bytes)
    broken.push({ rule: 'text.too_many_bytes', message: `${rules.name} allows ${rules.max_bytes} UTF-8 bytes; this has ${utf8Bytes(text)}` })
  const tags = hashtags(text).length
  if (rules.max_hashtags != null && tags > rules.max_hashtags)
    broken.push({ rule: 'text.too_many_hashtags', message: `${rules.name} allows ${rules.max_hashtags} hashtags; this has ${tags}` })
  const names = mentions(text).length
  if (rules.max_mentions != null && names > rules.max_mentions)
    broken.push({ rule: 'text.too_many_mentions', message: `${rules.name} allows ${rules.max_mentions} mentions; this has ${names}` })
  return { length, max: rules.max_length, unit: rules.unit, name: rules.name, broken }
}
