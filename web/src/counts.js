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

export const hashtags = (text) => [...text.matchAll(HASHTAG)].map((m) => m[1])
export const mentions = (text) => [...text.matchAll(MENTION)].map((m) => m[1].replace(/\.+$/, ''))

export const COUNTERS = { x, graphemes, mastodon, codepoints }

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
