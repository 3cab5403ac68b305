// Draws 28×28 digits (Float32 pixels in 0..1) onto canvases: light ink on a dark ground, one pixel per pixel;
// CSS scales the canvas up with `image-rendering: pixelated`.

const SIDE = 28;
const PX = SIDE * SIDE;
const GAP = 2;

/** Ink colour ramp: 0 → the page's dark ground, 1 → near-white with a cool tint. */
function shade(v: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, v));
  return [14 + t * (236 - 14), 18 + t * (240 - 18), 27 + t * (255 - 27)];
}

/** Draws `images` (n × 784) side by side into `canvas`, resizing it to fit. */
export function drawDigitRow(canvas: HTMLCanvasElement, images: Float32Array): void {
  const n = images.length / PX;
  canvas.width = n * SIDE + (n - 1) * GAP;
  canvas.height = SIDE;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(canvas.width, SIDE);
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const [r, g, b] = shade(images[k * PX + y * SIDE + x]);
        const at = (y * canvas.width + k * (SIDE + GAP) + x) * 4;
        img.data[at] = r;
        img.data[at + 1] = g;
        img.data[at + 2] = b;
        img.data[at + 3] = 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Draws one digit into a 28×28 canvas. */
export function drawDigit(canvas: HTMLCanvasElement, pixels: Float32Array): void {
  drawDigitRow(canvas, pixels.subarray(0, PX));
}

/** How many pixels are visibly lit (> 0.1): the test's "not blank" check reads this back. */
export function litPixels(images: Float32Array): number {
  let n = 0;
  for (const v of images) if (v > 0.1) n++;
  return n;
}
