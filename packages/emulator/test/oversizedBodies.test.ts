import { startEmulator, startEntraEndpoint } from '@podcreds/emulator'
import { describe, expect, it } from 'vitest'

async function post(
  url: string,
  bytes: number,
): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url, { method: 'POST', body: 'x'.repeat(bytes) })
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

describe('request bodies over the cap', () => {
  it('the Entra endpoint answers 413 in its JSON error format (over 64 KiB), and still serves', async () => {
    const entra = await startEntraEndpoint({ federatedCredentials: [], jwks: { keys: [] } })
    try {
      const tooLarge = await post(`${entra.url}tenant/oauth2/v2.0/token`, 64 * 1024 + 1)
      expect(tooLarge).toEqual({
        status: 413,
        type: 'application/json; charset=utf-8',
        body: '{"error":"payload_too_large"}',
      })
      const small = await post(`${entra.url}tenant/oauth2/v2.0/token`, 10)
      expect(small.status).toBe(400)
      expect(JSON.parse(small.body).error).toBe('invalid_request')
    } finally {
      await entra.close()
    }
  })

  it('the emulator endpoints answer 413 in plain text (over 1 MiB)', async () => {
    const emulator = await startEmulator()
    try {
      const tooLarge = await post(emulator.stsUrl, 1024 * 1024 + 1)
      expect(tooLarge).toEqual({ status: 413, type: 'text/plain', body: 'Payload Too Large' })
    } finally {
      await emulator.close()
    }
  })
})
