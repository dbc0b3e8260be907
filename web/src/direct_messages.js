// Whether a Bluesky account's direct messages reach the inbox (GET /accounts: direct_messages): on, or off
// with the reason Bluesky gave (an app password created without "Allow access to your direct messages":
// reconnecting with one that has it turns them on: `offer`). Null for platforms without it.
export function directMessagesState(account) {
  const d = account.direct_messages
  if (!d) return null
  if (d.status === 'off') return { level: 'warn', text: `Direct messages: ${d.reason || 'not read'}`, offer: true }
  return { level: 'good', text: 'Direct messages are read into the inbox', offer: false }
}
