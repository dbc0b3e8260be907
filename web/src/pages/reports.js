import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import './admin.css'
import { api, Problem } from '../session.js'
import { ChartCanvas, PALETTE } from '../charts.js'
import { workspaceZone } from '../workspace.js'
import { addDays, todayIn, WEEKDAYS } from '../dates.js'

// The analytics report of a period (GET /reports): its figures against the previous period, the
// followers and platforms charts (Chart.js, loaded by charts.js only when drawn), the tables, the
// best-times heatmap, and the CSV / PDF files (a PDF is a job: its progress shown until the link).
const KPIS = [
  ['posts_published', 'Posts published'],
  ['impressions', 'Impressions'],
  ['reach', 'Reach'],
  ['engagements', 'Engagements'],
  ['engagement_rate', 'Engagement rate'],
]
const number = (v, key) => (v === null || v === undefined ? '—' : key === 'engagement_rate' ? `${(v * 100).toFixed(2)} %` : v.toLocaleString())
const change = (pct) => (pct === null || pct === undefined ? '' : `${pct > 0 ? '+' : ''}${pct.toFixed(1)} %`)

export function Reports() {
  const zone = workspaceZone()
  const from = useSignal('')
  const to = useSignal('')
  const report = useSignal(null)
  const problem = useSignal(null)
  const loading = useSignal(false)

  async function load() {
    problem.value = null
    loading.value = true
    try {
      const params = new URLSearchParams({ format: 'json' })
      if (from.value) params.set('from', from.value)
      if (to.value) params.set('to', to.value)
      const found = await api('GET', `/reports?${params}`)
      report.value = found
      from.value = found.period.from.slice(0, 10)
      to.value = found.period.to.slice(0, 10)
    } catch (p) {
      problem.value = p instanceof Problem ? p : new Problem(0, { detail: String(p) })
    } finally {
      loading.value = false
    }
  }
  useEffect(() => { load() }, [])

  const preset = (days) => {
    const end = addDays(todayIn(zone.value || 'UTC'), -1)
    to.value = end
    from.value = addDays(end, -(days - 1))
    load()
  }
  const fieldError = (f) => problem.value?.at(f)
  const r = report.value

  return html`
    <h1>Reports</h1>
    <form class="inline-form" aria-label="Period" onSubmit=${(e) => { e.preventDefault(); load() }}>
      <div>
        <label for="report-from">From</label>
        <input id="report-from" type="date" value=${from.value} onInput=${(e) => (from.value = e.currentTarget.value)}
          aria-invalid=${fieldError('from') ? 'true' : undefined} aria-describedby=${fieldError('from') ? 'report-from-error' : undefined} />
        ${fieldError('from') && html`<p id="report-from-error" class="error">${fieldError('from')}</p>`}
      </div>
      <div>
        <label for="report-to">To</label>
        <input id="report-to" type="date" value=${to.value} onInput=${(e) => (to.value = e.currentTarget.value)}
          aria-invalid=${fieldError('to') ? 'true' : undefined} aria-describedby=${fieldError('to') ? 'report-to-error' : undefined} />
        ${fieldError('to') && html`<p id="report-to-error" class="error">${fieldError('to')}</p>`}
      </div>
      <button type="submit">Show</button>
      <div class="group" role="group" aria-label="Presets">
        ${[7, 30, 90].map((d) => html`<button type="button" onClick=${() => preset(d)}>Last ${d} days</button>`)}
      </div>
    </form>
    ${problem.value && !fieldError('from') && !fieldError('to') && html`<p role="alert" class="error">${problem.value.message}</p>`}
    ${loading.value && html`<p role="status">Loading the report…</p>`}
    ${r && html`
      <p class="meta">${r.workspace.name}: ${r.period.from.slice(0, 10)} to ${r.period.to.slice(0, 10)} (${r.period.timezone}), against ${r.previous_period.from.slice(0, 10)} to ${r.previous_period.to.slice(0, 10)}</p>
      <${Downloads} from=${from.value} to=${to.value} />
      <${Overview} overall=${r.overall} followers=${r.followers.total} />
      <div class="charts">
        <${FollowersChart} followers=${r.followers.accounts} />
        <${PlatformsChart} platforms=${r.platforms} />
      </div>
      <${PlatformsTable} platforms=${r.platforms} />
      <${PostsTable} title="Top posts" posts=${r.top_posts} />
      <${PostsTable} title="Lowest posts" posts=${r.bottom_posts} />
      <${Heatmap} cells=${r.heatmap} best=${r.best_slots} zone=${r.period.timezone} />`}
  `
}

function Overview({ overall, followers }) {
  return html`
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      <ul class="kpis">
        <li class="card"><span class="kpi-label">Followers</span><strong>${number(followers.current)}</strong><span class="meta">${change(followers.change_pct)}</span></li>
        ${KPIS.map(([key, label]) => html`
          <li class="card"><span class="kpi-label">${label}</span><strong>${number(overall[key].current, key)}</strong><span class="meta">${change(overall[key].change_pct)}</span></li>`)}
      </ul>
    </section>
  `
}

function FollowersChart({ followers }) {
  const days = [...new Set(followers.flatMap((f) => f.daily.map((d) => d.day)))].sort()
  const data = {
    labels: days,
    datasets: followers.map((f, i) => {
      const by = Object.fromEntries(f.daily.map((d) => [d.day, d.value]))
      return { label: f.account_name || f.account_id, data: days.map((d) => by[d] ?? null), borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], spanGaps: true }
    }),
  }
  const summary = followers.map((f) => `${f.account_name || f.account_id}: ${f.start ?? '—'} to ${f.end ?? '—'}`).join('; ')
  return html`
    <figure class="card">
      <figcaption>Followers per account</figcaption>
      ${days.length ? html`<${ChartCanvas} type="line" data=${data} label=${`Followers per account over the period. ${summary}`} />` : html`<p class="meta">No follower counts in this period.</p>`}
    </figure>
  `
}

function PlatformsChart({ platforms }) {
  const data = {
    labels: platforms.map((p) => p.platform),
    datasets: [
      { label: 'Engagements', data: platforms.map((p) => p.engagements.current), backgroundColor: PALETTE[0] },
      { label: 'Posts published', data: platforms.map((p) => p.posts_published.current), backgroundColor: PALETTE[3] },
    ],
  }
  const summary = platforms.map((p) => `${p.platform}: ${p.engagements.current} engagements, ${p.posts_published.current} posts`).join('; ')
  return html`
    <figure class="card">
      <figcaption>Engagements and posts per platform</figcaption>
      ${platforms.length ? html`<${ChartCanvas} type="bar" data=${data} label=${`Engagements and posts per platform. ${summary}`} />` : html`<p class="meta">Nothing published in this period.</p>`}
    </figure>
  `
}

function PlatformsTable({ platforms }) {
  if (!platforms.length) return null
  return html`
    <h2>Platforms</h2>
    <div class="table-wrap">
      <table class="list">
        <caption class="sr">Figures per platform, with the change against the previous period</caption>
        <thead><tr><th scope="col">Platform</th>${KPIS.map(([, label]) => html`<th scope="col">${label}</th>`)}</tr></thead>
        <tbody>${platforms.map((p) => html`
          <tr><th scope="row">${p.platform}</th>${KPIS.map(([key, label]) => html`
            <td><span class="cell-label">${label}: </span>${number(p[key].current, key)} <span class="meta">${change(p[key].change_pct)}</span></td>`)}</tr>`)}
        </tbody>
      </table>
    </div>
  `
}

function PostsTable({ title, posts }) {
  if (!posts.length) return null
  return html`
    <h2>${title}</h2>
    <div class="table-wrap">
      <table class="list">
        <caption class="sr">${title}, by engagement rate</caption>
        <thead><tr><th scope="col">Post</th><th scope="col">Account</th><th scope="col">Published</th><th scope="col">Engagements</th><th scope="col">Rate</th></tr></thead>
        <tbody>${posts.map((p) => html`
          <tr>
            <td>${p.url ? html`<a href=${p.url} rel="noopener noreferrer" target="_blank">${p.text_excerpt || '(no text)'}</a>` : p.text_excerpt || '(no text)'}</td>
            <td>${p.account_name} (${p.platform})</td>
            <td>${p.published_at.slice(0, 16).replace('T', ' ')}</td>
            <td>${number(p.engagements)}</td>
            <td>${number(p.engagement_rate, 'engagement_rate')}</td>
          </tr>`)}
        </tbody>
      </table>
    </div>
  `
}

export function Heatmap({ cells, best, zone }) {
  const at = Object.fromEntries(cells.map((c) => [`${c.weekday}-${c.hour}`, c]))
  const top = Math.max(0, ...cells.map((c) => c.avg_engagement_rate || 0))
  const hours = [...Array(24).keys()]
  const shade = (c) => (c?.avg_engagement_rate ? `hsl(210 75% ${92 - 55 * (c.avg_engagement_rate / top)}%)` : undefined)
  return html`
    <section aria-labelledby="heatmap-title">
      <h2 id="heatmap-title">Best times to post</h2>
      <p class="meta">Average engagement rate by weekday and hour (${zone}), over the workspace's history.${best.length ? ` Best: ${best.map((b) => `${WEEKDAYS[b.weekday]} ${String(b.hour).padStart(2, '0')}:00`).join(', ')}.` : ''}</p>
      <table class="heatmap">
        <caption class="sr">Average engagement rate by weekday (rows) and hour (columns)</caption>
        <thead><tr><td></td>${hours.map((h) => html`<th scope="col" abbr=${`${h}:00`}>${h % 3 === 0 ? h : html`<span class="sr">${h}</span>`}</th>`)}</tr></thead>
        <tbody>${WEEKDAYS.map((day, w) => html`
          <tr><th scope="row">${day}</th>${hours.map((h) => {
            const c = at[`${w}-${h}`]
            return html`<td style=${shade(c) ? `background: ${shade(c)}` : undefined}><span class="sr">${c?.avg_engagement_rate ? `${(c.avg_engagement_rate * 100).toFixed(2)} % over ${c.posts} posts` : 'no posts'}</span></td>`
          })}</tr>`)}
        </tbody>
      </table>
    </section>
  `
}

const STAGES = { queued: 1, running: 2, done: 3, failed: 3 }

// One download: a file answered at once (CSV, a short range) or a job (PDF, a long range) followed to
// its link, its state shown as it moves.
function Download({ fmt, from, to }) {
  const job = useSignal(null)
  const file = useSignal(null)
  const problem = useSignal('')
  async function start() {
    problem.value = ''
    file.value = null
    job.value = null
    try {
      const params = new URLSearchParams({ format: fmt, from, to })
      const answer = await api('GET', `/reports?${params}`, undefined, { raw: true })
      if (answer.status === 202) {
        let state = await answer.json()
        job.value = state
        while (state.state !== 'done' && state.state !== 'failed') {
          await new Promise((resolve) => setTimeout(resolve, 1000))
          state = await api('GET', `/reports/jobs/${state.job_id}`)
          job.value = state
        }
        if (state.state === 'failed') problem.value = `The ${fmt.toUpperCase()} failed: ${state.error || 'unknown error'}`
        else file.value = { url: state.url, name: state.filename }
      } else {
        const name = /filename="([^"]+)"/.exec(answer.headers.get('Content-Disposition') || '')?.[1] || `report.${fmt}`
        file.value = { url: URL.createObjectURL(await answer.blob()), name }
      }
    } catch (p) {
      problem.value = p.message
    }
  }
  const busy = job.value && !['done', 'failed'].includes(job.value.state)
  return html`
    <div class="download">
      <button type="button" onClick=${start} disabled=${busy}>${fmt.toUpperCase()}</button>
      ${job.value && html`
        <progress max="3" value=${STAGES[job.value.state] || 0} aria-label=${`${fmt.toUpperCase()} report: ${job.value.state}`}></progress>
        <span role="status">${fmt.toUpperCase()} ${job.value.state}</span>`}
      ${file.value && html`<a href=${file.value.url} download=${file.value.name}>Download ${file.value.name}</a>`}
      ${problem.value && html`<span role="alert" class="error">${problem.value}</span>`}
    </div>
  `
}

function Downloads({ from, to }) {
  return html`
    <section class="downloads" aria-label="Download the report">
      <span>Download:</span>
      <${Download} fmt="csv" from=${from} to=${to} />
      <${Download} fmt="pdf" from=${from} to=${to} />
    </section>
  `
}
