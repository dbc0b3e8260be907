import { useSignal, useComputed } from '@preact/signals'
import { useEffect, useRef } from 'preact/hooks'
import { html } from '../html.js'
import { api, me, workspaceId, canApprove, workspace } from '../session.js'
import { accountsOf, accountLabel, workspaceZone } from '../workspace.js'
import { localInput } from '../dates.js'
import { liveConnection } from '../live.js'
import { isUnread, matches, newestFirst, isPast, updatesIn } from '../conversations.js'
import './inbox.css'

// The unified inbox: conversations filtered as GET /inbox filters them, the open thread, and everything
// done to it; new messages arrive over the workspace's WebSocket and are merged without a reload.
const LIST_LIMIT = 50
const LIST_MAX = 500 // rows kept in the page as live updates add conversations (the oldest beyond drop off)
const HEARTBEAT_MS = 20_000 // presence: the API forgets a viewer after 45 s without one
const TYPING_EVERY_MS = 5_000
const SETTLE_MS = 2_500 // a new connection may miss pushes this long (the pusher's connection list cache)
const SENTIMENTS = ['positive', 'neutral', 'negative']
const SLA_STATES = { breached: 'SLA breached', nearing: 'SLA nearing', ok: 'SLA on track' }
const SLA_TARGETS = { first_response: 'First response', resolution: 'Resolution' }
const FILTERS = ['status', 'platform', 'account', 'sentiment', 'assignee', 'tag', 'sla']

// On a phone the filters start folded, so the conversations come first.
const NARROW = typeof window !== 'undefined' && window.matchMedia?.('(max-width: 700px)').matches
const NO_FILTERS = { status: 'open', platform: '', account: '', sentiment: '', assignee: '', tag: '', sla: '' }

// Unread: a conversation whose person wrote after this browser last showed it to this person. Kept per
// browser (localStorage), keyed by workspace and person: conversation id -> the last inbound time seen.
function seenKey() {
  return `chorus.inbox.seen.${workspaceId.value}.${me.value?.user_id}`
}
function readSeen() {
  try {
    return JSON.parse(localStorage.getItem(seenKey()) || '{}')
  } catch {
    return {}
  }
}

function when(iso, zone) {
  if (!iso) return ''
  return zone ? localInput(iso, zone).replace('T', ' ') : iso.slice(0, 16).replace('T', ' ')
}

// The SLA badges worth a look: targets nearing or breached.
function slaFlags(conv) {
  return Object.entries(conv.sla || {}).filter(([, t]) => t.state === 'nearing' || t.state === 'breached')
}

export function Inbox() {
  const zone = workspaceZone()
  const filters = useSignal({ ...NO_FILTERS })
  const tagDraft = useSignal('') // the tag filter as typed, applied on Enter or leaving the field
  const convs = useSignal(null)
  const more = useSignal(null) // next_cursor
  const openId = useSignal(null)
  const thread = useSignal(null)
  const seen = useSignal(readSeen())
  const accounts = useSignal([])
  const members = useSignal([])
  const saved = useSignal([])
  const live = useSignal({ state: 'connecting', retry: 0 })
  const error = useSignal('')
  const status = useSignal('')
  const filtersRef = useRef(filters.value)
  filtersRef.current = filters.value
  const openRef = useRef(null)
  openRef.current = openId.value

  const unread = useComputed(() => (convs.value || []).filter((c) => isUnread(c, seen.value)).length)

  function markSeen(conv) {
    if (!conv?.last_inbound_at || !isUnread(conv, seen.value)) return
    const next = { ...seen.value, [conv.id]: conv.last_inbound_at }
    seen.value = next
    localStorage.setItem(seenKey(), JSON.stringify(next))
  }

  function query(cursor) {
    const q = new URLSearchParams({ limit: String(LIST_LIMIT) })
    for (const name of FILTERS) if (filtersRef.current[name]) q.set(name, filtersRef.current[name])
    if (cursor) q.set('cursor', cursor)
    return `/inbox?${q}`
  }

  async function loadList() {
    try {
      const found = await api('GET', query())
      convs.value = found.conversations
      more.value = found.next_cursor
      error.value = ''
    } catch (p) {
      error.value = p.message
    }
  }

  async function loadMore() {
    const found = await api('GET', query(more.value))
    const known = new Set(convs.value.map((c) => c.id))
    convs.value = [...convs.value, ...found.conversations.filter((c) => !known.has(c.id))]
    more.value = found.next_cursor
  }

  async function loadThread(id) {
    try {
      const found = await api('GET', `/inbox/${id}`)
      if (openRef.current !== id) return
      thread.value = found
      upsert(found.conversation)
      markSeen(found.conversation)
    } catch (p) {
      error.value = p.message
    }
  }

  // A conversation as it is now: into the list (newest first) when the filters take it, out when not.
  function upsert(conv) {
    if (!convs.value) return
    const rest = convs.value.filter((c) => c.id !== conv.id)
    convs.value = matches(conv, filtersRef.current) ? [conv, ...rest].sort(newestFirst).slice(0, LIST_MAX) : rest
    if (thread.value && thread.value.conversation.id === conv.id) thread.value = { ...thread.value, conversation: conv }
  }

  function onFrame(frame) {
    if (frame.type === 'conversation.presence') {
      if (thread.value && frame.data?.conversation_id === thread.value.conversation.id)
        thread.value = { ...thread.value, viewers: frame.data.viewers }
      return
    }
    for (const update of updatesIn(frame)) {
      const conv = update.conversation
      if (!conv) continue
      upsert(conv)
      if (conv.id !== openRef.current) continue
      if (update.messages?.length && thread.value) {
        const known = new Set(thread.value.messages.map((m) => m.id))
        const added = update.messages.filter((m) => !known.has(m.id))
        thread.value = { ...thread.value, messages: [...thread.value.messages, ...added] }
        markSeen(conv)
      } else {
        loadThread(conv.id) // a change without its messages (a reply sent, a status): read the thread again
      }
    }
  }

  useEffect(() => {
    accountsOf().then((a) => (accounts.value = a)).catch(() => {})
    api('GET', '/members?limit=100').then((m) => (members.value = m.members)).catch(() => {})
    api('GET', '/saved_replies?limit=100').then((s) => (saved.value = s.saved_replies)).catch(() => {})
    let settle = null
    const connection = liveConnection({
      onFrame,
      onState: (state, retry) => (live.value = { state, retry }),
      onOpen: () => {
        // (Re)connected: read again what may have changed meanwhile, and once more when the pusher's
        // list of connections surely has this one.
        const reread = () => {
          loadList()
          if (openRef.current) loadThread(openRef.current)
        }
        reread()
        clearTimeout(settle)
        settle = setTimeout(reread, SETTLE_MS)
      },
    })
    return () => {
      clearTimeout(settle)
      connection.stop()
    }
  }, [])
  useEffect(() => { loadList() }, [filters.value])

  function choose(id) {
    openId.value = id
    thread.value = null
    if (id) loadThread(id)
  }

  async function act(label, call) {
    error.value = ''
    try {
      const changed = await call()
      if (changed && 'status' in changed && 'account_id' in changed) upsert(changed) // a conversation's new state
      status.value = label
      return true
    } catch (p) {
      error.value = p.message
      return false
    }
  }

  const setFilter = (name, value) => (filters.value = { ...filters.value, [name]: value })
  const active = FILTERS.filter((name) => filters.value[name]).length
  const platforms = [...new Set(accounts.value.map((a) => a.platform))].sort()
  const byAccount = Object.fromEntries(accounts.value.map((a) => [a.id, a]))
  const people = Object.fromEntries(members.value.map((m) => [`user:${m.user_id}`, m.email || m.user_id]))
  const open = thread.value && thread.value.conversation.id === openId.value ? thread.value : null

  return html`
    <div class=${`inbox${openId.value ? ' reading' : ''}`}>
      <div class="toolbar">
        <h1>Inbox <span class="count">${unread.value ? `${unread.value} unread` : 'all read'}</span></h1>
        <p class=${`live ${live.value.state}`} role="status">${
          live.value.state === 'live' ? 'Live' : live.value.state === 'offline'
            ? `Connection lost: retrying in ${Math.ceil(live.value.retry / 1000)} s` : 'Connecting…'}</p>
      </div>
      <details class="filter-box" open=${!NARROW}>
      <summary>Filters${active ? ` (${active} on)` : ''}</summary>
      <form class="filters" aria-label="Filters" onSubmit=${(e) => { e.preventDefault(); setFilter('tag', e.currentTarget.elements.tag.value.trim()) }}>
        <${Choice} label="Status" value=${filters.value.status} onChange=${(v) => setFilter('status', v)}
          options=${[['', 'Any status'], ['open', 'Open'], ['pending', 'Pending'], ['closed', 'Closed']]} />
        <${Choice} label="Platform" value=${filters.value.platform} onChange=${(v) => setFilter('platform', v)}
          options=${[['', 'All platforms'], ...platforms.map((p) => [p, p])]} />
        <${Choice} label="Account" value=${filters.value.account} onChange=${(v) => setFilter('account', v)}
          options=${[['', 'All accounts'], ...accounts.value.map((a) => [a.id, accountLabel(a)])]} />
        <${Choice} label="Sentiment" value=${filters.value.sentiment} onChange=${(v) => setFilter('sentiment', v)}
          options=${[['', 'Any sentiment'], ...SENTIMENTS.map((s) => [s, s])]} />
        <${Choice} label="Assignee" value=${filters.value.assignee} onChange=${(v) => setFilter('assignee', v)}
          options=${[['', 'Anyone'], ['none', 'Unassigned'], ...Object.entries(people)]} />
        <${Choice} label="SLA" value=${filters.value.sla} onChange=${(v) => setFilter('sla', v)}
          options=${[['', 'Any SLA state'], ...Object.entries(SLA_STATES)]} />
        <label class="inline"><span>Tag</span>
          <input type="search" name="tag" value=${tagDraft.value} size="10" onInput=${(e) => (tagDraft.value = e.currentTarget.value)}
            onChange=${(e) => setFilter('tag', e.currentTarget.value.trim())} /></label>
      </form>
      </details>
      <p role="status" class="status">${status.value}</p>
      ${error.value && html`<p role="alert" class="error">${error.value}</p>`}
      <div class="panes">
        <section class="conversations" aria-label="Conversations">
          ${convs.value === null ? html`<p>Loading…</p>` : convs.value.length === 0 ? html`<p>No conversation matches.</p>` : html`
            <ul>${convs.value.map((c) => html`
              <li key=${c.id}><${Row} conv=${c} unread=${isUnread(c, seen.value)} selected=${c.id === openId.value}
                account=${byAccount[c.account_id]} people=${people} zone=${zone.value} onOpen=${() => choose(c.id)} /></li>`)}
            </ul>
            ${more.value && html`<button type="button" class="link" onClick=${loadMore}>More conversations</button>`}`}
        </section>
        ${openId.value && html`
          <${Thread} key=${openId.value} id=${openId.value} data=${open} account=${open && byAccount[open.conversation.account_id]}
            people=${people} saved=${saved.value} zone=${zone.value} act=${act} reload=${() => loadThread(openId.value)}
            onClose=${() => choose(null)} />`}
      </div>
    </div>
  `
}

function Choice({ label, value, onChange, options }) {
  return html`
    <label class="inline"><span>${label}</span>
      <select value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
        ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
      </select>
    </label>`
}

function SlaBadges({ conv, zone }) {
  return slaFlags(conv).map(([target, t]) => html`
    <span class=${`badge sla ${t.state}`}>${SLA_TARGETS[target] || target} ${t.state === 'breached' ? 'overdue since' : 'due'} ${when(t.due_at, zone)}</span>`)
}

function Row({ conv, unread, selected, account, people, zone, onOpen }) {
  const who = account ? accountLabel(account) : conv.platform
  return html`
    <button type="button" class=${`row${unread ? ' unread' : ''}${selected ? ' selected' : ''}`} aria-current=${selected ? 'true' : undefined}
      data-conversation=${conv.id} onClick=${onOpen}>
      <span class="line"><strong class="author">${conv.last_author || 'Someone'}</strong>
        ${unread && html`<span class="badge new">Unread</span>`}
        <time>${when(conv.last_message_at, zone)}</time></span>
      <span class="preview">${conv.preview}</span>
      <span class="line meta">${who} · ${conv.kind}${conv.status !== 'open' ? ` · ${conv.status}` : ''}
        ${conv.sentiment && html` · <span class=${`sentiment ${conv.sentiment}`}>${conv.sentiment}</span>`}
        ${conv.assignee && ` · ${people[conv.assignee] || conv.assignee}`}
        ${(conv.tags || []).map((t) => html` <span class="tag">#${t}</span>`)}</span>
      <${SlaBadges} conv=${conv} zone=${zone} />
    </button>`
}

// The original post the conversation is about: the Chorus post's link on the account, when Chorus
// published it; otherwise the platform's reference.
function OriginalPost({ conv }) {
  const post = useSignal(null)
  useEffect(() => {
    if (conv.post_id) api('GET', `/posts/${conv.post_id}`).then((p) => (post.value = p)).catch(() => {})
  }, [conv.post_id])
  if (!conv.post_id && !conv.post_ref) return null
  const target = post.value?.targets?.find((t) => t.account_id === conv.account_id)
  return html`
    <p class="original">On the post${post.value ? html` “${post.value.content.text.slice(0, 80)}”` : conv.post_ref ? ` ${conv.post_ref}` : ''}${target?.url
      ? html` — <a href=${target.url} target="_blank" rel="noopener">View the original post<span class="sr"> on the platform</span></a>` : ''}</p>`
}

function Thread({ id, data, account, people, saved, zone, act, reload, onClose }) {
  const heading = useRef(null)
  const typedAt = useRef(0)
  useEffect(() => { heading.current?.focus() }, [Boolean(data)])
  // Presence: viewing now and every 20 s while open (typing when typed lately), left on leaving.
  useEffect(() => {
    const say = (state) => api('POST', `/inbox/${id}/presence`, { state }).catch(() => {})
    say('viewing')
    const beat = setInterval(() => say(Date.now() - typedAt.current < HEARTBEAT_MS ? 'typing' : 'viewing'), HEARTBEAT_MS)
    const leave = () => say('left')
    window.addEventListener('pagehide', leave)
    return () => {
      clearInterval(beat)
      window.removeEventListener('pagehide', leave)
      leave()
    }
  }, [id])
  function typing() {
    const now = Date.now()
    if (now - typedAt.current > TYPING_EVERY_MS) api('POST', `/inbox/${id}/presence`, { state: 'typing' }).catch(() => {})
    typedAt.current = now
  }
  if (!data) return html`<section class="thread" aria-label="Conversation"><p role="status">Loading the conversation…</p></section>`
  const conv = data.conversation
  const mine = me.value ? [`user:${me.value.user_id}`] : []
  const others = (data.viewers || []).filter((v) => !mine.includes(v.user))
  const who = account ? accountLabel(account) : conv.platform
  const may = workspace.value?.role !== 'viewer'
  const sending = (data.replies || []).filter((r) => r.state !== 'sent')
  return html`
    <section class="thread" aria-labelledby="thread-title">
      <button type="button" class="link back" onClick=${onClose}>← Back to the conversations</button>
      <h2 id="thread-title" tabindex="-1" ref=${heading}>${conv.last_author || 'Conversation'} on ${who}</h2>
      <p class="meta">${conv.kind} · ${conv.channel} · ${conv.status}${conv.assignee ? ` · assigned to ${people[conv.assignee] || conv.assignee}` : ''}</p>
      <${SlaBadges} conv=${conv} zone=${zone} />
      <${OriginalPost} conv=${conv} />
      ${others.length > 0 && html`
        <p class="presence" role="status">${others.map((v) => `${people[v.user] || v.user} is ${v.state === 'typing' ? 'typing a reply' : 'viewing'}`).join('; ')}</p>`}
      <ol class="messages" aria-label="Messages">
        ${data.messages.map((m) => html`<li key=${m.id}><${Message} m=${m} conv=${conv} zone=${zone} act=${act} reload=${reload} /></li>`)}
      </ol>
      ${sending.length > 0 && html`<ul class="sending">${sending.map((r) => html`
        <li>${r.state === 'failed' ? `Reply failed: ${r.error || r.error_code || 'no reason given'}` : 'Sending your reply…'} “${r.text}”</li>`)}</ul>`}
      ${may && html`<${Reply} conv=${conv} saved=${saved} zone=${zone} act=${act} reload=${reload} onTyping=${typing} people=${people} />`}
      ${may && html`<${Work} conv=${conv} people=${people} act=${act} />`}
      <${Notes} id=${id} notes=${data.notes || []} people=${people} zone=${zone} may=${may} act=${act} reload=${reload} />
    </section>`
}

function Message({ m, conv, zone, act, reload }) {
  const author = m.author?.name || m.author?.handle || (m.direction === 'out' ? 'Your team' : 'Someone')
  return html`
    <article class=${`message ${m.direction}`} aria-label=${`${author}, ${when(m.created_at, zone)}`}>
      <p class="meta"><strong>${author}</strong> <time>${when(m.created_at, zone)}</time>${m.edited ? ' · edited' : ''}</p>
      <p class="text">${m.deleted ? html`<em>Deleted by its author</em>` : m.text}</p>
      ${m.direction === 'in' && html`
        <p class="meta">Sentiment: <span class=${`sentiment ${m.sentiment || ''}`}>${m.sentiment || 'unknown'}</span>${m.sentiment_override ? ' (set by hand)' : ''}
          ${canApprove.value && html`
            <label class="inline"><span class="sr">Change the sentiment of ${author}'s message</span>
              <select value="" onChange=${(e) => {
                const value = e.currentTarget.value
                if (value) act(`Sentiment set to ${value}.`, () => api('PUT', `/inbox/${conv.id}/messages/${m.id}/sentiment`, { sentiment: value })).then(reload)
              }}>
                <option value="">Change…</option>
                ${SENTIMENTS.map((s) => html`<option value=${s}>${s}</option>`)}
              </select></label>`}</p>`}
    </article>`
}

function Reply({ conv, saved, zone, act, reload, onTyping, people }) {
  const text = useSignal('')
  const savedId = useSignal('')
  const draftedAt = useRef(null)
  const crossed = useSignal(null)
  const problem = useSignal('')
  if (!conv.reply_via)
    return html`<p class="notice" role="note">Chorus cannot reply on ${conv.channel} here: answer on ${conv.platform} itself.</p>`
  const closesAt = conv.reply_window_ends_at
  const closed = isPast(closesAt)
  const chosen = saved.find((s) => s.id === savedId.value)

  async function send(confirm) {
    problem.value = ''
    const body = { drafted_at: draftedAt.current || new Date().toISOString(), confirm: Boolean(confirm) }
    if (chosen) body.saved_reply_id = chosen.id
    else body.text = text.value
    try {
      await api('POST', `/inbox/${conv.id}/reply`, body)
      text.value = ''
      savedId.value = ''
      draftedAt.current = null
      crossed.value = null
      act('Reply queued: it is being sent.', async () => null)
      reload()
    } catch (p) {
      if (p.status === 409 && p.body.crossed) crossed.value = p.body.crossed
      else problem.value = p.message
    }
  }
  return html`
    <form class="reply" onSubmit=${(e) => { e.preventDefault(); send(false) }}>
      <h3>Reply</h3>
      ${closesAt && html`<p class=${closed ? 'notice' : 'meta'}>${closed
        ? `The reply window closed at ${when(closesAt, zone)}: ${conv.platform} takes no reply here any more.`
        : `You can reply until ${when(closesAt, zone)}.`}</p>`}
      ${saved.length > 0 && html`
        <label for=${`saved-${conv.id}`}>Saved reply</label>
        <select id=${`saved-${conv.id}`} value=${savedId.value} onChange=${(e) => { savedId.value = e.currentTarget.value; draftedAt.current ||= new Date().toISOString() }}>
          <option value="">None: write a reply</option>
          ${saved.map((s) => html`<option value=${s.id}>${s.title}</option>`)}
        </select>`}
      ${chosen ? html`
        <p class="text saved-preview">${chosen.text}</p>
        <p class="meta">Chorus fills in the variables ({first_name}…) from the conversation when it sends it.</p>` : html`
        <label for=${`reply-${conv.id}`}>Your reply</label>
        <textarea id=${`reply-${conv.id}`} rows="3" value=${text.value} aria-describedby=${problem.value ? `reply-error-${conv.id}` : undefined}
          onInput=${(e) => { text.value = e.currentTarget.value; draftedAt.current ||= new Date().toISOString(); onTyping() }}></textarea>`}
      ${problem.value && html`<p id=${`reply-error-${conv.id}`} role="alert" class="error">${problem.value}</p>`}
      ${crossed.value && html`
        <div class="crossed" role="alert">
          <p><strong>Someone answered while you were writing:</strong></p>
          <ul>${crossed.value.map((c) => html`<li>${c.by === 'platform' ? 'On the platform' : people[c.by] || c.by}, ${when(c.at, zone)}: “${c.text}”</li>`)}</ul>
          <div class="actions">
            <button type="button" onClick=${() => send(true)}>Send anyway</button>
            <button type="button" class="link" onClick=${() => { crossed.value = null; draftedAt.current = new Date().toISOString() }}>Keep editing</button>
          </div>
        </div>`}
      <div class="actions">
        <button type="submit" disabled=${Boolean(closed) || (!chosen && !text.value.trim())}>Send reply</button>
      </div>
    </form>`
}

function Work({ conv, people, act }) {
  const tag = useSignal('')
  const path = `/inbox/${conv.id}`
  return html`
    <div class="work">
      <label class="inline"><span>Assigned to</span>
        <select value=${conv.assignee || ''} onChange=${(e) => {
          const assignee = e.currentTarget.value || null
          act(assignee ? `Assigned to ${people[assignee] || assignee}.` : 'Unassigned.', () => api('POST', `${path}/assign`, { assignee }))
        }}>
          <option value="">Nobody</option>
          ${Object.entries(people).map(([actor, name]) => html`<option value=${actor}>${name}</option>`)}
        </select></label>
      ${conv.status === 'closed'
        ? html`<button type="button" onClick=${() => act('Reopened.', () => api('POST', `${path}/status`, { status: 'open' }))}>Reopen</button>`
        : html`<button type="button" onClick=${() => act('Closed.', () => api('POST', `${path}/status`, { status: 'closed' }))}>Close</button>`}
      <div class="tags" role="group" aria-label="Tags">
        ${(conv.tags || []).map((t) => html`
          <span class="tag">#${t} <button type="button" class="link" aria-label=${`Remove tag ${t}`}
            onClick=${() => act(`Tag ${t} removed.`, () => api('POST', `${path}/tags`, { remove: [t] }))}>×</button></span>`)}
        <form class="inline" onSubmit=${(e) => {
          e.preventDefault()
          const value = tag.value.trim()
          if (value) act(`Tagged ${value}.`, () => api('POST', `${path}/tags`, { add: [value] })).then((ok) => ok && (tag.value = ''))
        }}>
          <label class="inline"><span>Add a tag</span>
            <input value=${tag.value} size="10" maxlength="100" onInput=${(e) => (tag.value = e.currentTarget.value)} /></label>
          <button type="submit">Tag</button>
        </form>
      </div>
    </div>`
}

function Notes({ id, notes, people, zone, may, act, reload }) {
  const text = useSignal('')
  return html`
    <section class="notes" aria-labelledby=${`notes-${id}`}>
      <h3 id=${`notes-${id}`}>Internal notes</h3>
      ${notes.length === 0 ? html`<p class="meta">No notes yet: only your team sees them.</p>` : html`
        <ul>${notes.map((n) => html`<li key=${n.id}><span class="meta">${people[n.author] || n.author}, ${when(n.created_at, zone)}:</span> ${n.text}</li>`)}</ul>`}
      ${may && html`
        <form onSubmit=${(e) => {
          e.preventDefault()
          if (text.value.trim()) act('Note added.', () => api('POST', `/inbox/${id}/notes`, { text: text.value })).then((ok) => { if (ok) { text.value = ''; reload() } })
        }}>
          <label for=${`note-${id}`}>New note</label>
          <textarea id=${`note-${id}`} rows="2" value=${text.value} onInput=${(e) => (text.value = e.currentTarget.value)}></textarea>
          <div class="actions"><button type="submit">Add note</button></div>
        </form>`}
    </section>`
}
