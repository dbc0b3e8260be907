import { test } from 'node:test'
import assert from 'node:assert/strict'
import { contents, names, supports, tiktokOptions } from '../src/compose.js'

const x = { id: 'acc-x', platform: 'x' }
const bluesky = { id: 'acc-bsky', platform: 'bluesky' }
const linkedin = { id: 'acc-li', platform: 'linkedin' }
const tiktok = { id: 'acc-tt', platform: 'tiktok' }
const facebook = { id: 'acc-fb', platform: 'facebook' }
const image = { mime_type: 'image/png', key: 'ws/media/m1/a.png', size: 10, alt_text: 'a cat' }

test('the platforms that take threads and first comments, as the server says', () => {
  assert.equal(supports(x, 'supports_thread'), true)
  assert.equal(supports(bluesky, 'supports_thread'), true)
  assert.equal(supports(linkedin, 'supports_thread'), false)
  assert.equal(supports(tiktok, 'supports_first_comment'), false)
  assert.equal(supports({ platform: 'myspace' }, 'supports_thread'), false)
  assert.equal(names([x, bluesky, { id: 'x2', platform: 'x' }]), 'X, Bluesky')
})

test('no parts, no comment, no variant: every account takes the main content', () => {
  const made = contents({ accounts: [x, linkedin], text: 'hello', variants: {}, media: [image], parts: [], comment: '' })
  assert.deepEqual(made, { main: { text: 'hello', media: [image] }, variants: {} })
})

test('thread parts go only to the accounts that thread, with the attachments and their own text', () => {
  const made = contents({ accounts: [x, bluesky, linkedin], text: 'one', variants: { 'acc-bsky': 'one, shorter' },
    media: [image], parts: ['two', 'three'], comment: '' })
  assert.deepEqual(made.main, { text: 'one', media: [image] })
  assert.deepEqual(made.variants, {
    'acc-x': { text: 'one', media: [image], thread: ['two', 'three'] },
    'acc-bsky': { text: 'one, shorter', media: [image], thread: ['two', 'three'] },
  })
})

test('a first comment goes only where the platform takes one; a blank one is not sent', () => {
  const made = contents({ accounts: [facebook, linkedin, tiktok], text: 't', variants: {}, media: [], parts: [], comment: 'link in here' })
  assert.deepEqual(made.variants, { 'acc-fb': { text: 't', first_comment: 'link in here' } })
  assert.deepEqual(contents({ accounts: [facebook], text: 't', variants: {}, media: [], parts: [], comment: '  ' }).variants, {})
})

test('a variant text alone makes a variant, naming the attachments too (a variant replaces the content)', () => {
  const made = contents({ accounts: [tiktok], text: 't', variants: { 'acc-tt': 'for tiktok' }, media: [image], parts: ['p'], comment: 'c' })
  assert.deepEqual(made.variants, { 'acc-tt': { text: 'for tiktok', media: [image] } })
})

test('TikTok settings go with the content when a TikTok account is chosen, and with every variant', () => {
  const options = { tiktok: tiktokOptions({ mode: 'direct', privacy: 'SELF_ONLY' }) }
  const made = contents({ accounts: [tiktok, x], text: 't', variants: { 'acc-x': 'for x' }, media: [], parts: [], comment: '', options })
  assert.deepEqual(made.main, { text: 't', options: { tiktok: { privacy_level: 'SELF_ONLY' } } })
  assert.deepEqual(made.variants['acc-x'].options, { tiktok: { privacy_level: 'SELF_ONLY' } })
  assert.deepEqual(contents({ accounts: [x], text: 't', variants: {}, media: [], parts: [], comment: '', options }).main, { text: 't' })
  assert.deepEqual(tiktokOptions({ mode: 'draft', privacy: 'SELF_ONLY' }), { mode: 'draft' })
  assert.deepEqual(tiktokOptions({ mode: 'direct', privacy: '' }), {})
})
