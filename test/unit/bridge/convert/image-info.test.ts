import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { HeadTap, sniffImage } from "../../../../src/bridge/convert/image-info.js";

test("PNG, JPEG (after an APP segment), GIF and WebP headers give type and size", () => {
  const png = Buffer.concat([
    Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"),
    Buffer.from([0, 0, 2, 128, 0, 0, 1, 224]),
  ]);
  assert.deepEqual(sniffImage(png), { mimetype: "image/png", w: 640, h: 480 });
  const app0 = Buffer.concat([Buffer.from([0xff, 0xe0, 0, 16]), Buffer.alloc(14)]);
  const sof0 = Buffer.from([0xff, 0xc0, 0, 17, 8, 0x01, 0x2c, 0x01, 0x90, 3, ...Array<number>(9).fill(0)]);
  assert.deepEqual(sniffImage(Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof0])), {
    mimetype: "image/jpeg",
    w: 400,
    h: 300,
  });
  assert.deepEqual(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 2])), { mimetype: "image/jpeg" });
  assert.deepEqual(sniffImage(Buffer.from("GIF89a\x0a\x00\x05\x00", "latin1")), {
    mimetype: "image/gif",
    w: 10,
    h: 5,
  });
  const vp8x = Buffer.concat([
    Buffer.from("RIFF\0\0\0\0WEBPVP8X", "latin1"),
    Buffer.alloc(8),
    Buffer.from([99, 0, 0, 49, 0, 0]),
  ]);
  assert.deepEqual(sniffImage(vp8x), { mimetype: "image/webp", w: 100, h: 50 });
});

test("broken bytes are no image; absurd sizes are dropped", () => {
  assert.equal(sniffImage(Buffer.from("definitely not a PNG")), undefined);
  assert.equal(sniffImage(Buffer.alloc(0)), undefined);
  const huge = Buffer.concat([
    Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"),
    Buffer.from([255, 255, 255, 255, 0, 0, 0, 1]),
  ]);
  assert.deepEqual(sniffImage(huge), { mimetype: "image/png" });
});

test("HeadTap passes everything through and keeps only the head", async () => {
  const tap = new HeadTap(10);
  const out: Buffer[] = [];
  Readable.from([Buffer.from("0123456"), Buffer.from("789abcdef")]).pipe(tap);
  for await (const c of tap) out.push(c as Buffer);
  assert.equal(Buffer.concat(out).toString(), "0123456789abcdef");
  assert.equal(tap.head.toString(), "0123456789");
  assert.equal(tap.bytes, 16);
});
