export const __placeholder: true = true
