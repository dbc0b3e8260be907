import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import './admin.css'
import { useLocation } from 'preact-iso'
import { api, me, workspace, Problem, chooseWorkspace, RANK, isAdmin } from '../session.js'

// The workspace's members (role changed by an admin, removed) and its invitations (sent by e-mail,
// revoked while pending). Viewers and editors see the members only: invitations are an admin's.
// The roles someone may hand out: their own and the ones below it.
export const grantable = () => Object.keys(RANK).filter((r) => RANK[r] <= RANK[workspace.value?.role])

export const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '')

export function Members() {
  const members = useSignal(null)
  const invitations = useSignal([])
  const status = useSignal('')
  const problem = useSignal(null)
  const email = useSignal('')
  const role = useSignal('contributor')
  const admin = isAdmin.value

  async function load() {
    members.value = (await api('GET', '/members?limit=100')).members
    if (admin) invitations.value = (await api('GET', '/invitations?limit=100')).invitations
  }
  async function act(fn, done) {
    problem.value = null
    try {
      await fn()
      status.value = done
    } catch (p) {
      problem.value = p instanceof Problem ? p : new Problem(0, { detail: String(p) })
    }
    await load().catch(() => {})
  }
  useEffect(() => { load().catch((p) => (problem.value = p)) }, [])

  const invite = (e) => {
    e.preventDefault()
    const to = email.value
    act(async () => { await api('POST', '/invitations', { email: to, role: role.value }); email.value = '' }, `Invitation sent to ${to}.`)
  }
  const emailError = problem.value?.at('email')
  const pending = invitations.value.filter((i) => i.state === 'pending')

  return html`
    <h1>Members</h1>
    <p role="status" class="status">${status.value}</p>
    ${problem.value && !emailError && html`<p role="alert" class="error">${problem.value.message}</p>`}
    ${members.value === null ? html`<p>Loading…</p>` : html`
      <div class="table-wrap">
        <table class="list">
          <caption class="sr">Members of the workspace</caption>
          <thead><tr><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Accounts</th><th scope="col">Joined</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
          <tbody>${members.value.map((m) => html`
            <tr>
              <td>${m.email || m.user_id}${m.user_id === me.value.user_id ? ' (you)' : ''}</td>
              <td>${admin && m.user_id !== me.value.user_id && RANK[m.role] <= RANK[workspace.value.role] ? html`
                <select aria-label=${`Role of ${m.email || m.user_id}`} value=${m.role}
                  onChange=${(e) => { const r = e.currentTarget.value; act(() => api('PATCH', `/members/${m.user_id}`, { role: r }), `${m.email} is now ${r}.`) }}>
                  ${grantable().map((r) => html`<option value=${r}>${r}</option>`)}
                </select>` : m.role}</td>
              <td>${m.accounts === null ? 'All' : m.accounts.length}</td>
              <td>${when(m.joined_at)}</td>
              <td>${(admin || m.user_id === me.value.user_id) && m.role !== 'owner' && html`
                <button type="button" class="danger" aria-label=${`Remove ${m.email || m.user_id}`}
                  onClick=${() => act(() => api('DELETE', `/members/${m.user_id}`), `${m.email} was removed.`)}>Remove</button>`}</td>
            </tr>`)}</tbody>
        </table>
      </div>`}
    ${admin && html`
      <h2>Invitations</h2>
      <form class="inline-form" onSubmit=${invite} novalidate>
        <div>
          <label for="invite-email">E-mail</label>
          <input id="invite-email" type="email" required value=${email.value} onInput=${(e) => (email.value = e.currentTarget.value)}
            aria-invalid=${emailError ? 'true' : undefined} aria-describedby=${emailError ? 'invite-email-error' : undefined} />
          ${emailError && html`<p id="invite-email-error" class="error">${emailError}</p>`}
        </div>
        <div>
          <label for="invite-role">Role</label>
          <select id="invite-role" value=${role.value} onChange=${(e) => (role.value = e.currentTarget.value)}>
            ${grantable().map((r) => html`<option value=${r}>${r}</option>`)}
          </select>
        </div>
        <button type="submit">Invite</button>
      </form>
      ${pending.length === 0 ? html`<p>No pending invitations.</p>` : html`
        <ul class="cards">${pending.map((i) => html`
          <li class="card">
            <strong>${i.email}</strong> as ${i.role}
            <span class="meta"> — valid until ${when(i.valid_until)}</span>
            <button type="button" class="link" aria-label=${`Revoke the invitation of ${i.email}`}
              onClick=${() => act(() => api('DELETE', `/invitations/${i.invitation_id}`), `The invitation of ${i.email} was revoked.`)}>Revoke</button>
          </li>`)}</ul>`}`}
  `
}

// The page an invitation's e-mail links to (/invitations/accept?token=…): the invitee, signed in with the
// address it was sent to, joins the workspace with one click (never on opening the link alone).
export function AcceptInvitation() {
  const { query } = useLocation()
  const problem = useSignal('')
  const busy = useSignal(false)
  async function join() {
    busy.value = true
    problem.value = ''
    try {
      const joined = await api('POST', '/invitations/accept', { token: query.token || '' }, { workspace: false })
      chooseWorkspace(joined.workspace_id)
      location.assign('/calendar') // a fresh start: the app reads who they are and their workspaces again
    } catch (p) {
      problem.value = p.message
    } finally {
      busy.value = false
    }
  }
  return html`
    <main id="main" class="narrow">
      <h1>Join a workspace</h1>
      <p>You were invited to a Chorus workspace. You join it as ${me.value.email}.</p>
      ${problem.value && html`<p role="alert" class="error">${problem.value}</p>`}
      <button type="button" onClick=${join} disabled=${busy.value || !query.token}>Join the workspace</button>
      ${me.value.workspaces.length > 0 && html`<p><a href="/calendar">Not now</a></p>`}
    </main>
  `
}
