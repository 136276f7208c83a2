import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tinyPng } from '../test/fixtures/images.ts';
import { sniffImage } from './image-sniff.ts';

describe('sniffImage', () => {
  it('reads the type and size of a PNG from its IHDR chunk', () => {
    expect(sniffImage(tinyPng(3, 2))).toEqual({ contentType: 'image/png', width: 3, height: 2 });
  });

  it('reads a JPEG size from its start-of-frame marker, past other segments', () => {
    const jpeg = Buffer.from([
      0xff,
      0xd8,
      0xff,
      0xe0,
      0x00,
      0x04,
      0x4a,
      0x46, // APP0, 2 bytes of payload
      0xff,
      0xc0,
      0x00,
      0x0b,
      0x08,
      0x00,
      0x78,
      0x00,
      0xa0,
      0x01,
      0x01,
      0x11,
      0x00, // SOF0: 160x120
      0xff,
      0xd9,
    ]);
    expect(sniffImage(jpeg)).toEqual({ contentType: 'image/jpeg', width: 160, height: 120 });
  });

  it('reads GIF and WebP (VP8X) sizes', () => {
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0x0a, 0x00, 0x05, 0x00])]);
    expect(sniffImage(gif)).toEqual({ contentType: 'image/gif', width: 10, height: 5 });
    const webp = Buffer.alloc(30);
    webp.write('RIFF', 0);
    webp.write('WEBP', 8);
    webp.write('VP8X', 12);
    webp.writeUIntLE(639, 24, 3);
    webp.writeUIntLE(479, 27, 3);
    expect(sniffImage(webp)).toEqual({ contentType: 'image/webp', width: 640, height: 480 });
  });

  it('refuses text, SVG and HTML whatever they are called', () => {
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toBeUndefined();
    expect(sniffImage(Buffer.from('<html><script>alert(1)</script>'))).toBeUndefined();
    expect(sniffImage(Buffer.alloc(0))).toBeUndefined();
  });

  it('never throws on arbitrary bytes, nor on truncated real headers', () => {
    const headers = [tinyPng(1, 1).subarray(0, 20), Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00])];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...headers), (tail, head) => {
        sniffImage(tail);
        sniffImage(Buffer.concat([head, tail]));
      }),
      { numRuns: 20_000 },
    );
  });
});
