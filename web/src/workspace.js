// What the pages share about the workspace: its time zone and its connected accounts.
import { signal } from '@preact/signals'
import { api, workspaceId } from './session.js'

const zones = {}
const asked = {}
const zone = signal(null)

// The workspace's time zone (a signal: null until GET /workspace answered).
export function workspaceZone() {
  const id = workspaceId.value
  if (!asked[id]) {
    asked[id] = api('GET', '/workspace').then((w) => {
      zones[id] = w.timezone
      if (workspaceId.value === id) zone.value = w.timezone
    })
  } else if (zones[id] && zone.value !== zones[id]) zone.value = zones[id]
  return zone
}

export async function accountsOf() {
  const found = await api('GET', '/accounts?limit=100')
  return found.accounts
}

export const accountLabel = (a) => `@${a.handle || a.platform_account_id} (${a.platform})`
