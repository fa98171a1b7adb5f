export function isLoopback(host: string | undefined): boolean
export function installNetworkGuard(onViolation?: (message: string) => void): void
export function takeViolations(): string[]
