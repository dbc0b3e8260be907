import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import './admin.css'
import { api, Problem } from '../session.js'
import { grantable, when } from './members.js'

// API keys of the workspace (admins): made with a role and optional scopes, the secret shown once,
// revoked at any time.
const SCOPES = ['read', 'publish', 'inbox', 'reports']

export function Keys() {
  const keys = useSignal(null)
  const name = useSignal('')
  const role = useSignal('editor')
  const scopes = useSignal([])
  const secret = useSignal(null)
  const status = useSignal('')
  const problem = useSignal(null)

  async function load() {
    keys.value = (await api('GET', '/keys?limit=100')).keys
  }
  useEffect(() => { load().catch((p) => (problem.value = p)) }, [])

  async function create(e) {
    e.preventDefault()
    problem.value = null
    secret.value = null
    try {
      const made = await api('POST', '/keys', { name: name.value, role: role.value, scopes: scopes.value.length ? scopes.value : undefined })
      secret.value = made
      name.value = ''
      status.value = ''
    } catch (p) {
      problem.value = p instanceof Problem ? p : new Problem(0, { detail: String(p) })
    }
    await load().catch(() => {})
  }
  async function revoke(key) {
    problem.value = null
    try {
      await api('DELETE', `/keys/${key.key_id}`)
      status.value = `The key ${key.name} was revoked.`
      if (secret.value?.key_id === key.key_id) secret.value = null
    } catch (p) {
      problem.value = p
    }
    await load().catch(() => {})
  }
  const nameError = problem.value?.at('name')
  const toggle = (s, on) => (scopes.value = on ? [...scopes.value, s] : scopes.value.filter((x) => x !== s))

  return html`
    <h1>API keys</h1>
    <p role="status" class="status">${status.value}</p>
    ${problem.value && !nameError && html`<p role="alert" class="error">${problem.value.message}</p>`}
    <form class="inline-form" onSubmit=${create} novalidate>
      <div>
        <label for="key-name">Name</label>
        <input id="key-name" value=${name.value} onInput=${(e) => (name.value = e.currentTarget.value)}
          aria-invalid=${nameError ? 'true' : undefined} aria-describedby=${nameError ? 'key-name-error' : undefined} />
        ${nameError && html`<p id="key-name-error" class="error">${nameError}</p>`}
      </div>
      <div>
        <label for="key-role">Role</label>
        <select id="key-role" value=${role.value} onChange=${(e) => (role.value = e.currentTarget.value)}>
          ${grantable().filter((r) => r !== 'owner').map((r) => html`<option value=${r}>${r}</option>`)}
        </select>
      </div>
      <fieldset class="scopes">
        <legend>Scopes (none: every scope of the role)</legend>
        ${SCOPES.map((s) => html`<label class="check"><input type="checkbox" checked=${scopes.value.includes(s)} onChange=${(e) => toggle(s, e.currentTarget.checked)} />${s}</label>`)}
      </fieldset>
      <button type="submit">Create key</button>
    </form>
    ${secret.value && html`
      <section class="secret" aria-labelledby="secret-title">
        <h2 id="secret-title">The key ${secret.value.name}</h2>
        <p>Copy it now: it is shown this once and never again.</p>
        <label for="secret-value">Secret</label>
        <input id="secret-value" class="secret-value" readonly value=${secret.value.key} onFocus=${(e) => e.currentTarget.select()} />
        <div class="actions">
          <button type="button" onClick=${() => navigator.clipboard?.writeText(secret.value.key).then(() => (status.value = 'Copied.'))}>Copy</button>
          <button type="button" class="link" onClick=${() => (secret.value = null)}>I have copied it</button>
        </div>
      </section>`}
    ${keys.value === null ? html`<p>Loading…</p>` : keys.value.length === 0 ? html`<p>No API keys yet.</p>` : html`
      <div class="table-wrap">
        <table class="list">
          <caption class="sr">API keys</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">State</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
          <tbody>${keys.value.map((k) => html`
            <tr>
              <td>${k.name}</td>
              <td>${k.role}</td>
              <td>${k.scopes ? k.scopes.join(', ') : 'all'}</td>
              <td>${when(k.created_at)}</td>
              <td>${k.revoked ? 'Revoked' : k.valid_until ? `Valid until ${when(k.valid_until)}` : 'Active'}</td>
              <td>${!k.revoked && html`<button type="button" class="danger" aria-label=${`Revoke ${k.name}`} onClick=${() => revoke(k)}>Revoke</button>`}</td>
            </tr>`)}</tbody>
        </table>
      </div>`}
  `
}
