import { parseArgs } from 'node:util'
import type { Io } from '../output.js'
import { line, printJson, style } from '../output.js'

export const emulateHelp = `usage: podcreds emulate [--json] [--pod pod-identity|irsa]

Runs the local identity stack (Pod Identity agent, STS, OIDC issuer, kubelet-style token files,
a SigV4-verifying AWS endpoint) on 127.0.0.1 until interrupted (Ctrl-C), and prints the
environment of a pod to export, so any SDK — podcreds, the AWS SDK, the AWS CLI — runs against it:

  podcreds emulate --pod irsa > pod.env &    # keeps running in the background
  . ./pod.env && aws sts get-caller-identity    # AWS_ENDPOINT_URL_STS points at the emulator
  kill %1                                    # stops it and removes its token files

--json prints both pods' environments and the endpoint URLs as one JSON object.`

export async function emulate(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      pod: { type: 'string', default: 'pod-identity' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    line(io.stdout, emulateHelp)
    return 0
  }
  if (values.pod !== 'pod-identity' && values.pod !== 'irsa') {
    const { UsageError } = await import('../output.js')
    throw new UsageError(`--pod must be pod-identity or irsa, got '${values.pod}'`)
  }
  // Listen for the stop signal before anything is printed: a supervisor may send it as soon as it
  // has read the env lines.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  const { startEmulator } = await import('@podcreds/emulator')
  const emulator = await startEmulator()
  const s = style(io)
  if (values.json) {
    printJson(io, {
      agentUrl: emulator.agentUrl,
      stsUrl: emulator.stsUrl,
      issuerUrl: emulator.issuerUrl,
      awsUrl: emulator.awsUrl,
      imdsUrl: emulator.imdsUrl,
      env: emulator.env,
      irsaEnv: emulator.irsaEnv,
    })
  } else {
    const env = values.pod === 'irsa' ? emulator.irsaEnv : emulator.env
    line(io.stderr, s.bold(`podcreds emulator running (${values.pod} pod). Ctrl-C to stop.`))
    line(io.stderr, `  agent ${emulator.agentUrl}  sts ${emulator.stsUrl}  aws ${emulator.awsUrl}`)
    // Issue 17: the pod meets the node's IMDS too, as on a node that does not block it.
    line(
      io.stderr,
      `  imds ${emulator.imdsUrl} (node role ${emulator.instanceRoleArn}; podcreds doctor finds it)`,
    )
    line(io.stderr, '  try, with the lines below loaded into your shell: aws sts get-caller-identity')
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined) line(io.stdout, `export ${name}=${shellQuote(value)}`)
    }
  }
  await stopped
  await emulator.close()
  return 0
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}
