import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { checkMedia, kindOf, size, duration } from '../src/media.js'

// The same cases tests/unit/test_web_media_rules.py checks against the server's validation.
const { cases } = JSON.parse(readFileSync(new URL('./media_cases.json', import.meta.url), 'utf8'))

for (const c of cases) {
  test(`media rules: ${c.name}`, () => {
    assert.deepEqual(checkMedia(c.platform, c.media), c.broken.map(({ rule, field, message }) => ({ rule, field, message })))
  })
}

test('the kinds of the MIME types Chorus takes', () => {
  assert.equal(kindOf('IMAGE/JPEG'), 'image')
  assert.equal(kindOf('image/gif'), 'gif')
  assert.equal(kindOf('video/quicktime'), 'video')
  assert.equal(kindOf('application/pdf'), undefined)
})

test('an unknown platform has no media rule', () => {
  assert.deepEqual(checkMedia('myspace', [{ mime_type: 'image/png' }]), [])
})

test('sizes and lengths for people', () => {
  assert.equal(size(2_500_000), '2.4 MB')
  assert.equal(size(300), '1 KB')
  assert.equal(size(640 * 1024), '640 KB')
  assert.equal(duration(7.4), '0:07')
  assert.equal(duration(140), '2:20')
})
