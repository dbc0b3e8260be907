import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import './admin.css'
import { api, Problem, isAdmin } from '../session.js'
import { accountLabel } from '../workspace.js'
import { when } from './members.js'
import { commentsState } from '../comments_step.js'
import { directMessagesState } from '../direct_messages.js'

// Connected accounts with their token's health; connecting (or reconnecting an account that needs it)
// goes through the platform's OAuth: the API answers the authorize URL and a one-time state, the platform
// sends the browser back here with code and state, and this page passes both on to the API's callback
// with the same session that started it (chalice/chalicelib/accounts.py).
export const OAUTH = ['x', 'mastodon', 'facebook', 'instagram', 'threads', 'pinterest', 'linkedin', 'youtube', 'tiktok', 'weibo', 'douyin', 'kuaishou']
const PENDING = 'chorus.oauth' // the flow under way: { state, platform } (this tab only)

// How healthy an account's token is: its status first, then how soon the token expires.
export function health(account, now = Date.now()) {
  if (account.status === 'needs_reauth') return { level: 'bad', text: `Needs reconnecting${account.status_reason ? `: ${account.status_reason}` : ''}` }
  if (account.status !== 'active') return { level: 'bad', text: `${account.status}${account.status_reason ? `: ${account.status_reason}` : ''}` }
  if (!account.token_expires_at) return { level: 'good', text: 'Healthy (the token does not expire)' }
  // Access tokens are short-lived where the platform refreshes them: only an expired one is worth a look
  if (new Date(account.token_expires_at).getTime() <= now) return { level: 'warn', text: `Token expired ${when(account.token_expires_at)}: renewed at the next use` }
  return { level: 'good', text: `Healthy (token valid until ${when(account.token_expires_at)})` }
}

const redirectUri = () => `${location.origin}/accounts`

async function startConnect(platform, baseUrl, accountId) {
  const params = new URLSearchParams({ redirect_uri: redirectUri() })
  if (baseUrl) params.set('base_url', baseUrl)
  if (accountId) params.set('account_id', accountId) // tiktok_business: the TikTok account's comments step
  const started = await api('GET', `/accounts/connect/${platform}?${params}`)
  sessionStorage.setItem(PENDING, JSON.stringify({ state: started.state, platform }))
  location.assign(started.authorize_url)
}

// Back from the platform: code and state (or error) in the query. Answers the accounts connected.
async function finishConnect(query) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null')
  sessionStorage.removeItem(PENDING)
  history.replaceState(null, '', '/accounts')
  if (!pending || pending.state !== query.get('state')) throw new Problem(400, { detail: 'This connection was not started here (or was already finished): please connect again.' })
  const params = new URLSearchParams({ state: pending.state })
  for (const k of ['code', 'auth_code', 'error', 'error_description']) if (query.get(k)) params.set(k, query.get(k))
  // With the deployment's CHORUS_OAUTH_DONE_URL set the API answers a redirect (not followed) instead of JSON
  const answer = await api('GET', `/oauth/callback/${pending.platform}?${params}`, undefined, { raw: true, redirect: 'manual' })
  const done = answer.type === 'opaqueredirect' ? null : await answer.json()
  return { platform: pending.platform, accounts: done?.accounts || [] }
}

export function Accounts() {
  const accounts = useSignal(null)
  const status = useSignal('')
  const problem = useSignal(null)
  const platform = useSignal('x')
  const baseUrl = useSignal('')
  const admin = isAdmin.value

  async function load() {
    accounts.value = (await api('GET', '/accounts?limit=100')).accounts
  }
  const fail = (p) => (problem.value = p instanceof Problem ? p : new Problem(0, { detail: String(p) }))
  useEffect(() => {
    const query = new URLSearchParams(location.search)
    const back = query.has('state') ? finishConnect(query).then(({ platform: p, accounts: made }) => {
      if (p === 'tiktok_business') status.value = `Comments enabled for ${made.map(accountLabel).join(', ')}.`
      else status.value = made.length ? `Connected ${made.map(accountLabel).join(', ')}.` : `Connected to ${p}.`
    }).catch(fail) : Promise.resolve()
    back.then(load).catch(fail)
  }, [])

  const connect = (p, base, accountId) => {
    problem.value = null
    startConnect(p, base, accountId).catch(fail)
  }
  const baseError = problem.value?.at('base_url')

  return html`
    <h1>Accounts</h1>
    <p role="status" class="status">${status.value}</p>
    ${problem.value && !baseError && html`<p role="alert" class="error">${problem.value.message}</p>`}
    ${accounts.value === null ? html`<p>Loading…</p>` : accounts.value.length === 0 ? html`<p>No account is connected yet.</p>` : html`
      <ul class="cards">${accounts.value.map((a) => {
        const h = health(a)
        const c = commentsState(a)
        const dm = directMessagesState(a)
        return html`
          <li class="card account">
            <h2>${accountLabel(a)}</h2>
            ${a.display_name && html`<p class="meta">${a.display_name}</p>`}
            <p class=${`health ${h.level}`}><span class="sr">Token health: </span>${h.text}</p>
            ${c && html`<p class=${`health ${c.level}`}>${c.text}</p>`}
            ${dm && html`<p class=${`health ${dm.level}`}>${dm.text}</p>`}
            ${admin && c?.offer && a.status === 'active' && html`<button type="button" aria-label=${`Enable comments for ${accountLabel(a)}`} title="Allow Chorus to read and answer comments" onClick=${() => connect('tiktok_business', '', a.id)}>Enable comments</button>`}
            ${admin && (a.status === 'needs_reauth' || dm?.offer) && (OAUTH.includes(a.platform)
              ? html`<button type="button" aria-label=${`Reconnect ${accountLabel(a)}`} onClick=${() => connect(a.platform, a.base_url)}>Reconnect</button>`
              : html`<${TokenReconnect} account=${a} onDone=${(made) => { status.value = `Reconnected ${accountLabel(made)}.`; load().catch(fail) }} />`)}
          </li>`
      })}</ul>`}
    ${admin && html`
      <h2>Connect an account</h2>
      <form class="inline-form" onSubmit=${(e) => { e.preventDefault(); connect(platform.value, platform.value === 'mastodon' ? baseUrl.value : '') }}>
        <div>
          <label for="connect-platform">Platform</label>
          <select id="connect-platform" value=${platform.value} onChange=${(e) => (platform.value = e.currentTarget.value)}>
            ${OAUTH.map((p) => html`<option value=${p}>${p}</option>`)}
          </select>
        </div>
        ${platform.value === 'mastodon' && html`
          <div>
            <label for="connect-base">Instance URL</label>
            <input id="connect-base" type="url" placeholder="https://mastodon.social" value=${baseUrl.value} onInput=${(e) => (baseUrl.value = e.currentTarget.value)}
              aria-invalid=${baseError ? 'true' : undefined} aria-describedby=${baseError ? 'connect-base-error' : undefined} />
            ${baseError && html`<p id="connect-base-error" class="error">${baseError}</p>`}
          </div>`}
        <button type="submit">Connect</button>
      </form>
      <p class="meta">You go to the platform to allow Chorus, then come back here. Bluesky connects with an app password through the API.</p>`}
  `
}

// Platforms without OAuth here (a token, or Bluesky's app password) reconnect with a new secret.
function TokenReconnect({ account, onDone }) {
  const secret = useSignal('')
  const problem = useSignal(null)
  const bluesky = account.platform === 'bluesky'
  const id = `reconnect-${account.id}`
  async function submit(e) {
    e.preventDefault()
    problem.value = null
    const body = { platform: account.platform, platform_account_id: account.platform_account_id, handle: account.handle || undefined, base_url: account.base_url || undefined }
    try {
      onDone(await api('POST', '/accounts', bluesky ? { ...body, app_password: secret.value } : { ...body, access_token: secret.value }))
      secret.value = ''
    } catch (p) {
      problem.value = p
    }
  }
  const error = problem.value && (problem.value.at(bluesky ? 'app_password' : 'access_token') || problem.value.message)
  return html`
    <form class="inline-form" onSubmit=${submit} aria-label=${`Reconnect ${accountLabel(account)}`}>
      <div>
        <label for=${id}>${bluesky ? 'New app password' : 'New access token'}</label>
        <input id=${id} type="password" autocomplete="off" value=${secret.value} onInput=${(e) => (secret.value = e.currentTarget.value)}
          aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? `${id}-error` : undefined} />
        ${error && html`<p id=${`${id}-error`} class="error">${error}</p>`}
      </div>
      <button type="submit">Reconnect</button>
    </form>
  `
}
