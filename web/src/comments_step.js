// A TikTok account's comments step (TikTok API for Business): off, on (reading, and answering with
// comment.list.manage), or to authorise again. Null for other platforms.
export function commentsState(account) {
  const c = account.comments
  if (!c) return null
  if (c.status === 'needs_reauth') return { level: 'bad', text: `Comments stopped: enable them again${c.reason ? ` (${c.reason})` : ''}`, offer: true }
  if (c.status !== 'active') return { level: 'warn', text: 'Comments are off: Chorus does not read or answer this account\'s comments', offer: true }
  if (!c.scopes.includes('comment.list.manage')) return { level: 'warn', text: 'Comments are read, not answered (comment.list.manage not granted)', offer: true }
  return { level: 'good', text: 'Comments are read into the inbox and answered from Chorus', offer: false }
}
