import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import './admin.css'
import { api, canApprove, Problem } from '../session.js'
import { ChartCanvas, PALETTE } from '../charts.js'
import { when } from './members.js'

// Social listening: publishing paused or not, the crisis incidents with their timeline (acknowledge,
// resolve), the last day's volume and negative mentions per 5-minute window (Chart.js, loaded by
// charts.js), the mentions with their sentiment (an editor corrects it), and the monitors behind them.
const SENTIMENTS = ['positive', 'neutral', 'negative']
const KINDS = ['brand', 'keyword', 'hashtag', 'competitor']
const HOUR = 3_600_000

const fail = (target) => (p) => (target.value = p instanceof Problem ? p : new Problem(0, { detail: String(p) }))

export function Listening() {
  const status = useSignal('')
  const problem = useSignal(null)
  const tick = useSignal(0) // bumped after a change: the sections read again
  const editor = canApprove.value
  const done = (text) => {
    status.value = text
    problem.value = null
    tick.value++
  }
  return html`
    <h1>Listening</h1>
    <p role="status" class="status">${status.value}</p>
    ${problem.value && html`<p role="alert" class="error">${problem.value.message}</p>`}
    <${Publishing} tick=${tick.value} editor=${editor} onDone=${done} onFail=${fail(problem)} />
    <${Incidents} tick=${tick.value} editor=${editor} onDone=${done} onFail=${fail(problem)} />
    <${Series} tick=${tick.value} />
    <${Mentions} tick=${tick.value} editor=${editor} onDone=${done} onFail=${fail(problem)} />
    <${Monitors} tick=${tick.value} editor=${editor} onDone=${done} onFail=${fail(problem)} />
  `
}

function Publishing({ tick, editor, onDone, onFail }) {
  const state = useSignal(null)
  const reason = useSignal('')
  useEffect(() => { api('GET', '/publishing').then((s) => (state.value = s)).catch(onFail) }, [tick])
  if (!state.value) return null
  const s = state.value
  const pause = (e) => {
    e.preventDefault()
    api('POST', '/publishing/pause', reason.value ? { reason: reason.value } : {}).then(() => onDone('Publishing is paused.')).catch(onFail)
  }
  const resume = (release) => api('POST', '/publishing/resume', { release }).then(() => onDone(release === 'now' ? 'Publishing resumed: held posts are sent.' : 'Publishing resumed: held posts stay held.')).catch(onFail)
  return html`
    <section class=${`card publishing ${s.paused ? 'paused' : ''}`} aria-labelledby="publishing-title">
      <h2 id="publishing-title">${s.paused ? 'Publishing is paused' : 'Publishing is on'}</h2>
      ${s.paused && html`<p>${s.reason}${s.held_targets ? ` — ${s.held_targets} post target(s) held` : ''}</p>`}
      ${editor && (s.paused ? html`
        <div class="actions">
          <button type="button" onClick=${() => resume('now')}>Resume and send held posts</button>
          <button type="button" class="link" onClick=${() => resume('hold')}>Resume, keep them held</button>
        </div>` : html`
        <form class="inline-form" onSubmit=${pause}>
          <div>
            <label for="pause-reason">Reason</label>
            <input id="pause-reason" value=${reason.value} placeholder="paused by a person" onInput=${(e) => (reason.value = e.currentTarget.value)} />
          </div>
          <button type="submit" class="danger">Pause publishing</button>
        </form>`)}
    </section>
  `
}

const describe = (event) => {
  const d = event.details || {}
  if (event.event === 'raised') return `${d.negatives ?? '?'} negative mentions in 5 minutes${d.severity ? `, ${d.severity}` : ''}`
  if (d.by) return `by ${d.by}`
  if (d.after_minutes) return `after ${d.after_minutes} minutes without acknowledgement`
  return ''
}

function Incidents({ tick, editor, onDone, onFail }) {
  const incidents = useSignal(null)
  useEffect(() => { api('GET', '/incidents?limit=20').then((f) => (incidents.value = f.incidents)).catch(onFail) }, [tick])
  const act = (i, verb, text) => api('POST', `/incidents/${i.id}/${verb}`).then(() => onDone(text)).catch(onFail)
  return html`
    <section aria-labelledby="incidents-title">
      <h2 id="incidents-title">Incidents</h2>
      ${incidents.value === null ? html`<p>Loading…</p>` : incidents.value.length === 0 ? html`<p>No incidents.</p>` : html`
        <ul class="cards incidents">${incidents.value.map((i) => html`
          <li class=${`card incident ${i.state}`}>
            <article aria-labelledby=${`incident-${i.id}`}>
              <h3 id=${`incident-${i.id}`}>Crisis ${i.severity ? `(${i.severity})` : ''} — ${i.state === 'resolved' ? 'resolved' : i.acknowledged_at ? 'acknowledged' : 'open'}</h3>
              <p class="meta">Raised ${when(i.opened_at)}${i.key && i.key !== 'all' ? ` on monitor ${i.key}` : ''}${i.publishing_paused ? '; publishing was paused' : ''}${i.escalated ? '; escalated' : ''}</p>
              ${i.samples?.length > 0 && html`
                <details>
                  <summary>${i.samples.length} sample mention(s)</summary>
                  <ul>${i.samples.map((m) => html`<li><strong>@${m.author}</strong>: ${m.text}</li>`)}</ul>
                </details>`}
              <h4>Timeline</h4>
              <ol class="timeline">${(i.timeline || []).map((e) => html`<li><time datetime=${e.at}>${when(e.at)}</time> ${e.event} <span class="meta">${describe(e)}</span></li>`)}</ol>
              ${editor && i.state !== 'resolved' && html`
                <div class="actions">
                  ${!i.acknowledged_at && html`<button type="button" onClick=${() => act(i, 'acknowledge', 'Incident acknowledged.')}>Acknowledge</button>`}
                  <button type="button" class=${i.acknowledged_at ? '' : 'link'} onClick=${() => act(i, 'resolve', 'Incident resolved.')}>Resolve</button>
                </div>`}
            </article>
          </li>`)}</ul>`}
    </section>
  `
}

function Series({ tick }) {
  const windows = useSignal(null)
  useEffect(() => {
    const params = new URLSearchParams({ from: new Date(Date.now() - 24 * HOUR).toISOString(), to: new Date().toISOString() })
    api('GET', `/listening/series?${params}`).then((f) => (windows.value = f.windows)).catch(() => (windows.value = []))
  }, [tick])
  if (!windows.value) return null
  // Hourly sums read better than 288 five-minute points
  const hours = {}
  for (const w of windows.value) {
    const hour = w.window_start.slice(0, 13)
    hours[hour] ||= { total: 0, negatives: 0 }
    hours[hour].total += w.total
    hours[hour].negatives += w.negatives
  }
  const labels = Object.keys(hours).sort()
  const total = labels.reduce((n, h) => n + hours[h].total, 0)
  const negatives = labels.reduce((n, h) => n + hours[h].negatives, 0)
  const data = {
    labels: labels.map((h) => `${h.slice(5, 10)} ${h.slice(11)}:00`),
    datasets: [
      { label: 'Mentions', data: labels.map((h) => hours[h].total), borderColor: PALETTE[0], backgroundColor: PALETTE[0] },
      { label: 'Negative', data: labels.map((h) => hours[h].negatives), borderColor: PALETTE[1], backgroundColor: PALETTE[1] },
    ],
  }
  return html`
    <section aria-labelledby="series-title">
      <h2 id="series-title">Volume, last 24 hours</h2>
      <p class="meta">${total} mentions, ${negatives} negative (UTC hours).</p>
      ${labels.length ? html`<div class="card"><${ChartCanvas} type="line" data=${data} label=${`Mentions per hour over the last 24 hours: ${total} in all, ${negatives} negative.`} /></div>` : html`<p>No mentions in the last 24 hours.</p>`}
    </section>
  `
}

function Mentions({ tick, editor, onDone, onFail }) {
  const mentions = useSignal(null)
  useEffect(() => {
    const params = new URLSearchParams({ from: new Date(Date.now() - 7 * 24 * HOUR).toISOString(), limit: '24' })
    api('GET', `/listening/mentions?${params}`).then((f) => (mentions.value = f.mentions)).catch(onFail)
  }, [tick])
  const correct = (m, sentiment) =>
    api('PUT', `/listening/mentions/${encodeURIComponent(m.id)}/sentiment`, { sentiment }).then(() => onDone(`The mention of @${m.author} is now ${sentiment}.`)).catch(onFail)
  return html`
    <section aria-labelledby="mentions-title">
      <h2 id="mentions-title">Mentions</h2>
      <p class="meta">The newest of the last 7 days.</p>
      ${mentions.value === null ? html`<p>Loading…</p>` : mentions.value.length === 0 ? html`<p>No mentions in the last 7 days.</p>` : html`
        <ul class="cards mentions">${mentions.value.map((m) => html`
          <li class="card mention">
            <p><strong>@${m.author}</strong> <span class="meta">on ${m.platform}, ${when(m.created_at)}</span></p>
            <p class="mention-text">${m.text}</p>
            <p>
              <span class=${`sentiment ${m.sentiment || 'unknown'}`}>${m.sentiment || 'not scored'}</span>
              ${m.url && html` · <a href=${m.url} rel="noopener noreferrer" target="_blank">Open<span class="sr"> the mention of @${m.author}</span></a>`}
            </p>
            ${editor && html`
              <label class="inline">Sentiment
                <select value=${m.sentiment || ''} aria-label=${`Sentiment of the mention of @${m.author}`} onChange=${(e) => correct(m, e.currentTarget.value)}>
                  ${!m.sentiment && html`<option value="">not scored</option>`}
                  ${SENTIMENTS.map((s) => html`<option value=${s}>${s}</option>`)}
                </select>
              </label>`}
          </li>`)}</ul>`}
    </section>
  `
}

function Monitors({ tick, editor, onDone, onFail }) {
  const monitors = useSignal(null)
  const name = useSignal('')
  const kind = useSignal('brand')
  const terms = useSignal('')
  const problem = useSignal(null)
  useEffect(() => { api('GET', '/monitors?limit=100').then((f) => (monitors.value = f.monitors)).catch(onFail) }, [tick])
  async function create(e) {
    e.preventDefault()
    problem.value = null
    try {
      const list = terms.value.split(',').map((t) => t.trim()).filter(Boolean)
      await api('POST', '/monitors', { name: name.value, kind: kind.value, terms: list })
      name.value = ''
      terms.value = ''
      onDone('Monitor created.')
    } catch (p) {
      problem.value = p
    }
  }
  const at = (f) => problem.value?.at(f)
  return html`
    <section aria-labelledby="monitors-title">
      <h2 id="monitors-title">Monitors</h2>
      ${monitors.value && (monitors.value.length === 0 ? html`<p>No monitors yet.</p>` : html`
        <ul class="cards">${monitors.value.map((m) => html`
          <li class="card">
            <strong>${m.name}</strong> <span class="meta">(${m.kind}${m.is_competitor ? ', competitor' : ''})</span>
            <p>${m.terms.join(', ')}${m.exclude.length ? html` <span class="meta">— not: ${m.exclude.join(', ')}</span>` : ''}</p>
            ${editor && html`<button type="button" class="link" aria-label=${`Delete the monitor ${m.name}`} onClick=${() => api('DELETE', `/monitors/${m.id}`).then(() => onDone(`Monitor ${m.name} deleted.`)).catch(onFail)}>Delete</button>`}
          </li>`)}</ul>`)}
      ${editor && html`
        <form class="inline-form" onSubmit=${create} novalidate>
          <div>
            <label for="monitor-name">Name</label>
            <input id="monitor-name" value=${name.value} onInput=${(e) => (name.value = e.currentTarget.value)} aria-invalid=${at('name') ? 'true' : undefined} aria-describedby=${at('name') ? 'monitor-name-error' : undefined} />
            ${at('name') && html`<p id="monitor-name-error" class="error">${at('name')}</p>`}
          </div>
          <div>
            <label for="monitor-kind">Kind</label>
            <select id="monitor-kind" value=${kind.value} onChange=${(e) => (kind.value = e.currentTarget.value)}>
              ${KINDS.map((k) => html`<option value=${k}>${k}</option>`)}
            </select>
          </div>
          <div>
            <label for="monitor-terms">Terms (comma-separated)</label>
            <input id="monitor-terms" value=${terms.value} onInput=${(e) => (terms.value = e.currentTarget.value)} aria-invalid=${at('terms') ? 'true' : undefined} aria-describedby=${at('terms') ? 'monitor-terms-error' : undefined} />
            ${at('terms') && html`<p id="monitor-terms-error" class="error">${at('terms')}</p>`}
          </div>
          <button type="submit">Add monitor</button>
        </form>
        ${problem.value && !at('name') && !at('terms') && html`<p role="alert" class="error">${problem.value.message}</p>`}`}
    </section>
  `
}
