import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readAllBody, readUpTo } from '../src/notes_read.js'

const note = (id, at, read = false) => ({ id, created_at: at, read })
const shown = [
  note('n3', '2026-12-07T10:00:00.250Z'),
  note('n2', '2026-12-07T09:59:00.000Z', true),
  note('n1', '2026-12-07T09:00:00.000Z'),
]

test('mark all read: one request for everything unread up to the newest shown', () => {
  assert.deepEqual(readAllBody(shown), { all: true, before: '2026-12-07T10:00:00.250Z' })
})

test('mark all read: nothing to send when nothing shown is unread', () => {
  assert.equal(readAllBody([]), null)
  assert.equal(readAllBody([note('n2', '2026-12-07T09:59:00.000Z', true)]), null)
})

test('after it, what is dated up to the time the server used reads as read, a newer one stays unread', () => {
  const newer = note('n4', '2026-12-07T10:00:00.251Z')
  const after = readUpTo([newer, ...shown], '2026-12-07T10:00:00.250Z')
  assert.deepEqual(after.map((n) => [n.id, n.read]), [['n4', false], ['n3', true], ['n2', true], ['n1', true]])
  assert.equal(after[2], shown[1]) // one read already is left as it was
})

test('times in another offset compare as instants', () => {
  const after = readUpTo([note('n1', '2026-12-07T11:00:00.000+01:00')], '2026-12-07T10:00:00.000Z')
  assert.equal(after[0].read, true)
})
