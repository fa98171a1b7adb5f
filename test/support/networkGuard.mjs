// Test support (issue 17, part 6): no test may reach a real address. Once instance metadata is a
// link that is on off-cluster, a test with an empty `env` would send real requests to
// 169.254.169.254 (and on a cloud CI runner get its real role). This guard fails any outgoing
// connection to an address other than loopback, before a byte leaves:
// - `net.client.socket` (node:diagnostics_channel, Node 20): every socket from `net.connect()`,
//   which node:http, undici and our client use; the guard checks the address this socket is about
//   to connect to and destroys it instead;
// - `http.client.request.start`: requests over node:https, whose TLS socket does not pass through
//   `net.connect()`.
// Loaded by vitest's setup (test/support/networkGuardSetup.ts: a test that tripped it fails) and,
// for child processes, with `NODE_OPTIONS=--import=<this file>` (`runNode` of
// test/support/subprocess.ts adds it: the child prints the violation on stderr and exits with 86). Plain JavaScript, so a child
// `node` loads it without a TypeScript loader. It only watches sockets; it changes no global.
import dc from 'node:diagnostics_channel'
import { isIP } from 'node:net'

const violations = []
const listeners = new Set()

/** Whether `host` (an IP literal or a name) is loopback. */
export function isLoopback(host) {
  if (typeof host !== 'string' || host === '') return true // net's default host is localhost
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  if (bare === 'localhost') return true
  const family = isIP(bare)
  if (family === 4) return bare.startsWith('127.')
  if (family === 6)
    return bare === '::1' || /^::ffff:127\./i.test(bare) || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(bare)
  return false
}

function report(host, port) {
  const message = `podcreds test guard: blocked an outgoing connection to ${host}:${port} (tests talk to loopback only)`
  violations.push(message)
  for (const listener of listeners) listener(message)
  return new Error(message)
}

let installed = false

/** Installs the guard once per process; `onViolation` is called with each blocked connection. */
export function installNetworkGuard(onViolation) {
  if (onViolation !== undefined) listeners.add(onViolation)
  if (installed) return
  installed = true
  dc.subscribe('net.client.socket', ({ socket }) => {
    // This one socket's connect(), not net.Socket.prototype: net.connect() publishes the socket
    // and then calls connect() on it with the address.
    const connect = socket.connect
    socket.connect = function guardedConnect(...args) {
      const first = Array.isArray(args[0]) ? args[0][0] : args[0]
      const options = typeof first === 'object' && first !== null ? first : { port: first, host: args[1] }
      if (options.path === undefined && !isLoopback(options.host)) {
        const error = report(options.host, options.port)
        process.nextTick(() => socket.destroy(error))
        return socket
      }
      return connect.apply(this, args)
    }
  })
  dc.subscribe('http.client.request.start', ({ request }) => {
    if (!isLoopback(request.host)) {
      const error = report(request.host, request.port ?? (request.protocol === 'https:' ? 443 : 80))
      process.nextTick(() => request.destroy(error))
    }
  })
}

/** The violations so far (and clears them). */
export function takeViolations() {
  return violations.splice(0, violations.length)
}

// Loaded with --import in a child process (NODE_OPTIONS names this file): install, and make a
// violation fail the child. In a vitest worker NODE_OPTIONS does not name it.
if (/networkGuard\.mjs/.test(process.env.NODE_OPTIONS ?? '')) {
  installNetworkGuard((message) => {
    process.stderr.write(`${message}\n`)
    process.exitCode = 86
    process.once('exit', () => {
      process.exitCode = 86
    })
  })
}
