// "Mark all read" on the notifications page: one POST /notifications/read for every unread notification
// up to the newest the page shows (one that came in since stays unread), and the list as it reads after.
export function readAllBody(list) {
  const newest = list[0] // the page lists newest first
  return list.some((n) => !n.read) && newest ? { all: true, before: newest.created_at } : null
}

// The notifications of `list` dated at or before `before` (as the server answered it) now read.
export function readUpTo(list, before) {
  const until = Date.parse(before)
  return list.map((n) => (!n.read && Date.parse(n.created_at) <= until ? { ...n, read: true } : n))
}
