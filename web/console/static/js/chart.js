// Small SVG charts, built node by node (no library, no markup strings).

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// chart draws kind 'bar' or 'line' series over the same x labels:
// series is [{name, values, cls}], each value a number. fmt formats the
// axis' top value; labels are shown at a few ticks only.
export function chart({ labels, series, kind, fmt, title }) {
  // Drawn in a 640 x 240 box the page scales to its width (text scales
  // with it: about 11 px on a 360 px phone).
  const W = 640, H = 240, L = 8, R = 8, T = 34, B = 34;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.appendChild(s('title', {}, title));
  const n = labels.length;
  const max = Math.max(1, ...series.flatMap((x) => x.values.map(Number)));
  const pw = W - L - R, ph = H - T - B;
  const x = (i) => L + (i * pw) / Math.max(n, 1);
  const y = (v) => T + ph - (Number(v) / max) * ph;
  // The base line, and the top value above its dashed line.
  svg.appendChild(s('line', { x1: L, y1: T + ph, x2: W - R, y2: T + ph, class: 'axis' }));
  svg.appendChild(s('line', { x1: L, y1: T, x2: W - R, y2: T, class: 'grid' }));
  svg.appendChild(s('text', { x: L, y: T - 8, class: 'tick' }, 'top ' + fmt(max)));
  const every = Math.max(1, Math.ceil(n / 4));
  for (let i = 0; i < n; i += every) {
    svg.appendChild(s('text', { x: x(i), y: H - 8, class: 'tick' }, labels[i]));
  }
  series.forEach((sr, k) => {
    if (kind === 'bar') {
      const bw = Math.max(1, (pw / n) * 0.8);
      sr.values.forEach((v, i) => {
        if (!Number(v)) return;
        const r = s('rect', { x: x(i) + (pw / n) * 0.1, y: y(v), width: bw, height: T + ph - y(v), class: 'bar ' + (sr.cls || '') });
        r.appendChild(s('title', {}, labels[i] + ': ' + fmt(v)));
        svg.appendChild(r);
      });
    } else {
      const pts = sr.values.map((v, i) => `${x(i) + pw / n / 2},${y(v)}`).join(' ');
      svg.appendChild(s('polyline', { points: pts, class: 'line ' + (sr.cls || 'l' + k), fill: 'none' }));
    }
  });
  return svg;
}
