import { useSignal } from '@preact/signals'
import { useLocation } from 'preact-iso'
import { html } from '../html.js'
import { signIn, api, loadMe } from '../session.js'

export function SignIn() {
  const { route, path } = useLocation()
  const error = useSignal('')
  const busy = useSignal(false)
  async function submit(event) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    busy.value = true
    error.value = ''
    try {
      await signIn(String(form.get('email')), String(form.get('password')))
      route(path === '/sign-in' || path === '/' ? '/calendar' : location.pathname + location.search) // back where the link led
    } catch (problem) {
      error.value = problem.message
    } finally {
      busy.value = false
    }
  }
  return html`
    <main id="main" class="narrow">
      <h1>Sign in to Chorus</h1>
      <form onSubmit=${submit} aria-describedby=${error.value ? 'signin-error' : undefined}>
        <label for="email">E-mail</label>
        <input id="email" name="email" type="email" autocomplete="username" required />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        ${error.value && html`<p id="signin-error" class="error" role="alert">${error.value}</p>`}
        <button type="submit" disabled=${busy.value}>${busy.value ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <p>New to Chorus? <a href="/sign-up">Create an account</a></p>
    </main>
  `
}

export function FirstWorkspace() {
  const error = useSignal('')
  const fields = useSignal({}) // the 422's messages by field (name, timezone)
  async function submit(event) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    error.value = ''
    fields.value = {}
    try {
      await api('POST', '/workspaces', { name: form.get('name'), timezone: form.get('timezone') }, { workspace: false })
      await loadMe()
    } catch (problem) {
      const at = { name: problem.at?.('name'), timezone: problem.at?.('timezone') }
      if (at.name || at.timezone) fields.value = at
      else error.value = problem.message
    }
  }
  const invalid = (field) => (fields.value[field] ? 'true' : undefined)
  const said = (field) => fields.value[field] && html`<p id=${`ws-${field}-error`} class="error" role="alert">${fields.value[field]}</p>`
  return html`
    <main id="main" class="narrow">
      <h1>Create your workspace</h1>
      <form onSubmit=${submit}>
        <label for="ws-name">Name</label>
        <input id="ws-name" name="name" required aria-invalid=${invalid('name')} aria-describedby=${fields.value.name ? 'ws-name-error' : undefined} />
        ${said('name')}
        <label for="ws-tz">Time zone</label>
        <input id="ws-tz" name="timezone" value=${Intl.DateTimeFormat().resolvedOptions().timeZone} required aria-invalid=${invalid('timezone')} aria-describedby=${fields.value.timezone ? 'ws-timezone-error' : undefined} />
        ${said('timezone')}
        ${error.value && html`<p class="error" role="alert">${error.value}</p>`}
        <button type="submit">Create</button>
      </form>
    </main>
  `
}
