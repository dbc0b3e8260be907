import { useEffect } from 'preact/hooks'
import { html } from '../html.js'
import { api, Problem } from '../session.js'
import { ACCEPTED, kindOf, size, duration } from '../media.js'

// Files uploaded from the composer straight to S3: POST /media names the upload (a media library item)
// and answers a presigned PUT URL; the browser sends the file there itself (the media bucket's CORS
// rule lets the app's origin PUT), showing its progress and a preview read from the file (an image's
// thumbnail and size, a video's first frame, length and size), which the composer checks against each
// chosen platform's media rules before sending. Then the library reads the stored file
// (GET /media/{id}: ready, or failed saying why).
//
// `media` is the composer's signal of attachments: uploads and media library files alike, each
// {mime_type, key, size, width, height, duration_s, name, preview, alt_text}, an upload also
// {local, state (reading | uploading | stored | ready | failed), progress, error, media_id, poster}.

let made = 0
const POLL_MS = 1000
const POLL_TIMES = 60
const FACTS = ['width', 'height', 'duration_s']

// What the browser reads of a file before it is sent: an image's pixels, a video's size and length.
function readFacts(kind, url) {
  return new Promise((resolve) => {
    if (kind === 'video') {
      const video = document.createElement('video')
      video.preload = 'metadata'
      video.muted = true
      video.onloadedmetadata = () => resolve({ width: video.videoWidth || null, height: video.videoHeight || null,
        duration_s: Number.isFinite(video.duration) ? video.duration : null })
      video.onerror = () => resolve({})
      video.src = url
    } else {
      const image = new Image()
      image.onload = () => resolve({ width: image.naturalWidth || null, height: image.naturalHeight || null })
      image.onerror = () => resolve({})
      image.src = url
    }
  })
}

// PUT the file to the presigned URL, reporting the percentage sent.
function send(url, file, mime, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest()
    request.open('PUT', url)
    request.setRequestHeader('Content-Type', mime)
    request.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((100 * e.loaded) / e.total))
    request.onload = () => (request.status >= 200 && request.status < 300 ? resolve() : reject(new Error(`the storage answered ${request.status}`)))
    request.onerror = () => reject(new Error('the file could not be sent to the storage (network or CORS)'))
    request.send(file)
  })
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const same = (a, b) => (a.local ? a.local === b.local : a.key === b.key)

export function Uploader({ media }) {
  const update = (local, patch) => (media.value = media.value.map((m) => (m.local === local ? { ...m, ...patch } : m)))
  useEffect(() => () => media.peek().forEach((m) => m.local && URL.revokeObjectURL(m.preview)), [])

  async function upload(file) {
    const local = `upload-${++made}`
    const mime = (file.type || '').toLowerCase()
    const kind = kindOf(mime)
    const preview = URL.createObjectURL(file)
    media.value = [...media.value, { local, name: file.name, mime_type: mime || 'unknown', size: file.size, preview,
      alt_text: '', state: 'reading', progress: 0 }]
    if (!kind) {
      update(local, { state: 'failed', error: `Chorus takes ${ACCEPTED.join(', ')}; this is ${mime || 'an unknown type'}` })
      return
    }
    update(local, { ...(await readFacts(kind, preview)), state: 'uploading' })
    try {
      const named = await api('POST', '/media', { filename: file.name, mime_type: mime, size: file.size })
      update(local, { key: named.key, media_id: named.id })
      await send(named.upload_url, file, mime, (progress) => update(local, { progress }))
      update(local, { state: 'stored', progress: 100 })
      for (let i = 0; i < POLL_TIMES; i++) {
        const item = await api('GET', `/media/${named.id}`)
        if (item.state !== 'uploading') {
          // what the library read of the stored file is what the server checks (and all there is of a
          // video the browser cannot decode, such as an HEVC .mov): its facts, a video's poster
          const facts = Object.fromEntries(FACTS.filter((k) => item[k] != null).map((k) => [k, item[k]]))
          update(local, { ...facts, state: item.state, error: item.error, poster: item.thumbnail_url })
          return
        }
        await wait(POLL_MS)
      }
    } catch (error) {
      const message = error instanceof Problem ? (error.errors.map((e) => `${e.field}: ${e.message}`).join('; ') || error.message) : error.message
      update(local, { state: 'failed', error: message })
    }
  }

  const chosen = (e) => {
    const files = [...e.currentTarget.files]
    e.currentTarget.value = ''
    files.forEach(upload)
  }
  // files dropped on the area are uploaded as chosen ones (the input is the keyboard's way)
  const over = (e) => {
    e.preventDefault()
    e.currentTarget.classList.toggle('dragging', e.type === 'dragover')
  }
  const dropped = (e) => {
    over(e)
    ;[...(e.dataTransfer?.files || [])].forEach(upload)
  }
  return html`
    <div class="drop" onDragOver=${over} onDragLeave=${over} onDrop=${dropped}>
      <label for="upload">Upload images or videos</label>
      <input id="upload" type="file" multiple accept=${ACCEPTED.join(',')} onChange=${chosen} aria-describedby="upload-hint" />
      <p id="upload-hint" class="hint">JPEG, PNG, WebP, GIF, MP4 or MOV, chosen or dropped here; sent straight to the storage, checked against each chosen account's rules.</p>
    </div>
  `
}

// The attachments chosen (uploads and library files) with their previews, progress, alt text and the
// rules each breaks for the chosen accounts (`problems`: index -> messages).
export function Attachments({ media, problems }) {
  if (media.value.length === 0) return null
  const remove = (item) => {
    if (item.local) URL.revokeObjectURL(item.preview)
    media.value = media.value.filter((m) => !same(m, item))
  }
  const edit = (item, alt_text) => (media.value = media.value.map((m) => (same(m, item) ? { ...m, alt_text } : m)))
  return html`
    <ul class="attachments">
      ${media.value.map((item, index) => {
        const id = `attachment-${index}`
        const broken = problems[index] || []
        const facts = [size(item.size || 0), item.width && item.height ? `${item.width}×${item.height}` : null,
          item.duration_s != null ? duration(item.duration_s) : null].filter(Boolean).join(' · ')
        return html`
          <li class=${`attachment${broken.length || item.state === 'failed' ? ' broken' : ''}`} aria-labelledby=${`${id}-name`}>
            <div class="preview">
              ${item.local && kindOf(item.mime_type) === 'video'
                ? html`<video src=${item.preview} poster=${item.poster} preload="metadata" muted aria-hidden="true"></video>`
                : item.preview && html`<img src=${item.preview} alt="" />`}
              ${item.duration_s != null && html`<span class="length">${duration(item.duration_s)}</span>`}
            </div>
            <div class="about">
              <p id=${`${id}-name`} class="name">${item.name || item.key}</p>
              <p class="facts">${facts}</p>
              ${item.state === 'uploading' && html`<progress max="100" value=${item.progress} aria-label=${`Uploading ${item.name}`}></progress> <span>${item.progress} %</span>`}
              ${item.state === 'stored' && html`<p role="status">Uploaded; the library is reading it…</p>`}
              ${item.state === 'ready' && item.local && html`<p role="status">Uploaded</p>`}
              ${item.state === 'failed' && html`<p class="error">Not usable: ${item.error}</p>`}
              ${broken.map((message) => html`<p class="error">${message}</p>`)}
              <label for=${`${id}-alt`}>Description (alt text)</label>
              <input id=${`${id}-alt`} value=${item.alt_text || ''} maxlength="2000" onInput=${(e) => edit(item, e.currentTarget.value)} />
              <button type="button" class="link" onClick=${() => remove(item)}>Remove ${item.name || 'this file'}</button>
            </div>
          </li>`
      })}
    </ul>
  `
}
