// A tiny SVG line chart (no dependencies): series of y values on a shared x axis.

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd']

function esc(text) {
  return String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  )
}

function niceMax(v) {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/**
 * series: [{ name, values: number[] }]; x: index → label via xLabel(i); returns SVG text.
 * `log: true` draws y on a log10(1 + y) scale (so both a herd of 1,000 and a trickle of 20 show).
 */
export function lineChart({
  title,
  series,
  xLabel,
  xTitle,
  yTitle,
  width = 900,
  height = 360,
  xTicks = 12,
  log = false,
}) {
  const m = { l: 64, r: 16, t: 36, b: 48 }
  const w = width - m.l - m.r
  const h = height - m.t - m.b
  const n = Math.max(...series.map((s) => s.values.length))
  const maxY = niceMax(Math.max(1, ...series.flatMap((s) => s.values)))
  const ty = log ? (v) => Math.log10(1 + v) / Math.log10(1 + maxY) : (v) => v / maxY
  const X = (i) => m.l + (n <= 1 ? 0 : (i / (n - 1)) * w)
  const Y = (v) => m.t + h - ty(Math.max(0, v)) * h
  const out = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
  )
  out.push(`<title>${esc(title)}</title>`)
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`)
  out.push(
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  )
  // y grid
  const yTicks = log ? logTicks(maxY) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY)
  for (const v of yTicks) {
    const y = Y(v).toFixed(1)
    out.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`)
    out.push(
      `<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(fmtTick(v))}</text>`,
    )
  }
  // x ticks
  for (let k = 0; k <= xTicks; k++) {
    const i = Math.round((k / xTicks) * (n - 1))
    const x = X(i).toFixed(1)
    out.push(`<line x1="${x}" x2="${x}" y1="${m.t + h}" y2="${m.t + h + 4}" stroke="#333"/>`)
    out.push(`<text x="${x}" y="${m.t + h + 16}" text-anchor="middle">${esc(xLabel ? xLabel(i) : i)}</text>`)
  }
  out.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${m.t + h}" y2="${m.t + h}" stroke="#333"/>`)
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + h}" stroke="#333"/>`)
  if (xTitle)
    out.push(`<text x="${m.l + w / 2}" y="${height - 8}" text-anchor="middle">${esc(xTitle)}</text>`)
  if (yTitle) {
    out.push(
      `<text x="14" y="${m.t + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + h / 2})">${esc(yTitle)}${log ? ' (log scale)' : ''}</text>`,
    )
  }
  series.forEach((s, idx) => {
    const color = s.color ?? COLORS[idx % COLORS.length]
    const pts = s.values.map((v, i) => `${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.2" points="${pts}"/>`)
    const ly = m.t + 8 + idx * 16
    out.push(
      `<line x1="${m.l + w - 220}" x2="${m.l + w - 196}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    )
    out.push(`<text x="${m.l + w - 190}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

function logTicks(maxY) {
  const ticks = [0]
  for (let v = 1; v <= maxY; v *= 10) ticks.push(v)
  return ticks
}

function fmtTick(v) {
  if (v >= 1000) return `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k`
  return Number.isInteger(v) ? String(v) : v.toFixed(1)
}
