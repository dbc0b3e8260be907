import { useLocation } from 'preact-iso'
import { useEffect } from 'preact/hooks'
import { html } from './html.js'
import { me, workspaceId, chooseWorkspace, signOutHere, signOutEverywhere, isAdmin } from './session.js'
import { unread, unreadText, watchUnread } from './notices.js'

const LINKS = [
  ['/calendar', 'Calendar'],
  ['/compose', 'Compose'],
  ['/approvals', 'Approvals'],
  ['/notifications', 'Notifications'],
  ['/inbox', 'Inbox'],
  ['/reports', 'Reports'],
  ['/listening', 'Listening'],
  ['/accounts', 'Accounts'],
  ['/members', 'Members'],
  ['/keys', 'API keys', 'admin'],
]

export function Shell({ children }) {
  const { path, route } = useLocation()
  const current = path === '/' ? '/calendar' : path
  useEffect(watchUnread, [workspaceId.value]) // the unread badge, per workspace
  const badge = (href) => href === '/notifications' && unread.value?.count > 0 &&
    html`<span class="badge unread-count">${unreadText(unread.value)}<span class="sr"> unread</span></span>`
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <strong class="brand">Chorus</strong>
      <nav aria-label="Main">
        <ul>
          ${LINKS.filter(([, , only]) => !only || isAdmin.value).map(([href, label]) => html`
            <li><a href=${href} aria-current=${current === href ? 'page' : undefined}>${label}${badge(href)}</a></li>`)}
        </ul>
      </nav>
      <div class="who">
        <label>
          <span>Workspace</span>
          <select value=${workspaceId.value} onChange=${(e) => { chooseWorkspace(e.currentTarget.value); route(current, true) }}>
            ${me.value.workspaces.map((w) => html`<option value=${w.workspace_id}>${w.name || w.workspace_id} (${w.role})</option>`)}
          </select>
        </label>
        <span class="email">${me.value.email}</span>
        <button type="button" class="link" onClick=${() => { signOutHere(); route('/sign-in') }}>Sign out</button>
        <button type="button" class="link" onClick=${async () => { await signOutEverywhere(); route('/sign-in') }}>Sign out everywhere</button>
      </div>
    </header>
    <main id="main" key=${workspaceId.value}>${children}</main>
  `
}
