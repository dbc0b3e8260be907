import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { html } from '../html.js'
import { api } from '../session.js'
import { workspaceZone } from '../workspace.js'
import { localInput } from '../dates.js'
import { refreshUnread } from '../notices.js'
import { readAllBody, readUpTo } from '../notes_read.js'
import './notifications.css'

const TOPICS = {
  manual_publish_due: 'Post it by hand',
  manual_publish_overdue: 'Overdue: not marked posted',
  post_approved: 'Post approved',
  post_rejected: 'Post rejected',
  approval_requested: 'Waiting for your approval',
}
const PAGE = 50

// The signed-in person's notifications in the workspace, newest first: unread ones marked, each marked
// read on its own or all at once, with links to what they are about.
export function Notifications() {
  const zone = workspaceZone()
  const items = useSignal(null)
  const cursor = useSignal(null)
  const onlyUnread = useSignal(false)
  const status = useSignal('')
  const error = useSignal('')

  async function load(more = false) {
    error.value = ''
    const params = new URLSearchParams({ limit: String(PAGE) })
    if (onlyUnread.value) params.set('unread', 'true')
    if (more && cursor.value) params.set('cursor', cursor.value)
    try {
      const found = await api('GET', `/notifications?${params}`)
      items.value = more ? [...(items.value || []), ...found.notifications] : found.notifications
      cursor.value = found.next_cursor
    } catch (p) {
      error.value = p.message
    }
  }
  useEffect(() => { load() }, [onlyUnread.value])

  async function markRead(note) {
    if (note.read) return
    try {
      const done = await api('POST', `/notifications/${encodeURIComponent(note.id)}/read`)
      items.value = items.value.map((n) => (n.id === note.id ? done : n))
    } catch (p) {
      error.value = p.message
    }
    refreshUnread()
  }
  // One request (POST /notifications/read) for every unread one up to the newest shown, here or on
  // older pages not loaded yet; the server marks 500 a call and says when more are left.
  async function markAll() {
    const ask = readAllBody(items.value || [])
    if (!ask) return
    status.value = 'Marking read…'
    error.value = ''
    let marked = 0
    try {
      let done
      do {
        done = await api('POST', '/notifications/read', ask)
        marked += done.marked
      } while (done.more)
      items.value = readUpTo(items.value, done.before)
      status.value = `Marked ${marked} notification${marked === 1 ? '' : 's'} read.`
    } catch (p) {
      status.value = ''
      error.value = p.message
    }
    refreshUnread()
  }

  const list = items.value
  const unreadHere = (list || []).filter((n) => !n.read).length
  return html`
    <h1>Notifications</h1>
    <div class="notes-tools">
      <div class="group" role="group" aria-label="Show">
        <button type="button" aria-pressed=${!onlyUnread.value} onClick=${() => (onlyUnread.value = false)}>All</button>
        <button type="button" aria-pressed=${onlyUnread.value} onClick=${() => (onlyUnread.value = true)}>Unread</button>
      </div>
      <button type="button" onClick=${markAll} disabled=${unreadHere === 0}>Mark all read</button>
    </div>
    <p role="status" class="status">${status.value}</p>
    ${error.value && html`<p role="alert" class="error">${error.value}</p>`}
    ${list === null ? html`<p>Loading…</p>` : list.length === 0 ? html`<p>${onlyUnread.value ? 'No unread notifications.' : 'No notifications yet.'}</p>` : html`
      <ul class="notes">${list.map((note) => html`<li key=${note.id}><${Note} note=${note} zone=${zone.value} onRead=${markRead} /></li>`)}</ul>`}
    ${cursor.value && html`<button type="button" onClick=${() => load(true)}>Show older</button>`}
  `
}

function Note({ note, zone, onRead }) {
  const title = `${note.id}-title`
  const at = zone ? localInput(note.created_at, zone) : note.created_at.slice(0, 16)
  const { route } = useLocation()
  const about = note.post_id ? `/calendar?view=week&date=${at.slice(0, 10)}` : null
  // The post's own week (an approval's notice is dated when it was decided, the post goes out later)
  async function open(event) {
    event.preventDefault()
    onRead(note)
    const post = await api('GET', `/posts/${note.post_id}`).catch(() => null)
    const due = post?.scheduled_at && zone ? localInput(post.scheduled_at, zone).slice(0, 10) : null
    route(due ? `/calendar?view=week&date=${due}` : about)
  }
  return html`
    <article class=${`note${note.read ? '' : ' unread'}`} aria-labelledby=${title}>
      <h2 id=${title}>${!note.read && html`<span class="marker">Unread</span>`}${note.subject}</h2>
      <p class="meta">${TOPICS[note.topic] || note.topic} · <time datetime=${note.created_at}>${at.replace('T', ' ')}</time>${zone ? ` (${zone})` : ''}${note.platform ? ` · ${note.platform}` : ''}</p>
      <p class="text">${note.text}</p>
      ${note.links.length > 0 && html`<ul class="links" aria-label=${`Links of: ${note.subject}`}>
        ${note.links.map((href) => html`<li><a href=${href} target="_blank" rel="noopener noreferrer">${href}</a></li>`)}</ul>`}
      <div class="actions">
        ${note.topic === 'approval_requested'
          ? html`<a href="/approvals" onClick=${() => onRead(note)}>Review it in Approvals</a>`
          : about && html`<a href=${about} onClick=${open}>Open the post in the calendar</a>`}
        ${!note.read && html`<button type="button" class="link" aria-label=${`Mark read: ${note.subject}`} onClick=${() => onRead(note)}>Mark read</button>`}
      </div>
    </article>
  `
}
