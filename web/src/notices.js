// The signed-in person's unread notifications in the workspace (GET /notifications?unread=true): the count
// the navigation's badge shows. Notifications do not travel over the WebSocket, so the count is read when
// the app opens, every minute while the tab is visible, when the tab comes back, and after a page marks some
// read (`refreshUnread()`).
import { signal } from '@preact/signals'
import { api } from './session.js'

const PAGE = 100
export const unread = signal(null) // { count, more } once read
const EVERY_MS = 60_000

export async function refreshUnread() {
  try {
    const found = await api('GET', `/notifications?unread=true&limit=${PAGE}`)
    unread.value = { count: found.notifications.length, more: Boolean(found.next_cursor) }
  } catch {
    // the badge keeps its last count; the page itself shows the error
  }
}

export const unreadText = (u) => (u ? `${u.count}${u.more ? '+' : ''}` : '')

// Keeps the count fresh while mounted; returns the cleanup for useEffect.
export function watchUnread() {
  refreshUnread()
  const timer = setInterval(() => { if (document.visibilityState === 'visible') refreshUnread() }, EVERY_MS)
  const back = () => { if (document.visibilityState === 'visible') refreshUnread() }
  document.addEventListener('visibilitychange', back)
  return () => {
    clearInterval(timer)
    document.removeEventListener('visibilitychange', back)
  }
}
