import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { DEFAULT_MAX_TOKEN_BYTES } from '@podcreds/token'

/**
 * Reads at most `maxBytes` of a regular file, and refuses anything else — a FIFO, a socket, a
 * terminal — without waiting on it: opened non-blocking (opening a FIFO with no writer would
 * otherwise block a thread until one comes, and doctor with it). Doctor reads every token and
 * profile file through it, and hands it to the chain's links as their `readFile`, so a token
 * variable naming `/dev/stdin` or a named pipe is a finding, not a hang (issue #21). The refusal
 * is an error whose `code` is the reason, which `readToken()` prints after the path.
 */
export async function readRegularFile(
  path: string,
  maxBytes: number = DEFAULT_MAX_TOKEN_BYTES + 1,
): Promise<Uint8Array> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const info = await handle.stat()
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    if (!info.isFile()) {
      throw Object.assign(new Error('not a regular file'), {
        code: 'not a regular file (a FIFO, socket or device)',
      })
    }
    const buffer = Buffer.alloc(Math.min(maxBytes, info.size + 1))
    let length = 0
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null)
      if (bytesRead === 0) break
      length += bytesRead
    }
    return buffer.subarray(0, length)
  } finally {
    await handle.close()
  }
}
