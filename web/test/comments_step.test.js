import { test } from 'node:test'
import assert from 'node:assert/strict'
import { commentsState } from '../src/comments_step.js'

const tiktok = (comments) => ({ id: 'acc1', platform: 'tiktok', status: 'active', comments })

test('comments step: only TikTok accounts show it', () => {
  assert.equal(commentsState({ id: 'acc2', platform: 'x', status: 'active' }), null)
})

test('comments step: off, reading only, or a dead grant offer Enable comments; a full grant does not', () => {
  const off = commentsState(tiktok({ status: 'off', scopes: [], reason: null }))
  assert.equal(off.offer, true)
  assert.match(off.text, /off/)
  const reading = commentsState(tiktok({ status: 'active', scopes: ['comment.list'], reason: null }))
  assert.equal(reading.offer, true)
  assert.match(reading.text, /not answered/)
  const dead = commentsState(tiktok({ status: 'needs_reauth', scopes: ['comment.list'], reason: 'revoked (error_code 40105)' }))
  assert.equal(dead.level, 'bad')
  assert.match(dead.text, /40105/)
  const on = commentsState(tiktok({ status: 'active', scopes: ['comment.list', 'comment.list.manage'], reason: null }))
  assert.deepEqual([on.level, on.offer], ['good', false])
})

test('comments step: a grant ending within a week offers Enable comments, one that ended is stopped', () => {
  const now = Date.parse('2027-12-01T09:00:00Z')
  const full = ['comment.list', 'comment.list.manage']
  const later = commentsState(tiktok({ status: 'active', scopes: full, reason: null, expires_at: '2027-12-20T09:00:00.000Z' }), now)
  assert.deepEqual([later.level, later.offer], ['good', false])
  const soon = commentsState(tiktok({ status: 'active', scopes: full, reason: null, expires_at: '2027-12-07T09:00:00.000Z' }), now)
  assert.deepEqual([soon.level, soon.offer], ['warn', true])
  assert.match(soon.text, /2027-12-07/)
  const ended = commentsState(tiktok({ status: 'active', scopes: full, reason: null, expires_at: '2027-11-30T09:00:00.000Z' }), now)
  assert.deepEqual([ended.level, ended.offer], ['bad', true])
})
