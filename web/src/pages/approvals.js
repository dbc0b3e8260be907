import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import { api, canApprove } from '../session.js'
import { accountsOf, accountLabel, workspaceZone } from '../workspace.js'
import { localInput } from '../dates.js'

// Posts waiting for approval; an editor approves the version they read, or rejects with a comment.
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
        <li><${Waiting} post=${post} accounts=${accounts.value} zone=${zone.value} may=${canApprove.value} onDecide=${decide} /></li>`)}</ul>`}
  `
}

function Waiting({ post, accounts, zone, may, onDecide }) {
  const comment = useSignal('')
  const id = `comment-${post.id}`
  const names = post.accounts.map((a) => (accounts[a] ? accountLabel(accounts[a]) : a)).join(', ')
  return html`
    <article class="waiting" aria-labelledby=${`${post.id}-title`}>
      <h2 id=${`${post.id}-title`}>${post.content.text.slice(0, 80) || '(no text)'}</h2>
      <p class="meta">For ${names}${post.scheduled_at && zone ? `, at ${localInput(post.scheduled_at, zone).replace('T', ' ')} (${zone})` : ''}, version ${post.version}</p>
      <p class="text">${post.content.text}</p>
      ${Object.entries(post.variants).map(([a, v]) => html`<p class="text"><strong>${accounts[a] ? accountLabel(accounts[a]) : a}:</strong> ${v.text}</p>`)}
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
