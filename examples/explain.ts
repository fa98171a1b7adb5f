// "Why did my pod get these credentials?" — run the default chain once, uncached, and print what
// each link found. `dryRun: true` reads configuration only and sends nothing.
import { explain } from '@podcreds/chain'

const configuration = await explain({ dryRun: true })
console.log(String(configuration))

const resolved = await explain()
if (resolved.chosen === undefined) {
  const failed = resolved.links.find((link) => link.status === 'failed')
  console.error(failed === undefined ? 'no credentials source is set up' : `${failed.name}: ${failed.reason}`)
  process.exitCode = 1
} else {
  // Redacted: the key id is shortened (ASIA…WXYZ); secrets never appear.
  const chosen = resolved.links.find((link) => link.name === resolved.chosen)
  console.log(
    `using ${resolved.chosen}: ${chosen?.details['accessKeyId']} until ${chosen?.details['expiration']}`,
  )
}

// As JSON for a log pipeline (toString is left out):
console.log(JSON.stringify(resolved))
