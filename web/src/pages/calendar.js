import { useSignal, useComputed } from '@preact/signals'
import { useEffect, useRef } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { html } from '../html.js'
import { api, session, workspace, workspaceId } from '../session.js'
import { accountsOf, accountLabel, workspaceZone } from '../workspace.js'
import { addDays, weekday, todayIn, longDay, monthTitle, WEEKDAYS } from '../dates.js'
import RULES from '../rules.json' with { type: 'json' } // the platforms' display names, without counts.js's twitter-text
import './calendar.css'

const STATE_LABEL = {
  draft: 'Draft', pending_approval: 'Pending approval', rejected: 'Rejected', scheduled: 'Scheduled', paused: 'Paused',
  queued: 'Publishing', publishing: 'Publishing', verifying: 'Publishing', processing: 'Processing',
  published: 'Published', partially_published: 'Partly published', failed: 'Failed', cancelled: 'Cancelled',
  awaiting_manual: 'Post it by hand', overdue: 'Overdue: post it by hand',
  sent_to_inbox: 'Sent to the inbox: finish it in the app',
}
// reminder publishing, and a draft finished in the platform's app: marked posted with the post's URL
const BY_HAND = new Set(['awaiting_manual', 'overdue', 'sent_to_inbox'])
const MOVABLE = new Set(['draft', 'pending_approval', 'rejected', 'scheduled', 'paused'])
const MONTH_SHOWN = 3 // entries a day shows in the month view before "+N more"

// The days a view shows: a month as whole weeks (Monday first), or one week.
function daysOf(view, anchor) {
  if (view === 'week') {
    const start = addDays(anchor, -weekday(anchor))
    return Array.from({ length: 7 }, (_, i) => addDays(start, i))
  }
  const first = anchor.slice(0, 8) + '01'
  const start = addDays(first, -weekday(first))
  const next = addDays(first, 32).slice(0, 8) + '01'
  const days = []
  for (let d = start; d < next || weekday(d) !== 0; d = addDays(d, 1)) days.push(d)
  return days
}

// Move a post to `day` at `time` (HH:MM) in the workspace's zone: PUT /posts/{id} with the version read.
export async function reschedule(postId, day, time, timeZone) {
  const post = await api('GET', `/posts/${postId}`)
  const { text, media, link, thread, first_comment, title, options } = post.content
  return api('PUT', `/posts/${postId}`, {
    accounts: post.accounts, text, media, link, thread, first_comment, title, options, variants: post.variants,
    campaign_id: post.campaign_id, utm: post.utm, tags: post.tags,
    mode: 'schedule', scheduled_at: `${day}T${time}:00`, timezone: timeZone, version: post.version,
  })
}

// The calendar's query: the range, and the API's own filters (tag, campaign) when chosen.
function calendarPath(from, to, tag, campaign) {
  const params = new URLSearchParams({ from, to })
  if (tag) params.set('tag', tag)
  if (campaign) params.set('campaign', campaign)
  return `/calendar?${params}`
}

// The range the API is asked for: the shown days in any zone (UTC+14 starts a day first, UTC-12 ends it
// last), no day more.
function rangeOf(list) {
  return [list[0] + 'T00:00:00+14:00', addDays(list[list.length - 1], 1) + 'T00:00:00-12:00']
}

// The calendar's first answer, asked by main.js while the app still loads (in parallel with GET /me, not
// after it): the month is drawn one round trip sooner. Only for a calendar address opened with a fresh
// token; without ?date= the browser's zone guesses today (a guess the page does not make is not used).
let early = null
export function prefetchCalendar() {
  const { pathname, search } = window.location
  const s = session.value
  if ((pathname !== '/' && pathname !== '/calendar') || !s || !workspaceId.value || Date.now() > s.expires_at - 60_000) return
  const query = Object.fromEntries(new URLSearchParams(search))
  const view = query.view === 'week' ? 'week' : 'month'
  const anchor = /^\d{4}-\d{2}-\d{2}$/.test(query.date || '') ? query.date : todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone)
  const path = calendarPath(...rangeOf(daysOf(view, anchor)), query.tag, query.campaign)
  early = { key: `${workspaceId.value} ${path}`, answer: api('GET', path).catch(() => null) }
}

// GET `path`, or the prefetched answer to the same question in the same workspace (once).
async function ask(path) {
  const found = early?.key === `${workspaceId.value} ${path}` ? early.answer : null
  early = null
  return (found && (await found)) || api('GET', path)
}

// The queue's free slots of the answer by local day: { 'YYYY-MM-DD': ['10:30', ...] }.
function slotsByDay(free) {
  const days = {}
  for (const slot of free || []) (days[slot.day] ||= []).push(slot.local_time)
  return days
}

// ?date=YYYY-MM-DD&view=week|month&tag=…&campaign=…: a link to a given month or week, filtered.
export function Calendar() {
  const { query } = useLocation()
  const zone = workspaceZone()
  const view = useSignal(query.view === 'week' ? 'week' : 'month')
  const anchor = useSignal(/^\d{4}-\d{2}-\d{2}$/.test(query.date || '') ? query.date : null)
  const days = useSignal({})
  const accounts = useSignal([])
  const only = useSignal('')
  const tag = useSignal(query.tag || '')
  const campaign = useSignal(query.campaign || '')
  const campaigns = useSignal(null)
  const tagsSeen = useSignal([]) // every tag of the entries loaded so far: the tag filter's suggestions
  const free = useSignal({})
  const status = useSignal('')
  const error = useSignal('')
  const moving = useSignal(null) // the entry whose "Move to…" form is open
  const shown = useComputed(() => (anchor.value ? daysOf(view.value, anchor.value) : []))

  const asked = useRef(0) // the latest load: an answer to an earlier one (other filters) is dropped
  async function load() {
    if (!anchor.value) return
    const mine = ++asked.current
    const list = shown.value
    const [from, to] = rangeOf(list)
    try {
      const found = await ask(calendarPath(from, to, tag.value, campaign.value))
      if (mine !== asked.current) return
      days.value = found.days
      free.value = slotsByDay(found.free_slots)
      const seen = new Set(tagsSeen.value)
      for (const byAccount of Object.values(found.days)) {
        for (const list of Object.values(byAccount)) for (const e of list) for (const t of e.tags || []) seen.add(t)
      }
      if (seen.size !== tagsSeen.value.length) tagsSeen.value = [...seen].sort()
      error.value = ''
      // the campaign filter's choices: asked once the month is drawn, never before it
      if (campaigns.value === null) {
        campaigns.value = []
        api('GET', '/campaigns').then((c) => (campaigns.value = c.campaigns), () => {})
      }
    } catch (problem) {
      if (mine === asked.current) error.value = problem.message
    }
  }

  useEffect(() => {
    if (zone.value && !anchor.value) anchor.value = todayIn(zone.value)
  }, [zone.value])
  useEffect(() => { load() }, [anchor.value, view.value, tag.value, campaign.value])
  useEffect(() => { accountsOf().then((a) => (accounts.value = a)) }, [])


  async function move(entry, day, time) {
    status.value = `Moving the post to ${longDay(day)} ${time}…`
    try {
      await reschedule(entry.post_id, day, time, zone.value)
      status.value = `Moved to ${longDay(day)} at ${time}.`
      moving.value = null
    } catch (problem) {
      status.value = ''
      error.value = `Could not move the post: ${problem.message}`
    }
    await load()
  }

  // Reminder publishing: someone posted it by hand, at `url`.
  async function markPosted(entry, url) {
    status.value = 'Marking the post posted…'
    try {
      await api('POST', `/posts/${entry.post_id}/targets/${entry.account_id}/posted`, { url })
      status.value = 'Marked posted.'
    } catch (problem) {
      status.value = ''
      error.value = `Could not mark the post posted: ${problem.message}`
    }
    await load()
  }

  const step = (n) => {
    anchor.value = view.value === 'week' ? addDays(anchor.value, 7 * n) : addDays(anchor.value.slice(0, 8) + '15', 30 * n)
  }
  if (!anchor.value || !zone.value) return html`<p role="status">Loading the calendar…</p>`
  const title = view.value === 'week' ? `Week of ${longDay(shown.value[0])}` : monthTitle(anchor.value)
  const month = anchor.value.slice(0, 7)
  const byId = Object.fromEntries(accounts.value.map((a) => [a.id, a]))
  return html`
    <div class="toolbar">
      <h1>${title}</h1>
      <div class="group" role="group" aria-label="View">
        <button type="button" aria-pressed=${view.value === 'month'} onClick=${() => (view.value = 'month')}>Month</button>
        <button type="button" aria-pressed=${view.value === 'week'} onClick=${() => (view.value = 'week')}>Week</button>
      </div>
      <div class="group" role="group" aria-label="Dates">
        <button type="button" onClick=${() => step(-1)} aria-label=${view.value === 'week' ? 'Previous week' : 'Previous month'}>‹</button>
        <button type="button" onClick=${() => (anchor.value = todayIn(zone.value))}>Today</button>
        <button type="button" onClick=${() => step(1)} aria-label=${view.value === 'week' ? 'Next week' : 'Next month'}>›</button>
      </div>
      <label class="inline">
        <span>Account</span>
        <select value=${only.value} onChange=${(e) => (only.value = e.currentTarget.value)}>
          <option value="">All accounts</option>
          ${accounts.value.map((a) => html`<option value=${a.id}>${accountLabel(a)}</option>`)}
        </select>
      </label>
      <label class="inline">
        <span>Tag</span>
        <input type="search" list="calendar-tags" value=${tag.value} placeholder="Any tag" size="12"
          onChange=${(e) => (tag.value = e.currentTarget.value.trim().toLowerCase())} />
        <datalist id="calendar-tags">${tagsSeen.value.map((t) => html`<option value=${t} />`)}</datalist>
      </label>
      <label class="inline">
        <span>Campaign</span>
        <select value=${campaign.value} onChange=${(e) => (campaign.value = e.currentTarget.value)}>
          <option value="">All campaigns</option>
          ${(campaigns.value || []).map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select>
      </label>
      <span class="zone">Times in ${zone.value}</span>
    </div>
    <p role="status" class="status">${status.value}</p>
    ${error.value && html`<p role="alert" class="error">${error.value}</p>`}
    <div class=${`calendar ${view.value}`}>
      ${WEEKDAYS.map((d) => html`<div class="weekday" aria-hidden="true">${d}</div>`)}
      ${shown.value.map((day) => html`
        <${Day} day=${day} view=${view.value} outside=${view.value === 'month' && !day.startsWith(month)} today=${day === todayIn(zone.value)}
          entries=${Object.entries(days.value[day] || {}).filter(([id]) => !only.value || id === only.value)
            .flatMap(([, list]) => list).sort((a, b) => a.local_time.localeCompare(b.local_time))}
          free=${free.value[day] || []} accounts=${byId} moving=${moving} onMove=${move} onPosted=${markPosted} />`)}
    </div>
  `
}

function Day({ day, view, outside, today, entries, free, accounts, moving, onMove, onPosted }) {
  const over = useSignal(false)
  const all = useSignal(false)
  const hidden = view === 'month' && !all.value ? Math.max(0, entries.length - MONTH_SHOWN) : 0
  const shown = hidden ? entries.slice(0, MONTH_SHOWN) : entries
  return html`
    <section class=${`day${outside ? ' outside' : ''}${today ? ' today' : ''}${over.value ? ' over' : ''}`} aria-label=${longDay(day)}
      data-day=${day}
      onDragOver=${(e) => { e.preventDefault(); over.value = true }}
      onDragLeave=${() => (over.value = false)}
      onDrop=${(e) => {
        e.preventDefault()
        over.value = false
        const entry = JSON.parse(e.dataTransfer.getData('application/x-chorus-entry') || 'null')
        if (entry && entry.day !== day) onMove(entry, day, entry.local_time)
      }}>
      <h2 class="date"><span class="weekday-inline">${WEEKDAYS[weekday(day)]} </span>${Number(day.slice(8))}</h2>
      ${shown.length > 0 && html`<ul>${shown.map((entry) => html`
        <li><${Entry} entry=${entry} day=${day} account=${accounts[entry.account_id]} moving=${moving} onMove=${onMove} onPosted=${onPosted} /></li>`)}</ul>`}
      ${hidden > 0 && html`<button type="button" class="link more" onClick=${() => (all.value = true)}>+${hidden} more<span class="sr"> on ${longDay(day)}</span></button>`}
      ${free.length > 0 && html`<ul class="free-slots" aria-label=${`Free queue slots on ${longDay(day)}`}>${free.map((time) => html`
        <li><a class="free-slot" href=${`/compose?at=${day}T${time}`}>${time} free slot<span class="sr"> in the queue on ${longDay(day)}: plan a post for that time</span></a></li>`)}</ul>`}
    </section>
  `
}

function Entry({ entry, day, account, moving, onMove, onPosted }) {
  const movable = MOVABLE.has(entry.state)
  const key = `${entry.post_id}:${entry.account_id}`
  const open = moving.value === key
  const dateRef = useRef(null)
  useEffect(() => { if (open) dateRef.current?.focus() }, [open])
  // the account and its platform's display name (rules.json, from the server's table), read aloud as written
  const who = account ? `@${account.handle || account.platform_account_id} on ${RULES[account.platform]?.name || account.platform}` : entry.account_id
  return html`
    <article class=${`entry ${entry.state}`} draggable=${movable}
      aria-label=${`${STATE_LABEL[entry.state] || entry.state}, ${entry.local_time}, ${who}`}
      onDragStart=${(e) => {
        e.dataTransfer.setData('application/x-chorus-entry', JSON.stringify({ ...entry, day }))
        e.dataTransfer.effectAllowed = 'move'
      }}>
      <p class="meta"><time>${entry.local_time}</time> <span class="badge">${STATE_LABEL[entry.state] || entry.state}</span></p>
      <p class="account">${who}</p>
      <p class="text">${entry.text}</p>
      ${entry.tags?.length > 0 && html`<p class="tags">${entry.tags.map((t) => html`<span class="tag">#${t}</span> `)}</p>`}
      ${entry.state === 'published' && entry.url && html`<p><a href=${entry.url} target="_blank" rel="noopener">View the post<span class="sr"> on ${who}</span></a></p>`}
      ${entry.state === 'failed' && html`<p class="reason">Failed: ${entry.error || entry.error_code || 'no reason given'}</p>`}
      ${BY_HAND.has(entry.state) && html`
        <form class="posted" onSubmit=${(e) => {
          e.preventDefault()
          onPosted(entry, String(new FormData(e.currentTarget).get('url')))
        }}>
          <label>The post's URL <input type="url" name="url" required placeholder="https://" /></label>
          <button type="submit">Mark posted<span class="sr"> on ${who}</span></button>
        </form>`}
      ${movable && !open && html`<button type="button" class="link" onClick=${() => (moving.value = key)}>Move to…</button>`}
      ${open && html`
        <form class="move" onSubmit=${(e) => {
          e.preventDefault()
          const form = new FormData(e.currentTarget)
          onMove(entry, String(form.get('day')), String(form.get('time')))
        }}>
          <label>Date <input ref=${dateRef} type="date" name="day" value=${day} required /></label>
          <label>Time <input type="time" name="time" value=${entry.local_time} required /></label>
          <button type="submit">Move</button>
          <button type="button" class="link" onClick=${() => (moving.value = null)}>Cancel</button>
        </form>`}
    </article>
  `
}
