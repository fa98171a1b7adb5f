// Runtime smoke (issue 20), run by scripts/runtimes.mjs under Bun and Deno against the built
// packages (from this workspace, which has the AWS SDK): starts the emulator; resolves EKS Pod
// Identity and IRSA through defaultChain() into a real AWS SDK STSClient call that the emulator
// verifies (SigV4); checks that the Pod Identity agent is never sent through a proxy (its requests
// carry the pod's token), and that an STS call with a proxy set either goes through the proxy or
// fails with an error that names the proxy — never a direct connection.
// Prints one JSON line; throws (exit code 1) on any failure.
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

async function callerArn(emulator, env) {
  const credentials = defaultChain({ env, sdkFallback: false })
  const client = new STSClient({ region: 'us-east-1', endpoint: emulator.awsUrl, credentials })
  try {
    const answer = await client.send(new GetCallerIdentityCommand({}))
    if (!answer.Arn?.includes(':assumed-role/')) throw new Error(`unexpected caller ${answer.Arn}`)
    return answer.Arn.replace(/\/[^/]*$/, '/…')
  } finally {
    client.destroy()
    credentials.close()
  }
}

/** A loopback proxy that records what reaches it and answers 502 (it forwards nothing). */
async function startProxy() {
  const hits = []
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    res.writeHead(502).end()
  })
  server.on('connect', (req, socket) => {
    hits.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}`, hits, close: () => server.close() }
}

const emulator = await startEmulator()
const proxy = await startProxy()
try {
  result.checks.podIdentity = await callerArn(emulator, emulator.env)
  result.checks.irsa = await callerArn(emulator, emulator.irsaEnv)

  // The agent's requests carry the pod's token: HTTP_PROXY without NO_PROXY must not catch them.
  result.checks.agentNotProxied = await callerArn(emulator, { ...emulator.env, HTTP_PROXY: proxy.url })
  if (proxy.hits.length > 0)
    throw new Error(`the Pod Identity agent request went to the proxy: ${proxy.hits}`)

  const env = { ...emulator.irsaEnv, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url }
  const provider = defaultChain({ env, sdkFallback: false })
  const outcome = await provider().then(
    () => undefined,
    (error) => error,
  )
  provider.close()
  if (outcome === undefined)
    throw new Error('proxy: STS answered, so the call went direct, bypassing HTTP_PROXY')
  if (proxy.hits.length > 0) result.checks.stsProxy = `went through the proxy (${proxy.hits[0]})`
  else if (/proxy/i.test(String(outcome.message)))
    result.checks.stsProxy = `refused clearly: ${outcome.message}`
  else
    throw new Error(`proxy: failed without reaching or naming the proxy: ${outcome.code} ${outcome.message}`)

  // A proxy URL no runtime can use is refused before any connection (issue 20, bad input).
  const socks = defaultChain({
    env: { ...emulator.irsaEnv, HTTPS_PROXY: 'socks5://127.0.0.1:1', HTTP_PROXY: 'socks5://127.0.0.1:1' },
    sdkFallback: false,
  })
  const refused = await socks().then(
    () => undefined,
    (error) => error,
  )
  socks.close()
  if (refused?.code !== 'ERR_INVALID_CONFIG' || !/socks5:/.test(refused.message)) {
    throw new Error(`a socks5: proxy URL was not refused clearly: ${refused?.code} ${refused?.message}`)
  }
  result.checks.badProxyUrl = refused.code
  console.log(JSON.stringify(result))
} finally {
  proxy.close()
  await emulator.close()
}
