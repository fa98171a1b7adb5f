import { open } from 'node:fs/promises'
import { CredentialsError, validateFunction, validateInteger } from '@podcreds/core'

/** Reads a file's bytes; `fs.promises.readFile` by default. */
export type ReadFile = (path: string) => Promise<Uint8Array>

/** Options of {@link readToken}. */
export interface ReadTokenOptions {
  /**
   * The file-reading seam. Without it, the file is read through a handle and never more than
   * `maxBytes + 1` bytes of it, so a huge or endless file (`/dev/zero`) costs nothing.
   * @defaultValue a bounded read with `fs.promises.open`
   */
  readFile?: ReadFile
  /** Largest accepted file, in bytes. @defaultValue 16384 */
  maxBytes?: number
}

/** @defaultValue 16384 — projected tokens are ~1 KiB; 16 KiB leaves room for large claim sets. */
export const DEFAULT_MAX_TOKEN_BYTES = 16_384

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file (ENOENT)',
  EACCES: 'permission denied (EACCES)',
  EPERM: 'operation not permitted (EPERM)',
  EISDIR: 'is a directory (EISDIR)',
  ELOOP: 'too many symbolic links (ELOOP)',
  ENOTDIR: 'a parent is not a directory (ENOTDIR)',
}

/** Reads at most `limit` bytes: enough to tell "over the cap" without reading the whole file. */
async function readBounded(path: string, limit: number): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.allocUnsafe(limit)
    let length = 0
    while (length < limit) {
      const { bytesRead } = await handle.read(buffer, length, limit - length, null)
      if (bytesRead === 0) break
      length += bytesRead
    }
    return buffer.subarray(0, length)
  } finally {
    await handle.close()
  }
}

/**
 * Reads a projected service-account token file, as kubelet writes it (through the `..data`
 * symlink, so every call sees the current token). Trailing whitespace is trimmed. A missing,
 * unreadable, empty, oversized or non-UTF-8 file rejects with `ERR_TOKEN_FILE` naming the path
 * and the reason; the token itself is never printed. A bad `maxBytes` rejects with a `TypeError`.
 *
 * @param path - the token file
 * @param options - reading seam and size cap
 * @example
 * ```ts
 * const jwt = await readToken('/var/run/secrets/eks.amazonaws.com/serviceaccount/token')
 * ```
 */
export async function readToken(path: string, options: ReadTokenOptions = {}): Promise<string> {
  validateInteger('maxBytes', options.maxBytes, 1, 2 ** 30)
  validateFunction('readFile', options.readFile)
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TOKEN_BYTES
  let bytes: Uint8Array
  try {
    bytes =
      options.readFile === undefined ? await readBounded(path, maxBytes + 1) : await options.readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    const reason = code === undefined ? 'read failed' : (REASONS[code] ?? code)
    throw new CredentialsError(`cannot read token file ${path}: ${reason}`, {
      code: 'ERR_TOKEN_FILE',
      cause: error,
    })
  }
  if (bytes.byteLength > maxBytes) {
    throw new CredentialsError(`token file ${path} is over the ${maxBytes}-byte cap`, {
      code: 'ERR_TOKEN_FILE',
    })
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new CredentialsError(`token file ${path} is not valid UTF-8`, { code: 'ERR_TOKEN_FILE' })
  }
  const token = text.trimEnd()
  if (token.trim() === '')
    throw new CredentialsError(`token file ${path} is empty`, { code: 'ERR_TOKEN_FILE' })
  return token
}
