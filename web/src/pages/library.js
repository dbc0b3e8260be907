import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import { api, Problem } from '../session.js'

// The content library in the composer: a template rendered with its variables (its platform variants go
// to the chosen accounts of that platform), a hashtag group added to the text, and files of the media
// library attached, each showing whether it fits the chosen accounts' platforms.

export function TemplatePicker({ onRender }) {
  const templates = useSignal([])
  const chosen = useSignal('')
  const values = useSignal({})
  const problem = useSignal(null)
  useEffect(() => { api('GET', '/templates?limit=100').then((t) => (templates.value = t.templates)) }, [])
  if (templates.value.length === 0) return null
  const template = templates.value.find((t) => t.id === chosen.value)

  async function render() {
    problem.value = null
    try {
      onRender(await api('POST', `/templates/${template.id}/render`, { variables: values.value }))
    } catch (error) {
      problem.value = error instanceof Problem ? error : new Problem(0, { detail: String(error) })
    }
  }

  return html`
    <fieldset class="library">
      <legend>Template</legend>
      <label for="template">Template</label>
      <select id="template" value=${chosen.value} onChange=${(e) => { chosen.value = e.currentTarget.value; values.value = {} }}>
        <option value="">None</option>
        ${templates.value.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
      </select>
      ${template && template.variables.map((v) => html`
        <label for=${`var-${v.name}`}>${v.name}${v.default === null ? ' (required)' : ''}</label>
        <input id=${`var-${v.name}`} value=${values.value[v.name] ?? v.default ?? ''}
          onInput=${(e) => (values.value = { ...values.value, [v.name]: e.currentTarget.value })}
          aria-invalid=${problem.value?.at(`variables.${v.name}`) ? 'true' : undefined} />`)}
      ${template && html`<button type="button" onClick=${render}>Use template</button>`}
      ${problem.value && html`<p role="alert" class="error">${problem.value.message}</p>`}
    </fieldset>
  `
}

export function HashtagPicker({ onAdd }) {
  const groups = useSignal([])
  const chosen = useSignal('')
  useEffect(() => { api('GET', '/hashtag-groups?limit=100').then((g) => (groups.value = g.hashtag_groups)) }, [])
  if (groups.value.length === 0) return null
  const group = groups.value.find((g) => g.id === chosen.value)
  const misfits = group ? Object.entries(group.fitness).filter(([, f]) => !f.fits).map(([p]) => p) : []
  return html`
    <fieldset class="library">
      <legend>Hashtags</legend>
      <label for="hashtags">Hashtag group</label>
      <select id="hashtags" value=${chosen.value} onChange=${(e) => (chosen.value = e.currentTarget.value)}>
        <option value="">None</option>
        ${groups.value.map((g) => html`<option value=${g.id}>${g.name} (${g.hashtags.length})</option>`)}
      </select>
      ${group && html`<button type="button" onClick=${() => onAdd(group.text)}>Add hashtags</button>`}
      ${misfits.length > 0 && html`<p class="hint">Too many for: ${misfits.join(', ')}</p>`}
    </fieldset>
  `
}

export function MediaPicker({ chosen, platforms, onChange }) {
  const items = useSignal([])
  useEffect(() => { api('GET', '/media?limit=50').then((m) => (items.value = m.media.filter((i) => i.state === 'ready'))) }, [])
  if (items.value.length === 0) return null
  const keys = chosen.map((m) => m.key)
  const toggle = (item, on) => onChange(on
    ? [...chosen, { mime_type: item.mime_type, key: item.key, size: item.size, width: item.width, height: item.height,
      duration_s: item.duration_s, name: item.name, preview: item.thumbnail_url, alt_text: '' }]
    : chosen.filter((m) => m.key !== item.key))
  return html`
    <fieldset class="library">
      <legend>Media library</legend>
      <ul class="media-library">
        ${items.value.map((item) => {
          const misfits = platforms.filter((p) => item.fitness[p] && !item.fitness[p].fits)
          return html`
            <li>
              <label class="check">
                <input type="checkbox" checked=${keys.includes(item.key)} onChange=${(e) => toggle(item, e.currentTarget.checked)} />
                ${item.thumbnail_url && html`<img src=${item.thumbnail_url} alt="" width="64" />`}
                ${item.name}
              </label>
              ${misfits.length > 0 && html`<span class="rule"> — does not fit ${misfits.join(', ')}: ${misfits.map((p) => item.fitness[p].problems[0]?.message).join('; ')}</span>`}
            </li>`
        })}
      </ul>
    </fieldset>
  `
}
