import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import { api, Problem } from '../session.js'
import { accountsOf, accountLabel, workspaceZone } from '../workspace.js'
import { check } from '../counts.js'
import { HashtagPicker, MediaPicker, TemplatePicker } from './library.js'

const MODES = [
  ['schedule', 'Schedule'],
  ['now', 'Publish now'],
  ['queue', 'Add to the queue'],
  ['draft', 'Save as draft'],
]

// One text, a variant per account beside it (empty: the account takes the main text), each counted as
// its platform counts; the server's 422 is shown at the field it names.
export function Composer() {
  const zone = workspaceZone()
  const accounts = useSignal([])
  const chosen = useSignal([])
  const text = useSignal('')
  const variants = useSignal({})
  const media = useSignal([])
  const mode = useSignal('schedule')
  const when = useSignal('')
  const problem = useSignal(null)
  const done = useSignal(null)
  const busy = useSignal(false)
  useEffect(() => { accountsOf().then((a) => (accounts.value = a)) }, [])

  const selected = accounts.value.filter((a) => chosen.value.includes(a.id))
  const textOf = (id) => variants.value[id] ?? text.value
  const counts = Object.fromEntries(selected.map((a) => [a.id, check(a.platform, textOf(a.id))]))
  const broken = Object.values(counts).some((c) => c.broken.length)
  const at = (field) => problem.value?.at(field)

  async function submit(event) {
    event.preventDefault()
    problem.value = null
    done.value = null
    busy.value = true
    const body = { accounts: chosen.value, text: text.value, mode: mode.value, timezone: zone.value }
    body.variants = Object.fromEntries(Object.entries(variants.value).filter(([id]) => chosen.value.includes(id)).map(([id, t]) => [id, { text: t }]))
    if (media.value.length) body.media = media.value
    if (mode.value === 'schedule' && when.value) body.scheduled_at = when.value.length === 16 ? when.value + ':00' : when.value
    try {
      const made = await api('POST', '/posts', body)
      done.value = made
      text.value = ''
      variants.value = {}
      media.value = []
    } catch (error) {
      problem.value = error instanceof Problem ? error : new Problem(0, { detail: String(error) })
    } finally {
      busy.value = false
    }
  }

  // A rendered template: its text, and each platform's variant for the chosen accounts of that platform
  const applyTemplate = (rendered) => {
    text.value = rendered.text
    variants.value = Object.fromEntries(selected.filter((a) => rendered.variants[a.platform] !== undefined).map((a) => [a.id, rendered.variants[a.platform]]))
  }
  const addHashtags = (tags) => {
    const joined = (t) => (t ? `${t}\n\n${tags}` : tags)
    text.value = joined(text.value)
    variants.value = Object.fromEntries(Object.entries(variants.value).map(([id, t]) => [id, joined(t)]))
  }
  const toggle = (id, on) => (chosen.value = on ? [...chosen.value, id] : chosen.value.filter((x) => x !== id))
  const errorId = (name) => (at(name) ? `${name}-error` : undefined)
  return html`
    <h1>Compose</h1>
    <form class="composer" onSubmit=${submit} novalidate>
      <fieldset aria-describedby=${errorId('accounts')}>
        <legend>Accounts</legend>
        ${accounts.value.length === 0 && html`<p>No connected accounts yet.</p>`}
        ${accounts.value.map((a) => html`
          <label class="check"><input type="checkbox" checked=${chosen.value.includes(a.id)} onChange=${(e) => toggle(a.id, e.currentTarget.checked)} /> ${accountLabel(a)}</label>`)}
        ${at('accounts') && !selected.some((a) => at(`accounts[${a.id}]`)) && html`<p id="accounts-error" class="error">${at('accounts')}</p>`}
      </fieldset>
      <${TemplatePicker} onRender=${applyTemplate} />
      <label for="text">Text</label>
      <textarea id="text" rows="5" value=${text.value} onInput=${(e) => (text.value = e.currentTarget.value)}
        aria-describedby=${errorId('text')} aria-invalid=${at('text') ? 'true' : undefined}></textarea>
      ${at('text') && html`<p id="text-error" class="error">${at('text')}</p>`}
      ${selected.length > 0 && html`
        <div class="variants">
          ${selected.map((a) => html`<${Variant} account=${a} value=${variants.value[a.id]} main=${text.value} count=${counts[a.id]}
            server=${at(`accounts[${a.id}]`) || at(`variants.${a.id}`)}
            onInput=${(value) => (variants.value = { ...variants.value, [a.id]: value })}
            onReset=${() => { const { [a.id]: _, ...rest } = variants.value; variants.value = rest }} />`)}
        </div>`}
      <${HashtagPicker} onAdd=${addHashtags} />
      <${MediaPicker} chosen=${media.value} platforms=${[...new Set(selected.map((a) => a.platform))]} onChange=${(m) => (media.value = m)} />
      ${at('media') && html`<p id="media-error" class="error">${at('media')}</p>`}
      <fieldset>
        <legend>When</legend>
        ${MODES.map(([value, label]) => html`
          <label class="check"><input type="radio" name="mode" value=${value} checked=${mode.value === value} onChange=${() => (mode.value = value)} /> ${label}</label>`)}
        ${mode.value === 'schedule' && html`
          <label for="when">Date and time (${zone.value})</label>
          <input id="when" type="datetime-local" step="1" value=${when.value} onInput=${(e) => (when.value = e.currentTarget.value)}
            aria-describedby=${errorId('scheduled_at')} aria-invalid=${at('scheduled_at') ? 'true' : undefined} />
          ${at('scheduled_at') && html`<p id="scheduled_at-error" class="error">${at('scheduled_at')}</p>`}`}
      </fieldset>
      ${problem.value && html`<p role="alert" class="error">${problem.value.status === 422 ? 'The post was not created: see the fields marked.' : problem.value.message}</p>`}
      ${done.value && html`<p role="status" class="done">Created: ${done.value.status?.replace('_', ' ') || 'posts'}. <a href="/calendar">See it in the calendar</a></p>`}
      <button type="submit" disabled=${busy.value || broken}>${mode.value === 'draft' ? 'Save draft' : 'Create post'}</button>
      ${broken && html`<p class="hint">A text breaks its platform's rules: shorten it first.</p>`}
    </form>
  `
}

function Variant({ account, value, main, count, server, onInput, onReset }) {
  const id = `variant-${account.id}`
  const over = count.broken.length > 0
  return html`
    <section class="variant" aria-labelledby=${`${id}-title`}>
      <h2 id=${`${id}-title`}>${accountLabel(account)}</h2>
      <label for=${id}>Text for ${accountLabel(account)}</label>
      <textarea id=${id} rows="5" value=${value ?? main} onInput=${(e) => onInput(e.currentTarget.value)}
        aria-describedby=${`${id}-count${server ? ` ${id}-error` : ''}`} aria-invalid=${over || server ? 'true' : undefined}></textarea>
      <p id=${`${id}-count`} class=${`counter${over ? ' over' : ''}`} aria-live="polite">
        ${count.length}${count.max ? ` / ${count.max}` : ''} ${count.unit}
        ${count.broken.map((b) => html`<span class="rule"> — ${b.message} (${b.rule})</span>`)}
      </p>
      ${server && html`<p id=${`${id}-error`} class="error">${server}</p>`}
      ${value !== undefined && html`<button type="button" class="link" onClick=${onReset}>Use the main text</button>`}
    </section>
  `
}
