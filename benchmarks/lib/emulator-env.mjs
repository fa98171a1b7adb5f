// Starts the podcreds emulator (Pod Identity agent + STS on loopback) for the HTTP scenarios and
// builds the environment of a child process that runs against it: the emulator's pod env, plus
// an empty HOME and absent shared config files so the SDK's ini/SSO/process links find nothing.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from './podcreds.mjs'

/** `{ emulator, podEnv, irsaEnv, missing }`; `podEnv`/`irsaEnv` are full child environments. */
export async function startBenchEmulator(options = {}) {
  const { value, missing } = await startEmulator()
  if (!value) return { emulator: null, missing }
  const emulator = await value(options)
  const home = mkdtempSync(join(tmpdir(), 'podcreds-bench-home-'))
  const base = { ...process.env }
  for (const k of Object.keys(base)) {
    if (k.startsWith('AWS_') || k.endsWith('_PROXY') || k.endsWith('_proxy')) delete base[k]
  }
  Object.assign(base, {
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  })
  return {
    emulator,
    podEnv: { ...base, ...emulator.env },
    irsaEnv: { ...base, ...emulator.irsaEnv },
    missing: null,
  }
}
