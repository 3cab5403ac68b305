// A drawing pad that turns strokes into an MNIST-like digit: the ink's bounding box is scaled to fit 20×20
// and centred in 28×28 (as the MNIST preprocessing), giving Float32 pixels in 0..1.

export function drawPad(canvas: HTMLCanvasElement, onDigit: (pixels: Float32Array) => void): { clear(): void } {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const scale = canvas.width / 28;
  let drawing = false;
  let last: [number, number] | null = null;
  let pending = 0;

  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();

  const point = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
  };

  const emit = () => {
    pending = 0;
    const pixels = toDigit();
    if (pixels) onDigit(pixels);
  };

  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    last = point(e);
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing || !last) return;
    const p = point(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2.2 * scale;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    if (!pending) pending = window.setTimeout(emit, 60);
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    emit();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  /** The drawing as 28×28 pixels, or null when the pad is empty. */
  function toDigit(): Float32Array | null {
    const { width: w, height: h } = canvas;
    const data = ctx.getImageData(0, 0, w, h).data;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        if (data[(y * w + x) * 4] > 16) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
    if (x1 < 0) return null;
    const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    const fit = 20 / Math.max(bw, bh);
    const small = document.createElement('canvas');
    small.width = small.height = 28;
    const sctx = small.getContext('2d', { willReadFrequently: true })!;
    sctx.fillStyle = '#000';
    sctx.fillRect(0, 0, 28, 28);
    sctx.imageSmoothingQuality = 'high';
    sctx.drawImage(canvas, x0, y0, bw, bh, 14 - (bw * fit) / 2, 14 - (bh * fit) / 2, bw * fit, bh * fit);
    const px = sctx.getImageData(0, 0, 28, 28).data;
    const out = new Float32Array(784);
    for (let i = 0; i < 784; i++) out[i] = px[i * 4] / 255;
    return out;
  }

  return { clear };
}
