// What the composer sends for each chosen account (pure, tested by web/test/compose.test.js).
import { RULES } from './counts.js'

// Whether the account's platform takes thread parts (supports_thread) or a first comment
// (supports_first_comment), as the server's rules say (web/src/rules.json).
export const supports = (account, what) => Boolean(RULES[account.platform]?.[what])
const nameOf = (account) => RULES[account.platform]?.name || account.platform
// "X, Bluesky": the platforms of these accounts, each named once
export const names = (accounts) => [...new Set(accounts.map(nameOf))].join(', ')

// What each chosen account is sent: its text (the main one or its variant), the attachments, and the
// thread parts and first comment where its platform takes them. The main content carries the text and
// attachments; an account whose content differs gets a variant (a variant replaces the whole content,
// so it names the attachments too).
// ``options``: each platform's own settings ({tiktok: {mode: 'draft'}}), sent for the platforms of the
// chosen accounts only, with the main content and every variant.
export function contents({ accounts, text, variants, media, parts, comment, options = {} }) {
  const main = { text }
  if (media.length) main.media = media
  const used = Object.fromEntries(Object.entries(options)
    .filter(([platform, own]) => Object.keys(own).length && accounts.some((a) => a.platform === platform)))
  if (Object.keys(used).length) main.options = used
  const byAccount = {}
  for (const account of accounts) {
    const own = { text: variants[account.id] ?? text }
    if (media.length) own.media = media
    if (main.options) own.options = used
    if (parts.length && supports(account, 'supports_thread')) own.thread = parts
    if (comment.trim() && supports(account, 'supports_first_comment')) own.first_comment = comment
    if (own.text !== text || own.thread || own.first_comment !== undefined) byAccount[account.id] = own
  }
  return { main, variants: byAccount }
}


// TikTok's settings as the composer asks them: a draft goes to the creator's inbox (its settings are
// chosen in the app); a direct post names who can see it (TikTok asks that the creator choose it).
export function tiktokOptions({ mode, privacy }) {
  if (mode === 'draft') return { mode: 'draft' }
  return privacy ? { privacy_level: privacy } : {}
}
