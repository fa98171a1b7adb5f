// Module-resolution hook for the cold-start "modules loaded" figure: appends every resolved
// file: URL to the file named by BENCH_LOAD_LOG (ESM imports; CJS requires are read from
// require.cache by the worker itself, since Node 20 hooks do not see require()).
import { appendFileSync } from 'node:fs'

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  if (process.env.BENCH_LOAD_LOG && result.url.startsWith('file:')) {
    appendFileSync(process.env.BENCH_LOAD_LOG, `${result.url}\n`)
  }
  return result
}
