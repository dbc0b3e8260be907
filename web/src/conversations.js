// What the inbox page decides about a conversation, without the DOM: whether it is unread, whether the
// list's filters take it, and which conversations a pushed frame carries (checked by web/test/).

const ms = (iso) => (iso ? Date.parse(iso) : 0)

// Unread: the person wrote after this browser last showed the conversation (`seen`: conversation id ->
// the last inbound time shown).
export const isUnread = (conv, seen) => Boolean(conv.last_inbound_at) && ms(conv.last_inbound_at) > ms(seen[conv.id])

// Whether the list's filters take a conversation pushed live (as GET /inbox's filters do, in
// chorus.inbox.service.InboxFilter; the SLA states as chorus.inbox.sla.flagged).
export function matches(conv, f) {
  if (f.status && conv.status !== f.status) return false
  if (f.platform && conv.platform !== f.platform) return false
  if (f.account && conv.account_id !== f.account) return false
  if (f.sentiment && conv.sentiment !== f.sentiment) return false
  if (f.assignee && (conv.assignee || '') !== (f.assignee === 'none' ? '' : f.assignee)) return false
  if (f.tag && !(conv.tags || []).includes(f.tag)) return false
  if (f.sla) {
    const states = new Set(Object.values(conv.sla || {}).map((t) => t.state))
    if (f.sla === 'ok' ? !states.size || states.has('breached') || states.has('nearing') : !states.has(f.sla)) return false
  }
  return true
}

export const newestFirst = (a, b) => ms(b.last_message_at) - ms(a.last_message_at)
export const isPast = (iso, now = Date.now()) => Boolean(iso) && ms(iso) < now

// The conversation updates a pushed frame carries (chorus.inbox.live.updates_in, for the browser).
export function updatesIn(frame) {
  if (frame?.type === 'conversations.updated') return frame.data?.updates || []
  if (frame?.type === 'conversation.updated') return [frame.data || {}]
  return []
}
