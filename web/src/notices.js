// The signed-in person's unread notifications in the workspace (GET /notifications?unread=true): the count
// the navigation's badge shows. It is read when the app opens, when the WebSocket pushes
// `notifications.changed` (to this person's connections only: one listed for them, or read in another
// tab), when the connection comes back, when the tab comes back, after a page marks some read
// (`refreshUnread()`), and every minute while the tab is visible and the connection is down.
import { signal } from '@preact/signals'
import { api } from './session.js'
import { liveConnection } from './live.js'

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

const CHANGED = 'notifications.changed' // the frame chorus.notifications pushes

// Keeps the count fresh while mounted; returns the cleanup for useEffect.
export function watchUnread() {
  refreshUnread()
  let live = false
  const connection = liveConnection({
    onFrame: (frame) => { if (frame?.type === CHANGED) refreshUnread() },
    onOpen: () => refreshUnread(), // what was listed before this connection could be told of it
    onState: (state) => { live = state === 'live' },
  })
  const visible = () => document.visibilityState === 'visible'
  const timer = setInterval(() => { if (visible() && !live) refreshUnread() }, EVERY_MS)
  const back = () => { if (visible()) refreshUnread() }
  document.addEventListener('visibilitychange', back)
  return () => {
    connection.stop()
    clearInterval(timer)
    document.removeEventListener('visibilitychange', back)
  }
}
