import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isUnread, matches, newestFirst, isPast, updatesIn } from '../src/conversations.js'

const conv = (over = {}) => ({
  id: 'cv1', status: 'open', platform: 'facebook', account_id: 'acc1', sentiment: 'negative', assignee: null,
  tags: ['vip'], sla: null, last_inbound_at: '2026-12-07T10:00:00+00:00', last_message_at: '2026-12-07T10:00:00+00:00',
  ...over,
})

test('unread: a person wrote after the conversation was last shown, never for one without inbound messages', () => {
  assert.equal(isUnread(conv(), {}), true)
  assert.equal(isUnread(conv(), { cv1: '2026-12-07T10:00:00+00:00' }), false)
  assert.equal(isUnread(conv(), { cv1: '2026-12-07T09:59:59.999Z' }), true)
  assert.equal(isUnread(conv({ last_inbound_at: '2026-12-07T10:00:00.000Z' }), { cv1: '2026-12-07T11:00:00+01:00' }), false)
  assert.equal(isUnread(conv({ last_inbound_at: null }), {}), false)
})

test('the filters take a pushed conversation as GET /inbox would', () => {
  assert.equal(matches(conv(), { status: 'open', tag: 'vip', sentiment: 'negative', platform: 'facebook', account: 'acc1' }), true)
  assert.equal(matches(conv(), { status: 'closed' }), false)
  assert.equal(matches(conv(), { tag: 'press' }), false)
  assert.equal(matches(conv(), { account: 'acc2' }), false)
  assert.equal(matches(conv(), { assignee: 'none' }), true)
  assert.equal(matches(conv({ assignee: 'user:u1' }), { assignee: 'none' }), false)
  assert.equal(matches(conv({ assignee: 'user:u1' }), { assignee: 'user:u1' }), true)
  assert.equal(matches(conv(), { status: '', tag: '' }), true)
})

test('the SLA filter: breached or nearing on either target; ok when neither and a target runs', () => {
  const sla = (a, b) => ({ first_response: { state: a }, resolution: { state: b } })
  assert.equal(matches(conv({ sla: sla('breached', 'ok') }), { sla: 'breached' }), true)
  assert.equal(matches(conv({ sla: sla('met', 'nearing') }), { sla: 'nearing' }), true)
  assert.equal(matches(conv({ sla: sla('met', 'nearing') }), { sla: 'ok' }), false)
  assert.equal(matches(conv({ sla: sla('met', 'ok') }), { sla: 'ok' }), true)
  assert.equal(matches(conv({ sla: null }), { sla: 'ok' }), false)
  assert.equal(matches(conv({ sla: null }), { sla: 'breached' }), false)
})

test('a frame of one conversation, of many, and of something else', () => {
  const one = { conversation: conv(), message: { id: 'm1' } }
  assert.deepEqual(updatesIn({ type: 'conversation.updated', data: one }), [one])
  assert.deepEqual(updatesIn({ type: 'conversations.updated', data: { updates: [one, one] } }), [one, one])
  assert.deepEqual(updatesIn({ type: 'conversation.presence', data: { viewers: [] } }), [])
  assert.deepEqual(updatesIn(null), [])
})

test('newest activity first; a window end in the past', () => {
  const list = [conv({ id: 'a', last_message_at: '2026-12-07T09:00:00Z' }), conv({ id: 'b', last_message_at: '2026-12-07T11:00:00Z' })]
  assert.deepEqual(list.sort(newestFirst).map((c) => c.id), ['b', 'a'])
  assert.equal(isPast('2026-12-07T09:00:00Z', Date.parse('2026-12-07T10:00:00Z')), true)
  assert.equal(isPast('2026-12-07T11:00:00Z', Date.parse('2026-12-07T10:00:00Z')), false)
  assert.equal(isPast(null), false)
})
