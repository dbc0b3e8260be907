import { useSignal } from '@preact/signals'
import { useLocation } from 'preact-iso'
import { html } from '../html.js'
import { config, signUp, confirmSignUp, resendCode, signIn } from '../session.js'

// The user pool's password policy (template.yaml: UserPool.Policies.PasswordPolicy), said before it refuses.
const POLICY = 'At least 12 characters, with an upper-case letter, a lower-case letter and a number.'

// The pool's refusals, at the field they are about.
function fieldOf(problem) {
  switch (problem.body?.type) {
    case 'InvalidPasswordException': {
      const reason = /^Password did not conform with policy: (.+)$/.exec(problem.message)?.[1] // AWS's own words
      return ['password', `This password is not accepted${reason ? ` (${reason})` : ''}: it needs the rule above.`]
    }
    case 'UsernameExistsException': return ['email', 'An account with this e-mail exists already: sign in instead.']
    case 'InvalidParameterException': return ['email', problem.message]
    case 'CodeMismatchException': return ['code', 'That code is not right: check the e-mail and type it again.']
    case 'ExpiredCodeException': return ['code', 'That code has expired: send a new one.']
    case 'LimitExceededException':
    case 'TooManyRequestsException': return ['form', 'Too many tries: wait a few minutes and try again.']
    default: return ['form', problem.message]
  }
}

// "Create an account": e-mail and password (Cognito SignUp), the code the pool e-mails (ConfirmSignUp),
// then signed in; the app then asks for the first workspace (POST /workspaces).
export function SignUp() {
  const { route } = useLocation()
  const step = useSignal('account') // account | confirm
  const email = useSignal('')
  const password = useSignal('')
  const sentTo = useSignal('')
  const errors = useSignal({})
  const status = useSignal('')
  const busy = useSignal(false)
  const local = Boolean(config.value?.cognito_endpoint) // the embedded runtime: no e-mail is sent

  async function run(work) {
    busy.value = true
    errors.value = {}
    try {
      await work()
    } catch (problem) {
      const [field, message] = fieldOf(problem)
      errors.value = { [field]: message }
    } finally {
      busy.value = false
    }
  }
  const create = (event) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    email.value = String(form.get('email')).trim()
    password.value = String(form.get('password'))
    run(async () => {
      const answer = await signUp(email.value, password.value)
      sentTo.value = answer.CodeDeliveryDetails?.Destination || email.value
      status.value = ''
      step.value = 'confirm'
    })
  }
  const confirm = (event) => {
    event.preventDefault()
    const code = String(new FormData(event.currentTarget).get('code')).trim()
    run(async () => {
      await confirmSignUp(email.value, code)
      status.value = 'Account confirmed: signing you in…'
      await signIn(email.value, password.value)
      route('/calendar') // with no workspace yet, the app asks for the first one
    })
  }
  const resend = () => run(async () => {
    const answer = await resendCode(email.value)
    sentTo.value = answer.CodeDeliveryDetails?.Destination || email.value
    status.value = `A new code is on its way to ${sentTo.value}.`
  })

  const at = (field, id) => errors.value[field] && html`<p id=${id} class="error" role="alert">${errors.value[field]}</p>`
  const formError = errors.value.form && html`<p class="error" role="alert">${errors.value.form}</p>`
  if (step.value === 'confirm') {
    return html`
      <main id="main" class="narrow">
        <h1>Confirm your e-mail</h1>
        <p>We sent a code to <strong>${sentTo.value}</strong>. Type it here to finish creating your account.</p>
        ${local && html`<p class="meta">On the local runtime no e-mail is sent: the code is printed on the console that runs <code>make dev</code> (“local user pool: confirmation code for …”).</p>`}
        <form onSubmit=${confirm} noValidate>
          <label for="code">Confirmation code</label>
          <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required
            aria-invalid=${errors.value.code ? 'true' : undefined} aria-describedby=${errors.value.code ? 'code-error' : undefined} />
          ${at('code', 'code-error')}
          ${formError}
          <p role="status" class="status">${status.value}</p>
          <button type="submit" disabled=${busy.value}>${busy.value ? 'Confirming…' : 'Confirm and sign in'}</button>
        </form>
        <p><button type="button" class="link" onClick=${resend} disabled=${busy.value}>Send a new code</button></p>
      </main>
    `
  }
  return html`
    <main id="main" class="narrow">
      <h1>Create an account</h1>
      <form onSubmit=${create} noValidate>
        <label for="email">E-mail</label>
        <input id="email" name="email" type="email" autocomplete="username" required value=${email.value}
          aria-invalid=${errors.value.email ? 'true' : undefined} aria-describedby=${errors.value.email ? 'email-error' : undefined} />
        ${at('email', 'email-error')}
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="new-password" required
          aria-invalid=${errors.value.password ? 'true' : undefined} aria-describedby=${errors.value.password ? 'password-error password-rule' : 'password-rule'} />
        <p id="password-rule" class="meta">${POLICY}</p>
        ${at('password', 'password-error')}
        ${formError}
        <button type="submit" disabled=${busy.value}>${busy.value ? 'Creating…' : 'Create account'}</button>
      </form>
      <p>Already have an account? <a href="/sign-in">Sign in</a></p>
    </main>
  `
}
