export const SHARED: true = true
