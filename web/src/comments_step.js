// The owner is warned this long before the grant's refresh token ends (chorus.accounts.expiry.WARN_AHEAD)
export const WARN_AHEAD_MS = 7 * 24 * 3600 * 1000

// A TikTok account's comments step (TikTok API for Business): off, on (reading, and answering with
// comment.list.manage), ending within a week (expires_at: its refresh token's end), or to authorise
// again. Null for other platforms.
export function commentsState(account, now = Date.now()) {
  const c = account.comments
  if (!c) return null
  if (c.status === 'needs_reauth') return { level: 'bad', text: `Comments stopped: enable them again${c.reason ? ` (${c.reason})` : ''}`, offer: true }
  if (c.status !== 'active') return { level: 'warn', text: 'Comments are off: Chorus does not read or answer this account\'s comments', offer: true }
  const ends = c.expires_at ? new Date(c.expires_at).getTime() : null
  if (ends !== null && ends <= now) return { level: 'bad', text: 'Comments stopped: TikTok\'s authorisation ended, enable them again', offer: true }
  if (ends !== null && ends - now <= WARN_AHEAD_MS) return { level: 'warn', text: `Comments stop on ${new Date(ends).toISOString().slice(0, 10)}: enable them again before then`, offer: true }
  if (!c.scopes.includes('comment.list.manage')) return { level: 'warn', text: 'Comments are read, not answered (comment.list.manage not granted)', offer: true }
  return { level: 'good', text: 'Comments are read into the inbox and answered from Chorus', offer: false }
}
