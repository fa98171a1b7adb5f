// Runtime smoke (issue 20): run by Bun and Deno (and any Node) against the built packages.
// Starts the emulator, resolves EKS Pod Identity and IRSA through defaultChain() into a real
// AWS SDK client call, then checks that a configured proxy is never bypassed: an STS call with
// HTTPS_PROXY set either goes through the proxy or fails with a clear error, never direct.
// Prints one JSON line; exits non-zero on any failure.
import { createServer } from 'node:http'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { defaultChain } from '@podcreds/chain'
import { startEmulator } from '@podcreds/emulator'

const runtime =
  typeof globalThis.Bun === 'object'
    ? `bun ${globalThis.Bun.version}`
    : typeof globalThis.Deno === 'object'
      ? `deno ${globalThis.Deno.version.deno}`
      : `node ${process.version}`
const result = { runtime, checks: {} }
const emulator = await startEmulator()
let proxy
try {
  for (const [name, env] of [
    ['podIdentity', emulator.env],
    ['irsa', emulator.irsaEnv],
  ]) {
    const credentials = defaultChain({ env, sdkFallback: false })
    const client = new STSClient({ region: 'us-east-1', endpoint: emulator.awsUrl, credentials })
    const answer = await client.send(new GetCallerIdentityCommand({}))
    client.destroy()
    if (!answer.Arn?.includes(':assumed-role/')) throw new Error(`${name}: unexpected caller ${answer.Arn}`)
    result.checks[name] = answer.Arn.replace(/\/[^/]*$/, '/…')
  }

  // A loopback proxy that counts what reaches it and forwards absolute-form requests.
  const hits = []
  proxy = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    res.writeHead(502).end()
  })
  proxy.on('connect', (req, socket) => {
    hits.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const proxyUrl = `http://127.0.0.1:${proxy.address().port}`
  const stsRequests = () => emulator.requests?.sts ?? undefined
  const before = stsRequests()
  const env = { ...emulator.irsaEnv, HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, NO_PROXY: '' }
  const outcome = await defaultChain({ env, sdkFallback: false, refresh: {} })().then(
    () => 'resolved',
    (error) => error,
  )
  if (outcome === 'resolved' && hits.length === 0)
    throw new Error('proxy: the STS call went direct, bypassing HTTP_PROXY')
  if (outcome !== 'resolved') {
    // Failing is fine only when it says why and the proxy saw the call or it never left.
    const message = String(outcome?.message ?? outcome)
    const code = outcome?.code
    if (hits.length === 0 && !/proxy/i.test(message))
      throw new Error(`proxy: failed without naming the proxy: ${code} ${message}`)
    result.checks.proxy =
      hits.length > 0 ? `went through the proxy (${hits[0]})` : `refused clearly: ${code}: ${message}`
  } else result.checks.proxy = `went through the proxy (${hits[0]})`
  void before
  console.log(JSON.stringify(result))
} finally {
  proxy?.close()
  await emulator.close()
}
