// The page of the example service: a 28 x 28 drawing pad whose grey levels go to POST /classify?detail=true, and the
// answer drawn as the input spike raster, the ten voltage traces with the threshold and each first crossing, and the decision.
"use strict";
const size = 28, scale = 10;
const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const pixels = new Float32Array(size * size);
const pad = document.getElementById("pad"), padContext = pad.getContext("2d");
const tb = window.tb = { lastRequest: null, lastResponse: null, requests: 0 };
let drawing = false;

function ink(x, y) {
  // A soft round brush, about MNIST's stroke width: full ink within 0.6 cells, fading to none at 1.6 cells.
  for (let r = Math.floor(y - 2); r <= Math.ceil(y + 2); r++) {
    for (let c = Math.floor(x - 2); c <= Math.ceil(x + 2); c++) {
      if (r < 0 || c < 0 || r >= size || c >= size) continue;
      const d = Math.hypot(c + 0.5 - x, r + 0.5 - y);
      const value = Math.min(1, Math.max(0, 1.6 - d));
      pixels[r * size + c] = Math.max(pixels[r * size + c], value);
    }
  }
}

function drawPad() {
  for (let k = 0; k < pixels.length; k++) {
    const g = Math.round(pixels[k] * 255);
    padContext.fillStyle = `rgb(${g},${g},${g})`;
    padContext.fillRect((k % size) * scale, Math.floor(k / size) * scale, scale, scale);
  }
}

function position(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) / box.width * size, (event.clientY - box.top) / box.height * size];
}

pad.addEventListener("pointerdown", e => { drawing = true; pad.setPointerCapture(e.pointerId); ink(...position(e)); drawPad(); });
pad.addEventListener("pointermove", e => { if (drawing) { ink(...position(e)); drawPad(); } });
pad.addEventListener("pointerup", () => { drawing = false; classify(); });
document.getElementById("clear").addEventListener("click", () => {
  pixels.fill(0); drawPad();
  document.getElementById("decision").textContent = "Draw a digit with the mouse or a finger.";
});

// MNIST's digits have their centre of mass at the image centre: shift the drawing (whole cells) to put it there too.
function centred() {
  let mass = 0, row = 0, column = 0;
  pixels.forEach((p, k) => { mass += p; row += p * Math.floor(k / size); column += p * (k % size); });
  if (mass === 0) return Array.from(pixels);
  const dr = Math.round(13.5 - row / mass), dc = Math.round(13.5 - column / mass);
  const shifted = new Array(size * size).fill(0);
  pixels.forEach((p, k) => {
    const r = Math.floor(k / size) + dr, c = (k % size) + dc;
    if (r >= 0 && c >= 0 && r < size && c < size) shifted[r * size + c] = p;
  });
  return shifted;
}

async function classify() {
  const body = { pixels: centred() };
  tb.lastRequest = body;
  const response = await fetch("classify?detail=true", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) {
    document.getElementById("decision").textContent = `Refused: ${answer.error}`;
    return;
  }
  tb.lastResponse = answer;
  tb.requests++;
  drawRaster(answer.detail);
  drawTraces(answer);
  const decision = document.getElementById("decision");
  decision.textContent = `Class ${answer.class}: ` + (answer.fired
    ? `its output crossed the threshold at t = ${answer.decisionTime}`
    : "no output crossed the threshold (largest peak)");
  decision.dataset.class = answer.class;
  document.getElementById("model").textContent = `model version ${answer.modelVersion}`;
}

function drawRaster(detail) {
  const canvas = document.getElementById("raster"), g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const afferents = size * size * (detail.spikeAfferents.length ? Math.ceil((Math.max(...detail.spikeAfferents) + 1) / (size * size)) : 1);
  g.fillStyle = "#222";
  for (let k = 0; k < detail.spikeAfferents.length; k++) {
    const x = detail.spikeTimes[k] / detail.t * canvas.width;
    const y = detail.spikeAfferents[k] / afferents * canvas.height;
    g.fillRect(x, y, 1.5, 1);
  }
  canvas.dataset.spikes = detail.spikeAfferents.length;
}

function drawTraces(answer) {
  const canvas = document.getElementById("traces"), g = canvas.getContext("2d"), detail = answer.detail;
  g.clearRect(0, 0, canvas.width, canvas.height);
  const top = Math.max(answer.threshold * 1.2, ...answer.peaks), bottom = Math.min(0, ...detail.traces.flat());
  const x = t => 30 + t / (detail.t - 1) * (canvas.width - 40);
  const y = v => 10 + (top - v) / (top - bottom) * (canvas.height - 30);
  g.strokeStyle = "#999"; g.setLineDash([5, 4]);
  g.beginPath(); g.moveTo(x(0), y(answer.threshold)); g.lineTo(x(detail.t - 1), y(answer.threshold)); g.stroke();
  g.setLineDash([]);
  g.fillStyle = "#555"; g.font = "11px sans-serif";
  g.fillText("θ", 12, y(answer.threshold) + 4);
  g.fillText("t", canvas.width - 12, canvas.height - 6);
  detail.traces.forEach((trace, o) => {
    g.strokeStyle = colors[o % colors.length]; g.lineWidth = o === answer.class ? 2.5 : 1;
    g.beginPath();
    trace.forEach((v, t) => t === 0 ? g.moveTo(x(t), y(v)) : g.lineTo(x(t), y(v)));
    g.stroke();
    const crossing = detail.crossings[o];
    if (crossing >= 0) {
      g.fillStyle = colors[o % colors.length];
      g.beginPath(); g.arc(x(crossing), y(trace[crossing]), 4, 0, 2 * Math.PI); g.fill();
    }
  });
  canvas.dataset.traces = detail.traces.length;
  document.getElementById("legend").innerHTML = answer.peaks
    .map((p, o) => `<li style="color:${colors[o % colors.length]}">${p.toFixed(3)}${detail.crossings[o] >= 0 ? ` (t=${detail.crossings[o]})` : ""}</li>`).join("");
}

drawPad();
