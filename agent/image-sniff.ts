import type { ImageContentType } from '../schemas/reply-media.ts';

/** What the bytes of an image say about it. */
export interface SniffedImage {
  contentType: ImageContentType;
  width?: number;
  height?: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const startsWith = (bytes: Uint8Array, prefix: number[], at = 0) =>
  bytes.length >= at + prefix.length && prefix.every((byte, i) => bytes[at + i] === byte);
const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));
/** Sizes of 0 (or past the end) are not sizes: left out rather than reported. */
const size = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : {});

/**
 * The image type of `bytes` from their magic numbers (PNG, JPEG, GIF, WebP), with the pixel size where
 * the header gives it; undefined for anything else. The file name is never consulted: a model can name a
 * file `shot.png` and put anything in it. Never throws, whatever the bytes.
 */
export function sniffImage(bytes: Uint8Array): SniffedImage | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, PNG_SIGNATURE)) {
    // The IHDR chunk comes first: big-endian width and height at offsets 16 and 20.
    if (bytes.length < 24 || ascii(bytes, 12, 4) !== 'IHDR') return { contentType: 'image/png' };
    return { contentType: 'image/png', ...size(view.getUint32(16), view.getUint32(20)) };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { contentType: 'image/jpeg', ...jpegSize(bytes, view) };
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) {
    if (bytes.length < 10) return { contentType: 'image/gif' };
    return { contentType: 'image/gif', ...size(view.getUint16(6, true), view.getUint16(8, true)) };
  }
  if (bytes.length >= 16 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') {
    // Only the extended format (VP8X) states the canvas size plainly: 24-bit little-endian, minus one.
    if (ascii(bytes, 12, 4) === 'VP8X' && bytes.length >= 30) {
      const width = 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16));
      const height = 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16));
      return { contentType: 'image/webp', ...size(width, height) };
    }
    return { contentType: 'image/webp' };
  }
  return undefined;
}

/** Walks the JPEG markers to the first start-of-frame (SOF0–SOF15 but DHT, JPG, DAC), which holds the size. */
function jpegSize(bytes: Uint8Array, view: DataView): { width?: number; height?: number } {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return {};
    const marker = bytes[at + 1]!;
    // Fill bytes and markers without a length.
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2;
      continue;
    }
    const length = view.getUint16(at + 2);
    if (length < 2) return {};
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return size(view.getUint16(at + 7), view.getUint16(at + 5));
    }
    at += 2 + length;
  }
  return {};
}
