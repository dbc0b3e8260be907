import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { x, graphemes, mastodon, codepoints, utf8Bytes, hashtags, mentions, check, halfWidth, weibo } from '../src/counts.js'

const { cases } = JSON.parse(readFileSync(new URL('./count_cases.json', import.meta.url), 'utf8'))

for (const c of cases) {
  test(`counts: ${c.name}`, () => {
    const got = {
      x: x(c.text), graphemes: graphemes(c.text), mastodon: mastodon(c.text), codepoints: codepoints(c.text),
      utf8_bytes: utf8Bytes(c.text), hashtags: hashtags(c.text).length, mentions: mentions(c.text).length,
      half_width: halfWidth(c.text), weibo: weibo(c.text),
    }
    const want = Object.fromEntries(Object.keys(got).map((k) => [k, c[k]]))
    assert.deepEqual(got, want)
  })
}

test('a text over X limit breaks text.too_long, naming the rule', () => {
  const found = check('x', 'a'.repeat(281))
  assert.equal(found.length, 281)
  assert.deepEqual(found.broken.map((b) => b.rule), ['text.too_long'])
  assert.match(found.broken[0].message, /X allows 280 weighted characters; this has 281/)
  assert.deepEqual(check('x', 'a'.repeat(280)).broken, [])
})

test('Instagram counts hashtags', () => {
  const text = Array.from({ length: 31 }, (_, i) => `#tag${i}`).join(' ')
  assert.deepEqual(check('instagram', text).broken.map((b) => b.rule), ['text.too_many_hashtags'])
})
