// Who is signed in (the user pool's tokens), the workspace they work in, and the API calls that carry
// both: `Authorization: Bearer <ID token>` and `X-Chorus-Workspace`. Tokens live in localStorage so a
// reload keeps the session; an expired ID token is refreshed once through the pool (REFRESH_TOKEN_AUTH).
import { signal, computed } from '@preact/signals'

const STORE = 'chorus.session'
export const config = signal(null)
export const session = signal(JSON.parse(localStorage.getItem(STORE) || 'null'))
export const me = signal(null)
export const workspaceId = signal(localStorage.getItem('chorus.workspace') || null)
export const workspace = computed(() => me.value?.workspaces.find((w) => w.workspace_id === workspaceId.value) || null)

export async function loadConfig() {
  const answer = await fetch('/config.json', { cache: 'no-cache' })
  config.value = await answer.json()
}

function save(tokens) {
  session.value = tokens
  if (tokens) localStorage.setItem(STORE, JSON.stringify(tokens))
  else localStorage.removeItem(STORE)
}

export function chooseWorkspace(id) {
  workspaceId.value = id
  localStorage.setItem('chorus.workspace', id)
}

export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`)
    this.status = status
    this.body = body || {}
    this.errors = this.body.errors || []
  }
  // The message of the error naming `field` (or starting with it), if any.
  at(field) {
    const found = this.errors.filter((e) => e.field === field || e.field.startsWith(field + '.') || e.field.startsWith(field + '['))
    return found.map((e) => e.message).join('; ') || null
  }
}

async function cognito(target, body) {
  const c = config.value
  const endpoint = c.cognito_endpoint || `https://cognito-idp.${c.region}.amazonaws.com/`
  const answer = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${target}` },
    body: JSON.stringify(body),
  })
  const data = await answer.json().catch(() => ({}))
  if (!answer.ok) throw new Problem(answer.status, { detail: data.message || data.__type || 'the sign-in service refused', type: data.__type })
  return data
}

function tokensOf(result, email, refresh) {
  return {
    email,
    id_token: result.IdToken,
    access_token: result.AccessToken,
    refresh_token: result.RefreshToken || refresh,
    expires_at: Date.now() + (result.ExpiresIn || 3600) * 1000,
  }
}

export async function signIn(email, password) {
  const data = await cognito('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: config.value.client_id,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  })
  if (!data.AuthenticationResult) throw new Problem(401, { detail: `the pool asks for ${data.ChallengeName}, which this app does not do yet` })
  save(tokensOf(data.AuthenticationResult, email))
  await loadMe()
}

// Creating an account: SignUp (the pool e-mails a code), ConfirmSignUp with it, then signIn.
export async function signUp(email, password) {
  return cognito('SignUp', {
    ClientId: config.value.client_id,
    Username: email,
    Password: password,
    UserAttributes: [{ Name: 'email', Value: email }],
  })
}

export async function confirmSignUp(email, code) {
  await cognito('ConfirmSignUp', { ClientId: config.value.client_id, Username: email, ConfirmationCode: code })
}

export async function resendCode(email) {
  return cognito('ResendConfirmationCode', { ClientId: config.value.client_id, Username: email })
}

export async function refresh() {
  const s = session.value
  if (!s?.refresh_token) throw new Problem(401, { detail: 'signed out' })
  const data = await cognito('InitiateAuth', {
    AuthFlow: 'REFRESH_TOKEN_AUTH',
    ClientId: config.value.client_id,
    AuthParameters: { REFRESH_TOKEN: s.refresh_token },
  })
  save(tokensOf(data.AuthenticationResult, s.email, s.refresh_token))
}

export function signOutHere() {
  save(null)
  me.value = null
}

// Signs out everywhere: the pool's global sign-out through Chorus (every token issued before is refused).
export async function signOutEverywhere() {
  try {
    await api('POST', '/me/sign-out', undefined, { token: session.value?.access_token, workspace: false })
  } finally {
    signOutHere()
  }
}

export async function api(method, path, body, opts = {}) {
  if (session.value && Date.now() > session.value.expires_at - 60_000) await refresh().catch(() => {})
  const call = () => {
    const headers = { Authorization: `Bearer ${opts.token || session.value?.id_token}` }
    if (opts.workspace !== false && workspaceId.value) headers['X-Chorus-Workspace'] = workspaceId.value
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    return fetch(config.value.api_url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: opts.redirect || 'follow' })
  }
  let answer = await call()
  if (answer.status === 401 && !opts.token && session.value?.refresh_token) {
    try {
      await refresh()
      answer = await call()
    } catch {
      signOutHere()
    }
  }
  if (opts.raw && (answer.ok || answer.type === 'opaqueredirect')) return answer // a file, a 202 or a redirect: the caller reads it
  const data = await answer.json().catch(() => null)
  if (!answer.ok) throw new Problem(answer.status, data)
  return data
}

export async function loadMe() {
  const found = await api('GET', '/me', undefined, { workspace: false })
  me.value = found
  if (!found.workspaces.some((w) => w.workspace_id === workspaceId.value) && found.workspaces.length)
    chooseWorkspace(found.workspaces[0].workspace_id)
}

export const RANK = { viewer: 0, contributor: 1, editor: 2, admin: 3, owner: 4 }
export const canApprove = computed(() => RANK[workspace.value?.role] >= RANK.editor)
export const isAdmin = computed(() => RANK[workspace.value?.role] >= RANK.admin)
