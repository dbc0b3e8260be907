// The workspace's live connection (the WebSocket API): a signed-in person connects with
// `?token=<ID token>&workspace=<id>` (a browser cannot set headers on a WebSocket). A dropped connection is
// opened again with backoff (1 s, 2 s, 4 s … 30 s, with jitter); every (re)open calls `onOpen`, where the
// page re-reads what may have changed while it was away, so nothing pushed meanwhile is lost.
import { config, session, workspaceId, api } from './session.js'

const BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000]

// Opens the connection and keeps it open until `stop()`. `onFrame(frame)` gets every pushed frame,
// `onOpen(reconnected)` every open, `onState('live' | 'connecting' | 'offline', retryInMs)` each change.
export function liveConnection({ onFrame, onOpen, onState }) {
  let socket = null
  let attempt = 0
  let timer = null
  let stopped = false
  let opened = 0

  async function open() {
    if (stopped) return
    onState('connecting', 0)
    // A cheap call first: it refreshes an expired ID token before the socket carries it.
    await api('GET', '/inbox?limit=1').catch(() => {})
    if (stopped) return
    const url = `${config.value.ws_url}/?token=${encodeURIComponent(session.value?.id_token || '')}` +
      `&workspace=${encodeURIComponent(workspaceId.value || '')}`
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => {
      attempt = 0
      onState('live', 0)
      onOpen(opened++ > 0)
    }
    ws.onmessage = (event) => {
      let frame = null
      try { frame = JSON.parse(event.data) } catch { return }
      onFrame(frame)
    }
    ws.onclose = () => {
      if (socket !== ws || stopped) return
      socket = null
      const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]
      const wait = Math.round(base * (0.8 + Math.random() * 0.4))
      attempt += 1
      onState('offline', wait)
      timer = setTimeout(open, wait)
    }
  }

  open()
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
      if (socket) socket.close()
      socket = null
    },
  }
}
