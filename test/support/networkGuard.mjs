// Test support (issue 17, part 6): no test may reach a real address. Once instance metadata is a
// link that is on off-cluster, a test with an empty `env` would send real requests to
// 169.254.169.254 (and on a cloud CI runner get its real role). This guard fails any outgoing
// connection to an address other than loopback, before a byte leaves:
// - `net.client.socket` (node:diagnostics_channel): every client socket, which node:http(s),
//   undici and our client use; on its 'connectionAttempt' the guard checks the address and makes
//   that attempt fail (EACCES) before the connect() call reaches the network;
// - `http.client.request.start`: requests over node:https, whose TLS socket does not pass through
//   `net.connect()`.
// Loaded by vitest's setup (test/support/networkGuardSetup.ts: a test that tripped it fails) and,
// for child processes, with `NODE_OPTIONS=--import=<this file>` (`runNode` of
// test/support/subprocess.ts adds it: the child prints the violation on stderr and exits with 86). Plain JavaScript, so a child
// `node` loads it without a TypeScript loader. It changes no global: only the handle of a socket
// about to connect to a forbidden address, and a forbidden https request.
import dc from 'node:diagnostics_channel'
import { isIP } from 'node:net'
import { constants } from 'node:os'

// A libuv error code (negative errno), as a TCP handle's connect() returns it.
const refuse = () => -constants.errno.EACCES

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
    // Node 20 publishes before Socket#connect, Node 24 inside it: neither tells the address yet.
    // 'connectionAttempt' does, on every Node since 20.12, right before the handle's connect()
    // (and once per address with happy eyeballs). For a non-loopback address the guard makes that
    // one handle's connect() fail with EACCES, so no SYN is sent; Node then destroys the socket
    // with `connect EACCES <address>:<port>`.
    socket.on('connectionAttempt', (address, port) => {
      if (isLoopback(address)) return
      report(address, port)
      const handle = socket._handle
      if (handle !== null && handle !== undefined) {
        handle.connect = refuse
        handle.connect6 = refuse
      }
    })
  })
  dc.subscribe('http.client.request.start', ({ request }) => {
    // Node 20 does not publish TLS sockets on net.client.socket.
    if (request.protocol === 'https:' && !isLoopback(request.host)) {
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
