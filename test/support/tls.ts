// Test support, shared by every package's tests and the end-to-end suite (import it by relative
// path; it is not a package): a self-signed certificate made at test time for loopback HTTPS
// servers, so no key material is checked in.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Whether an `openssl` binary is on the PATH (to make a self-signed certificate at test time). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A self-signed certificate for 127.0.0.1 and localhost, written to `dir` (cert.pem, key.pem). */
export function makeSelfSignedCert(dir: string): { cert: string; key: string; certPath: string } {
  const certPath = `${dir}/cert.pem`
  const keyPath = `${dir}/key.pem`
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  )
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath }
}
