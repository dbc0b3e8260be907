// Days as 'YYYY-MM-DD' strings (the calendar's keys, in the workspace's time zone) and times in a zone.
export const DAY_MS = 86_400_000

export const toDay = (ms) => new Date(ms).toISOString().slice(0, 10)
export const dayMs = (day) => Date.parse(day + 'T00:00:00Z')
export const addDays = (day, n) => toDay(dayMs(day) + n * DAY_MS)
export const weekday = (day) => (new Date(dayMs(day)).getUTCDay() + 6) % 7 // Monday 0

export function todayIn(timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date())
}

// The local date and time of `iso` in `timeZone`, as a datetime-local value ('YYYY-MM-DDTHH:MM').
export function localInput(iso, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(iso)).map((p) => [p.type, p.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`
}

export const longDay = (day) =>
  new Date(dayMs(day)).toLocaleDateString('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })
export const monthTitle = (day) => new Date(dayMs(day)).toLocaleDateString('en-GB', { timeZone: 'UTC', month: 'long', year: 'numeric' })
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
