// Pictures for people: the clean / noisy / denoised digit grid as PNG, the loss curves as SVG, and reading
// 28×28 grayscale PNGs for `simdnet denoise`.

import { PNG } from 'pngjs';
import { inflateSync } from 'node:zlib';
import { SimdnetError } from '../errors.js';

const SIDE = 28;

/** A grid of 28×28 digits: one row per array in `rows` (e.g. clean, noisy, denoised), `count` digits each,
 *  every pixel enlarged `scale` times, separated by a gap, with an optional label left of each row.
 *  Pixels are 0..1, drawn white on black. */
export function digitGridPng(rows: Float32Array[], count: number, options: { labels?: string[]; scale?: number; gap?: number } = {}): Uint8Array {
  const { labels = [], scale = 4, gap = 6 } = options;
  const cell = SIDE * scale;
  const labelWidth = labels.length ? Math.max(...labels.map((l) => l.length)) * GLYPH_ADVANCE * LABEL_SCALE + 2 * gap : 0;
  const width = labelWidth + count * cell + (count + 1) * gap;
  const height = rows.length * cell + (rows.length + 1) * gap;
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.alloc(width * height * 3, 48); // dark grey gaps
  const put = (x: number, y: number, g: number) => {
    const at = (y * width + x) * 3;
    png.data[at] = png.data[at + 1] = png.data[at + 2] = g;
  };
  rows.forEach((images, r) => {
    const y0 = gap + r * (cell + gap);
    if (labels[r]) drawText(put, labels[r], gap, y0 + (cell - 7 * LABEL_SCALE) / 2, LABEL_SCALE, 220);
    for (let d = 0; d < count; d++) {
      const x0 = labelWidth + gap + d * (cell + gap);
      for (let y = 0; y < cell; y++)
        for (let x = 0; x < cell; x++) {
          const v = images[d * SIDE * SIDE + Math.floor(y / scale) * SIDE + Math.floor(x / scale)];
          put(x0 + x, y0 + y, Math.round(Math.min(1, Math.max(0, v)) * 255));
        }
    }
  });
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}

// A 5×7 bitmap font with just the letters the row labels use (clean / noisy / denoised): a font library
// for three words would be heavier than the picture.
const LABEL_SCALE = 3;
const GLYPH_ADVANCE = 6;
const GLYPHS: Record<string, string[]> = {
  a: ['.....', '.....', '.###.', '....#', '.####', '#...#', '.####'],
  c: ['.....', '.....', '.####', '#....', '#....', '#....', '.####'],
  d: ['....#', '....#', '.####', '#...#', '#...#', '#...#', '.####'],
  e: ['.....', '.....', '.###.', '#...#', '#####', '#....', '.###.'],
  i: ['..#..', '.....', '.##..', '..#..', '..#..', '..#..', '.###.'],
  l: ['.##..', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  n: ['.....', '.....', '####.', '#...#', '#...#', '#...#', '#...#'],
  o: ['.....', '.....', '.###.', '#...#', '#...#', '#...#', '.###.'],
  s: ['.....', '.....', '.####', '#....', '.###.', '....#', '####.'],
  y: ['.....', '.....', '#...#', '#...#', '.####', '....#', '.###.'],
};

function drawText(put: (x: number, y: number, g: number) => void, text: string, x0: number, y0: number, scale: number, g: number): void {
  [...text].forEach((ch, i) => {
    const bits = (GLYPHS[ch] ?? []).join('');
    for (let k = 0; k < bits.length; k++) {
      if (bits[k] !== '#') continue;
      const gx = x0 + (i * GLYPH_ADVANCE + (k % 5)) * scale;
      const gy = Math.round(y0) + Math.floor(k / 5) * scale;
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) put(gx + dx, gy + dy, g);
    }
  });
}

/** One 28×28 digit as an 8-bit grayscale PNG. */
export function digitPng(pixels: Float32Array): Uint8Array {
  const png = new PNG({ width: SIDE, height: SIDE, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.alloc(SIDE * SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) png.data[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

/** Decodes a PNG into 784 pixels in 0..1. Colour images are converted to gray (Rec. 601 luma) and reported
 *  through `note`; any size but 28×28 is refused. */
export function readDigitPng(bytes: Uint8Array, name: string, note: (message: string) => void = () => {}): Float32Array {
  // the size from the IHDR chunk first: a small file can declare a huge image (a decompression bomb)
  const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || PNG_SIGNATURE.some((v, i) => bytes[i] !== v)) throw new SimdnetError(`${name}: not a readable PNG (no PNG signature; expected a 28×28 PNG)`, 'E_FILE_CORRUPT');
  const header = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [w, h] = [header.getUint32(16), header.getUint32(20)];
  if (w !== SIDE || h !== SIDE) throw new SimdnetError(`${name}: expected a 28×28 image, got ${w}×${h}`, 'E_UNSUPPORTED');
  checkImageData(bytes, name);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes));
  } catch (e) {
    throw new SimdnetError(`${name}: not a readable PNG (${(e as Error).message})`, 'E_FILE_CORRUPT');
  }
  if (png.width !== SIDE || png.height !== SIDE) throw new SimdnetError(`${name}: expected a 28×28 image, got ${png.width}×${png.height}`, 'E_UNSUPPORTED');
  const out = new Float32Array(SIDE * SIDE);
  let colour = false;
  for (let i = 0; i < SIDE * SIDE; i++) {
    const [r, g, b, a] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2], png.data[4 * i + 3]];
    if (r !== g || g !== b) colour = true;
    out[i] = ((0.299 * r + 0.587 * g + 0.114 * b) * (a / 255)) / 255; // transparent pixels count as black
  }
  if (colour) note(`${name}: colour image converted to grayscale`);
  return out;
}

// The chunks, and the IDAT stream inflated to exactly the bytes the IHDR's image needs (filter bytes included): a
// decoder given less fills the rest from whatever memory it had (the same file was accepted or refused at random).
function checkImageData(bytes: Uint8Array, name: string): void {
  const fail = (why: string): never => {
    throw new SimdnetError(`${name}: not a readable PNG (${why})`, 'E_FILE_CORRUPT');
  };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let ihdr: Uint8Array | undefined;
  let end = false;
  for (let at = 8; at < bytes.length && !end; ) {
    if (at + 12 > bytes.length) fail(`truncated: a chunk header at byte ${at} runs past the end`);
    const length = v.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (at + 12 + length > bytes.length) fail(`truncated: the ${type} chunk at byte ${at} declares ${length} bytes, the file ends first`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') ihdr = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') end = true;
    at += 12 + length;
  }
  if (!ihdr || ihdr.length !== 13) fail('no 13-byte IHDR chunk');
  if (!end) fail('truncated: no IEND chunk');
  const h = new DataView(ihdr!.buffer, ihdr!.byteOffset, 13);
  const [w, ht, depth, colourType, interlace] = [h.getUint32(0), h.getUint32(4), ihdr![8], ihdr![9], ihdr![12]];
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colourType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth) || interlace > 1) fail(`unsupported IHDR: bit depth ${depth}, colour type ${colourType}, interlace ${interlace}`);
  const bpp = channels * depth;
  const passes = interlace ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] : [[0, 0, 1, 1]];
  let need = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((w - x0) / dx), ph = Math.ceil((ht - y0) / dy);
    if (pw > 0 && ph > 0) need += ph * (1 + Math.ceil((pw * bpp) / 8));
  }
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: need });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') fail(`the image data inflates to more than the ${need} bytes a ${w}×${ht} image needs`);
    fail(`corrupt image data (${(e as Error).message})`);
  }
  if (raw!.length !== need) fail(`truncated image data: ${raw!.length} of the ${need} bytes a ${w}×${ht} image needs`);
}

/** Train and test loss per epoch as a small self-contained SVG line chart. */
export function lossChartSvg(epochs: { epoch: number; trainLoss: number; testLoss: number }[], title = 'loss'): string {
  const W = 640, H = 360, L = 64, R = 16, T = 36, B = 44;
  const xs = epochs.map((e) => e.epoch);
  const ys = epochs.flatMap((e) => [e.trainLoss, e.testLoss]).filter(Number.isFinite);
  const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (!Number.isFinite(y0)) (y0 = 0), (y1 = 1);
  if (y1 - y0 < 1e-9) (y0 -= 0.5 * Math.abs(y0) + 1e-3), (y1 += 0.5 * Math.abs(y1) + 1e-3);
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const line = (key: 'trainLoss' | 'testLoss') =>
    epochs.filter((e) => Number.isFinite(e[key])).map((e, i) => `${i ? 'L' : 'M'}${px(e.epoch).toFixed(1)},${py(e[key]).toFixed(1)}`).join(' ');
  const yTicks = Array.from({ length: 5 }, (_, i) => y0 + ((y1 - y0) * i) / 4);
  const xTicks = [...new Set(Array.from({ length: Math.min(10, x1 - x0) + 1 }, (_, i) => Math.round(x0 + ((x1 - x0) * i) / Math.min(10, x1 - x0))))];
  const text = (x: number, y: number, s: string, anchor = 'middle') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}">${s}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(W / 2, 20, title),
    ...yTicks.map((y) => `<line x1="${L}" x2="${W - R}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>` + text(L - 6, py(y) + 4, y.toPrecision(3), 'end')),
    ...xTicks.map((x) => text(px(x), H - B + 16, String(x))),
    text((L + W - R) / 2, H - 8, 'epoch'),
    `<path d="${line('trainLoss')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    `<path d="${line('testLoss')}" fill="none" stroke="#ff7f0e" stroke-width="2"/>`,
    `<rect x="${W - R - 110}" y="${T}" width="100" height="40" fill="white" stroke="#ccc"/>`,
    `<line x1="${W - R - 100}" x2="${W - R - 80}" y1="${T + 14}" y2="${T + 14}" stroke="#1f77b4" stroke-width="2"/>` + text(W - R - 74, T + 18, 'train', 'start'),
    `<line x1="${W - R - 100}" x2="${W - R - 80}" y1="${T + 30}" y2="${T + 30}" stroke="#ff7f0e" stroke-width="2"/>` + text(W - R - 74, T + 34, 'test', 'start'),
    '</svg>',
    '',
  ].join('\n');
}
