import { readFile as fsReadFile } from 'node:fs/promises'
import { CredentialsError } from '@podcreds/core'

/** Reads a file's bytes; `fs.promises.readFile` by default. */
export type ReadFile = (path: string) => Promise<Uint8Array>

/** Options of {@link readToken}. */
export interface ReadTokenOptions {
  /** The file-reading seam. @defaultValue `fs.promises.readFile` */
  readFile?: ReadFile
  /** Largest accepted file, in bytes. @defaultValue 16384 */
  maxBytes?: number
}

/** @defaultValue 16384 — projected tokens are ~1 KiB; 16 KiB leaves room for large claim sets. */
export const DEFAULT_MAX_TOKEN_BYTES = 16_384

/**
 * Reads a projected service-account token file, as kubelet writes it (through the `..data`
 * symlink, so every call sees the current token). Trailing whitespace is trimmed. A missing,
 * unreadable, empty, oversized or non-UTF-8 file rejects with `ERR_TOKEN_FILE` naming the path;
 * the token itself is never printed.
 *
 * @example
 * ```ts
 * const jwt = await readToken('/var/run/secrets/eks.amazonaws.com/serviceaccount/token')
 * ```
 */
export async function readToken(path: string, options: ReadTokenOptions = {}): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TOKEN_BYTES
  let bytes: Uint8Array
  try {
    bytes = await (options.readFile ?? fsReadFile)(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    throw new CredentialsError(`cannot read token file ${path}: ${code ?? 'read failed'}`, {
      code: 'ERR_TOKEN_FILE',
      cause: error,
    })
  }
  if (bytes.byteLength > maxBytes) {
    throw new CredentialsError(
      `token file ${path} is ${bytes.byteLength} bytes, over the ${maxBytes}-byte cap`,
      {
        code: 'ERR_TOKEN_FILE',
      },
    )
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
