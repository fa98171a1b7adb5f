// Child process running one side of a virtual-time scenario: `--opt config=<json>`.
import { join } from 'node:path'
import { CredentialsError, refreshing } from './podcreds.mjs'
import { simulate } from './simulate.mjs'
import { BENCH_DIR, emit, runNode, scenarioArgs } from './util.mjs'

const WORKER = join(BENCH_DIR, 'lib', 'simulate-worker.mjs')

/** Runs `config` in a fresh child process and returns its result. */
export function simulateInChild(config) {
  return runNode(WORKER, ['--opt', `config=${JSON.stringify(config)}`], {
    execArgv: ['--max-old-space-size=3072'],
  })
}

if (process.argv[1] === WORKER) {
  const args = scenarioArgs()
  const config = JSON.parse(args.opts.config)
  let result
  const errorClass = (await CredentialsError()).value
  if (config.side === 'ours') {
    const { value, missing } = await refreshing()
    result = value ? await simulate(config, value, errorClass) : { side: 'ours', missing }
  } else {
    result = await simulate(config, null, errorClass)
  }
  emit(args.json, result)
}
