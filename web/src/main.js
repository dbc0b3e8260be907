import { render } from 'preact'
import { LocationProvider, Router, Route, lazy, useLocation } from 'preact-iso'
import { html } from './html.js'
import { config, session, me, loadConfig, loadMe, signOutHere } from './session.js'
import { Shell } from './shell.js'
import { SignIn, FirstWorkspace } from './pages/signin.js'
import { SignUp } from './pages/signup.js'
import { Calendar, prefetchCalendar } from './pages/calendar.js'
import './app.css'

// The composer carries twitter-text: loaded when opened, never with the calendar.
const Composer = lazy(() => import('./pages/composer.js').then((m) => m.Composer))
const Approvals = lazy(() => import('./pages/approvals.js').then((m) => m.Approvals))
const Inbox = lazy(() => import('./pages/inbox.js').then((m) => m.Inbox))
const Accounts = lazy(() => import('./pages/accounts.js').then((m) => m.Accounts))
const Members = lazy(() => import('./pages/members.js').then((m) => m.Members))
const Keys = lazy(() => import('./pages/keys.js').then((m) => m.Keys))
const AcceptInvitation = lazy(() => import('./pages/members.js').then((m) => m.AcceptInvitation))
const Reports = lazy(() => import('./pages/reports.js').then((m) => m.Reports))
const Listening = lazy(() => import('./pages/listening.js').then((m) => m.Listening))
const Notifications = lazy(() => import('./pages/notifications.js').then((m) => m.Notifications))

function NotFound() {
  return html`<h1>Not found</h1><p><a href="/">Back to the calendar</a></p>`
}

function App() {
  const { path } = useLocation()
  if (!config.value) return html`<p role="status">Loading…</p>`
  if (!session.value && path === '/sign-up') return html`<${SignUp} />`
  if (!session.value || path === '/sign-in') return html`<${SignIn} />`
  if (!me.value) return html`<p role="status">Loading your workspaces…</p>`
  if (path === '/invitations/accept') return html`<${AcceptInvitation} />` // before any workspace of theirs
  if (!me.value.workspaces.length) return html`<${FirstWorkspace} />`
  return html`
    <${Shell}>
      <${Router}>
        <${Route} path="/" component=${Calendar} />
        <${Route} path="/calendar" component=${Calendar} />
        <${Route} path="/compose" component=${Composer} />
        <${Route} path="/approvals" component=${Approvals} />
        <${Route} path="/inbox" component=${Inbox} />
        <${Route} path="/accounts" component=${Accounts} />
        <${Route} path="/members" component=${Members} />
        <${Route} path="/keys" component=${Keys} />
        <${Route} path="/reports" component=${Reports} />
        <${Route} path="/listening" component=${Listening} />
        <${Route} path="/notifications" component=${Notifications} />
        <${Route} default component=${NotFound} />
      <//>
    <//>
  `
}

async function start() {
  await loadConfig()
  prefetchCalendar() // the calendar's answer asked beside GET /me (when a calendar address is opened)
  if (session.value) await loadMe().catch(() => signOutHere())
  render(html`<${LocationProvider}><${App} /><//>`, document.getElementById('app'))
}

start()
