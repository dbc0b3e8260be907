import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import { api, canApprove } from '../session.js'
import { accountsOf, accountLabel, workspaceZone } from '../workspace.js'
import { localInput } from '../dates.js'
import './approvals.css'

// Posts waiting for approval; an editor approves the version they read, or rejects with a comment.
// Each post shows what changed since the version last approved (GET /posts/{id}/changes).
export function Approvals() {
  const zone = workspaceZone()
  const posts = useSignal(null)
  const accounts = useSignal({})
  const status = useSignal('')
  const error = useSignal('')
  async function load() {
    const found = await api('GET', '/posts?status=pending_approval&limit=100')
    posts.value = found.posts
  }
  useEffect(() => {
    load().catch((p) => (error.value = p.message))
    accountsOf().then((list) => (accounts.value = Object.fromEntries(list.map((a) => [a.id, a]))))
  }, [])

  async function decide(post, approve, comment) {
    error.value = ''
    try {
      const path = `/posts/${post.id}/${approve ? 'approve' : 'reject'}`
      await api('POST', path, { version: post.version, comment: comment || undefined })
      status.value = approve ? 'Approved: the post is scheduled.' : 'Rejected: the author sees your comment.'
    } catch (p) {
      error.value = p.message
    }
    await load()
  }

  return html`
    <h1>Approvals</h1>
    <p role="status" class="status">${status.value}</p>
    ${error.value && html`<p role="alert" class="error">${error.value}</p>`}
    ${posts.value === null ? html`<p>Loading…</p>` : posts.value.length === 0 ? html`<p>Nothing is waiting for approval.</p>` : html`
      <ul class="approvals">${posts.value.map((post) => html`
        <li key=${`${post.id}@${post.version}`}><${Waiting} post=${post} accounts=${accounts.value} zone=${zone.value} may=${canApprove.value} onDecide=${decide} /></li>`)}</ul>`}
  `
}

const when = (iso, zone) => (iso ? (zone ? `${localInput(iso, zone).replace('T', ' ')} (${zone})` : iso) : 'no time (draft)')

function Waiting({ post, accounts, zone, may, onDecide }) {
  const comment = useSignal('')
  const id = `comment-${post.id}`
  const label = (a) => (accounts[a] ? accountLabel(accounts[a]) : a)
  const names = post.accounts.map(label).join(', ')
  return html`
    <article class="waiting" aria-labelledby=${`${post.id}-title`}>
      <h2 id=${`${post.id}-title`}>${post.content.text.slice(0, 80) || '(no text)'}</h2>
      <p class="meta">For ${names}${post.scheduled_at && zone ? `, at ${when(post.scheduled_at, zone)}` : ''}, version ${post.version}</p>
      <p class="text">${post.content.text}</p>
      ${Object.entries(post.variants).map(([a, v]) => html`<p class="text"><strong>${label(a)}:</strong> ${v.text}</p>`)}
      <${Changes} post=${post} label=${label} zone=${zone} />
      ${may ? html`
        <label for=${id}>Comment</label>
        <textarea id=${id} rows="2" value=${comment.value} onInput=${(e) => (comment.value = e.currentTarget.value)}></textarea>
        <div class="actions">
          <button type="button" onClick=${() => onDecide(post, true, comment.value)}>Approve</button>
          <button type="button" class="danger" onClick=${() => onDecide(post, false, comment.value)}>Reject</button>
        </div>` : html`<p>Waiting for an editor.</p>`}
    </article>
  `
}

// What changed since the version last approved: the text word by word for the post and each account's
// variant, media added and removed, other fields, accounts, and the time moved.
function Changes({ post, label, zone }) {
  const found = useSignal(null)
  const error = useSignal('')
  useEffect(() => {
    api('GET', `/posts/${post.id}/changes`).then((c) => (found.value = c)).catch((p) => (error.value = p.message))
  }, [post.id, post.version])
  const head = `${post.id}-changes`
  if (error.value) return html`<p class="error">Changes could not be read: ${error.value}</p>`
  const c = found.value
  if (!c) return html`<p class="meta">Reading what changed…</p>`
  if (!c.approved) {
    return html`<section class="changes" aria-labelledby=${head}>
      <h3 id=${head}>Changes</h3><p>Never approved before: review all of it.</p></section>`
  }
  const approvedAt = when(c.approved.at, zone)
  const shown = c.contents.filter((x) => x.changed)
  return html`
    <section class="changes" aria-labelledby=${head}>
      <h3 id=${head}>Changes since version ${c.approved.version}, approved ${approvedAt}</h3>
      ${!c.changed ? html`<p>Nothing changed since that version was approved.</p>` : html`
        <p class="legend">Removed words are struck through, added words are underlined.</p>
        ${c.scheduled_at.moved && html`<p class="moved">Time moved from <del><span class="sr">removed: </span>${when(c.scheduled_at.before, zone)}</del> to <ins><span class="sr">added: </span>${when(c.scheduled_at.after, zone)}</ins>.</p>`}
        ${c.accounts_added.length > 0 && html`<p>Accounts added: ${c.accounts_added.map(label).join(', ')}.</p>`}
        ${c.accounts_removed.length > 0 && html`<p>Accounts removed: ${c.accounts_removed.map(label).join(', ')}.</p>`}
        ${shown.map((x) => html`<${ContentChanges} change=${x} title=${x.account_id ? `Variant for ${label(x.account_id)}` : 'The post (every account without a variant)'} />`)}`}
    </section>
  `
}

function Runs({ runs }) {
  return runs.map((r) =>
    r.op === 'removed' ? html`<del><span class="sr">[removed: </span>${r.text}<span class="sr">]</span></del>`
    : r.op === 'added' ? html`<ins><span class="sr">[added: </span>${r.text}<span class="sr">]</span></ins>`
    : r.text)
}

const FIELD_NAMES = { title: 'Title', link: 'Link', first_comment: 'First comment', options: 'Platform options' }
const shown = (v) => (v === null || v === undefined || v === '' ? '(none)' : typeof v === 'object' ? JSON.stringify(v) : String(v))
const mediaName = (m) => `${m.name}${m.alt_text ? ` (“${m.alt_text}”)` : ''}`

function ContentChanges({ change, title }) {
  return html`
    <h4>${title}</h4>
    ${change.text_changed ? html`<p class="diff"><${Runs} runs=${change.text} /></p>` : html`<p class="meta">Text unchanged.</p>`}
    ${(change.media_added.length > 0 || change.media_removed.length > 0) && html`<ul aria-label=${`Media changes: ${title}`}>
      ${change.media_removed.map((m) => html`<li>Media removed: <del>${mediaName(m)}</del></li>`)}
      ${change.media_added.map((m) => html`<li>Media added: <ins>${mediaName(m)}</ins></li>`)}
    </ul>`}
    ${change.fields.map((f) => html`<p>${FIELD_NAMES[f.field] || f.field}: was <del>${shown(f.before)}</del>, now <ins>${shown(f.after)}</ins>.</p>`)}
    ${change.thread.map((t) => html`<p>Thread part ${t.part}:</p><p class="diff"><${Runs} runs=${t.text} /></p>`)}
  `
}
