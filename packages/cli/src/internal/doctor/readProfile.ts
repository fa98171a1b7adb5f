import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Env } from '@podcreds/core'
import { readEnv } from '@podcreds/core'
import type { ProfileFact } from './DoctorFacts.js'
import { readRegularFile } from './readRegularFile.js'

// Shared files are small; a bigger one is not a profile file, and reading it all would cost.
const MAX_PROFILE_FILE_BYTES = 1024 * 1024

/**
 * Looks `name` up in the shared config and credentials files as the AWS SDK names them
 * (`AWS_CONFIG_FILE`, default `~/.aws/config`, sections `[profile name]` or `[default]`;
 * `AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`, sections `[name]`), and notes what
 * the SDK's INI reader would skip. A missing file is not an error (the SDK treats it as empty).
 */
export async function readProfile(env: Env, name: string): Promise<ProfileFact> {
  const home = readEnv(env, 'HOME') ?? homedir()
  const configFile = readEnv(env, 'AWS_CONFIG_FILE') ?? join(home, '.aws', 'config')
  const credentialsFile = readEnv(env, 'AWS_SHARED_CREDENTIALS_FILE') ?? join(home, '.aws', 'credentials')
  const fact: ProfileFact = { name, configFile, credentialsFile, foundIn: [], unreadable: [], notIni: [] }
  const wanted: [string, readonly string[]][] = [
    [configFile, name === 'default' ? ['default', 'profile default'] : [`profile ${name}`, name]],
    [credentialsFile, [name]],
  ]
  for (const [file, sections] of wanted) {
    let text: string
    try {
      const buffer = Buffer.from(await readRegularFile(file, MAX_PROFILE_FILE_BYTES + 1))
      if (buffer.length > MAX_PROFILE_FILE_BYTES) {
        fact.unreadable.push(file)
        continue
      }
      text = buffer.toString('utf8')
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') fact.unreadable.push(file)
      continue
    }
    const scanned = scanIni(text)
    if (scanned.sections.some((section) => sections.includes(section))) fact.foundIn.push(file)
    if (scanned.firstBadLine !== undefined) fact.notIni.push({ file, line: scanned.firstBadLine })
  }
  return fact
}

// The shape @smithy/shared-ini-file-loader's parseIni accepts: `[section]`, `key = value`,
// indented continuation lines, `#`/`;` comments; anything else is skipped by it.
function scanIni(text: string): { sections: string[]; firstBadLine?: number } {
  const sections: string[] = []
  let firstBadLine: number | undefined
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return
    const section = /^\[([^\]]*)\]/.exec(line)
    if (section !== null) {
      sections.push((section[1] ?? '').trim().replace(/\s+/g, ' '))
      return
    }
    if (line.includes('=') || /^\s/.test(raw)) return
    firstBadLine ??= index + 1
  })
  return firstBadLine === undefined ? { sections } : { sections, firstBadLine }
}
