import { useEffect, useRef } from 'preact/hooks'
import { html } from './html.js'

// Chart.js, loaded by a dynamic import the first time a page draws a chart (Reports, Listening): never
// part of the calendar's first load. Each chart's canvas is an image with a text label; the numbers
// behind it are in the page's tables.
let loaded = null
function chartJs() {
  loaded ||= import('./chartjs.js').then((m) => m.Chart)
  return loaded
}

export const PALETTE = ['#0b5cad', '#b3261e', '#17663a', '#7a4d00', '#6a3fa0', '#00707a', '#a3366f', '#4a5360']

export function ChartCanvas({ type, data, label, options = {} }) {
  const canvas = useRef(null)
  const key = JSON.stringify([type, data])
  useEffect(() => {
    let chart = null
    let gone = false
    chartJs().then((Chart) => {
      if (gone || !canvas.current) return
      chart = new Chart(canvas.current, {
        type,
        data,
        options: { responsive: true, maintainAspectRatio: false, animation: false, ...options },
      })
      canvas.current.dataset.drawn = 'true'
    })
    return () => {
      gone = true
      chart?.destroy()
    }
  }, [key])
  return html`<div class="chart"><canvas ref=${canvas} role="img" aria-label=${label}></canvas></div>`
}
