import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { html } from '../html.js'
import { api, Problem } from '../session.js'
import { accountsOf, accountLabel, workspaceZone } from '../workspace.js'
import { check } from '../counts.js'
import { checkMedia } from '../media.js'
import { contents, names, supports, tiktokOptions } from '../compose.js'
import { HashtagPicker, MediaPicker, TemplatePicker } from './library.js'
import { Attachments, Uploader } from './uploads.js'
import './composer.css'

const MODES = [
  ['schedule', 'Schedule'],
  ['now', 'Publish now'],
  ['queue', 'Add to the queue'],
  ['draft', 'Save as draft'],
]

// What a 422 names for the composer's own fields; anything else is listed in the alert.
const SHOWN = [/^accounts$/, /^text$/, /^scheduled_at$/, /^media/, /^variants\[[^\]]+\]\.media/, /^variants\./,
  /^accounts\[[^\]]+\]\.(text|media|thread|first_comment|options\.tiktok)/, /^tags/]

// One text, a variant per account beside it (empty: the account takes the main text), each counted as
// its platform counts; attachments uploaded straight to S3 (or chosen in the library) checked against
// each platform's media rules; thread parts and a first comment for the accounts that take them; the
// server's 422 is shown at the field it names.
export function Composer() {
  const zone = workspaceZone()
  const accounts = useSignal([])
  const chosen = useSignal([])
  const text = useSignal('')
  const variants = useSignal({})
  const media = useSignal([])
  const parts = useSignal([])
  const comment = useSignal('')
  const mode = useSignal('schedule')
  const tiktokMode = useSignal('direct')
  const tiktokPrivacy = useSignal('')
  const { query } = useLocation() // ?at=YYYY-MM-DDTHH:MM: a time picked in the calendar (a free queue slot)
  const when = useSignal(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(query.at || '') ? query.at : '')
  const tags = useSignal('') // comma-separated: the post's tags, the calendar's tag filter finds it by them
  const problem = useSignal(null)
  const done = useSignal(null)
  const busy = useSignal(false)
  useEffect(() => { accountsOf().then((a) => (accounts.value = a)) }, [])

  const selected = accounts.value.filter((a) => chosen.value.includes(a.id))
  const textOf = (id) => variants.value[id] ?? text.value
  const counts = Object.fromEntries(selected.map((a) => [a.id, check(a.platform, textOf(a.id))]))
  const threaded = selected.filter((a) => supports(a, 'supports_thread'))
  const commented = selected.filter((a) => supports(a, 'supports_first_comment'))
  // a part (or the comment) counted once per platform of the accounts that take it
  const countFor = (accounts, text) => [...new Set(accounts.map((a) => a.platform))].map((platform) => ({ platform, count: check(platform, text) }))
  const partCounts = parts.value.map((part) => countFor(threaded, part))
  const commentCounts = comment.value.trim() ? countFor(commented, comment.value) : []
  // each attachment's problems for the chosen accounts ("Instagram: ..."), and the list's own
  const mediaProblems = {}
  const listProblems = []
  for (const platform of new Set(selected.map((a) => a.platform))) {
    for (const v of checkMedia(platform, media.value)) {
      const index = v.field.match(/^media\[(\d+)\]$/)?.[1]
      if (index === undefined) listProblems.push(`${v.message} (${v.rule})`)
      else (mediaProblems[index] ||= []).push(`${v.message} (${v.rule})`)
    }
  }
  const pending = media.value.some((m) => m.state === 'reading' || m.state === 'uploading')
  const unusable = media.value.some((m) => m.state === 'failed')
  const broken = Object.values(counts).some((c) => c.broken.length)
    || partCounts.some((row) => row.some((c) => c.count.broken.length))
    || commentCounts.some((c) => c.count.broken.length)
  const mediaBroken = listProblems.length > 0 || Object.keys(mediaProblems).length > 0 || unusable
  const at = (field) => problem.value?.at(field)
  // the server's messages for one of the accounts' fields (accounts[id].thread[1] for each account)
  const atAccounts = (accounts, field) => accounts.map((a) => at(`accounts[${a.id}].${field}`)).filter(Boolean).join('; ') || null
  // the server's word on the attachments: the list, each account's, each variant's (one message once)
  const mediaServer = [...new Set([at('media'), atAccounts(selected, 'media'), ...selected.map((a) => at(`variants[${a.id}].media`))]
    .filter(Boolean).flatMap((m) => m.split('; ')))].join('; ') || null
  const leftover = (problem.value?.errors || []).filter((e) => !SHOWN.some((re) => re.test(e.field)))

  async function submit(event) {
    event.preventDefault()
    problem.value = null
    done.value = null
    busy.value = true
    const attached = media.value.map((m) => ({ mime_type: m.mime_type, key: m.key, size: m.size, alt_text: m.alt_text || '' }))
    const options = { tiktok: tiktokOptions({ mode: tiktokMode.value, privacy: tiktokPrivacy.value }) }
    const made = contents({ accounts: selected, text: text.value, variants: variants.value, media: attached,
      parts: parts.value, comment: comment.value, options })
    const body = { accounts: chosen.value, ...made.main, variants: made.variants, mode: mode.value, timezone: zone.value }
    if (mode.value === 'schedule' && when.value) body.scheduled_at = when.value.length === 16 ? when.value + ':00' : when.value
    const tagList = tags.value.split(',').map((t) => t.trim()).filter(Boolean)
    if (tagList.length) body.tags = tagList
    try {
      done.value = await api('POST', '/posts', body)
      text.value = ''
      variants.value = {}
      media.value = []
      parts.value = []
      comment.value = ''
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
  const tagsError = (problem.value?.errors || []).filter((e) => /^tags/.test(e.field)).map((e) => e.message).join('; ') || null
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
            server=${at(`accounts[${a.id}].text`) || at(`variants.${a.id}`)}
            onInput=${(value) => (variants.value = { ...variants.value, [a.id]: value })}
            onReset=${() => { const { [a.id]: _, ...rest } = variants.value; variants.value = rest }} />`)}
        </div>`}
      <${HashtagPicker} onAdd=${addHashtags} />
      <fieldset class="media" aria-describedby=${mediaServer ? 'media-error' : undefined}>
        <legend>Media</legend>
        <${Uploader} media=${media} />
        <${Attachments} media=${media} problems=${mediaProblems} />
        ${listProblems.map((message) => html`<p class="error">${message}</p>`)}
        ${mediaServer && html`<p id="media-error" class="error">${mediaServer}</p>`}
      </fieldset>
      <${MediaPicker} chosen=${media.value} platforms=${[...new Set(selected.map((a) => a.platform))]} onChange=${(m) => (media.value = m)} />
      ${selected.length > 0 && html`<${Thread} parts=${parts} counts=${partCounts} accounts=${threaded} others=${selected.filter((a) => !threaded.includes(a))}
        errorAt=${(i) => atAccounts(threaded, `thread[${i}]`)} error=${atAccounts(selected, 'thread')} />`}
      ${selected.length > 0 && html`<${FirstComment} comment=${comment} counts=${commentCounts} accounts=${commented}
        others=${selected.filter((a) => !commented.includes(a))} error=${atAccounts(selected, 'first_comment')} />`}
      ${selected.some((a) => a.platform === 'tiktok') && html`<${TikTokSettings} mode=${tiktokMode} privacy=${tiktokPrivacy}
        error=${atAccounts(selected.filter((a) => a.platform === 'tiktok'), 'options.tiktok')}
        privacyError=${atAccounts(selected.filter((a) => a.platform === 'tiktok'), 'options.tiktok.privacy_level')} />`}
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
      <label for="tags">Tags (comma-separated)</label>
      <input id="tags" value=${tags.value} onInput=${(e) => (tags.value = e.currentTarget.value)} placeholder="launch, spring"
        aria-describedby=${tagsError ? 'tags-error' : undefined} aria-invalid=${tagsError ? 'true' : undefined} />
      ${tagsError && html`<p id="tags-error" class="error">${tagsError}</p>`}
      ${problem.value && html`<div role="alert" class="error">
        <p>${problem.value.status === 422 ? 'The post was not created: see the fields marked.' : problem.value.message}</p>
        ${problem.value.status === 422 && leftover.length > 0 && html`<ul>${leftover.map((e) => html`<li>${e.field}: ${e.message}</li>`)}</ul>`}
      </div>`}
      ${done.value && html`<p role="status" class="done">Created: ${done.value.status?.replace('_', ' ') || 'posts'}. <a href="/calendar">See it in the calendar</a></p>`}
      <button type="submit" disabled=${busy.value || broken || mediaBroken || pending}>${mode.value === 'draft' ? 'Save draft' : 'Create post'}</button>
      ${broken && html`<p class="hint">A text breaks its platform's rules: shorten it first.</p>`}
      ${mediaBroken && html`<p class="hint">An attachment breaks a chosen platform's media rules or could not be used: remove or replace it first.</p>`}
      ${pending && html`<p class="hint">Waiting for the uploads to finish…</p>`}
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

function Counters({ id, counts }) {
  const over = counts.some((c) => c.count.broken.length)
  return html`
    <ul id=${id} class=${`counters${over ? ' over' : ''}`} aria-live="polite">
      ${counts.map(({ platform, count }) => html`
        <li class=${`counter${count.broken.length ? ' over' : ''}`}>${count.name || platform}: ${count.length}${count.max ? ` / ${count.max}` : ''} ${count.unit}
          ${count.broken.map((b) => html`<span class="rule"> — ${b.message} (${b.rule})</span>`)}</li>`)}
    </ul>`
}

// Replies under the post, in order (the main text is part 1), for the accounts whose platform threads;
// each part counted for each of them.
function Thread({ parts, counts, accounts, others, errorAt, error }) {
  const set = (i, value) => (parts.value = parts.value.map((p, j) => (j === i ? value : p)))
  return html`
    <fieldset class="thread">
      <legend>Thread</legend>
      ${accounts.length === 0
        ? html`<p class="hint">None of the chosen accounts takes thread parts (${names(others)}).</p>`
        : html`
          <p class="hint">Parts 2 and on are published as replies to the post on ${names(accounts)}.
            ${others.length > 0 && ` ${names(others)} ${others.length === 1 ? 'does' : 'do'} not take threads: ${others.length === 1 ? 'it gets' : 'they get'} the main text only.`}</p>
          ${parts.value.map((part, i) => {
            const id = `part-${i + 2}`
            const server = errorAt(i)
            return html`
              <div class="part">
                <label for=${id}>Part ${i + 2}</label>
                <textarea id=${id} rows="3" value=${part} onInput=${(e) => set(i, e.currentTarget.value)}
                  aria-describedby=${`${id}-count${server ? ` ${id}-error` : ''}`} aria-invalid=${server || counts[i].some((c) => c.count.broken.length) ? 'true' : undefined}></textarea>
                <${Counters} id=${`${id}-count`} counts=${counts[i]} />
                ${server && html`<p id=${`${id}-error`} class="error">${server}</p>`}
                <button type="button" class="link" onClick=${() => (parts.value = parts.value.filter((_, j) => j !== i))}>Remove part ${i + 2}</button>
              </div>`
          })}
          <button type="button" onClick=${() => (parts.value = [...parts.value, ''])}>Add a thread part</button>`}
      ${error && html`<p class="error">${error}</p>`}
    </fieldset>`
}

// A comment the account itself posts right under the post, for the accounts whose platform takes one.
function FirstComment({ comment, counts, accounts, others, error }) {
  return html`
    <fieldset class="first-comment">
      <legend>First comment</legend>
      ${accounts.length === 0
        ? html`<p class="hint">None of the chosen accounts takes a first comment (${names(others)}).</p>`
        : html`
          <label for="first-comment">First comment (${names(accounts)})</label>
          <textarea id="first-comment" rows="2" value=${comment.value} onInput=${(e) => (comment.value = e.currentTarget.value)}
            aria-describedby=${`first-comment-hint${counts.length ? ' first-comment-count' : ''}${error ? ' first-comment-error' : ''}`}
            aria-invalid=${error || counts.some((c) => c.count.broken.length) ? 'true' : undefined}></textarea>
          <p id="first-comment-hint" class="hint">Posted by the account under the post.${others.length > 0 ? ` Not for ${names(others)}: ${others.length === 1 ? 'it does' : 'they do'} not take a first comment.` : ''}</p>
          ${counts.length > 0 && html`<${Counters} id="first-comment-count" counts=${counts} />`}
          ${error && html`<p id="first-comment-error" class="error">${error}</p>`}`}
    </fieldset>`
}

const TIKTOK_PRIVACY = [
  ['PUBLIC_TO_EVERYONE', 'Everyone'],
  ['MUTUAL_FOLLOW_FRIENDS', 'Friends (followers they follow back)'],
  ['FOLLOWER_OF_CREATOR', 'Followers'],
  ['SELF_ONLY', 'Only the creator'],
]

// TikTok: posted on the profile (who can see it is the creator's choice: no default), or sent to the
// creator's TikTok inbox as a draft to finish in the app (it then shows "sent to inbox", not published).
function TikTokSettings({ mode, privacy, error, privacyError }) {
  return html`
    <fieldset class="tiktok">
      <legend>TikTok</legend>
      <label class="check"><input type="radio" name="tiktok-mode" value="direct" checked=${mode.value === 'direct'}
        onChange=${() => (mode.value = 'direct')} /> Post it on the profile</label>
      <label class="check"><input type="radio" name="tiktok-mode" value="draft" checked=${mode.value === 'draft'}
        onChange=${() => (mode.value = 'draft')} /> Send it to the TikTok inbox as a draft, to finish in the app</label>
      ${mode.value === 'direct' && html`
        <label for="tiktok-privacy">Who can see it</label>
        <select id="tiktok-privacy" value=${privacy.value} onChange=${(e) => (privacy.value = e.currentTarget.value)}
          aria-describedby=${privacyError ? 'tiktok-privacy-error' : undefined} aria-invalid=${privacyError ? 'true' : undefined}>
          <option value="">Choose…</option>
          ${TIKTOK_PRIVACY.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
        ${privacyError && html`<p id="tiktok-privacy-error" class="error">${privacyError}</p>`}`}
      ${error && error !== privacyError && html`<p class="error">${error}</p>`}
    </fieldset>`
}
