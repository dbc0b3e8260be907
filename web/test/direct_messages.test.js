import { test } from 'node:test'
import assert from 'node:assert/strict'
import { directMessagesState } from '../src/direct_messages.js'

const bluesky = (direct_messages) => ({ id: 'acc1', platform: 'bluesky', status: 'active', direct_messages })

test('direct messages: only accounts that have them show a line', () => {
  assert.equal(directMessagesState({ id: 'acc2', platform: 'x', status: 'active' }), null)
})

test('direct messages: refused by the app password says so and offers a reconnect; on does not', () => {
  const off = directMessagesState(bluesky({ status: 'off', reason: 'not allowed by this app password' }))
  assert.deepEqual(off, { level: 'warn', text: 'Direct messages: not allowed by this app password', offer: true })
  const on = directMessagesState(bluesky({ status: 'on', reason: null }))
  assert.deepEqual([on.level, on.offer], ['good', false])
})
